"""`--graph` on the analysis commands (`report`, `diagnose`, `why`): one set of options, one fetch.

A command declares ``graph: GraphSource`` under ``@with_options(graph=GraphSource)``, which gives
it `--graph` and the filter and sign-in options of `fetch`; ``graph_inputs`` then turns its
arguments into the paths to load.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from loganalyzer.cli.common import load_inputs
from loganalyzer.cli.fetch import (
    EventFilter,
    FetchWindow,
    NothingFetched,
    SignIn,
    fetch_options,
    fetched_folder,
)
from loganalyzer.cli.options import options_given
from loganalyzer.ingest import Dataset
from loganalyzer.normalize import Frames
from loganalyzer.problems import InputError

InputsOrGraph = Annotated[
    list[Path] | None,
    typer.Argument(metavar="INPUT...", show_default=False,
                   help="Exports (any format, files, folders, .zip, .gz) or stores; or --graph."),
]
GraphFlag = Annotated[
    bool,
    typer.Option("--graph", help="Fetch the logs from Microsoft Graph instead (filter and "
                 "sign-in options as for `fetch`)."),
]


@dataclass(frozen=True)
class GraphSource:
    """`--graph` and what to fetch with it; the time window is the command's own."""

    enabled: GraphFlag = False
    events: EventFilter = field(default_factory=EventFilter)
    sign_in: SignIn = field(default_factory=SignIn)

    def describe(self) -> str:
        """What was asked of Graph, for a report's header (it must say so even with no event)."""
        chosen = self.events
        parts = [
            f"{label} {value}"
            for label, value in (
                ("app", chosen.app_name and ", ".join(f"'{a}'" for a in chosen.app_name)),
                ("service principal", chosen.service_principal_id),
                ("job", chosen.job_id),
                ("status", chosen.status and str(chosen.status)),
            )
            if value
        ]
        return f"Microsoft Graph: {', '.join(parts) or 'every app and job'}"


def graph_inputs(
    inputs: list[Path] | None,
    graph: GraphSource,
    stack: ExitStack,
    quiet: bool,
    window: FetchWindow | None = None,
    extra_filter: str | None = None,
) -> list[Path]:
    """The paths to load: ``inputs``, or with ``--graph`` a temporary folder of pages fetched now
    (removed when ``stack`` closes). ``extra_filter`` is one more OData clause for Graph."""
    return fetched_inputs(inputs, graph, stack, quiet, window, extra_filter)[0]


def fetched_inputs(
    inputs: list[Path] | None,
    graph: GraphSource,
    stack: ExitStack,
    quiet: bool,
    window: FetchWindow | None = None,
    extra_filter: str | None = None,
) -> tuple[list[Path], list[str]]:
    """``graph_inputs`` and the fetch's notes (a window reaching past what Graph keeps), as
    the fetch worked them out: its window is not resolved a second time.

    ``InputError`` for files and --graph together or neither, and for a Graph option given
    without --graph, which would otherwise be silently ignored. (The window applies to files
    too: the command selects its period from what was read.)
    """
    if bool(inputs) == graph.enabled:
        raise InputError("INPUT...", "give exports or stores to read, or --graph (not both)")
    if not graph.enabled:
        # --app also chooses among the apps of files and stores (scope.choose); the window
        # selects the period of what was read
        given = [o for o in options_given(graph) if o != "--app"]
        if given:
            raise InputError(given[0], "only applies with --graph")
        return list(inputs or []), []
    options = fetch_options(graph.sign_in, window or FetchWindow(), graph.events, extra_filter)
    fetched = stack.enter_context(fetched_folder(options, quiet))
    return [fetched.folder], fetched.notes


def load_for_analysis(inputs: list[Path] | None, graph: GraphSource, quiet: bool,
                      window: FetchWindow | None = None) -> Dataset:
    """The inputs, or the live fetch, for `diagnose` and `report`. Graph having no event for
    the window is an empty dataset noting the request it answered: a quiet period (Entra
    logs only changes), which a scheduled run must not fail for. A window reaching past the
    30 days Graph keeps is noted in the outputs too, not on stderr alone: its first days are
    gone, not quiet (a window wholly past them is refused by the fetch)."""
    with ExitStack() as stack:
        try:
            paths, notes = fetched_inputs(inputs, graph, stack, quiet, window)
            dataset = load_inputs(paths, quiet, analysis_only=True)
        except NothingFetched as exc:
            dataset = Dataset(Frames.concat([]),
                              notes=[f"Microsoft Graph returned {exc.message}"])
            notes = exc.notes
    dataset.notes += notes
    return dataset
