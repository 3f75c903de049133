"""Users already in Flowcase are now left out by a scoping filter (an admin's choice, reported low).

What it detects:
    Skips of active users whose scoping step says "Assigned to the application" True (or
    does not say) but "Scoping filter evaluation passed" False, or whose
    ``ScopeEvaluationResult`` has a clause that evaluated false, of users Flowcase already
    has: the skip names a Flowcase (target) id, or the export shows an earlier successful
    create, update or disable of the same user, and not exported since. The failing clauses
    are quoted.
Why provisioning fails:
    It does not fail: a scoping filter (Provisioning > Mappings > the user mapping > Source
    Object Scope) narrows who is provisioned on top of the Scope setting of step 3. The
    setup guide does not use one, so someone added it. A user who stops matching it leaves
    the provisioning scope: Entra deactivates them in Flowcase and skips every later change,
    which looks like an assignment problem although the user is still assigned.
Evidence:
    The ``EntrySynchronizationScoping`` details ("Assigned to the application" True,
    "Scoping filter evaluation passed" False, the clause names in ``ScopeEvaluationResult``)
    of skips after earlier successful exports or with a target id.
Fix:
    If these users belong in Flowcase, correct the user's attribute in Entra or the clause of
    the scoping filter under Source Object Scope (step 3 sets the Scope; the filter sits on
    the Attribute Mapping screen of step 7a). Assigning them (step 5) does not help: the
    filter, not the assignment, leaves them out.
Known false positives:
    A filter that leaves people out on purpose (leavers moved to another department) is
    reported too; that is why this is low. Users the filter left out who never reached
    Flowcase are not reported: they are counted with the expected skips.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.assignment import filtered_skips
from diagnostics.rulekit import Context, Hit, describe, people, plural, quote_list, tally, verb

ID = "FC020"
TITLE = "Provisioned users are now left out by a scoping filter"
SEVERITY = "low"
GUIDE_STEPS = ("3", "7a")
PATTERNS = (13,)
REMEDIATION = (
    'The guide scopes provisioning with Scope "Sync only assigned users and groups" (step 3) '
    "and no scoping filter. If these users belong in Flowcase, correct their attribute in "
    "Entra or the quoted clause under Provisioning > Mappings > Provision Microsoft Entra ID "
    "Users > Source Object Scope, then provision them on demand; if the filter leaves them "
    "out on purpose, nothing is wrong."
)


def evaluate(ctx: Context) -> list[Hit]:
    skips = filtered_skips(ctx).filter(pl.col("in_flowcase") & ~pl.col("back_since"))
    count, named = tally(skips)
    if count == 0:
        return []
    clauses = sorted(skips.select(pl.col("clauses").explode().drop_nulls().unique())
                     .collect()["clauses"].to_list())
    quoted = quote_list([f'"{c}"' for c in clauses])
    which = {0: "a scoping filter", 1: f"the scoping filter clause {quoted}"}.get(
        len(clauses), f"{len(clauses)} scoping filter clauses ({quoted})"
    )
    message = (
        f"{describe(named)} that Flowcase already has {verb(people(named), 'is', 'are')} now "
        f"left out by {which} ({plural(count, 'skip')}), not by their assignment: Entra "
        "deactivates users who leave the scope and skips their changes."
    )
    return [Hit.of_rows(skips, message[0].upper() + message[1:], details={"clauses": clauses})]
