"""``ingest``, ``summary`` and ``version``: reading exports and stores."""

from __future__ import annotations

import dataclasses
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
)
from loganalyzer.cli.console import progress_bar
from loganalyzer.cli.fetch import FetchWindow
from loganalyzer.cli.options import with_options
from loganalyzer.cli.outputs import Format, output_options, targets, write
from loganalyzer.graph.state import fetched_windows
from loganalyzer.ingest import ingest_to_store, read_manifest
from loganalyzer.periods import choose_period, select
from loganalyzer.problems import InputError, Problem, summarize_problems
from loganalyzer.readers.sources import is_store
from loganalyzer.summary import render_summary, summarize
from loganalyzer.wording import plural


@app.command()
def ingest(
    inputs: Inputs,
    output: Annotated[Path, typer.Option("--output", "-o", help="Store folder to write.")],
    quiet: Quiet = False,
) -> None:
    """Parse exports once and write the canonical frames as a Parquet STORE.

    To add new exports to a store, give the store as an input too: ``ingest STORE NEW.json
    -o STORE`` (repeated events count once)."""
    try:
        if not quiet:
            _say_what_is_replaced(inputs, output)
        with progress_bar(quiet) as progress:
            manifest = ingest_to_store(inputs, output, progress)
    except InputError as exc:
        raise fail_input(exc) from None
    counts = manifest["counts"]
    if not quiet:
        err(
            f"wrote {output}: {plural(counts['events'], 'event')}, "
            f"{plural(counts['steps'], 'step')}, "
            f"{plural(counts['modified_properties'], 'modified property', 'modified properties')}; "
            f"{plural(manifest['duplicates_dropped'], 'duplicate event')} dropped"
        )
    problems = [Problem(**p) for p in manifest["problems"]]
    for line in summarize_problems(problems, where_all=f"all are listed in {output}/manifest.json"):
        err(line)  # records skipped are reported even with -q, as by every command
    if not quiet:  # the notes stay in the store's manifest.json
        for note in manifest["notes"]:
            err(f"note: {note}")


def _say_what_is_replaced(inputs: list[Path], output: Path) -> None:
    """A store that ``-o`` replaces without reading it (last week's, say) is named, with how
    to add to it instead: a weekly ``ingest new.json -o store`` would otherwise lose the
    earlier weeks without a word."""
    target = output.resolve()
    # read as an input (itself, or inside a folder given): its events are kept
    if not is_store(output) or any(target.is_relative_to(Path(i).resolve()) for i in inputs):
        return
    try:
        held = read_manifest(output).get("counts", {}).get("events")
    except InputError:  # a damaged store, rebuilt by this run
        held = None
    what = f" ({plural(held, 'event')})" if isinstance(held, int) else ""
    err(f"note: replacing the store {output}{what}; to add to it instead, give it as an input "
        f"too: ingest {output} NEW... -o {output}")


@dataclasses.dataclass(frozen=True)
class FileWindow(FetchWindow):
    """`summary`'s period: of files and stores only, as it does not fetch from Graph."""

    since: Annotated[str | None, typer.Option(
        "--since", metavar="LENGTH",
        help="Only the last 7d, 36h or 2w before the newest event read.")] = None
    date_to: Annotated[str | None, typer.Option(
        "--to", metavar="DATE", help="End: a date (that day included) or an ISO date-time, "
        "UTC (default: the newest event).")] = None


SummaryOutput = output_options("summary", (Format.terminal, Format.json), Format.terminal)


@app.command()
@with_options(window=FileWindow, out=SummaryOutput)
def summary(inputs: Inputs, *, window: FileWindow, out: SummaryOutput,
            quiet: Quiet = False) -> None:
    """Counts by status, action, object type and cycle; time range; jobs and apps."""
    try:
        found = targets(out)
        window.check()
        dataset = load_inputs(inputs, quiet, analysis_only=True)
        period = choose_period(dataset.frames.events, window.since, window.date_from,
                               window.date_to, fetched_windows(inputs))
        if period is not None:
            dataset = dataclasses.replace(dataset, frames=select(dataset.frames, period))
        result = summarize(dataset)
        write(found, {
            Format.json: lambda: json.dumps(result, indent=2),
            Format.terminal: lambda: render_summary(result),
        }, quiet)
    except InputError as exc:
        raise fail_input(exc) from None


@app.command()
def version() -> None:
    """Print the tool version."""
    typer.echo(__version__)
