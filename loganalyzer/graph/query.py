"""What to ask Graph for: the time window and selection, spelled as an OData ``$filter``.

Pure functions, no network: the fetch code (``graph.py``) and the command line share them.
Graph's ``/auditLogs/provisioning`` filters are case-sensitive (even ``eq``), support only
strict ``gt``/``lt`` on ``activityDateTime``, and ``$orderby`` is unreliable, so callers sort
client-side.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from loganalyzer.periods import DEFAULT_SINCE, parse_bound, parse_since
from loganalyzer.problems import InputError

DEFAULT_GRAPH_URL = "https://graph.microsoft.com/v1.0"
RETENTION = timedelta(days=30)  # how long Graph keeps provisioning logs
STATUSES = ("failure", "skipped", "success", "warning")

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


class QueryError(ValueError):
    """An option value that cannot become a Graph request (the CLI exits 2 with it)."""


@dataclass(frozen=True)
class TimeWindow:
    """Half-open ``[start, end)`` in UTC."""

    start: datetime
    end: datetime

    def to_json(self) -> list[str]:
        return [odata_time(self.start), odata_time(self.end)]

    @classmethod
    def from_json(cls, pair: list[str]) -> TimeWindow:
        return cls(parse_time(pair[0]), parse_time(pair[1]))


@dataclass(frozen=True)
class Selection:
    """Which events: every field is optional and they combine with ``and``."""

    app: str | None = None  # servicePrincipal/displayName, case-sensitive
    service_principal_id: str | None = None
    job_id: str | None = None
    status: str | None = None
    extra: str | None = None  # one more OData clause, e.g. from user_filter()

    def to_json(self) -> dict[str, str | None]:
        return asdict(self)


def parse_time(text: str) -> datetime:
    """An ISO 8601 timestamp as Graph and our state files write it, in UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise QueryError(f"'{text}' is not an ISO 8601 time") from None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def graph_clock() -> datetime:
    """Now, in UTC: what a Graph window counts back from and how far back Graph keeps logs.
    One clock for every window asked of Graph, so a test can stand on a day when the fake
    Graph's logs are still kept."""
    return datetime.now(UTC)


def resolve_window(
    since: str | None, date_from: str | None, date_to: str | None, now: datetime
) -> TimeWindow:
    """The window to download. Unlike a report's ``--since`` (which counts back from the newest
    event of an export), a fetch counts back from ``now``; a bare ``--to`` date includes its day."""
    if since and (date_from or date_to):
        raise QueryError("give either --since or --from/--to, not both")
    try:
        if date_from or date_to:
            end = parse_bound("--to", date_to, end_of_day=True) if date_to else now
            start = (parse_bound("--from", date_from, end_of_day=False) if date_from
                     else end - parse_since(DEFAULT_SINCE))
        else:
            start, end = now - parse_since(since or DEFAULT_SINCE), now
    except InputError as exc:
        raise QueryError(str(exc)) from None
    if start >= end:
        raise QueryError(f"--to ({odata_time(end)}) must be after --from ({odata_time(start)})")
    return TimeWindow(start, end)


def odata_time(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def odata_string(value: str) -> str:
    """A quoted OData string literal (a single quote is doubled)."""
    return "'" + value.replace("'", "''") + "'"


def build_filter(window: TimeWindow | None, selection: Selection) -> str:
    """The ``$filter`` value. ``gt start-1s`` keeps events stamped exactly at ``start``
    (Graph stamps whole seconds and has no ``ge``)."""
    if selection.status and selection.status not in STATUSES:
        raise QueryError(f"--status must be one of {', '.join(STATUSES)}, not '{selection.status}'")
    clauses = []
    if window is not None:
        clauses.append(f"activityDateTime gt {odata_time(window.start - timedelta(seconds=1))}")
        clauses.append(f"activityDateTime lt {odata_time(window.end)}")
    fields = (
        ("servicePrincipal/displayName", selection.app),
        ("servicePrincipal/id", selection.service_principal_id),
        ("jobId", selection.job_id),
        ("provisioningStatusInfo/status", selection.status),
    )
    clauses += [f"{name} eq {odata_string(value)}" for name, value in fields if value]
    if selection.extra:
        clauses.append(selection.extra)
    return " and ".join(clauses)


def user_filter(user: str) -> str | None:
    """A clause narrowing the request to one user, or None when Graph cannot filter on it.

    An Entra object id matches ``sourceIdentity/id`` exactly. A display name becomes
    ``contains(sourceIdentity/displayName, ...)``, which is case-sensitive: the caller should
    still match case-insensitively on what comes back, and fall back to an unfiltered fetch
    when it finds nobody. UPNs and e-mail addresses live in ``details`` bags that Graph cannot
    filter, so they return None (fetch the window and match client-side).
    """
    user = user.strip()
    if _GUID.match(user):
        return f"sourceIdentity/id eq {odata_string(user.lower())}"
    if not user or "@" in user:
        return None
    return f"contains(sourceIdentity/displayName, {odata_string(user)})"


def refuse_unkept(window: TimeWindow, now: datetime, option: str) -> None:
    """``QueryError`` for a window that ended before the oldest day Graph keeps: Graph cannot
    have its logs, and its empty answer would read as a quiet period (Entra logs only
    changes). ``option``: what set the window (``--from/--to``)."""
    kept_from = now - RETENTION
    if window.end > kept_from:
        return
    raise QueryError(
        f"{option}: the window {window.start:%Y-%m-%d %H:%M} to {window.end:%Y-%m-%d %H:%M} "
        f"UTC ended more than {RETENTION.days} days ago, and Microsoft Graph keeps provisioning "
        f"logs for {RETENTION.days} days (nothing before {kept_from:%Y-%m-%d %H:%M} UTC), so "
        "it cannot have them: read an export of those days instead (Log Analytics, or the "
        "storage account of a diagnostic setting, if one keeps them)")


def retention_notes(window: TimeWindow, now: datetime) -> list[str]:
    """A window reaching further back than Graph keeps provisioning logs: no error (what is
    kept comes back), but the days before are not empty, only gone."""
    kept_from = now - RETENTION
    if window.start >= kept_from:
        return []
    return [f"Graph keeps provisioning logs for {RETENTION.days} days: the window starts "
            f"{window.start:%Y-%m-%d}, but nothing before {kept_from:%Y-%m-%d %H:%M} UTC comes "
            "back (export older logs from Log Analytics or a storage account, if one keeps them)"]
