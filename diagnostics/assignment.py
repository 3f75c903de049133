"""Assignment evidence shared by the assignment rules: who was skipped as not assigned.

Entra skips an object it is not entitled to provision with ``SkipReason``
``NotEffectivelyEntitled`` and scoping details such as "Assigned to the application" False.
An object skipped because it is disabled in Entra ("Active in the source system" /
``IsActive`` False) is not an assignment problem and is left out.
"""

from __future__ import annotations

import polars as pl

from diagnostics.active import sent_active
from diagnostics.rulekit import Context

NOT_ENTITLED = "noteffectivelyentitled"
ASSIGNED_KEYS = ["assignedtotheapplication", "assigned"]
ACTIVE_KEYS = ["activeinthesourcesystem", "isactive"]


def _flag(ctx: Context, keys: list[str], value: str) -> pl.Series:
    """Event ids with a step detail among ``keys`` equal to ``value`` (case-insensitive)."""
    hits = ctx.details(keys).filter(
        pl.col("value").str.strip_chars().str.to_lowercase() == value
    )
    return hits["event_id"].unique()


def unassigned_skips(ctx: Context) -> pl.DataFrame:
    """Skipped events of active users that are not assigned (or not entitled); groups that
    are not assigned are the group rule's evidence."""
    return ctx.memo("unassigned_skips", lambda: _unassigned_skips(ctx))


def _unassigned_skips(ctx: Context) -> pl.DataFrame:
    skipped = ctx.events.filter(
        (pl.col("status") == "skipped") & (pl.col("object_type") != "Group").fill_null(True)
    )
    not_entitled = (pl.col("skip_reason").str.to_lowercase() == NOT_ENTITLED).fill_null(False)
    unassigned = pl.col("event_id").is_in(_flag(ctx, ASSIGNED_KEYS, "false").implode())
    inactive = pl.col("event_id").is_in(_flag(ctx, ACTIVE_KEYS, "false").implode())
    return skipped.filter((not_entitled | unassigned) & ~inactive)


def exported_while_unassigned(ctx: Context) -> pl.DataFrame:
    """Creates and updates that reached the app although scoping said the object is not
    assigned; deactivations (active=false, a soft-delete step) are how Entra *removes* an
    unassigned user and do not count."""
    unassigned = _flag(ctx, ASSIGNED_KEYS, "false")
    deactivating = sent_active(ctx).filter(pl.col("active") == "false")["event_id"]
    soft_delete = ctx.frames.steps.filter(
        pl.col("name").str.to_lowercase().str.contains("softdelete|disable")
    )["event_id"]
    return ctx.events.filter(
        pl.col("event_id").is_in(unassigned.implode())
        & pl.col("status").is_in(["success", "failure"])
        & pl.col("action").is_in(["create", "update"])
        & ~pl.col("event_id").is_in(deactivating.implode())
        & ~pl.col("event_id").is_in(soft_delete.implode())
    )


def previously_provisioned(ctx: Context, skips: pl.DataFrame) -> pl.DataFrame:
    """Of these skips, those of objects Flowcase already has: a target id on the skip, or an
    earlier successful create/update/disable in the export."""
    done = (
        ctx.events.filter(
            (pl.col("status") == "success")
            & pl.col("action").is_in(["create", "update", "disable"])
        )
        .group_by("person")
        .agg(pl.col("activity_time").min().alias("provisioned_at"))
    )
    return skips.join(done, on="person", how="left").filter(
        pl.col("target_id").is_not_null()
        | (pl.col("provisioned_at") < pl.col("activity_time")).fill_null(False)
    ).drop("provisioned_at")
