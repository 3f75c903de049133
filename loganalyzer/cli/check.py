"""`check` and `fetch-config`: the Entra configuration against the setup guide.

Parsing options and printing only; reading is ``graph.config_fetch`` (online) or
``config.files`` (offline), checking ``config.check``. The Graph modules are imported
when a command runs, so other commands do not pay for loading the SDK.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from loganalyzer.cli.common import Quiet, app, err, fail_input
from loganalyzer.cli.fetch import AppChoice, SignIn
from loganalyzer.cli.graph_inputs import GraphSource
from loganalyzer.cli.options import FailOn, options_given, with_options
from loganalyzer.cli.outputs import Format, output_options, targets, write
from loganalyzer.findings import severity_rank
from loganalyzer.problems import InputError

if TYPE_CHECKING:
    from loganalyzer.config.check import ConfigResult
    from loganalyzer.config.model import ConfigSnapshot

GraphOnly = Annotated[
    bool, typer.Option("--graph", help="Microsoft Graph: the only source of this command; "
                       "may be left out.")]
ConfigDir = Annotated[
    Path | None,
    typer.Option("--config", help="Folder of configuration files: what fetch-config or fetch-job "
                 "saved, or the schema (schema editor > Download) and app manifest copied by "
                 "hand. Each file is recognised by its content."),
]


def _exit_for(exc: Exception) -> typer.Exit:
    err(f"error: {exc}")
    return typer.Exit(getattr(exc, "exit_code", 2))


def read_snapshot(config_dir: Path | None, graph: bool, choice: AppChoice, sign_in: SignIn,
                  quiet: bool) -> ConfigSnapshot:
    """The configuration from --config DIR or --graph; exits 2/3 with one line on failure."""
    from loganalyzer.graph.client import GraphError

    try:
        if (config_dir is None) == (not graph):
            raise InputError("--config", "give --config DIR or --graph (one of them)")
        if config_dir is not None:
            given = options_given(choice) + options_given(sign_in)
            if given:
                raise InputError(given[0], "only applies with --graph")
            from loganalyzer.config.files import read_config_dir

            return read_config_dir(config_dir, lambda m: None if quiet else err(f"note: {m}"))
        from loganalyzer.graph.config_fetch import fetch_config

        return fetch_config(sign_in.connection(), choice.target())[1]
    except InputError as exc:
        raise fail_input(exc) from None
    except GraphError as exc:
        raise _exit_for(exc) from None


CheckOutput = output_options("check", (Format.terminal, Format.md, Format.json), Format.terminal)


@app.command("check")
@with_options(choice=AppChoice, sign_in=SignIn, out=CheckOutput)
def check_command(
    config_dir: ConfigDir = None,
    graph: Annotated[bool, typer.Option("--graph", help="Read the configuration from Microsoft "
                                        "Graph (needs --app or --service-principal-id).")] = False,
    fail_on: FailOn = None,
    *,
    out: CheckOutput,
    choice: AppChoice,
    sign_in: SignIn,
    quiet: Quiet = False,
) -> None:
    """Check the Entra configuration against the Flowcase setup guide, before anything fails.

    Mappings, attribute list, group mapping, app roles, nested-group assignments, the job's
    quarantine and (when Graph returns them) the Tenant URL and scope. Permissions with --graph:
    Application.Read.All, Synchronization.Read.All, GroupMember.Read.All; a part Graph refuses is
    listed as not checked. Exit codes: 0 done, 1 a finding at or above --fail-on, 2 bad input or
    options, 3 Graph unavailable.
    """
    from loganalyzer.config.check import run_checks, to_json
    from loganalyzer.config.render import render_markdown, render_terminal

    try:
        found = targets(out)
    except InputError as exc:
        raise fail_input(exc) from None
    result = run_checks(read_snapshot(config_dir, graph, choice, sign_in, quiet))
    try:
        write(found, {
            Format.json: lambda: json.dumps(to_json(result), indent=2, ensure_ascii=False),
            Format.md: lambda: render_markdown(result),
            Format.terminal: lambda: render_terminal(result),
        }, quiet)
    except InputError as exc:
        raise fail_input(exc) from None
    if fail_on is not None and any(
            severity_rank(f.severity) <= severity_rank(fail_on) for f in result.findings):
        raise typer.Exit(1)


@app.command("fetch-config")
@with_options(choice=AppChoice, sign_in=SignIn)
def fetch_config_command(
    output: Annotated[Path, typer.Option("--output", "-o", help="Folder for the JSON files.")],
    _graph: GraphOnly = True,
    *,
    choice: AppChoice,
    sign_in: SignIn,
    quiet: Quiet = False,
) -> None:
    """Save the app's configuration from Microsoft Graph, one JSON file per response.

    For `check --config DIR` and `diagnose/report/why --config DIR`. Needs
    Application.Read.All (app, roles, assignments), Synchronization.Read.All (jobs, schema) and
    GroupMember.Read.All (members of assigned groups); what Graph refuses is noted in
    DIR/fetch-config.json and the rest is saved. The provisioning token is never saved.
    """
    from loganalyzer.config.files import write_config_dir
    from loganalyzer.graph.client import GraphError
    from loganalyzer.graph.config_fetch import fetch_config

    graph = sign_in.connection()
    try:
        sp_id, snap = fetch_config(graph, choice.target())
        written = write_config_dir(snap, output, graph.root, sp_id,
                                   datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"))
    except InputError as exc:
        raise fail_input(exc) from None
    except GraphError as exc:
        raise _exit_for(exc) from None
    if not quiet:
        err(f"wrote {len(written)} files to {output} for service principal {sp_id}")
    for part, why in snap.unavailable.items():
        err(f"note: not read: {part}: {why}")


def config_for(config_dir: Path | None, graph: GraphSource, quiet: bool
               ) -> tuple[ConfigResult | None, list[str]]:
    """For diagnose/report/why: the checked configuration from --config DIR, or with --graph
    and an app chosen from Graph (a refusal is a note, not an error), and the notes on reading
    it, which the outputs carry as well as stderr: a scheduled report must say its
    configuration was not checked, or that a file of DIR was skipped. InputError for a bad DIR.
    """
    notes: list[str] = []

    def note(message: str) -> None:
        notes.append(message)
        if not quiet:
            err(f"note: {message}")

    from loganalyzer.config.with_logs import load

    app, principal, job = graph.events.graph_app()
    target = connection = None
    if graph.enabled and config_dir is None and (principal or app):
        from loganalyzer.graph.config_fetch import AppTarget  # msgraph: only to ask Graph

        target = AppTarget(principal, app, job)
        connection = graph.sign_in.connection()
    return load(config_dir, target, connection, note), notes


def with_drift(current: ConfigResult | None, previous: Path, quiet: bool) -> ConfigResult:
    """``current`` with the drift from the configuration in ``previous``; InputError when there
    is no current configuration to compare with."""
    from loganalyzer.config.drift import drift
    from loganalyzer.config.files import read_config_dir

    if current is None or current.snapshot is None:
        raise InputError("--previous-config", "needs the current configuration too: --config "
                         "DIR, or --graph with --app or --service-principal-id")
    before = read_config_dir(previous, lambda m: None if quiet else err(f"note: {m}"))
    current.drift = drift(before, current.snapshot)
    return current
