"""Soft delete / the active attribute is mapped wrongly.

What it detects:
    ``active`` values sent that are not booleans (``Disabled``, ``1``, empty), creates that
    send ``active`` False (an inverted Switch), disable and delete requests that fail with a
    client error, and failures of requests about the active state (that sent ``active``, or
    went to a user Flowcase holds inactive) whose response is about the user being
    active/inactive/deleted (for example "User must be Active.") without being a
    boolean-format complaint. Entra's own words ("Azure Active Directory") never count, nor
    does a create sending ``active`` True (a new, active user: "Language 'da-DK' is not
    active" is about something else), nor a failure Entra retries itself (``InternalError``).
Why provisioning fails:
    Guide step 7a maps ``Switch([isSoftDeleted],, "False","True","True","False")`` to
    ``active``: when a user is soft-deleted in Entra, Flowcase receives active=false and
    deactivates the user; 30 days later Entra sends DELETE. Any other expression sends values
    Flowcase refuses, or deactivates the wrong users, and later changes to a deactivated
    user fail.
Evidence:
    The ``active`` values sent; failing ``disable``/``delete`` events; bodies such as
    "Invalid value 'Disabled' for attribute 'active'" or "User must be Active.".
Fix:
    Step 7a: map ``isSoftDeleted`` with the Expression
    ``Switch([isSoftDeleted],, "False","True","True","False")`` to ``active``. Reactivate
    users in Flowcase who were deactivated by mistake.
Known false positives:
    A delete of a user already removed by hand in Flowcase fails with 404 and is reported here;
    it is harmless. A group's failed delete or disable is not: it is the SCIM group mapping
    left on (FC001).
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.active import non_boolean_active, sent_active, string_boolean_failures
from diagnostics.facts.vocabulary import ACTIVE, BOOLEAN, DEPARTMENT, ROLE
from diagnostics.rulekit import (
    NAMED,
    Context,
    Hit,
    describe,
    http_in,
    ids,
    is_transient,
    mentions,
    no_http_status,
    plural,
    quote_list,
    verb,
)

ID = "FC014"
TITLE = "Soft delete / active is mapped wrongly"
SEVERITY = "high"
GUIDE_STEPS = ("7a", "delete")
PATTERNS = (14,)
REMEDIATION = (
    'Map isSoftDeleted with the Expression Switch([isSoftDeleted],, "False","True","True","False") '
    "to active (guide step 7a), so a soft-deleted Entra user is deactivated in Flowcase "
    "(active=false); thirty days after deletion in Entra, Entra sends DELETE and the user is "
    "removed (guide: Deleting Users). Reactivate any Flowcase user deactivated by mistake."
)


def _inactive_in_flowcase(ctx: Context) -> pl.Series:
    """Events whose matching step found the Flowcase user with ``active`` False."""
    inactive = pl.col("value").str.strip_chars().str.to_lowercase() == "false"
    return ctx.details(("active",), step_types=("matching",), where=inactive)["event_id"].unique()


def evaluate(ctx: Context) -> list[Hit]:
    odd = non_boolean_active(ctx)
    inverted = sent_active(ctx).filter(
        (pl.col("action") == "create") & (pl.col("active") == "false")
    )
    client_error = http_in(400, 404, 409, 422) | (no_http_status() & ~is_transient())
    flag_issue = string_boolean_failures(ctx)["event_id"]
    # only requests about the active state: a disable or delete, a request that sent
    # ``active`` (but a create sending True: a new, active user, whatever the text says of
    # "'da-DK' is not active"), or one to a user Flowcase holds inactive (its matching step)
    changing = sent_active(ctx).filter(
        (pl.col("action") != "create") | (pl.col("active") != "true"))
    about_active = (
        pl.col("action").is_in(["disable", "delete"])
        | pl.col("event_id").is_in(changing["event_id"].implode())
        | pl.col("event_id").is_in(_inactive_in_flowcase(ctx).implode())
    )
    says_active = mentions(ACTIVE) & ~mentions(BOOLEAN) & ~mentions(DEPARTMENT) & ~mentions(ROLE)
    failures = ctx.failures.filter(
        client_error
        & (pl.col("object_type") != "Group").fill_null(True)  # a group's delete is FC001's
        & ~pl.col("event_id").is_in(flag_issue.implode())
        & about_active
        & (pl.col("action").is_in(["disable", "delete"]) | says_active)
    )
    events = ctx.events_where(
        pl.col("event_id").is_in(odd["event_id"].implode())
        | pl.col("event_id").is_in(inverted["event_id"].implode())
        | pl.col("event_id").is_in(failures["event_id"].implode()),
        NAMED,
    )
    if events.height == 0:
        return []
    parts = []
    if odd.height:
        values = odd["raw"].fill_null("(empty)").unique(maintain_order=True).to_list()
        parts.append(f"active was sent as {quote_list([repr(v) for v in values])} instead of "
                     "True/False")
    if inverted.height:
        created = inverted["person"].n_unique()
        parts.append(f"{plural(created, 'user')} {verb(created, 'was', 'were')} created inactive")
    if failures.height:
        parts.append(f"{plural(failures.height, 'disable, delete or update request')} failed")
    message = f"Soft delete is mapped wrongly for {describe(events)}: " + "; ".join(parts) + "."
    details = {
        "active_values": sorted(odd["raw"].fill_null("").unique().to_list()),
        "created_inactive": inverted["person"].n_unique(),
        "failures": failures.height,
    }
    return [Hit(ids(events), message, details=details)]
