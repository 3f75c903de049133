"""One report model built from the events and their diagnosis, rendered as HTML or Markdown.

The model holds everything a reader sees, already ordered and capped, so the two templates in
``report_templates/`` are twins that only lay it out. Values from the logs stay raw in the
model; each renderer escapes them (HTML autoescape; Markdown escaping of every ``{{ }}``), and
both neutralise strings a spreadsheet would run as a formula. All aggregation is vectorised in
Polars, so building a report costs about the same for 200 or 200,000 events.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jinja2
import markupsafe
import polars as pl

from diagnostics.guide_steps import STEPS, step_rank
from diagnostics.job_status import JobStatus
from loganalyzer import __version__, charts
from loganalyzer.findings import Diagnosis, Finding, severity_rank
from loganalyzer.ingest import Dataset
from loganalyzer.periods import Period
from loganalyzer.summary import cycle_table

TEMPLATES = Path(__file__).resolve().parent.parent / "report_templates"
EVIDENCE_ROWS = 10
AFFECTED_ROWS = 25
CYCLE_ROWS = 60
TOP_ERROR_CODES = 10
FINDING_SERIES = 6
STATUS_COLORS = {
    "success": "#009E73",
    "failure": "#D55E00",
    "skipped": "#9E9E9E",
    "warning": "#E69F00",
}


# ---------------------------------------------------------------------------- the model


@dataclass
class KeyFigure:
    label: str
    value: str
    note: str = ""


@dataclass
class StepRef:
    id: str
    title: str


@dataclass
class AffectedRow:
    id: str
    type: str
    display_name: str
    events: int


@dataclass
class EvidenceRow:
    time: str
    cycle: str
    action: str
    status: str
    error_code: str
    http_status: str
    reason: str


@dataclass
class FindingView:
    rule_id: str
    title: str
    severity: str
    message: str
    steps: list[StepRef]
    events: int
    first_seen: str
    last_seen: str
    cycles: int
    remediation: str
    affected: list[AffectedRow]
    affected_more: int
    evidence: list[EvidenceRow]
    evidence_more: int
    change: str = ""  # "new" or "ongoing" in a comparison, else ""


@dataclass
class Chart:
    id: str
    title: str
    description: str  # one sentence: what it shows (alt text, and the Markdown lead-in)
    columns: list[str]  # the data behind it, shown as a table in Markdown
    rows: list[list[str]]
    svg: str


@dataclass
class CycleRow:
    start: str
    duration: str
    events: int
    success: int
    failure: int
    skipped: int
    halted: str
    cycle_id: str


@dataclass
class UnexplainedRow:
    error_code: str
    http_status: str
    count: int
    affected: int
    sample_reason: str


@dataclass
class RuleRow:
    rule_id: str
    title: str
    severity: str
    steps: str


@dataclass
class FindingBrief:
    rule_id: str
    title: str
    severity: str
    message: str
    events_before: int
    events_now: int


@dataclass
class Comparison:
    previous_period: str
    previous_events: int
    failure_rate_before: str
    failure_rate_now: str
    failure_rate_change: str
    new: list[FindingBrief]
    resolved: list[FindingBrief]
    ongoing: list[FindingBrief]


@dataclass
class Report:
    title: str
    tenants: list[str]
    apps: list[str]
    jobs: list[str]
    period: str
    generated_at: str
    tool_version: str
    verdict: str  # healthy | degraded | failing
    verdict_reason: str
    figures: list[KeyFigure]
    findings: list[FindingView]
    charts: list[Chart]
    cycles: list[CycleRow]
    cycles_more: int
    unexplained: list[UnexplainedRow]
    unexplained_failures: int
    rules: list[RuleRow]
    rule_errors: list[str]
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)
    redacted: bool = False


@dataclass
class Analysis:
    """One period's events and what the rulebook said about them."""

    dataset: Dataset
    diagnosis: Diagnosis
    period: Period | None = None


# ---------------------------------------------------------------------------- building


def build_report(
    current: Analysis,
    previous: Analysis | None = None,
    *,
    title: str | None = None,
    job_status: JobStatus | None = None,
    generated_at: datetime | None = None,
) -> Report:
    """The report of one period, compared with the one before when ``previous`` is given."""
    events = current.dataset.frames.events
    diagnosis = current.diagnosis
    ordered = order_findings(diagnosis.findings)
    cycles = cycle_table(events)
    halted = _halted_cycles(diagnosis)
    previous_rules = {f.rule_id for f in previous.diagnosis.findings} if previous else set()
    apps = _values(events, "app_name")
    verdict, reason = _verdict(events, diagnosis, ordered, job_status)
    return Report(
        title=title or f"Provisioning report: {', '.join(apps) or 'Flowcase SCIM'}",
        tenants=_values(events, "tenant_id"),
        apps=apps,
        jobs=_values(events, "job_id"),
        period=_period_text(events, current.period),
        generated_at=_when(generated_at or datetime.now(UTC)),
        tool_version=__version__,
        verdict=verdict,
        verdict_reason=reason,
        figures=_key_figures(events, cycles, halted, job_status),
        findings=[
            _finding_view(f, ("ongoing" if f.rule_id in previous_rules else "new") if previous
                          else "")
            for f in ordered
        ],
        charts=_charts(events, ordered, current.period),
        cycles=_cycle_rows(cycles, halted),
        cycles_more=max(0, cycles.height - CYCLE_ROWS),
        unexplained=[
            UnexplainedRow(
                error_code=u.error_code or "(none)",
                http_status=str(u.http_status) if u.http_status is not None else "",
                count=u.count,
                affected=u.affected,
                sample_reason=_short(u.sample_reason or "", 300),
            )
            for u in sorted(diagnosis.unexplained, key=lambda u: -u.count)
        ],
        unexplained_failures=sum(u.count for u in diagnosis.unexplained),
        rules=[
            RuleRow(r.rule_id, r.title, r.severity, ", ".join(r.guide_steps) or "none")
            for r in sorted(diagnosis.rules_run, key=lambda r: r.rule_id)
        ],
        rule_errors=list(diagnosis.rule_errors),
        comparison=_comparison(current, previous) if previous else None,
        notes=_input_notes(current.dataset),
    )


def order_findings(findings: list[Finding]) -> list[Finding]:
    """By the guide step where each is fixed, most severe first inside a step, then by size."""
    return sorted(
        findings,
        key=lambda f: (step_rank(f.guide_steps), severity_rank(f.severity), -f.events, f.rule_id),
    )


def fails_at(diagnosis: Diagnosis, severity: str) -> bool:
    """True when a finding is at or above ``severity`` (``--fail-on``)."""
    limit = severity_rank(severity)
    return any(severity_rank(f.severity) <= limit for f in diagnosis.findings)


def _values(events: pl.DataFrame, column: str) -> list[str]:
    return events.get_column(column).drop_nulls().unique().sort().to_list()


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else ""


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return ""
    seconds = delta.total_seconds()
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _period_text(events: pl.DataFrame, period: Period | None) -> str:
    first, last = events["activity_time"].min(), events["activity_time"].max()
    seen = f"events from {_when(first)} to {_when(last)}"
    if period is None:
        return seen
    return f"{_when(period.start)} to {_when(period.end)} ({seen})"


def _status_counts(events: pl.DataFrame) -> dict[str, int]:
    return dict(events.group_by("status").len().iter_rows())


def _failure_rate(events: pl.DataFrame) -> float:
    return (events["status"] == "failure").sum() / events.height if events.height else 0.0


def _halted_cycles(diagnosis: Diagnosis) -> set[str]:
    """Cycles a finding says were halted (the group-404 halt rule names them)."""
    halted: set[str] = set()
    for finding in diagnosis.findings:
        halted.update(finding.details.get("halted_cycles", []))
    return halted


def _verdict(
    events: pl.DataFrame,
    diagnosis: Diagnosis,
    ordered: list[Finding],
    job_status: JobStatus | None,
) -> tuple[str, str]:
    """healthy / degraded / failing, with the reason in one sentence."""
    loud = [f for f in ordered if severity_rank(f.severity) <= severity_rank("high")]
    medium = [f for f in ordered if f.severity == "medium"]
    unexplained = sum(u.count for u in diagnosis.unexplained)
    rate = _rate(int((events["status"] == "failure").sum()), events.height)
    if job_status is not None and job_status.quarantined:
        why = job_status.quarantine_reason or job_status.error_code or "no reason given"
        first = f"; fix first: {_step_phrase(ordered[0])}" if ordered else ""
        return "failing", f"The provisioning job is in quarantine ({why}){first}."
    if loud:
        return "failing", (
            f"{_count(len(loud), 'finding')} at high severity or above; "
            f"fix first: {_step_phrase(loud[0])}."
        )
    if medium or unexplained or diagnosis.rule_errors:
        parts = []
        if medium:
            parts.append(_count(len(medium), "medium-severity finding"))
        if unexplained:
            parts.append(_count(unexplained, "failure") + " that no rule explains")
        if diagnosis.rule_errors:
            parts.append(_count(len(diagnosis.rule_errors), "rule") + " that could not run")
        return "degraded", f"No high-severity finding, but {' and '.join(parts)}; {rate} failed."
    low = [f for f in ordered if f.severity == "low"]
    extra = f"; {_count(len(low), 'low-severity finding')} listed for information" if low else ""
    return "healthy", f"No finding above low severity and {rate} of events failed{extra}."


def _step_phrase(finding: Finding) -> str:
    step = finding.guide_steps[0] if finding.guide_steps else None
    where = f" (guide step {step} {STEPS[step]})" if step in STEPS else ""
    return f"{finding.title}{where}"


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _key_figures(
    events: pl.DataFrame,
    cycles: pl.DataFrame,
    halted: set[str],
    job_status: JobStatus | None,
) -> list[KeyFigure]:
    total = events.height
    counts = _status_counts(events)
    users = events.filter(pl.col("object_type") == "User")
    failed_users = users.filter(pl.col("status") == "failure")["identity_key"].n_unique()
    durations = cycles["duration"]
    figures = [
        KeyFigure("Events", f"{total:,}"),
        KeyFigure("Success rate", _rate(counts.get("success", 0), total),
                  f"{counts.get('success', 0):,} events"),
        KeyFigure("Failure rate", _rate(counts.get("failure", 0), total),
                  f"{counts.get('failure', 0):,} events"),
        KeyFigure("Skip rate", _rate(counts.get("skipped", 0), total),
                  f"{counts.get('skipped', 0):,} events; skipping unassigned users is expected"),
        KeyFigure("Users affected", f"{failed_users:,}",
                  f"with a failed event, of {users['identity_key'].n_unique():,} users seen"),
        KeyFigure("Cycles run", f"{cycles.height:,}"),
        KeyFigure(
            "Cycle duration",
            f"median {_duration(durations.median())}" if cycles.height else "n/a",
            f"longest {_duration(durations.max())}" if cycles.height else "",
        ),
        KeyFigure("Halted cycles", f"{len(halted):,}",
                  "stopped by failures that block the cycle" if halted else ""),
    ]
    if counts.get("warning"):
        figures.insert(4, KeyFigure("Warnings", f"{counts['warning']:,}"))
    if job_status is not None:
        figures.append(_quarantine_figure(job_status))
    return figures


def _quarantine_figure(job: JobStatus) -> KeyFigure:
    if not job.quarantined:
        return KeyFigure("Quarantine", "not quarantined", f"job status {job.code or 'unknown'}")
    since = f"since {job.quarantine_since}; " if job.quarantine_since else ""
    error = f"; {job.error_code}: {job.error_message or ''}" if job.error_code else ""
    return KeyFigure("Quarantine", "in quarantine",
                     f"{since}reason {job.quarantine_reason or 'unknown'}{error}")


def _finding_view(finding: Finding, change: str) -> FindingView:
    shown_affected = sorted(finding.affected, key=lambda a: (-a.events, a.id))[:AFFECTED_ROWS]
    evidence = finding.evidence[:EVIDENCE_ROWS]
    return FindingView(
        rule_id=finding.rule_id,
        title=finding.title,
        severity=finding.severity,
        message=finding.message,
        steps=[StepRef(s, STEPS.get(s, "")) for s in finding.guide_steps],
        events=finding.events,
        first_seen=_when(finding.first_seen),
        last_seen=_when(finding.last_seen),
        cycles=len(finding.cycles),
        remediation=finding.remediation,
        affected=[
            AffectedRow(a.id, a.type, a.display_name or "", a.events) for a in shown_affected
        ],
        affected_more=max(0, len(finding.affected) - len(shown_affected)),
        evidence=[
            EvidenceRow(
                time=e.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                cycle=(e.cycle_id or "")[:8],
                action=e.action or "",
                status=e.status or "",
                error_code=e.error_code or "",
                http_status=str(e.http_status) if e.http_status is not None else "",
                reason=_short(e.reason or "", 200),
            )
            for e in evidence
        ],
        evidence_more=max(0, finding.events - len(evidence)),
        change=change,
    )


def _cycle_rows(cycles: pl.DataFrame, halted: set[str]) -> list[CycleRow]:
    return [
        CycleRow(
            start=row["start"].strftime("%Y-%m-%d %H:%M"),
            duration=_duration(row["duration"]),
            events=row["events"],
            success=row["success"],
            failure=row["failure"],
            skipped=row["skipped"],
            halted="halted" if row["cycle_id"] in halted else "",
            cycle_id=row["cycle_id"] or "(none)",
        )
        for row in cycles.tail(CYCLE_ROWS).iter_rows(named=True)
    ]


def _input_notes(dataset: Dataset) -> list[str]:
    notes = list(dataset.notes)
    if dataset.problems:
        notes.append(f"{len(dataset.problems):,} input record(s) could not be read and are "
                     "not counted")
    if dataset.duplicates:
        notes.append(f"{dataset.duplicates:,} duplicate event(s) counted once")
    return notes


# ---------------------------------------------------------------------------- charts


def _buckets(events: pl.DataFrame, period: Period | None) -> tuple[pl.Expr, str]:
    """Per day when the report spans two days or more, else per cycle (labelled by its start)."""
    first, last = events["activity_time"].min(), events["activity_time"].max()
    span = period.length if period else (last - first if first else timedelta(0))
    if span >= timedelta(days=2):
        return pl.col("activity_time").dt.strftime("%Y-%m-%d"), "day"
    start = pl.col("activity_time").min().over("cycle_id").dt.strftime("%m-%d %H:%M")
    return start, "cycle"


def _charts(
    events: pl.DataFrame, ordered: list[Finding], period: Period | None
) -> list[Chart]:
    bucket, unit = _buckets(events, period)
    bucketed = events.select("event_id", "status", "error_code", bucket.alias("bucket"))
    result = [_status_chart(bucketed, unit)]
    failures = bucketed.filter(pl.col("status") == "failure")
    if failures.height:
        result.append(_findings_chart(failures, ordered, unit))
        result.append(_error_code_chart(failures))
    return result


def _status_chart(bucketed: pl.DataFrame, unit: str) -> Chart:
    table = (
        bucketed.group_by("bucket", "status").len()
        .pivot("status", index="bucket", values="len")
        .fill_null(0)
        .sort("bucket")
    )
    statuses = [s for s in STATUS_COLORS if s in table.columns]
    statuses += sorted(c for c in table.columns if c not in STATUS_COLORS and c != "bucket")
    labels = table["bucket"].cast(pl.Utf8).fill_null("(no cycle)").to_list()
    series = {s: table[s].to_list() for s in statuses}
    title = f"Events by status per {unit}"
    return Chart(
        id="chart-status",
        title=title,
        description=f"Events per {unit}, stacked by status: {', '.join(statuses)}.",
        columns=[unit.capitalize(), *statuses],
        rows=[[label, *(f"{series[s][i]:,}" for s in statuses)] for i, label in enumerate(labels)],
        svg=charts.stacked_bars("chart-status", title, labels, series, STATUS_COLORS),
    )


def _leading_finding(failures: pl.DataFrame, ordered: list[Finding]) -> pl.DataFrame:
    """Each failure with the first finding (in guide order) that explains it, else unexplained."""
    names = [f"{f.rule_id} {f.title}" for f in ordered]
    ids: list[str] = []
    ranks: list[int] = []
    for rank, finding in enumerate(ordered):
        ids.extend(finding.event_ids)
        ranks.extend([rank] * len(finding.event_ids))
    explained = (
        pl.DataFrame({"event_id": ids, "rank": ranks}, schema={"event_id": pl.Utf8,
                                                                "rank": pl.Int32})
        .sort("rank")
        .unique("event_id", keep="first")
    )
    return failures.join(explained, on="event_id", how="left").with_columns(
        pl.col("rank")
        .replace_strict(list(range(len(names))), names, default="unexplained",
                        return_dtype=pl.Utf8)
        .alias("finding")
    )


def _findings_chart(failures: pl.DataFrame, ordered: list[Finding], unit: str) -> Chart:
    labelled = _leading_finding(failures, ordered)
    totals = labelled.group_by("finding").len().sort(["len", "finding"], descending=[True, False])
    named = [f for f in totals["finding"].to_list() if f != "unexplained"][:FINDING_SERIES]
    labelled = labelled.with_columns(
        pl.when(pl.col("finding").is_in(named) | (pl.col("finding") == "unexplained"))
        .then(pl.col("finding"))
        .otherwise(pl.lit("other findings"))
        .alias("finding")
    )
    table = (
        labelled.group_by("bucket", "finding").len()
        .pivot("finding", index="bucket", values="len")
        .fill_null(0)
        .sort("bucket")
    )
    order = [n for n in [*named, "other findings", "unexplained"] if n in table.columns]
    labels = table["bucket"].cast(pl.Utf8).fill_null("(no cycle)").to_list()
    series = {n: table[n].to_list() for n in order}
    colors = {n: charts.PALETTE[i % len(charts.PALETTE)] for i, n in enumerate(named)}
    colors.update({"other findings": "#555555", "unexplained": charts.GREY})
    legend = {n: _short(n, 45) for n in order}
    title = f"Failures by finding per {unit}"
    return Chart(
        id="chart-findings",
        title=title,
        description=(
            f"Failed events per {unit}, each counted once under the first finding "
            "(in guide order) that explains it."
        ),
        columns=[unit.capitalize(), *order],
        rows=[[label, *(f"{series[n][i]:,}" for n in order)] for i, label in enumerate(labels)],
        svg=charts.stacked_bars(
            "chart-findings", title, labels,
            {legend[n]: v for n, v in series.items()},
            {legend[n]: c for n, c in colors.items() if n in legend},
            ylabel="failed events",
        ),
    )


def _error_code_chart(failures: pl.DataFrame) -> Chart:
    top = (
        failures.group_by(pl.col("error_code").fill_null("(no error code)")).len()
        .sort(["len", "error_code"], descending=[True, False])
        .head(TOP_ERROR_CODES)
    )
    labels, values = top["error_code"].to_list(), top["len"].to_list()
    title = "Top error codes"
    return Chart(
        id="chart-error-codes",
        title=title,
        description=f"The {len(labels)} most frequent error codes among failed events.",
        columns=["Error code", "Failed events"],
        rows=[[label, f"{value:,}"] for label, value in zip(labels, values, strict=True)],
        svg=charts.horizontal_bars("chart-error-codes", title, labels, values, "failed events"),
    )


# ---------------------------------------------------------------------------- comparison


def _brief(finding: Finding | None, other: Finding | None) -> FindingBrief:
    shown = finding or other
    assert shown is not None
    return FindingBrief(
        rule_id=shown.rule_id,
        title=shown.title,
        severity=shown.severity,
        message=shown.message,
        events_before=other.events if other else 0,
        events_now=finding.events if finding else 0,
    )


def _comparison(current: Analysis, previous: Analysis) -> Comparison:
    now = {f.rule_id: f for f in order_findings(current.diagnosis.findings)}
    before = {f.rule_id: f for f in order_findings(previous.diagnosis.findings)}
    rate_now = _failure_rate(current.dataset.frames.events)
    rate_before = _failure_rate(previous.dataset.frames.events)
    points = 100 * (rate_now - rate_before)
    if previous.dataset.frames.events.height == 0:
        change = "no events in the previous period"
    elif abs(points) < 0.05:
        change = "unchanged"
    else:
        change = f"{'up' if points > 0 else 'down'} {abs(points):.1f} percentage points"
    prev_events = previous.dataset.frames.events.height
    return Comparison(
        previous_period=(
            f"{_when(previous.period.start)} to {_when(previous.period.end)}"
            if previous.period else ""
        ),
        previous_events=prev_events,
        failure_rate_before=f"{100 * rate_before:.1f}%" if prev_events else "n/a",
        failure_rate_now=f"{100 * rate_now:.1f}%",
        failure_rate_change=change,
        new=[_brief(f, None) for r, f in now.items() if r not in before],
        resolved=[FindingBrief(f.rule_id, f.title, f.severity, f.message, f.events, 0)
                  for r, f in before.items() if r not in now],
        ongoing=[_brief(f, before[r]) for r, f in now.items() if r in before],
    )


# ---------------------------------------------------------------------------- rendering


_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$])")
_LINE_BREAKS = re.compile(r"[\r\n\t\x0b\x0c]+")
_FORMULA_START = ("=", "+", "-", "@")


def neutralise_formula(text: str) -> str:
    """A cell starting like a formula (``=HYPERLINK(...)``) gets a quote, as OWASP advises."""
    return "'" + text if text.lstrip().startswith(_FORMULA_START) else text


def md_escape(value: Any) -> str:
    """One line of literal Markdown text: safe in a table cell, heading or paragraph."""
    text = _LINE_BREAKS.sub(" ", str(value))
    text = "".join(ch for ch in text if ch >= " " or ch == " ")
    return _MD_SPECIAL.sub(r"\\\1", neutralise_formula(text))


def _display(value: Any, escape: Callable[[str], str]) -> Any:
    """Shared ``finalize``: numbers with separators, None as empty, strings through escape."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        return escape(value)
    return value


def _html_finalize(value: Any) -> Any:
    if isinstance(value, markupsafe.Markup):
        return value
    return _display(value, neutralise_formula)


def _md_finalize(value: Any) -> Any:
    return _display(value, md_escape)


def _environment(autoescape: bool, finalize: Callable[[Any], Any]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        finalize=finalize,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plural"] = lambda n, noun: f"{n:,} {noun}{'' if n == 1 else 's'}"
    return env


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG, no script, no external resource."""
    template = _environment(True, _html_finalize).get_template("report.html.j2")
    charts_svg = {c.id: markupsafe.Markup(c.svg) for c in report.charts}  # produced by charts.py
    return template.render(report=report, svg=charts_svg)


def render_markdown(report: Report) -> str:
    """GitHub / Azure DevOps / Jira flavoured Markdown: headings and tables, no raw HTML."""
    return _environment(False, _md_finalize).get_template("report.md.j2").render(report=report)
