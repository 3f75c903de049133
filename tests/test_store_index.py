"""The identity index `ingest` writes beside a store (``store_index``), checked against the
store's own files: what `why` reads through it must be what the frames hold."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from loganalyzer.ingest import ingest_to_store
from loganalyzer.problems import InputError
from loganalyzer.store_index import (
    CYCLES_FILE,
    DETAIL,
    DETAIL_KEYS,
    IDENTIFIER_COLUMNS,
    IDENTITIES_FILE,
    ROWS_FILE,
    read_index,
)
from loganalyzer.why.lookup import LOOKUP_COLUMNS

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
OLE = "16c8244f-6953-4d74-a6e2-5f2d605f5dee"


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> Path:
    exports = sorted(p for p in SAMPLES.glob("*.json") if p.name != "manifest.json")
    store = tmp_path_factory.mktemp("index") / "store"
    ingest_to_store(exports, store)
    return store


def test_the_index_knows_every_identifier_a_lookup_matches_on():
    assert set(IDENTIFIER_COLUMNS) == set(LOOKUP_COLUMNS)


def test_every_identifier_of_every_event_is_in_the_index_with_its_object(store):
    events = pl.read_parquet(store / "events.parquet")
    index = pl.read_parquet(store / IDENTITIES_FILE)
    for column in IDENTIFIER_COLUMNS:
        logged = events.select(pl.col(column).alias("value"), "source_id").drop_nulls("value")
        indexed = index.filter(pl.col("column") == column).select("value", "source_id")
        assert logged.join(indexed, on=["value", "source_id"], how="anti",
                           nulls_equal=True).is_empty(), column
    ole = index.filter(pl.col("value") == "ole.johansen@northwind.no")
    assert set(ole["column"]) >= {"upn", "mail", "user_name_sent", "email_sent"}
    assert set(ole["source_id"]) == {OLE}


def test_step_details_naming_an_object_otherwise_are_in_the_index(store):
    """ReportableIdentifier, userName, externalId details: a value the event also logs in a
    column as it is counts once, under that column; every other one is a ``detail`` row."""
    events = pl.read_parquet(store / "events.parquet")
    details = pl.read_parquet(store / "step_details.parquet").filter(
        pl.col("attribute_key").is_in(DETAIL_KEYS))
    own = pl.any_horizontal((pl.col("value") == pl.col(c)).fill_null(False)
                            for c in IDENTIFIER_COLUMNS)
    named = details.select("event_id", "value").join(events, on="event_id").filter(~own)
    assert not named.is_empty()  # the samples have Flowcase's own userName in matching steps
    indexed = pl.read_parquet(store / IDENTITIES_FILE).filter(pl.col("column") == DETAIL)
    missing = named.select("value", "source_id").join(
        indexed.select("value", "source_id"), on=["value", "source_id"], how="anti")
    assert missing.is_empty()
    assert indexed.height == named.select("value", "source_id").unique().height


def test_groups_are_marked_and_every_row_names_its_job(store):
    index = pl.read_parquet(store / IDENTITIES_FILE)
    oslo = index.filter(pl.col("value") == "Oslo Office")
    assert not oslo.is_empty() and oslo["is_group"].all()
    assert not index.filter(pl.col("value") == "ole.johansen@northwind.no")["is_group"].any()
    jobs = pl.read_parquet(store / "events.parquet")["job_id"].unique().to_list()
    assert set(index["job"].unique()) <= set(jobs)


def test_cycles_count_every_event_with_its_first_and_last_time(store):
    events = pl.read_parquet(store / "events.parquet")
    cycles = pl.read_parquet(store / CYCLES_FILE)
    assert cycles["events"].sum() == events.height
    expected = events.group_by("job_id", "cycle_id").agg(
        pl.len().alias("n"), pl.col("activity_time").min().alias("first_"),
        pl.col("activity_time").max().alias("last_"))
    both = cycles.join(expected, on=["job_id", "cycle_id"], nulls_equal=True)
    assert both.height == cycles.height == expected.height
    assert (both["events"] == both["n"]).all()
    assert (both["first"] == both["first_"]).all() and (both["last"] == both["last_"]).all()


def test_rows_locate_each_events_steps_in_the_steps_file(store):
    events = pl.read_parquet(store / "events.parquet", columns=["event_id"])
    steps = pl.read_parquet(store / "steps.parquet", columns=["event_id"]).with_row_index("row")
    rows = pl.read_parquet(store / ROWS_FILE)
    assert rows.height == events.height
    actual = steps.group_by("event_id").agg(pl.col("row").min().alias("start_"),
                                            pl.len().alias("rows_"))
    located = pl.concat([events, rows], how="horizontal").join(actual, on="event_id",
                                                                how="left")
    assert (located["start"].fill_null(-1) == located["start_"].fill_null(-1)).all()
    assert (located["rows"].fill_null(0) == located["rows_"].fill_null(0)).all()
    assert located["rows"].sum() == steps.height


def test_a_store_ingested_from_a_store_has_an_index_too(store, tmp_path):
    again = tmp_path / "again"
    ingest_to_store([store], again)
    for name in (IDENTITIES_FILE, CYCLES_FILE, ROWS_FILE):
        assert pl.read_parquet(again / name).equals(pl.read_parquet(store / name)), name


def test_a_store_written_before_the_index_has_none(store, tmp_path):
    old = tmp_path / "old"
    old.mkdir()
    for path in store.iterdir():
        if path.is_file() and path.name not in (IDENTITIES_FILE, CYCLES_FILE, ROWS_FILE):
            (old / path.name).write_bytes(path.read_bytes())
    assert read_index(old) is None


def test_a_damaged_index_is_one_error_naming_the_file(store, tmp_path):
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    shutil.copytree(store, damaged, dirs_exist_ok=True)
    (damaged / IDENTITIES_FILE).write_text("not parquet")
    with pytest.raises(InputError) as raised:
        read_index(damaged)
    assert raised.value.file.endswith(IDENTITIES_FILE)
    assert "run ingest again" in str(raised.value)
