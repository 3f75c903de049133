"""The bundled failing-initial export, in every JSON form, reads to the same canonical events."""

from __future__ import annotations

import json

import polars as pl
import pytest
from conftest import SAMPLES
from powershell_sdk import convert_to_json

from loganalyzer.ingest import load

FORMATS = SAMPLES / "formats"
COMPARED = [
    "event_id", "status", "action", "error_code", "http_status", "scim_detail", "retry_count",
    "object_type", "upn", "user_name_sent", "email_sent", "external_id", "source_id",
    "target_id", "skip_reason", "failed_step", "is_escrow_retry", "cycle_id", "app_name",
]


def comparable(frame: pl.DataFrame) -> pl.DataFrame:
    # storage exports carry 7-digit fractions where Graph and the portal write whole seconds
    return frame.sort("event_id").select(
        *COMPARED, pl.col("activity_time").dt.truncate("1s").alias("second")
    )


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    return comparable(load([SAMPLES / "failing-initial.json"]).frames.events)


@pytest.mark.parametrize(
    "inputs",
    [
        ["graph-v1"],
        ["graph-v1/page-001.json", "graph-v1/page-002.json", "graph-v1/page-003.json"],
        ["graph-beta-page.json"],
        ["portal-pretty.json"],
        ["storage"],
        ["storage/PT1H.json", "storage/PT1H.json.gz"],
    ],
    ids=lambda i: "+".join(i),
)
def test_json_forms_agree_with_the_portal_download(reference, inputs):
    dataset = load([FORMATS / name for name in inputs])
    assert dataset.problems == []
    assert comparable(dataset.frames.events).equals(reference)


def test_mixed_kinds_in_one_call_count_each_event_once(reference):
    dataset = load([SAMPLES / "failing-initial.json", FORMATS / "graph-v1", FORMATS / "storage"])
    assert dataset.frames.events.height == reference.height
    assert dataset.duplicates == 2 * reference.height


def test_every_sample_export_loads_cleanly():
    for path in sorted(SAMPLES.glob("*.json")):
        if path.name == "manifest.json":
            continue
        dataset = load([path])
        assert dataset.problems == [], path
        events = dataset.frames.events
        assert events["activity_time"].null_count() == 0, path
        failures = events.filter(pl.col("status") == "failure")
        # every failure carries an error code; its reason parses to an HTTP status or is one
        # of the documented reasons without a status line
        assert failures["error_code"].null_count() == 0, path
        assert (failures["http_status"].is_not_null() | failures["error_code"].is_in(
            ["DuplicateTargetEntries", "MandatoryFieldsMissing", "Timeout"]
        ) | failures["error_reason"].str.contains("(?i)not found|timed? ?out")).all(), path


def _envelopes() -> list[dict]:
    lines = (FORMATS / "storage/PT1H.json").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


# the storage export's diagnostic-settings envelopes (formats reference 3.1) as other tools
# hand them over: gathered into an array, as an event hub's body, or saved indented
ENVELOPE_SHAPES = {
    "a JSON array": lambda: json.dumps(_envelopes()),
    "an indented JSON array": lambda: json.dumps(_envelopes(), indent=2),
    "an event hub body": lambda: json.dumps({"records": _envelopes()}),
    "indented one after another": lambda: "\n".join(json.dumps(e, indent=2)
                                                    for e in _envelopes()),
    "one indented envelope": lambda: json.dumps(_envelopes()[0], indent=2),
}


@pytest.mark.parametrize("shape", ENVELOPE_SHAPES)
def test_storage_envelopes_read_the_same_in_every_container(reference, tmp_path, shape):
    path = tmp_path / "envelopes.json"
    path.write_text(ENVELOPE_SHAPES[shape](), encoding="utf-8")
    dataset = load([path])
    assert dataset.problems == []
    events = comparable(dataset.frames.events)
    expected = reference.filter(pl.col("event_id").is_in(events["event_id"].implode()))
    assert events.equals(expected)
    assert events.height == (1 if shape == "one indented envelope" else len(_envelopes()))


def test_log_analytics_rows_as_json_lines_read_as_the_array(tmp_path):
    """A workspace data export writes the table's rows one per line."""
    rows_file = FORMATS / "log-analytics/AADProvisioningLogs.json"
    rows = json.loads(rows_file.read_text(encoding="utf-8"))
    lines = tmp_path / "rows.json"
    lines.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    dataset = load([lines])
    assert dataset.problems == []
    assert comparable(dataset.frames.events).equals(
        comparable(load([rows_file]).frames.events))


def _pages() -> list[dict]:
    return [json.loads(page.read_text(encoding="utf-8"))
            for page in sorted((FORMATS / "graph-v1").glob("page-*.json"))]


# Graph pages as a script that follows @odata.nextLink may save them
def _short_pages() -> list[dict]:
    """Pages of two events: each line is whole within the head the kind is told from."""
    events = [event for page in _pages() for event in page["value"]]
    return [{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/provisioning",
             "value": events[i:i + 2]} for i in range(0, len(events), 2)]


PAGE_SHAPES = {
    "one per line": lambda: "\n".join(json.dumps(page) for page in _pages()) + "\n",
    "short ones one per line": lambda: "\n".join(json.dumps(p) for p in _short_pages()) + "\n",
    "in a JSON array": lambda: json.dumps(_pages(), indent=2),
    "indented one after another": lambda: "\n".join(json.dumps(p, indent=2) for p in _pages()),
}


@pytest.mark.parametrize("shape", PAGE_SHAPES)
def test_graph_pages_read_the_same_in_every_container(reference, tmp_path, shape):
    path = tmp_path / "pages.json"
    path.write_text(PAGE_SHAPES[shape](), encoding="utf-8")
    dataset = load([path])
    assert dataset.problems == [] and not any("could not be read" in n
                                              for n in dataset.input_notes())
    assert comparable(dataset.frames.events).equals(reference)


@pytest.mark.parametrize("windows_powershell", [False, True], ids=["pwsh 7", "Windows PowerShell"])
def test_graph_powershell_sdk_objects_read_as_the_pages(reference, tmp_path, windows_powershell):
    """`Get-MgAuditLogProvisioning -All | ConvertTo-Json -Depth 10` of the same events: the
    SDK's PascalCase objects, AdditionalProperties bags and either PowerShell's dates."""
    events = [event for page in _pages() for event in page["value"]]
    path = tmp_path / "Get-MgAuditLogProvisioning.json"
    path.write_text(convert_to_json(events, windows_powershell), encoding="utf-8")
    dataset = load([path])
    assert dataset.problems == [] and dataset.notes == []
    assert comparable(dataset.frames.events).equals(reference)
