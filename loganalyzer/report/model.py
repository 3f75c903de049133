"""The report model: one period's events and diagnosis (and the period before), ready to lay out.

The model holds everything a reader sees, already ordered, formatted and capped, so the two
templates in ``report_templates/`` are twins that only lay it out (``report_render.py``).
Values from the logs stay raw here; the renderers escape them. Every aggregate is a Polars
expression over the whole frame: no Python loop runs per event.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import polars as pl

from diagnostics.facts.job_status import JobStatus, graph_time, is_never
from diagnostics.guide_steps import STEPS
from loganalyzer import __version__
from loganalyzer.config.check import ConfigResult
from loganalyzer.engine import in_report_order
from loganalyzer.findings import (
    NO_ERROR_CODE,
    Diagnosis,
    Finding,
    UnexplainedGroup,
    severity_rank,
)
from loganalyzer.ingest import Dataset
from loganalyzer.normalize import RESULT_ORDINALS, UNKNOWN_STATUS, Table
from loganalyzer.periods import Period, Window, time_range, unfetched, unfetched_text
from loganalyzer.report.charts import Chart, build_charts
from loganalyzer.summary import cycle_table
from loganalyzer.textsafe import clipped
from loganalyzer.verdict import counted_anyway, no_findings_sentence, severity_counts, verdict
from loganalyzer.wording import moment, plural, verb

EVIDENCE_ROWS = 10
AFFECTED_ROWS = 25
CYCLE_ROWS = 60


# ---------------------------------------------------------------------------- the model


@dataclass
class KeyFigure:
    label: str
    value: str  # as the pages show it: "1,204", "25.5%", "median 1.7 min"
    note: str = ""
    # the value as a number, for the workbook, where admins sort and chart it: a count, or
    # with ``share`` a fraction of one (0.255 for "25.5%"); None where the value is words
    number: int | float | None = None
    share: bool = False


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
    cycle: str  # its first 8 characters, as the pages show it
    action: str
    status: str
    error_code: str
    http_status: str
    reason: str
    # in full, for a support case (the workbook): Microsoft asks for cycle and change ids
    cycle_id: str = ""
    change_id: str = ""
    activity_id: str = ""


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
    affected: list[AffectedRow]  # everyone, most events first (the workbook lists them all)
    evidence: list[EvidenceRow]  # the rule's sample, at most EVIDENCE_ROWS
    evidence_more: int
    change: str = ""  # "new" or "ongoing" in a comparison, else ""
    kind: str = "cause"  # cause, consequence, noise, error
    caused_by: str = ""  # a consequence's causes: "FC004 Flowcase rejects ... (12 failures)"

    @property
    def shown_affected(self) -> list[AffectedRow]:
        """The people HTML and Markdown list; the rest are counted (``affected_more``)."""
        return self.affected[:AFFECTED_ROWS]

    @property
    def affected_more(self) -> int:
        return max(0, len(self.affected) - AFFECTED_ROWS)


@dataclass
class CycleRow:
    start: str
    duration: str
    length: timedelta | None  # the duration as a time span, for the workbook to sort and sum
    events: int
    success: int
    failure: int
    skipped: int
    other: int  # warnings and unknown statuses: the row adds up to its events
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
class UnexplainedSkipRow:
    skip_reason: str
    count: int
    affected: int
    sample_text: str


@dataclass
class SuppressedRow:
    """A finding accepted with --ignore or a baseline: listed, not counted."""

    rule_id: str
    severity: str
    title: str
    events: int
    affected: int
    source: str


@dataclass
class RuleRow:
    rule_id: str
    title: str
    severity: str
    steps: str
    kind: str


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
    # the input begins after the previous period did: a finding not seen before may still
    # have been there, so none is called new ("" when the whole period is in the input)
    partial: str = ""
    # the failure rates as numbers (per cent; None: no events), for the JSON
    failure_percent_before: float | None = None
    failure_percent_now: float | None = None
    # findings of the period before that a period without events could not show again: not
    # seen, but not shown fixed either, so not resolved (a quiet week provisions nothing)
    not_retested: list[FindingBrief] = field(default_factory=list)
    # why nothing is called resolved: this period has no events ("" when it has)
    quiet: str = ""

    @property
    def quiet_label(self) -> str:
        """What every output puts before ``quiet``: a finding mended in the period before (its
        users succeeded later) is resolved all the same."""
        return ("Only the mended findings are called resolved" if self.resolved
                else "No finding is called resolved")


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
    findings: list[FindingView]  # low severity and above
    notices: list[FindingView]  # info: expected noise, rules that could not run
    charts: list[Chart]
    cycles: list[CycleRow]  # every cycle, oldest first (the workbook lists them all)
    unexplained: list[UnexplainedRow]
    unexplained_failures: int
    rules: list[RuleRow]
    rule_errors: list[str]
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)
    redacted: bool = False
    selection: str = ""  # what was asked of Graph (--graph), else ""
    no_events: bool = False  # a quiet period: normal when nothing changed in Entra
    configuration: ConfigResult | None = None  # with --config, or --graph and an app
    other_apps: str = ""  # "412 events of 3 other apps not diagnosed: Box 300, ..."
    unexplained_skips: list[UnexplainedSkipRow] = field(default_factory=list)
    finding_counts: str = ""  # "1 critical, 2 medium" (suppressed ones not counted)
    no_findings: str = ""  # what the findings section says when every finding is accepted
    suppressed: list[SuppressedRow] = field(default_factory=list)
    failures: int = 0  # failed events of the period (explained, accepted or not)
    events: int = 0  # events of the period (the workbook's comparison puts it beside before's)
    unexplained_warnings: list[UnexplainedRow] = field(default_factory=list)  # did not fail

    @property
    def recent_cycles(self) -> list[CycleRow]:
        """The cycles HTML and Markdown list; the earlier ones are counted (``cycles_more``)."""
        return self.cycles[-CYCLE_ROWS:]

    @property
    def cycles_more(self) -> int:
        return max(0, len(self.cycles) - CYCLE_ROWS)


@dataclass
class Analysis:
    """One period's events and what the rulebook said about them."""

    dataset: Dataset
    diagnosis: Diagnosis
    period: Period | None = None
    cut_off: list[str] = field(default_factory=list)  # the inputs cut where it may have events


# ---------------------------------------------------------------------------- building


def build_report(
    current: Analysis,
    previous: Analysis | None = None,
    *,
    title: str | None = None,
    job_status: JobStatus | None = None,
    configuration: ConfigResult | None = None,
    generated_at: datetime | None = None,
    selection: str = "",
    other_apps: str = "",
    input_covers: list[Window] | None = None,
) -> Report:
    """The report of one period, compared with the one before when ``previous`` is given.
    ``input_covers``: the stretches of time the input covers, in order, when they may miss
    part of the previous period (an export's span; the windows fetched, with the days between
    them; for a live fetch, the days Graph keeps).

    A period without events still gets a full report (zero figures, no findings): Entra logs
    only changes, so a quiet week of a healthy job has none. ``selection`` says what was asked
    of Graph, as the events cannot say which app or job a quiet report is about.
    ``configuration`` counts in the verdict; the caller shows it (redacted or not).
    """
    events = current.dataset.frames.events
    count = current.dataset.frames.event_count()
    diagnosis = current.diagnosis
    ordered = in_report_order(diagnosis.findings)
    cycles = cycle_table(events)
    accepted = [s.finding for s in diagnosis.suppressed]  # still facts of the period
    halted = _halted_cycles(diagnosis.findings + accepted)
    before = {f.rule_id for f in _all_findings(previous)} if previous else None
    partial = _partial(previous, input_covers or []) if previous else ""
    views = [_finding_view(f, _change(f, before, bool(partial))) for f in ordered]
    # a quiet period cannot name its tenant, app and job; the period before may
    named = previous.dataset.frames.events if previous and not count else events
    apps = _values(named, "app_name")
    comparison = _comparison(current, previous, partial) if previous else None
    health = verdict(diagnosis, job_status, configuration, cut_off=current.cut_off,
                     not_retested=loud_not_retested(comparison, previous))
    return Report(
        title=title or f"Provisioning report: {', '.join(apps) or 'Flowcase SCIM'}",
        tenants=_values(named, "tenant_id"),
        apps=apps,
        jobs=_values(named, "job_id"),
        period=_period_text(events, current.period),
        generated_at=_when(generated_at or datetime.now(UTC)),
        tool_version=__version__,
        verdict=health.state,
        verdict_reason=health.sentence,
        finding_counts=severity_counts(diagnosis.findings),
        no_findings=no_findings_sentence(diagnosis),
        suppressed=[
            SuppressedRow(s.finding.rule_id, s.finding.severity, s.finding.title,
                          s.finding.events, len(s.finding.affected), s.source)
            for s in diagnosis.suppressed
        ],
        figures=_key_figures(current, cycles, halted, job_status),
        findings=[v for v in views if v.severity != "info"],
        notices=[v for v in views if v.severity == "info"],
        charts=(build_charts(events, diagnosis.findings, current.period, accepted) if count
                else []),
        cycles=_cycle_rows(cycles, halted),
        unexplained=_unexplained_rows(diagnosis.unexplained),
        unexplained_failures=sum(u.count for u in diagnosis.unexplained),
        events=count,
        failures=events.lazy().filter(pl.col("status") == "failure").select(pl.len())
        .collect().item(),
        rules=[
            RuleRow(r.rule_id, r.title, r.severity, ", ".join(r.guide_steps) or "none", r.kind)
            for r in sorted(diagnosis.rules_run, key=lambda r: r.rule_id)
        ],
        rule_errors=list(diagnosis.rule_errors),
        comparison=comparison,
        notes=current.dataset.input_notes() + diagnosis.notes,
        selection=selection,
        no_events=count == 0,
        other_apps=other_apps,
        unexplained_skips=[
            UnexplainedSkipRow(u.skip_reason, u.count, u.affected,
                               clipped(u.sample_text or "", 300))
            for u in diagnosis.unexplained_skips
        ],
        unexplained_warnings=_unexplained_rows(diagnosis.unexplained_warnings),
    )


def _unexplained_rows(groups: list[UnexplainedGroup]) -> list[UnexplainedRow]:
    """Unexplained failures or warnings as table rows, most first."""
    return [
        UnexplainedRow(
            error_code=u.error_code or NO_ERROR_CODE,
            http_status=str(u.http_status) if u.http_status is not None else "",
            count=u.count,
            affected=u.affected,
            sample_reason=clipped(u.sample_reason or "", 300),
        )
        for u in sorted(groups, key=lambda u: -u.count)
    ]


def _change(finding: Finding, before: set[str] | None, partial: bool) -> str:
    if before is None:
        return ""
    return "ongoing" if finding.rule_id in before else "" if partial else "new"


def _partial(previous: Analysis, input_covers: list[Window]) -> str:
    """Why the previous period is only partly known, or "": days of it between two windows
    fetched, or the input beginning late in it. An export seldom begins with an event at
    the very start of the period (Entra logs changes only), so it must miss more than a
    quarter of it to count as partial."""
    period = previous.period
    if period is None or not input_covers:
        return ""
    if gaps := unfetched(period, input_covers):
        return f"{unfetched_text(gaps)}, in the previous period"
    input_start = input_covers[0][0]
    if input_start - period.start <= period.length / 4:
        return ""
    if input_start >= period.end:
        return f"the input begins at {_when(input_start)}, after the previous period ended"
    return (f"the input begins at {_when(input_start)}, "
            f"{_length(input_start - period.start)} into the previous period")


def _length(delta: timedelta) -> str:
    hours = delta // timedelta(hours=1)
    return plural(hours // 24, "day") if hours >= 48 else plural(hours, "hour")


def _values(events: Table, column: str) -> list[str]:
    found = events.lazy().select(pl.col(column).drop_nulls().unique().sort()).collect()
    return found[column].to_list()


def _when(when: datetime | None) -> str:
    return moment(when) if when else ""


def _when_text(text: str | None) -> str:
    """A Graph timestamp string shown like the others, in UTC whatever offset it carries;
    '' for none and Graph's 0001-01-01 sentinel (never), the text itself when unreadable."""
    when = graph_time(text)
    if when is None and is_never(text):
        return ""
    return _when(when) if when else text or ""


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def _duration(delta: timedelta | None, scale: timedelta | None = None) -> str:
    """``delta`` in s, min or h, the unit chosen for ``scale`` (default ``delta`` itself): the
    figures of one line share the unit of its largest ("median 1.7 min (longest 3.1 min)")."""
    if delta is None:
        return ""
    seconds = delta.total_seconds()
    largest = (scale or delta).total_seconds()
    if largest < 120:
        return f"{seconds:.0f} s"
    if largest < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def _period_text(events: Table, period: Period | None) -> str:
    oldest, newest = time_range(events)
    seen = f"events from {_when(oldest)} to {_when(newest)}" if oldest else "no events"
    if period is None:
        return seen
    return f"{_when(period.start)} to {_when(period.end)} ({seen})"


def _failure_rate(events: Table) -> float:
    rate = events.lazy().select((pl.col("status") == "failure").mean()).collect().item()
    return float(rate) if rate is not None else 0.0


def _halted_cycles(findings: list[Finding]) -> set[str]:
    """Cycles a rule reports as halted (``details["halted_cycles"]``, e.g. by group 404s)."""
    return {c for f in findings for c in f.details.get("halted_cycles", [])}


def _key_figures(
    current: Analysis,
    cycles: pl.DataFrame,
    halted: set[str],
    job_status: JobStatus | None,
) -> list[KeyFigure]:
    events = current.dataset.frames.events.lazy()
    counts = dict(events.group_by("status").len().collect().iter_rows())
    total = sum(counts.values())
    # unknownFutureValue and other unknown values with the missing ones: the rates add up
    counts[UNKNOWN_STATUS] = total - sum(counts.get(s, 0) for s in RESULT_ORDINALS.values())
    key, is_user = pl.col("identity_key"), pl.col("object_type") == "User"
    seen_users, failed_users = events.select(
        key.filter(is_user).n_unique(),
        key.filter(is_user & (pl.col("status") == "failure")).n_unique().alias("failed"),
    ).collect().row(0)

    def count(label: str, n: int, note: str = "") -> KeyFigure:
        return KeyFigure(label, f"{n:,}", note, n)

    def share(label: str, status: str, note: str = "") -> KeyFigure:
        n = counts.get(status, 0)
        return KeyFigure(label, _rate(n, total), f"{plural(n, 'event')}{note}",
                         n / total if total else None, share=True)

    durations = cycles["duration"]
    longest = durations.max()
    figures = [
        count("Events", total),
        share("Success rate", "success"),
        share("Failure rate", "failure"),
        share("Skip rate", "skipped", "; not failures (the findings name the skips that need "
                                      "action)"),
        count("Users affected", failed_users, f"with a failed event, of {seen_users:,} users seen"),
        count("Cycles run", cycles.height),
        # words, not a number: a median and the longest (the workbook's Cycles sheet has
        # each cycle's duration as a time)
        KeyFigure(
            "Cycle duration",
            f"median {_duration(durations.median(), longest)}" if cycles.height else "n/a",
            f"longest {_duration(longest)}" if cycles.height else "",
        ),
        count("Halted cycles", len(halted),
              "stopped early by failures that block the cycle" if halted else ""),
    ]
    if counts.get("warning"):
        figures.insert(4, share("Warning rate", "warning"))
    if counts.get(UNKNOWN_STATUS):  # the rates add up to 100% only with these
        figures.insert(4, share("Unknown status", UNKNOWN_STATUS,
                                "; the export does not say whether they succeeded"))
    if job_status is not None:
        figures.append(_quarantine_figure(job_status))
    return figures


def _quarantine_figure(job: JobStatus) -> KeyFigure:
    if not job.quarantined:
        return KeyFigure("Quarantine", "not quarantined", f"job status {job.code or 'unknown'}")
    began = _when_text(job.quarantine_since)
    said = [f"since {began}"] if began else []
    if job.disabled_around:
        said.append(f"disabled around {_when(job.disabled_around)} unless a cycle succeeds")
    return KeyFigure("Quarantine", "in quarantine", "; ".join(said))


def _finding_view(finding: Finding, change: str) -> FindingView:
    affected = sorted(finding.affected, key=lambda a: (-a.events, a.id))
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
        affected=[AffectedRow(a.id, a.type, a.display_name or "", a.events) for a in affected],
        evidence=[
            EvidenceRow(
                time=e.time.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                cycle=(e.cycle_id or "")[:8],
                action=e.action or "",
                status=e.status or "",
                error_code=e.error_code or "",
                http_status=str(e.http_status) if e.http_status is not None else "",
                reason=clipped(e.reason or "", 200),
                cycle_id=e.cycle_id or "",
                change_id=e.change_id or "",
                activity_id=e.event_id,
            )
            for e in evidence
        ],
        evidence_more=max(0, finding.events - len(evidence)),
        change=change,
        kind=finding.kind,
        caused_by="; ".join(finding.details.get("caused_by") or [])
        if finding.kind == "consequence" else "",
    )


def _cycle_rows(cycles: pl.DataFrame, halted: set[str]) -> list[CycleRow]:
    return [
        CycleRow(
            start=row["start"].strftime("%Y-%m-%d %H:%M"),
            duration=_duration(row["duration"]),
            length=row["duration"],
            events=row["events"],
            success=row["success"],
            failure=row["failure"],
            skipped=row["skipped"],
            other=row["events"] - row["success"] - row["failure"] - row["skipped"],
            halted="halted" if row["cycle_id"] in halted else "",
            cycle_id=row["cycle_id"] or "(none)",
        )
        for row in cycles.iter_rows(named=True)
    ]


# ---------------------------------------------------------------------------- comparison


def _by_rule(findings: list[Finding]) -> dict[str, FindingBrief]:
    """One line per rule (a rule may report several findings, e.g. one per department)."""
    grouped: dict[str, list[Finding]] = defaultdict(list)
    for finding in in_report_order(findings):
        grouped[finding.rule_id].append(finding)
    briefs = {}
    for rule_id, group in grouped.items():
        first = group[0]
        more = f" (and {plural(len(group) - 1, 'more finding')} of this rule)" if group[1:] else ""
        briefs[rule_id] = FindingBrief(
            rule_id, first.title, first.severity, first.message + more, 0,
            sum(f.events for f in group),
        )
    return briefs


def _affected(rule_id: str, findings: list[Finding]) -> dict[str, str]:
    """Id -> type of everyone a rule's findings name."""
    return {a.id: a.type for f in findings if f.rule_id == rule_id for a in f.affected}


def _newly_affected(rule_id: str, now: list[Finding], before: list[Finding]) -> str:
    """For a finding that carries over: whether the same people still fail or others do now
    (the same rule fires for a new department, or for new hires)."""
    affected = _affected(rule_id, now)
    if not affected:
        return ""
    types = set(affected.values())
    noun = "user" if types == {"User"} else "group" if types == {"Group"} else "object"
    new, count = len(affected.keys() - _affected(rule_id, before).keys()), len(affected)
    if not new:
        return f" (the same {plural(count, 'affected ' + noun)} as before)"
    if new == count:
        return f" ({'the' if count == 1 else 'all'} {plural(count, 'affected ' + noun)} " \
               f"{verb(count, 'is', 'are')} new since the previous period)"
    return f" ({new:,} of the {plural(count, 'affected ' + noun)} " \
           f"{verb(new, 'is', 'are')} new since the previous period)"


def _all_findings(analysis: Analysis) -> list[Finding]:
    """A period's findings, accepted ones too: whether a finding is new is a fact of the logs,
    and one accepted last week that fires again this week (one more person) is not new."""
    return analysis.diagnosis.findings + [s.finding for s in analysis.diagnosis.suppressed]


def _comparison(current: Analysis, previous: Analysis, partial: str) -> Comparison:
    now = _by_rule(current.diagnosis.findings)
    before = _by_rule(_all_findings(previous))
    prev_events = previous.dataset.frames.event_count()
    now_events = current.dataset.frames.event_count()
    rate_now = _failure_rate(current.dataset.frames.events)
    rate_before = _failure_rate(previous.dataset.frames.events)
    points = _points(rate_now, rate_before)
    if not prev_events:
        change = "nothing to compare with, the previous period has no events"
    elif not now_events:
        change = "nothing to compare with, this period has no events"
    elif abs(points) < 0.05:
        change = "unchanged"
    else:
        change = f"{'up' if points > 0 else 'down'} {abs(points):.1f} percentage points"
    if partial and prev_events and now_events:  # the rate before is of a part of the period
        change += " (before: only the part of the previous period the input holds)"
    for rule_id, brief in now.items():
        brief.events_before = before[rule_id].events_now if rule_id in before else 0
        if rule_id in before and not partial:  # who is new is not known either
            brief.message += _newly_affected(rule_id, current.diagnosis.findings,
                                             _all_findings(previous))
    accepted = {s.finding.rule_id for s in current.diagnosis.suppressed}  # still firing
    gone = [
        FindingBrief(b.rule_id, b.title, b.severity, b.message, b.events_now, 0)
        for rule_id, b in before.items()
        if rule_id not in now and rule_id not in accepted
    ]
    mended = _mended_rules(_all_findings(previous))  # shown fixed by a later success
    untested = [b for b in gone if b.rule_id not in mended]
    quiet = _why_not_resolved(untested) if not now_events else ""
    period = previous.period
    return Comparison(
        previous_period=f"{_when(period.start)} to {_when(period.end)}" if period else "",
        previous_events=prev_events,
        failure_rate_before=f"{100 * rate_before:.1f}%" if prev_events else "n/a",
        failure_rate_now=f"{100 * rate_now:.1f}%" if now_events else "n/a",
        failure_rate_change=change,
        new=[] if partial else [b for r, b in now.items() if r not in before],
        resolved=[b for b in gone if not quiet or b.rule_id in mended],
        ongoing=[b for r, b in now.items() if r in before],
        partial=partial,
        failure_percent_before=round(100 * rate_before, 1) if prev_events else None,
        failure_percent_now=round(100 * rate_now, 1) if now_events else None,
        not_retested=untested if quiet else [],
        quiet=quiet,
    )


def _points(rate_now: float, rate_before: float) -> float:
    """The change of the failure rate, of the two rates as the report shows them (one
    decimal): "14.0% before, 17.9% now" is up 3.9 points, not the 3.8 of the exact rates,
    which the reader (and a script reading ``failure_percent_*``) cannot make add up."""
    return round(100 * rate_now, 1) - round(100 * rate_before, 1)


def _mended_rules(findings: list[Finding]) -> set[str]:
    """The rules whose findings were all mended (``engine``: every user they are about
    succeeded later): fixed, and shown so, even when the period after has no events."""
    return {f.rule_id for f in findings} - {f.rule_id for f in findings if not f.mended}


def loud_not_retested(comparison: Comparison | None, previous: Analysis | None) -> list[str]:
    """The high and critical rules of the period before that a period without events did
    not retest (``verdict``: not healthy), of those its own verdict counted: one accepted
    (``--ignore``, a baseline) does not count unless half its events failed
    (``verdict.counted_anyway``)."""
    if comparison is None or previous is None:
        return []
    counted = [f for f in previous.diagnosis.findings if not f.mended]
    counted += [s.finding for s in counted_anyway(previous.diagnosis)]
    loud = {f.rule_id for f in counted if severity_rank(f.severity) <= severity_rank("high")}
    return [b.rule_id for b in comparison.not_retested if b.rule_id in loud]


def _why_not_resolved(gone: list[FindingBrief]) -> str:
    """Why the previous period's findings, not seen in a period without events, are not called
    resolved ("" when there are none): nothing was provisioned, so nothing could fail again or
    succeed. A quiet week after a failing one is not a fixed one; a test of a user is."""
    if not gone:
        return ""
    return (f"nothing was provisioned in this period, so the previous period's "
            f"{plural(len(gone), 'finding')} {verb(len(gone), 'was', 'were')} not retested "
            f"(not seen again, but not shown to be fixed either; loganalyzer retest, Provision "
            f"on demand in guide step 8a, tests an affected user now)")
