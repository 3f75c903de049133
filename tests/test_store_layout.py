"""A store gives the same diagnosis as the export it was made from, whatever its layout.

Rules read a store lazily: steps and modified properties are scanned, step details come from
``step_details.parquet`` (one detail per row). A store written before that file existed must
still open and diagnose the same, through the steps' own details.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import polars as pl
import pytest
import realworld as rw
from child_memory import ON_LINUX, measured
from conftest import SAMPLES
from typer.testing import CliRunner

from loganalyzer import ingest
from loganalyzer.cli import app
from loganalyzer.cli import report as report_cli
from loganalyzer.engine import diagnose
from loganalyzer.findings import to_json
from loganalyzer.ingest import DETAILS_FILE, SPILL_BYTES, ingest_to_store, load, read_store
from loganalyzer.normalize import step_details
from loganalyzer.report import model as report_model
from loganalyzer.scope import choose
from loganalyzer.why.query import to_json as why_json
from loganalyzer.why.query import why

EXPORTS = sorted(p.name for p in SAMPLES.glob("*.json") if p.name != "manifest.json")


def _diagnosis(inputs: list[Path]) -> dict:
    found = to_json(diagnose(load(inputs).frames), {})
    found.pop("generated_at", None)
    return found


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("stores")
    return {name: _ingested(SAMPLES / name, root / name) for name in EXPORTS}


def _ingested(export: Path, store: Path) -> Path:
    ingest_to_store([export], store)
    return store


@pytest.mark.parametrize("name", EXPORTS)
def test_a_store_diagnoses_like_its_export(name: str, stores: dict[str, Path]) -> None:
    from_store = _diagnosis([stores[name]])
    assert from_store == _diagnosis([SAMPLES / name])
    assert from_store["findings"] or name.startswith("healthy")


@pytest.mark.parametrize("name", ["failing-initial.json", "pattern-13-not-assigned.json",
                                  "pattern-07-duplicates.json", "pattern-14-soft-delete.json"])
def test_a_store_without_step_details_still_diagnoses_the_same(
    name: str, stores: dict[str, Path], tmp_path: Path
) -> None:
    old = tmp_path / "old-store"
    old.mkdir()
    for part in stores[name].iterdir():
        if part.is_file() and part.name != DETAILS_FILE:
            (old / part.name).write_bytes(part.read_bytes())
    frames, _ = read_store(old)
    assert frames.details is None
    assert _diagnosis([old]) == _diagnosis([SAMPLES / name])


def test_the_store_keeps_every_step_detail_once(stores: dict[str, Path]) -> None:
    store = stores["failing-initial.json"]
    frames, _ = read_store(store)
    steps = frames.steps.collect()
    kept = frames.details.collect()
    assert kept.height == steps["details"].list.len().sum() > 0
    assert kept.equals(step_details(steps))
    # what a rule asks for is a filtered scan of one column, not an explode of the steps
    plan = frames.details.filter(pl.col("attribute_key") == "skipreason").explain()
    assert "SELECTION" in plan or "FILTER" in plan.upper()


def test_a_store_written_from_stores_keeps_the_details(stores: dict[str, Path],
                                                       tmp_path: Path) -> None:
    first, second = stores["pattern-07-duplicates.json"], stores["pattern-13-not-assigned.json"]
    merged = tmp_path / "merged"
    manifest = ingest_to_store([first, second], merged)
    frames, _ = read_store(merged)
    parts = [read_store(s)[0].details.collect() for s in (first, second)]
    assert frames.details.collect().height == sum(p.height for p in parts)
    assert json.dumps(manifest["counts"]) == json.dumps(
        {"events": frames.events.height, "steps": frames.steps.collect().height,
         "modified_properties": frames.modified_properties.collect().height})
    assert _diagnosis([merged]) == _diagnosis([SAMPLES / "pattern-07-duplicates.json",
                                               SAMPLES / "pattern-13-not-assigned.json"])


def test_a_tenant_wide_store_narrows_to_flowcase_like_the_export(tmp_path: Path) -> None:
    export = tmp_path / "tenant.json"
    export.write_text(json.dumps({"value": rw.tenant_wide()}))
    store = _ingested(export, tmp_path / "store")

    def chosen(path: Path) -> dict:
        frames = choose(load([path]).frames).frames
        found = to_json(diagnose(frames), {})
        found.pop("generated_at", None)
        return found | {"steps": frames.collected().steps.sort("event_id", "step_index")
                        .to_dicts()}

    from_store = chosen(store)
    assert from_store == chosen(export)
    assert [f["rule_id"] for f in from_store["findings"]] == ["FC021"]


def test_a_large_export_is_read_through_a_temporary_store(tmp_path: Path) -> None:
    records = json.loads((SAMPLES / "failing-initial.json").read_text())
    records = records + [records[3], {**records[5], "id": None}]  # a repeat; no id
    export = tmp_path / "export.json"
    export.write_text(json.dumps(records))
    in_memory = load([export])
    spilled = load([export], spill_bytes=0)
    assert isinstance(in_memory.frames.steps, pl.DataFrame)
    assert isinstance(spilled.frames.steps, pl.LazyFrame)  # scanned from the temporary store
    assert (spilled.kinds, spilled.duplicates, spilled.problems) == (
        in_memory.kinds, in_memory.duplicates, in_memory.problems)
    assert spilled.duplicates == 1 and len(spilled.problems) == 1
    found = [to_json(diagnose(d.frames), {}) | {"generated_at": None}
             for d in (in_memory, spilled)]
    assert found[0] == found[1]


def test_the_temporary_store_is_removed_when_the_process_exits(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from loganalyzer.ingest import load; "
        "d = load([Path(sys.argv[1])], spill_bytes=0); print(d.frames.steps.collect().height)"
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    done = subprocess.run([sys.executable, "-c", script, str(SAMPLES / "failing-initial.json")],
                          env={**os.environ, "TMPDIR": str(temp)}, capture_output=True,
                          text=True, check=True)
    assert int(done.stdout) == 222
    assert list(temp.iterdir()) == []


def test_a_large_export_returns_ingests_freed_memory_before_it_is_analysed(monkeypatch) -> None:
    returned = []
    monkeypatch.setattr(ingest, "_return_freed_memory", lambda: returned.append(True))
    load([SAMPLES / "failing-initial.json"])
    assert returned == []  # read in memory: nothing was ingested
    load([SAMPLES / "failing-initial.json"], spill_bytes=0)
    assert returned == [True]


# What ingest leaves behind, in a child: C heap blocks (DuckDB's reads) and pyarrow buffers
# (the store's writer), freed but kept by their allocators.
_FREED = """
import ctypes, json
import pyarrow as pa
from loganalyzer import ingest

libc = ctypes.CDLL("libc.so.6")
libc.malloc.restype = ctypes.c_void_p
blocks = [libc.malloc(4096) for _ in range(50_000)]  # 200 MB
for block in blocks:
    ctypes.memset(block, 1, 4096)
buffers = [pa.allocate_buffer(65536) for _ in range(3000)]  # 190 MB
for buffer in buffers:
    ctypes.memset(buffer.address, 1, 65536)
for block in blocks[:-1]:  # the last one stays, above the others in the heap
    libc.free(ctypes.c_void_p(block))
del buffers
freed = resident()
ingest._return_freed_memory()
print(json.dumps({"freed": freed, "returned": resident()}))
"""


@pytest.mark.skipif(not ON_LINUX, reason="reads /proc and glibc's malloc_trim (Linux)")
def test_freed_memory_goes_back_to_the_system() -> None:
    resident = measured(_FREED)
    assert resident["freed"] - resident["returned"] > 250, resident  # of the 390 MB freed


def test_why_answers_the_same_from_a_large_export_read_through_a_store() -> None:
    export = SAMPLES / "failing-initial.json"
    in_memory, spilled = (load([export], spill_bytes=spill) for spill in (SPILL_BYTES, 0))
    # skips first (their timeline reads step details), then failures
    events = in_memory.frames.events.sort(pl.col("status") != "skipped", "status",
                                          "identity_key")
    people = events["identity_key"].unique(maintain_order=True).to_list()
    for user in people[:12]:
        answer = why_json(why(in_memory, user))
        assert why_json(why(spilled, user)) == answer, user
        assert answer["user"] and answer["timeline"]


# Past ``ingest.EAGER_EVENTS`` a store's events are scanned, not read: diagnose and report must
# say exactly what they say with the events in memory. The limit is lowered to 0 so every
# sample takes the scanning path.
@pytest.mark.parametrize("name", EXPORTS)
def test_scanned_events_diagnose_like_events_in_memory(name: str,
                                                       stores: dict[str, Path]) -> None:
    scanned = load([stores[name]], analysis_only=True, eager_events=0).frames
    assert isinstance(scanned.events, pl.LazyFrame)
    found = to_json(diagnose(choose(scanned).frames), {})
    found.pop("generated_at", None)
    assert found == _diagnosis([SAMPLES / name])


def _cli(monkeypatch, eager_events: int, *args: str) -> str:
    monkeypatch.setattr(ingest, "EAGER_EVENTS", eager_events)
    result = CliRunner().invoke(app, [*args, "-q"])
    assert result.exit_code in (0, 1), result.output
    return result.output


class _FrozenClock(datetime):
    """A clock that stands still, so two runs a minute apart print the same times."""

    @classmethod
    def now(cls, tz=None):
        return datetime(2026, 11, 30, 10, 20, 59, tzinfo=tz)


def _held_and_scanned(monkeypatch, tmp_path: Path, output: str, *args: str) -> tuple[str, str]:
    """One command's output with the store's events held in memory, then scanned."""
    monkeypatch.setattr(report_model, "datetime", _FrozenClock)
    monkeypatch.setattr(report_cli, "datetime", _FrozenClock)
    texts = []
    for eager_events in (10**9, 0):
        out = tmp_path / f"{eager_events}-{output}"
        _cli(monkeypatch, eager_events, *args, "-o", str(out))
        texts.append(out.read_text(encoding="utf-8"))
    return texts[0], texts[1]


@pytest.mark.parametrize("name", ["failing-initial.json", "weekly-two-periods.json",
                                  "group-404-halt.json", "pattern-13-not-assigned.json"])
@pytest.mark.parametrize("options", [[], ["--since", "7d", "--compare-previous", "--redact"]])
def test_scanned_events_report_like_events_in_memory(
    name: str, options: list[str], stores: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    in_memory, scanned = _held_and_scanned(monkeypatch, tmp_path, "report.md", "report",
                                           str(stores[name]), *options)
    assert "Failure rate" in in_memory
    assert scanned == in_memory


def test_scanned_events_narrow_a_tenant_wide_store_to_flowcase(tmp_path: Path) -> None:
    export = tmp_path / "tenant-wide.json"
    export.write_text(json.dumps({"value": rw.tenant_wide()}), encoding="utf-8")
    ingest_to_store([export], tmp_path / "store")
    scanned = choose(load([tmp_path / "store"], analysis_only=True, eager_events=0).frames)
    in_memory = choose(load([tmp_path / "store"], analysis_only=True).frames)
    assert scanned.others and scanned.others == in_memory.others
    assert scanned.frames.events.collect().equals(in_memory.frames.events)
    assert scanned.frames.collected().steps.equals(in_memory.frames.collected().steps)


@pytest.mark.parametrize("name", ["failing-initial.json", "weekly-two-periods.json"])
@pytest.mark.parametrize("options", [[], ["--since", "3d"]])
def test_scanned_events_summarize_like_events_in_memory(
    name: str, options: list[str], stores: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    in_memory, scanned = (json.loads(text) for text in _held_and_scanned(
        monkeypatch, tmp_path, "summary.json", "summary", str(stores[name]), *options))
    assert in_memory["events"] > 0 and in_memory["cycles"]
    assert scanned == in_memory


def test_a_damaged_store_with_scanned_events_is_one_error_naming_the_file(
    stores: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:
    """Scanned events are decoded once when the store is opened: damaged data pages (the
    footer intact) are the store's one-line error, not a traceback from the first query."""
    store = tmp_path / "store"
    shutil.copytree(stores["failing-initial.json"], store)
    events = store / "events.parquet"
    data = bytearray(events.read_bytes())
    data[200:len(data) // 2] = b"\x55" * (len(data) // 2 - 200)
    events.write_bytes(bytes(data))
    monkeypatch.setattr(ingest, "EAGER_EVENTS", 0)
    result = CliRunner().invoke(app, ["diagnose", str(store), "-q"])
    assert result.exit_code == 2
    assert f"{events}: is not a readable store file" in result.output
    assert "Traceback" not in result.output
