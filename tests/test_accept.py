"""Accepting known findings: `--ignore RULE[:IDENTITY]`, `--baseline` and `--write-baseline`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import SAMPLES
from typer.testing import CliRunner

from loganalyzer.cli import app
from tests.eventfactory import Export

LOST = str(SAMPLES / "pattern-13-not-assigned.json")  # FC013 (medium, 4 people), FC018 (info)
LOST_PEOPLE = ["elias.akesson@northwind.se", "frederik.lund@northwind.dk",
               "nora.strand@northwind.no", "per.olsen@northwind.no"]


def diagnose(*args: str) -> dict:
    result = CliRunner().invoke(app, ["diagnose", LOST, "--format", "json", "-q", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def ids(doc: dict, key: str = "findings") -> list[str]:
    return [f["rule_id"] for f in doc[key]]


def test_ignoring_a_rule_moves_its_findings_to_suppressed():
    doc = diagnose("--ignore", "fc013")
    assert ids(doc) == ["FC018"] and ids(doc, "suppressed") == ["FC013"]
    assert doc["suppressed"][0]["source"] == "ignored: fc013"
    assert doc["summary"]["findings_by_severity"] == {"info": 1}
    assert doc["verdict"]["state"] == "healthy"


def test_ignoring_some_people_keeps_the_finding_until_all_of_them_are_accepted():
    doc = diagnose(*(a for p in LOST_PEOPLE[:3] for a in ("--ignore", f"FC013:{p}")))
    assert "FC013" in ids(doc) and doc["suppressed"] == []
    doc = diagnose(*(a for p in LOST_PEOPLE for a in ("--ignore", f"FC013:{p.upper()}")))
    assert "FC013" not in ids(doc) and ids(doc, "suppressed") == ["FC013"]


def test_fail_on_does_not_count_suppressed_findings():
    run = CliRunner().invoke
    assert run(app, ["diagnose", LOST, "-q", "--fail-on", "medium"]).exit_code == 1
    assert run(app, ["diagnose", LOST, "-q", "--fail-on", "medium", "--ignore", "FC013"]
               ).exit_code == 0


def test_a_baseline_accepts_this_weeks_findings_and_lets_new_people_through(tmp_path):
    baseline = tmp_path / "baseline.json"
    result = CliRunner().invoke(app, ["diagnose", LOST, "--write-baseline", str(baseline)])
    assert result.exit_code == 0 and f"wrote {baseline}" in result.stderr
    written = json.loads(baseline.read_text())
    fc013 = next(e for e in written["accepted"] if e["rule_id"] == "FC013")
    assert fc013["identities"] == LOST_PEOPLE
    doc = diagnose("--baseline", str(baseline))
    assert doc["findings"] == [] and ids(doc, "suppressed") == ["FC013", "FC018"]
    assert doc["suppressed"][0]["source"] == "baseline: baseline.json"
    fc013["identities"] = LOST_PEOPLE[1:]  # someone new is affected: the finding is back
    baseline.write_text(json.dumps(written))
    assert ids(diagnose("--baseline", str(baseline))) == ["FC013"]


def test_with_every_finding_accepted_diagnose_says_so_not_that_rules_are_quiet(tmp_path):
    baseline = tmp_path / "baseline.json"
    run = CliRunner().invoke
    assert run(app, ["diagnose", LOST, "--write-baseline", str(baseline), "-q"]).exit_code == 0
    said = "No finding is left to fix: 2 findings accepted, listed under Suppressed."
    for fmt in ("terminal", "md"):
        shown = run(app, ["diagnose", LOST, "--baseline", str(baseline), "--format", fmt, "-q"])
        assert said in shown.stdout and "every failure rule is quiet" not in shown.stdout


def test_every_output_lists_what_was_suppressed(tmp_path):
    md, html, text = tmp_path / "r.md", tmp_path / "r.html", tmp_path / "d.txt"
    run = CliRunner().invoke
    assert run(app, ["report", LOST, "--ignore", "FC013", "-o", str(md), "-o", str(html), "-q"]
               ).exit_code == 0
    assert run(app, ["diagnose", LOST, "--ignore", "FC013", "-o", str(text), "-q"]).exit_code == 0
    assert "## Suppressed (accepted)" in md.read_text()
    assert "| FC013 | medium |" in md.read_text() and "| ignored: FC013 |" in md.read_text()
    assert '<section id="suppressed">' in html.read_text()
    shown = text.read_text()
    assert "Suppressed (1, accepted):" in shown and "(ignored: FC013)" in shown
    assert "Findings: 1 info (1 suppressed)" in shown


CREDENTIALS = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
REJECTED = ["olav.lie", "petra.sand", "rune.vik", "siri.moe", "tore.ness", "una.bakke"]


def _export(tmp_path: Path, exported: int, failed_cycles: int, **failure) -> str:
    """A portal download: ``exported`` users created in the first cycle, then six users
    failing in each of ``failed_cycles`` cycles (retried from escrow after the first)."""
    export = Export()
    for n in range(exported):
        export.user(f"new.user{n}@northwind.no", cycle="cycle-1")
    for c in range(2, 2 + failed_cycles):
        for name in REJECTED:
            export.user(f"{name}@northwind.no", cycle=f"cycle-{c}", status="failure",
                        escrow=c > 2, retries=int(c > 2), **failure)
    path = tmp_path / "provisioning.json"
    path.write_text(json.dumps(export.records), encoding="utf-8")
    return str(path)


def _token_export(tmp_path: Path, exported: int) -> str:
    """Flowcase refusing the secret token (FC004) for 18 requests in 3 cycles, after
    ``exported`` users were created."""
    return _export(tmp_path, exported, 3, http=401, body="", error_code=CREDENTIALS)


FIX_THE_TOKEN = {"rule_id": "FC004", "title": "Flowcase rejects the secret token",
                 "guide_step": "3"}


def _run(*args: str):
    return CliRunner().invoke(app, [*args, "--format", "json", "-q"])


@pytest.mark.parametrize(("accepting", "how"), [
    (["--ignore", "FC004", "--ignore", "FC016"], "are ignored (--ignore FC004, FC016)"),
    (["--baseline", "BASELINE"], "are accepted (FC004, FC016 in the baseline baseline.json)"),
])
def test_accepting_what_explains_most_failures_does_not_make_the_job_healthy(tmp_path,
                                                                             accepting, how):
    """18 of 24 events failed: the verdict said 'healthy ... 75.0% of events failed', and
    --fail-on high passed, once the findings that explain the failures were accepted."""
    export = _token_export(tmp_path, exported=6)
    baseline = tmp_path / "baseline.json"
    baseline.write_text(json.dumps({"accepted": [
        {"rule_id": "FC004", "identities": []}, {"rule_id": "FC016", "identities": []}]}))
    accepting = [str(baseline) if a == "BASELINE" else a for a in accepting]
    diagnosed = _run("diagnose", export, *accepting, "--fail-on", "high")
    reported = _run("report", export, *accepting, "--fail-on", "high", "-o", "-")
    for result in (diagnosed, reported):
        assert result.exit_code == 1, result.output
        doc = json.loads(result.stdout)
        assert doc["findings"] == [] and ids(doc, "suppressed") == ["FC004", "FC016"]
        assert doc["verdict"] == {
            "state": "failing", "fix_first": FIX_THE_TOKEN,
            "reason": f"75.0% of events failed; the findings that explain them {how}"}
    shown = " ".join(CliRunner().invoke(app, ["diagnose", export, *accepting, "-q"]).stdout
                     .split())
    assert shown.startswith(f"Verdict: failing. 75.0% of events failed; the findings that "
                            f"explain them {how}. Fix first: FC004 Flowcase rejects the "
                            "secret token (guide step 3 ")
    still = ("No other finding: 2 findings are accepted (listed under Suppressed), but FC004, "
             "FC016 explain why most events failed and are still to fix.")
    assert still in shown and "No finding is left to fix" not in shown
    page = CliRunner().invoke(app, ["report", export, *accepting, "-q", "-o", "-"]).stdout
    assert f"<p class=\"empty\">{still}</p>" in page
    assert "fix first: Flowcase rejects the secret token (guide step 3 " in page


def test_accepting_what_explains_fewer_than_half_the_events_keeps_the_job_healthy(tmp_path):
    """18 of 37 events failed: accepting the rejected token is the user's call."""
    export = _token_export(tmp_path, exported=19)
    result = _run("diagnose", export, "--ignore", "FC004", "--ignore", "FC016", "--fail-on",
                  "high")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"]["state"] == "healthy"


def test_an_accepted_medium_finding_explaining_most_failures_degrades_the_verdict(tmp_path):
    """Throttling (FC017, medium) of 12 of 18 events, retried from escrow (FC016, medium):
    degraded, as without accepting them, and --fail-on counts them at their own severity."""
    export = _export(tmp_path, 6, 2, http=429, detail="Too many requests")
    accepting = ("--ignore", "FC017", "--ignore", "FC016")
    result = _run("diagnose", export, *accepting, "--fail-on", "medium")
    assert result.exit_code == 1, result.output
    doc = json.loads(result.stdout)
    assert doc["findings"] == [] and doc["verdict"]["state"] == "degraded"
    assert doc["verdict"]["reason"] == ("66.7% of events failed; the findings that explain them "
                                        "are ignored (--ignore FC017, FC016)")
    assert _run("diagnose", export, *accepting, "--fail-on", "high").exit_code == 0


def test_an_accepted_low_finding_explaining_most_failures_counts_as_low(tmp_path):
    """Throttling of one cycle that Entra retries (FC017, low) in 6 of 8 events: healthy
    without accepting it, so accepting it must not make the verdict worse (it counts at its
    own severity); the verdict still says what explains the failures."""
    export = _export(tmp_path, 2, 1, http=429, detail="Too many requests")
    plain = json.loads(_run("diagnose", export).stdout)["verdict"]
    assert plain["state"] == "healthy"
    result = _run("diagnose", export, "--ignore", "FC017", "--fail-on", "medium")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["verdict"] == {
        "state": "healthy", "fix_first": None,
        "reason": "No finding above low severity and 75.0% of events failed; the finding that "
                  "explains them is ignored (--ignore FC017)"}
    assert _run("diagnose", export, "--ignore", "FC017", "--fail-on", "low").exit_code == 1
    shown = CliRunner().invoke(app, ["diagnose", export, "--ignore", "FC017", "-q"]).stdout
    assert "Fix first: nothing" in shown
    assert "No finding is left to fix: 1 finding accepted" in " ".join(shown.split())


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{", "line 1: not JSON"),
        ('{"rules": []}', 'expected a baseline: {"accepted": [...]}'),
        ('{"accepted": [{"rule_id": "FC013"}]}',
         "accepted[0]: missing or not valid: identities (a list, [] for the whole rule)\n"),
        ('{"accepted": [{"identities": []}]}',
         "accepted[0]: missing or not valid: rule_id (text)\n"),
        ('{"accepted": [{"rule_id": "FC013", "identities": []}, '
         '{"rule_id": "FC099", "identities": []}]}',
         "accepted[1]: no rule FC099; `loganalyzer rules list` shows them\n"),
        ('{"baseline_version": 2, "accepted": []}',
         "baseline_version 2 is not one this loganalyzer reads (up to 1): written by a newer "
         "version? upgrade, or write the baseline again\n"),
        ('{"accepted": [{"rule_id": "CC015", "identities": ["anna@northwind.no"]}]}',
         'accepted[0]: a configuration check is accepted as a whole: "identities": []\n'),
    ],
)
def test_a_broken_baseline_is_one_line_exit_2(tmp_path: Path, content: str, message: str):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    result = CliRunner().invoke(app, ["diagnose", LOST, "--baseline", str(baseline), "-q"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {baseline}: {message}")
    assert len(result.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [("FC999", "no rule FC999"), ("escrow", "expected RULE or RULE:IDENTITY")],
)
def test_a_bad_ignore_is_refused(spec: str, message: str):
    result = CliRunner().invoke(app, ["diagnose", LOST, "--ignore", spec, "-q"])
    assert result.exit_code == 2 and message in result.stderr


@pytest.mark.parametrize("command", ["diagnose", "report"])
def test_a_baseline_an_output_would_overwrite_is_refused_before_the_analysis(tmp_path, command):
    """`--write-baseline weekly.md -o weekly.md` wrote the baseline, then the report over it
    (exit 0, 'wrote' twice), and next week's --baseline refused what was left."""
    target = tmp_path / "weekly.md"
    result = CliRunner().invoke(app, [command, LOST, "-o", str(target), "--write-baseline",
                                      str(tmp_path / "." / "weekly.md")])
    assert result.exit_code == 2 and not target.exists()
    assert result.stderr == f"error: --write-baseline {target}: the same file as -o {target}\n"


def test_a_baseline_in_a_missing_folder_is_refused_before_the_logs_are_read(tmp_path):
    missing = tmp_path / "gone" / "accepted.json"
    result = CliRunner().invoke(app, ["report", LOST, "-o", str(tmp_path / "r.md"),
                                      "--write-baseline", str(missing)])
    assert result.exit_code == 2
    assert result.stderr == (f"error: --write-baseline {missing}: cannot write: the folder "
                             f"{missing.parent} does not exist\n")


def test_the_baseline_is_written_with_the_outputs_whole_or_not_at_all(tmp_path, monkeypatch):
    """The baseline joins the outputs' one batch: a report that cannot be written leaves
    last week's baseline as it was, not a new baseline beside an old report."""
    from loganalyzer import atomic_write

    batches: list[set[Path]] = []
    real = atomic_write.write_all
    monkeypatch.setattr(atomic_write, "write_all",
                        lambda files: (batches.append(set(files)), real(files))[1])
    baseline, page = tmp_path / "accepted.json", tmp_path / "weekly.md"
    result = CliRunner().invoke(app, ["report", LOST, "--write-baseline", str(baseline),
                                      "-o", str(page), "-q"])
    assert result.exit_code == 0, result.output
    assert batches == [{baseline, page}]
    assert json.loads(baseline.read_text())["accepted"] and page.read_text()
