"""Graph's property names, whatever casing a surface writes them in.

The diagnostic-settings / event-hub copy of a record (formats reference §3.1) spells the nested
objects ``{"Id", "Name"}``, ``initiatedBy.Type`` and ``provisioningStatusInfo.Status``; Log
Analytics' JSON-text columns mix PascalCase and camelCase. Both are folded here to Graph's
spelling, so ``records.raw_record`` reads one shape. ``details`` bags are kept as they are:
their keys are attribute names, not Graph properties.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def graph_spelling(record: Mapping[str, Any]) -> dict[str, Any]:
    """A record whose nested objects may use another casing, in Graph's spelling."""
    out = dict(record)
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
