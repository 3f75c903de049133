"""Where `why` reads events: every event in memory, the rest fetched per event.

`why` needs every event of an export (to find the person) but steps and modified properties
only of the few thousand events that can explain them. On a store without an identity index,
reading all 800,000 steps would cost more than the whole answer, so the events are read
eagerly and the rest filtered at scan. A store with an index is read by
``why.indexed.IndexedStore``, which answers the same questions without every event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from diagnostics.rulekit import Context
from loganalyzer.file_order import FileEnds, newest_first_files
from loganalyzer.ingest import check_store, read_manifest, side_frames
from loganalyzer.normalize import Frames
from loganalyzer.problems import Problem, across_cuts, cut_off, cut_within
from loganalyzer.readers.sources import is_store
from loganalyzer.schema import empty_frame
from loganalyzer.store_index import IDENTIFIER_COLUMNS
from loganalyzer.why.folding import folded_name, folded_query, spelt_out_name

if TYPE_CHECKING:  # it looks people up as ``lookup`` does, which reads this module
    from loganalyzer.why.elsewhere import AppNaming, OtherApps

# (frame name, event ids, columns or None for all) -> the rows of those events
Fetch = Callable[[str, pl.Series, list[str] | None], pl.DataFrame]

# The event columns needed to find a person and pick what can explain them; the other
# columns (reasons, bodies, ...) are read only for the events picked.
INDEX_COLUMNS = (
    "event_id", "activity_time", "job_id", "cycle_id", "app_name", "service_principal_id",
    "target_system", "action", "status",
    "object_type", "source_id", "source_display_name", "target_id", "upn", "mail",
    "user_name_sent", "email_sent", "external_id", "identity_key", "source_file",
    "source_record",
)


@dataclass
class Coverage:
    """What the export covers, for 'nobody matches' answers."""

    events: int
    start: datetime | None
    end: datetime | None
    apps: list[str]


def without_groups(events: pl.DataFrame) -> pl.DataFrame:
    """Groups are never the answer to 'why USER'."""
    return events.filter(pl.col("object_type").fill_null("") != "Group")


def latest_cycles(events: pl.DataFrame, jobs: Sequence[str | None] | None = None) -> list[str]:
    """The newest cycle of each job (of ``jobs`` only, when given: a person's own, since a
    sandbox app's halted job stops nobody of production): what the job looks like now
    (``events``: job_id, cycle_id, activity_time); of two ending in the same second, the
    greater id."""
    if jobs is not None:
        events = events.filter(pl.col("job_id").is_in([j for j in jobs if j is not None])
                               | (pl.col("job_id").is_null() & pl.lit(None in jobs)))
    return (
        events.filter(pl.col("cycle_id").is_not_null())
        .group_by("job_id", "cycle_id")
        .agg(pl.col("activity_time").max())
        .sort("activity_time", "cycle_id")
        .group_by("job_id")
        .agg(pl.col("cycle_id").last())["cycle_id"]
        .to_list()
    )


def group_events(events: pl.DataFrame, query: str) -> int:
    """How many events are of a group named (or with the object id) ``query``, compared as
    people's names are (``folding``), its Nordic letters spelt out when nothing else
    matched ("flowcase users orebro" is Flowcase Users Örebro)."""
    wanted = folded_query(query)
    groups = events.filter(pl.col("object_type") == "Group")
    named = groups.filter((folded_name("source_display_name") == wanted) | (
        pl.col("source_id").str.to_lowercase() == wanted))
    if named.is_empty() and wanted:
        named = groups.filter(spelt_out_name("source_display_name", wanted, whole=True))
    return named.height


# the events whose error text may name someone else (Flowcase's 409 names who it holds)
MENTION_STATUSES = ("failure", "warning")
MENTION_COLUMNS = ("activity_time", "action", "upn", "source_display_name", "error_reason")


def naming(query: str) -> pl.Expr:
    """An event whose error text holds ``query`` (case-insensitively)."""
    return pl.col("error_reason").str.to_lowercase().str.contains(query.strip().lower(),
                                                                  literal=True)


def group_names(events: pl.DataFrame, query: str) -> list[str]:
    """The names of groups that hold ``query`` (folded as people's names are, its Nordic
    letters spelt out when nothing else matched), sorted."""
    names = events.filter(pl.col("object_type") == "Group")["source_display_name"].unique()
    return names_holding(names.drop_nulls().to_frame("value"), query)


def names_holding(names: pl.DataFrame, query: str) -> list[str]:
    """The ``value`` names that hold ``query`` folded, or else with its Nordic letters spelt
    out, sorted."""
    wanted = folded_query(query)
    held = names.filter(folded_name("value").str.contains(wanted, literal=True))
    if held.is_empty() and wanted:
        held = names.filter(spelt_out_name("value", wanted, whole=False))
    return held["value"].unique().sort().to_list()


@dataclass
class FrameSource:
    """Every event (at least ``INDEX_COLUMNS``) in memory; whole rows and their steps and
    modified properties on demand."""

    events: pl.DataFrame
    fetch: Fetch = field(repr=False)
    problems: list[Problem] = field(default_factory=list)
    # the input files that list the newest event first (``file_order``)
    newest_first: list[str] = field(default_factory=list)
    # the apps ``scope.choose`` left out, to say where someone never seen here is
    others: OtherApps | None = None
    # every event's steps, properties and details, lazily (``sent_anywhere``)
    whole: Callable[[], list[Frames]] | None = field(default=None, repr=False)

    @staticmethod
    def from_frames(frames: Frames, problems: Iterable[Problem] = ()) -> FrameSource:
        """``problems``: what reading them noted (a file cut off may have lost events)."""
        def fetch(name: str, ids: pl.Series, columns: list[str] | None) -> pl.DataFrame:
            # lazy when the frames came from a store (a large export is read through one)
            rows = getattr(frames, name).lazy().filter(pl.col("event_id").is_in(ids.implode()))
            return (rows.select(columns) if columns else rows).collect()

        return FrameSource(frames.events, fetch, list(problems),
                           newest_first_files(frames.events), whole=lambda: [frames])

    @staticmethod
    def from_stores(stores: list[Path]) -> FrameSource:
        """Stores written by ``loganalyzer ingest``; an event in two stores counts once."""
        for store in stores:
            check_store(store)
        events = pl.concat(
            [pl.read_parquet(s / "events.parquet", columns=list(INDEX_COLUMNS)) for s in stores]
        ).unique("event_id", keep="first", maintain_order=True)

        def fetch(name: str, ids: pl.Series, columns: list[str] | None) -> pl.DataFrame:
            parts = [read_matching(s / f"{name}.parquet", ids, columns) for s in stores]
            if len(parts) == 1:
                return parts[0]
            key = {"events": ["event_id"], "steps": ["event_id", "step_index"],
                   "modified_properties": ["event_id", "property_index"]}[name]
            return pl.concat(parts).unique(key, maintain_order=True)

        return FrameSource(events, fetch, stored_problems(stores), newest_first_files(events),
                           whole=lambda: [store_frames(s) for s in stores])

    def narrowed(self, events: pl.DataFrame, others: OtherApps | None) -> FrameSource:
        """The same source holding only these events (``scope.choose`` or a period picked
        them) and ``others``, the apps left out."""
        return FrameSource(events, self.fetch, self.problems, self.newest_first, others,
                           self.whole)

    # What a question can reach. In memory that is every event; an indexed store reads just
    # these rows (``why.indexed``), so `lookup` and `query` ask here instead of filtering
    # ``events`` themselves.

    def candidates(self, query: str) -> pl.DataFrame:
        """Events a lookup of ``query`` (stripped, lower-cased) must see: all of them here."""
        return self.events

    def reach(self, cycles: Iterable[str], identifiers: Iterable[str]) -> pl.DataFrame:
        """Events that can explain a person: those already found, the events of ``cycles``
        and those logging one of ``identifiers`` (lower-cased). All of them here."""
        return self.events

    def coverage(self) -> Coverage:
        apps = self.events["app_name"].drop_nulls().unique().sort().to_list()
        return Coverage(self.events.height, self.events["activity_time"].min(),
                        self.events["activity_time"].max(), apps)

    def identifiers(self) -> set[str]:
        """Every identifier of a user, lower-cased (for 'did you mean')."""
        found = without_groups(self.events)
        names: set[str] = set()
        for column in IDENTIFIER_COLUMNS:
            names.update(found[column].drop_nulls().unique().str.to_lowercase().to_list())
        return names

    def latest_cycles(self, jobs: Sequence[str | None] | None = None) -> list[str]:
        return latest_cycles(self.events, jobs)

    def jobs(self) -> list[str]:
        """The sync jobs the events are of, sorted."""
        return self.events["job_id"].drop_nulls().unique().sort().to_list()

    def group_events(self, query: str) -> int:
        return group_events(self.events, query)

    def group_names(self, query: str) -> list[str]:
        """Groups whose name holds ``query``: a part of a group's name is not a user."""
        return group_names(self.events, query)

    def mentions(self, query: str) -> pl.DataFrame:
        """Events whose error text names ``query`` (``MENTION_COLUMNS``, oldest first): who
        is never seen as a user may be named in another's error (Flowcase already holds an
        account with that identifier)."""
        failed = self.events.filter(pl.col("status").is_in(MENTION_STATUSES))
        reasons = self.fetch("events", failed["event_id"], ["event_id", "error_reason"])
        return (failed.join(reasons, on="event_id").filter(naming(query))
                .sort("activity_time").select(MENTION_COLUMNS))

    def in_other_apps(self, query: str) -> list[AppNaming]:
        """The apps left out with events about ``query`` (asked only of someone never seen)."""
        return self.others.naming(query) if self.others else []

    def cut_after(self, moment: datetime | None) -> list[str]:
        """The inputs cut off whose lost events may be newer than ``moment`` (None: any): a
        person's later events, or all of someone never seen, may be among them."""
        if not cut_off(self.problems):
            return []
        return cut_within(self.problems, self.file_times(), start=moment)

    def file_times(self) -> dict[str, tuple[datetime, datetime]]:
        """Each input file's first and last record read (``file_order``)."""
        ends = FileEnds()
        ends.add(self.events)
        return ends.times()

    def sent_anywhere(self, key_pattern: str) -> bool:
        """Whether any of the events (of the chosen apps and period) sent an attribute whose
        folded key matches ``key_pattern``, as the rules read what was sent: what a rule
        judging a few cycles cannot see (``Context.sent_outside``). Reads every event's
        properties and details: asked only when a rule would fire on an absence."""
        sent = [sent_by(frames, key_pattern) for frames in (self.whole() if self.whole else [])]
        return any(self.any_of(ids) for ids in sent if len(ids))

    def any_of(self, event_ids: pl.Series) -> bool:
        """Whether one of these events is among the source's (chosen) events."""
        return bool(event_ids.is_in(self.events["event_id"].implode()).any())

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """Read the steps and properties of these events at once (a hint; nothing here)."""

    # Rows of events already found.

    def subset(self, event_ids: Iterable[str]) -> Frames:
        """The canonical frames of just these events."""
        ids = _ids(event_ids)
        return Frames(
            self.fetch("events", ids, None),
            self.fetch("steps", ids, None),
            self.fetch("modified_properties", ids, None),
        )

    def rows(self, event_ids: Iterable[str], columns: Iterable[str]) -> pl.DataFrame:
        """Some columns of these events (cheaper than whole rows on a store)."""
        return self.fetch("events", _ids(event_ids), list(columns))

    def steps_of(
        self, event_ids: Iterable[str], columns: list[str] | None = None
    ) -> pl.DataFrame:
        ids = _ids(event_ids)
        if len(ids):
            return self.fetch("steps", ids, columns)
        empty = empty_frame("steps")
        return empty.select(columns) if columns else empty


def sent_by(frames: Frames, key_pattern: str) -> pl.Series:
    """The ids of the events of ``frames`` that sent an attribute whose folded key matches
    ``key_pattern`` (``Context.sent_values``: the rules' own reading)."""
    ctx = Context(frames)
    try:
        sent = ctx.sent_values(key_pattern).select("event_id").unique()
        return sent.collect(engine="streaming")["event_id"]
    finally:
        ctx.close()


def store_frames(store: Path) -> Frames:
    """A store's steps, properties and details scanned lazily, without its events: what
    ``sent_by`` reads."""
    lazy, details = side_frames(store)
    return Frames(empty_frame("events"), lazy["steps"], lazy["modified_properties"], details)


def _ids(event_ids: Iterable[str]) -> pl.Series:
    return pl.Series("event_id", list(event_ids), dtype=pl.Utf8)


def scan_matching(path: Path, ids: pl.Series, columns: list[str] | None) -> pl.LazyFrame:
    """The rows of these events: Polars pushes the filter into the Parquet scan and decodes
    the other columns only for matching rows."""
    rows = pl.scan_parquet(path).filter(pl.col("event_id").is_in(ids.implode()))
    if columns is not None:
        rows = rows.select(list(dict.fromkeys(["event_id", *columns])))
    return rows


def read_matching(path: Path, ids: pl.Series, columns: list[str] | None) -> pl.DataFrame:
    return scan_matching(path, ids, columns).collect()


def stored_problems(stores: list[Path]) -> list[Problem]:
    """What the stores' manifests list, each once, and a cut that another store reaches
    across (the re-export's store beside the cut file's) said so, as ``ingest.load`` says:
    each file's span is taken in every store, before an event in two counts once."""
    problems = list(dict.fromkeys(
        Problem(**p) for s in stores for p in read_manifest(s).get("problems", [])))
    if len(stores) < 2 or not cut_off(problems):
        return problems
    spans = FileEnds()
    for store in stores:
        spans.add(pl.scan_parquet(store / "events.parquet").select(FileEnds.COLUMNS))
    return across_cuts(problems, spans)


def all_stores(inputs: list[Path]) -> bool:
    return bool(inputs) and all(is_store(p) for p in inputs)
