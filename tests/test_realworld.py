"""Real-world exports: every wire shape is read, only Flowcase's events are diagnosed.

The records come from ``realworld.py``: the formats reference's captured and documented
records (Grafana PS, Airtable, Microsoft's AWS and Contoso examples as Box) beside Flowcase's
own events, written in each shape a support engineer is handed.
"""

from __future__ import annotations

import copy
import json
import re

import polars as pl
import pytest
import realworld as rw
from typer.testing import CliRunner

from loganalyzer import scope
from loganalyzer.cli import app
from loganalyzer.ingest import load

runner = CliRunner()
EVENTS = rw.tenant_wide()
OTHER_EVENTS = len(EVENTS) - len(rw.flowcase_events())


def _write(shape: str, folder, events=EVENTS):
    """One export of ``events`` in ``shape``; returns the path to read."""
    if shape == "graph page":
        path = folder / "page.json"
        path.write_text(json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/"
                                    "$metadata#auditLogs/provisioning", "value": events}))
    elif shape == "portal array":
        path = folder / "export.json"
        path.write_text(json.dumps(events))
    elif shape == "diagnostic-settings NDJSON":
        path = rw.write_ndjson(folder / "PT1H.json", [rw.envelope(e) for e in events])
    elif shape == "diagnostic-settings .gz":
        path = rw.write_ndjson(folder / "PT1H.json.gz", [rw.envelope(e) for e in events],
                               compress=True)
    elif shape == "storage blob folder":
        path = rw.write_blob_folder(folder, events)
    elif shape == "Log Analytics JSON":
        path = folder / "AADProvisioningLogs.json"
        path.write_text(json.dumps([rw.log_analytics_row(e) for e in events]))
    else:
        path = rw.write_log_analytics_csv(folder / "AADProvisioningLogs.csv", events)
    return path


SHAPES = ["graph page", "portal array", "diagnostic-settings NDJSON", "diagnostic-settings .gz",
          "storage blob folder", "Log Analytics JSON", "Log Analytics CSV"]
EVENT_COLUMNS = ["event_id", "status", "action", "job_id", "app_name", "service_principal_id",
                 "target_system", "source_system", "object_type", "skip_reason", "error_code",
                 "http_status", "scim_type", "duration_ms", "upn", "identity_key",
                 "initiated_by"]
STEP_COLUMNS = ["event_id", "step_index", "name", "step_type", "status", "description"]


@pytest.fixture(scope="module")
def graph_frames(tmp_path_factory):
    return load([_write("graph page", tmp_path_factory.mktemp("graph"))]).frames


@pytest.mark.parametrize("shape", SHAPES)
def test_every_wire_shape_reads_the_same_events(shape, tmp_path, graph_frames):
    frames = load([_write(shape, tmp_path)]).frames
    assert frames.events.height == len(EVENTS)

    def same(frame, columns, key):
        return frame.select(columns).sort(key)

    assert same(frames.events, EVENT_COLUMNS, "event_id").equals(
        same(graph_frames.events, EVENT_COLUMNS, "event_id"))
    assert same(frames.steps, STEP_COLUMNS, ["event_id", "step_index"]).equals(
        same(graph_frames.steps, STEP_COLUMNS, ["event_id", "step_index"]))
    assert set(frames.events["status"]) == {"success", "failure", "skipped"}
    assert set(frames.steps["step_type"]) <= {"import", "scoping", "matching", "export"}


def test_diagnostic_settings_record_spelled_as_captured(tmp_path):
    """Id/Name/Type/Status, ordinals, a string duration: every field lands where Graph's does."""
    record = rw.envelope(rw.airtable_conflict())
    assert record["properties"]["provisioningSteps"][1]["status"] == 1  # failure, as a number
    event = load([rw.write_ndjson(tmp_path / "PT1H.json", [record])]).frames.events.row(
        0, named=True)
    assert event["status"] == "failure"
    assert event["app_name"] == "Airtable - test Corp"
    assert event["service_principal_id"] == "e394395f-7b85-4a43-a1be-365854c5a110"
    assert event["target_system"] == "Airtable"
    assert event["initiated_by"] == "Azure AD Provisioning Service"
    assert event["duration_ms"] == 91009
    assert event["http_status"] == 409 and event["scim_type"] == "uniqueness"


def test_result_type_fills_a_missing_status_and_an_unreadable_one_is_unknown(tmp_path):
    with_result = rw.envelope(rw.flowcase_events()[0])
    del with_result["properties"]["provisioningStatusInfo"]["Status"]
    del with_result["properties"]["statusInfo"]
    neither = rw.envelope(rw.flowcase_events()[1])
    del neither["properties"]["provisioningStatusInfo"]["Status"]
    del neither["properties"]["statusInfo"]
    del neither["resultType"]
    path = rw.write_ndjson(tmp_path / "PT1H.json", [with_result, neither])
    statuses = dict(load([path]).frames.events.select("event_id", "status").iter_rows())
    assert statuses == {"fc-create-anna": "success", "fc-skip-lars": "unknown"}

    summary = runner.invoke(app, ["summary", str(path), "-q", "--format", "json"])
    data = json.loads(summary.stdout)
    assert data["by_status"]["unknown"] == 1
    assert any("no readable status" in n for n in data["input"]["notes"])
    diagnosis = json.loads(runner.invoke(app, ["diagnose", str(path), "-q", "--format",
                                               "json"]).stdout)
    assert diagnosis["summary"]["unknown_status"] == 1
    assert any("counted as 'unknown'" in n for n in diagnosis["notes"])
    report = runner.invoke(app, ["report", str(path), "-q", "--format", "md"]).stdout
    assert "## Health: degraded" in report and "could not be read" in report
    # the key figures add up: one event of two has no readable status
    assert "| Unknown status | 50.0% | 1 event;" in report


def test_on_demand_result_is_diagnosed_as_one_event(tmp_path):
    skipped = rw.flowcase_events()[2]  # AttributeValidationFailed on name.familyName
    response = tmp_path / "on-demand.json"
    response.write_text(json.dumps(rw.on_demand_response(skipped), indent=2))
    value = tmp_path / "on-demand-value.json"
    value.write_text(json.dumps(rw.on_demand_value(skipped)))
    for path in (response, value):
        events = load([path]).frames.events
        assert events.height == 1
        row = events.row(0, named=True)
        assert (row["status"], row["skip_reason"], row["upn"]) == (
            "skipped", "AttributeValidationFailed", "ola.nordmann@northwind.no")
        result = runner.invoke(app, ["diagnose", str(path), "-q"])
        assert result.exit_code == 0, result.output
        assert "FC021" in result.stdout and "name.familyName" in result.stdout
    why = runner.invoke(app, ["why", "ola.nordmann@northwind.no", str(response), "-q"]).stdout
    assert "name.familyName is empty or invalid in Entra" in why


def test_on_demand_skip_reason_comes_from_the_key(tmp_path):
    """On-demand steps may lack ``SkipReason``: ``key.details.errorCode`` gives it."""
    event = rw.flowcase_events()[1]
    response = rw.on_demand_response(event)
    value = json.loads(response["value"])
    for step in value["provisioningSteps"]:
        step["details"].pop("SkipReason", None)
    response["value"] = json.dumps(value)
    path = tmp_path / "on-demand.json"
    path.write_text(json.dumps(response))
    assert load([path]).frames.events["skip_reason"].to_list() == ["RedundantExport"]


# ------------------------------------------------------------------------------- scope

def _frames(events):
    from eventfactory import frames_of

    return frames_of(events)


def test_tenant_wide_export_diagnoses_flowcase_and_counts_every_other_app():
    chosen = scope.choose(_frames(EVENTS))
    assert [a.name for a in chosen.chosen] == ["Flowcase"]
    assert chosen.frames.events["app_name"].unique().to_list() == ["Flowcase"]
    assert chosen.other_events == OTHER_EVENTS
    assert {a.name for a in chosen.others} == set(rw.OTHER_APPS)
    inbound = {a.name for a in chosen.others if a.inbound}
    assert inbound == {"Workday to Active Directory User Provisioning",
                       "AWS Single-Account Access", "Fabrikam cross-tenant sync"}
    note = chosen.note()
    assert note.startswith(f"{OTHER_EVENTS} events of 8 other apps not diagnosed: Box 6, ")
    steps = set(chosen.frames.steps["event_id"].to_list())
    assert steps <= set(chosen.frames.events["event_id"].to_list())


@pytest.mark.parametrize("value", ["flowcase", rw.FLOWCASE_SP, rw.FLOWCASE_JOB.upper()])
def test_app_option_takes_a_name_a_service_principal_or_a_job(value):
    chosen = scope.choose(_frames(EVENTS), [value])
    assert [a.name for a in chosen.chosen] == ["Flowcase"] and chosen.by_option


def test_app_option_overrides_and_repeats():
    chosen = scope.choose(_frames(EVENTS), ["Box", "Dropbox Business"])
    assert {a.name for a in chosen.chosen} == {"Box", "Dropbox Business"}
    assert chosen.frames.events.height == 10


def test_cv_partner_is_flowcase_and_inbound_never_is():
    renamed = [dict(e, servicePrincipal={"id": "x1", "displayName": "CV Partner"})
               for e in rw.box_group_conflicts(2)]
    inbound_named = [dict(e, servicePrincipal={"id": "x2", "displayName": "Flowcase to AD"})
                     for e in rw.workday_inbound(2)]
    chosen = scope.choose(_frames(renamed + inbound_named))
    assert [a.name for a in chosen.chosen] == ["CV Partner"]


def test_no_flowcase_app_exits_2_listing_the_apps(tmp_path):
    others = [e for e in rw.other_apps() if e["jobId"].startswith("scim.") is False]
    path = tmp_path / "others.json"
    path.write_text(json.dumps(others))
    for command in (["diagnose"], ["report", "--format", "md"], ["why", "user0@northwind.no"]):
        result = runner.invoke(app, [*command, str(path), "-q"])
        assert result.exit_code == 2, result.output
        lines = result.stderr.splitlines()  # the apps a line each, not one escaped line
        assert "no Flowcase events" in lines[0] and "\\n" not in lines[0]
        assert "  Box (gallery app): 6 events   --app 'Box'" in lines
        assert any(line.startswith("  Workday to Active Directory User Provisioning (inbound "
                                   "to Entra/AD): 5 events") for line in lines)
    chosen = runner.invoke(app, ["diagnose", str(path), "-q", "--app", "Box"])
    assert chosen.exit_code == 0 and "FC001" in chosen.stdout


def test_two_unnamed_scim_apps_are_ambiguous(tmp_path):
    second = dict(rw.grafana_scim_group(), id="other-scim", jobId=f"scim.{rw.TENANT_HEX}.x",
                  servicePrincipal={"id": "sp-2", "displayName": "Contoso HR SCIM"})
    path = tmp_path / "two.json"
    path.write_text(json.dumps([rw.grafana_scim_group(), second]))
    result = runner.invoke(app, ["diagnose", str(path), "-q"])
    assert result.exit_code == 2
    assert "2 non-gallery SCIM apps and none is named Flowcase" in result.stderr
    apps = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert [line.split("--app ")[1] for line in apps] == ["'Contoso HR SCIM'", "'Grafana PS'"]
    unknown = runner.invoke(app, ["diagnose", str(path), "-q", "--app", "Nope"])
    assert unknown.exit_code == 2 and "--app 'Nope' names no app" in unknown.stderr


def test_the_only_scim_app_is_diagnosed_and_says_so(tmp_path):
    path = tmp_path / "grafana.json"
    path.write_text(json.dumps(rw.other_apps()))
    result = runner.invoke(app, ["diagnose", str(path), "-q"])
    assert result.exit_code == 0
    assert "diagnosed 'Grafana PS' as the Flowcase app" in result.stdout


@pytest.mark.parametrize("fmt", ["terminal", "md", "json"])
def test_other_apps_note_in_every_diagnose_output(fmt, tmp_path):
    path = _write("diagnostic-settings NDJSON", tmp_path)
    result = runner.invoke(app, ["diagnose", str(path), "-q", "--format", fmt])
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())
    assert f"{OTHER_EVENTS} events of 8 other apps not diagnosed: Box 6," in text
    if fmt == "json":
        data = json.loads(result.stdout)
        assert data["summary"]["scope"]["other_events"] == OTHER_EVENTS
        assert data["summary"]["apps"] == ["Flowcase"]


@pytest.mark.parametrize("fmt", ["html", "md"])
def test_other_apps_note_in_every_report(fmt, tmp_path):
    path = _write("Log Analytics JSON", tmp_path)
    result = runner.invoke(app, ["report", str(path), "-q", "--format", fmt])
    assert result.exit_code == 0, result.output
    assert f"{OTHER_EVENTS} events of 8 other apps not diagnosed" in result.stdout
    assert "AnchorChangePending" in result.stdout  # the unexplained skip


@pytest.mark.parametrize("fmt", ["terminal", "md", "json"])
def test_other_apps_note_in_why_on_a_store(fmt, tmp_path):
    store = tmp_path / "store"
    assert runner.invoke(app, ["ingest", str(_write("portal array", tmp_path)), "-o",
                               str(store), "-q"]).exit_code == 0
    result = runner.invoke(app, ["why", "anna.berg@northwind.no", str(store), "-q",
                                 "--format", fmt])
    assert result.exit_code == 0, result.output
    assert f"{OTHER_EVENTS} events of 8 other apps not diagnosed" in result.stdout
    other = runner.invoke(app, ["why", "craig_ranger@test.com", str(store), "-q", "--app",
                                "Airtable - test Corp"])
    assert other.exit_code == 0 and "Never seen" not in other.stdout


def test_summary_shows_every_app_and_the_choice(tmp_path):
    path = _write("storage blob folder", tmp_path)
    data = json.loads(runner.invoke(app, ["summary", str(path), "-q", "--format",
                                          "json"]).stdout)
    assert set(data["apps"]) == {"Flowcase", *rw.OTHER_APPS}
    assert [a["name"] for a in data["flowcase"]["diagnosed"]] == ["Flowcase"]
    assert data["flowcase"]["other_events"] == OTHER_EVENTS
    text = runner.invoke(app, ["summary", str(path), "-q"]).stdout
    assert re.search(r"^Flowcase +Flowcase \(5\)$", text, re.MULTILINE)


def test_summary_without_a_flowcase_app_says_what_to_do_in_one_sentence(tmp_path):
    """Diagnose lists the apps after "name it with --app:"; summary lists them above, so its
    note must not keep that colon in the middle of its sentence."""
    gallery = [e for e in rw.other_apps() if e["servicePrincipal"]["displayName"] == "Box"]
    path = _write("portal array", tmp_path, gallery)
    note = json.loads(runner.invoke(app, ["summary", str(path), "-q", "--format",
                                          "json"]).stdout)["flowcase"]["note"]
    assert note.endswith("name it with --app; diagnose, report and why need --app")


# ------------------------------------------------------------------------------- rules

def test_no_rule_fires_on_other_apps_or_on_entra_boilerplate(tmp_path):
    """The meta-test: every rule over other apps' real error texts, inbound jobs and healthy
    Flowcase events whose every text is Entra's own wording. No finding may appear."""
    from loganalyzer.engine import diagnose, rules

    corpus = rw.healthy_with_boilerplate() + rw.other_apps()
    for shape in SHAPES:
        folder = tmp_path / shape.replace(" ", "-")
        folder.mkdir()
        frames = load([_write(shape, folder, corpus)]).frames
        chosen = scope.choose(frames)
        diagnosis = diagnose(chosen.frames)
        assert diagnosis.findings == [], (shape, [f.message for f in diagnosis.findings])
        assert diagnosis.unexplained_skips == []
        assert chosen.other_events == len(rw.other_apps())
    assert len(rules()) >= 21


def test_soft_delete_rule_ignores_azure_active_directory_in_the_reason():
    from eventfactory import Export

    from loganalyzer.engine import diagnose

    export = Export()
    export.user("per.olsen@contoso.no", status="failure", action="update",
                error_code="SystemForCrossDomainIdentityManagementServiceIncompatible",
                reason=rw.BOX_CONFLICT.replace("Box", "customappsso"))
    fired = {f.rule_id for f in diagnose(export.frames()).findings}
    assert "FC014" not in fired


def test_group_409_is_not_reported_as_halting_the_cycle():
    from eventfactory import Export

    from loganalyzer.engine import diagnose

    export = Export()
    export.group("Sales", status="failure", http=409, detail="Group already exists")
    [finding] = [f for f in diagnose(export.frames()).findings if f.rule_id == "FC001"]
    assert "404" not in finding.message and "stopped" not in finding.message
    assert finding.details["halted_cycles"] == []


def test_repeated_id_inside_one_log_analytics_csv_is_a_duplicate(tmp_path):
    events = rw.flowcase_events()
    path = rw.write_log_analytics_csv(tmp_path / "AADProvisioningLogs.csv",
                                      events + events[:2])
    dataset = load([path])
    assert dataset.frames.events.height == len(events)
    assert dataset.duplicates == 2
    assert not any("another file" in n for n in dataset.notes)


def test_unknown_skip_reason_is_listed_never_noise():
    from loganalyzer.engine import diagnose

    diagnosis = diagnose(_frames(rw.flowcase_events()))
    [unknown] = diagnosis.unexplained_skips
    assert (unknown.skip_reason, unknown.count) == ("AnchorChangePending", 1)
    assert "anchor attribute changed" in unknown.sample_text
    assert pl.Series([f.rule_id for f in diagnosis.findings]).to_list() == ["FC021"]


def test_app_names_from_the_log_are_escaped_in_every_report(tmp_path):
    hostile = [dict(e, servicePrincipal={"id": "sp-x", "displayName": "<script>alert(1)</script>|"})
               for e in rw.box_group_conflicts(2)]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(rw.flowcase_events() + hostile))
    html = runner.invoke(app, ["report", str(path), "-q", "--format", "html"]).stdout
    assert "<script>alert" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    md = runner.invoke(app, ["report", str(path), "-q", "--format", "md"]).stdout
    assert "<script>" not in md
    diagnose_md = runner.invoke(app, ["diagnose", str(path), "-q", "--format", "md"]).stdout
    assert "<script>" not in diagnose_md


def test_fetch_takes_one_app():
    result = runner.invoke(app, ["fetch", "-o", "out", "--app", "A", "--app", "B"])
    assert result.exit_code == 2 and "fetch filters on one app" in result.stderr


def test_one_app_value_becomes_the_graph_filter_it_is():
    from loganalyzer.cli.fetch import EventFilter

    def selection(*apps):
        chosen = EventFilter(app_name=list(apps)).selection()
        return chosen.app, chosen.service_principal_id, chosen.job_id

    assert selection("Flowcase SCIM") == ("Flowcase SCIM", None, None)
    assert selection(rw.FLOWCASE_SP.upper()) == (None, rw.FLOWCASE_SP, None)
    assert selection(rw.FLOWCASE_JOB) == (None, None, rw.FLOWCASE_JOB)
    assert selection("Flowcase", "Box") == (None, None, None)


def test_the_choice_is_made_per_job():
    """One service principal with an outbound SCIM job and an inbound one (writeback into
    Entra): only the outbound job's events are Flowcase's."""
    outbound = rw.flowcase_events()
    inbound = [dict(e, id=f"in-{e['id']}", jobId=f"flowcaseInbound.{rw.TENANT_HEX}",
                    targetSystem={"id": "t", "displayName": "Microsoft Entra ID", "details": {}})
               for e in rw.flowcase_events()[:2]]
    chosen = scope.choose(_frames(outbound + inbound))
    assert chosen.frames.events.height == len(outbound)
    assert [(a.name, a.inbound, a.events) for a in chosen.others] == [("Flowcase", True, 2)]


def test_an_export_mixing_both_spellings_is_read_whole(tmp_path):
    """Envelopes in the diagnostic-settings spelling and one spelled like Graph: the fast
    reader's diagnostic columns would lose that one's app, so the careful reader reads all."""
    graph_spelled = {"time": "2026-03-24T07:40:11Z", "category": "ProvisioningLogs",
                     "properties": rw.flowcase_events()[0]}
    records = [rw.envelope(e) for e in rw.other_apps()] + [graph_spelled]
    frames = load([rw.write_ndjson(tmp_path / "PT1H.json", records)]).frames
    assert frames.events.height == len(records)
    assert frames.events["app_name"].null_count() == 0
    assert frames.events["status"].is_in(["success", "failure", "skipped"]).all()


def test_why_never_calls_an_unreadable_status_provisioned(tmp_path):
    record = rw.envelope(rw.flowcase_events()[1])
    del record["properties"]["provisioningStatusInfo"]["Status"]
    del record["properties"]["statusInfo"]
    del record["resultType"]
    path = rw.write_ndjson(tmp_path / "PT1H.json", [record])
    answer = json.loads(runner.invoke(app, ["why", "lars.hansen@northwind.no", str(path), "-q",
                                            "--format", "json"]).stdout)
    assert answer["verdict"]["state"] == "unknown"


def _capitalised_errors(error: dict[str, object]) -> dict[str, object]:
    return {key[0].upper() + key[1:]: value for key, value in error.items()}


def test_capitalised_error_fields_read_the_same_by_either_reader(tmp_path):
    """The diagnostic spelling capitalises keys; inside the error objects too, perhaps (3.1
    does not say): both readers read ``ErrorCode``/``Reason`` as Graph's fields."""
    record = rw.envelope(rw.airtable_conflict())
    status = record["properties"]["provisioningStatusInfo"]
    status["errorInformation"] = _capitalised_errors(status["errorInformation"])
    if isinstance(record["properties"].get("statusInfo"), dict):
        info = record["properties"]["statusInfo"]
        record["properties"]["statusInfo"] = {"Status": info.get("Status"),
                                              **_capitalised_errors(
                                                  {k: v for k, v in info.items()
                                                   if k != "Status"})}
    fast = rw.write_ndjson(tmp_path / "PT1H.json", [record])
    careful = tmp_path / "damaged.json"  # a broken last line sends it to the careful reader
    careful.write_text(fast.read_text(encoding="utf-8") + '{"time": "2026-03-2\n',
                       encoding="utf-8")
    columns = ["error_code", "http_status", "scim_type", "error_category"]
    read = [load([path]).frames.events.select(columns).row(0, named=True)
            for path in (fast, careful)]
    assert read[0] == read[1]
    logged = rw.airtable_conflict()["provisioningStatusInfo"]["errorInformation"]
    assert read[0]["error_code"] == logged["errorCode"]
    assert read[0]["http_status"] == 409 and read[0]["scim_type"] == "uniqueness"


def test_two_apps_named_flowcase_diagnosed_together_say_so(tmp_path):
    """Production "Flowcase" and a "Flowcase Test" sandbox beside it are both named Flowcase,
    so both are diagnosed: their findings mix (a sandbox token refused reads as production's
    to fix first), which is said, with each app's events and the --app that takes one alone."""
    sandbox = [dict(copy.deepcopy(e), id=f"test-{e['id']}",
                    jobId=f"scim.{rw.TENANT_HEX}.9e2d7c41-6b0a-4f83-a5d9-3c8e1f70b26d",
                    servicePrincipal={"id": "5a0c3e7d-91b2-4f4e-8d6a-27c1e9b0f3a4",
                                      "displayName": "Flowcase Test"})
               for e in rw.flowcase_events()[:2]]
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(rw.flowcase_events() + sandbox))
    chosen = scope.choose(_frames(rw.flowcase_events() + sandbox))
    assert [a.name for a in chosen.chosen] == ["Flowcase", "Flowcase Test"]
    said = ("diagnosed 2 apps named Flowcase together: Flowcase 5 events, Flowcase Test 2 "
            "events (a test app beside production?), so their findings mix; name one with "
            "--app to diagnose it alone")
    assert chosen.choice_note() == said
    for command in (["diagnose"], ["report", "--format", "md"]):
        result = runner.invoke(app, [*command, str(path), "-q"])
        assert result.exit_code == 0, result.output
        assert said in " ".join(result.stdout.split())
    alone = runner.invoke(app, ["diagnose", str(path), "-q", "--app", "Flowcase Test"])
    assert "diagnosed 2 apps" not in alone.stdout


def test_two_apps_both_named_flowcase_are_told_apart_by_their_service_principal(tmp_path):
    """An app re-created under the same name ("Flowcase" twice, the old one's logs still kept)
    is told apart by its service principal: --app Flowcase would take both again, and with
    --app no note says their findings mix."""
    old_sp = "5a0c3e7d-91b2-4f4e-8d6a-27c1e9b0f3a4"
    old = [dict(copy.deepcopy(e), id=f"old-{e['id']}",
                jobId=f"scim.{rw.TENANT_HEX}.9e2d7c41-6b0a-4f83-a5d9-3c8e1f70b26d",
                servicePrincipal={"id": old_sp, "displayName": "Flowcase"})
           for e in rw.flowcase_events()[:2]]
    chosen = scope.choose(_frames(rw.flowcase_events() + old))
    note = chosen.choice_note()
    assert note is not None and f"Flowcase (--app {old_sp}) 2 events" in note
    assert len(scope.choose(_frames(rw.flowcase_events() + old), [old_sp]).chosen) == 1
