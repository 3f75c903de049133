"""The first look at an export: what it covers and how the events are distributed."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

import polars as pl
from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from loganalyzer import scope
from loganalyzer.engine import unknown_status_note
from loganalyzer.ingest import Dataset
from loganalyzer.normalize import status_unknown
from loganalyzer.wording import instant, plural


def _counts(events: pl.LazyFrame, column: str) -> dict[str, int]:
    rows = events.group_by(column).len().sort("len", descending=True).collect().iter_rows()
    return {(key if key is not None else "(none)"): n for key, n in rows}


def cycle_table(events: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """One row per provisioning cycle, oldest first (events may be lazy)."""
    return (
        events.lazy()
        .group_by("cycle_id", "job_id")
        .agg(
            pl.col("activity_time").min().alias("start"),
            pl.col("activity_time").max().alias("end"),
            pl.len().alias("events"),
            (pl.col("status") == "success").sum().alias("success"),
            (pl.col("status") == "failure").sum().alias("failure"),
            (pl.col("status") == "skipped").sum().alias("skipped"),
            (pl.col("status") == "warning").sum().alias("warning"),
        )
        .with_columns((pl.col("end") - pl.col("start")).alias("duration"))
        .sort("start")
        .collect()
    )


def _scope(dataset: Dataset) -> dict[str, Any]:
    """Every app, and which one diagnose/report/why would take as Flowcase's (or why none).

    The error's message ends in a colon that introduces its list of apps; summary lists them
    on its own, so the colon is dropped before the sentence goes on."""
    try:
        return scope.choose(dataset.frames).to_json()
    except scope.ScopeError as exc:
        found = [{k: v for k, v in asdict(a).items() if k != "keys"} for a in exc.apps]
        return {"diagnosed": [], "chosen_by": None, "other_events": sum(a.events for a in
                exc.apps), "other_apps": found, "note": exc.message.removesuffix(":")
                + "; diagnose, report and why need --app", "choice_note": None}


def summarize(dataset: Dataset) -> dict[str, Any]:
    """Counts by status, action, object type and cycle; time range; jobs and apps; which app
    is Flowcase's; input health. The events may be lazy (a large store): only counts are
    collected."""
    events = dataset.frames.events.lazy()
    times = pl.col("activity_time")
    count, unknown, start, end = events.select(
        pl.len(), status_unknown().sum(), times.min(),
        times.max().alias("end"),
    ).collect().row(0)
    notes = [unknown_status_note(unknown)] if unknown else []
    cycles = cycle_table(events)
    return {
        "events": count,
        "time_range": {
            "start": start.isoformat() if start else None,
            "end": end.isoformat() if end else None,
        },
        "by_status": _counts(events, "status"),
        "by_action": _counts(events, "action"),
        "by_object_type": _counts(events, "object_type"),
        "apps": _counts(events, "app_name"),
        "jobs": _counts(events, "job_id"),
        "flowcase": _scope(dataset),
        "cycles": [
            {
                **{k: v for k, v in row.items() if k not in ("start", "end", "duration")},
                "start": row["start"].isoformat(),
                "end": row["end"].isoformat(),
                "duration_seconds": row["duration"].total_seconds(),
            }
            for row in cycles.iter_rows(named=True)
        ],
        "input": {
            "kinds": dataset.kinds,
            "skipped_records": len(dataset.problems),
            "duplicate_events_dropped": dataset.duplicates,
            "notes": notes + dataset.notes,
        },
    }


def _span(events: int, time_range: dict[str, str | None]) -> str:
    """The headline, its times written as diagnose and why write them; the JSON keeps ISO."""
    if not time_range["start"]:
        return f"{plural(events, 'event')}: none in this period"
    start, end = (instant(datetime.fromisoformat(time_range[k])) for k in ("start", "end"))
    return f"{plural(events, 'event')} from {start} to {end} UTC"


def render_summary(summary: dict[str, Any]) -> RenderableType:
    """Tables for the terminal (plain text when piped: ``cli.console.plain``)."""
    counts = Table(box=None, show_header=False, pad_edge=False)
    counts.add_column(style="bold")
    counts.add_column(overflow="fold")
    for title, key in (
        ("Status", "by_status"),
        ("Action", "by_action"),
        ("Object type", "by_object_type"),
        ("App", "apps"),
        ("Job", "jobs"),
    ):
        counts.add_row(title, ", ".join(f"{k} {v:,}" for k, v in summary[key].items()))
    chosen = summary["flowcase"]
    diagnosed = ", ".join(f"{a['name']} ({a['events']:,})" for a in chosen["diagnosed"])
    counts.add_row("Flowcase", diagnosed or "none chosen")
    for note in (chosen["choice_note"], chosen["note"]):
        if note:
            counts.add_row("", note)
    cycles = Table(title=f"Cycles ({len(summary['cycles'])})", title_justify="left",
                   box=None, pad_edge=False, header_style="bold")
    for name in ("start (UTC)", "minutes", "events", "success", "failure", "skipped"):
        cycles.add_column(name, justify="left" if name.startswith("start") else "right",
                          no_wrap=True)
    cycles.add_column("cycle id", no_wrap=True)
    for c in summary["cycles"]:
        cycles.add_row(
            c["start"][:16].replace("T", " "), f"{c['duration_seconds'] / 60:.1f}",
            f"{c['events']:,}", f"{c['success']:,}", f"{c['failure']:,}", f"{c['skipped']:,}",
            c["cycle_id"] or "",
        )
    inp = summary["input"]
    files = [
        f"Input: {plural(len(inp['kinds']), 'file')}; skipped records: {inp['skipped_records']}; "
        f"duplicate events dropped: {inp['duplicate_events_dropped']}",
        *(f"  {name}: {kind}" for name, kind in inp["kinds"].items()),
        *(f"  note: {n}" for n in inp["notes"]),
    ]
    return Group(
        Text(_span(summary["events"], summary["time_range"])),
        counts, Text(""), cycles, Text(""), Text("\n".join(files)),
    )
