"""A store's identity index: who is in it and which cycles, so `why` reads one person's rows.

``ingest`` adds every batch it writes (``IndexWriter.add``) and writes two small files beside
the frames at the end (``IndexWriter.write``):

* ``identities.parquet``: every distinct identifier an event logs (``IDENTIFIER_COLUMNS``, and
  the ``ReportableIdentifier``/userName/externalId step details, column ``detail``), as logged,
  with the key its events are read by: the Entra object id, else the identity key, else the
  event id; whether the object is a group, and its job (``scope.job_key``);
* ``cycles.parquet``: how many events each job, app and cycle has, and their first and last
  time (the apps to diagnose, the coverage and each job's newest cycle, without the events);
* ``rows.parquet``: per event, in ``events.parquet`` order, the first row of its steps and how
  many there are (two integers an event), so a person's steps are read without scanning every
  event id of ``steps.parquet``.

The first two are distinct rows of each batch, de-duplicated again at the end: a few rows per
person and cycle, whatever the number of events. A store written before the index has none of
these files; `why` then reads all its events (``read_index`` returns None).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from loganalyzer.compact import compact
from loganalyzer.normalize import Frames
from loganalyzer.problems import InputError
from loganalyzer.schema import Frame
from loganalyzer.scope import job_key
from loganalyzer.textsafe import shown

# Rows per row group of ``steps.parquet`` (ingest's batches give about 75,000): Polars decodes
# a whole row group to read one event's steps, and a person's events lie in every batch, so
# `why` decodes one group per event (1M events: 0.25 s less, the file 10% larger).
STEP_ROW_GROUP = 20_000
IDENTITIES_FILE = "identities.parquet"
CYCLES_FILE = "cycles.parquet"
ROWS_FILE = "rows.parquet"

# Event columns a person is looked up by (``why.lookup.TIERS``).
IDENTIFIER_COLUMNS = (
    "upn", "source_id", "target_id", "identity_key", "mail", "user_name_sent", "email_sent",
    "external_id", "source_display_name",
)
DETAIL = "detail"  # the identifiers found in step details
# Step detail keys (folded) that name the object when the event columns do not.
DETAIL_KEYS = ("reportableidentifier", "username", "externalid", "identifier")
# The key an event is read by, strongest first: its object id, else its identity key (events
# without an object id), else its own id (events with neither).
READ_KEYS = ("source_id", "identity_key", "event_id")

IDENTITIES_SCHEMA: dict[str, pl.DataType] = {
    "column": pl.Utf8,
    "value": pl.Utf8,
    **dict.fromkeys(READ_KEYS, pl.Utf8),
    "is_group": pl.Boolean,
    "job": pl.Utf8,  # scope.job_key(): `why` judges one app's events
}
CYCLE_COLUMNS = ("job_id", "cycle_id", "app_name", "service_principal_id", "target_system")
CYCLES_SCHEMA: dict[str, pl.DataType] = {
    **dict.fromkeys(CYCLE_COLUMNS, pl.Utf8),
    "events": pl.Int64,
    "first": pl.Datetime("us", "UTC"),
    "last": pl.Datetime("us", "UTC"),
}


def read_keys() -> list[pl.Expr]:
    """An event's read key in ``READ_KEYS`` form: only the strongest one present is kept."""
    source_id, identity_key = pl.col("source_id"), pl.col("identity_key")
    return [
        source_id,
        pl.when(source_id.is_null()).then(identity_key).alias("identity_key"),
        pl.when(source_id.is_null() & identity_key.is_null()).then(pl.col("event_id"))
        .alias("event_id"),
    ]


def identities(events: pl.DataFrame, details: pl.DataFrame) -> pl.DataFrame:
    """The distinct identifiers of these events and of their step details (the long form,
    ``DETAIL_ROWS_SCHEMA``) (``IDENTITIES_SCHEMA``)."""
    keys = [*READ_KEYS, "is_group", "job"]
    events = events.select(
        pl.col("event_id").alias("_event"), *read_keys(),
        (pl.col("object_type").fill_null("") == "Group").alias("is_group"),
        job_key().alias("job"),
        *[pl.col(c).alias(f"_{c}") for c in IDENTIFIER_COLUMNS],
    )
    logged = (
        events.drop("_event")
        .unique()  # a person's events mostly repeat the same identifiers: unpivot them once
        .unpivot(index=keys, variable_name="column", value_name="value")
        .with_columns(pl.col("column").str.strip_prefix("_"))
    )
    return pl.concat([logged.select(list(IDENTITIES_SCHEMA)), _named_in_details(details, events)]
                     ).filter(pl.col("value").is_not_null()).unique().cast(IDENTITIES_SCHEMA)


def _named_in_details(details: pl.DataFrame, events: pl.DataFrame) -> pl.DataFrame:
    """The ``DETAIL_KEYS`` values of the step details, as identities of their events; a value
    the event also logs in a column as it is (most of them: the ReportableIdentifier is the
    UPN, the userName sent is the one exported) is indexed once, under that column."""
    named = details.filter(pl.col("attribute_key").is_in(DETAIL_KEYS)).select(
        pl.col("event_id").alias("_event"), "value")
    logged = pl.any_horizontal(
        (pl.col("value") == pl.col(f"_{c}")).fill_null(False) for c in IDENTIFIER_COLUMNS)
    return named.join(events, on="_event").filter(~logged).select(
        pl.lit(DETAIL).alias("column"), "value", *READ_KEYS, "is_group", "job")


def cycles(events: Frame) -> Frame:
    """Events per job, app and cycle with their first and last time (``CYCLES_SCHEMA``)."""
    return (
        events.group_by(CYCLE_COLUMNS)
        .agg(pl.len().alias("events"), pl.col("activity_time").min().alias("first"),
             pl.col("activity_time").max().alias("last"))
        .cast(CYCLES_SCHEMA)
    )


def merged_cycles(parts: list[pl.DataFrame]) -> pl.DataFrame:
    """``cycles`` of several parts' events, each cycle once (``CYCLES_SCHEMA``)."""
    found = pl.concat(parts) if parts else pl.DataFrame(schema=CYCLES_SCHEMA)
    return (
        found.group_by(CYCLE_COLUMNS)
        .agg(pl.col("events").sum(), pl.col("first").min(), pl.col("last").max())
        .sort("first", "job_id", "cycle_id", nulls_last=True)
        .cast(CYCLES_SCHEMA)
    )


def step_rows(events: pl.Series, steps: pl.Series, first: int) -> pl.DataFrame | None:
    """Per event of ``events`` (in order), the row where its steps start in ``steps.parquet``
    and how many there are (null without any), given the event ids of the steps written from
    row ``first`` on; None when an event's steps are not one run of rows."""
    runs = (
        steps.to_frame().with_row_index("_at")
        .group_by("event_id", maintain_order=True)
        .agg(pl.col("_at").first(), pl.col("_at").last().alias("_last"), pl.len().alias("_n"))
    )
    if (runs["_last"] - runs["_at"] + 1 != runs["_n"]).any():
        return None
    return events.to_frame().join(runs, on="event_id", how="left", maintain_order="left").select(
        (pl.col("_at").cast(pl.Int64) + first).alias("start"),
        pl.col("_n").cast(pl.Int32).alias("rows"),
    )


# Batches of identities held before their distinct rows go to a file: the merge holds them
# all at once (10M events: ingest peaked at 2,072 MB with eight, about 1.85 GB with four,
# sampled each second, with the same store)
_MERGE_EVERY = 4


class IndexWriter:
    """Collects each batch's distinct identities, cycles and step rows while ingest writes the
    store, in the order it writes them. What grows with the month goes to files in
    ``store`` until ``write`` joins them: every ``_MERGE_EVERY`` batches' distinct
    identities, merged file by file into one distinct set at the end (merged into a set
    held through the run, they were 1.2 GB of ingest's 2.4 GB at 10M events), and each
    batch's step rows (two numbers an event)."""

    def __init__(self, store: Path) -> None:
        self._identities: list[pl.DataFrame] = []  # the batches since the last file
        self._cycles: list[pl.DataFrame] = []
        self._parts = store / ".index-parts"
        self._parts.mkdir()
        self._identity_files: list[Path] = []
        self._rows_files: list[Path] = []
        self._in_order = True  # False: steps out of event order, no rows.parquet
        self._steps_written = 0

    def add(self, frames: Frames, details: pl.DataFrame) -> None:
        """One batch as written: its frames and the long form of its step details (made once
        for the index and the writer)."""
        # steps are lazy when a store is ingested again: read only this column
        steps = frames.steps.lazy().select("event_id").collect()
        # copies owning their strings: a few identifiers picked from a batch are views into
        # the batch's whole buffers, step details included (1M events: ingest peaked at
        # 4.2 GB instead of 1.2 GB when every batch stayed alive to the end)
        self._identities.append(compact(identities(frames.events, details)))
        self._cycles.append(compact(cycles(frames.events)))
        if len(self._identities) >= _MERGE_EVERY:  # every batch names the same people again
            self._write_identities()
        rows = step_rows(frames.events["event_id"], steps["event_id"], self._steps_written)
        self._steps_written += steps.height
        self._in_order = self._in_order and rows is not None
        if self._in_order:
            self._rows_files.append(self._parts / f"rows-{len(self._rows_files)}.parquet")
            rows.write_parquet(self._rows_files[-1])

    def _write_identities(self) -> None:
        self._identity_files.append(
            self._parts / f"identities-{len(self._identity_files)}.parquet")
        pl.concat(self._identities).unique().write_parquet(self._identity_files[-1])
        self._identities = []

    def write(self, store: Path) -> None:
        # file by file, each file's rows not found yet added: one streaming query over all
        # the files held them all (10M: 7 GB); a distinct set of each file with the rows so
        # far took 39 s and 1.5 GB for the 10M month's files alone, the new rows 23 s, 1.0 GB
        found = pl.concat(self._identities).unique() if self._identities else pl.DataFrame(
            schema=IDENTITIES_SCHEMA)
        for path in self._identity_files:
            part = pl.read_parquet(path)
            new = part.join(found, on=list(IDENTITIES_SCHEMA), how="anti", nulls_equal=True)
            found = pl.concat([found, new])
        found.sort(list(IDENTITIES_SCHEMA), nulls_last=True).write_parquet(
            store / IDENTITIES_FILE)
        merged_cycles(self._cycles).write_parquet(store / CYCLES_FILE)
        if self._in_order and self._rows_files:
            pl.scan_parquet(self._rows_files).sink_parquet(store / ROWS_FILE)
        shutil.rmtree(self._parts)


@dataclass
class StoreIndex:
    """A store's identities and cycles (``IDENTITIES_SCHEMA``, ``CYCLES_SCHEMA``), and where
    each event's steps are (``rows.parquet``, if written)."""

    identities: pl.DataFrame
    cycles: pl.DataFrame
    rows: Path | None


def read_index(store: Path) -> StoreIndex | None:
    """The index of a store, or None for a store written before it; a damaged index is an
    InputError naming the file (ingest again), never a different answer."""
    paths = [store / IDENTITIES_FILE, store / CYCLES_FILE]
    if not all(p.exists() for p in paths):
        return None
    frames = []
    for path, schema in zip(paths, (IDENTITIES_SCHEMA, CYCLES_SCHEMA), strict=True):
        try:
            frames.append(pl.read_parquet(path, columns=list(schema)).cast(schema))
        except (OSError, pl.exceptions.PolarsError) as exc:
            raise InputError(str(path), f"is not a readable store index ({shown(exc, 160)}); "
                             "run ingest again") from exc
    rows = store / ROWS_FILE
    return StoreIndex(*frames, rows if rows.exists() else None)
