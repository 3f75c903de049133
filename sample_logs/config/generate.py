"""Write good/ and bad/: the Northwind tenant's Flowcase app configuration, as Graph returns it.

    python sample_logs/config/generate.py      # stdlib only; rewrites good/ and bad/

Both folders describe the same app (the ids of ``sample_logs/``). ``good/`` follows the setup
guide; ``bad/`` is ``good/`` with every mistake a configuration check looks for (the list is
``MISTAKES`` below, and ``sample_logs/README.md`` repeats it). The shapes follow the formats
reference, section 5 (job, schema) and the Graph reference (servicePrincipal, appRole,
appRoleAssignment, group members, synchronization secrets). ``good/`` is saved the way
``fetch-config`` saves; ``bad/`` the way an admin collects by hand: the job from ``fetch-job``,
the schema downloaded from the schema editor and the app manifest from App registrations.
"""

from __future__ import annotations

import copy
import json
import uuid
from pathlib import Path

HERE = Path(__file__).resolve().parent
GRAPH = "https://graph.microsoft.com/v1.0"
TENANT = "b3e1a7c4-5d92-4f6e-8a10-2c9d7e4f6b58"
SP = "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10"
APP_ID = "8adf8e6e-67b2-4cf2-a259-e3dc5476c621"
APP_OBJECT_ID = "5b1f0c2e-9d7a-4e3b-8c6f-1a2d3e4f5a6b"
JOB = "scim.b3e1a7c45d924f6e8a102c9d7e4f6b58.4c7e2a91-0b3d-4e58-a6f2-9d1c8b7e5a30"
RULE_ID = "6c409270-f78a-4bc6-af23-7cf3ab6e6b96"
FLOWCASE_URL = "https://northwind.flowcase.com/api/scim/v2"
ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
FLOWCASE_EXT = "urn:ietf:params:scim:schemas:extension:flowcase:2.0:User"
SCIM_GROUP = "urn:ietf:params:scim:schemas:core:2.0:Group"
WORK_EMAIL = 'emails[type eq "work"].value'


def uid(name: str) -> str:
    """A stable GUID per name, so both folders and every run agree."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"northwind/{name}"))


# ----------------------------------------------------------------------------- app roles


def role(value: str | None, display: str, members=("User",), enabled=True) -> dict:
    """An app role; ``members`` are Graph's allowedMemberTypes: "User" (the portal's
    Users/Groups) and/or "Application"."""
    return {
        "allowedMemberTypes": list(members),
        "description": display,
        "displayName": display,
        "id": uid(f"role/{display}"),
        "isEnabled": enabled,
        "origin": "Application",
        "value": value,
    }


DEFAULT_ROLES = [  # every non-gallery app has these; they are not mistakes
    {**role(None, "User"), "id": "18d14569-c3bd-439b-9a66-3a2aee01d14f",
     "description": "User"},
    {**role(None, "msiam_access"), "description": "msiam_access"},
]
GOOD_ROLES = [
    role("consultant", "Consultant"),
    role("internationalmanager", "International manager"),
    role("countrymanager", "Country manager"),
    role("referencemanager", "Reference manager", members=("User", "Application")),
    role("external", "External"),
    role("limited_access", "Limited access"),
    role("departmentmanager:office:NO:Finance", "Department manager NO Finance"),
    role("departmentmanager:dept:NO:SoftwareEngineering",
         "Department manager NO Software Engineering"),
]

# ----------------------------------------------------------------------------- the schema


def attr(name: str) -> dict:
    return {"expression": f"[{name}]", "name": name, "type": "Attribute", "parameters": []}


def function(name: str, expression: str, *params: tuple[str, dict]) -> dict:
    return {"expression": expression, "name": name, "type": "Function",
            "parameters": [{"key": key, "value": value} for key, value in params]}


def constant(value: str) -> dict:
    return {"expression": f'"{value}"', "name": value, "type": "Constant", "parameters": []}


def mapping(target: str, source: dict, matching: int = 0, flow_type: str = "Always") -> dict:
    return {"defaultValue": None, "exportMissingReferences": False,
            "flowBehavior": "FlowWhenChanged", "flowType": flow_type,
            "matchingPriority": matching, "source": source, "targetAttributeName": target}


def to_lower(name: str) -> dict:
    return function("ToLower", f"ToLower([{name}], )", ("source", attr(name)))


def soft_delete(*pairs: str) -> dict:
    """Switch([IsSoftDeleted], , key, value, …): the guide's when ``pairs`` are not given;
    the expression and the parameters say the same, as Graph's do."""
    pairs = pairs or ("False", "True", "True", "False")
    expression = "Switch([IsSoftDeleted], , " + ", ".join(f'"{p}"' for p in pairs) + ")"
    return function("Switch", expression, ("source", attr("IsSoftDeleted")),
                    ("defaultValue", constant("")),
                    *((("key", "value")[n % 2], constant(p)) for n, p in enumerate(pairs)))


def user_mappings() -> list[dict]:
    return [
        mapping("userName", to_lower("userPrincipalName"), matching=1),
        mapping(WORK_EMAIL, to_lower("mail"), matching=2),
        mapping("active", soft_delete()),
        mapping("roles", function("AppRoleAssignmentsComplex",
                                  "AppRoleAssignmentsComplex([appRoleAssignments])",
                                  ("appRoleAssignments", attr("appRoleAssignments")))),
        mapping(f"{ENTERPRISE}:department", attr("department")),
        mapping(f"{FLOWCASE_EXT}:countryCode", attr("country")),
        mapping("externalId", attr("employeeId")),
        mapping("displayName", attr("displayName")),
        mapping("name.givenName", attr("givenName")),
        mapping("name.familyName", attr("surname")),
        mapping("title", attr("jobTitle")),
        mapping('phoneNumbers[type eq "work"].value', attr("telephoneNumber")),
    ]


def metadata(**values: str) -> list[dict]:
    return [{"key": k, "value": v} for k, v in values.items()]


OBJECT_METADATA = metadata(
    IsCustomerDefined="false", DisableMonitoringForChanges="false", Disposition='"Normal"',
    ExcludeFromReporting="false", EscrowBehavior='"Default"', Unsynchronized="false",
)


def user_object_mapping() -> dict:
    return {"enabled": True, "flowTypes": "Add,Update,Delete",
            "metadata": OBJECT_METADATA + metadata(OriginalJoiningProperty="userPrincipalName"),
            "name": "Provision Azure Active Directory Users", "scope": None,
            "sourceObjectName": "User", "targetObjectName": ENTERPRISE,
            "attributeMappings": user_mappings()}


def group_object_mapping(enabled: bool) -> dict:
    return {"enabled": enabled, "flowTypes": "Add,Update,Delete",
            "metadata": OBJECT_METADATA + metadata(OriginalJoiningProperty="displayName"),
            "name": "Provision Azure Active Directory Groups", "scope": None,
            "sourceObjectName": "Group", "targetObjectName": SCIM_GROUP,
            "attributeMappings": [
                mapping("displayName", attr("displayName"), matching=1),
                mapping("externalId", attr("objectId")),
                mapping("members", attr("members")),
            ]}


def definition(name: str, type_: str = "String", *, required: bool = False,
               anchor: bool = False, multivalued: bool = False, refs: tuple = ()) -> dict:
    return {"anchor": anchor, "apiExpressions": [], "caseExact": False, "defaultValue": None,
            "flowNullValues": False, "metadata": [], "multivalued": multivalued,
            "mutability": "ReadWrite", "name": name, "referencedObjects":
                [{"referencedObjectName": r, "referencedProperty": None} for r in refs],
            "required": required, "type": type_}


def target_user_attributes() -> list[dict]:
    return [
        definition("id", anchor=True, required=True),
        definition("userName", required=True),
        definition("active", "Boolean"),
        definition("displayName"),
        definition("title"),
        definition(WORK_EMAIL, required=True),
        definition("name.givenName"),
        definition("name.familyName"),
        definition('phoneNumbers[type eq "work"].value'),
        definition("externalId"),
        definition("roles", multivalued=True),
        definition(f"{ENTERPRISE}:department"),
        definition(f"{FLOWCASE_EXT}:countryCode"),
        definition(f"{FLOWCASE_EXT}:countryName"),
    ]


def source_user_attributes() -> list[dict]:
    names = ["objectId", "userPrincipalName", "mail", "IsSoftDeleted", "appRoleAssignments",
             "department", "country", "employeeId", "displayName", "givenName", "surname",
             "jobTitle", "telephoneNumber", "manager", "accountEnabled"]
    return [definition(n, "Reference" if n == "manager" else "String", refs=("User",)
                       if n == "manager" else ()) for n in names]


# The template's own defaults, kept by Entra as rule metadata (a JSON string with PascalCase
# keys). They map the manager and enable groups: a check that read them would flag everyone.
TEMPLATE_DEFAULTS = json.dumps([
    {"Enabled": True, "FlowTypes": 7, "Name": "Provision Azure Active Directory Groups",
     "SourceObjectName": "Group", "TargetObjectName": SCIM_GROUP, "AttributeMappings": []},
    {"Enabled": True, "FlowTypes": 7, "Name": "Provision Azure Active Directory Users",
     "SourceObjectName": "User", "TargetObjectName": ENTERPRISE, "AttributeMappings": [
         {"TargetAttributeName": "userName", "MatchingPriority": 1,
          "Source": {"Expression": "[userPrincipalName]", "Name": "userPrincipalName",
                     "Type": 0}},
         {"TargetAttributeName": f"{ENTERPRISE}:manager", "MatchingPriority": 0,
          "Source": {"Expression": "[manager]", "Name": "manager", "Type": 0}},
     ]},
], separators=(",", ":"))


def schema() -> dict:
    return {
        "id": JOB,
        "version": "Date:2026-03-20T09:12:44Z",
        "synchronizationRules": [{
            "containerFilter": {"includedContainers": []},
            "editable": True,
            "groupFilter": {"includedGroups": []},
            "id": RULE_ID,
            "metadata": metadata(defaultSourceObjectMappings=TEMPLATE_DEFAULTS,
                                 supportsProvisionOnDemand="true"),
            "name": "USERGROUP_OUTBOUND_USERGROUP",
            "objectMappings": [group_object_mapping(enabled=False), user_object_mapping()],
            "priority": 1,
            "sourceDirectoryName": "Azure Active Directory",
            "targetDirectoryName": "customappsso",
        }],
        "directories": [
            {"discoverabilities": "AttributeNames", "discoveryDateTime": None,
             "id": uid("dir/aad"), "name": "Azure Active Directory", "readOnly": True,
             "version": "1.0", "objects": [
                 {"attributes": source_user_attributes(), "metadata": [], "name": "User",
                  "supportedApis": []}]},
            {"discoverabilities": "None", "discoveryDateTime": None, "id": uid("dir/scim"),
             "name": "customappsso", "readOnly": False, "version": "1.0", "objects": [
                 {"attributes": target_user_attributes(), "metadata": [],
                  "name": ENTERPRISE, "supportedApis": []},
                 {"attributes": [definition("id", anchor=True, required=True),
                                 definition("displayName", required=True),
                                 definition("externalId"),
                                 definition("members", "Reference", multivalued=True,
                                            refs=(ENTERPRISE, SCIM_GROUP))],
                  "metadata": [], "name": SCIM_GROUP, "supportedApis": []}]},
        ],
    }


# ----------------------------------------------------------------------------- the job


def execution(state: str, error: dict, began: str, ended: str, escrowed: int = 0) -> dict:
    return {"activityIdentifier": uid(f"run/{began}"), "countEntitled": 57,
            "countEntitledForProvisioning": 57, "countEscrowed": escrowed,
            "countEscrowedRaw": escrowed, "countExported": 57 - escrowed,
            "countExports": 57 - escrowed, "countImported": 57, "countImportedDeltas": 57,
            "countImportedReferenceDeltas": 0, "error": error, "state": state,
            "timeBegan": began, "timeEnded": ended}


NO_ERROR = {"code": "None", "message": "", "tenantActionable": False}
ESCROW_ERROR = {
    "code": "SystemForCrossDomainIdentityManagementServiceIncompatible",
    "message": "More than 40% of the provisioning operations in the last cycles failed. "
               "Review the provisioning logs for the failing requests.",
    "tenantActionable": True,
}
SETTINGS = [{"name": "AzureIngestionAttributeOptimization", "value": "False"},
            {"name": "LookaheadQueryEnabled", "value": "False"},
            {"name": "QuarantineTooManyDeletesThreshold", "value": "500"}]


def job(quarantined: bool) -> dict:
    ok = execution("Succeeded", NO_ERROR, "2026-03-24T07:38:02.0000000Z",
                   "2026-03-24T08:06:41.5212880Z")
    failed = execution("Failed", ESCROW_ERROR, "2026-03-26T03:03:21.0000000Z",
                       "2026-03-26T03:05:25.3592313Z", escrowed=31)
    status = {
        "code": "Quarantine" if quarantined else "Active",
        "countSuccessiveCompleteFailures": 2 if quarantined else 0,
        "escrowsPruned": False,
        "lastExecution": failed if quarantined else ok,
        "lastSuccessfulExecution": None if quarantined else ok,
        "lastSuccessfulExecutionWithExports": None if quarantined else ok,
        "progress": [],
        "quarantine": {
            "currentBegan": "2026-03-26T03:05:27.4494423Z",
            "nextAttempt": "2026-03-27T03:05:27.4494423Z",
            "reason": "EncounteredEscrowProportionThreshold",
            "seriesBegan": "2026-03-26T03:05:27.4494423Z",
            "seriesCount": 1,
            "error": ESCROW_ERROR,
        } if quarantined else None,
        "steadyStateFirstAchievedTime": "0001-01-01T00:00:00Z" if quarantined
        else "2026-03-24T08:06:41.5212880Z",
        "steadyStateLastAchievedTime": "0001-01-01T00:00:00Z" if quarantined
        else "2026-03-24T08:06:41.5212880Z",
        "synchronizedEntryCountByType": [{"key": "User to User", "value": 57}],
        "troubleshootingUrl": "",
    }
    return {"id": JOB, "templateId": "scim",
            "schedule": {"expiration": None, "interval": "PT40M", "state": "Active"},
            "status": status, "synchronizationJobSettings": SETTINGS}


# ----------------------------------------------------------------------------- people


def user(upn: str, name: str) -> dict:
    return {"@odata.type": "#microsoft.graph.user", "id": uid(f"user/{upn}"),
            "displayName": name, "mail": upn, "userPrincipalName": upn}


def group(name: str) -> dict:
    return {"@odata.type": "#microsoft.graph.group", "id": uid(f"group/{name}"),
            "displayName": name}


CONSULTANTS = group("Flowcase Consultants")
MANAGERS = group("Flowcase Managers")
OSLO = group("Consultants Oslo")  # nested inside Flowcase Consultants in bad/
DIRECT_CONSULTANTS = [user("anna.berg@northwind.no", "Anna Berg"),
                      user("lars.hansen@northwind.no", "Lars Hansen"),
                      user("emma.lindqvist@northwind.se", "Emma Lindqvist")]
OSLO_MEMBERS = [user("marte.solberg@northwind.no", "Marte Solberg"),
                user("ole.johansen@northwind.no", "Ole Johansen"),
                user("kari.nilsen@northwind.no", "Kari Nilsen")]
MANAGER_MEMBERS = [user("ida.eriksen@northwind.no", "Ida Eriksen"),
                   user("mads.ostergaard@northwind.dk", "Mads Østergaard")]
DIRECT_USER = user("kari.nilsen@northwind.no", "Kari Nilsen")  # also assigned on her own


def assignment(principal: dict, role_display: str) -> dict:
    kind = principal["@odata.type"].rsplit(".", 1)[1].capitalize()
    return {"id": uid(f"assignment/{principal['id']}/{role_display}").replace("-", "")[:43],
            "deletedDateTime": None, "appRoleId": uid(f"role/{role_display}"),
            "createdDateTime": "2026-03-19T14:02:11.4039317Z",
            "principalDisplayName": principal["displayName"], "principalId": principal["id"],
            "principalType": kind, "resourceDisplayName": "Flowcase SCIM", "resourceId": SP}


def page(context: str, value: list) -> dict:
    return {"@odata.context": f"{GRAPH}/$metadata#{context}", "value": value}


def members_pages(nested: bool) -> dict[str, dict]:
    consultants = DIRECT_CONSULTANTS + ([OSLO] if nested else [])
    transitive = consultants + (OSLO_MEMBERS if nested else [])
    pages = {}
    for grp, direct, every in ((CONSULTANTS, consultants, transitive),
                               (MANAGERS, MANAGER_MEMBERS, MANAGER_MEMBERS)):
        slug = grp["displayName"].lower().replace(" ", "-")
        pages[f"group-{slug}-members.json"] = page(f"groups('{grp['id']}')/members", direct)
        pages[f"group-{slug}-transitive-members.json"] = page(
            f"groups('{grp['id']}')/transitiveMembers", every)
    return pages


def service_principal(roles: list[dict]) -> dict:
    return {"@odata.context": f"{GRAPH}/$metadata#servicePrincipals/$entity", "id": SP,
            "accountEnabled": True, "appDisplayName": "Flowcase SCIM", "appId": APP_ID,
            "appOwnerOrganizationId": TENANT, "appRoleAssignmentRequired": True,
            "displayName": "Flowcase SCIM", "servicePrincipalType": "Application",
            "tags": ["WindowsAzureActiveDirectoryCustomSingleSignOnApplication",
                     "WindowsAzureActiveDirectoryIntegratedApp"],
            "appRoles": roles}


def manifest(roles: list[dict]) -> dict:
    """App registrations > Manifest (the Microsoft Graph app manifest), as copied by hand."""
    return {"id": APP_OBJECT_ID, "appId": APP_ID, "displayName": "Flowcase SCIM",
            "signInAudience": "AzureADMyOrg", "identifierUris": [], "appRoles": roles,
            "info": {"logoUrl": None, "marketingUrl": None, "privacyStatementUrl": None,
                     "supportUrl": None, "termsOfServiceUrl": None},
            "requiredResourceAccess": [], "tags": ["WindowsAzureActiveDirectoryIntegratedApp"],
            "web": {"redirectUris": [], "homePageUrl": None}}


def synchronization(url: str, sync_all: str) -> dict:
    """What fetch-config keeps of GET .../synchronization: the non-secret secrets only."""
    return {"@odata.context": f"{GRAPH}/$metadata#servicePrincipals('{SP}')/synchronization/"
                              "$entity",
            "id": SP, "secrets": [{"key": "BaseAddress", "value": url},
                                  {"key": "SyncAll", "value": sync_all}]}


def fetch_notes() -> dict:
    return {"loganalyzer": "fetch-config", "servicePrincipalId": SP,
            "fetchedAt": "2026-03-26T09:00:00Z", "graph": GRAPH, "unavailable": {}}


# ----------------------------------------------------------------------------- mistakes


MISTAKES = {
    "CC001": "the group object mapping is enabled",
    "CC002": "the enterprise manager is mapped from [manager] and is in the attribute list",
    "CC003": "userName is mapped Direct from userPrincipalName (no ToLower)",
    "CC004": "the work email is ToLower([mail], ) but not used for matching",
    "CC005": "active is an inverted Switch",
    "CC006": "roles is SingleAppRoleAssignment([appRoleAssignments])",
    "CC007": "countryCode and countryName are both mapped",
    "CC008": "department is mapped to the enterprise division, not department",
    "CC009": "in the attribute list id is not required, the work email is not required and "
             "roles is not multi-valued",
    "CC010": "role value 'Consultant' (capital C)",
    "CC011": "role values departmentmanager:Engineering and departmentmanager:office:no:Finance",
    "CC012": "the countrymanager role is disabled",
    "CC013": "the external role can be assigned to applications only",
    "CC014": "Consultants Oslo is nested in an assigned group: 2 users reach the app only so",
    "CC015": "the job is in quarantine (EncounteredEscrowProportionThreshold)",
    "CC016": "the Tenant URL lacks ?aadOptscim062020",
    "CC017": "scope is Sync all users and groups (SyncAll true)",
    "CC019": "the Tenant URL's path is /api/scim, without /v2",
    # not in bad/: switched off, the user mapping leaves CC002-CC008 nothing to check; the
    # tests switch good/'s off instead
    "CC018": "(not in bad/) the user object mapping is disabled",
}


def bad_schema() -> dict:
    bad = schema()
    rule = bad["synchronizationRules"][0]
    groups, users = rule["objectMappings"]
    groups["enabled"] = True
    found = {m["targetAttributeName"]: m for m in users["attributeMappings"]}
    found["userName"]["source"] = attr("userPrincipalName")
    found[WORK_EMAIL]["matchingPriority"] = 0
    found["active"]["source"] = soft_delete("False", "False", "True", "True")
    found["roles"]["source"] = function(
        "SingleAppRoleAssignment", "SingleAppRoleAssignment([appRoleAssignments])",
        ("appRoleAssignments", attr("appRoleAssignments")))
    found[f"{ENTERPRISE}:department"]["targetAttributeName"] = f"{ENTERPRISE}:division"
    users["attributeMappings"] += [
        mapping(f"{FLOWCASE_EXT}:countryName", attr("country")),
        mapping(f"{ENTERPRISE}:manager", attr("manager")),
    ]
    target = bad["directories"][1]["objects"][0]["attributes"]
    for item in target:
        if item["name"] in ("id", WORK_EMAIL):
            item["required"] = False
        if item["name"] == "roles":
            item["multivalued"] = False
    target += [definition(f"{ENTERPRISE}:division"),
               definition(f"{ENTERPRISE}:manager", "Reference", refs=(ENTERPRISE,))]
    return bad


def bad_roles() -> list[dict]:
    roles = copy.deepcopy(GOOD_ROLES)
    found = {r["value"]: r for r in roles}
    found["consultant"]["value"] = "Consultant"
    found["countrymanager"]["isEnabled"] = False
    found["external"]["allowedMemberTypes"] = ["Application"]
    found["departmentmanager:office:NO:Finance"]["value"] = "departmentmanager:office:no:Finance"
    roles.append(role("departmentmanager:Engineering", "Department manager Engineering"))
    return DEFAULT_ROLES + roles


def write(folder: Path, files: dict[str, dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("*.json"):
        old.unlink()
    for name, body in files.items():
        (folder / name).write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n",
                                   encoding="utf-8")


def assignments(nested: bool) -> dict:
    value = [assignment(CONSULTANTS, "Consultant"),
             assignment(MANAGERS, "International manager")]
    if nested:
        value.append(assignment(DIRECT_USER, "Consultant"))
    return page(f"servicePrincipals('{SP}')/appRoleAssignedTo", value)


def main(out: Path = HERE) -> None:
    jobs_context = f"servicePrincipals('{SP}')/synchronization/jobs"
    good = {
        "fetch-config.json": fetch_notes(),
        "service-principal.json": service_principal(DEFAULT_ROLES + GOOD_ROLES),
        "synchronization.json": synchronization(f"{FLOWCASE_URL}?aadOptscim062020", "false"),
        "synchronization-jobs.json": page(jobs_context, [job(quarantined=False)]),
        "schema-1.json": {
            "@odata.context": f"{GRAPH}/$metadata#{jobs_context}('{JOB}')/schema/$entity",
            **schema()},
        "app-role-assignments.json": assignments(nested=False),
        **members_pages(nested=False),
    }
    bad = {
        "sync-job.json": {"@odata.context": f"{GRAPH}/$metadata#{jobs_context}/$entity",
                          **job(quarantined=True)},
        "Flowcase SCIM schema.json": bad_schema(),
        "manifest.json": manifest(bad_roles()),
        "synchronization.json": synchronization(FLOWCASE_URL.removesuffix("/v2"), "true"),
        "app-role-assignments.json": assignments(nested=True),
        **members_pages(nested=True),
    }
    write(out / "good", good)
    write(out / "bad", bad)


if __name__ == "__main__":
    main()
