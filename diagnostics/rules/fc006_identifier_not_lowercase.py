"""userName or the work email is sent with upper-case letters.

What it detects:
    Users for whom Entra sent ``userName`` or ``emails[type eq "work"].value`` containing
    upper-case letters (modified properties or export details), and the failures that follow
    for those same requests (409 / already exists) because the value did not match the
    lower-case one Flowcase holds.
Why provisioning fails:
    Flowcase requires lower-case userName and email. Without ``ToLower()`` in the mapping,
    Entra matches and creates with the Entra casing: matching by the lower-case value in
    Flowcase misses, a duplicate user is created or the create fails with a conflict.
Evidence:
    The sent values themselves (``Ola.Nordmann@contoso.no``), per attribute.
Fix:
    Step 7a: map ``ToLower([userPrincipalName], )`` to userName and ``ToLower([mail], )`` to
    ``emails[type eq "work"].value``, then test one user with Provision on demand.
Known false positives:
    None for the detection itself: any upper-case letter breaks the guide's requirement, even
    when the request happened to succeed. Other emails (``emails[type eq "other"].value``, a
    private address) are not identifiers and may keep their casing.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.identifiers import (
    ATTRIBUTE_NAMES,
    conflict_failures,
    uppercase_identifiers,
)
from diagnostics.rulekit import Context, Hit, ids, plural, quote_list

ID = "FC006"
TITLE = "userName or work email is not lower-case"
SEVERITY = "high"
GUIDE_STEPS = ("7a", "1")
PATTERNS = (6,)
# catalog pattern 6: "matching by a lower-case value in Flowcase misses, and a duplicate or a
# 409 follows": where both explain a user, the casing is the cause of FC007's conflict
CAUSES = ("FC007",)
REMEDIATION = (
    "Use the ToLower() expressions of guide step 7a: userPrincipalName -> Expression "
    "ToLower([userPrincipalName], ) -> userName (matching precedence 1), and mail -> Expression "
    'ToLower([mail], ) -> emails[type eq "work"].value (matching precedence 2). "Flowcase '
    'requires lowercase emails and UPNs." Test with Provision on demand (step 8a), and merge any '
    "duplicate Flowcase users the upper-case values created."
)
def evaluate(ctx: Context) -> list[Hit]:
    sent = uppercase_identifiers(ctx)
    if sent.height == 0:
        return []
    parts = []
    by_attribute: dict[str, list[str]] = {}
    for key, rows in sent.sort("attribute_key").group_by("attribute_key", maintain_order=True):
        name = ATTRIBUTE_NAMES[key[0]]
        values = rows.sort("activity_time", "value")["value"].unique(maintain_order=True).to_list()
        people = rows["person"].n_unique()
        by_attribute[name] = values
        parts.append(f"{plural(people, 'user')} in {name} ({quote_list(values)})")
    message = "Upper-case letters were sent for " + " and ".join(parts) + "."
    conflicts = conflict_failures(ctx).filter(pl.col("event_id").is_in(ids(sent).implode()))
    if conflicts.height:
        message += (f" {plural(conflicts.height, 'request')} of theirs failed as a conflict "
                    "(the user already exists): Flowcase holds the lower-case value, which "
                    "Entra's match by the sent one missed.")
    return [Hit(ids(sent), message, details={"values": by_attribute,
                                             "conflicts": conflicts.height})]
