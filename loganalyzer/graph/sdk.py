"""msgraph-sdk's typed ``GraphServiceClient`` on the same sign-in and retries as ``client``.

Configuration objects (service principal, app roles, jobs, schema, assignments, members) are
read through the SDK's request builders and typed models; collections page by page through
``with_url`` (``GraphClient.collect``). Sign-in is ``client``'s (``_Tokens``: the options
and environment ``fetch`` accepts), handed to kiota as an ``AccessTokenProvider`` that only
gives the token to the Graph host the user chose. Provisioning log pages stay on
``client``'s raw reader on purpose (the SDK's models drop real values there).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx
from kiota_abstractions.api_error import APIError
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from msgraph import GraphRequestAdapter, GraphServiceClient

from loganalyzer.graph.client import (
    NEVER_ANSWERED,
    GraphAuthError,
    GraphConnection,
    GraphError,
    GraphRequestError,
    Unanswered,
    _Secrets,
    _Tokens,
    checked_origin,
    graph_http_client,
    retried,
    same_origin,
    unsent,
)

T = TypeVar("T")
# 500/502 too: configuration reads have no retry loop of their own (``GraphSession`` has one)
_RETRIED = {429, 500, 502, 503, 504}
_WRITE_NOT_RETRIED = ("a write is not retried, as Graph may have carried it out: check the "
                      "result before running it again")


class _TokenProvider(AccessTokenProvider):
    def __init__(self, tokens: _Tokens, root: str) -> None:
        self._tokens = tokens
        self._root = root
        self._hosts = AllowedHostsValidator([urlsplit(root).hostname or ""])

    async def get_authorization_token(self, uri: str, additional_authentication_context=None
                                      ) -> str:
        if not same_origin(uri, self._root):
            return ""  # never hand the token to another server (a nextLink elsewhere)
        return self._tokens.bearer()

    def get_allowed_hosts_validator(self) -> AllowedHostsValidator:
        return self._hosts


class GraphClient:
    """A ``GraphServiceClient`` for one Graph root; ``call`` turns SDK errors into ours."""

    def __init__(self, connection: GraphConnection) -> None:
        self.root = connection.root
        self.secrets = _Secrets()
        self.tokens = _Tokens(connection.auth, self.root, self.secrets)
        self._retries = connection.retry.max_retries
        self._policy = connection.retry
        self.reached = False  # Graph answered once: a failure after it is not the network's
        self._http = graph_http_client(
            httpx.AsyncClient(base_url=self.root, timeout=httpx.Timeout(100, connect=30)),
            connection.retry, _RETRIED)
        auth = BaseBearerTokenAuthenticationProvider(_TokenProvider(self.tokens, self.root))
        adapter = GraphRequestAdapter(auth, self._http)
        adapter.base_url = self.root
        self.sdk = GraphServiceClient(request_adapter=adapter)

    async def close(self) -> None:
        await self._http.aclose()
        self.tokens.close()

    async def call(self, what: str, permission: str, request: Callable[[], Awaitable[T]],
                   write: bool = False) -> T:
        """``request()``, one SDK request; a one-line GraphError naming ``what`` and the
        permission. A connection that fails is tried again as ``GraphSession.download`` does
        (``retried``); for a ``write`` (not retried on 5xx, and its message says so) only
        when the request was never sent."""
        try:
            answer = await retried(self._policy, request, unsent if write else lambda _exc: True)
        except APIError as exc:
            self.reached = True
            raise self._error(exc, what, permission, write) from None
        except Unanswered as failed:
            raise self._unanswered(what, failed, write) from None
        except ValueError as exc:  # a response body that cannot be read as the model
            self.reached = True
            raise self._malformed(what, exc) from None
        self.reached = True
        return answer

    async def collect(self, what: str, permission: str, builder: Any,
                      config: Any = None) -> list:
        """Every item of a collection: ``builder.get(config)``, then each ``@odata.nextLink``
        through ``builder.with_url``. An empty page with a nextLink is followed (Graph sends
        them); a nextLink that is relative, to another server or already followed stops with
        GraphError. Not msgraph-core's ``PageIterator``: it stops at the first empty page and
        follows a repeated link forever."""
        page = await self.call(what, permission, lambda: builder.get(config))
        items: list = []
        followed: set[str] = set()
        while page is not None:
            if page.value is None:
                raise self._malformed(what, ValueError("the page has no 'value'"))
            items += page.value
            link = page.odata_next_link
            if not link:
                break
            if not urlsplit(link).scheme:
                raise self._malformed(what, ValueError(f"a relative @odata.nextLink {link!r}"))
            if link in followed:
                raise GraphError(f"Graph sent the same @odata.nextLink again for {what} "
                                 f"({urlsplit(link).path}); stopped rather than read the "
                                 "same pages forever; try again later")
            followed.add(checked_origin(link, self.root))
            page = await self.call(what, permission, builder.with_url(link).get)
        return items

    def _malformed(self, what: str, exc: ValueError) -> GraphError:
        said = self.secrets.scrub(" ".join(str(exc).split())[:200])
        return GraphError(f"Graph sent a page of {what} that cannot be read ({said}); "
                          "try again later")

    def _unanswered(self, what: str, failed: Unanswered, write: bool) -> GraphError:
        times = f" {failed.tries} times" if failed.tries > 1 else ""
        said = f"Graph at {self.root} failed{times} for {what} ({failed.reason})"
        if write and not unsent(failed.error):
            advice = _WRITE_NOT_RETRIED
        else:
            advice = "try again later" if self.reached else NEVER_ANSWERED
        return GraphError(self.secrets.scrub(f"{said}; {advice}"))

    def _error(self, exc: APIError, what: str, permission: str, write: bool) -> GraphError:
        status = exc.response_status_code or 0
        error = getattr(exc, "error", None)
        code = getattr(error, "code", None) or ""
        message = " ".join(str(getattr(error, "message", None) or exc.message or "").split())
        said = self.secrets.scrub(f"{status} {code}: {message}".strip().rstrip(":")[:300])
        if status == 401:
            return GraphAuthError(f"Graph did not accept the sign-in for {what} ({said})")
        if status == 403:
            return PermissionMissing(what, permission, said)
        if write and status >= 500:
            return GraphError(f"Graph failed {what} ({said}); {_WRITE_NOT_RETRIED}")
        if status in _RETRIED:
            return GraphError(f"Graph is still throttling or unavailable after {self._retries} "
                              f"retries ({said}); wait and re-run the same command")
        if status == 404:
            return GraphRequestError(f"Graph has no {what} ({said})")
        return GraphRequestError(f"Graph rejected the request for {what} ({said})")


class PermissionMissing(GraphAuthError):
    """Graph said 403: the message names the permission the read needs."""

    def __init__(self, what: str, permission: str, said: str) -> None:
        self.what, self.permission = what, permission
        super().__init__(f"Graph refused to read {what} ({said}): it needs the {permission} "
                         "permission")


async def with_client(connection: GraphConnection,
                      work: Callable[[GraphClient], Awaitable[T]]) -> T:
    client = GraphClient(connection)
    try:
        return await work(client)
    finally:
        await client.close()
