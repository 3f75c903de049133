"""The same event read twice (two overlapping exports, a resumed download) counts once.

A month of a large tenant is millions of event ids, and every one must be remembered until
the last batch is read. Kept as Python strings they cost about 110 bytes each (0.5 GB at 5M
events, a quarter of ingest's memory). Entra's ids are GUIDs, so a canonical one (lower-case
hex, 8-4-4-4-12) is kept as the 128-bit number it spells: 16 bytes, and exact, since the text
is rebuilt from the number. Any other id is kept as text, so nothing is ever merged by mistake.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from loganalyzer.file_order import FileEnds
from loganalyzer.normalize import Frames

_CANONICAL_GUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"


class SortedRuns:
    """A set of 128-bit numbers as sorted Polars runs, merged when a run grows as large as
    the one before it (a log-structured merge): adding n numbers costs O(n log n) in all, and
    a lookup is a binary search in each of at most log2(n) runs plus one per ``max_run``.

    Runs stop merging at ``max_run`` numbers: a merge holds both runs and two copies of
    them at once, and merging a month's runs into one was ingest's highest memory (10M
    events: 381 MB for the ids of a synthetic de-duplication, 259 MB with runs of 2M)."""

    def __init__(self, max_run: int = 2_000_000) -> None:
        self.runs: list[pl.Series] = []
        self.max_run = max_run

    def contains(self, numbers: pl.Series) -> pl.Series:
        """True where the number was added before."""
        # asked in order, each binary search starts near where the last one ended in memory:
        # 6.4 -> 4.1 s for 5M ids, the sort included
        order = numbers.arg_sort()
        asked = numbers.gather(order)
        found = pl.repeat(False, len(numbers), eager=True)
        for run in self.runs:
            at = run.search_sorted(asked).clip(0, len(run) - 1)
            found = found | (run.gather(at) == asked)
        return pl.repeat(False, len(numbers), eager=True).scatter(order, found)

    def add(self, numbers: pl.Series) -> None:
        """Adds numbers none of which is in the set yet."""
        if numbers.is_empty():
            return
        self.runs.append(numbers.sort())
        while (len(self.runs) > 1 and len(self.runs[-2]) <= 2 * len(self.runs[-1])
               and len(self.runs[-2]) + len(self.runs[-1]) <= self.max_run):
            newer = self.runs.pop()
            self.runs[-1] = pl.concat([self.runs[-1], newer]).sort()


class Deduper:
    """Keeps the first sighting of each event id. Raw batches are de-duplicated on ``id``
    before normalising, so a repeated event never contributes a second copy of its steps;
    stores (already canonical) on ``event_id``."""

    def __init__(self) -> None:
        self.guids = SortedRuns()
        # ids that are not canonical GUIDs; a Polars column of them would keep the buffers of
        # every batch alive
        self.other_ids: set[str] = set()
        self.duplicates = 0
        # every record's file and time, kept or not, of exports and stores (``store``): a
        # re-export's whole span, before its copies of a cut file's events are dropped
        # (``problems.across_cuts``)
        self.seen = FileEnds()

    def _keep(self, ids: pl.Series) -> pl.Series:
        """True for the first sighting of each id; rows without an id pass (reported later)."""
        ids = ids.cast(pl.Utf8).rename("id")
        guid = ids.str.contains(_CANONICAL_GUID).fill_null(False)
        other = ~guid & ids.is_not_null()
        numbers = ids.filter(guid).str.replace_all("-", "", literal=True).str.to_integer(
            base=16, dtype=pl.UInt128)
        seen = pl.repeat(False, len(ids), eager=True)
        if guid.any():
            seen = seen.scatter(guid.arg_true(), self.guids.contains(numbers))
        if other.any():
            known = [i in self.other_ids for i in ids.filter(other).to_list()]
            seen = seen.scatter(other.arg_true(), pl.Series(known, dtype=pl.Boolean))
        keep = ~seen & (ids.is_first_distinct() | ids.is_null())
        self.guids.add(numbers.filter(keep.filter(guid)))
        self.other_ids.update(ids.filter(keep & other).to_list())
        self.duplicates += len(keep) - keep.sum()
        return keep

    def raw(self, raw: pl.DataFrame) -> pl.DataFrame:
        self.seen.add(raw.select(FileEnds.COLUMNS))
        keep = self._keep(raw["id"])
        return raw if keep.all() else raw.filter(keep)

    def store(self, events: Path) -> None:
        """A store's files' spans, from its events file: the frames read for analysis lack
        the columns (a store holding the re-export of a cut file's days reaches across it)."""
        self.seen.add(pl.scan_parquet(events).select(FileEnds.COLUMNS))

    def frames(self, frames: Frames) -> Frames:
        ids = frames.events.lazy().select("event_id").collect()["event_id"]
        keep = self._keep(ids)
        return frames if keep.all() else frames.only(ids.filter(keep))
