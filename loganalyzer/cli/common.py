"""What every command shares: the typer app, common options, progress and input errors.

Command modules import from here (never from ``cli``), so any of them can be imported first.
"""

from __future__ import annotations

import contextlib
import dataclasses
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from typer._click.exceptions import ClickException, NoArgsIsHelpError  # typer vendors click
from typer.core import TyperCommand, TyperGroup

from loganalyzer import __version__, scope
from loganalyzer.cli.console import progress_bar
from loganalyzer.ingest import Dataset, load
from loganalyzer.problems import (
    ALL_IN_MANIFEST,
    ALL_VIA_INGEST,
    InputError,
    summarize_problems,
)
from loganalyzer.readers.sources import is_store
from loganalyzer.textsafe import one_line


class OneLineErrors(TyperGroup):
    """Usage errors as one line on stderr and exit code 2, not typer's boxed panel: the same
    shape as every other error of the tool, and easy to read in a scheduled job's mail."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True,
             **extra):
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        with _exits_on_sigterm():
            try:
                code = super().main(args, prog_name, complete_var, False, **extra)
            except NoArgsIsHelpError as exc:
                exc.show()
                sys.exit(exc.exit_code)
            except ClickException as exc:
                # typer validates choices with pydantic, whose "Value error, " prefix says nothing
                message = " ".join(exc.format_message().replace("Value error, ", "").split())
                ctx = getattr(exc, "ctx", None)
                hint = f" (see {ctx.command_path} --help)" if ctx is not None else ""
                typer.echo(f"error: {message}{hint}", err=True)
                sys.exit(exc.exit_code)
            except typer.Abort:
                typer.echo("aborted", err=True)
                sys.exit(1)
            sys.exit(code if isinstance(code, int) else 0)


@contextlib.contextmanager
def _exits_on_sigterm() -> Iterator[None]:
    """SIGTERM is ``_terminated`` while a command runs, and the caller's handler again after
    it: a process running commands in process (a test suite under CliRunner) still stops on
    SIGTERM. Only the main thread may set a handler; elsewhere the default stands."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _terminated(signum, frame) -> None:
    """SIGTERM (a scheduler's timeout, ``kill``) exits as an interrupt does, through every
    ``finally``: by default Python dies at once and leaves a half-written store's hidden
    folder beside the target and a spilled copy of the input (gigabytes) in the temp folder."""
    typer.echo("terminated", err=True)
    sys.exit(128 + signum)


class Command(TyperCommand):
    """--help names each argument by its metavar alone, as the docs do (``USER INPUT...``):
    typer would show ``{user} [inputs]...`` and list them as ``user <str>``,
    ``inputs... <list[Path]>``."""

    def collect_usage_pieces(self, ctx: typer.Context) -> list[str]:
        return [self.options_metavar, *(name for name, _ in self._arguments(ctx))]

    def format_options(self, ctx: typer.Context, formatter) -> None:
        options = [p.get_help_record(ctx) for p in self.get_params(ctx)
                   if p.param_type_name == "option"]
        for title, rows in (("Arguments", self._arguments(ctx)),
                            ("Options", [row for row in options if row])):
            if rows:
                with formatter.section(title):
                    formatter.write_dl(rows)

    def _arguments(self, ctx: typer.Context) -> list[tuple[str, str]]:
        return [(p.metavar or p.name.upper(), p.help or "") for p in self.get_params(ctx)
                if p.param_type_name == "argument"]


class App(typer.Typer):
    """A typer app whose commands are ``Command``s."""

    def command(self, *args, **kwargs):
        return super().command(*args, cls=kwargs.pop("cls", Command), **kwargs)


app = App(
    name="loganalyzer",
    cls=OneLineErrors,
    help="Diagnose Microsoft Entra ID provisioning logs of SCIM provisioning into Flowcase.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(__version__)
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True,
                     help="Print the version and exit."),
    ] = False,
) -> None:
    """Diagnose Microsoft Entra ID provisioning logs of SCIM provisioning into Flowcase."""

Inputs = Annotated[
    list[Path],
    typer.Argument(
        metavar="INPUT...",
        help="Exports (JSON, NDJSON, CSV, Log Analytics; files, folders, .zip, .gz) or stores.",
        show_default=False,
    ),
]
Quiet = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress, notes or 'wrote FILE' on stderr.")
]


def err(message: str) -> None:
    """One line on stderr; control characters and line breaks from data shown escaped."""
    typer.echo(one_line(message), err=True)


def fail_input(exc: InputError) -> typer.Exit:
    """Unusable input: one line naming the file, record and what was expected, then the
    choices it offers, a line each; exit code 2."""
    err(f"error: {exc}")
    for line in exc.choices:
        err(line)
    return typer.Exit(2)


def load_inputs(inputs: list[Path], quiet: bool, analysis_only: bool = False) -> Dataset:
    """Load exports or stores, reporting skipped records; exit 2 on unusable input.
    ``analysis_only``: for diagnose and report (``ingest.load``)."""
    try:
        with progress_bar(quiet) as progress:
            dataset = load(inputs, progress, analysis_only)
    except InputError as exc:
        raise fail_input(exc) from None
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
