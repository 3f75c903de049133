"""Graph-shaped dicts -> a raw Polars frame (``schema.RAW_SCHEMA``).

Readers that parse records one by one (CSV, Log Analytics, the careful JSON path) build dicts
shaped like Graph's ``provisioningObjectSummary`` and hand them here. This is where the
tolerated variations of that shape are folded: ``details`` bags become key/value lists,
``servicePrincipal`` given as an array (as the v1.0 doc shows it) becomes its first object,
on-demand style ``type``/``name`` keys become ``identityType``/``displayName``, and values
that should be strings (numbers, booleans, nested JSON in details) become strings.

A field of the wrong type (steps given as a string, a status that is a number) cannot be
folded: it is left out of the row and reported as an ``Ignored`` naming the field and what was
expected, so every reader says the same thing for the same fault and the record is kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from loganalyzer.problems import Ignored, Problem
from loganalyzer.readers.other_logs import OtherLog
from loganalyzer.schema import RAW_SCHEMA
from loganalyzer.textsafe import shown

# What a reader yields: a RAW row, a record it skipped, or a field it left out of a kept row.
Item = dict[str, Any] | Problem | Ignored | OtherLog

# What PowerShell's ConvertTo-Json writes for an object nested deeper than its -Depth (2
# unless given): the object's text ("@{name=...; status=...}" for what ConvertFrom-Json read)
# or its .NET type name. An export re-saved so has lost every such object.
_POWERSHELL_TEXT = re.compile(
    r"@\{.*\}|System\.Object\[\]|System\.Collections\.[\w.]+(?:`\d+\[[\w.,\s]+\])?"
    r"|Microsoft\.Graph\.PowerShell\.Models\.\w+",
    re.DOTALL,
)
DEPTH_CUT = "PowerShell's text for an object that ConvertTo-Json did not write out"


def _text(value: Any) -> str | None:
    """A value as text: a string as it is, anything else (a boolean, number, object or array
    where Entra logs a string) as compact JSON, which is how the fast reader's DuckDB spells
    it, so a file reads the same whichever reader takes a record."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _json_type(value: Any) -> str:
    """What a value is, in JSON's words ("a string", "an array")."""
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "an array" if isinstance(value, list) else "an object"


class _Fields:
    """Reads one record's fields, collecting a message for each one of the wrong type."""

    def __init__(self) -> None:
        self.ignored: list[str] = []

    def wrong(self, path: str, value: Any, expected: str) -> None:
        found = _json_type(value)
        if isinstance(value, str) and _POWERSHELL_TEXT.fullmatch(value.strip()):
            found += f" ({DEPTH_CUT})"
        self.ignored.append(f"'{path}' is {found}, expected {expected}; ignored")

    def object(self, value: Any, path: str) -> Mapping[str, Any] | None:
        """An object, or the first object of an array (the v1.0 doc's servicePrincipal)."""
        if value is None:
            return None
        first = (value[0] if value else None) if isinstance(value, list) else value
        if first is None or isinstance(first, Mapping):
            return first
        self.wrong(path, value, "an object")
        return None

    def items(
        self, value: Any, path: str, expected: str, item: str
    ) -> list[tuple[int, Mapping[str, Any]]]:
        """(1-based position, object) of an array's objects; a non-array, and each item that
        is not an object, noted."""
        if value is None:
            return []
        if not isinstance(value, list):
            self.wrong(path, value, f"an array of {expected}")
            return []
        kept = []
        for index, entry in enumerate(value, start=1):
            if isinstance(entry, Mapping):
                kept.append((index, entry))
            else:
                self.wrong(f"{path}[{index}]", entry, f"{item} object")
        return kept

    def details(self, bag: Any, path: str) -> list[dict[str, str | None]]:
        if isinstance(bag, Mapping):
            return [
                {"key": str(k), "value": _text(v)} for k, v in bag.items() if k != "@odata.type"
            ]
        pairs = self.items(bag, path, "key/value pairs", "a key/value")
        return [
            {"key": str(pair.get("key")), "value": _text(pair.get("value"))}
            for _, pair in pairs
            if pair.get("key") is not None
        ]

    def integer(self, value: Any, path: str) -> int | None:
        """A whole number that fits 64 bits; anything else (text, 1e400, Infinity) noted."""
        if value in (None, ""):
            return None
        given = f"'{shown(value, 40)}'" if isinstance(value, str) else _json_type(value)
        try:
            if isinstance(value, bool):  # float(True) is 1.0: a boolean is not a duration
                raise TypeError(value)
            number = int(float(value))
        except (TypeError, ValueError):
            self.ignored.append(f"'{path}' is {given}, expected a number; ignored")
            return None
        except OverflowError:
            number = 2**63
        if not -(2**63) <= number < 2**63:
            self.ignored.append(f"'{path}' is {shown(value, 40)}, out of range (expected a "
                                "number of milliseconds below 2^63); ignored")
            return None
        return number

    def identity(self, value: Any, path: str) -> dict[str, Any] | None:
        obj = self.object(value, path)
        if obj is None:
            return None
        return {
            "id": _text(obj.get("id")),
            "displayName": _text(obj.get("displayName", obj.get("name"))),
            "identityType": _text(obj.get("identityType", obj.get("type"))),
            "details": self.details(obj.get("details"), f"{path}.details"),
        }

    def system(self, value: Any, path: str) -> dict[str, Any] | None:
        """A provisioningSystem: an identity without a type."""
        identity = self.identity(value, path)
        if identity is None:
            return None
        del identity["identityType"]
        return identity

    def status_info(self, value: Any, path: str) -> dict[str, Any] | None:
        obj = self.object(value, path)
        if obj is None:
            return None
        error = self.object(obj.get("errorInformation"), f"{path}.errorInformation")
        return {
            "status": _text(obj.get("status")),
            "errorInformation": {k: _text(error.get(k)) for k in _ERROR_KEYS} if error else None,
        }

    def legacy_status(self, value: Any, path: str) -> dict[str, Any] | None:
        obj = self.object(value, path)
        if obj is None:
            return None
        return {"status": _text(obj.get("status")), **{k: _text(obj.get(k)) for k in _ERROR_KEYS}}

    def step(self, step: Mapping[str, Any], path: str) -> dict[str, Any]:
        return {
            "name": _text(step.get("name")),
            "provisioningStepType": _text(step.get("provisioningStepType", step.get("type"))),
            "status": _text(step.get("status")),
            "description": _text(step.get("description")),
            "details": self.details(step.get("details"), f"{path}.details"),
        }


_ERROR_KEYS = ("errorCode", "reason", "additionalDetails", "errorCategory", "recommendedAction")


def raw_record(
    obj: Mapping[str, Any], source_file: str, source_record: int, location: str | None = None
) -> tuple[dict[str, Any], list[Ignored]]:
    """One Graph-shaped object -> one row of RAW_SCHEMA, and the fields left out of it.

    ``location`` names the record for people ("line 12"); it defaults to its record number.
    """
    fields = _Fields()
    initiated = fields.object(obj.get("initiatedBy"), "initiatedBy") or {}
    principal = fields.object(obj.get("servicePrincipal"), "servicePrincipal")
    steps = fields.items(obj.get("provisioningSteps"), "provisioningSteps", "steps", "a step")
    props = fields.items(
        obj.get("modifiedProperties"), "modifiedProperties", "properties", "a property"
    )
    row = {
        "id": _text(obj.get("id")),
        "activityDateTime": _text(obj.get("activityDateTime")),
        "tenantId": _text(obj.get("tenantId")),
        "jobId": _text(obj.get("jobId")),
        "cycleId": _text(obj.get("cycleId")),
        "changeId": _text(obj.get("changeId")),
        "provisioningAction": _text(obj.get("provisioningAction")),
        "action": _text(obj.get("action")),
        "durationInMilliseconds": fields.integer(
            obj.get("durationInMilliseconds"), "durationInMilliseconds"
        ),
        "initiatedBy": {
            "id": _text(initiated.get("id")),
            "displayName": _text(initiated.get("displayName")),
            "initiatorType": _text(
                initiated.get("initiatorType", initiated.get("initiatingType",
                                                             initiated.get("type")))
            ),
        },
        "servicePrincipal": {
            "id": _text(principal.get("id")),
            "displayName": _text(principal.get("displayName", principal.get("name"))),
        }
        if principal
        else None,
        "sourceSystem": fields.system(obj.get("sourceSystem"), "sourceSystem"),
        "targetSystem": fields.system(obj.get("targetSystem"), "targetSystem"),
        "sourceIdentity": fields.identity(obj.get("sourceIdentity"), "sourceIdentity"),
        "targetIdentity": fields.identity(obj.get("targetIdentity"), "targetIdentity"),
        "provisioningStatusInfo": fields.status_info(
            obj.get("provisioningStatusInfo"), "provisioningStatusInfo"
        ),
        "statusInfo": fields.legacy_status(obj.get("statusInfo"), "statusInfo"),
        "provisioningSteps": [
            fields.step(step, f"provisioningSteps[{n}]") for n, step in steps
        ],
        "modifiedProperties": [
            {
                "displayName": _text(p.get("displayName")),
                "oldValue": _text(p.get("oldValue")),
                "newValue": _text(p.get("newValue")),
            }
            for _, p in props
        ],
        "source_file": source_file,
        "source_record": source_record,
    }
    where = location or f"record {source_record}"
    return row, [Ignored(source_file, where, message) for message in fields.ignored]


def records_to_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Rows already passed through ``raw_record`` -> a frame with exactly RAW_SCHEMA."""
    rows = list(rows)
    try:
        return pl.DataFrame(rows, schema=RAW_SCHEMA)
    except UnicodeEncodeError:  # rare: the rows are cleaned only when Polars refuses them
        return pl.DataFrame(valid_unicode(rows), schema=RAW_SCHEMA)


def valid_unicode(value: Any) -> Any:
    """JSON may escape half of a surrogate pair ("\\ud83d": a text cut inside an emoji), which
    UTF-8 cannot hold: each half becomes U+FFFD and the rest of the text is kept."""
    if isinstance(value, str):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if isinstance(value, dict):
        return {key: valid_unicode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [valid_unicode(item) for item in value]
    return value
