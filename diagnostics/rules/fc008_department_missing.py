"""A department does not exist in Flowcase.

What it detects:
    User failures answered 400/404/422 (or without an HTTP status) whose text mentions a
    department or office in any wording ("Department 'X' does not exist", "Value not supported
    for attribute department", "Unknown department"), outside the values it quotes, or quotes
    the department value the request sent (between quotes: unquoted, a name such as Management
    is a word of Entra's own error codes); grouped by department value.
Why provisioning fails:
    Flowcase's SCIM API does not create departments: a user whose department name is not
    already a department in Flowcase is refused, and keeps failing every cycle.
Evidence:
    The failure and its SCIM detail; the department value sent
    (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``), else (no
    steps logged, as in a main CSV alone) the one the text names, quoted or after a colon
    ("Unknown department: Marketing Nordics."); users whose department neither names are
    counted in a clause of their own. A value with a space at its start or end, which the
    quotes hardly show, is said to have it ("'Consulting ' (1 user; the name ends with a
    space)"): trim the Entra value rather than create the department again.
Fix:
    Create the department in Flowcase (Countries & Departments) or correct the Entra
    department value so it matches an existing one exactly; then restart provisioning.
Known false positives:
    A department that exists in several countries is reported by FC009, not here; role errors
    about departmentmanager values are left to the role rules, and so are other role errors
    unless they also name the department and quote the one sent (an app listing every error
    of a request at once: "role 'Consultant' is not a valid role; department 'Sales EMEA'
    does not exist" is FC011's and this rule's); group events (a 404 for a group
    named "Oslo Office") are left to FC001. A quoted value of another attribute ("Value 'Head
    of Division' for attribute title") is not a mention; unquoted, or a single quoted word
    ("Value 'Division' for attribute title"), it still is. A request that sent both
    countryCode and countryName and is refused in words about the country ("Only one of
    countryCode and countryName may be given to resolve the department") is FC010's.
"""

from __future__ import annotations

from diagnostics.facts.departments import department_failures, grouped, is_ambiguous
from diagnostics.rulekit import Context, Hit, describe

ID = "FC008"
TITLE = "Department does not exist in Flowcase"
SEVERITY = "high"
GUIDE_STEPS = ("1", "7a")
PATTERNS = (8,)
REMEDIATION = (
    '"Department names sent via SCIM must already exist in Flowcase — the SCIM API will not '
    'create new departments" (guide step 1): create each listed department in Flowcase (see '
    "the Countries & Departments UI or API) or fix the user's department in Entra to an "
    "existing name (the department mapping of step 7a sends it as-is), then restart "
    "provisioning so the escrowed users are retried."
)


def evaluate(ctx: Context) -> list[Hit]:
    failures = department_failures(ctx).filter(~is_ambiguous())
    if failures.height == 0:
        return []
    message = (
        f"{grouped(failures, 'Flowcase has no department', 'missing department')}; "
        f"{describe(failures)} could not be provisioned."
    )
    departments = sorted(failures["department"].drop_nulls().unique().to_list())
    return [Hit.of_rows(failures, message, details={"departments": departments})]
