"""The `report` command: periods, the weekly comparison, job status, --fail-on and bad options.

Most runs write Markdown: it carries the same model as HTML and needs no chart drawing, which
keeps these tests fast. Expected numbers are counted from the raw sample JSON, not from the code.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from conftest import SAMPLES
from eventfactory import ignored_warnings_export, status_only_warnings_export
from fake_graph import FLOWCASE, FakeGraph, make_events
from report_support import md_section, md_tables, run_report
from typer.testing import CliRunner
from why_records import Person, create, in_sync, write_export

from diagnostics import RULES
from loganalyzer.cli import app
from loganalyzer.wording import plural

WEEKLY = SAMPLES / "weekly-two-periods.json"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())
QUARANTINE_JOB = SAMPLES / "job-status" / "pattern-16-quarantine-escrow.job.json"


def _raw(name: str) -> list[dict]:
    return json.loads((SAMPLES / name).read_text())


def _time(record: dict) -> datetime:
    return datetime.fromisoformat(record["activityDateTime"].replace("Z", "+00:00"))


def _figures(markdown: str) -> dict[str, tuple[str, str]]:
    table = md_tables(md_section(markdown, "Key figures"))[0]
    return {row[0]: (row[1], row[2]) for row in table[1:]}


def _report(tmp_path: Path, *args: str | Path, name: str = "report.md") -> tuple[int, str]:
    target = tmp_path / name
    result = run_report(*args, "-o", target)
    return result.exit_code, target.read_text(encoding="utf-8") if target.exists() else ""


def _rule_ids(section: str) -> set[str]:
    """The Rule column of the table in a comparison section (empty when it has no table)."""
    tables = md_tables(section)
    return {row[1] for row in tables[0][1:]} if tables else set()


def _rules_for(patterns: set[int]) -> set[str]:
    return {rule.id for rule in RULES if set(rule.patterns) & patterns and rule.kind != "noise"}


# ---------------------------------------------------------------- periods and the weekly report


def test_since_counts_back_from_the_newest_event(tmp_path: Path) -> None:
    records = _raw("weekly-two-periods.json")
    newest = max(_time(r) for r in records)
    expected = sum(_time(r) > newest - timedelta(days=7) for r in records)
    code, markdown = _report(tmp_path, WEEKLY, "--since", "7d")
    assert code == 0
    assert _figures(markdown)["Events"][0] == f"{expected:,}"
    assert expected < len(records)


def test_the_cycle_duration_figure_uses_one_unit(tmp_path: Path) -> None:
    """The weekly sample's median cycle is 98 s and its longest 11.4 min: both in minutes."""
    code, markdown = _report(tmp_path, WEEKLY)
    assert code == 0
    assert _figures(markdown)["Cycle duration"] == ("median 1.6 min", "longest 11.4 min")


def test_a_rate_of_one_event_says_one_event(tmp_path: Path) -> None:
    anna = Person("0000e5e5-5555-4555-8555-555555555555", "anna.berg@northwind.no", "Anna Berg",
                  "9900ee")
    export = write_export(tmp_path / "export.json", [
        create(anna, "2026-03-24T07:40:00Z", "c1"), in_sync(anna, "2026-03-24T08:20:00Z", "c2")])
    code, markdown = _report(tmp_path, export)
    assert code == 0
    assert _figures(markdown)["Success rate"] == ("50.0%", "1 event")
    assert _figures(markdown)["Skip rate"][1].startswith("1 event;")


def test_a_bare_to_date_includes_its_whole_day(tmp_path: Path) -> None:
    records = _raw("weekly-two-periods.json")
    start, end = datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC)
    expected = sum(start <= _time(r) < end for r in records)
    code, markdown = _report(tmp_path, WEEKLY, "--from", "2026-03-02", "--to", "2026-03-08")
    assert code == 0
    assert _figures(markdown)["Events"][0] == f"{expected:,}"


def test_weekly_comparison_names_new_and_resolved_findings(tmp_path: Path) -> None:
    """Week 1's problems were fixed; week 2 brought a new app-role problem (manifest)."""
    periods = {}
    for finding in MANIFEST["files"]["weekly-two-periods.json"]["findings"]:
        if "period" in finding:  # not the file's own escrow
            periods.setdefault(finding["pattern"], set()).add(finding["period"])
    only_first = {p for p, weeks in periods.items() if weeks == {"week1"}}
    only_second = {p for p, weeks in periods.items() if weeks == {"week2"}}
    both = {p for p, weeks in periods.items() if weeks == {"week1", "week2"}}
    assert only_first and only_second  # the sample is what this test needs

    code, markdown = _report(
        tmp_path, WEEKLY, "--from", "2026-03-02", "--to", "2026-03-08", "--compare-previous"
    )
    assert code == 0
    section = md_section(markdown, "Compared with the previous period")
    new, resolved, ongoing = (
        _rule_ids(md_section(section, heading))
        for heading in ("New findings", "Resolved findings", "Ongoing findings")
    )
    assert _rules_for(only_second) <= new
    assert _rules_for(only_first) <= resolved
    assert not new & _rules_for(only_first)
    assert _rules_for(both) <= ongoing

    records = _raw("weekly-two-periods.json")

    def rate(start: datetime, end: datetime) -> float:
        inside = [r for r in records if start <= _time(r) < end]
        failed = sum(r["provisioningStatusInfo"]["status"] == "failure" for r in inside)
        return 100 * failed / len(inside)

    before = rate(datetime(2026, 2, 23, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC))
    now = rate(datetime(2026, 3, 2, tzinfo=UTC), datetime(2026, 3, 9, tzinfo=UTC))
    direction = "up" if now > before else "down"
    change = abs(round(now, 1) - round(before, 1))  # of the rates as shown: they add up
    assert (
        f"Failure rate {before:.1f}% before, {now:.1f}% now: "
        f"{direction} {change:.1f} percentage points" in section
    )
    # the findings themselves are tagged as new or ongoing
    findings = md_section(markdown, "Findings")
    assert "(new)" in findings and "(ongoing)" in findings


def test_a_finding_accepted_last_week_that_fires_again_is_ongoing_not_new(
        tmp_path: Path) -> None:
    """The baseline written last week accepts last week's findings; this week one of them
    fires for other people, so it is not accepted any more. It was there last week: ongoing,
    with last week's count, whatever the baseline said."""
    baseline = tmp_path / "accepted.json"
    week1 = ("--from", "2026-02-23", "--to", "2026-03-01")
    code, _ = _report(tmp_path, WEEKLY, *week1, "--write-baseline", baseline, name="w1.md")
    assert code == 0
    _, plain = _report(tmp_path, WEEKLY, "--from", "2026-03-02", "--to", "2026-03-08",
                       "--compare-previous", name="plain.md")
    _, accepted = _report(tmp_path, WEEKLY, "--from", "2026-03-02", "--to", "2026-03-08",
                          "--compare-previous", "--baseline", baseline, name="accepted.md")

    def comparison(markdown: str) -> dict[str, dict[str, list[str]]]:
        section = md_section(markdown, "Compared with the previous period")
        return {heading: {row[1]: row for row in (md_tables(md_section(section, heading))
                                                   or [[[]]])[0][1:]}
                for heading in ("New findings", "Ongoing findings")}

    without, with_baseline = comparison(plain), comparison(accepted)
    # the rules both weeks have that the baseline no longer accepts this week
    again = set(with_baseline["New findings"]) | set(with_baseline["Ongoing findings"])
    refired = again & set(without["Ongoing findings"])
    assert refired  # the sample has such a rule (FC016: escrow retries of a new cause)
    for rule_id in refired:
        assert rule_id in with_baseline["Ongoing findings"]
        assert with_baseline["Ongoing findings"][rule_id] == without["Ongoing findings"][rule_id]
    assert not set(with_baseline["New findings"]) & set(without["Ongoing findings"])


def test_an_ongoing_finding_says_whether_the_same_people_are_affected(tmp_path: Path) -> None:
    """A rule that fires in both weeks may fire for others now (escrow retries of a new
    cause, a new department): the comparison counts who is new, from each week's own
    diagnosis."""
    from typer.testing import CliRunner

    from loganalyzer.cli import app

    def affected(start: str, end: str) -> dict[str, set[str]]:
        result = CliRunner().invoke(app, ["diagnose", str(WEEKLY), "--from", start, "--to", end,
                                          "--format", "json", "-q"])
        found: dict[str, set[str]] = {}
        for finding in json.loads(result.stdout)["findings"]:
            found.setdefault(finding["rule_id"], set()).update(
                a["id"] for a in finding["affected"])
        return found

    now, before = affected("2026-03-02", "2026-03-08"), affected("2026-02-23", "2026-03-01")
    _, markdown = _report(tmp_path, WEEKLY, "--from", "2026-03-02", "--to", "2026-03-08",
                          "--compare-previous")
    rows = {row[1]: row[2] for row in md_tables(md_section(
        md_section(markdown, "Compared with the previous period"), "Ongoing findings"))[0]}
    carried = {rule for rule in now.keys() & before.keys() if now[rule]}
    assert carried and carried <= rows.keys()
    kinds = set()
    for rule in carried:
        new, count = len(now[rule] - before[rule]), len(now[rule])
        if not new:
            kinds.add("same")
            assert f"(the same {plural(count, 'affected user')} as before)" in rows[rule]
        elif new == count:
            kinds.add("all new")
            assert f"(all {count} affected users are new since the previous period)" in rows[rule]
        else:
            assert f"({new} of the {count} affected users are new" in rows[rule]
    # the sample holds both: FC008's department still missing for the same user, FC016's
    # escrow of a new cause (hers was mended in week 2)
    assert kinds == {"same", "all new"}


def test_a_finding_accepted_this_week_is_not_listed_as_resolved(tmp_path: Path) -> None:
    """A baseline accepts this week's findings (with this week's people): a rule that also
    fired last week, for other people, is still firing, so it is not 'resolved'."""
    args = (WEEKLY, "--since", "7d", "--compare-previous")
    _, plain = _report(tmp_path, *args)
    ongoing = _rule_ids(md_section(md_section(plain, "Compared with the previous period"),
                                   "Ongoing findings"))
    baseline = tmp_path / "accepted.json"
    assert run_report(*args, "--write-baseline", baseline, "-o",
                      tmp_path / "w.md").exit_code == 0
    _, markdown = _report(tmp_path, *args, "--baseline", baseline, name="accepted.md")
    section = md_section(markdown, "Compared with the previous period")
    assert ongoing and not ongoing & _rule_ids(md_section(section, "Resolved findings"))
    assert all(rule in md_section(markdown, "Suppressed (accepted)") for rule in ongoing)


def test_rates_and_cycle_rows_add_up_with_statuses_graph_added_later(tmp_path: Path) -> None:
    """Graph's enum has unknownFutureValue, and warnings are counted apart: the key figures
    total 100%, each cycle row adds up to its events, and an unknown status is never
    healthy (the rates came to 91.2% and the verdict said healthy)."""
    records = _raw("healthy-incremental.json")
    successes = [r for r in records if r["provisioningStatusInfo"]["status"] == "success"]
    for record in successes[:3]:
        record["provisioningStatusInfo"]["status"] = "unknownFutureValue"
    for record in successes[3:5]:
        record["provisioningStatusInfo"]["status"] = "warning"
    export = tmp_path / "export.json"
    export.write_text(json.dumps(records))
    code, markdown = _report(tmp_path, export)
    assert code == 0
    figures = _figures(markdown)
    rates = [float(value.rstrip("%")) for label, (value, _) in figures.items()
             if label.endswith("rate") or label == "Unknown status"]
    assert abs(sum(rates) - 100) < 0.2 and figures["Unknown status"][1].startswith("3 events")
    assert "## Health: healthy" not in markdown
    [table] = md_tables(md_section(markdown, "Cycles"))
    header, rows = table[0], table[1:]
    parts = [header.index(c) for c in ("Success", "Failure", "Skipped", "Other")]
    assert sum(int(row[header.index("Other")]) for row in rows) == 5
    for row in rows:
        assert sum(int(row[i]) for i in parts) == int(row[header.index("Events")])


def test_the_report_says_what_unexplained_warnings_said(tmp_path: Path) -> None:
    """The key figures count warnings; the Unexplained section says what they said and
    whom, in Markdown and HTML, and the verdict stays healthy: they did not fail."""
    export = ignored_warnings_export(tmp_path / "export.json")
    code, markdown = _report(tmp_path, export)
    assert code == 0 and "## Health: healthy" in markdown
    [table] = md_tables(md_section(markdown, "Unexplained warnings"))
    assert table[0] == ["Error code", "HTTP", "Warnings", "Affected", "Sample reason"]
    assert table[1][:4] == [
        "SystemForCrossDomainIdentityManagementServiceIncompatible", "400", "2", "2"]
    assert table[1][4].endswith("User:costCenter' is not supported and was ignored")
    _, html = _report(tmp_path, export, name="report.html")
    assert "<h3>Unexplained warnings</h3>" in html
    assert "costCenter&#39; is not supported and was ignored" in html


def test_the_report_says_what_warnings_without_error_information_said(tmp_path: Path
                                                                     ) -> None:
    """A warning that logged only its status: its row says 'no error code' (was '(none)')
    and what its step said (was empty), in Markdown and, escaped, in HTML."""
    export = status_only_warnings_export(tmp_path / "export.json")
    code, markdown = _report(tmp_path, export)
    assert code == 0
    [table] = md_tables(md_section(markdown, "Unexplained warnings"))
    assert table[1][:4] == ["no error code", "", "2", "2"]
    assert table[1][4].endswith("'jobTitle' was not accepted \\& was left \\<unchanged\\>")
    _, html = _report(tmp_path, export, name="report.html")
    section = html.split("<h3>Unexplained warnings</h3>", 1)[1].split("</table>", 1)[0]
    assert '<td class="mono">no error code</td><td class="num"></td>' in section
    assert ("&#39;jobTitle&#39; was not accepted &amp; was left &lt;unchanged&gt;</td>"
            in section)


@pytest.mark.parametrize("period", [("--since", "7d"), ()], ids=["since", "whole-input"])
def test_days_without_events_stay_on_the_daily_charts(tmp_path: Path, period) -> None:
    """Two silent days in the middle of the week are the outage a weekly report must show:
    they were left off the axis, the 4th followed by the 7th."""
    quiet = ("2026-03-05", "2026-03-06")
    export = tmp_path / "gap.json"
    export.write_text(json.dumps([r for r in _raw("weekly-two-periods.json")
                                  if not r["activityDateTime"].startswith(quiet)]))
    _, markdown = _report(tmp_path, export, *period)
    [table] = md_tables(md_section(markdown, "Events by status per day"))
    assert table[0][0] == "Day (UTC)"  # as every time in the report
    days = [row[0] for row in table[1:]]
    assert days == sorted(days) and days[-1] == "2026-03-08"
    for day in quiet:
        assert [int(v) for v in table[1:][days.index(day)][1:]] == [0] * (len(table[0]) - 1)
    first = datetime.fromisoformat(days[0])
    assert len(days) == (datetime(2026, 3, 8) - first).days + 1  # every day, none twice


def test_accepting_every_finding_says_so_instead_of_no_problem(tmp_path: Path) -> None:
    """With every finding of a failing cycle accepted, the report said "No rule found a
    problem" and charted the failures as unexplained."""
    rules = ("FC006", "FC007", "FC008", "FC011")
    code, markdown = _report(tmp_path, SAMPLES / "failing-initial.json",
                             *(a for r in rules for a in ("--ignore", r)))
    assert code == 0
    findings = md_section(markdown, "Findings")
    assert "No finding is left to fix: 4 findings accepted, listed under Suppressed." in findings
    assert "No rule found a problem" not in markdown
    assert "Every failure is explained by a finding (accepted ones included)." in markdown
    chart = md_section(markdown, "Failures by finding per cycle")
    # FC006 leads for the two conflicts its casing caused (FC007 for the rest)
    assert "unexplained" not in chart and chart.count("(accepted)") == 4
    _, healthy = _report(tmp_path, SAMPLES / "healthy-incremental.json", name="healthy.md")
    assert "No event failed in this period." in md_section(healthy, "Unexplained failures")


def test_weekly_job_with_since_reports_the_role_problem_as_new(tmp_path: Path) -> None:
    code, markdown = _report(tmp_path, WEEKLY, "--since", "7d", "--compare-previous")
    assert code == 0
    assert _rule_ids(md_section(markdown, "New findings")) == _rules_for({11})


@pytest.mark.parametrize("kept_from", ["2026-03-02", "2026-02-27"],
                         ids=["previous-week-not-in-input", "half-of-it"])
def test_a_previous_period_the_input_does_not_cover_calls_nothing_new(tmp_path: Path,
                                                                      kept_from: str) -> None:
    """An export of this week alone (or from the middle of the week before) cannot say what
    last week looked like: no finding is called new, and the report says why; a finding
    seen in the part it holds is still ongoing."""
    start = datetime.fromisoformat(kept_from).replace(tzinfo=UTC)
    export = tmp_path / "this-week.json"
    export.write_text(json.dumps([r for r in _raw("weekly-two-periods.json")
                                  if _time(r) >= start]))
    code, markdown = _report(tmp_path, export, "--from", "2026-03-02", "--to", "2026-03-08",
                             "--compare-previous")
    assert code == 0
    section = md_section(markdown, "Compared with the previous period")
    assert "No finding is called new: the input begins at" in section
    assert "Not known: the input begins at" in md_section(section, "New findings")
    assert not _rule_ids(md_section(section, "New findings"))
    assert "(new)" not in md_section(markdown, "Findings")
    # a rate before of the part the input holds says so (none when it holds nothing of it)
    holds_part = any(_time(r) < datetime(2026, 3, 2, tzinfo=UTC)
                     for r in _raw("weekly-two-periods.json") if _time(r) >= start)
    said = "(before: only the part of the previous period the input holds)" in section
    assert said == holds_part
    # the whole of the week before is there: findings are new again
    _, whole = _report(tmp_path, WEEKLY, "--from", "2026-03-02", "--to", "2026-03-08",
                       "--compare-previous", name="whole.md")
    assert "No finding is called new" not in whole and "(new)" in md_section(whole, "Findings")
    assert "only the part of the previous period" not in whole


# ---------------------------------------------------------------- job status, title, output


def test_job_status_in_quarantine_fails_the_verdict(tmp_path: Path) -> None:
    job = json.loads(QUARANTINE_JOB.read_text())
    reason = job["status"]["quarantine"]["reason"]
    code, markdown = _report(
        tmp_path, SAMPLES / "pattern-16-quarantine-escrow.json", "--job-status", QUARANTINE_JOB
    )
    assert code == 0
    assert _figures(markdown)["Quarantine"][0] == "in quarantine"
    verdict = md_section(markdown, "Health: failing")
    assert "quarantine" in verdict and reason in verdict


@pytest.mark.parametrize(("began", "shown"), [
    ("2026-03-24T09:30:00+05:30", "since 2026-03-24 04:00 UTC; disabled around 2026-04-21 "
                                  "04:00 UTC unless a cycle succeeds"),
    ("2026-03-26T03:05:27.4494423Z", "since 2026-03-26 03:05 UTC; disabled around 2026-04-23 "
                                     "03:05 UTC unless a cycle succeeds"),
    ("0001-01-01T00:00:00Z", ""),  # Graph's "never"
])
def test_quarantine_start_is_shown_in_utc(tmp_path: Path, began: str, shown: str) -> None:
    """When the quarantine began and when Entra disables the job if it stays (four weeks
    after the run of quarantines began), in UTC whatever offset Graph wrote."""
    job = json.loads(QUARANTINE_JOB.read_text())
    job["status"]["quarantine"]["currentBegan"] = began
    job["status"]["quarantine"]["seriesBegan"] = began
    job_file = tmp_path / "job.json"
    job_file.write_text(json.dumps(job))
    _, markdown = _report(tmp_path, SAMPLES / "pattern-16-quarantine-escrow.json",
                          "--job-status", job_file)
    assert _figures(markdown)["Quarantine"] == ("in quarantine", shown)


def test_healthy_job_status_is_shown_as_not_quarantined(tmp_path: Path) -> None:
    code, markdown = _report(
        tmp_path, SAMPLES / "healthy-incremental.json",
        "--job-status", SAMPLES / "job-status" / "healthy.job.json",
    )
    assert code == 0
    assert _figures(markdown)["Quarantine"][0] == "not quarantined"
    assert "## Health: healthy" in markdown


def test_title_and_format_from_the_file_suffix(tmp_path: Path) -> None:
    code, markdown = _report(
        tmp_path, SAMPLES / "healthy-incremental.json", "--title", "Northwind | weekly"
    )
    assert code == 0
    assert markdown.startswith("# Northwind \\| weekly\n")


def test_without_output_file_the_report_goes_to_stdout() -> None:
    result = run_report(SAMPLES / "healthy-incremental.json", "--format", "md")
    assert result.exit_code == 0
    assert result.stdout.startswith("# Provisioning report: Flowcase SCIM")


# ---------------------------------------------------------------- --fail-on


@pytest.mark.parametrize(
    ("sample", "fail_on", "expected"),
    [
        ("pattern-04-bad-token.json", "critical", 1),
        ("pattern-04-bad-token.json", "info", 1),
        ("pattern-17-transient.json", "high", 0),
        ("pattern-17-transient.json", "low", 1),
        ("healthy-incremental.json", "low", 0),
    ],
)
def test_fail_on_exit_code(tmp_path: Path, sample: str, fail_on: str, expected: int) -> None:
    code, markdown = _report(tmp_path, SAMPLES / sample, "--fail-on", fail_on)
    assert code == expected
    assert markdown.startswith("# ")  # the report is written either way


def test_a_job_in_trouble_trips_fail_on_even_with_its_findings_accepted(tmp_path: Path) -> None:
    """The verdict says failing because of the job itself: the weekly job's exit code must
    say so too, whatever the baseline accepted (and a failed last run is trouble as well)."""
    accepted = ("--ignore", "FC016", "--ignore", "FC008")
    code, markdown = _report(tmp_path, SAMPLES / "pattern-16-quarantine-escrow.json",
                             "--job-status", QUARANTINE_JOB, *accepted, "--fail-on", "critical")
    assert "Health: failing" in markdown and code == 1
    failed_run = json.loads((SAMPLES / "job-status" / "healthy.job.json").read_text())
    failed_run["status"]["lastExecution"]["state"] = "Failed"
    failed_run["status"]["lastExecution"]["error"] = {"code": "UnknownError",
                                                      "message": "The run stopped."}
    job = tmp_path / "failed.job.json"
    job.write_text(json.dumps(failed_run))
    code, markdown = _report(tmp_path, SAMPLES / "healthy-incremental.json", "--job-status", job,
                             "--fail-on", "low")
    assert "Health: failing" in markdown and "last run failed" in markdown and code == 1


def test_an_export_cut_off_is_never_healthy_and_trips_fail_on(tmp_path: Path) -> None:
    """An export written oldest first (a Log Analytics or storage export) and cut off during
    the copy lost its newest events: here the cycle in which every request failed with 401.
    What was read is healthy, but the scheduled run must not say so, nor exit 0."""
    records = sorted(_raw("pattern-04-bad-token.json"), key=lambda r: r["activityDateTime"])
    first_cycle = records[0]["cycleId"]
    kept = [r for r in records if r["cycleId"] == first_cycle]
    cut_in = json.dumps(records[len(kept)], indent=2)
    export = tmp_path / "AADProvisioningLogs.json"
    export.write_text("[\n" + ",\n".join(json.dumps(r, indent=2) for r in kept) + ",\n"
                      + cut_in[: len(cut_in) // 2])
    code, markdown = _report(tmp_path, export, "--since", "7d", "--fail-on", "high")
    health = md_section(markdown, "Health: degraded")  # not healthy
    verdict = health.split("Note:")[0].replace("\\", "")  # Markdown escapes the path's _
    assert f"{export} is cut off at record {len(kept) + 1}: the records after" in verdict
    assert code == 1
    diagnosed = CliRunner().invoke(app, ["diagnose", str(export), "--format", "json",
                                         "--fail-on", "high", "-q"])
    assert json.loads(diagnosed.stdout)["verdict"]["state"] == "degraded"
    assert diagnosed.exit_code == 1
    # a whole export of the same events is healthy, exit 0
    whole = tmp_path / "whole.json"
    whole.write_text(json.dumps(kept))
    code, markdown = _report(tmp_path, whole, "--since", "7d", "--fail-on", "high")
    assert "## Health: healthy" in markdown and code == 0


@pytest.mark.parametrize("stored", [False, True])
def test_a_cut_that_lost_only_events_before_the_period_leaves_its_verdict(
        tmp_path: Path, stored: bool) -> None:
    """The portal's download lists the newest event first: cut off, it lost its oldest
    events. A period after the cut lost nothing and is judged on its events; the whole export
    may have lost anything and says so. The unread record is noted either way; a store
    ingested from the export judges alike."""
    records = _raw("pattern-04-bad-token.json")  # newest first, as downloaded
    assert records[0]["activityDateTime"] > records[-1]["activityDateTime"]
    last = json.dumps(records[-1], indent=2)
    export = tmp_path / "ProvisioningLogs.json"
    export.write_text("[\n" + ",\n".join(json.dumps(r, indent=2) for r in records[:-1])
                      + ",\n" + last[: len(last) // 2])
    cut = f"{export} is cut off at record {len(records)}"
    source = export
    if stored:
        source = tmp_path / "store"
        assert CliRunner().invoke(app, ["ingest", str(export), "-o", str(source), "-q"]
                                  ).exit_code == 0

    def diagnosed(*period: str) -> dict:
        result = CliRunner().invoke(app, ["diagnose", str(source), "--format", "json", "-q",
                                          *period])
        return json.loads(result.stdout)

    after = ("--from", "2026-03-09T08:00:00Z", "--to", "2026-03-09T09:00:00Z")  # its 2nd cycle
    recent = diagnosed(*after)
    assert cut not in recent["verdict"]["reason"]
    assert any(cut in note for note in recent["notes"])
    assert cut in diagnosed()["verdict"]["reason"]
    code, markdown = _report(tmp_path, source, *after)
    assert cut not in md_section(markdown, "Health: failing").split("Note:")[0].replace("\\", "")


def test_the_json_written_beside_a_report_carries_its_notes(tmp_path: Path) -> None:
    records = _raw("healthy-incremental.json")
    export = tmp_path / "dup.json"
    export.write_text(json.dumps([*records, records[0], {"id": "broken"}]))
    result = run_report(export, "-o", tmp_path / "r.md", "-o", tmp_path / "r.json")
    assert result.exit_code == 0, result.output
    notes = json.loads((tmp_path / "r.json").read_text())["notes"]
    markdown = (tmp_path / "r.md").read_text()
    assert any("counted once" in n for n in notes) and "counted once" in markdown
    assert any("could not be read" in n for n in notes) and "could not be read" in markdown


# ---------------------------------------------------------------- bad options and input


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fail-on", "urgent"], "'urgent' is not one of 'critical', 'high'"),
        (["--format", "pdf"], "'pdf' is not one of 'html', 'md', 'json', 'xlsx'"),
        (["--format", "html"], "r.md: the suffix says md but --format is html"),
        (["--since", "7x"], "--since: expected a length such as 7d"),
        (["--since", "7d", "--from", "2026-03-01"], "use either --since or --from/--to"),
        (["--from", "2026-13-01"], "--from: expected a date"),
        (["--from", "2026-03-05", "--to", "2026-03-01"], "--to: must be after --from"),
        (["--compare-previous"], "--compare-previous: needs a period"),
        (["--from", "2030-01-01"], "--from: no event of the input is in the period asked for "
         "(from 2030-01-01 00:00 UTC): the input's events run from 2026-02-23 01:18 to "
         "2026-03-08 22:09 UTC"),
        (["--to", "2020-01-01"], "--to: no event of the input is in the period asked for "
         "(2019-12-26 00:00 to 2020-01-02 00:00 UTC)"),
        (["--from", "2026-02-01", "--to", "2026-02-10"], "--from/--to: no event of the input is "
         "in the period asked for (2026-02-01 00:00 to 2026-02-11 00:00 UTC)"),
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path: Path, args: list[str], message: str) -> None:
    result = run_report(WEEKLY, *args, "-o", tmp_path / "r.md")
    assert result.exit_code == 2
    assert message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "r.md").exists()


def test_bad_job_status_files_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    not_json = tmp_path / "job.json"
    not_json.write_text('{"status": ')
    not_a_job = tmp_path / "events.json"
    not_a_job.write_text(json.dumps({"value": [{"id": 1}, {"id": 2}]}))
    for path, message in (
        (missing, "cannot read"),
        (not_json, "not JSON"),
        (not_a_job, "expected one synchronization job"),
    ):
        result = run_report(SAMPLES / "healthy-incremental.json", "--job-status", path)
        assert result.exit_code == 2, result.output
        assert str(path) in result.output and message in result.output
        assert "Traceback" not in result.output


# ---------------------------------------------------------------- --graph


GRAPH_TOKEN = "test-token-not-printed"


def _flowcase_between(served: list[dict], start: datetime, end: datetime) -> list[dict]:
    return [e for e in served if e["servicePrincipal"]["displayName"] == FLOWCASE.name
            and start <= _time(e) < end]


def _graph_report(tmp_path: Path, served: list[dict], *args: str) -> tuple[int, str]:
    """A report of Flowcase's events fetched from a loopback Graph serving ``served``."""
    with FakeGraph(served, token=GRAPH_TOKEN) as graph:
        return _report(tmp_path, "--graph", "--graph-url", graph.url, "--access-token",
                       GRAPH_TOKEN, "--app", FLOWCASE.name, *args)


def test_graph_fetches_the_period_and_reports_it(tmp_path: Path, graph_in_march) -> None:
    served = make_events(60, datetime(2026, 3, 1, tzinfo=UTC), timedelta(hours=1))
    inside = _flowcase_between(served, datetime(2026, 3, 2, tzinfo=UTC),
                               datetime(2026, 3, 3, tzinfo=UTC))
    code, markdown = _graph_report(tmp_path, served, "--from", "2026-03-02", "--to", "2026-03-02")
    assert code == 0
    assert _figures(markdown)["Events"][0] == f"{len(inside):,}"
    assert GRAPH_TOKEN not in markdown


def test_graph_with_a_bare_to_fetches_the_previous_period_too(tmp_path: Path,
                                                             graph_in_march) -> None:
    """--to alone means the 7 days before it; --compare-previous needs the 7 before those."""
    served = make_events(24 * 17, datetime(2026, 2, 20, tzinfo=UTC), timedelta(hours=1))
    before = _flowcase_between(served, datetime(2026, 2, 23, tzinfo=UTC),
                               datetime(2026, 3, 2, tzinfo=UTC))
    code, markdown = _graph_report(tmp_path, served, "--to", "2026-03-08", "--compare-previous")
    assert code == 0, markdown
    section = md_section(markdown, "Compared with the previous period")
    assert before and f"({len(before):,} events)" in section


def test_files_and_graph_together_or_neither_exit_2() -> None:
    for args in ([], [str(WEEKLY), "--graph"]):
        result = run_report(*args)
        assert result.exit_code == 2
        assert "give exports or stores to read, or --graph" in result.output


def test_quarantine_verdict_names_the_cause_to_fix_first_not_the_escrow(tmp_path):
    """FC016 (escrow/quarantine) is a consequence: the verdict must point at its cause."""
    from conftest import SAMPLES
    from typer.testing import CliRunner

    from loganalyzer.cli import app

    out = tmp_path / "weekly.md"
    result = CliRunner().invoke(app, [
        "report", str(SAMPLES / "weekly-two-periods.json"), "--since", "7d", "--format", "md",
        "-o", str(out), "-q", "--job-status",
        str(SAMPLES / "job-status" / "pattern-16-quarantine-escrow.job.json"),
    ])
    assert result.exit_code == 0, result.output
    verdict = next(line for line in out.read_text().splitlines() if "fix first" in line)
    assert "quarantine" in verdict
    assert "fix first: App role value is not a Flowcase role (guide step 4" in verdict


def test_a_partly_known_previous_period_says_nothing_of_who_is_new(tmp_path: Path) -> None:
    """When the input begins late in the previous period nothing is called new, so neither
    is anyone: they may have been affected in the part the input lacks."""
    records = [r for r in _raw("weekly-two-periods.json")
               if _time(r) >= datetime(2026, 3, 1, 10, 8, tzinfo=UTC)]
    cut = tmp_path / "from-sunday.json"
    cut.write_text(json.dumps(records))
    _, markdown = _report(tmp_path, cut, "--from", "2026-03-02", "--to", "2026-03-08",
                          "--compare-previous")
    section = md_section(markdown, "Compared with the previous period")
    assert "No finding is called new" in section
    ongoing = md_section(section, "Ongoing findings")
    assert "|" in ongoing
    assert "new since the previous period" not in ongoing and "as before)" not in ongoing


def test_the_json_of_a_weekly_report_says_its_period_and_what_is_new(tmp_path: Path) -> None:
    """A scheduled job acting on "a new finding this week" reads the JSON: it carries the
    period asked for and the comparison the HTML and Markdown show."""
    args = (WEEKLY, "--from", "2026-03-02", "--to", "2026-03-08", "--compare-previous")
    code, markdown = _report(tmp_path, *args)
    assert code == 0
    result = run_report(*args, "-o", tmp_path / "week.json")
    assert result.exit_code == 0
    written = json.loads((tmp_path / "week.json").read_text(encoding="utf-8"))
    assert written["period"] == {"start": "2026-03-02T00:00:00+00:00",
                                 "end": "2026-03-09T00:00:00+00:00"}
    comparison = written["comparison"]
    assert comparison["previous_period"] == {"start": "2026-02-23T00:00:00+00:00",
                                             "end": "2026-03-02T00:00:00+00:00"}
    section = md_section(markdown, "Compared with the previous period")
    for heading, key in (("New findings", "new"), ("Resolved findings", "resolved"),
                         ("Ongoing findings", "ongoing")):
        assert {b["rule_id"] for b in comparison[key]} == _rule_ids(md_section(section, heading))
    records = _raw("weekly-two-periods.json")
    before = [r for r in records
              if datetime(2026, 2, 23, tzinfo=UTC) <= _time(r) < datetime(2026, 3, 2, tzinfo=UTC)]
    assert comparison["previous_events"] == len(before)
    failed = sum(r["provisioningStatusInfo"]["status"] == "failure" for r in before)
    assert comparison["failure_percent_before"] == round(100 * failed / len(before), 1)
    assert comparison["failure_rate_before"] == f"{100 * failed / len(before):.1f}%"
    assert comparison["partial"] == ""
    # without a period there is neither
    result = run_report(WEEKLY, "-o", tmp_path / "all.json")
    whole = json.loads((tmp_path / "all.json").read_text(encoding="utf-8"))
    assert "period" not in whole and "comparison" not in whole


def test_the_tools_own_notes_get_no_formula_quote(tmp_path: Path) -> None:
    """The formula guard is for log values in cells; the tool's note "--since 7d counts back..."
    reads as written in HTML, Markdown, the workbook and diagnose's Markdown."""
    import pandas as pd
    from typer.testing import CliRunner

    from loganalyzer.cli import app
    result = run_report(WEEKLY, "--since", "7d", "--compare-previous", "-o", tmp_path / "w.html",
                        "-o", tmp_path / "w.md", "-o", tmp_path / "w.xlsx")
    assert result.exit_code == 0, result.output
    diagnosed = CliRunner().invoke(app, ["diagnose", str(WEEKLY), "--since", "7d", "-o",
                                         str(tmp_path / "d.md"), "-q"])
    assert diagnosed.exit_code == 0, diagnosed.output
    # under the verdict it bears on, before the figures it qualifies
    html, markdown = (tmp_path / "w.html").read_text(), (tmp_path / "w.md").read_text()
    assert html.index('<p class="verdict-note">Note: --since 7d counts back') < html.index(
        '<section id="figures">')
    assert markdown.index("\nNote: --since 7d counts back") < markdown.index("## Key figures")
    assert "> **Note:** --since 7d counts back" in (tmp_path / "d.md").read_text()
    summary = pd.read_excel(tmp_path / "w.xlsx", sheet_name="Summary")
    notes = summary[summary["Item"] == "Note"]["Value"].tolist()
    assert [n for n in notes if n.startswith("--since 7d counts back")], notes


def test_a_weekly_run_on_files_that_were_not_refreshed_says_its_week_is_old(
        tmp_path: Path) -> None:
    """--since counts back from the newest event of files: when the export was not refreshed,
    the run reports an old week, and says so; on logs of this week it says nothing."""
    note = ("--since 7d counts back from the newest event of the input (2026-03-08 22:09 UTC, "
            "{days} days ago), so this is not the last 7d before now: check that newer logs "
            "were exported")
    result = run_report(WEEKLY, "--since", "7d", "-o", tmp_path / "old.json")
    assert result.exit_code == 0
    newest = max(_time(r) for r in _raw("weekly-two-periods.json"))
    notes = json.loads((tmp_path / "old.json").read_text(encoding="utf-8"))["notes"]
    days = {(datetime.now(UTC) - newest).days + n for n in (0, -1)}  # the clock may turn
    assert any(n in notes for n in (note.format(days=d) for d in days)), notes
    from typer.testing import CliRunner

    from loganalyzer.cli import app
    diagnosed = CliRunner().invoke(app, ["diagnose", str(WEEKLY), "--since", "7d", "--format",
                                         "json", "-q"])
    assert any(n in json.loads(diagnosed.stdout)["notes"]
               for n in (note.format(days=d) for d in days))
    # the same events moved to end an hour ago: the last 7 days, nothing to say
    shift = datetime.now(UTC) - timedelta(hours=1) - newest
    records = _raw("weekly-two-periods.json")
    for record in records:
        record["activityDateTime"] = (_time(record) + shift).isoformat().replace("+00:00", "Z")
    fresh = tmp_path / "fresh.json"
    fresh.write_text(json.dumps(records), encoding="utf-8")
    result = run_report(fresh, "--since", "7d", "-o", tmp_path / "fresh-report.json")
    assert result.exit_code == 0
    notes = json.loads((tmp_path / "fresh-report.json").read_text(encoding="utf-8"))["notes"]
    assert not [n for n in notes if "counts back from the newest event" in n]


def test_the_html_navigation_links_every_section_on_the_page(tmp_path: Path) -> None:
    """The configuration findings and what was accepted were sections the navigation did not
    reach: an admin reading the weekly page saw no sign of them from its top."""
    code, html = _report(tmp_path, SAMPLES / "failing-initial.json", "--config",
                         SAMPLES / "config" / "bad", "--ignore", "FC018", name="report.html")
    assert code == 0
    nav = html[html.index("<nav"):html.index("</nav>")]
    sections = re.findall(r'<section id="([^"]+)"', html)
    assert {"configuration", "suppressed"} <= set(sections)
    assert re.findall(r'href="#([^"]+)"', nav) == sections


def test_a_quarantine_begun_at_graphs_never_sentinel_is_dated_by_its_series(tmp_path: Path) -> None:
    """Graph writes 0001-01-01T00:00:00Z for a time it does not know; FC016 printed it as the
    quarantine's start instead of the series' start the job status also gives."""
    job = json.loads(QUARANTINE_JOB.read_text())
    quarantine = job["status"]["quarantine"]
    quarantine["currentBegan"], quarantine["seriesBegan"] = ("0001-01-01T00:00:00Z",
                                                           "2026-03-20T03:05:27Z")
    status = tmp_path / "job.json"
    status.write_text(json.dumps(job))
    code, markdown = _report(tmp_path, SAMPLES / "pattern-16-quarantine-escrow.json",
                             "--job-status", status)
    assert code == 0 and "0001" not in markdown
    assert "(EncounteredEscrowProportionThreshold since 2026-03-20 03:05 UTC;" in markdown
    assert _figures(markdown)["Quarantine"][1].startswith("since 2026-03-20 03:05 UTC;")
