"""The `why` command: exit codes, what ambiguity and not-found say, JSON and Markdown, stores."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from eventfactory import EMAIL, TITLE_LEFT, Export, status_only_warning
from typer.testing import CliRunner
from why_records import Person, create, failed_create, not_entitled, scim_error, write_export

from loganalyzer.cli import app

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
FAILING = SAMPLES / "failing-initial.json"
BAD_TOKEN = SAMPLES / "pattern-04-bad-token.json"
BAD_TOKEN_JOB = SAMPLES / "job-status" / "pattern-04-bad-token.job.json"


def _ingested(export: Path, store: Path) -> Path:
    """``store``, ingested from ``export``: the same question asked of a store."""
    assert CliRunner().invoke(app, ["ingest", str(export), "-o", str(store), "-q"]).exit_code == 0
    return store


def run(*args: object):
    return CliRunner().invoke(app, ["why", *map(str, args), "-q"])


def words(result) -> str:
    """The output with its line wrapping undone (text wraps at the terminal's width)."""
    return " ".join(result.output.split())


def test_affected_user_exits_0_with_verdict_rule_and_timeline():
    result = run("OLE.JOHANSEN@NORTHWIND.NO", FAILING)
    assert result.exit_code == 0, result.output
    assert "Verdict: FAILING" in result.output
    assert "FC007" in result.output and "guide step 1 Prerequisites" in words(result)
    assert "Timeline (oldest first):" in result.output
    assert "409" in result.output


def test_ambiguous_name_lists_everyone_with_upn_object_id_and_last_status():
    result = run("henrik", FAILING)
    assert result.exit_code == 2
    assert "2 people match 'henrik'" in result.output
    for expected in ("UPN adm.henrik.lie@northwind.no", "UPN henrik.lie@northwind.no",
                     "object id ", "last failure at", "last success at"):
        assert expected in words(result)


def test_a_rehire_sharing_the_upn_is_told_apart_by_object_id(tmp_path):
    """The UPN typed in full matches two Entra objects (the leaver and the rehire): typing it
    'exactly' again cannot help, the object id can."""
    old = Person("0000a1a1-1111-4111-8111-111111111111", "nora.strand@northwind.no",
                 "Nora Strand", "6600aa")
    new = Person("0000b2b2-2222-4222-8222-222222222222", "nora.strand@northwind.no",
                 "Nora Strand")
    export = write_export(tmp_path / "rehire.json", [
        create(old, "2026-03-10T07:40:00Z", "c1"),
        failed_create(new, "2026-03-24T07:41:00Z", "c2", "Conflict",
                      scim_error(409, "A user with this userName already exists")),
    ])
    result = run("nora.strand@northwind.no", export)
    assert result.exit_code == 2
    assert ("2 Entra objects share 'nora.strand@northwind.no' (a rehire, or an account deleted "
            "and created again?); name one by its Entra object id.") in words(result)
    assert f"object id {new.object_id}" in words(result)
    assert run(new.object_id, export).exit_code == 0


def test_ambiguous_json_lists_the_candidates():
    result = run("henrik", FAILING, "--format", "json")
    assert result.exit_code == 2
    answer = json.loads(result.output)
    assert answer["user"] is None
    assert answer["verdict"]["state"] == "ambiguous"
    upns = sorted(c["upns"][0] for c in answer["candidates"])
    assert upns == ["adm.henrik.lie@northwind.no", "henrik.lie@northwind.no"]
    assert all(c["object_id"] and c["last_status"] for c in answer["candidates"])


def test_nobody_in_a_halted_job_is_told_about_the_group_404s():
    result = run("new.hire@northwind.no", SAMPLES / "group-404-halt.json", "--format", "json")
    assert result.exit_code == 2
    answer = json.loads(result.output)
    assert answer["verdict"]["state"] == "never_seen"
    assert [f["rule_id"] for f in answer["job_wide"]] == ["FC001"]
    assert answer["job_wide"][0]["guide_steps"][0] == "7b"


def test_nobody_matches_exit_2_with_coverage_and_closest_identifiers():
    result = run("ole.johanson@northwind.no", FAILING)
    assert result.exit_code == 2
    shown = words(result)
    assert "no event in this export is about 'ole.johanson@northwind.no'" in shown
    assert "57 events from 2026-03-24 07:38 UTC to 2026-03-24 08:06 UTC" in shown
    assert "(Flowcase SCIM)" in shown
    assert "Closest identifiers: ole.johansen@northwind.no" in shown
    assert "per.olsen@northwind.no" not in shown  # a colleague at the same domain is no near miss


def test_a_user_never_seen_is_told_the_likely_cause_and_how_to_verify():
    """"Users are not showing up": most often nobody assigned them, so Entra logged nothing.
    After spelling, period and app, the answer names the assignment (guide step 5) and the
    quick test (Provision on demand, step 8a)."""
    result = run("new.hire@northwind.no", FAILING)
    assert result.exit_code == 2
    shown = words(result)
    assert "Check the spelling, the time range of the export, and the app." in shown
    assert "not assigned to the app" in shown and "nested group" in shown
    assert "guide step 5" in shown and "Provision on demand (guide step 8a)" in shown
    answer = json.loads(run("new.hire@northwind.no", FAILING, "--format", "json").output)
    assert "guide step 5" in answer["verdict"]["note"]


def test_json_shape():
    result = run("RAGNHILD.SUNDE@northwind.no", BAD_TOKEN, "--format", "json",
                 "--job-status", BAD_TOKEN_JOB)
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert answer["user"]["upns"] == ["ragnhild.sunde@northwind.no"]
    assert answer["user"]["object_id"]
    verdict = answer["verdict"]
    assert {"state", "rule_id", "guide_steps", "message", "fix"} <= set(verdict)
    assert verdict["state"] == "failing"
    assert verdict["rule_id"] == "FC004" and verdict["guide_steps"] == ["3"]
    assert 'token="' in verdict["fix"]
    assert answer["job_wide"][0]["rule_id"] == "FC004"
    assert "FC016" in [e["rule_id"] for e in answer["explanations"]]  # the quarantine
    entry = answer["timeline"][-1]
    assert {"time", "cycle_id", "action", "status", "failed_step", "http_status",
            "reason"} <= set(entry)
    assert entry["http_status"] == 401 and entry["status"] == "failure"
    assert entry["time"].startswith("2026-03-09T08:22:10")


def test_json_for_nobody_is_still_one_object():
    result = run("nobody@northwind.no", FAILING, "--format", "json")
    assert result.exit_code == 2
    answer = json.loads(result.output)
    assert answer["user"] is None and answer["timeline"] == []
    assert answer["verdict"]["state"] == "never_seen"
    assert answer["export"]["events"] == 57


@pytest.mark.parametrize("stored", [False, True], ids=["export", "store"])
def test_roles_sent_in_a_cycle_why_does_not_read_keep_fc003_quiet_as_diagnose(tmp_path, stored):
    """FC003 fires on app roles that no event of the input sent. `why` judges a few cycles:
    for a user created before the Tenant URL was fixed (no roles sent), whose context held
    neither the later create that sent roles nor any other roles, it blamed FC003 that
    `diagnose` on the same input does not fire. The rest of the input is now asked."""
    x = Export()
    roles = {"appRoleAssignments": '[{"value":"consultant"}]'}
    x.user("bo.berg@contoso.no", cycle="c1", at=datetime(2026, 3, 2, 8), source=roles)
    x.user("ada.aas@contoso.no", cycle="c2", at=datetime(2026, 3, 3, 8), source=roles,
           sent={"userName": "ada.aas@contoso.no", EMAIL: "ada.aas@contoso.no",
                 "roles": '[{"value":"consultant"}]'})
    x.user("cy.dahl@contoso.no", action="update", cycle="c3", at=datetime(2026, 3, 4, 8),
           sent={"title": "Consultant"})
    given = tmp_path / "roles.json"
    given.write_text(json.dumps(x.records))
    if stored:
        given = _ingested(given, tmp_path / "store")
    diagnosis = json.loads(CliRunner().invoke(app, ["diagnose", str(given), "--format", "json",
                                                    "-q"]).stdout)
    assert diagnosis["findings"] == []
    answer = json.loads(run("bo.berg@contoso.no", given, "--format", "json").stdout)
    assert answer["verdict"]["state"] == "provisioned"
    assert answer["verdict"]["rule_id"] is None
    assert answer["explanations"] == []
    # without the create that sent roles, both blame FC003
    del x.records[1]
    (tmp_path / "roleless.json").write_text(json.dumps(x.records))
    answer = json.loads(run("bo.berg@contoso.no", tmp_path / "roleless.json", "--format",
                            "json").stdout)
    assert answer["verdict"]["rule_id"] == "FC003"


def test_markdown_escapes_log_text_in_table_cells(tmp_path):
    kari = Person("2c9d7e4f-6b58-4a10-8e1a-5d92b3e1a7c4", "kari.nilsen@northwind.no",
                  "Kari | Nilsen", "")
    body = scim_error(400, "Attribute 'department' value 'R|D' is not supported")
    export = write_export(tmp_path / "e.json", [
        failed_create(kari, "2026-03-10T09:20:00Z", "c1", "BadRequest", body)])
    result = run("kari.nilsen@northwind.no", export, "--format", "md")
    assert result.exit_code == 0, result.output
    rows = [line for line in result.output.splitlines() if line.startswith("| 2026")]
    assert len(rows) == 1
    assert "R\\|D" in rows[0]
    assert rows[0].count(" | ") == 6  # seven cells: the pipe in the detail did not split one
    assert "### Why: Kari \\| Nilsen" in result.output


def test_terminal_shows_the_latest_events_and_says_how_many_are_hidden(tmp_path):
    kari = Person("2c9d7e4f-6b58-4a10-8e1a-5d92b3e1a7c4", "kari.nilsen@northwind.no",
                  "Kari Nilsen", "")
    records = [not_entitled(kari, f"2026-03-{day:02d}T09:00:00Z", f"c{day}")
               for day in range(1, 11)]
    export = write_export(tmp_path / "e.json", records)
    result = run("kari.nilsen@northwind.no", export, "--limit", "3")
    assert "7 earlier events not shown" in result.output
    assert "2026-03-10 09:00:00" in result.output and "2026-03-07 09:00:00" not in result.output


def test_store_gives_the_same_answer_as_the_export(tmp_path):
    store = tmp_path / "store"
    ingest = CliRunner().invoke(app, ["ingest", str(FAILING), "-o", str(store), "-q"])
    assert ingest.exit_code == 0, ingest.output
    from_export = json.loads(run("erik.dahl@NORTHWIND.no", FAILING, "--format", "json").output)
    from_store = json.loads(run("erik.dahl@NORTHWIND.no", store, "--format", "json").output)
    assert from_store == from_export
    assert from_store["verdict"]["rule_id"] == "FC006"  # the casing behind the 409 leads
    assert from_store["verdict"]["guide_steps"][0] == "7a"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "xml"], "'xml' is not one of 'terminal', 'md', 'json'"),
        (["--job-status", SAMPLES / "README.md"], "not JSON"),
        (["--job-status", SAMPLES / "missing.json"], "cannot read"),
        (["--job-status", "{job}"], "expected a synchronization job"),
    ],
)
def test_bad_options_exit_2_with_one_line(args, message, tmp_path):
    job = tmp_path / "job.json"
    job.write_text('{"id": "scim.x.y", "status": "Active"}')  # status must be an object
    args = [job if a == "{job}" else a for a in args]
    result = run("erik.dahl@northwind.no", FAILING, *args)
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_the_user_after_the_input_is_told_user_comes_first():
    result = run(FAILING, "anna.berg@northwind.no")
    assert result.exit_code == 2
    assert result.stderr == (f"error: {FAILING}: a file or folder, not a user; USER comes first: "
                             "loganalyzer why USER INPUT...\n")


def test_skipped_user_in_a_scenario_built_from_the_factory(tmp_path):
    ida = Person("0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f", "ida.eriksen@northwind.no",
                 "Ida Eriksen", "5c4b3a29180f7e6d5c4b3a29")
    export = write_export(tmp_path / "e.json", [
        create(ida, "2026-03-01T09:00:00Z", "c1"),
        not_entitled(ida, "2026-03-02T09:00:00Z", "c2"),
    ])
    result = run("IDA ERIKSEN", export, "--format", "json")
    verdict = json.loads(result.output)["verdict"]
    assert verdict["state"] == "skipped" and verdict["reason"] == "not_assigned"
    # she was provisioned before: the 'lost assignment' rule explains it, at guide step 5
    assert verdict["rule_id"] == "FC013" and verdict["guide_steps"][0] == "5"


def test_a_group_name_is_recognised_as_a_group_not_never_seen():
    from conftest import SAMPLES
    from typer.testing import CliRunner

    from loganalyzer.cli import app

    result = CliRunner().invoke(
        app, ["why", "flowcase users no", str(SAMPLES / "group-404-halt.json"), "-q"]
    )
    assert result.exit_code == 2
    assert "is a group (3 events in this export), not a user" in result.stdout
    assert "Never seen" not in result.stdout
    assert "FC001" in result.stdout  # the group-mapping finding explains its events
    # the JSON says so too, and the name as typed, without its stray space
    answer = json.loads(CliRunner().invoke(
        app, ["why", "Flowcase Users NO ", str(SAMPLES / "group-404-halt.json"), "-q",
              "--format", "json"]).stdout)
    assert answer["verdict"]["state"] == "group"
    assert "'Flowcase Users NO' is a group" in answer["verdict"]["message"]
    assert "FC001" in {e["rule_id"] for e in answer["job_wide"]}


def test_a_group_answer_says_its_job_wide_counts_are_of_the_newest_cycle():
    """`diagnose` counts 12 failures in 3 cycles; `why` diagnoses the newest cycle only and
    must not call its 4 failures the export's."""
    for fmt in ("terminal", "md"):
        result = run("Flowcase Users NO", SAMPLES / "group-404-halt.json", "--format", fmt)
        shown = words(result).replace("\\", "")
        assert "in this export:" not in shown
        assert ("Job-wide findings in each job's newest cycle (counts are of that cycle only; "
                "`diagnose` counts the whole export):") in shown
        assert "failed 4 times" in shown


@pytest.mark.parametrize("events", [1, 2])
def test_a_user_never_seen_is_told_what_the_export_covers_in_plain_words(tmp_path, events):
    """'covers 1 event', not '1 events': the line a support engineer reads first."""
    records = json.loads((Path(__file__).parent / "data" / "graph-records-captured.json")
                         .read_text())
    export = tmp_path / "export.json"
    export.write_text(json.dumps([records[1], dict(records[1], id="second")][:events]))
    app_name = records[1]["servicePrincipal"]["displayName"]
    result = CliRunner().invoke(app, ["why", "nobody@contoso.com", str(export), "-q",
                                      "--app", app_name])
    said = " ".join(result.output.split())
    assert f"The export covers {events} event{'s' if events == 2 else ''} from" in said


def test_a_latest_warning_is_provisioned_with_a_warning_and_its_reason(tmp_path):
    """Graph's later status 'warning': the change was made, with something not as asked."""
    ida = Person("0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f", "ida.eriksen@northwind.no",
                 "Ida Eriksen", "5c4b3a29180f7e6d5c4b3a29")
    warned = create(ida, "2026-03-02T09:00:00Z", "c2")
    warned["provisioningStatusInfo"] = {"status": "warning", "errorInformation": {
        "errorCode": "SystemForCrossDomainIdentityManagementServiceIncompatible",
        "reason": "StatusCode: BadRequest\r\nWeb Response: "
                  + scim_error(400, "Unknown department: Sales EMEA"),
        "errorCategory": "NonServiceFailure"}}
    export = write_export(tmp_path / "e.json", [warned])
    result = run("IDA ERIKSEN", export)
    assert result.exit_code == 0, result.output
    assert "Verdict: PROVISIONED" in result.output
    assert "Provisioned with a warning: Unknown department: Sales EMEA." in words(result)


@pytest.mark.parametrize("stored", [False, True], ids=["export", "store"])
@pytest.mark.parametrize("in_details", [False, True], ids=["description", "details"])
def test_a_latest_warning_that_logged_only_its_status_says_what_its_step_said(
        tmp_path, stored, in_details):
    """A warning without error code, HTTP status or reason was 'Provisioned with a warning:
    no reason logged', the timeline's reason empty: both now say what the step at warning
    said, as `diagnose` samples it (its description, else its details), in every format
    and from a store."""
    x = Export()
    x.user("kari.nilsen@contoso.no")
    status_only_warning(x, "tuva.aas@contoso.no", TITLE_LEFT, in_details=in_details)
    given = tmp_path / "warnings.json"
    given.write_text(json.dumps(x.records))
    if stored:
        given = _ingested(given, tmp_path / "store")
    said = (f"ReportableIdentifier: tuva.aas@contoso.no; Warning: {TITLE_LEFT}" if in_details
            else TITLE_LEFT)
    result = run("tuva.aas@contoso.no", given)
    assert result.exit_code == 0, result.output
    assert f"Provisioned with a warning: {said}." in words(result)
    assert "no reason logged" not in result.output
    assert words(result).endswith(f"update warning - - {said}")
    md = run("tuva.aas@contoso.no", given, "--format", "md").stdout
    escaped = said.replace("&", "\\&").replace("<", "\\<").replace(">", "\\>")
    assert f"Provisioned with a warning: {escaped}." in md
    [row] = [line for line in md.splitlines() if line.startswith("| 2026")]
    assert row.endswith(f"| update | warning | - | - | {escaped} |")
    answer = json.loads(run("tuva.aas@contoso.no", given, "--format", "json").stdout)
    assert answer["verdict"]["state"] == "provisioned"
    assert answer["verdict"]["reason"] == "warning"
    assert answer["verdict"]["message"] == f"Provisioned with a warning: {said}."
    [entry] = answer["timeline"]
    assert (entry["status"], entry["error_code"], entry["http_status"], entry["reason"]) == (
        "warning", None, None, said)


@pytest.mark.parametrize("stored", [False, True], ids=["export", "store"])
def test_a_name_logged_decomposed_is_found_by_the_name_typed(tmp_path, stored):
    """å written as a plus a combining ring (NFD, as macOS may store names) is the same name."""
    import unicodedata

    decomposed = unicodedata.normalize("NFD", "Jåkob Müller")
    assert decomposed != "Jåkob Müller"
    export = tmp_path / "nfd.json"
    export.write_text(FAILING.read_text(encoding="utf-8").replace("Jakob Møller", decomposed),
                      encoding="utf-8")
    source = _ingested(export, tmp_path / "store") if stored else export
    for typed in ("Jåkob Müller", "jåkob", decomposed):
        result = run(typed, source)
        assert result.exit_code == 0, result.output
        assert "UPN: jakob.moller@northwind.dk" in result.output


def test_a_reason_ending_in_a_full_stop_is_not_given_a_second(tmp_path):
    """Flowcase's own 409 text ends with a full stop; the verdict's sentence ends once."""
    ida = Person("0f9e8d7c-6b5a-4c3d-9e2f-1a0b9c8d7e6f", "ida.eriksen@northwind.no",
                 "Ida Eriksen", "")
    detail = "unclaimed user already exists for that email address. Please claim user instead."
    export = write_export(tmp_path / "e.json", [
        failed_create(ida, "2026-03-02T09:00:00Z", "c2", "Conflict", scim_error(409, detail))])
    result = run("ida.eriksen@northwind.no", export, "--format", "json")
    message = json.loads(result.output)["verdict"]["message"]
    assert "Please claim user instead." in message and ".." not in message


@pytest.mark.parametrize("asked", ["lars.hovland@northwind.no", "lars.hansen@northwind.no"])
def test_a_person_renamed_during_the_month_is_shown_by_the_name_they_have_now(tmp_path, asked):
    """Married in March: the create failed under the old UPN, a later cycle created them
    under the new one (the same Entra object). Asked by either, the header and the JSON
    lead with the UPN they have now, the old one after it."""
    before = Person("3a4b5c6d-7e8f-4a9b-8c7d-6e5f4a3b2c1d", "Lars.Hansen@Northwind.no",
                    "Lars Hansen", "")
    after = Person(before.object_id, "lars.hovland@northwind.no", "Lars Hovland",
                   "65a4b3c2d1e0f9a8b7c6d5e4")
    export = write_export(tmp_path / "e.json", [
        failed_create(before, "2026-03-02T09:00:00Z", "c1", "Conflict",
                      scim_error(409, "A user with this email address already exists")),
        create(after, "2026-03-09T09:00:00Z", "c2"),
    ])
    result = run(asked, export)
    assert result.exit_code == 0, result.output
    assert result.output.splitlines()[0] == "Lars Hovland <lars.hovland@northwind.no>"
    assert "UPN: lars.hovland@northwind.no, Lars.Hansen@Northwind.no" in result.output
    answer = json.loads(run(asked, export, "--format", "json").stdout)
    assert answer["user"]["upns"] == ["lars.hovland@northwind.no", "Lars.Hansen@Northwind.no"]


def test_markdown_says_what_the_terminal_says_of_a_person():
    """A ticket gets the Markdown: every finding the terminal names for the person (the
    verdict's and the others it explains, as FC006's upper case behind Erik's 409) and the
    count of events."""
    import re

    terminal = run("erik.dahl@northwind.no", FAILING)
    markdown = run("erik.dahl@northwind.no", FAILING, "--format", "md")
    assert terminal.exit_code == markdown.exit_code == 0
    said = set(re.findall(r"\bFC\d{3}\b", terminal.output))
    assert len(said) >= 2  # the verdict's rule and one more
    assert said == set(re.findall(r"\bFC\d{3}\b", markdown.output))
    assert "Also explains this user" in markdown.output
    assert "- 1 event, 2026-03-24 08:05:21 to 2026-03-24 08:05:21 UTC" in markdown.output


def test_a_job_wide_problem_since_mended_is_history_not_the_thing_to_fix_first(tmp_path):
    """pattern-04's token was refused in one cycle; a later cycle runs clean (the token was
    replaced). Asked about someone the refusal hit, `why` explains their history with FC004
    but does not tell them to fix it first: the job's newest cycle no longer has it."""
    records = json.loads(BAD_TOKEN.read_text(encoding="utf-8"))
    clean = [r for r in records if r["activityDateTime"] < "2026-03-09T08:00"]
    assert clean and len(clean) < len(records)  # the sample holds a clean cycle, then 401s
    later = []
    for n, record in enumerate(clean):
        again = json.loads(json.dumps(record))
        again["id"], again["changeId"] = f"later-{n}", f"later-change-{n}"
        again["cycleId"] = "4c1d0254-0000-4000-8000-000000000001"
        again["activityDateTime"] = record["activityDateTime"].replace("T07:", "T09:")
        later.append(again)
    export = write_export(tmp_path / "e.json", records + later)
    result = run("ingrid.holm@northwind.no", export)
    assert result.exit_code == 0, result.output
    assert "Verdict: PROVISIONED" in result.output
    assert "fix these first" not in result.output
    assert "Also explains this user:" in result.output and "FC004" in result.output
    answer = json.loads(run("ingrid.holm@northwind.no", export, "--format", "json").stdout)
    assert answer["job_wide"] == []
    # while the refusals are the job's newest cycle, they are to be fixed first
    now = run("ingrid.holm@northwind.no", BAD_TOKEN)
    assert "Job-wide problems (fix these first" in now.output and "FC004" in now.output


@pytest.mark.parametrize("stored", [False, True], ids=["export", "store"])
def test_a_name_no_event_is_about_says_where_it_does_appear(tmp_path, stored):
    """An identifier only Flowcase's 409 names (the account it already holds), and a part of
    two groups' names: "never seen" says where they are, so the support engineer asks about
    the right person."""
    records = json.loads(FAILING.read_text(encoding="utf-8"))
    [conflict] = [r for r in records if r["sourceIdentity"]["displayName"] == "Henrik Lie (admin)"]
    error = conflict["provisioningStatusInfo"]["errorInformation"]
    error["reason"] = error["reason"].replace(
        "Conflict: email already in use.",
        scim_error(409, "User with userName 'legacy.henrik@northwind.no' already exists"))
    assert "legacy.henrik" in error["reason"]
    source = write_export(tmp_path / "e.json", records)
    halted = SAMPLES / "group-404-halt.json"
    if stored:
        for export, store in ((source, tmp_path / "store"), (halted, tmp_path / "groups")):
            assert CliRunner().invoke(app, ["ingest", "-q", str(export), "-o",
                                            str(store)]).exit_code == 0
        source, halted = tmp_path / "store", tmp_path / "groups"
    result = run("Legacy.Henrik@northwind.no", source)
    assert result.exit_code == 2
    said = words(result)
    assert "no event in this export is about 'Legacy.Henrik@northwind.no'" in said
    assert ("The error of 1 event names it, first the create of adm.henrik.lie@northwind.no "
            f"at {conflict['activityDateTime'][:16].replace('T', ' ')} UTC") in said
    assert "ask `why` about adm.henrik.lie@northwind.no" in said
    groups = words(run("flowcase users", halted))
    assert ("It is part of the name of 2 groups ('Flowcase Users NO', 'Flowcase Users SE'); "
            "Flowcase takes no SCIM groups.") in groups


@pytest.mark.parametrize("pasted", [
    "Erik Dahl <ERIK.DAHL@northwind.no>",  # `why`'s own header, or a mail's From line
    "mailto:erik.dahl@northwind.no",
    '"erik.dahl@northwind.no"',
    "<erik.dahl@northwind.no>",
    '"Erik Dahl <erik.dahl@northwind.no>"',  # a From line pasted with its quotes
    "'Erik Dahl <erik.dahl@northwind.no>' ",
])
def test_an_address_pasted_with_its_wrapping_is_found(pasted):
    plain = json.loads(run("erik.dahl@northwind.no", FAILING, "--format", "json").stdout)
    result = run(pasted, FAILING, "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["user"] == plain["user"] and answer["verdict"] == plain["verdict"]


def test_a_quiet_stretch_of_the_input_is_said_with_the_inputs_span():
    """A period inside the export holding no event is nobody's story: exit 2, naming the
    period and the span of the input, not 'the export covers 0 events from ? to ?'."""
    weekly = SAMPLES / "weekly-two-periods.json"
    result = run("sofie.moen@northwind.no", weekly, "--from", "2026-02-23T18:00",
                 "--to", "2026-02-23T23:00")
    assert result.exit_code == 2
    assert result.stderr.strip() == (
        "error: --from/--to: no provisioning events from 2026-02-23 18:00 to 2026-02-23 23:00 "
        "UTC, a quiet stretch of the input: the input's events run from 2026-02-23 01:18 to "
        "2026-03-08 22:09 UTC")
    found = run("sofie.moen@northwind.no", weekly, "--from", "2026-02-25T00:00",
                "--to", "2026-02-26T00:00")
    assert found.exit_code == 0 and "Sofie Moen" in found.stdout


def _found_on_export_and_store(tmp_path: Path, people: list[Person], typed: str,
                               who: str) -> None:
    """``typed`` finds ``who`` among ``people`` (one create each) on an export and on the
    store ingested from it: the two match names by different code."""
    export = write_export(tmp_path / "names.json", [
        create(p, f"2026-03-24T07:4{n}:00Z", "c1") for n, p in enumerate(people)])
    store = tmp_path / "store"
    assert CliRunner().invoke(app, ["ingest", str(export), "-o", str(store), "-q"]).exit_code == 0
    for source in (export, store):
        result = run(typed, source)
        assert result.exit_code == 0, result.output
        assert result.output.startswith(who)


@pytest.mark.parametrize(("typed", "who"), [
    ("O’Brien", "Siobhan O'Brien"),  # Outlook's apostrophe for the one Entra logged
    ("Siobhan O’Brien", "Siobhan O'Brien"),
    ("siobhan.o’brien@northwind.no", "Siobhan O'Brien"),
    ("Siobhan O'Brien <siobhan.o'brien@northwind.no>", "Siobhan O'Brien"),  # why's header
    ("D'Arcy", "Zoë D’Arcy"),  # the other way round: Entra logged the typographic one
    ("zoë d'arcy", "Zoë D’Arcy"),
])
def test_a_name_with_any_apostrophe_finds_the_person(tmp_path, typed, who):
    """A name pasted from a mail carries the apostrophe the mail client typed, not
    necessarily the one Entra logs; on an export and on an indexed store alike."""
    people = [Person("0000c3c3-3333-4333-8333-333333333333", "siobhan.o'brien@northwind.no",
                     "Siobhan O'Brien", "7700cc"),
              Person("0000d4d4-4444-4444-8444-444444444444", "zoe.darcy@northwind.no",
                     "Zoë D’Arcy", "8800dd")]
    _found_on_export_and_store(tmp_path, people, typed, who)


@pytest.mark.parametrize(("typed", "who"), [
    ("ŞEBNEM YILMAZ", "Şebnem Yılmaz"),  # YILMAZ lower-cases to yilmaz, Yılmaz keeps its ı
    ("YILMAZ", "Şebnem Yılmaz"),
    ("Şebnem Yilmaz", "Şebnem Yılmaz"),  # typed on a keyboard without ı
    ("şebnem yılmaz", "Şebnem Yılmaz"),
    ("Aydın Kilic", "Aydin Kilic"),  # the other way round: Entra logged it without ı
    ("KILIC", "Aydin Kilic"),
    ("ilkay şahin", "İlkay Şahin"),  # typed without the capital's dot
    ("Ilkay", "İlkay Şahin"),
    ("İLKAY ŞAHIN", "İlkay Şahin"),
])
def test_a_dotless_i_counts_as_i(tmp_path, typed, who):
    """The Turkish ı and İ have no case partners of their own: a name typed in capitals, or
    without them, finds the person on an export and on an indexed store alike."""
    people = [Person("0000e5e5-5555-4555-8555-555555555555", "sebnem.yilmaz@northwind.no",
                     "Şebnem Yılmaz", "9900ee"),
              Person("0000f6f6-6666-4666-8666-666666666666", "aydin.kilic@northwind.no",
                     "Aydin Kilic", "aa00ff"),
              Person("0000a7a7-7777-4777-8777-777777777777", "ilkay.sahin@northwind.no",
                     "İlkay Şahin", "bb00aa")]
    _found_on_export_and_store(tmp_path, people, typed, who)


NORDIC = [Person("0000b8b8-8888-4888-8888-888888888888", "jorgen.saether@northwind.no",
                 "Jørgen Sæther", "cc00bb"),
          Person("0000c9c9-9999-4999-8999-999999999999", "knut.odegard@northwind.no",
                 "Knut Ødegård", "dd00cc"),
          Person("0000dada-aaaa-4aaa-8aaa-aaaaaaaaaaaa", "bjorn.muller@northwind.se",
                 "Björn Müller", "ee00dd"),
          Person("0000ebeb-bbbb-4bbb-8bbb-bbbbbbbbbbbb", "jorgen.berg@northwind.no",
                 "Jorgen Berg", "ff00ee")]  # Entra logged this one without the ø


@pytest.mark.parametrize(("typed", "who"), [
    ("jorgen saether", "Jørgen Sæther"),  # ø as o, æ as ae
    ("JOERGEN SAETHER", "Jørgen Sæther"),  # ø as oe
    ("saether", "Jørgen Sæther"),  # part of the name
    ("knut odegard", "Knut Ødegård"),  # å as a
    ("Knut Oedegaard", "Knut Ødegård"),  # å as aa
    ("bjoern mueller", "Björn Müller"),  # ö and ü, German style
    ("Bjorn Muller", "Björn Müller"),
    ("Jørgen Berg", "Jorgen Berg"),  # the other way round: typed with it, logged without
])
def test_a_name_typed_without_nordic_letters_finds_the_person(tmp_path, typed, who):
    """Nordic customers type ø, æ, å (and ä, ö, ü) as o or oe, ae, a or aa; a name so typed
    finds the person on an export and on an indexed store alike."""
    _found_on_export_and_store(tmp_path, NORDIC, typed, who)


def test_nordic_letters_spelt_out_leave_exact_matches_alone(tmp_path):
    """The spelt-out names are tried last: a person logged as 'Jorgen Saether' is the one
    'jorgen saether' means, not one of two; an address is compared as it is ('joergen.saether@'
    is nobody's, though the UPN spells ø as o)."""
    ascii_twin = Person("0000fcfc-cccc-4ccc-8ccc-cccccccccccc", "jorgen.saether2@northwind.no",
                        "Jorgen Saether", "ab00ff")
    export = write_export(tmp_path / "names.json", [
        create(p, f"2026-03-24T07:4{n}:00Z", "c1") for n, p in enumerate([*NORDIC, ascii_twin])])
    store = tmp_path / "store"
    assert CliRunner().invoke(app, ["ingest", str(export), "-o", str(store), "-q"]).exit_code == 0
    for source in (export, store):
        twin = run("jorgen saether", source)
        assert twin.exit_code == 0 and twin.output.startswith("Jorgen Saether <jorgen.saether2@")
        spelt = json.loads(run("joergen saether", source, "--format", "json").stdout)
        assert spelt["user"]["upns"] == ["jorgen.saether@northwind.no"]
        assert spelt["matched_on"] == "display name"
        address = run("joergen.saether@northwind.no", source)
        assert address.exit_code == 2 and "Never seen" in address.output


def test_a_csv_download_finds_a_name_typed_without_nordic_letters(tmp_path):
    """The portal's CSV download, read as it comes: its display names are what `why` knows."""
    main = tmp_path / "ProvisioningLogs.csv"
    shutil.copy(SAMPLES / "formats" / "csv" / "ProvisioningLogs.csv", main)
    for typed, who in (("hanne roed", "Hanne Røed"), ("Eirik Kvaale", "Eirik Kvåle"),
                       ("elias akesson", "Elias Åkesson"), ("ENGSTROEM", "Elsa Engström")):
        result = run(typed, main)
        assert result.exit_code == 0, result.output
        assert result.output.startswith(who)


def test_a_csv_download_without_its_steps_file_points_at_the_person_known_by_name(tmp_path):
    """The portal CSV's main file logs no UPN (the steps file does): asked by UPN, `why`
    says the event whose error names it has no UPN here and may be this person, not that
    Flowcase holds another account."""
    main = tmp_path / "ProvisioningLogs.csv"
    shutil.copy(SAMPLES / "formats" / "csv" / "ProvisioningLogs.csv", main)
    result = run("erik.dahl@northwind.no", main)
    said = words(result)
    assert result.exit_code == 2
    assert ("first the create of Erik Dahl at 2026-03-24 08:05 UTC: no UPN is logged for it "
            "here (a portal CSV download without its steps file has none), so it may be this "
            "person; ask `why` about Erik Dahl.") in said
    assert "Flowcase may already hold an account" not in said
    assert run("Erik Dahl", main).exit_code == 0


def test_a_job_status_of_another_job_is_said(tmp_path):
    """As diagnose and report say it: a --job-status of a job none of this person's events is
    of (a file mixed up) may quarantine nothing of theirs; said on an export and a store."""
    other = tmp_path / "other.job.json"
    other.write_text(BAD_TOKEN_JOB.read_text().replace('"id": "scim.', '"id": "other.', 1))
    other_id = json.loads(other.read_text())["id"]
    logged = json.loads(BAD_TOKEN.read_text())[0]["jobId"]
    store = tmp_path / "store"
    assert CliRunner().invoke(app, ["ingest", str(BAD_TOKEN), "-o", str(store), "-q"]
                              ).exit_code == 0
    for given in (BAD_TOKEN, store):
        said = json.loads(run("RAGNHILD.SUNDE@northwind.no", given, "--format", "json",
                              "--job-status", other).output)["notes"]
        assert (f"--job-status is of job {other_id}, but the events are of {logged}: its "
                "quarantine and last error may not be theirs") in said
        own = json.loads(run("RAGNHILD.SUNDE@northwind.no", given, "--format", "json",
                             "--job-status", BAD_TOKEN_JOB).output)["notes"]
        assert not [n for n in own if n.startswith("--job-status")]
    assert f"--job-status is of job {other_id}" in words(
        run("RAGNHILD.SUNDE@northwind.no", BAD_TOKEN, "--job-status", other))


def _groups_renamed(tmp_path: Path, norway: str, sweden: str, stored: bool) -> Path:
    """The group-404 sample with its two groups renamed, as an export or a store."""
    text = (SAMPLES / "group-404-halt.json").read_text()
    source = tmp_path / "groups.json"
    source.write_text(text.replace("Flowcase Users NO", norway)
                      .replace("Flowcase Users SE", sweden))
    if not stored:
        return source
    store = tmp_path / "store"
    assert CliRunner().invoke(app, ["ingest", "-q", str(source), "-o", str(store)]).exit_code == 0
    return store


@pytest.mark.parametrize("stored", [False, True])
def test_a_group_name_is_folded_as_peoples_names_are(tmp_path, stored):
    """A group named with İ or a typographic apostrophe is found typed without them, as a
    person's name is: whole (a group, not a user) and in part (the groups it names)."""
    source = _groups_renamed(tmp_path, "Flowcase İzmir O’Neill", "Flowcase İzmir Sales", stored)
    whole = words(run("flowcase izmir o'neill", source))
    assert "'flowcase izmir o'neill' is a group (3 events in this export), not a user" in whole
    part = words(run("IZMIR", source))
    assert ("It is part of the name of 2 groups ('Flowcase İzmir O’Neill', 'Flowcase İzmir "
            "Sales'); Flowcase takes no SCIM groups.") in part


@pytest.mark.parametrize("stored", [False, True])
def test_a_group_name_typed_without_its_nordic_letters_is_known(tmp_path, stored):
    """'flowcase users orebro' is the group Flowcase Users Örebro, as 'jorgen saether' is
    Jørgen Sæther: a group, not someone never seen; 'SODERTALJE' is part of group names."""
    source = _groups_renamed(tmp_path, "Flowcase Users Örebro", "Flowcase Users Södertälje", stored)
    whole = words(run("flowcase users oerebro", source))
    assert "'flowcase users oerebro' is a group (3 events in this export), not a user" in whole
    part = words(run("SODERTALJE", source))
    assert ("It is part of the name of 1 group ('Flowcase Users Södertälje'); Flowcase takes "
            "no SCIM groups.") in part
    assert "Never seen" in words(run("flowcase users oslo", source))


def test_the_findings_counts_are_said_to_be_of_the_events_considered():
    """`why` runs the rules on what can explain the person, not the whole export: its
    "9 failures" beside `diagnose`'s 24 is said to be so, not left as a contradiction."""
    escrow = SAMPLES / "pattern-16-quarantine-escrow.json"
    answer = json.loads(run("hakon.vik@northwind.no", escrow, "--format", "json").output)
    fc016 = next(e for e in answer["explanations"] if e["rule_id"] == "FC016")
    assert "(9 failures in 4 cycles" in fc016["message"]
    assert ("the findings count the 11 events that can explain this person (their latest "
            "events, the cycles around them, objects sharing their identifiers) of the 38 in "
            "the input: `diagnose` counts them all") in answer["notes"]
    diagnosed = CliRunner().invoke(app, ["diagnose", str(escrow), "-q", "--format", "json"])
    assert "(24 failures in 4 cycles" in next(
        f["message"] for f in json.loads(diagnosed.stdout)["findings"] if f["rule_id"] == "FC016")


ESCROW = SAMPLES / "pattern-16-quarantine-escrow.json"  # newest first, as the portal lists it


def _cut_in_record_of(records: list[dict], name: str, path: Path) -> Path:
    """``records`` written as a JSON array that ends halfway through the latest record of
    ``name`` in the file's order (a copy that did not finish)."""
    at = max(i for i, r in enumerate(records) if r["sourceIdentity"]["displayName"] == name)
    cut = json.dumps(records[at], indent=2)
    path.write_text("[\n" + ",\n".join(json.dumps(r, indent=2) for r in records[:at])
                    + ",\n" + cut[: len(cut) // 2])
    return path


@pytest.mark.parametrize("stored", [False, True])
def test_a_cut_that_may_have_lost_the_persons_later_events_is_said_in_the_verdict(
        tmp_path: Path, stored: bool) -> None:
    """An export written oldest first (Log Analytics, storage) and cut off lost its newest
    events: Håkon Vik's last failure among them. The verdict is of the latest event read and
    says so; someone never seen may be in what was lost. The portal's newest-first download
    cut the same way lost only older events: the verdict stands without that note. A store
    ingested from either says the same."""
    records = json.loads(ESCROW.read_text())
    oldest_first = _cut_in_record_of(records[::-1], "Håkon Vik",
                                     tmp_path / "AADProvisioningLogs.json")
    newest_first = _cut_in_record_of(records, "Håkon Vik", tmp_path / "ProvisioningLogs.json")
    inputs = [oldest_first, newest_first]
    if stored:
        inputs = [tmp_path / f"store-{n}" for n in range(2)]
        for export, store in zip([oldest_first, newest_first], inputs, strict=True):
            assert CliRunner().invoke(app, ["ingest", str(export), "-o", str(store), "-q"]
                                      ).exit_code == 0

    def verdict(user: str, source: Path) -> dict:
        result = run(user, source, "--format", "json")
        return json.loads(result.stdout)["verdict"]

    lost = verdict("hakon.vik@northwind.no", inputs[0])
    assert lost["state"] == "failing" and lost["since"].startswith("2026-03-25T14:53:20")
    assert (f"{oldest_first} is cut off at record 37: the records after the cut are missing and "
            "this person's later events may be among them") in lost["note"]
    nobody = verdict("nobody.here@northwind.no", inputs[0])
    assert nobody["state"] == "never_seen"
    assert nobody["note"].startswith("Check the spelling")  # the usual advice, then the cut
    assert f"{oldest_first} is cut off at record 37: the records after the cut are missing and " \
           "this person's may be among them" in nobody["note"]
    kept = verdict("hakon.vik@northwind.no", inputs[1])
    assert kept["state"] == "failing" and kept["since"].startswith("2026-03-26T03:05:00")
    assert kept["note"] is None


def test_a_cut_file_given_by_a_relative_name_keeps_its_spelling_in_the_verdict(
        tmp_path: Path, monkeypatch) -> None:
    """The note names the cut file as typed: ``export.json`` (or ``s1/export.json``) is not
    capitalised into ``Export.json``, a file that does not exist on Linux."""
    records = json.loads(ESCROW.read_text())
    _cut_in_record_of(records[::-1], "Håkon Vik", tmp_path / "export.json")
    monkeypatch.chdir(tmp_path)
    for user in ("hakon.vik@northwind.no", "nobody.here@northwind.no"):
        note = json.loads(run(user, "export.json", "--format", "json").stdout)["verdict"]["note"]
        assert "export.json is cut off at record 37" in note, note
        assert "Export.json" not in note, note


@pytest.mark.parametrize("stored", [False, True], ids=["export", "store"])
def test_a_sandbox_apps_refused_token_is_not_job_wide_for_a_production_user(tmp_path, stored):
    """A tenant-wide export holds production "Flowcase SCIM" and a "Flowcase Test" sandbox,
    both named Flowcase, so both are diagnosed. The sandbox's key is wrong (every request of
    its newest cycle refused with 401); production's cycles are clean but for Ingrid's 409.
    Her job is not the sandbox's: its token is not hers to fix first."""
    from why_records import in_app

    ingrid = Person("7d3c2b1a-0f9e-4d8c-b7a6-958473625140", "ingrid.solberg@contoso.no",
                    "Ingrid Solberg")
    testers = [Person(f"0000000{i}-1111-4222-8333-444455556666", f"test{i}@contoso.no",
                      f"Test Bruker {i}") for i in range(3)]
    records = [failed_create(ingrid, "2026-03-20T09:20:05Z", "prod-c3", "Conflict",
                             scim_error(409, "User with userName 'ingrid.solberg@contoso.no' "
                                        "already exists", "uniqueness"))]
    records += [in_app(failed_create(p, f"2026-03-21T07:0{i}:00Z", "sandbox-c9",
                                     "Unauthorized", scim_error(401, "Invalid API key"),
                                     error_code="SystemForCrossDomainIdentityManagement"
                                                "CredentialValidationFailure"))
                for i, p in enumerate(testers)]
    source = write_export(tmp_path / "tenant.json", records)
    if stored:
        store = tmp_path / "store"
        assert CliRunner().invoke(app, ["ingest", "-q", str(source), "-o",
                                        str(store)]).exit_code == 0
        source = store
    result = run("INGRID.SOLBERG@contoso.no", source, "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["job_wide"] == []
    assert answer["verdict"]["rule_id"] == "FC007"
    # a tester of the sandbox is still told to fix its token first
    tester = json.loads(run("test0@contoso.no", source, "--format", "json").stdout)
    assert [f["rule_id"] for f in tester["job_wide"]] == ["FC004"]


def test_a_skip_whose_reason_is_not_logged_says_so_not_skipped_skipped(tmp_path):
    """A skipped event read without its steps (a portal CSV download whose steps file was
    not given, or was cut before its rows): the verdict says no reason is logged and where
    to find it, not "Skipped: skipped."."""
    siri = Person("9f5e4d3c-2b1a-4f0e-9d8c-b7a695847362", "siri.moe@contoso.no", "Siri Moe")
    event = not_entitled(siri, "2026-03-20T08:00:09Z", "c1")
    event["provisioningSteps"] = []
    answer = json.loads(run("siri.moe@contoso.no", write_export(tmp_path / "e.json", [event]),
                            "--format", "json").stdout)
    verdict = answer["verdict"]
    assert verdict["state"] == "skipped"
    assert "Skipped: skipped" not in verdict["message"]
    assert verdict["message"] == ("Skipped: the log names no skip reason (Entra writes it in "
                                  "the event's steps, which are missing or do not say).")
    assert "steps file" in verdict["fix"]


@pytest.mark.parametrize("stored", [False, True], ids=["exports", "stores"])
def test_a_re_export_beside_the_cut_one_leaves_no_cut_in_the_verdict(tmp_path, stored):
    """The Log Analytics export cut before Håkon Vik's last failure, given with the same
    days exported again: his later events are read from the re-export, so the verdict is of
    his latest failure and names no cut, as `diagnose` says of the same inputs; the two
    exports' stores given to `why` said the records after the cut were missing."""
    records = json.loads(ESCROW.read_text())[::-1]  # oldest first
    cut = _cut_in_record_of(records, "Håkon Vik", tmp_path / "AADProvisioningLogs.json")
    again = tmp_path / "AADProvisioningLogs-again.json"
    again.write_text(json.dumps(records))
    inputs = [cut, again]
    if stored:
        inputs = [tmp_path / "store-cut", tmp_path / "store-again"]
        for export, store in zip([cut, again], inputs, strict=True):
            assert CliRunner().invoke(app, ["ingest", str(export), "-o", str(store), "-q"]
                                      ).exit_code == 0
    result = run("hakon.vik@northwind.no", *inputs, "--format", "json")
    verdict = json.loads(result.stdout)["verdict"]
    assert verdict["state"] == "failing" and verdict["since"].startswith("2026-03-26T03:05:00")
    assert verdict["note"] is None
    assert "whatever followed is missing" not in result.output


@pytest.mark.parametrize("stored", [False, True], ids=["export", "store"])
def test_a_person_known_only_by_the_identifier_their_steps_report_is_not_among_the_others(
        tmp_path, stored):
    """A portal CSV download logs no UPN for Kari's failure: the rules (and `diagnose`) name
    her by her steps' ReportableIdentifier, `why` by her object id. Her verdict said FC007
    explains it 'for 6 other users too', counting her among the six users FC007 names; it
    now knows her by that identifier too."""
    given = SAMPLES / "formats" / "csv"
    if stored:
        given = _ingested(given, tmp_path / "store")
    diagnosis = json.loads(CliRunner().invoke(app, ["diagnose", str(given), "--format", "json",
                                                    "-q"]).stdout)
    [fc007] = [f for f in diagnosis["findings"] if f["rule_id"] == "FC007"]
    assert len(fc007["affected"]) == 6
    assert "kari.nilsen@northwind.no" in [a["id"] for a in fc007["affected"]]
    answer = json.loads(run("kari.nilsen@northwind.no", given, "--format", "json").stdout)
    assert answer["user"]["upns"] == []
    assert answer["verdict"]["rule_id"] == "FC007"
    assert answer["verdict"]["message"].endswith(
        "FC007 (Duplicate users or identifiers that do not match pre-existing Flowcase data) "
        "explains it, for 5 other users too.")
