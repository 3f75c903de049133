"""SCIM group provisioning is still enabled.

What it detects:
    Events whose source or target object is a group (identityType ``Group`` or
    ``urn:ietf:params:scim:schemas:core:2.0:Group``), failing or not, and 404 failures that
    name groups when the object type was not logged. Cycles that stop after the first group
    404 are reported as halted.
Why provisioning fails:
    Entra enables the group mapping by default. Flowcase does not support SCIM groups and
    answers group requests with 404 Not Found; Entra treats that as a broken app, halts the
    cycle, piles up escrow retries for the users behind it and may quarantine the job.
Evidence:
    Group events (even skipped or successful ones prove the mapping is on); failures with
    HTTP 404 / ``StatusCode: NotFound`` / "HTTP/404 Not Found ... rather than the expected
    HTTP/200 OK", often with ``SystemForCrossDomainIdentityManagementServiceIncompatible``.
Fix:
    Step 7b: under Provisioning > Mappings open "Provision Azure Active Directory Groups",
    set "Enabled" to "No" and save.
Known false positives:
    None known: Flowcase has no group endpoint, so any group event means the mapping is on.
    Assigning groups to the app (step 5) is fine and does not by itself create group events.
"""

from __future__ import annotations

import polars as pl

from diagnostics.rulekit import (
    NAMED,
    OBJECT,
    Context,
    Hit,
    http_in,
    ids,
    is_failure,
    mentions,
    object_names,
    plural,
    quote_list,
    verb,
)

ID = "FC001"
TITLE = "SCIM group provisioning is still enabled"
SEVERITY = "critical"
GUIDE_STEPS = ("7b", "1")
PATTERNS = (1,)
REMEDIATION = (
    'Disable SCIM group support (guide step 7b): Provisioning > Mappings > "Provision Azure '
    'Active Directory Groups", set "Enabled" to "No", then "Save". Flowcase does not support '
    "SCIM groups and answers every group request with HTTP 404, which halts the cycle. Assigning "
    "groups under Users and Groups stays fine: their direct members are still provisioned."
)


def halted_cycles(ctx: Context, group_failures: pl.DataFrame) -> list[str]:
    """Cycles in which nothing but group events happened after the first group 404."""
    first = group_failures.group_by("cycle_id").agg(pl.col("activity_time").min().alias("t0"))
    later = (
        ctx.frames.events.lazy()
        .join(first.lazy(), on="cycle_id")
        .filter(pl.col("activity_time") > pl.col("t0"))
        .group_by("cycle_id")
        .agg((pl.col("object_type") != "Group").fill_null(True).sum().alias("others"))
        .collect(engine="streaming")
    )
    stopped = first.join(later, on="cycle_id", how="left").filter(
        pl.col("others").fill_null(0) == 0
    )
    return sorted(stopped["cycle_id"].drop_nulls().to_list())


def evaluate(ctx: Context) -> list[Hit]:
    is_group = (pl.col("object_type") == "Group").fill_null(False)
    untyped_group_404 = (
        pl.col("object_type").is_null() & http_in(404) & mentions(r"(^|[^a-z])groups?([^a-z]|$)")
    )
    events = ctx.events_where(
        is_group | untyped_group_404,
        (*NAMED, "source_id", "status", "http_status", "cycle_id", "activity_time"),
    ).with_columns(OBJECT)  # two groups may share a display name: count Entra objects
    if events.height == 0:
        return []
    failures = events.filter(is_failure())
    names = object_names(events)
    if failures.height == 0:
        message = (
            f"The SCIM group mapping is on: {plural(len(names), 'group')} "
            f"({quote_list(names)}) {verb(len(names), 'appears', 'appear')} in "
            f"{plural(events.height, 'event')} although "
            "Flowcase does not support groups."
        )
        return [Hit(ids(events), message, severity="medium", details={"groups": names})]
    not_found = failures.filter(http_in(404))
    failed = object_names(failures)
    # "halted" needs a group 404 (what Flowcase answers) followed by the cycle stopping
    halted = halted_cycles(ctx, not_found) if not_found.height else []
    message = (f"{plural(len(failed), 'group')} ({quote_list(failed)}) failed "
               f"{plural(failures.height, 'time')}")
    if not_found.height == failures.height:
        message += " with HTTP 404"
    elif not_found.height:
        message += f" ({not_found.height} with HTTP 404)"
    message += " because the SCIM group mapping is still enabled"
    others = len(names) - len(failed)
    if others > 0:
        message += (f"; {plural(others, 'more group')} {verb(others, 'appears', 'appear')} "
                    "in events that did not fail")
    if halted:
        message += f"; {plural(len(halted), 'cycle')} stopped after the first group 404"
    details = {"groups": names, "failures": failures.height, "halted_cycles": halted}
    return [Hit(ids(events), message + ".", details=details)]
