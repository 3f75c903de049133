"""Records of other Entra logs (audit, sign-in) met among provisioning records: skipped and
counted by log, never read as events.

A diagnostic setting, an event hub or a storage download can carry every category Entra
sends, a Graph folder can hold pages of other endpoints, and a Log Analytics query can union
other tables. An audit record has an
``activityDateTime`` like a provisioning event, so without this check it would count as an
event whose status could not be read, and a sign-in as a record that could not be read.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from loganalyzer.wording import plural, verb

PROVISIONING = "ProvisioningLogs"  # the diagnostic-settings category (formats reference 3.1)
PROVISIONING_TABLE = "AADProvisioningLogs"  # its Log Analytics table (3.2)
# what only a provisioning event holds: a record with one of these is never another log's
_PROVISIONING_KEYS = ("provisioningSteps", "provisioningStatusInfo", "statusInfo", "cycleId",
                      "jobId", "changeId", "provisioningAction")
# Graph's log endpoints, as a page's @odata.context names them, and the category each is
_ENDPOINTS = {"directoryaudits": "AuditLogs", "signins": "SignInLogs"}
_CONTEXT = re.compile(r"#auditLogs/(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class OtherLog:
    """One record of another log, skipped."""

    file: str
    log: str  # its category ("AuditLogs", "SignInLogs", ...)


def envelope_category(obj: dict) -> str | None:
    """The category of a diagnostic-settings envelope that is not a provisioning one."""
    category = obj.get("category")
    if isinstance(category, str) and category.strip().lower() != PROVISIONING.lower():
        return category.strip() or None
    return None


def record_log(obj: Any) -> str | None:
    """The log a record belongs to when it is not a provisioning event: an envelope of
    another category, or a record shaped as Graph's directory audits or sign-ins."""
    if not isinstance(obj, dict):
        return None
    if isinstance(obj.get("properties"), dict) and "category" in obj:
        return envelope_category(obj)
    if any(key in obj for key in _PROVISIONING_KEYS):
        return None
    if "loggedByService" in obj or "activityDisplayName" in obj:
        return "AuditLogs"
    if "createdDateTime" in obj and ("appDisplayName" in obj or "appId" in obj):
        return "SignInLogs"
    return None


def table_log(row: Mapping[str, Any]) -> str | None:
    """The Log Analytics table a row is of, when its ``Type`` names another than
    AADProvisioningLogs (a query that unions SigninLogs or AuditLogs exports them together)."""
    for column, value in row.items():
        if str(column).strip().lower() == "type" and isinstance(value, str):
            table = value.strip()
            return table if table and table.lower() != PROVISIONING_TABLE.lower() else None
    return None


def page_log(context: Any) -> str | None:
    """The log a Graph page holds when its ``@odata.context`` names another endpoint."""
    match = _CONTEXT.search(context) if isinstance(context, str) else None
    # early beta pages name the endpoint auditLogs/directoryProvisioning (reference 1.1)
    if match is None or "provisioning" in match.group(1).lower():
        return None
    return _ENDPOINTS.get(match.group(1).lower(), match.group(1))


def skipped_note(counts: Counter[str]) -> str:
    """One note for every record of other logs skipped, by log."""
    total = sum(counts.values())
    logs = ", ".join(f"{log} {count:,}" for log, count in counts.most_common())
    return (f"{plural(total, 'record')} of other Entra logs ({logs}) {verb(total, 'was', 'were')} "
            "skipped: not provisioning events")


def only_other_logs(counts: Counter[str]) -> str:
    """Why an input of other logs alone has no events, and what to export instead."""
    logs = ", ".join(f"{log} {count:,}" for log, count in counts.most_common())
    return (f"holds no provisioning events, only other Entra logs ({logs}); export the "
            f"provisioning logs: the diagnostic-settings category {PROVISIONING}, the portal's "
            "Provisioning logs download, or Graph's /auditLogs/provisioning")
