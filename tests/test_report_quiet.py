"""`report --graph` over a quiet period: Entra logs only changes, so a week in which nothing
changed has no provisioning events at all, and the weekly job must still write its report.

The stand-in Graph (tests/fake_graph.py) serves Graph-shaped records; what a previous week held
is counted by `diagnose` over the same records as a file, not by the report code under test.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import SAMPLES
from fake_graph import FLOWCASE, FakeGraph, make_events
from report_support import md_section, md_tables, run_report
from typer.testing import CliRunner

from loganalyzer.cli import app

TOKEN = "quiet-week-token-not-printed"
MARCH = make_events(60, datetime(2026, 3, 2, tzinfo=UTC), timedelta(hours=1))
QUIET_FEBRUARY = ("--from", "2026-02-01", "--to", "2026-02-07")
NO_EVENTS = "No provisioning events in the period: nothing changed (Entra logs only changes)"
QUARANTINE_JOB = SAMPLES / "job-status" / "pattern-16-quarantine-escrow.job.json"


def _graph_report(graph: FakeGraph, target: Path, *args: str | Path) -> tuple[int, str]:
    result = run_report("--graph", "--graph-url", graph.url, "--access-token", TOKEN,
                        "--app", FLOWCASE.name, *args, "-o", target)
    text = target.read_text(encoding="utf-8") if target.exists() else ""
    assert TOKEN not in result.output + text
    return result.exit_code, text


def _figures(markdown: str) -> dict[str, str]:
    return {row[0]: row[1] for row in md_tables(md_section(markdown, "Key figures"))[0][1:]}


def _rule_ids(section: str) -> set[str]:
    tables = md_tables(section)
    return {row[1] for row in tables[0][1:]} if tables else set()


@pytest.mark.parametrize("name", ["weekly.md", "weekly.html"])
def test_a_window_without_events_is_reported_healthy(tmp_path: Path, name: str) -> None:
    with FakeGraph(MARCH, token=TOKEN) as graph:
        code, text = _graph_report(graph, tmp_path / name, *QUIET_FEBRUARY, "--fail-on", "high")
    assert code == 0
    assert NO_EVENTS in text
    assert "check that the job is running (fetch-job shows its status)" in text
    assert "2026-02-01 00:00 UTC to 2026-02-08 00:00 UTC (no events)" in text
    if name.endswith(".md"):
        assert "## Health: healthy" in text
        assert f"| Selection | Microsoft Graph: app '{FLOWCASE.name}' |" in text
        assert _figures(text)["Events"] == "0"
        assert "No rule found a problem in this period." in md_section(text, "Findings")
    else:
        assert 'class="verdict verdict-healthy"' in text
        assert f"Microsoft Graph: app &#39;{FLOWCASE.name}&#39;" in text
        assert '<article class="finding' not in text and "<svg" not in text


def test_a_quiet_week_after_a_busy_one_lists_its_findings_as_resolved(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    served = make_events(60, now - timedelta(days=13), timedelta(hours=1))  # all 8+ days ago
    ours = [e for e in served if e["servicePrincipal"]["displayName"] == FLOWCASE.name]
    export = tmp_path / "previous-week.json"
    export.write_text(json.dumps(ours), encoding="utf-8")
    diagnosed = CliRunner().invoke(app, ["diagnose", str(export), "--format", "json", "-q"])
    before = {finding["rule_id"] for finding in json.loads(diagnosed.stdout)["findings"]}
    assert before  # the previous week has something to resolve

    with FakeGraph(served, token=TOKEN) as graph:
        code, markdown = _graph_report(graph, tmp_path / "weekly.md", "--since", "7d",
                                       "--compare-previous", "--fail-on", "high")
    assert code == 0
    assert "## Health: healthy" in markdown and NO_EVENTS in markdown
    assert _figures(markdown)["Events"] == "0"
    section = md_section(markdown, "Compared with the previous period")
    assert f"({len(ours)} events)" in section
    assert _rule_ids(md_section(section, "Resolved findings")) == before
    assert "No new finding." in section and "No finding carried over." in section
    assert f"| Apps | {FLOWCASE.name} |" in markdown  # named from the week before


def test_a_previous_period_beyond_what_graph_keeps_names_nothing_new(tmp_path: Path) -> None:
    """Graph keeps 30 days: of --since 4w's previous period it returns only the last days, so
    it is partly unknown, as for an export that begins late; it was taken as quiet and every
    finding of the month was called new."""
    now = datetime.now(UTC)
    served = make_events(60, now - timedelta(days=20), timedelta(hours=6))
    with FakeGraph(served, token=TOKEN) as graph:
        code, markdown = _graph_report(graph, tmp_path / "monthly.md", "--since", "4w",
                                       "--compare-previous")
    assert code == 0
    section = md_section(markdown, "Compared with the previous period")
    assert "No finding is called new: the input begins at" in section
    assert not _rule_ids(md_section(section, "New findings"))
    assert "(new)" not in md_section(markdown, "Findings")


def test_a_quarantined_job_leads_the_verdict_of_a_quiet_week(tmp_path: Path) -> None:
    reason = json.loads(QUARANTINE_JOB.read_text())["status"]["quarantine"]["reason"]
    with FakeGraph(MARCH, token=TOKEN) as graph:
        code, markdown = _graph_report(graph, tmp_path / "weekly.md", *QUIET_FEBRUARY,
                                       "--job-status", QUARANTINE_JOB, "--fail-on", "high")
    assert code == 1  # the quarantine finding is high; the report is written all the same
    verdict = md_section(markdown, "Health: failing")
    assert verdict.strip().startswith(f"The provisioning job is in quarantine ({reason}")
    assert "the period has no provisioning events" in verdict
    assert _figures(markdown)["Quarantine"] == "in quarantine"


FAILED_RUN = {
    "lastExecution": {
        "state": "Failed",
        "error": {"code": "SystemForCrossDomainIdentityManagementServiceUnavailable",
                  "message": "The SCIM endpoint did not answer.", "tenantActionable": True},
    },
}


@pytest.mark.parametrize(
    ("status", "verdict", "sentence"),
    [
        (FAILED_RUN, "failing", "The provisioning job's last run failed (SystemForCrossDomain"
         "IdentityManagementServiceUnavailable: The SCIM endpoint did not answer), and the "
         "period has no provisioning events."),
        ({"code": "Paused"}, "degraded", "The provisioning job is not running (status Paused), "
         "so nothing was provisioned in the period"),
    ],
)
def test_a_job_that_does_not_run_leads_the_verdict_of_a_quiet_week(
    tmp_path: Path, status: dict, verdict: str, sentence: str
) -> None:
    job = json.loads((SAMPLES / "job-status" / "healthy.job.json").read_text())
    for key, value in status.items():
        job["status"][key] = {**job["status"][key], **value} if key == "lastExecution" else value
    job_file = tmp_path / "sync-job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    with FakeGraph(MARCH, token=TOKEN) as graph:
        code, markdown = _graph_report(graph, tmp_path / "weekly.md", *QUIET_FEBRUARY,
                                       "--job-status", job_file)
    assert code == 0
    assert sentence in md_section(markdown, f"Health: {verdict}")


def test_an_empty_export_is_still_unusable_input(tmp_path: Path) -> None:
    export = tmp_path / "provisioning.json"
    export.write_text('{"value": []}', encoding="utf-8")
    result = run_report(export, "--since", "7d", "-o", tmp_path / "weekly.md")
    assert result.exit_code == 2
    assert f"{export}: holds no provisioning events" in result.output
    assert not (tmp_path / "weekly.md").exists()
