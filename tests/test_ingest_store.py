"""A store holds exactly what reading its export gives, and the fast reader misses no event.

Every realistic sample (each scenario and each export form in sample_logs/) is ingested, read
back and compared frame by frame, value by value, with the same file read in memory: the
streaming path (batches, de-duplication, Parquet writes) may not change a row.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
from conftest import SAMPLES
from polars.testing import assert_frame_equal

from loganalyzer import ingest, readers, store_index
from loganalyzer.file_order import newest_first_files
from loganalyzer.ingest import ingest_to_store, load, read_manifest
from loganalyzer.normalize import step_details
from loganalyzer.problems import Problem, cut_off
from loganalyzer.readers import _count_events
from loganalyzer.readers.json_careful import EVENT_KEY
from loganalyzer.readers.sources import Source
from loganalyzer.schema import DETAIL_ROWS_SCHEMA, FRAME_SCHEMAS

FORMATS = SAMPLES / "formats"
EXPORTS = sorted(p for p in SAMPLES.glob("*.json") if p.name != "manifest.json") + [
    FORMATS / "portal-pretty.json",
    FORMATS / "graph-beta-page.json",
    FORMATS / "graph-v1",
    FORMATS / "storage",
    FORMATS / "log-analytics" / "AADProvisioningLogs.json",
    FORMATS / "log-analytics" / "AADProvisioningLogs.csv",
    FORMATS / "csv",
    FORMATS / "csv-variant",
]
RECORDS = json.loads((Path(__file__).parent / "data" / "graph-records-captured.json").read_text())


@pytest.mark.parametrize("export", EXPORTS, ids=lambda p: str(p.relative_to(SAMPLES)))
def test_store_holds_what_the_export_reads_as(tmp_path, export):
    manifest = ingest_to_store([export], tmp_path / "store")
    direct, stored = load([export]), load([tmp_path / "store"])
    from_store = stored.frames.collected()
    for name in FRAME_SCHEMAS:
        assert_frame_equal(getattr(from_store, name), getattr(direct.frames, name),
                           check_exact=True)
    details = step_details(direct.frames.steps).select(list(DETAIL_ROWS_SCHEMA))
    assert_frame_equal(from_store.details.collect(), details.cast(DETAIL_ROWS_SCHEMA),
                       check_exact=True)
    assert stored.problems == direct.problems
    assert manifest["notes"] == direct.notes
    assert manifest["counts"]["events"] == direct.frames.events.height > 0


def test_small_batches_write_the_same_store(tmp_path, monkeypatch):
    """Batch boundaries change nothing: facts are tied to their event within a batch, and
    the identity index folds many batches' identifiers into the same distinct rows."""
    export = SAMPLES / "weekly-two-periods.json"
    ingest_to_store([export], tmp_path / "whole")
    monkeypatch.setattr(readers, "BATCH_ROWS", 7)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 7)  # the batches the index and writer get
    monkeypatch.setattr(store_index, "_MERGE_EVERY", 3)
    ingest_to_store([export], tmp_path / "batched")
    # a batch a row group: the index did fold many batches (before the ingest module's
    # batch size was patched too, it got the whole export as one)
    details = pq.ParquetFile(tmp_path / "batched" / "step_details.parquet")
    assert details.metadata.num_row_groups >= 2 * 3
    files = sorted(p.name for p in (tmp_path / "whole").glob("*.parquet"))
    assert len(files) >= 7
    for name in files:
        assert_frame_equal(pl.read_parquet(tmp_path / "batched" / name),
                           pl.read_parquet(tmp_path / "whole" / name), check_exact=True)
    # the file's direction, gathered from many batches' ends, is the whole file's
    manifests = [read_manifest(tmp_path / s) for s in ("whole", "batched")]
    assert manifests[0]["newest_first"] == manifests[1]["newest_first"] == [
        newest_first_files(load([export]).frames.events)[0]]  # a portal download


def test_the_identity_index_holds_a_few_batches_and_writes_the_rest_to_disk(tmp_path,
                                                                            monkeypatch):
    """What the index collects grows with the month: it holds at most ``_MERGE_EVERY``
    batches' identities, writes their distinct rows to a file, and merges the files at the
    end into the index one batch gives."""
    export = SAMPLES / "weekly-two-periods.json"
    ingest_to_store([export], tmp_path / "whole")
    monkeypatch.setattr(readers, "BATCH_ROWS", 7)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 7)
    monkeypatch.setattr(store_index, "_MERGE_EVERY", 3)
    held, files = [], []
    add, write = store_index.IndexWriter.add, store_index.IndexWriter.write

    def adding(self, frames, details):
        add(self, frames, details)
        held.append(len(self._identities))

    def writing(self, store):
        files.extend(p.name for p in self._parts.glob("identities-*.parquet"))
        write(self, store)

    monkeypatch.setattr(store_index.IndexWriter, "add", adding)
    monkeypatch.setattr(store_index.IndexWriter, "write", writing)
    ingest_to_store([export], tmp_path / "batched")
    assert len(held) >= 9 and max(held) == 2 and len(files) >= 3
    assert not list((tmp_path / "batched").glob(".index-parts"))
    assert_frame_equal(pl.read_parquet(tmp_path / "batched" / store_index.IDENTITIES_FILE),
                       pl.read_parquet(tmp_path / "whole" / store_index.IDENTITIES_FILE))


def test_events_nested_in_another_record_are_found(tmp_path):
    """Valid JSON whose second event sits inside the first (a lost bracket): DuckDB reads one
    record, the count of event keys says two, and the careful reader reads the inner one."""
    outer, inner = copy.deepcopy(RECORDS[1]), copy.deepcopy(RECORDS[0])
    outer["modifiedProperties"].append(inner)
    path = tmp_path / "nested.json"
    path.write_text(json.dumps([outer]))
    dataset = load([path])
    assert inner["id"] in dataset.frames.events["event_id"].to_list()
    assert [(p.location, p.message.split(" (")[0]) for p in dataset.problems] == [
        ("record 1 (line 1)", "holds 1 more record inside it")]


def test_event_keys_cut_by_a_block_end_are_counted_once(tmp_path):
    key = EVENT_KEY.encode()
    block = 1 << 22  # the counter's read size
    for cut in range(len(key) + 1):
        data = b" " * (block - cut) + key + b"," + key * 2 + b" " * block + key
        path = tmp_path / f"cut{cut}.json"
        path.write_bytes(data)
        assert _count_events(Source(path.name, path)) == 4, cut


def test_a_store_written_with_zstd_reads_as_the_same_events(tmp_path):
    """Stores are written with LZ4 (``ingest.STORE_CODEC``: faster to read); a store written
    before that, with zstd, still opens and gives the same frames."""
    import pyarrow.parquet as pq

    store = tmp_path / "lz4"
    ingest_to_store([SAMPLES / "failing-initial.json"], store)
    older = tmp_path / "zstd"
    older.mkdir()
    for path in store.iterdir():
        if path.is_dir():  # the people copy (people_copy), which load never reads
            continue
        if path.suffix != ".parquet":
            (older / path.name).write_bytes(path.read_bytes())
            continue
        if path.stem in FRAME_SCHEMAS:
            first = pq.ParquetFile(path).metadata.row_group(0).column(0)
            assert first.compression == "LZ4", path.name
        pq.write_table(pq.read_table(path), older / path.name, compression="zstd")
    new, old = load([store]).frames.collected(), load([older]).frames.collected()
    for name in FRAME_SCHEMAS:
        assert_frame_equal(getattr(old, name), getattr(new, name), check_exact=True)


@pytest.mark.parametrize("export", [p for p in EXPORTS if p.suffix == ".json"],
                         ids=lambda p: p.name)
def test_the_fast_reader_takes_every_well_formed_json_sample(export, caplog):
    """The careful reader gives the same rows, slower: a refusal (an option DuckDB does not
    know, a column type it cannot cast) would cost every file its speed and show nowhere
    else. Only the diagnostic-settings spelling outside envelopes goes to the careful one."""
    caplog.set_level("INFO", logger="loganalyzer.readers")
    load([export])
    assert not [r.getMessage() for r in caplog.records if "refused" in r.getMessage()]


def test_a_store_replaced_by_ingest_is_named_and_one_given_as_input_too_is_added_to(tmp_path):
    """The weekly `ingest new.json -o store` replaces last week's store: it says so, and how
    to add instead; `ingest store new.json -o store` keeps both weeks."""
    from typer.testing import CliRunner

    from loganalyzer.cli import app

    records = json.loads((SAMPLES / "weekly-two-periods.json").read_text(encoding="utf-8"))
    split = len(records) // 2
    week1, week2, store = tmp_path / "week1.json", tmp_path / "week2.json", tmp_path / "store"
    week1.write_text(json.dumps(records[:split]), encoding="utf-8")
    week2.write_text(json.dumps(records[split:]), encoding="utf-8")

    def run(*args: Path) -> str:
        result = CliRunner().invoke(app, ["ingest", *map(str, args), "-o", str(store)])
        assert result.exit_code == 0, result.output
        return result.stderr

    assert "replacing" not in run(week1)  # a new store replaces nothing
    said = run(week2)
    assert (f"note: replacing the store {store} ({split:,} events); to add to it instead, give "
            f"it as an input too: ingest {store} NEW... -o {store}") in said
    assert read_manifest(store)["counts"]["events"] == len(records) - split
    assert "replacing" not in run(store, week1)
    assert read_manifest(store)["counts"]["events"] == len(records)
    # the store still names the week it held before, and summary lists both weeks' files
    assert list(read_manifest(store)["kinds"]) == [str(week2), str(week1)]
    summary = CliRunner().invoke(app, ["summary", str(store), "-q"]).stdout
    assert "Input: 2 files;" in summary and f"  {week2}: portal JSON download" in summary


def _cut_export(path: Path, records: list[dict], keep: int) -> Path:
    """``records`` as a portal download cut off inside record ``keep + 1``."""
    whole = json.dumps(records[:keep + 1], indent=2)
    path.write_text(whole[:whole.rindex('"activityDateTime"')], encoding="utf-8")
    return path


def test_a_cut_export_stops_counting_as_cut_once_a_re_export_of_its_days_is_added(tmp_path):
    """The weekly admin's store: week 1 was downloaded cut off, week 2 appended, then week 1
    downloaded again in full. The re-export reaches across the cut, so the store no longer
    calls week 1 cut (before, the note stayed and every report was degraded until the store
    was rebuilt); the next week's export alone, which starts after the cut, does not."""
    records = json.loads((SAMPLES / "weekly-two-periods.json").read_text(encoding="utf-8"))
    newer = [r for r in records if r["activityDateTime"] >= "2026-03-02"]  # newest first
    older = [r for r in records if r["activityDateTime"] < "2026-03-02"]
    cut = _cut_export(tmp_path / "week1-cut.json", older, keep=len(older) // 2)
    week2, again = tmp_path / "week2.json", tmp_path / "week1-again.json"
    week2.write_text(json.dumps(newer), encoding="utf-8")
    again.write_text(json.dumps(older), encoding="utf-8")
    store = tmp_path / "store"
    ingest_to_store([cut], store)
    ingest_to_store([store, week2], tmp_path / "store2")
    still = [Problem(**p) for p in read_manifest(tmp_path / "store2")["problems"]]
    assert cut_off(still) == [f"{cut} is cut off at record {len(older) // 2 + 1}"]
    ingest_to_store([tmp_path / "store2", again], tmp_path / "store3")
    settled = [Problem(**p) for p in read_manifest(tmp_path / "store3")["problems"]]
    assert cut_off(settled) == [] and len(settled) == len(still)
    assert settled[0].message.endswith(
        f"but {again} reaches across the cut (an export of the same days?) and what followed "
        "is read from there")
    assert cut_off(load([cut, again]).problems) == []  # given together, as well
    assert cut_off(load([cut, week2]).problems) != []


@pytest.mark.parametrize(("cut_file", "other", "ends_it"), [
    # a Log Analytics export, oldest first, stopped on the 3rd at noon: it lost what followed
    (("03-01", "03-03T12"), ("03-02", "03-05"), True),   # a re-export reaching across
    (("03-01", "03-03T12"), ("03-04", "03-08"), False),  # the next export, after the cut
    (("03-01", "03-03T12"), ("02-20", "03-02"), False),  # an older export, before it
    # a portal download, newest first, cut on the 3rd at noon: it lost what came before
    (("03-05", "03-03T12"), ("03-01", "03-04"), True),
    (("03-05", "03-03T12"), ("03-03T12", "03-08"), False),  # nothing on the lost side
    # a tenant-wide export of several apps, in no order: its first and last records are both
    # after the cut, one in the middle before it
    (("03-05", "03-03T12"), ("03-06", "03-01", "03-07"), True),
])
def test_a_cut_ends_only_when_another_file_holds_records_on_its_lost_side(cut_file, other,
                                                                         ends_it):
    from datetime import UTC, datetime

    from loganalyzer.file_order import FileEnds
    from loganalyzer.problems import across_cuts

    def at(day: str) -> datetime:
        return datetime.fromisoformat(f"2026-{day}{':00' if 'T' in day else ''}").replace(
            tzinfo=UTC)

    read = FileEnds()
    for name, days in (("cut.json", cut_file), ("other.json", other)):
        read.add(pl.DataFrame({"source_file": name, "source_record": range(1, len(days) + 1),
                               "activity_time": [at(d) for d in days]}))
    cut = Problem("cut.json", "record 9 (line 300)", "malformed JSON (x); "
                  "the rest of the file holds no further readable record")
    assert (cut_off(across_cuts([cut], read)) == []) is ends_it


def _week1_cut_and_again(tmp_path: Path) -> tuple[Path, Path]:
    """Week 1 as a portal download cut off halfway, and the same week downloaded again."""
    records = json.loads((SAMPLES / "weekly-two-periods.json").read_text(encoding="utf-8"))
    older = [r for r in records if r["activityDateTime"] < "2026-03-02"]
    cut = _cut_export(tmp_path / "week1-cut.json", older, keep=len(older) // 2)
    again = tmp_path / "week1-again.json"
    again.write_text(json.dumps(older), encoding="utf-8")
    return cut, again


def test_a_store_that_settled_a_cut_keeps_it_settled_beside_the_cut_export(tmp_path):
    """The store the cut download and its re-export went into, given again with the cut
    download: the cut is the one the store's manifest already settled, said once, not a
    second unread record that makes every report degraded again."""
    cut, again = _week1_cut_and_again(tmp_path)
    ingest_to_store([cut, again], tmp_path / "store")
    for inputs in ([tmp_path / "store", cut], [cut, tmp_path / "store"]):
        dataset = load(inputs)
        assert cut_off(dataset.problems) == [] and len(dataset.problems) == 1
        assert dataset.input_notes()[0].startswith("1 input record could not be read")


@pytest.mark.parametrize("form", ["cut store", "re-export store", "both stores", "spilled",
                                  "both stores for analysis", "spilled for analysis",
                                  "ingest both stores", "ingest re-export store first"])
def test_a_re_export_reaches_across_a_cut_whichever_input_holds_it(tmp_path, form):
    """A store holds its files' records as an export does: the re-export reaches across the
    cut whether either is given as a store or the exports are read through a temporary
    store (larger than the spill size); before, only exports given as files, or appended to
    the cut file's store, ended it, so the same inputs were degraded or not by their form."""
    cut, again = _week1_cut_and_again(tmp_path)
    cut_store, again_store = tmp_path / "cut-store", tmp_path / "again-store"
    ingest_to_store([cut], cut_store)
    ingest_to_store([again], again_store)
    if form.startswith("ingest"):
        order = [again_store, cut_store] if "first" in form else [cut_store, again_store]
        ingest_to_store(order, tmp_path / "store")
        problems = [Problem(**p) for p in read_manifest(tmp_path / "store")["problems"]]
    else:
        problems = {
            "cut store": lambda: load([cut_store, again]),
            "re-export store": lambda: load([cut, again_store]),
            "both stores": lambda: load([cut_store, again_store]),
            "spilled": lambda: load([cut_store, again], spill_bytes=0),
            # as diagnose and report read them: without the events' file and record columns
            "both stores for analysis": lambda: load([cut_store, again_store],
                                                     analysis_only=True),
            "spilled for analysis": lambda: load([cut_store, again], analysis_only=True,
                                                 spill_bytes=0),
        }[form]().problems
    assert cut_off(problems) == [] and len(problems) == 1


def _weekly_store_and_export(tmp_path: Path) -> tuple[Path, Path, int]:
    """Last week's store and this week's export, which holds last week's events again (a
    download of the whole month): the weekly `ingest STORE NEW.json -o STORE`."""
    records = json.loads((SAMPLES / "weekly-two-periods.json").read_text(encoding="utf-8"))
    week1, month = tmp_path / "week1.json", tmp_path / "month.json"
    week1.write_text(json.dumps(records[len(records) // 2:]), encoding="utf-8")
    month.write_text(json.dumps(records), encoding="utf-8")
    ingest_to_store([week1], tmp_path / "store")
    return tmp_path / "store", month, len(records) - len(records) // 2


def _same_stores(one: Path, other: Path) -> None:
    files = sorted(p.name for p in one.glob("*.parquet"))
    assert files == sorted(p.name for p in other.glob("*.parquet")) and len(files) >= 7
    for name in files:
        assert_frame_equal(pl.read_parquet(other / name), pl.read_parquet(one / name),
                           check_exact=True)
    manifests = [read_manifest(s) for s in (one, other)]
    assert [{k: v for k, v in m.items() if k != "created"} for m in manifests[1:]] == [
        {k: v for k, v in manifests[0].items() if k != "created"}]


def test_a_store_added_to_is_read_a_batch_at_a_time_into_the_same_store(tmp_path,
                                                                        monkeypatch):
    """The store given as an input is written into the new one a batch of events at a time,
    each with its own steps and properties: read whole, a 500k-event store added to a 1M
    export held 3.5 GB. Batches change nothing in the store written, nor the duplicates."""
    store, month, held = _weekly_store_and_export(tmp_path)
    ingest_to_store([store, month], tmp_path / "whole")
    monkeypatch.setattr(readers, "BATCH_ROWS", 7)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 7)
    sizes = []
    add = store_index.IndexWriter.add

    def adding(self, frames, details):
        sizes.append(frames.event_count())
        add(self, frames, details)

    monkeypatch.setattr(store_index.IndexWriter, "add", adding)
    manifest = ingest_to_store([store, month], tmp_path / "batched")
    assert manifest["duplicates_dropped"] == held
    # batches are gathered to at least BATCH_ROWS events: at most two of the store's
    assert len(sizes) >= held // 14 and max(sizes) < 2 * 7
    _same_stores(tmp_path / "whole", tmp_path / "batched")


def test_a_store_whose_steps_are_not_in_event_order_is_added_to_whole(tmp_path, monkeypatch):
    """A batch's steps and properties are read as the run of rows between its events' first
    and last, kept only when they are the batch's: rows of a file not in event order are
    each written once, with their event."""
    store, month, _ = _weekly_store_and_export(tmp_path)
    ingest_to_store([store, month], tmp_path / "in-order")
    for name in ("steps", "modified_properties"):
        path = store / f"{name}.parquet"
        pl.read_parquet(path).sample(fraction=1.0, shuffle=True, seed=7).write_parquet(path)
    monkeypatch.setattr(readers, "BATCH_ROWS", 7)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 7)
    ingest_to_store([store, month], tmp_path / "shuffled")
    for name in ("events", "steps", "modified_properties", "step_details"):
        shuffled, in_order = (pl.read_parquet(tmp_path / s / f"{name}.parquet")
                              for s in ("shuffled", "in-order"))
        assert_frame_equal(shuffled.sort(pl.all()), in_order.sort(pl.all()), check_exact=True)


def test_a_damaged_store_added_to_is_one_error_naming_the_file(tmp_path):
    """Damaged data pages of a store's steps (the footer intact) are the store's one-line
    error when it is added to, not a traceback."""
    from typer.testing import CliRunner

    from loganalyzer.cli import app

    store, month, _ = _weekly_store_and_export(tmp_path)
    steps = store / "steps.parquet"
    data = bytearray(steps.read_bytes())
    data[200:len(data) // 2] = b"\x55" * (len(data) // 2 - 200)
    steps.write_bytes(bytes(data))
    result = CliRunner().invoke(app, ["ingest", str(store), str(month), "-o",
                                      str(tmp_path / "new"), "-q"])
    assert result.exit_code == 2, result.output
    assert f"{steps}: is not a readable store file" in result.output
    assert "Traceback" not in result.output


def test_stores_holding_more_events_in_all_than_are_held_are_scanned(tmp_path):
    """Each weekly store is under the events held in memory, their sum is over: all are
    scanned (two stores of 1M each were held whole, 1.9 GB, where the same events in one
    store are scanned in 0.5 GB), and the diagnosis is the one of the stores held."""
    from loganalyzer.engine import diagnose

    stores = []
    for sample in ("failing-initial.json", "group-404-halt.json"):
        stores.append(tmp_path / sample.removesuffix(".json"))
        ingest_to_store([SAMPLES / sample], stores[-1])
    sizes = [read_manifest(store)["counts"]["events"] for store in stores]
    scanned = load(stores, analysis_only=True, eager_events=max(sizes))
    held = load(stores, analysis_only=True, eager_events=sum(sizes))
    assert isinstance(scanned.frames.events, pl.LazyFrame)
    assert isinstance(held.frames.events, pl.DataFrame)
    assert diagnose(scanned.frames).findings == diagnose(held.frames).findings
