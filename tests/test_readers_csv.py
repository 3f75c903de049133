"""Portal CSV downloads: three files joined on change ID, headers recognised by meaning.

Hand-made fixtures cover what the generated samples do not: other header spellings, a
missing or orphaned steps file, unknown columns, key=value details, broken rows and files
that are not provisioning logs at all.
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
from loganalyzer.readers.csv_details import parse_details
from loganalyzer.timeparse import parse_utc_column

TENANT = "b3e1a7c4-5d92-4f6e-8a10-2c9d7e4f6b58"
JOB = "scim.b3e1a7c45d924f6e8a102c9d7e4f6b58.4c7e2a91-0b3d-4e58-a6f2-9d1c8b7e5a30"
CYCLE = "8b52ae4b-53a8-41ef-ae7f-19435028c52a"
REASON_409 = (
    "StatusCode: Conflict\r\nMessage: Processing of the HTTP request resulted in an exception. "
    "Please see the HTTP response returned by the 'Response' property of this exception for "
    "details.\r\nWeb Response: \r\n"
    '{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],'
    '"detail":"A user with this email already exists, claim it instead.","status":409,'
    '"scimType":"uniqueness"}. This operation was retried 1 times. It will be retried again '
    "after this date: 2026-03-24T13:23:44.9198514Z UTC"
)

MAIN_HEADER = [
    "Date (UTC)", "ID", "Job ID", "Cycle ID", "Change ID", "Action", "Status", "Source System",
    "Target System", "Source Identity Display Name", "Source Identity ID",
    "Source Identity Type", "Target Identity ID", "Error Code", "Failure Reason",
    "Duration (ms)", "Application", "Service Principal ID ", "Tenant ID",
]
MAIN_ROWS = [
    ["2026-03-24T07:23:47Z", "b504b5fb-38b8-8887-884d-fc4d48f1afab", JOB, CYCLE, "chg-ingrid",
     "Create", "Failure", "Microsoft Entra ID", "customappsso", "Ingrid Holm",
     "b028a46a-9c4a-424a-954b-521d60f8e8da", "User", "",
     "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering", REASON_409, "91009",
     "Flowcase SCIM", "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10", TENANT],
    ["2026-03-24T07:31:02Z", "c1f0a3d2-0f5e-4b7e-9c41-3d6a9e1b2f70", JOB, CYCLE, "chg-erik",
     "Other", "Skipped", "Microsoft Entra ID", "customappsso", "Erik Dahl",
     "6d2e7c1a-8b3f-4e9d-a0c5-1f7b3e9d5a24", "User", "", "", "", "630", "Flowcase SCIM",
     "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10", TENANT],
    # US-locale date, as a user re-saving the file in Excel (en-US) would leave it
    ["3/24/2026 7:40:12 AM", "d7a9e5c3-2b1f-4d8e-a6c0-9e3f5b7d1a42", JOB, CYCLE, "chg-kari",
     "Update", "Success", "Microsoft Entra ID", "customappsso", "Kari Nilsen",
     "e706e907-3e43-46b2-b259-717272a4eb01", "User", "2f9c41d8", "None", "", "1204",
     "Flowcase SCIM", "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10", TENANT],
]
STEPS_HEADER = ["Change ID", "Step", "Name", "Type", "Status", "Description", "Details"]
# deliberately not in step order: the Step column decides
STEPS_ROWS = [
    ["chg-ingrid", "4", "EntryExportAdd", "Export", "Failure",
     "Failed to create User 'ingrid.holm@northwind.no' in customappsso",
     '{\r\n  "ReportableIdentifier": "ingrid.holm@northwind.no",\r\n'
     '  "userName": "ingrid.holm@northwind.no",\r\n'
     '  "emails[type eq \\"work\\"]value": "Ingrid.Holm@northwind.no",\r\n'
     '  "externalId": "b028a46a-9c4a-424a-954b-521d60f8e8da"\r\n}'],
    ["chg-ingrid", "1", "EntryImportAdd", "Import", "Success",
     "Received User 'ingrid.holm@northwind.no' change of type (Add) from Microsoft Entra ID",
     '{\r\n  "objectId": "b028a46a-9c4a-424a-954b-521d60f8e8da",\r\n'
     '  "userPrincipalName": "ingrid.holm@northwind.no",\r\n  "department": "Sales, Nordics"\r\n}'],
    ["chg-ingrid", "2", "EntrySynchronizationScoping", "Scoping", "Success",
     "Determine if User in scope by evaluating against each scoping filter",
     '{"Active in the source system": "True", "ScopeEvaluationResult": "{}"}'],
    ["chg-ingrid", "3", "EntrySynchronizationAdd", "Matching", "Success",
     "User 'ingrid.holm@northwind.no' will be created in customappsso (User is active and "
     "assigned in Microsoft Entra ID, but no matching User was found in customappsso)", "{}"],
    ["chg-erik", "1", "EntryImport", "Import", "Success",
     "Retrieved User 'erik.dahl@northwind.no' from Microsoft Entra ID",
     '{"userPrincipalName": "erik.dahl@northwind.no"}'],
    ["chg-erik", "2", "EntrySynchronizationSkip", "Export", "Skipped",
     "The User 'erik.dahl@northwind.no' will be skipped due to the following reasons: 1) This "
     "object is not assigned to the application.",
     '{"ReportableIdentifier": "erik.dahl@northwind.no", "SkipReason": "NotEffectivelyEntitled"}'],
    ["chg-kari", "1", "EntryImportUpdate", "Import", "Success", "Received User",
     '{"userPrincipalName": "kari.nilsen@northwind.no"}'],
    ["chg-kari", "2", "EntryExportUpdate", "Export", "Success", "User was updated",
     '{"ReportableIdentifier": "kari.nilsen@northwind.no"}'],
]
PROPS_HEADER = ["Change ID", "Attribute", "Old Value", "New Value"]
PROPS_ROWS = [
    ["chg-ingrid", "userName", "", "ingrid.holm@northwind.no"],
    ["chg-ingrid", 'emails[type eq "work"].value', "", "Ingrid.Holm@northwind.no"],
    ["chg-ingrid", "externalId", "", "b028a46a-9c4a-424a-954b-521d60f8e8da"],
    ["chg-kari", "title", "Consultant", "Senior Consultant"],
]


def csv_text(header: list[str], rows: list[list[str]], terminator: str = "\r\n") -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=terminator)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue()


def write(path: Path, header: list[str], rows: list[list[str]], bom: bool = True) -> Path:
    path.write_text(("\ufeff" if bom else "") + csv_text(header, rows), encoding="utf-8",
                    newline="")
    return path


def download(folder: Path, steps: bool = True, props: bool = True) -> Path:
    """The three files of a portal CSV download, as the portal names them."""
    folder.mkdir(exist_ok=True)
    write(folder / "ProvisioningLogs.csv", MAIN_HEADER, MAIN_ROWS)
    if steps:
        write(folder / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER, STEPS_ROWS)
    if props:
        write(folder / "ProvisioningLogs_ModifiedProperties.csv", PROPS_HEADER, PROPS_ROWS)
    return folder


def by_id(frame: pl.DataFrame) -> dict[str, dict]:
    return {row["event_id"]: row for row in frame.iter_rows(named=True)}


def test_portal_download_joins_steps_and_properties_on_change_id(tmp_path):
    dataset = load([download(tmp_path / "dl")])
    assert dataset.problems == []
    events = by_id(dataset.frames.events)
    ingrid, erik, kari = (events[row[1]] for row in MAIN_ROWS)

    assert ingrid["status"] == "failure" and ingrid["action"] == "create"
    assert ingrid["error_reason"] == REASON_409  # the quoted multi-line cell, CRLFs kept
    assert (ingrid["http_status"], ingrid["scim_type"], ingrid["retry_count"]) == (
        409, "uniqueness", 1)
    assert ingrid["failed_step"] == "EntryExportAdd"
    assert ingrid["upn"] == "ingrid.holm@northwind.no"
    assert ingrid["user_name_sent"] == "ingrid.holm@northwind.no"
    assert ingrid["email_sent"] == "Ingrid.Holm@northwind.no"
    assert ingrid["app_name"] == "Flowcase SCIM"
    assert ingrid["service_principal_id"] == "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10"
    assert (ingrid["tenant_id"], ingrid["job_id"], ingrid["duration_ms"]) == (TENANT, JOB, 91009)

    assert erik["status"] == "skipped" and erik["skip_reason"] == "NotEffectivelyEntitled"
    assert erik["error_code"] is None
    assert kari["status"] == "success" and kari["error_code"] is None  # "None" means none
    assert kari["activity_time"].isoformat() == "2026-03-24T07:40:12+00:00"
    assert kari["target_id"] == "2f9c41d8"

    steps = dataset.frames.steps.filter(pl.col("event_id") == ingrid["event_id"])
    assert steps.sort("step_index")["name"].to_list() == [
        "EntryImportAdd", "EntrySynchronizationScoping", "EntrySynchronizationAdd",
        "EntryExportAdd"]
    assert steps.sort("step_index")["step_type"].to_list() == [
        "import", "scoping", "matching", "export"]
    props = dataset.frames.modified_properties
    assert props.filter(pl.col("event_id") == kari["event_id"]).select(
        "name", "old_value", "new_value").row(0) == ("title", "Consultant", "Senior Consultant")
    assert set(dataset.kinds.values()) == {
        "portal CSV (main)", "portal CSV (steps)", "portal CSV (modified properties)"}
    assert dataset.notes == []


def test_files_are_recognised_by_header_not_name(tmp_path):
    write(tmp_path / "a.csv", PROPS_HEADER, PROPS_ROWS)
    write(tmp_path / "b.csv", MAIN_HEADER, MAIN_ROWS)
    write(tmp_path / "c.csv", STEPS_HEADER, STEPS_ROWS)
    dataset = load([tmp_path])
    assert dataset.kinds == {
        str(tmp_path / "a.csv"): "portal CSV (modified properties)",
        str(tmp_path / "b.csv"): "portal CSV (main)",
        str(tmp_path / "c.csv"): "portal CSV (steps)",
    }
    assert dataset.frames.steps.height == len(STEPS_ROWS)


HEADER_SPELLINGS = {
    "api names": {"Date (UTC)": "activityDateTime", "ID": "id", "Change ID": "changeId",
                  "Status": "provisioningStatusInfo.status", "Error Code": "errorCode",
                  "Failure Reason": "provisioningStatusInfo.errorInformation.reason",
                  "Source Identity Display Name": "sourceIdentity.displayName",
                  "Application": "servicePrincipal.displayName"},
    "other display names": {"Date (UTC)": "Date [UTC]", "ID": "Activity ID",
                            "Change ID": "CHANGE_ID", "Failure Reason": "Status Reason",
                            "Source Identity ID": "Source ID", "Duration (ms)": "Duration",
                            "Action": "Provisioning Action", "Application": "App Name"},
    "untidy spacing": {"Date (UTC)": "  Date  (UTC) ", "Change ID": "Change  ID",
                       "Error Code": "error code", "Job ID": "Job-ID"},
}


@pytest.mark.parametrize("renames", HEADER_SPELLINGS.values(), ids=list(HEADER_SPELLINGS))
def test_header_spellings_give_the_same_events(tmp_path, renames):
    expected = load([download(tmp_path / "display")]).frames
    folder = download(tmp_path / "renamed")
    header = [renames.get(name, name) for name in MAIN_HEADER]
    write(folder / "ProvisioningLogs.csv", header, MAIN_ROWS, bom=False)
    dataset = load([folder])
    assert dataset.notes == []  # every renamed column was recognised
    assert dataset.frames.events.drop("source_file").equals(
        expected.events.drop("source_file"))
    assert dataset.frames.steps.equals(expected.steps)


def test_missing_steps_file_is_said_and_events_still_load(tmp_path):
    folder = download(tmp_path / "dl", steps=False)
    dataset = load([folder / "ProvisioningLogs.csv",
                    folder / "ProvisioningLogs_ModifiedProperties.csv"])
    assert dataset.frames.events.height == len(MAIN_ROWS)
    assert dataset.frames.steps.height == 0
    assert any("no steps file given" in n and "skip reasons" in n for n in dataset.notes)
    # what the main file alone says is still there
    failure = by_id(dataset.frames.events)[MAIN_ROWS[0][1]]
    assert failure["http_status"] == 409 and failure["failed_step"] is None


def test_main_file_alone_notes_both_missing_files(tmp_path):
    folder = download(tmp_path / "dl", steps=False, props=False)
    main = folder / "ProvisioningLogs.csv"
    # the values sent are not "known from the export steps": there are none
    assert load([folder]).notes == [
        f"{main}: no steps file given: provisioning steps are missing, so skip reasons, failed "
        "steps and exported attributes are unknown",
        f"{main}: no modified-properties file given: the attribute values sent to Flowcase are "
        "unknown (the export steps also log them, and the steps file was not given either)",
    ]


def test_main_and_steps_files_note_only_that_the_export_steps_hold_the_values(tmp_path):
    folder = download(tmp_path / "dl", props=False)
    assert load([folder]).notes == [
        f"{folder / 'ProvisioningLogs.csv'}: no modified-properties file given: the attribute "
        "values sent to Flowcase are known only from the export steps",
    ]

MISSING_PARTS = ("no steps file given", "no modified-properties file given")


def _main_file_and_json_copy(tmp_path: Path, json_events: slice) -> list[Path]:
    """The portal's main CSV file of the ``failing-initial`` events, without its steps and
    properties files, beside a JSON download holding ``json_events`` of the same events."""
    main = tmp_path / "ProvisioningLogs.csv"
    main.write_bytes((SAMPLES / "formats" / "csv" / "ProvisioningLogs.csv").read_bytes())
    events = json.loads((SAMPLES / "failing-initial.json").read_text(encoding="utf-8"))
    copy = tmp_path / "portal.json"
    copy.write_text(json.dumps(events[json_events]), encoding="utf-8")
    return [main, copy]


def test_a_main_file_whose_every_event_was_also_read_with_steps_notes_nothing_missing(
        tmp_path):
    inputs = _main_file_and_json_copy(tmp_path, slice(None))
    alone = load(inputs[1:])
    dataset = load(inputs)
    # the events were read from the JSON copy, steps and all: nothing is unknown
    assert not [n for n in dataset.notes if any(part in n for part in MISSING_PARTS)]
    assert "57 duplicate events were counted once" in dataset.input_notes()
    assert dataset.frames.steps.height == alone.frames.steps.height > 0
    store = tmp_path / "store"
    result = CliRunner().invoke(app, ["ingest", "-q", *map(str, inputs), "-o", str(store)])
    assert result.exit_code == 0, result.output
    manifest = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    assert not [n for n in manifest["notes"] if any(part in n for part in MISSING_PARTS)]


def test_a_main_file_with_events_read_from_it_alone_still_notes_what_is_missing(tmp_path):
    inputs = _main_file_and_json_copy(tmp_path, slice(0, 50))  # 7 events only in the CSV
    dataset = load(inputs)
    assert [n for n in dataset.notes if any(part in n for part in MISSING_PARTS)] == [
        f"{inputs[0]}: no steps file given: provisioning steps are missing, so skip reasons, "
        "failed steps and exported attributes are unknown",
        f"{inputs[0]}: no modified-properties file given: the attribute values sent to "
        "Flowcase are unknown (the export steps also log them, and the steps file was not "
        "given either)",
    ]
    assert dataset.frames.events.height == 57


def test_orphan_step_rows_are_reported_not_dropped_silently(tmp_path):
    folder = download(tmp_path / "dl")
    rows = STEPS_ROWS + [["chg-from-another-download", "1", "EntryImportAdd", "Import",
                          "Success", "Received", "{}"]]
    steps_file = write(folder / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER, rows)
    dataset = load([folder])
    [note] = [n for n in dataset.notes if "no event in the main files" in n]
    assert note.startswith(f"{steps_file}: 1 step row (line")
    assert "chg-from-another-download" in note
    # the orphan starts after the header and the other rows (multi-line cells included)
    line = csv_text(STEPS_HEADER, STEPS_ROWS).count("\n") + 1
    assert f"(line {line})" in note


def test_unknown_columns_are_ignored_and_listed_once(tmp_path):
    folder = download(tmp_path / "dl")
    header = MAIN_HEADER + ["Correlation ID", "Risk Level"]
    write(folder / "ProvisioningLogs.csv", header, [r + ["x", "low"] for r in MAIN_ROWS])
    dataset = load([folder])
    assert dataset.frames.events.height == len(MAIN_ROWS)
    unused = [n for n in dataset.notes if "columns not used" in n]
    assert unused == [f"{folder / 'ProvisioningLogs.csv'}: columns not used: Correlation ID, "
                      "Risk Level"]


def test_without_an_id_column_the_change_id_is_the_event_id(tmp_path):
    folder = download(tmp_path / "dl")
    header = [h for h in MAIN_HEADER if h != "ID"]
    write(folder / "ProvisioningLogs.csv", header, [r[:1] + r[2:] for r in MAIN_ROWS])
    dataset = load([folder])
    assert dataset.frames.events["event_id"].sort().to_list() == [
        "chg-erik", "chg-ingrid", "chg-kari"]
    assert by_id(dataset.frames.events)["chg-erik"]["skip_reason"] == "NotEffectivelyEntitled"
    assert any("the change ID stands in for the event id" in n for n in dataset.notes)


def test_step_and_property_rows_without_their_keys_are_problems(tmp_path):
    folder = download(tmp_path / "dl")
    steps = write(folder / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER,
                  [["", "1", "EntryImport", "Import", "Success", "x", "{}"], *STEPS_ROWS])
    props = write(folder / "ProvisioningLogs_ModifiedProperties.csv", PROPS_HEADER,
                  [*PROPS_ROWS, ["chg-kari", "", "", "orphan value"]])
    dataset = load([folder])
    assert [(p.file, p.location, p.message.split(",")[0].split(" (")[0])
            for p in dataset.problems] == [
        (str(steps), "line 2", "no Change ID"),
        (str(props), f"line {len(PROPS_ROWS) + 2}", "no property name"),
    ]
    assert dataset.frames.steps.height == len(STEPS_ROWS)


def test_change_id_shared_by_two_events_uses_the_step_files_event_id(tmp_path):
    rows = [list(MAIN_ROWS[0]), list(MAIN_ROWS[1])]
    rows[1][4] = rows[0][4]  # both events carry the same change id
    write(tmp_path / "ProvisioningLogs.csv", MAIN_HEADER, rows)
    header = ["Change ID", "ID", "Step", "Name", "Type", "Status", "Description", "Details"]
    write(tmp_path / "steps.csv", header, [
        [rows[0][4], rows[0][1], "1", "EntryExportAdd", "Export", "Failure", "x", "{}"],
        [rows[0][4], rows[1][1], "1", "EntrySynchronizationSkip", "Export", "Skipped", "y",
         "SkipReason=RedundantExport"],
    ])
    events = by_id(load([tmp_path]).frames.events)
    assert events[rows[0][1]]["failed_step"] == "EntryExportAdd"
    assert events[rows[1][1]]["skip_reason"] == "RedundantExport"


def test_zip_and_its_extracted_files_count_each_event_once():
    dataset = load([SAMPLES / "formats" / "csv"])  # the three files plus the same .zip
    json_events = load([SAMPLES / "failing-initial.json"]).frames
    assert dataset.frames.events.height == json_events.events.height
    assert dataset.frames.steps.height == json_events.steps.height
    assert any("already read from another file" in n for n in dataset.notes)


def test_excel_unicode_text_and_semicolon_csv(tmp_path):
    """Excel's "Unicode text" is UTF-16 with tabs; European Excel writes ';' CSV."""
    folder = download(tmp_path / "dl")
    out = io.StringIO()
    csv.writer(out, delimiter="\t", lineterminator="\r\n").writerows([MAIN_HEADER, *MAIN_ROWS])
    (folder / "ProvisioningLogs.csv").write_bytes(out.getvalue().encode("utf-16"))
    out = io.StringIO()
    csv.writer(out, delimiter=";", lineterminator="\r\n").writerows([STEPS_HEADER, *STEPS_ROWS])
    (folder / "ProvisioningLogs_ProvisioningSteps.csv").write_text("sep=;\r\n" + out.getvalue(),
                                                                  newline="")
    dataset = load([folder])
    assert dataset.problems == []
    assert by_id(dataset.frames.events)[MAIN_ROWS[1][1]]["skip_reason"] == "NotEffectivelyEntitled"
    assert dataset.frames.steps.height == len(STEPS_ROWS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"SkipReason": "RedundantExport"}', {"SkipReason": "RedundantExport"}),
        ('[{"key": "SkipReason", "value": "RedundantExport"}]',
         [{"key": "SkipReason", "value": "RedundantExport"}]),
        ("SkipReason=RedundantExport; ReportableIdentifier=a@b.no",
         {"SkipReason": "RedundantExport", "ReportableIdentifier": "a@b.no"}),
        ("ReportableIdentifier=a@b.no\r\ndisplayName=Dahl, Erik\r\n"
         "NextAttempt=3/24/2026 7:17:42 AM",
         {"ReportableIdentifier": "a@b.no", "displayName": "Dahl, Erik",
          "NextAttempt": "3/24/2026 7:17:42 AM"}),
        ("displayName=Dahl, Erik, active=True",
         {"displayName": "Dahl, Erik", "active": "True"}),
        ("SkipReason: NotEffectivelyEntitled", {"SkipReason": "NotEffectivelyEntitled"}),
        ("", {}),
        ("just some words", None),
        # a trailing comma, as DuckDB (the column-wise reader) also reads it
        ('{\r\n  "SkipReason": "RedundantExport",\r\n}', {"SkipReason": "RedundantExport"}),
        ('[{"key": "a", "value": "x,]"},]', [{"key": "a", "value": "x,]"}]),
        ('{"a": "b, }"}', {"a": "b, }"}),
        # JSON that cannot be read is not cut into key=value pieces ('{"SkipReason"' = ...)
        ('{"SkipReason": "RedundantExport" "x": "y"}', None),
    ],
)
def test_step_details_text_forms(text, expected):
    assert parse_details(text) == expected


def test_unreadable_details_keep_the_step_and_say_so(tmp_path):
    folder = download(tmp_path / "dl")
    rows = [list(r) for r in STEPS_ROWS]
    rows[5][6] = "(details not exported)"
    write(folder / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER, rows)
    dataset = load([folder])
    assert dataset.frames.steps.height == len(STEPS_ROWS)
    assert any("neither JSON nor key=value" in n for n in dataset.notes)


def test_broken_rows_become_problems_and_the_rest_is_kept(tmp_path):
    folder = download(tmp_path / "dl")
    text = csv_text(MAIN_HEADER, MAIN_ROWS)
    wide = ",".join(["2026-03-24T07:50:00Z", "extra-id"] + ["x"] * (len(MAIN_HEADER) + 1))
    no_id = ",".join(["2026-03-24T07:55:00Z"] + [""] * (len(MAIN_HEADER) - 1))
    cut = '3/24/2026 8:00:00 AM,e9,j,c,chg-cut,Create,Failure,x,y,"Nora Strand, cut off'
    path = folder / "ProvisioningLogs.csv"
    path.write_text(text + wide + "\r\n" + no_id + "\r\n" + cut, encoding="utf-8", newline="")
    dataset = load([folder])
    assert dataset.frames.events.height == len(MAIN_ROWS)
    first = text.count("\n") + 1  # the line of the wide row
    assert [(p.location, p.message.split(" (")[0].split(";")[0]) for p in dataset.problems] == [
        (f"line {first}", f"has {len(MAIN_HEADER) + 3} cells but the header has "
                          f"{len(MAIN_HEADER)} columns"),
        (f"line {first + 1}", "no ID/Change ID or no date"),
        (f"line {first + 2}", "a quoted cell is never closed"),
    ]
    assert all(p.file == str(path) for p in dataset.problems)


def test_a_csv_cut_inside_a_quoted_cell_is_cut_off(tmp_path):
    """A download that stopped inside a multi-line reason: the rows after it are lost, as
    after a JSON export cut mid-record, so the file is named cut off (never a healthy
    verdict), not only one unreadable record."""
    from loganalyzer.problems import cut_off

    folder = download(tmp_path / "dl")
    text = csv_text(MAIN_HEADER, MAIN_ROWS)
    cut = '3/24/2026 8:00:00 AM,e9,j,c,chg-cut,Create,Failure,x,y,"StatusCode: Conflict\r\nMess'
    path = folder / "ProvisioningLogs.csv"
    path.write_text(text + cut, encoding="utf-8", newline="")
    dataset = load([folder])
    assert dataset.frames.events.height == len(MAIN_ROWS)
    line = text.count("\n") + 1
    assert cut_off(dataset.problems) == [f"{path} is cut off at line {line}"]
    assert f"{path} is cut off at line {line}: whatever followed is missing too" in \
        dataset.input_notes()[0]


def test_a_steps_file_cut_in_its_last_row_is_cut_off_and_a_short_row_inside_is_not(tmp_path):
    """The steps file of a download copied while being written ends in half a row, without a
    line break: the steps of the events after it are lost (their skip reasons become
    unknown), which the cut says. A short row with rows after it is one bad row."""
    from loganalyzer.problems import cut_off

    folder = download(tmp_path / "dl")
    steps = folder / "ProvisioningLogs_ProvisioningSteps.csv"
    text = csv_text(STEPS_HEADER, STEPS_ROWS)
    steps.write_text(text + STEPS_ROWS[0][0] + ",1,EntryImportUpdate,I", encoding="utf-8",
                     newline="")
    dataset = load([folder])
    line = text.count("\n") + 1
    assert cut_off(dataset.problems) == [f"{steps} is cut off at line {line}"]
    assert dataset.frames.steps.height == len(STEPS_ROWS)
    said = json.loads(CliRunner().invoke(app, ["diagnose", str(folder), "-q", "--format",
                                               "json"]).stdout)["verdict"]["reason"]
    assert f"{steps} is cut off at line {line}: the records after the cut are missing" in said
    before = csv_text(STEPS_HEADER, STEPS_ROWS[:1])
    after = csv_text(STEPS_HEADER, STEPS_ROWS[1:]).split("\r\n", 1)[1]
    steps.write_text(before + STEPS_ROWS[0][0] + ",1,Entry\r\n" + after, encoding="utf-8",
                     newline="")
    dataset = load([folder])
    assert [p.location for p in dataset.problems] == [f"line {before.count(chr(10)) + 1}"]
    assert cut_off(dataset.problems) == []


def load_error(*paths: Path) -> str:
    with pytest.raises(InputError) as caught:
        load(list(paths))
    return str(caught.value)


def test_steps_file_without_its_main_file_is_refused(tmp_path):
    path = write(tmp_path / "ProvisioningLogs_ProvisioningSteps.csv", STEPS_HEADER, STEPS_ROWS)
    message = load_error(path)
    assert message.startswith(f"{path}: is the steps file")
    assert "main ProvisioningLogs file was not given" in message


def test_main_file_without_a_date_column_is_refused(tmp_path):
    header = [h for h in MAIN_HEADER if h != "Date (UTC)"]
    path = write(tmp_path / "ProvisioningLogs.csv", header, [r[1:] for r in MAIN_ROWS])
    message = load_error(path)
    assert message.startswith(f"{path}: is CSV but not a provisioning log export: ")
    assert "columns found: ID, Job ID, Cycle ID" in message and "(+6 more)" in message
    assert "ProvisioningLogs with 'Date (UTC)' and 'ID' or 'Change ID'" in message


def test_a_csv_that_is_not_a_provisioning_log_names_its_columns(tmp_path):
    signins = ["Date (UTC)", "Request ID", "User agent", "Correlation ID", "User",
               "Username", "Application", "Status", "Sign-in error code", "Failure reason"]
    path = write(tmp_path / "InteractiveSignIns.csv", signins, [["2026-03-24T07:00:00Z"] * 10])
    # a date alone does not make a provisioning log: no ID, no Change ID
    message = load_error(path)
    assert "is CSV but not a provisioning log export" in message
    assert "columns found: Date (UTC), Request ID, User agent" in message
    assert "expected a portal CSV download" in message


def test_not_utf8_late_in_the_file_skips_that_row_only(tmp_path):
    folder = download(tmp_path / "dl", steps=False, props=False)
    rows = MAIN_ROWS * 400  # well past the 64 KiB the sniffer checks
    text = csv_text(MAIN_HEADER, rows) + "2026-03-25T08:00:00Z,id-x,,,,,,,,Bj"
    path = folder / "ProvisioningLogs.csv"
    path.write_bytes(text.encode("utf-8") + "ørn Ås\r\n".encode("cp1252"))
    dataset = load([path])
    assert dataset.frames.events.height == len(MAIN_ROWS)  # the 400 copies are one event each
    [problem] = dataset.problems
    assert problem.location == f"line {text.count(chr(10)) + 1}"
    assert problem.message.startswith("is not UTF-8 text (byte 0xf8); the row is skipped")


def run_cli(*args: str):
    result = CliRunner().invoke(app, ["summary", *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"Date (UTC),ID,Change ID\r\n" + "2026-03-24,Åse,x\r\n".encode("cp1252"),
         "is not UTF-8 text"),
        (b"", "is empty"),
        (b"Name,Department,Manager\r\nAnna Berg,Sales,\r\n", "not a provisioning log export"),
        ("\ufeffChange ID,Step,Name,Type,Status,Description,Details\r\n".encode(),
         "main ProvisioningLogs file was not given"),
    ],
    ids=["cp1252", "empty", "hr-extract", "steps-only"],
)
def test_cli_bad_csv_one_line_and_exit_2(tmp_path, content, fragment):
    path = tmp_path / "ProvisioningLogs.csv"
    path.write_bytes(content)
    code, _, stderr = run_cli(str(path))
    assert code == 2
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    assert errors[0].startswith(f"error: {path}") and fragment in errors[0]


def test_cli_summary_of_a_header_only_download(tmp_path):
    write(tmp_path / "ProvisioningLogs.csv", MAIN_HEADER, [])
    code, _, stderr = run_cli(str(tmp_path / "ProvisioningLogs.csv"))
    assert code == 2 and "holds no provisioning events" in stderr


def test_cli_summary_lists_the_csv_kinds_and_notes(tmp_path):
    folder = download(tmp_path / "dl", props=False)
    code, stdout, _ = run_cli(str(folder), "--format", "json", "-q")
    assert code == 0
    assert '"portal CSV (steps)"' in stdout and "no modified-properties file given" in stdout


@pytest.mark.parametrize("extract", [
    (["Name", "Department"], [["Anna Berg", "Sales"]]),  # an HR extract
    (["TimeGenerated", "OperationName"], [["2026-03-24T07:00:00Z", "x"]]),  # Log Analytics, no Id
], ids=["hr-extract", "log-analytics-without-id"])
def test_a_csv_skipped_in_a_folder_is_neither_counted_nor_typed_as_an_input(tmp_path, extract):
    folder = tmp_path / "logs"
    folder.mkdir()
    (folder / "export.json").write_bytes((SAMPLES / "failing-initial.json").read_bytes())
    write(folder / "hr.csv", *extract)
    (folder / "notes.txt").write_text("hello\n")
    code, stdout, _ = run_cli(str(folder), "--format", "json", "-q")
    assert code == 0
    given = json.loads(stdout)["input"]
    assert given["kinds"] == {str(folder / "export.json"): "portal JSON download"}
    assert any(n.startswith(f"skipped {folder / 'hr.csv'}: ") for n in given["notes"])
    code, stdout, _ = run_cli(str(folder), "-q")
    assert "Input: 1 file;" in stdout and f"{folder / 'hr.csv'}: CSV" not in stdout


# The generated failing-initial export, as a portal CSV download, against its JSON download.

COMPARED = ["event_id", "status", "action", "error_code", "error_reason", "http_status",
            "scim_detail", "retry_count", "cycle_id", "change_id", "job_id", "tenant_id",
            "object_type", "source_id", "source_display_name", "target_id", "app_name",
            "service_principal_id", "skip_reason", "failed_step", "is_escrow_retry",
            "user_name_sent", "email_sent", "external_id", "duration_ms", "activity_time"]


@pytest.fixture(scope="module")
def from_json():
    return load([SAMPLES / "failing-initial.json"]).frames


@pytest.mark.parametrize("folder", ["csv", "csv-variant", "csv/ProvisioningLogs.zip"])
def test_sample_csv_download_equals_the_json_download(from_json, folder):
    dataset = load([SAMPLES / "formats" / folder])
    assert dataset.problems == []
    events = dataset.frames.events.sort("event_id")
    reference = from_json.events.sort("event_id")
    assert events.select(COMPARED).equals(reference.select(COMPARED))
    for name in ("steps", "modified_properties"):
        got, want = getattr(dataset.frames, name), getattr(from_json, name)
        keys = list(got.columns[:2])
        assert got.sort(keys).equals(want.sort(keys)), name


def test_sample_csv_upn_comes_from_the_steps_when_the_main_file_has_none(from_json):
    """The portal main file has no UPN column: only import steps that log it can supply it."""
    events = load([SAMPLES / "formats" / "csv"]).frames.events.sort("event_id")
    steps = from_json.steps.filter(pl.col("step_type") == "import").explode("details").unnest(
        "details")
    logged = set(steps.filter(pl.col("key") == "userPrincipalName")["event_id"].to_list())
    reference = from_json.events.sort("event_id")
    for got, want in zip(events.iter_rows(named=True), reference.iter_rows(named=True),
                         strict=True):
        assert got["upn"] == (want["upn"] if got["event_id"] in logged else None)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03-24T07:23:47Z", "2026-03-24T07:23:47+00:00"),
        ("3/24/2026 7:40:12 AM", "2026-03-24T07:40:12+00:00"),
        ("11/3/2026, 7:17:42.123 AM", "2026-11-03T07:17:42.123000+00:00"),  # all 3 digits
        ("2026-03-24T07:17:42.12Z", "2026-03-24T07:17:42.120000+00:00"),
        ("2026-03-24T07:17:42z", "2026-03-24T07:17:42+00:00"),  # RFC 3339 allows it
        ("2026-03-24T13:23:44.9198514Z", "2026-03-24T13:23:44.919851+00:00"),
        ("3/24/2026 19:17", "2026-03-24T19:17:00+00:00"),  # saved again by Excel (en-US)
        ("3/24/2026 7:17 PM", "2026-03-24T19:17:00+00:00"),
    ],
)
def test_portal_csv_dates_parse_to_utc(text, expected):
    parsed = parse_utc_column(pl.DataFrame({"text": [text]}), "text", "time")["time"][0]
    assert parsed.isoformat() == expected
