"""Reading the configuration from the loopback Graph with msgraph-sdk: the same findings online
as offline, paging, fetch-config's files, and 403s that name the missing permission."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.config.check import run_checks
from loganalyzer.config.files import read_config_dir
from loganalyzer.graph.client import GraphError
from loganalyzer.graph.config_fetch import NO_SECRETS, AppTarget, fetch_config
from tests.graph_support import CONFIG, SP_ID, TOKEN, config_graph, connection

APP = "Flowcase SCIM"


def online(graph, **target) -> tuple:
    return fetch_config(connection(graph), AppTarget(**(target or {"app_name": APP})))


def ids(result) -> list[str]:
    return [f.check_id for f in result.findings]


def run(graph, *args: str):
    result = CliRunner().invoke(app, [*args, "--graph-url", graph.url],
                                env={"GRAPH_ACCESS_TOKEN": TOKEN})
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("sample", ["good", "bad"])
def test_graph_gives_the_same_findings_as_the_files(sample) -> None:
    offline = run_checks(read_config_dir(CONFIG / sample, lambda _n: None))
    with config_graph(CONFIG / sample, token=TOKEN) as graph:
        sp_id, snap = online(graph)
        paged = [s for s in graph.served if "$skiptoken" in s.query]
    result = run_checks(snap)
    assert sp_id == SP_ID
    assert ids(result) == ids(offline) and result.not_checked == []
    assert [f.evidence for f in result.findings] == [f.evidence for f in offline.findings]
    assert paged, "collections of more than $top items are read through their nextLinks"


def test_members_and_assignments_are_paged_and_selected() -> None:
    with config_graph(CONFIG / "bad", token=TOKEN) as graph:
        online(graph, service_principal_id=SP_ID)
        nested = graph.log_requests("/transitiveMembers")
    # Flowcase Consultants: 3 users + the nested group + its 3 users = 7 objects, in 4 pages
    # of 2; Flowcase Managers: 2 users, one page
    assert len(nested) == 5
    assert nested[0].query["$select"] == "id,displayName,userPrincipalName,mail"
    assert all(s.authorization == f"Bearer {TOKEN}" for s in nested)


def test_fetch_config_files_give_the_same_check_and_hold_no_token(tmp_path) -> None:
    out = tmp_path / "config"
    with config_graph(CONFIG / "bad", token=TOKEN) as graph:
        graph.config.synchronization[SP_ID]["secrets"].append(
            {"key": "SecretToken", "value": 'token="fc_live_9f8e7d6c5b4a"'})
        code, stdout, stderr = run(graph, "fetch-config", "--graph", "--app", APP, "-o", str(out))
        assert code == 0, stderr
        _, snap = online(graph)
    assert stdout == ""  # what fetch-config wrote is said on stderr, as every command does
    assert stderr.startswith(f"wrote 10 files to {out} for service principal {SP_ID}")
    saved = " ".join(p.read_text() for p in out.glob("*.json"))
    assert "fc_live_9f8e7d6c5b4a" not in saved and "SecretToken" not in saved
    assert TOKEN not in saved
    assert ids(run_checks(read_config_dir(out, lambda _n: None))) == ids(run_checks(snap))
    notes = json.loads((out / "fetch-config.json").read_text())
    assert notes["servicePrincipalId"] == SP_ID and notes["unavailable"] == {}


def test_fetch_config_refuses_a_folder_it_did_not_write(tmp_path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    with config_graph(CONFIG / "good", token=TOKEN) as graph:
        code, _, stderr = run(graph, "fetch-config", "--app", APP, "-o", str(tmp_path))
    assert code == 2 and "was not written by fetch-config" in stderr


@pytest.mark.parametrize(("path", "permission", "checks"), [
    (f"/servicePrincipals/{SP_ID}/synchronization/jobs", "Synchronization.Read.All",
     {"CC001", "CC002", "CC003", "CC004", "CC005", "CC006", "CC007", "CC008", "CC009", "CC015",
      "CC018"}),
    ("/appRoleAssignedTo", "Application.Read.All", {"CC014"}),
    ("/transitiveMembers", "GroupMember.Read.All", {"CC014"}),
    (f"/v1.0/servicePrincipals/{SP_ID}", "Application.Read.All",
     {"CC010", "CC011", "CC012", "CC013"}),
])
def test_a_refused_part_is_not_checked_and_names_the_permission(path, permission, checks) -> None:
    with config_graph(CONFIG / "bad", token=TOKEN) as graph:
        graph.fail(path, 403)
        _, snap = online(graph, service_principal_id=SP_ID)
    result = run_checks(snap)
    not_checked = {n.check_id: n.reason for n in result.not_checked}
    assert set(not_checked) == checks
    for reason in not_checked.values():
        assert "(403 Authorization_RequestDenied: Insufficient privileges" in reason
        assert reason.endswith(f"it needs the {permission} permission")
    assert set(ids(result)) == {r for r in ids(run_checks(
        read_config_dir(CONFIG / "bad", lambda _n: None)))} - checks


def test_settings_graph_does_not_return_are_not_checked_with_the_log_rule() -> None:
    with config_graph(CONFIG / "bad", token=TOKEN) as graph:
        graph.config.synchronization[SP_ID] = {"id": SP_ID, "secrets": []}
        code, stdout, _ = run(graph, "check", "--graph", "--app", APP)
    shown = " ".join(stdout.split())
    assert code == 0
    assert f"CC016 The Tenant URL lacks ?aadOptscim062020: {NO_SECRETS} (in the logs: FC003)" in (
        shown)
    assert "(in the logs: FC019)" in shown and "Checks run: 16 of 19." in shown


def test_check_graph_exit_codes() -> None:
    with config_graph(CONFIG / "bad", token=TOKEN) as graph:
        code, stdout, _ = run(graph, "check", "--graph", "--app", APP, "--fail-on", "critical")
        assert code == 1 and "18 findings" in stdout
        code, _, stderr = run(graph, "check", "--graph", "--app", "flowcase scim")
        assert code == 2 and "no enterprise application is named 'flowcase scim'" in stderr
        code, _, stderr = run(graph, "check", "--graph")
        assert code == 2 and "needs --app NAME or --service-principal-id ID" in stderr
    with config_graph(CONFIG / "bad", token="another-token") as graph:
        code, _, stderr = run(graph, "check", "--graph", "--app", APP)
    assert code == 2 and stderr.count("\n") == 1
    assert "Graph did not accept the sign-in" in stderr and TOKEN not in stderr


def test_graph_still_unavailable_is_exit_3_material() -> None:
    with config_graph(CONFIG / "good", token=TOKEN) as graph:
        graph.fail("/servicePrincipals", 503, times=20, retry_after="0")
        with pytest.raises(GraphError) as error:
            online(graph)
        retries = len(graph.log_requests("/servicePrincipals"))
    assert error.value.exit_code == 3 and retries == 4  # the first try and 3 retries
    assert "still throttling or unavailable after 3 retries" in str(error.value)


@pytest.mark.parametrize("status", [500, 502, 504])
def test_a_passing_server_error_is_retried(status) -> None:
    with config_graph(CONFIG / "good", token=TOKEN) as graph:
        graph.fail("/servicePrincipals", status, times=2)
        sp_id, _snap = online(graph)
        first = graph.log_requests("/servicePrincipals")[:3]
    assert sp_id == SP_ID
    assert [s.status for s in first] == [status, status, 200]
    assert [s.retry_attempt for s in first] == [None, "1", "2"]


def test_a_dropped_connection_is_retried_as_fetch_retries_it() -> None:
    with config_graph(CONFIG / "good", token=TOKEN) as graph:
        graph.drop("/servicePrincipals", times=2)
        sp_id, _snap = online(graph)
        asked = graph.log_requests("/servicePrincipals")[:3]
    assert sp_id == SP_ID
    assert len({json.dumps(s.query, sort_keys=True) for s in asked}) == 1  # the same, thrice


def test_graph_that_answered_then_keeps_dropping_says_try_again_not_the_network() -> None:
    with config_graph(CONFIG / "good", token=TOKEN) as graph:
        graph.drop("/synchronization/jobs", times=10)
        with pytest.raises(GraphError) as error:
            online(graph)
        tries = len(graph.log_requests("/synchronization/jobs"))
    assert error.value.exit_code == 3 and tries == 3  # FAST: 3 tries
    said = str(error.value)
    assert " failed 3 times for the synchronization jobs (" in said
    assert said.endswith("; try again later") and "never answered" not in said


def test_check_graph_exits_3_in_one_line_when_graph_keeps_failing() -> None:
    with config_graph(CONFIG / "good", token=TOKEN) as graph:
        graph.fail("/servicePrincipals", 502, times=20, retry_after="1")
        code, _, stderr = run(graph, "check", "--graph", "--app", APP)
        tries = len(graph.log_requests("/servicePrincipals"))
    assert code == 3 and tries == 6  # the first try and 5 retries
    assert stderr.count("\n") == 1 and "Traceback" not in stderr
    assert "still throttling or unavailable after 5 retries (502" in stderr
    assert TOKEN not in stderr


@pytest.mark.parametrize(
    "body",
    [
        {"@odata.context": "$metadata#servicePrincipals('x')/synchronization/jobs"},
        {"value": [{"id": "scim.1"}], "@odata.nextLink": "synchronization/jobs?$skiptoken=a1"},
    ],
    ids=["no value", "relative nextLink"],
)
def test_a_malformed_page_exits_3_in_one_line(body) -> None:
    with config_graph(CONFIG / "good", token=TOKEN) as graph:
        graph.fail("/synchronization/jobs", 200, body=body)
        code, _, stderr = run(graph, "check", "--graph", "--app", APP)
    assert code == 3 and stderr.count("\n") == 1 and "Traceback" not in stderr
    assert stderr.startswith("error: Graph sent a page of the synchronization jobs that cannot "
                             "be read (")


CONSULTANTS = "a2ff8130-93fa-5035-b552-51a9848ebc04"  # the nested group, 4 pages of members
NESTED = f"/groups/{CONSULTANTS}/transitiveMembers"


def test_an_empty_page_with_a_next_link_is_followed() -> None:
    """Graph may send a page with no items and a nextLink; the rest of the members follow."""
    with config_graph(CONFIG / "bad", token=TOKEN) as graph:
        _, expected = online(graph, service_principal_id=SP_ID)
        graph.fail(NESTED, 200, body={"value": [],
                                      "@odata.nextLink": f"{graph.url}{NESTED}?$top=2"})
        _, snap = online(graph, service_principal_id=SP_ID)
    assert len(snap.members[CONSULTANTS].transitive) == 7
    assert ids(run_checks(snap)) == ids(run_checks(expected))


def test_a_repeated_next_link_in_a_collection_stops_with_exit_3() -> None:
    with config_graph(CONFIG / "bad", token=TOKEN) as graph:
        loop = f"{graph.url}{NESTED}?$top=2&$skiptoken=5f1c0e9a"
        graph.fail(NESTED, 200, times=50, body={"value": [], "@odata.nextLink": loop})
        with pytest.raises(GraphError, match="same @odata.nextLink again") as error:
            online(graph, service_principal_id=SP_ID)
        asked = graph.log_requests(NESTED)
    assert error.value.exit_code == 3 and len(asked) == 2  # the first page and the link once
    assert f"the nested members of group {CONSULTANTS}" in str(error.value)


def test_a_next_link_to_another_server_gets_no_token() -> None:
    with config_graph(CONFIG / "bad", token=TOKEN) as graph:
        graph.fail(NESTED, 200, body={"value": [], "@odata.nextLink":
                                      f"https://collector.example.net{NESTED}"})
        with pytest.raises(GraphError, match="refusing to send the token there"):
            online(graph, service_principal_id=SP_ID)


def test_fetch_config_files_keep_what_the_sdk_models_would_drop(tmp_path) -> None:
    """kiota's writer drops flags enums (flowTypes, discoverabilities) and writes a job's
    interval as 0:40:00; the files say what Graph sent."""
    out = tmp_path / "config"
    with config_graph(CONFIG / "good", token=TOKEN) as graph:
        code, _, stderr = run(graph, "fetch-config", "--app", APP, "-o", str(out))
    assert code == 0, stderr
    sent = json.loads((CONFIG / "good" / "schema-1.json").read_text())
    saved = json.loads((out / "schema-1.json").read_text())
    for key, path in (("flowTypes", ("synchronizationRules", "objectMappings")),
                      ("discoverabilities", ("directories",))):
        def values(doc, path=path, key=key):
            items = [doc]
            for step in path:
                items = [inner for item in items for inner in item[step]]
            return [item.get(key) for item in items]
        assert values(saved) == values(sent) and any(values(sent))
    job = json.loads((CONFIG / "good" / "synchronization-jobs.json").read_text())["value"][0]
    saved_job = json.loads((out / "synchronization-jobs.json").read_text())["value"][0]
    assert saved_job["schedule"]["interval"] == job["schedule"]["interval"] == "PT40M"


@pytest.mark.parametrize("interval, text", [
    (timedelta(minutes=40), "PT40M"), (timedelta(days=1), "P1D"),
    (timedelta(hours=1, minutes=30), "PT1H30M"), (timedelta(0), "PT0S"),
    (timedelta(days=2, seconds=5), "P2DT5S"), (timedelta(milliseconds=500), "PT0.5S"),
    # Graph's "never" interval, to the microsecond a timedelta keeps
    (timedelta(days=10675199, hours=2, minutes=48, seconds=5, microseconds=477581),
     "P10675199DT2H48M5.477581S")])
def test_a_job_interval_is_written_as_iso_8601(interval, text) -> None:
    from loganalyzer.config.model import iso_duration

    assert iso_duration(interval) == text
