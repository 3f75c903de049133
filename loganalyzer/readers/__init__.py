"""Readers: one module per source format. Only readers know raw shapes.

Every reader yields batches of ``schema.RAW_SCHEMA`` rows (Graph-shaped records) and reports
records it could not use as ``Problem``s, and file-level remarks and fields it left out of a
kept record (``Ignored``) as notes: only skipped records count as problems.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import tempfile
import threading
from collections import Counter
from collections.abc import Generator, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePath
from typing import TYPE_CHECKING, TypeVar

import polars as pl

from loganalyzer.graph.state import RUN_STATE_NAME
from loganalyzer.problems import Ignored, InputError, KeptEventsNote, Problem, skipped_note
from loganalyzer.readers import csv_logs, log_analytics, other_logs
from loganalyzer.readers.csv_portal import PortalReader
from loganalyzer.readers.cut_arrays import closed_prefix
from loganalyzer.readers.json_careful import EVENT_KEY, Resume, read_careful
from loganalyzer.readers.on_demand import read_on_demand
from loganalyzer.readers.other_logs import OtherLog
from loganalyzer.readers.records import DEPTH_CUT, Item, records_to_frame
from loganalyzer.readers.sniff import Kind, kind_label, sniff
from loganalyzer.readers.sources import Source
from loganalyzer.textsafe import shown
from loganalyzer.wording import plural

if TYPE_CHECKING:
    from loganalyzer.readers.csv_columnar import Read
    from loganalyzer.readers.csv_downloads import Download

log = logging.getLogger(__name__)

R = TypeVar("R")
BATCH_ROWS = 20_000
IGNORED_SHOWN = 20  # per file: a file whose every record has the same fault says so 20 times


@dataclass
class ReadLog:
    """What reading said besides the records: skipped records, remarks, kinds seen."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # source name -> Kind value
    ignored: Counter[str] = field(default_factory=Counter)  # file -> fields left out
    depth_cut: set[str] = field(default_factory=set)  # files re-saved by ConvertTo-Json
    other_logs: Counter[str] = field(default_factory=Counter)  # log -> records skipped
    kept_files: set[str] = field(default_factory=set)  # files with an event kept (not a repeat)
    graph_pages: dict[str, tuple[int, int]] = field(default_factory=dict)  # file -> pages, links

    def add_store_files(self, manifest: dict) -> None:
        """The files a store given as input holds, with their kinds, listed before the files
        given with it: a store appended to week by week still names every week's file."""
        held = {**manifest.get("kinds", {}), **self.kinds}
        self.kinds.clear()
        self.kinds.update(held)

    def settled_notes(self) -> list[str]:
        """The notes, once every event is read: each once (a store and the export it was
        made from say the same), without a ``KeptEventsNote`` on a file none of whose events
        was kept."""
        return list(dict.fromkeys(
            note for note in self.notes
            if not isinstance(note, KeptEventsNote) or note.file in self.kept_files))

    def settled_problems(self) -> list[Problem]:
        """The records that could not be read, each once (a store's manifest and the export
        it was made from name the same ones)."""
        return list(dict.fromkeys(self.problems))

    def add_ignored(self, item: Ignored) -> None:
        """A note per ignored field, up to IGNORED_SHOWN per file; the rest are counted."""
        self.ignored[item.file] += 1
        if self.ignored[item.file] <= IGNORED_SHOWN:
            self.notes.append(str(item))
        if DEPTH_CUT in item.message:
            self.depth_cut.add(item.file)

    def count_unshown_ignored(self) -> None:
        """The counts of the notes not shown, and, once per file, how to export again a file
        whose objects PowerShell wrote as text."""
        for file, count in self.ignored.items():
            if count > IGNORED_SHOWN:
                self.notes.append(
                    f"{file}: {plural(count - IGNORED_SHOWN, 'more field')} of the wrong type "
                    f"ignored ({count} in all); their records are kept"
                )
        self.notes[:0] = [  # first: it explains the notes on that file's fields
            f"{file}: was saved by PowerShell's ConvertTo-Json, which writes objects nested "
            "deeper than its -Depth (2 unless given) as text, so their steps, details or "
            "error information are lost; save it again with ConvertTo-Json -Depth 10, or "
            "use the portal's own download"
            for file in sorted(self.depth_cut)
        ]


def _batched(
    items: Generator[Item, None, R] | Iterator[Item], read_log: ReadLog
) -> Generator[pl.DataFrame, None, R | None]:
    """Rows in frames of BATCH_ROWS; problems and notes to ``read_log``; returns what
    ``items`` returned."""
    rows: list[dict] = []
    while True:
        try:
            item = next(items)
        except StopIteration as stop:
            result = stop.value
            break
        if isinstance(item, Problem):
            read_log.problems.append(item)
            continue
        if isinstance(item, OtherLog):
            read_log.other_logs[item.log] += 1
            continue
        if isinstance(item, Ignored):
            read_log.add_ignored(item)
            continue
        rows.append(item)
        if len(rows) >= BATCH_ROWS:
            yield records_to_frame(rows)
            rows = []
    if rows:
        yield records_to_frame(rows)
    return result


def _is_envelope_lines(source: Source) -> bool:
    head = source.head(4096).decode("utf-8", errors="ignore")
    return '"properties"' in head and '"category"' in head


MAX_HAND_BACKS = 4  # damaged places after which the careful reader reads to the end


# the diagnostic-settings spelling (formats reference 3.1): capitalised keys, numbered enums;
# the Graph PowerShell SDK's objects (``spelling.sdk_object``) have them too, and go with it
# to the careful reader
_DIAGNOSTIC_SPELLING = re.compile(r'"(Id|Name|Status|Type)"\s*:')


def _is_diagnostic_spelling(source: Source) -> bool:
    return bool(_DIAGNOSTIC_SPELLING.search(source.head(65536).decode("utf-8", errors="ignore")))


def _read_json(source: Source, kind: Kind, read_log: ReadLog) -> Iterator[pl.DataFrame]:
    """Fast reader first; on a refusal, the careful reader continues after what was read, and
    once past the damage hands the rest back to the fast reader, so one bad record costs about
    what a good file costs.

    The fast reader matches keys case-sensitively: envelopes in the diagnostic-settings
    spelling get their own columns, and that spelling anywhere else goes to the careful reader,
    which folds every spelling.

    A Graph page's ``value`` and ``@odata.nextLink`` keys are counted in the pass that counts
    its events (``missing_last_page_notes``): a multi-GB file is not read once more for them."""
    envelope, diagnostic = _is_envelope_lines(source), _is_diagnostic_spelling(source)
    pages = kind in _PAGE_KINDS and not _fetched(source)
    if kind in (Kind.JSON_OBJECT, Kind.EVENT_HUB) or (diagnostic and not envelope):
        yield from _batched(read_careful(source, kind), read_log)
        if pages:  # no count pass was made
            _count_pages(source, read_log)
        return
    from loganalyzer.readers import json_fast  # DuckDB loads only when JSON is read

    part, start = source, Resume(0, 0, 1)  # the part of the file still to read, where it starts
    prefix = None
    try:
        # a cut file's whole records, for the fast reader (a page holding envelopes is left
        # to be read as a page)
        prefix = closed_prefix(source, kind) if not (envelope and kind in _PAGE_KINDS) else None
        for rounds in range(MAX_HAND_BACKS + 1):
            read = 0
            fast, fast_kind = (prefix.source, prefix.kind) if prefix else (part, kind)
            # the whole file's pages are counted in the same pass as its events (a cut one's
            # in a pass of their own: the copy of its records lacks the rest, or the page)
            if prefix:
                keys = (_EVENT_BYTES, *prefix.counted)
            else:
                keys = (_EVENT_BYTES, *_PAGE_KEYS) if pages and part is source else (_EVENT_BYTES,)
            count = _KeyCount(fast, keys)
            try:
                for batch in json_fast.read_fast(fast, fast_kind, envelope, BATCH_ROWS,
                                                 diagnostic, start.records):
                    read += batch.height
                    yield batch
                events, *counted = count.result()
                if counted and not prefix:
                    read_log.graph_pages[source.name] = _pages_and_links(counted)
                    pages = False
                before = prefix.records_before(read, counted) if prefix else None
                if events > read:
                    # valid JSON holding more events than it yielded: a lost bracket nested
                    # some
                    log.info("%s holds events nested in others; reading them one by one",
                             source.name)
                elif before is not None:  # the cut record is the careful reader's, read next
                    part = _rest(source, kind, prefix.rest.byte)
                    start, read = replace(prefix.rest, records=before), 0
                elif not prefix:
                    return
                else:
                    log.info("%s: which page is cut is not known for sure (its pages do not "
                             "all open alike); reading it record by record", source.name)
            except json_fast.REFUSALS as exc:
                log.info("fast JSON reader refused %s (%s); reading record by record",
                         source.name, exc)
            finally:
                count.stop()
                if prefix:
                    prefix.source.path.unlink()
                    prefix = None
            if pages:  # refused before its count ended, or cut
                _count_pages(source, read_log)
                pages = False
            # the careful reader numbers a pages array's pages, and passes the events the fast
            # reader gave of them
            given = read if kind is Kind.GRAPH_PAGES_ARRAY else start.records + read
            careful = read_careful(part, kind, given, rounds < MAX_HAND_BACKS, start)
            resume = yield from _batched(careful, read_log)
            if resume is None:
                return
            rest = _rest(part, kind, resume.byte)
            if part is not source:
                part.path.unlink()
            part, start = rest, resume
    finally:
        if prefix:
            prefix.source.path.unlink(missing_ok=True)
        if part is not source:
            part.path.unlink(missing_ok=True)


def _rest(source: Source, kind: Kind, byte: int) -> Source:
    """The file from ``byte`` on, as a file of the same kind (an array gets its '[' back)."""
    out = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by the with below)
        "wb", suffix=".json", delete=False)
    try:
        with out, source.open_binary() as handle:
            if kind is not Kind.NDJSON:
                out.write(b"[")
            while byte > 0 and (skipped := handle.read(min(byte, 1 << 22))):
                byte -= len(skipped)
            shutil.copyfileobj(handle, out, 1 << 22)
    except BaseException:  # a full temp folder, SIGTERM: leave no part of the copy
        Path(out.name).unlink()
        raise
    return Source(source.name, Path(out.name), in_folder=source.in_folder)


class _KeyCount:
    """How many times a file holds each of ``keys``, counted in a thread while DuckDB parses
    the file (a .gz is counted afterwards: decompressing it notes its damage, which the
    readers report)."""

    def __init__(self, source: Source, keys: tuple[bytes, ...]) -> None:
        self.source, self.keys = source, keys
        self.stopped = threading.Event()
        self.counted: list[list[int] | BaseException] = []
        self.thread: threading.Thread | None = None
        if not source.gzip:
            self.thread = threading.Thread(target=self._count, name="count-events", daemon=True)
            self.thread.start()

    def _count(self) -> None:
        try:
            self.counted.append(_count_keys(self.source, self.keys, self.stopped))
        except BaseException as exc:  # raised by result(), in the reading thread
            self.counted.append(exc)

    def result(self) -> list[int]:
        if self.thread is None:
            return _count_keys(self.source, self.keys)
        self.thread.join()
        if isinstance(self.counted[0], BaseException):
            raise self.counted[0]
        return self.counted[0]

    def stop(self) -> None:
        """Stop counting (the fast reader refused the file) and wait for the thread."""
        self.stopped.set()
        if self.thread is not None:
            self.thread.join()


_EVENT_BYTES = EVENT_KEY.encode()


def _count_events(source: Source, stopped: threading.Event | None = None) -> int:
    """How many event keys the file holds: to check the fast reader missed none."""
    return _count_keys(source, (_EVENT_BYTES,), stopped)[0]


def _count_keys(source: Source, keys: tuple[bytes, ...],
                stopped: threading.Event | None = None) -> list[int]:
    """How many times the file holds each of ``keys`` (a key inside a string value is
    escaped, so never counted): one pass at memory speed."""
    held_max = max(map(len, keys)) - 1  # a key cut by a block's end is counted in the next
    block = bytearray(held_max + (1 << 22))  # read into, not allocated per chunk
    view = memoryview(block)
    counts, held = [0] * len(keys), 0
    with source.open_binary() as handle:
        while (read := handle.readinto(view[held:])) and not (stopped and stopped.is_set()):
            end = held + read
            for index, key in enumerate(keys):
                # a key partly in the held bytes was not whole in the last block
                counts[index] += block.count(key, max(0, held - len(key) + 1), end)
            held = min(held_max, end)
            block[:held] = block[end - held:end]
    return counts


_PAGE_KINDS = (Kind.GRAPH_PAGE, Kind.GRAPH_PAGES_ARRAY)
# a page's key, a nextLink, and a nextLink a script wrote as null on its last page (compact,
# Python's json and PowerShell 7, Windows PowerShell's ConvertTo-Json)
_PAGE_KEYS = (b'"value"', b'"@odata.nextLink"', b'"@odata.nextLink":null',
              b'"@odata.nextLink": null', b'"@odata.nextLink":  null')


def _pages_and_links(counts: list[int]) -> tuple[int, int]:
    """How many pages and how many real nextLinks, from the counts of ``_PAGE_KEYS``."""
    pages, keys, *nulls = counts
    return pages, keys - sum(nulls)


def _fetched(source: Source) -> bool:
    """A page ``--graph`` fetched: its folder's fetch state says whether the pull ended
    (``sources.expand`` notes an unfinished one), so its nextLinks are not counted."""
    return (source.path.parent / RUN_STATE_NAME).exists()


def _count_pages(source: Source, read_log: ReadLog) -> None:
    """How many Graph pages the file holds and how many of them name a next page, in a pass
    of its own: for a file the careful reader read (the fast reader's count pass counts
    them with its events)."""
    read_log.graph_pages[source.name] = _pages_and_links(_count_keys(source, _PAGE_KEYS))


def missing_last_page_notes(pages: dict[str, tuple[int, int]]) -> list[str]:
    """Graph marks the last page of a pull by leaving out ``@odata.nextLink``; when every page
    of a folder has one, the pages after them were never saved (one page saved from Graph
    Explorer, a script stopped by throttling) and their events are missing from every output.
    A folder is taken for one pull, as a script saves one: a complete pull in another folder
    does not hide a cut one."""
    pulls: dict[str, dict[str, tuple[int, int]]] = {}
    for file, counts in pages.items():
        pulls.setdefault(str(PurePath(file).parent), {})[file] = counts
    return [note for pull in pulls.values() if (note := _missing_last_page(pull))]


def _missing_last_page(pages: dict[str, tuple[int, int]]) -> str | None:
    """The note on one pull's pages (``missing_last_page_notes``), None when it is whole."""
    counted = sum(count for count, _ in pages.values())
    if not counted or sum(links for _, links in pages.values()) < counted:
        return None
    files = [file for file, (_, links) in pages.items() if links]
    named = ", ".join(files[:3]) + (f" and {plural(len(files) - 3, 'more file')}"
                                    if len(files) > 3 else "")
    return (f"{named}: every Graph page given has an @odata.nextLink, so the pull's last page "
            "(the one without a nextLink) was not given: the events of the pages after it are "
            "missing; save every page (follow @odata.nextLink until a page has none), or fetch "
            "with --graph")


def _whole_json(source: Source) -> dict:
    """A Provision-on-demand answer: one small JSON document."""
    with source.open_binary() as handle:
        data = handle.read()
    try:
        return json.loads(data.decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # not UTF-8, malformed, or nested too deep
        raise InputError(source.name, f"is not a readable JSON document ({shown(exc)})") from exc


def _read_csv(sources: list[Source], read_log: ReadLog) -> Iterator[pl.DataFrame]:
    """Log Analytics files one by one, row by row; then portal downloads one at a time, each
    column-wise or, when that reader refuses it, row by row. Files given twice are read once;
    events repeated across downloads are left to ingest's de-duplication."""
    # pyarrow: every command would pay its import
    from loganalyzer.readers import csv_columnar, csv_downloads

    files = csv_logs.classify(sources, read_log.notes)
    downloads = csv_downloads.pair(files.portal, read_log.notes) if files.portal else []
    groups = [[t.source] for t in files.log_analytics]
    groups += [[f.table.source for f in d.files] for d in downloads]
    copies = csv_downloads.copies(groups, read_log.notes)
    for index, table in enumerate(files.log_analytics):
        if index not in copies:
            yield from _batched(csv_logs.log_analytics_rows(table, read_log.notes), read_log)
    first = len(files.log_analytics)
    kept = [d for index, d in enumerate(downloads, start=first) if index not in copies]
    for download in kept:
        read = csv_columnar.read_or_refuse(download, BATCH_ROWS)
        yield from _download_batches(download, read, read_log)


def _download_batches(download: Download, read: Read,
                      read_log: ReadLog) -> Iterator[pl.DataFrame]:
    """A download's columnar batches, or, when that reader refused it, its rows read one by
    one (the careful reader says which rows are bad and where, and keeps the good ones)."""
    if not isinstance(read, tuple):
        log.info("columnar CSV reader refused (%s); reading row by row", read)
        yield from _batched(PortalReader(download.files, read_log.notes).read(), read_log)
        return
    batches, notes = read
    read_log.notes.extend(notes)
    yield from batches


def read_sources(sources: list[Source], read_log: ReadLog) -> Iterator[pl.DataFrame]:
    """Read every source, whatever its kind, as RAW_SCHEMA batches."""
    csv_sources: list[Source] = []
    for source in sources:
        try:
            kind = sniff(source)
            read_log.kinds[source.name] = kind_label(source, kind)
            if kind is Kind.CSV:
                csv_sources.append(source)
            elif kind is Kind.LOG_ANALYTICS_JSON:
                yield from _batched(log_analytics.read_json(source), read_log)
            elif kind is Kind.ON_DEMAND:
                yield from _batched(read_on_demand(source, _whole_json(source)), read_log)
            else:
                yield from _read_json(source, kind, read_log)
        except InputError as exc:
            if not source.in_folder:
                raise
            # a folder may hold other files (a job status, a manifest): say so, read the rest
            read_log.kinds.pop(source.name, None)
            read_log.notes.append(skipped_note(source.name, exc.message))
        _note_damage(source, read_log)
    if csv_sources:
        yield from _read_csv(csv_sources, read_log)
        for source in csv_sources:
            kind_name = csv_logs.describe(source)
            if kind_name:
                read_log.kinds[source.name] = kind_name
            else:  # skipped, with a note: not an input
                read_log.kinds.pop(source.name)
            _note_damage(source, read_log)
    read_log.count_unshown_ignored()
    read_log.notes.extend(missing_last_page_notes(read_log.graph_pages))
    if read_log.other_logs:
        read_log.notes.append(other_logs.skipped_note(read_log.other_logs))


def _note_damage(source: Source, read_log: ReadLog) -> None:
    """What was wrong with a .gz (met while reading it), once per file."""
    for message in source.damage:
        note = f"{source.name}: {message}"
        if note not in read_log.notes:
            read_log.notes.append(note)


__all__ = ["InputError", "ReadLog", "read_sources"]
