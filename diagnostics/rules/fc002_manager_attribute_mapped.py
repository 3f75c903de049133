"""The unsupported manager attribute is mapped.

What it detects:
    Users for whom Entra sent the enterprise ``manager`` attribute (modified properties or
    export details, any spelling: ``urn:...:enterprise:2.0:User:manager``,
    ``urnietfparamsscimschemasextensionenterprise20Usermanager``, ``manager.value``), user
    events with a reference-resolution step or an ``UnableToResolveReferenceAttributeValue``
    error (Entra resolving the manager reference), and failures whose text names the manager
    outside a quoted name ("Department 'Engineering Managers' does not exist" is a department).
    An event whose identity type the export lost counts only when it sent the manager.
Why provisioning fails:
    Flowcase does not support the manager attribute because of bugs in Entra's SCIM
    implementation of it: requests that carry it are rejected or leave the user half-updated,
    and reference resolution adds extra failing exports.
Evidence:
    The manager attribute among the attributes sent, ``referenceResolution`` steps on user
    events, 400s whose body names ``manager``.
Fix:
    Delete the manager mapping (step 7a) and remove the attribute from the attribute list
    (step 6).
Known false positives:
    A custom Flowcase attribute whose name ends in "manager" would be counted; role values
    such as ``countrymanager`` are not (they are values, not attribute names), nor are job
    titles and names ("Engineering Manager"), quoted or after a known title word.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.vocabulary import MANAGER, MANAGER_ROLE, ROLE
from diagnostics.rulekit import (
    NAMED,
    Context,
    Hit,
    code_like,
    failures_where,
    ids,
    is_failure,
    mentions,
    mentions_outside_names,
    plural,
    quote_list,
)

ID = "FC002"
TITLE = "The unsupported manager attribute is mapped"
SEVERITY = "high"
GUIDE_STEPS = ("1", "6", "7a")
PATTERNS = (2,)
REMEDIATION = (
    'Remove the manager mapping: in Provisioning > Mappings > "Provision Azure Active Directory '
    'Users" delete the mapping to '
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager, then under "
    '"Show advanced options" > "Edit attribute list for customappsso" delete the manager '
    'attribute (guide steps 1 and 6: "Do not map any attribute against it").'
)
MANAGER_KEY = r"^(urn\w*enterprise\w*user)?manager(value|id)?$"


def evaluate(ctx: Context) -> list[Hit]:
    sent = ctx.sent_where(MANAGER_KEY)
    resolving = ctx.steps_where(pl.col("step_type") == "referenceresolution", ["event_id"])
    about_manager = (
        pl.col("event_id").is_in(sent["event_id"].implode())
        | pl.col("event_id").is_in(resolving["event_id"].implode())
        | (is_failure() & code_like(r"resolvereference|referenceattribute"))
        | (
            failures_where(http=(400, 404, 422), text=True)
            & mentions_outside_names(MANAGER)
            & ~mentions_outside_names(MANAGER_ROLE)
            & ~mentions(ROLE)
        )
    )
    # an event whose identity type was not logged counts only when it sent the manager: a
    # group's 404 names "Flowcase Reference Managers" in its URL, and groups' members are
    # reference attributes too
    sent_it = pl.col("event_id").is_in(sent["event_id"].implode())
    events = ctx.events_where(
        ((pl.col("object_type") != "Group") & about_manager)
        | (pl.col("object_type").is_null() & sent_it),
        (*NAMED, "status"),
    )
    if events.height == 0:
        return []
    people = sorted(events["person"].unique().to_list())
    failing = events.filter(is_failure())
    message = (
        f"The manager attribute is mapped: Entra sent or resolved it for "
        f"{plural(len(people), 'user')} ({quote_list(people)})"
    )
    if failing.height:
        message += f", and {plural(failing.height, 'request')} failed"
    details = {"users_sent_manager": sent["person"].n_unique(), "failures": failing.height}
    return [
        Hit(ids(events), message + ".", severity=None if failing.height else "medium",
            details=details)
    ]
