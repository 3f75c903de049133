"""Skips by their scoping class (``loganalyzer.skip_classes``), for the assignment rules.

A skip's class (not assigned, left out by a scoping filter, disabled in Entra) is a fact of
the event, computed when it is read (the ``skip_class`` and ``scope_clauses`` columns), so the
rules ask for the skips of one class with a filtered read of the events instead of
classifying a month of skips from their step details.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.active import sent_active
from diagnostics.rulekit import FINDING_COLUMNS, NAMED, OBJECT, Context
from loganalyzer.skip_classes import (
    ASSIGNED_KEYS,
    NOT_ASSIGNED,
    SCOPING_FILTER,
    lowered_value,
)


def _flag(ctx: Context, keys: list[str], value: str) -> pl.Series:
    """Event ids with a step detail among ``keys`` equal to ``value`` (case-insensitive)."""
    hits = ctx.details(keys, where=lowered_value() == value, columns=["event_id"])
    return hits["event_id"].unique()


# What the assignment rules read of a skip: a month can hold millions of skips, so the
# classified skips keep these columns only; with what a finding reads of its events, so a
# rule hands its skips to the engine (``Hit.rows``) instead of the engine reading them again.
SKIP_COLUMNS = (*FINDING_COLUMNS, "label", "target_id", "source_id")


def skip_classes(ctx: Context, skip_class: str | None = None) -> pl.LazyFrame:
    """Skipped user events (``SKIP_COLUMNS``), all of them with their ``skip_class``, or
    those of one class; with their failing scoping ``clauses`` where there can be any (all,
    or the scoping filter's). Groups that are not assigned are the group rule's evidence.
    A month's not-assigned skips can be millions of rows: they come lazily
    (``Context.rows_where``), and a class's rows leave out the columns it does not need."""
    wanted = (pl.col("status") == "skipped") & (pl.col("object_type") != "Group").fill_null(True)
    columns = list(SKIP_COLUMNS)
    if skip_class is None:
        columns.append("skip_class")
    else:
        wanted = wanted & (pl.col("skip_class") == skip_class)
    if skip_class in (None, SCOPING_FILTER):
        columns.append("scope_clauses")
    rows = ctx.rows_where(wanted, columns)
    return rows.rename({"scope_clauses": "clauses"}, strict=False)


def unassigned_skips(ctx: Context) -> pl.LazyFrame:
    """Skipped events of active users whose scoping details say they are not assigned
    ("Assigned to the application" / ``Assigned`` False), or, with no assignment flag and no
    failing scoping filter, whose skip text says so; with ``in_flowcase`` and ``back_since``
    and ``lost``: the skips of users Flowcase has who were not exported since. Shared by the
    rules that split them by it: FC013 reports the lost, FC018 counts the rest of the
    people it does not report."""
    return ctx.memo("unassigned_skips", lambda: _with_in_flowcase(
        ctx, skip_classes(ctx, NOT_ASSIGNED)).with_columns(
            (pl.col("in_flowcase") & ~pl.col("back_since")).alias("lost")))


def filtered_skips(ctx: Context) -> pl.LazyFrame:
    """Skipped events of active users that are assigned (or not known to be unassigned) but
    that a scoping filter leaves out, with ``in_flowcase``; ``clauses`` names the failing
    filter clauses."""
    return _with_in_flowcase(ctx, skip_classes(ctx, SCOPING_FILTER))


def exported_while_unassigned(ctx: Context) -> pl.DataFrame:
    """Creates and updates that reached the app although scoping said the object is not
    assigned; deactivations (active=false, a soft-delete step) are how Entra *removes* an
    unassigned user and do not count."""
    unassigned = _flag(ctx, ASSIGNED_KEYS, "false")
    deactivating = sent_active(ctx).filter(pl.col("active") == "false")["event_id"]
    soft_delete = ctx.steps_where(
        pl.col("name").str.to_lowercase().str.contains("softdelete|disable"), ["event_id"]
    )["event_id"]
    return ctx.events_where(
        pl.col("event_id").is_in(unassigned.implode())
        & pl.col("status").is_in(["success", "failure"])
        & pl.col("action").is_in(["create", "update"])
        & ~pl.col("event_id").is_in(deactivating.implode())
        & ~pl.col("event_id").is_in(soft_delete.implode()),
        NAMED,
    )


def _with_in_flowcase(ctx: Context, skips: pl.LazyFrame) -> pl.LazyFrame:
    """These skips with their ``object`` (``OBJECT``) and ``in_flowcase``: whether each is of
    an object Flowcase already has (a target id on the skip, or an earlier successful
    create/update/disable in the export); and ``back_since``: whether a successful create or
    update of the object followed (it was assigned again; a disable, or an update sending
    active False, is Entra removing it). Per Entra object: a rehire with the departed user's
    UPN was never provisioned for being the departed user. Joined lazily to the few rows per
    object it takes: a month's skips are never held, filtered or copied here."""
    skips = skips.with_columns(OBJECT)
    skipped = skips.select(pl.col("object").unique()).collect()["object"]
    # how Entra removes an unassigned user, not assigning it again: a disable, or an update
    # sending active False
    removing = (pl.col("action") == "disable") | pl.col("event_id").is_in(
        sent_active(ctx).filter(pl.col("active") == "false")["event_id"].implode())
    done = (
        ctx.scan
        .with_columns(OBJECT)
        .filter(
            (pl.col("status") == "success")
            & pl.col("action").is_in(["create", "update", "disable"])
            & pl.col("object").is_in(skipped.implode())
        )
        .group_by("object")
        .agg(pl.col("activity_time").min().alias("_provisioned_at"),
             pl.col("activity_time").filter(~removing).max().alias("_last_export"))
        .collect(engine="streaming")
    )
    return (
        skips.join(done.lazy(), on="object", how="left", maintain_order="left")
        .with_columns(
            (pl.col("target_id").is_not_null()
             | (pl.col("_provisioned_at") < pl.col("activity_time")).fill_null(False))
            .alias("in_flowcase"),
            (pl.col("_last_export") > pl.col("activity_time")).fill_null(False)
            .alias("back_since"),
        )
        .drop("_provisioned_at", "_last_export")
    )
