"""The response of ``provisionOnDemand`` (guide step 8a) read as one provisioning event.

Graph returns a ``stringKeyStringValuePair`` whose ``key`` and ``value`` are JSON *text*
(formats reference §5.3): ``key`` holds ``{"result", "details": {"errorCode",
"errorMessage"}}``, ``value`` a provisioning-log-like object with other names (``startTime``,
``reportableIdentifier``, ``statusInfo``, steps with ``type``, systems with ``name``). An
engineer may paste the whole response or only the decoded ``value``; both become one Graph-
shaped record, so the test user of step 8a gets a diagnosis like any logged event.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from loganalyzer.problems import InputError
from loganalyzer.readers.records import Item, raw_record
from loganalyzer.readers.sources import Source
from loganalyzer.readers.spelling import graph_spelling

INITIATOR = {"id": "", "displayName": "Provision on demand", "initiatorType": "user"}


def is_on_demand(document: Any) -> bool:
    """The response (``key``/``value`` JSON text) or its decoded ``value``."""
    if not isinstance(document, Mapping):
        return False
    if isinstance(document.get("key"), str) and isinstance(document.get("value"), str):
        return True
    return "startTime" in document and "provisioningSteps" in document and "id" not in document


def _decoded(text: Any, source: Source, what: str) -> dict[str, Any]:
    if isinstance(text, Mapping):
        return dict(text)
    try:
        value = json.loads(text) if isinstance(text, str) and text.strip() else {}
    except json.JSONDecodeError as exc:
        raise InputError(source.name, f"'{what}' of the provisionOnDemand response is not JSON "
                         f"text ({exc.msg} at character {exc.pos})") from exc
    except (ValueError, RecursionError) as exc:  # a huge number, or nested too deep
        raise InputError(source.name, f"'{what}' of the provisionOnDemand response cannot be "
                         "read (a number too long, or JSON nested too deep)") from exc
    if not isinstance(value, Mapping):
        raise InputError(source.name, f"'{what}' of the provisionOnDemand response is not a "
                         "JSON object")
    return dict(value)


def as_event(key: Mapping[str, Any], value: Mapping[str, Any]) -> dict[str, Any]:
    """The decoded pair as a Graph ``provisioningObjectSummary`` (also what ``retest`` reads:
    ``loganalyzer/on_demand.py``)."""
    event = graph_spelling(value)
    details = key.get("details") if isinstance(key.get("details"), Mapping) else {}
    info = event.get("statusInfo") if isinstance(event.get("statusInfo"), Mapping) else {}
    status = key.get("result") or info.get("status")
    steps = event.get("provisioningSteps") if isinstance(event.get("provisioningSteps"), list) \
        else []
    first_time = next((s.get("timestamp") for s in steps if isinstance(s, Mapping)), None)
    code = info.get("errorCode") or details.get("errorCode")
    reason = info.get("reason") or details.get("errorMessage")
    if str(status).casefold() == "skipped" and code:
        _note_skip_reason(steps, code)
    return {
        **event,
        "id": event.get("changeId") or f"on-demand-{event.get('startTime')}",
        "activityDateTime": event.get("startTime") or event.get("endTime") or first_time,
        "provisioningAction": event.get("action"),
        "initiatedBy": INITIATOR,
        "provisioningStatusInfo": {
            "status": status,
            "errorInformation": {
                "errorCode": code, "reason": reason,
                "additionalDetails": info.get("additionalDetails"),
                "errorCategory": info.get("errorCategory"),
                "recommendedAction": info.get("recommendedAction"),
            } if code or reason else None,
        },
        "statusInfo": None,
    }


def _note_skip_reason(steps: list[Any], code: str) -> None:
    """The skip reason lives in ``key`` here; the rulebook reads it from the skipped step."""
    skipped = [s for s in steps if isinstance(s, dict)
               and str(s.get("status", "")).casefold() == "skipped"]
    if not skipped:
        return
    details = skipped[-1].get("details")
    if isinstance(details, dict) and not any(k.casefold() == "skipreason" for k in details):
        details["SkipReason"] = code


def read_on_demand(source: Source, document: Mapping[str, Any]) -> Iterator[Item]:
    """One RAW row (and any field of the wrong type) from the response or its ``value``."""
    if "key" in document and "value" in document:
        key = _decoded(document["key"], source, "key")
        value = _decoded(document["value"], source, "value")
    else:
        key, value = {}, dict(document)
    row, ignored = raw_record(as_event(key, value), source.name, 1, "the provisionOnDemand result")
    yield row
    yield from ignored
