"""Provision-on-demand responses shaped as the formats reference (5.3) shows them: a
``stringKeyStringValuePair`` whose key and value are JSON objects encoded as strings."""

from __future__ import annotations

ANNA = "1fc58a80-bf24-40e0-80c9-6684c530a1e6"
MARTE = "a36efbdc-9d3b-496c-9efa-7bed6e30ef32"
_SYSTEMS = {
    "sourceSystem": {"id": "e156568c-b65b-40a1-82ca-8afd5500c140",
                     "name": "Azure Active Directory", "details": {}},
    "targetSystem": {"id": "ed85458d-2a0d-4119-ba5f-bd264973c1af", "name": "customappsso",
                     "details": {"ApplicationId": "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
                                 "ServicePrincipalDisplayName": "Flowcase SCIM",
                                 "ServicePrincipalId": "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10"}},
}
_REASON = (
    "StatusCode: BadRequest\r\nMessage: Processing of the HTTP request resulted in an exception. "
    "Please see the HTTP response returned by the 'Response' property of this exception for "
    "details.\r\nWeb Response: \r\nUnknown role: Consultant. This operation was retried zero "
    "times. It will be retried again after this date: 2026-03-27T09:55:41.1502556Z UTC"
)


def _steps(upn: str, object_id: str, export_status: str, roles: str) -> list[dict]:
    return [
        {"name": "EntryImportAdd", "type": "Import", "status": "Success",
         "timestamp": "2026-03-27T09:14:02.5529981Z",
         "description": f"Received User '{upn}' change of type (Add) from Azure Active Directory",
         "details": {"objectId": object_id, "userPrincipalName": upn, "IsSoftDeleted": "False",
                     "appRoleAssignments": "[\"Consultant\"]"}},
        {"name": "EntrySynchronizationScoping", "type": "Scoping", "status": "Success",
         "timestamp": "2026-03-27T09:14:02.6829936Z",
         "description": "Determine if User in scope by evaluating against each scoping filter",
         "details": {"IsActive": "True", "Assigned": "True",
                     "IsEffectivelyEntitledForProvisioning": "True",
                     "IsInProvisioningScopeDisplayName": "True"}},
        {"name": "EntryImport", "type": "Matching", "status": "Success",
         "timestamp": "2026-03-27T09:14:03.1023001Z",
         "description": f"Retrieved  '{upn}' from customappsso", "details": {}},
        {"name": "EntryExportAdd", "type": "Export", "status": export_status,
         "timestamp": "2026-03-27T09:14:03.9981234Z",
         "description": (f"User '{upn}' was created in customappsso" if export_status == "Success"
                         else f"Failed to create User '{upn}' in customappsso"),
         "details": {"ReportableIdentifier": upn, "userName": upn,
                     'emails[type eq "work"]value': upn, "active": "True", "roles": roles}},
    ]


def _value(upn: str, name: str, object_id: str, ok: bool, roles: str) -> dict:
    return {
        "action": "Create", "changeId": f"4f1c2b8e-0d6a-4e1b-9c3f-{object_id[-12:]}",
        "startTime": "2026-03-27T09:14:02.4410000Z", "endTime": "2026-03-27T09:14:04.0120000Z",
        "reportableIdentifier": upn,
        "sourceIdentity": {"id": object_id, "type": "User", "name": name,
                           "details": {"UserPrincipalName": upn}},
        "targetIdentity": {"id": "3e223d8131124723b8fabaea" if ok else "",
                           "type": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User",
                           "name": "", "details": {}},
        **_SYSTEMS,
        "statusInfo": {"status": "Success" if ok else "Failure",
                       "errorCode": None if ok else
                       "SystemForCrossDomainIdentityManagementServiceIncompatible",
                       "reason": None if ok else _REASON, "additionalDetails": None,
                       "errorCategory": None if ok else "NonServiceFailure",
                       "recommendedAction": None},
        "provisioningSteps": _steps(upn, object_id, "Success" if ok else "Failure", roles),
        "modifiedProperties": [],
    }


CONSULTANT = '[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","value":"consultant"}]'
WRONG_CASE = '[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","value":"Consultant"}]'
RESPONSES = {  # user object id -> (key, value) before JSON-encoding
    ANNA: ({"result": "Success", "details": {}},
           _value("anna.berg@northwind.no", "Anna Berg", ANNA, True, CONSULTANT)),
    MARTE: ({"result": "Failure", "details": {
        "errorCode": "SystemForCrossDomainIdentityManagementServiceIncompatible",
        "errorMessage": "Unknown role: Consultant."}},
            _value("marte.solberg@northwind.no", "Marte Solberg", MARTE, False, WRONG_CASE)),
}
USERS = [{"id": ANNA, "displayName": "Anna Berg", "userPrincipalName": "anna.berg@northwind.no"},
         {"id": MARTE, "displayName": "Marte Solberg",
          "userPrincipalName": "marte.solberg@northwind.no"}]
