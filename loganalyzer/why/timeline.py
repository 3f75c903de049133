"""One person's events as a story: oldest first, one line each, with a reason in plain words.

The reason is the SCIM ``detail`` the app returned (not the whole ``StatusCode ... Web
Response ...`` wrapper), else a shortened error reason (the engine's ``short_reason``, so
evidence and timeline read the same), else what a skip means. A skip's class is the event's
``skip_class`` (``loganalyzer.skip_classes``: the one the assignment rules read, so ``why``
and ``diagnose`` agree), with two classes only the timeline needs on top: in sync
(``RedundantExport``) and not entitled (``NotEffectivelyEntitled`` that the scoping evidence
does not explain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from loganalyzer.engine import StepReader, short_reason, with_step_reasons
from loganalyzer.file_order import in_time_order
from loganalyzer.skip_classes import INACTIVE, NOT_ASSIGNED, SCOPING_FILTER

# Skip classes (stable: they appear in the JSON verdict). The scoping ones are the rulebook's
# (``loganalyzer.skip_classes``); these two exist only here.
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


def _described(
    skip_reason: str | None, skip_class: str | None, clauses: list[str]
) -> tuple[str | None, str]:
    """(skip class, plain words) for one skipped event from its SkipReason and scoping class."""
    reason = (skip_reason or "").lower()
    if reason == "redundantexport":
        return ALREADY_IN_SYNC, SKIP_WORDS[ALREADY_IN_SYNC]
    if skip_class == SCOPING_FILTER and clauses:
        return skip_class, f"{SKIP_WORDS[skip_class]}: {', '.join(clauses)}"
    if skip_class is not None:
        return skip_class, SKIP_WORDS[skip_class]
    if reason == "noteffectivelyentitled":
        return NOT_ENTITLED, SKIP_WORDS[NOT_ENTITLED]
    if skip_reason:
        return skip_reason, f"skipped ({skip_reason})"
    return None, "skipped"


def _skips(skipped: pl.DataFrame) -> dict[str, tuple[str | None, str]]:
    """event_id -> (skip class, plain words) for the skipped events."""
    return {
        event_id: _described(reason, skip_class, clauses or [])
        for event_id, reason, skip_class, clauses in skipped.select(
            "event_id", "skip_reason", "skip_class", "scope_clauses"
        ).iter_rows()
    }


def _failure_reasons(events: pl.DataFrame, steps_of: StepReader | None) -> pl.DataFrame:
    """event_id -> short reason, computed once per distinct reason (failures repeat a lot);
    an event that logged none (a warning with only its status) gets what its telling step
    says, as `diagnose` samples it (``engine.with_step_reasons``)."""
    inputs = ["scim_detail", "error_reason", "skip_reason", "failed_step_description"]
    failures = events.filter(pl.col("status") != "success", pl.col("status") != "skipped")
    distinct = failures.select(inputs).unique().with_columns(short_reason().alias("reason"))
    reasons = failures.select("event_id", *inputs).join(
        distinct, on=inputs, how="left", nulls_equal=True
    ).select("event_id", "reason")
    return reasons if steps_of is None else with_step_reasons(reasons, steps_of, "reason")


COLUMNS = (
    "event_id", "activity_time", "cycle_id", "app_name", "action", "status", "failed_step",
    "failed_step_description", "http_status", "error_code", "error_reason", "scim_detail",
    "skip_reason", "skip_class", "scope_clauses", "source_file", "source_record",
)


def build(events: pl.DataFrame, newest_first: list[str],
          steps_of: StepReader | None = None) -> list[Entry]:
    """One entry per event (``COLUMNS``), oldest first, events of the same second as their
    file runs (``file_order``; ``newest_first`` lists the files that run backwards).
    ``steps_of`` reads the steps of events that logged no reason (none: left without)."""
    events = in_time_order(events, newest_first)
    reasons = _failure_reasons(events, steps_of)
    events = events.join(reasons, on="event_id", how="left").with_columns(
        pl.when(pl.col("status") == "success")
        .then(pl.col("action").replace_strict(_DONE_WORDS, default="succeeded"))
        .otherwise(pl.col("reason"))
        .alias("reason")
    )
    skips = _skips(events.filter(pl.col("status") == "skipped"))
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
