"""Graph-shaped provisioning records for the `why` tests, built like real Flowcase exports.

Shapes follow ``shared/reference/provisioning-log-formats.md`` §1.7 and §4: step names,
detail keys (``Assigned to the application``, ``SkipReason``, flattened export keys), the
``StatusCode: ... Web Response: ...`` reason wrapper, empty target ids on failed creates.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from pathlib import Path

TENANT = "4b8c18bd-2f9f-4227-af55-9f1061cf9c32"
JOB = "scim.4b8c18bd2f9f4227af559f1061cf9c32.4ba261ce-287a-459c-93eb-7047bab3cfb9"
APP = "Flowcase SCIM"
SP_ID = "e7e9d06f-8673-4759-bfed-67d499095d2f"
# a second app from the same non-gallery SCIM template: the sandbox an admin tries things on
SANDBOX = "Flowcase Test"
SANDBOX_SP_ID = "5a0c3e7d-91b2-4f4e-8d6a-27c1e9b0f3a4"
SANDBOX_JOB = "scim.4b8c18bd2f9f4227af559f1061cf9c32.9e2d7c41-6b0a-4f83-a5d9-3c8e1f70b26d"


@dataclass
class Person:
    object_id: str
    upn: str
    display_name: str
    flowcase_id: str = ""
    mail: str | None = None
    employee_id: str | None = None

    @property
    def email(self) -> str:
        return self.mail or self.upn


def _reason(status_name: str, body: str, retries: int = 1) -> str:
    return (
        f"StatusCode: {status_name}\r\nMessage: Processing of the HTTP request resulted in an "
        "exception. Please see the HTTP response returned by the 'Response' property of this "
        f"exception for details.\r\nWeb Response: \r\n{body}. This operation was retried "
        f"{retries} times. It will be retried again after this date: "
        "2026-03-24T13:23:44.9198514Z UTC"
    )


def scim_error(status: int, detail: str, scim_type: str | None = None) -> str:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail,
            "status": status}
    if scim_type:
        body["scimType"] = scim_type
    return json.dumps(body)


def _base(when: str, cycle: str, action: str, status: str) -> dict:
    return {
        "id": str(uuid.uuid4()),
        "activityDateTime": when,
        "tenantId": TENANT,
        "jobId": JOB,
        "cycleId": cycle,
        "changeId": str(uuid.uuid4()),
        "provisioningAction": action,
        "durationInMilliseconds": 812,
        "initiatedBy": {"displayName": "Azure AD Provisioning Service", "id": "",
                        "initiatorType": "system"},
        "servicePrincipal": {"displayName": APP, "id": SP_ID},
        "sourceSystem": {"details": {}, "displayName": "Microsoft Entra ID",
                         "id": "e156568c-b65b-40a1-82ca-8afd5500c140"},
        "targetSystem": {
            "details": {"ApplicationId": "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
                        "ServicePrincipalDisplayName": APP, "ServicePrincipalId": SP_ID},
            "displayName": "customappsso",
            "id": "ed85458d-2a0d-4119-ba5f-bd264973c1af",
        },
        "provisioningStatusInfo": {"status": status, "errorInformation": None},
        "modifiedProperties": [],
    }


def _identities(record: dict, p: Person, target_id: str) -> None:
    record["sourceIdentity"] = {
        "details": {"DisplayName": p.display_name, "UserPrincipalName": p.upn,
                    "id": p.object_id, "odatatype": "User"},
        "displayName": p.display_name, "id": p.object_id, "identityType": "User",
    }
    record["targetIdentity"] = {"details": {}, "displayName": "", "id": target_id,
                                "identityType": "User"}


def _import_step(p: Person, change: str = "Add") -> dict:
    details = {"objectId": p.object_id, "userPrincipalName": p.upn, "displayName": p.display_name,
               "accountEnabled": "True"}
    if p.mail:
        details["mail"] = p.mail
    return {"name": f"EntryImport{change}", "provisioningStepType": "import", "status": "success",
            "description": f"Received User '{p.upn}' change of type ({change}) from Microsoft "
                           "Entra ID",
            "details": details}


def _scoping_step(assigned: bool = True, filter_passed: bool = True, scope: str = "{}") -> dict:
    return {"name": "EntrySynchronizationScoping", "provisioningStepType": "scoping",
            "status": "success",
            "description": "Determine if User in scope by evaluating against each scoping filter",
            "details": {"Active in the source system": "True",
                        "Assigned to the application": str(assigned),
                        "User has the required role": str(assigned),
                        "ScopeEvaluationResult": scope,
                        "Scoping filter evaluation passed": str(filter_passed)}}


def _sent(p: Person, user_name: str | None, email: str | None) -> dict[str, str]:
    sent = {"userName": user_name or p.upn.lower(), 'emails[type eq "work"].value':
            email or p.email.lower(), "active": "True", "displayName": p.display_name}
    if p.employee_id:
        sent["externalId"] = p.employee_id
    return sent


def _export_details(p: Person, sent: dict[str, str]) -> dict[str, str]:
    flat = {k.replace(".", "").replace(":", ""): v for k, v in sent.items()}
    return {"ReportableIdentifier": sent["userName"], **flat}


def create(p: Person, when: str, cycle: str, *, user_name: str | None = None,
           email: str | None = None) -> dict:
    """A successful create: matching found nobody, the export step created the user."""
    r = _base(when, cycle, "create", "success")
    _identities(r, p, p.flowcase_id)
    sent = _sent(p, user_name, email)
    r["provisioningSteps"] = [
        _import_step(p),
        {"name": "EntrySynchronizationAdd", "provisioningStepType": "matching",
         "status": "success",
         "description": f"User '{p.upn}' will be created in customappsso (User is active and "
                        "assigned in Microsoft Entra ID, but no matching User was found in "
                        "customappsso)", "details": {}},
        _scoping_step(),
        {"name": "EntryExportAdd", "provisioningStepType": "export", "status": "success",
         "description": f"User '{p.upn}' was created in customappsso",
         "details": _export_details(p, sent)},
    ]
    r["modifiedProperties"] = [{"displayName": k, "oldValue": None, "newValue": v}
                               for k, v in sent.items()]
    return r


def in_sync(p: Person, when: str, cycle: str) -> dict:
    """A skipped event: source and target already match (RedundantExport)."""
    r = _base(when, cycle, "other", "skipped")
    _identities(r, p, p.flowcase_id)
    r["provisioningSteps"] = [
        _import_step(p, "Update"),
        {"name": "EntryImport", "provisioningStepType": "matching", "status": "success",
         "description": f"Retrieved  '{p.upn.lower()}' from customappsso",
         "details": {"active": "True", "id": p.flowcase_id, "userName": p.upn.lower()}},
        _scoping_step(),
        {"name": "EntrySynchronizationSkip", "provisioningStepType": "export",
         "status": "skipped",
         "description": "The state of the entry in both the source and target systems already "
                        f"match. No change to the User '{p.upn}' currently needs to be made.",
         "details": {"ReportableIdentifier": p.upn, "SkipReason": "RedundantExport"}},
    ]
    return r


def not_entitled(p: Person, when: str, cycle: str, *, assigned: bool = False,
                 filter_passed: bool = True, scope: str = "{}") -> dict:
    """A skipped event: NotEffectivelyEntitled (not assigned, or out of a scoping filter)."""
    r = _base(when, cycle, "other", "skipped")
    _identities(r, p, "")
    r["provisioningSteps"] = [
        _import_step(p, "Update"),
        _scoping_step(assigned=assigned, filter_passed=filter_passed, scope=scope),
        {"name": "EntrySynchronizationSkip", "provisioningStepType": "export",
         "status": "skipped",
         "description": f"The User '{p.upn}' will be skipped due to the following reasons: 1) "
                        "This object is not assigned to the application. If you did not expect "
                        "the object to be skipped, assign the object to the application or "
                        "change your scoping filter to allow all users and groups to be in "
                        "scope for provisioning.",
         "details": {"ReportableIdentifier": p.upn, "SkipReason": "NotEffectivelyEntitled"}},
    ]
    return r


def failed_create(p: Person, when: str, cycle: str, status_name: str, body: str, *,
                  error_code: str = "SystemForCrossDomainIdentityManagementServiceIncompatible",
                  user_name: str | None = None, email: str | None = None,
                  source_id: bool = True) -> dict:
    """A create the app rejected; the Flowcase id is empty because nothing was created."""
    r = _base(when, cycle, "create", "failure")
    _identities(r, p, "")
    if not source_id:  # some exports carry only the UPN for the object
        r["sourceIdentity"]["id"] = ""
        r["sourceIdentity"]["details"].pop("id")
    sent = _sent(p, user_name, email)
    r["provisioningStatusInfo"]["errorInformation"] = {
        "errorCode": error_code, "reason": _reason(status_name, body),
        "additionalDetails": None, "errorCategory": "nonServiceFailure",
        "recommendedAction": None,
    }
    r["provisioningSteps"] = [
        _import_step(p),
        {"name": "EntrySynchronizationAdd", "provisioningStepType": "matching",
         "status": "success",
         "description": f"User '{p.upn}' will be created in customappsso", "details": {}},
        _scoping_step(),
        {"name": "EntryExportAdd", "provisioningStepType": "export", "status": "failure",
         "description": f"Failed to create User '{p.upn}' in customappsso",
         "details": _export_details(p, sent)},
    ]
    r["modifiedProperties"] = [{"displayName": k, "oldValue": None, "newValue": v}
                               for k, v in sent.items()]
    return r


def in_app(record: dict, name: str = SANDBOX, sp_id: str = SANDBOX_SP_ID,
           job: str = SANDBOX_JOB) -> dict:
    """The record as another app of the tenant logs it (by default the sandbox)."""
    record["jobId"] = job
    record["servicePrincipal"] = {"displayName": name, "id": sp_id}
    record["targetSystem"]["details"].update(ServicePrincipalDisplayName=name,
                                             ServicePrincipalId=sp_id)
    return record


def write_export(path: Path, records: list[dict]) -> Path:
    """A Graph JSON download: ``{"value": [...]}``."""
    path.write_text(json.dumps({"value": records}, indent=1))
    return path
