"""`why` on a store with an identity index (``store_index``): read only what a question reaches.

The index names, for every identifier, the key its events are read by (the Entra object id,
else the identity key, else the event id). A lookup reads the events of the keys whose
identifiers match the query, plus what ``why.lookup`` needs to decide whom an event without
an object id belongs to (the objects sharing its identifiers, and the other events that may
join those objects); a person's context reads their cycles and the objects sharing their
identifiers; coverage, apps and each job's newest cycle come from the index's cycle counts.
The same code as on all events then answers, over rows read in store order, so the answer is
the same; only what is read differs. ``--since``/``--from``/``--to`` and several stores read
every event as before.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from pathlib import Path

import polars as pl

from loganalyzer import scope
from loganalyzer.file_order import FileEnds
from loganalyzer.ingest import DETAILS, DETAILS_FILE, NEWEST_FIRST, check_store, read_manifest
from loganalyzer.normalize import Frames
from loganalyzer.people_copy import (
    FLAT_STEP_COLUMNS,
    PERSON,
    ROW,  # an event's row in events.parquet: what is read in several goes stays in order
    copy_path,
    has_copy,
    person_key,
)
from loganalyzer.problems import Problem
from loganalyzer.schema import (
    DETAIL_ROWS_SCHEMA,
    FRAME_SCHEMAS,
    conformed,
    empty_frame,
)
from loganalyzer.store_index import DETAIL, IDENTIFIER_COLUMNS, READ_KEYS, StoreIndex, read_index
from loganalyzer.why.elsewhere import JOB, AppNaming, OtherApps
from loganalyzer.why.folding import (
    composed,
    escaped,
    folded_name,
    folded_query,
    spelt_out_name,
)
from loganalyzer.why.frame_source import (
    MENTION_COLUMNS,
    MENTION_STATUSES,
    Coverage,
    FrameSource,
    group_events,
    latest_cycles,
    names_holding,
    naming,
    read_matching,
    scan_matching,
    store_frames,
)
from loganalyzer.why.lookup import LINK_COLUMNS, SHARED_COLUMNS, equals_any

DETAIL_ROWS = "details"  # the prefetched step details, one per row


def lookup_keys(identities: pl.DataFrame, q: str) -> pl.DataFrame:
    """Read keys (``READ_KEYS``) of every event a lookup of ``q`` (stripped and ``folded``)
    must see: those matching it in any way ``why.lookup`` matches (exactly, by prefix, a
    display name containing it, as typed or with its Nordic letters spelt out, a step detail
    naming it); the objects that matching events without an object id may join; the events
    without one that may join those objects; and the objects those may join in turn
    (``lookup._owners`` decides among them)."""
    people = identities.filter(~pl.col("is_group"))
    column, value = pl.col("column"), pl.col("value")
    value = value if q.isascii() else composed(value)
    lowered = value.str.to_lowercase()
    hits = people.filter(
        # lower-cased as well: a step detail equal to a column value is indexed only there
        (column.is_in(IDENTIFIER_COLUMNS)
         & (value.str.contains(f"(?i)^{escaped(q)}") | lowered.str.starts_with(q)))
        | ((column == "source_display_name") & value.str.contains(f"(?i){escaped(q)}"))
        | ((column == DETAIL) & equals_any("value", [q]))
    ).select(READ_KEYS)
    names = people.filter(column == "source_display_name")  # folded alone: 10x fewer rows
    hits = pl.concat([hits, names.filter(spelt_out_name("value", q, whole=False))
                      .select(READ_KEYS)]).unique()
    links = people.filter(column.is_in(LINK_COLUMNS)).select(
        *READ_KEYS, value.str.to_lowercase().alias("_value"))
    keyed = links.filter(pl.col("source_id").is_not_null())
    orphans = links.filter(pl.col("source_id").is_null())

    def sharing(rows: pl.DataFrame, keys: pl.DataFrame) -> pl.DataFrame:
        """The keys of ``rows`` logging an identifier that ``keys`` log."""
        values = links.join(keys, on=list(READ_KEYS), nulls_equal=True)["_value"]
        return rows.filter(pl.col("_value").is_in(values.implode())).select(READ_KEYS).unique()

    unkeyed = hits.filter(pl.col("source_id").is_null())
    people_keys = pl.concat([hits.filter(pl.col("source_id").is_not_null()),
                             sharing(keyed, unkeyed)])
    joining = pl.concat([unkeyed, sharing(orphans, people_keys)]).unique()
    return pl.concat([hits, people_keys, joining, sharing(keyed, joining)]).unique()


def _of_keys(keys: pl.DataFrame) -> pl.Expr | None:
    """Events whose read key is one of ``keys`` (None: no key)."""
    source_id, identity_key = pl.col("source_id"), pl.col("identity_key")
    ids = keys["source_id"].drop_nulls().unique()
    unkeyed = keys.filter(source_id.is_null())
    names = unkeyed["identity_key"].drop_nulls().unique()
    bare = unkeyed.filter(identity_key.is_null())["event_id"].drop_nulls().unique()
    terms = []
    if len(ids):
        terms.append(source_id.is_in(ids.implode()))
    if len(names):
        terms.append(source_id.is_null() & identity_key.is_in(names.implode()))
    if len(bare):
        terms.append(source_id.is_null() & identity_key.is_null()
                     & pl.col("event_id").is_in(bare.implode()))
    return pl.any_horizontal(terms) if terms else None


def _of_persons(persons: list[str]) -> pl.Expr:
    """Rows of the people copy of these persons. Given as a list: Polars skips the row groups
    whose statistics rule out a list's values, not an imploded Series' (1M store, a person's
    events: 0.07 s of CPU, 0.78 s with the Series)."""
    return pl.col(PERSON).is_in(persons)


class IndexedStore(FrameSource):
    """A store read through its identity index; ``open`` gives None for a store without one."""

    def __init__(self, store: Path, index: StoreIndex, manifest: dict) -> None:
        self.store = store
        self.fetch = self._fetch
        self.problems = [Problem(**p) for p in manifest.get("problems", [])]
        # written by ingest since it kept each file's direction; before, file order is kept
        self.newest_first = manifest.get(NEWEST_FIRST, [])
        self.identities = index.identities
        self.cycles = index.cycles
        self._jobs: list[str] | None = None  # the jobs `why` judges (scope); None: all
        # the apps left out (``choose``) and their identities, for ``in_other_apps``
        self.others: OtherApps | None = None
        self._others_identities = self.identities.head(0)
        self._found = self._scan().head(0).collect()  # the events read so far
        # ``people_copy``: read a person's rows from there; the events read from it
        self._copy = has_copy(store) and (store / DETAILS_FILE).exists()
        self._copied = pl.DataFrame(schema={"event_id": pl.Utf8, PERSON: pl.Utf8})
        self._keys_read = pl.DataFrame(schema=dict.fromkeys(READ_KEYS, pl.Utf8))
        self._prefetched: dict[str, tuple[set[str], pl.DataFrame]] = {}
        self._rows_file = index.rows
        self._step_rows: pl.DataFrame | None = None  # read when steps are asked for
        self.whole = lambda: [store_frames(store)]

    @staticmethod
    def open(stores: list[Path]) -> IndexedStore | None:
        """The one store of the inputs, read through its index (None: read every event;
        several stores may hold the same event, counted once only by reading them all)."""
        if len(stores) != 1:
            return None
        store = stores[0]
        index = read_index(store)
        if index is None:
            return None
        check_store(store)
        return IndexedStore(store, index, read_manifest(store))

    def __repr__(self) -> str:
        return f"IndexedStore({self.store})"

    @property
    def events(self) -> pl.DataFrame:  # type: ignore[override]
        raise TypeError("an indexed store holds no events in memory: ask candidates/reach")

    @property
    def events_read(self) -> int:
        """How many events were read so far (a person and their context, not the store)."""
        return self._found.height

    def choose(self, wanted: Sequence[str], inputs: str) -> list[str]:
        """Keep Flowcase's jobs as ``scope.choose`` does (``ScopeError`` likewise); the notes
        on the apps left out."""
        counts = self.cycles.group_by(scope.JOB_COLUMNS).agg(pl.col("events").sum())
        found = scope.apps_of(scope.jobs_of(counts))
        chosen = scope.pick(found, wanted, inputs)
        others = [a for a in found if a not in chosen]
        if others:
            self._jobs = [k for a in chosen for k in a.keys]
            self.cycles = self.cycles.filter(scope.job_key().is_in(self._jobs))
            mine = pl.col("job").is_in(self._jobs)
            self._others_identities = self.identities.filter(~mine)
            self.identities = self.identities.filter(mine)
            self.others = OtherApps(others, pl.scan_parquet(self.store / "events.parquet")
                                    .filter(~scope.job_key().is_in(self._jobs)))
        nothing = Frames(empty_frame("events"), empty_frame("steps"),
                         empty_frame("modified_properties"))
        return scope.Scope(nothing, chosen, others, bool(wanted)).notes()

    def _scan(self) -> pl.LazyFrame:
        return pl.scan_parquet(self.store / "events.parquet").with_row_index(ROW)

    def _read(self, where: pl.Expr | None, scan: pl.LazyFrame | None = None) -> pl.DataFrame:
        """The events meeting ``where`` (in the chosen jobs) in ``scan`` (the store's events
        by default), remembered in store order."""
        if where is None:
            return self._found.clear().drop(ROW)
        if self._jobs is not None:
            where = where & scope.job_key().is_in(self._jobs)
        rows = (self._scan() if scan is None else scan).filter(where).collect()
        self._found = pl.concat([self._found, rows]).unique(ROW).sort(ROW)
        return rows.drop(ROW)

    def _read_keys(self, keys: pl.DataFrame) -> None:
        """Read the events of these keys, unless read before (each read scans the store, or
        the row groups of the people copy holding them)."""
        new = keys.join(self._keys_read, on=list(READ_KEYS), how="anti", nulls_equal=True)
        where = _of_keys(new)
        if not self._copy or where is None:
            self._read(where)
        else:
            persons = new.select(pl.coalesce(READ_KEYS))[:, 0].unique().to_list()
            copied = pl.scan_parquet(copy_path(self.store, "events")).filter(
                _of_persons(persons))
            rows = self._read(where, copied.select(  # as ``_scan`` gives them
                pl.col(ROW).cast(self._found.schema[ROW]), pl.exclude(ROW, PERSON)))
            self._copied = pl.concat([self._copied, rows.select("event_id", person_key())])
        self._keys_read = pl.concat([self._keys_read, new])

    def _sharing(self, keys: pl.DataFrame) -> pl.DataFrame:
        """Keys of objects logging one of the ``SHARED_COLUMNS`` identifiers these keys log,
        compared lower-cased (``reach`` then asks exactly what ``query`` asks)."""
        shared = self.identities.filter(pl.col("column").is_in(SHARED_COLUMNS))
        mine = shared.join(keys, on=list(READ_KEYS), nulls_equal=True)
        values = mine["value"].str.to_lowercase().unique().implode()
        return shared.filter(pl.col("value").str.to_lowercase().is_in(values)).select(
            READ_KEYS).unique()

    def candidates(self, query: str) -> pl.DataFrame:
        """The events a lookup of ``query`` reaches, read with those of the objects sharing
        their identifiers: `why` asks for those next (``reach``), and one scan of the store for
        both costs what a scan for either costs."""
        keys = lookup_keys(self.identities, query)
        self._read_keys(pl.concat([keys, self._sharing(keys)]).unique())
        where = _of_keys(keys)
        return self._found.filter(where if where is not None else pl.lit(False)).drop(ROW)

    def reach(self, cycles: Iterable[str], identifiers: Iterable[str]) -> pl.DataFrame:
        wanted = sorted(cycles)
        if wanted:
            self._read(pl.col("cycle_id").is_in(wanted))
        names = list(identifiers)
        if names:
            sharing = self.identities.filter(pl.col("column").is_in(SHARED_COLUMNS)
                                             & equals_any("value", names))
            self._read_keys(sharing.select(READ_KEYS).unique())
        return self._found.drop(ROW)

    def any_of(self, event_ids: pl.Series) -> bool:
        """Whether one of these events is of the chosen jobs (read from the store, not
        remembered: they are nobody's context)."""
        where = pl.col("event_id").is_in(event_ids.implode())
        if self._jobs is not None:
            where = where & scope.job_key().is_in(self._jobs)
        events = pl.scan_parquet(self.store / "events.parquet")
        return events.filter(where).select("event_id").head(1).collect().height > 0

    def coverage(self) -> Coverage:
        apps = self.cycles["app_name"].drop_nulls().unique().sort().to_list()
        return Coverage(int(self.cycles["events"].sum()), self.cycles["first"].min(),
                        self.cycles["last"].max(), apps)

    def identifiers(self) -> set[str]:
        named = self.identities.filter(
            ~pl.col("is_group") & pl.col("column").is_in(IDENTIFIER_COLUMNS))
        return set(named["value"].str.to_lowercase().unique().to_list())

    def jobs(self) -> list[str]:
        return self.cycles["job_id"].drop_nulls().unique().sort().to_list()

    def latest_cycles(self, jobs: Sequence[str | None] | None = None) -> list[str]:
        return latest_cycles(self.cycles.select("job_id", "cycle_id",
                                                pl.col("last").alias("activity_time")), jobs)

    def group_events(self, query: str) -> int:
        wanted = folded_query(query)
        groups = self.identities.filter(
            pl.col("is_group") & pl.col("column").is_in(["source_display_name", "source_id"]))
        named = groups.filter(folded_name("value") == wanted)
        if named.is_empty() and wanted:  # as group_events spells it out
            named = groups.filter((pl.col("column") == "source_display_name")
                                  & spelt_out_name("value", wanted, whole=True))
        return group_events(self._read(_of_keys(named.select(READ_KEYS).unique())), query)

    def group_names(self, query: str) -> list[str]:
        names = self.identities.filter(
            pl.col("is_group") & (pl.col("column") == "source_display_name"))
        return names_holding(names.select("value").unique(), query)

    def mentions(self, query: str) -> pl.DataFrame:
        """One scan of the store's failures' error texts (asked only of someone never seen)."""
        where = pl.col("status").is_in(MENTION_STATUSES) & naming(query)
        if self._jobs is not None:
            where = where & scope.job_key().is_in(self._jobs)
        return (pl.scan_parquet(self.store / "events.parquet").filter(where)
                .select(MENTION_COLUMNS).sort("activity_time").collect())

    def in_other_apps(self, query: str) -> list[AppNaming]:
        """The index names the objects of the other apps that log ``query``; only their
        events are read, in one scan of the store, and none when no object does."""
        q = folded_query(query)
        if self.others is None or not q:
            return []
        people = self._others_identities.filter(~pl.col("is_group"))
        named = people.filter(pl.col("column").is_in(IDENTIFIER_COLUMNS)
                              & equals_any("value", [q]))
        if named.is_empty():  # as OtherApps.naming spells it out
            named = people.filter((pl.col("column") == "source_display_name")
                                  & spelt_out_name("value", q, whole=True))
        objects = named.select(*READ_KEYS, JOB).unique()
        where = _of_keys(objects)
        return [] if where is None else self.others.where(where).counted(objects.lazy())

    def file_times(self) -> dict[str, tuple[datetime, datetime]]:
        """Three columns of every event read (asked only of a store cut off)."""
        ends = FileEnds()
        ends.add(pl.scan_parquet(self.store / "events.parquet").select(FileEnds.COLUMNS))
        return ends.times()

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """One read of the steps, step details and properties of all these events, the three
        side by side. The steps are read without their ``details`` column when the store
        keeps the details one per row: that nested column cost most of the read (1M store,
        7,600 events: 0.72 s with it, 0.20 s without, 0.16 s for their rows of details), and
        the rules read details from ``Frames.details`` whenever it is there."""
        wanted = set(event_ids)
        ids = pl.Series("event_id", sorted(wanted), dtype=pl.Utf8)
        properties = self.store / "modified_properties.parquet"
        if (self.store / DETAILS_FILE).exists():
            reads = {
                "steps": self._matching("steps", ids, FLAT_STEP_COLUMNS),
                "modified_properties": self._matching("modified_properties", ids, None),
                DETAIL_ROWS: conformed(self._matching(DETAILS, ids, None), DETAIL_ROWS_SCHEMA),
            }
            frames = dict(zip(reads, pl.collect_all(list(reads.values())), strict=True))
        else:
            frames = {"steps": self._steps_of(ids),
                      "modified_properties": read_matching(properties, ids, None)}
        self._prefetched = {name: (wanted, frame) for name, frame in frames.items()}

    def _matching(self, name: str, ids: pl.Series, columns: Sequence[str] | None
                  ) -> pl.LazyFrame:
        """The rows of file ``name`` of these events, in store order. From the people copy
        when the store has one: the rows of the events read from it by their persons, the
        rest (the cycles around the person) by their rows; either way from a few of its row
        groups, where the store's own file is scanned whole for the event ids (1M store,
        7,500 events of three cycles: 0.03 s of CPU for their step details, 0.15 s)."""
        own = scan_matching(self.store / f"{name}.parquet", ids, columns)
        wanted = pl.col("event_id").is_in(ids.implode())
        rows = self._found.filter(wanted)
        if not self._copy or rows.height < ids.n_unique():  # an event not read: by its id
            return own
        copied = self._copied.filter(wanted)
        others = rows.filter(~pl.col("event_id").is_in(copied["event_id"].implode()))
        copy = pl.scan_parquet(copy_path(self.store, name))
        parts = [
            copy.filter(_of_persons(copied[PERSON].unique().to_list())
                        & pl.col("event_id").is_in(copied["event_id"].implode())),
            copy.filter(pl.col(ROW).is_in(others[ROW].to_list())),  # a list: see _of_persons
        ]
        return pl.concat(parts).sort(ROW, maintain_order=True).select(own.collect_schema().names())

    def subset(self, event_ids: Iterable[str]) -> Frames:
        """The canonical frames of these events; with the store's step details one per row
        (read by ``prefetch``), the steps without their nested ``details`` column."""
        known, details = self._prefetched.get(DETAIL_ROWS, (set(), None))
        ids = pl.Series("event_id", list(event_ids), dtype=pl.Utf8)
        if details is None or not set(ids.to_list()) <= known:
            return super().subset(ids)
        wanted = pl.col("event_id").is_in(ids.implode())
        return Frames(self.fetch("events", ids, None),
                      self.fetch("steps", ids, list(FLAT_STEP_COLUMNS)),
                      self.fetch("modified_properties", ids, None),
                      details.filter(wanted).lazy())

    def _steps_of(self, ids: pl.Series) -> pl.DataFrame:
        """The steps of these events, in store order. Only their runs of rows are read (a
        filtered scan decodes every column of every row group holding one of them: all of
        them for a person seen every week of a month), located by the index, else by a scan
        of the event id column."""
        scan = pl.scan_parquet(self.store / "steps.parquet")
        located = self._located(ids)
        if located is not None:
            spans, expected = located
            rows = _read_spans(scan, spans, ids)
            if rows.height == expected:  # the file is laid out as the index says
                return rows
        found = scan.select(pl.col("event_id").is_in(ids.implode()).arg_true()).collect()
        return _read_spans(scan, [(row, row + 1) for row in found.to_series().to_list()], ids)

    def _located(self, ids: pl.Series) -> tuple[list[tuple[int, int]], int] | None:
        """(start, end) of the steps of these events and how many, from ``rows.parquet``;
        None without it, or for an event not read yet."""
        if self._rows_file is None:
            return None
        if self._step_rows is None:
            self._step_rows = pl.read_parquet(self._rows_file)
        at = self._found.filter(pl.col("event_id").is_in(ids.implode()))[ROW]
        if len(at) < ids.n_unique():
            return None
        spans = self._step_rows[at.to_list()].drop_nulls().sort("start")
        return [(start, start + rows) for start, rows in spans.iter_rows()], int(
            spans["rows"].sum())

    def _fetch(self, name: str, ids: pl.Series, columns: list[str] | None) -> pl.DataFrame:
        wanted = pl.col("event_id").is_in(ids.implode())
        if name == "events":
            missing = ids.filter(~ids.is_in(self._found["event_id"].implode()))
            if len(missing):
                self._read(pl.col("event_id").is_in(missing.implode()))
            rows = self._found.filter(wanted).drop(ROW)
        else:
            known, read = self._prefetched.get(name, (set(), None))
            asked = columns or FRAME_SCHEMAS[name]  # the steps were read without ``details``
            has_columns = read is not None and set(asked) <= set(read.columns)
            rows = (read.filter(wanted) if has_columns and set(ids.to_list()) <= known
                    else self._steps_of(ids) if name == "steps"
                    else read_matching(self.store / f"{name}.parquet", ids, None))
        return rows.select(list(dict.fromkeys(["event_id", *columns]))) if columns else rows


# rows between two spans read as one slice; longer slices decode whole pages (150 MB more at 1M)
GAP = 2_000


def _read_spans(scan: pl.LazyFrame, spans: list[tuple[int, int]], ids: pl.Series
                ) -> pl.DataFrame:
    """The rows of ``ids`` among these sorted (start, end) row spans, close spans read as one."""
    runs: list[list[int]] = []
    for start, end in spans:
        if runs and start - runs[-1][1] <= GAP:
            runs[-1][1] = max(runs[-1][1], end)
        else:
            runs.append([start, end])
    if not runs:
        return scan.head(0).collect()
    wanted = pl.col("event_id").is_in(ids.implode())
    return pl.concat([scan.slice(start, end - start).filter(wanted) for start, end in runs]
                     ).collect()
