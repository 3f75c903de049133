"""`diagnose`, `rules list` and `rules show`: parse options, call the engine, print.

Registered on the main app by the import in ``cli/__init__.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from diagnostics import RULES, rule_by_id
from diagnostics.guide_steps import STEPS
from loganalyzer import accept, engine
from loganalyzer.cli.check import ConfigDir, config_for
from loganalyzer.cli.common import App, Quiet, app, err, fail_input, flowcase_only
from loganalyzer.cli.console import progress_bar
from loganalyzer.cli.fetch import FetchWindow
from loganalyzer.cli.graph_inputs import GraphSource, InputsOrGraph, load_for_analysis
from loganalyzer.cli.options import AcceptOptions, FailOn, JobStatusOption, with_options
from loganalyzer.cli.outputs import Format, output_options, targets, write
from loganalyzer.config.check import to_json as config_json
from loganalyzer.config.with_logs import configured_job, confirm, section, terminal_section
from loganalyzer.diagnosis_text import SEVERITY_STYLES, render_markdown, render_terminal
from loganalyzer.findings import to_json
from loganalyzer.graph.state import fetched_windows
from loganalyzer.job_status_file import logged_jobs, other_job_notes, read_job_status
from loganalyzer.normalize import Frames
from loganalyzer.periods import Period, Window, choose_period, period_note, select, stale_note
from loganalyzer.problems import InputError
from loganalyzer.verdict import fails_at, verdict

rules_app = App(help="Browse the rulebook.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")

DiagnoseOutput = output_options("diagnose", (Format.terminal, Format.md, Format.json),
                                Format.terminal)
RulesOutput = output_options("rules-list", (Format.terminal, Format.json), Format.terminal)


def _bad_usage(message: str) -> typer.Exit:
    err(f"error: {message}")
    return typer.Exit(2)


def in_period(frames: Frames, window: FetchWindow, graph: GraphSource,
              fetched: list[Window] | None = None
              ) -> tuple[Frames, Period | None, list[str]]:
    """Files and stores: only the events of --since/--from/--to (``--since`` counts back from
    the newest event, or from the end of the windows a fetch folder was fetched for, noted
    when that is long ago; a quiet period noted with the input's span, days of it between
    two fetches as not fetched), and that period; with --graph the fetch already asked for
    that window."""
    if graph.enabled:
        return frames, None, []
    period = choose_period(frames.events, window.since, window.date_from, window.date_to,
                           fetched)
    if period is None:
        return frames, None, []
    selected = select(frames, period)
    notes = [stale_note(period, window.since, datetime.now(UTC)),
             period_note(period, frames.events, fetched or [], not selected.event_count())]
    return selected, period, [note for note in notes if note]


@app.command()
@with_options(window=FetchWindow, graph=GraphSource, out=DiagnoseOutput, accepting=AcceptOptions)
def diagnose(
    inputs: InputsOrGraph = None,
    fail_on: FailOn = None,
    job_status: JobStatusOption = None,
    config_dir: ConfigDir = None,
    *,
    out: DiagnoseOutput,
    window: FetchWindow,
    accepting: AcceptOptions,
    graph: GraphSource,
    quiet: Quiet = False,
) -> None:
    """Run the rulebook: verdict, the cause to fix first, every finding mapped to the
    setup-guide step where it is fixed.

    Reads exports or stores, or with --graph fetches the window (default: the last 7 days)
    from Microsoft Graph first. Exit codes: 0 done, 1 a finding at or above --fail-on, 2 bad
    input or options, 3 Graph unavailable.
    """
    try:
        found = targets(out)
        window.check()
        acceptance = accepting.read(found)
        job = read_job_status(job_status) if job_status else None
        configuration, config_notes = config_for(config_dir, graph, quiet)
        accept.accept_checks(configuration, acceptance)
        dataset, chosen = flowcase_only(load_for_analysis(inputs, graph, quiet, window),
                                        graph.events.app_name, inputs)
        frames, period, period_notes = in_period(
            dataset.frames, window, graph, None if graph.enabled else fetched_windows(inputs or []))
        cut = dataset.cut_within(period)
        job = job or configured_job(configuration, lambda: logged_jobs(frames.events))
        with progress_bar(quiet, echo_last=False) as progress:
            diagnosis = engine.diagnose(frames, job, progress)
        diagnosis.notes[:0] = (period_notes + dataset.input_notes()  # apps left out among them
                               + other_job_notes(job, frames.events) + config_notes)
        diagnosis.summary["scope"] = chosen.to_json()
        diagnosis = accept.apply(diagnosis, acceptance)
        confirm(diagnosis.findings, configuration)
        health = verdict(diagnosis, job, configuration, cut_off=cut)
        write(found, {
            Format.json: lambda: json.dumps(
                to_json(diagnosis, health.to_json())
                | ({"configuration": config_json(configuration)} if configuration else {}),
                indent=2, ensure_ascii=False),
            Format.md: lambda: section(render_markdown(diagnosis, health), configuration, "md"),
            Format.terminal: lambda: terminal_section(render_terminal(diagnosis, health),
                                                      configuration),
        }, quiet, also=accepting.baseline_file(diagnosis, configuration))
    except InputError as exc:
        raise fail_input(exc) from None
    for message in diagnosis.rule_errors:
        err(f"rule error: {message}")
    if fail_on is not None and fails_at(diagnosis, fail_on, job, configuration,
                                        cut_off=cut):
        raise typer.Exit(1)


def _rules_table() -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    for name in ("id", "severity", "kind", "steps", "title"):
        table.add_column(name, no_wrap=name != "title")
    for rule in RULES:
        table.add_row(rule.id, Text(rule.severity, style=SEVERITY_STYLES[rule.severity]),
                      rule.kind, ",".join(rule.guide_steps) or "-", rule.title)
    return table


@rules_app.command("list")
@with_options(out=RulesOutput)
def rules_list(*, out: RulesOutput, quiet: Quiet = False) -> None:
    """Every rule: id, the highest severity it reports, kind, guide steps, title."""
    try:
        write(targets(out), {
            Format.json: lambda: json.dumps([r.__dict__ for r in engine.rules()], indent=2),
            Format.terminal: _rules_table,
        }, quiet)
    except InputError as exc:
        raise fail_input(exc) from None


@rules_app.command("show")
def rules_show(
    rule: Annotated[str, typer.Argument(metavar="RULE", help="Rule id, e.g. FC008.")],
) -> None:
    """A rule's documentation: what it detects, why provisioning fails, evidence, fix."""
    found = rule_by_id(rule)
    if found is None:
        raise _bad_usage(f"no rule '{rule}'; `loganalyzer rules list` shows them all")
    steps = ", ".join(f"{s} ({STEPS[s]})" for s in found.guide_steps) or "none (transient)"
    typer.echo(f"{found.id} {found.title}")
    typer.echo(f"severity: {found.severity}   kind: {found.kind}   guide steps: {steps}")
    typer.echo(f"failure-catalog patterns: {', '.join(map(str, found.patterns))}")
    typer.echo("")
    typer.echo(found.docstring)
    typer.echo("")
    typer.echo("Remediation:")
    typer.echo(found.remediation)
