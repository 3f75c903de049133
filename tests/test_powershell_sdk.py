"""`Get-MgAuditLogProvisioning | ConvertTo-Json`: the Graph PowerShell SDK's objects are read
as the Graph events they were made from.

tests/data/powershell-sdk-objects.json is five events of the bundled Graph page (a conflict
with its error information, an incompatible filter, a success, a skip, an update, each with
its steps and their details) as PowerShell 7 writes the SDK's objects
(``powershell_sdk.convert_to_json``).
"""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from conftest import ROOT, SAMPLES
from powershell_sdk import convert_to_json, typed
from test_sample_formats import comparable
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.ingest import load

FIXTURE = ROOT / "tests/data/powershell-sdk-objects.json"
PAGE = SAMPLES / "formats/graph-v1/page-001.json"


def _graph_events() -> list[dict]:
    """The fixture's events as Graph's page holds them."""
    ids = {obj["Id"] for obj in json.loads(FIXTURE.read_text(encoding="utf-8"))}
    return [e for e in json.loads(PAGE.read_text(encoding="utf-8"))["value"] if e["id"] in ids]


@pytest.fixture
def graph_file(tmp_path) -> Path:
    path = tmp_path / "graph.json"
    path.write_text(json.dumps(_graph_events()), encoding="utf-8")
    return path


def _answer(command: str, *args: str) -> dict:
    result = CliRunner().invoke(app, [command, *args, "--format", "json", "-q"])
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def _without_files(answer: dict, *paths: Path) -> str:
    text = json.dumps(answer, sort_keys=True)
    for path in paths:
        text = text.replace(json.dumps(str(path))[1:-1], "FILE")
    return text


def test_the_fixture_is_the_sdk_shape_of_the_graph_events():
    """Guards the fixture against drifting from the helper that documents the shape."""
    written = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert written == [typed(event) for event in _graph_events()]
    assert written[0]["ProvisioningStatusInfo"]["ErrorInformation"]["ErrorCode"] == "Conflict"
    assert written[0]["ProvisioningSteps"][0]["Details"]["AdditionalProperties"]


def test_sdk_objects_read_as_the_graph_events(graph_file):
    dataset = load([FIXTURE])
    assert dataset.problems == [] and dataset.notes == []
    assert dataset.kinds == {str(FIXTURE): "Graph PowerShell SDK objects (ConvertTo-Json)"}
    graph = load([graph_file]).frames
    for name in ("events", "steps", "modified_properties"):
        ours, theirs = getattr(dataset.frames, name), getattr(graph, name)
        assert ours.drop("source_file", strict=False).equals(
            theirs.drop("source_file", strict=False)), name


def test_diagnose_and_why_answer_as_for_the_graph_events(graph_file):
    assert _without_files(_answer("diagnose", str(FIXTURE)), FIXTURE) == _without_files(
        _answer("diagnose", str(graph_file)), graph_file)
    for user in ("erik.dahl@northwind.no", "isak.berglund@northwind.se"):
        assert _without_files(_answer("why", user, str(FIXTURE)), FIXTURE) == _without_files(
            _answer("why", user, str(graph_file)), graph_file)


def test_what_the_evidence_leaves_open_is_read_either_way(tmp_path, graph_file):
    """Keys in another case, enums as the enums' numbers, an empty ErrorInformation on a
    success, a time with an offset: the same events."""
    objects = json.loads(FIXTURE.read_text(encoding="utf-8"))
    success = objects[1]
    assert success["ProvisioningStatusInfo"]["Status"] == "success"
    success["ProvisioningStatusInfo"]["ErrorInformation"] = dict.fromkeys(
        ("AdditionalDetails", "ErrorCategory", "ErrorCode", "Reason", "RecommendedAction"))
    for step in success["ProvisioningSteps"]:
        step["ProvisioningStepType"] = {"import": 0, "scoping": 1, "matching": 2,
                                        "export": 5}[step["ProvisioningStepType"]]
        step["Status"] = 0
    success["ACTIVITYDATETIME"] = "2026-03-24T09:05:00+01:00"  # 08:05:00Z
    del success["ActivityDateTime"]
    objects[3] = {key.lower(): value for key, value in objects[3].items()}
    path = tmp_path / "open.json"
    path.write_text(json.dumps(objects), encoding="utf-8")
    expected = comparable(load([graph_file]).frames.events)
    read = comparable(load([path]).frames.events)
    assert read.filter(pl.col("event_id") == success["Id"])["second"].dt.to_string(
        "%H:%M:%S").to_list() == ["08:05:00"]
    assert read.drop("second").equals(expected.drop("second"))
    assert load([path]).frames.steps.drop("source_file", strict=False).equals(
        load([graph_file]).frames.steps.drop("source_file", strict=False))


def test_windows_powershell_dates_are_read(tmp_path, graph_file):
    """Windows PowerShell 5.1 writes a DateTime as "\\/Date(ms)\\/"; one object alone is
    written without an array around it."""
    events = _graph_events()
    several, one = tmp_path / "ps51.json", tmp_path / "one.json"
    several.write_text(convert_to_json(events, windows_powershell=True), encoding="utf-8")
    one.write_text(convert_to_json(events[:1], windows_powershell=True)[1:-1].strip(),
                   encoding="utf-8")
    assert '"ActivityDateTime":  "\\/Date(1774339570000)\\/"' in one.read_text()
    expected = comparable(load([graph_file]).frames.events)
    assert comparable(load([several]).frames.events).equals(expected)
    read = load([one])
    assert read.problems == []
    assert read.frames.events["activity_time"].to_list() == expected.filter(
        pl.col("event_id") == events[0]["id"])["second"].to_list()


def test_a_time_out_of_range_is_reported_with_its_record(tmp_path):
    objects = json.loads(FIXTURE.read_text(encoding="utf-8"))
    objects[1]["ActivityDateTime"] = "/Date(99999999999999999999)/"
    path = tmp_path / "far.json"
    path.write_text(json.dumps(objects), encoding="utf-8")
    dataset = load([path])
    assert dataset.frames.events.height == len(objects) - 1
    assert [str(p) for p in dataset.problems] == [
        f"{path}: record 2: unreadable 'activityDateTime' /Date(99999999999999999999)/"]


def test_objects_cut_at_convertto_jsons_depth_say_how_to_save_again(tmp_path):
    """Past -Depth (2 unless given) ConvertTo-Json writes an object as its type name, the
    AdditionalProperties dictionary as the dictionary's."""
    objects = json.loads(FIXTURE.read_text(encoding="utf-8"))[:1]
    event = objects[0]
    event["ProvisioningStatusInfo"]["ErrorInformation"] = (
        "Microsoft.Graph.PowerShell.Models.MicrosoftGraphProvisioningErrorInfo")
    dictionary = "System.Collections.Generic.Dictionary`2[System.String,System.Object]"
    event["SourceIdentity"]["Details"] = {"AdditionalProperties": dictionary}
    path = tmp_path / "shallow.json"
    path.write_text(json.dumps(objects), encoding="utf-8")
    dataset = load([path])
    assert dataset.frames.events.height == 1 and dataset.problems == []
    assert dataset.notes[0].startswith(f"{path}: was saved by PowerShell's ConvertTo-Json")
    cut = "(PowerShell's text for an object that ConvertTo-Json did not write out)"
    assert dataset.notes[1:] == [
        f"{path}: record 1 (line 1): 'sourceIdentity.details' is a string {cut}, expected an "
        "array of key/value pairs; ignored",
        f"{path}: record 1 (line 1): 'provisioningStatusInfo.errorInformation' is a string "
        f"{cut}, expected an object; ignored",
    ]


def test_objects_nested_in_another_by_a_lost_bracket_are_found(tmp_path):
    """Valid JSON whose second object sits inside the first (a hand-edited file): counted by
    the SDK's key, ``ActivityDateTime``, as Graph's files are by theirs, the inner object is
    read and the damaged one reported, not the inner one silently lost."""
    objects = json.loads(FIXTURE.read_text(encoding="utf-8"))
    outer, inner = objects[1], objects.pop(2)
    outer["ModifiedProperties"].append(inner)
    path = tmp_path / "nested.json"
    path.write_text(json.dumps(objects, indent=2), encoding="utf-8")
    dataset = load([path])
    read = dataset.frames.events["event_id"].to_list()
    assert inner["Id"] in read and outer["Id"] not in read and len(read) == len(objects)
    assert [(p.location, p.message.split(" (")[0].split(";")[0]) for p in dataset.problems] == [
        ("record 2 (line 237)", "holds 1 more record inside it"),
        ("line 564", "unexpected ']' inside the array")]  # where the outer one's list ends
