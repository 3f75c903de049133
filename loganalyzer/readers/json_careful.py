"""The careful path for JSON exports: record by record, saying exactly where a file breaks.

Used when the fast reader refuses a file (truncated download, a hand-edited record, a value of
an unexpected type). Every good record is kept; every bad one becomes a ``Problem`` naming
the line and what was expected, and a field of the wrong type on a kept record an ``Ignored``
right after its row.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from loganalyzer.problems import InputError, Problem
from loganalyzer.readers.records import Item, raw_record
from loganalyzer.readers.sniff import Kind
from loganalyzer.readers.sources import Source
from loganalyzer.readers.spelling import from_envelope, graph_spelling

_DECODER = json.JSONDecoder()
_NEXT_OBJECT = re.compile(r"[,\[]\s*\{")
_EVENT_KEYS = ("activityDateTime", "provisioningSteps", "provisioningStatusInfo", "changeId")


def _line_of(text: str, pos: int) -> int:
    return text.count("\n", 0, pos) + 1


def unwrap(obj: Any) -> Any:
    """A storage-export envelope carries the event under ``properties``; either way the event
    comes back in Graph's spelling (the diagnostic-settings copy writes ``Id``/``Name``/
    ``Status``)."""
    if isinstance(obj, dict) and isinstance(obj.get("properties"), dict) and "category" in obj:
        return from_envelope(obj)
    return graph_spelling(obj) if isinstance(obj, dict) else obj


def _event_or_problem(obj: Any, source: Source, where: str) -> dict | Problem:
    obj = unwrap(obj)
    if not isinstance(obj, dict):
        return Problem(source.name, where, f"expected a JSON object, found {type(obj).__name__}")
    if not any(key in obj for key in _EVENT_KEYS):
        keys = ", ".join(list(obj)[:5]) or "none"
        return Problem(
            source.name,
            where,
            f"not a provisioning event (keys: {keys}; expected activityDateTime, "
            "provisioningSteps, ...)",
        )
    return obj


def read_careful(source: Source, kind: Kind) -> Iterator[Item]:
    """Yield RAW rows (dicts ready for records_to_frame), Problems and Ignored fields, in file
    order."""
    with source.open_binary() as handle:
        text = io.TextIOWrapper(handle, encoding="utf-8-sig", errors="strict").read()
    if kind is Kind.NDJSON:
        yield from _read_lines(source, text)
        return
    if kind is Kind.JSON_OBJECT:
        yield from _read_array_items(source, text, _skip_ws(text, 0), single=True)
        return
    if kind is Kind.GRAPH_PAGE:
        match = re.search(r'"value"\s*:\s*\[', text)
        if match is None:
            raise InputError(source.name, "Graph page without a 'value' array")
        yield from _read_array_items(source, text, match.end())
        return
    start = text.find("[")
    yield from _read_array_items(source, text, start + 1)


def _skip_ws(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in " \t\r\n,":
        pos += 1
    return pos


def _record(obj: Any, source: Source, where: str, record: int) -> Iterator[Item]:
    item = _event_or_problem(obj, source, where)
    if isinstance(item, Problem):
        yield item
        return
    row, ignored = raw_record(item, source.name, record, where)
    yield row
    yield from ignored


def _read_lines(source: Source, text: str) -> Iterator[Item]:
    record = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        record += 1
        where = f"line {number}"
        try:
            obj = json.loads(line)
        except ValueError as exc:
            yield Problem(source.name, where, f"malformed JSON ({exc.msg} at column {exc.colno})")
            continue
        yield from _record(obj, source, where, record)


def array_items(
    source: Source, text: str, pos: int, is_item: Callable[[Any], bool], single: bool = False
) -> Iterator[tuple[int, str, Any] | Problem]:
    """(number, where, value) for each element of the JSON array starting at ``pos``, or a
    Problem for one that does not decode; after a broken element the walk resumes at the next
    one ``is_item`` recognises (nested objects are not), so later elements are kept."""
    number = 0
    while True:
        pos = _skip_ws(text, pos)
        if pos >= len(text) or text[pos] == "]":
            return
        number += 1
        where = f"record {number} (line {_line_of(text, pos)})"
        try:
            value, end = _DECODER.raw_decode(text, pos)
        except json.JSONDecodeError as exc:
            resume = _resync(text, pos + 1, is_item)
            if resume is None:
                yield Problem(
                    source.name, where,
                    f"malformed or truncated JSON ({exc.msg} at line {exc.lineno} column "
                    f"{exc.colno}); the rest of the file ({len(text) - pos} bytes) holds no "
                    "further readable record",
                )
                return
            yield Problem(source.name, where, f"malformed JSON ({exc.msg} at line {exc.lineno})")
            pos = resume
            continue
        yield number, where, value
        if single:
            return
        pos = end


def _is_event(value: Any) -> bool:
    return isinstance(value, dict) and "activityDateTime" in value


def _read_array_items(
    source: Source, text: str, pos: int, single: bool = False
) -> Iterator[Item]:
    for item in array_items(source, text, pos, _is_event, single):
        if isinstance(item, Problem):
            yield item
        else:
            number, where, value = item
            yield from _record(value, source, where, number)


def _resync(text: str, pos: int, is_item: Callable[[Any], bool]) -> int | None:
    """Where the next element after a broken one starts: an object that decodes and that
    ``is_item`` recognises (nested objects, such as steps, are not)."""
    for match in _NEXT_OBJECT.finditer(text, pos):
        start = match.end() - 1
        try:
            value, _ = _DECODER.raw_decode(text, start)
        except json.JSONDecodeError:
            continue
        if is_item(value):
            return start
    return None
