"""`loganalyzer diagnose` and `loganalyzer rules`: formats, exit codes, the JSON contract."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLES
from eventfactory import TITLE_LEFT, Export, ignored_warnings_export, status_only_warnings_export
from typer.testing import CliRunner

from diagnostics import RULES
from loganalyzer.cli import app

FAILING = str(SAMPLES / "failing-initial.json")
HEALTHY = str(SAMPLES / "healthy-incremental.json")
TOKEN = str(SAMPLES / "pattern-04-bad-token.json")
TOKEN_JOB = str(SAMPLES / "job-status" / "pattern-04-bad-token.job.json")

FINDING_KEYS = {
    "rule_id", "title", "severity", "guide_steps", "message", "events", "affected",
    "first_seen", "last_seen", "cycles", "evidence", "remediation", "details", "kind", "mended",
}
EVIDENCE_KEYS = {
    "event_id", "time", "cycle_id", "action", "status", "error_code", "http_status", "reason",
    "change_id",
}


def run(*args: str):
    return CliRunner().invoke(app, list(args))


def as_json(*args: str) -> dict:
    result = run("diagnose", *args, "--format", "json", "-q")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_json_follows_the_documented_contract() -> None:
    doc = as_json(FAILING)
    assert doc["schema_version"] == "1.1"
    assert set(doc) == {
        "schema_version", "verdict", "summary", "findings", "unexplained", "rules_run",
        "rule_errors", "notes", "unexplained_skips", "suppressed", "unexplained_warnings",
    }
    assert doc["notes"] == [] and doc["unexplained_skips"] == []
    assert doc["unexplained_warnings"] == []
    assert doc["summary"]["scope"]["diagnosed"][0]["name"] == "Flowcase SCIM"
    assert doc["summary"]["scope"]["other_events"] == 0 and doc["summary"]["unknown_status"] == 0
    assert doc["verdict"]["state"] == "failing"
    assert doc["verdict"]["fix_first"]["rule_id"] == "FC008"
    assert doc["suppressed"] == []
    summary = doc["summary"]
    assert {"events", "failures", "skipped", "cycles", "time_range"} <= set(summary)
    assert summary["time_range"]["start"].startswith("2026-03-24T07:38:46")
    assert (summary["events"], summary["failures"], summary["cycles"]) == (57, 18, 1)
    for finding in doc["findings"]:
        assert set(finding) == FINDING_KEYS
        assert finding["events"] >= len(finding["affected"]) > 0
        for affected in finding["affected"]:
            assert set(affected) == {"id", "type", "display_name", "events"}
        for evidence in finding["evidence"]:
            assert set(evidence) == EVIDENCE_KEYS
    ids = [f["rule_id"] for f in doc["findings"]]
    # causes first (high: steps 1, 1, 4, 7a), a rule before the ones it causes (FC006's
    # upper-case identifiers before FC007's 409s), then the info-level noise (FC018)
    assert ids == ["FC008", "FC006", "FC007", "FC011", "FC018"]
    dept = doc["findings"][0]
    assert dept["guide_steps"] == ["1", "7a"] and "'Sales EMEA' (4 users)" in dept["message"]
    assert doc["unexplained"] == []
    assert len(doc["rules_run"]) == len(RULES)


def test_json_unexplained_groups_name_whom_they_happened_to(tmp_path: Path) -> None:
    """A failure no rule knows is looked into with `why`: the group names whom to ask about."""
    x = Export()
    for user in ("a@contoso.no", "b@contoso.no", "c@contoso.no", "d@contoso.no", "a@contoso.no"):
        x.user(user, status="failure", http=418, detail="short and stout", error_code="Tea")
    export = tmp_path / "odd.json"
    export.write_text(json.dumps(x.records))
    doc = as_json(str(export))
    assert doc["unexplained"] == [
        {"error_code": "Tea", "http_status": 418, "count": 5,
         "sample_reason": "short and stout", "affected": 4,
         "examples": ["a@contoso.no", "b@contoso.no", "c@contoso.no"]}
    ]
    shown = " ".join(run("diagnose", str(export), "-q").stdout.split())
    assert ("Tea / HTTP 418: 5 failures, 4 objects; e.g. short and stout; who: a@contoso.no, "
            "b@contoso.no, c@contoso.no and 1 more (ask `loganalyzer why` about one)") in shown


def test_terminal_lists_findings_with_fix_then_unexplained() -> None:
    result = run("diagnose", FAILING, "-q")
    assert result.exit_code == 0
    text = result.stdout
    first = text.index("[HIGH] FC008")
    assert first < text.index("Fix: \"Department names sent via SCIM") < text.index("[HIGH] FC007")
    assert text.index("[HIGH] FC006") < text.index("Unexplained failures: none.")
    assert "guide step 1 (Prerequisites & Important Notes)" in text


def test_markdown_escapes_what_comes_from_the_log(tmp_path: Path) -> None:
    x = Export()
    x.user(
        "a@contoso.no", status="failure", http=400,
        detail="Department 'A|B <script>' does not exist",
        sent={"userName": "a@contoso.no",
              "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "A|B"},
    )
    export = tmp_path / "odd.json"
    export.write_text(json.dumps(x.records))
    out = tmp_path / "diagnosis.md"
    result = run("diagnose", str(export), "--format", "md", "-o", str(out), "-q")
    assert result.exit_code == 0 and result.stdout == ""
    text = out.read_text()
    assert "<script>" not in text and "\\<script\\>" in text
    row = next(line for line in text.splitlines() if line.startswith("| 20"))
    assert row.count(" | ") == 6  # the '|' inside the reason does not add a cell


@pytest.mark.parametrize(
    ("path", "fail_on", "code"),
    [
        (FAILING, "high", 1),
        (FAILING, "critical", 0),
        (HEALTHY, "low", 0),
        (HEALTHY, "info", 1),  # the unassigned users are counted at info
        (HEALTHY, None, 0),
        (FAILING, None, 0),
    ],
)
def test_fail_on(path: str, fail_on: str | None, code: int) -> None:
    args = ["diagnose", path, "-q"] + (["--fail-on", fail_on] if fail_on else [])
    assert run(*args).exit_code == code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--format", "html"], "'html' is not one of 'terminal', 'md', 'json'"),
        (["--fail-on", "urgent"], "'urgent' is not one of 'critical', 'high'"),
        (["-o", "d.html"], "-o d.html: this command writes terminal, md, json, not html"),
        (["--format", "md", "-o", "d.json"], "the suffix says json but --format is md"),
        (["--job-status", "/nonexistent/job.json"], "/nonexistent/job.json: cannot read"),
        (["-o", "d.md", "-o", "./d.md"], "error: -o ./d.md: the same file as -o d.md\n"),
        (["-o", ""], "error: -o: the value is empty: name a file (.txt/.md/.markdown/.json)"),
        (["--job-status", FAILING], f"error: {FAILING}: expected a JSON object (a "
         "synchronization job); this looks like a provisioning log: give it as INPUT\n"),
    ],
)
def test_bad_options_exit_2_with_one_line(args: list[str], message: str) -> None:
    result = run("diagnose", FAILING, *args, "-q")
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output


def test_job_status_that_is_not_json_or_not_a_job(tmp_path: Path) -> None:
    broken = tmp_path / "job.json"
    broken.write_text('{"status": ')
    result = run("diagnose", FAILING, "--job-status", str(broken), "-q")
    assert result.exit_code == 2 and "job.json: line 1" in result.stderr
    broken.write_text('{"value": [{"id": "a"}, {"id": "b"}]}')
    result = run("diagnose", FAILING, "--job-status", str(broken), "-q")
    assert result.exit_code == 2 and "expected one synchronization job, found 2" in result.stderr
    broken.write_text('["not", "a", "job"]')
    assert run("diagnose", FAILING, "--job-status", str(broken), "-q").exit_code == 2


def test_unusable_input_exits_2(tmp_path: Path) -> None:
    empty = tmp_path / "empty.json"
    empty.write_text("")
    result = run("diagnose", str(empty), "-q")
    assert result.exit_code == 2 and "empty.json" in result.stderr


def test_job_status_joins_the_quarantine_to_the_401s() -> None:
    doc = as_json(TOKEN, "--job-status", TOKEN_JOB)
    by_id = {f["rule_id"]: f for f in doc["findings"]}
    assert "EncounteredQuarantineException" in by_id["FC004"]["message"]
    quarantine = by_id["FC016"]
    assert quarantine["details"]["quarantine"]["failing_requests"] == by_id["FC004"]["events"]
    assert quarantine["details"]["caused_by"][0].startswith("FC004")
    assert doc["summary"]["job_status"]["quarantined"] is True


def test_rules_list_and_show() -> None:
    listing = run("rules", "list")
    assert listing.exit_code == 0
    for rule in RULES:
        assert rule.id in listing.stdout
    assert re.search(r"FC008  high +cause +1,7a +Department does not exist in Flowcase",
                     listing.stdout)
    assert re.search(r"FC017  medium +cause +- +Transient", listing.stdout)
    as_list = json.loads(run("rules", "list", "--format", "json").stdout)
    assert [r["rule_id"] for r in as_list] == [r.id for r in RULES]
    shown = run("rules", "show", "fc001")
    assert shown.exit_code == 0
    for section in ("What it detects:", "Why provisioning fails:", "Evidence:", "Fix:",
                    "Known false positives:", "Remediation:"):
        assert section in shown.stdout
    assert "7b (Disable SCIM Group Support)" in shown.stdout
    missing = run("rules", "show", "FC999")
    assert missing.exit_code == 2 and "no rule 'FC999'" in missing.stderr


def test_the_first_lines_are_verdict_fix_first_and_counts_and_the_cause_leads():
    shown = run("diagnose", str(SAMPLES / "group-404-halt.json"), "-q").stdout.splitlines()
    assert shown[0] == ("Verdict: failing. 1 finding at high severity or above and 25.5% of "
                        "events failed.")
    assert shown[1] == ("Fix first: FC001 SCIM group provisioning is still enabled (guide step "
                        "7b Disable SCIM Group Support)")
    assert shown[2] == "Findings: 1 critical, 1 medium, 1 info"
    tags = [line.split()[1] for line in shown if line.startswith("[")]
    assert tags == ["FC001", "FC016", "FC018"]  # the cause before its escrow consequence
    escrow = shown.index(next(line for line in shown if line.startswith("[MEDIUM] FC016")))
    assert any(line.strip().startswith("Caused by: FC001 SCIM group provisioning")
               for line in shown[escrow:escrow + 8])


def test_since_on_a_file_diagnoses_only_that_period():
    weekly = str(SAMPLES / "weekly-two-periods.json")
    everything = as_json(weekly)["summary"]
    last_week = as_json(weekly, "--since", "7d")["summary"]
    assert last_week["time_range"]["end"] == everything["time_range"]["end"]
    assert 0 < last_week["events"] < everything["events"]
    assert last_week["time_range"]["start"] >= "2026-03-01T22:09:36"
    period = as_json(weekly, "--from", "2026-03-02", "--to", "2026-03-03")["summary"]
    assert period["time_range"]["start"].startswith("2026-03-02")
    assert period["time_range"]["end"] < "2026-03-04"


def test_a_degraded_run_still_names_its_medium_cause_to_fix_first():
    shown = run("diagnose", str(SAMPLES / "pattern-03-missing-aadoptscim-flag.json"),
                "-q").stdout.splitlines()
    assert shown[0].startswith("Verdict: degraded.")
    assert shown[1].startswith("Fix first: FC003 ")
    doc = as_json(str(SAMPLES / "pattern-03-missing-aadoptscim-flag.json"))
    assert doc["verdict"]["fix_first"]["rule_id"] == "FC003"
    healthy = run("diagnose", str(SAMPLES / "healthy-incremental.json"), "-q").stdout.splitlines()
    assert healthy[1] == "Fix first: nothing"


def test_a_critical_cause_is_fixed_first_before_a_high_one_at_an_earlier_step(tmp_path):
    """A group 404 that halts every cycle (critical, step 7b) before one user's unknown
    department (high, step 1): the step order breaks ties between equally severe causes."""
    x = Export()
    x.user("a@contoso.no", status="failure", http=400,
           detail="Department 'Sales EMEA' does not exist",
           sent={"userName": "a@contoso.no", "urn:ietf:params:scim:schemas:extension:"
                 "enterprise:2.0:User:department": "Sales EMEA"})
    x.group("Flowcase Users NO", detail="Resource Groups not found")
    export = tmp_path / "halt.json"
    export.write_text(json.dumps(x.records))
    doc = as_json(str(export))
    assert {f["rule_id"]: f["severity"] for f in doc["findings"]} == {
        "FC001": "critical", "FC008": "high"}
    assert doc["verdict"]["fix_first"] == {
        "rule_id": "FC001", "title": "SCIM group provisioning is still enabled",
        "guide_step": "7b"}


def test_markdown_evidence_says_it_is_a_sample_of_how_many_events(tmp_path):
    """A rule keeps five events as evidence; the Markdown showed them as if they were all."""
    out = tmp_path / "d.md"
    assert run("diagnose", str(SAMPLES / "failing-initial.json"), "-o", str(out),
               "-q").exit_code == 0
    data = json.loads(run("diagnose", str(SAMPLES / "failing-initial.json"), "--format",
                          "json", "-q").stdout)
    text = out.read_text(encoding="utf-8")
    for finding in data["findings"]:
        shown, events = len(finding["evidence"]), finding["events"]
        if shown and events > shown:
            assert (f"**Evidence:** {events} events, a sample of {shown} (and "
                    f"{events - shown:,} more):") in text
    assert "a sample of" in text


def test_summary_of_a_period_with_no_event_says_so_and_not_from_none_to_none(tmp_path):
    weekly = str(SAMPLES / "weekly-two-periods.json")
    records = json.loads((SAMPLES / "weekly-two-periods.json").read_text())
    gap = tmp_path / "gap.json"
    gap.write_text(json.dumps([r for r in records
                               if not r["activityDateTime"].startswith("2026-03-05")]))
    empty = CliRunner().invoke(app, ["summary", str(gap), "--from", "2026-03-05", "--to",
                                     "2026-03-05"])
    assert empty.exit_code == 0, empty.output
    assert "0 events: none in this period" in empty.stdout and "None" not in empty.stdout
    whole = CliRunner().invoke(app, ["summary", weekly])
    assert "375 events from 2026-02-23" in whole.stdout


def test_summary_writes_its_times_as_diagnose_does_and_keeps_iso_in_json(tmp_path):
    """A source with fractions of a second: the headline to the second in UTC, as every other
    output; the JSON keeps the ISO times it always had."""
    records = json.loads(Path(FAILING).read_text())
    times = sorted(r["activityDateTime"] for r in records)
    for r in records:
        r["activityDateTime"] = r["activityDateTime"].replace("Z", ".1234567Z")
    fractions = tmp_path / "fractions.json"
    fractions.write_text(json.dumps(records))
    shown = CliRunner().invoke(app, ["summary", str(fractions)])
    assert shown.exit_code == 0, shown.output
    first, last = (t.replace("T", " ").removesuffix("Z") for t in (times[0], times[-1]))
    assert f"57 events from {first} to {last} UTC\n" in shown.stdout
    answer = json.loads(CliRunner().invoke(app, ["summary", str(fractions), "--format",
                                                 "json"]).stdout)
    assert answer["time_range"]["start"] == times[0].replace("Z", ".123456+00:00")


def test_the_counts_line_accounts_for_warnings(tmp_path):
    """Graph's later status 'warning' is neither a failure nor a skip: the line says how many,
    so its counts add up to the events."""
    records = json.loads(Path(FAILING).read_text())
    successes = [r for r in records if r["provisioningStatusInfo"]["status"] == "success"]
    for record in successes[:5]:
        record["provisioningStatusInfo"]["status"] = "warning"
    path = tmp_path / "warnings.json"
    path.write_text(json.dumps(records))
    text = " ".join(run("diagnose", str(path)).output.split())
    counts = re.search(r"(\d+) events, .*?: (\d+) failures .*?, (\d+) skipped, (\d+) warnings\.",
                       text)
    assert counts, text
    events, failures, skipped, warnings = map(int, counts.groups())
    assert warnings == 5
    assert events - failures - skipped - warnings == len(successes) - 5
    assert "warning" not in " ".join(run("diagnose", FAILING).output.split()).split("UTC,")[1][:120]


def _main_only_renamed(tmp_path: Path, main: str) -> dict:
    """The portal CSV main file with a second failure of Jakob Møller, renamed since."""
    import csv

    with open(main, encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    header, jakob = rows[0], next(r for r in rows[1:] if "Jakob Møller" in r)
    again = ["Jakob Møller-Berg" if v == "Jakob Møller" else v for v in jakob]
    for column in ("ID", "Change ID", "Id", "Change Id"):  # a new event, not a duplicate
        if column in header:
            again[header.index(column)] = "f" + again[header.index(column)][1:]
    folder = tmp_path / "renamed"
    folder.mkdir()
    with open(folder / "ProvisioningLogs.csv", "w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows([*rows, again])
    return as_json(str(folder / "ProvisioningLogs.csv"))


def test_users_without_upn_are_named_by_display_name_and_object_id(tmp_path) -> None:
    """The portal CSV's main file alone logs no UPN: a bare object id tells the reader nothing,
    so messages and the affected list give the display name beside it (both find the user
    with `why`)."""
    main_only = str(SAMPLES / "formats" / "csv" / "ProvisioningLogs.csv")
    doc = as_json(main_only)
    departments = next(f for f in doc["findings"] if f["rule_id"] == "FC008")
    assert "Jakob Møller <4b677d3a-bbf3-4670-ab02-58f26fcdbcc3>" in departments["message"]
    shown = " ".join(run("diagnose", main_only, "-q").stdout.split())
    assert "Jakob Møller <4b677d3a-bbf3-4670-ab02-58f26fcdbcc3> (1)" in shown
    # renamed during the month, a user is still one user, under one name
    frames_doc = _main_only_renamed(tmp_path, main_only)
    renamed = next(f for f in frames_doc["findings"] if f["rule_id"] == "FC008")
    assert renamed["message"].count("<4b677d3a-bbf3-4670-ab02-58f26fcdbcc3>") == 1
    assert "8 users" not in renamed["message"]
    # with UPNs logged (the JSON of the same events), users are named by them alone
    named = next(f for f in as_json(FAILING)["findings"] if f["rule_id"] == "FC008")
    assert "7 users (camilla.dam@northwind.dk, jakob.moller@northwind.dk, " in named["message"]


def test_a_pasted_on_demand_success_beside_the_export_mends_the_failure(tmp_path) -> None:
    """Provision on demand after the fix, its response saved beside last night's export: the
    response names no app, so it is the Flowcase app's (docs: inputs), and the user's
    failure is mended."""
    import realworld as rw

    x = Export()
    x.user("anna.berg@contoso.no", status="failure", http=400,
           detail="Department 'Sales EMEA' does not exist",
           sent={"userName": "anna.berg@contoso.no", "urn:ietf:params:scim:schemas:extension:"
                 "enterprise:2.0:User:department": "Sales EMEA"})
    export = tmp_path / "export.json"
    export.write_text(json.dumps(x.records))
    on_demand = tmp_path / "on-demand.json"
    on_demand.write_text(json.dumps(rw.on_demand_response(
        x.user("anna.berg@contoso.no", cycle="on-demand"))))
    doc = as_json(str(export), str(on_demand))
    assert [a["name"] for a in doc["summary"]["scope"]["diagnosed"]] == [
        "Flowcase SCIM", "(no app or job named)"]
    assert doc["summary"]["scope"]["other_events"] == 0
    assert [(f["rule_id"], f["mended"]) for f in doc["findings"]] == [("FC008", True)]
    assert doc["verdict"]["state"] == "healthy"


@pytest.mark.parametrize("source", ["export", "store"])
def test_evidence_carries_the_ids_a_support_case_names(tmp_path, source):
    """Each evidence event's cycle and change id as its raw record has them (the change id
    is kept when a month is analysed, as the store is read), on an export and its store."""
    export = SAMPLES / "pattern-08-unknown-department.json"
    records = {r["id"]: r for r in json.loads(export.read_text())}
    given = export
    if source == "store":
        given = tmp_path / "store"
        assert CliRunner().invoke(app, ["ingest", str(export), "-o", str(given), "-q"]
                                  ).exit_code == 0
    result = CliRunner().invoke(app, ["diagnose", str(given), "--format", "json", "-q"])
    evidence = [e for f in json.loads(result.stdout)["findings"] for e in f["evidence"]]
    assert evidence
    for shown in evidence:
        record = records[shown["event_id"]]
        assert (shown["cycle_id"], shown["change_id"]) == (record["cycleId"], record["changeId"])


def test_a_job_status_of_another_job_is_said_not_silently_applied(tmp_path):
    """A --job-status of a job none of the events is of (a file mixed up): its quarantine
    may say nothing of these events, and every output says so; the logs' own job says
    nothing."""
    escrow = SAMPLES / "pattern-16-quarantine-escrow.json"
    own = SAMPLES / "job-status" / "pattern-16-quarantine-escrow.job.json"
    other = tmp_path / "other.job.json"
    other.write_text(own.read_text().replace('"id": "scim.', '"id": "other.', 1))
    logged = json.loads(escrow.read_text())[0]["jobId"]
    said = as_json(str(escrow), "--job-status", str(other))["notes"]
    assert (f"--job-status is of job {json.loads(other.read_text())['id']}, but the events "
            f"are of {logged}: its quarantine and last error may not be theirs") in said
    assert not [n for n in as_json(str(escrow), "--job-status", str(own))["notes"]
                if n.startswith("--job-status")]
    page = tmp_path / "r.md"
    assert run("report", str(escrow), "--job-status", str(other), "-o", str(page), "-q"
               ).exit_code == 0
    assert "--job-status is of job other." in page.read_text()


IGNORED = "is not supported and was ignored"


def test_unexplained_warnings_say_what_entra_warned_in_every_format(tmp_path):
    """Counting '2 warnings' is not enough: each output says what they said, and who."""
    path = str(ignored_warnings_export(tmp_path / "warnings.json"))
    text = " ".join(run("diagnose", path).output.split())
    assert "Unexplained warnings (2; they did not fail):" in text
    assert (f"/ HTTP 400: 2 warnings, 2 objects; e.g. Attribute 'urn:ietf:params:scim:schemas:"
            f"extension:enterprise:2.0:User:costCenter' {IGNORED}; who: silje.bakken@contoso.no, "
            "oskar.nystrom@contoso.se") in text
    md = run("diagnose", path, "--format", "md", "-q").stdout
    section = md.split("## Unexplained warnings", 1)[1]
    assert "| error code | HTTP | warnings | objects | for example | sample reason |" in section
    assert "| 400 | 2 | 2 | silje.bakken@contoso.no, oskar.nystrom@contoso.se |" in section
    assert IGNORED in section
    [group] = as_json(path)["unexplained_warnings"]
    assert group == {
        "error_code": "SystemForCrossDomainIdentityManagementServiceIncompatible",
        "http_status": 400, "count": 2, "affected": 2,
        "sample_reason": "Attribute 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:"
                         f"User:costCenter' {IGNORED}",
        "examples": ["silje.bakken@contoso.no", "oskar.nystrom@contoso.se"],
    }


@pytest.mark.parametrize("source", ["export", "store"])
def test_warnings_that_logged_only_their_status_say_what_their_step_said(tmp_path, source):
    """A warning without error code, HTTP status or reason was '(no code) / HTTP -' with
    '(no reason logged)': every format now says what its step said, and that it logged no
    code, in words; the same from a store (its steps read from disk)."""
    given = status_only_warnings_export(tmp_path / "warnings.json")
    if source == "store":
        given = tmp_path / "store"
        assert run("ingest", str(tmp_path / "warnings.json"), "-o", str(given), "-q"
                   ).exit_code == 0
    text = " ".join(run("diagnose", str(given)).output.split())
    assert (f"no error code or HTTP status: 2 warnings, 2 objects; e.g. {TITLE_LEFT}; who: "
            "tuva.aas@contoso.no, ola.dahl@contoso.no") in text
    assert "(no code)" not in text and "HTTP -" not in text
    md = run("diagnose", str(given), "--format", "md", "-q").stdout
    [row] = [line for line in md.split("## Unexplained warnings", 1)[1].splitlines()
             if line.startswith("| no error code |")]
    assert "|  | 2 | 2 | tuva.aas@contoso.no, ola.dahl@contoso.no |" in row
    assert row.endswith("'jobTitle' was not accepted \\& was left \\<unchanged\\> |")
    [group] = as_json(str(given))["unexplained_warnings"]
    assert group == {
        "error_code": None, "http_status": None, "count": 2, "affected": 2,
        "sample_reason": TITLE_LEFT,
        "examples": ["tuva.aas@contoso.no", "ola.dahl@contoso.no"],
    }


def test_a_run_without_warnings_shows_no_warning_section():
    for args in ((FAILING,), (FAILING, "--format", "md")):
        assert "Unexplained warnings" not in run("diagnose", *args).output
