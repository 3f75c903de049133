"""`why` on a store with an identity index answers exactly as reading every event does.

The index (``store_index``, written by ``ingest``) only changes what `why` reads, so each
answer (the JSON, exit code included) is compared with the answer from the same store without
its index, which is how every store written before the index is read.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import realworld as rw
from polars.testing import assert_frame_equal
from typer.testing import CliRunner
from why_records import (
    Person,
    create,
    failed_create,
    in_sync,
    not_entitled,
    scim_error,
    write_export,
)

from loganalyzer.cli import app
from loganalyzer.ingest import ingest_to_store
from loganalyzer.people_copy import FLAT_STEP_COLUMNS, PEOPLE_DIR, PERSON, ROW, copy_path
from loganalyzer.store_index import CYCLES_FILE, IDENTITIES_FILE, ROWS_FILE
from loganalyzer.why import frame_source, indexed
from loganalyzer.why.frame_source import FrameSource
from loganalyzer.why.indexed import IndexedStore
from loganalyzer.why.query import to_json as why_json
from loganalyzer.why.query import why

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"

ANNA = Person("6f1c2a9e-3b7d-4e15-9a0c-1d2e3f405161", "Anna.Berg@contoso.com", "Anna Berg",
              "3e223d8131124723b8fabaea", employee_id="104125")
BOB = Person("0b7e4a21-5c3d-4f60-8e1a-2b3c4d5e6f70", "bob@contoso.com", "Bob Stone",
             "62ccaf26825e8d254081d7c6")
CONSULTANTS = Person("7c1d2e3f-4a5b-4c6d-8e7f-9a0b1c2d3e4f", "consultants@contoso.com",
                     "Flowcase Consultants", "")
ADMIN = Person("4d3c2b1a-0f9e-4d8c-b7a6-958473625140", "adm.anna.berg@contoso.com",
               "Admin Anna Berg", "", mail="anna.berg@contoso.com")
C1, C2 = "b5584f93-0fa5-4962-a60a-64675c42a46d", "d63b8c72-743e-460e-b64a-ab0f617d0d43"


def _with_and_without_index(inputs: list[Path], folder: Path) -> tuple[Path, Path]:
    store, old = folder / "store", folder / "old"
    ingest_to_store(inputs, store)
    shutil.copytree(store, old)
    for name in (IDENTITIES_FILE, CYCLES_FILE, ROWS_FILE):
        (old / name).unlink()
    return store, old


def _answer(store: Path, user: str, *options: str) -> tuple[int, dict]:
    result = CliRunner().invoke(app, ["why", user, str(store), "--format", "json", "-q",
                                      *options])
    assert result.exit_code in (0, 2), result.output
    return result.exit_code, json.loads(result.stdout)


def _assert_same(stores: tuple[Path, Path], users: list[str], *options: str) -> dict[str, dict]:
    """The answers from the indexed store, after checking each against the store without."""
    store, old = stores
    answers = {}
    for user in users:
        answer = _answer(store, user, *options)
        assert answer == _answer(old, user, *options), user
        answers[user] = answer[1]
    return answers


def _people(store: Path, status: str, count: int) -> list[str]:
    """UPNs of people whose latest event has this status."""
    latest = (
        pl.read_parquet(store / "events.parquet")
        .filter(pl.col("upn").is_not_null())
        .sort("activity_time")
        .group_by("source_id")
        .agg(pl.col("upn").last(), pl.col("status").last())
        .filter(pl.col("status") == status)
        .sort("upn")
    )
    return latest["upn"].head(count).to_list()


def _generated(folder: Path, events: int) -> Path:
    """A generated month of a tenant (``benchmarks/make_tenant.py``) of about ``events``."""
    export = folder / "tenant.json"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "make_tenant.py"), "--events",
                    str(events), "-o", str(export)], check=True, capture_output=True)
    return export


@pytest.fixture(scope="module")
def samples(tmp_path_factory) -> tuple[Path, Path]:
    exports = sorted(p for p in SAMPLES.glob("*.json") if p.name != "manifest.json")
    return _with_and_without_index(exports, tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="module")
def tenant_wide(tmp_path_factory) -> tuple[Path, Path]:
    """Every app of a tenant, plus Flowcase events logged without an object id, a skip naming
    its user only in a step detail, a group, and an admin account exporting another person's
    mail (a duplicate)."""
    folder = tmp_path_factory.mktemp("tenant")
    unnamed = not_entitled(BOB, "2026-03-01T10:01:00Z", C1)
    unnamed["sourceIdentity"] = {"details": {}, "displayName": "", "id": "",
                                 "identityType": "User"}
    unnamed["provisioningSteps"][0]["details"] = {}
    unnamed["provisioningSteps"][-1]["details"]["ReportableIdentifier"] = "Robert.Stone@contoso.com"
    renamed = in_sync(BOB, "2026-03-01T11:03:00Z", C2)  # Flowcase still has his old userName
    renamed["provisioningSteps"][1]["details"]["userName"] = "bstone@contoso.com"
    group = create(CONSULTANTS, "2026-03-01T10:02:00Z", C2)
    group["sourceIdentity"]["identityType"] = "Group"
    group["targetIdentity"]["identityType"] = "urn:ietf:params:scim:schemas:core:2.0:Group"
    records = [
        unnamed,
        renamed,
        group,
        failed_create(ANNA, "2026-03-01T09:00:00Z", C1, "Conflict",
                      scim_error(409, "User already exists", "uniqueness"),
                      user_name="Anna.Berg@contoso.com", source_id=False),
        create(ANNA, "2026-03-01T10:00:00Z", C1),
        in_sync(ANNA, "2026-03-01T11:00:00Z", C2),
        failed_create(ADMIN, "2026-03-01T10:07:00Z", C1, "Conflict",
                      scim_error(409, "email already in use", "uniqueness"),
                      email="anna.berg@contoso.com"),
    ]
    flowcase = write_export(folder / "flowcase.json", records)
    tenant = folder / "tenant.json"
    tenant.write_text(json.dumps(rw.tenant_wide()))
    return _with_and_without_index([flowcase, tenant], folder)


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """A generated month of a tenant (``benchmarks/make_tenant.py``), small."""
    folder = tmp_path_factory.mktemp("generated")
    export = _generated(folder, 4000)
    return _with_and_without_index([export], folder)


@pytest.fixture(scope="module")
def small_groups(tmp_path_factory) -> tuple[Path, Path]:
    """A generated tenant whose steps are written in row groups of 500 rows (20,000 in a real
    store), so a person's steps are read from many groups, and runs of them cross groups."""
    folder = tmp_path_factory.mktemp("small_groups")
    export = _generated(folder, 3000)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("loganalyzer.ingest.STEP_ROW_GROUP", 500)
        return _with_and_without_index([export], folder)


def test_steps_are_written_in_row_groups_of_step_row_group_rows(small_groups):
    import pyarrow.parquet as pq

    groups = pq.ParquetFile(small_groups[0] / "steps.parquet").metadata
    rows = [groups.row_group(i).num_rows for i in range(groups.num_row_groups)]
    assert max(rows) == 500 and sum(rows) > 10 * 500


def test_many_people_answer_as_without_the_index_from_small_row_groups(small_groups):
    store = small_groups[0]
    users = [*_people(store, "failure", 8), *_people(store, "success", 8),
             *_people(store, "skipped", 8)]
    assert len(users) == 24
    _assert_same(small_groups, users)


def test_samples_answer_as_without_the_index(samples):
    store = samples[0]
    users = [*_people(store, "failure", 3), *_people(store, "success", 2),
             *_people(store, "skipped", 2)]
    _assert_same(samples, [
        *users, users[0].upper(), "henrik", "ole", "Oslo Office", "nobody@northwind.no",
        "olejohansen@northwind.no", "16c8244f-6953-4d74-a6e2-5f2d605f5dee", "104239", "",
    ])


def test_names_typed_without_nordic_letters_answer_as_without_the_index(samples):
    """The index finds the display names a lookup matches with ø, æ, å spelt out (a
    separate match of its own): whole, in part, and the other way round."""
    answers = _assert_same(samples, ["jorgen saether", "Joergen Saether", "saether",
                                     "hanne roed", "Knut Oedegaard", "ase fjeld"])
    assert answers["jorgen saether"]["user"]["display_name"] == "Jørgen Sæther"
    assert answers["Joergen Saether"]["matched_on"] == "display name"
    assert answers["saether"]["matched_on"] == "partial identifier"
    assert {answers[q]["user"]["display_name"] for q in ("hanne roed", "Knut Oedegaard",
                                                         "ase fjeld")} == {
        "Hanne Røed", "Knut Ødegård", "Åse Fjeld"}


def test_someone_failing_in_each_sample_answers_as_without_the_index(samples):
    """A failing person of each pattern: their answers rest on step details (sent values,
    skip and export details), which an indexed store reads one per row, not from the steps."""
    store, old = samples
    failed = pl.read_parquet(store / "events.parquet").filter(
        (pl.col("status") == "failure") & pl.col("upn").is_not_null())
    # a person not picked yet from each sample: each pattern's evidence (about a second an
    # answer, both ways, so not all 57)
    users: list[str] = []
    for _, people in sorted(failed.group_by("source_file").agg(pl.col("upn").unique().sort())
                            .iter_rows()):
        users.extend([p for p in people if p not in users][:1])
    assert len(users) == 17
    whole = FrameSource.from_stores([old])
    explained = 0
    for user in users:
        indexed = why_json(why(IndexedStore.open([store]), user))
        assert indexed == why_json(why(whole, user)), user
        explained += bool(indexed["explanations"])
    assert explained == len(users)


def test_a_period_on_an_indexed_store_answers_as_without_the_index(samples):
    users = _people(samples[0], "failure", 1) + ["new.hire@northwind.no"]
    _assert_same(samples, users, "--since", "3d")


def test_tenant_wide_store_answers_as_without_the_index(tenant_wide):
    answers = _assert_same(tenant_wide, [
        "anna.berg@contoso.com",  # her 409 has no object id: it joins her by UPN
        ANNA.object_id, ANNA.flowcase_id,  # identifiers that 409 does not log
        "adm.anna.berg@contoso.com", "Anna", "user0@northwind.no", "nobody@contoso.com",
        "robert.stone@CONTOSO.com",  # only a skip's ReportableIdentifier names him
        "BStone@contoso.com",  # only the userName Flowcase returned names him
        "flowcase consultants", CONSULTANTS.object_id,  # a group
    ])
    assert {answers[q]["user"]["events"] for q in ("anna.berg@contoso.com", ANNA.object_id,
                                                    ANNA.flowcase_id)} == {3}
    assert answers["robert.stone@CONTOSO.com"]["user"]["events"] == 1
    assert answers["BStone@contoso.com"]["matched_on"] == "step details"
    assert "is a group" in answers["flowcase consultants"]["verdict"]["message"]
    assert answers["user0@northwind.no"]["verdict"]["state"] == "never_seen"  # Dropbox's user
    assert [(a["app"], a["events"]) for a in answers["user0@northwind.no"]["in_other_apps"]
            ] == [("Dropbox Business", 1)]


def test_another_app_chosen_on_an_indexed_store_answers_as_without_it(tenant_wide):
    users = ["anna.berg@contoso.com", "user0@northwind.no"]
    _assert_same(tenant_wide, users, "--app", "Box")


def test_generated_tenant_answers_as_without_the_index(generated):
    store = generated[0]
    users = [*_people(store, "failure", 3), *_people(store, "success", 2),
             *_people(store, "skipped", 2)]
    _assert_same(generated, [*users, "ingrid.hansen", "Nora", "nobody@contoso-big.example"])


def test_an_indexed_store_reads_the_person_and_their_cycles_not_every_event(generated):
    store = generated[0]
    user = _people(store, "failure", 1)[0]
    source = IndexedStore.open([store])
    assert source is not None
    source.choose((), str(store))
    person = why(source, user).lookup.person
    assert person is not None
    events = pl.read_parquet(store / "events.parquet", columns=["cycle_id"])
    largest_cycle = events.group_by("cycle_id").len()["len"].max()
    # the person, the cycles of their latest event and failure and the job's newest cycle
    assert source.events_read <= person.events + 3 * largest_cycle < events.height / 2


def test_the_context_is_read_once_steps_without_their_nested_details(generated, monkeypatch):
    """The rule engine's steps, properties and details come from the one prefetch (nothing
    is read again after it), and the steps' nested ``details`` column, the costly one to
    decode, is not read for them."""
    store = generated[0]
    scanned: list[tuple[str, list[str] | None]] = []
    read_after: list[str] = []
    prefetched = IndexedStore.prefetch

    def scan(path, ids, columns):
        scanned.append((path.name, columns and list(columns)))
        return frame_source.scan_matching(path, ids, columns)

    def prefetch(self, event_ids):
        prefetched(self, event_ids)
        monkeypatch.setattr(IndexedStore, "_matching",
                            lambda s, name, *a: read_after.append(name))
        monkeypatch.setattr(IndexedStore, "_steps_of", lambda s, ids: read_after.append("steps"))

    monkeypatch.setattr(indexed, "scan_matching", scan)
    monkeypatch.setattr(IndexedStore, "prefetch", prefetch)
    source = IndexedStore.open([store])
    source.choose((), str(store))
    why(source, _people(store, "failure", 1)[0])
    assert read_after == []
    names = dict(scanned)
    assert set(names) == {"steps.parquet", "modified_properties.parquet", "step_details.parquet"}
    assert "details" not in names["steps.parquet"] and "step_index" in names["steps.parquet"]


@pytest.mark.parametrize("damage", ["missing", "other events'"])
def test_step_rows_that_are_missing_or_wrong_cost_time_not_the_answer(samples, tmp_path, damage):
    store = tmp_path / "store"
    shutil.copytree(samples[0], store)
    if damage == "missing":
        (store / ROWS_FILE).unlink()
    else:  # as if the steps had been written in another order than the index saw
        rows = pl.read_parquet(store / ROWS_FILE)
        rows.with_columns(pl.col("start").reverse()).write_parquet(store / ROWS_FILE)
    users = _people(samples[0], "failure", 2) + _people(samples[0], "skipped", 2)
    _assert_same((store, samples[1]), users)


def test_a_store_without_the_index_is_read_whole(samples):
    assert IndexedStore.open([samples[1]]) is None
    assert IndexedStore.open([samples[0], samples[1]]) is None  # one store without: all whole
    assert IndexedStore.open([samples[0], samples[0]]) is not None  # see test_why_stores


def test_why_on_a_store_imports_neither_pyarrow_nor_the_graph_sdk(samples):
    code = (
        "import sys\n"
        "from loganalyzer.cli import app\n"
        "try:\n"
        f"    app(['why', 'ole', {str(samples[0])!r}, '-q', '--format', 'json'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'pyarrow', 'numpy', 'msgraph', 'duckdb', 'jinja2'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}), file=sys.stderr)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stderr.strip().splitlines()[-1] == "[]"


@pytest.fixture(scope="module")
def many_batches(tmp_path_factory) -> tuple[Path, Path]:
    """A generated tenant ingested 400 events a batch (20,000 in a real store) into a people
    copy of 40 events a row group: a person's rows lie in several batches of the copy."""
    folder = tmp_path_factory.mktemp("many_batches")
    export = _generated(folder, 3000)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("loganalyzer.readers.BATCH_ROWS", 400)
        patch.setattr("loganalyzer.ingest.BATCH_ROWS", 400)
        patch.setattr("loganalyzer.ingest.ROW_GROUPS",
                      {"events": 40, "steps": 160, "step_details": 600,
                       "modified_properties": 160})
        return _with_and_without_index([export], folder)


def test_the_people_copy_holds_each_row_of_the_store_once_in_store_order_by_row(many_batches):
    store = many_batches[0]
    events = pl.read_parquet(store / "events.parquet")
    copy = pl.read_parquet(copy_path(store, "events"))
    assert copy[ROW].sort().to_list() == list(range(events.height))
    assert_frame_equal(copy.sort(ROW).drop(PERSON, ROW), events)
    for name, columns in (("steps", list(FLAT_STEP_COLUMNS)), ("step_details", None),
                          ("modified_properties", None)):
        rows = pl.read_parquet(store / f"{name}.parquet", columns=columns)
        copied = pl.read_parquet(copy_path(store, name)).sort(ROW, maintain_order=True)
        assert_frame_equal(copied.drop(PERSON, ROW), rows, check_exact=True)


def test_a_person_is_in_about_one_row_group_of_the_copy_a_batch(many_batches):
    import pyarrow.parquet as pq

    store = many_batches[0]
    events = pl.read_parquet(store / "events.parquet", columns=["source_id"])
    batches = -(-events.height // 400)
    person = events["source_id"].drop_nulls().mode().sort()[0]  # the most often seen
    for name in ("events", "steps", "step_details", "modified_properties"):
        meta = pq.ParquetFile(copy_path(store, name)).metadata
        column = [meta.row_group(0).column(i).path_in_schema
                  for i in range(meta.num_columns)].index(PERSON)
        stats = [meta.row_group(i).column(column).statistics for i in range(meta.num_row_groups)]
        holding = sum(s.min <= person <= s.max for s in stats)
        assert meta.num_row_groups > 2 * batches and 0 < holding <= 2 * batches, name


def test_many_batches_answer_as_without_the_index_and_without_the_copy(many_batches, tmp_path):
    store = many_batches[0]
    no_copy = tmp_path / "no_copy"
    shutil.copytree(store, no_copy)
    shutil.rmtree(no_copy / PEOPLE_DIR)
    users = [*_people(store, "failure", 6), *_people(store, "success", 4),
             *_people(store, "skipped", 4), "ingrid.hansen", "Nora", "nobody@contoso-big.example"]
    _assert_same(many_batches, users)
    for user in users:
        assert _answer(no_copy, user) == _answer(store, user), user


def test_a_person_is_looked_up_in_the_copy_not_the_store_s_events(many_batches, monkeypatch):
    store = many_batches[0]
    scanned: list[str] = []
    scan = pl.scan_parquet

    def recording(path, *args, **kwargs):
        scanned.append(Path(path).relative_to(store).as_posix())
        return scan(path, *args, **kwargs)

    source = IndexedStore.open([store])
    source.choose((), str(store))
    monkeypatch.setattr(indexed.pl, "scan_parquet", recording)
    found = source.candidates(_people(store, "failure", 1)[0])
    assert not found.is_empty()
    assert scanned == ["people/events.parquet"]


@pytest.mark.parametrize("name", ["steps", "step_details", "modified_properties"])
def test_a_people_copy_lacking_a_file_is_not_read(samples, tmp_path, name):
    store = tmp_path / "store"
    shutil.copytree(samples[0], store)
    copy_path(store, name).unlink()  # a folder copied in part: the store's own files serve
    users = [*_people(store, "failure", 2), *_people(store, "success", 1)]
    _assert_same((store, samples[1]), users)


def test_an_export_spilled_for_load_gets_no_people_copy(tmp_path, monkeypatch):
    """``load`` reads a large export through a store it never asks `why` of: no copy."""
    from loganalyzer import ingest

    spilled: list[Path] = []
    write = ingest.ingest_to_store

    def recording(inputs, store, *args, **kwargs):
        spilled.append(store)
        return write(inputs, store, *args, **kwargs)

    monkeypatch.setattr(ingest, "ingest_to_store", recording)
    dataset = ingest.load([SAMPLES / "failing-initial.json"], spill_bytes=0)
    assert dataset.frames.event_count() > 0
    assert spilled and (spilled[0] / "events.parquet").is_file()
    assert not (spilled[0] / PEOPLE_DIR).exists()
