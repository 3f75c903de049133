"""A JSON array cut off inside a record, as an interrupted download leaves it.

The fast reader cannot read such a file, and reading all of it record by record took ten
times as long per event as a whole file. So its whole records are copied, closed with ']',
for the fast reader, and only what follows the last of them is left to the careful reader,
which names the cut as it would have in the whole file: the copy ends at the last place a
record starts the way the file's first one does, and DuckDB refuses the copy if that place
was inside a record (the caller then reads the file carefully, as before).
"""

from __future__ import annotations

import codecs
import contextlib
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from loganalyzer.readers.json_careful import MAX_RECORD, Resume
from loganalyzer.readers.sniff import Kind
from loganalyzer.readers.sources import Source

_BLOCK = 1 << 22
# the array's '[', then how its first record opens: the space before '{', and '{' to the key
_OPENING = re.compile(rb'\A(?:\xef\xbb\xbf)?\s*\[(\s*)(\{\s*"(?:[^"\\]|\\.){1,64}")')


@dataclass(frozen=True)
class Prefix:
    """The file's whole records, closed with ']' (``source``, a temporary file), and where
    the rest of the file starts (``rest``; its ``records`` are the caller's to fill in)."""

    source: Source
    rest: Resume


def closed_prefix(source: Source, kind: Kind) -> Prefix | None:
    """The records before the last record start of an array that does not end with ']'; None
    for a file that is closed, compressed or not an array of events, or whose last record
    start is not found near its end."""
    if kind is not Kind.JSON_ARRAY or source.gzip or _closed(source.path):
        return None
    opening = _OPENING.match(source.head(4096))
    if opening is None:
        return None
    found = _last_record_start(source.path, *opening.groups())
    if found is None:
        return None
    comma, rest = found
    out = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed by the with below)
        "wb", buffering=0, suffix=".json", delete=False)
    try:  # closed before it is removed: Windows cannot remove an open file
        with out, open(source.path, "rb") as handle:
            _copy(handle, out, comma)
            out.write(b"]")
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
    return Prefix(Source(source.name, Path(out.name), in_folder=source.in_folder), resume)


def _closed(path: Path) -> bool:
    """The file ends with ']' (whitespace after it aside), as a whole array does."""
    with open(path, "rb") as handle:
        handle.seek(max(0, handle.seek(0, 2) - 4096))
        return handle.read().rstrip().endswith(b"]")


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
