"""A value the mapping needs is empty or invalid in Entra, so Entra skips the user.

What it detects:
    Skipped events whose ``SkipReason`` is ``AttributeValidationFailed``, grouped by the
    attribute named in the skip step's ``PropertyName`` detail (else in its description,
    "the value of the property name.familyName is missing or invalid").
Why provisioning fails:
    Before exporting, Entra checks every mapped attribute of the user. When a value the
    mapping needs is missing or invalid (an empty surname mapped to ``name.familyName``, an
    empty mail behind ``emails[type eq "work"].value``), the user is *skipped*, not failed: no
    request reaches Flowcase, no error is logged, and the user silently stays out of Flowcase.
Evidence:
    Step ``EntrySynchronizationSkip`` (status skipped) with details ``SkipReason``
    ``AttributeValidationFailed``, ``PropertyName`` and ``ReportableIdentifier``, as in the
    record quoted in section 4.3 of the formats reference.
Fix:
    Fill in the value in Entra for the listed users, or, when Flowcase does not need the
    attribute, remove it from the attribute list (guide step 6) and its mapping (step 7a).
    Flowcase requires id, userName and ``emails[type eq "work"].value`` (step 6): those must
    be filled in, not removed.
Known false positives:
    None known: the skip reason is Entra's own verdict. Accounts that are meant to stay out of
    Flowcase (service accounts without a surname) are listed too; unassign them.
"""

from __future__ import annotations

import polars as pl

from diagnostics.rulekit import NAMED, Context, Hit, describe, ids, plural, verb

ID = "FC021"
TITLE = "A value the mapping needs is empty or invalid in Entra (user skipped)"
SEVERITY = "medium"
GUIDE_STEPS = ("6", "7a")
PATTERNS = (15,)
REMEDIATION = (
    "Fill in the value in Entra for the listed users (the attribute is named above), or, if "
    "Flowcase does not need it, remove it from the attribute list (guide step 6) and change or "
    "remove its mapping under Provisioning > Mappings > Provision Azure Active Directory Users "
    '(step 7a). The required attributes of step 6 (id, userName, emails[type eq "work"].value) '
    "must be filled in, not removed. Then provision one listed user on demand (step 8a) to "
    "check."
)
SKIP_REASON = "attributevalidationfailed"
_PROPERTY_IN_TEXT = r"value of the property (\S+?) is missing or invalid"
UNNAMED = "(attribute not named in the log)"


def evaluate(ctx: Context) -> list[Hit]:
    skipped = ctx.events_where(
        (pl.col("skip_reason").str.to_lowercase() == SKIP_REASON).fill_null(False),
        (*NAMED, "failed_step_description"),
    )
    if skipped.height == 0:
        return []
    named = (
        ctx.details(("propertyname",))
        .filter(pl.col("value").str.strip_chars() != "")
        .group_by("event_id", maintain_order=True)
        .agg(pl.col("value").first().alias("_property"))
    )
    skipped = skipped.join(named, on="event_id", how="left").with_columns(
        pl.coalesce(
            "_property",
            pl.col("failed_step_description").str.extract(_PROPERTY_IN_TEXT, 1),
            pl.lit(UNNAMED),
        ).alias("_property")
    )
    hits = []
    for (prop,), rows in skipped.group_by("_property", maintain_order=True):
        users = rows["person"].n_unique()
        message = (
            f"{prop} is empty or invalid in Entra for {describe(rows)}: Entra skipped "
            f"{verb(users, 'this user', 'these users')} ({plural(rows.height, 'skip')}, "
            "AttributeValidationFailed) and nothing was sent to Flowcase."
        )
        hits.append(Hit(ids(rows), message, details={"attribute": prop, "users": users}))
    return hits
