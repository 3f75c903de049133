"""``ingest``, ``summary`` and ``version``: reading exports and stores."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from loganalyzer import __version__
from loganalyzer.cli.common import (
    Inputs,
    Quiet,
    app,
    err,
    fail_input,
    load_inputs,
    progress_printer,
)
from loganalyzer.ingest import ingest_to_store
from loganalyzer.problems import InputError, Problem, summarize_problems
from loganalyzer.summary import render_summary_text, summarize


@app.command()
def ingest(
    inputs: Inputs,
    output: Annotated[Path, typer.Option("--output", "-o", help="Store folder to write.")],
    quiet: Quiet = False,
) -> None:
    """Parse exports once and write the canonical frames as a Parquet STORE."""
    try:
        manifest = ingest_to_store(inputs, output, progress_printer(quiet))
    except InputError as exc:
        raise fail_input(exc) from None
    counts = manifest["counts"]
    typer.echo(
        f"wrote {output}: {counts['events']:,} events, {counts['steps']:,} steps, "
        f"{counts['modified_properties']:,} modified properties; "
        f"{manifest['duplicates_dropped']:,} duplicate events dropped"
    )
    problems = [Problem(**p) for p in manifest["problems"]]
    for line in summarize_problems(problems, where_all=f"all are listed in {output}/manifest.json"):
        err(line)
    for note in manifest["notes"]:
        err(f"note: {note}")


@app.command()
def summary(
    inputs: Inputs,
    fmt: Annotated[str, typer.Option("--format", help="terminal or json")] = "terminal",
    quiet: Quiet = False,
) -> None:
    """Counts by status, action, object type and cycle; time range; jobs and apps."""
    result = summarize(load_inputs(inputs, quiet))
    if fmt == "json":
        typer.echo(json.dumps(result, indent=2))
    else:
        typer.echo(render_summary_text(result))


@app.command()
def version() -> None:
    """Print the tool version."""
    typer.echo(__version__)
