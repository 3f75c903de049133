"""Users who are not assigned are provisioned (scope "Sync all users and groups").

What it detects:
    Creates and updates sent to Flowcase for users whose scoping step says "Assigned to the
    application" False.
Why provisioning fails:
    With the scope "Sync all users and groups" Entra provisions every user of the tenant,
    not only those assigned to the app: Flowcase fills up with people who should not be
    there, and their failures (unknown departments, missing email) swamp the logs.
Evidence:
    Scoping details "Assigned to the application" False on events that exported.
Fix:
    Step 3: under Provisioning > Settings set Scope to "Sync only assigned users and
    groups", then assign the intended users and groups (step 5).
Known false positives:
    A scoping filter deliberately including unassigned users would look the same; the guide
    does not use one.
"""

from __future__ import annotations

from diagnostics.facts.assignment import exported_while_unassigned
from diagnostics.rulekit import Context, Hit, describe, ids, people, plural, verb

ID = "FC019"
TITLE = 'Unassigned users are provisioned (scope is "Sync all users and groups")'
SEVERITY = "medium"
GUIDE_STEPS = ("3", "5")
PATTERNS = (13,)
REMEDIATION = (
    'Under Provisioning > Settings set Scope to "Sync only assigned users and groups" (guide '
    "step 3), assign the users and groups that belong in Flowcase (step 5), and deactivate the "
    "users that were provisioned by mistake."
)


def evaluate(ctx: Context) -> list[Hit]:
    exported = exported_while_unassigned(ctx)
    if exported.height == 0:
        return []
    message = (
        f"{describe(exported)} {verb(people(exported), 'was', 'were')} sent to Flowcase although "
        f"not assigned to the app ({plural(exported.height, 'request')}): the scope is probably "
        "\"Sync all users and groups\"."
    )
    return [Hit(ids(exported), message[0].upper() + message[1:])]
