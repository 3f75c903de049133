"""Graph-shaped dicts -> a raw Polars frame (``schema.RAW_SCHEMA``).

Readers that parse records one by one (CSV, Log Analytics, the careful JSON path) build dicts
shaped like Graph's ``provisioningObjectSummary`` and hand them here. This is where the
tolerated variations of that shape are folded: ``details`` bags become key/value lists,
``servicePrincipal`` given as an array (as the v1.0 doc shows it) becomes its first object,
on-demand style ``type``/``name`` keys become ``identityType``/``displayName``, and values
that should be strings (numbers, booleans, nested JSON in details) become strings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import polars as pl

from loganalyzer.schema import RAW_SCHEMA


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _details(bag: Any) -> list[dict[str, str | None]]:
    if isinstance(bag, Mapping):
        return [{"key": str(k), "value": _text(v)} for k, v in bag.items() if k != "@odata.type"]
    if isinstance(bag, list):  # already key/value pairs
        return [
            {"key": str(item.get("key")), "value": _text(item.get("value"))}
            for item in bag
            if isinstance(item, Mapping) and item.get("key") is not None
        ]
    return []


def _object(value: Any) -> Mapping[str, Any] | None:
    if isinstance(value, list):
        value = value[0] if value else None
    return value if isinstance(value, Mapping) else None


def _identity(value: Any) -> dict[str, Any] | None:
    obj = _object(value)
    if obj is None:
        return None
    return {
        "id": _text(obj.get("id")),
        "displayName": _text(obj.get("displayName", obj.get("name"))),
        "identityType": _text(obj.get("identityType", obj.get("type"))),
        "details": _details(obj.get("details")),
    }


def _system(value: Any) -> dict[str, Any] | None:
    obj = _object(value)
    if obj is None:
        return None
    return {
        "id": _text(obj.get("id")),
        "displayName": _text(obj.get("displayName", obj.get("name"))),
        "details": _details(obj.get("details")),
    }


_ERROR_KEYS = ("errorCode", "reason", "additionalDetails", "errorCategory", "recommendedAction")


def _status_info(value: Any) -> dict[str, Any] | None:
    obj = _object(value)
    if obj is None:
        return None
    error = _object(obj.get("errorInformation"))
    return {
        "status": _text(obj.get("status")),
        "errorInformation": {k: _text(error.get(k)) for k in _ERROR_KEYS} if error else None,
    }


def _legacy_status(value: Any) -> dict[str, Any] | None:
    obj = _object(value)
    if obj is None:
        return None
    return {"status": _text(obj.get("status")), **{k: _text(obj.get(k)) for k in _ERROR_KEYS}}


def _step(step: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": _text(step.get("name")),
        "provisioningStepType": _text(step.get("provisioningStepType", step.get("type"))),
        "status": _text(step.get("status")),
        "description": _text(step.get("description")),
        "details": _details(step.get("details")),
    }


def _int(value: Any) -> int | None:
    try:
        return int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def raw_record(obj: Mapping[str, Any], source_file: str, source_record: int) -> dict[str, Any]:
    """One Graph-shaped object -> one row of RAW_SCHEMA."""
    initiated = _object(obj.get("initiatedBy")) or {}
    principal = _object(obj.get("servicePrincipal"))
    steps = obj.get("provisioningSteps") or []
    props = obj.get("modifiedProperties") or []
    return {
        "id": _text(obj.get("id")),
        "activityDateTime": _text(obj.get("activityDateTime")),
        "tenantId": _text(obj.get("tenantId")),
        "jobId": _text(obj.get("jobId")),
        "cycleId": _text(obj.get("cycleId")),
        "changeId": _text(obj.get("changeId")),
        "provisioningAction": _text(obj.get("provisioningAction")),
        "action": _text(obj.get("action")),
        "durationInMilliseconds": _int(obj.get("durationInMilliseconds")),
        "initiatedBy": {
            "id": _text(initiated.get("id")),
            "displayName": _text(initiated.get("displayName")),
            "initiatorType": _text(
                initiated.get("initiatorType", initiated.get("initiatingType"))
            ),
        },
        "servicePrincipal": {
            "id": _text(principal.get("id")),
            "displayName": _text(principal.get("displayName", principal.get("name"))),
        }
        if principal
        else None,
        "sourceSystem": _system(obj.get("sourceSystem")),
        "targetSystem": _system(obj.get("targetSystem")),
        "sourceIdentity": _identity(obj.get("sourceIdentity")),
        "targetIdentity": _identity(obj.get("targetIdentity")),
        "provisioningStatusInfo": _status_info(obj.get("provisioningStatusInfo")),
        "statusInfo": _legacy_status(obj.get("statusInfo")),
        "provisioningSteps": [_step(s) for s in steps if isinstance(s, Mapping)],
        "modifiedProperties": [
            {
                "displayName": _text(p.get("displayName")),
                "oldValue": _text(p.get("oldValue")),
                "newValue": _text(p.get("newValue")),
            }
            for p in props
            if isinstance(p, Mapping)
        ],
        "source_file": source_file,
        "source_record": source_record,
    }


def records_to_frame(rows: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """Rows already passed through ``raw_record`` -> a frame with exactly RAW_SCHEMA."""
    return pl.DataFrame(list(rows), schema=RAW_SCHEMA)
