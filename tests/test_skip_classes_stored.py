"""A skip's class is read once, with the event, and kept in the store.

``normalize`` classifies each skip from its own scoping details (``skip_class``,
``scope_clauses``); ``ingest`` writes those columns, so the assignment rules and `why` read a
column instead of a month of step details. A store written before the columns existed still
opens: ``read_store`` classifies its skips from the stored details (or, older still, from the
steps), and diagnose and `why` answer as they do on the export.
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from eventfactory import Export
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.engine import diagnose
from loganalyzer.findings import to_json
from loganalyzer.ingest import DETAILS_FILE, ingest_to_store, load, read_store

MARKETING = "Marketing department filter.department EQUALS 'Marketing'"


def _scoping(active: str, assigned: str, passed: str, result: dict[str, bool]) -> dict[str, str]:
    """The portal's EntrySynchronizationScoping details, as logged."""
    return {
        "Active in the source system": active,
        "Assigned to the application": assigned,
        "ScopeEvaluationResult": json.dumps(result, separators=(",", ":")),
        "Scoping filter evaluation passed": passed,
    }


# upn -> scoping details of the skip, the class and the clauses it must get
CASES = {
    "per.olsen@contoso.no": (_scoping("True", "False", "True", {}), "not_assigned", []),
    "nora.strand@contoso.no": (
        _scoping("True", "True", "False", {MARKETING: False}), "scoping_filter", [MARKETING]
    ),
    "magnus.berntsen@contoso.no": (_scoping("False", "False", "True", {}), "inactive_in_entra",
                                   []),
    "ida.lunde@contoso.no": ({"IsActive": "True", "Assigned": "False"}, "not_assigned", []),
    "lene.moe@contoso.no": (_scoping("True", "True", "True", {}), None, []),
}


@pytest.fixture(scope="module")
def export(tmp_path_factory) -> Path:
    """Each user created, then skipped with the scoping details of one case."""
    records = Export()
    for n, (upn, (scoping, _, _)) in enumerate(CASES.items()):
        records.user(upn, action="create", cycle="c1", matched_id=f"fc{n:04d}")
        records.user(upn, status="skipped", cycle="c2", skip_reason="NotEffectivelyEntitled",
                     scoping=scoping)
    path = tmp_path_factory.mktemp("export") / "ProvisioningLogs.json"
    path.write_text(json.dumps({"value": records.records}), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def store(export: Path, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("store") / "store"
    ingest_to_store([export], folder)
    return folder


def _classes(events: pl.DataFrame) -> dict[str, tuple[str | None, list[str] | None]]:
    skipped = events.filter(pl.col("status") == "skipped")
    return {upn: (cls, clauses) for upn, cls, clauses in
            skipped.select("upn", "skip_class", "scope_clauses").iter_rows()}


def _old_store(store: Path, folder: Path, keep_details: bool) -> Path:
    """``store`` as written before events kept their skip class (and, without
    ``keep_details``, before step details were kept)."""
    folder.mkdir()
    for part in store.iterdir():
        if part.is_dir():  # the people copy, written since (people_copy)
            continue
        if part.name == "events.parquet":
            pl.read_parquet(part).drop("skip_class", "scope_clauses").write_parquet(folder /
                                                                                    part.name)
        elif keep_details or part.name != DETAILS_FILE:
            (folder / part.name).write_bytes(part.read_bytes())
    return folder


def _diagnosis(inputs: list[Path], eager_events: int | None = None) -> dict:
    found = to_json(diagnose(load(inputs, eager_events=eager_events,
                                  analysis_only=True).frames), {})
    found.pop("generated_at", None)
    return found


def test_each_skip_gets_its_class_and_failing_clauses(export: Path) -> None:
    classes = _classes(load([export]).frames.events)
    assert classes == {upn: (cls, clauses) for upn, (_, cls, clauses) in CASES.items()}


def test_other_events_have_no_class(export: Path) -> None:
    events = load([export]).frames.events.filter(pl.col("status") != "skipped")
    assert events["skip_class"].null_count() == events.height
    assert events["scope_clauses"].null_count() == events.height


def test_the_store_keeps_the_classes_the_export_gives(export: Path, store: Path) -> None:
    stored = pl.read_parquet(store / "events.parquet")
    assert _classes(stored) == _classes(load([export]).frames.events)


@pytest.mark.parametrize("keep_details", [True, False], ids=["with details", "steps only"])
@pytest.mark.parametrize("eager_events", [None, 0], ids=["held", "scanned"])
def test_an_older_store_is_classified_when_opened(
    store: Path, export: Path, tmp_path: Path, keep_details: bool, eager_events: int | None
) -> None:
    old = _old_store(store, tmp_path / "old", keep_details)
    frames, _ = read_store(old, scan_over=eager_events)
    events = frames.events.lazy().collect()
    assert _classes(events) == _classes(load([export]).frames.events)
    assert _diagnosis([old], eager_events) == _diagnosis([export])
    assert _diagnosis([export])["findings"], "the cases must give findings to compare"


@pytest.mark.parametrize("upn", ["nora.strand@contoso.no", "per.olsen@contoso.no"])
def test_why_answers_the_same_from_an_older_store(
    store: Path, export: Path, tmp_path: Path, upn: str
) -> None:
    old = _old_store(store, tmp_path / "old", keep_details=True)
    runner = CliRunner()
    answers = [runner.invoke(app, ["why", upn, str(path), "--format", "json", "-q"])
               for path in (export, store, old)]
    assert [a.exit_code for a in answers] == [0, 0, 0], [a.output for a in answers]
    verdicts = [json.loads(a.stdout)["verdict"] for a in answers]
    assert verdicts[0]["reason"] == CASES[upn][1]
    assert verdicts[1] == verdicts[0] == verdicts[2]


@pytest.mark.parametrize("source", ["export", "store"])
def test_a_user_disabled_in_entra_is_an_expected_skip_not_an_unexplained_one(
        source: str, export: Path, store: Path) -> None:
    """A skip of a user disabled in Entra is the guide's soft delete at work: counted with
    the expected skips, never listed as a skip no rule knows; the skip with no class is."""
    found = _diagnosis([export if source == "export" else store])
    [group] = found["unexplained_skips"]
    assert (group["skip_reason"], group["count"], group["affected"]) == (
        "NotEffectivelyEntitled", 1, 1)
    assert "lene.moe@contoso.no" in group["sample_text"]


def test_an_older_store_ingested_again_in_batches_gets_the_classes(
    store: Path, export: Path, tmp_path: Path, monkeypatch
) -> None:
    """A store written before the classes, given to ingest, is classified a batch at a time
    from each batch's own steps (a skip's class depends on them only)."""
    from loganalyzer import ingest

    old = _old_store(store, tmp_path / "old", keep_details=False)
    monkeypatch.setattr(ingest, "BATCH_ROWS", 3)
    ingest_to_store([old], tmp_path / "new")
    assert _classes(pl.read_parquet(tmp_path / "new" / "events.parquet")) == _classes(
        load([export]).frames.events)
