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


# Below this many rows a column is copied as it is: finding its repeats (a count, a unique
# and a join) costs more than it saves. `why` on a 1M store compacts 18 small frames: 0.045 s
# column by column with repeats looked up, 0.006 s so.
_LOOKUP_ROWS = 10_000


def compact(data: Data) -> Data:
    """``data`` with the same values and dtypes, its strings copied out of shared buffers."""
    if isinstance(data, pl.Series):
        return compact(data.to_frame()).to_series()
    texts = [c for c, dtype in data.schema.items() if dtype == pl.String]
    if not texts:  # numbers are copied by the filter or join that made them; no frame the
        return data  # rules keep holds lists or structs of strings
    repeated = _repeated(data, texts) if data.height >= _LOOKUP_ROWS else []
    copied = data.with_columns(_copy(pl.col(c)) for c in texts if c not in repeated)
    return copied.with_columns(_stored_once(data[c]) for c in repeated)


def _repeated(data: pl.DataFrame, texts: list[str]) -> list[str]:
    """The text columns with fewer distinct values than half the rows (ids are not)."""
    distinct = data.select(pl.col(texts).n_unique()).row(0, named=True)
    return [c for c in texts if distinct[c] * 2 <= data.height]


def _stored_once(column: pl.Series) -> pl.Series:
    """Each distinct string copied once, then a view of it gathered for every row."""
    distinct = column.unique().to_frame().select(_copy(pl.first()))
    codes = column.to_frame().join(
        distinct.with_row_index(_CODE), on=column.name, how="left", maintain_order="left"
    )[_CODE]
    return distinct.to_series().gather(codes)


def _copy(column: pl.Expr) -> pl.Expr:
    """Concatenating with "" writes every string anew: a cast or a clone keeps the views."""
    return pl.concat_str(column, pl.lit(""))
