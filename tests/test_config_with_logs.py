"""Logs and configuration together: diagnose, report and why with --config DIR."""

from __future__ import annotations

import json
import shutil

import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app
from tests.fake_graph import FLOWCASE
from tests.graph_support import CONFIG, TOKEN, config_graph, events

# the fake Graph serves March 2026 (conftest.graph_in_march)
pytestmark = pytest.mark.usefixtures("graph_in_march")

LOGS = "sample_logs/failing-initial.json"


def invoke(*args: str):
    result = CliRunner().invoke(app, [*args, "-q"])
    assert result.exit_code in (0, 1), result.stderr
    return result.stdout


def test_diagnose_confirms_the_log_finding_and_adds_a_configuration_section() -> None:
    data = json.loads(invoke("diagnose", LOGS, "--config", str(CONFIG / "bad"), "--format",
                             "json"))
    lowercase = next(f for f in data["findings"] if f["rule_id"] == "FC006")
    assert ("Confirmed by the configuration: CC003 userName is mapped Direct [userPrincipalName], "
            "matching precedence 1") in lowercase["message"]
    departments = next(f for f in data["findings"] if f["rule_id"] == "FC008")
    assert "Confirmed by the configuration" not in departments["message"]
    assert len(data["configuration"]["findings"]) == 18


def test_a_good_configuration_confirms_nothing() -> None:
    text = invoke("diagnose", LOGS, "--config", str(CONFIG / "good"))
    assert "Confirmed by the configuration" not in text
    assert "CONFIGURATION" in text
    assert "no findings." in text.split("CONFIGURATION")[1]


def test_without_config_the_output_is_unchanged() -> None:
    assert "CONFIGURATION" not in invoke("diagnose", LOGS)


def test_why_says_the_configuration_confirms_the_verdict() -> None:
    text = invoke("why", "anna.berg@northwind.no", LOGS, "--config", str(CONFIG / "bad"))
    verdict = " ".join(text.split("Verdict:")[1].split("Timeline")[0].split())
    assert "Confirmed by the configuration: CC003 userName is mapped Direct" in verdict
    data = json.loads(invoke("why", "anna.berg@northwind.no", LOGS, "--config",
                             str(CONFIG / "bad"), "--format", "json"))
    assert data["configuration"]["findings"][0]["check_id"] == "CC015"  # critical, step 3


def test_report_has_a_configuration_section_in_html_and_markdown(tmp_path) -> None:
    html = tmp_path / "r.html"
    invoke("report", LOGS, "--config", str(CONFIG / "bad"), "-o", str(html))
    page = html.read_text()
    assert page.count('id="config-cc') == 18
    assert "<td>userName mapping</td><td class=\"mono\">Direct [userPrincipalName], matching " \
           "precedence 1</td>" in page
    assert "emails[type eq &#34;work&#34;].value" in page  # escaped, not raw HTML
    md = invoke("report", LOGS, "--config", str(CONFIG / "bad"), "--format", "md")
    assert "## Configuration" in md and 'emails\\[type eq "work"\\].value' in md


def test_redacted_report_keeps_the_nested_group_count_not_the_names(tmp_path) -> None:
    md = invoke("report", LOGS, "--config", str(CONFIG / "bad"), "--format", "md", "--redact")
    config = md.split("## Configuration")[1]
    assert "2 users reach the app only through a nested group" in config
    assert "ole.johansen" not in config and "marte.solberg" not in config


def test_a_bad_config_folder_is_exit_2() -> None:
    result = CliRunner().invoke(app, ["diagnose", LOGS, "--config", "sample_logs/formats", "-q"])
    assert result.exit_code == 2 and "holds no configuration file" in result.stderr


def test_diagnose_graph_with_an_app_fetches_the_configuration_too() -> None:
    with config_graph(CONFIG / "bad", events=events(), token=TOKEN) as graph:
        result = CliRunner().invoke(
            app, ["diagnose", "--graph", "--app", FLOWCASE.name, "--graph-url", graph.url,
                  "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json", "-q"],
            env={"GRAPH_ACCESS_TOKEN": TOKEN})
        graph.fail("/appRoleAssignedTo", 403)
        refused = CliRunner().invoke(
            app, ["diagnose", "--graph", "--app", FLOWCASE.name, "--graph-url", graph.url,
                  "--from", "2026-03-01", "--to", "2026-03-31", "--format", "json", "-q"],
            env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["configuration"]["findings"]) == 18
    not_checked = json.loads(refused.stdout)["configuration"]["not_checked"]
    assert [n["check_id"] for n in not_checked] == ["CC014"]
    assert not_checked[0]["reason"].endswith("needs the Application.Read.All permission")


def test_report_shows_configuration_drift_between_two_runs(tmp_path) -> None:
    md = invoke("report", LOGS, "--config", str(CONFIG / "bad"), "--previous-config",
                str(CONFIG / "good"), "--format", "md")
    drift = md.split("### Changed since the previous configuration")[1].split("###")[0]
    assert ("| object mapping 'Provision Azure Active Directory Groups' | disabled | enabled |"
            in drift)
    assert ("| mapping to userName | Expression ToLower(\\[userPrincipalName\\], ), matching "
            "precedence 1 | Direct \\[userPrincipalName\\], matching precedence 1 |") in drift
    assert "| users assigned directly | 0 | 1 |" in drift
    assert "kari.nilsen" not in drift and "Kari Nilsen" not in drift  # users counted, not named
    same = invoke("report", LOGS, "--config", str(CONFIG / "good"), "--previous-config",
                  str(CONFIG / "good"), "--format", "md")
    assert "## Configuration" in same and "Changed since the previous" not in same


def test_drift_compares_only_the_parts_both_runs_hold(tmp_path) -> None:
    from loganalyzer.config.drift import drift
    from loganalyzer.config.files import read_config_dir

    schema_only = tmp_path / "schema"
    schema_only.mkdir()
    (schema_only / "s.json").write_text((CONFIG / "good" / "schema-1.json").read_text())
    changes = drift(read_config_dir(schema_only, print), read_config_dir(CONFIG / "bad", print))
    assert changes and all(c.setting.startswith(("mapping", "attribute", "object mapping"))
                           for c in changes)


def test_previous_config_needs_a_current_one() -> None:
    result = CliRunner().invoke(app, ["report", LOGS, "--previous-config", str(CONFIG / "good"),
                                      "--format", "md", "-q"])
    assert result.exit_code == 2 and "needs the current configuration too" in result.stderr


def test_configuration_values_are_escaped_in_the_html_report(tmp_path) -> None:
    import shutil

    folder = tmp_path / "config"
    shutil.copytree(CONFIG / "bad", folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["appRoles"][2]["value"] = "<img src=x onerror=alert(1)>"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    html = tmp_path / "r.html"
    invoke("report", LOGS, "--config", str(folder), "-o", str(html))
    page = html.read_text()
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page


def test_drift_masks_a_credential_in_the_tenant_url(tmp_path) -> None:
    from loganalyzer.config.drift import drift
    from loganalyzer.config.files import read_config_dir

    folder = tmp_path / "now"
    shutil.copytree(CONFIG / "good", folder)
    sync = json.loads((folder / "synchronization.json").read_text())
    sync["secrets"][0]["value"] = "https://api.flowcase.com/scim/v2?token=abcdef0123456789"
    (folder / "synchronization.json").write_text(json.dumps(sync))
    changes = drift(read_config_dir(CONFIG / "good", print), read_config_dir(folder, print))
    (url,) = [c for c in changes if c.setting == "Tenant URL"]
    assert url.now == "https://api.flowcase.com/scim/v2?token=[REDACTED]"


def test_each_log_rule_is_confirmed_only_by_the_check_of_the_same_mistake() -> None:
    from loganalyzer.config.check import run_checks
    from loganalyzer.config.files import read_config_dir

    confirmed = {rule: sorted(f.check_id for f in found) for rule, found in
                 run_checks(read_config_dir(CONFIG / "bad", print)).by_log_rule().items()}
    assert confirmed["FC003"] == ["CC016"]  # not CC006, the roles mapping
    assert confirmed["FC006"] == ["CC003"]  # userName lacks ToLower; the email has it
    assert confirmed["FC007"] == ["CC004"]  # the email is not matched second
    assert confirmed["FC019"] == ["CC017"] and "FC020" not in confirmed


def test_assignments_and_members_saved_twice_count_once(tmp_path) -> None:
    from loganalyzer.config.check import run_checks
    from loganalyzer.config.drift import settings
    from loganalyzer.config.files import read_config_dir

    folder = tmp_path / "copies"
    shutil.copytree(CONFIG / "bad", folder)
    (folder / "earlier").mkdir()
    for name in ("app-role-assignments.json", "group-flowcase-managers-members.json",
                 "group-flowcase-managers-transitive-members.json"):
        shutil.copy(folder / name, folder / "earlier" / name)
    # the earlier fetch: a group renamed since, and a member's name changed
    earlier = folder / "earlier" / "app-role-assignments.json"
    earlier.write_text(earlier.read_text().replace('"Flowcase Managers"', '"Flowcase Mgrs"'))
    members = folder / "earlier" / "group-flowcase-managers-members.json"
    page = json.loads(members.read_text())
    page["value"][0]["displayName"] = "Renamed Since"
    members.write_text(json.dumps(page))
    once, twice = read_config_dir(CONFIG / "bad", print), read_config_dir(folder, print)
    assert settings(twice) == settings(once)
    assert settings(twice)["assignments"]["users assigned directly"] == "1"
    assert ({g: (len(m.direct), len(m.transitive)) for g, m in twice.members.items()}
            == {g: (len(m.direct), len(m.transitive)) for g, m in once.members.items()})
    assert ([(f.check_id, f.message) for f in run_checks(twice).findings]
            == [(f.check_id, f.message) for f in run_checks(once).findings])


def test_a_configuration_finding_at_high_or_above_fails_the_verdict_and_fail_on(tmp_path) -> None:
    """Healthy logs beside a job in quarantine (CC015) and the group mapping left on (CC001):
    the next cycle fails whatever this one's logs say, so the weekly run must not pass."""
    healthy = "sample_logs/healthy-incremental.json"
    runner = CliRunner()
    alone = runner.invoke(app, ["diagnose", healthy, "--fail-on", "high", "-q"])
    assert alone.exit_code == 0 and alone.stdout.startswith("Verdict: healthy.")
    both = runner.invoke(app, ["diagnose", healthy, "--config", str(CONFIG / "bad"),
                               "--fail-on", "high", "-q"])
    assert both.exit_code == 1
    first = " ".join(both.stdout.split("\n\n")[0].split())
    # the configuration's job is the logs' job: its quarantine is the job status
    assert first.startswith("Verdict: failing. The provisioning job is in quarantine "
                            "(EncounteredEscrowProportionThreshold: More than 40% of the "
                            "provisioning operations in the last cycles failed. Review the "
                            "provisioning logs for the failing requests); and the configuration "
                            "has 14 findings at high severity or above (CC015 The provisioning "
                            "job is in quarantine or stopped, CC019 The Tenant URL does not lead "
                            "to the SCIM API path /api/scim/v2 and 12 more).")
    # the quarantine (critical) is fixed before anything the logs show
    assert next(line for line in both.stdout.splitlines() if line.startswith("Fix first:")
                ).startswith("Fix first: CC015 The provisioning job is in quarantine or stopped "
                             "(guide step 3")
    report = tmp_path / "weekly.json"
    code = runner.invoke(app, ["report", healthy, "--config", str(CONFIG / "bad"), "--fail-on",
                               "critical", "-o", str(report), "-q"]).exit_code
    assert code == 1 and json.loads(report.read_text())["verdict"]["state"] == "failing"
    good = runner.invoke(app, ["report", healthy, "--config", str(CONFIG / "good"), "--fail-on",
                               "low", "-o", str(tmp_path / "good.md"), "-q"])
    assert good.exit_code == 0 and "## Health: healthy" in (tmp_path / "good.md").read_text()


def test_configuration_findings_are_accepted_with_ignore_and_still_listed(tmp_path) -> None:
    """A scheduled run that knows its configuration's findings: --ignore CCnnn keeps them
    listed, marked, and out of the verdict and --fail-on; a check names settings, not people,
    so it is accepted whole."""
    healthy, bad = "sample_logs/healthy-incremental.json", str(CONFIG / "bad")
    runner = CliRunner()
    loud = [f["check_id"] for f in json.loads(invoke("check", "--config", bad, "--format",
                                                      "json"))["findings"]
            if f["severity"] in ("critical", "high")]
    ignore = [arg for check in loud for arg in ("--ignore", check)]
    result = runner.invoke(app, ["diagnose", healthy, "--config", bad, "--fail-on", "high",
                                 *ignore, "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"]["state"] == "healthy" and doc["verdict"]["fix_first"] is None
    accepted = {f["check_id"]: f["accepted"] for f in doc["configuration"]["findings"]}
    assert accepted["CC015"] == "ignored: CC015" and len(accepted) == 18
    assert sum(bool(a) for a in accepted.values()) == len(loud)
    shown = runner.invoke(app, ["diagnose", healthy, "--config", bad, "--ignore", "CC015", "-q"])
    assert "(accepted: ignored: CC015; not in the verdict)" in " ".join(shown.stdout.split())
    page = tmp_path / "r.html"
    assert runner.invoke(app, ["report", healthy, "--config", bad, "--ignore", "CC015", "-o",
                               str(page), "-q"]).exit_code == 0
    assert "accepted (ignored: CC015): not in the verdict" in page.read_text()
    refused = runner.invoke(app, ["diagnose", healthy, "--ignore", "CC015:anna", "-q"])
    assert refused.exit_code == 2
    assert "a configuration check is accepted as a whole: --ignore CC015" in refused.stderr


def test_a_baseline_accepts_the_configuration_findings_it_was_written_with(tmp_path) -> None:
    """A weekly run with --config writes its configuration findings into the baseline (each
    check whole); the next run with that baseline marks them accepted and passes --fail-on,
    while a check the baseline did not hold still fails the run."""
    healthy, bad = "sample_logs/healthy-incremental.json", str(CONFIG / "bad")
    runner, baseline = CliRunner(), tmp_path / "accepted.json"
    assert runner.invoke(app, ["diagnose", healthy, "--config", bad, "--write-baseline",
                               str(baseline), "-q"]).exit_code == 0
    written = {e["rule_id"]: e["identities"] for e in json.loads(baseline.read_text())["accepted"]}
    found = json.loads(invoke("check", "--config", bad, "--format", "json"))["findings"]
    assert {f["check_id"] for f in found} <= set(written)
    assert all(written[f["check_id"]] == [] for f in found)
    result = runner.invoke(app, ["diagnose", healthy, "--config", bad, "--baseline",
                                 str(baseline), "--fail-on", "high", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert doc["verdict"]["state"] == "healthy"
    assert {f["accepted"] for f in doc["configuration"]["findings"]} == {
        "baseline: accepted.json"}
    loud = next(f["check_id"] for f in found if f["severity"] == "critical")
    without = [e for e in json.loads(baseline.read_text())["accepted"] if e["rule_id"] != loud]
    baseline.write_text(json.dumps({"accepted": without}))
    assert runner.invoke(app, ["diagnose", healthy, "--config", bad, "--baseline",
                               str(baseline), "--fail-on", "high", "-q"]).exit_code == 1


ESCROW = "sample_logs/pattern-16-quarantine-escrow.json"
QUARANTINED = ("the sync job is in quarantine (EncounteredEscrowProportionThreshold since "
               "2026-03-26 03:05 UTC")


def _fc016(*args: str) -> str:
    findings = json.loads(invoke("diagnose", ESCROW, "--format", "json", *args))["findings"]
    return " ".join(next(f["message"] for f in findings if f["rule_id"] == "FC016").split())


def test_the_configurations_sync_job_is_the_job_status_of_the_log_rules(tmp_path) -> None:
    """With --config (or --graph and an app) and no --job-status, the configuration's sync
    job of the logs' job says what --job-status would: FC016's quarantine and the report's
    Quarantine figure; not when --ignore CC015 accepted it, nor a job of other logs, and a
    --job-status given wins."""
    bad, good = str(CONFIG / "bad"), str(CONFIG / "good")
    assert QUARANTINED not in _fc016()
    assert QUARANTINED in _fc016("--config", bad)
    assert _fc016("--config", bad).split(" Confirmed by")[0] == _fc016(
        "--job-status", "sample_logs/job-status/pattern-16-quarantine-escrow.job.json")
    assert QUARANTINED not in _fc016("--config", bad, "--ignore", "CC015")
    assert QUARANTINED not in _fc016("--config", bad, "--job-status",
                                     "sample_logs/job-status/healthy.job.json")
    assert QUARANTINED not in _fc016("--config", good)
    other = tmp_path / "other"
    shutil.copytree(bad, other)
    job = other / "sync-job.json"
    job.write_text(job.read_text().replace('"id": "scim.', '"id": "other.', 1))
    assert QUARANTINED not in _fc016("--config", str(other))
    page = tmp_path / "r.md"
    assert CliRunner().invoke(app, ["report", ESCROW, "--config", bad, "-o", str(page), "-q"]
                              ).exit_code == 0
    assert "| Quarantine | in quarantine" in page.read_text()
    said = " ".join(CliRunner().invoke(app, ["why", "hakon.vik@northwind.no", ESCROW,
                                             "--config", bad, "-q"]).stdout.split())
    assert "the sync job is in quarantine" in said


def test_a_configuration_graph_refused_is_said_in_every_output(tmp_path) -> None:
    """A scheduled report read in a mail must say its configuration was not checked (Graph
    refused the app), not leave it to a stderr nobody reads; diagnose and why say it too."""
    graph_args = ["--graph", "--app", FLOWCASE.name, "--from", "2026-03-01", "--to",
                  "2026-03-31", "-q"]
    refused = "configuration not checked: Graph refused to read the enterprise application"
    page = tmp_path / "weekly.md"
    with config_graph(CONFIG / "bad", events=events(), token=TOKEN) as graph:
        graph.fail("/servicePrincipals", 403, times=3)  # one refusal for each command
        where = ["--graph-url", graph.url, *graph_args]
        runner = CliRunner(env={"GRAPH_ACCESS_TOKEN": TOKEN})
        diagnosed = json.loads(runner.invoke(app, ["diagnose", *where, "--format", "json"]
                                             ).stdout)
        assert runner.invoke(app, ["report", *where, "-o", str(page)]).exit_code == 0
        user = events()[0]["sourceIdentity"]["details"]["UserPrincipalName"]
        answer = json.loads(runner.invoke(app, ["why", user, *where, "--format", "json"]
                                          ).stdout)
    assert "configuration" not in diagnosed
    assert any(n.startswith(refused) for n in diagnosed["notes"])
    assert refused in " ".join(page.read_text().split())
    assert any(n.startswith(refused) for n in answer["notes"])


def test_a_file_of_the_configuration_folder_skipped_is_said_in_the_outputs(tmp_path) -> None:
    folder = tmp_path / "config"
    shutil.copytree(CONFIG / "good", folder)
    (folder / "notes.json").write_text('{"written by": "the admin"}')
    notes = json.loads(invoke("diagnose", LOGS, "--config", str(folder), "--format", "json")
                       )["notes"]
    assert f"{folder / 'notes.json'}: is not a configuration file; skipped" in notes
