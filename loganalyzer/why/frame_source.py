"""Canonical frames where the events are in memory and the rest is fetched per event.

`why` needs every event (to find the person) but steps and modified properties only of the few
thousand events that can explain them. On a store, reading all 800,000 steps would cost more
than the whole answer, so a store is read lazily: events eagerly, the rest filtered at scan.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from loganalyzer.ingest import check_store, read_manifest
from loganalyzer.normalize import Frames
from loganalyzer.problems import Problem
from loganalyzer.readers.sources import is_store
from loganalyzer.schema import empty_frame

# (frame name, event ids, columns or None for all) -> the rows of those events
Fetch = Callable[[str, pl.Series, list[str] | None], pl.DataFrame]

# The event columns needed to find a person and pick what can explain them; the other
# columns (reasons, bodies, ...) are read only for the events picked.
INDEX_COLUMNS = (
    "event_id", "activity_time", "job_id", "cycle_id", "app_name", "service_principal_id",
    "target_system", "action", "status",
    "object_type", "source_id", "source_display_name", "target_id", "upn", "mail",
    "user_name_sent", "email_sent", "external_id", "identity_key", "source_record",
)


@dataclass
class FrameSource:
    """An index of every event (at least ``INDEX_COLUMNS``); whole rows and their steps and
    modified properties on demand."""

    events: pl.DataFrame
    fetch: Fetch = field(repr=False)
    problems: list[Problem] = field(default_factory=list)

    @staticmethod
    def from_frames(frames: Frames) -> FrameSource:
        def fetch(name: str, ids: pl.Series, columns: list[str] | None) -> pl.DataFrame:
            # lazy when the frames came from a store (a large export is read through one)
            rows = getattr(frames, name).lazy().filter(pl.col("event_id").is_in(ids.implode()))
            return (rows.select(columns) if columns else rows).collect()

        return FrameSource(frames.events, fetch)

    @staticmethod
    def from_stores(stores: list[Path]) -> FrameSource:
        """Stores written by ``loganalyzer ingest``; an event in two stores counts once."""
        for store in stores:
            check_store(store)
        events = pl.concat(
            [pl.read_parquet(s / "events.parquet", columns=list(INDEX_COLUMNS)) for s in stores]
        ).unique("event_id", keep="first", maintain_order=True)

        def fetch(name: str, ids: pl.Series, columns: list[str] | None) -> pl.DataFrame:
            parts = [_read_matching(s / f"{name}.parquet", ids, columns) for s in stores]
            if len(parts) == 1:
                return parts[0]
            key = {"events": ["event_id"], "steps": ["event_id", "step_index"],
                   "modified_properties": ["event_id", "property_index"]}[name]
            return pl.concat(parts).unique(key, maintain_order=True)

        problems = [p for s in stores for p in _manifest_problems(s)]
        return FrameSource(events, fetch, problems)

    def narrowed(self, events: pl.DataFrame) -> FrameSource:
        """The same source holding only these events (``scope.choose`` picked them)."""
        return FrameSource(events, self.fetch, self.problems)

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


def _ids(event_ids: Iterable[str]) -> pl.Series:
    return pl.Series("event_id", list(event_ids), dtype=pl.Utf8)


def _read_matching(path: Path, ids: pl.Series, columns: list[str] | None) -> pl.DataFrame:
    """The rows of these events: Polars pushes the filter into the Parquet scan and decodes
    the other columns only for matching rows."""
    rows = pl.scan_parquet(path).filter(pl.col("event_id").is_in(ids.implode()))
    if columns is not None:
        rows = rows.select(list(dict.fromkeys(["event_id", *columns])))
    return rows.collect()


def all_stores(inputs: list[Path]) -> bool:
    return bool(inputs) and all(is_store(p) for p in inputs)


def _manifest_problems(store: Path) -> list[Problem]:
    return [Problem(**p) for p in read_manifest(store).get("problems", [])]
