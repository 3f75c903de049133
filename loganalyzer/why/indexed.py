"""`why` on a store with an identity index (``store_index``): read only what a question reaches.

The index names, for every identifier, the key its events are read by (the Entra object id,
else the identity key, else the event id). A lookup reads the events of the keys whose
identifiers match the query, plus what ``why.lookup`` needs to decide whom an event without
an object id belongs to (the objects sharing its identifiers, and the other events that may
join those objects); a person's context reads their cycles and the objects sharing their
identifiers; coverage, apps and each job's newest cycle come from the index's cycle counts.
The same code as on all events then answers, over rows read in store order, so the answer is
the same; only what is read differs. ``--since``/``--from``/``--to`` read every event as before.

Several stores (weekly stores, asked together) are read as one: the identities of all their
indexes are looked up together, each read is done in every store, and an event held by
several is kept once, from the first store holding it, as ``FrameSource.from_stores`` keeps
it (a later store's row of an event id an earlier store holds is dropped: ``_held_earlier``);
its steps, properties and details are read from that store alone, and the cycles count it
once (``_exact_cycles``). Each store's people copy (``people_copy``) serves that store's rows;
a store without one (ingested before it) is read from its own files.
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
from loganalyzer.schema import (
    DETAIL_ROWS_SCHEMA,
    FRAME_SCHEMAS,
    conformed,
    empty_frame,
)
from loganalyzer.store_index import (
    DETAIL,
    IDENTIFIER_COLUMNS,
    READ_KEYS,
    StoreIndex,
    cycles,
    merged_cycles,
    read_index,
)
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
    scan_matching,
    store_frames,
    stored_problems,
)
from loganalyzer.why.lookup import LINK_COLUMNS, SHARED_COLUMNS, equals_any

STORE = "_store"  # the store (its place among the inputs) an event's row was read from
ORDER = [STORE, ROW]
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



def _id_hash() -> pl.Expr:
    """An event's id as two 64-bit hashes: two ids alike in both are as unlikely as two random
    UUIDs alike. Counting the cycles of two 1M-event stores took 0.8 s and 130 MB with them,
    1.7 s and 250 MB with the ids themselves."""
    event_id = pl.col("event_id")
    return pl.struct(event_id.hash(1).alias("a"), event_id.hash(2).alias("b"))


class IndexedStore(FrameSource):
    """Stores read through their identity indexes; ``open`` gives None when one has none."""

    def __init__(self, stores: list[Path], indexes: list[StoreIndex], manifests: list[dict]
                 ) -> None:
        self.stores = stores
        self.fetch = self._fetch
        self.problems = stored_problems(stores)
        # written by ingest since it kept each file's direction; before, file order is kept
        self.newest_first = list(dict.fromkeys(
            file for manifest in manifests for file in manifest.get(NEWEST_FIRST, [])))
        self.identities = (indexes[0].identities if len(indexes) == 1  # distinct already
                           else pl.concat([i.identities for i in indexes]).unique(
                               maintain_order=True))
        # the event ids of each store but the last (``_held_earlier``), hashed: 16 MB a 1M store
        self._ids = [pl.scan_parquet(s / "events.parquet").select(_id_hash())
                     .collect(engine="streaming").to_series() for s in stores[:-1]]
        self.cycles = self._exact_cycles(indexes)
        self._jobs: list[str] | None = None  # the jobs `why` judges (scope); None: all
        # the apps left out (``choose``) and their identities, for ``in_other_apps``
        self.others: OtherApps | None = None
        self._others_identities = self.identities.head(0)
        self._found = self._scan().head(0).collect()  # the events read so far
        # whether each store has a ``people_copy`` (its persons' rows are read from it), and
        # the events read by person, with their store: from its copy when it has one
        self._copy = [has_copy(s) and (s / DETAILS_FILE).exists() for s in stores]
        self._copied = pl.DataFrame(schema={STORE: pl.UInt32, "event_id": pl.Utf8,
                                            PERSON: pl.Utf8})
        self._keys_read = pl.DataFrame(schema=dict.fromkeys(READ_KEYS, pl.Utf8))
        self._prefetched: dict[str, tuple[set[str], pl.DataFrame]] = {}
        self._rows_files = [i.rows for i in indexes]
        self._step_rows: dict[int, pl.DataFrame] = {}  # read when steps are asked for
        self.whole = lambda: [store_frames(s) for s in stores]

    @staticmethod
    def open(stores: list[Path]) -> IndexedStore | None:
        """The stores of the inputs, read through their indexes (None: a store has none,
        read every event)."""
        indexes = [read_index(store) for store in stores]
        if not indexes or any(index is None for index in indexes):
            return None
        for store in stores:
            check_store(store)
        return IndexedStore(stores, indexes, [read_manifest(store) for store in stores])

    def __repr__(self) -> str:
        return f"IndexedStore({', '.join(str(s) for s in self.stores)})"

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
            self.others = OtherApps(others, self._scan().filter(
                ~scope.job_key().is_in(self._jobs)))
        nothing = Frames(empty_frame("events"), empty_frame("steps"),
                         empty_frame("modified_properties"))
        return scope.Scope(nothing, chosen, others, bool(wanted)).notes()

    def _scan(self, stores: Iterable[int] | None = None, persons: list[str] | None = None
              ) -> pl.LazyFrame:
        """The events of every store (or of these), each row with its place (``ORDER``);
        with ``persons``, a store with a people copy gives theirs only, from the few row
        groups of its copy holding them."""
        parts = []
        for i in range(len(self.stores)) if stores is None else stores:
            if persons is None or not self._copy[i]:
                events = pl.scan_parquet(self.stores[i] / "events.parquet").with_row_index(ROW)
            else:
                events = pl.scan_parquet(copy_path(self.stores[i], "events")).filter(_of_persons(
                    persons)).select(pl.col(ROW).cast(pl.get_index_type()), pl.exclude(ROW, PERSON))
            parts.append(events.with_columns(pl.lit(i, pl.UInt32).alias(STORE)))
        return pl.concat(parts)
    def _held_earlier(self) -> pl.Expr:
        """A row of an event that a store before its own holds: that store's row is the one
        kept (from_stores keeps the first; an id is one event, or the first store's)."""
        hashed = _id_hash()
        return pl.any_horizontal(
            pl.lit(False), *((pl.col(STORE) > i) & hashed.is_in(ids.implode())
                             for i, ids in enumerate(self._ids)))

    def _first_copies(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Rows read from every store, without those ``_held_earlier`` (checked on the rows
        read: in the scan, every row's id would be hashed)."""
        return rows.filter(~self._held_earlier()) if self._ids else rows

    def _exact_cycles(self, indexes: list[StoreIndex]) -> pl.DataFrame:
        """The cycles of the indexes, an event held by several stores counted once: after
        the first, a store's cycles are counted again over its rows not ``_held_earlier``."""
        parts = [indexes[0].cycles]
        for i in range(1, len(self.stores)):
            parts.append(cycles(self._scan([i]).filter(~self._held_earlier()))
                         .collect(engine="streaming"))
        return merged_cycles(parts) if len(parts) > 1 else parts[0]

    def _once(self, rows: pl.DataFrame) -> pl.DataFrame:
        """Each event once, in store order."""
        return rows.unique(ORDER).sort(ORDER)

    def _read(self, where: pl.Expr | None, scan: pl.LazyFrame | None = None) -> pl.DataFrame:
        """The events meeting ``where`` (in the chosen jobs) in ``scan`` (the stores' events
        by default), remembered in store order; with their place (``ORDER``)."""
        if where is None:
            return self._found.clear()
        if self._jobs is not None:
            where = where & scope.job_key().is_in(self._jobs)
        rows = (self._scan() if scan is None else scan).filter(where).collect()
        rows = self._once(self._first_copies(rows))
        self._found = self._once(pl.concat([self._found, rows]))
        return rows

    def _read_missing(self, ids: pl.Series) -> None:
        """Read those of these events not read yet."""
        missing = ids.filter(~ids.is_in(self._found["event_id"].implode()))
        if len(missing):
            self._read(pl.col("event_id").is_in(missing.implode()))

    def _held(self, ids: pl.Series) -> list[tuple[int, pl.Series]]:
        """Each store (its place) and these events whose rows are read from it: of an event in
        several stores, the first's, as its event is kept (the first store: none)."""
        if len(self.stores) == 1:
            return [(0, ids)]
        self._read_missing(ids)
        found = self._found.filter(pl.col("event_id").is_in(ids.implode()))
        held = [(i, found.filter(pl.col(STORE) == i)["event_id"])
                for i in range(len(self.stores))]
        return [(i, mine) for i, mine in held if len(mine)] or held[:1]

    def _read_keys(self, keys: pl.DataFrame) -> None:
        """Read the events of these keys, unless read before (each read scans the store, or
        the row groups of the people copy holding them)."""
        new = keys.join(self._keys_read, on=list(READ_KEYS), how="anti", nulls_equal=True)
        persons = new.select(pl.coalesce(READ_KEYS))[:, 0].unique().to_list()
        rows = self._read(_of_keys(new), self._scan(persons=persons))
        self._copied = pl.concat([self._copied, rows.select(STORE, "event_id", person_key())])
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
        return self._found.filter(where if where is not None else pl.lit(False)).drop(ORDER)

    def reach(self, cycles: Iterable[str], identifiers: Iterable[str]) -> pl.DataFrame:
        wanted = sorted(cycles)
        if wanted:
            self._read(pl.col("cycle_id").is_in(wanted))
        names = list(identifiers)
        if names:
            sharing = self.identities.filter(pl.col("column").is_in(SHARED_COLUMNS)
                                             & equals_any("value", names))
            self._read_keys(sharing.select(READ_KEYS).unique())
        return self._found.drop(ORDER)

    def any_of(self, event_ids: pl.Series) -> bool:
        """Whether one of these events is of the chosen jobs (read from the stores, not
        remembered: they are nobody's context)."""
        where = pl.col("event_id").is_in(event_ids.implode())
        if self._jobs is not None:
            where = where & scope.job_key().is_in(self._jobs)
        found = pl.concat([pl.scan_parquet(s / "events.parquet").filter(where).select("event_id")
                           for s in self.stores])
        return found.head(1).collect().height > 0

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
        """One scan of the stores' failures' error texts (asked only of someone never seen)."""
        where = pl.col("status").is_in(MENTION_STATUSES) & naming(query)
        if self._jobs is not None:
            where = where & scope.job_key().is_in(self._jobs)
        rows = self._first_copies(self._scan().filter(where).select(
            *ORDER, "event_id", *MENTION_COLUMNS).collect())
        return rows.sort("activity_time").select(MENTION_COLUMNS)

    def in_other_apps(self, query: str) -> list[AppNaming]:
        """The index names the objects of the other apps that log ``query``; only their
        events are read, in one scan of each store, and none when no object does."""
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
        if where is None:
            return []
        found = self.others.where(where)  # an event in several stores counts once
        once = self._first_copies(found.events.collect()).lazy()
        return OtherApps(found.apps, once).counted(objects.lazy())

    def file_times(self) -> dict[str, tuple[datetime, datetime]]:
        """Three columns of every event read (asked only of a store cut off)."""
        ends = FileEnds()
        ends.add(self._scan().filter(~self._held_earlier()).select(FileEnds.COLUMNS))
        return ends.times()

    def prefetch(self, event_ids: Iterable[str]) -> None:
        """One read of the steps, step details and properties of all these events, the three
        side by side. The steps are read without their ``details`` column when the store
        keeps the details one per row: that nested column cost most of the read (1M store,
        7,600 events: 0.72 s with it, 0.20 s without, 0.16 s for their rows of details), and
        the rules read details from ``Frames.details`` whenever it is there."""
        wanted = set(event_ids)
        ids = pl.Series("event_id", sorted(wanted), dtype=pl.Utf8)
        if all((s / DETAILS_FILE).exists() for s in self.stores):
            details = [conformed(d, DETAIL_ROWS_SCHEMA) for d in self._matching(DETAILS, ids)]
            reads = {
                "steps": self._matching("steps", ids, FLAT_STEP_COLUMNS),
                "modified_properties": self._matching("modified_properties", ids),
                DETAIL_ROWS: details,
            }
            frames = dict(zip(reads, pl.collect_all([pl.concat(r) for r in reads.values()]),
                              strict=True))
        else:
            frames = {"steps": self._steps_of(ids),
                      "modified_properties": pl.concat(
                          self._matching("modified_properties", ids)).collect()}
        self._prefetched = {name: (wanted, frame) for name, frame in frames.items()}

    def _matching(self, name: str, ids: pl.Series, columns: Sequence[str] | None = None
                  ) -> list[pl.LazyFrame]:
        """The rows of file ``name`` of these events, each store's of the events kept from it
        (``_held``), in store order."""
        return [self._matching_in(i, name, mine, columns) for i, mine in self._held(ids)]

    def _matching_in(self, store: int, name: str, ids: pl.Series,
                     columns: Sequence[str] | None) -> pl.LazyFrame:
        """The rows of file ``name`` of these events of a store, in store order. From its
        people copy when it has one: the rows of the events read from it by their persons,
        the rest (the cycles around the person) by their rows; either way from a few of its
        row groups, where the store's own file is scanned whole for the event ids (1M store,
        7,500 events of three cycles: 0.03 s of CPU for their step details, 0.15 s)."""
        own = scan_matching(self.stores[store] / f"{name}.parquet", ids, columns)
        wanted = (pl.col(STORE) == store) & pl.col("event_id").is_in(ids.implode())
        rows = self._found.filter(wanted)
        if not self._copy[store] or rows.height < ids.n_unique():  # an event not read: by id
            return own
        copied = self._copied.filter(wanted)
        others = rows.filter(~pl.col("event_id").is_in(copied["event_id"].implode()))
        copy = pl.scan_parquet(copy_path(self.stores[store], name))
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
        """The steps of these events, in store order."""
        return pl.concat([self._steps_in(store, mine) for store, mine in self._held(ids)])

    def _steps_in(self, store: int, ids: pl.Series) -> pl.DataFrame:
        """The steps of these events in one store. Only their runs of rows are read (a
        filtered scan decodes every column of every row group holding one of them: all of
        them for a person seen every week of a month), located by the index, else by a scan
        of the event id column."""
        scan = pl.scan_parquet(self.stores[store] / "steps.parquet")
        located = self._located(store, ids)
        if located is not None:
            spans, expected = located
            rows = _read_spans(scan, spans, ids)
            if rows.height == expected:  # the file is laid out as the index says
                return rows
        found = scan.select(pl.col("event_id").is_in(ids.implode()).arg_true()).collect()
        return _read_spans(scan, [(row, row + 1) for row in found.to_series().to_list()], ids)

    def _located(self, store: int, ids: pl.Series) -> tuple[list[tuple[int, int]], int] | None:
        """(start, end) of the steps of these events in a store and how many, from its
        ``rows.parquet``; None without it, or for an event not read yet."""
        rows_file = self._rows_files[store]
        if rows_file is None:
            return None
        if store not in self._step_rows:
            self._step_rows[store] = pl.read_parquet(rows_file)
        at = self._found.filter((pl.col(STORE) == store)
                                & pl.col("event_id").is_in(ids.implode()))[ROW]
        if len(at) < ids.n_unique():
            return None
        spans = self._step_rows[store][at.to_list()].drop_nulls().sort("start")
        return [(start, start + rows) for start, rows in spans.iter_rows()], int(
            spans["rows"].sum())

    def _fetch(self, name: str, ids: pl.Series, columns: list[str] | None) -> pl.DataFrame:
        wanted = pl.col("event_id").is_in(ids.implode())
        if name == "events":
            self._read_missing(ids)
            rows = self._found.filter(wanted).drop(ORDER)
        else:
            known, read = self._prefetched.get(name, (set(), None))
            asked = columns or FRAME_SCHEMAS[name]  # the steps were read without ``details``
            has_columns = read is not None and set(asked) <= set(read.columns)
            rows = (read.filter(wanted) if has_columns and set(ids.to_list()) <= known
                    else self._steps_of(ids) if name == "steps"
                    else pl.concat(self._matching(name, ids)).collect())
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
