"""`diagnose`, `rules list` and `rules show`: parse options, call the engine, print.

Registered on the main app by one import at the bottom of ``cli.py``.
"""

from __future__ import annotations

import json
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import typer

from diagnostics import RULES, rule_by_id
from diagnostics.guide_steps import STEPS
from loganalyzer import engine
from loganalyzer.cli.check import ConfigDir, config_for
from loganalyzer.cli.common import Quiet, app, err, fail_input, flowcase_only, load_inputs
from loganalyzer.cli.fetch import FetchWindow
from loganalyzer.cli.graph_inputs import GraphSource, InputsOrGraph, graph_inputs
from loganalyzer.cli.options import with_options
from loganalyzer.config_check import to_json as config_json
from loganalyzer.config_logs import confirm, section
from loganalyzer.diagnosis_text import render_markdown, render_terminal
from loganalyzer.findings import SEVERITIES, severity_rank, to_json
from loganalyzer.job_status_file import JobStatusOption, read_job_status
from loganalyzer.problems import InputError

FORMATS = ("terminal", "md", "json")

rules_app = typer.Typer(help="Browse the rulebook.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


def _bad_usage(message: str) -> typer.Exit:
    err(f"error: {message}")
    return typer.Exit(2)


@app.command()
@with_options(window=FetchWindow, graph=GraphSource)
def diagnose(
    inputs: InputsOrGraph = None,
    fmt: Annotated[str, typer.Option("--format", help="terminal, md or json")] = "terminal",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead.")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on",
            help="Exit 1 when a finding is at or above this severity "
            "(critical, high, medium, low, info).",
        ),
    ] = None,
    job_status: JobStatusOption = None,
    config_dir: ConfigDir = None,
    *,
    graph: GraphSource,
    window: FetchWindow,
    quiet: Quiet = False,
) -> None:
    """Run the rulebook: every failure mapped to the setup-guide step where it is fixed.

    Reads exports or stores, or with --graph fetches the window (default: the last 7 days)
    from Microsoft Graph first. Exit codes: 0 done, 1 a finding at or above --fail-on, 2 bad
    input or options, 3 Graph unavailable.
    """
    if fmt not in FORMATS:
        raise _bad_usage(f"--format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise _bad_usage(f"--fail-on must be one of {', '.join(SEVERITIES)}, not '{fail_on}'")
    try:
        job = read_job_status(job_status) if job_status else None
        with ExitStack() as stack:
            loaded = load_inputs(graph_inputs(inputs, graph, stack, quiet, window), quiet)
        configuration = config_for(config_dir, graph, quiet)
    except InputError as exc:
        raise fail_input(exc) from None
    dataset, chosen = flowcase_only(loaded, graph.events.app_name, inputs)
    diagnosis = engine.diagnose(dataset.frames, job)
    diagnosis.notes[:0] = chosen.notes()
    diagnosis.summary["scope"] = chosen.to_json()
    confirm(diagnosis.findings, configuration)
    if fmt == "json":
        data = to_json(diagnosis) | (
            {"configuration": config_json(configuration)} if configuration else {})
        text = json.dumps(data, indent=2, ensure_ascii=False)
    elif fmt == "md":
        text = section(render_markdown(diagnosis), configuration, fmt)
    else:
        text = section(render_terminal(diagnosis), configuration, fmt)
    if output is None:
        typer.echo(text)
    else:
        try:
            output.write_text(text + ("" if text.endswith("\n") else "\n"), encoding="utf-8")
        except OSError as exc:
            raise _bad_usage(f"{output}: cannot write ({exc.strerror})") from None
        if not quiet:
            err(f"wrote {output}")
    for message in diagnosis.rule_errors:
        err(f"rule error: {message}")
    if fail_on is not None and any(
        severity_rank(f.severity) <= severity_rank(fail_on) for f in diagnosis.findings
    ):
        raise typer.Exit(1)


@rules_app.command("list")
def rules_list(
    fmt: Annotated[str, typer.Option("--format", help="terminal or json")] = "terminal",
) -> None:
    """Every rule: id, severity, guide steps, title."""
    if fmt == "json":
        typer.echo(json.dumps([r.__dict__ for r in engine.rules()], indent=2))
        return
    if fmt != "terminal":
        raise _bad_usage(f"--format must be terminal or json, not '{fmt}'")
    typer.echo(f"{'id':6} {'severity':9} {'steps':11} title")
    for rule in RULES:
        steps = ",".join(rule.guide_steps) or "-"
        typer.echo(f"{rule.id:6} {rule.severity:9} {steps:11} {rule.title}")


@rules_app.command("show")
def rules_show(rule: Annotated[str, typer.Argument(help="Rule id, e.g. FC008.")]) -> None:
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
