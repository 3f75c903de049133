"""The numbers behind the report's charts: drawn as SVG in HTML, shown as tables in Markdown.

Events are bucketed per day when the report spans two days or more, else per cycle, and every
chart over time shares that axis. Each aggregate is one Polars group-by over the whole frame;
failures are attributed to findings with a join on event id, never a loop over events. Drawing
(matplotlib, the slow part) happens only when HTML is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import polars as pl

from loganalyzer.engine import lead_order
from loganalyzer.findings import Finding
from loganalyzer.normalize import Table
from loganalyzer.periods import Period, time_range
from loganalyzer.report import plot

TOP_ERROR_CODES = 10
FINDING_SERIES = 6
STATUS_COLORS = {
    "success": "#009E73",
    "failure": "#D55E00",
    "skipped": "#9E9E9E",
    "warning": "#E69F00",
}
OTHER_COLOR = "#555555"


@dataclass
class Series:
    name: str
    values: list[int]
    color: str


@dataclass
class Chart:
    id: str
    kind: str  # "stacked" (bars over time) or "ranked" (horizontal bars, largest first)
    title: str
    description: str  # one sentence: what it shows (alt text, and the Markdown lead-in)
    axis: str  # what the labels are: "Day", "Cycle", "Error code"
    labels: list[str]
    series: list[Series]
    value_label: str

    @property
    def columns(self) -> list[str]:
        return [self.axis, *(s.name for s in self.series)]

    @property
    def rows(self) -> list[list[str]]:
        return [
            [label, *(f"{s.values[i]:,}" for s in self.series)]
            for i, label in enumerate(self.labels)
        ]


def build_charts(events: Table, findings: list[Finding], period: Period | None,
                 accepted: list[Finding] | None = None) -> list[Chart]:
    """Events by status; and when anything failed, failures by finding and top error codes.
    Events may be lazy (a large store): only the counts and the failures are collected.
    ``accepted``: findings a baseline accepts; their failures are still theirs, not
    "unexplained"."""
    bucket, unit, label = _buckets(events, period)
    bucketed = events.lazy().select("event_id", "status", "error_code", bucket.alias("bucket"))
    counts = bucketed.group_by("bucket", "status").len().collect()
    buckets = counts.select("bucket").unique()
    if unit == "day":  # a day without events is on the axis too: an outage shows
        buckets = pl.concat([buckets, _days(events, period).cast(buckets.schema)]).unique()
    axis = (
        buckets.sort("bucket", nulls_last=True)
        .with_columns(pl.col("bucket").dt.strftime(label).fill_null("(no cycle)").alias("label"))
    )
    result = [_status_chart(counts, axis, unit)]
    failures = bucketed.filter(pl.col("status") == "failure").collect()
    if failures.height:
        result.append(_findings_chart(failures, axis, findings, accepted or [], unit))
        result.append(_error_code_chart(failures))
    return result


def draw(chart: Chart) -> str:
    """The chart as inline SVG."""
    if chart.kind == "ranked":
        values = chart.series[0].values
        return plot.horizontal_bars(chart.id, chart.title, chart.labels, values,
                                      chart.value_label)
    return plot.stacked_bars(
        chart.id,
        chart.title,
        chart.labels,
        {_legend(s.name): s.values for s in chart.series},
        {_legend(s.name): s.color for s in chart.series},
        chart.value_label,
    )


def _legend(name: str) -> str:
    return name if len(name) <= 45 else name[:44] + "…"


def _buckets(events: Table, period: Period | None) -> tuple[pl.Expr, str, str]:
    """Per day when the report spans two days or more, else per cycle (by its start)."""
    first, last = time_range(events)
    span = period.length if period else (last - first if first else timedelta(0))
    if span >= timedelta(days=2):
        return pl.col("activity_time").dt.truncate("1d"), "day", "%Y-%m-%d"
    return pl.col("activity_time").min().over("cycle_id"), "cycle", "%m-%d %H:%M"


def _days(events: Table, period: Period | None) -> pl.DataFrame:
    """Every day of the period (else from the first event to the last), as buckets."""
    first, last = (period.start, period.end - timedelta(microseconds=1)) if period \
        else time_range(events)
    days = pl.datetime_range(first, last, "1d", eager=True).dt.truncate("1d") if first \
        else pl.Series([], dtype=pl.Datetime("us", "UTC"))
    return pl.DataFrame({"bucket": days})


def _pivot(counts: pl.DataFrame, column: str, axis: pl.DataFrame) -> pl.DataFrame:
    """Counts per bucket and value (``len``) as one column per value, on the axis."""
    table = counts.pivot(column, index="bucket", values="len")
    return axis.join(table, on="bucket", how="left", nulls_equal=True).fill_null(0)


def _axis_name(unit: str) -> str:
    """A day is a UTC day, as every time in the report is UTC ("Day (UTC)"); a cycle is not."""
    return "Day (UTC)" if unit == "day" else unit.capitalize()


def _status_chart(counts: pl.DataFrame, axis: pl.DataFrame, unit: str) -> Chart:
    table = _pivot(counts, "status", axis)
    statuses = [s for s in STATUS_COLORS if s in table.columns]
    statuses += sorted(set(table.columns) - set(STATUS_COLORS) - {"bucket", "label"})
    return Chart(
        id="chart-status",
        kind="stacked",
        title=f"Events by status per {unit}",
        description=f"Events per {unit}, stacked by status ({', '.join(statuses)}).",
        axis=_axis_name(unit),
        labels=table["label"].to_list(),
        series=[
            Series(s, table[s].to_list(), STATUS_COLORS.get(s, OTHER_COLOR)) for s in statuses
        ],
        value_label="events",
    )


def _leading_finding(failures: pl.DataFrame, findings: list[Finding],
                     accepted: list[Finding]) -> pl.DataFrame:
    """Each failure labelled with the finding that leads for it (``engine.lead_order``)."""
    ordered = [f for f in lead_order(findings + accepted) if len(f.event_ids)]
    kept = {id(f) for f in accepted}
    names = [f"{f.rule_id} {f.title}" + (" (accepted)" if id(f) in kept else "")
             for f in ordered]
    ranked = [f.event_ids.to_frame("event_id").with_columns(pl.lit(rank, pl.Int64).alias("rank"))
              for rank, f in enumerate(ordered)]
    explained = (
        (pl.concat(ranked) if ranked
         else pl.DataFrame(schema={"event_id": pl.Utf8, "rank": pl.Int64}))
        # the failures' only: a month's findings explain millions of skips too
        .filter(pl.col("event_id").is_in(failures["event_id"].implode()))
        .unique("event_id", keep="first")
        .with_columns(
            pl.col("rank").replace_strict(list(range(len(names))), names, return_dtype=pl.Utf8)
            .alias("finding")
        )
    )
    return failures.join(explained, on="event_id", how="left").with_columns(
        pl.col("finding").fill_null("unexplained")
    )


def _findings_chart(failures: pl.DataFrame, axis: pl.DataFrame, findings: list[Finding],
                    accepted: list[Finding], unit: str) -> Chart:
    labelled = _leading_finding(failures, findings, accepted)
    totals = labelled.group_by("finding").len().sort(["len", "finding"], descending=[True, False])
    named = [f for f in totals["finding"].to_list() if f != "unexplained"][:FINDING_SERIES]
    keep = pl.col("finding").is_in(named) | (pl.col("finding") == "unexplained")
    labelled = labelled.with_columns(
        pl.when(keep).then(pl.col("finding")).otherwise(pl.lit("other findings")).alias("finding")
    )
    table = _pivot(labelled.group_by("bucket", "finding").len(), "finding", axis)
    colors = {n: plot.PALETTE[i % len(plot.PALETTE)] for i, n in enumerate(named)}
    colors.update({"other findings": OTHER_COLOR, "unexplained": plot.GREY})
    order = [n for n in [*named, "other findings", "unexplained"] if n in table.columns]
    return Chart(
        id="chart-findings",
        kind="stacked",
        title=f"Failures by finding per {unit}",
        description=(
            f"Failed events per {unit}, each counted once, under the finding that leads for it."
        ),
        axis=_axis_name(unit),
        labels=table["label"].to_list(),
        series=[Series(n, table[n].to_list(), colors[n]) for n in order],
        value_label="failed events",
    )


def _error_code_chart(failures: pl.DataFrame) -> Chart:
    codes = (
        failures.group_by(pl.col("error_code").fill_null("(no error code)")).len()
        .sort(["len", "error_code"], descending=[True, False])
    )
    top = codes.head(TOP_ERROR_CODES)
    cut = codes.height > top.height
    shown = f"; the {TOP_ERROR_CODES} most frequent of {codes.height}" if cut else ""
    return Chart(
        id="chart-error-codes",
        kind="ranked",
        title="Top error codes",
        description=f"Failed events by error code, most frequent first{shown}.",
        axis="Error code",
        labels=top["error_code"].to_list(),
        series=[Series("Failed events", top["len"].to_list(), plot.PALETTE[0])],
        value_label="failed events",
    )
