"""Records shaped exactly like the real exports in the formats reference, and every wire shape.

``provisioning-log-formats.md`` quotes records captured from real tenants (§1.7) and
Microsoft's own examples (§1.6); this module rebuilds them, adds the Flowcase events a tenant
would hold beside them, and writes the same events in each shape a support engineer is handed:

* Graph v1.0 (``graph_page``) and the portal download array;
* the diagnostic-settings / event-hub envelope (§3.1): ``properties`` spelled ``Id``/``Name``/
  ``Type``/``Status``, step types and statuses as enum ordinals, ``statusInfo.Status`` a
  number, ``durationInMilliseconds`` a string, 7-digit fractional seconds, ``resultType``;
* Log Analytics ``AADProvisioningLogs`` rows (§3.2) whose JSON-text columns carry the same
  diagnostic-settings spelling;
* the ``provisionOnDemand`` response (§5.3): a ``stringKeyStringValuePair`` whose ``key`` and
  ``value`` are JSON text.

``tenant_wide()`` is an export of a whole tenant: Flowcase plus Box, Dropbox Business, an AWS
role import into Entra, Airtable, ServiceNow, a second non-gallery SCIM app (Grafana PS, the
§1.7 record), cross-tenant sync and inbound HR provisioning (Workday to AD).
"""

from __future__ import annotations

import copy
import csv
import gzip
import json
import zlib
from pathlib import Path
from typing import Any

TENANT = "b3e1a7c4-5d92-4f6e-8a10-2c9d7e4f6b58"
TENANT_HEX = TENANT.replace("-", "")
FLOWCASE_JOB = f"scim.{TENANT_HEX}.4c7e2a91-0b3d-4e58-a6f2-9d1c8b7e5a30"
FLOWCASE_SP = "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10"
ENTRA = {"details": {}, "displayName": "Microsoft Entra ID",
         "id": "e156568c-b65b-40a1-82ca-8afd5500c140"}
LEGACY_ENTRA = {"details": {}, "displayName": "Azure Active Directory",
                "id": "0404601d-a9c0-4ec7-bbcd-02660120d8c9"}
SYSTEM = {"displayName": "Azure AD Provisioning Service", "id": "", "initiatorType": "system"}
ENTERPRISE_USER = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
WRAPPER = ("Message: Processing of the HTTP request resulted in an exception. Please see the HTTP "
           "response returned by the 'Response' property of this exception for details.")


def _reason(status_name: str, body: str, retries: int = 0) -> str:
    return (f"StatusCode: {status_name}\r\n{WRAPPER}\r\nWeb Response: \r\n{body}. This operation "
            f"was retried {retries} times. It will be retried again after this date: "
            "2026-03-24T13:23:44.9198514Z UTC")


def _app(name: str, sp_id: str, app_id: str, target: str) -> dict[str, Any]:
    return {
        "servicePrincipal": {"displayName": name, "id": sp_id},
        "targetSystem": {
            "details": {"ApplicationId": app_id, "ServicePrincipalDisplayName": name,
                        "ServicePrincipalId": sp_id},
            "displayName": target,
            "id": "ed85458d-2a0d-4119-ba5f-bd264973c1af",
        },
    }


FLOWCASE_APP = _app("Flowcase", FLOWCASE_SP, "1f2e3d4c-5b6a-4978-8695-a4b3c2d1e0f9", "customappsso")


def _user(oid: str, upn: str, name: str) -> dict[str, Any]:
    return {
        "details": {"DisplayName": name, "UserPrincipalName": upn, "id": oid, "odatatype": "User"},
        "displayName": name, "id": oid, "identityType": "User",
    }


def _event(
    event_id: str, when: str, job: str, app: dict, *, action: str, status: str,
    steps: list[dict], source: dict, target_identity: dict | None = None,
    source_system: dict | None = None, error: dict | None = None, props: list | None = None,
    cycle: str = "8b52ae4b-53a8-41ef-ae7f-19435028c52a", duration: int = 630,
) -> dict[str, Any]:
    return {
        "activityDateTime": when,
        "changeId": f"c-{event_id}",
        "cycleId": cycle,
        "durationInMilliseconds": duration,
        "id": event_id,
        "initiatedBy": dict(SYSTEM),
        "jobId": job,
        "modifiedProperties": props or [],
        "provisioningAction": action,
        "provisioningStatusInfo": {"errorInformation": error, "status": status},
        "provisioningSteps": steps,
        **copy.deepcopy(app),
        "sourceIdentity": source,
        "sourceSystem": copy.deepcopy(source_system or ENTRA),
        "targetIdentity": target_identity or {"details": {}, "displayName": "", "id": "",
                                              "identityType": "User"},
        "tenantId": TENANT,
    }


def _step(name: str, kind: str, status: str, description: str, details: dict | None = None):
    return {"description": description, "details": details or {}, "name": name,
            "provisioningStepType": kind, "status": status}


def _error(code: str, reason: str) -> dict[str, Any]:
    return {"additionalDetails": None, "errorCategory": "nonServiceFailure", "errorCode": code,
            "reason": reason, "recommendedAction": None}


# ------------------------------------------------------------------------------- Flowcase

def flowcase_events() -> list[dict[str, Any]]:
    """Flowcase's own events: a create, a redundant skip, the AttributeValidationFailed skip of
    §4.3 (verbatim description), a skip reason no rule knows, and a healthy disable."""
    job, app = FLOWCASE_JOB, FLOWCASE_APP
    anna = _user("0b9d4c1e-7a2f-4e3b-9c8d-1f2a3b4c5d6e", "anna.berg@northwind.no", "Anna Berg")
    lars = _user("1c0e5d2f-8b3a-4f4c-8d9e-2a3b4c5d6e7f", "lars.hansen@northwind.no", "Lars Hansen")
    ola = _user("2d1f6e3a-9c4b-4a5d-9e0f-3b4c5d6e7f8a", "ola.nordmann@northwind.no", "Ola Nordmann")
    eva = _user("3e2a7f4b-0d5c-4b6e-8f1a-4c5d6e7f8a9b", "eva.lund@northwind.no", "Eva Lund")
    kim = _user("4f3b8a5c-1e6d-4c7f-9a2b-5d6e7f8a9b0c", "kim.ask@northwind.no", "Kim Ask")
    created = _event(
        "fc-create-anna", "2026-03-24T07:40:11Z", job, app, action="create", status="success",
        source=anna,
        steps=[
            _step("EntryImportAdd", "import", "success",
                  "Received User 'anna.berg@northwind.no' change of type (Add) from Microsoft "
                  "Entra ID", {"objectId": anna["id"], "accountEnabled": "True"}),
            _step("EntrySynchronizationScoping", "scoping", "success",
                  "Determine if User in scope by evaluating against each scoping filter",
                  {"Active in the source system": "True", "Assigned to the application": "True",
                   "User has the required role": "True", "Scoping filter evaluation passed": "True",
                   "ScopeEvaluationResult": "{}"}),
            _step("EntrySynchronizationAdd", "matching", "success",
                  "User 'anna.berg@northwind.no' will be created in customappsso (User is active "
                  "and assigned in Azure Active Directory, but no matching User was found in "
                  "customappsso)"),
            _step("EntryExportAdd", "export", "success",
                  "User 'anna.berg@northwind.no' was created in customappsso",
                  {"ReportableIdentifier": "anna.berg@northwind.no", "active": "True",
                   "userName": "anna.berg@northwind.no",
                   'emails[type eq "work"]value': "anna.berg@northwind.no",
                   "roles": "consultant"}),
        ],
        props=[{"displayName": "active", "newValue": "True", "oldValue": None},
               {"displayName": "userName", "newValue": "anna.berg@northwind.no", "oldValue": None}],
        target_identity={"details": {}, "displayName": "", "id": "5f3b8a5c1e6d4c7f9a2b5d6e",
                         "identityType": ENTERPRISE_USER},
    )
    redundant = _event(
        "fc-skip-lars", "2026-03-24T07:41:02Z", job, app, action="other", status="skipped",
        source=lars,
        steps=[
            _step("EntryImportUpdate", "import", "success",
                  "Received User 'lars.hansen@northwind.no' change of type (Update) from "
                  "Microsoft Entra ID", {"objectId": lars["id"]}),
            _step("EntrySynchronizationSkip", "export", "skipped",
                  "The state of the entry in both the source and target systems already match. "
                  "No change to the User 'lars.hansen@northwind.no' currently needs to be made.",
                  {"ReportableIdentifier": "lars.hansen@northwind.no",
                   "SkipReason": "RedundantExport"}),
        ],
    )
    invalid = _event(
        "fc-skip-ola", "2026-03-24T07:42:30Z", job, app, action="other", status="skipped",
        source=ola,
        steps=[
            _step("EntryImportAdd", "import", "success",
                  "Received User 'ola.nordmann@northwind.no' change of type (Add) from Microsoft "
                  "Entra ID", {"objectId": ola["id"]}),
            _step("EntrySynchronizationSkip", "export", "skipped",
                  "urn:ietf:params:scim:schemas:core:2.0:User 'ola.nordmann@northwind.no' will be "
                  "skipped because the value of the property name.familyName is missing or "
                  "invalid. Please update the value of the property name.familyName on the object "
                  "in the source system.",
                  {"PropertyName": "name.familyName", "ReportableIdentifier":
                   "ola.nordmann@northwind.no", "SkipReason": "AttributeValidationFailed"}),
        ],
    )
    unknown_skip = _event(
        "fc-skip-eva", "2026-03-24T07:43:10Z", job, app, action="other", status="skipped",
        source=eva,
        steps=[
            _step("EntrySynchronizationSkip", "export", "skipped",
                  "The User 'eva.lund@northwind.no' will be skipped: the anchor attribute "
                  "changed while an export was pending.",
                  {"ReportableIdentifier": "eva.lund@northwind.no",
                   "SkipReason": "AnchorChangePending"}),
        ],
    )
    disabled = _event(
        "fc-disable-kim", "2026-03-24T07:44:45Z", job, app, action="disable", status="success",
        source=kim,
        steps=[
            _step("EntryImportUpdate", "import", "success",
                  "Received User 'kim.ask@northwind.no' change of type (Update) from Azure "
                  "Active Directory", {"objectId": kim["id"], "IsSoftDeleted": "True"}),
            _step("EntryExportUpdateSoftDelete", "export", "success",
                  "User 'kim.ask@northwind.no' was disabled in customappsso",
                  {"ReportableIdentifier": "kim.ask@northwind.no", "active": "False"}),
        ],
        props=[{"displayName": "active", "newValue": "False", "oldValue": None}],
    )
    return [created, redundant, invalid, unknown_skip, disabled]


# ------------------------------------------------------------------------------- other apps

def grafana_scim_group() -> dict[str, Any]:
    """§1.7 (a) verbatim: a *different* non-gallery SCIM app (scim.* job) skipping a group."""
    return {
        "activityDateTime": "2026-07-17T12:31:10Z",
        "changeId": "e228f043-cf65-4929-bc3f-87749ad75644",
        "cycleId": "b85c7c8e-c3c5-49e0-a57e-a8a6ba9a7595",
        "durationInMilliseconds": 630,
        "id": "a3f2b676-f27c-832e-6757-be2d5ed806ba",
        "initiatedBy": dict(SYSTEM),
        "jobId": "scim.4b8c18bd2f9f4227af559f1061cf9c32.4ba261ce-287a-459c-93eb-7047bab3cfb9",
        "modifiedProperties": [],
        "provisioningAction": "other",
        "provisioningStatusInfo": {"errorInformation": None, "status": "skipped"},
        "provisioningSteps": [
            _step("EntryImportUpdate", "import", "success",
                  "Received Group 'ae0c9dc4-faba-477f-952c-423c67237700' change of type (Update) "
                  "from Microsoft Entra ID", {"objectId": "ae0c9dc4-faba-477f-952c-423c67237700"}),
            _step("EntryImport", "matching", "success",
                  "Retrieved  'macos-servers-dynamic' from customappsso",
                  {"displayName": "macos-servers-dynamic",
                   "externalId": "ae0c9dc4-faba-477f-952c-423c67237700", "id": "ffsdj2g8zwtfkd"}),
            _step("EntrySynchronizationScoping", "scoping", "success",
                  "Determine if Group in scope by evaluating against each scoping filter",
                  {"Active in the source system": "True", "Assigned to the application": "True",
                   "Group has the required role": "True", "ScopeEvaluationResult": "{}",
                   "Scoping filter evaluation passed": "True"}),
            _step("EntrySynchronizationSkip", "export", "skipped",
                  "The state of the entry in both the source and target systems already match. "
                  "No change to the Group 'ae0c9dc4-faba-477f-952c-423c67237700' currently needs "
                  "to be made.",
                  {"ReportableIdentifier": "ae0c9dc4-faba-477f-952c-423c67237700",
                   "SkipReason": "RedundantExport"}),
        ],
        "servicePrincipal": {"displayName": "Grafana PS",
                             "id": "e7e9d06f-8673-4759-bfed-67d499095d2f"},
        "sourceIdentity": {
            "details": {"DisplayName": "macos-servers-dynamic",
                        "id": "ae0c9dc4-faba-477f-952c-423c67237700", "odatatype": "Group"},
            "displayName": "macos-servers-dynamic", "id": "ae0c9dc4-faba-477f-952c-423c67237700",
            "identityType": "Group",
        },
        "sourceSystem": dict(ENTRA),
        "targetIdentity": {"details": {}, "displayName": "", "id": "ffsdj2g8zwtfkd",
                           "identityType": "urn:ietf:params:scim:schemas:core:2.0:Group"},
        "targetSystem": {
            "details": {"ApplicationId": "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
                        "ServicePrincipalDisplayName": "Grafana PS",
                        "ServicePrincipalId": "e7e9d06f-8673-4759-bfed-67d499095d2f"},
            "displayName": "customappsso", "id": "ed85458d-2a0d-4119-ba5f-bd264973c1af",
        },
        "tenantId": "4b8c18bd-2f9f-4227-af55-9f1061cf9c32",
    }


def airtable_conflict() -> dict[str, Any]:
    """§1.7 (b): Airtable's 409 'unclaimed user already exists' with an escrow retry step."""
    craig = {"details": {"DisplayName": "Craig Ranger",
                         "UserPrincipalName": "craig_ranger@test.com",
                         "id": "b028a46a-9c4a-424a-954b-521d60f8e8da", "odatatype": "User"},
             "displayName": "Craig Ranger", "id": "b028a46a-9c4a-424a-954b-521d60f8e8da",
             "identityType": "User"}
    body = ('{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"detail":"unclaimed user '
            'already exists for that email address.  Please claim user instead of provisioning '
            'them.","status":409,"scimType":"uniqueness"}')
    return _event(
        "b504b5fb-38b8-8887-884d-fc4d48f1afab", "2026-03-24T07:23:47Z",
        "airtable.7584ba9cdd9147459b7eb4de9da3be7b.fa64de6e-a5fe-40fe-bd5c-eb15a3638d3d",
        _app("Airtable - test Corp", "e394395f-7b85-4a43-a1be-365854c5a110",
             "365401e1-2c0d-4990-b174-f48844df4fba", "Airtable"),
        action="create", status="failure", source=craig, duration=91009,
        error=_error("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering",
                     _reason("Conflict", body, retries=1)),
        props=[{"displayName": "active", "newValue": "True", "oldValue": None},
               {"displayName": "userName", "newValue": "craig_ranger@test.com", "oldValue": None},
               {"displayName": "name.familyName", "newValue": "Ranger", "oldValue": None}],
        steps=[
            _step("EntryEscrowRetry", "import", "success",
                  "We are retrying an operation that previously failed.\r\nIdentifier: "
                  "craig_ranger@test .com\r\nObject type: User\r\nDirectory: Microsoft Entra ID",
                  {"CountProcessed": "0", "CreationTime": "2026-03-24T07:17:42.9099941Z",
                   "Identifier": "b028a46a-9c4a-424a-954b-521d60f8e8da", "ModificationType": "Add",
                   "NextAttempt": "3/24/2026 7:17:42 AM", "Origin": "Source",
                   "TypeName": "EscrowedEntryDefault"}),
            _step("EntryExportAdd", "export", "failure",
                  "Failed to create User 'craig_ranger@test.com' in Airtable",
                  {"ReportableIdentifier": "craig_ranger@test .com", "active": "True",
                   "displayName": "Craig Ranger", "userName": "craig_ranger@test .com",
                   "urnietfparamsscimschemasextensionenterprise20Userdepartment": "test  Services",
                   'emails[type eq "work"]value': "Craig_Ranger@test .com"}),
        ],
    )


BOX_CONFLICT = (
    "Message: Box returned an error response with the HTTP status code 409.  This response "
    "indicates that a user or a group already exisits with the same name. This can be avoided "
    "by identifying and removing the conflicting user from Box via the Box administrative user "
    "interface, or removing the current user from the scope of provisioning either by removing "
    "their assignment to the Box application in Azure Active Directory or adding a scoping "
    "filter to exclude the user."
)


def box_group_conflicts(count: int = 6) -> list[dict[str, Any]]:
    """§1.6 example 2 as Box: a group create that failed with 409 (``BoxEntryConflict``)."""
    events = []
    for n in range(count):
        group = f"Self-service Pilot {n}"
        gid = f"5e6c9eae-ab4d-5239-8ad0-1743910{n:05d}"
        events.append(_event(
            f"box-group-{n}", f"2026-03-24T07:5{n % 10}:08Z", f"BoxOutDelta.{TENANT_HEX}",
            _app("Box", "c4c46a42-966b-47d7-9774-576b1c8bd0b8",
                 "f2764360-e0ec-5676-711e-cd6fc0d4dd61", "Box"),
            action="create", status="failure", source_system=LEGACY_ENTRA,
            source={"details": {}, "displayName": group, "id": gid, "identityType": "Group"},
            target_identity={"details": {}, "displayName": "", "id": "", "identityType": "Group"},
            error=_error("BoxEntryConflict", BOX_CONFLICT),
            cycle="44576e58-a14b-70fa-8404-3d22aa46ed93", duration=2785,
            props=[{"displayName": "displayName", "newValue": group, "oldValue": None},
                   {"displayName": "securityEnabled", "newValue": "True", "oldValue": None}],
            steps=[
                _step("EntryImportAdd", "import", "success",
                      f"Received Group '{group}' change of type (Add) from Azure Active Directory"),
                _step("EntrySynchronizationAdd", "matching", "success",
                      f"Group '{group}' will be created in Box (Group is active and assigned in "
                      "Azure Active Directory, but no matching Group was found in Box)"),
                _step("EntryExportAdd", "export", "failure",
                      f"Failed to create Group '{group}' in Box", {"ReportableIdentifier": group}),
            ],
        ))
    return events


def aws_role_imports(count: int = 3) -> list[dict[str, Any]]:
    """§1.6 example 1: AWS roles imported *into* Entra (RolesCompound), one failing."""
    events = []
    for n in range(count):
        failed = n == 0
        events.append(_event(
            f"aws-roles-{n}", f"2026-03-24T08:0{n}:54Z",
            f"aws.{TENANT_HEX}.10a7a801-7101-4c69-ae00-ce9f75f8460a",
            _app("AWS Single-Account Access", "6cc35b93-185a-4485-a519-50c09549a3ad",
                 "bcf4d658-ac9f-408d-bf04-e86dc10328fb", "Azure Active Directory"),
            action="create", status="failure" if failed else "success",
            source_system={"details": {}, "displayName": "Amazon Web Services (AWS)",
                           "id": "d1e090e1-f2f4-4678-be44-6442ffff0621"},
            source={"details": {}, "displayName": "",
                    "id": f"60a7a801-7101-4c69-ae00-ce9f75f846{n:02d}",
                    "identityType": "RolesCompound"},
            target_identity={"details": {}, "displayName": "", "identityType": "ServicePrincipal",
                             "id": "6cc35b93-185a-4485-a519-50c09549a3ad"},
            error=_error("InvalidAppRoleValue", _reason(
                "BadRequest", '{"error":{"code":"Request_BadRequest","message":"Invalid value '
                'specified for property \'value\' of resource \'AppRole\'. The role value '
                '\'jaws-prod-role2,jaws-prod-saml2\' is not valid."}}')) if failed else None,
            props=[{"displayName": "Roles", "newValue": "jaws-prod-role2,jaws-prod-saml2, "
                    "jayaws-role,jayaws-saml, TestRole,super-saml", "oldValue": None}],
            steps=[
                _step("EntryImport", "Import", "success",
                      "Retrieved RolesCompound '10a7a801-7101-4c69-ae00-ce9f75f8460a' from "
                      "Amazon Web Services (AWS)"),
                _step("EntryExportUpdate", "Export", "failure" if failed else "success",
                      "RolesCompound '60a7a801-7101-4c69-ae00-ce9f75f8460a' was updated in Azure "
                      "Active Directory", {"ReportableIdentifier": "60a7a801"}),
            ],
        ))
    return events


def _user_event(event_id: str, when: str, job: str, app: dict, upn: str, **kwargs) -> dict:
    oid = f"9{zlib.crc32(upn.encode()) % 10**7:07d}-0000-4000-8000-000000000000"
    return _event(event_id, when, job, app, source=_user(oid, upn, upn.split("@")[0]), **kwargs)


def dropbox_events(count: int = 4) -> list[dict[str, Any]]:
    """Dropbox Business: users whose deactivation fails; the body talks about 'active' users."""
    app = _app("Dropbox Business", "d7b0c0de-1111-4222-8333-944455556666",
               "a1b2c3d4-0000-4111-8222-933344445555", "Dropbox Business")
    body = '{"error_summary": "team_license_limit/", "error": {".tag": "team_license_limit"}}'
    return [
        _user_event(
            f"dropbox-{n}", f"2026-03-24T08:1{n}:00Z", f"dropboxforbusiness.{TENANT_HEX}."
            "7d0a1e2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b", app, f"user{n}@northwind.no",
            action="disable" if n % 2 else "create", status="failure",
            error=_error("DropboxForBusinessLicenseLimitExceeded", _reason("Conflict", body)),
            steps=[_step("EntryExportUpdateSoftDelete" if n % 2 else "EntryExportAdd", "export",
                         "failure", f"Failed to update User 'user{n}@northwind.no' in Dropbox "
                         "Business")],
        )
        for n in range(count)
    ]


def servicenow_events(count: int = 3) -> list[dict[str, Any]]:
    """ServiceNow: 400s whose body names roles, managers and departments (its own schema)."""
    app = _app("ServiceNow", "5e5e5e5e-1234-4abc-9def-0123456789ab",
               "6f6f6f6f-1234-4abc-9def-0123456789ab", "ServiceNow")
    body = ('{"error":{"message":"Invalid value for field manager: the department manager role '
            'requires an active user","detail":"Operation against table sys_user failed"},'
            '"status":"failure"}')
    return [
        _user_event(
            f"servicenow-{n}", f"2026-03-24T08:2{n}:00Z", f"ServiceNowOutDelta.{TENANT_HEX}",
            app, f"snow{n}@northwind.no", action="update", status="failure",
            source_system=LEGACY_ENTRA,
            error=_error("ServiceNowBadRequest", _reason("BadRequest", body)),
            props=[{"displayName": "manager", "newValue": "boss@northwind.no", "oldValue": None},
                   {"displayName": "roles", "newValue": "itil", "oldValue": None}],
            steps=[_step("EntryExportUpdate", "export", "failure",
                         f"Failed to update User 'snow{n}@northwind.no' in ServiceNow")],
        )
        for n in range(count)
    ]


def workday_inbound(count: int = 5) -> list[dict[str, Any]]:
    """Inbound HR provisioning: Workday is the source, on-premises AD the target."""
    app = {"servicePrincipal": {"displayName": "Workday to Active Directory User Provisioning",
                                "id": "0a0a0a0a-2222-4333-8444-955566667777"},
           "targetSystem": {"details": {}, "displayName": "Active Directory",
                            "id": "1b1b1b1b-2222-4333-8444-955566667777"}}
    workday = {"details": {}, "displayName": "Workday", "id": "2c2c2c2c-2222-4333-8444-9555666677"}
    events = []
    for n in range(count):
        failed = n < 2
        events.append(_event(
            f"workday-{n}", f"2026-03-24T06:0{n}:00Z",
            f"workdayToAD.{TENANT_HEX}.3d3d3d3d-2222-4333-8444-955566667777", app,
            action="create" if failed else "update", status="failure" if failed else "success",
            source_system=workday,
            source={"details": {}, "displayName": f"Worker {n}", "id": f"2100{n}",
                    "identityType": "User"},
            error=_error("AzureActiveDirectoryDuplicateTargetEntries",
                         "Message: More than one entry in Active Directory matches the joining "
                         "property employeeID. The department and manager of the worker could "
                         "not be updated; role assignments are unchanged.") if failed else None,
            props=[{"displayName": "department", "newValue": "Sales EMEA", "oldValue": None},
                   {"displayName": "manager", "newValue": "CN=Boss", "oldValue": None}],
            steps=[_step("EntryExportAdd" if failed else "EntryExportUpdate", "export",
                         "failure" if failed else "success",
                         f"Worker '2100{n}' in Active Directory")],
        ))
    return events


def cross_tenant_sync(count: int = 2) -> list[dict[str, Any]]:
    """Cross-tenant synchronisation into another Entra tenant (Azure2Azure.*)."""
    app = {"servicePrincipal": {"displayName": "Fabrikam cross-tenant sync",
                                "id": "4e4e4e4e-2222-4333-8444-955566667777"},
           "targetSystem": {"details": {}, "displayName": "Azure Active Directory (target tenant)",
                            "id": "5f5f5f5f-2222-4333-8444-955566667777"}}
    return [
        _user_event(
            f"xtenant-{n}", f"2026-03-24T09:0{n}:00Z",
            "Azure2Azure.7c7c7c7c7c7c4c7c8c7c7c7c7c7c7c7c.8d8d8d8d-2222-4333-8444-955566667777",
            app, f"guest{n}@northwind.no", action="create", status="failure",
            error=_error("AzureActiveDirectoryCannotUpdateObjectsMasteredOnPremises",
                         "The user is mastered on premises in Azure Active Directory and is "
                         "not active in the target tenant; it cannot be deleted or disabled."),
            steps=[_step("EntryExportAdd", "export", "failure",
                         f"Failed to create User 'guest{n}@northwind.no' in Azure Active "
                         "Directory (target tenant)")],
        )
        for n in range(count)
    ]


OTHER_APPS = {
    "Box": box_group_conflicts,
    "Dropbox Business": dropbox_events,
    "AWS Single-Account Access": aws_role_imports,
    "Airtable - test Corp": lambda: [airtable_conflict()],
    "ServiceNow": servicenow_events,
    "Grafana PS": lambda: [grafana_scim_group()],
    "Workday to Active Directory User Provisioning": workday_inbound,
    "Fabrikam cross-tenant sync": cross_tenant_sync,
}


def other_apps() -> list[dict[str, Any]]:
    """Every non-Flowcase event of the tenant-wide export."""
    return [event for build in OTHER_APPS.values() for event in build()]


def tenant_wide() -> list[dict[str, Any]]:
    """A whole tenant's export: Flowcase's events among eight other apps' (newest first)."""
    events = flowcase_events() + other_apps()
    return sorted(events, key=lambda e: e["activityDateTime"], reverse=True)


# ------------------------------------------------------------------------------- wire shapes

STEP_TYPE_ORDINALS = {"import": 0, "scoping": 1, "matching": 2, "processing": 3,
                      "referenceresolution": 4, "export": 5}
RESULT_ORDINALS = {"success": 0, "failure": 1, "skipped": 2, "warning": 3}


def _capitalised(obj: dict | None, with_type: bool = False) -> dict | None:
    """``{"id", "displayName"}`` spelled as the diagnostic-settings copy does: ``Id``/``Name``."""
    if obj is None:
        return None
    out = {"Id": obj.get("id"), "Name": obj.get("displayName")}
    if with_type:
        out["Type"] = obj.get("initiatorType")
    for key in ("identityType", "details"):
        if key in obj:
            out[key] = obj[key]
    return out


def diagnostic_properties(event: dict[str, Any]) -> dict[str, Any]:
    """The ``properties`` object of §3.1: capitalised keys, ordinals, string duration."""
    status = event["provisioningStatusInfo"]["status"]
    when = event["activityDateTime"].replace("Z", ".4270244Z")
    return {
        "id": event["id"],
        "activityDateTime": when,
        "tenantId": event["tenantId"],
        "jobId": event["jobId"],
        "cycleId": event["cycleId"],
        "changeId": event["changeId"],
        "action": event["provisioningAction"].capitalize(),
        "provisioningAction": event["provisioningAction"],
        "durationInMilliseconds": str(event["durationInMilliseconds"]),
        "initiatedBy": _capitalised(event["initiatedBy"], with_type=True),
        "servicePrincipal": _capitalised(event["servicePrincipal"]),
        "sourceSystem": _capitalised(event["sourceSystem"]),
        "targetSystem": _capitalised(event["targetSystem"]),
        "sourceIdentity": _capitalised(event["sourceIdentity"]),
        "targetIdentity": _capitalised(event["targetIdentity"]),
        "provisioningStatusInfo": {
            "Status": status,
            "errorInformation": event["provisioningStatusInfo"]["errorInformation"],
        },
        "statusInfo": {"Status": RESULT_ORDINALS[status]},
        "provisioningSteps": [
            {**step,
             "provisioningStepType": STEP_TYPE_ORDINALS[step["provisioningStepType"].lower()],
             "status": RESULT_ORDINALS[step["status"]]}
            for step in event["provisioningSteps"]
        ],
        "modifiedProperties": event["modifiedProperties"],
    }


def envelope(event: dict[str, Any]) -> dict[str, Any]:
    """One diagnostic-settings / event-hub record (§3.1)."""
    props = diagnostic_properties(event)
    return {
        "time": props["activityDateTime"],
        "resourceId": f"/tenants/{event['tenantId']}/providers/Microsoft.aadiam",
        "operationName": "Provisioning activity",
        "operationVersion": "1.0",
        "category": "ProvisioningLogs",
        "tenantId": event["tenantId"],
        "resultType": event["provisioningStatusInfo"]["status"].capitalize(),
        "resultSignature": "None",
        "durationMs": event["durationInMilliseconds"],
        "correlationId": event["changeId"],
        "identity": "Azure AD Provisioning Service",
        "Level": 4,
        "properties": props,
    }


def log_analytics_row(event: dict[str, Any]) -> dict[str, Any]:
    """One ``AADProvisioningLogs`` row (§3.2, real column order) whose JSON-text columns carry
    the diagnostic-settings spelling."""
    props = diagnostic_properties(event)
    error = event["provisioningStatusInfo"]["errorInformation"] or {}
    text = json.dumps
    return {
        "TenantId": "5f0e2d4c-6b8a-4c1e-9d3f-7a5b3c1e9f02",
        "AADTenantId": event["tenantId"],
        "TimeGenerated": props["activityDateTime"],
        "OperationName": "Provisioning activity",
        "OperationVersion": "1.0",
        "Category": "ProvisioningLogs",
        "ResultType": event["provisioningStatusInfo"]["status"].capitalize(),
        "ResultSignature": error.get("errorCode") or "None",
        "ResultDescription": error.get("reason") or "",
        "DurationMs": event["durationInMilliseconds"],
        "CorrelationId": event["changeId"],
        "Action": props["action"],
        "ChangeId": event["changeId"],
        "CycleId": event["cycleId"],
        "Id": event["id"],
        "InitiatedBy": text(props["initiatedBy"]),
        "JobId": event["jobId"],
        "ModifiedProperties": text(props["modifiedProperties"]),
        "ProvisioningSteps": text(props["provisioningSteps"]),
        "ServicePrincipal": text(props["servicePrincipal"]),
        "SourceIdentity": text(props["sourceIdentity"]),
        "SourceSystem": text(props["sourceSystem"]),
        "StatusInfo": text(props["statusInfo"]),
        "TargetIdentity": text(props["targetIdentity"]),
        "TargetSystem": text(props["targetSystem"]),
        "ProvisioningAction": event["provisioningAction"],
        "ProvisioningStatusInfo": text(props["provisioningStatusInfo"]),
        "Type": "AADProvisioningLogs",
    }


def on_demand_value(event: dict[str, Any]) -> dict[str, Any]:
    """The decoded ``value`` of a provisionOnDemand response (§5.3): other names and casing."""
    error = event["provisioningStatusInfo"]["errorInformation"] or {}
    status = event["provisioningStatusInfo"]["status"].capitalize()
    return {
        "action": event["provisioningAction"].capitalize(),
        "changeId": event["changeId"],
        "startTime": event["activityDateTime"],
        "endTime": event["activityDateTime"],
        "reportableIdentifier": event["sourceIdentity"]["displayName"],
        "provisioningSteps": [
            {"name": s["name"], "type": s["provisioningStepType"].capitalize(),
             "status": s["status"].capitalize(), "description": s["description"],
             "timestamp": event["activityDateTime"], "details": s["details"]}
            for s in event["provisioningSteps"]
        ],
        "statusInfo": {"status": status, "errorCode": error.get("errorCode"),
                       "reason": error.get("reason"), "additionalDetails": None,
                       "errorCategory": error.get("errorCategory"), "recommendedAction": None},
        "sourceIdentity": {"id": event["sourceIdentity"]["id"],
                           "type": event["sourceIdentity"]["identityType"],
                           "name": event["sourceIdentity"]["displayName"],
                           "details": event["sourceIdentity"]["details"]},
        "targetIdentity": {"id": event["targetIdentity"]["id"],
                           "type": event["targetIdentity"]["identityType"],
                           "name": event["targetIdentity"]["displayName"], "details": {}},
        "sourceSystem": {"id": event["sourceSystem"]["id"],
                         "name": event["sourceSystem"]["displayName"], "details": {}},
        "targetSystem": {"id": event["targetSystem"]["id"],
                         "name": event["targetSystem"]["displayName"], "details": {}},
    }


def on_demand_response(event: dict[str, Any]) -> dict[str, Any]:
    """``POST .../provisionOnDemand``'s body: ``key`` and ``value`` are JSON *text*."""
    skip = next((s["details"] for s in event["provisioningSteps"]
                 if s["details"].get("SkipReason")), None)
    status = event["provisioningStatusInfo"]["status"].capitalize()
    details = ({"errorCode": skip["SkipReason"],
                "errorMessage": next(s["description"] for s in event["provisioningSteps"]
                                     if s["details"].get("SkipReason"))} if skip else {})
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph."
                          "stringKeyStringValuePair",
        "key": json.dumps({"result": status, "details": details}),
        "value": json.dumps(on_demand_value(event)),
    }


# ------------------------------------------------------------------------------- files

def write_ndjson(path: Path, records: list[dict], compress: bool = False) -> Path:
    text = "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")
    path.write_bytes(gzip.compress(text, mtime=0) if compress else text)
    return path


def write_blob_folder(root: Path, events: list[dict]) -> Path:
    """The storage export's layout: ``insights-logs-provisioninglogs/tenantId=.../y=/m=/d=/h=/
    m=00/PT1H.json``, one folder per hour."""
    by_hour: dict[str, list[dict]] = {}
    for event in events:
        by_hour.setdefault(event["activityDateTime"][:13], []).append(envelope(event))
    container = root / "insights-logs-provisioninglogs"
    for hour, records in sorted(by_hour.items()):
        day, h = hour.split("T")
        y, m, d = day.split("-")
        folder = (container / f"tenantId={TENANT}" / f"y={y}" / f"m={m}" / f"d={d}" / f"h={h}"
                  / "m=00")
        folder.mkdir(parents=True, exist_ok=True)
        write_ndjson(folder / "PT1H.json", records)
    return container


def write_log_analytics_csv(path: Path, events: list[dict]) -> Path:
    """The portal's "Export to CSV" of an ``AADProvisioningLogs`` query: JSON text in cells."""
    rows = [log_analytics_row(e) for e in events]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def healthy_with_boilerplate() -> list[dict[str, Any]]:
    """Flowcase events no rule may fire on although Entra's own words are everywhere: step
    texts and scoping details naming "Azure Active Directory", "active", "role", "manager",
    and failures whose only text is Entra's wrapper (no HTTP status, no app response)."""
    job, app = FLOWCASE_JOB, FLOWCASE_APP
    events = [e for e in flowcase_events() if e["id"] in ("fc-create-anna", "fc-skip-lars",
                                                          "fc-disable-kim")]
    boilerplate = [
        "Failed to update User 'x' in customappsso; Error: " + WRAPPER
        + " The object is synchronised from Azure Active Directory.",
        "Message: customappsso returned an error response. " + WRAPPER
        + " Microsoft Entra ID will retry; the user stays active in Azure Active Directory.",
        WRAPPER + " Directory: Azure Active Directory (target tenant); Microsoft Entra ID.",
    ]
    for n, reason in enumerate(boilerplate):
        upn = f"boiler{n}@northwind.no"
        events.append(_user_event(
            f"fc-boiler-{n}", f"2026-03-24T07:5{n}:00Z", job, app, upn, action="update",
            status="failure",
            error=_error("SystemForCrossDomainIdentityManagementServiceIncompatible", reason),
            steps=[
                _step("EntryImportUpdate", "import", "success",
                      f"Received User '{upn}' change of type (Update) from Azure Active "
                      "Directory", {"objectId": f"0000000{n}", "IsSoftDeleted": "False",
                                    "accountEnabled": "True", "manager": "", "department": ""}),
                _step("EntrySynchronizationScoping", "scoping", "success",
                      "Determine if User in scope by evaluating against each scoping filter",
                      {"Active in the source system": "True",
                       "Assigned to the application": "True",
                       "User has the required role": "True",
                       "Scoping filter evaluation passed": "True"}),
                _step("EntryExportUpdate", "export", "failure",
                      f"Failed to update User '{upn}' in customappsso",
                      {"ReportableIdentifier": upn, "title": "Consultant"}),
            ],
        ))
    return events


def write_all(folder: Path) -> dict[str, Path]:
    """Every shape of the tenant-wide export, and an on-demand result, into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    events = tenant_wide()
    export = folder / "tenant-wide.json"
    export.write_text(json.dumps(events, indent=1), encoding="utf-8")
    la_json = folder / "AADProvisioningLogs.json"
    la_json.write_text(json.dumps([log_analytics_row(e) for e in events], indent=1))
    on_demand = folder / "provision-on-demand.json"
    on_demand.write_text(json.dumps(on_demand_response(flowcase_events()[2]), indent=1))
    return {
        "portal array": export,
        "diagnostic-settings NDJSON": write_ndjson(folder / "PT1H.json",
                                                   [envelope(e) for e in events]),
        "diagnostic-settings .gz": write_ndjson(folder / "PT1H.json.gz",
                                                [envelope(e) for e in events], compress=True),
        "storage blob folder": write_blob_folder(folder / "storage", events),
        "Log Analytics JSON": la_json,
        "Log Analytics CSV": write_log_analytics_csv(folder / "AADProvisioningLogs.csv", events),
        "provisionOnDemand result": on_demand,
    }


if __name__ == "__main__":  # python tests/realworld.py OUT: the files, to try the CLI on
    import sys

    for shape, path in write_all(Path(sys.argv[1])).items():
        print(f"{shape}: {path}")
