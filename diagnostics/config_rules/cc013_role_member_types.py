"""Flowcase app roles that cannot be assigned to users and groups.

What it detects:
    App roles with a Flowcase value whose allowed member types lack ``User``. In Graph an app
    role's ``allowedMemberTypes`` holds ``User`` (the portal's "Users/Groups": users and
    groups) and/or ``Application``; the guide's "Both (Users/Groups)" is ``User``, so
    ``["User"]`` and ``["User", "Application"]`` both pass and an ``Application``-only role
    is reported.
Why provisioning fails:
    A role that is not for Users/Groups cannot be chosen under Users and Groups (step 5):
    nobody can be given it, so the people meant to have it reach Flowcase with another role or
    none, and nothing in the logs shows it.
Evidence:
    Each role's allowed member types against ``User`` (Users/Groups).
Fix:
    Step 4: set Allowed member types to Users/Groups (or "Both", which adds Applications).
Known false positives:
    None known: a role meant for applications only carries no Flowcase role value.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import app_roles
from loganalyzer.config.model import APP_ROLES, ConfigSnapshot
from loganalyzer.wording import plural

ID = "CC013"
TITLE = "App roles not assignable to users and groups"
SEVERITY = "low"
GUIDE_STEPS = ("4",)
NEEDS = (APP_ROLES,)
LOG_RULES = ()
REMEDIATION = (
    "In App registrations > App roles open each listed role and set Allowed member types to "
    'Users/Groups (guide step 4: "Set Allowed member types to Both (Users/Groups).").'
)
# Graph's member type for users and groups; the other value is "Application".
USERS_AND_GROUPS = "User"


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    narrow = [r for r in app_roles(config)
              if USERS_AND_GROUPS not in (r.allowed_member_types or [])]
    if not narrow:
        return []
    return [ConfigHit(
        f"{plural(len(narrow), 'app role')} cannot be assigned to users and groups: "
        + ", ".join(f"'{r.value}'" for r in narrow) + ".",
        [Mismatch(f"app role '{r.display_name}' ({r.value})",
                  "/".join(r.allowed_member_types or []) or "nobody",
                  f"{USERS_AND_GROUPS} (Users/Groups)")
         for r in narrow])]
