"""What the configuration checks share: the mappings in force, the target attribute list, how to
describe a mapping, and the guide's expected expressions.

Only the object mappings of a schema's rules are in force. The schema also stores the template's
defaults (rule metadata ``defaultSourceObjectMappings``, which map the manager and enable
groups); reading those would make every tenant look misconfigured, so nothing here does.
The models are msgraph-sdk's (``SynchronizationSchema`` and friends), read by attribute.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from diagnostics.config_rule import NotCheckable
from loganalyzer.config.model import ConfigSnapshot, distinct

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
DEPARTMENT = f"{ENTERPRISE}:department"
WORK_EMAIL = 'emails[type eq "work"].value'
# Entra's real attribute, and the guide's spelling of it: both are the unsupported manager.
MANAGER_NAMES = (f"{ENTERPRISE}:manager",
                 "urn:ietf:params:scim:schemas:extension:scim:2.0:EnterpriseUser:manager")
GUIDE_USERNAME = "ToLower([userPrincipalName], )"
GUIDE_EMAIL = "ToLower([mail], )"
GUIDE_ACTIVE = 'Switch([IsSoftDeleted], , "False", "True", "True", "False")'
GUIDE_ROLES = "AppRoleAssignmentsComplex([appRoleAssignments])"
# Roles every new enterprise app has; they carry no Flowcase role and are not mistakes.
DEFAULT_ROLE_NAMES = ("User", "msiam_access")
# The Tenant URL of guide step 3: https://<company>.flowcase.com/api/scim/v2?aadOptscim062020
SCIM_PATH = "/api/scim/v2"
TENANT_URL_FLAG = "aadOptscim062020"
FLOWCASE_DOMAIN = "flowcase.com"


def tenant_url_parts(url: str) -> tuple[str, str, str]:
    """A Tenant URL's host (lower-cased, without a port or credential), path and query."""
    parts = urlsplit(url.strip())
    return (parts.hostname or "").lower(), parts.path, parts.query


def is_flowcase_host(host: str) -> bool:
    return host == FLOWCASE_DOMAIN or host.endswith("." + FLOWCASE_DOMAIN)


def guide_tenant_url(url: str) -> str:
    """The Tenant URL the guide asks for, from this one: a Flowcase host's with the SCIM path
    and the flag; another host's (a proxy: its path cannot be judged) with the flag added."""
    host, _path, _query = tenant_url_parts(url)
    if is_flowcase_host(host):
        return f"https://{host}{SCIM_PATH}?{TENANT_URL_FLAG}"
    return url.strip().split("?")[0] + f"?{TENANT_URL_FLAG}"


def enum_text(value: Any) -> str:
    """An SDK enum (or flags list, or plain string) as the text Graph sends."""
    if isinstance(value, list):
        return ",".join(enum_text(v) for v in value)
    return str(getattr(value, "value", value) if value is not None else "")


def fold(text: str | None) -> str:
    """Expression text compared without spaces or case: ``ToLower([mail], )`` matches
    ``tolower([Mail],)``."""
    return re.sub(r"\s+", "", text or "").casefold()


def attribute_key(name: str | None) -> str:
    """Attribute names compared without case and punctuation (``emails[type eq "work"].value``)."""
    return re.sub(r"[^a-z0-9]", "", (name or "").lower())


def is_manager(name: str | None) -> bool:
    return attribute_key(name) in {attribute_key(n) for n in MANAGER_NAMES}


def expression(source: Any) -> str:
    """The mapping's source as the portal shows it (``[mail]``, ``ToLower([mail], )``)."""
    if source is None:
        return ""
    return source.expression or _rebuilt(source, argument=False)


def _rebuilt(source: Any, argument: bool) -> str:
    """The expression Graph often leaves null, rebuilt from ``name`` and ``parameters`` so a
    correct Function mapping is not reported: ``ToLower([mail], )``. An empty constant
    argument is blank, as in the portal's ``Switch([IsSoftDeleted], , "False", …)``."""
    kind = enum_text(source.type)
    if kind == "Constant":
        return "" if argument and not source.name else f'"{source.name or ""}"'
    if kind == "Function":
        arguments = (_argument(p.value) for p in source.parameters or [])
        return f"{source.name}({', '.join(arguments)})"
    return f"[{source.name}]"


def _argument(source: Any) -> str:
    if source is None:
        return ""
    return source.expression or _rebuilt(source, argument=True)


def describe(mapping: Any, matching: bool = False) -> str:
    """'Direct [userPrincipalName], matching precedence 1' and the like; ``matching`` also says
    when the mapping is not used for matching."""
    if mapping is None:
        return "not mapped"
    source = mapping.source
    kind = {"Attribute": "Direct", "Function": "Expression"}.get(
        enum_text(source.type) if source else "", enum_text(source.type) if source else "?")
    text = f"{kind} {expression(source)}"
    priority = mapping.matching_priority or 0
    if priority:
        return f"{text}, matching precedence {priority}"
    return f"{text}, not used for matching" if matching else text


def schemas(config: ConfigSnapshot) -> list[tuple[str, Any]]:
    """(label, schema) for each schema; the label names the job only when there are several."""
    found = config.schemas()
    if not found:
        raise NotCheckable(config.unavailable.get("synchronization schema", "no schema was read"))
    if len(found) == 1:
        return [("", found[0][1])]
    return [(f"job {job_id}: " if job_id else f"schema {n}: ", schema)
            for n, (job_id, schema) in enumerate(found, start=1)]


def object_mappings(schema: Any, source_object: str) -> list[tuple[Any, Any]]:
    """(synchronization rule, object mapping) for mappings of ``source_object`` (``User``,
    ``Group``): found by their source, never by a target's or mapping's name; a mapping listed
    twice counts once."""
    return distinct(((rule, mapping) for rule in schema.synchronization_rules or []
                     for mapping in rule.object_mappings or []
                     if (mapping.source_object_name or "").lower() == source_object.lower()),
                    lambda pair: pair[1])


def users_switched_off(schema: Any) -> str | None:
    """The name of the user object mapping when every one the schema has is disabled
    (Entra then provisions no user), else None."""
    users = [mapping for _rule, mapping in object_mappings(schema, "User")]
    if users and all(mapping.enabled is False for mapping in users):
        return users[0].name or "the user mapping"
    return None


def user_mappings(schema: Any) -> list[Any]:
    """The attribute mappings of the enabled user object mapping(s). ``NotCheckable`` when
    every user mapping is disabled: Entra then sends no user at all, and each attribute
    would wrongly read as not mapped."""
    off = users_switched_off(schema)
    if off:
        raise NotCheckable(f"'{off}' is disabled (CC018), so Entra sends no user attribute")
    return [attribute for _rule, mapping in object_mappings(schema, "User")
            if mapping.enabled is not False for attribute in mapping.attribute_mappings or []]


def mapping_to(schema: Any, target: str) -> Any:
    """The user attribute mapping whose target is ``target`` (compared loosely), or None."""
    key = attribute_key(target)
    return next((m for m in user_mappings(schema)
                 if attribute_key(m.target_attribute_name) == key), None)


def target_attributes(schema: Any) -> list[Any]:
    """The target directory's attribute list for the user object (guide step 6)."""
    found = []
    for rule, mapping in object_mappings(schema, "User"):
        for directory in schema.directories or []:
            if directory.name != rule.target_directory_name:
                continue
            for obj in directory.objects or []:
                if obj.name == mapping.target_object_name:
                    found += list(obj.attributes or [])
    return found


def app_roles(config: ConfigSnapshot) -> list[Any]:
    """The app roles that are meant as Flowcase roles: every role but the defaults."""
    roles = config.app_roles()
    if roles is None:
        raise NotCheckable(config.unavailable.get("app roles", "no app roles were read"))
    return [r for r in roles
            if r.value and r.value not in DEFAULT_ROLE_NAMES
            and r.display_name not in DEFAULT_ROLE_NAMES]


def accepted(actual: str, *forms: str) -> bool:
    return fold(actual) in {fold(f) for f in forms}


def expected_mapping(config: ConfigSnapshot, target: str, forms: tuple[str, ...],
                     priority: int | None, consequence: str,
                     seen_by: dict[str, tuple[str, ...]] | None = None) -> list:
    """Hits for a user mapping to ``target`` that is missing, whose expression is none of
    ``forms`` (the first is the guide's), or whose matching precedence is not ``priority``
    (None: precedence not checked). ``seen_by`` names the log rules that see a wrong
    ``expression`` and a wrong ``precedence`` (None: the check's own LOG_RULES)."""
    from diagnostics.config_rule import ConfigHit, Mismatch

    hits = []
    for label, schema in schemas(config):
        mapping = mapping_to(schema, target)
        wrong_expression = mapping is None or not accepted(expression(mapping.source), *forms)
        wrong_priority = priority is not None and mapping is not None and (
            (mapping.matching_priority or 0) != priority)
        if not (wrong_expression or wrong_priority):
            continue
        expected = f"Expression {forms[0]}" + (
            f", matching precedence {priority}" if priority else "")
        what = ("is not mapped" if mapping is None else
                f"is mapped {describe(mapping, matching=priority is not None)}"
                if wrong_expression else
                f"has matching precedence {mapping.matching_priority or 0}, not {priority}")
        wrong = ["expression"] if mapping is not None and wrong_expression else []
        wrong += ["precedence"] if wrong_priority else []
        log_rules = None if seen_by is None else tuple(
            dict.fromkeys(r for kind in wrong for r in seen_by[kind]))
        hits.append(ConfigHit(f"{label}{target} {what}: {consequence}",
                              [Mismatch(f"{label}{target} mapping",
                                        describe(mapping, matching=priority is not None),
                                        expected)], log_rules=log_rules))
    return hits
