"""Decide what kind of log a file is from its content, never from its name.

Text that is neither a JSON array or object nor a CSV header (a bare ``null``, a number, a
note saved as .txt) is refused here, saying what it looks like, rather than read as CSV.
"""

from __future__ import annotations

import json
import re
from enum import StrEnum

from loganalyzer.problems import InputError
from loganalyzer.readers.containers import WORKBOOK
from loganalyzer.readers.on_demand import is_on_demand
from loganalyzer.readers.sources import Source, check_utf8
from loganalyzer.textsafe import shown


class Kind(StrEnum):
    JSON_ARRAY = "portal JSON download"  # top-level array of Graph objects
    GRAPH_PAGE = "Graph API page"  # {"@odata.context", "value": [...], "@odata.nextLink"}
    GRAPH_PAGES_ARRAY = "JSON array of Graph API pages"  # as a script gathers them
    NDJSON = "JSON lines"  # one Graph object or storage envelope per line
    JSON_OBJECT = "single JSON event"  # or several, indented, one after another
    EVENT_HUB = "event hub body"  # {"records": [envelope, ...]}, one or several
    LOG_ANALYTICS_JSON = "Log Analytics JSON"
    ON_DEMAND = "provisionOnDemand result"  # {"key": "<JSON>", "value": "<JSON>"} or its value
    CSV = "CSV"


# Log Analytics spells its columns in PascalCase; a hand-made or re-saved export may not
_LOG_ANALYTICS_KEYS = re.compile(r'"(TimeGenerated|ResultType|ResultSignature|AADTenantId)"',
                                 re.IGNORECASE)
# any case: the Graph PowerShell SDK's objects, saved with ConvertTo-Json, write PascalCase
_EVENT_KEYS = re.compile(r'"(activityDateTime|provisioningSteps|provisioningStatusInfo|cycleId)"',
                         re.IGNORECASE)
_GRAPH_PAGE = re.compile(r'"value"\s*:\s*\[')
_EVENT_HUB = re.compile(r'\{\s*"records"\s*:\s*\[')
# a page's first key is an @odata annotation or its value (an event's never is)
_PAGE = re.compile(r'\{\s*"(@odata\.\w+|value)"')


def _is_envelope(text: str) -> bool:
    """A diagnostic-settings envelope (formats reference 3.1): its keys are lower-case, so
    its ``resultType`` is not Log Analytics' ``ResultType``."""
    return '"properties"' in text and '"category"' in text


def _is_log_analytics(text: str) -> bool:
    return not _is_envelope(text) and bool(_LOG_ANALYTICS_KEYS.search(text))


# ``Get-MgAuditLogProvisioning | ConvertTo-Json``: the SDK's objects spell the event's keys in
# PascalCase; read like the same shapes of Graph's events (``spelling.sdk_object``)
_POWERSHELL_SDK = re.compile(r'"ActivityDateTime"\s*:')
POWERSHELL_SDK = "Graph PowerShell SDK objects (ConvertTo-Json)"


def kind_label(source: Source, kind: Kind) -> str:
    """What to call a file's kind where the input is listed."""
    if kind in (Kind.JSON_ARRAY, Kind.JSON_OBJECT, Kind.NDJSON) and _POWERSHELL_SDK.search(
            source.head().decode("utf-8", errors="ignore")):
        return POWERSHELL_SDK
    return kind.value


def sniff(source: Source) -> Kind:
    head = source.head()
    if not head.strip():
        raise InputError(source.name, "is empty (expected a provisioning log export)")
    if _is_workbook(head):
        raise InputError(source.name, f"is {WORKBOOK}")
    # a NUL at the start, or many, is a binary file; one NUL inside the text is damage
    if b"\x00" in head[:4] or head.count(b"\x00") > max(8, len(head) // 100):
        raise InputError(source.name, "is a binary file, not a JSON or CSV log export")
    text = head.decode("utf-8", errors="ignore").lstrip("\ufeff \t\r\n")
    check_utf8(source, head, csv=not text.startswith(("[", "{")))
    if text.startswith("["):
        if _PAGE.match(text[1:].lstrip()):
            return Kind.GRAPH_PAGES_ARRAY
        return Kind.LOG_ANALYTICS_JSON if _is_log_analytics(text) else Kind.JSON_ARRAY
    if text.startswith("{"):
        return _sniff_object(source, text)
    _require_csv_header(source, text)
    return Kind.CSV


_OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # an .xls (``containers.WORKBOOK``)


def _is_workbook(head: bytes) -> bool:
    return head.startswith(_OLE2) or (
        head.startswith(b"PK\x03\x04") and (b"[Content_Types].xml" in head or b"xl/" in head))


_EXPECTED = (
    "expected a provisioning log export: JSON (a portal download array, a Graph page, "
    "JSON lines) or CSV with a header row"
)
_JSON_TYPES = {type(None): "JSON null", bool: "a bare JSON boolean", int: "a bare JSON number",
               float: "a bare JSON number", str: "a bare JSON string"}


def _require_csv_header(source: Source, text: str) -> None:
    """A lone JSON value, or a first line without a delimiter, is not a CSV export."""
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to tell
        pass
    else:
        if not text[end:].strip():
            raise InputError(source.name, f"holds only {_JSON_TYPES[type(value)]}; {_EXPECTED}")
    first = text.partition("\n")[0].rstrip("\r")
    if first.lower().startswith("sep=") and len(first) == 5:
        return
    if not any(delimiter in first for delimiter in (",", ";", "\t")):
        raise InputError(
            source.name,
            f"is text that is neither JSON nor CSV (its first line has no comma, semicolon or "
            f"tab); {_EXPECTED}",
        )


def _sniff_object(source: Source, text: str) -> Kind:
    first_line, _, rest = text.partition("\n")
    try:
        json.loads(first_line)
        one_line_object = True
    except (ValueError, RecursionError):  # not JSON, or nested too deep to tell
        one_line_object = False
    if _EVENT_HUB.match(text):
        return Kind.EVENT_HUB
    if one_line_object and rest.lstrip().startswith("{"):
        if _PAGE.match(first_line):  # pages one per line: read like pages one after another
            return Kind.GRAPH_PAGE
        # a workspace data export writes Log Analytics rows one per line
        return Kind.LOG_ANALYTICS_JSON if _is_log_analytics(first_line) else Kind.NDJSON
    if _is_on_demand(text):
        return Kind.ON_DEMAND
    if '"tables"' in text[:200] and '"rows"' in text:
        return Kind.LOG_ANALYTICS_JSON
    if _GRAPH_PAGE.search(text):
        return Kind.GRAPH_PAGE
    if _is_envelope(text):  # one on a line, else indented (read as one object or more)
        return Kind.NDJSON if one_line_object else Kind.JSON_OBJECT
    if _LOG_ANALYTICS_KEYS.search(text):
        return Kind.LOG_ANALYTICS_JSON
    if _EVENT_KEYS.search(text):
        return Kind.JSON_OBJECT
    raise InputError(source.name, _not_a_log_hint(text))


def _is_on_demand(text: str) -> bool:
    if '"startTime"' not in text and '"key"' not in text:
        return False
    try:
        return is_on_demand(json.loads(text))
    except (ValueError, RecursionError):  # not JSON, or nested too deep to tell
        return False  # longer than the head: not a one-user on-demand result


def _graph_error(text: str) -> str | None:
    """Graph's error body (``{"error": {"code", "message"}}``) saved where a page should be, by
    a script whose request was throttled or refused: the events of that page are missing."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to tell
        return None
    error = value.get("error") if isinstance(value, dict) else None
    if not isinstance(error, dict) or not isinstance(error.get("code"), str):
        return None
    message = error.get("message")
    said = f"{error['code']}: {message}" if isinstance(message, str) and message else error["code"]
    return (f"is Microsoft Graph's error response ({shown(said, 160)}), not provisioning "
            "logs: the request that saved it failed, so the events it should hold are missing; "
            "request it again, or fetch with `loganalyzer fetch` (it retries throttled pages)")


def _not_a_log_hint(text: str) -> str:
    if said := _graph_error(text):
        return said
    if '"schedule"' in text and '"status"' in text and '"templateId"' in text:
        return "is a synchronization job status, not a provisioning log (pass it with --job-status)"
    if '"synchronizationRules"' in text:
        return "is a synchronization schema, not a provisioning log"
    return (
        "is JSON but not a provisioning log (expected a Graph page with 'value', "
        "a portal download array, or events with 'activityDateTime')"
    )
