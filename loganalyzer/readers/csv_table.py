"""A CSV file as a header plus rows that know their line numbers.

Exports quote multi-line cells (reasons with CRLF, JSON bodies), so rows are read with the csv
module (``newline=''``) rather than split on lines, and every row carries the physical line it
starts on for error messages. A leading BOM, Excel's ``sep=;`` hint line, and comma,
semicolon or tab delimiters are accepted. A row the csv module cannot parse, or with fewer or
more cells than the header, becomes a Problem (exports write every cell, so such a row was cut
or edited by hand), and so does a row holding bytes that are not UTF-8 (the rest are kept).
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, NamedTuple

import polars as pl

from loganalyzer.problems import CUT_OFF, CUT_OFF_ADVICE, InputError, Problem
from loganalyzer.readers.sources import CSV_UTF8_FIX, Source

if TYPE_CHECKING:
    import pyarrow as pa

csv.field_size_limit(1 << 30)  # a ProvisioningSteps JSON cell can exceed the 128 KiB default

_DELIMITERS = (",", ";", "\t")


class CsvRow(NamedTuple):
    line: int  # physical line the row starts on (the header is line 1)
    number: int  # 1-based position among data rows
    cells: list[str]


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # undecodable bytes, kept as surrogate escapes


def _open_text(source: Source) -> io.TextIOWrapper:
    return io.TextIOWrapper(
        source.open_binary(), encoding="utf-8-sig", errors="surrogateescape", newline=""
    )


def _not_utf8(cells: list[str]) -> str | None:
    for cell in cells:
        match = _NOT_UTF8.search(cell)
        if match:
            return (f"is not UTF-8 text (byte 0x{ord(match.group()) - 0xDC00:02x}); the row is "
                    f"skipped ({CSV_UTF8_FIX})")
    return None


@dataclass(frozen=True)
class CsvTable:
    """One CSV file: its header and how to read its rows again."""

    source: Source
    header: list[str]
    delimiter: str
    header_lines: int  # lines before the first data row (the sep= hint and the header)

    @staticmethod
    def open(source: Source) -> CsvTable:
        try:
            with _open_text(source) as text:
                first = text.readline()
                skipped = 0
                delimiter = None
                hint = first.rstrip("\r\n")
                if hint.lower().startswith("sep=") and len(hint) == 5:
                    delimiter, skipped = hint[4], 1
                    first = text.readline()
                delimiter = delimiter or max(_DELIMITERS, key=first.count)
                reader = csv.reader(io.StringIO(first), delimiter=delimiter)
                header = next(reader, [])
        except csv.Error:
            header = []  # a header line cut inside quotes: reported as an unknown header
        if not any(cell.strip() for cell in header):
            raise InputError(source.name, "has no header row (expected column names on line 1)")
        bad = _not_utf8(header)
        if bad:
            raise InputError(source.name, f"{bad.split(';')[0]}; {CSV_UTF8_FIX}", "line 1")
        return CsvTable(source, header, delimiter, skipped + 1)

    def text_columns(self, only: int | None = None) -> pl.DataFrame:
        """Every data row (or only column ``only``) as text, columns named c0, c1, ...,
        parsed column-wise by pyarrow; a row of the wrong width, bytes that are not UTF-8 or
        any other parse error raise ``pa.ArrowException``."""
        import pyarrow as pa  # loaded only when needed: every command would pay for its import
        import pyarrow.csv as pacsv

        names = [f"c{i}" for i in range(len(self.header))]
        wanted = names if only is None else [names[only]]
        with self.source.open_binary() as stream:
            arrow = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=names, skip_rows=self.header_lines, block_size=1 << 24
                ),
                parse_options=pacsv.ParseOptions(
                    delimiter=self.delimiter, newlines_in_values=True
                ),
                convert_options=pacsv.ConvertOptions(
                    include_columns=wanted,
                    column_types=dict.fromkeys(wanted, pa.string()),
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
                memory_pool=_arrow_pool(),
            )
        frame = pl.from_arrow(arrow)
        assert isinstance(frame, pl.DataFrame)
        return frame

    def rows(self) -> Iterator[CsvRow | Problem]:
        """Data rows as wide as the header (extra empty cells are dropped); blank rows are
        skipped."""
        width = len(self.header)
        name = self.source.name
        number = 0
        short: Problem | None = None  # a short row, said once the next row shows it is no cut
        with _open_text(self.source) as text:
            for _ in range(self.header_lines):
                text.readline()
            lines = _LastLine(text)
            reader = csv.reader(lines, delimiter=self.delimiter, strict=True)
            start = self.header_lines + 1  # where the next row starts
            while True:
                try:
                    for cells in reader:
                        row_start, start = start, self.header_lines + reader.line_num + 1
                        if not any(cells):
                            continue
                        if short:
                            yield short
                            short = None
                        number += 1
                        bad = _not_utf8(cells)
                        if bad:
                            yield Problem(name, f"line {row_start}", bad)
                            continue
                        if len(cells) < width:
                            short = Problem(name, f"line {row_start}", _too_short(cells, width))
                            continue
                        if len(cells) > width:
                            if any(c.strip() for c in cells[width:]):
                                yield Problem(name, f"line {row_start}", _too_wide(cells, width))
                                continue
                            cells = cells[:width]
                        yield CsvRow(row_start, number, cells)
                    if short:  # the last row: cut, when the file ends inside it
                        yield (Problem(short.file, short.location, _cut_row(short.message))
                               if lines.unended else short)
                    return
                except csv.Error as exc:
                    if short:
                        yield short
                        short = None
                    yield Problem(name, f"line {start}", _csv_error(exc))
                    start = self.header_lines + reader.line_num + 1


class _LastLine:
    """The lines of a text, remembering whether the last one ended with a line break: a file
    whose last row is short and unended was cut there (a download or copy that did not
    finish), not hand-edited."""

    def __init__(self, text: Iterable[str]):
        self._lines = iter(text)
        self.unended = False

    def __iter__(self) -> Iterator[str]:
        return self

    def __next__(self) -> str:
        line = next(self._lines)
        self.unended = not line.endswith(("\n", "\r"))
        return line


@functools.cache
def _arrow_pool() -> pa.MemoryPool:
    """Arrow's jemalloc, returning freed pages at once. Its default pool (mimalloc) kept
    about 250 MB per portal download after the download was freed, so reading many
    downloads grew memory; the system allocator is the fallback."""
    import pyarrow as pa

    try:
        pool = pa.jemalloc_memory_pool()
        pa.jemalloc_set_decay_ms(0)
    except NotImplementedError:  # an Arrow built without jemalloc
        pool = pa.system_memory_pool()
    return pool


def _too_wide(cells: list[str], width: int) -> str:
    return (f"has {len(cells)} cells but the header has {width} columns "
            "(an unquoted delimiter inside a value?); the row is skipped")


def _too_short(cells: list[str], width: int) -> str:
    return (f"has {len(cells)} cells but the header has {width} columns (a cut or hand-edited "
            "row, or a line break outside quotes?); the row is skipped")


def _cut_row(message: str) -> str:
    """A short last row the file ends inside: named as cut, as ``cut_off`` finds cuts."""
    return (f"{message.split(' (')[0]} and the file ends inside it: it is cut off "
            f"({CUT_OFF_ADVICE}); {CUT_OFF}")


def _csv_error(exc: csv.Error) -> str:
    if "unexpected end of data" in str(exc):
        # only the end of the file leaves a quote open: the rows after it are lost, cut off
        # inside the cell or swallowed by a stray quote in this row
        return (f"a quoted cell is never closed (the file is cut off inside it: "
                f"{CUT_OFF_ADVICE}; or a stray quote in this row made the rest of the file "
                f"one cell: remove it there); {CUT_OFF}")
    return f"unreadable CSV row ({exc}); the row is skipped"
