"""`report` over a quiet period: Entra logs only changes, so a week in which nothing changed
has no provisioning events at all, and the weekly job must still write its report, without
calling the week before's findings resolved (nothing was provisioned to show them fixed).

The stand-in Graph (tests/fake_graph.py) serves Graph-shaped records; what a previous week held
is counted by `diagnose` over the same records as a file, not by the report code under test.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from conftest import SAMPLES
from fake_graph import FLOWCASE, FakeGraph, make_events
from report_support import md_section, md_tables, run_report
from typer.testing import CliRunner
from why_records import Person, create, failed_create, in_sync, scim_error, write_export

from loganalyzer.cli import app

TOKEN = "quiet-week-token-not-printed"
MARCH = make_events(60, datetime(2026, 3, 2, tzinfo=UTC), timedelta(hours=1))
# after MARCH's events, and kept by Graph on the day the tests ask it (conftest.graph_in_march)
QUIET_WEEK = ("--from", "2026-03-20", "--to", "2026-03-26")
NO_EVENTS = "No provisioning events in the period: nothing changed (Entra logs only changes)"
QUARANTINE_JOB = SAMPLES / "job-status" / "pattern-16-quarantine-escrow.job.json"
WEEKLY = SAMPLES / "weekly-two-periods.json"


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
def test_a_window_without_events_is_reported_healthy(tmp_path: Path, name: str,
                                                     graph_in_march) -> None:
    with FakeGraph(MARCH, token=TOKEN) as graph:
        code, text = _graph_report(graph, tmp_path / name, *QUIET_WEEK, "--fail-on", "high")
    assert code == 0
    assert NO_EVENTS in text
    assert "check that the job is running (fetch-job shows its status)" in text
    assert "2026-03-20 00:00 UTC to 2026-03-27 00:00 UTC (no events)" in text
    if name.endswith(".md"):
        assert "## Health: healthy" in text
        assert f"| Selection | Microsoft Graph: app '{FLOWCASE.name}' |" in text
        assert _figures(text)["Events"] == "0"
        assert "No rule found a problem in this period." in md_section(text, "Findings")
    else:
        assert 'class="verdict verdict-healthy"' in text
        assert f"Microsoft Graph: app &#39;{FLOWCASE.name}&#39;" in text
        assert '<article class="finding' not in text and "<svg" not in text


def _diagnosed_rules(tmp_path: Path, records: list[dict], loud: bool = False,
                     unmended: bool = False) -> set[str]:
    """The rules `diagnose` finds in these records as an export (``loud``: at high severity
    or above; ``unmended``: not mended since): what the previous period held, counted apart
    from the report code under test."""
    export = tmp_path / "previous-week.json"
    export.write_text(json.dumps(records), encoding="utf-8")
    diagnosed = CliRunner().invoke(app, ["diagnose", str(export), "--format", "json", "-q"])
    return {finding["rule_id"] for finding in json.loads(diagnosed.stdout)["findings"]
            if (not loud or finding["severity"] in ("critical", "high"))
            and not (unmended and finding["mended"])}


def _minute(record: dict) -> str:
    return record["activityDateTime"][:16].replace("T", " ")


def _html_rule_ids(html: str, heading: str) -> set[str]:
    """The Rule cells of the comparison table under an <h3> heading of the HTML report."""
    part = html.split(f"<h3>{heading}</h3>", 1)[1].split("<h3>", 1)[0].split("</section>", 1)[0]
    return set(re.findall(r'<td class="mono id">(FC\d+)</td>', part))


def test_a_quiet_graph_week_after_a_busy_one_resolves_nothing(tmp_path: Path) -> None:
    """Nothing was provisioned this week, so nothing was shown fixed: last week's findings are
    listed as not retested, not as resolved (as they were: a scheduled job acting on the
    JSON's "resolved" would take a quiet week for a fix)."""
    now = datetime.now(UTC)
    served = make_events(60, now - timedelta(days=13), timedelta(hours=1))  # all 8+ days ago
    ours = [e for e in served if e["servicePrincipal"]["displayName"] == FLOWCASE.name]
    before = _diagnosed_rules(tmp_path, ours)
    loud = sorted(_diagnosed_rules(tmp_path, ours, loud=True))
    assert before and loud  # the previous week failed loudly: nothing showed it fixed

    with FakeGraph(served, token=TOKEN) as graph:
        code, markdown = _graph_report(graph, tmp_path / "weekly.md", "--since", "7d",
                                       "--compare-previous", "--fail-on", "high")
        _, written = _graph_report(graph, tmp_path / "weekly.json", "--since", "7d",
                                   "--compare-previous")
    assert code == 0  # --fail-on judges the period's findings: it has none
    health = " ".join(md_section(markdown, "Health: degraded").split())
    assert (f"The period has no provisioning events, but the period before had "
            f"{len(loud)} findings at high severity or above ({', '.join(loud)}) that nothing "
            "has retested since") in health.replace("\\", "")
    assert _figures(markdown)["Events"] == "0"
    section = md_section(markdown, "Compared with the previous period")
    assert f"({len(ours)} events)" in section
    assert not _rule_ids(md_section(section, "Resolved findings"))
    assert "None: nothing was provisioned in this period" in section
    assert _rule_ids(md_section(section, "Not retested findings")) == before
    assert (f"No finding is called resolved: nothing was provisioned in this period, so the "
            f"previous period's {len(before)} findings were not retested") in section
    assert "No new finding." in section and "No finding carried over." in section
    assert f"| Apps | {FLOWCASE.name} |" in markdown  # named from the week before

    comparison = json.loads(written)["comparison"]
    assert comparison["resolved"] == []
    assert {b["rule_id"] for b in comparison["not_retested"]} == before
    assert all(b["events_now"] == 0 < b["events_before"] for b in comparison["not_retested"])
    assert comparison["quiet"].startswith("nothing was provisioned in this period")


def test_a_quiet_graph_week_is_noted_as_a_quiet_stretch_of_a_file_is(tmp_path: Path) -> None:
    """With --compare-previous Graph returns the week before, so no 'Graph returned no
    events' note said why the week reported is empty: it gets the note a quiet stretch of a
    file gets, naming the period and the span of what was fetched."""
    now = datetime.now(UTC)
    served = make_events(60, now - timedelta(days=13), timedelta(hours=1))
    ours = sorted((e for e in served if e["servicePrincipal"]["displayName"] == FLOWCASE.name),
                  key=lambda e: e["activityDateTime"])
    with FakeGraph(served, token=TOKEN) as graph:
        code, written = _graph_report(graph, tmp_path / "weekly.json", "--since", "7d",
                                      "--compare-previous")
    assert code == 0
    answer = json.loads(written)
    start, end = (answer["period"][k][:16].replace("T", " ") for k in ("start", "end"))
    assert answer["notes"][0] == (
        f"no provisioning events from {start} to {end} UTC, a quiet period: the events Microsoft "
        f"Graph returned for the window fetched run from {_minute(ours[0])} to "
        f"{_minute(ours[-1])} UTC")


def _later(record: dict, by: timedelta) -> dict:
    """The record as if logged ``by`` later (Graph's activityDateTime, whole seconds, Z)."""
    when = datetime.fromisoformat(record["activityDateTime"].replace("Z", "+00:00")) + by
    return {**record, "activityDateTime": when.strftime("%Y-%m-%dT%H:%M:%SZ")}


def test_a_quiet_week_of_an_export_resolves_nothing_in_any_output(tmp_path: Path) -> None:
    """Three weeks exported, the middle one quiet: its report lists the first week's findings
    as not retested in HTML, Markdown, JSON and the workbook alike, and as resolved only those
    mended within the first week (the sample's FC007: its user succeeded later)."""
    records = json.loads(WEEKLY.read_text(encoding="utf-8"))
    week1 = [r for r in records if r["activityDateTime"] < "2026-03-02"]
    week3 = [_later(r, timedelta(days=14)) for r in records if r not in week1]
    export = tmp_path / "three-weeks.json"
    export.write_text(json.dumps(week1 + week3), encoding="utf-8")
    before = _diagnosed_rules(tmp_path, week1, unmended=True)
    mended = _diagnosed_rules(tmp_path, week1) - before
    assert week1 and week3 and before and mended

    outputs = [tmp_path / f"weekly.{suffix}" for suffix in ("md", "html", "json", "xlsx")]
    result = run_report(export, "--from", "2026-03-02", "--to", "2026-03-08",
                        "--compare-previous", *(x for o in outputs for x in ("-o", o)))
    assert result.exit_code == 0, result.output
    markdown, html, written = (o.read_text(encoding="utf-8") for o in outputs[:3])
    assert ("Note: no provisioning events from 2026-03-02 00:00 to 2026-03-09 00:00 UTC, a quiet "
            "stretch of the input" in markdown)
    section = md_section(markdown, "Compared with the previous period")
    assert _rule_ids(md_section(section, "Not retested findings")) == before
    assert _rule_ids(md_section(section, "Resolved findings")) == mended
    assert _html_rule_ids(html, "Not retested findings") == before
    assert _html_rule_ids(html, "Resolved findings") == mended
    assert "Only the mended findings are called resolved: nothing was provisioned" in html
    comparison = json.loads(written)["comparison"]
    assert {b["rule_id"] for b in comparison["not_retested"]} == before
    assert {b["rule_id"] for b in comparison["resolved"]} == mended
    sheet = pd.read_excel(outputs[3], sheet_name="Comparison")
    assert set(sheet.loc[sheet["Change"] == "not retested", "Rule"]) == before
    assert set(sheet.loc[sheet["Change"] == "resolved", "Rule"]) == mended
    assert sheet.loc[sheet["Rule"] == "Only the mended findings are called resolved",
                     "Finding"].item() == comparison["quiet"]


def test_a_week_with_events_still_resolves_what_it_no_longer_shows(tmp_path: Path) -> None:
    """The other side: a week that provisioned something and no longer shows last week's
    problems resolves them, and lists nothing as not retested."""
    records = json.loads(WEEKLY.read_text(encoding="utf-8"))
    result = run_report(WEEKLY, "--from", "2026-03-02", "--to", "2026-03-08",
                        "--compare-previous", "-o", tmp_path / "weekly.json")
    assert result.exit_code == 0, result.output
    comparison = json.loads((tmp_path / "weekly.json").read_text(encoding="utf-8"))["comparison"]
    week1 = [r for r in records if r["activityDateTime"] < "2026-03-02"]
    week2 = [r for r in records if r not in week1]
    gone = _diagnosed_rules(tmp_path, week1) - _diagnosed_rules(tmp_path, week2)
    assert gone  # the sample's week 2 fixed something
    assert {b["rule_id"] for b in comparison["resolved"]} == gone
    assert comparison["not_retested"] == [] and comparison["quiet"] == ""


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


def test_a_quarantined_job_leads_the_verdict_of_a_quiet_week(tmp_path: Path,
                                                             graph_in_march) -> None:
    reason = json.loads(QUARANTINE_JOB.read_text())["status"]["quarantine"]["reason"]
    with FakeGraph(MARCH, token=TOKEN) as graph:
        code, markdown = _graph_report(graph, tmp_path / "weekly.md", *QUIET_WEEK,
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
    tmp_path: Path, status: dict, verdict: str, sentence: str, graph_in_march
) -> None:
    job = json.loads((SAMPLES / "job-status" / "healthy.job.json").read_text())
    for key, value in status.items():
        job["status"][key] = {**job["status"][key], **value} if key == "lastExecution" else value
    job_file = tmp_path / "sync-job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    with FakeGraph(MARCH, token=TOKEN) as graph:
        code, markdown = _graph_report(graph, tmp_path / "weekly.md", *QUIET_WEEK,
                                       "--job-status", job_file)
    assert code == 0
    assert sentence in md_section(markdown, f"Health: {verdict}")


def test_a_paused_job_is_not_healthy_in_a_week_with_events_either(tmp_path: Path) -> None:
    """The job provisioned all week, then was paused (or Entra disabled it after four weeks
    in quarantine): nothing is provisioned from now on. The quiet week said so; a week with
    events was 'healthy', the status only in the key figures."""
    job = json.loads((SAMPLES / "job-status" / "healthy.job.json").read_text())
    job["status"]["code"] = "Paused"
    job_file = tmp_path / "sync-job.json"
    job_file.write_text(json.dumps(job), encoding="utf-8")
    target = tmp_path / "weekly.md"
    result = run_report(SAMPLES / "healthy-incremental.json", "--job-status", job_file,
                        "-o", target, "--fail-on", "high")
    assert result.exit_code == 0, result.output
    markdown = target.read_text(encoding="utf-8")
    assert md_section(markdown, "Health: degraded").strip().startswith(
        "The provisioning job is not running (status Paused): start provisioning on the "
        "enterprise application if it should run; no finding above low severity")
    assert _figures(markdown)["Quarantine"] == "not quarantined"


def test_an_empty_export_is_still_unusable_input(tmp_path: Path) -> None:
    export = tmp_path / "provisioning.json"
    export.write_text('{"value": []}', encoding="utf-8")
    result = run_report(export, "--since", "7d", "-o", tmp_path / "weekly.md")
    assert result.exit_code == 2
    assert f"{export}: holds no provisioning events" in result.output
    assert not (tmp_path / "weekly.md").exists()


KARI = Person("5d0c7a4e-1b2f-4c3d-9e8f-0a1b2c3d4e5f", "kari.berg@contoso.no", "Kari Berg",
              "fc-kari")
OLA = Person("6e1d8b5f-2c3a-4d4e-8f9a-1b2c3d4e5f6a", "ola.dahl@contoso.no", "Ola Dahl", "fc-ola")
# last week: Kari's create refused for her department, which was created, and her retry
MENDED_LAST_WEEK = [
    failed_create(KARI, "2026-02-24T08:00:00Z", "c1", "NotFound",
                  scim_error(404, "Department 'Sales' not found")),
    create(KARI, "2026-02-25T08:00:00Z", "c2"),
]


def test_a_quiet_week_after_a_finding_mended_in_the_week_before_is_healthy(
        tmp_path: Path) -> None:
    """A department created and the user retried within last week: its finding is mended,
    shown fixed by the user's later success, so this quiet week resolves it (every output)
    instead of calling it not retested, and the verdict stays healthy."""
    export = write_export(tmp_path / "three-weeks.json", [
        *MENDED_LAST_WEEK,
        in_sync(OLA, "2026-03-10T08:00:00Z", "c3")])
    outputs = [tmp_path / f"weekly.{suffix}" for suffix in ("md", "html", "json", "xlsx")]
    result = run_report(export, "--from", "2026-03-02", "--to", "2026-03-08",
                        "--compare-previous", *(x for o in outputs for x in ("-o", o)))
    assert result.exit_code == 0, result.output
    markdown, html, written = (o.read_text(encoding="utf-8") for o in outputs[:3])
    answer = json.loads(written)
    assert answer["verdict"]["state"] == "healthy", answer["verdict"]
    assert "## Health: healthy" in markdown
    comparison = answer["comparison"]
    assert [b["rule_id"] for b in comparison["resolved"]] == ["FC008"]
    assert comparison["not_retested"] == [] and comparison["quiet"] == ""
    section = md_section(markdown, "Compared with the previous period")
    assert _rule_ids(md_section(section, "Resolved findings")) == {"FC008"}
    assert "Not retested findings" not in section and "called resolved" not in section
    assert _html_rule_ids(html, "Resolved findings") == {"FC008"}
    sheet = pd.read_excel(outputs[3], sheet_name="Comparison")
    assert set(sheet.loc[sheet["Change"] == "resolved", "Rule"]) == {"FC008"}


def test_a_quiet_week_names_only_the_findings_not_mended_as_not_retested(
        tmp_path: Path) -> None:
    """Last week's mended finding is resolved, its other one not retested: the outputs say
    only the mended findings are called resolved, and the verdict names the other alone."""
    export = write_export(tmp_path / "three-weeks.json", [
        *MENDED_LAST_WEEK,
        failed_create(OLA, "2026-02-25T09:00:00Z", "c2", "Conflict",
                      scim_error(409, "userName 'ola.dahl@contoso.no' already exists",
                                 "uniqueness")),
        in_sync(KARI, "2026-03-10T08:00:00Z", "c3")])
    outputs = [tmp_path / f"weekly.{suffix}" for suffix in ("md", "json", "xlsx")]
    result = run_report(export, "--from", "2026-03-02", "--to", "2026-03-08",
                        "--compare-previous", *(x for o in outputs for x in ("-o", o)))
    assert result.exit_code == 0, result.output
    markdown, written = (o.read_text(encoding="utf-8") for o in outputs[:2])
    answer = json.loads(written)
    comparison = answer["comparison"]
    assert [b["rule_id"] for b in comparison["resolved"]] == ["FC008"]
    untested = [b["rule_id"] for b in comparison["not_retested"]]
    assert "FC007" in untested and "FC008" not in untested  # FC016: Ola's escrow
    assert answer["verdict"]["state"] == "degraded"
    assert "FC007" in answer["verdict"]["reason"] and "FC008" not in answer["verdict"]["reason"]
    assert (f"Only the mended findings are called resolved: nothing was provisioned in this "
            f"period, so the previous period's {len(untested)} findings were not retested"
            ) in markdown
    sheet = pd.read_excel(outputs[2], sheet_name="Comparison")
    assert sheet.loc[sheet["Rule"] == "Only the mended findings are called resolved",
                     "Finding"].item() == comparison["quiet"]


def test_a_quiet_week_after_an_accepted_finding_stays_healthy(tmp_path: Path) -> None:
    """A finding accepted with --ignore is not counted in the verdict: last week's accepted
    department (a third of its events failed) does not make this quiet week degraded, though
    it is listed as not retested."""
    export = write_export(tmp_path / "three-weeks.json", [
        failed_create(KARI, "2026-02-24T08:00:00Z", "c1", "NotFound",
                      scim_error(404, "Department 'Sales' not found")),
        create(OLA, "2026-02-25T08:00:00Z", "c2"), in_sync(OLA, "2026-02-26T08:00:00Z", "c3"),
        in_sync(OLA, "2026-03-10T08:00:00Z", "c4")])
    accepted = ("--ignore", "FC008", "--ignore", "FC016")
    result = run_report(export, "--from", "2026-03-02", "--to", "2026-03-08",
                        "--compare-previous", *accepted, "-o", tmp_path / "weekly.json",
                        "-o", tmp_path / "weekly.md")
    assert result.exit_code == 0, result.output
    answer = json.loads((tmp_path / "weekly.json").read_text(encoding="utf-8"))
    assert "FC008" in {b["rule_id"] for b in answer["comparison"]["not_retested"]}
    assert answer["verdict"]["state"] == "healthy", answer["verdict"]
    assert "## Health: healthy" in (tmp_path / "weekly.md").read_text(encoding="utf-8")


def test_a_quiet_graph_week_notes_what_was_asked_once(tmp_path: Path, graph_in_march) -> None:
    """The report notes the request Graph had no event for; the fetch's hints for an empty
    answer ('--app is compared case-sensitively ...') are stderr's, not every quiet week's."""
    with FakeGraph(MARCH, token=TOKEN) as graph:
        code, written = _graph_report(graph, tmp_path / "weekly.json", *QUIET_WEEK)
    assert code == 0
    notes = json.loads(written)["notes"]
    assert notes[0].startswith("Microsoft Graph returned no provisioning events for ")
    assert not any("Graph returned no events for this request" in n
                   or "compared case-sensitively" in n for n in notes), notes
