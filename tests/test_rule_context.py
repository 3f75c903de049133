"""``Context.events_where`` picks rows in two passes (the condition over the columns it names,
then the rows' derived columns): it must give exactly what filtering every event with all its
derived columns gives, for conditions on logged columns, on ``person``, ``text`` and ``label``.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import polars as pl
import pytest
from conftest import SAMPLES
from eventfactory import START, Export

from diagnostics.rulekit import (
    DERIVED,
    FAILURE_COLUMNS,
    LONG_TEXTS,
    RULE_COLUMNS,
    Context,
    failures_where,
    mentions,
)
from loganalyzer.ingest import ingest_to_store, load

CONDITIONS = {
    "logged columns": (pl.col("status") == "skipped") & (pl.col("object_type") != "Group"),
    "error text": mentions(r"department|already exists|group"),
    "failure with text": failures_where(http=(409,), text=r"exist"),
    "person": pl.col("person").str.contains(r"^[a-m]"),
    "label of a group": (pl.col("object_type") == "Group") & pl.col("label").is_not_null(),
    "null-valued": pl.col("http_status") >= 400,
    "nothing": pl.lit(False),
}
SAMPLE_NAMES = ["failing-initial.json", "group-404-halt.json", "pattern-07-duplicates.json",
                "pattern-08-unknown-department.json", "pattern-13-not-assigned.json"]


def _context(name: str) -> Context:
    return Context(load([SAMPLES / name]).frames)


@pytest.fixture(scope="module")
def scanned(tmp_path_factory) -> dict[str, Context]:
    """Contexts over stores whose events are scanned, as a store past ``EAGER_EVENTS`` is."""
    root = tmp_path_factory.mktemp("scanned")
    contexts = {}
    for name in SAMPLE_NAMES:
        ingest_to_store([SAMPLES / name], root / name)
        frames = load([root / name], analysis_only=True, eager_events=0).frames
        assert isinstance(frames.events, pl.LazyFrame)
        contexts[name] = Context(frames)
    return contexts


@pytest.mark.parametrize("name", SAMPLE_NAMES)
@pytest.mark.parametrize("label", CONDITIONS)
def test_picked_rows_are_the_filtered_events(name: str, label: str, scanned) -> None:
    ctx = _context(name)
    everything = ctx.events_where(pl.lit(True))
    condition = CONDITIONS[label]
    assert ctx.events_where(condition).equals(everything.filter(condition))
    assert scanned[name].events_where(condition).equals(everything.filter(condition))


@pytest.mark.parametrize("name", SAMPLE_NAMES)
@pytest.mark.parametrize("label", ["logged columns", "null-valued", "nothing"])
def test_rows_where_gives_the_rows_events_where_gives(name: str, label: str, scanned) -> None:
    """Rows that may be millions come lazily (through a file when the events are scanned):
    the same rows, in the same order, as the rows held."""
    columns = ["event_id", "activity_time", "person", "label", "target_id"]
    expected = _context(name).events_where(CONDITIONS[label], columns)
    for ctx in (_context(name), scanned[name]):
        assert ctx.rows_where(CONDITIONS[label], columns).collect().equals(expected)


@pytest.mark.parametrize("label", ["error text", "person", "label of a group"])
def test_rows_where_refuses_a_condition_on_a_derived_column(label: str, scanned) -> None:
    for ctx in (_context(SAMPLE_NAMES[0]), scanned[SAMPLE_NAMES[0]]):
        with pytest.raises(ValueError, match="derived column"):
            ctx.rows_where(CONDITIONS[label], ["event_id"])


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_every_event_keeps_its_order_and_gets_the_derived_columns(name: str) -> None:
    ctx = _context(name)
    everything = ctx.events_where(pl.lit(True))
    assert everything.columns == [*RULE_COLUMNS, *DERIVED]
    assert everything["event_id"].to_list() == ctx.frames.events["event_id"].to_list()
    assert everything["person"].null_count() == 0
    # the text is lower-case, and an event without any error text has an empty one
    assert (everything["text"] == everything["text"].str.to_lowercase()).all()
    quiet = everything.filter(pl.col("error_code").is_null() & pl.col("error_reason").is_null()
                              & pl.col("response_body").is_null())
    assert (quiet["text"] == "").all()
    failed = everything.filter(pl.col("status") == "failure")
    assert ctx.failures.equals(failed.select(FAILURE_COLUMNS))
    assert not set(LONG_TEXTS) & set(ctx.failures.columns)


@pytest.mark.parametrize("name", SAMPLE_NAMES)
def test_scanned_events_have_the_same_person_and_label(name: str, scanned) -> None:
    """A scanned store's scan comes in no particular order, with the same rows."""
    in_memory = _context(name).scan.collect().sort("event_id")
    assert scanned[name].scan.collect().sort("event_id").equals(in_memory)


def test_scan_has_person_and_label_but_not_the_text() -> None:
    ctx = _context("pattern-07-duplicates.json")
    scanned = ctx.scan.collect()
    assert scanned.columns == [*RULE_COLUMNS, "person", "label"]
    assert scanned.drop("label").equals(ctx.events_where(pl.lit(True)).select(scanned.columns[:-1]))


def test_a_store_and_its_export_pick_the_same_rows(tmp_path) -> None:
    export = SAMPLES / "pattern-08-unknown-department.json"
    ingest_to_store([export], tmp_path / "store")
    from_store = Context(load([tmp_path / "store"], analysis_only=True).frames)
    condition = mentions("department") | (pl.col("status") == "skipped")
    assert from_store.events_where(condition).equals(_context(export.name).events_where(condition))


@pytest.mark.parametrize("columns", [["event_id", "label"], ["text", "status"],
                                     ["person", "activity_time", "text", "label"]])
@pytest.mark.parametrize("label", ["error text", "person", "logged columns"])
def test_asking_for_some_columns_gives_those_of_the_same_rows(columns: list[str],
                                                               label: str) -> None:
    ctx = _context("group-404-halt.json")
    condition = CONDITIONS[label]
    everything = ctx.events_where(pl.lit(True))
    assert ctx.events_where(condition, columns).equals(everything.filter(condition)
                                                       .select(columns))


def test_events_loaded_in_pieces_pick_the_same_rows_and_are_held_cut_alike() -> None:
    """A store's events arrive as one piece per row group. The person column ``Context`` adds
    is cut where the loaded columns are, so a filter never first copies them into one piece
    (70-100 ms a question at a million events); the rows picked are those of one piece."""
    events = load([SAMPLES / "pattern-07-duplicates.json"]).frames.events.rechunk()
    assert events.height == 26
    cut = [events.slice(start, 7) for start in range(0, events.height, 7)]
    pieces = pl.concat(cut, rechunk=False)
    whole = _context("pattern-07-duplicates.json")
    ctx = Context(dataclasses.replace(whole.frames, events=pieces))
    assert pieces.n_chunks() == len(cut) > 1
    held = ctx._events
    assert held["person"].chunk_lengths() == held["event_id"].chunk_lengths() == [7, 7, 7, 5]
    for condition in CONDITIONS.values():
        assert ctx.events_where(condition).equals(whole.events_where(condition))


def test_an_object_is_named_by_its_latest_event_and_the_last_of_that_time(tmp_path) -> None:
    """Whatever the order of the file, an object's person is the identifier its latest event
    names; of two events logged at the same time, the later one in the file."""
    export = Export()
    oid = "0000beef-4a4c-4b2e-9c1d-5e6f7a8b9c0d"
    latest = START + timedelta(minutes=3)
    for upn, at in (("renamed@contoso.no", START + timedelta(minutes=2)),
                    ("tie.first@contoso.no", latest), ("tie.second@contoso.no", latest),
                    ("original@contoso.no", START)):
        export.user(upn, action="update", object_id=oid, at=at)
    path = tmp_path / "renamed.json"
    path.write_text(json.dumps(export.records), encoding="utf-8")
    ingest_to_store([path], tmp_path / "store")
    held = Context(load([path]).frames)
    scanned = Context(load([tmp_path / "store"], analysis_only=True, eager_events=0).frames)
    for ctx in (held, scanned):
        people = ctx.events_where(pl.lit(True), ("event_id", "person"))["person"]
        assert people.to_list() == ["tie.second@contoso.no"] * 4
