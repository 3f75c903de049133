"""`fetch-job`: the sync job's status and schema saved raw from the loopback Graph."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app
from tests.conftest import SAMPLES
from tests.fake_graph import FLOWCASE, ConfigData, FakeGraph
from tests.graph_support import TOKEN

DATA = Path(__file__).parent / "data"
QUARANTINED = {k: v for k, v in json.loads(
    (SAMPLES / "job-status" / "pattern-16-quarantine-escrow.job.json").read_text()).items()
    if k != "@odata.context"}
SCHEMA = json.loads((DATA / "graph-sync-schema.json").read_text())
SECOND = {**QUARANTINED, "id": "scim.b3e1a7c45d924f6e8a102c9d7e4f6b58.0f2e9c11-7d3a-4b6e-9c0d"
          "-2a5b8e1f4c77", "status": {**QUARANTINED["status"], "code": "Active"}}


def serve(*jobs: dict) -> FakeGraph:
    sp = FLOWCASE.service_principal_id
    apps = ConfigData(service_principals={sp: {"id": sp, "displayName": FLOWCASE.name}})
    return FakeGraph([], token=TOKEN, jobs={sp: list(jobs)},
                     schemas={job["id"]: SCHEMA for job in jobs}, config=apps)


def fetch_job(graph: FakeGraph, out: Path, *args: str,
              sp: str | None = FLOWCASE.service_principal_id):
    chosen = ["--service-principal-id", sp] if sp else []
    result = CliRunner().invoke(app, ["fetch-job", "--graph-url", graph.url, "-o", str(out),
                                      *chosen, *args],
                                env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert result.stdout == ""  # fetch-job writes files; what it says goes to stderr
    return result.exit_code, result.stderr


def test_saves_job_status_and_schema_as_received(tmp_path):
    with serve(QUARANTINED) as graph:
        code, said = fetch_job(graph, tmp_path, "--job-id", QUARANTINED["id"])
        served = [s.path for s in graph.served]
    assert code == 0, said
    job = json.loads((tmp_path / "sync-job.json").read_text())
    schema = json.loads((tmp_path / "sync-schema.json").read_text())
    assert job["status"] == QUARANTINED["status"] and job["@odata.context"].endswith("$entity")
    assert schema["synchronizationRules"] == SCHEMA["synchronizationRules"]
    assert "QUARANTINED" in said and "status Quarantine" in said
    base = f"/v1.0/servicePrincipals/{FLOWCASE.service_principal_id}/synchronization/jobs/"
    assert served == [base + QUARANTINED["id"], base + QUARANTINED["id"] + "/schema"]


def test_the_single_job_is_picked_without_a_job_id(tmp_path):
    with serve(QUARANTINED) as graph:
        code, said = fetch_job(graph, tmp_path)
    assert code == 0
    assert QUARANTINED["id"] in said
    assert json.loads((tmp_path / "sync-job.json").read_text())["id"] == QUARANTINED["id"]


def test_the_app_is_found_by_its_display_name_as_check_and_retest_find_it(tmp_path):
    with serve(QUARANTINED) as graph:
        code, said = fetch_job(graph, tmp_path, "--app", FLOWCASE.name, sp=None)
        asked = [s.query.get("$filter") for s in graph.served if s.path.endswith("Principals")]
    assert code == 0, said
    assert asked == [f"displayName eq '{FLOWCASE.name}'"]
    assert json.loads((tmp_path / "sync-job.json").read_text())["id"] == QUARANTINED["id"]
    with serve(QUARANTINED) as graph:
        code, said = fetch_job(graph, tmp_path / "other", "--app", "flowcase scim", sp=None)
    assert code == 2 and "no enterprise application is named 'flowcase scim'" in said
    with serve(QUARANTINED) as graph:
        code, said = fetch_job(graph, tmp_path / "none", sp=None)
    assert code == 2 and "needs --app NAME or --service-principal-id ID" in said


def test_several_jobs_without_a_terminal_exit_2_listing_them(tmp_path):
    with serve(QUARANTINED, SECOND) as graph:
        code, stderr = fetch_job(graph, tmp_path)
    assert code == 2
    assert QUARANTINED["id"] in stderr and SECOND["id"] in stderr and "--job-id" in stderr
    assert not (tmp_path / "sync-job.json").exists()


def test_unknown_service_principal_points_at_object_id_versus_client_id(tmp_path):
    with serve(QUARANTINED) as graph:
        code, stderr = fetch_job(graph, tmp_path, sp="8adf8e6e-67b2-4cf2-a259-e3dc5476c621")
    assert code == 2
    assert "Request_ResourceNotFound" in stderr
    assert "object id, not its application (client) id" in stderr


def test_403_names_the_synchronization_permission(tmp_path):
    with serve(QUARANTINED) as graph:
        graph.fail("/synchronization/", 403)
        code, stderr = fetch_job(graph, tmp_path, "--job-id", QUARANTINED["id"])
    assert code == 2
    assert "Synchronization.Read.All" in stderr and TOKEN not in stderr


@pytest.mark.parametrize("marker", [".fetch-state.json", "page-00001.json"])
def test_refuses_a_folder_of_log_pages(tmp_path, marker):
    (tmp_path / marker).write_text("{}")
    with serve(QUARANTINED) as graph:
        code, stderr = fetch_job(graph, tmp_path, "--job-id", QUARANTINED["id"])
        assert not graph.served
    assert code == 2 and "log pages" in stderr
