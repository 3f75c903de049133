"""A second copy of a store's rows, gathered by person, so `why` reads one person's rows only.

A person's events lie in every row group of ``events.parquet`` (one a cycle, over a month),
and Polars decodes a whole row group to read one row of it: finding one person in a 1M-event
store decoded all of it, and their steps, details and properties as much again. So ``ingest``
also writes ``people/``: the same rows, each batch sorted by ``PERSON`` (the event's read
key, ``store_index.read_keys``), in small row groups with statistics on it; a filter on
``PERSON`` then skips every row group but about one a batch. ``ROW`` is the event's row in
``events.parquet``: rows read here are put back in store order by it. A store written before
this copy has no ``people/``; `why` then reads the store's own files, as before.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from loganalyzer.normalize import Frames
from loganalyzer.schema import STEPS_SCHEMA
from loganalyzer.store_index import read_keys

PEOPLE_DIR = "people"
PERSON = "_person"  # the read key: the object id, else the identity key, else the event id
ROW = "_row"  # the event's row in events.parquet
# the steps' columns but their nested details, which the copy of the details holds one per row
FLAT_STEP_COLUMNS = tuple(c for c in STEPS_SCHEMA if c != "details")
# Rows per row group, about a thousand events' in each file: a person's rows are read from
# one group a batch, so smaller groups decode less (1M store, a person's rows from all four
# files: 0.17 s of CPU in groups of 1,000 events, 0.33 s in groups of 5,000, 2.0 s from the
# store's own files) but each adds to the footer read by every scan (0.02 s at 1M).
ROW_GROUPS = {"events": 1_000, "steps": 4_000, "step_details": 15_000,
              "modified_properties": 4_000}


def person_key() -> pl.Expr:
    """An event's read key as one value (``PERSON``)."""
    return pl.coalesce(read_keys()).alias(PERSON)


def copy_path(store: Path, name: str) -> Path:
    return store / PEOPLE_DIR / f"{name}.parquet"


# the copy's files, each read by `why` when the store has a copy
COPY_FILES = ("events", "steps", "step_details", "modified_properties")


def has_copy(store: Path) -> bool:
    """Whether the store has its whole people copy: a copy lacking a file (a store's folder
    copied in part, a file removed) is not read, the store's own files are."""
    return all(copy_path(store, name).is_file() for name in COPY_FILES)


class PeopleCopy:
    """Ingest's batches, in the order the store's files get them, sorted by person."""

    def __init__(self) -> None:
        self._events = 0  # events passed: the next one's row in events.parquet

    def sorted(self, frames: Frames, details: pl.DataFrame) -> dict[str, pl.DataFrame]:
        """One batch (with its step details one per row) as the copy's four tables, sorted
        by person then store order (stable: an event's steps keep their order)."""
        events = frames.events.with_columns(
            person_key(), pl.int_range(pl.len(), dtype=pl.Int64).add(self._events).alias(ROW))
        self._events += events.height
        keys = events.select("event_id", PERSON, ROW)
        tables = {"events": events,
                  "steps": frames.steps.lazy().select(FLAT_STEP_COLUMNS).collect(),
                  "step_details": details,
                  "modified_properties": frames.modified_properties.lazy().collect()}
        return {name: (frame if name == "events" else frame.join(
                    keys, on="event_id", how="left", maintain_order="left"))
                .sort(PERSON, ROW, maintain_order=True, nulls_last=True)
                for name, frame in tables.items()}
