"""Load exports and stores into canonical frames, or stream exports into a Parquet store.

A *store* is a folder written by ``loganalyzer ingest``: ``events.parquet``, ``steps.parquet``,
``modified_properties.parquet``, ``step_details.parquet`` (the steps' details one per row, for
rules) and ``manifest.json`` (inputs, counts, skipped records). Every command accepts a store
wherever it accepts an export, so a large export is parsed once.
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import dataclasses
import itertools
import json
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from loganalyzer import __version__
from loganalyzer.dedupe import Deduper
from loganalyzer.file_order import FileEnds
from loganalyzer.graph.state import FETCHED_WINDOWS, fetched_windows
from loganalyzer.normalize import Frames, normalize, step_details
from loganalyzer.people_copy import PEOPLE_DIR, PERSON, ROW, ROW_GROUPS, PeopleCopy
from loganalyzer.prefetch import prefetch
from loganalyzer.problems import (
    InputError,
    Problem,
    across_cuts,
    cut_off,
    cut_within,
    unread_files,
    unread_note,
)
from loganalyzer.readers import BATCH_ROWS, ReadLog, read_sources
from loganalyzer.readers.other_logs import only_other_logs
from loganalyzer.readers.sources import STORE_MANIFEST, expand, export_files, is_store
from loganalyzer.schema import (
    DETAIL_ROWS_SCHEMA,
    EVENTS_SCHEMA,
    FRAME_SCHEMAS,
    FREE_TEXT,
    UNANALYSED_COLUMNS,
    conformed,
)
from loganalyzer.skip_classes import SKIP_CLASS_COLUMNS, with_skip_classes
from loganalyzer.store_index import STEP_ROW_GROUP, IndexWriter
from loganalyzer.textsafe import shown
from loganalyzer.wording import plural, verb

if TYPE_CHECKING:  # only writing a store needs pyarrow: every command would pay its import
    import pyarrow as pa
    import pyarrow.parquet as pq

    from loganalyzer.periods import Period

# progress(message, done, total): done and total count input files (None when unknown); while
# ingest writes a store it is called from the thread that normalises, not the caller's
Progress = Callable[..., None]


@dataclass
class Dataset:
    """Canonical frames plus what loading them said."""

    frames: Frames
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0
    # file -> times of its first and last record read, for the files cut off (``cut_within``)
    file_times: dict[str, tuple[datetime, datetime]] = field(default_factory=dict)

    def cut_within(self, period: Period | None) -> list[str]:
        """The inputs cut off whose lost events may lie in ``period`` (``problems.cut_within``;
        None: any)."""
        bounds = (period.start, period.end) if period else ()
        return cut_within(self.problems, self.file_times, *bounds)

    def input_notes(self) -> list[str]:
        """What every output says of its input: the readers' notes, records that could not
        be read (shown on stderr, but a report or a JSON read later must say so too), and
        duplicates counted once."""
        notes = list(self.notes)
        if self.problems:
            notes.append(unread_note(self.problems))
        if self.duplicates:
            notes.append(f"{plural(self.duplicates, 'duplicate event')} "
                         f"{verb(self.duplicates, 'was', 'were')} counted once")
        return notes


def _quiet(*_: object) -> None:
    pass


def _normalized_batches(
    inputs: list[Path], read_log: ReadLog, workdir: Path, progress: Progress, dedupe: Deduper
) -> tuple[Iterator[Frames], list[Path]]:
    sources, stores = expand(inputs, workdir, read_log.notes)

    def batches() -> Iterator[Frames]:
        events = 0
        started = time.monotonic()
        for raw in prefetch(read_sources(sources, read_log)):
            frames, problems = normalize(raw, keep=dedupe.raw)
            read_log.problems.extend(problems)
            read_log.kept_files.update(frames.events["source_file"].drop_nulls().unique())
            events += frames.events.height
            rate = events / max(time.monotonic() - started, 1e-6)
            # with several files, a file counts as done once the next one has started; the
            # share of one file read is not known
            several = len(sources) > 1
            started_files = sum(s.name in read_log.kinds for s in sources) if several else 0
            progress(f"read {plural(events, 'event')} ({rate:,.0f}/s)",
                     max(started_files - 1, 0) if several else None,
                     len(sources) if several else None)
            yield frames

    return batches(), stores


# Exports larger than this in all are streamed into a temporary store first and read from it
# like any store: diagnosing a raw month then costs what ingest plus diagnose on a store cost,
# instead of holding every step in memory.
SPILL_BYTES = 256 * 1024**2
# Diagnose and report hold a store's events in memory up to this many (about 0.75 GB a
# million) and scan them beyond, so memory stays flat as a month grows; scanning costs more
# time per question.
EAGER_EVENTS = 1_000_000


def load(
    inputs: list[Path],
    progress: Progress = _quiet,
    analysis_only: bool = False,
    spill_bytes: int = SPILL_BYTES,
    eager_events: int | None = None,
) -> Dataset:
    """Read exports and stores for analysis: events in memory, a store's steps and properties
    scanned lazily. ``analysis_only`` leaves out ``UNANALYSED_COLUMNS`` (diagnose and report
    never read them) and scans the events of a store holding more than ``eager_events``
    instead of reading them (default ``EAGER_EVENTS``). Exports larger than ``spill_bytes``
    are read through a temporary store, removed when the process exits."""
    eager_events = EAGER_EVENTS if eager_events is None else eager_events
    exports = [p for p in inputs if not is_store(p)]
    if exports and _bytes(exports) > spill_bytes:
        return _load_spilled(inputs, exports, progress, analysis_only, eager_events)
    read_log = ReadLog()
    dedupe = Deduper()
    ends = FileEnds()
    parts: list[Frames] = []
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="loganalyzer-") as tmp:
        batches, stores = _normalized_batches(inputs, read_log, Path(tmp), progress, dedupe)
        scan_over = _scan_over(stores, eager_events) if analysis_only else None
        for store in stores:
            frames, manifest = read_store(store, analysis_only, scan_over=scan_over)
            problems = [Problem(**p) for p in manifest.get("problems", [])]
            if cut_off(problems):  # which end of its file the cut lost: three columns read
                ends.add(pl.scan_parquet(store / "events.parquet").select(FileEnds.COLUMNS))
            read_log.problems.extend(problems)
            read_log.add_store_files(manifest)
            notes.extend(manifest.get("notes", []))
            # a store is de-duplicated by ingest: only several inputs can repeat an event
            if len(stores) > 1 or exports:
                dedupe.store(store / "events.parquet")
                frames = dedupe.frames(frames)
            parts.append(frames)
        for frames in batches:
            ends.add(frames.events)
            parts.append(_analysed(frames) if analysis_only else frames)
    _require_events(inputs, parts, read_log)
    return Dataset(
        Frames.concat(parts),
        across_cuts(read_log.settled_problems(), ends, dedupe.seen),
        list(dict.fromkeys(notes + read_log.settled_notes())),
        read_log.kinds,
        dedupe.duplicates,
        ends.times(),
    )


def _scan_over(stores: list[Path], eager_events: int) -> int:
    """The events a store may hold and still be read into memory: ``eager_events``, unless
    the stores hold more in all, when every one is scanned (two weekly stores of 1M events
    each, held, took 1.9 GB; the same events in one store, scanned, 0.5 GB). A store's
    count is its file's metadata; a damaged one is ``read_store``'s error."""
    total = 0
    for store in stores:
        with contextlib.suppress(OSError, pl.exceptions.PolarsError):
            total += pl.scan_parquet(store / "events.parquet").select(pl.len()).collect().item()
    return eager_events if total <= eager_events else 0


def _bytes(paths: list[Path]) -> int:
    """The size of the exports among ``paths``: a store inside a folder is read as a store,
    not parsed again (``expand``)."""
    files = [f for p in paths for f in ([p] if p.is_file() else export_files(p))]
    return sum(f.stat().st_size for f in files)


def _load_spilled(inputs: list[Path], exports: list[Path], progress: Progress,
                  analysis_only: bool, eager_events: int) -> Dataset:
    spill = Path(tempfile.mkdtemp(prefix="loganalyzer-spill-"))
    atexit.register(shutil.rmtree, spill, ignore_errors=True)
    store = spill / "store"
    # read back whole by ``load``, never by `why`: no people copy (a quarter of ingest's time)
    manifest = ingest_to_store(exports, store, progress, people_copy=False)
    _return_freed_memory()
    dataset = load([p for p in inputs if is_store(p)] + [store], progress, analysis_only,
                   eager_events=eager_events)
    dataset.kinds = manifest["kinds"] | dataset.kinds
    dataset.duplicates += manifest["duplicates_dropped"]
    return dataset


def _return_freed_memory() -> None:
    """Give back what pyarrow's pool and the C heap (DuckDB's reads among others) keep once
    ingest is done: the diagnosis after it, in the same process, started 0.5 GB higher (after
    1M events they kept 233 MB and 238 MB; the 10M raw export peaked at 2,023 MB, its store
    alone at 1,498-1,596 MB). ``malloc_trim`` is glibc's: elsewhere only the pool is released."""
    import pyarrow as pa  # imported by the ingest that just ran

    pa.default_memory_pool().release_unused()
    with contextlib.suppress(OSError, AttributeError):  # not glibc (macOS, Windows, musl)
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _analysed(frames: Frames) -> Frames:
    return dataclasses.replace(frames, events=frames.events.drop(UNANALYSED_COLUMNS))


def _require_events(inputs: list[Path], parts: list[Frames], read_log: ReadLog) -> None:
    if any(p.event_count() for p in parts):
        return
    names = ", ".join(str(i) for i in inputs)
    if read_log.problems:
        first = read_log.problems[0]
        raise InputError(
            first.file,
            f"no usable provisioning event; {plural(len(read_log.problems), 'record')} skipped, "
            f"first: {first.location}: {first.message}",
        )
    if read_log.other_logs:
        raise InputError(names, only_other_logs(read_log.other_logs))
    # files a folder held that could not be read (not UTF-8, not a log) say why it is empty
    why = unread_files(read_log.notes)
    raise InputError(names, "holds no provisioning events" + (f" (skipped {why})" if why else ""))


def read_store(
    store: Path, analysis_only: bool = False, scan_over: int | None = None
) -> tuple[Frames, dict]:
    """A store's frames and manifest; a store that is damaged or not ours is one InputError
    naming the file and what is wrong (never a traceback).

    Events are read into memory (scanned when there are more than ``scan_over``); steps,
    modified properties and step details are scanned lazily, so analysis reads only the rows
    and columns its questions need. A store written before step details were kept (no
    ``step_details.parquet``) still opens: its details are derived from the steps, more
    slowly. ``analysis_only``: without ``UNANALYSED_COLUMNS``.
    """
    manifest = read_manifest(store)
    check_store(store)
    events_path = store / "events.parquet"
    lazy, details = side_frames(store)
    try:
        schema = {c: t for c, t in EVENTS_SCHEMA.items()
                  if not (analysis_only and c in UNANALYSED_COLUMNS)}
        events = pl.scan_parquet(events_path)
        if lacks_skip_classes(store):
            events = with_skip_classes(events, details if details is not None
                                        else step_details(lazy["steps"]))
        events = conformed(events, schema)
        if scan_over is None or events.select(pl.len()).collect().item() <= scan_over:
            events = events.collect()
        else:  # decoded once now, so a damaged file is this error, not a traceback later
            events.select(pl.all().null_count()).collect(engine="streaming")
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _bad_store_file(events_path, exc) from exc
    return Frames(events, lazy["steps"], lazy["modified_properties"], details), manifest


def side_frames(store: Path) -> tuple[dict[str, pl.LazyFrame], pl.LazyFrame | None]:
    """A store's steps and modified properties (by frame name) and its step details (None:
    a store written before they were kept), scanned lazily."""
    lazy = {
        name: conformed(pl.scan_parquet(store / f"{name}.parquet"), schema)
        for name, schema in FRAME_SCHEMAS.items() if name != "events"
    }
    details_path = store / DETAILS_FILE
    details = (
        conformed(pl.scan_parquet(details_path), DETAIL_ROWS_SCHEMA)
        if details_path.exists() else None
    )
    return lazy, details


def _bad_store_file(path: Path, exc: Exception) -> InputError:
    return InputError(str(path), f"is not a readable store file ({shown(exc, 160)}); run ingest "
                      "again")


def read_manifest(store: Path) -> dict:
    """The manifest of a store, checked: a JSON object whose problems are well formed."""
    path = store / STORE_MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError, RecursionError) as exc:
        raise InputError(str(path), f"is not a readable store manifest ({shown(exc, 160)}); "
                         "run ingest again") from exc
    problems = manifest.get("problems", []) if isinstance(manifest, dict) else None
    newest_first = manifest.get(NEWEST_FIRST, []) if isinstance(manifest, dict) else None
    fields = {"file", "location", "message"}
    if not isinstance(problems, list) or not all(
        isinstance(p, dict) and set(p) == fields and all(isinstance(v, str) for v in p.values())
        for p in problems
    ) or not isinstance(newest_first, list) or not all(isinstance(f, str) for f in newest_first):
        raise InputError(str(path), "is not a store manifest written by loganalyzer (expected "
                         "an object with a list of problems); run ingest again")
    return manifest


# The manifest's list of input files that run newest first (``file_order``), for `why`
NEWEST_FIRST = "newest_first"


def check_store(store: Path) -> None:
    """Every Parquet file of a store is there, readable, and has the canonical columns."""
    for name, schema in FRAME_SCHEMAS.items():
        path = store / f"{name}.parquet"
        try:
            found = pl.read_parquet_schema(path)
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise _bad_store_file(path, exc) from exc
        missing = [column for column in schema if column not in found
                   and not (name == "events" and column in SKIP_CLASS_COLUMNS)]
        if missing:
            raise InputError(str(path), f"is not a store file written by loganalyzer (missing "
                             f"columns: {shown(', '.join(missing), 120)}); run ingest again")


def lacks_skip_classes(store: Path) -> bool:
    """A store written before events kept their skip class: ``read_store`` classifies its
    skips when it opens it (an unreadable file is ``check_store``'s error, not this)."""
    try:
        found = pl.read_parquet_schema(store / "events.parquet")
    except (OSError, pl.exceptions.PolarsError):
        return False
    return not set(SKIP_CLASS_COLUMNS) <= set(found)


DETAILS = "step_details"
DETAILS_FILE = f"{DETAILS}.parquet"


def _file_name(name: str) -> str:
    return f"{name}.parquet"


def _long_details(frames: Frames) -> pl.DataFrame:
    """A batch's step details one per row (``DETAIL_ROWS_SCHEMA``): what rules ask about,
    found in the store by a filtered scan instead of an explode, and the identifiers the
    index takes from details."""
    return conformed(step_details(frames.steps), DETAIL_ROWS_SCHEMA)


def _store_tables(frames: Frames, details: pl.DataFrame) -> dict[str, pa.Table]:
    """One batch as the store's files: the canonical frames plus their step details."""
    tables = {name: _arrow(getattr(frames, name)) for name in FRAME_SCHEMAS}
    return tables | {DETAILS: _arrow(details)}


def _arrow(frame: pl.DataFrame) -> pa.Table:
    """``frame`` for the Parquet writer: text as Polars holds it (string views, no copy; a
    copy of every string cost a third of the writes), except inside lists, which the writer
    cannot cut into pages as views."""
    views = frame.to_arrow(compat_level=pl.CompatLevel.newest())
    lists = [c for c, dtype in frame.schema.items() if isinstance(dtype, pl.List)]
    if not lists:
        return views
    import pyarrow as pa  # only writing a store needs pyarrow

    copied = frame.select(lists).to_arrow()
    return pa.table([copied[c] if c in lists else views[c] for c in frame.columns],
                    names=frame.columns)


def _check_target(store: Path) -> None:
    """Refuse to replace anything but an earlier store (or an empty folder)."""
    if store.exists() and not (is_store(store) or (store.is_dir() and not any(store.iterdir()))):
        raise InputError(str(store), "exists and is not a store; choose a new folder for -o")


def ingest_to_store(inputs: list[Path], store: Path, progress: Progress = _quiet,
                    people_copy: bool = True) -> dict:
    """Stream exports into a Parquet store without holding them in memory; return the manifest.
    ``people_copy``: write the store's ``people/`` (``people_copy``), which only `why` reads.

    The store is written into a hidden sibling folder and renamed into place at the end, so a
    failed or interrupted run never leaves a store that looks complete.
    """
    _check_target(store)
    store.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{store.name}.partial-", dir=store.parent))
    try:
        manifest = _write_store(inputs, partial, progress, people_copy)
        if store.exists():
            shutil.rmtree(store)
        partial.rename(store)
        return manifest
    finally:
        shutil.rmtree(partial, ignore_errors=True)


def _with_statistics(name: str) -> list[str]:
    """The Parquet columns of a frame that get statistics: all but its free text."""
    columns = []
    for column, dtype in {**FRAME_SCHEMAS, DETAILS: DETAIL_ROWS_SCHEMA}[name].items():
        if column not in FREE_TEXT[name]:
            columns.append(column)
        elif isinstance(dtype, pl.List):  # key/value details: the keys keep theirs
            columns.append(f"{column}.list.element.key")
    return columns


def _in_row_groups(batches: Iterator[Frames], events: int) -> Iterator[Frames]:
    """Normalised batches gathered to at least ``events`` events, each then written as one
    row group. DuckDB hands NDJSON over in chunks of about 5,600 records whatever is asked:
    a 5M store of such row groups scanned at twice the cost per event of one written in
    batches of 20,000, and gathering the raw records instead held 0.5 GB more."""
    pending: list[Frames] = []
    held = 0
    for frames in batches:
        pending.append(frames.collected())
        held += pending[-1].event_count()
        if held >= events:
            yield Frames.concat(pending)
            pending, held = [], 0
    if pending:
        yield Frames.concat(pending)


# Events per row group of ``events.parquet``, gathered from whole batches. A question over a
# month's events decodes the columns it names in every row group, and fewer, larger groups
# cost less. The 5M store diagnosed with its events scanned took 37.2-40.0 s in groups of
# about 22,000 events, 34.8-36.2 s in groups of about 44,000, and 34.4-36.2 s in groups of
# 100,000, with the same output. Holding five batches' events for the largest groups cost
# ingest 0.1-0.2 GB more at 1M; two batches cost nothing measurable (27.3-27.5 s, peak
# 1.49-1.53 GB, against 27.5-29.2 s and 1.51-1.52 GB).
EVENT_ROW_GROUP = 40_000
# LZ4, not zstd: a store takes 1.75x the disk (1M events: 359 MB against 206 MB), and every
# later read decodes faster (docs/performance.md, "The store's compression").
STORE_CODEC = "lz4"
# zstd for the people copy: `why` decodes a few of its row groups, in the same time as with LZ4
# (1M store: 0.03-0.09 s of CPU a file either way), and the copy takes 209 MB, not 352 MB
COPY_CODEC = "zstd"


class _StoreFiles:
    """The store's Parquet files, each opened with its first table: the steps in groups of
    ``STEP_ROW_GROUP`` rows (`why` reads a person's steps by row group), the events gathered
    to ``EVENT_ROW_GROUP``, the rest a group per batch. ``copy``: the files of
    ``people_copy`` instead, in its row groups, with statistics on the person and row only."""

    def __init__(self, store: Path, copy: bool = False) -> None:
        self.store = store
        self.copy = copy
        self.writers: dict[str, pq.ParquetWriter] = {}
        self.counts = dict.fromkeys(FRAME_SCHEMAS, 0)
        self._events: list[pa.Table] = []

    def write(self, name: str, table: pa.Table) -> None:
        if name == "events" and not self.copy:
            self._events.append(table)
            if sum(t.num_rows for t in self._events) < EVENT_ROW_GROUP:
                return
            table, self._events = _concat(self._events), []
        self._write(name, table)

    def close(self) -> None:
        """Write the events still gathered and close every file."""
        try:
            if self._events:
                self._write("events", _concat(self._events))
        finally:
            for writer in self.writers.values():
                writer.close()

    def _write(self, name: str, table: pa.Table) -> None:
        import pyarrow.parquet as pq  # only writing a store needs pyarrow

        if name not in self.writers:
            self.store.mkdir(exist_ok=True)
            self.writers[name] = pq.ParquetWriter(
                self.store / _file_name(name), table.schema,
                compression=COPY_CODEC if self.copy else STORE_CODEC,
                write_statistics=[PERSON, ROW] if self.copy else _with_statistics(name),
            )
        group = (ROW_GROUPS[name] if self.copy else STEP_ROW_GROUP if name == "steps"
                 else None)
        self.writers[name].write_table(table, row_group_size=group)
        if name in self.counts:
            self.counts[name] += table.num_rows


def _with_manifest(store: Path, read_log: ReadLog, dedupe: Deduper) -> Iterator[Frames]:
    """A store's frames a batch at a time without the events read before, with what its
    ``ingest`` noted and could not read kept in the new store's manifest: adding a week to a
    store keeps what was said of the weeks before, and which files they came from."""
    manifest = read_manifest(store)
    check_store(store)
    read_log.problems.extend(Problem(**p) for p in manifest.get("problems", []))
    read_log.notes.extend(manifest.get("notes", []))
    read_log.add_store_files(manifest)
    dedupe.store(store / "events.parquet")
    for frames in _store_batches(store):
        yield dedupe.frames(frames)


# The files of a store written again from its events' batches (step details are made anew
# from the steps, as for an export's batch)
_BY_EVENT = ("steps", "modified_properties")


def _store_batches(store: Path) -> Iterator[Frames]:
    """A store's frames ``BATCH_ROWS`` events at a time, each event with its steps and
    properties: read whole to be written into a new store, a 500k-event store added to a 1M
    export held 3.5 GB."""
    events = pl.scan_parquet(store / "events.parquet")
    by_event = {name: pl.scan_parquet(store / _file_name(name)) for name in _BY_EVENT}
    spans = {name: _batch_spans(events, rows, store / _file_name(name))
             for name, rows in by_event.items()}
    older = lacks_skip_classes(store)
    for batch, at in enumerate(range(0, events.select(pl.len()).collect().item(), BATCH_ROWS)):
        read = _read_store_file(events.slice(at, BATCH_ROWS), store / "events.parquet")
        theirs = pl.col("event_id").is_in(read["event_id"].implode())
        steps, properties = (
            conformed(_read_store_file(_span(rows, spans[name].get(batch)).filter(theirs),
                                       store / _file_name(name)), FRAME_SCHEMAS[name])
            for name, rows in by_event.items()
        )
        if older:  # a skip's class depends on its own steps only: a batch's are enough
            read = with_skip_classes(read, step_details(steps))
        yield Frames(conformed(read, EVENTS_SCHEMA), steps, properties)


def _batch_spans(events: pl.LazyFrame, rows: pl.LazyFrame, path: Path
                 ) -> dict[int, tuple[int, int]]:
    """Per batch of ``BATCH_ROWS`` events, the first and last row of ``rows`` (a file of
    rows by event) that hold its events. Ingest writes every file in event order, so this is
    the batch's own run of rows, read as a slice (1M events: 0.8 s for all the steps)
    instead of a scan of the whole file for each batch. Joined on the ids' hashes (1M: 190
    MB and 3.6 s for both files, against 350 MB and 10.8 s on the ids): a hash two events
    share only widens a run, whose rows are then kept by their own event id."""
    batches = events.select(_hashed_id()).with_row_index("_batch").with_columns(
        pl.col("_batch") // BATCH_ROWS)
    runs = _read_store_file(
        rows.select(_hashed_id()).with_row_index("_row").join(batches, on="_id")
        .group_by("_batch").agg(pl.col("_row").min().alias("_first"),
                                pl.col("_row").max().alias("_last")),
        path, engine="streaming")
    return {batch: (first, last) for batch, first, last in runs.iter_rows()}


def _hashed_id() -> pl.Expr:
    return pl.col("event_id").hash().alias("_id")


def _span(rows: pl.LazyFrame, span: tuple[int, int] | None) -> pl.LazyFrame:
    """The rows from the first to the last of ``span`` (none when the batch has none)."""
    first, last = span or (0, -1)
    return rows.slice(first, last - first + 1)


def _read_store_file(rows: pl.LazyFrame, path: Path, engine: str = "auto") -> pl.DataFrame:
    """``rows`` of a store file read; a damaged file is ``read_store``'s error."""
    try:
        return rows.collect(engine=engine)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _bad_store_file(path, exc) from exc


def _concat(tables: list[pa.Table]) -> pa.Table:
    import pyarrow as pa

    return pa.concat_tables(tables)


def _write_store(inputs: list[Path], store: Path, progress: Progress,
                 people_copy: bool = True) -> dict:
    read_log = ReadLog()
    dedupe = Deduper()
    files = _StoreFiles(store)
    copy_files = _StoreFiles(store / PEOPLE_DIR, copy=True)
    people = PeopleCopy() if people_copy else None  # the rows by person, for `why`
    index = IndexWriter(store)  # who and which cycles it holds, for `why` (store_index)
    ends = FileEnds()  # which way each file runs, for `why` (file_order)
    try:
        with tempfile.TemporaryDirectory(prefix="loganalyzer-") as tmp:
            batches, stores = _normalized_batches(inputs, read_log, Path(tmp), progress, dedupe)
            loaded = itertools.chain.from_iterable(
                _with_manifest(s, read_log, dedupe) for s in stores)

            def tables() -> Iterator[tuple[dict[str, pa.Table], dict[str, pl.DataFrame]]]:
                for frames in _in_row_groups(itertools.chain(loaded, batches), BATCH_ROWS):
                    details = _long_details(frames)
                    index.add(frames, details)
                    ends.add(frames.events)
                    yield (_store_tables(frames, details),
                           people.sorted(frames, details) if people else {})

            # a batch is written while the next one is normalised (Arrow's writer releases
            # the GIL): three stages on two cores, parse, normalise, write
            for batch, copy in prefetch(tables()):
                for name, table in batch.items():
                    files.write(name, table)
                for name, frame in copy.items():
                    copy_files.write(name, _arrow(frame))
    finally:
        try:
            files.close()
        finally:
            copy_files.close()
    counts, writers = files.counts, files.writers
    for name, schema in {**FRAME_SCHEMAS, DETAILS: DETAIL_ROWS_SCHEMA}.items():
        if name not in writers:  # an input with no steps still gets a readable (empty) file
            pl.DataFrame(schema=schema).write_parquet(store / _file_name(name))
    if counts["events"] == 0:
        _require_events(inputs, [], read_log)
    index.write(store)
    manifest = {
        "tool_version": __version__,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "inputs": [str(i) for i in inputs],
        "kinds": read_log.kinds,
        "counts": counts,
        "duplicates_dropped": dedupe.duplicates,
        "problems": [p.__dict__ for p in across_cuts(read_log.settled_problems(), ends,
                                                     dedupe.seen)],
        "notes": read_log.settled_notes(),
        NEWEST_FIRST: ends.newest_first(),
    }
    if fetched := fetched_windows(inputs):  # --since on the store counts back from the end
        manifest[FETCHED_WINDOWS] = [[start.isoformat(), end.isoformat()]
                                     for start, end in fetched]
    (store / STORE_MANIFEST).write_text(json.dumps(manifest, indent=2))
    return manifest
