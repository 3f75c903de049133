"""Canonical frames where the events are in memory and the rest is fetched per event.

`why` needs every event (to find the person) but steps and modified properties only of the few
thousand events that can explain them. On a store, reading all 800,000 steps would cost more
than the whole answer, so a store is read lazily: events eagerly, the rest filtered at scan.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from loganalyzer.normalize import Frames
from loganalyzer.problems import Problem
from loganalyzer.readers.sources import STORE_MANIFEST, is_store

Fetch = Callable[[str, pl.Expr], pl.DataFrame]  # (frame name, row filter) -> rows


@dataclass
class FrameSource:
    """All events, plus steps and modified properties on demand."""

    events: pl.DataFrame
    fetch: Fetch = field(repr=False)
    problems: list[Problem] = field(default_factory=list)

    @staticmethod
    def from_frames(frames: Frames) -> FrameSource:
        def fetch(name: str, keep: pl.Expr) -> pl.DataFrame:
            return getattr(frames, name).filter(keep)

        return FrameSource(frames.events, fetch)

    @staticmethod
    def from_stores(stores: list[Path]) -> FrameSource:
        """Stores written by ``loganalyzer ingest``; an event in two stores counts once."""
        events = pl.concat([pl.read_parquet(s / "events.parquet") for s in stores])
        events = events.unique("event_id", keep="first", maintain_order=True)

        def fetch(name: str, keep: pl.Expr) -> pl.DataFrame:
            parts = pl.collect_all([pl.scan_parquet(s / f"{name}.parquet").filter(keep)
                                    for s in stores])
            if len(parts) == 1:
                return parts[0]
            key = ["event_id", "step_index" if name == "steps" else "property_index"]
            return pl.concat(parts).unique(key, maintain_order=True)

        problems = [p for s in stores for p in _manifest_problems(s)]
        return FrameSource(events, fetch, problems)

    def subset(self, event_ids: Iterable[str]) -> Frames:
        """The canonical frames of just these events."""
        ids = pl.Series(list(event_ids), dtype=pl.Utf8).implode()
        keep = pl.col("event_id").is_in(ids)
        return Frames(
            self.events.filter(keep),
            self.fetch("steps", keep),
            self.fetch("modified_properties", keep),
        )

    def steps_of(self, event_ids: Iterable[str]) -> pl.DataFrame:
        ids = pl.Series(list(event_ids), dtype=pl.Utf8).implode()
        return self.fetch("steps", pl.col("event_id").is_in(ids))


def all_stores(inputs: list[Path]) -> bool:
    return bool(inputs) and all(is_store(p) for p in inputs)


def _manifest_problems(store: Path) -> list[Problem]:
    path = store / STORE_MANIFEST
    if not path.exists():
        return []
    return [Problem(**p) for p in json.loads(path.read_text()).get("problems", [])]
