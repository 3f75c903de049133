"""Flowcase app roles that are disabled.

What it detects:
    App roles with a Flowcase value whose ``isEnabled`` is false ("Enable this app role" not
    ticked).
Why provisioning fails:
    A disabled role cannot be assigned; users meant to have it get no role or another one, and
    no provisioning log ever says so.
Evidence:
    Each disabled role's display name and value, against "enabled".
Fix:
    Step 4: App registrations > App roles: open the role, tick "Enable this app role", Apply.
Known false positives:
    A role retired on purpose is reported until it is deleted.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import app_roles
from loganalyzer.config.model import APP_ROLES, ConfigSnapshot
from loganalyzer.wording import plural, verb

ID = "CC012"
TITLE = "Flowcase app roles that are disabled"
SEVERITY = "medium"
GUIDE_STEPS = ("4",)
NEEDS = (APP_ROLES,)
LOG_RULES = ()
REMEDIATION = (
    'In App registrations > App roles open each listed role and tick "Enable this app role" '
    '(guide step 4: "Ensure the "Enable this app role" checkbox is ticked").'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    disabled = [r for r in app_roles(config) if r.is_enabled is False]
    if not disabled:
        return []
    return [ConfigHit(
        f"{plural(len(disabled), 'app role')} {verb(len(disabled), 'is', 'are')} disabled and "
        "cannot be assigned: "
        + ", ".join(f"'{r.value}'" for r in disabled) + ".",
        [Mismatch(f"app role '{r.display_name}' ({r.value})", "disabled", "enabled")
         for r in disabled])]
