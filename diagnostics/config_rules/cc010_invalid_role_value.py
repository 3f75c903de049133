"""App role values that are not Flowcase roles.

What it detects:
    App roles (service principal or app manifest) whose value is not one of Flowcase's roles,
    compared case-sensitively: ``external``, ``limited_access``, ``consultant``,
    ``internationalmanager``, ``referencemanager``, ``countrymanager`` (``departmentmanager``
    values are CC011's). The default roles every app has (``User``, ``msiam_access``, roles
    without a value) are left alone.
Why provisioning fails:
    Entra sends the value of each assigned role; Flowcase refuses a user whose role value it
    does not know, and the failure shows only when someone with that role is assigned.
Evidence:
    Each role's display name and value against the nearest valid value.
Fix:
    Step 4: App registrations > App roles: set each Value to a Flowcase role name exactly, in
    lower case.
Known false positives:
    A role kept on purpose for another use of the same app registration is reported.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import app_roles
from diagnostics.facts.roles import SIMPLE_ROLES, is_department_manager, role_problem
from loganalyzer.config.model import APP_ROLES, ConfigSnapshot
from loganalyzer.wording import plural, verb

ID = "CC010"
TITLE = "App role values that are not Flowcase roles"
SEVERITY = "high"
GUIDE_STEPS = ("4",)
NEEDS = (APP_ROLES,)
LOG_RULES = ("FC011",)
REMEDIATION = (
    "In App registrations > App roles set each role's Value to a Flowcase role (guide step 4: "
    '"The Value field of each App Role must exactly match a valid Flowcase role name. These are '
    'case-sensitive.").'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    wrong = [(r, role_problem(r.value)) for r in app_roles(config)
             if not is_department_manager(r.value) and role_problem(r.value)]
    if not wrong:
        return []
    valid = ", ".join(sorted(SIMPLE_ROLES))
    evidence = [Mismatch(f"app role '{r.display_name}'", f"value '{r.value}' ({problem})",
                         f"'{r.value.lower()}'" if r.value.lower() in SIMPLE_ROLES
                         else f"one of {valid}") for r, problem in wrong]
    values = ", ".join(f"'{r.value}'" for r, _ in wrong)
    n = len(wrong)
    roles = verb(n, "is not a Flowcase role", "are not Flowcase roles")
    return [ConfigHit(f"{plural(n, 'app role value')} {roles}: {values}.", evidence)]
