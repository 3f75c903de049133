"""Log Analytics AADProvisioningLogs exports: CSV, JSON rows and the query API's tables.

Rows are hand-made in the shape of a real workspace export: PascalCase columns, JSON text in
the dynamic columns with mixed inner key casing, ``TenantId`` = the workspace, locale dates.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLES
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.ingest import load
from loganalyzer.problems import InputError
from loganalyzer.readers.spelling import graph_keys

WORKSPACE = "5f0e2d4c-6b8a-4c1e-9d3f-7a5b3c1e9f02"
TENANT = "b3e1a7c4-5d92-4f6e-8a10-2c9d7e4f6b58"
JOB = "scim.b3e1a7c45d924f6e8a102c9d7e4f6b58.4c7e2a91-0b3d-4e58-a6f2-9d1c8b7e5a30"
SP = {"Id": "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10", "Name": "Flowcase SCIM"}
REASON = (
    "StatusCode: BadRequest\r\nMessage: Processing of the HTTP request resulted in an "
    "exception.\r\nWeb Response: \r\n{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:"
    "Error\"],\"status\":\"400\",\"detail\":\"Unknown department 'Sales, Nordics'\"}. This "
    "operation was retried 0 times. It will be retried again after this date: "
    "2026-11-03T13:17:42.1234567Z UTC"
)
COLUMNS = [
    "TenantId", "AADTenantId", "TimeGenerated [UTC]", "OperationName", "OperationVersion",
    "Category", "ResultType", "ResultSignature", "ResultDescription", "DurationMs",
    "CorrelationId", "Action", "ChangeId", "CycleId", "Id", "InitiatedBy", "JobId",
    "ModifiedProperties", "ProvisioningSteps", "ServicePrincipal", "SourceIdentity",
    "SourceSystem", "StatusInfo", "TargetIdentity", "TargetSystem", "ProvisioningAction",
    "ProvisioningStatusInfo", "Type",
]


def j(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


def row(**values: object) -> dict[str, object]:
    base = {
        "TenantId": WORKSPACE, "AADTenantId": TENANT, "OperationName": "Provisioning activity",
        "OperationVersion": "1.0", "Category": "ProvisioningLogs", "CorrelationId": "c0ffee",
        "JobId": JOB, "CycleId": "cycle-1", "DurationMs": "1,204", "Type": "AADProvisioningLogs",
        "InitiatedBy": j({"Id": "", "Name": "Azure AD Provisioning Service",
                          "InitiatorType": "system"}),
        "ServicePrincipal": j(SP), "SourceSystem": "Azure", "StatusInfo": "",
        "TargetSystem": j({"Id": "9d7b", "Name": "customappsso",
                           "Details": {"ServicePrincipalDisplayName": "Flowcase SCIM"}}),
        "ModifiedProperties": "[]", "ProvisioningSteps": "[]", "ResultDescription": "",
        "ResultSignature": "None", "TargetIdentity": j({"Id": "", "DisplayName": "",
                                                         "IdentityType": "User"}),
    }
    return {**base, **values}


FAILED = row(
    Id="8e0b7d6c-1a2b-4c3d-9e8f-7a6b5c4d3e2f", ChangeId="chg-1",
    **{"TimeGenerated [UTC]": "11/3/2026, 7:17:42.123 AM"},
    ResultType="Failure",
    ResultSignature="SystemForCrossDomainIdentityManagementServiceIncompatible",
    ResultDescription=REASON, Action="Create", ProvisioningAction="create",
    SourceIdentity=j({"Id": "b028a46a", "DisplayName": "Ingrid Holm", "identityType": "User",
                      "details": {"UserPrincipalName": "ingrid.holm@northwind.no",
                                  "DisplayName": "Ingrid Holm"}}),
    ProvisioningStatusInfo=j({"status": "failure", "errorInformation": {
        "errorCode": "SystemForCrossDomainIdentityManagementServiceIncompatible",
        "reason": REASON, "errorCategory": "nonServiceFailure"}}),
    ProvisioningSteps=j([
        {"Name": "EntryImportAdd", "ProvisioningStepType": "Import", "Status": "Success",
         "Description": "Received User", "Details": {"userPrincipalName": "x@y"}},
        {"Name": "EntryExportAdd", "ProvisioningStepType": "Export", "Status": "Failure",
         "Description": "Failed to create User 'ingrid.holm@northwind.no' in customappsso",
         "Details": {"ReportableIdentifier": "ingrid.holm@northwind.no",
                     "Name": "not a Graph key here", "userName": "ingrid.holm@northwind.no"}},
    ]),
    ModifiedProperties=j([{"DisplayName": "userName", "OldValue": None,
                           "NewValue": "ingrid.holm@northwind.no"}]),
)
# Status and error only in the Result* columns; deprecated Action, no ProvisioningAction.
RESULT_ONLY = row(
    Id="9f1c8e7d-2b3c-4d5e-8f9a-0b1c2d3e4f5a", ChangeId="chg-2",
    **{"TimeGenerated [UTC]": "11/3/2026, 7:18:05.456 AM"},
    ResultType="Failure", ResultSignature="SystemForCrossDomainIdentityManagementBadRequest",
    ResultDescription=REASON, Action="Update", ProvisioningAction="",
    SourceIdentity=j({"id": "c1d2", "displayName": "Erik Dahl", "identityType": "User"}),
    ProvisioningStatusInfo=j({"status": None}),
)
SKIPPED = row(
    Id="a0b1c2d3-4e5f-4a6b-8c7d-9e0f1a2b3c4d", ChangeId="chg-3",
    **{"TimeGenerated [UTC]": "11/3/2026, 7:19:00.000 PM"},
    ResultType="Skipped", ResultSignature="None", ResultDescription="", Action="Other",
    ProvisioningAction="other", ProvisioningStatusInfo="",
    SourceIdentity=j({"Id": "d4e5", "DisplayName": "Kari Nilsen", "IdentityType": "User"}),
    ProvisioningSteps=j([{"name": "EntrySynchronizationSkip", "provisioningStepType": "export",
                          "status": "skipped", "description": "skip",
                          "details": {"SkipReason": "RedundantExport"}}]),
)
ROWS = [FAILED, RESULT_ONLY, SKIPPED]


def la_csv(path: Path, rows: list[dict[str, object]], columns: list[str] = COLUMNS) -> Path:
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\r\n", extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    path.write_text("\ufeff" + out.getvalue(), encoding="utf-8", newline="")
    return path


def by_id(frame: pl.DataFrame) -> dict[str, dict]:
    return {r["event_id"]: r for r in frame.iter_rows(named=True)}


def check_events(dataset) -> None:
    """What every form of ROWS must read to."""
    events = by_id(dataset.frames.events)
    failed, result_only, skipped = (events[r["Id"]] for r in ROWS)
    assert failed["activity_time"].isoformat() == "2026-11-03T07:17:42.123000+00:00"
    assert failed["tenant_id"] == TENANT  # AADTenantId, not the workspace's TenantId
    assert (failed["status"], failed["action"], failed["http_status"]) == ("failure", "create",
                                                                           400)
    assert failed["error_category"] == "nonservicefailure"
    assert failed["scim_detail"] == "Unknown department 'Sales, Nordics'"
    assert (failed["app_name"], failed["service_principal_id"]) == (SP["Name"], SP["Id"])
    assert failed["initiated_by"] == "Azure AD Provisioning Service"
    assert failed["target_system"] == "customappsso" and failed["source_system"] is None
    assert failed["upn"] == "ingrid.holm@northwind.no"  # SourceIdentity details, kept as is
    assert failed["user_name_sent"] == "ingrid.holm@northwind.no"
    assert failed["failed_step"] == "EntryExportAdd" and failed["duration_ms"] == 1204

    assert result_only["status"] == "failure" and result_only["action"] == "update"
    assert result_only["error_code"] == "SystemForCrossDomainIdentityManagementBadRequest"
    assert result_only["http_status"] == 400 and result_only["retry_count"] == 0
    assert result_only["source_display_name"] == "Erik Dahl"

    assert skipped["status"] == "skipped" and skipped["error_code"] is None
    assert skipped["error_reason"] is None and skipped["skip_reason"] == "RedundantExport"
    assert skipped["activity_time"].hour == 19

    steps = dataset.frames.steps.filter(pl.col("event_id") == FAILED["Id"]).sort("step_index")
    assert steps.select("name", "step_type", "status").rows() == [
        ("EntryImportAdd", "import", "success"), ("EntryExportAdd", "export", "failure")]
    details = steps["details"][1].to_list()
    assert {"key": "Name", "value": "not a Graph key here"} in details  # details keys untouched
    props = dataset.frames.modified_properties
    assert props.select("event_id", "name", "old_value", "new_value").rows() == [
        (FAILED["Id"], "userName", None, "ingrid.holm@northwind.no")]


def test_csv_export(tmp_path):
    dataset = load([la_csv(tmp_path / "query_data.csv", ROWS)])
    assert dataset.problems == [] and dataset.notes == []
    assert dataset.kinds == {str(tmp_path / "query_data.csv"): "Log Analytics CSV"}
    check_events(dataset)


def test_json_array_with_dynamic_columns_as_text_or_objects(tmp_path):
    rows = []
    for n, r in enumerate(ROWS):
        r = {("TimeGenerated" if k.startswith("TimeGenerated") else k): v for k, v in r.items()}
        if n == 0:  # some tools write dynamic columns already parsed
            r = {k: json.loads(v) if k in ("ProvisioningSteps", "SourceIdentity") else v
                 for k, v in r.items()}
        rows.append(r)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(rows, indent=2))
    dataset = load([path])
    assert dataset.problems == []
    assert dataset.kinds == {str(path): "Log Analytics JSON"}
    check_events(dataset)


def test_json_array_with_column_names_in_another_case(tmp_path):
    """A query that projects its columns under other names' casing: the JSON is still Log
    Analytics (as its CSV is), not refused as a Graph export."""
    rows = [{k.lower(): v for k, v in r.items()} for r in ROWS]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(rows, indent=2))
    dataset = load([path])
    assert dataset.kinds == {str(path): "Log Analytics JSON"}
    check_events(dataset)


def test_query_api_tables(tmp_path):
    names = [c.replace(" [UTC]", "") for c in COLUMNS]
    document = {"tables": [{
        "name": "PrimaryResult",
        "columns": [{"name": n, "type": "dynamic" if n == "ProvisioningSteps" else "string"}
                    for n in names],
        "rows": [[r[c] for c in COLUMNS] for r in ROWS],
    }]}
    path = tmp_path / "query.json"
    path.write_text(json.dumps(document))
    check_events(load([path]))


def test_malformed_json_cell_is_named_and_the_record_kept(tmp_path):
    broken = {**FAILED, "ModifiedProperties": '[{"DisplayName": "userName", "NewValue": "in'}
    path = la_csv(tmp_path / "la.csv", [broken, SKIPPED])
    dataset = load([path])
    assert dataset.problems == []  # the record is kept, so it is a note, not a skipped record
    [note] = [n for n in dataset.notes if "malformed JSON" in n]
    assert note.startswith(f"{path}: line 2: column ModifiedProperties: malformed JSON")
    assert "record is kept" in note
    events = by_id(dataset.frames.events)
    assert events[FAILED["Id"]]["http_status"] == 400
    assert dataset.frames.modified_properties.height == 0


def test_row_without_id_or_time_is_one_problem(tmp_path):
    no_id = {**FAILED, "Id": ""}
    no_time = {**RESULT_ONLY, "TimeGenerated [UTC]": ""}
    path = la_csv(tmp_path / "la.csv", [no_id, no_time, SKIPPED])
    dataset = load([path])
    lines = 1 + sum(str(v).count("\n") for v in FAILED.values())  # REASON spans lines
    assert [(p.location, p.message.split(" (")[0]) for p in dataset.problems] == [
        ("line 2", "missing Id"), (f"line {lines + 2}", "missing TimeGenerated")]
    assert dataset.frames.events["event_id"].to_list() == [SKIPPED["Id"]]


def test_unknown_columns_are_noted_and_workspace_columns_are_not(tmp_path):
    columns = [*COLUMNS, "_BilledSize", "_IsBillable", "SourceComputerId"]
    rows = [{**r, "_BilledSize": "2048", "_IsBillable": "True", "SourceComputerId": "x"}
            for r in ROWS]
    path = la_csv(tmp_path / "la.csv", rows, columns)
    assert load([path]).notes == [f"{path}: columns not used: SourceComputerId"]


def test_csv_without_the_id_column_is_refused(tmp_path):
    path = la_csv(tmp_path / "la.csv", ROWS, [c for c in COLUMNS if c != "Id"])
    with pytest.raises(InputError) as caught:
        load([path])
    assert str(caught.value).startswith(f"{path}: is a Log Analytics export without the Id")


def test_truncated_json_array_keeps_the_rows_before(tmp_path):
    rows = [{("TimeGenerated" if k.startswith("Time") else k): v for k, v in r.items()}
            for r in ROWS]
    text = json.dumps(rows, indent=1)
    path = tmp_path / "la.json"
    path.write_text(text[: text.index(SKIPPED["Id"])])
    dataset = load([path])
    assert dataset.frames.events["event_id"].to_list() == [FAILED["Id"], RESULT_ONLY["Id"]]
    [problem] = dataset.problems
    assert problem.location.startswith("record 3 (line ")
    assert "truncated" in problem.message


def run_cli(*args: str):
    result = CliRunner().invoke(app, ["summary", *args])
    return result.exit_code, result.stderr


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"tables": [{"name": "PrimaryResult", "columns": [{"name": "TimeGenerated"}], "rows": [[',
         "malformed JSON"),
        ('{"tables": [{"name": "PrimaryResult", "columns": [{"name": "Computer"}], "rows": []}]}',
         "no AADProvisioningLogs table"),
    ],
    ids=["truncated-tables", "other-table"],
)
def test_cli_unusable_query_output_one_line_exit_2(tmp_path, text, fragment):
    path = tmp_path / "query.json"
    path.write_text(text)
    code, stderr = run_cli(str(path))
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert code == 2 and len(errors) == 1 and "Traceback" not in stderr, stderr
    assert errors[0].startswith(f"error: {path}") and fragment in errors[0]


def test_graph_keys_fold_casing_outside_details_only():
    value = {"Id": "1", "DISPLAYNAME": "A", "Details": {"Id": "kept", "displayname": "kept"},
             "Custom": {"Status": "x"}}
    assert graph_keys(value) == {"id": "1", "displayName": "A",
                                 "details": {"Id": "kept", "displayname": "kept"},
                                 "Custom": {"status": "x"}}


# The generated failing-initial export, from a workspace, against its portal JSON download.

COMPARED = ["event_id", "status", "action", "error_code", "error_category", "error_reason",
            "http_status", "scim_detail", "retry_count", "next_retry_time", "cycle_id",
            "change_id", "job_id", "tenant_id", "object_type", "source_id",
            "source_display_name", "target_id", "app_name", "service_principal_id",
            "initiated_by", "skip_reason", "failed_step", "is_escrow_retry", "upn", "mail",
            "user_name_sent", "email_sent", "external_id", "identity_key", "duration_ms"]


@pytest.fixture(scope="module")
def from_json():
    return load([SAMPLES / "failing-initial.json"]).frames


@pytest.mark.parametrize("name", ["AADProvisioningLogs.csv", "AADProvisioningLogs.json"])
def test_sample_workspace_export_equals_the_json_download(from_json, name):
    dataset = load([SAMPLES / "formats" / "log-analytics" / name])
    assert dataset.problems == []
    events = dataset.frames.events.sort("event_id")
    reference = from_json.events.sort("event_id")
    assert events.select(COMPARED).equals(reference.select(COMPARED))
    # Log Analytics keeps milliseconds (CSV) or 7 digits (JSON); the download whole seconds
    assert (events["activity_time"].dt.truncate("1s") == reference["activity_time"]).all()
    for frame in ("steps", "modified_properties"):
        got, want = getattr(dataset.frames, frame), getattr(from_json, frame)
        keys = list(got.columns[:2])
        assert got.sort(keys).equals(want.sort(keys)), frame


def test_json_array_with_a_broken_row_keeps_the_rows_after_it(tmp_path):
    rows = [json.dumps(r) for r in ROWS]
    rows[1] = rows[1].replace('"Id":', '"Id" ', 1)  # one malformed row in the middle
    path = tmp_path / "la.json"
    path.write_text("[\n" + ",\n".join(rows) + "\n]")
    dataset = load([path])
    assert sorted(dataset.frames.events["event_id"]) == sorted([FAILED["Id"], SKIPPED["Id"]])
    [problem] = dataset.problems
    assert problem.location.startswith("record 2 (line 3)")
    assert problem.message.startswith("malformed JSON")


@pytest.mark.parametrize("zone", ["Local Time", "UTC+01:00"])
def test_a_csv_exported_in_another_time_zone_is_refused_by_name(tmp_path, zone):
    """The portal writes TimeGenerated in its display time zone: a local time cannot be
    placed, so the file is refused, saying how to export it (it was taken for a steps file)."""
    sample = (SAMPLES / "formats/log-analytics/AADProvisioningLogs.csv").read_text(
        encoding="utf-8-sig")
    path = tmp_path / "AADProvisioningLogs.csv"
    path.write_text(sample.replace("TimeGenerated [UTC]", f"TimeGenerated [{zone}]", 1),
                    encoding="utf-8")
    result = CliRunner().invoke(app, ["diagnose", str(path)])
    assert result.exit_code == 2
    assert f"its times are not in UTC ('TimeGenerated [{zone}]')" in result.stderr
    assert "set to UTC" in result.stderr


@pytest.mark.parametrize(("written", "read"), [("1,204", 1204), ("1.204", 1204),
                                               ("1 204", 1204), ("1\u00a0204", 1204),
                                               ("630", 630)])
def test_duration_grouped_by_a_locale_is_whole_milliseconds(tmp_path, written, read):
    """DurationMs is whole milliseconds: '1.204' from a German Excel is 1,204, not 1."""
    rows = [{**r, "DurationMs": written} for r in ROWS]
    dataset = load([la_csv(tmp_path / "query_data.csv", rows)])
    assert dataset.frames.events["duration_ms"].to_list() == [read] * len(rows)


# The portal writes TimeGenerated with the browser's regional format (JavaScript's
# toLocaleString with milliseconds): en-US is '11/3/2026, 7:17:42.123 AM', but Flowcase's
# Nordic and European admins get a comma before the milliseconds, Danish and Finnish dots
# between hours, minutes and seconds, and Finnish a 'klo' before the time.
@pytest.mark.parametrize(("locale", "failed", "skipped"), [
    ("nb-NO", "3.11.2026, 7:17:42,123", "3.11.2026, 19:19:00,000"),
    ("de-DE", "3.11.2026, 07:17:42,123", "3.11.2026, 19:19:00,000"),
    ("sv-SE", "2026-11-03 7:17:42,123", "2026-11-03 19:19:00,000"),
    ("fr-FR", "03/11/2026 7:17:42,123", "13/11/2026 19:19:00,000"),
    # no day over 12 to tell the order by: the decimal comma is never a month-first locale's
    ("fr-FR", "03/11/2026 7:17:42,123", "03/11/2026 19:19:00,000"),
    ("da-DK", "3.11.2026, 7.17.42,123", "3.11.2026, 19.19.00,000"),
    ("fi-FI", "3.11.2026 klo 7.17.42,123", "3.11.2026 klo 19.19.00,000"),
])
def test_csv_times_in_a_european_regional_format_are_read(tmp_path, locale, failed, skipped):
    times = {FAILED["Id"]: failed, RESULT_ONLY["Id"]: failed, SKIPPED["Id"]: skipped}
    rows = [{**r, "TimeGenerated [UTC]": times[r["Id"]]} for r in ROWS]
    dataset = load([la_csv(tmp_path / "query_data.csv", rows)])
    assert not dataset.problems
    events = by_id(dataset.frames.events)
    assert events[FAILED["Id"]]["activity_time"].isoformat() == "2026-11-03T07:17:42.123000+00:00"
    assert events[SKIPPED["Id"]]["activity_time"].hour == 19
