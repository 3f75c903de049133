"""Every JSON shape of the provisioning log reads into the same canonical events.

The records are the two real captures quoted in the formats reference (a skipped SCIM group
record from graph2otel and Sumo Logic's SCIM failure record with an escrow retry).
"""

from __future__ import annotations

import copy
import gzip
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
import pytest
import realworld
from conftest import SAMPLES

from loganalyzer.ingest import ingest_to_store, load
from loganalyzer.normalize import Frames, step_details
from loganalyzer.readers import BATCH_ROWS

DATA = Path(__file__).parent / "data"
RECORDS = json.loads((DATA / "graph-records-captured.json").read_text())
GROUP_SKIP, SCIM_FAILURE = RECORDS


def write_json(path: Path, obj, indent=None) -> Path:
    path.write_text(json.dumps(obj, indent=indent))
    return path


def envelope(record: dict) -> dict:
    """A diagnostic-settings storage record: 7-digit fractions and the envelope around it."""
    props = copy.deepcopy(record)
    props["activityDateTime"] = record["activityDateTime"].replace("Z", ".4270244Z")
    return {
        "time": props["activityDateTime"],
        "resourceId": f"/tenants/{record['tenantId']}/providers/Microsoft.aadiam",
        "operationName": "Provisioning activity",
        "category": "ProvisioningLogs",
        "properties": props,
    }


def beta(record: dict) -> dict:
    """The beta shape: deprecated action/statusInfo, capitalised step types."""
    rec = copy.deepcopy(record)
    rec["action"] = rec["provisioningAction"].capitalize()
    status = rec["provisioningStatusInfo"]
    info = {"status": status["status"]}
    if status["errorInformation"]:
        info = {"@odata.type": "#microsoft.graph.statusDetails", **info,
                **status["errorInformation"], "errorCategory": "NonServiceFailure"}
    rec["statusInfo"] = info
    for step in rec["provisioningSteps"]:
        step["provisioningStepType"] = step["provisioningStepType"].capitalize()
    return rec


def canonical(events: pl.DataFrame) -> list[dict]:
    keep = ["event_id", "activity_time", "status", "action", "error_code", "http_status",
            "scim_type", "retry_count", "object_type", "upn", "user_name_sent", "email_sent",
            "external_id", "target_id", "skip_reason", "failed_step", "app_name"]
    return events.sort("event_id").select(keep).to_dicts()


@pytest.fixture
def expected(tmp_path) -> list[dict]:
    return canonical(load([write_json(tmp_path / "ref.json", RECORDS)]).frames.events)


def test_captured_records_normalise_to_what_they_say(tmp_path):
    events = load([write_json(tmp_path / "a.json", RECORDS)]).frames.events
    failure = events.filter(pl.col("status") == "failure").row(0, named=True)
    assert failure["action"] == "create"
    assert failure["http_status"] == 409
    assert failure["scim_type"] == "uniqueness"
    assert failure["retry_count"] == 1
    assert failure["is_escrow_retry"] is True
    assert failure["failed_step"] == "EntryExportAdd"
    assert failure["user_name_sent"] == "craig_ranger@test.com"
    assert failure["email_sent"] == "Craig_Ranger@test .com"
    assert failure["upn"] == "craig_ranger@test .com"
    assert failure["object_type"] == "User"
    skip = events.filter(pl.col("status") == "skipped").row(0, named=True)
    assert skip["object_type"] == "Group"
    assert skip["skip_reason"] == "RedundantExport"
    assert skip["target_id"] == "ffsdj2g8zwtfkd"
    assert skip["error_code"] is None  # errorInformation: null


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda d: write_json(d / "p.json", RECORDS, indent=2), id="portal-pretty"),
        pytest.param(
            lambda d: write_json(
                d / "page.json",
                {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/"
                 "provisioning", "value": RECORDS},
                indent=4,
            ),
            id="graph-page",
        ),
        pytest.param(
            lambda d: write_json(d / "beta.json", {"value": [beta(r) for r in RECORDS]}),
            id="graph-beta-page",
        ),
    ],
)
def test_json_shapes_read_the_same(tmp_path, expected, make):
    assert canonical(load([make(tmp_path)]).frames.events) == expected


def test_graph_pages_in_a_folder(tmp_path, expected):
    folder = tmp_path / "pages"
    folder.mkdir()
    write_json(folder / "page-001.json", {"value": [RECORDS[0]], "@odata.nextLink": "https://x"})
    write_json(folder / "page-002.json", {"value": [RECORDS[1]]})
    assert canonical(load([folder]).frames.events) == expected


GRAPH_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/provisioning"
NEXT_LINK = ("https://graph.microsoft.com/v1.0/auditLogs/provisioning?$top=1&$skiptoken="
             "g822a72df43b19c8ce94b71d153981b680a08800bc3e35f239dffb378ff72c25")


def test_a_graph_page_whose_next_page_was_not_given_is_said(tmp_path):
    """A page saved from Graph Explorer, or a pull stopped by throttling, ends with a page
    that has an @odata.nextLink: its later pages hold events no output would know of."""
    first = write_json(tmp_path / "page-001.json", {
        "@odata.context": GRAPH_CONTEXT, "@odata.nextLink": NEXT_LINK, "value": [RECORDS[0]]})
    dataset = load([first])
    assert dataset.frames.events.height == 1
    assert [n for n in dataset.notes if "nextLink" in n] == [
        f"{first}: every Graph page given has an @odata.nextLink, so the pull's last page "
        "(the one without a nextLink) was not given: the events of the pages after it are "
        "missing; save every page (follow @odata.nextLink until a page has none), or fetch "
        "with --graph"]


@pytest.mark.parametrize("pages", [
    pytest.param([{"value": [RECORDS[0]], "@odata.nextLink": NEXT_LINK},
                  {"value": [], "@odata.nextLink": NEXT_LINK}, {"value": [RECORDS[1]]}],
                 id="folder with its last page"),
    pytest.param([{"value": RECORDS}], id="one page without a nextLink"),
])
def test_a_whole_graph_pull_has_no_note_on_its_pages(tmp_path, pages):
    folder = tmp_path / "pages"
    folder.mkdir()
    for number, page in enumerate(pages, start=1):
        write_json(folder / f"page-{number:03d}.json", {"@odata.context": GRAPH_CONTEXT, **page})
    dataset = load([folder])
    assert dataset.frames.events.height == 2
    assert not [n for n in dataset.notes if "nextLink" in n]


@pytest.mark.parametrize("separator", [":", ": ", ":  "])
def test_a_next_link_written_as_null_is_no_next_page(tmp_path, separator):
    """A script that copies each response's nextLink into what it saves writes null on the
    pull's last page (compact JSON, Python's json, Windows PowerShell's ConvertTo-Json): that
    page ends the pull like a page without the key."""
    first = json.dumps({"@odata.context": GRAPH_CONTEXT, "value": [RECORDS[0]],
                        "@odata.nextLink": NEXT_LINK})
    last = json.dumps({"@odata.context": GRAPH_CONTEXT, "value": [RECORDS[1]],
                       "@odata.nextLink": None}).replace('"@odata.nextLink": null',
                                                         f'"@odata.nextLink"{separator}null')
    pages = tmp_path / "pages.json"
    pages.write_text(f"[{first},\n{last}]")
    cut = tmp_path / "cut.json"
    cut.write_text(f"[{first},\n{first.replace(RECORDS[0]['id'], 'another-id')}]")
    whole, stopped = load([pages]), load([cut])
    assert whole.frames.events.height == stopped.frames.events.height == 2
    assert not [n for n in whole.notes if "nextLink" in n]
    assert [n for n in stopped.notes if "every Graph page given has" in n]


def test_pages_in_one_file_whose_last_page_has_a_next_link_are_said(tmp_path):
    """Pages one per line, as a script following nextLinks writes them, stopped early."""
    pages = tmp_path / "pages.json"
    pages.write_text("\n".join(json.dumps({"@odata.context": GRAPH_CONTEXT, "value": [r],
                                            "@odata.nextLink": NEXT_LINK}) for r in RECORDS))
    dataset = load([pages])
    assert dataset.frames.events.height == 2
    assert [n for n in dataset.notes if "nextLink" in n]


def test_a_graph_pages_next_links_are_counted_in_the_pass_that_counts_its_events(
        tmp_path, monkeypatch):
    """A month's pages in one file are gigabytes: the nextLinks are counted with the events
    (the fast reader's check), not in a pass of their own; a page the fast reader refuses
    (a damaged record) is counted once too, and still said."""
    import loganalyzer.readers as readers

    passes: list[str] = []
    count_keys = readers._count_keys

    def counting(source, keys, stopped=None):
        passes.append(source.name)
        return count_keys(source, keys, stopped)

    monkeypatch.setattr(readers, "_count_keys", counting)
    page = {"@odata.context": GRAPH_CONTEXT, "value": RECORDS, "@odata.nextLink": NEXT_LINK}
    whole = write_json(tmp_path / "whole.json", page)
    damaged = tmp_path / "damaged.json"
    damaged.write_text(json.dumps(page).replace('"activityDateTime"', '"activityDateTime" :,', 1))
    for path in (whole, damaged):
        passes.clear()
        dataset = load([path])
        assert passes == [str(path)] * (1 if path is whole else 2)  # damaged: events, pages
        assert [n for n in dataset.notes if "every Graph page given has" in n], path


def test_storage_envelopes_ndjson_and_gzip(tmp_path):
    lines = "\n".join(json.dumps(envelope(r)) for r in RECORDS) + "\n"
    plain = tmp_path / "PT1H.json"
    plain.write_text(lines)
    zipped = tmp_path / "PT1H.json.gz"
    zipped.write_bytes(gzip.compress(lines.encode()))
    for path in (plain, zipped):
        events = load([path]).frames.events
        assert events.height == 2
        times = events.sort("event_id")["activity_time"].dt.microsecond().to_list()
        assert times == [427024, 427024]  # 7-digit fraction kept to the microsecond


def test_zip_archive_member(tmp_path, expected):
    archive = tmp_path / "export.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("ProvisioningLogs.json", json.dumps(RECORDS))
    dataset = load([archive])
    assert canonical(dataset.frames.events) == expected
    assert list(dataset.kinds) == [f"{archive}!ProvisioningLogs.json"]


def test_beta_record_with_only_deprecated_status(tmp_path):
    rec = beta(SCIM_FAILURE)
    del rec["provisioningStatusInfo"]
    del rec["provisioningAction"]
    events = load([write_json(tmp_path / "b.json", [rec])]).frames.events
    row = events.row(0, named=True)
    assert (row["status"], row["action"], row["http_status"]) == ("failure", "create", 409)
    assert row["error_category"] == "nonservicefailure"


def test_doc_quirks_service_principal_array_and_initiating_type(tmp_path):
    rec = copy.deepcopy(GROUP_SKIP)
    rec["servicePrincipal"] = [rec["servicePrincipal"]]
    rec["initiatedBy"] = {"initiatingType": "system", "id": "", "displayName": "Azure AD "
                          "Provisioning Service"}
    events = load([write_json(tmp_path / "q.json", [rec])]).frames.events
    assert events["app_name"].to_list() == ["Grafana PS"]
    assert events["initiated_by"].to_list() == ["Azure AD Provisioning Service"]


def test_same_event_in_two_inputs_counts_once(tmp_path):
    first = write_json(tmp_path / "a.json", RECORDS)
    second = write_json(tmp_path / "b.json", {"value": [RECORDS[1]]})
    dataset = load([first, second])
    assert dataset.frames.events.height == 2
    assert dataset.duplicates == 1
    assert dataset.frames.steps.height == sum(len(r["provisioningSteps"]) for r in RECORDS)


def test_enum_members_fold_case_and_unknown_values_are_kept_verbatim(tmp_path):
    rec = copy.deepcopy(SCIM_FAILURE)
    rec["provisioningAction"] = "stagedDelete"
    rec["provisioningStatusInfo"]["status"] = "unknownFutureValue"
    rec["provisioningSteps"][0]["provisioningStepType"] = "referenceResolution"
    rec["provisioningSteps"][1]["provisioningStepType"] = "SomethingNew"
    rec["provisioningStatusInfo"]["errorInformation"]["errorCategory"] = "NewCategory"
    frames = load([write_json(tmp_path / "e.json", [rec])]).frames
    event = frames.events.row(0, named=True)
    assert (event["action"], event["status"]) == ("stageddelete", "unknownfuturevalue")
    assert event["error_category"] == "NewCategory"
    assert frames.steps["step_type"].to_list() == ["referenceresolution", "SomethingNew"]


def test_store_round_trip(tmp_path):
    source = write_json(tmp_path / "a.json", RECORDS)
    manifest = ingest_to_store([source], tmp_path / "store")
    assert manifest["counts"]["events"] == 2
    from_store = load([tmp_path / "store"]).frames.collected()
    from_file = load([source]).frames
    assert from_store.events.equals(from_file.events)
    assert from_store.steps.equals(from_file.steps)
    assert from_store.modified_properties.equals(from_file.modified_properties)
    # the store's long form of the step details is the steps' details, one per row
    assert from_store.details.collect().equals(step_details(from_file.steps))


def test_event_repeated_in_one_file_keeps_one_copy_of_its_steps(tmp_path):
    path = write_json(tmp_path / "twice.json", [SCIM_FAILURE, GROUP_SKIP, SCIM_FAILURE])
    dataset = load([path])
    frames = dataset.frames
    assert frames.events.height == 2
    assert dataset.duplicates == 1
    assert frames.steps.height == sum(len(r["provisioningSteps"]) for r in RECORDS)
    assert frames.modified_properties.height == len(SCIM_FAILURE["modifiedProperties"])


@pytest.mark.parametrize("batches_a_group", [1, 2])
def test_an_ndjson_export_is_stored_in_row_groups_of_full_batches(tmp_path, monkeypatch,
                                                                  batches_a_group):
    """DuckDB hands NDJSON over in chunks of a few thousand records; a store of those scanned
    at twice the cost per event of one written in full batches (5M events: 901 row groups).
    The normalised batches are gathered before they are written, and the events gathered
    again to ``EVENT_ROW_GROUP`` (here made smaller than the export)."""
    export = tmp_path / "tenant.ndjson"
    subprocess.run([sys.executable, str(Path(__file__).parents[1] / "benchmarks" /
                                        "make_tenant.py"), "--events", "25000",
                    "--format", "ndjson", "-o", str(export)], check=True, capture_output=True)
    monkeypatch.setattr("loganalyzer.ingest.EVENT_ROW_GROUP", batches_a_group * BATCH_ROWS)
    ingest_to_store([export], tmp_path / "store")

    def groups(name: str) -> list[int]:
        meta = pq.ParquetFile(tmp_path / "store" / f"{name}.parquet").metadata
        return [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]

    # two batches: at least BATCH_ROWS events, then the rest
    assert len(groups("modified_properties")) == 2
    events = groups("events")
    assert sum(events) == 25_000
    if batches_a_group == 1:  # each batch is a full group
        assert len(events) == 2 and events[0] >= BATCH_ROWS
    else:  # gathered: the last group may be short of EVENT_ROW_GROUP
        assert events == [25_000]


def _read_with(path: Path, careful: bool) -> Frames:
    """The canonical frames of a JSON export read by one reader: the fast one (DuckDB) as
    every command reads, or the careful one it falls back to on a record it refuses."""
    from loganalyzer.normalize import normalize
    from loganalyzer.readers import ReadLog, _batched, _read_json
    from loganalyzer.readers.json_careful import read_careful
    from loganalyzer.readers.sniff import Kind, sniff
    from loganalyzer.readers.sources import Source

    source, log = Source(path.name, path, gzip=path.suffix == ".gz"), ReadLog()
    kind = sniff(source)
    assert kind in (Kind.JSON_ARRAY, Kind.GRAPH_PAGE, Kind.NDJSON)
    raws = (_batched(read_careful(source, kind), log) if careful
            else _read_json(source, kind, log))
    frames = [normalize(raw)[0] for raw in raws]
    assert not log.problems
    read = Frames.concat(frames).collected()
    return Frames(read.events.drop("source_record"), read.steps, read.modified_properties)


def _tenant_wide_shapes(folder: Path) -> dict[str, Path]:
    shapes = realworld.write_all(folder)
    page = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/"
            "provisioning", "value": realworld.tenant_wide()}
    return {"Graph page": write_json(folder / "page.json", page),
            **{k: shapes[k] for k in ("portal array", "diagnostic-settings NDJSON",
                                      "diagnostic-settings .gz")}}


@pytest.mark.parametrize("path", [
    *(SAMPLES / p.name for p in sorted(SAMPLES.glob("*.json")) if p.name != "manifest.json"),
    *("Graph page", "portal array", "diagnostic-settings NDJSON", "diagnostic-settings .gz"),
], ids=str)
def test_the_fast_and_the_careful_reader_give_the_same_events(path, tmp_path):
    """The careful reader takes over wherever the fast one refuses a record, so a file read
    partly by each must read as if one had read it all: every sample and the formats
    reference's tenant-wide export in each JSON shape, every column."""
    if isinstance(path, str):
        path = _tenant_wide_shapes(tmp_path)[path]
    fast = _read_with(path, careful=False)
    careful = _read_with(path, careful=True)
    assert fast.events.height == careful.events.height > 0
    for name in ("events", "steps", "modified_properties"):
        assert getattr(fast, name).equals(getattr(careful, name)), name


def test_a_duration_that_is_not_a_whole_number_reads_alike_and_is_noted(tmp_path):
    """DuckDB casts ``true`` to 1 (and rounds 12.5) in a number column, where the careful
    reader notes a boolean and cuts 12.5 to 12: the fast reader hands such a file to the
    careful one, so a duration never depends on which reader met it first, and a boolean
    is never a duration of 1 ms."""
    records = realworld.flowcase_events()
    for record, duration in zip(records, [True, 12.5, "1204", 1204, False], strict=True):
        record["durationInMilliseconds"] = duration
    path = write_json(tmp_path / "export.json", records)
    fast, careful = _read_with(path, careful=False), _read_with(path, careful=True)
    assert fast.events.equals(careful.events)
    assert fast.events["duration_ms"].to_list() == [None, 12, 1204, 1204, None]
    dataset = load([path])
    booleans = [n for n in dataset.notes if "'durationInMilliseconds' is a boolean" in n]
    assert len(booleans) == 2, dataset.notes


def test_both_readers_spell_a_value_logged_as_json_not_text_alike(tmp_path):
    """Entra logs detail and property values as strings; a boolean, number, object or array
    in their place must read as the same text whichever reader takes the record (compact
    JSON, as DuckDB casts it), or a file's values would depend on its other records."""
    record = realworld.flowcase_events()[0]
    record["provisioningSteps"][0]["details"] |= {
        "accountEnabled": True, "ScopeEvaluationResult": {"rule": ["a", 1.5], "note": "é"},
        "attempt": 3}
    record["modifiedProperties"].append(
        {"displayName": "extensionAttribute1", "oldValue": False, "newValue": 42})
    path = write_json(tmp_path / "export.json", [record])
    fast, careful = _read_with(path, careful=False), _read_with(path, careful=True)
    assert fast.steps.equals(careful.steps)
    assert fast.modified_properties.equals(careful.modified_properties)
    details = {d["key"]: d["value"] for d in careful.steps["details"][0]}
    assert details["accountEnabled"] == "true" and details["attempt"] == "3"
    assert details["ScopeEvaluationResult"] == '{"rule":["a",1.5],"note":"é"}'
    changed = careful.modified_properties.filter(pl.col("name") == "extensionAttribute1")
    assert changed.select("old_value", "new_value").rows() == [("false", "42")]


def test_a_cut_pull_is_said_beside_a_whole_one_in_another_folder(tmp_path):
    """Two pulls, each saved by a script in its own folder: the second stopped on a page with
    a nextLink. Counted together, the first's last page hid it."""
    for name, last in (("monday", {}), ("tuesday", {"@odata.nextLink": NEXT_LINK})):
        folder = tmp_path / name
        folder.mkdir()
        write_json(folder / "page-001.json", {"@odata.context": GRAPH_CONTEXT,
                                              "@odata.nextLink": NEXT_LINK, "value": []})
        record = {**RECORDS[0], "id": f"{name}-event"}
        write_json(folder / "page-002.json", {"@odata.context": GRAPH_CONTEXT, **last,
                                              "value": [record]})
    dataset = load([tmp_path / "monday", tmp_path / "tuesday"])
    assert dataset.frames.events.height == 2
    notes = [n for n in dataset.notes if "nextLink" in n]
    assert len(notes) == 1 and notes[0].startswith(
        f"{tmp_path / 'tuesday' / 'page-001.json'}, {tmp_path / 'tuesday' / 'page-002.json'}: "
        "every Graph page given has an @odata.nextLink")
