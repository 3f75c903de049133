"""Download provisioning logs into a folder of Graph pages, resumably and incrementally.

``fetch_to_folder`` plans the request (a new window, or the folder's unfinished download),
follows every ``@odata.nextLink`` through ``graph.GraphSession``, writes each page as it
arrives, saves the resume state after every page, and for scheduled runs drops the events an
earlier run already fetched. Nothing here talks to the SDK directly.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from loganalyzer.graph import query as graph_query
from loganalyzer.graph.client import (
    LOGS_PERMISSIONS,
    GraphConnection,
    GraphError,
    GraphSession,
    page_values,
    run_session,
)
from loganalyzer.graph.query import (
    DEFAULT_SINCE,
    QueryError,
    Selection,
    TimeWindow,
    build_filter,
    odata_time,
    parse_time,
    refuse_unkept,
    resolve_window,
    retention_notes,
)
from loganalyzer.graph.state import (
    PAGE_PATTERN,
    RUN_STATE_NAME,
    IncrementalState,
    RunState,
    last_page_number,
    page_name,
    within_overlap,
)
from loganalyzer.wording import plural

DEFAULT_PAGE_SIZE = 500

# progress(message, done, total): the share of the time window fetched, when known
Progress = Callable[..., None]


def _quiet(*_: object) -> None:
    pass


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
            spec = f"since {self.since or DEFAULT_SINCE}"
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
    watermark: datetime | None = None  # incremental: the newest event time fetched so far


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
    finished = _discard_download(out_dir) if options.restart else []
    incremental = IncrementalState.load(options.incremental) if options.incremental else None
    if incremental and incremental.request != options.request():
        raise QueryError(
            f"{options.incremental} was written for another selection or Graph root "
            f"({incremental.request}); use a separate state file per selection"
        )
    state, result = _plan(options, out_dir, incremental, finished)
    if result.already_complete:
        return result
    return run_session(
        lambda s: _fetch(s, options, out_dir, state, incremental, result, progress),
        options.connection,
    )


def _discard_download(folder: Path) -> list[list[str]]:
    """``--restart``: drop the unfinished download (its pages, a partial page, the state).
    Pages of finished downloads stay: an incremental state has already moved past them, so
    nothing would fetch them again; their windows are returned, for the new state to keep."""
    try:
        previous = RunState.load(folder)
    except QueryError:  # an unreadable state: nothing tells which pages are its own
        previous = None
    first = previous.first_page if previous is not None and not previous.complete else None
    for path in folder.iterdir():
        page = PAGE_PATTERN.match(path.name)
        unfinished = page is not None and first is not None and int(page.group(1)) >= first
        if unfinished or path.name.endswith(".json.part") or path.name == RUN_STATE_NAME:
            path.unlink()
    return previous.finished() if previous is not None else []


def _plan(
    options: FetchOptions, out_dir: Path, incremental: IncrementalState | None,
    finished: list[list[str]] | None = None,
) -> tuple[RunState, FetchResult]:
    """Resume the folder's unfinished download, or start a new one, which keeps the windows
    of the downloads finished before it (``finished`` when ``--restart`` removed the state)."""
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
        if previous.complete:
            raise QueryError(
                f"{out_dir} holds a download of another request ({previous.filter}); use "
                "another folder, or pass --restart to add this one (its pages are kept)"
            )
        raise QueryError(
            f"{out_dir} holds an unfinished download of another request ({previous.filter}); "
            "use another folder, re-run that command, or pass --restart to discard it"
        )
    now = graph_query.graph_clock()
    window = resolve_window(options.since, options.date_from, options.date_to, now)
    refuse_unkept(window, now, "--from/--to" if options.date_from else "--to")
    if incremental is not None:
        window = TimeWindow(max(window.start, incremental.start_after(options.overlap)),
                            window.end)
    query = build_filter(window, options.selection)
    first_url = f"{options.connection.root}/auditLogs/provisioning?" + urlencode(
        {"$filter": query, "$top": options.page_size}, quote_via=quote, safe="$"
    )
    first_page = last_page_number(out_dir) + 1
    earlier = previous.finished() if previous is not None else finished or []
    state = RunState(request, query, window.to_json(), first_url, first_page, first_page,
                     fetched=earlier)
    return state, FetchResult(out_dir, query, window, notes=retention_notes(window, now))


class _Meter:
    """Progress text: pages, events, rate, and where in the window the download is. Graph
    answers newest first (it does not promise it), so the direction is read off the first page."""

    def __init__(self, window: TimeWindow | None) -> None:
        self.window = window
        self.started = time.monotonic()
        self.newest_first: bool | None = None
        self.done: float | None = None  # share of the window fetched

    def line(self, pages: int, events: int, page: list[Any]) -> str:
        rate = events / max(time.monotonic() - self.started, 1e-6)
        text = f"fetched {plural(pages, 'page')}, {plural(events, 'event')} ({rate:,.0f}/s)"
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
            self.done = max(0.0, min(done / (end - start), 1.0))
            text += f" ({self.done:.0%} of {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M})"
        return text

    def share(self) -> tuple[float | None, float | None]:
        """(done, total) of the window for a progress bar; (None, None) while unknown."""
        return (self.done, 1.0) if self.done is not None else (None, None)


def _next_link(session: GraphSession, page: dict, followed: set[str | None]) -> str | None:
    """The page's nextLink, to the Graph root only and never one already followed: a server
    repeating one would have the download fetch the same pages forever."""
    link = page.get("@odata.nextLink")
    if not (isinstance(link, str) and link):
        return None
    session.check_origin(link)
    if link in followed:
        raise GraphError(
            f"Graph sent the same @odata.nextLink again ({urlsplit(link).path}); stopped rather "
            "than fetch the same pages forever. The pages so far are kept: re-run the same "
            "command later to resume, or pass --restart"
        )
    followed.add(link)
    return link


def _event_time(text: Any) -> datetime | None:
    try:
        return parse_time(text) if isinstance(text, str) else None
    except QueryError:
        return None


async def _fetch(
    session: GraphSession,
    options: FetchOptions,
    out_dir: Path,
    state: RunState,
    incremental: IncrementalState | None,
    result: FetchResult,
    progress: Progress,
) -> FetchResult:
    """The planned download. A resumed scheduled run then goes on up to now: the window it
    finished ended when the interrupted run started, and the next run may be a week away."""
    result = await _download_pages(session, options, out_dir, state, incremental, result,
                                   progress)
    if not (options.incremental and result.resumed and result.window):
        return result
    incremental = IncrementalState.load(options.incremental)
    state, more = _plan(options, out_dir, incremental)
    if more.window is None or more.window.end <= result.window.end:
        return result  # an explicit --to: that window is complete
    more = await _download_pages(session, options, out_dir, state, incremental, more, progress)
    return _joined(result, more)


def _joined(first: FetchResult, then: FetchResult) -> FetchResult:
    """One result for a resumed download and the one that took it on to now."""
    assert first.window is not None and then.window is not None
    return replace(
        then,
        window=TimeWindow(first.window.start, then.window.end),
        pages=first.pages + then.pages,
        events=first.events + then.events,
        total_pages=first.total_pages + then.total_pages,
        total_events=first.total_events + then.total_events,
        known_skipped=first.known_skipped + then.known_skipped,
        resumed=True,
        seconds=first.seconds + then.seconds,
        notes=first.notes if first.total_events else then.notes,
    )


async def _download_pages(
    session: GraphSession,
    options: FetchOptions,
    out_dir: Path,
    state: RunState,
    incremental: IncrementalState | None,
    result: FetchResult,
    progress: Progress,
) -> FetchResult:
    window = TimeWindow.from_json(state.window) if state.window else None
    known = incremental.recent if incremental else {}
    meter = _Meter(window)
    followed = {state.next_link}
    while state.next_link:
        url = state.next_link
        part = out_dir / (page_name(state.next_page) + ".part")
        page = await session.download(url, part, LOGS_PERMISSIONS)
        events = page_values(page, url)
        try:
            link = _next_link(session, page, followed)
        except GraphError:
            part.unlink()
            raise
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
        if options.incremental:
            _remember_recent(state, fresh, options.overlap)
        state.next_link = link
        state.events += len(fresh)
        result.events += len(fresh)
        state.save(out_dir)
        progress(meter.line(result.pages, result.events, fresh), *meter.share())
    state.complete = True
    state.save(out_dir)
    if options.incremental:
        result.watermark = _advance_incremental(options, state)
    result.total_pages, result.total_events = state.pages, state.events
    result.seconds = time.monotonic() - meter.started
    if incremental is None:  # else earlier runs found this selection's events: quiet is quiet
        result.notes.extend(empty_notes(options.selection, state.events))
    return result


def _remember_recent(state: RunState, events: list[Any], overlap: timedelta) -> None:
    """Keep the newest event time fetched and the ids within ``overlap`` before it, which the
    next run asks for again and must recognise. Pruned on every page, so it stays the size of
    the overlap in whatever order Graph sends the pages."""
    times = [t for e in events if isinstance(e, dict)
             if (t := _event_time(e.get("activityDateTime"))) is not None]
    if times and (state.newest is None or max(times) > parse_time(state.newest)):
        state.newest = odata_time(max(times))
    state.recent.update({e["id"]: e.get("activityDateTime") or "" for e in events
                         if isinstance(e, dict) and isinstance(e.get("id"), str)})
    if state.newest is not None:
        state.recent = within_overlap(state.recent, parse_time(state.newest), overlap)


def _advance_incremental(options: FetchOptions, state: RunState) -> datetime | None:
    """Move the watermark to the newest event fetched, never back (a resumed old window, or
    another folder's run on the same state file, may end before it); None while no run has
    fetched an event, so the next run asks for its whole window again."""
    assert options.incremental is not None
    saved = IncrementalState.load(options.incremental)  # as it is now, not as the run began
    times = [parse_time(t) for t in (saved and saved.watermark, state.newest) if t]
    if not times:
        return None
    watermark = max(times)
    recent = {**(saved.recent if saved else {}), **state.recent}
    IncrementalState(
        options.request(), odata_time(watermark),
        within_overlap(recent, watermark, options.overlap),
    ).save(options.incremental)
    return watermark


def empty_notes(selection: Selection, events: int) -> list[str]:
    """Hints for a request Graph had no event for (none when it had some)."""
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


