"""The `fetch` and `fetch-job` commands, and the option groups `--graph` (graph_inputs.py) reuses.

Parsing options and printing only; the work is in ``graph.py`` (imported when a command runs,
so other commands do not pay for loading the Graph SDK).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loganalyzer.cli.common import Quiet, app, err, fail_input
from loganalyzer.cli.console import progress_bar
from loganalyzer.cli.options import with_options
from loganalyzer.graph.query import DEFAULT_GRAPH_URL, STATUSES, QueryError, Selection
from loganalyzer.periods import check_options, parse_since
from loganalyzer.problems import InputError
from loganalyzer.scope import GUID, JOB_ID

if TYPE_CHECKING:
    from loganalyzer.graph.client import GraphConnection
    from loganalyzer.graph.config_fetch import AppTarget
    from loganalyzer.graph.fetch import FetchOptions, FetchResult

Since = Annotated[
    str | None,
    typer.Option("--since", metavar="LENGTH",
                 help="Only the last 7d, 36h or 2w: before the newest event read, "
                 "or before now when fetching from Graph (default there: 7d)."),
]
DateFrom = Annotated[
    str | None,
    typer.Option("--from", metavar="DATE", help="Start: 2026-03-01 or an ISO date-time, UTC."),
]
DateTo = Annotated[
    str | None,
    typer.Option("--to", metavar="DATE", help="End: a date (that day included) or an ISO "
                 "date-time, UTC "
                 "(default: the newest event, or now when fetching)."),
]
App = Annotated[
    str | None,
    typer.Option("--app", help="Enterprise application display name. Graph compares it "
                 "CASE-SENSITIVELY: spell it exactly as in the Entra admin center."),
]
Apps = Annotated[
    list[str] | None,
    typer.Option("--app", help="The app: display name, service principal (Object) ID or job "
                 "id; repeatable (fetch takes one). Graph compares a display name "
                 "CASE-SENSITIVELY: spell it exactly as in the Entra admin center."),
]
ServicePrincipalId = Annotated[
    str | None,
    typer.Option("--service-principal-id", help="The enterprise application's Object ID "
                 "(not its Application/client ID)."),
]
JobId = Annotated[str | None, typer.Option("--job-id", help="Provisioning job id.")]
StatusChoice = StrEnum("StatusChoice", {status: status for status in STATUSES})
Status = Annotated[StatusChoice | None, typer.Option("--status", case_sensitive=False,
                                                               help="Only this status.")]
GraphUrl = Annotated[
    str,
    typer.Option("--graph-url", help="Graph root (national clouds: https://graph.microsoft.us"
                 "/v1.0, ...)."),
]
AccessToken = Annotated[
    str | None,
    typer.Option("--access-token", show_default=False,
                 help="A bearer token you already have. Prefer the GRAPH_ACCESS_TOKEN "
                 "environment variable: arguments are visible to other users of the machine."),
]
Certificate = Annotated[
    Path | None,
    typer.Option("--certificate", help="Sign in as an app with this certificate (PEM/PFX; "
                 "password from AZURE_CLIENT_CERTIFICATE_PASSWORD)."),
]
DeviceCode = Annotated[
    bool, typer.Option("--device-code", help="Sign in as yourself with a code in a browser.")
]
ManagedIdentity = Annotated[
    bool, typer.Option("--managed-identity", help="Use the Azure managed identity.")
]
TenantId = Annotated[
    str | None, typer.Option("--tenant-id", help="Tenant (default: AZURE_TENANT_ID).")
]
ClientId = Annotated[
    str | None,
    typer.Option("--client-id", help="App (client) id to sign in as (default: AZURE_CLIENT_ID)."),
]


@dataclass(frozen=True)
class AppChoice:
    """Which enterprise app to read from Graph (`check`, `fetch-config`, `fetch-job`,
    `retest`): its display name or its service principal (object) id."""

    app_name: App = None
    service_principal_id: ServicePrincipalId = None
    job_id: JobId = None

    def target(self) -> AppTarget:
        from loganalyzer.graph.config_fetch import AppTarget

        if not (self.app_name or self.service_principal_id):
            raise InputError("--graph", "needs --app NAME or --service-principal-id ID")
        return AppTarget(self.service_principal_id, self.app_name, self.job_id)


@dataclass(frozen=True)
class SignIn:
    """Where Graph is and how to sign in: the options of `fetch`, `fetch-job` and `--graph`."""

    graph_url: GraphUrl = DEFAULT_GRAPH_URL
    access_token: AccessToken = field(default=None, repr=False)
    certificate: Certificate = None
    device_code: DeviceCode = False
    managed_identity: ManagedIdentity = False
    tenant_id: TenantId = None
    client_id: ClientId = None

    def connection(self) -> GraphConnection:
        """Exit 2 with one line for a --graph-url the token must not go to."""
        from loganalyzer.graph.client import AuthOptions, GraphConnection, GraphError

        auth = AuthOptions(self.access_token, self.certificate, self.device_code,
                           self.managed_identity, self.tenant_id, self.client_id)
        try:
            return GraphConnection(self.graph_url, auth)
        except GraphError as exc:
            err(f"error: {exc}")
            raise typer.Exit(exc.exit_code) from None


@dataclass(frozen=True)
class EventFilter:
    """Which events Graph sends (its server-side ``$filter``)."""

    app_name: Apps = None
    service_principal_id: ServicePrincipalId = None
    job_id: JobId = None
    status: Status = None

    def graph_app(self) -> tuple[str | None, str | None, str | None]:
        """(display name, service principal id, job id) to ask Graph for. One ``--app`` is the
        filter it is (a GUID, a job id, else a display name); several are not (Graph's filter
        takes one), and the analysis then picks their events from what comes back."""
        app, principal, job = None, self.service_principal_id, self.job_id
        if self.app_name and len(self.app_name) == 1:
            value = self.app_name[0].strip()
            if GUID.match(value) and principal is None:
                principal = value.lower()
            elif JOB_ID.match(value) and job is None:
                job = value
            else:
                app = value
        return app, principal, job

    def selection(self, extra: str | None = None) -> Selection:
        """``extra`` is one more OData clause, such as ``graph_query.user_filter(user)``."""
        return Selection(*self.graph_app(), self.status and str(self.status), extra)


@dataclass(frozen=True)
class FetchWindow:
    """`--since`/`--from`/`--to`: the period to analyse, and the window to fetch with --graph
    (default: the last 7 days); the same options on every command."""

    since: Since = None
    date_from: DateFrom = None
    date_to: DateTo = None

    def check(self) -> None:
        """``InputError`` for a period malformed or contradictory on its own: given before the
        logs are read, as reading a large export takes long."""
        check_options(self.since, self.date_from, self.date_to)


@dataclass(frozen=True)
class GraphWindow(FetchWindow):
    """`fetch`'s window: it reads no events, so it counts back from now."""

    since: Annotated[str | None, typer.Option(
        "--since", metavar="LENGTH", help="Only the last 7d, 36h or 2w before now (default: "
        "7d; Graph keeps 30 days).")] = None
    date_to: Annotated[str | None, typer.Option(
        "--to", metavar="DATE", help="End: a date (that day included) or an ISO date-time, "
        "UTC (default: now).")] = None


def fetch_options(sign_in: SignIn, window: FetchWindow, events: EventFilter,
                  extra_filter: str | None = None) -> FetchOptions:
    """Options for ``graph_fetch.fetch_to_folder``."""
    from loganalyzer.graph.fetch import FetchOptions

    return FetchOptions(events.selection(extra_filter), window.since, window.date_from,
                        window.date_to, sign_in.connection())


def run_fetch(options: FetchOptions, out_dir: Path, quiet: bool) -> FetchResult:
    """Fetch with progress on stderr; a one-line message and the right exit code on failure."""
    from loganalyzer.graph.client import GraphError
    from loganalyzer.graph.fetch import fetch_to_folder

    try:
        with progress_bar(quiet) as progress:
            result = fetch_to_folder(options, out_dir, progress)
    except (QueryError, InputError) as exc:
        err(f"error: {exc}")
        raise typer.Exit(2) from None
    except GraphError as exc:
        err(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        err(f"\ninterrupted: {out_dir} keeps the pages so far; re-run the same command to resume")
        raise typer.Exit(130) from None
    for note in result.notes:
        err(f"note: {note}")
    return result


class NothingFetched(InputError):
    """Graph had no events for the request (`why --graph` then asks again without its filter);
    ``notes``: the fetch's notes all the same (days of the window Graph no longer keeps), but
    its hints for an empty answer: stderr had them, and a quiet week is not a mistyped --app."""

    def __init__(self, result: FetchResult, selection: Selection) -> None:
        from loganalyzer.graph.fetch import empty_notes

        super().__init__("Microsoft Graph", f"no provisioning events for {result.filter}")
        hints = empty_notes(selection, 0)
        self.notes = [note for note in result.notes if note not in hints]


@contextmanager
def fetched_folder(options: FetchOptions, quiet: bool) -> Iterator[FetchResult]:
    """For ``--graph`` on analysis commands: fetch into a temporary folder, yield the fetch (its
    ``folder`` for ``load_inputs``, its notes for the outputs), remove the folder afterwards;
    ``NothingFetched`` when empty."""
    with tempfile.TemporaryDirectory(prefix="loganalyzer-graph-") as tmp:
        result = run_fetch(options, Path(tmp), quiet)
        if result.total_events == 0:
            raise NothingFetched(result, options.selection)
        yield result


@app.command("fetch")
@with_options(window=GraphWindow, events=EventFilter, sign_in=SignIn)
def fetch_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the page files.")],
    *,
    window: GraphWindow,
    events: EventFilter,
    incremental: Annotated[
        Path | None,
        typer.Option("--incremental", help="State file: fetch only what is new since the last "
                     "run with this file (for scheduled runs)."),
    ] = None,
    overlap: Annotated[
        str, typer.Option("--overlap", help="With --incremental: ask again for this much "
                          "before the newest event fetched, for late records (1h, 2h).")
    ] = "1h",
    restart: Annotated[
        bool, typer.Option("--restart", help="Discard an earlier download in the folder.")
    ] = False,
    page_size: Annotated[int, typer.Option("--page-size", min=1, max=999)] = 500,
    sign_in: SignIn,
    quiet: Quiet = False,
) -> None:
    """Download provisioning logs from Microsoft Graph into a folder every command reads.

    Sign-in, first match wins: --access-token / --certificate / --device-code /
    --managed-identity; else GRAPH_ACCESS_TOKEN; else AZURE_CLIENT_SECRET (with
    AZURE_TENANT_ID, AZURE_CLIENT_ID); else the default chain (Azure CLI login, ...).
    Exit codes: 0 done, 2 bad options or access refused, 3 Graph unavailable (re-run resumes).
    """
    if events.app_name and len(events.app_name) > 1:
        err("error: --app: fetch filters on one app (Graph's filter takes one); fetch without "
            "--app and choose among the apps with diagnose/report/why --app")
        raise typer.Exit(2)
    options = fetch_options(sign_in, window, events)
    try:
        gap = parse_since(overlap)
    except InputError as exc:
        err(f"error: {exc}")
        raise typer.Exit(2) from None
    options = replace(options, incremental=incremental, overlap=gap, restart=restart,
                      page_size=page_size)
    result = run_fetch(options, output, quiet)
    say = (lambda _text: None) if quiet else err
    if result.already_complete:
        say(
            f"{output} already holds this download, complete ({result.total_pages:,} pages, "
            f"{result.total_events:,} events); --restart fetches it again, --incremental STATE "
            "fetches only new events"
        )
        return
    resumed = " (resumed)" if result.resumed else ""
    known = f"; {result.known_skipped:,} already fetched skipped" if result.known_skipped else ""
    say(
        f"wrote {output}{resumed}: {result.pages:,} pages, {result.events:,} events in "
        f"{result.seconds:.1f} s{known}; filter: {result.filter}"
    )
    if incremental and result.watermark:
        start = result.watermark - gap
        say(f"{incremental}: the next run asks for events from {start:%Y-%m-%d %H:%M} UTC on")
    elif incremental:
        say(f"{incremental}: no event fetched yet; the next run asks for the whole window")


def _pick_job(jobs: list[dict], service_principal_id: str) -> str:
    """The single job, or ask at a terminal; else exit 2 listing them."""
    if not jobs:
        err(f"error: service principal {service_principal_id} has no synchronization job "
            "(is provisioning set up? --service-principal-id takes the object id)")
        raise typer.Exit(2)
    ids = [str(job.get("id")) for job in jobs]
    if len(ids) == 1:
        return ids[0]
    listing = "; ".join(
        f"{job.get('id')} ({job.get('templateId')}, {(job.get('status') or {}).get('code')})"
        for job in jobs
    )
    if not sys.stdin.isatty():
        err(f"error: several synchronization jobs, pass --job-id: {listing}")
        raise typer.Exit(2)
    err(f"several synchronization jobs: {listing}")
    while (chosen := typer.prompt("job id").strip()) not in ids:
        err(f"'{chosen}' is not one of them")
    return chosen


@app.command("fetch-job")
@with_options(choice=AppChoice, sign_in=SignIn)
def fetch_job_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the JSON files.")],
    *,
    choice: AppChoice,
    sign_in: SignIn,
    quiet: Quiet = False,
) -> None:
    """Save the sync job's status (quarantine, last run, error) and schema (mappings).

    Writes sync-job.json (for `diagnose --job-status`) and sync-schema.json. Needs
    Synchronization.Read.All (and Application.Read.All to find the app by --app NAME). Keep
    them out of the folder of `fetch` pages.
    """
    from loganalyzer.graph.client import GraphError, list_sync_jobs, save_sync_job
    from loganalyzer.graph.config_fetch import service_principal_id

    graph = sign_in.connection()
    try:
        target = choice.target()
        principal = service_principal_id(graph, target)
        job_id = target.job_id or _pick_job(list_sync_jobs(principal, graph), principal)
        files = save_sync_job(principal, job_id, output, graph)
    except InputError as exc:
        raise fail_input(exc) from None
    except QueryError as exc:
        err(f"error: {exc}")
        raise typer.Exit(2) from None
    except GraphError as exc:
        err(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    state = f"status {files.status_code}" + (", QUARANTINED" if files.quarantined else "")
    if not quiet:
        err(f"wrote {files.job} ({state}) and {files.schema} for job {files.job_id}")
