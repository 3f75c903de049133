"""The `why` command: parse options, call ``query.why``, print. Exit 2 unless one person matched."""

from __future__ import annotations

import json
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import Annotated

import polars as pl
import typer

from diagnostics.facts.job_status import JobStatus
from loganalyzer import scope
from loganalyzer.cli.check import ConfigDir, config_for
from loganalyzer.cli.common import Quiet, app, err, fail_input, load_inputs
from loganalyzer.cli.fetch import FetchWindow, NothingFetched
from loganalyzer.cli.graph_inputs import GraphSource, InputsOrGraph, graph_inputs
from loganalyzer.cli.options import JobStatusOption, with_options
from loganalyzer.cli.outputs import Format, output_options, targets, write
from loganalyzer.config.check import to_json as config_json
from loganalyzer.config.with_logs import configured_job, confirm, section, terminal_section
from loganalyzer.graph.query import user_filter
from loganalyzer.graph.state import fetched_windows
from loganalyzer.ingest import lacks_skip_classes, read_manifest
from loganalyzer.job_status_file import read_job_status
from loganalyzer.normalize import Frames
from loganalyzer.periods import Window, choose_period, period_note
from loganalyzer.problems import ALL_IN_MANIFEST, InputError, summarize_problems, unread_note
from loganalyzer.schema import empty_frame
from loganalyzer.why.elsewhere import OtherApps
from loganalyzer.why.folding import as_typed
from loganalyzer.why.frame_source import FrameSource, all_stores
from loganalyzer.why.indexed import IndexedStore
from loganalyzer.why.query import WhyAnswer, to_json, why
from loganalyzer.why.render import TIMELINE_LIMIT, render_markdown, render_terminal

WhyOutput = output_options("why", (Format.terminal, Format.md, Format.json), Format.terminal)


def _check_order(user: str, inputs: list[Path] | None) -> None:
    """``why export.json anna@x.no``: the user is a file, and the input no file: swapped."""
    if inputs and Path(user).exists() and not all(p.exists() for p in inputs):
        raise InputError(user, "a file or folder, not a user; USER comes first: "
                         "loganalyzer why USER INPUT...")


def _load(inputs: list[Path], quiet: bool, apps: list[str] | None,
          indexed: bool = True) -> tuple[FrameSource, list[str]]:
    """Flowcase's events (``scope.choose``; ``ScopeError`` when none or several apps could be
    Flowcase's) and the notes on the rest. A store with an identity index is read through it
    (``indexed``: unless a period is asked for); other stores lazily (events now, steps per
    event later); exports, and stores written before events kept their skip class, are
    loaded whole."""
    names = ", ".join(str(p) for p in inputs)
    if not all_stores(inputs) or any(lacks_skip_classes(p) for p in inputs):
        dataset = load_inputs(inputs, quiet)
        chosen = scope.choose(dataset.frames, apps or (), names)
        source = FrameSource.from_frames(chosen.frames, dataset.problems)
        source.others = OtherApps.left_out(dataset.frames.events, chosen)
        return source, chosen.notes() + dataset.input_notes()
    try:
        store = IndexedStore.open(inputs) if indexed else None
        source = store or FrameSource.from_stores(inputs)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise fail_input(InputError(names, f"unreadable store ({exc}); re-run ingest")) from None
    for line in summarize_problems(source.problems, where_all=ALL_IN_MANIFEST):
        err(line)
    # what ingest noted of the files (as `diagnose` on the store says), then unread records
    stored = [note for path in inputs for note in read_manifest(path).get("notes", [])]
    unread = [unread_note(source.problems)] if source.problems else []
    if store is not None:
        return store, store.choose(apps or (), names) + stored + unread
    index = Frames(source.events, empty_frame("steps"), empty_frame("modified_properties"))
    chosen = scope.choose(index, apps or (), names)
    others = OtherApps.left_out(source.events, chosen)
    return source.narrowed(chosen.frames.events, others), chosen.notes() + stored + unread


JobOf = Callable[[FrameSource], JobStatus | None]  # the job status for the events read


def _why(paths: list[Path], user: str, job_of: JobOf, quiet: bool,
         apps: list[str] | None, window: FetchWindow | None = None) -> WhyAnswer:
    """``window``: the period of files and stores to judge (with --graph the fetch asked)."""
    period = window is not None and any((window.since, window.date_from, window.date_to))
    source, notes = _load(paths, quiet, apps, indexed=not period)
    chosen = _in_period(source, window, fetched_windows(paths)) if window and period else source
    answer = why(chosen, user, job_of(source))
    answer.notes = notes + answer.notes
    return answer


def _in_period(source: FrameSource, window: FetchWindow,
               fetched: list[Window] | None = None) -> FrameSource:
    """Files and stores: only the events of --since/--from/--to, as for `diagnose` (on a
    folder ``fetch`` wrote, within the windows it ``fetched``). A quiet stretch of the input
    is nobody's story: said with the input's span (or the days of it not fetched), exit 2."""
    period = choose_period(source.events, window.since, window.date_from, window.date_to,
                           fetched)
    if period is None:
        return source
    at = pl.col("activity_time")
    within = (at >= period.start) & (at < period.end)
    chosen = source.events.filter(within)
    if chosen.is_empty():
        options = [name for name, given in (("--since", window.since), ("--from",
                   window.date_from), ("--to", window.date_to)) if given]
        raise InputError("/".join(options),
                         period_note(period, source.events, fetched or [], empty=True))
    return source.narrowed(chosen, source.others.where(within) if source.others else None)


def _answer(user: str, inputs: list[Path] | None, graph: GraphSource, window: FetchWindow,
            job_of: JobOf, quiet: bool) -> WhyAnswer:
    """With --graph, ask Graph for this user's events only where it can filter on them; its
    filters are case-sensitive, so when that finds nobody, fetch the whole window and match
    case-insensitively here."""
    narrowed = user_filter(as_typed(user)) if graph.enabled else None
    apps = graph.events.app_name
    with ExitStack() as stack:
        if narrowed:
            try:
                paths = graph_inputs(inputs, graph, stack, quiet, window, narrowed)
                answer = _why(paths, user, job_of, quiet, apps)
                if answer.lookup.people:
                    return answer
            except (NothingFetched, scope.ScopeError):
                pass  # nothing of this user, or only in other apps: judge the whole window
            err(f"note: Graph found nobody with {narrowed} (its filters are case-sensitive); "
                "fetching the whole window to match here")
        paths = graph_inputs(inputs, graph, stack, quiet, window)
        return _why(paths, user, job_of, quiet, apps, None if graph.enabled else window)


@app.command("why")
@with_options(window=FetchWindow, graph=GraphSource, out=WhyOutput)
def why_command(
    user: Annotated[str, typer.Argument(metavar="USER", help="UPN, mail, userName/email sent, "
                                        "externalId, Entra object id, Flowcase id or display "
                                        "name.")],
    inputs: InputsOrGraph = None,
    job_status: JobStatusOption = None,
    limit: Annotated[
        int, typer.Option("--limit", help="Latest events shown (terminal, md); 0 = all.")
    ] = TIMELINE_LIMIT,
    config_dir: ConfigDir = None,
    *,
    out: WhyOutput,
    graph: GraphSource,
    window: FetchWindow,
    quiet: Quiet = False,
) -> None:
    """Why did this user fail, or why are they not in Flowcase? Timeline, verdict and fix.

    Reads exports or stores, or with --graph fetches this user's events of the window (default:
    the last 7 days) from Microsoft Graph first. Exit codes: 0 one person found, 2 nobody or
    several (the answer says which), bad input or options, 3 Graph unavailable.
    """
    try:
        _check_order(user, inputs)
        found = targets(out)
        window.check()
        given = read_job_status(job_status) if job_status else None
        configuration, config_notes = config_for(config_dir, graph, quiet)
        answer = _answer(user, inputs, graph, window,
                         lambda source: given or configured_job(configuration, source.jobs),
                         quiet)
        answer.notes += config_notes
        confirm([answer.verdict, *answer.job_wide, *answer.explanations], configuration)
        write(found, {
            Format.json: lambda: json.dumps(
                to_json(answer)
                | ({"configuration": config_json(configuration)} if configuration else {}),
                indent=2),
            Format.md: lambda: section(render_markdown(answer, limit), configuration, "md"),
            Format.terminal: lambda: terminal_section(render_terminal(answer, limit),
                                                      configuration),
        }, quiet)
    except InputError as exc:
        raise fail_input(exc) from None
    if not answer.resolved:
        raise typer.Exit(2)
