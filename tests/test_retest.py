"""`retest`: Provision on demand against the loopback Graph, confirmation, and the diagnosis of
each result (the on-demand response read like a log event)."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.on_demand import read_on_demand
from loganalyzer.problems import InputError
from tests.graph_support import CONFIG, SP_ID, TOKEN, config_graph
from tests.on_demand_records import ANNA, MARTE, RESPONSES, USERS

JOB = "scim.b3e1a7c45d924f6e8a102c9d7e4f6b58.4c7e2a91-0b3d-4e58-a6f2-9d1c8b7e5a30"
RULE = "6c409270-f78a-4bc6-af23-7cf3ab6e6b96"


@pytest.fixture
def graph(monkeypatch):
    monkeypatch.setattr("loganalyzer.graph.retest.PACE_SECONDS", 0.0)
    with config_graph(CONFIG / "good", token=TOKEN) as fake:
        fake.config.users = USERS
        fake.config.on_demand = RESPONSES
        yield fake


def retest(graph, *args: str, stdin: str | None = None):
    result = CliRunner().invoke(app, ["retest", "--graph-url", graph.url, "--app",
                                      "Flowcase SCIM", *args], input=stdin,
                                env={"GRAPH_ACCESS_TOKEN": TOKEN})
    return result.exit_code, result.stdout, result.stderr


def test_retest_provisions_each_user_once_and_diagnoses_the_result(graph) -> None:
    code, stdout, stderr = retest(graph, "anna.berg@northwind.no", MARTE, "--graph", "--yes")
    assert code == 1  # Marte still fails
    assert "Provision on demand for 2 users of job" in stderr
    assert stdout.startswith("anna.berg@northwind.no: SUCCESS")
    marte = stdout.split(f"{MARTE}: ")[1]
    assert marte.startswith("FAILURE — SystemForCrossDomainIdentityManagementServiceIncompatible: "
                            "Unknown role: Consultant.")
    assert "[HIGH] FC011 " in marte and "guide step 4" in marte
    posts = [body for path, body in graph.posts]
    assert [p["parameters"][0]["subjects"] for p in posts] == [
        [{"objectId": ANNA, "objectTypeName": "User"}],
        [{"objectId": MARTE, "objectTypeName": "User"}]]
    assert {p["parameters"][0]["ruleId"] for p in posts} == {RULE}
    assert all(path.endswith(f"jobs/{JOB}/provisionOnDemand") for path, _ in graph.posts)


def test_retest_asks_first_and_does_nothing_when_declined(graph, monkeypatch) -> None:
    monkeypatch.setattr("loganalyzer.cli.retest._interactive", lambda: True)
    code, _, stderr = retest(graph, "anna.berg@northwind.no", stdin="n\n")
    assert code == 2 and "nothing provisioned" in stderr and graph.posts == []
    code, stdout, _ = retest(graph, "anna.berg@northwind.no", stdin="y\n")
    assert code == 0 and "SUCCESS" in stdout and len(graph.posts) == 1


def test_retest_without_a_terminal_needs_yes(graph) -> None:
    code, _, stderr = retest(graph, "anna.berg@northwind.no")
    assert code == 2 and "pass --yes to confirm" in stderr and graph.posts == []


def test_retest_without_write_permission_names_it(graph) -> None:
    graph.fail("/provisionOnDemand", 403)
    code, _, stderr = retest(graph, ANNA, "--yes")
    assert code == 2
    assert stderr.splitlines()[-1].endswith(
        "it needs the Synchronization.ReadWrite.All permission")


def test_retest_json(graph) -> None:
    code, stdout, _ = retest(graph, ANNA, "--yes", "--format", "json")
    (result,) = json.loads(stdout)
    assert code == 0 and result["result"] == "Success" and result["failed"] is False
    assert [s[0] for s in result["steps"]] == ["EntryImportAdd", "EntrySynchronizationScoping",
                                               "EntryImport", "EntryExportAdd"]


def test_an_on_demand_value_that_is_not_json_text_is_one_line() -> None:
    with pytest.raises(InputError) as error:
        read_on_demand("anna", '{"result": "Success"}', "{not json", SP_ID, JOB)
    assert str(error.value).startswith("Provision on demand for anna: its value is not JSON text")


def test_a_write_is_not_retried_on_a_server_error_but_reads_are(graph) -> None:
    """provisionOnDemand may have run when Graph answers 503: sending it again could act
    twice. The reads before it (the user lookup) are retried."""
    graph.fail("/users/", 503, retry_after="1")
    graph.fail("/provisionOnDemand", 503)
    code, stdout, stderr = retest(graph, "anna.berg@northwind.no", "--yes")
    assert [s.status for s in graph.log_requests("/users/")] == [503, 200]
    assert [s.status for s in graph.log_requests("/provisionOnDemand")] == [503]
    assert code == 3 and stdout == "" and "Traceback" not in stderr
    assert stderr.splitlines()[-1].endswith(
        "a write is not retried, as Graph may have carried it out: check the result before "
        "running it again")


def test_a_connection_dropped_after_a_write_was_sent_is_not_sent_again(graph) -> None:
    """Graph received provisionOnDemand and may have carried it out before the connection
    dropped: unlike a read, it is not sent again, and the message says to check first."""
    graph.drop("/provisionOnDemand")
    code, stdout, stderr = retest(graph, "anna.berg@northwind.no", "--yes")
    assert len(graph.log_requests("/provisionOnDemand")) == 1 and len(graph.posts) == 1
    assert code == 3 and stdout == "" and "Traceback" not in stderr
    line = stderr.splitlines()[-1]
    assert "failed for Provision on demand for anna.berg@northwind.no (" in line
    assert line.endswith("a write is not retried, as Graph may have carried it out: check the "
                         "result before running it again")
