"""Why a user was skipped, from the scoping evidence: not assigned, disabled or filtered out.

``SkipReason`` ``NotEffectivelyEntitled`` alone does not say why Entra skipped a user: it
covers users that are not assigned, users a scoping filter leaves out and users disabled in
Entra alike, and its text always lists "not assigned to the application" as a possible reason.
The scoping details say which it was: "Assigned to the application" (on demand:
``Assigned``), "Scoping filter evaluation passed" with the clauses in
``ScopeEvaluationResult``, and "Active in the source system" (on demand: ``IsActive``).

A skip's class depends on its own steps only, so it is a per-event fact: ``normalize`` stores
it as the events' ``skip_class`` and ``scope_clauses`` columns (and ``ingest.read_store`` adds
them to a store written before they were kept). The assignment rules and the ``why``
timeline both read those columns, so they never disagree about a skip, a scoping-filter skip
is never called "not assigned" and a disabled account is never an assignment problem.
"""

from __future__ import annotations

import json

import polars as pl

Table = pl.DataFrame | pl.LazyFrame

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

# The event columns this module fills.
SKIP_CLASS_COLUMNS = {"skip_class": pl.Utf8, "scope_clauses": pl.List(pl.Utf8)}


def lowered_value() -> pl.Expr:
    """A step detail's value, stripped and lower-cased."""
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


def _clauses(details: pl.LazyFrame) -> pl.DataFrame:
    """event_id -> the failing scoping-filter clauses (each distinct JSON parsed once)."""
    results = details.filter(
        pl.col("attribute_key").is_in(SCOPE_RESULT_KEYS) & (lowered_value() != "{}")
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


def _evidence(details: pl.LazyFrame) -> pl.DataFrame:
    """event_id -> which scoping flags are logged True or False (one pass over the pairs, in
    the streaming engine: an old store's month of skips has millions of scoping details)."""

    def says(keys: list[str], word: str) -> pl.Expr:
        return (pl.col("attribute_key").is_in(keys) & (lowered_value() == word)).any()

    return details.group_by("event_id").agg(
        says(ACTIVE_KEYS, "false").alias("_inactive"),
        says(ASSIGNED_KEYS, "false").alias("_unassigned"),
        says(ASSIGNED_KEYS, "true").alias("_assigned"),
        says(FILTER_PASSED_KEYS, "false").alias("_filter_failed"),
        says(FILTER_PASSED_KEYS, "true").alias("_filter_passed"),
    ).collect(engine="streaming")


def classify_skips(skipped: pl.DataFrame, details: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """event_id, ``skip_class`` (``not_assigned``, ``scoping_filter``, ``inactive_in_entra`` or
    null when the evidence says none of these) and ``scope_clauses`` (the scoping-filter
    clauses that failed), one row per event id of ``skipped`` (event_id,
    failed_step_description). ``details`` are their step details in ``normalize.step_details``
    form; keys other than the scoping ones are ignored; they may be lazy, and are then read
    twice rather than held."""
    details = details.lazy().filter(pl.col("attribute_key").is_in(SCOPING_KEYS))
    flags = ["_inactive", "_unassigned", "_assigned", "_filter_failed", "_filter_passed"]
    skipped = (
        skipped.select("event_id", "failed_step_description")
        .unique("event_id", keep="first", maintain_order=True)
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
    return skipped.select(
        "event_id", skip_class.alias("skip_class"), pl.col("clauses").alias("scope_clauses")
    )


def with_skip_classes(events: Table, details: Table) -> Table:
    """``events`` with ``SKIP_CLASS_COLUMNS`` (last, replacing any): for each skip, from
    ``details`` (the step details of these events or more, ``normalize.step_details`` form);
    null for the others. Lazy events stay lazy: only their skips' ids are read now."""
    skipped = events.lazy().filter(pl.col("status") == "skipped").select(
        "event_id", "failed_step_description").collect()
    wanted = pl.col("event_id").is_in(skipped["event_id"].implode())
    classes = classify_skips(skipped, details.lazy().filter(wanted))
    return events.drop(list(SKIP_CLASS_COLUMNS), strict=False).join(
        classes.lazy() if isinstance(events, pl.LazyFrame) else classes,
        on="event_id", how="left", maintain_order="left",
    ).cast(SKIP_CLASS_COLUMNS)
