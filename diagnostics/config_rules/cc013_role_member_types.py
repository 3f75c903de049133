"""Flowcase app roles that cannot be assigned to both users and groups.

What it detects:
    App roles with a Flowcase value whose allowed member types are not both ``User`` and
    ``Group``.
Why provisioning fails:
    A role for users only cannot be given to a group (and the reverse): admins then assign
    people another way than planned, or not at all, and nothing in the logs shows it.
Evidence:
    Each role's allowed member types against "Users/Groups".
Fix:
    Step 4: set Allowed member types to Both (Users/Groups).
Known false positives:
    A role meant for direct assignment only is reported; the guide asks for Both.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import app_roles
from loganalyzer.config.model import APP_ROLES, ConfigSnapshot

ID = "CC013"
TITLE = "App roles not assignable to both users and groups"
SEVERITY = "low"
GUIDE_STEPS = ("4",)
NEEDS = (APP_ROLES,)
LOG_RULES = ()
REMEDIATION = (
    'In App registrations > App roles open each listed role and set Allowed member types to '
    '"Both (Users/Groups)" (guide step 4).'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    narrow = [r for r in app_roles(config)
              if set(r.allowed_member_types or []) != {"User", "Group"}]
    if not narrow:
        return []
    return [ConfigHit(
        f"{len(narrow)} app role(s) cannot be assigned to both users and groups: "
        + ", ".join(f"'{r.value}'" for r in narrow) + ".",
        [Mismatch(f"app role '{r.display_name}' ({r.value})",
                  "/".join(r.allowed_member_types or []) or "nobody", "User/Group")
         for r in narrow])]
