"""One person's events as a story: oldest first, one line each, with a reason in plain words.

The reason is the SCIM ``detail`` the app returned (not the whole ``StatusCode ... Web
Response ...`` wrapper), else a shortened error reason (the engine's ``short_reason``, so
evidence and timeline read the same), else what a skip means. Skips are
classified from the scoping step's details, because ``NotEffectivelyEntitled`` alone does not
say whether the user was unassigned, inactive or filtered out.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import polars as pl

from loganalyzer.engine import short_reason
from loganalyzer.normalize import step_details

# Skip classes (stable: they appear in the JSON verdict).
NOT_ASSIGNED = "not_assigned"
INACTIVE = "inactive_in_entra"
SCOPING_FILTER = "scoping_filter"
ALREADY_IN_SYNC = "already_in_sync"
NOT_ENTITLED = "not_entitled"

SKIP_WORDS = {
    NOT_ASSIGNED: "not assigned to the app (directly or through a group it is a direct member of)",
    INACTIVE: "disabled or soft-deleted in Entra",
    SCOPING_FILTER: "left out by a scoping filter",
    ALREADY_IN_SYNC: "already in sync: nothing to change",
    NOT_ENTITLED: "not in provisioning scope (not assigned, or no entitlement)",
}
_DONE_WORDS = {
    "create": "created in Flowcase",
    "update": "updated in Flowcase",
    "disable": "disabled in Flowcase (active = false)",
    "delete": "deleted from Flowcase",
    "stageddelete": "staged for deletion",
}
# Folded step-detail keys that tell why an object was skipped (portal and on-demand spellings).
_ASSIGNED = ("assignedtotheapplication", "assigned")
_ACTIVE = ("activeinthesourcesystem", "isactive")
_FILTER_PASSED = ("scopingfilterevaluationpassed",)
_SCOPE_RESULT = ("scopeevaluationresult",)


@dataclass
class Entry:
    """One event of the timeline."""

    event_id: str
    time: datetime
    cycle_id: str | None
    app_name: str | None
    action: str | None
    status: str | None
    failed_step: str | None
    http_status: int | None
    error_code: str | None
    skip: str | None  # one of the skip classes, or the raw SkipReason
    reason: str | None


def _is_false(value: str | None) -> bool:
    return value is not None and value.strip().lower() == "false"


def _failing_clauses(scope_result: str | None) -> list[str]:
    """Scoping filter clauses that evaluated to false, from ``ScopeEvaluationResult`` JSON."""
    try:
        parsed = json.loads(scope_result or "{}")
    except json.JSONDecodeError:
        return []
    if not isinstance(parsed, dict):
        return []
    return [name for name, passed in parsed.items() if str(passed).lower() == "false"]


def classify_skip(skip_reason: str | None, details: dict[str, str]) -> tuple[str | None, str]:
    """(skip class, plain words) for one skipped event, from its SkipReason and scoping details."""
    reason = (skip_reason or "").lower()
    clauses = _failing_clauses(_first(details, _SCOPE_RESULT))
    if reason == "redundantexport":
        return ALREADY_IN_SYNC, SKIP_WORDS[ALREADY_IN_SYNC]
    if _is_false(_first(details, _ASSIGNED)):
        return NOT_ASSIGNED, SKIP_WORDS[NOT_ASSIGNED]
    if _is_false(_first(details, _ACTIVE)):
        return INACTIVE, SKIP_WORDS[INACTIVE]
    if clauses or _is_false(_first(details, _FILTER_PASSED)):
        words = SKIP_WORDS[SCOPING_FILTER]
        return SCOPING_FILTER, f"{words}: {', '.join(clauses)}" if clauses else words
    if reason == "noteffectivelyentitled":
        return NOT_ENTITLED, SKIP_WORDS[NOT_ENTITLED]
    if skip_reason:
        return skip_reason, f"skipped ({skip_reason})"
    return None, "skipped"


def _first(details: dict[str, str], keys: tuple[str, ...]) -> str | None:
    return next((details[k] for k in keys if k in details), None)


def needs_details(events: pl.DataFrame) -> list[str]:
    """Skipped events whose class needs their scoping details (all but RedundantExport)."""
    skipped = events.filter(
        (pl.col("status") == "skipped")
        & (pl.col("skip_reason").str.to_lowercase() != "redundantexport").fill_null(True)
    )
    return skipped["event_id"].to_list()


def _details_by_event(steps: pl.DataFrame) -> dict[str, dict[str, str]]:
    wanted = _ASSIGNED + _ACTIVE + _FILTER_PASSED + _SCOPE_RESULT
    rows = step_details(steps).filter(pl.col("attribute_key").is_in(wanted))
    found: dict[str, dict[str, str]] = {}
    for event_id, key, value in rows.select("event_id", "attribute_key", "value").iter_rows():
        found.setdefault(event_id, {}).setdefault(key, value)
    return found


def _failure_reasons(events: pl.DataFrame) -> pl.DataFrame:
    """event_id -> short reason, computed once per distinct reason (failures repeat a lot)."""
    inputs = ["scim_detail", "error_reason", "skip_reason", "failed_step_description"]
    failures = events.filter(pl.col("status") != "success", pl.col("status") != "skipped")
    distinct = failures.select(inputs).unique().with_columns(short_reason().alias("reason"))
    return failures.select("event_id", *inputs).join(
        distinct, on=inputs, how="left", nulls_equal=True
    ).select("event_id", "reason")


COLUMNS = (
    "event_id", "activity_time", "cycle_id", "app_name", "action", "status", "failed_step",
    "failed_step_description", "http_status", "error_code", "error_reason", "scim_detail",
    "skip_reason", "source_record",
)


def build(events: pl.DataFrame, steps: pl.DataFrame) -> list[Entry]:
    """One entry per event (``COLUMNS``), oldest first, ties in file order; ``steps`` holds
    at least the steps of the events ``needs_details`` names."""
    events = events.sort("activity_time", "source_record", nulls_last=True)
    events = events.join(_failure_reasons(events), on="event_id", how="left").with_columns(
        pl.when(pl.col("status") == "success")
        .then(pl.col("action").replace_strict(_DONE_WORDS, default="succeeded"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )
    skipped = events.filter(pl.col("status") == "skipped")
    skipped_ids = skipped["event_id"].implode()
    details = _details_by_event(steps.filter(pl.col("event_id").is_in(skipped_ids)))
    skips = {
        event_id: classify_skip(reason, details.get(event_id, {}))
        for event_id, reason in skipped.select("event_id", "skip_reason").iter_rows()
    }
    columns = ("event_id", "activity_time", "cycle_id", "app_name", "action", "status",
               "failed_step", "http_status", "error_code", "reason")
    entries = []
    for event_id, time, cycle, app, action, status, step, http, code, reason in events.select(
        columns
    ).iter_rows():
        skip, words = skips.get(event_id, (None, reason))
        entries.append(Entry(event_id, time, cycle, app, action, status, step, http, code, skip,
                             words))
    return entries
