"""Malformed departmentmanager role values.

What it detects:
    App role values starting with ``departmentmanager`` (any case) that are not one of the
    guide's forms: ``departmentmanager:office:<CC>:<name>``,
    ``departmentmanager:dept:<CC>:<NameWithoutSpaces>`` or
    ``departmentmanager:custom_tag:<category>:<tag>`` with an upper-case ISO 3166 country code;
    the old ``departmentmanager:<Name>`` form and a bare ``departmentmanager`` (no department)
    included.
Why provisioning fails:
    Flowcase cannot tell which department the role is for and refuses the user; a department
    name with spaces cannot be pushed by Entra at all.
Evidence:
    Each role's value and what is wrong with it.
Fix:
    Step 4: rewrite the value in one of the three forms (``StripSpaces`` names go in the
    ``dept`` form).
Known false positives:
    A department whose Flowcase name holds a colon is reported.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import app_roles
from diagnostics.facts.roles import is_department_manager, role_problem
from loganalyzer.config.model import APP_ROLES, ConfigSnapshot
from loganalyzer.wording import plural, verb

ID = "CC011"
TITLE = "Malformed departmentmanager role values"
SEVERITY = "high"
GUIDE_STEPS = ("4",)
NEEDS = (APP_ROLES,)
LOG_RULES = ("FC012",)
REMEDIATION = (
    "Rewrite each departmentmanager value as departmentmanager:office:<country-code>:<dept-name>, "
    "departmentmanager:dept:<country-code>:<dept-name-stripped> or "
    'departmentmanager:custom_tag:<category-euid>:<tag-euid> (guide step 4, "Department Manager '
    'Role Format").'
)
FORMS = "departmentmanager:office:<CC>:<name>, :dept:<CC>:<NameWithoutSpaces> or :custom_tag:…"


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    wrong = [(r, role_problem(r.value)) for r in app_roles(config)
             if is_department_manager(r.value) and role_problem(r.value)]
    if not wrong:
        return []
    evidence = [Mismatch(f"app role '{r.display_name}'", f"'{r.value}': {problem}", FORMS)
                for r, problem in wrong]
    values = ", ".join(f"'{r.value}'" for r, _ in wrong)
    n = len(wrong)
    return [ConfigHit(f"{plural(n, 'departmentmanager role value')} {verb(n, 'is', 'are')} "
                      f"malformed: {values}.", evidence)]
