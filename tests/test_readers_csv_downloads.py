"""Several portal CSV downloads in one call: each triple paired, read column-wise on its own.

The portal writes at most 100,000 records per file, so a month of a large tenant arrives as
many downloads (one per date range). The bundled CSV download of failing-initial (shaped as the
portal writes it) is cut here into several downloads, named as a user saving them side by side
would name them, and must read exactly like the JSON download of the same events; a broken row
is reported by line in its own file while the other downloads stay column-wise; a child file
that belongs to no main file is said; events in two overlapping downloads count once.
"""

from __future__ import annotations

import csv
import logging
import re
import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLES
from test_readers_csv import COMPARED

from loganalyzer.ingest import ingest_to_store, load, read_store
from loganalyzer.problems import InputError
from loganalyzer.readers import csv_downloads, csv_logs
from loganalyzer.readers.csv_headers import CsvKind
from loganalyzer.readers.sources import expand

SAMPLE = SAMPLES / "formats" / "csv"
KINDS = ("ProvisioningLogs", "ProvisioningLogs_ProvisioningSteps",
         "ProvisioningLogs_ModifiedProperties")


def _table(kind: str) -> tuple[list[str], list[list[str]]]:
    with open(SAMPLE / f"{kind}.csv", encoding="utf-8-sig", newline="") as handle:
        header, *rows = csv.reader(handle)
    return header, rows


def _write(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", encoding="utf-8-sig", newline="") as handle:
        csv.writer(handle, lineterminator="\r\n").writerows([header, *rows])
    return path


def split(folder: Path, parts: list[range], names: list[tuple[str, str, str]]) -> Path:
    """The sample download cut into downloads of the events in ``parts`` (positions in the
    main file, which may overlap), each written as the three files named in ``names``."""
    folder.mkdir(parents=True, exist_ok=True)
    (main_header, main_rows), *children = (_table(kind) for kind in KINDS)
    change = main_header.index("Change ID")
    for part, files in zip(parts, names, strict=True):
        rows = [main_rows[i] for i in part]
        changes = {row[change] for row in rows}
        _write(folder / files[0], main_header, rows)
        for (header, child_rows), name in zip(children, files[1:], strict=True):
            _write(folder / name, header, [r for r in child_rows if r[0] in changes])
    return folder


def dated(*days: str) -> list[tuple[str, str, str]]:
    """Names of downloads saved per date range: ProvisioningLogs_2026-03-01.csv, ..."""
    return [tuple(f"{kind}_{day}.csv" for kind in KINDS) for day in days]


THIRDS = [range(0, 20), range(20, 40), range(40, 57)]


@pytest.fixture(scope="module")
def from_json():
    return load([SAMPLES / "failing-initial.json"]).frames


def assert_same_as_json(frames, from_json) -> None:
    events = frames.events.sort("event_id")
    reference = from_json.events.sort("event_id")
    assert events.select(COMPARED).equals(reference.select(COMPARED))
    for name in ("steps", "modified_properties"):
        got, want = getattr(frames, name), getattr(from_json, name)
        if isinstance(got, pl.LazyFrame):
            got = got.collect()
        keys = list(got.columns[:2])
        assert got.sort(keys).equals(want.sort(keys)), name


def refusals(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "columnar CSV reader refused" in
            r.getMessage()]


NAMINGS = {
    "dated": dated("2026-03-01", "2026-03-11", "2026-03-21"),
    "browser copies": [tuple(f"{kind}{n}.csv" for kind in KINDS)
                       for n in ("", " (1)", " (2)")],
    "own names": [(f"{n}.csv", f"{n}_ProvisioningSteps.csv", f"{n}-modified properties.csv")
                  for n in ("march-a", "march-b", "march-c")],
    # names that say nothing: only the change IDs pair them
    "no names": [(f"{n}1.csv", f"{n}2.csv", f"{n}3.csv") for n in ("x", "y", "z")],
}


@pytest.mark.parametrize("names", NAMINGS.values(), ids=list(NAMINGS))
def test_several_downloads_read_column_wise_equal_the_json_download(names, from_json,
                                                                    tmp_path, caplog):
    folder = split(tmp_path / "month", THIRDS, names)
    downloads = csv_downloads.pair(
        csv_logs.classify(expand([folder], tmp_path, [])[0], []).portal, [])
    assert [(Path(d.main.name).name, sorted(Path(c.name).name for c in d.children))
            for d in sorted(downloads, key=lambda d: d.main.name)] == [
        (main, sorted([steps, props])) for main, steps, props in sorted(names)]

    with caplog.at_level(logging.INFO, logger="loganalyzer.readers"):
        dataset = load([folder])
    assert refusals(caplog) == []
    assert dataset.problems == [] and dataset.notes == [] and dataset.duplicates == 0
    assert_same_as_json(dataset.frames, from_json)


def test_a_broken_row_is_reported_by_line_and_the_other_downloads_stay_column_wise(
        from_json, tmp_path, caplog):
    folder = split(tmp_path / "month", THIRDS, dated("2026-03-01", "2026-03-11", "2026-03-21"))
    broken = folder / "ProvisioningLogs_2026-03-11.csv"
    lines = broken.read_bytes().count(b"\n")
    with open(broken, "a", encoding="utf-8", newline="") as handle:
        handle.write("2026-03-24T09:00:00Z,cut-here\r\n")

    with caplog.at_level(logging.INFO, logger="loganalyzer.readers"):
        dataset = load([folder])
    [refused] = refusals(caplog)
    assert str(broken) in refused
    [problem] = dataset.problems
    assert (problem.file, problem.location) == (str(broken), f"line {lines + 1}")
    assert problem.message.startswith("has 2 cells but the header has 25 columns")
    assert_same_as_json(dataset.frames, from_json)  # every good row of every download kept


def test_an_orphan_child_file_is_said_and_the_rest_is_read(from_json, tmp_path):
    folder = split(tmp_path / "month", THIRDS, dated("2026-03-01", "2026-03-11", "2026-03-21"))
    (folder / "ProvisioningLogs_2026-03-21.csv").unlink()
    orphan = folder / "ProvisioningLogs_ProvisioningSteps_2026-03-21.csv"
    unused = folder / "ProvisioningLogs_ModifiedProperties_2026-03-21.csv"
    dataset = load([folder])
    assert dataset.frames.events.height == 40
    assert [n for n in dataset.notes if "main ProvisioningLogs file was not given" in n] == [
        f"{unused}: is the modified properties file of a portal CSV download whose main "
        "ProvisioningLogs file was not given (no main file shares its name or any of its 12 "
        "change IDs); its rows are not used",
        f"{orphan}: is the steps file of a portal CSV download whose main ProvisioningLogs file "
        "was not given (no main file shares its name or any of its 17 change IDs); its rows "
        "are not used",
    ]


def test_the_notes_of_several_downloads_are_the_ones_documented(tmp_path):
    folder = split(tmp_path / "month", THIRDS, dated("2026-03-01", "2026-03-11", "2026-03-21"))
    (folder / "ProvisioningLogs_2026-03-21.csv").unlink()
    shutil.copytree(folder, tmp_path / "again")
    notes = load([folder, tmp_path / "again"]).notes
    documented = " ".join((Path(__file__).parents[1] / "docs" / "inputs.md").read_text().split())
    said = {re.sub(r"^\S+: ", "", n).split(" (no main")[0].split(" as ")[0] for n in notes}
    assert said == {
        "is the steps file of a portal CSV download whose main ProvisioningLogs file was not "
        "given",
        "is the modified properties file of a portal CSV download whose main ProvisioningLogs "
        "file was not given",
        "the same files",
    }
    for text in said - {"is the modified properties file of a portal CSV download whose main "
                        "ProvisioningLogs file was not given"}:
        assert text in documented, text


def test_child_files_without_any_main_file_are_one_error(tmp_path):
    folder = split(tmp_path / "month", THIRDS[:1], dated("2026-03-01"))
    (folder / "ProvisioningLogs_2026-03-01.csv").unlink()
    with pytest.raises(InputError) as caught:
        load([folder])
    assert str(caught.value).startswith(str(folder / "ProvisioningLogs_ModifiedProperties_"))
    assert "main ProvisioningLogs file was not given" in str(caught.value)


def test_a_misnamed_child_goes_to_the_download_holding_its_change_ids(from_json, tmp_path):
    """Overlapping downloads: the misnamed steps file of the second shares some change IDs
    with the first, all of them with the second."""
    parts = [range(0, 30), range(20, 57)]
    folder = split(tmp_path / "month", parts, dated("2026-03-01", "2026-03-15"))
    renamed = folder / "steps (export 2).csv"
    (folder / "ProvisioningLogs_ProvisioningSteps_2026-03-15.csv").rename(renamed)
    downloads = csv_downloads.pair(
        csv_logs.classify(expand([folder], tmp_path, [])[0], []).portal, [])
    second = next(d for d in downloads if d.main.name.endswith("2026-03-15.csv"))
    assert [c.name for c in second.children if c.kind is CsvKind.STEPS] == [str(renamed)]


def test_overlapping_downloads_count_each_event_once(from_json, tmp_path, caplog):
    parts = [range(0, 30), range(20, 57)]  # ten events in both date ranges
    folder = split(tmp_path / "month", parts, dated("2026-03-01", "2026-03-15"))
    with caplog.at_level(logging.INFO, logger="loganalyzer.readers"):
        dataset = load([folder])
    assert refusals(caplog) == []
    assert dataset.duplicates == 10
    assert_same_as_json(dataset.frames, from_json)  # the repeated events' steps once too

    store = ingest_to_store([folder], tmp_path / "store")
    assert store["duplicates_dropped"] == 10 and store["counts"]["events"] == 57
    assert_same_as_json(read_store(tmp_path / "store")[0], from_json)


def test_a_download_given_twice_is_read_once(from_json, tmp_path):
    folder = split(tmp_path / "month", THIRDS, dated("2026-03-01", "2026-03-11", "2026-03-21"))
    shutil.copytree(folder, tmp_path / "again")
    dataset = load([folder, tmp_path / "again"])
    assert dataset.duplicates == 0
    assert sorted(dataset.notes) == [
        f"{tmp_path / 'again' / name[0]}: the same files as {folder / name[0]}, already read "
        "from another file; used once"
        for name in dated("2026-03-01", "2026-03-11", "2026-03-21")]
    assert_same_as_json(dataset.frames, from_json)


@pytest.mark.parametrize(("name", "key"), [
    ("dl/ProvisioningLogs_ProvisioningSteps_2026-11-01.csv",
     ("dl/", "provisioninglogs_2026-11-01")),
    ("dl/ProvisioningLogs_2026-11-01.csv", ("dl/", "provisioninglogs_2026-11-01")),
    ("dl/ProvisioningLogs_ModifiedProperties (3).csv", ("dl/", "provisioninglogs (3)")),
    ("month.zip!nov/ProvisioningLogs_ProvisioningSteps.csv.gz", ("month.zip!nov/",
                                                                 "provisioninglogs")),
    ("C:\\logs\\Nov-ModifiedProperties.CSV", ("c:\\logs\\", "nov")),
])
def test_name_key_takes_out_the_child_word_only(name, key, tmp_path):
    kind = (CsvKind.STEPS if "Steps" in name else CsvKind.PROPERTIES if "Modified" in name
            else CsvKind.MAIN)
    file = type("F", (), {"name": name, "kind": kind})()
    assert csv_downloads.name_key(file) == key  # type: ignore[arg-type]


def test_generated_downloads_starting_in_the_same_minute_keep_every_event(tmp_path):
    """``make_tenant.py`` names a download after its first event's minute; three downloads of
    one minute's events are three triples, not one overwritten twice."""
    import subprocess
    import sys

    folder = tmp_path / "downloads"
    subprocess.run([sys.executable, str(Path(__file__).parents[1] / "benchmarks" /
                                        "make_tenant.py"), "--events", "300", "--format", "csv",
                    "--per-download", "100", "-o", str(folder)], check=True, capture_output=True)
    assert len(list(folder.glob("ProvisioningLogs_2*.csv"))) == 3
    assert load([folder]).frames.events.height == 300
