"""A JSON array cut off inside a record, as an interrupted download leaves it: a portal
array, a Graph page's ``value`` or an array of Graph pages.

The fast reader cannot read such a file, and reading all of it record by record took ten
times as long per event as a whole file. So its whole records are copied, closed, for the
fast reader, and only what follows the last of them is left to the careful reader, which
names the cut as it would have in the whole file: the copy ends at the last place a record
starts the way the file's first one does, and DuckDB refuses the copy if that place was
inside a record (the caller then reads the file carefully, as before).

A page's events are copied as a bare array (closed with ']'): DuckDB reads a page as one
object of at most 16 MB, so a page a script wrote with all its events in ``value`` would
not be read fast even whole. Pages one per line are copied as they are, closed with ']}'. In
an array of pages the record is a page: the whole pages are copied, closed with ']', and the
cut page is the careful reader's, which skips it whole as it would in the whole file.
"""

from __future__ import annotations

import codecs
import contextlib
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from loganalyzer.readers.json_careful import MAX_RECORD, PAGE_GAP, Resume
from loganalyzer.readers.other_logs import page_log
from loganalyzer.readers.sniff import Kind
from loganalyzer.readers.sources import Source

_BLOCK = 1 << 22
_KEY = rb'"(?:[^"\\]|\\.){1,64}"'
# the array's '[', then how its first record opens: the space before '{', and '{' to the key
_OPENING = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\[(\s*)(\{\s*' + _KEY + rb')')
# a page: '{', its annotations before 'value' (@odata.context, @odata.nextLink), 'value': '['
# and how its first event opens; the careful reader reads the same first 'value' array
_ANNOTATION = rb'"@odata\.[\w.]+"\s*:\s*(?:"(?:[^"\\]|\\.)*"|null|-?\d+)\s*,\s*'
_PAGE_OPENING = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\{\s*((?:' + _ANNOTATION + rb')*)'
                           rb'"value"\s*:\s*\[(\s*)(\{\s*' + _KEY + rb')')
_CONTEXT = re.compile(rb'"@odata\.context"\s*:\s*("(?:[^"\\]|\\.)*")')
# how a whole page ends: its 'value' array's ']', what followed it (@odata.nextLink), '}'
_SCALAR = rb'(?:"(?:[^"\\]|\\.)*"|null|true|false|-?\d[\d.eE+-]*)'
_PAGE_END = re.compile(rb'\]\s*(?:,\s*"(?:[^"\\]|\\.)*"\s*:\s*' + _SCALAR + rb'\s*)*\}\Z')
# how a page of a pages array opens, counted in the copy to number the cut page: '{' and
# its first key (an annotation, or 'value' with its '[': no event holds an object so)
_PAGES_OPENING = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\[\s*'
                            rb'(\{\s*(?:"@odata\.[\w.]+"\s*:|"value"\s*:\s*\[))')
_VALUE_KEY = b'"value"'
_VALUE_OPENS = re.compile(rb'"value"\s*:\s*\[')


@dataclass(frozen=True)
class Prefix:
    """The file's whole records, closed (``source``, a temporary file, read as ``kind``), and
    where the rest of the file starts (``rest``; its ``records`` are the caller's to fill in,
    by ``records_before``). ``counted``: the keys the caller counts in the copy for that."""

    source: Source
    rest: Resume
    kind: Kind = Kind.JSON_ARRAY
    counted: tuple[bytes, ...] = ()

    def records_before(self, events: int, counts: list[int]) -> int | None:
        """The records before the rest, from the events the copy held and the counts of
        ``counted`` in it: an array of pages numbers its pages, counted by how they open,
        which must be as many as their 'value' keys (None: they are not, so which page the
        cut one is is not known: the caller reads the file carefully)."""
        if not self.counted:
            return events
        openings, values = counts
        return openings if openings == values else None


@dataclass(frozen=True)
class _Layout:
    """Where a file's records are and how the copy of them is written: ``lead``, the file's
    bytes from ``start`` to the comma before its last record start, then ``closing``; the
    copy is read as ``kind``, and ``counted`` counted in it (``Prefix``). A record starts as
    the first one does: ``indent`` before it, then ``key``, its '{' and first key."""

    indent: bytes
    key: bytes
    start: int
    lead: bytes
    closing: bytes
    kind: Kind
    counted: tuple[bytes, ...] = ()


def closed_prefix(source: Source, kind: Kind) -> Prefix | None:
    """The records before the last record start of an array that does not end as a whole
    file of its kind does (or of a Graph page too large for DuckDB to read whole); None for
    a file that is whole, compressed or not an array of events or pages or a Graph page of
    provisioning events, or whose last record start is not found near its end."""
    if source.gzip:
        return None
    layout = _layout(source, kind)
    if layout is None:
        return None
    found = _last_record_start(source.path, layout.indent, layout.key)
    if found is None or found[0] < layout.start:
        return None
    comma, rest = found
    out = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by the with below)
        "wb", buffering=0, suffix=".json", delete=False)
    try:  # closed before it is removed: Windows cannot remove an open file
        with out, open(source.path, "rb") as handle:
            out.write(layout.lead)
            handle.seek(layout.start)
            _copy(handle, out, comma - layout.start)
            out.write(layout.closing)
        line, column = _line_and_column(source.path, comma)
    except OSError:  # a full temp folder: read the file carefully, as without the copy
        Path(out.name).unlink()
        return None
    except BaseException:  # SIGTERM, Ctrl-C: leave no copy behind
        Path(out.name).unlink()
        raise
    # the rest is '[' and what follows it: the '[' stands for the byte before it (the comma,
    # or a space after it), on the comma's line
    resume = Resume(0, rest, line, column + rest - 1 - comma)
    return Prefix(Source(source.name, Path(out.name), in_folder=source.in_folder), resume,
                  layout.kind, layout.counted)


def _layout(source: Source, kind: Kind) -> _Layout | None:
    """Where ``source``'s records are, for a file of ``kind`` that is cut (None: not cut, or
    not known where)."""
    head = source.head()
    if kind is Kind.JSON_ARRAY or kind is Kind.GRAPH_PAGES_ARRAY:
        opening = _OPENING.match(head)
        if opening is None or _tail(source.path).endswith(b"]"):
            return None
        if kind is Kind.JSON_ARRAY:
            return _Layout(*opening.groups(), 0, b"", b"]", kind)
        page = _PAGES_OPENING.match(head)
        if page is None:
            return None
        return _Layout(*opening.groups(), 0, b"", b"]", kind, (page.group(1), _VALUE_KEY))
    if kind is not Kind.GRAPH_PAGE:
        return None
    opening = _PAGE_OPENING.match(head)
    if opening is None or _other_log(opening.group(1)):
        return None
    whole = _PAGE_END.search(_tail(source.path)) is not None
    if whole and source.path.stat().st_size <= MAX_RECORD:
        return None  # DuckDB reads it as it is
    indent, key = opening.group(2), opening.group(3)
    if _pages_after_the_first(source.path, opening.end()):  # each of at most 16 MB
        return None if whole else _Layout(indent, key, 0, b"", b"]}", Kind.GRAPH_PAGE)
    # one page, cut, or whole but too large for DuckDB to read as one object: its events
    return _Layout(indent, key, opening.start(2), b"[", b"]", Kind.JSON_ARRAY)


def _tail(path: Path) -> bytes:
    """The file's last bytes, whitespace after them left out."""
    with open(path, "rb") as handle:
        handle.seek(max(0, handle.seek(0, 2) - 4096))
        return handle.read().rstrip()


def _other_log(annotations: bytes) -> bool:
    """The page's @odata.context names another log than provisioning: the careful reader
    judges its events by their shape (``other_logs``)."""
    context = _CONTEXT.search(annotations)
    if context is None:
        return False
    try:
        return page_log(json.loads(context.group(1))) is not None
    except ValueError:
        return True


def _pages_after_the_first(path: Path, first: int) -> bool:
    """Another page's 'value' opens in the file's last 16 MB (and the gap between two pages):
    the file holds several pages, one after another (one per line, say)."""
    with open(path, "rb") as handle:
        handle.seek(max(first, handle.seek(0, 2) - MAX_RECORD - PAGE_GAP))
        return _VALUE_OPENS.search(handle.read()) is not None


def _last_record_start(path: Path, indent: bytes, key: bytes) -> tuple[int, int] | None:
    """The offset of the comma before the last record start within the last 2 x MAX_RECORD
    bytes (a record is at most that long), and where the rest starts: as the first record
    does after '[', with ``indent`` before its '{', so the careful reader knows records as it
    would in the whole file. None: no such start but the first record's."""
    starts = re.compile(rb",(\s*)" + re.escape(key))
    with open(path, "rb") as handle:
        size = handle.seek(0, 2)
        window = 1 << 20
        while True:
            begin = max(0, size - window)
            handle.seek(begin)
            last = None
            for last in starts.finditer(handle.read()):  # noqa: B007 (the last one is wanted)
                pass
            if last is not None:
                return _rest_start(last, begin, indent)
            if begin == 0 or window >= 2 * MAX_RECORD:
                return None
            window = min(4 * window, 2 * MAX_RECORD)


def _rest_start(start: re.Match[bytes], begin: int, indent: bytes) -> tuple[int, int] | None:
    """The comma and where the rest starts (``_last_record_start``); None when the space
    before this record's '{' is not the first record's and more (a line break dropped would
    move the lines after it)."""
    space = start.group(1)
    dropped = space[: len(space) - len(indent)]
    if not space.endswith(indent) or b"\n" in dropped:
        return None
    return begin + start.start(), begin + start.start(1) + len(dropped)


def _copy(handle: BinaryIO, out: BinaryIO, size: int) -> None:
    """Copy ``size`` bytes, in the kernel where it can (Linux): a gigabyte in about a second.
    Kernels refuse it between file systems (the export on a USB disk, the temp folder on
    another) or on some of them: the rest is then copied through Python from where it got."""
    if hasattr(os, "copy_file_range"):
        with contextlib.suppress(OSError):  # both files' offsets moved by what was copied
            while size > 0 and (copied := os.copy_file_range(handle.fileno(), out.fileno(),
                                                             size)):
                size -= copied
        handle.seek(os.lseek(handle.fileno(), 0, os.SEEK_CUR))  # read on from there
    while size > 0 and (block := handle.read(min(size, _BLOCK))):
        out.write(block)
        size -= len(block)


def _line_and_column(path: Path, end: int) -> tuple[int, int]:
    """The line and column of the byte at ``end``, counted as the careful reader counts them:
    characters, a BOM left out."""
    decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
    line, column = 1, 1
    with open(path, "rb") as handle:
        while end > 0 and (block := handle.read(min(end, _BLOCK))):
            if line == 1 and column == 1 and block.startswith(codecs.BOM_UTF8):
                column = 0  # the BOM is decoded below, as one character
            end -= len(block)
            if (newlines := block.count(b"\n")) > 0:
                line += newlines
                block = block[block.rindex(b"\n") + 1:]
                decoder.reset()
                column = 1
            column += _characters(decoder, block)
    return line, column


def _characters(decoder: codecs.IncrementalDecoder, block: bytes) -> int:
    """How many characters ``block`` adds to the text (a byte of ASCII is one: decoding
    a one-line gigabyte to count them would take seconds)."""
    if block.isascii() and not decoder.getstate()[0]:
        return len(block)
    return len(decoder.decode(block))
