"""Users reach the app only through a nested group.

What it detects:
    Users who are transitive members of an assigned group (``transitiveMembers``) but neither
    direct members of any assigned group nor assigned on their own: they belong to a group
    nested inside an assigned group.
Why provisioning fails:
    Assignment does not cascade to nested groups: Entra skips these users as not assigned, so
    they never reach Flowcase, and an admin looking at the group sees them in it.
Evidence:
    Per assigned group: its nested groups, how many users reach the app only through them, and
    a sample of their names.
Fix:
    Step 5: assign the nested groups (or the users) to the app directly, with the app role they
    should have.
Known false positives:
    Users kept out on purpose by nesting are reported; assigned users who are out of scope for
    other reasons are not checked here.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch, NotCheckable
from loganalyzer.config.model import ASSIGNMENTS, MEMBERS, ConfigSnapshot
from loganalyzer.wording import plural, verb

ID = "CC014"
TITLE = "Users reach the app only through a nested group"
SEVERITY = "high"
GUIDE_STEPS = ("5",)
NEEDS = (ASSIGNMENTS, MEMBERS)
LOG_RULES = ("FC018",)
REMEDIATION = (
    "Assign each nested group (or its users) to the app under Users and Groups, with the app "
    'role they need (guide step 5: "If you assign an Entra group, only users directly in that '
    'group will be provisioned. The assignment does not cascade to nested/child groups.").'
)
SAMPLE = 5


def _kind(item) -> str:
    return (item.odata_type or "").rsplit(".", 1)[-1].lower()


def _name(item) -> str:
    return getattr(item, "user_principal_name", None) or item.display_name or str(item.id)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    if config.assignments is None:
        raise NotCheckable(config.unavailable.get(ASSIGNMENTS, "no assignments were read"))
    groups = {str(a.principal_id): a.principal_display_name or str(a.principal_id)
              for a in config.assignments if (a.principal_type or "").lower() == "group"}
    missing = [name for gid, name in groups.items()
               if gid not in config.members or config.members[gid].direct is None
               or config.members[gid].transitive is None]
    if missing:
        raise NotCheckable(config.unavailable.get(
            MEMBERS, f"the members of {', '.join(missing)} were not read"))
    covered = {str(a.principal_id) for a in config.assignments
               if (a.principal_type or "").lower() == "user"}
    for gid in groups:
        covered |= {str(m.id) for m in config.members[gid].direct if _kind(m) == "user"}
    evidence, everyone = [], {}
    for gid, name in groups.items():
        members = config.members[gid]
        only = {str(m.id): _name(m) for m in members.transitive
                if _kind(m) == "user" and str(m.id) not in covered}
        if not only:
            continue
        everyone.update(only)
        nested = ", ".join(m.display_name or str(m.id) for m in members.direct
                           if _kind(m) == "group") or "nested groups"
        sample = sorted(only.values())[:SAMPLE]
        evidence.append(Mismatch(
            f"group '{name}'",
            f"{plural(len(only), 'user')} only through {nested}: {', '.join(sample)}"
            + (" …" if len(only) > SAMPLE else ""),
            "every user to provision a direct member of an assigned group, or assigned"))
    if not everyone:
        return []
    sample = sorted(everyone.values())[:SAMPLE]
    users = len(everyone)
    return [ConfigHit(
        f"{plural(users, 'user')} {verb(users, 'reaches', 'reach')} the app only through a "
        "nested group and will not be provisioned "
        f"({', '.join(sample)}{', …' if users > SAMPLE else ''}).",
        evidence, details={"users": users, "sample": sample})]
