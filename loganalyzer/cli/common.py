"""What every command shares: the typer app, common options, progress and input errors.

Command modules import from here (never from ``cli``), so any of them can be imported first.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Annotated

import typer

from loganalyzer import scope
from loganalyzer.ingest import Dataset, load
from loganalyzer.problems import (
    ALL_IN_MANIFEST,
    ALL_VIA_INGEST,
    InputError,
    summarize_problems,
)
from loganalyzer.readers.sources import is_store

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
    where_all = ALL_IN_MANIFEST if all(is_store(p) for p in inputs) else ALL_VIA_INGEST
    for line in summarize_problems(dataset.problems, where_all=where_all):
        err(line)
    return dataset


def flowcase_only(dataset: Dataset, apps: list[str] | None, inputs: list[Path] | None
                  ) -> tuple[Dataset, scope.Scope]:
    """Flowcase's events only (``scope.choose``; ``--app`` values in ``apps``); the other
    apps' events are counted in a note. Exit 2 listing the apps when none or several could be
    Flowcase's."""
    names = ", ".join(str(p) for p in inputs) if inputs else "Microsoft Graph"
    try:
        chosen = scope.choose(dataset.frames, apps or (), names)
    except InputError as exc:
        raise fail_input(exc) from None
    notes = chosen.notes() + dataset.notes
    return dataclasses.replace(dataset, frames=chosen.frames, notes=notes), chosen
