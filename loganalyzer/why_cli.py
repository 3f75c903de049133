"""The `why` command: parse options, call ``query.why``, print. Exit 2 unless one person matched."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from loganalyzer.cli import Inputs, Quiet, app, err, fail_input, load_inputs
from loganalyzer.diagnose_cli import read_job_status
from loganalyzer.frame_source import FrameSource, all_stores
from loganalyzer.problems import InputError, summarize_problems
from loganalyzer.query import to_json, why
from loganalyzer.why_render import TIMELINE_LIMIT, render_markdown, render_terminal

FORMATS = ("terminal", "md", "json")


def _load(inputs: list[Path], quiet: bool) -> FrameSource:
    """Stores are read lazily (events now, steps per event later); exports are loaded whole."""
    if not all_stores(inputs):
        return FrameSource.from_frames(load_inputs(inputs, quiet).frames)
    try:
        source = FrameSource.from_stores(inputs)
    except (OSError, pl.exceptions.PolarsError) as exc:
        names = ", ".join(str(p) for p in inputs)
        raise fail_input(InputError(names, f"unreadable store ({exc}); re-run ingest")) from None
    for line in summarize_problems(source.problems):
        err(line)
    return source


@app.command("why")
def why_command(
    user: Annotated[str, typer.Argument(help="UPN, mail, userName/email sent, externalId, "
                                              "Entra object id, Flowcase id or display name.")],
    inputs: Inputs,
    fmt: Annotated[str, typer.Option("--format", help="terminal, md or json")] = "terminal",
    job_status: Annotated[
        Path | None,
        typer.Option("--job-status", help="JSON of the sync job (quarantine, last error)."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Latest events shown (terminal, md); 0 = all.")
    ] = TIMELINE_LIMIT,
    quiet: Quiet = False,
) -> None:
    """Why did this user fail, or why are they not in Flowcase? Timeline, verdict and fix."""
    if fmt not in FORMATS:
        raise fail_input(InputError("--format", f"'{fmt}' is not one of {', '.join(FORMATS)}"))
    status = read_job_status(job_status) if job_status else None
    answer = why(_load(inputs, quiet), user, status)
    if fmt == "json":
        typer.echo(json.dumps(to_json(answer), indent=2))
    elif fmt == "md":
        typer.echo(render_markdown(answer, limit))
    else:
        typer.echo(render_terminal(answer, limit))
    if not answer.resolved:
        raise typer.Exit(2)
