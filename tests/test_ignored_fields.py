"""A field of the wrong type on an otherwise good record: the record is kept, the field is named.

Hand-edited or re-serialised exports (a script that wrote the steps as a JSON string, a status
flattened to a number) must never lose data silently: every reader says which file, record,
field and what was expected, as a note, and such records are not counted as skipped.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from test_readers_csv import MAIN_HEADER, MAIN_ROWS, REASON_409, download, write
from test_readers_log_analytics import FAILED, SKIPPED, la_csv
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.ingest import load
from loganalyzer.readers import IGNORED_SHOWN

DATA = Path(__file__).parent / "data"
RECORDS = json.loads((DATA / "graph-records-captured.json").read_text())
GROUP, FAILURE = RECORDS  # a skipped group and a failed user, as Graph returned them
SECOND_ROW = f"line {3 + REASON_409.count(chr(10))}"  # the first row's reason spans lines


def summary(*paths: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["summary", *map(str, paths)])
    return result.exit_code, result.stdout, result.stderr


def test_portal_json_records_with_wrongly_typed_fields_are_kept_and_each_field_named(tmp_path):
    steps_as_text = dict(copy.deepcopy(FAILURE), id="steps-as-text")
    steps_as_text["provisioningSteps"] = json.dumps(FAILURE["provisioningSteps"])
    odd_props = dict(copy.deepcopy(FAILURE), id="odd-props")
    odd_props["modifiedProperties"] = ["userName", *FAILURE["modifiedProperties"]]
    status_number = dict(copy.deepcopy(GROUP), id="status-number", provisioningStatusInfo=2)
    details_text = copy.deepcopy(GROUP) | {"id": "details-text"}
    details_text["sourceIdentity"]["details"] = "DisplayName=macos-servers-dynamic"
    records = [FAILURE, steps_as_text, odd_props, status_number, details_text]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(records, indent=2))

    dataset = load([path])

    events = {row["event_id"]: row for row in dataset.frames.events.iter_rows(named=True)}
    assert set(events) == {r["id"] for r in records}
    assert dataset.problems == []  # nothing was skipped
    steps = dataset.frames.steps
    assert steps.filter(steps["event_id"] == "steps-as-text").height == 0
    assert steps.filter(steps["event_id"] == "odd-props").height == len(
        FAILURE["provisioningSteps"])
    props = dataset.frames.modified_properties
    assert props.filter(props["event_id"] == "odd-props").height == len(
        FAILURE["modifiedProperties"])
    assert events["status-number"]["status"] == "unknown"  # counted, never healthy
    ignored = [n for n in dataset.notes if n.endswith("; ignored")]
    assert [n.split(": ", 1)[0] for n in ignored] == [str(path)] * 4
    located = [n.split(": ", 1)[1] for n in ignored]
    assert [n.split(" (line")[0] for n in located] == ["record 2", "record 3", "record 4",
                                                       "record 5"]
    assert located[0].endswith(
        "'provisioningSteps' is a string, expected an array of steps; ignored")
    assert located[1].endswith(
        "'modifiedProperties[1]' is a string, expected a property object; ignored")
    assert located[2].endswith(
        "'provisioningStatusInfo' is a number, expected an object; ignored")
    assert located[3].endswith(
        "'sourceIdentity.details' is a string, expected an array of key/value pairs; ignored")

    code, _, stderr = summary(path)
    assert code == 0
    assert "skipped" not in stderr


def test_ndjson_names_the_line_and_the_nested_field(tmp_path):
    bad_step = copy.deepcopy(FAILURE) | {"id": "bad-step"}
    bad_step["provisioningSteps"][1]["details"] = 42
    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (GROUP, bad_step)) + "\n")
    dataset = load([path])
    assert dataset.frames.events.height == 2 and dataset.problems == []
    assert f"{path}: line 2: 'provisioningSteps[2].details' is a number, expected an array " \
           "of key/value pairs; ignored" in dataset.notes
    steps = dataset.frames.steps.filter(dataset.frames.steps["event_id"] == "bad-step")
    assert steps.height == len(FAILURE["provisioningSteps"])  # the step itself is kept


def test_a_file_where_every_record_has_the_fault_lists_the_first_and_counts_the_rest(tmp_path):
    records = []
    for number in range(IGNORED_SHOWN + 7):
        record = copy.deepcopy(FAILURE) | {"id": f"event-{number}"}
        record["durationInMilliseconds"] = "n/a"
        records.append(record)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(records))
    dataset = load([path])
    assert dataset.frames.events.height == len(records)
    ignored = [n for n in dataset.notes if "'durationInMilliseconds' is 'n/a'" in n]
    assert len(ignored) == IGNORED_SHOWN
    assert f"{path}: 7 more fields of the wrong type ignored ({IGNORED_SHOWN + 7} in all); " \
           "their records are kept" in dataset.notes


def test_log_analytics_cell_of_the_wrong_type_is_a_note_on_its_line(tmp_path):
    odd = {**FAILED, "ProvisioningStatusInfo": "3"}  # a number where an object belongs
    path = la_csv(tmp_path / "la.csv", [odd, SKIPPED])
    dataset = load([path])
    assert dataset.frames.events.height == 2 and dataset.problems == []
    [note] = [n for n in dataset.notes if "ProvisioningStatusInfo".casefold() in n.casefold()]
    assert note.startswith(f"{path}: line 2: ")
    assert note.endswith("'provisioningStatusInfo' is a number, expected an object; ignored")


def test_portal_csv_duration_that_is_not_a_number_is_named(tmp_path):
    rows = [list(r) for r in MAIN_ROWS]
    rows[1][MAIN_HEADER.index("Duration (ms)")] = "about a second"
    folder = download(tmp_path / "download")
    main = write(folder / "ProvisioningLogs.csv", MAIN_HEADER, rows)
    dataset = load([folder])
    assert dataset.frames.events.height == len(MAIN_ROWS) and dataset.problems == []
    assert f"{main}: {SECOND_ROW}: 'durationInMilliseconds' is 'about a second', expected a " \
           "number; ignored" in dataset.notes


def test_short_portal_csv_rows_are_problems_naming_the_line(tmp_path):
    rows = [list(r) for r in MAIN_ROWS]
    rows[1] = rows[1][:4]  # the row was cut after Cycle ID
    folder = download(tmp_path / "download")
    main = write(folder / "ProvisioningLogs.csv", MAIN_HEADER, rows)
    dataset = load([folder])
    assert dataset.frames.events["event_id"].to_list() == [MAIN_ROWS[0][1], MAIN_ROWS[2][1]]
    [problem] = dataset.problems
    assert (problem.file, problem.location) == (str(main), SECOND_ROW)
    assert problem.message.startswith(
        f"has 4 cells but the header has {len(MAIN_HEADER)} columns")
    assert problem.message.endswith("the row is skipped")
    code, _, stderr = summary(folder)
    assert code == 0
    assert f"skipped 1 record in {main}" in stderr


def _powershell_text(value) -> str:
    """How PowerShell writes an object ConvertTo-Json did not descend into: a
    PSCustomObject's text, "@{key=value; ...}"."""
    return "@{" + "; ".join(f"{k}={v}" for k, v in value.items()) + "}"


def test_an_export_re_saved_by_convertto_json_says_how_to_save_it_again(tmp_path):
    """`ConvertFrom-Json | ConvertTo-Json` (as Microsoft's docs suggest to prettify a
    download) stops at -Depth 2 and writes deeper objects as text: the failure's error
    information and each step's details are lost. The records are kept, each such field is
    named, and one note per file, first, says how to save the file again."""
    cut = copy.deepcopy(FAILURE)
    cut["provisioningStatusInfo"]["errorInformation"] = _powershell_text(
        FAILURE["provisioningStatusInfo"]["errorInformation"])
    for step in cut["provisioningSteps"]:
        step["details"] = _powershell_text(step["details"]) if step["details"] else ""
    typed = dict(copy.deepcopy(GROUP), id="typed-name")
    typed["sourceIdentity"]["details"] = "System.Collections.Hashtable"
    path = tmp_path / "prettified.json"
    path.write_text(json.dumps([cut, typed], indent=4), encoding="utf-8")

    dataset = load([path])

    assert dataset.frames.events.height == 2 and dataset.problems == []
    first, *fields = dataset.notes
    assert first.startswith(f"{path}: was saved by PowerShell's ConvertTo-Json")
    assert "ConvertTo-Json -Depth 10" in first
    cut_fields = [n for n in fields if "PowerShell's text for an object" in n]
    assert any("'provisioningStatusInfo.errorInformation'" in n for n in cut_fields)
    assert any("'sourceIdentity.details'" in n for n in cut_fields)
    with_details = sum(bool(step["details"]) for step in FAILURE["provisioningSteps"])
    assert len(cut_fields) == with_details + 2
    assert [n for n in dataset.notes if "was saved by PowerShell" in n] == [first]


def test_why_on_a_store_says_what_ingest_noted_of_its_files(tmp_path):
    """The notes are kept in the store's manifest: `why` on the store says them, as `why`
    on the export and `diagnose` on the store do (before, it said only unread records)."""
    cut = copy.deepcopy(FAILURE)
    cut["provisioningStatusInfo"]["errorInformation"] = _powershell_text(
        FAILURE["provisioningStatusInfo"]["errorInformation"])
    path = tmp_path / "prettified.json"
    path.write_text(json.dumps([cut]), encoding="utf-8")
    store = tmp_path / "store"
    assert CliRunner().invoke(app, ["ingest", str(path), "-o", str(store), "-q"]).exit_code == 0

    def notes(*args: str) -> list[str]:
        result = CliRunner().invoke(app, [*args, "--app", "Airtable - test Corp",
                                          "--format", "json", "-q"])
        assert result.exit_code == 0, result.output
        return json.loads(result.stdout)["notes"]

    user = cut["sourceIdentity"]["id"]
    on_store = notes("why", user, str(store))
    said = [n for n in on_store if "was saved by PowerShell's ConvertTo-Json" in n]
    assert len(said) == 1 and said[0].startswith(str(path))
    assert said[0] in notes("diagnose", str(store))
    assert said[0] in notes("why", user, str(path))


def test_text_that_merely_starts_like_powershells_is_not_called_so(tmp_path):
    odd = dict(copy.deepcopy(GROUP), id="odd")
    odd["sourceIdentity"]["details"] = "@{not closed"
    path = tmp_path / "export.json"
    path.write_text(json.dumps([odd]), encoding="utf-8")
    notes = load([path]).notes
    assert notes and not any("PowerShell" in n for n in notes)
