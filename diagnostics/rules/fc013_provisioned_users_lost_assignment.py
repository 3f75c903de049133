"""Users already in Flowcase are now skipped as not assigned (assignment lost or nested group).

What it detects:
    Skips whose scoping details say the user is not assigned ("Assigned to the application"
    or, on demand, ``Assigned`` False; without any assignment flag, a ``NotEffectivelyEntitled``
    text saying "not assigned to the application"), of active users that Flowcase already
    has: the skip names a Flowcase (target) id, or the export shows an earlier successful
    create, update or disable of the same user; unless a successful export followed (assigned
    again, back in Flowcase). ``NotEffectivelyEntitled`` alone is not
    enough: skips of assigned users that a scoping filter leaves out are FC020's, and skips
    of users disabled in Entra ("Active in the source system" / ``IsActive`` False) are
    nobody's.
Why provisioning fails:
    Only users assigned to the app directly, or through a group assigned directly, are
    provisioned: assignment does not cascade to nested groups. When a user is moved into a
    nested group or their assignment is removed, Entra disables them in Flowcase and skips
    every later change, so Flowcase silently goes stale.
Evidence:
    The skip events (step ``EntrySynchronizationSkip`` with the ``EntrySynchronizationScoping``
    details "Assigned to the application" False) after earlier successful exports or with a
    target id.
Fix:
    Step 5: assign the users (or a group they are direct members of) to the app under Users
    and Groups; check that the scope is "Sync only assigned users and groups" (step 3).
Known false positives:
    Users who left on purpose (assignment removed when they changed role) are reported too;
    confirm with the app owner.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.assignment import unassigned_skips
from diagnostics.rulekit import Context, Hit, describe, people, plural, tally, verb

ID = "FC013"
TITLE = "Provisioned users are now skipped as not assigned (assignment lost or nested group)"
SEVERITY = "medium"
GUIDE_STEPS = ("5", "3")
PATTERNS = (13,)
REMEDIATION = (
    '"If you assign an Entra group, only users directly in that group will be provisioned. The '
    'assignment does not cascade to nested/child groups." (guide step 5): under Users and '
    "Groups assign these users, or a group they are direct members of, to the app, keep the "
    'Scope at "Sync only assigned users and groups" (step 3), and provision them on demand.'
)


def evaluate(ctx: Context) -> list[Hit]:
    skips = unassigned_skips(ctx).filter(pl.col("lost"))
    count, named = tally(skips)
    if count == 0:
        return []
    message = (
        f"{describe(named)} that Flowcase already has {verb(people(named), 'is', 'are')} now "
        f"skipped as not assigned to the app ({plural(count, 'skip')}): moved into a "
        "nested group or unassigned."
    )
    return [Hit.of_rows(skips, message[0].upper() + message[1:])]
