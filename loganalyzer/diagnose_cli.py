"""`diagnose`, `rules list` and `rules show`: parse options, call the engine, print.

Registered on the main app by one import at the bottom of ``cli.py``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from diagnostics import RULES, rule_by_id
from diagnostics.guide_steps import STEPS
from diagnostics.job_status import JobStatus, JobStatusError, parse_job_status
from loganalyzer import engine
from loganalyzer.cli import Inputs, Quiet, app, err, load_inputs
from loganalyzer.diagnosis_text import render_markdown, render_terminal
from loganalyzer.findings import SEVERITIES, severity_rank, to_json

FORMATS = ("terminal", "md", "json")

rules_app = typer.Typer(help="Browse the rulebook.", no_args_is_help=True)
app.add_typer(rules_app, name="rules")


def _bad_usage(message: str) -> typer.Exit:
    err(f"error: {message}")
    return typer.Exit(2)


def read_job_status(path: Path) -> JobStatus:
    """The sync job JSON given with --job-status; exit 2 naming the file when unusable."""
    try:
        document: Any = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise _bad_usage(f"{path}: cannot read the job status ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise _bad_usage(f"{path}: the job status is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise _bad_usage(
            f"{path}: line {exc.lineno} column {exc.colno}: not JSON ({exc.msg}); expected "
            "the response of GET /servicePrincipals/{id}/synchronization/jobs/{jobId}"
        ) from None
    try:
        return parse_job_status(document)
    except JobStatusError as exc:
        raise _bad_usage(f"{path}: {exc}") from None


@app.command()
def diagnose(
    inputs: Inputs,
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
    job_status: Annotated[
        Path | None,
        typer.Option(
            "--job-status",
            help="Sync job JSON (GET .../synchronization/jobs/{jobId}): quarantine and last error.",
        ),
    ] = None,
    quiet: Quiet = False,
) -> None:
    """Run the rulebook: every failure mapped to the setup-guide step where it is fixed."""
    if fmt not in FORMATS:
        raise _bad_usage(f"--format must be one of {', '.join(FORMATS)}, not '{fmt}'")
    if fail_on is not None and fail_on not in SEVERITIES:
        raise _bad_usage(f"--fail-on must be one of {', '.join(SEVERITIES)}, not '{fail_on}'")
    job = read_job_status(job_status) if job_status else None
    diagnosis = engine.diagnose(load_inputs(inputs, quiet).frames, job)
    if fmt == "json":
        text = json.dumps(to_json(diagnosis), indent=2, ensure_ascii=False)
    elif fmt == "md":
        text = render_markdown(diagnosis)
    else:
        text = render_terminal(diagnosis)
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
