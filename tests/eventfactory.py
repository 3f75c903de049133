"""Realistic Entra -> Flowcase provisioning events for rule tests, shaped like Graph returns them.

Every record is a ``provisioningObjectSummary`` dict (steps with their real names, types,
descriptions and detail keys; ``modifiedProperties``; the ``StatusCode: ... Web Response: ...``
reason) that goes through the production path ``raw_record -> records_to_frame -> normalize``,
so rule tests exercise the same columns a real export produces.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from loganalyzer.normalize import Frames, normalize
from loganalyzer.readers.records import raw_record, records_to_frame

APP = "Flowcase SCIM"
TARGET = "customappsso"
SOURCE = "Microsoft Entra ID"
JOB = "scim.4b8c18bd2f9f4227af559f1061cf9c32.4ba261ce-287a-459c-93eb-7047bab3cfb9"
TENANT = "4b8c18bd-2f9f-4227-af55-9f1061cf9c32"
START = datetime(2026, 3, 24, 7, 0, tzinfo=UTC)

EMAIL = 'emails[type eq "work"].value'
DEPARTMENT = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department"
MANAGER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager"
COUNTRY_CODE = "urn:ietf:params:scim:schemas:extension:flowcase:2.0:User:countryCode"
COUNTRY_NAME = "urn:ietf:params:scim:schemas:extension:flowcase:2.0:User:countryName"

STATUS_NAMES = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    422: "UnprocessableEntity",
    429: "TooManyRequests",
    500: "InternalServerError",
    502: "BadGateway",
    503: "ServiceUnavailable",
    504: "GatewayTimeout",
}
_WRAPPER = (
    "Processing of the HTTP request resulted in an exception. Please see the HTTP response "
    "returned by the 'Response' property of this exception for details."
)
_VERB = {"create": "create", "update": "update", "disable": "update", "delete": "delete"}
_EXPORT_STEP = {
    "create": "EntryExportAdd",
    "update": "EntryExportUpdate",
    "disable": "EntryExportUpdateSoftDelete",
    "delete": "EntryExportDelete",
}
_counter = itertools.count(1)


def flatten_key(path: str) -> str:
    """How export-step details spell an attribute path: ':' and '.' dropped."""
    return path.replace(":", "").replace(".", "")


def scim_error(status: int, detail: str | None, scim_type: str | None = None) -> str:
    body: dict[str, Any] = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"]}
    if detail is not None:
        body["detail"] = detail
    body["status"] = status
    if scim_type:
        body["scimType"] = scim_type
    return json.dumps(body, separators=(",", ":"))


def scim_reason(
    status: int,
    detail: str | None = None,
    *,
    scim_type: str | None = None,
    body: str | None = None,
    retries: int = 0,
    collapsed: bool = False,
) -> str:
    """The ``reason`` Entra writes for a failed request to a SCIM app."""
    body = body if body is not None else scim_error(status, detail, scim_type)
    sep = " " if collapsed else "\r\n"
    return (
        f"StatusCode: {STATUS_NAMES.get(status, status)}{sep}Message: {_WRAPPER}{sep}"
        f"Web Response: {sep}{body}. This operation was retried {retries} times. "
        "It will be retried again after this date: 2026-03-24T13:23:44.9198514Z UTC"
    )


class Export:
    """Builds one export's records; times advance by a minute per event unless given."""

    def __init__(self, start: datetime = START) -> None:
        self.records: list[dict[str, Any]] = []
        self.clock = start
        self.object_ids: dict[str, str] = {}

    def _time(self, at: datetime | None) -> str:
        if at is None:
            self.clock += timedelta(minutes=1)
            at = self.clock
        return at.strftime("%Y-%m-%dT%H:%M:%SZ")

    def object_id(self, key: str) -> str:
        if key not in self.object_ids:
            self.object_ids[key] = f"{len(self.object_ids) + 1:08x}-4a4c-4b2e-9c1d-5e6f7a8b9c0d"
        return self.object_ids[key]

    def user(
        self,
        upn: str,
        *,
        action: str = "create",
        status: str = "success",
        cycle: str = "cycle-1",
        at: datetime | None = None,
        display_name: str | None = None,
        sent: Mapping[str, str] | None = None,
        sent_in: str = "both",
        http: int | None = None,
        detail: str | None = None,
        scim_type: str | None = None,
        body: str | None = None,
        reason: str | None = None,
        error_code: str | None = None,
        retries: int = 0,
        escrow: bool = False,
        skip_reason: str | None = None,
        assigned: bool = True,
        active: bool = True,
        scope_filter: Mapping[str, bool] | None = None,
        scoping: Mapping[str, str] | None = None,
        matched_id: str | None = None,
        matched_active: str | None = None,
        source: Mapping[str, str] | None = None,
        object_id: str | None = None,
    ) -> dict[str, Any]:
        """One user event. ``sent`` maps SCIM attribute paths to the values Entra sent.

        ``scope_filter`` maps scoping-filter clauses to whether they passed; ``scoping``
        replaces the scoping step's details as logged (e.g. the on-demand keys ``IsActive``,
        ``Assigned``), and an empty mapping leaves the scoping step out. ``matched_active`` is
        the ``active`` value the matching step found in Flowcase.
        """
        oid = object_id or self.object_id(upn.lower())
        name = display_name or upn.split("@")[0].replace(".", " ").title()
        if sent is None and status != "skipped":
            sent = {"userName": upn.lower(), EMAIL: upn.lower(), "active": "True"}
        steps = [self._import_step(upn, name, oid, action, escrow, source)]
        if scoping is None or scoping:
            steps.append(self._scoping_step(assigned, active, scope_filter or {}, scoping))
        if status == "skipped":
            steps.append(self._skip_step(upn, skip_reason or "NotEffectivelyEntitled"))
            action = "other"
        else:
            steps.append(self._matching_step(upn, action, matched_id, matched_active))
            steps.append(self._export_step(upn, action, status, sent or {}, sent_in))
        if reason is None and http is not None and status in ("failure", "warning"):
            reason = scim_reason(http, detail, scim_type=scim_type, body=body, retries=retries)
        error = None
        if status == "failure":
            error = _error_info(
                error_code or "SystemForCrossDomainIdentityManagementServiceIncompatible", reason)
        elif status == "warning" and (error_code or reason):  # a warning may say why
            error = _error_info(error_code, reason)
        props = []
        if sent and sent_in in ("both", "props") and status != "skipped":
            props = [{"displayName": k, "oldValue": None, "newValue": v} for k, v in sent.items()]
        record = self._envelope(action, status, error, cycle, at)
        record.update(
            provisioningSteps=steps,
            modifiedProperties=props,
            sourceIdentity={
                "details": {
                    "DisplayName": name,
                    "UserPrincipalName": upn,
                    "id": oid,
                    "odatatype": "User",
                },
                "displayName": name,
                "id": oid,
                "identityType": "User",
            },
            targetIdentity={
                "details": {},
                "displayName": "",
                "id": matched_id or "",
                "identityType": "User",
            },
        )
        self.records.append(record)
        return record

    def group(
        self,
        name: str,
        *,
        status: str = "failure",
        http: int | None = 404,
        detail: str | None = None,
        reason: str | None = None,
        cycle: str = "cycle-1",
        at: datetime | None = None,
        action: str = "create",
        skip_reason: str | None = None,
    ) -> dict[str, Any]:
        """One group event (the SCIM group mapping left enabled)."""
        oid = self.object_id("group:" + name)
        steps = [
            {
                "name": "EntryImportAdd",
                "provisioningStepType": "import",
                "status": "success",
                "description": f"Received Group '{name}' change of type (Add) from {SOURCE}",
                "details": {"objectId": oid, "displayName": name},
            }
        ]
        error = None
        if status == "skipped":
            action = "other"
            steps.append(self._skip_step(oid, skip_reason or "RedundantExport", "Group"))
        else:
            steps.append(
                {
                    "name": "EntryExportAdd",
                    "provisioningStepType": "export",
                    "status": status,
                    "description": f"Failed to create Group '{name}' in {TARGET}"
                    if status == "failure"
                    else f"Group '{name}' was created in {TARGET}",
                    "details": {"ReportableIdentifier": name, "displayName": name},
                }
            )
        if status == "failure":
            if reason is None and http is not None:
                reason = scim_reason(http, detail or "Resource type Group not supported")
            error = _error_info(
                "SystemForCrossDomainIdentityManagementServiceIncompatible", reason)
        record = self._envelope(action, status, error, cycle, at)
        record.update(
            provisioningSteps=steps,
            modifiedProperties=[
                {"displayName": "displayName", "oldValue": None, "newValue": name},
                {"displayName": "externalId", "oldValue": None, "newValue": oid},
            ],
            sourceIdentity={
                "details": {"DisplayName": name, "id": oid, "odatatype": "Group"},
                "displayName": name,
                "id": oid,
                "identityType": "Group",
            },
            targetIdentity={
                "details": {},
                "displayName": "",
                "id": "",
                "identityType": "urn:ietf:params:scim:schemas:core:2.0:Group",
            },
        )
        self.records.append(record)
        return record

    def frames(self) -> Frames:
        return frames_of(self.records)

    # -- record parts -------------------------------------------------------------------------

    def _envelope(self, action, status, error, cycle, at) -> dict[str, Any]:
        n = next(_counter)
        return {
            "id": f"{n:08x}-f27c-832e-6757-be2d5ed806ba",
            "activityDateTime": self._time(at),
            "tenantId": TENANT,
            "jobId": JOB,
            "cycleId": cycle,
            "changeId": f"{n:08x}-cf65-4929-bc3f-87749ad75644",
            "provisioningAction": action,
            "durationInMilliseconds": 630,
            "initiatedBy": {
                "displayName": "Azure AD Provisioning Service",
                "id": "",
                "initiatorType": "system",
            },
            "provisioningStatusInfo": {"status": status, "errorInformation": error},
            "servicePrincipal": {"displayName": APP, "id": "e7e9d06f-8673-4759-bfed-67d4990"},
            "sourceSystem": {"details": {}, "displayName": SOURCE, "id": "e156568c"},
            "targetSystem": {
                "details": {"ServicePrincipalDisplayName": APP},
                "displayName": TARGET,
                "id": "ed85458d",
            },
        }

    @staticmethod
    def _import_step(upn, name, oid, action, escrow, source) -> dict[str, Any]:
        if escrow:
            return {
                "name": "EntryEscrowRetry",
                "provisioningStepType": "import",
                "status": "success",
                "description": "We are retrying an operation that previously failed.\r\n"
                f"Identifier: {upn}\r\nObject type: User\r\nDirectory: {SOURCE}",
                "details": {
                    "CountProcessed": "0",
                    "CreationTime": "2026-03-24T07:17:42.9099941Z",
                    "Identifier": oid,
                    "ModificationType": "Add" if action == "create" else "Update",
                    "NextAttempt": "3/24/2026 7:17:42 AM",
                    "Origin": "Source",
                    "TypeName": "EscrowedEntryDefault",
                },
            }
        change = "Add" if action == "create" else "Update"
        details = {
            "objectId": oid,
            "accountEnabled": "True",
            "displayName": name,
            "userPrincipalName": upn,
            "mail": upn,
            "IsSoftDeleted": "False",
        }
        details.update(source or {})
        return {
            "name": f"EntryImport{change}",
            "provisioningStepType": "import",
            "status": "success",
            "description": f"Received User '{upn}' change of type ({change}) from {SOURCE}",
            "details": details,
        }

    @staticmethod
    def _scoping_step(
        assigned: bool,
        active: bool,
        scope_filter: Mapping[str, bool],
        details: Mapping[str, str] | None,
    ) -> dict[str, Any]:
        if details is None:
            details = {
                "Active in the source system": str(active),
                "Assigned to the application": str(assigned),
                "User has the required role": str(assigned),
                "ScopeEvaluationResult": json.dumps(dict(scope_filter), separators=(",", ":")),
                "Scoping filter evaluation passed": str(all(scope_filter.values())),
            }
        return {
            "name": "EntrySynchronizationScoping",
            "provisioningStepType": "scoping",
            "status": "success",
            "description": "Determine if User in scope by evaluating against each scoping filter",
            "details": dict(details),
        }

    @staticmethod
    def _matching_step(upn, action, matched_id, matched_active=None) -> dict[str, Any]:
        if action == "create" and not matched_id:
            return {
                "name": "EntrySynchronizationAdd",
                "provisioningStepType": "matching",
                "status": "success",
                "description": f"User '{upn}' will be created in {TARGET} (User is active and "
                f"assigned in {SOURCE}, but no matching User was found in {TARGET})",
                "details": {},
            }
        return {
            "name": "EntryImport",
            "provisioningStepType": "matching",
            "status": "success",
            "description": f"Retrieved  '{upn}' from {TARGET}",
            "details": {"id": matched_id or "ffsdj2g8zwtfkd", "userName": upn.lower(),
                        **({"active": matched_active} if matched_active else {})},
        }

    @staticmethod
    def _export_step(upn, action, status, sent, sent_in) -> dict[str, Any]:
        verb = _VERB.get(action, action)
        details = {"ReportableIdentifier": upn}
        if sent_in in ("both", "export"):
            details.update({flatten_key(k): v for k, v in sent.items()})
        description = (
            f"Failed to {verb} User '{upn}' in {TARGET}"
            if status == "failure"
            else f"User '{upn}' was {verb}d in {TARGET}"
        )
        return {
            "name": _EXPORT_STEP.get(action, "EntryExportUpdate"),
            "provisioningStepType": "export",
            "status": status,
            "description": description,
            "details": details,
        }

    @staticmethod
    def _skip_step(subject, skip_reason, kind="User") -> dict[str, Any]:
        if skip_reason == "RedundantExport":
            description = (
                "The state of the entry in both the source and target systems already match. "
                f"No change to the {kind} '{subject}' currently needs to be made."
            )
        else:
            description = (
                f"The {kind} '{subject}' will be skipped due to the following reasons: 1) This "
                "object is not assigned to the application. If you did not expect the object "
                "to be skipped, assign the object to the application or change your scoping "
                "filter to allow all users and groups to be in scope for provisioning."
            )
        return {
            "name": "EntrySynchronizationSkip",
            "provisioningStepType": "export",
            "status": "skipped",
            "description": description,
            "details": {"ReportableIdentifier": subject, "SkipReason": skip_reason},
        }


COST_CENTER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter"


def ignored_attribute_warning(x: Export, upn: str, **kw: Any) -> dict[str, Any]:
    """An update Flowcase took but for one attribute it ignored: status warning, with the
    400 its answer gave for that attribute in the reason."""
    return x.user(
        upn, action="update", status="warning", http=400, scim_type="invalidPath",
        detail=f"Attribute '{COST_CENTER}' is not supported and was ignored",
        error_code="SystemForCrossDomainIdentityManagementServiceIncompatible",
        sent={"userName": upn.lower(), EMAIL: upn.lower(), COST_CENTER: "4711"}, **kw,
    )



def ignored_warnings_export(path: Path) -> Path:
    """An export of one user in sync and two whose costCenter Flowcase ignored: warnings no
    rule explains."""
    x = Export()
    x.user("kari.nilsen@contoso.no")
    ignored_attribute_warning(x, "silje.bakken@contoso.no")
    ignored_attribute_warning(x, "oskar.nystrom@contoso.se")
    path.write_text(json.dumps(x.records))
    return path


def unresolved_manager_warning(x: Export, upn: str, manager_id: str, **kw: Any) -> dict:
    """Entra could not resolve the manager reference (the manager is not in Flowcase): the
    user is updated without it, after a referenceResolution step at warning."""
    said = (f"We were unable to assign {manager_id} as the manager of {upn}. The referenced "
            f"User is not provisioned in {TARGET}.")
    record = x.user(upn, action="update", status="warning", reason=said,
                    error_code="UnableToResolveReferenceAttributeValue", **kw)
    record["provisioningSteps"].insert(-1, {
        "name": "EntryReferenceResolution",
        "provisioningStepType": "referenceResolution",
        "status": "warning",
        "description": said,
        "details": {"ReferenceAttribute": "manager", "ReferencedObjectId": manager_id,
                    "Reason": "UnableToResolveReferenceAttributeValue"},
    })
    return record


def status_only_warning(x: Export, upn: str, said: str, *, in_details: bool = False,
                        **kw: Any) -> dict[str, Any]:
    """An update at warning that logged no error information (``errorInformation`` null):
    what Entra warned of is only in the export step at warning, in its description or, with
    ``in_details``, in its details (the description left empty). The formats reference
    lists ``warning`` among the statuses but publishes no warning record: ``said`` is
    illustrative wording."""
    record = x.user(upn, action="update", status="warning", **kw)
    assert record["provisioningStatusInfo"]["errorInformation"] is None
    [step] = [s for s in record["provisioningSteps"] if s["status"] == "warning"]
    if in_details:
        step["description"] = ""
        step["details"] = {"ReportableIdentifier": upn, "Warning": said}
    else:
        step["description"] = said
    return record


TITLE_LEFT = ("User 'tuva.aas@contoso.no' was updated in customappsso, but the value of "
              "'jobTitle' was not accepted & was left <unchanged>")


def status_only_warnings_export(path: Path) -> Path:
    """An export of one user in sync and two updates at warning that logged no error
    information, only their export step's description (``status_only_warning``)."""
    x = Export()
    x.user("kari.nilsen@contoso.no")
    status_only_warning(x, "tuva.aas@contoso.no", TITLE_LEFT)
    status_only_warning(x, "ola.dahl@contoso.no", TITLE_LEFT.replace("tuva.aas", "ola.dahl"))
    path.write_text(json.dumps(x.records))
    return path


def _error_info(code: str | None, reason: str | None) -> dict[str, Any]:
    """``provisioningStatusInfo.errorInformation`` as Graph returns it."""
    return {
        "errorCode": code,
        "reason": reason,
        "additionalDetails": None,
        "errorCategory": "nonServiceFailure",
        "recommendedAction": None,
    }


def frames_of(records: Iterable[Mapping[str, Any]]) -> Frames:
    """Graph-shaped dicts -> canonical frames, through the production readers' path."""
    read = [raw_record(r, "test-export.json", i) for i, r in enumerate(records)]
    ignored = [str(note) for _, notes in read for note in notes]
    assert not ignored, ignored
    frames, problems = normalize(records_to_frame(row for row, _ in read))
    assert not problems, problems
    return frames


def held_reversed(frames: Frames) -> Frames:
    """The same events with every frame's rows in reverse order: what a join or a store may
    hand back, which must never change an answer when events tie on time."""
    return Frames(*(getattr(frames, name).reverse()
                    for name in ("events", "steps", "modified_properties")))
