"""Microsoft Graph: sign in, then download provisioning-log pages and sync-job JSON, raw.

The only module that imports msgraph-core, kiota and azure-identity. Requests go through the
SDK's httpx client (``GraphClientFactory``) so kiota's ``RetryHandler`` honours 429
``Retry-After`` and backs off on 503/504; bodies are written to disk exactly as received,
because the SDK's models turn real values (step type ``import``, unknown enums) into None.
Dropped connections, truncated bodies and 500/502 get a bounded retry of our own.

Tokens and secrets never reach output: they are sent only as the ``Authorization`` header to
the Graph root the user chose (a nextLink to another host is refused), and every error
message is scrubbed of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import httpx
from azure.core.exceptions import ClientAuthenticationError
from azure.identity import (
    AzureAuthorityHosts,
    CertificateCredential,
    ClientSecretCredential,
    DefaultAzureCredential,
    DeviceCodeCredential,
    ManagedIdentityCredential,
)
from kiota_http.middleware.middleware import REQUEST_OPTIONS_KEY
from kiota_http.middleware.options import RetryHandlerOption
from msgraph_core import GraphClientFactory

from loganalyzer.graph_query import (
    DEFAULT_GRAPH_URL,
    QueryError,
    Selection,
    TimeWindow,
    build_filter,
    odata_time,
    parse_time,
    resolve_window,
)
from loganalyzer.graph_state import (
    PAGE_PATTERN,
    RUN_STATE_NAME,
    IncrementalState,
    RunState,
    last_page_number,
    page_name,
    within_overlap,
)

ENV_ACCESS_TOKEN = "GRAPH_ACCESS_TOKEN"
ENV_SECRET = "AZURE_CLIENT_SECRET"
ENV_TENANT = "AZURE_TENANT_ID"
ENV_CLIENT = "AZURE_CLIENT_ID"
ENV_CERT_PASSWORD = "AZURE_CLIENT_CERTIFICATE_PASSWORD"
DEFAULT_PAGE_SIZE = 500
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
_AUTHORITIES = {  # national-cloud Graph hosts -> their sign-in authority
    "graph.microsoft.us": AzureAuthorityHosts.AZURE_GOVERNMENT,
    "dod-graph.microsoft.us": AzureAuthorityHosts.AZURE_GOVERNMENT,
    "microsoftgraph.chinacloudapi.cn": AzureAuthorityHosts.AZURE_CHINA,
}
_RETRIED_BY_KIOTA = {429, 503, 504}

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


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


@dataclass(frozen=True)
class GraphConnection:
    """Where Graph is and how to reach it."""

    graph_url: str = DEFAULT_GRAPH_URL
    auth: AuthOptions = AuthOptions()
    retry: RetryPolicy = RetryPolicy()

    @property
    def root(self) -> str:
        return self.graph_url.rstrip("/")


@dataclass(frozen=True)
class FetchOptions:
    """One ``fetch``: the window (``since`` or ``date_from``/``date_to``; default the last
    7 days), the selection, and, for scheduled runs, an incremental state file."""

    selection: Selection = Selection()
    since: str | None = None
    date_from: str | None = None
    date_to: str | None = None
    connection: GraphConnection = GraphConnection()
    page_size: int = DEFAULT_PAGE_SIZE
    incremental: Path | None = None
    overlap: timedelta = timedelta(hours=1)
    restart: bool = False

    def request(self) -> dict[str, Any]:
        """What identifies this download for resuming (not the window's absolute times, so
        ``--since 7d`` re-run later still resumes the unfinished download)."""
        if self.incremental:
            spec = "incremental"
        elif self.since or not (self.date_from or self.date_to):
            spec = f"since {self.since or '7d'}"
        else:
            spec = f"from {self.date_from or ''} to {self.date_to or ''}"
        return {
            "graph_url": self.connection.root,
            "selection": self.selection.to_json(),
            "time": spec,
        }


@dataclass
class FetchResult:
    """What a ``fetch`` did: counts are for this run; ``total_*`` for the folder's download."""

    folder: Path
    filter: str
    window: TimeWindow | None
    pages: int = 0
    events: int = 0
    total_pages: int = 0
    total_events: int = 0
    known_skipped: int = 0
    resumed: bool = False
    already_complete: bool = False
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


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
            try:
                token = self._credential.get_token(self._scope)
            except ClientAuthenticationError as exc:
                first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise GraphAuthError(
                    self._secrets.scrub(f"could not sign in with {self.method}: {first}")
                ) from None
            self._token, self._expires = token.token, float(token.expires_on)
            self._secrets.add(token.token)
        return self._token

    def close(self) -> None:
        close = getattr(self._credential, "close", None)
        if close:
            close()


# ----------------------------------------------------------------------------- HTTP


def _graph_error(body: bytes) -> tuple[str, str]:
    """(code, message) from a Graph error body; tolerant of anything else."""
    try:
        error = json.loads(body).get("error") or {}
        return str(error.get("code") or ""), " ".join(str(error.get("message") or "").split())
    except (ValueError, AttributeError):
        return "", " ".join(body[:200].decode("utf-8", errors="replace").split())


class _Session:
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
        self._client = GraphClientFactory.create_with_default_middleware(
            client=client, options=self._options
        )

    async def close(self) -> None:
        await self._client.aclose()
        self.tokens.close()

    def check_origin(self, url: str) -> str:
        """Only the chosen Graph root gets our token; a nextLink elsewhere is refused."""
        root, target = urlsplit(self.root), urlsplit(url)
        if (root.scheme, root.netloc) != (target.scheme, target.netloc):
            raise GraphRequestError(
                f"Graph sent a link to {target.scheme}://{target.netloc}, not {self.root}; "
                "refusing to send the token there"
            )
        return url

    async def download(self, url: str, dest: Path | None, permissions: str) -> Any:
        """GET ``url`` (into ``dest`` as received, when given) and return the parsed JSON."""
        policy = self._policy
        for attempt in range(1, policy.connection_tries + 1):
            try:
                body = await self._stream(url, dest, permissions)
                try:
                    return json.loads(dest.read_bytes() if dest else body.getvalue())
                except ValueError as exc:
                    raise _Retryable(f"the response was not complete JSON ({exc})") from None
            except (httpx.TransportError, _Retryable) as exc:
                if dest:
                    dest.unlink(missing_ok=True)
                reason = str(exc) or type(exc).__name__
                if attempt == policy.connection_tries:
                    raise GraphError(self.secrets.scrub(
                        f"Graph at {self.root} failed {attempt} times ({reason}); "
                        "re-run the same command to resume"
                    )) from None
                await asyncio.sleep(policy.connection_backoff * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def _stream(self, url: str, dest: Path | None, permissions: str) -> io.BytesIO:
        request = self._client.build_request(
            "GET", self.check_origin(url),
            headers={"Authorization": f"Bearer {self.tokens.bearer()}",
                     "Accept": "application/json"},
        )
        request.extensions[REQUEST_OPTIONS_KEY] = dict(self._options)
        response = await self._client.send(request, stream=True)
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


def _run(coro_factory: Callable[[_Session], Any], connection: GraphConnection) -> Any:
    async def main() -> Any:
        session = _Session(connection)
        try:
            return await coro_factory(session)
        finally:
            await session.close()

    return asyncio.run(main())


# ----------------------------------------------------------------------------- logs


def fetch_to_folder(
    options: FetchOptions, out_dir: Path, progress: Progress = _quiet
) -> FetchResult:
    """Download ``/auditLogs/provisioning`` into ``out_dir`` as ``page-NNNNN.json`` files.

    Pages are written as they arrive; a re-run with the same options resumes an unfinished
    download; with ``options.incremental`` only events newer than the last run are written.
    Every reader (``ingest.load``) reads the folder. Raises ``GraphError`` (and its
    subclasses) and ``QueryError``; both carry a one-line, secret-free message.
    """
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise QueryError(f"{out_dir} is a file; -o takes a folder for the downloaded pages")
    out_dir.mkdir(parents=True, exist_ok=True)
    if options.restart:
        _discard_download(out_dir)
    incremental = IncrementalState.load(options.incremental) if options.incremental else None
    if incremental and incremental.request != options.request():
        raise QueryError(
            f"{options.incremental} was written for another selection or Graph root "
            f"({incremental.request}); use a separate state file per selection"
        )
    state, result = _plan(options, out_dir, incremental)
    if result.already_complete:
        return result
    return _run(lambda s: _download_pages(s, options, out_dir, state, incremental, result,
                                          progress), options.connection)


def _discard_download(folder: Path) -> None:
    for path in folder.iterdir():
        if PAGE_PATTERN.match(path.name) or path.name.endswith(".json.part") or \
                path.name == RUN_STATE_NAME:
            path.unlink()


def _plan(
    options: FetchOptions, out_dir: Path, incremental: IncrementalState | None
) -> tuple[RunState, FetchResult]:
    """Resume the folder's unfinished download, or start a new one."""
    previous = RunState.load(out_dir)
    request = options.request()
    if previous is not None and previous.request == request and (
        not previous.complete or not options.incremental
    ):
        window = TimeWindow.from_json(previous.window) if previous.window else None
        result = FetchResult(out_dir, previous.filter, window, resumed=not previous.complete,
                             already_complete=previous.complete,
                             total_pages=previous.pages, total_events=previous.events)
        return previous, result
    if previous is not None and previous.request != request:
        unfinished = "an unfinished" if not previous.complete else "a"
        raise QueryError(
            f"{out_dir} holds {unfinished} download of another request ({previous.filter}); "
            "use another folder, re-run that command, or pass --restart to discard it"
        )
    now = datetime.now(UTC)
    window = resolve_window(options.since, options.date_from, options.date_to, now)
    if incremental is not None:
        window = TimeWindow(max(window.start, incremental.start_after(options.overlap)),
                            window.end)
    query = build_filter(window, options.selection)
    first_url = f"{options.connection.root}/auditLogs/provisioning?" + urlencode(
        {"$filter": query, "$top": options.page_size}, quote_via=quote, safe="$"
    )
    first_page = last_page_number(out_dir) + 1
    state = RunState(request, query, window.to_json(), first_url, first_page, first_page)
    return state, FetchResult(out_dir, query, window)


def _page_events(page: Any, url: str) -> list[dict]:
    if not isinstance(page, dict) or not isinstance(page.get("value"), list):
        keys = ", ".join(list(page)[:5]) if isinstance(page, dict) else type(page).__name__
        raise GraphRequestError(
            f"{urlsplit(url).path} did not answer with a Graph page ('value' list); got {keys}"
        )
    return page["value"]


class _Meter:
    """Progress text: pages, events, rate, and where in the window the download is. Graph
    answers newest first (it does not promise it), so the direction is read off the first page."""

    def __init__(self, window: TimeWindow | None) -> None:
        self.window = window
        self.started = time.monotonic()
        self.newest_first: bool | None = None

    def line(self, pages: int, events: int, page: list[Any]) -> str:
        rate = events / max(time.monotonic() - self.started, 1e-6)
        text = f"fetched {pages:,} page(s), {events:,} events ({rate:,.0f}/s)"
        times = [t for e in page if isinstance(e, dict)
                 if (t := _event_time(e.get("activityDateTime"))) is not None]
        if not times:
            return text
        if self.newest_first is None:
            self.newest_first = times[0] >= times[-1]
        text += f", at {times[-1]:%Y-%m-%d %H:%M} UTC"
        if self.window:
            start, end = self.window.start, self.window.end
            done = (end - times[-1]) if self.newest_first else (times[-1] - start)
            share = max(0.0, min(done / (end - start), 1.0))
            text += f" ({share:.0%} of {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M})"
        return text


def _event_time(text: Any) -> datetime | None:
    try:
        return parse_time(text) if isinstance(text, str) else None
    except QueryError:
        return None


async def _download_pages(
    session: _Session,
    options: FetchOptions,
    out_dir: Path,
    state: RunState,
    incremental: IncrementalState | None,
    result: FetchResult,
    progress: Progress,
) -> FetchResult:
    window = TimeWindow.from_json(state.window) if state.window else None
    known = incremental.recent if incremental else {}
    overlap_start = window.end - options.overlap if window and options.incremental else None
    meter = _Meter(window)
    while state.next_link:
        url = state.next_link
        part = out_dir / (page_name(state.next_page) + ".part")
        page = await session.download(url, part, LOGS_PERMISSIONS)
        events = _page_events(page, url)
        fresh = [e for e in events if not (isinstance(e, dict) and e.get("id") in known)]
        result.known_skipped += len(events) - len(fresh)
        if len(fresh) != len(events):
            page["value"] = fresh
            part.write_text(json.dumps(page, ensure_ascii=False), encoding="utf-8")
        if fresh or not options.incremental:
            os.replace(part, out_dir / page_name(state.next_page))
            state.next_page += 1
            state.pages += 1
            result.pages += 1
        else:
            part.unlink()
        if overlap_start is not None:
            state.recent.update(_ids_since(fresh, overlap_start))
        link = page.get("@odata.nextLink")
        state.next_link = session.check_origin(link) if isinstance(link, str) and link else None
        state.events += len(fresh)
        result.events += len(fresh)
        state.save(out_dir)
        progress(meter.line(result.pages, result.events, fresh))
    state.complete = True
    state.save(out_dir)
    if options.incremental:
        _advance_incremental(options, state, incremental, window)
    result.total_pages, result.total_events = state.pages, state.events
    result.seconds = time.monotonic() - meter.started
    result.notes.extend(_empty_notes(options.selection, state.events))
    return result


def _ids_since(events: list[Any], start: datetime) -> dict[str, str]:
    found = {}
    for event in events:
        if isinstance(event, dict) and isinstance(event.get("id"), str):
            when = _event_time(event.get("activityDateTime"))
            if when is None or when >= start:
                found[event["id"]] = event.get("activityDateTime") or ""
    return found


def _advance_incremental(
    options: FetchOptions,
    state: RunState,
    incremental: IncrementalState | None,
    window: TimeWindow | None,
) -> None:
    assert options.incremental is not None and window is not None
    recent = {**(incremental.recent if incremental else {}), **state.recent}
    IncrementalState(
        options.request(), odata_time(window.end), within_overlap(recent, window.end,
                                                                  options.overlap)
    ).save(options.incremental)


def _empty_notes(selection: Selection, events: int) -> list[str]:
    if events:
        return []
    notes = ["Graph returned no events for this request"]
    if selection.app:
        notes.append("--app is compared case-sensitively with the enterprise application's "
                     "display name")
    if selection.service_principal_id:
        notes.append("--service-principal-id must be the enterprise application's object id, "
                     "not its application (client) id")
    return notes


# ----------------------------------------------------------------------------- sync job


def _jobs_url(root: str, service_principal_id: str) -> str:
    return f"{root}/servicePrincipals/{quote(service_principal_id, safe='')}/synchronization/jobs"


def list_sync_jobs(service_principal_id: str, connection: GraphConnection) -> list[dict]:
    """The synchronization jobs of one service principal (``id``, ``templateId``, status)."""

    async def get(session: _Session) -> list[dict]:
        url = _jobs_url(session.root, service_principal_id)
        return _page_events(await session.download(url, None, SYNC_PERMISSIONS), url)

    return _run(get, connection)


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

    async def get(session: _Session) -> JobFiles:
        url = f"{_jobs_url(session.root, service_principal_id)}/{quote(job_id, safe='')}"
        job = await session.download(url, job_path, SYNC_PERMISSIONS)
        await session.download(f"{url}/schema", schema_path, SYNC_PERMISSIONS)
        status = job.get("status") if isinstance(job, dict) else None
        status = status if isinstance(status, dict) else {}
        code = status.get("code")
        return JobFiles(job_id, job_path, schema_path, code,
                        code == "Quarantine" or bool(status.get("quarantine")))

    return _run(get, connection)
