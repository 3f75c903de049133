"""The command-line side of Graph fetching: messages, exit codes, and the `--graph` helper."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from loganalyzer.cli import app, load_inputs
from loganalyzer.fetch_cli import fetched_folder, run_fetch
from tests.fake_graph import FLOWCASE, FakeGraph
from tests.graph_support import TOKEN, events, options

LOGS = "/auditLogs/provisioning"


@pytest.fixture
def graph():
    with FakeGraph(events(), token=TOKEN) as fake:
        yield fake


def fetch(graph: FakeGraph, *args: str):
    result = CliRunner().invoke(
        app, ["fetch", "--graph-url", graph.url, "--from", "2026-03-01", "--to", "2026-03-31",
              "-q", *args], env={"GRAPH_ACCESS_TOKEN": TOKEN})
    return result.exit_code, result.stdout, result.stderr


def test_fetch_then_rerun_says_it_is_complete_and_summary_reads_the_folder(graph, tmp_path):
    out = str(tmp_path / "logs")
    code, stdout, _ = fetch(graph, "-o", out, "--status", "failure")
    failures = sum(e["provisioningStatusInfo"]["status"] == "failure" for e in graph.events)
    assert code == 0 and f"{failures} events" in stdout
    assert "provisioningStatusInfo/status eq 'failure'" in stdout
    code, stdout, _ = fetch(graph, "-o", out, "--status", "failure")
    assert code == 0 and "already holds this download, complete" in stdout
    summary = CliRunner().invoke(app, ["summary", out, "--format", "json", "-q"])
    assert summary.exit_code == 0 and f'"failure": {failures}' in summary.stdout


def test_incremental_from_the_command_line(graph, tmp_path):
    state = tmp_path / "flowcase.state"
    code, stdout, _ = fetch(graph, "-o", str(tmp_path / "logs"), "--incremental", str(state),
                            "--app", FLOWCASE.name)
    assert code == 0 and state.exists()
    assert "next run asks for events from 2026-03-31 23:00 UTC on" in stdout
    code, stdout, _ = fetch(graph, "-o", str(tmp_path / "logs"), "--incremental", str(state),
                            "--app", FLOWCASE.name)
    assert code == 0 and "0 events" in stdout


def test_graph_unavailable_exits_3_and_says_how_to_resume(graph, tmp_path, capsys):
    graph.drop(LOGS, times=10)
    with pytest.raises(typer.Exit) as stop:
        run_fetch(options(graph), tmp_path, quiet=True)
    assert stop.value.exit_code == 3
    assert "re-run the same command to resume" in capsys.readouterr().err


def test_fetched_folder_feeds_analysis_and_is_removed(graph):
    with fetched_folder(options(graph), quiet=True) as folder:
        dataset = load_inputs([folder], quiet=True)
        assert folder.exists()
    assert not folder.exists()
    assert sorted(dataset.frames.events["event_id"]) == sorted(e["id"] for e in graph.events)
