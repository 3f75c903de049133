"""Configuration drift: what changed between two snapshots of the same app.

The weekly report shows it when given this week's and an earlier configuration
(``report --config DIR --previous-config OLD``). Each snapshot is flattened to settings
(``mapping to userName`` -> ``Expression ToLower([userPrincipalName], ), matching precedence
1``); a setting is compared only when both snapshots hold the part it belongs to, so a file
missing from one folder is not reported as a change. Users are counted, never named.
"""

from __future__ import annotations

from dataclasses import dataclass

from diagnostics.facts.config import describe, enum_text, object_mappings, target_attributes
from loganalyzer.config.model import (
    APP_ROLES,
    ASSIGNMENTS,
    JOBS,
    SCHEMA,
    SECRETS,
    ConfigSnapshot,
)
from loganalyzer.masking import mask


@dataclass(frozen=True)
class Drift:
    setting: str
    before: str  # "—" when the setting did not exist
    now: str


def _schema_settings(snap: ConfigSnapshot) -> dict[str, str]:
    found: dict[str, str] = {}
    for _job_id, schema in snap.schemas():
        for source in ("User", "Group"):
            for _rule, mapping in object_mappings(schema, source):
                found[f"object mapping '{mapping.name}'"] = (
                    "enabled" if mapping.enabled else "disabled")
        for _rule, mapping in object_mappings(schema, "User"):
            for attribute in mapping.attribute_mappings or []:
                found[f"mapping to {attribute.target_attribute_name}"] = describe(
                    attribute, matching=True)
        for attribute in target_attributes(schema):
            flags = [name for name in ("anchor", "required", "multivalued")
                     if getattr(attribute, name)]
            found[f"attribute list: {attribute.name}"] = ", ".join(flags) or "listed"
    return found


def settings(snap: ConfigSnapshot) -> dict[str, dict[str, str]]:
    """Part -> setting -> value, for the parts the snapshot holds."""
    parts: dict[str, dict[str, str]] = {}
    if snap.has(SCHEMA):
        parts[SCHEMA] = _schema_settings(snap)
    if snap.has(APP_ROLES):
        parts[APP_ROLES] = {
            f"app role '{role.value or role.display_name}'":
                f"{'enabled' if role.is_enabled else 'disabled'}, "
                f"{'/'.join(role.allowed_member_types or []) or 'nobody'}"
            for role in snap.app_roles() or []}
    if snap.has(JOBS):
        parts[JOBS] = {f"job {job.id}": f"status {enum_text(job.status.code if job.status else '')}"
                       f", schedule {enum_text(job.schedule.state if job.schedule else '')}"
                       for job in snap.job_models()}
    if snap.has(ASSIGNMENTS):
        kinds = [(a.principal_type or "").lower() for a in snap.assignments or []]
        parts[ASSIGNMENTS] = {f"group assigned: {a.principal_display_name}": "assigned"
                              for a in snap.assignments or []
                              if (a.principal_type or "").lower() == "group"}
        parts[ASSIGNMENTS]["users assigned directly"] = str(kinds.count("user"))
    if snap.has(SECRETS):
        # the Tenant URL can embed a credential (?token=…, user:secret@)
        parts[SECRETS] = {"Tenant URL": mask(snap.secret("BaseAddress")) or "",
                          "scope (SyncAll)": snap.secret("SyncAll") or ""}
    return parts


def drift(before: ConfigSnapshot, now: ConfigSnapshot) -> list[Drift]:
    """Every setting that differs, in the parts both snapshots hold."""
    old, new = settings(before), settings(now)
    changes = []
    for part in sorted(set(old) & set(new)):
        for key in sorted(set(old[part]) | set(new[part])):
            was, is_now = old[part].get(key, "—"), new[part].get(key, "—")
            if was != is_now:
                changes.append(Drift(key, was, is_now))
    return changes
