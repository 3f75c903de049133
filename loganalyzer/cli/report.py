"""The `report` command: options -> period(s) -> diagnosis -> report model -> HTML, Markdown,
Excel or the JSON of the diagnosis, as many as `-o` names, from one analysis.

A period without events is reported, not refused: Entra logs only changes, so a quiet week of
a healthy job has none, and the weekly job must not fail for it. With files the period must
still meet the input's events (``choose_period``): one that misses them all is exit 2.

Exit codes: 0 written; 1 written, and a finding is at or above ``--fail-on``; 2 unusable input
or options (one line naming the file or option); 3 Graph unavailable (with ``--graph``).
"""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from diagnostics.facts.job_status import JobStatus
from loganalyzer import accept
from loganalyzer.cli.check import ConfigDir, config_for, with_drift
from loganalyzer.cli.common import Quiet, app, err, fail_input, flowcase_only
from loganalyzer.cli.console import progress_bar
from loganalyzer.cli.fetch import FetchWindow
from loganalyzer.cli.graph_inputs import GraphSource, InputsOrGraph, load_for_analysis
from loganalyzer.cli.options import AcceptOptions, FailOn, JobStatusOption, with_options
from loganalyzer.cli.outputs import Format, output_options, targets, write
from loganalyzer.cli.preload import preload
from loganalyzer.config.check import to_json as config_json
from loganalyzer.config.with_logs import configured_job, confirm, without_people
from loganalyzer.engine import diagnose
from loganalyzer.findings import Diagnosis, to_json
from loganalyzer.graph import query
from loganalyzer.graph.query import RETENTION, QueryError, resolve_window
from loganalyzer.graph.state import fetched_windows
from loganalyzer.ingest import Dataset
from loganalyzer.job_status_file import logged_jobs, other_job_notes, read_job_status
from loganalyzer.normalize import Frames
from loganalyzer.periods import (
    DEFAULT_SINCE,
    Period,
    Window,
    choose_period,
    covered,
    parse_bound,
    parse_since,
    period_note,
    select,
    stale_note,
)
from loganalyzer.problems import InputError
from loganalyzer.report.model import Analysis, Comparison, build_report, loud_not_retested
from loganalyzer.report.redact import identity_attributes, redact_report
from loganalyzer.report.redaction_key import made_key
from loganalyzer.verdict import fails_at, verdict


def _graph_window(since: str | None, start: str | None, end: str | None,
                  compare: bool) -> FetchWindow:
    """What to fetch (since, from, to): the period, and the one before it with --compare-previous.
    """
    if since:
        hours = parse_since(since) * (2 if compare else 1) // timedelta(hours=1)
        return FetchWindow(f"{hours}h")
    if not (start or end):
        return FetchWindow()
    first = parse_bound("--from", start, end_of_day=False) if start else None
    last = parse_bound("--to", end, end_of_day=True) if end else None
    if compare:
        if first is None:  # a bare --to: the period is the default length before it
            first = last - parse_since(DEFAULT_SINCE)
        first -= (last or query.graph_clock()) - first
    return FetchWindow(None, first and first.isoformat(), last and last.isoformat())


def _graph_period(since: str | None, start: str | None, end: str | None,
                  frames: Frames) -> Period | None:
    """The period of a live fetch: from the clock and the options as the fetch counted it, not
    from the events (there may be none). Without period options: None (everything fetched),
    or with no event at all the window fetched, so the report still says which days were quiet.
    """
    if not (since or start or end) and frames.event_count():
        return None
    try:
        window = resolve_window(since, start, end, query.graph_clock())
    except QueryError as exc:
        raise InputError("--from/--to", str(exc)) from None
    return Period(window.start, window.end)


def _input_covers(graph: GraphSource, frames: Frames, fetched: list[Window]) -> list[Window]:
    """What was read covers: an export the span of its events, a folder ``fetch`` wrote the
    windows it asked Graph for (days without events are quiet there, not missing, as with
    --graph; days between two windows are missing); with --graph the days Graph still keeps
    (30 days back). A previous period beyond it (--since 4w --compare-previous) is known to
    be partly missing, not taken as quiet, which named every finding of the period new."""
    if graph.enabled:
        now = query.graph_clock()
        return [(now - RETENTION, now)]
    return covered(frames.events, fetched)


def _analyse(dataset: Dataset, period: Period | None, job: JobStatus | None,
             quiet: bool = True) -> Analysis:
    frames = select(dataset.frames, period) if period else dataset.frames
    selected = dataclasses.replace(dataset, frames=frames)
    with progress_bar(quiet, echo_last=False) as progress:
        return Analysis(selected, diagnose(frames, job, progress), period,
                        dataset.cut_within(period))


def _period_json(period: Period | None, comparison: Comparison | None) -> dict:
    """The period asked for and, with --compare-previous, what changed since the one before:
    what a scheduled job acts on ("a new finding this week")."""
    if period is None:
        return {}
    found: dict = {"period": _bounds(period)}
    if comparison is not None:
        found["comparison"] = dataclasses.asdict(comparison) | {
            "previous_period": _bounds(period.previous())}
    return found


def _bounds(period: Period) -> dict[str, str]:
    return {"start": period.start.isoformat(), "end": period.end.isoformat()}


ReportOutput = output_options("report", (Format.html, Format.md, Format.json, Format.xlsx),
                              Format.html)


def _accepted(analysis: Analysis, diagnosis: Diagnosis) -> Analysis:
    return dataclasses.replace(analysis, diagnosis=diagnosis)


@app.command("report")
@with_options(window=FetchWindow, graph=GraphSource, out=ReportOutput, accepting=AcceptOptions)
def report_command(
    inputs: InputsOrGraph = None,
    compare_previous: Annotated[
        bool,
        typer.Option(
            "--compare-previous",
            help="Also analyse the period of the same length before: new, resolved, rate change.",
        ),
    ] = False,
    fail_on: FailOn = None,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    job_status: JobStatusOption = None,
    redact: Annotated[
        bool,
        typer.Option("--redact", help="Replace names, UPNs, emails and object ids by pseudonyms "
                     "(HTML, Markdown and Excel)."),
    ] = False,
    config_dir: ConfigDir = None,
    previous_config: Annotated[
        Path | None,
        typer.Option("--previous-config", help="An earlier configuration folder: the report "
                     "shows what changed since (configuration drift)."),
    ] = None,
    *,
    out: ReportOutput,
    window: FetchWindow,
    accepting: AcceptOptions,
    graph: GraphSource,
    quiet: Quiet = False,
) -> None:
    """Write the health report: verdict, findings, charts, cycles; HTML, Markdown, JSON or an
    Excel workbook, several from one run (-o weekly.html -o findings.json -o weekly.xlsx).

    Exit codes: 0 written, 1 written and a finding is at or above --fail-on, 2 bad input or
    options, 3 Graph unavailable (--graph).
    """
    since, start, end = window.since, window.date_from, window.date_to
    try:
        found = targets(out)
        if redact and any(t.fmt is Format.json for t in found):
            raise InputError("--redact", "applies to html, md and xlsx; the JSON keeps the ids "
                             "(write it without --redact)")
        window.check()
        acceptance = accepting.read(found)
        job = read_job_status(job_status) if job_status else None
        if compare_previous and not (since or start or end):
            raise InputError("--compare-previous", "needs a period: --since or --from/--to")
        configuration, config_notes = config_for(config_dir, graph, quiet)
        accept.accept_checks(configuration, acceptance)
        if previous_config is not None:
            configuration = with_drift(configuration, previous_config, quiet)
        fetch_window = _graph_window(since, start, end, compare_previous) if graph.enabled else None
        dataset, scoped = flowcase_only(load_for_analysis(inputs, graph, quiet, fetch_window),
                                        graph.events.app_name, inputs)
        fetched = [] if graph.enabled else fetched_windows(inputs or [])
        period = (
            _graph_period(since, start, end, dataset.frames)
            if graph.enabled
            else choose_period(dataset.frames.events, since, start, end, fetched)
        )
        job = job or configured_job(configuration,
                                    lambda: logged_jobs(dataset.frames.events))
        preload({t.fmt for t in found})  # the renderers' imports, beside the rules
        current = _analyse(dataset, period, job, quiet)
        current.diagnosis.summary["scope"] = scoped.to_json()  # the JSON says what was left out
        current = _accepted(current, accept.apply(current.diagnosis, acceptance))
        previous = _analyse(dataset, period.previous(), None) if compare_previous else None
        if previous is not None:
            previous = _accepted(previous, accept.apply(previous.diagnosis, acceptance))
        confirm(current.diagnosis.findings, configuration)
        report = build_report(current, previous, title=title, job_status=job,
                              configuration=configuration,
                              selection=graph.describe() if graph.enabled else "",
                              other_apps=scoped.note() or "",
                              input_covers=_input_covers(graph, dataset.frames, fetched))
        if not graph.enabled and (note := stale_note(period, since, datetime.now(UTC))):
            report.notes.insert(0, note)
        if period and dataset.frames.event_count() and (note := period_note(
                period, dataset.frames.events, fetched,
                not current.dataset.frames.event_count(), graph.enabled)):
            # a quiet period beside events read (files; --graph with --compare-previous), or
            # days of it not fetched: say so; a fetch with no event at all is noted by
            # load_for_analysis
            report.notes.insert(0, note)
        report.notes += other_job_notes(job, dataset.frames.events) + config_notes
        if configuration is not None:
            report.configuration = without_people(configuration) if redact else configuration
        if redact:
            report = redact_report(report, dataset.frames.events,
                                   identity_attributes(dataset.frames))
            if (made := made_key()) is not None and not quiet:
                err(f"note: made a new redaction key in {made}; later reports made with it "
                    "give the same people the same pseudonyms (see --redact in the docs)")
        health = verdict(current.diagnosis, job, configuration, cut_off=current.cut_off,
                         not_retested=loud_not_retested(report.comparison, previous))
        # jinja2 and the workbook writer: loaded by the report command only
        from loganalyzer.report.render import render_html, render_markdown
        from loganalyzer.report.xlsx import render_xlsx

        write(found, {
            Format.html: lambda: render_html(report),
            Format.md: lambda: render_markdown(report),
            Format.xlsx: lambda: render_xlsx(report),
            Format.json: lambda: json.dumps(
                to_json(dataclasses.replace(  # the notes every other output shows
                    current.diagnosis, notes=report.notes), health.to_json())
                | _period_json(current.period, report.comparison)
                | ({"configuration": config_json(configuration)} if configuration else {}),
                indent=2, ensure_ascii=False),
        }, quiet, also=accepting.baseline_file(current.diagnosis, configuration))
    except InputError as exc:
        raise fail_input(exc) from None
    if fail_on is not None and fails_at(current.diagnosis, fail_on, job, configuration,
                                        cut_off=current.cut_off):
        raise typer.Exit(1)
