"""Which way each input file runs in time, to order events logged in the same second.

Graph and the portal log whole seconds, so two events of one person can share a time; their
places in the file then say which came last. Files do not agree on a direction: the portal's
downloads and Graph's pages list the newest event first, Log Analytics and storage exports
are usually oldest first. A file's own first and last timed records tell which it is.
"""

from __future__ import annotations

from datetime import datetime

import polars as pl

# file -> (first record, its time, last record, its time, oldest time, newest time)
_Ends = tuple[int, datetime, int, datetime, datetime, datetime]


class FileEnds:
    """The first and last timed record of each file, gathered batch by batch (ingest)."""

    COLUMNS = ("source_file", "source_record", "activity_time")  # what ``add`` reads

    def __init__(self) -> None:
        self._ends: dict[str, _Ends] = {}

    def add(self, events: pl.DataFrame | pl.LazyFrame) -> None:
        by_record = pl.col("activity_time").sort_by("source_record")
        ends = (
            events.lazy()
            .filter(pl.col("activity_time").is_not_null(), pl.col("source_record").is_not_null(),
                    pl.col("source_file").is_not_null())
            .group_by("source_file")
            .agg(pl.col("source_record").min().alias("first"), by_record.first().alias("at"),
                 pl.col("source_record").max().alias("last"), by_record.last().alias("to"),
                 pl.col("activity_time").min().alias("oldest"),
                 pl.col("activity_time").max().alias("newest"))
            .collect()
        )
        for file, first, at, last, to, oldest, newest in ends.iter_rows():
            if file in self._ends:
                known = self._ends[file]
                first, at = min((first, at), known[:2])
                last, to = max((last, to), known[2:4])
                oldest, newest = min(oldest, known[4]), max(newest, known[5])
            self._ends[file] = (first, at, last, to, oldest, newest)

    def times(self) -> dict[str, tuple[datetime, datetime]]:
        """File -> the times of its first and last timed record."""
        return {file: ends[1:4:2] for file, ends in self._ends.items()}

    def spans(self) -> dict[str, tuple[datetime, datetime]]:
        """File -> its oldest and newest time: a file of several apps' events, or pages
        appended out of order, runs neither way throughout."""
        return {file: ends[4:] for file, ends in self._ends.items()}

    def newest_first(self) -> list[str]:
        """The files whose first record is newer than their last."""
        return sorted(file for file, (_, at, _, to, *_) in self._ends.items() if at > to)


def newest_first_files(events: pl.DataFrame | pl.LazyFrame) -> list[str]:
    ends = FileEnds()
    ends.add(events)
    return ends.newest_first()


def in_time_order(events: pl.DataFrame, newest_first: list[str]) -> pl.DataFrame:
    """``events`` oldest first; those of the same second as their file runs, then by id
    (never by how the rows happen to be held). Needs ``source_file`` and ``source_record``."""
    along_file = (
        pl.when(pl.col("source_file").is_in(pl.Series(newest_first, dtype=pl.Utf8).implode()))
        .then(-pl.col("source_record"))
        .otherwise(pl.col("source_record"))
    )
    return events.sort([pl.col("activity_time"), along_file, pl.col("event_id")],
                       nulls_last=True)
