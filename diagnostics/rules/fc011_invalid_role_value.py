"""An app role value is not a Flowcase role.

What it detects:
    Role values sent in the ``roles`` attribute (parsed from Entra's JSON list, a JSON object
    or plain text) that are not one of ``external``, ``limited_access``, ``consultant``,
    ``internationalmanager``, ``referencemanager``, ``countrymanager`` (case-sensitive), and
    400/422 failures whose text is about a role. ``departmentmanager`` values are FC012's.
Why provisioning fails:
    The App Role's Value in Entra is sent verbatim. Flowcase only knows its own role names,
    exactly as spelled: ``Consultant`` or ``project manager`` is refused, so the user is not
    created or keeps the old role.
Evidence:
    The role values sent, grouped by value, with the reason (wrong case / unknown); the
    failures' SCIM detail.
Fix:
    Step 4: edit the App Role so its Value is exactly a Flowcase role name (lower-case), or
    assign the user a role that is; then re-provision the affected users.
Known false positives:
    A role Flowcase adds after this rulebook was written would be reported until the valid
    set in ``diagnostics/facts/roles.py`` is updated.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.roles import SIMPLE_FORM, role_evidence
from diagnostics.rulekit import Context, Hit, describe, ids, plural, quote_list

ID = "FC011"
TITLE = "App role value is not a Flowcase role"
SEVERITY = "high"
GUIDE_STEPS = ("4",)
PATTERNS = (11,)
REMEDIATION = (
    '"The Value field of each App Role must exactly match a valid Flowcase role name. These are '
    'case-sensitive." (guide step 4): in App registrations > App roles set each Value to one '
    "of external, limited_access, consultant, internationalmanager, referencemanager, "
    "countrymanager or a departmentmanager form, reassign users who hold an invalid role, and "
    "re-provision them (Provision on demand, step 8a)."
)


def evaluate(ctx: Context) -> list[Hit]:
    simple, failures, events = role_evidence(ctx, SIMPLE_FORM)
    if events.height == 0:
        return []
    by_value = (
        simple.group_by("role", "problem")
        .agg(pl.col("person").n_unique().alias("n"))
        .sort(["n", "role"], descending=[True, False])
    )
    values = [f"'{r}' ({plural(n, 'user')}: {p})" for r, p, n in by_value.iter_rows()]
    if values:
        message = f"Role values Flowcase does not know were sent: {quote_list(values, 6)}"
    else:
        message = "Flowcase refused the role values sent"
    message += f"; {describe(events)} affected."
    details = {"values": sorted(simple["role"].unique().to_list()), "failures": failures.height}
    return [Hit(ids(events), message, details=details)]
