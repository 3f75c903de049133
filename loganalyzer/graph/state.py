"""What a Graph download remembers between runs: where it stopped, and what is already fetched.

Two small JSON files, both written atomically so an interrupted run never leaves half a file:

* the *run state*, ``OUT/.fetch-state.json`` (hidden, so the readers skip it): the request,
  the ``@odata.nextLink`` to continue from and the next page number. A re-run of the same
  command reads it and resumes. It keeps the windows of the downloads finished in the folder
  before (``fetched_windows`` reads them), so a folder fetched twice is not taken for one
  window from the first start to the last end, which called the days between quiet; they
  are kept merged (windows that meet are one), so an hourly scheduled fetch keeps one window,
  not one a run.
* the *incremental state*, the file named by ``--incremental STATE``: the watermark (the
  newest event time completed runs fetched; it never moves back) and the ids of events inside
  the overlap before it, so the next run asks for ``watermark - overlap`` onwards and drops
  what it already has.

Neither file ever holds a token or secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loganalyzer import atomic_write
from loganalyzer.graph.query import QueryError, odata_time, parse_time
from loganalyzer.periods import Window, merged

RUN_STATE_NAME = ".fetch-state.json"
# a store's manifest key: the windows of the downloads it was ingested from (``fetched_windows``)
FETCHED_WINDOWS = "fetched_windows"
ONE_FETCHED_WINDOW = "fetched_window"  # the one [start, end] of a manifest written before
PAGE_PATTERN = re.compile(r"^page-(\d+)\.json$")
STATE_FORMAT = 1


def page_name(number: int) -> str:
    return f"page-{number:05d}.json"


def last_page_number(folder: Path) -> int:
    """The highest page number already in ``folder`` (0 when none)."""
    numbers = [int(m.group(1)) for p in folder.iterdir() if (m := PAGE_PATTERN.match(p.name))]
    return max(numbers, default=0)


def write_json_atomic(path: Path, data: Any) -> None:
    atomic_write.write_text(path, json.dumps(data, indent=2, ensure_ascii=False))


def _read_state(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise QueryError(f"{path}: unreadable {what} ({exc}); delete it to start over") from None
    if not isinstance(data, dict) or data.get("format") != STATE_FORMAT:
        raise QueryError(f"{path}: not a {what} written by this version of loganalyzer")
    return data


@dataclass
class RunState:
    """One download into one folder. ``request`` identifies it: a re-run with the same
    request resumes, a different one is refused until the first finishes or is discarded."""

    request: dict[str, Any]
    filter: str
    window: list[str] | None
    next_link: str | None
    next_page: int
    first_page: int
    pages: int = 0
    events: int = 0
    complete: bool = False
    recent: dict[str, str] = field(default_factory=dict)  # id -> activityDateTime (incremental)
    newest: str | None = None  # the newest activityDateTime fetched (incremental)
    fetched: list[list[str]] = field(default_factory=list)  # earlier downloads' windows
    format: int = STATE_FORMAT

    @classmethod
    def load(cls, folder: Path) -> RunState | None:
        path = folder / RUN_STATE_NAME
        if not path.exists():
            return None
        data = _read_state(path, "download state")
        try:
            return cls(**data)
        except TypeError:
            raise QueryError(f"{path}: not a download state of this version; delete it") from None

    def save(self, folder: Path) -> None:
        """Written with the earlier windows ``merged`` (``merged_pairs``): an hourly scheduled
        fetch into one folder added a window a run, forever; those that meet are one."""
        self.fetched = merged_pairs(self.fetched)
        write_json_atomic(folder / RUN_STATE_NAME, asdict(self))

    def finished(self) -> list[list[str]]:
        """The windows fetched whole into this folder: the earlier downloads' and, once
        complete, this one's. A new download keeps them, so a folder fetched twice is not
        taken for one window (nor the second alone)."""
        return self.fetched + ([self.window] if self.complete and self.window else [])


def unfinished_downloads(folder: Path) -> list[str]:
    """A note for each download in ``folder`` (or below it) that has not finished: reading it
    would otherwise analyse part of the window as if it were all of it."""
    notes = []
    for path in sorted(folder.rglob(RUN_STATE_NAME)):
        try:
            state = RunState.load(path.parent)
        except QueryError:  # not ours to judge; the readers skip hidden files
            continue
        if state is not None and not state.complete:
            notes.append(f"{path.parent}: this folder holds an unfinished download: "
                         f"{state.pages:,} pages of {state.filter}; run fetch again to finish it")
    return notes


def fetched_windows(inputs: list[Path]) -> list[Window]:
    """The windows of the finished downloads in ``inputs`` and of those a store was ingested
    from (its manifest's ``FETCHED_WINDOWS``), ``merged``: the days between two are not
    fetched, so not quiet. Empty when no input is a folder ``fetch`` wrote or such a store."""
    found: list[Window] = []
    for given in inputs:
        folder = Path(given)
        if not folder.is_dir():
            continue
        found += _store_windows(folder)
        for path in folder.rglob(RUN_STATE_NAME):
            try:
                state = RunState.load(path.parent)
            except QueryError:  # not ours to judge, as in unfinished_downloads
                continue
            if state is not None:
                found += _read_windows(state.finished())
    return merged(found)


def _store_windows(folder: Path) -> list[Window]:
    """The fetched windows a store's manifest kept, none for any other folder (or a store
    made from no fetch, or one whose manifest cannot say: ``read_store`` names that)."""
    from loganalyzer.readers.sources import STORE_MANIFEST  # it imports this module

    try:
        manifest = json.loads((folder / STORE_MANIFEST).read_text(encoding="utf-8"))
        return _read_windows(manifest.get(FETCHED_WINDOWS) or [manifest[ONE_FETCHED_WINDOW]])
    except (OSError, ValueError, LookupError, TypeError, AttributeError, QueryError):
        return []


def _read_windows(pairs: list[list[str]]) -> list[Window]:
    return [(parse_time(start), parse_time(end)) for start, end in pairs]


def merged_pairs(pairs: list[list[str]]) -> list[list[str]]:
    """Windows as a state file keeps them (``[start, end]`` in Graph's time format),
    ``merged``: the same windows, those that overlap or meet as one, gaps kept. A list
    whose times cannot be read is kept as it is (reading it says what is wrong)."""
    try:
        return [[odata_time(start), odata_time(end)] for start, end in merged(_read_windows(pairs))]
    except (QueryError, ValueError, TypeError):
        return pairs


@dataclass
class IncrementalState:
    """Where the last completed scheduled run stopped."""

    request: dict[str, Any]
    watermark: str
    recent: dict[str, str]  # ids of events in the overlap before the watermark
    format: int = STATE_FORMAT

    @classmethod
    def load(cls, path: Path) -> IncrementalState | None:
        if not path.exists():
            return None
        data = _read_state(path, "incremental state")
        try:
            return cls(**data)
        except TypeError:
            raise QueryError(f"{path}: not an incremental state of this version") from None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, asdict(self))

    def start_after(self, overlap: timedelta) -> datetime:
        return parse_time(self.watermark) - overlap


def within_overlap(recent: dict[str, str], end: datetime, overlap: timedelta) -> dict[str, str]:
    """Keep the ids whose events lie in ``[end - overlap, ...)``: the next run asks for those
    again and must recognise them."""
    cutoff = end - overlap
    return {i: t for i, t in recent.items() if _at_or_after(t, cutoff)}


def _at_or_after(text: str, cutoff: datetime) -> bool:
    """An unreadable time is kept: forgetting an id would fetch its event twice."""
    try:
        return parse_time(text) >= cutoff
    except QueryError:
        return True
