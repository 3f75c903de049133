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

from diagnostics.rulekit import Context, Hit, ids, plural, quote_list
from loganalyzer.normalize import EMAIL_KEY, USERNAME_KEY

ID = "FC006"
TITLE = "userName or work email is not lower-case"
SEVERITY = "high"
GUIDE_STEPS = ("7a", "1")
PATTERNS = (6,)
REMEDIATION = (
    "Use the ToLower() expressions of guide step 7a: userPrincipalName -> Expression "
    "ToLower([userPrincipalName], ) -> userName (matching precedence 1), and mail -> Expression "
    'ToLower([mail], ) -> emails[type eq "work"].value (matching precedence 2). "Flowcase '
    'requires lowercase emails and UPNs." Test with Provision on demand (step 8a), and merge any '
    "duplicate Flowcase users the upper-case values created."
)
# the two identifiers the guide wants lower-case (folded keys); another email (type "other",
# "home") is not matched on and may keep its casing
ATTRIBUTE_NAMES = {USERNAME_KEY: "userName", EMAIL_KEY: "the work email"}
IDENTIFIER_KEYS = f"^({USERNAME_KEY}|{EMAIL_KEY})$"


def uppercase_identifiers(ctx: Context) -> pl.DataFrame:
    """Sent userName / work-email values with upper-case letters (event, person, value)."""
    upper = pl.col("value").is_not_null() & (pl.col("value") != pl.col("value").str.to_lowercase())
    return ctx.sent_where(IDENTIFIER_KEYS, where=upper)


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
    return [Hit(ids(sent), message, details={"values": by_attribute})]
