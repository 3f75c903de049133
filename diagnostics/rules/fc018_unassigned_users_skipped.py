"""Unassigned users are skipped (expected, counted only).

What it detects:
    Skips whose scoping details say the user is not assigned ("Assigned to the application"
    or, on demand, ``Assigned`` False; without any assignment flag, a ``NotEffectivelyEntitled``
    text saying "not assigned to the application") of active users that Flowcase does not
    have (no target id, no earlier successful export in the log), or that were exported again
    since (assigned again). People FC013 reports as lost are not counted here, nor are
    assigned users a scoping filter leaves out and users disabled in Entra.
Why provisioning fails:
    It does not: Entra looks at every user of the tenant and skips those outside the app.
    This finding only counts them, so a person missing from Flowcase can be looked up.
Evidence:
    ``EntrySynchronizationSkip`` steps with ``NotEffectivelyEntitled``; scoping details with
    "Assigned to the application" False (or, when no flag is logged, the skip text).
Fix:
    Nothing, unless one of them should be in Flowcase: then assign them (or a group they are
    direct members of) to the app in step 5; nested groups do not cascade.
Known false positives:
    Logs cannot tell "not assigned" from "only in a nested group": both look the same.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.assignment import unassigned_skips
from diagnostics.rulekit import Context, Hit, describe, people, plural, tally, verb

ID = "FC018"
TITLE = "Unassigned users are skipped (expected)"
SEVERITY = "info"
GUIDE_STEPS = ("5",)
PATTERNS = (13,)
KIND = "noise"
REMEDIATION = (
    "Nothing to do for people who should not be in Flowcase. If one of them should be: assign "
    "the user, or a group they are a direct member of, under Users and Groups (guide step 5: "
    '"The assignment does not cascade to nested/child groups").'
)


def evaluate(ctx: Context) -> list[Hit]:
    skips = unassigned_skips(ctx)
    # an object FC013 reports as lost is not also expected noise, for its earlier skips (a
    # rehire with the departed user's UPN is another object)
    lost = skips.filter(pl.col("lost")).select("object").unique().collect()["object"]
    noise = skips.filter(~pl.col("lost") & ~pl.col("object").is_in(lost.implode()))
    count, named = tally(noise)
    if count == 0:
        return []
    message = (
        f"{describe(named)} {verb(people(named), 'was', 'were')} skipped as not assigned to the "
        f"app ({plural(count, 'skip')}); "
        "expected for people outside the app."
    )
    return [Hit.of_rows(noise, message[0].upper() + message[1:])]
