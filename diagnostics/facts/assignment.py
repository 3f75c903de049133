"""Why a user was skipped, from the scoping evidence: not assigned, disabled or filtered out.

``SkipReason`` ``NotEffectivelyEntitled`` alone does not say why Entra skipped a user: it
covers users that are not assigned, users a scoping filter leaves out and users disabled in
Entra alike, and its text always lists "not assigned to the application" as a possible reason.
The scoping details say which it was: "Assigned to the application" (on demand:
``Assigned``), "Scoping filter evaluation passed" with the clauses in
``ScopeEvaluationResult``, and "Active in the source system" (on demand: ``IsActive``).
``classify_skips`` is the one classification: the assignment rules read it through
``skip_classes`` and the ``why`` timeline calls it directly, so the rulebook and ``why`` never
disagree about a skip, a scoping-filter skip is never called "not assigned" and a disabled
account is never an assignment problem.
"""

from __future__ import annotations

import json

import polars as pl

from diagnostics.facts.active import sent_active
from diagnostics.rulekit import Context

# Skip classes (the ``skip_class`` column; stable: `why` puts them in its JSON verdict).
NOT_ASSIGNED = "not_assigned"
SCOPING_FILTER = "scoping_filter"
INACTIVE = "inactive_in_entra"

ASSIGNED_KEYS = ["assignedtotheapplication", "assigned"]
ACTIVE_KEYS = ["activeinthesourcesystem", "isactive"]
FILTER_PASSED_KEYS = ["scopingfilterevaluationpassed"]
SCOPE_RESULT_KEYS = ["scopeevaluationresult"]
SCOPING_KEYS = ASSIGNED_KEYS + ACTIVE_KEYS + FILTER_PASSED_KEYS + SCOPE_RESULT_KEYS
NOT_ASSIGNED_TEXT = "not assigned to the application"


def _flag(ctx: Context, keys: list[str], value: str) -> pl.Series:
    """Event ids with a step detail among ``keys`` equal to ``value`` (case-insensitive)."""
    hits = ctx.details(keys, where=_lowered() == value)
    return hits["event_id"].unique()


def _lowered() -> pl.Expr:
    return pl.col("value").str.strip_chars().str.to_lowercase()


def _false_clauses(scope_result: str | None) -> list[str]:
    """Scoping-filter clauses that evaluated false in a ``ScopeEvaluationResult`` JSON string,
    e.g. ``{"Marketing department filter.department EQUALS 'Marketing'":false}``."""
    try:
        parsed = json.loads(scope_result or "{}")
    except json.JSONDecodeError:
        return []
    if not isinstance(parsed, dict):
        return []
    return sorted(str(k) for k, passed in parsed.items() if str(passed).lower() == "false")


def _clauses(details: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """event_id -> the failing scoping-filter clauses (each distinct JSON parsed once)."""
    results = details.lazy().filter(
        pl.col("attribute_key").is_in(SCOPE_RESULT_KEYS) & (_lowered() != "{}")
    ).select("event_id", "value").collect()
    parsed = pl.DataFrame(
        [(v, _false_clauses(v)) for v in results["value"].drop_nulls().unique().to_list()],
        schema={"value": pl.Utf8, "clauses": pl.List(pl.Utf8)},
        orient="row",
    )
    return (
        results.join(parsed, on="value", how="inner")
        .group_by("event_id")
        .agg(pl.col("clauses").explode(keep_nulls=False, empty_as_null=False).unique().sort())
    )


def _evidence(details: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """event_id -> which scoping flags are logged True or False (one pass over the pairs, in
    the streaming engine: a month of skips has millions of scoping details)."""

    def says(keys: list[str], word: str) -> pl.Expr:
        return (pl.col("attribute_key").is_in(keys) & (_lowered() == word)).any()

    return details.lazy().group_by("event_id").agg(
        says(ACTIVE_KEYS, "false").alias("_inactive"),
        says(ASSIGNED_KEYS, "false").alias("_unassigned"),
        says(ASSIGNED_KEYS, "true").alias("_assigned"),
        says(FILTER_PASSED_KEYS, "false").alias("_filter_failed"),
        says(FILTER_PASSED_KEYS, "true").alias("_filter_passed"),
    ).collect(engine="streaming")


def classify_skips(skipped: pl.DataFrame, details: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """event_id, ``skip_class`` (``not_assigned``, ``scoping_filter``, ``inactive_in_entra`` or
    null when the evidence says none of these) and ``clauses`` (the scoping-filter clauses that
    failed), one row per event of ``skipped`` (event_id, failed_step_description).
    ``details`` are their step details in ``normalize.step_details`` form; keys other than
    the scoping ones are ignored; they may be lazy, and are then read twice rather than
    held."""
    details = details.lazy().filter(pl.col("attribute_key").is_in(SCOPING_KEYS))
    flags = ["_inactive", "_unassigned", "_assigned", "_filter_failed", "_filter_passed"]
    skipped = (
        skipped.select("event_id", "failed_step_description")
        .join(_evidence(details), on="event_id", how="left")
        .join(_clauses(details), on="event_id", how="left")
        .with_columns(pl.col(flags).fill_null(False), pl.col("clauses").fill_null([]))
    )
    # Clauses of one filter group are ANDed and groups ORed, so a false clause excludes the
    # user only when no verdict says the filter passed as a whole.
    filtered = pl.col("_filter_failed") | (
        ~pl.col("_filter_passed") & (pl.col("clauses").list.len() > 0)
    )
    # Without an assignment flag, the skip text is the only word on assignment; it lists "not
    # assigned" for every NotEffectivelyEntitled skip, so it counts only when no flag says
    # otherwise.
    says_unassigned = (
        pl.col("failed_step_description")
        .str.to_lowercase()
        .str.contains(NOT_ASSIGNED_TEXT, literal=True)
        .fill_null(False)
    )
    skip_class = (
        pl.when("_inactive").then(pl.lit(INACTIVE))
        .when("_unassigned").then(pl.lit(NOT_ASSIGNED))
        .when(filtered).then(pl.lit(SCOPING_FILTER))
        .when(~pl.col("_assigned") & says_unassigned).then(pl.lit(NOT_ASSIGNED))
        .otherwise(pl.lit(None, dtype=pl.Utf8))
    )
    return skipped.select("event_id", skip_class.alias("skip_class"), "clauses")


# What the assignment rules read of a skip: a month can hold millions of skips, so the
# classified skips keep these columns only.
SKIP_COLUMNS = ("event_id", "activity_time", "person", "label", "target_id")


def skip_classes(ctx: Context) -> pl.DataFrame:
    """Skipped user events (``SKIP_COLUMNS``) with ``classify_skips``' ``skip_class`` and
    ``clauses``, computed once per diagnosis. Groups that are not assigned are the group
    rule's evidence."""
    return ctx.memo("skip_classes", lambda: _skip_classes(ctx))


def _skip_classes(ctx: Context) -> pl.DataFrame:
    skipped = ctx.events_where(
        (pl.col("status") == "skipped") & (pl.col("object_type") != "Group").fill_null(True),
        (*SKIP_COLUMNS, "failed_step_description"),
    )
    of_skips = pl.col("event_id").is_in(skipped["event_id"].implode())
    classes = classify_skips(skipped, ctx.detail_rows(SCOPING_KEYS).filter(of_skips))
    return skipped.select(SKIP_COLUMNS).join(classes, on="event_id", how="left")


def unassigned_skips(ctx: Context) -> pl.DataFrame:
    """Skipped events of active users whose scoping details say they are not assigned
    ("Assigned to the application" / ``Assigned`` False), or, with no assignment flag and no
    failing scoping filter, whose skip text says so."""
    return skip_classes(ctx).filter(pl.col("skip_class") == NOT_ASSIGNED)


def filtered_skips(ctx: Context) -> pl.DataFrame:
    """Skipped events of active users that are assigned (or not known to be unassigned) but
    that a scoping filter leaves out; ``clauses`` names the failing filter clauses."""
    return skip_classes(ctx).filter(pl.col("skip_class") == SCOPING_FILTER)


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
        & ~pl.col("event_id").is_in(soft_delete.implode())
    )


def previously_provisioned(ctx: Context, skips: pl.DataFrame) -> pl.DataFrame:
    """Of these skips, those of objects Flowcase already has: a target id on the skip, or an
    earlier successful create/update/disable in the export."""
    done = (
        ctx.scan
        .filter(
            (pl.col("status") == "success")
            & pl.col("action").is_in(["create", "update", "disable"])
            & pl.col("person").is_in(skips["person"].unique().implode())
        )
        .group_by("person")
        .agg(pl.col("activity_time").min().alias("provisioned_at"))
        .collect(engine="streaming")
    )
    return skips.join(done, on="person", how="left").filter(
        pl.col("target_id").is_not_null()
        | (pl.col("provisioned_at") < pl.col("activity_time")).fill_null(False)
    ).drop("provisioned_at")
