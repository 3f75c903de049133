"""Graph's property names, whatever casing a surface writes them in.

The diagnostic-settings / event-hub copy of a record (formats reference §3.1) spells the nested
objects ``{"Id", "Name"}``, ``initiatedBy.Type`` and ``provisioningStatusInfo.Status``; Log
Analytics' JSON-text columns mix PascalCase and camelCase. Both are folded here to Graph's
spelling, so ``records.raw_record`` reads one shape. ``details`` bags are kept as they are:
their keys are attribute names, not Graph properties.

The Microsoft Graph PowerShell SDK's objects (``Get-MgAuditLogProvisioning | ConvertTo-Json``)
spell every property in PascalCase, the event's own too (``ActivityDateTime``), and hold an
open type's properties (a ``details`` bag) and any the model does not declare in a dictionary
named ``AdditionalProperties``; Windows PowerShell writes their times as ``/Date(ms)/``. They
are folded here too (``sdk_object``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

_GRAPH_KEYS = {
    key.casefold(): key
    for key in (
        "id", "displayName", "name", "identityType", "type", "details", "initiatorType",
        "initiatingType", "status", "errorInformation", "errorCode", "reason",
        "additionalDetails", "errorCategory", "recommendedAction", "provisioningStepType",
        "description", "oldValue", "newValue",
    )
}
_KEY_NAMES: dict[str, str] = {}  # each spelling met -> its Graph name (few distinct keys)

# objects whose display name is written ``Name``/``name`` (a step's ``name`` is its step name)
NAMED_OBJECTS = frozenset({"initiatedBy", "servicePrincipal", "sourceSystem", "targetSystem",
                           "sourceIdentity", "targetIdentity"})
NESTED = NAMED_OBJECTS | {"provisioningStatusInfo", "statusInfo", "provisioningSteps",
                          "modifiedProperties"}


# an event's own properties (``provisioningObjectSummary``), the deprecated beta ones included
_EVENT_KEYS = {
    key.casefold(): key
    for key in (
        "id", "activityDateTime", "tenantId", "jobId", "cycleId", "changeId",
        "provisioningAction", "action", "durationInMilliseconds", "initiatedBy",
        "servicePrincipal", "sourceSystem", "targetSystem", "sourceIdentity", "targetIdentity",
        "provisioningStatusInfo", "statusInfo", "provisioningSteps", "modifiedProperties",
    )
}
_EXTRA = "AdditionalProperties"  # the SDK's dictionary of what its model does not declare
# how Windows PowerShell's ConvertTo-Json writes a DateTime: milliseconds since 1970, UTC
# (a WCF-style offset after them, if any, does not change the moment)
_MS_DATE = re.compile(r"/Date\((-?\d+)(?:[+-]\d{4})?\)/")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def graph_keys(value: Any) -> Any:
    """Rename inner keys case-insensitively to Graph's camelCase; ``details`` bags are kept
    as they are (their keys are attribute names, not Graph properties)."""
    if isinstance(value, list):
        return [graph_keys(item) for item in value]
    if isinstance(value, dict):
        renamed: dict[str, Any] = {}
        for key, inner in value.items():
            name = _KEY_NAMES.get(key)
            if name is None:
                name = _KEY_NAMES[key] = _GRAPH_KEYS.get(str(key).casefold(), str(key))
            nested = isinstance(inner, dict | list) and name != "details"
            renamed[name] = graph_keys(inner) if nested else inner
        return renamed
    return value


def named(value: Any, prop: str) -> Any:
    """An object's display name written ``Name`` (folded to ``name``) becomes ``displayName``."""
    if prop in NAMED_OBJECTS and isinstance(value, dict) and "name" in value \
            and "displayName" not in value:
        value["displayName"] = value.pop("name")
    return value


def _iso_time(value: Any) -> Any:
    """Windows PowerShell's ``/Date(ms)/`` as ISO 8601 UTC; any other value as it is (one out
    of range too, so that it is reported as an unreadable time, not lost)."""
    match = _MS_DATE.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        return value
    try:
        moment = _EPOCH + timedelta(milliseconds=int(match[1]))
    except OverflowError:
        return value
    return moment.isoformat().replace("+00:00", "Z")


def _opened(value: Any) -> Any:
    """``value`` with every ``AdditionalProperties`` dictionary in it opened (``_object``).
    Past ConvertTo-Json's ``-Depth`` the dictionary is written as its type name: a details bag
    that is only that becomes the text, which ``records.raw_record`` names as PowerShell's,
    rather than a detail called AdditionalProperties."""
    if isinstance(value, list):
        return [_opened(item) for item in value]
    if not isinstance(value, dict):
        return value
    if isinstance(value.get(_EXTRA), str) and len(value) == 1:
        return value[_EXTRA]
    return _object(value)


def _object(value: Mapping[str, Any]) -> dict[str, Any]:
    """An SDK object with its ``AdditionalProperties`` merged in; a property the object
    declares wins over one of the same name there. A ``details`` bag is the SDK's
    ``detailsInfo``, an open type: all of it is in that dictionary, whose keys and values are
    kept as Entra logged them."""
    extra = value.get(_EXTRA)
    if not isinstance(extra, dict):
        return {key: _opened(inner) for key, inner in value.items()}
    out = {key: _opened(inner) for key, inner in value.items() if key != _EXTRA}
    for key, inner in extra.items():
        if out.get(key) is None:
            out[key] = inner
    return out


def sdk_object(record: Mapping[str, Any]) -> dict[str, Any]:
    """A Graph PowerShell SDK object written by ConvertTo-Json as Graph spells the event: its
    own properties renamed case-insensitively, its ``AdditionalProperties`` opened (the nested
    objects' keys are folded by ``graph_spelling``)."""
    return {_EVENT_KEYS.get(str(key).casefold(), key): inner
            for key, inner in _object(record).items()}


def graph_spelling(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record whose properties may use another casing, in Graph's spelling. A record with
    neither ``activityDateTime`` nor ``provisioningSteps`` spelled so is taken for the
    PowerShell SDK's (``sdk_object``); the others' own keys are Graph's, so they are only
    copied, which keeps the common case cheap."""
    graph = "activityDateTime" in record or "provisioningSteps" in record
    out = dict(record) if graph else sdk_object(record)
    if "activityDateTime" in out:
        out["activityDateTime"] = _iso_time(out["activityDateTime"])
    for prop in NESTED:
        value = out.get(prop)
        if isinstance(value, dict | list):
            out[prop] = named(graph_keys(value), prop)
    return out


def from_envelope(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The event inside a diagnostic-settings envelope, in Graph's spelling; the envelope's
    ``resultType`` fills the status when ``properties`` has none (§3.1)."""
    event = graph_spelling(envelope["properties"])
    result = envelope.get("resultType")
    status_info = event.get("provisioningStatusInfo") or {}
    given = isinstance(result, str) and result.strip()
    if given and isinstance(status_info, dict) and not status_info.get("status"):
        event["provisioningStatusInfo"] = {**status_info, "status": result}
    return event
