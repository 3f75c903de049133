"""Which column of a provisioning CSV means what: the synonym tables, as data.

The literal headers of the Entra admin center CSV download are not published, so columns are
recognised by meaning, never by position. Every header is folded by ``fold_header`` (BOM and
``(UTC)``/``[UTC]`` suffix dropped, case-folded, everything but letters and digits removed), so
``Change ID``, ``changeId``, ``ChangeId`` and ``change_id`` are one key, and the dotted Graph
path ``sourceIdentity.displayName`` equals the display name ``Source Identity Display Name``.

Each table maps a Graph path (where the value goes in the Graph-shaped record) to the header
spellings seen or expected for it; the path itself is always accepted too. Add a spelling here
and nothing else needs to change.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

_UTC_SUFFIX = re.compile(r"\s*[\(\[]\s*utc\s*[\)\]]\s*$", re.IGNORECASE)
_NOT_ALNUM = re.compile(r"[^0-9a-z]")


def fold_header(header: str) -> str:
    """One comparable key per header spelling (see the module docstring)."""
    text = _UTC_SUFFIX.sub("", header.replace("\ufeff", "").strip())
    return _NOT_ALNUM.sub("", text.casefold())


# The main file (ProvisioningLogs): one row per event.
MAIN_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("ID", "Id", "Log ID", "Activity ID", "Event ID", "Record ID"),
    "activityDateTime": (
        "Date", "Date (UTC)", "Activity Date", "Activity Date Time", "Date Time", "Time",
        "Timestamp", "Activity Time",
    ),
    "tenantId": ("Tenant ID", "Tenant"),
    "jobId": ("Job ID",),
    "cycleId": ("Cycle ID",),
    "changeId": ("Change ID",),
    "provisioningAction": ("Provisioning Action", "Action"),
    "durationInMilliseconds": ("Duration (ms)", "Duration", "Duration in milliseconds",
                               "Duration Ms"),
    "provisioningStatusInfo.status": ("Status", "Provisioning Status", "Result"),
    "provisioningStatusInfo.errorInformation.errorCode": ("Error Code", "Error"),
    "provisioningStatusInfo.errorInformation.reason": (
        "Status Reason", "Failure Reason", "Reason", "Error Reason", "Error Description",
        "Error Message", "Status Details",
    ),
    "provisioningStatusInfo.errorInformation.errorCategory": ("Error Category",),
    "provisioningStatusInfo.errorInformation.additionalDetails": ("Additional Details",),
    "provisioningStatusInfo.errorInformation.recommendedAction": ("Recommended Action",),
    "sourceSystem.id": ("Source System ID",),
    "sourceSystem.displayName": ("Source System", "Source System Name",
                                 "Source System Display Name"),
    "targetSystem.id": ("Target System ID",),
    "targetSystem.displayName": ("Target System", "Target System Name",
                                 "Target System Display Name"),
    "sourceIdentity.id": ("Source ID", "Source Identity ID", "Source Object ID"),
    "sourceIdentity.displayName": ("Source Identity", "Source Display Name", "Source Name",
                                   "Source Identity Name", "Identity"),
    "sourceIdentity.identityType": ("Source Identity Type", "Source Type", "Identity Type",
                                    "Source Object Type", "Object Type"),
    "sourceIdentity.details.UserPrincipalName": ("User Principal Name", "UPN", "Source UPN",
                                                 "Source User Principal Name"),
    "targetIdentity.id": ("Target ID", "Target Identity ID", "Target Object ID"),
    "targetIdentity.displayName": ("Target Identity", "Target Display Name", "Target Name",
                                   "Target Identity Name"),
    "targetIdentity.identityType": ("Target Identity Type", "Target Type",
                                    "Target Object Type"),
    "servicePrincipal.id": ("Service Principal ID",),
    "servicePrincipal.displayName": (
        "Service Principal", "Service Principal Name", "Service Principal Display Name",
        "servicePrincipal.name", "Application", "Application Name", "App", "App Name",
    ),
    "initiatedBy.id": ("Initiated By ID", "Initiator ID"),
    "initiatedBy.displayName": ("Initiated By", "Initiated By Display Name", "Initiator"),
    "initiatedBy.initiatorType": ("Initiated By Type", "Initiator Type"),
}

# The steps file (ProvisioningLogs_ProvisioningSteps): one row per step, keyed by change ID.
STEP_COLUMNS: dict[str, tuple[str, ...]] = {
    "changeId": ("Change ID",),
    "eventId": ("ID", "Id", "Log ID", "Activity ID", "Event ID"),
    "order": ("Step", "Step Number", "Step No", "Step Index", "Step Order", "Order", "Index",
              "Sequence"),  # a number; file order when it is not one
    "name": ("Step Name", "Name", "provisioningSteps.name"),
    "provisioningStepType": ("Step Type", "Type", "Provisioning Step Type",
                             "provisioningSteps.provisioningStepType"),
    "status": ("Step Status", "Status", "provisioningSteps.status"),
    "description": ("Step Description", "Description", "provisioningSteps.description"),
    "details": ("Step Details", "Details", "provisioningSteps.details"),
}

# The modified-properties file (ProvisioningLogs_ModifiedProperties): one row per attribute.
PROPERTY_COLUMNS: dict[str, tuple[str, ...]] = {
    "changeId": ("Change ID",),
    "eventId": ("ID", "Id", "Log ID", "Activity ID", "Event ID"),
    "displayName": ("Property", "Property Name", "Modified Property", "Attribute",
                    "Attribute Name", "Display Name", "Name", "modifiedProperties.displayName"),
    "oldValue": ("Old Value", "Previous Value", "modifiedProperties.oldValue"),
    "newValue": ("New Value", "Value", "modifiedProperties.newValue"),
}


class CsvKind(StrEnum):
    MAIN = "portal CSV (main)"
    STEPS = "portal CSV (steps)"
    PROPERTIES = "portal CSV (modified properties)"
    LOG_ANALYTICS = "Log Analytics CSV"


@dataclass(frozen=True)
class HeaderMap:
    """Where each known field sits in a file's header, and the headers nobody asked for."""

    positions: dict[str, int]  # Graph path (or table field) -> column index
    unknown: tuple[str, ...]
    duplicates: tuple[str, ...]

    def has(self, *fields: str) -> bool:
        return all(f in self.positions for f in fields)


def _lookup(table: dict[str, tuple[str, ...]]) -> dict[str, str]:
    folded: dict[str, str] = {}
    for path, spellings in table.items():
        for spelling in (path, *spellings):
            folded.setdefault(fold_header(spelling), path)
    return folded


_LOOKUPS = {
    CsvKind.MAIN: _lookup(MAIN_COLUMNS),
    CsvKind.STEPS: _lookup(STEP_COLUMNS),
    CsvKind.PROPERTIES: _lookup(PROPERTY_COLUMNS),
}


def map_header(header: Iterable[str], kind: CsvKind) -> HeaderMap:
    """Place each header of a portal CSV of ``kind``; the first of two equal headers wins."""
    lookup = _LOOKUPS[kind]
    positions: dict[str, int] = {}
    unknown: list[str] = []
    duplicates: list[str] = []
    for index, name in enumerate(header):
        field = lookup.get(fold_header(name))
        if field is None:
            if name.strip():
                unknown.append(name.strip())
        elif field in positions:
            duplicates.append(name.strip())
        else:
            positions[field] = index
    return HeaderMap(positions, tuple(unknown), tuple(duplicates))


def classify_portal(header: list[str]) -> tuple[CsvKind, HeaderMap] | None:
    """Which of the three portal files this header belongs to, or None.

    Old/new values with a change ID make the properties file; a change ID with a step type,
    step number or details column (which no main file has), or with a step's name or
    description and no event time, the steps file; an event time with an event id or change
    ID the main file. A steps file that also repeats its event's date and id is still one.
    """
    props = map_header(header, CsvKind.PROPERTIES)
    if props.has("changeId") and ("oldValue" in props.positions or "newValue" in props.positions):
        return CsvKind.PROPERTIES, props
    main = map_header(header, CsvKind.MAIN)
    steps = map_header(header, CsvKind.STEPS)
    only_steps = {"provisioningStepType", "details", "order"} & steps.positions.keys()
    step_fields = {"name", "description"} & steps.positions.keys()
    undated = "activityDateTime" not in main.positions
    if steps.has("changeId") and (only_steps or (step_fields and undated)):
        return CsvKind.STEPS, steps
    if main.has("activityDateTime") and ("id" in main.positions or main.has("changeId")):
        return CsvKind.MAIN, main
    return None


EXPECTED = (
    "a portal CSV download (ProvisioningLogs with 'Date (UTC)' and 'ID' or 'Change ID'; "
    "its steps file with 'Change ID' and 'Step Type'/'Details'; its modified-properties file "
    "with 'Change ID' and 'Old Value'/'New Value') or a Log Analytics AADProvisioningLogs "
    "export (with 'TimeGenerated' and 'Id')"
)
