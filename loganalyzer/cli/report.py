"""The `report` command: options -> period(s) -> diagnosis -> report model -> HTML or Markdown.

With ``--graph`` a period without events is reported, not refused: Entra logs only changes, so
a quiet week of a healthy job has none, and the weekly job must not fail for it. An export
without events in the period stays unusable input (exit 2).

Exit codes: 0 written; 1 written, and a finding is at or above ``--fail-on``; 2 unusable input
or options (one line naming the file or option); 3 Graph unavailable (with ``--graph``).
"""

from __future__ import annotations

import dataclasses
from contextlib import ExitStack
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from diagnostics.facts.job_status import JobStatus
from loganalyzer.cli.check import ConfigDir, config_for, with_drift
from loganalyzer.cli.common import Quiet, app, fail_input, flowcase_only, load_inputs
from loganalyzer.cli.fetch import FetchWindow, NothingFetched
from loganalyzer.cli.graph_inputs import GraphSource, InputsOrGraph, graph_inputs
from loganalyzer.cli.options import with_options
from loganalyzer.config_logs import confirm, without_people
from loganalyzer.engine import diagnose
from loganalyzer.findings import SEVERITIES
from loganalyzer.graph.query import QueryError, resolve_window
from loganalyzer.ingest import Dataset
from loganalyzer.job_status_file import JobStatusOption, read_job_status
from loganalyzer.normalize import Frames
from loganalyzer.periods import Period, choose_period, parse_bound, parse_since, select
from loganalyzer.problems import InputError
from loganalyzer.report.model import Analysis, build_report, fails_at
from loganalyzer.report.redact import redact_report
from loganalyzer.report.render import RENDERERS


def _format(fmt: str | None, output: Path | None) -> str:
    if fmt is None:
        fmt = "md" if output is not None and output.suffix.lower() == ".md" else "html"
    if fmt not in RENDERERS:
        raise InputError("--format", f"expected one of {', '.join(RENDERERS)}, got {fmt!r}")
    return fmt


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
    if compare and first is not None:
        first -= (last or datetime.now(UTC)) - first
    return FetchWindow(None, first and first.isoformat(), last and last.isoformat())


def _load(inputs: list[Path] | None, graph: GraphSource, window: FetchWindow | None,
          quiet: bool) -> Dataset:
    """The inputs, or the live fetch; Graph having no event for the window is an empty
    dataset (a quiet period), with the request it answered noted in the report."""
    with ExitStack() as stack:
        try:
            return load_inputs(graph_inputs(inputs, graph, stack, quiet, window), quiet)
        except NothingFetched as exc:
            return Dataset(Frames.concat([]), notes=[f"Microsoft Graph returned {exc.message}."])


def _graph_period(since: str | None, start: str | None, end: str | None,
                  events: pl.DataFrame) -> Period | None:
    """The period of a live fetch: from the clock and the options as the fetch counted it, not
    from the events (there may be none). Without period options: None (everything fetched),
    or with no event at all the window fetched, so the report still says which days were quiet.
    """
    if not (since or start or end) and events.height:
        return None
    try:
        window = resolve_window(since, start, end, datetime.now(UTC))
    except QueryError as exc:
        raise InputError("--from/--to", str(exc)) from None
    return Period(window.start, window.end)


def _analyse(dataset: Dataset, period: Period | None, job: JobStatus | None) -> Analysis:
    frames = select(dataset.frames, period) if period else dataset.frames
    selected = dataclasses.replace(dataset, frames=frames)
    return Analysis(selected, diagnose(frames, job), period)


@app.command("report")
@with_options(graph=GraphSource)
def report_command(
    inputs: InputsOrGraph = None,
    fmt: Annotated[
        str | None,
        typer.Option("--format", help="html or md (default: from the -o suffix, else html)."),
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="File to write (default: stdout).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option("--since", help="Only the last 7d / 36h / 2w before the newest event."),
    ] = None,
    start: Annotated[
        str | None, typer.Option("--from", help="Start date or date-time, UTC (inclusive).")
    ] = None,
    end: Annotated[
        str | None,
        typer.Option("--to", help="End date (inclusive) or date-time (exclusive), UTC."),
    ] = None,
    compare_previous: Annotated[
        bool,
        typer.Option(
            "--compare-previous",
            help="Also analyse the period of the same length before: new, resolved, rate change.",
        ),
    ] = False,
    fail_on: Annotated[
        str | None,
        typer.Option("--fail-on", help="Exit 1 when a finding is at or above: "
                     + ", ".join(SEVERITIES) + "."),
    ] = None,
    title: Annotated[str | None, typer.Option("--title", help="Report title.")] = None,
    job_status: JobStatusOption = None,
    redact: Annotated[
        bool,
        typer.Option("--redact", help="Replace names, UPNs, emails and object ids by pseudonyms."),
    ] = False,
    config_dir: ConfigDir = None,
    previous_config: Annotated[
        Path | None,
        typer.Option("--previous-config", help="An earlier configuration folder: the report "
                     "shows what changed since (configuration drift)."),
    ] = None,
    *,
    graph: GraphSource,
    quiet: Quiet = False,
) -> None:
    """Write an HTML or Markdown health report: verdict, findings, charts, cycles.

    Exit codes: 0 written, 1 written and a finding is at or above --fail-on, 2 bad input or
    options, 3 Graph unavailable (--graph).
    """
    try:
        chosen = _format(fmt, output)
        if fail_on is not None and fail_on not in SEVERITIES:
            raise InputError("--fail-on", f"expected one of {', '.join(SEVERITIES)}")
        job = read_job_status(job_status) if job_status else None
        if compare_previous and not (since or start or end):
            raise InputError("--compare-previous", "needs a period: --since or --from/--to")
        window = _graph_window(since, start, end, compare_previous) if graph.enabled else None
        dataset, scoped = flowcase_only(_load(inputs, graph, window, quiet),
                                        graph.events.app_name, inputs)
        period = (
            _graph_period(since, start, end, dataset.frames.events)
            if graph.enabled
            else choose_period(dataset.frames.events, since, start, end)
        )
        current = _analyse(dataset, period, job)
        if not graph.enabled and period is not None and current.dataset.frames.events.height == 0:
            raise InputError(
                "the input",
                f"no events from {period.start:%Y-%m-%d %H:%M} to {period.end:%Y-%m-%d %H:%M} UTC",
            )
        previous = _analyse(dataset, period.previous(), None) if compare_previous else None
        configuration = config_for(config_dir, graph, quiet)
        if previous_config is not None:
            configuration = with_drift(configuration, previous_config, quiet)
    except InputError as exc:
        raise fail_input(exc) from None
    confirm(current.diagnosis.findings, configuration)
    report = build_report(current, previous, title=title, job_status=job,
                          selection=graph.describe() if graph.enabled else "",
                          other_apps=scoped.note() or "")
    if configuration is not None:
        report.configuration = without_people(configuration) if redact else configuration
    if redact:
        report = redact_report(report, dataset.frames.events)
    text = RENDERERS[chosen](report)
    if output is None:
        typer.echo(text, nl=False)
    else:
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise fail_input(InputError(str(output), f"cannot write: {exc.strerror}")) from None
    if fail_on is not None and fails_at(current.diagnosis, fail_on):
        raise typer.Exit(1)
