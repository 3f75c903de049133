"""The column-wise portal CSV reader gives exactly what the row-by-row reader gives, or refuses.

It reads clean downloads only; whatever it reads must equal the careful reader's rows and
notes, and anything the careful reader reports by line (a cut row, an orphan step, a missing
date) must make it refuse, so the careful reader still says where.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLES
from test_readers_csv import (
    MAIN_HEADER,
    MAIN_ROWS,
    PROPS_HEADER,
    PROPS_ROWS,
    STEPS_HEADER,
    STEPS_ROWS,
    download,
    write,
)

from loganalyzer.ingest import load
from loganalyzer.normalize import normalize
from loganalyzer.readers import (
    BATCH_ROWS,
    ReadLog,
    _batched,
    csv_columnar,
    csv_downloads,
    csv_logs,
)
from loganalyzer.readers.csv_portal import PortalReader
from loganalyzer.readers.sources import expand


def downloads_of(inputs: list[Path], tmp: Path) -> list[csv_downloads.Download]:
    sources, _ = expand(inputs, tmp, [])
    return csv_downloads.pair(csv_logs.classify(sources, []).portal, [])


def both_readers(inputs: list[Path], tmp: Path) -> tuple[pl.DataFrame, list[str],
                                                          pl.DataFrame, list[str]]:
    [one] = downloads_of(inputs, tmp)
    fast_notes: list[str] = []
    fast = pl.concat(csv_columnar.read_portal(one, fast_notes, BATCH_ROWS))
    careful_notes: list[str] = []
    read_log = ReadLog()
    careful = pl.concat(list(_batched(PortalReader(one.files, careful_notes).read(),
                                      read_log)))
    assert read_log.problems == []
    return fast, fast_notes, careful, careful_notes


@pytest.mark.parametrize("sample", ["formats/csv/ProvisioningLogs.zip", "formats/csv-variant"])
def test_bundled_downloads_read_column_wise_equal_the_careful_reader(sample, tmp_path):
    fast, fast_notes, careful, careful_notes = both_readers([SAMPLES / sample], tmp_path)
    assert fast.height == careful.height > 50
    assert fast.equals(careful)
    assert fast_notes == careful_notes


def test_quirks_of_a_clean_download_read_the_same_way(tmp_path):
    """No ID column, a sep= hint with semicolons, 'None' error codes, key=value and nested
    details, an @odata.type key, a repeated and an unknown column."""
    folder = tmp_path / "dl"
    folder.mkdir()
    header = [h for h in MAIN_HEADER if h != "ID"] + ["Status", "Flavour"]
    rows = [[c for i, c in enumerate(r) if MAIN_HEADER[i] != "ID"] + ["Success", "x"]
            for r in MAIN_ROWS]
    text = "sep=;\r\n" + ";".join(header) + "\r\n" + "\r\n".join(
        ";".join('"' + c.replace('"', '""') + '"' for c in row) for row in rows) + "\r\n"
    (folder / "ProvisioningLogs.csv").write_text(text, encoding="utf-8", newline="")
    steps = [list(r) for r in STEPS_ROWS]
    steps[4][6] = "userPrincipalName=erik.dahl@northwind.no; department=Sales, Nordics"
    steps[6][6] = '{"@odata.type": "x", "n": 3, "nested": {"a": [1, "ø"]}, "flag": true}'
    write(folder / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER, steps)
    write(folder / "ProvisioningLogs_ModifiedProperties.csv", PROPS_HEADER, PROPS_ROWS)

    fast, fast_notes, careful, careful_notes = both_readers([folder], tmp_path)
    assert fast.equals(careful)
    assert fast_notes == careful_notes
    assert any("no 'ID' column" in n for n in fast_notes)
    kari = fast.row(2, named=True)["provisioningSteps"][0]["details"]
    assert {"key": "n", "value": "3"} in kari and all(d["key"] != "@odata.type" for d in kari)


def _cut_row(folder: Path) -> None:
    with open(folder / "ProvisioningLogs.csv", "a", encoding="utf-8", newline="") as f:
        f.write("2026-03-24T07:50:00Z,cut-here\r\n")


def _orphan_step(folder: Path) -> None:
    write(folder / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER,
          [*STEPS_ROWS, ["chg-nobody", "1", "EntryImport", "Import", "Success", "", "{}"]])


def _no_date(folder: Path) -> None:
    rows = [list(r) for r in MAIN_ROWS]
    rows[1][0] = ""
    write(folder / "ProvisioningLogs.csv", MAIN_HEADER, rows)


def _bad_step_number(folder: Path) -> None:
    rows = [list(r) for r in STEPS_ROWS]
    rows[0][1] = "four"
    write(folder / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER, rows)


@pytest.mark.parametrize("damage, said", [
    (_cut_row, "has 2 cells but the header has 19 columns"),
    (_orphan_step, "(line 19) names 1 change ID that matches no event"),
    (_no_date, "ProvisioningLogs.csv: line 6: no ID/Change ID or no date"),
    (_bad_step_number, None),
])
def test_anything_the_careful_reader_reports_makes_it_refuse(damage, said, tmp_path):
    folder = download(tmp_path / "dl")
    damage(folder)
    [damaged] = downloads_of([folder], tmp_path)
    with pytest.raises(csv_columnar.Refused):
        csv_columnar.read_portal(damaged, [], BATCH_ROWS)
    dataset = load([folder])  # the careful reader then says where, and keeps the good rows
    told = [str(p) for p in dataset.problems] + dataset.notes
    assert said is None or any(said in t for t in told), told
    assert dataset.frames.events.height >= 2


def test_zip_and_its_files_together_are_two_downloads_read_column_wise(tmp_path):
    folder = tmp_path / "both"
    shutil.copytree(SAMPLES / "formats/csv", folder)
    downloads = downloads_of([folder], tmp_path)
    assert sorted(len(d.children) for d in downloads) == [2, 2]
    for one in downloads:  # neither refuses: each is one clean download
        csv_columnar.read_portal(one, [], BATCH_ROWS)


def test_a_cell_of_information_separators_reads_the_same_in_both_readers(tmp_path):
    """U+001C-U+001F are whitespace to Python's strip() but not to Polars' strip_chars(): a
    cell holding one was empty in the careful reader and a value in the column-wise one."""
    folder = tmp_path / "dl"
    folder.mkdir()
    rows = [list(r) for r in MAIN_ROWS]
    rows[0][MAIN_HEADER.index("Error Code")] = "\x1d"
    rows[0][MAIN_HEADER.index("Source Identity Display Name")] += "\x1f"
    write(folder / "ProvisioningLogs.csv", MAIN_HEADER, rows)
    write(folder / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER, STEPS_ROWS)
    write(folder / "ProvisioningLogs_ModifiedProperties.csv", PROPS_HEADER, PROPS_ROWS)
    fast, fast_notes, careful, careful_notes = both_readers([folder], tmp_path)
    assert fast.equals(careful) and fast_notes == careful_notes
    error = careful.row(0, named=True)["provisioningStatusInfo"]["errorInformation"]
    assert error["errorCode"] == "\x1d"


def _resaved(tmp_path: Path, dates: list[str] | None = None, fmt: str | None = None) -> Path:
    """The bundled download with its main file's dates as Excel in another locale writes
    them: each date formatted with ``fmt``, or the first ones replaced by ``dates``."""
    folder = tmp_path / "resaved"
    shutil.copytree(SAMPLES / "formats/csv", folder, ignore=shutil.ignore_patterns("*.zip"))
    main = folder / "ProvisioningLogs.csv"
    table = pl.read_csv(main, infer_schema=False, encoding="utf8-lossy")
    column = table.columns[0]  # Date (UTC)
    if fmt is not None:
        parsed = table[column].str.to_datetime("%Y-%m-%dT%H:%M:%SZ")
        table = table.with_columns(parsed.dt.strftime(fmt).alias(column))
    else:
        kept = table[column].slice(len(dates)).to_list()
        table = table.with_columns(pl.Series(column, [*dates, *kept]))
    table.write_csv(main)
    return folder


@pytest.mark.parametrize("fmt", ["%d/%m/%Y %H:%M:%S", "%d.%m.%Y %H:%M:%S", "%Y-%m-%d %H:%M:%S",
                                 "%-m/%-d/%Y %-I:%M:%S %p", "%d/%m/%Y %H:%M"],
                         ids=["uk", "dotted", "sweden", "us", "uk-no-seconds"])
def test_dates_excel_writes_in_other_locales_read_as_the_same_times(tmp_path, fmt):
    def times(folder: Path) -> pl.DataFrame:
        events = load([folder]).frames.events
        return events.select("event_id", pl.col("activity_time").dt.truncate(
            "1m" if "%S" not in fmt else "1s")).sort("event_id")

    assert times(_resaved(tmp_path, fmt=fmt)).equals(times(SAMPLES / "formats/csv"))


def test_a_day_first_file_is_read_day_first_in_every_batch(tmp_path):
    """Newest first, as the portal writes: the batch holding only the 1st to the 12th of
    April still reads them as April, from what the whole file shows."""
    dates = [f"{day:02d}/04/2026 08:00:00" for day in range(20, 0, -1)]
    [one] = downloads_of([_resaved(tmp_path, dates=dates)], tmp_path)
    batches = list(csv_columnar.read_portal(one, [], 4))
    times = [t for batch in batches for t in normalize(batch)[0].events["activity_time"]]
    assert [(t.month, t.day) for t in times[:20]] == [(4, day) for day in range(20, 0, -1)]


def test_a_steps_file_that_repeats_its_events_date_and_id_is_still_the_steps_file(tmp_path):
    """The portal's headers are unpublished: a steps file may carry its event's date and id
    beside the change ID. It was taken for a second main file: every step lost, and with it
    first on the command line, each step read as an event."""
    folder = tmp_path / "dl"
    shutil.copytree(SAMPLES / "formats/csv", folder, ignore=shutil.ignore_patterns("*.zip"))
    steps_file = folder / "ProvisioningLogs_ProvisioningSteps.csv"
    steps = pl.read_csv(steps_file, infer_schema=False, encoding="utf8-lossy")
    main = pl.read_csv(folder / "ProvisioningLogs.csv", infer_schema=False,
                       encoding="utf8-lossy")
    events = main.select(pl.col(main.columns[0]).alias("Date (UTC)"), "ID", "Change ID")
    change = next(c for c in steps.columns if c.strip("\ufeff") == "Change ID")
    steps = events.join(steps.rename({change: "Change ID"}), on="Change ID", how="right")
    steps.select("Date (UTC)", "ID", pl.exclude("Date (UTC)", "ID")).write_csv(steps_file)
    reference = load([SAMPLES / "formats/csv"]).frames
    for inputs in ([folder], [steps_file, *sorted(folder.glob("*.csv"))]):
        frames = load(list(dict.fromkeys(inputs))).frames
        assert frames.events.height == reference.events.height, inputs
        assert frames.steps.height == reference.steps.height, inputs
        assert frames.events["status"].sort().equals(reference.events["status"].sort())


def test_change_ids_in_another_case_join_their_event(tmp_path):
    """A GUID is the same in any case: steps and properties written with upper-case change
    IDs (another tool, a hand edit) still join the main file's lower-case ones, in both
    readers."""
    folder = tmp_path / "dl"
    shutil.copytree(SAMPLES / "formats/csv", folder, ignore=shutil.ignore_patterns("*.zip"))
    for name in ("ProvisioningLogs_ProvisioningSteps.csv",
                 "ProvisioningLogs_ModifiedProperties.csv"):
        table = pl.read_csv(folder / name, infer_schema=False, encoding="utf8-lossy")
        change = next(c for c in table.columns if c.strip("\ufeff") == "Change ID")
        table.with_columns(pl.col(change).str.to_uppercase()).write_csv(folder / name)
    fast, fast_notes, careful, careful_notes = both_readers([folder], tmp_path)
    assert fast.equals(careful) and fast_notes == careful_notes
    reference = load([SAMPLES / "formats/csv"]).frames
    frames = load([folder]).frames
    assert frames.steps.height == reference.steps.height > 0
    assert frames.modified_properties.height == reference.modified_properties.height > 0


@pytest.mark.parametrize("separator", [",", ".", " ", "\u00a0"])
def test_durations_grouped_by_a_locale_read_as_whole_milliseconds(tmp_path, separator):
    """Excel re-saves a duration of 1458 ms as '1,458', '1.458' or '1 458' by its locale:
    both readers read 1458 (it was dropped with a note, and '1.458' would be 1 ms)."""
    folder = tmp_path / "dl"
    shutil.copytree(SAMPLES / "formats/csv", folder, ignore=shutil.ignore_patterns("*.zip"))
    main = folder / "ProvisioningLogs.csv"
    table = pl.read_csv(main, infer_schema=False, encoding="utf8-lossy")
    duration = next(c for c in table.columns if c.startswith("Duration"))
    milliseconds = table[duration].cast(pl.Int64) + 1000  # four digits: a group to write
    grouped = milliseconds.map_elements(lambda ms: f"{ms:,}".replace(",", separator),
                                        return_dtype=pl.Utf8)
    table.with_columns(grouped.alias(duration)).write_csv(main)
    fast, fast_notes, careful, careful_notes = both_readers([folder], tmp_path)
    assert fast.equals(careful) and fast_notes == careful_notes
    read = load([folder]).frames.events.sort("source_record")["duration_ms"]
    assert read.to_list() == milliseconds.to_list()
