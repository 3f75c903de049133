"""Copies of frames that are kept (by a diagnosis, or by ``ingest``'s identity index from
batch to batch), holding only their own strings.

Polars keeps text as views into shared buffers: a frame filtered or joined out of a scan
keeps alive every buffer its rows point into, however few rows it kept. At 10M events the
few thousand ``active`` values the rules keep (44 MB by ``estimated_size``) held 0.3 GB of
the buffers they were read from, and the month's failures 0.5 GB for 335 MB. A compacted
column holds its strings in a buffer of its own, each distinct one once where they repeat
(500,000 failures, 80,000 distinct texts), and a view of it per row."""

from __future__ import annotations

from typing import TypeVar

import polars as pl

Data = TypeVar("Data", pl.DataFrame, pl.Series)
_CODE = "_compact_code"


def compact(data: Data) -> Data:
    """``data`` with the same values and dtypes, its strings copied out of shared buffers."""
    if isinstance(data, pl.Series):
        return _compact_strings(data)
    texts = [c for c, dtype in data.schema.items() if dtype == pl.String]
    return data.with_columns(_compact_strings(data[c]) for c in texts)


def _compact_strings(column: pl.Series) -> pl.Series:
    if column.dtype != pl.String:  # numbers are copied by the filter or join that made them;
        return column  # no frame the rules keep holds lists or structs of strings
    if column.n_unique() * 2 > len(column):  # ids: a copy, without looking them up
        return _copied(column.to_frame()).to_series()
    distinct = _copied(column.unique().to_frame())
    codes = column.to_frame().join(
        distinct.with_row_index(_CODE), on=column.name, how="left", maintain_order="left"
    )[_CODE]
    return distinct.to_series().gather(codes)


def _copied(one_column: pl.DataFrame) -> pl.DataFrame:
    """Concatenating with "" writes every string anew: a cast or a clone keeps the views."""
    return one_column.select(pl.concat_str(pl.first(), pl.lit("")))
