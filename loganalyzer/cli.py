"""The command line: parse options, call the library, print. Nothing else lives here."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from loganalyzer import __version__
from loganalyzer.ingest import Dataset, ingest_to_store, load
from loganalyzer.problems import InputError, summarize_problems
from loganalyzer.summary import render_summary_text, summarize

app = typer.Typer(
    help="Diagnose Microsoft Entra ID provisioning logs of SCIM provisioning into Flowcase.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

Inputs = Annotated[
    list[Path],
    typer.Argument(
        help="Exports (JSON, NDJSON, CSV, Log Analytics; files, folders, .zip, .gz) or stores.",
        show_default=False,
    ),
]
Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress on stderr.")]


def err(message: str) -> None:
    typer.echo(message, err=True)


def fail_input(exc: InputError) -> typer.Exit:
    """Unusable input: one line naming the file, record and what was expected; exit code 2."""
    err(f"error: {exc}")
    return typer.Exit(2)


def progress_printer(quiet: bool):
    """Progress on stderr, overwriting one line when stderr is a terminal."""
    if quiet:
        return lambda _msg: None
    tty = sys.stderr.isatty()

    def show(message: str) -> None:
        if tty:
            sys.stderr.write(f"\r{message}\033[K")
            sys.stderr.flush()
        else:
            err(message)

    return show


def load_inputs(inputs: list[Path], quiet: bool) -> Dataset:
    """Load exports or stores, reporting skipped records; exit 2 on unusable input."""
    show = progress_printer(quiet)
    try:
        dataset = load(inputs, show)
    except InputError as exc:
        raise fail_input(exc) from None
    if not quiet and sys.stderr.isatty():
        sys.stderr.write("\n")
    for line in summarize_problems(dataset.problems):
        err(line)
    return dataset


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
    from loganalyzer.problems import Problem

    for line in summarize_problems([Problem(**p) for p in manifest["problems"]]):
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


# Each command module registers its commands on `app` when imported.
import loganalyzer.diagnose_cli  # noqa: E402, F401  (registers `diagnose`, `rules`)
import loganalyzer.fetch_cli  # noqa: E402, F401  (registers `fetch`, `fetch-job`)
import loganalyzer.report_cli  # noqa: E402, F401  (registers `report`)
import loganalyzer.why_cli  # noqa: E402, F401  (registers `why`)
