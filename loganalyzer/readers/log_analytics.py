"""Log Analytics ``AADProvisioningLogs`` exports (JSON or CSV rows) -> Graph-shaped records.

Log Analytics flattens the Graph object into PascalCase columns and stores every nested object
as JSON text (``SourceIdentity``, ``ProvisioningSteps``, ...), whose inner keys may be
PascalCase or camelCase. ``TenantId`` there is the *workspace* id; the Entra tenant is
``AADTenantId``. ``ResultType``/``ResultSignature``/``ResultDescription`` repeat the status,
error code and reason, and fill them in when ``ProvisioningStatusInfo`` lacks them.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

from loganalyzer.problems import Ignored, InputError, Problem
from loganalyzer.readers.csv_headers import fold_header
from loganalyzer.readers.json_careful import TextStream, array_items
from loganalyzer.readers.locale_numbers import ungrouped
from loganalyzer.readers.other_logs import OtherLog, table_log
from loganalyzer.readers.records import Item, raw_record
from loganalyzer.readers.sources import Source
from loganalyzer.readers.spelling import graph_keys, named
from loganalyzer.textsafe import shown

# Log Analytics column (folded, see fold_header) -> Graph property.
SCALAR_COLUMNS = {
    "id": "id",
    "timegenerated": "activityDateTime",
    "aadtenantid": "tenantId",
    "jobid": "jobId",
    "cycleid": "cycleId",
    "changeid": "changeId",
    "provisioningaction": "provisioningAction",
    "action": "action",  # deprecated, PascalCase values ("Create")
    "durationms": "durationInMilliseconds",
}
JSON_COLUMNS = {
    "initiatedby": "initiatedBy",
    "serviceprincipal": "servicePrincipal",
    "sourceidentity": "sourceIdentity",
    "targetidentity": "targetIdentity",
    "sourcesystem": "sourceSystem",
    "targetsystem": "targetSystem",
    "provisioningstatusinfo": "provisioningStatusInfo",
    "statusinfo": "statusInfo",
    "provisioningsteps": "provisioningSteps",
    "modifiedproperties": "modifiedProperties",
}
RESULT_COLUMNS = {"resulttype", "resultsignature", "resultdescription"}
# Standard columns that say nothing about the event (TenantId is the workspace, not Entra).
IGNORED_COLUMNS = {"tenantid", "operationname", "operationversion", "category", "correlationid",
                   "type", "billedsize", "isbillable", "resourceid", "tablename"}
_DISTINCTIVE = {"resulttype", "resultsignature", "aadtenantid", "provisioningsteps",
                "provisioningstatusinfo"}
_NO_VALUE = {"", "none", "null"}

def is_log_analytics_header(header: list[str]) -> bool:
    """``TimeGenerated`` (in any time zone, see ``local_time_column``) plus a column only
    AADProvisioningLogs has."""
    folded = {fold_header(h) for h in header}
    timed = any(f.startswith("timegenerated") for f in folded)
    return timed and bool(folded & _DISTINCTIVE)


# The portal exports TimeGenerated in its display time zone: "TimeGenerated [UTC]" by
# default, "TimeGenerated [Local Time]" (or a zone's name) when the user chose another
_ZONED_TIME = re.compile(r"^\s*TimeGenerated\s*[\[(]\s*([^\])]*?)\s*[\])]\s*$", re.IGNORECASE)


def local_time_column(header: list[str]) -> str | None:
    """The TimeGenerated header when it is not in UTC: its times cannot be placed."""
    for column in header:
        match = _ZONED_TIME.match(column.replace("\ufeff", ""))
        if match and match.group(1).casefold() not in ("utc", "utc+00:00", "gmt"):
            return column.strip()
    return None


def is_known_column(column: str) -> bool:
    key = fold_header(column)
    return any(key in known for known in
               (SCALAR_COLUMNS, JSON_COLUMNS, RESULT_COLUMNS, IGNORED_COLUMNS))


@functools.lru_cache(maxsize=1024)
def _role(column: str) -> tuple[str, str] | None:
    """What a column is (scalar, json, result) and its Graph name; cached per spelling."""
    key = fold_header(column)
    for role, table in (("scalar", SCALAR_COLUMNS), ("json", JSON_COLUMNS)):
        if key in table:
            return role, table[key]
    return ("result", key) if key in RESULT_COLUMNS else None


class _BadJson(ValueError):
    pass


def _json_cell(value: Any, prop: str) -> Any:
    """A dynamic column: already parsed (JSON export) or JSON text (CSV, query API)."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if not text or text.casefold() in _NO_VALUE:
        return None
    if prop == "sourceSystem" and text[0] not in "{[":
        return None  # the generic Log Analytics "agent type" column ("Azure"), not the system
    try:
        parsed = json.loads(text)
        if isinstance(parsed, str) and parsed.strip()[:1] in ("{", "["):
            parsed = json.loads(parsed)  # JSON text stored twice encoded
    except json.JSONDecodeError as exc:
        raise _BadJson(f"{exc.msg} at character {exc.pos}") from exc
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise _BadJson(shown(exc)) from exc
    return parsed


def _scalar(value: Any) -> Any:
    if isinstance(value, str):
        value = value.strip()
        return value or None
    return value


def _first_object(value: Any) -> dict[str, Any]:
    if isinstance(value, list):
        value = value[0] if value else None
    return dict(value) if isinstance(value, Mapping) else {}


def _apply_results(graph: dict[str, Any], results: dict[str, Any]) -> None:
    """ResultType/ResultSignature/ResultDescription fill what ProvisioningStatusInfo lacks;
    ``None`` and empty mean "no error". A status of the wrong type is left for ``raw_record``
    to report."""
    if not isinstance(graph.get("provisioningStatusInfo"), Mapping | list | None):
        return
    status_info = _first_object(graph.get("provisioningStatusInfo"))
    error = _first_object(status_info.get("errorInformation"))
    given = {k: v for k, v in results.items() if isinstance(v, str) and v.casefold() not in
             _NO_VALUE}
    if "resulttype" in given and not status_info.get("status"):
        status_info["status"] = given["resulttype"]
    if "resultsignature" in given and not error.get("errorCode"):
        error["errorCode"] = given["resultsignature"]
    if "resultdescription" in given and not error.get("reason"):
        error["reason"] = given["resultdescription"]
    if error:
        status_info["errorInformation"] = error
    if status_info:
        graph["provisioningStatusInfo"] = status_info


def record_from_row(
    row: Mapping[str, Any], file: str, location: str, number: int
) -> Iterator[Item]:
    """One AADProvisioningLogs row (column name -> value) -> a RAW row, then an Ignored per
    unreadable JSON cell or field of the wrong type; a row without ``Id`` or ``TimeGenerated``,
    or with a cell nested too deep to read, is one Problem instead."""
    try:
        items = list(_row_items(row, file, location, number))
    except RecursionError:
        items = [Problem(file, location, "a column holds JSON nested deeper than about 1,000 "
                                         "levels; the record is skipped")]
    yield from items


def _row_items(
    row: Mapping[str, Any], file: str, location: str, number: int
) -> Iterator[Item]:
    other = table_log(row)
    if other:
        yield OtherLog(file, other)
        return
    graph: dict[str, Any] = {}
    results: dict[str, Any] = {}
    bad_cells: list[Ignored] = []
    for column, value in row.items():
        role = _role(str(column))
        if role is None:
            continue
        kind, name = role
        if kind == "scalar":
            cell = _scalar(value)
            graph[name] = ungrouped(cell) if name == "durationInMilliseconds" else cell
        elif kind == "json":
            try:
                parsed = _json_cell(value, name)
            except _BadJson as exc:
                bad_cells.append(Ignored(
                    file, location,
                    f"column {column}: malformed JSON ({exc}); the record is kept without it",
                ))
                continue
            if parsed is not None:
                graph[name] = named(graph_keys(parsed), name)
        else:
            results[name] = _scalar(value)
    missing = [name for name, prop in (("Id", "id"), ("TimeGenerated", "activityDateTime"))
               if not graph.get(prop)]
    if missing:
        yield Problem(
            file, location,
            f"missing {' and '.join(missing)} (expected the event id and its time); "
            "the record is skipped",
        )
        return
    _apply_results(graph, results)
    row, ignored = raw_record(graph, file, number, location)
    yield row
    yield from bad_cells
    yield from ignored


def read_json(source: Source) -> Iterator[Item]:
    """A JSON array of row objects or rows one per line, as a workspace data export writes
    them (streamed), or the query API's ``{"tables": [...]}``."""
    with source.open_binary() as handle:
        stream = TextStream(handle)
        start = stream.skip(0)
        if stream.char(start) == "[":
            yield from _array_rows(source, stream, start + 1)
            return
        if not _is_tables_document(stream, start):
            yield from _array_rows(source, stream, start)
            return
        document = _whole_document(source, stream, start)
    if isinstance(document, Mapping) and isinstance(document.get("tables"), list):
        yield from _table_rows(source, document["tables"])
    else:
        raise InputError(source.name, "expected a JSON array of rows or {\"tables\": [...]}")


_TABLES = re.compile(r'\{\s*"tables"\s*:')


def _is_tables_document(stream: TextStream, start: int) -> bool:
    match = stream.find(_TABLES, start, 256)
    return match is not None and match.start() == start - stream.base


MAX_DOCUMENT = 128 << 20  # the query API answers at most 64 MB


def _whole_document(source: Source, stream: TextStream, start: int) -> Any:
    """The query API's answer is one object, so it is read whole (up to MAX_DOCUMENT)."""
    while stream.more():
        if len(stream.buf) > MAX_DOCUMENT:
            raise InputError(
                source.name,
                f"is a JSON document larger than {MAX_DOCUMENT >> 20} MB; export the rows as a "
                "JSON array (or CSV) instead",
            )
    end = stream.base + len(stream.buf)
    bad = stream.not_utf8(start, end)
    if bad:
        raise InputError(source.name, bad.replace("the record is skipped", "export it again"))
    try:
        return json.loads(stream.buf[start - stream.base :])
    except json.JSONDecodeError as exc:
        raise InputError(
            source.name, f"malformed JSON ({exc.msg}); expected a Log Analytics export",
            f"line {exc.lineno} column {exc.colno}",
        ) from exc
    except RecursionError as exc:
        raise InputError(source.name, "is JSON nested deeper than about 1,000 levels") from exc
    except ValueError as exc:
        raise InputError(source.name, f"unreadable JSON ({shown(exc)})") from exc


def _is_row(value: Any) -> bool:
    return isinstance(value, Mapping) and any(fold_header(k) == "timegenerated" for k in value)


def _array_rows(source: Source, stream: TextStream, pos: int) -> Iterator[Item]:
    for item in array_items(source, stream, pos, _is_row, ('"TimeGenerated"',)):
        if isinstance(item, Problem):
            yield item
            continue
        number, where, row, _ = item
        if not isinstance(row, Mapping):
            yield Problem(source.name, where, f"expected a row object, found {type(row).__name__}")
            continue
        yield from record_from_row(row, source.name, where, number)


def _column_names(table: Mapping[str, Any]) -> list[str]:
    columns = table.get("columns")
    if not isinstance(columns, list):
        return []
    return [str(c.get("name") if isinstance(c, Mapping) else c) for c in columns]


def _table_rows(source: Source, tables: list[Any]) -> Iterator[Item]:
    wanted = [t for t in tables
              if isinstance(t, Mapping) and is_log_analytics_header(_column_names(t))]
    if not wanted:  # other tables (statistics) are ignored
        raise InputError(
            source.name,
            "no AADProvisioningLogs table (expected columns TimeGenerated, Id, ResultType, ...)",
        )
    number = 0
    for table in wanted:
        columns = _column_names(table)
        name = shown(table.get("name", "?"), 40)
        rows = table.get("rows") or []
        if not isinstance(rows, list):
            yield Problem(source.name, f"table {name}",
                          f"'rows' is not an array of rows (found {type(rows).__name__}); "
                          "the table is skipped")
            continue
        for index, values in enumerate(rows, start=1):
            number += 1
            where = f"table {name} row {index}"
            if not isinstance(values, list) or len(values) != len(columns):
                yield Problem(source.name, where,
                              f"expected a list of {len(columns)} values matching 'columns'")
                continue
            row = dict(zip(columns, values, strict=True))
            yield from record_from_row(row, source.name, where, number)
