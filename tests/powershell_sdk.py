"""Graph events as ``Get-MgAuditLogProvisioning | ConvertTo-Json -Depth 10`` writes them.

The Microsoft Graph PowerShell SDK returns typed objects
(``MicrosoftGraphProvisioningObjectSummary``) whose properties are Graph's names in PascalCase.
ConvertTo-Json writes every property a model declares (null when Graph sent none) and each
object's ``AdditionalProperties`` dictionary, which holds what the model does not declare and
all of an open type (``detailsInfo``), keys as Graph sent them. Enums are strings. PowerShell 7
writes a DateTime as ISO 8601; Windows PowerShell 5.1 writes ``"\\/Date(ms)\\/"``, indents by
four and puts two spaces after each colon.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

BAG = "detailsInfo"  # an open type: nothing declared, all in AdditionalProperties
# each model's declared properties, as the SDK's help lists them
_IDENTITY = {"details": BAG, "displayName": None, "id": None, "identityType": None}
_SYSTEM = {"details": BAG, "displayName": None, "id": None}
_ERROR = dict.fromkeys(
    ("additionalDetails", "errorCategory", "errorCode", "reason", "recommendedAction"))
EVENT = {
    "id": None, "activityDateTime": None, "changeId": None, "cycleId": None,
    "durationInMilliseconds": None,
    "initiatedBy": {"displayName": None, "id": None, "initiatorType": None},
    "jobId": None,
    "modifiedProperties": {"displayName": None, "newValue": None, "oldValue": None},
    "provisioningAction": None,
    "provisioningStatusInfo": {"errorInformation": _ERROR, "status": None},
    "provisioningSteps": {"description": None, "details": BAG, "name": None,
                          "provisioningStepType": None, "status": None},
    "servicePrincipal": {"displayName": None, "id": None},
    "sourceIdentity": _IDENTITY, "sourceSystem": _SYSTEM,
    "targetIdentity": _IDENTITY, "targetSystem": _SYSTEM,
    "tenantId": None,
}


def typed(value: Any, model: Any = EVENT) -> Any:
    """``value``, as Graph sent it, as the SDK's object of ``model`` writes it."""
    if value is None or model is None:
        return value
    if model == BAG:
        return {"AdditionalProperties": value}
    if isinstance(value, list):
        return [typed(item, model) for item in value]
    out = {name[0].upper() + name[1:]: typed(value.get(name), inner)
           for name, inner in model.items()}
    out["AdditionalProperties"] = {k: v for k, v in value.items() if k not in model}
    return out


def _ms_date(iso: str) -> str:
    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return f"/Date({round(moment.timestamp() * 1000)})/"


def convert_to_json(events: list[dict], windows_powershell: bool = False) -> str:
    """The events' SDK objects as ConvertTo-Json -Depth 10 writes them, in PowerShell 7 or in
    Windows PowerShell 5.1."""
    objects = [typed(event) for event in events]
    if not windows_powershell:
        return json.dumps(objects, indent=2, ensure_ascii=False)
    for obj in objects:
        obj["ActivityDateTime"] = _ms_date(obj["ActivityDateTime"])
    text = json.dumps(objects, indent=4, separators=(",", ":  "), ensure_ascii=False)
    return text.replace('"/Date(', '"\\/Date(').replace(')/"', ')\\/"')
