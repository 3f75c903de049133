"""Microsoft Graph: sign in, GET with bounded retries, save responses raw; the sync job.

The only module that imports msgraph-core, kiota and azure-identity. Requests go through the
SDK's httpx client (``GraphClientFactory``) so kiota's ``RetryHandler`` honours 429
``Retry-After`` and backs off on 503/504; bodies are written to disk exactly as received,
because the SDK's models turn real values (step type ``import``, unknown enums) into None.
Dropped connections, truncated bodies and 500/502 get a bounded retry of our own (``retried``,
which ``sdk`` uses too, so every command tries a silent Graph alike). Paging
through provisioning logs is ``graph_fetch``'s job.

Tokens and secrets never reach output: they are sent only as the ``Authorization`` header to
the Graph root the user chose (a nextLink to another host is refused), and every error
message is scrubbed of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, urlsplit

import httpx
from azure.core.exceptions import (
    AzureError,
    ClientAuthenticationError,
    ServiceRequestError,
    ServiceResponseError,
)
from azure.identity import (
    AzureAuthorityHosts,
    CertificateCredential,
    ClientSecretCredential,
    CredentialUnavailableError,
    DefaultAzureCredential,
    DeviceCodeCredential,
    ManagedIdentityCredential,
)
from kiota_http.kiota_client_factory import KiotaClientFactory
from kiota_http.middleware import RetryHandler
from kiota_http.middleware.middleware import REQUEST_OPTIONS_KEY
from kiota_http.middleware.options import RetryHandlerOption
from msgraph_core import GraphClientFactory
from msgraph_core.middleware import GraphTelemetryHandler

from loganalyzer.graph.query import DEFAULT_GRAPH_URL, QueryError
from loganalyzer.graph.state import RUN_STATE_NAME, last_page_number

ENV_ACCESS_TOKEN = "GRAPH_ACCESS_TOKEN"
ENV_SECRET = "AZURE_CLIENT_SECRET"
ENV_TENANT = "AZURE_TENANT_ID"
ENV_CLIENT = "AZURE_CLIENT_ID"
ENV_CERT_PASSWORD = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
JOB_FILE = "sync-job.json"
SCHEMA_FILE = "sync-schema.json"

LOGS_PERMISSIONS = (
    "reading provisioning logs needs the AuditLog.Read.All and Directory.Read.All permissions "
    "(application permissions with admin consent, or a signed-in user with a role such as "
    "Reports Reader) and an Entra ID P1 or P2 licence in the tenant; --service-principal-id "
    "takes the enterprise application's object id, not its application (client) id"
)
SYNC_PERMISSIONS = (
    "reading a synchronization job needs the Synchronization.Read.All permission "
    "(an application may also need Application.ReadWrite.OwnedBy); --service-principal-id "
    "takes the enterprise application's object id, not its application (client) id"
)
NO_CREDENTIAL = (
    "no credential found; set GRAPH_ACCESS_TOKEN, or AZURE_CLIENT_SECRET with AZURE_TENANT_ID and "
    "AZURE_CLIENT_ID, run `az login`, or pass --device-code, --managed-identity or --certificate"
)
_AUTHORITIES = {  # national-cloud Graph hosts -> their sign-in authority
    "graph.microsoft.us": AzureAuthorityHosts.AZURE_GOVERNMENT,
    "dod-graph.microsoft.us": AzureAuthorityHosts.AZURE_GOVERNMENT,
    "microsoftgraph.chinacloudapi.cn": AzureAuthorityHosts.AZURE_CHINA,
}
NEVER_ANSWERED = ("Graph never answered: check the network (a proxy, a firewall) and --graph-url, "
                  "then re-run the same command")
_RETRIED_BY_KIOTA = {429, 503, 504}
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
_DEFAULT_PORTS = {"https": 443, "http": 80}
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}  # plain http only to this machine (a stand-in)

# azure-identity warns at length when a credential in the chain is unavailable; our one-line
# error says what to do. Applications that configure logging still receive the records.
logging.getLogger("azure.identity").addHandler(logging.NullHandler())


class GraphError(Exception):
    """A Graph call that failed; ``exit_code`` is what the CLI exits with."""

    exit_code = 3  # transient: a re-run resumes


class GraphAuthError(GraphError):
    """No usable credential, or Graph said 401/403."""

    exit_code = 2


class GraphRequestError(GraphError):
    """Graph refused the request itself (bad filter, unknown id)."""

    exit_code = 2


class _Retryable(Exception):
    """A response worth another try: a dropped connection, a cut body, 500/502."""


class Unanswered(Exception):
    """Every try of ``retried`` failed: ``tries`` made, the last ``error`` and its ``reason``."""

    def __init__(self, tries: int, error: Exception) -> None:
        super().__init__(str(error) or type(error).__name__)
        self.tries, self.error, self.reason = tries, error, str(self)


T = TypeVar("T")


@dataclass(frozen=True)
class AuthOptions:
    """How to sign in. Client secrets come only from the environment (``AZURE_CLIENT_SECRET``
    with ``AZURE_TENANT_ID``/``AZURE_CLIENT_ID``), never from here."""

    access_token: str | None = field(default=None, repr=False)
    certificate: Path | None = None
    device_code: bool = False
    managed_identity: bool = False
    tenant_id: str | None = None
    client_id: str | None = None


@dataclass(frozen=True)
class RetryPolicy:
    """Bounded retries. 429/503/504 go to kiota's RetryHandler (``Retry-After`` wins over
    ``base_delay``); connection drops, cut bodies and 500/502 to our own loop."""

    max_retries: int = 5
    base_delay: float = 3.0
    connection_tries: int = 5
    connection_backoff: float = 2.0


def unsent(exc: Exception) -> bool:
    """No connection was made (DNS, refused, timed out): the request never left this machine,
    so even a write may be sent again."""
    return isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout)


async def retried(policy: RetryPolicy, attempt: Callable[[], Awaitable[T]],
                  again: Callable[[Exception], bool] = lambda _exc: True) -> T:
    """``attempt()``, tried again after a transport error or a ``_Retryable`` that ``again``
    allows, ``policy.connection_tries`` times at most and ``connection_backoff`` seconds apart,
    doubling; then ``Unanswered``. One policy for every Graph request, raw or through the SDK."""
    for tries in range(1, policy.connection_tries + 1):
        try:
            return await attempt()
        except (httpx.TransportError, _Retryable) as exc:
            if tries == policy.connection_tries or not again(exc):
                raise Unanswered(tries, exc) from exc
            await asyncio.sleep(policy.connection_backoff * 2 ** (tries - 1))
    raise AssertionError("unreachable")


def _origin(url: str) -> tuple[str, str, int]:
    """(scheme, host, port), the default port filled in: what decides who receives the token.
    ValueError for a port that is not a number."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme, 0)


def checked_origin(url: str, root: str) -> str:
    """``url`` when it is on ``root``'s server; GraphRequestError otherwise, as our token
    must never go to another server (a nextLink elsewhere)."""
    if not same_origin(url, root):
        target = urlsplit(url)
        raise GraphRequestError(
            f"Graph sent a link to {target.scheme}://{target.netloc}, not {root}; "
            "refusing to send the token there"
        )
    return url


def same_origin(url: str, root: str) -> bool:
    """Scheme, host and port compared, not text: https://graph.microsoft.com.evil.com or another
    port is another server."""
    try:
        return _origin(url) == _origin(root)
    except ValueError:
        return False


def check_graph_url(url: str) -> None:
    """``--graph-url`` receives the token: a full https address (plain http only to loopback)."""
    parts = urlsplit(url)
    if parts.username is not None or parts.password is not None:
        raise GraphRequestError("--graph-url must not hold a user name or password")
    try:
        scheme, host, _port = _origin(url)
    except ValueError:
        raise GraphRequestError(f"--graph-url {url}: the port is not a number") from None
    if scheme not in _DEFAULT_PORTS or not host:
        raise GraphRequestError(f"--graph-url {url}: give the whole address with https://, "
                                f"such as {DEFAULT_GRAPH_URL}")
    if scheme == "http" and host not in _LOOPBACK:
        raise GraphRequestError(f"--graph-url {url}: plain http would send the token "
                                "unencrypted; use https (http is for 127.0.0.1, ::1 and "
                                "localhost only)")


@dataclass(frozen=True)
class GraphConnection:
    """Where Graph is and how to reach it; ``GraphRequestError`` for a root the token must not
    go to."""

    graph_url: str = DEFAULT_GRAPH_URL
    auth: AuthOptions = AuthOptions()
    retry: RetryPolicy = RetryPolicy()

    def __post_init__(self) -> None:
        check_graph_url(self.graph_url)

    @property
    def root(self) -> str:
        return self.graph_url.rstrip("/")


@dataclass
class JobFiles:
    """What ``fetch-job`` saved."""

    job_id: str
    job: Path
    schema: Path
    status_code: str | None
    quarantined: bool


# ----------------------------------------------------------------------------- auth


class _Secrets:
    """Every secret this process holds, so messages can be scrubbed of them."""

    def __init__(self) -> None:
        self._values: set[str] = set()

    def add(self, value: str | None) -> None:
        if value and len(value) >= 4:
            self._values.add(value)

    def scrub(self, text: str) -> str:
        for value in sorted(self._values, key=len, reverse=True):
            text = text.replace(value, "[redacted]")
        return text


def _scope(root: str) -> str:
    parts = urlsplit(root)
    return f"{parts.scheme}://{parts.netloc}/.default"


def _device_prompt(uri: str, code: str, _expires: datetime) -> None:
    print(f"To sign in, open {uri} and enter the code {code}", file=sys.stderr, flush=True)


def _chosen_methods(auth: AuthOptions) -> list[str]:
    chosen = [
        ("--access-token", bool(auth.access_token)),
        ("--certificate", auth.certificate is not None),
        ("--device-code", auth.device_code),
        ("--managed-identity", auth.managed_identity),
    ]
    return [name for name, given in chosen if given]


def _require(value: str | None, option: str, env: str, method: str) -> str:
    if not value:
        raise GraphAuthError(f"{method} needs {option} (or the {env} environment variable)")
    return value


def _credential(auth: AuthOptions, root: str) -> tuple[Any, str]:
    """The azure-identity credential for the chosen method, and a name for messages."""
    authority = _AUTHORITIES.get(urlsplit(root).hostname or "")
    extra = {"authority": authority} if authority else {}
    tenant = auth.tenant_id or os.environ.get(ENV_TENANT)
    client = auth.client_id or os.environ.get(ENV_CLIENT)
    if auth.certificate is not None:
        method = "certificate sign-in"
        if not auth.certificate.is_file():
            raise GraphAuthError(f"--certificate {auth.certificate}: no such file (PEM or PFX)")
        return CertificateCredential(
            _require(tenant, "--tenant-id", ENV_TENANT, method),
            _require(client, "--client-id", ENV_CLIENT, method),
            certificate_path=str(auth.certificate),
            password=os.environ.get(ENV_CERT_PASSWORD) or None, **extra,
        ), method
    if auth.device_code:
        kwargs = {"client_id": client} if client else {}
        return DeviceCodeCredential(
            tenant_id=tenant, prompt_callback=_device_prompt, **kwargs, **extra
        ), "device-code sign-in"
    if auth.managed_identity:
        return ManagedIdentityCredential(client_id=client), "managed identity"
    secret = os.environ.get(ENV_SECRET)
    if secret:
        method = f"client secret from {ENV_SECRET}"
        return ClientSecretCredential(
            _require(tenant, "--tenant-id", ENV_TENANT, method),
            _require(client, "--client-id", ENV_CLIENT, method),
            secret, **extra,
        ), method
    return DefaultAzureCredential(
        exclude_interactive_browser_credential=True, **extra
    ), "the default credential chain (environment, managed identity, Azure CLI, ...)"


# seconds waited before trying again to reach a sign-in service that could not be reached
SIGN_IN_RETRIES = (2.0, 5.0)


def _unreachable(exc: BaseException) -> bool:
    """The sign-in service was not reached: no response, and a request error (DNS, refused or
    dropped connection) among the causes azure-identity wrapped. A credential that is not
    there at all (no managed identity on this machine: its endpoint refuses the connection
    too) is a setup mistake, which trying again will not mend."""
    if getattr(exc, "response", None) is not None or isinstance(exc, CredentialUnavailableError):
        return False
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ServiceRequestError | ServiceResponseError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Tokens:
    """Bearer tokens on demand, renewed five minutes before they expire."""

    def __init__(self, auth: AuthOptions, root: str, secrets: _Secrets) -> None:
        methods = _chosen_methods(auth)
        if len(methods) > 1:
            raise GraphAuthError(f"choose one way to sign in, not {' and '.join(methods)}")
        self._secrets = secrets
        secrets.add(os.environ.get(ENV_SECRET))
        secrets.add(os.environ.get(ENV_CERT_PASSWORD))
        self._static = auth.access_token or (
            None if methods else os.environ.get(ENV_ACCESS_TOKEN) or None
        )
        secrets.add(self._static)
        self._scope = _scope(root)
        self._credential, self.method = None, "access token"
        if not self._static:
            try:
                self._credential, self.method = _credential(auth, root)
            except ValueError as exc:  # e.g. a certificate file that is not PEM/PFX
                raise GraphAuthError(secrets.scrub(f"cannot set up sign-in: {exc}")) from None
        self._token: str | None = None
        self._expires = 0.0

    def bearer(self) -> str:
        if self._static:
            return self._static
        if self._token is None or time.time() > self._expires - 300:
            token = self._signed_in()
            self._token, self._expires = token.token, float(token.expires_on)
            self._secrets.add(token.token)
        return self._token

    def _signed_in(self) -> Any:
        """A new token. A sign-in service that cannot be reached (DNS, a dropped connection)
        is tried again after each of ``SIGN_IN_RETRIES`` seconds, then is ``GraphError``
        (exit 3, a re-run may work): azure-identity reports it as an authentication error,
        which would tell a weekly job that its credentials are wrong."""
        waits = list(SIGN_IN_RETRIES)
        while True:
            try:
                return self._credential.get_token(self._scope)
            except AzureError as exc:
                unreachable = _unreachable(exc)
                if not (unreachable and waits):
                    raise self._sign_in_error(exc, unreachable) from None
                time.sleep(waits.pop(0))

    def _sign_in_error(self, exc: AzureError, unreachable: bool) -> GraphError:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if unreachable:
            first = f"the sign-in service could not be reached ({first}); try again later"
        elif isinstance(self._credential, DefaultAzureCredential):
            first = NO_CREDENTIAL
        auth_failed = isinstance(exc, ClientAuthenticationError) and not unreachable
        return (GraphAuthError if auth_failed else GraphError)(
            self._secrets.scrub(f"could not sign in with {self.method}: {first}"))

    def close(self) -> None:
        close = getattr(self._credential, "close", None)
        if close:
            close()


# ----------------------------------------------------------------------------- HTTP


class _ReadRetry(RetryHandler):
    """kiota's RetryHandler, except that a 5xx is retried for reads only: kiota retries every
    method, and a write Graph may have carried out (provisionOnDemand) must not be sent twice.
    A 429 is retried whatever the method: Graph did not carry out a throttled request."""

    def __init__(self, options: RetryHandlerOption, statuses: set[int]) -> None:
        super().__init__(options)
        self.retry_on_status_codes = set(statuses)

    def should_retry(self, request: httpx.Request, options: RetryHandlerOption,
                     response: httpx.Response) -> bool:
        if response.status_code != 429 and request.method.upper() not in _IDEMPOTENT:
            return False
        return super().should_retry(request, options, response)


def graph_http_client(client: httpx.AsyncClient, policy: RetryPolicy, statuses: set[int]
                      ) -> httpx.AsyncClient:
    """``client`` with the SDK's default middleware, ``_ReadRetry`` (on ``statuses``) in place
    of kiota's RetryHandler."""
    option = RetryHandlerOption(delay=policy.base_delay, max_retries=policy.max_retries)
    middleware = [
        _ReadRetry(option, statuses) if isinstance(handler, RetryHandler) else handler
        for handler in KiotaClientFactory.get_default_middleware(
            {RetryHandlerOption.get_key(): option})
    ]
    return GraphClientFactory.create_with_custom_middleware(
        [*middleware, GraphTelemetryHandler()], client=client)


def _graph_error(body: bytes) -> tuple[str, str]:
    """(code, message) from a Graph error body; tolerant of anything else."""
    try:
        error = json.loads(body).get("error") or {}
        return str(error.get("code") or ""), " ".join(str(error.get("message") or "").split())
    except (ValueError, AttributeError):
        return "", " ".join(body[:200].decode("utf-8", errors="replace").split())


class GraphSession:
    """GETs against one Graph root through the SDK's middleware, with our own retry loop."""

    def __init__(self, connection: GraphConnection) -> None:
        self.root = connection.root
        self.secrets = _Secrets()
        self.tokens = _Tokens(connection.auth, self.root, self.secrets)
        self._policy = connection.retry
        option = RetryHandlerOption(
            delay=connection.retry.base_delay, max_retries=connection.retry.max_retries
        )
        self._options = {RetryHandlerOption.get_key(): option}
        client = httpx.AsyncClient(timeout=httpx.Timeout(100, connect=30), http2=True)
        self._client = graph_http_client(client, connection.retry, _RETRIED_BY_KIOTA)
        self.reached = False  # Graph answered once: a failure after it is transient

    async def close(self) -> None:
        await self._client.aclose()
        self.tokens.close()

    def check_origin(self, url: str) -> str:
        """Only the chosen Graph root gets our token; a nextLink elsewhere is refused."""
        return checked_origin(url, self.root)

    async def download(self, url: str, dest: Path | None, permissions: str) -> Any:
        """GET ``url`` (into ``dest`` as received, when given) and return the parsed JSON."""

        async def attempt() -> Any:
            try:
                body = await self._stream(url, dest, permissions)
                try:
                    return json.loads(dest.read_bytes() if dest else body.getvalue())
                except ValueError as exc:
                    raise _Retryable(f"the response was not complete JSON ({exc})") from None
            except (httpx.TransportError, _Retryable):
                if dest:
                    dest.unlink(missing_ok=True)
                raise

        try:
            return await retried(self._policy, attempt)
        except Unanswered as failed:
            advice = "re-run the same command to resume" if self.reached else NEVER_ANSWERED
            raise GraphError(self.secrets.scrub(
                f"Graph at {self.root} failed {failed.tries} times ({failed.reason}); {advice}"
            )) from None

    async def _stream(self, url: str, dest: Path | None, permissions: str) -> io.BytesIO:
        request = self._client.build_request(
            "GET", self.check_origin(url),
            headers={"Authorization": f"Bearer {self.tokens.bearer()}",
                     "Accept": "application/json"},
        )
        request.extensions[REQUEST_OPTIONS_KEY] = dict(self._options)
        response = await self._client.send(request, stream=True)
        self.reached = True
        try:
            if response.status_code != 200:
                self._raise_for(response.status_code, await response.aread(), url, permissions)
            buffer = io.BytesIO()
            with dest.open("wb") if dest else contextlib.nullcontext(buffer) as out:
                async for chunk in response.aiter_bytes():
                    out.write(chunk)
            return buffer
        finally:
            await response.aclose()

    def _raise_for(self, status: int, body: bytes, url: str, permissions: str) -> None:
        code, message = _graph_error(body)
        said = self.secrets.scrub(f"{status} {code}: {message}".strip().rstrip(":")[:300])
        path = urlsplit(url).path
        if status == 401:
            raise GraphAuthError(
                f"Graph did not accept the sign-in for {path} ({said}; an expired token, one for "
                f"another tenant, or one not issued for {_scope(self.root)}): {permissions}"
            )
        if status == 403:
            raise GraphAuthError(f"Graph refused {path} ({said}): {permissions}")
        if status in (400, 410) and "skiptoken" in url.lower():
            raise GraphRequestError(
                f"Graph no longer accepts the saved paging position ({said}); pass --restart "
                "to download this request again"
            )
        if status in _RETRIED_BY_KIOTA:
            raise GraphError(
                f"Graph is still throttling or unavailable after {self._policy.max_retries} "
                f"retries ({said}); wait and re-run the same command to resume, or narrow the "
                "window"
            )
        if status >= 500:
            raise _Retryable(said)
        if status == 404:
            raise GraphRequestError(f"Graph has no {path} ({said}); {permissions}")
        raise GraphRequestError(f"Graph rejected {path} ({said})")


def page_values(page: Any, url: str) -> list[dict]:
    """The ``value`` list of a Graph collection page; a one-line error for anything else."""
    if not isinstance(page, dict) or not isinstance(page.get("value"), list):
        keys = ", ".join(list(page)[:5]) if isinstance(page, dict) else type(page).__name__
        raise GraphRequestError(
            f"{urlsplit(url).path} did not answer with a Graph page ('value' list); got {keys}"
        )
    return page["value"]


def run_session(work: Callable[[GraphSession], Any], connection: GraphConnection) -> Any:
    """Run ``work(session)`` (a coroutine) in a fresh event loop; the session is closed after."""

    async def main() -> Any:
        session = GraphSession(connection)
        try:
            return await work(session)
        finally:
            await session.close()

    return asyncio.run(main())


# ----------------------------------------------------------------------------- sync job


def _jobs_url(root: str, service_principal_id: str) -> str:
    return f"{root}/servicePrincipals/{quote(service_principal_id, safe='')}/synchronization/jobs"


def list_sync_jobs(service_principal_id: str, connection: GraphConnection) -> list[dict]:
    """The synchronization jobs of one service principal (``id``, ``templateId``, status)."""

    async def get(session: GraphSession) -> list[dict]:
        url = _jobs_url(session.root, service_principal_id)
        return page_values(await session.download(url, None, SYNC_PERMISSIONS), url)

    return run_session(get, connection)


def save_sync_job(
    service_principal_id: str, job_id: str, out_dir: Path, connection: GraphConnection
) -> JobFiles:
    """Save the job (status, quarantine, last execution) and its schema, raw, into
    ``out_dir/sync-job.json`` and ``out_dir/sync-schema.json``."""
    if out_dir.is_dir() and ((out_dir / RUN_STATE_NAME).exists() or last_page_number(out_dir)):
        raise QueryError(f"{out_dir} holds downloaded log pages; save the job elsewhere, or every "
                         "command reading that folder would meet a file that is not a log")
    out_dir.mkdir(parents=True, exist_ok=True)
    job_path, schema_path = out_dir / JOB_FILE, out_dir / SCHEMA_FILE

    async def get(session: GraphSession) -> JobFiles:
        url = f"{_jobs_url(session.root, service_principal_id)}/{quote(job_id, safe='')}"
        job = await session.download(url, job_path, SYNC_PERMISSIONS)
        await session.download(f"{url}/schema", schema_path, SYNC_PERMISSIONS)
        status = job.get("status") if isinstance(job, dict) else None
        status = status if isinstance(status, dict) else {}
        code = status.get("code")
        return JobFiles(job_id, job_path, schema_path, code,
                        code == "Quarantine" or bool(status.get("quarantine")))

    return run_session(get, connection)
