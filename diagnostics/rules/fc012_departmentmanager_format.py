"""A departmentmanager role value has spaces or a bad format.

What it detects:
    ``departmentmanager`` role values sent in ``roles`` that are not one of the three valid
    forms: ``departmentmanager:office:<CC>:<name>`` (no spaces: Entra cannot push them),
    ``departmentmanager:dept:<CC>:<NameWithoutSpaces>``,
    ``departmentmanager:custom_tag:<cat>:<tag>``, with ``<CC>`` an upper-case ISO 3166 code;
    the old ``departmentmanager:<Name>`` form; a bare ``departmentmanager`` naming no
    department; and failures whose text is about a departmentmanager role.
Why provisioning fails:
    Flowcase resolves the role to a department of a country. A name with spaces, an unknown
    country code (``UK``, ``NOR``) or the old form cannot be resolved, so the request is
    refused or the user does not get manager rights.
Evidence:
    The role values sent, each with what is wrong; the failures' SCIM detail.
Fix:
    Step 4: change the App Role Value to ``departmentmanager:dept:<CC>:<NameWithoutSpaces>``
    (StripSpaces in Entra) or the office form without spaces, with an ISO 3166 country code.
Known false positives:
    A department whose Flowcase name really contains a colon would look malformed.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.roles import MANAGER_FORM, role_evidence
from diagnostics.rulekit import Context, Hit, describe, ids, quote_list

ID = "FC012"
TITLE = "departmentmanager role value has spaces or a bad format"
SEVERITY = "high"
GUIDE_STEPS = ("4",)
PATTERNS = (12,)
REMEDIATION = (
    "Use departmentmanager:office:<country-code>:<dept-name> with an ISO 3166 country code "
    '(e.g. departmentmanager:office:NO:Engineering). "If your department name contains a space, '
    "some providers (such as Microsoft Entra) do not allow you to push the role with the space "
    'included": strip the spaces (StripSpaces in MS Entra) and use '
    "departmentmanager:dept:<country-code>:<department-name-stripped> (guide step 4). The old "
    "departmentmanager:<Name> form is not valid."
)


def evaluate(ctx: Context) -> list[Hit]:
    invalid, failures, events = role_evidence(ctx, MANAGER_FORM)
    if events.height == 0:
        return []
    # in the order they were first sent: an export listed newest first says the same
    first_sent = (invalid.group_by("role", "problem").agg(pl.col("activity_time").min())
                  .sort("activity_time", "role"))
    values = [f"'{role}' ({problem})" for role, problem, _ in first_sent.rows()]
    message = (
        f"departmentmanager roles in an unusable format: {quote_list(values, 4)}"
        if values
        else "Flowcase refused departmentmanager role values"
    )
    message += f"; {describe(events)} affected."
    details = {"values": sorted(invalid["role"].unique().to_list()), "failures": failures.height}
    return [Hit(ids(events), message, details=details)]
