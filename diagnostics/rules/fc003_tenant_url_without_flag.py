"""The Tenant URL probably lacks the ?aadOptscim062020 flag.

What it detects:
    Two indirect signs, each medium confidence: (1) update or disable requests rejected
    because a boolean arrived as text or the PATCH body had an unexpected shape, while the
    ``active`` value Entra sent was a proper ``True``/``False``; (2) users whose Entra import
    shows app role assignments although no event of the export sent a ``roles`` attribute
    (decided only when the export holds a create of such a user: updates send only changes).
Why provisioning fails:
    Without ``?aadOptscim062020`` Entra runs its pre-2020 SCIM client: PATCH operations carry
    booleans as the strings ``"True"``/``"False"`` and use non-standard shapes, and features
    such as AppRoleAssignments do not work, so roles never reach Flowcase.
Evidence:
    400/422 failures on update/disable whose body complains about a boolean or the PATCH
    operation; ``appRoleAssignments`` in import details with no ``roles`` attribute sent.
Fix:
    Step 3: set the Tenant URL to ``https://<company>.flowcase.com/api/scim/v2?aadOptscim062020``,
    save, and restart provisioning.
Known false positives:
    A missing ``roles`` mapping (step 7a, ``AppRoleAssignmentsComplex([appRoleAssignments])``)
    also keeps roles from being sent; the finding says so. Logs never show the Tenant URL
    itself, so the finding cannot be certain.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.active import string_boolean_failures
from diagnostics.rulekit import OBJECT, Context, Hit, describe, ids, plural

ID = "FC003"
TITLE = "The Tenant URL probably lacks the ?aadOptscim062020 flag"
SEVERITY = "medium"
GUIDE_STEPS = ("3", "1")
PATTERNS = (3,)
REMEDIATION = (
    "Set the Tenant URL (Provisioning > Admin Credentials) to "
    "https://your-company.flowcase.com/api/scim/v2?aadOptscim062020 — \"Do not forget the "
    "?aadOptscim062020 flag\": without it Entra runs in an old SCIM mode and AppRoleAssignments "
    "do not work. Then check that roles are mapped with "
    "AppRoleAssignmentsComplex([appRoleAssignments]) -> roles (step 7a) and restart provisioning."
)
EMPTY = ("", "[]", "{}", "null", "none")


def roleless_exports(ctx: Context) -> pl.DataFrame:
    """Exports of users with role assignments in Entra when no event ever sent roles.

    Decided only when a create of such a user is in the export: a create sends every mapped
    attribute, while an update sends only what changed (roles unchanged -> not sent). Such a
    user is an Entra object (``OBJECT``): a rehire without roles is not the departed user with
    the same UPN who had some."""
    if ctx.sent_values(r"^roles").select("event_id").head(1).collect().height:
        return ctx.failures.clear()
    assigned = ctx.details(["approleassignments"], ["import"]).filter(
        ~pl.col("value").str.strip_chars().str.to_lowercase().is_in(EMPTY)
    )["event_id"]
    holders = ctx.events_where(pl.col("event_id").is_in(assigned.implode()),
                               ("source_id", "person")).select(OBJECT)["object"]
    # a month of these users' requests: the columns the message reads only
    requests = ctx.events_where(
        OBJECT.is_in(holders.implode()) & pl.col("action").is_in(["create", "update"]),
        ("event_id", "action", "person", "label"),
    )
    exports = requests.filter(
        pl.col("event_id").is_in(ctx.exporting(requests["event_id"]).implode())
    )
    if exports.filter(pl.col("action") == "create").height == 0:
        return ctx.failures.clear()
    if ctx.sent_outside(r"^roles"):  # `why`'s few cycles: the rest of the input sent roles
        return ctx.failures.clear()
    return exports


def evaluate(ctx: Context) -> list[Hit]:
    patch = string_boolean_failures(ctx)
    roleless = roleless_exports(ctx)
    if patch.height == 0 and roleless.height == 0:
        return []
    parts = []
    if patch.height:
        parts.append(
            f"{plural(patch.height, 'update request')} for {describe(patch)} failed on a boolean "
            "or PATCH shape Flowcase did not expect"
        )
    if roleless.height:
        parts.append(
            f"app roles of {describe(roleless)} never reached Flowcase (no roles attribute was "
            "sent)"
        )
    message = "The Tenant URL probably lacks ?aadOptscim062020: " + "; ".join(parts) + "."
    details = {
        "patch_failures": patch.height,
        "users_without_roles_sent": roleless["person"].n_unique(),
    }
    both = pl.concat([patch.select("event_id"), roleless.select("event_id")])
    return [Hit(ids(both), message, details=details)]
