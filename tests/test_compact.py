"""``compact``: a frame kept for a whole diagnosis holds its own strings, each distinct one
once, with the same values, nulls, order and dtypes."""

from __future__ import annotations

import polars as pl
import pytest
from child_memory import ON_LINUX, measured
from conftest import SAMPLES

from diagnostics.rulekit import Context, mentions
from loganalyzer.compact import compact
from loganalyzer.ingest import ingest_to_store, load


@pytest.fixture(scope="module")
def scanned_failures(tmp_path_factory) -> pl.DataFrame:
    """A month's failures as rules hold them: read out of a scanned store, with person,
    text and label joined on."""
    store = tmp_path_factory.mktemp("compact") / "store"
    ingest_to_store([SAMPLES / "failing-initial.json"], store)
    frames = load([store], analysis_only=True, eager_events=0).frames
    return Context(frames).events_where(pl.col("status") == "failure")


def test_a_compacted_frame_has_the_same_rows_values_and_dtypes(scanned_failures) -> None:
    kept = compact(scanned_failures)
    assert kept.schema == scanned_failures.schema
    assert kept.equals(scanned_failures)  # nulls and order too
    assert kept["text"].null_count() == scanned_failures["text"].null_count()


def test_a_compacted_series_keeps_its_name_dtype_and_nulls() -> None:
    ids = pl.Series("event_id", ["a" * 40, None, "b" * 40, "a" * 40, ""], dtype=pl.Utf8)
    kept = compact(ids)
    assert (kept.name, kept.dtype, kept.to_list()) == ("event_id", pl.Utf8, ids.to_list())
    assert compact(ids.clear()).dtype == pl.Utf8
    # repeated values (looked up once each) with nulls among them
    texts = pl.Series("text", ["a" * 40, None, "a" * 40, None, "b" * 40, "a" * 40, "", ""])
    assert compact(texts).to_list() == texts.to_list()


# Run in a child whose allocator returns freed pages at once, so that its resident memory
# says what is still held.
DECAY_AT_ONCE = {"_RJEM_MALLOC_CONF": "dirty_decay_ms:0,muzzy_decay_ms:0"}
_HOLDING = """
import json, sys, polars as pl
from loganalyzer.compact import compact

start = resident()
# 2M strings of 107 bytes (about 200 MB) read into shared buffers, of which 5% are kept
read = pl.select(pl.concat_str(pl.lit("x" * 100), pl.int_range(2_000_000).cast(pl.Utf8))
                 .alias("text")).to_series()
few = read.gather_every(20)
# 500,000 rows repeating 1,000 texts of 200 bytes, each row's own copy (about 100 MB)
repeated = pl.Series("text", [f"{i % 1000:04} " + "y" * 195 for i in range(500_000)])
if sys.argv[1] == "compacted":
    few, repeated = compact(few), compact(repeated)
del read
print(json.dumps({"held_mb": resident() - start}))
"""


def _held_mb(mode: str) -> int:
    return measured(_HOLDING, mode, env=DECAY_AT_ONCE)["held_mb"]


@pytest.mark.skipif(not ON_LINUX, reason="reads /proc (Linux)")
def test_compacted_rows_hold_neither_the_buffers_they_were_read_into_nor_repeats() -> None:
    as_read = _held_mb("as read")
    if as_read < 250:
        pytest.skip(f"this Polars no longer keeps the buffers of filtered strings ({as_read} MB)")
    # as read: the 200 MB buffer and 100 MB of repeats; compacted: 100,000 texts of 107
    # bytes, 1,000 of 200 bytes, and a 16-byte view per row (10 MB in all)
    assert _held_mb("compacted") < 60


def test_forgetting_the_rules_facts_keeps_the_answers() -> None:
    ctx = Context(load([SAMPLES / "pattern-08-unknown-department.json"]).frames)
    asked = mentions("department")
    before = ctx.events_where(asked)
    shared = ctx.memo("department rows", lambda: before)
    ctx.forget_rule_facts()
    assert "_texts" not in ctx.__dict__
    assert ctx.memo("department rows", lambda: None) is None  # computed again when asked
    assert ctx.events_where(asked).equals(before) and shared.equals(before)
