"""The careful path for JSON exports: record by record, streaming, saying exactly where a file
breaks.

Used when the fast reader refuses a file (truncated download, a hand-edited record, a value of
an unexpected type, bytes that are not UTF-8). Every good record is kept; every bad one becomes
a ``Problem`` naming its record number and line, and a field of the wrong type on a kept record
an ``Ignored`` right after its row.

The file is read in chunks and only the text from the current record on is held, so one bad
record costs about what a good file costs: memory stays bounded (a record may be up to
``MAX_RECORD`` characters) and line numbers are counted once, as the text goes by.
"""

from __future__ import annotations

import codecs
import json
import re
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from typing import Any, BinaryIO

from loganalyzer.problems import CUT_OFF, CUT_OFF_ADVICE, Ignored, InputError, Problem
from loganalyzer.readers.other_logs import OtherLog, page_log, record_log
from loganalyzer.readers.records import Item, raw_record
from loganalyzer.readers.sniff import Kind
from loganalyzer.readers.sources import Source
from loganalyzer.readers.spelling import from_envelope, graph_spelling
from loganalyzer.textsafe import shown
from loganalyzer.wording import plural

CHUNK = 1 << 20
MAX_RECORD = 16 << 20  # the fast reader's limit too (DuckDB maximum_object_size)
CLEAN_RUN = 500  # good records in a row after damage: the rest can go back to the fast reader
_DECODER = json.JSONDecoder()
_SKIP = re.compile(r"[\s,]*")
_NEXT_OBJECT = re.compile(r"[,\[\n]\s*\{")
_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # undecodable bytes, kept as surrogate escapes
_GRAPH_VALUE = re.compile(r'"value"\s*:\s*\[')
PAGE_GAP = 1 << 16  # a page's tail (its nextLink) and the next page's head fit in this
_FIRST_KEY = re.compile(r'\{(\s*)("(?:[^"\\]|\\.){1,64}")')
EVENT_KEY = '"activityDateTime"'  # once per event: more inside one record means nested events
# and as the Graph PowerShell SDK's objects spell it, which go to this reader
SDK_EVENT_KEY = '"ActivityDateTime"'
_EVENT_KEYS = ("activityDateTime", "provisioningSteps", "provisioningStatusInfo", "changeId")
_TOO_DEEP = "nested deeper than the JSON reader allows (about 1,000 levels)"


@dataclass(frozen=True)
class Resume:
    """Where the careful reader stopped, so the fast one can read the rest: the records read
    so far, the byte (of the decompressed file) where the next one starts, and the line and
    column of the rest's first character (the '[' written before that record), so a
    one-line file's columns stay those of the whole file."""

    records: int
    byte: int
    line: int
    column: int = 1


class Broken(ValueError):
    """A value that does not decode: why, and the absolute position where."""

    def __init__(self, message: str, pos: int):
        super().__init__(message)
        self.message = message
        self.pos = pos


def _maybe_cut(exc: json.JSONDecodeError, size: int) -> bool:
    """Would more text help? True when the decoder ran into the end of what is held."""
    return exc.pos >= size - 16 or exc.msg.startswith("Unterminated string")


class TextStream:
    """The decoded text of a binary stream, held from the current record on.

    Bytes that are not UTF-8 become surrogate escapes (so one bad byte costs one record, not
    the file); positions are absolute character offsets; ``line`` and ``column`` count line
    breaks once, incrementally, so asking for every record's line stays linear.
    """

    def __init__(self, handle: BinaryIO, first_line: int = 1, first_column: int = 1):
        self._handle = handle
        self._decoder = codecs.getincrementaldecoder("utf-8")("surrogateescape")
        self.buf = ""
        self.base = 0  # absolute position of buf[0]
        self.eof = False
        self._mark = 0  # a position whose line is known
        self._mark_line = first_line
        self._base_column = first_column  # column of buf[0]
        self._started = False
        self._dropped_bytes = 0  # bytes of the file before buf[0] (a BOM included)

    def more(self) -> bool:
        """Read the next chunk; False when the file is exhausted."""
        while not self.eof:
            data = self._handle.read(CHUNK)
            text = self._decoder.decode(data, final=not data)
            self.eof = not data
            if not self._started and (text or self.eof):
                if text.startswith("\ufeff"):
                    text, self._dropped_bytes = text[1:], 3
                self._started = True
            if text:
                self.buf += text
                return True
        return False

    def char(self, pos: int) -> str:
        """The character at ``pos`` ('' at the end of the file)."""
        while pos - self.base >= len(self.buf):
            if not self.more():
                return ""
        return self.buf[pos - self.base]

    def skip(self, pos: int) -> int:
        """The first position at or after ``pos`` that is not whitespace or a comma; padding
        is not kept (a gigabyte of spaces costs time, not memory)."""
        while True:
            end = _SKIP.match(self.buf, pos - self.base).end()
            pos = self.base + end
            if end < len(self.buf) or not self.more():
                return pos
            self.drop(pos)

    def find(self, pattern: re.Pattern[str], pos: int, limit: int) -> re.Match[str] | None:
        """The first match at or after ``pos`` within ``limit`` characters, loading as needed."""
        while True:
            match = pattern.search(self.buf, pos - self.base)
            if match is not None or len(self.buf) - (pos - self.base) > limit:
                return match
            if not self.more():
                return None

    def decode(self, pos: int) -> tuple[Any, int]:
        """The JSON value at ``pos`` and its end; ``Broken`` when it does not decode."""
        while True:
            rel = pos - self.base
            try:
                value, end = _DECODER.raw_decode(self.buf, rel)
            except json.JSONDecodeError as exc:
                held = len(self.buf) - rel
                if _maybe_cut(exc, len(self.buf)) and held < MAX_RECORD and self.more():
                    continue
                if held >= MAX_RECORD:
                    raise Broken(f"longer than {MAX_RECORD >> 20} MB or not closed",
                                 pos) from exc
                raise Broken(exc.msg, self.base + exc.pos) from exc
            except RecursionError as exc:
                raise Broken(_TOO_DEEP, pos) from exc
            except ValueError as exc:  # e.g. an integer of more than 4,300 digits
                raise Broken(str(exc), pos) from exc
            return value, self.base + end

    def not_utf8(self, start: int, end: int) -> str | None:
        """Why the text between two positions cannot be used, if it held bytes that are not
        UTF-8."""
        match = _NOT_UTF8.search(self.buf, start - self.base, end - self.base)
        if match is None:
            return None
        at = self.base + match.start()
        return (f"is not UTF-8 text (byte 0x{ord(match.group()) - 0xDC00:02x} at line "
                f"{self.line(at)} column {self.column(at)}); the record is skipped")

    def line(self, pos: int) -> int:
        """The line of a held position (counted from the last one asked for)."""
        rel, mark = pos - self.base, self._mark - self.base
        if rel >= mark:
            self._mark_line += self.buf.count("\n", mark, rel)
        else:
            self._mark_line -= self.buf.count("\n", rel, mark)
        self._mark = pos
        return self._mark_line

    def column(self, pos: int) -> int:
        rel = pos - self.base
        newline = self.buf.rfind("\n", 0, rel)
        return rel - newline if newline >= 0 else self._base_column + rel

    def drop(self, pos: int) -> None:
        """Forget the text before ``pos`` once a chunk of it is read (amortised)."""
        rel = pos - self.base
        if rel < CHUNK:
            return
        self.line(pos)
        self._base_column = self.column(pos)
        self._dropped_bytes += len(self.buf[:rel].encode("utf-8", "surrogateescape"))
        self.buf = self.buf[rel:]
        self.base = pos

    def byte(self, pos: int) -> int:
        """The byte offset in the file of a held position."""
        held = self.buf[: pos - self.base].encode("utf-8", "surrogateescape")
        return self._dropped_bytes + len(held)


def unwrap(obj: Any) -> Any:
    """A storage-export envelope carries the event under ``properties``; either way the event
    comes back in Graph's spelling (the diagnostic-settings copy writes ``Id``/``Name``/
    ``Status``)."""
    # an envelope without its category (the fast reader takes ``properties`` whatever it is)
    if isinstance(obj, dict) and isinstance(obj.get("properties"), dict) and (
            "category" in obj or not any(key in obj for key in _EVENT_KEYS)):
        return from_envelope(obj)
    return graph_spelling(obj) if isinstance(obj, dict) else obj


def _wrapped(obj: Any) -> tuple[str, list[Any]] | None:
    """The events of a wrapper met as a record, with their key: Azure Monitor's event hub
    message ``{"records": [envelope, ...]}`` (3.1) or a Graph page (``value`` beside an
    ``@odata`` annotation)."""
    if not isinstance(obj, dict):
        return None
    if list(obj) == ["records"] and isinstance(obj["records"], list):
        return "records", obj["records"]
    if isinstance(obj.get("value"), list) and all(
        k == "value" or str(k).startswith("@odata.") for k in obj
    ):
        return "value", obj["value"]
    return None


def _is_wrapper(obj: Any) -> bool:
    return _wrapped(obj) is not None


def _event_or_problem(obj: Any, source: Source, where: str) -> dict | Problem:
    obj = unwrap(obj)
    if not isinstance(obj, dict):
        return Problem(source.name, where, f"expected a JSON object, found {type(obj).__name__}")
    if not any(key in obj for key in _EVENT_KEYS):
        keys = shown(", ".join(list(obj)[:5]) or "none")
        return Problem(
            source.name,
            where,
            f"not a provisioning event (keys: {keys}; expected activityDateTime, "
            "provisioningSteps, ...)",
        )
    return obj


def read_careful(
    source: Source, kind: Kind, skip: int = 0, hand_back: bool = False,
    after: Resume | None = None,
) -> Generator[Item, None, Resume | None]:
    """Yield RAW rows (dicts ready for records_to_frame), Problems and Ignored fields, in file
    order; records up to number ``skip`` (which the fast reader already gave) yield no row.

    With ``hand_back``, a JSON array or JSON lines file is read only until CLEAN_RUN good
    records follow the damage; the return value says where the fast reader can take over.
    ``after`` says where in the whole file ``source`` (the rest written by ``rest_of``) begins.
    """
    after = after or Resume(0, 0, 1, 1)
    with source.open_binary() as handle:
        if kind is Kind.NDJSON:
            return (yield from _read_lines(source, handle, skip, hand_back, after))
        stream = TextStream(handle, after.line, after.column)
        pos = stream.skip(0)
        # the rest of a cut page (``cut_arrays``) starts inside its 'value', with a '['
        opened = kind is Kind.GRAPH_PAGE and after.byte == 0
        if opened:
            match = stream.find(_GRAPH_VALUE, pos, MAX_RECORD)
            if match is None:
                raise InputError(source.name, "Graph page without a 'value' array")
            pos = stream.base + match.end()
        elif kind in (Kind.JSON_ARRAY, Kind.GRAPH_PAGES_ARRAY, Kind.GRAPH_PAGE) and stream.char(
                pos) == "[":
            pos, opened = pos + 1, True
            _require_more(source, stream, pos)
        clean = -1  # good records since the damage (-1: no damage met yet)
        hand_back = hand_back and kind is Kind.JSON_ARRAY
        # a wrapper (event hub body, Graph page) holds many events: its own key, once in
        # each, is what a lost bracket would repeat
        wrapped = {Kind.EVENT_HUB: '"records"',
                   Kind.GRAPH_PAGES_ARRAY: '"@odata.context"'}.get(kind)
        items = array_items(source, stream, pos,
                            _is_wrapper if wrapped else _is_event,
                            (wrapped,) if wrapped else (EVENT_KEY, SDK_EVENT_KEY),
                            first=after.records, pages=kind is Kind.GRAPH_PAGE, opened=opened)
        # the fast reader counts a pages array's events, and here a record is a page
        events_to_pass = skip if kind is Kind.GRAPH_PAGES_ARRAY else 0
        skip -= events_to_pass
        for item in items:
            if isinstance(item, Problem):
                yield item
                clean = 0
                continue
            number, where, value, start = item
            if hand_back and clean >= CLEAN_RUN:
                return Resume(number - 1, stream.byte(start), stream.line(start),
                              stream.column(start) - 1)
            clean += clean >= 0
            if number > skip:
                passing = False  # an event the fast reader gave, and its fields' notes
                for said in _record(value, source, where, number):
                    if isinstance(said, dict):
                        passing, events_to_pass = events_to_pass > 0, max(events_to_pass - 1, 0)
                    if not (passing and isinstance(said, dict | Ignored)):
                        yield said
    return None


def _require_more(source: Source, stream: TextStream, pos: int) -> None:
    """A file that ends right after its opening '[' was cut off before its first record, not
    exported without events (that is '[]'): saying it holds no events would hide the cut."""
    if stream.char(stream.skip(pos)) == "":
        raise InputError(source.name, "is cut off after its opening '[': the events that "
                         f"followed are missing ({CUT_OFF_ADVICE})")


def _record(obj: Any, source: Source, where: str, record: int,
            page: str | None = None) -> Iterator[Item]:
    """``page``: the log of the Graph page this record was met in, when its ``@odata.context``
    names another (a page read whole, as an item of a pages array). A page file's events are
    met without their page, and judged by their shape alone."""
    wrapper = _wrapped(obj)
    if wrapper is not None:  # its events share its record number
        key, events = wrapper
        inner = page_log(obj.get("@odata.context"))
        for index, event in enumerate(events, start=1):
            yield from _record(event, source, f"{where}, {key}[{index}]", record, inner)
        return
    other = page or record_log(obj)
    if other:
        yield OtherLog(source.name, other)
        return
    item = _event_or_problem(obj, source, where)
    if isinstance(item, Problem):
        yield item
        return
    try:
        row, ignored = raw_record(item, source.name, record, where)
    except RecursionError:
        yield Problem(source.name, where, f"a field is {_TOO_DEEP}; the record is skipped")
        return
    yield row
    yield from ignored


def _lines(handle: BinaryIO) -> Iterator[tuple[int, bytes | None]]:
    """(byte offset, line) of each line of a binary stream; None for a line longer than
    MAX_RECORD (not kept)."""
    offset = 0
    while True:
        line = handle.readline(MAX_RECORD)
        if not line:
            return
        start = offset
        offset += len(line)
        if len(line) == MAX_RECORD and not line.endswith(b"\n"):
            while (rest := handle.readline(MAX_RECORD)) and not rest.endswith(b"\n"):
                offset += len(rest)
            offset += len(rest)
            yield start, None
            continue
        yield start, line


def _read_lines(
    source: Source, handle: BinaryIO, skip: int, hand_back: bool, after: Resume
) -> Generator[Item, None, Resume | None]:
    record, clean = after.records, -1  # clean: good lines since the damage (-1: none met yet)
    for number, (offset, raw) in enumerate(_lines(handle), start=after.line):
        if raw is not None and not raw.strip():
            continue
        if hand_back and clean >= CLEAN_RUN:
            return Resume(record, offset, number)
        record += 1
        if record <= skip:
            continue
        items = list(_line_items(source, f"line {number}", raw, record))
        if any(isinstance(item, Problem) for item in items):
            clean = 0
        elif clean >= 0:
            clean += 1
        yield from items
    return None


def _line_items(source: Source, where: str, raw: bytes | None, record: int) -> Iterator[Item]:
    if raw is None:
        yield Problem(source.name, where,
                      f"is longer than {MAX_RECORD >> 20} MB; the line is skipped")
        return
    try:
        line = raw.decode("utf-8-sig" if where == "line 1" else "utf-8")
    except UnicodeDecodeError as exc:
        yield Problem(source.name, where,
                      f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at column "
                      f"{exc.start + 1}); the line is skipped")
        return
    try:
        # without its line ending: a line cut mid-record would otherwise be said to go wrong
        # at column 1 of the line after it
        obj = json.loads(line.rstrip("\r\n"))
    except json.JSONDecodeError as exc:
        yield Problem(source.name, where,
                      f"malformed JSON ({_said(exc.msg)} at column {exc.colno})"
                      + _unended(raw))
        return
    except RecursionError:
        yield Problem(source.name, where, f"is {_TOO_DEEP}; the line is skipped")
        return
    except ValueError as exc:
        yield Problem(source.name, where, f"unreadable JSON ({shown(exc)})")
        return
    yield from _record(obj, source, where, record)


def _unended(raw: bytes) -> str:
    """Only a file's last line lacks its line break: broken there, the file was cut inside
    that record (a blob copied while still appended to), which ``cut_off`` must find."""
    if raw.endswith(b"\n"):
        return ""
    return f"; the file ends inside this record: it is cut off ({CUT_OFF_ADVICE}); {CUT_OFF}"


def _signature(stream: TextStream, pos: int) -> re.Pattern[str] | None:
    """How a record starts in this file (``,`` or ``[``, the indentation, ``{``, the first
    key): during a resync, a match is a record that was lost, any other object a nested one."""
    rel = pos - stream.base
    lead = stream.buf[max(0, rel - 256) : rel]
    indent = lead[len(lead.rstrip()) :]
    opening = _FIRST_KEY.match(stream.buf, rel)
    if opening is None:
        return None
    return re.compile(
        r"[,\[\n]" + re.escape(indent) + r"\{" + re.escape(opening.group(1))
        + re.escape(opening.group(2))
    )


def array_items(
    source: Source, stream: TextStream, pos: int, is_item: Callable[[Any], bool],
    keys: tuple[str, ...] = (EVENT_KEY,), first: int = 0, pages: bool = False,
    opened: bool = False,
) -> Iterator[tuple[int, str, Any, int] | Problem]:
    """(number, where, value, start) for each element of the JSON array (or run of concatenated
    values) starting at ``pos``, or a Problem for each one that cannot be used.

    After a broken element the walk resumes at the next element ``is_item`` recognises; every
    record start met on the way (the same opening as the file's first record) is reported as
    lost, with its own number and line, so no loss goes uncounted and later numbers stay
    exact. With ``pages``, the array may be one of several Graph pages written one after the
    other (one per line, say): the end of one page's ``value`` leads into the next page's.
    ``opened``: the array's '[' was read, so a file ending before its ']' was cut off between
    two records, and whatever followed is missing (a Problem says so). A record holding
    ``keys`` (an event's key in each spelling, or a wrapper's) more than once holds records
    a lost bracket nested in it.
    """
    number = first  # records before this part of the file
    signature: re.Pattern[str] | None = None
    need_signature = True
    while True:
        pos = stream.skip(pos)
        char = stream.char(pos)
        if char == "]":
            after = stream.skip(pos + 1)
            following = stream.char(after)
            if following == "[":  # two arrays written one after the other
                pos = after + 1
                continue
            next_page = _next_page(stream, after) if pages else None
            if next_page is not None:
                pos = next_page
                continue
            lost: list[tuple[int, str]] = []
            line = stream.line(pos)
            resume = (after if following == "{"
                      else _resync(stream, after - 1, is_item, signature, lost))
            if resume is None:  # the end (a Graph page's nextLink may follow)
                return
            # a stray bracket, or the end of a nested array after damage: read on
            yield Problem(source.name, f"line {line}",
                          "unexpected ']' inside the array; the records after it are read")
            yield from _lost(source, lost, number)
            number += len(lost)
            pos = resume
            continue
        if char == "":
            if opened:
                yield Problem(source.name, f"record {number + 1} (line {stream.line(pos)})",
                              f"missing: the file ends after record {number} without closing "
                              f"its array; {CUT_OFF}")
            return
        number += 1
        line = stream.line(pos)
        where = f"record {number} (line {line})"
        if need_signature:
            signature, need_signature = _signature(stream, pos), False
        try:
            value, end = stream.decode(pos)
        except Broken as exc:
            lost = [(line, _where_broken(stream, exc))]
            resume = _resync(stream, pos, is_item, signature, lost)
            for offset, (lost_line, message) in enumerate(lost):
                text = f"malformed JSON ({message})"
                if resume is None and offset == len(lost) - 1:
                    text = f"malformed or truncated JSON ({message}); {CUT_OFF}"
                yield Problem(source.name, f"record {number + offset} (line {lost_line})", text)
            number += len(lost) - 1
            if resume is None:
                return
            pos = resume
            continue
        nested = sum(stream.buf.count(key, pos - stream.base, end - stream.base)
                     for key in keys) - 1
        if nested > 0:  # a lost bracket made the records after it part of this one
            yield Problem(source.name, where,
                          f"holds {plural(nested, 'more record')} inside it (its brackets are "
                          "damaged); it is skipped, and the records inside it are read")
            lost = []
            resume = _resync(stream, pos, is_item, signature, lost)
            yield from _lost(source, lost, number)
            number += len(lost)
            if resume is None:
                return
            pos = resume
            continue
        bad = stream.not_utf8(pos, end)
        if bad:
            yield Problem(source.name, where, bad)
        else:
            yield number, where, value, pos
        pos = end
        stream.drop(pos)


def _next_page(stream: TextStream, pos: int) -> int | None:
    """Where the next Graph page's events start, when the ']' before ``pos`` closed a page's
    ``value``: what lies between it and the next page's ``"value": [`` holds no event."""
    match = stream.find(_GRAPH_VALUE, pos, PAGE_GAP)
    if match is None:
        return None
    between = stream.buf[pos - stream.base : match.start()]
    if "}" not in between or "{" not in between or EVENT_KEY in between:
        return None
    return stream.base + match.end()


def _lost(source: Source, lost: list[tuple[int, str]], number: int) -> Iterator[Problem]:
    """A Problem for each record a resync passed, numbered after ``number``."""
    for offset, (line, message) in enumerate(lost, start=1):
        yield Problem(source.name, f"record {number + offset} (line {line})",
                      f"malformed JSON ({message})")


def _where_broken(stream: TextStream, exc: Broken) -> str:
    return (f"{_said(exc.message)} at line {stream.line(exc.pos)} "
            f"column {stream.column(exc.pos)}")


def _said(message: str) -> str:
    """The JSON decoder's message, to be followed by " at ...": its message for an open
    string, "Unterminated string starting at", already ends so."""
    return message.removesuffix(" at")


def _resync(
    stream: TextStream, pos: int, is_item: Callable[[Any], bool],
    signature: re.Pattern[str] | None, lost: list[tuple[int, str]],
) -> int | None:
    """Where the next usable element after ``pos`` starts (None: nowhere); each record start
    met on the way that does not decode is added to ``lost`` as (line, why)."""
    search = pos + 1
    while True:
        match = _NEXT_OBJECT.search(stream.buf, search - stream.base)
        if match is None:
            search = max(search, stream.base + len(stream.buf) - 64)  # a match may straddle
            stream.drop(search)
            if not stream.more():
                return None
            continue
        start = stream.base + match.end() - 1
        record_start = signature is not None and signature.match(stream.buf, match.start())
        try:
            value, _ = stream.decode(start)
        except Broken as again:
            if record_start:
                lost.append((stream.line(start), _where_broken(stream, again)))
            search = start + 1
            continue
        if isinstance(value, dict) and (is_item(value) or record_start):
            return start
        search = start + 1


def _is_event(value: Any) -> bool:
    """An event in any spelling (the PowerShell SDK's writes ``ActivityDateTime``)."""
    return isinstance(value, dict) and any(
        isinstance(key, str) and key.casefold() == "activitydatetime" for key in value)
