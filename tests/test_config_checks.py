"""The configuration checks on the sample configurations, offline: each check fires on bad/ and
stays quiet on good/, files are recognised by their content, and broken files are refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from diagnostics.config_rules import CONFIG_RULES
from loganalyzer.cli import app
from loganalyzer.config.check import ConfigFinding, ConfigResult, run_checks
from loganalyzer.config.files import read_config_dir
from loganalyzer.config.render import headline
from loganalyzer.problems import InputError
from tests.graph_support import CONFIG

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"


def check(folder: Path) -> ConfigResult:
    return run_checks(read_config_dir(folder, lambda _note: None))


@pytest.fixture(scope="module")
def bad() -> ConfigResult:
    return check(CONFIG / "bad")


@pytest.fixture(scope="module")
def good() -> ConfigResult:
    return check(CONFIG / "good")


def finding(result: ConfigResult, check_id: str):
    (found,) = [f for f in result.findings if f.check_id == check_id]
    return found


def evidence_text(result: ConfigResult, check_id: str) -> str:
    return " | ".join(f"{e.subject}: {e.current} -> {e.expected}"
                      for e in finding(result, check_id).evidence)


def switch_users_off(doc: dict) -> None:
    """'Provision Azure Active Directory Users' set to "Enabled: No" in a schema document."""
    for rule in doc["synchronizationRules"]:
        for mapping in rule["objectMappings"]:
            if mapping["sourceObjectName"] == "User":
                mapping["enabled"] = False


@pytest.fixture(scope="module")
def users_off(tmp_path_factory) -> ConfigResult:
    """good/ with its user mapping switched off: the one mistake bad/ cannot also hold, since
    it leaves bad/'s attribute mistakes nothing to be checked on."""
    return check(good_with(tmp_path_factory.mktemp("users-off"), "schema-1.json",
                           switch_users_off))


@pytest.mark.parametrize("rule", CONFIG_RULES, ids=lambda r: r.id)
def test_each_check_fires_on_bad_and_stays_quiet_on_good(rule, bad, good, users_off) -> None:
    wrong = users_off if rule.id == "CC018" else bad
    assert [f.check_id for f in wrong.findings].count(rule.id) == 1
    assert rule.id not in {f.check_id for f in good.findings}
    assert rule.id not in {n.check_id for n in bad.not_checked + good.not_checked}


def test_bad_evidence_is_current_against_expected(bad) -> None:
    assert "Enabled = Yes -> Enabled = No" in evidence_text(bad, "CC001")
    assert ("userName mapping: Direct [userPrincipalName], matching precedence 1 -> Expression "
            "ToLower([userPrincipalName], ), matching precedence 1") in evidence_text(bad, "CC003")
    assert "not used for matching -> Expression ToLower([mail], ), matching precedence 2" in (
        evidence_text(bad, "CC004"))
    assert 'Switch([IsSoftDeleted], , "False", "False", "True", "True")' in (
        evidence_text(bad, "CC005"))
    assert "SingleAppRoleAssignment([appRoleAssignments])" in evidence_text(bad, "CC006")
    assert f"to {ENTERPRISE}:division -> to {ENTERPRISE}:department" in evidence_text(bad, "CC008")
    required = evidence_text(bad, "CC009")
    assert "attribute roles: listed, no flags -> listed (Multi-Value)" in required
    assert ("attribute id: listed (Primary Key) -> listed (Primary Key and Required)"
            in required)
    assert "https://northwind.flowcase.com/api/scim/v2?aadOptscim062020" in (
        evidence_text(bad, "CC016"))


def test_roles_are_judged_case_sensitively_and_the_default_roles_are_left_alone(bad) -> None:
    assert finding(bad, "CC010").message == (
        "1 app role value is not a Flowcase role: 'Consultant'.")
    malformed = evidence_text(bad, "CC011")
    assert "'departmentmanager:Engineering': old form" in malformed
    assert "country code 'no' must be upper case ('NO')" in malformed
    every = " ".join(f.message for f in bad.findings)
    assert "msiam_access" not in every and "'User'" not in every
    assert "'countrymanager'" in finding(bad, "CC012").message
    assert "app role 'External' (external): Application -> User (Users/Groups)" in (
        evidence_text(bad, "CC013"))


def test_nested_group_users_are_counted_with_a_sample(bad) -> None:
    nested = finding(bad, "CC014")
    # kari.nilsen is in the nested group too, but assigned on her own: not counted
    assert nested.details == {"users": 2, "sample": ["marte.solberg@northwind.no",
                                                     "ole.johansen@northwind.no"]}
    assert "only through Consultants Oslo" in evidence_text(bad, "CC014")


def test_quarantine_says_the_reason_and_since_when(bad) -> None:
    quarantine = finding(bad, "CC015")
    assert quarantine.severity == "critical"
    assert "EncounteredEscrowProportionThreshold: More than 40% of the provisioning" in (
        quarantine.message)
    assert "since 2026-03-26 03:05 UTC" in evidence_text(bad, "CC015")


def test_every_fix_quotes_the_guide(bad) -> None:
    for f in bad.findings:
        assert '"' in f.remediation and "step" in f.remediation, f.check_id


def test_the_template_defaults_in_the_schema_metadata_are_not_read() -> None:
    schema = json.loads((CONFIG / "good" / "schema-1.json").read_text())
    defaults = schema["synchronizationRules"][0]["metadata"][0]
    assert defaults["key"] == "defaultSourceObjectMappings"
    assert f"{ENTERPRISE}:manager" in defaults["value"]  # the template maps it; good/ does not


def copy_renamed(source: Path, target: Path) -> Path:
    """The files of ``source`` under meaningless names, as an admin might save them."""
    target.mkdir()
    for n, path in enumerate(sorted(source.glob("*.json"))):
        shutil.copy(path, target / f"download ({n}).json")
    return target


def test_files_are_recognised_by_content_not_name(tmp_path, bad) -> None:
    renamed = check(copy_renamed(CONFIG / "bad", tmp_path / "bad"))
    assert [f.check_id for f in renamed.findings] == [f.check_id for f in bad.findings]


def test_fetch_job_output_and_an_old_style_manifest_are_read(tmp_path) -> None:
    folder = tmp_path / "hand"
    folder.mkdir()
    bad = CONFIG / "bad"
    shutil.copy(bad / "sync-job.json", folder / "sync-job.json")
    shutil.copy(bad / "Flowcase SCIM schema.json", folder / "sync-schema.json")
    manifest = json.loads((bad / "manifest.json").read_text())
    old_style = {"id": manifest["id"], "appId": manifest["appId"], "name": "Flowcase SCIM",
                 "appRoles": [{**r, "lang": None} for r in manifest["appRoles"]],
                 "oauth2Permissions": [], "requiredResourceAccess": []}
    (folder / "manifest.txt.json").write_text(json.dumps(old_style))
    result = check(folder)
    assert {"CC001", "CC010", "CC015"} <= {f.check_id for f in result.findings}
    not_checked = {n.check_id: n.reason for n in result.not_checked}
    assert set(not_checked) == {"CC014", "CC016", "CC017", "CC019"}
    assert "holds no file with the app role assignments" in not_checked["CC014"]
    shown = " ".join(CliRunner().invoke(app, ["check", "--config", str(folder)]).stdout.split())
    assert "CC016 The Tenant URL lacks ?aadOptscim062020: " in shown
    assert "(fetch-config, when Graph returns them) (in the logs: FC003)" in shown
    assert "(in the logs: FC019)" in shown


def test_the_guides_manager_spelling_is_the_manager_too(tmp_path) -> None:
    schema = json.loads((CONFIG / "good" / "schema-1.json").read_text())
    users = schema["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"]
    users.append({**users[-1], "targetAttributeName":
                  "urn:ietf:params:scim:schemas:extension:scim:2.0:EnterpriseUser:manager",
                  "source": {"expression": "[manager]", "name": "manager", "type": "Attribute",
                             "parameters": []}})
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    result = check(tmp_path)
    assert [f.check_id for f in result.findings] == ["CC002"]


def test_spacing_and_case_of_an_expression_do_not_matter(tmp_path) -> None:
    schema = json.loads((CONFIG / "good" / "schema-1.json").read_text())
    for mapping in schema["synchronizationRules"][0]["objectMappings"][1]["attributeMappings"]:
        if mapping["targetAttributeName"] == "active":  # the guide's own spelling
            mapping["source"]["expression"] = (
                'Switch([isSoftDeleted],, "False","True","True","False")')
        if mapping["targetAttributeName"] == "userName":
            mapping["source"]["expression"] = "ToLower([userPrincipalName])"
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    assert check(tmp_path).findings == []


def test_a_field_of_the_wrong_type_is_refused_with_its_path(tmp_path) -> None:
    schema = json.loads((CONFIG / "good" / "schema-1.json").read_text())
    schema["synchronizationRules"][0]["objectMappings"][0]["enabled"] = "No"
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    with pytest.raises(InputError) as error:
        read_config_dir(tmp_path, lambda _n: None)
    assert str(error.value) == ("schema.json: synchronizationRules[0].objectMappings[0].enabled: "
                                "is a string, expected true or false")


def test_a_folder_without_configuration_is_one_line_and_exit_2(samples) -> None:
    result = CliRunner().invoke(app, ["check", "--config", str(samples / "formats"), "-q"])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith(f"error: {samples / 'formats'}: holds no configuration file")


def test_check_command_shows_every_mistake_and_fails_on_high() -> None:
    result = CliRunner().invoke(app, ["check", "--config", str(CONFIG / "bad"),
                                      "--fail-on", "high"])
    assert result.exit_code == 1
    assert "18 findings (3 critical, 11 high, 3 medium, 1 low)" in result.stdout
    assert all(f"] {r.id} " in result.stdout for r in CONFIG_RULES if r.id != "CC018")
    good = CliRunner().invoke(app, ["check", "--config", str(CONFIG / "good"), "--fail-on", "low"])
    assert good.exit_code == 0 and "): no findings." in good.stdout


def test_no_findings_says_how_many_checks_ran(tmp_path, users_off) -> None:
    """"no findings" above a list of checks that could not run read as a pass."""
    assert headline(users_off) == (
        f"Configuration ({users_off.source}): 1 finding (1 critical).")
    total = len(CONFIG_RULES)
    some = tmp_path / "job-only"  # the quarantine check (CC015) runs, nothing else
    some.mkdir()
    shutil.copy(CONFIG / "good" / "synchronization-jobs.json", some)
    assert headline(check(some)).endswith(f"): no findings in the 1 of {total} checks that ran.")
    nothing = tmp_path / "roles-only"
    nothing.mkdir()
    shutil.copy(CONFIG / "good" / "app-role-assignments.json", nothing)
    assert headline(check(nothing)).endswith(
        f"): nothing could be checked (0 of {total} checks ran; what each one needs is listed "
        "under Not checked).")


def test_check_json_and_markdown(tmp_path) -> None:
    result = CliRunner().invoke(app, ["check", "--config", str(CONFIG / "bad"), "--format",
                                      "json"])
    data = json.loads(result.stdout)
    assert len(data["findings"]) == 18 and data["not_checked"] == []
    # critical first, then by guide step: the quarantine (steps 3, 8b) and the Tenant URL's
    # path (3) before groups (7b)
    assert [f["check_id"] for f in data["findings"][:3]] == ["CC015", "CC019", "CC001"]
    assert data["findings"][2]["evidence"][0] == {
        "subject": "Provision Azure Active Directory Groups", "current": "Enabled = Yes",
        "expected": "Enabled = No"}
    out = tmp_path / "check.md"
    CliRunner().invoke(app, ["check", "--config", str(CONFIG / "bad"), "--format", "md",
                             "-o", str(out), "-q"])
    text = out.read_text()
    assert "| what | current | expected |" in text
    assert 'emails\\[type eq "work"\\].value' in text  # escaped


def test_graph_options_need_graph() -> None:
    result = CliRunner().invoke(app, ["check", "--config", str(CONFIG / "good"), "--app", "X"])
    assert result.exit_code == 2 and "error: --app: only applies with --graph" in result.stderr
    neither = CliRunner().invoke(app, ["check"])
    assert neither.exit_code == 2 and "give --config DIR or --graph" in neither.stderr


def test_the_samples_are_what_their_generator_writes(tmp_path) -> None:
    import importlib.util

    spec = importlib.util.spec_from_file_location("config_generate", CONFIG / "generate.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    generator.main(tmp_path)
    for sample in ("good", "bad"):
        written = {p.name: p.read_text() for p in (tmp_path / sample).glob("*.json")}
        committed = {p.name: p.read_text() for p in (CONFIG / sample).glob("*.json")}
        assert written == committed, sample
    assert set(generator.MISTAKES) == {r.id for r in CONFIG_RULES}


def good_with(tmp_path: Path, name: str, edit) -> Path:
    """A copy of good/ whose file ``name`` was changed by ``edit(doc)``."""
    folder = tmp_path / "edited"
    shutil.copytree(CONFIG / "good", folder)
    doc = json.loads((folder / name).read_text())
    edit(doc)
    (folder / name).write_text(json.dumps(doc))
    return folder


@pytest.mark.parametrize(("url", "secret"), [
    ("https://api.flowcase.com/scim/v2?token=abcdef0123456789", "abcdef0123456789"),
    ("https://admin:hunter2secret@northwind.flowcase.com/api/scim/v2", "hunter2secret"),
])
def test_a_credential_in_the_tenant_url_is_never_shown(tmp_path, url, secret) -> None:
    def set_url(doc):
        doc["secrets"][0]["value"] = url

    folder = good_with(tmp_path, "synchronization.json", set_url)
    shown = CliRunner().invoke(app, ["check", "--config", str(folder), "--format", "json"])
    assert "CC016" in shown.stdout and "[REDACTED]" in shown.stdout
    assert secret not in shown.stdout


def test_a_bare_departmentmanager_role_is_malformed_not_a_crash(tmp_path) -> None:
    def add_bare_role(doc):
        bare = {**doc["appRoles"][-1], "id": "0f6c3f4e-2b8e-4d63-9a51-3e1d7c2a9b10",
                "displayName": "Department manager", "value": "departmentmanager"}
        doc["appRoles"].append(bare)

    result = check(good_with(tmp_path, "service-principal.json", add_bare_role))
    assert [f.check_id for f in result.findings] == ["CC011"]
    assert "'departmentmanager': names no department or custom tag" in (
        evidence_text(result, "CC011"))


@pytest.mark.parametrize(("count", "said"), [
    (1, "1 app role is disabled and cannot be assigned: 'consultant'."),
    (2, "2 app roles are disabled and cannot be assigned: 'consultant', 'internationalmanager'."),
])
def test_counts_in_config_messages_agree_with_their_verb(tmp_path, count, said) -> None:
    def disable(doc):
        for role in [r for r in doc["appRoles"] if r["value"]][:count]:
            role["isEnabled"] = False

    result = check(good_with(tmp_path, "service-principal.json", disable))
    assert [f.message for f in result.findings] == [said]


def without_expressions(source: dict) -> None:
    """A mapping source as Graph often returns it: ``expression`` null, at every level."""
    source["expression"] = None
    for parameter in source.get("parameters") or []:
        without_expressions(parameter["value"])


@pytest.mark.parametrize("sample", ["good", "bad"])
def test_a_null_expression_is_rebuilt_from_the_function_and_its_parameters(tmp_path,
                                                                            sample) -> None:
    (name,) = [p.name for p in (CONFIG / sample).glob("*.json")
               if "synchronizationRules" in p.read_text()]
    schema = json.loads((CONFIG / sample / name).read_text())
    for mapping in schema["synchronizationRules"][0]["objectMappings"]:
        for attribute in mapping["attributeMappings"]:
            without_expressions(attribute["source"])
    (tmp_path / "schema.json").write_text(json.dumps(schema))
    schema_checks = {f.check_id for f in check(CONFIG / sample).findings if f.check_id in
                     {"CC001", "CC002", "CC003", "CC004", "CC005", "CC006", "CC007", "CC008",
                      "CC009"}}
    assert {f.check_id for f in check(tmp_path).findings} == schema_checks
    if sample == "bad":
        assert "Expression SingleAppRoleAssignment([appRoleAssignments])" in (
            evidence_text(check(tmp_path), "CC006"))


def job_finding(tmp_path: Path, edit) -> ConfigFinding:
    """CC015 on bad/'s job after ``edit(job)``."""
    job = json.loads((CONFIG / "bad" / "sync-job.json").read_text())
    edit(job)
    (tmp_path / "job.json").write_text(json.dumps(job))
    return finding(check(tmp_path), "CC015")


def test_a_paused_job_is_paused_not_active(tmp_path) -> None:
    def pause(job):
        job["status"].update(code="Paused", quarantine=None)

    paused = job_finding(tmp_path, pause)
    assert paused.message == "The provisioning job is paused."
    assert paused.severity == "high" and paused.guide_steps == ["3", "8b"]


def test_graphs_no_error_and_never_placeholders_are_not_shown(tmp_path) -> None:
    no_error = {"code": "None", "message": "", "tenantActionable": False}

    def placeholders(job):
        job["status"]["quarantine"].update(currentBegan="0001-01-01T00:00:00Z",
                                           seriesBegan="0001-01-01T00:00:00Z", error=no_error)
        job["status"]["lastExecution"]["error"] = no_error

    quarantine = job_finding(tmp_path, placeholders)
    assert quarantine.message == (
        "The provisioning job is in quarantine (EncounteredEscrowProportionThreshold).")
    shown = " ".join(e.current for e in quarantine.evidence)
    assert "None" not in shown and "since" not in shown


def test_a_quarantine_start_with_an_offset_is_shown_in_utc(tmp_path) -> None:
    def offset(job):
        job["status"]["quarantine"].update(currentBegan="0001-01-01T00:00:00Z",
                                           seriesBegan="2026-03-26T09:30:00+05:30")

    quarantine = job_finding(tmp_path, offset)
    assert "(since 2026-03-26 04:00 UTC)" in quarantine.evidence[1].current


def test_a_schema_given_twice_counts_once(tmp_path, bad) -> None:
    folder = tmp_path / "twice"
    shutil.copytree(CONFIG / "bad", folder)
    schema = json.loads((folder / "Flowcase SCIM schema.json").read_text())
    job_id = schema["id"]
    context = (f"https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('x')/"
               f"synchronization/jobs('{job_id}')/schema/$entity")
    (folder / "schema-1.json").write_text(json.dumps({"@odata.context": context, **schema}))
    twice = check(folder)
    assert [(f.check_id, f.message) for f in twice.findings] == [
        (f.check_id, f.message) for f in bad.findings]


def test_an_object_mapping_listed_twice_counts_once(tmp_path, bad) -> None:
    folder = tmp_path / "mappings"
    shutil.copytree(CONFIG / "bad", folder)
    path = folder / "Flowcase SCIM schema.json"
    schema = json.loads(path.read_text())
    schema["synchronizationRules"][0]["objectMappings"] *= 2
    path.write_text(json.dumps(schema))
    assert [(f.check_id, f.message, f.evidence) for f in check(folder).findings] == [
        (f.check_id, f.message, f.evidence) for f in bad.findings]


def test_check_piped_is_wrapped_at_100_columns_headings_included():
    """docs/cli.md: piped output is plain text wrapped at 100 columns; a finding's heading
    names several guide steps and ran to 165."""
    bad = Path(__file__).resolve().parent.parent / "sample_logs" / "config" / "bad"
    result = CliRunner().invoke(app, ["check", "--config", str(bad), "-q"])
    lines = result.stdout.splitlines()[1:]  # the first names the folder, as given
    assert any(line.startswith("[HIGH] CC016") for line in lines)
    assert max(len(line) for line in lines) <= 100, max(lines, key=len)


GUIDE_URL = "https://northwind.flowcase.com/api/scim/v2?aadOptscim062020"


@pytest.mark.parametrize(("url", "said"), [
    ("https://northwind.flowcase.com?aadOptscim062020", "has no path (the SCIM API is at "
     "/api/scim/v2)"),
    ("https://northwind.flowcase.com/api/scim?aadOptscim062020", "has the path /api/scim, not "
     "/api/scim/v2"),
    ("https://northwind.flowcase.com/scim/v2?aadOptscim062020", "has the path /scim/v2, not "
     "/api/scim/v2"),
    ("https://northwind.flowcase.com/api/scim/v2/Users?aadOptscim062020",
     "ends in /Users, which Entra adds itself"),
], ids=["no-path", "no-v2", "no-api", "users-added"])
def test_a_tenant_url_off_the_scim_path_is_a_critical_finding(tmp_path, url, said) -> None:
    """Guide step 3's Tenant URL is https://<company>.flowcase.com/api/scim/v2 with the flag;
    CC016 looked at the flag only, so each of these passed the check and every request got
    a 404 (FC022)."""
    def set_url(doc):
        doc["secrets"][0]["value"] = url

    result = check(good_with(tmp_path, "synchronization.json", set_url))
    [found] = [f for f in result.findings if f.check_id == "CC019"]
    assert found.severity == "critical" and found.guide_steps[0] == "3"
    assert found.message == (f"The Tenant URL {url} {said}: Entra sends its requests to that "
                             "path followed by /Users, which is not the SCIM API.")
    assert evidence_text(result, "CC019") == f"Tenant URL: {url} -> {GUIDE_URL}"
    assert "CC016" not in {f.check_id for f in result.findings}  # the flag is there


@pytest.mark.parametrize("url", [
    "https://northwind.flowcase.com/api/scim/v2/?aadOptscim062020",
    "https://Northwind.Flowcase.com/API/SCIM/v2?aadOptscim062020",
], ids=["trailing-slash", "case"])
def test_the_scim_path_is_accepted_with_a_slash_or_in_other_case(tmp_path, url) -> None:
    def set_url(doc):
        doc["secrets"][0]["value"] = url

    result = check(good_with(tmp_path, "synchronization.json", set_url))
    assert not {"CC016", "CC019"} & {f.check_id for f in result.findings}


def test_a_tenant_url_without_flag_or_path_gets_the_guides_whole_url(bad) -> None:
    """bad/'s Tenant URL lacks the flag and /v2: CC016's fix is the guide's URL, not the
    same wrong path with the flag."""
    url = "https://northwind.flowcase.com/api/scim"
    assert evidence_text(bad, "CC016") == f"Tenant URL: {url} -> {GUIDE_URL}"
    assert evidence_text(bad, "CC019") == f"Tenant URL: {url} -> {GUIDE_URL}"


def test_a_tenant_url_on_another_host_is_not_judged_by_its_path(tmp_path) -> None:
    """A proxy in front of Flowcase may have any path: the check says it could not judge."""
    def proxy(doc):
        doc["secrets"][0]["value"] = "https://scim-gw.northwind.example/flowcase?aadOptscim062020"

    result = check(good_with(tmp_path, "synchronization.json", proxy))
    assert "CC019" not in {f.check_id for f in result.findings}
    reason = {n.check_id: n.reason for n in result.not_checked}["CC019"]
    assert reason == ("the Tenant URL's host scim-gw.northwind.example is not a flowcase.com "
                      "address (a proxy?): its path cannot be judged")


def test_an_empty_tenant_url_is_said_to_be_empty(tmp_path) -> None:
    def empty_url(doc):
        doc["secrets"][0]["value"] = ""

    result = check(good_with(tmp_path, "synchronization.json", empty_url))
    [finding] = [f for f in result.findings if f.check_id == "CC016"]
    assert finding.message.startswith("The Tenant URL is empty")
    assert "lacks" not in finding.message
    assert "CC019" not in {f.check_id for f in result.findings}  # said once, by CC016


def test_files_saved_with_an_upper_case_suffix_are_read(tmp_path, bad) -> None:
    """Windows shows no difference between a.json and a.JSON; Linux's glob does."""
    folder = tmp_path / "bad"
    folder.mkdir()
    for path in (CONFIG / "bad").glob("*.json"):
        shutil.copy(path, folder / f"{path.stem}.JSON")
    assert [f.check_id for f in check(folder).findings] == [f.check_id for f in bad.findings]


def test_a_disabled_user_mapping_is_reported_not_read_as_every_attribute_unmapped(
        users_off) -> None:
    """'Provision Azure Active Directory Users' switched off: Entra sends no user. That is the
    finding (CC018, step 7a); five "is not mapped" findings would send the admin to re-create
    mappings that exist, so the attribute checks say they could not be checked, and why."""
    assert [f.check_id for f in users_off.findings] == ["CC018"]
    found = finding(users_off, "CC018")
    assert found.severity == "critical" and found.guide_steps == ["7a"]
    assert evidence_text(users_off, "CC018") == (
        "Provision Azure Active Directory Users: Enabled = No -> Enabled = Yes")
    mapping_checks = {"CC002", "CC003", "CC004", "CC005", "CC006", "CC007", "CC008"}
    skipped = {n.check_id: n.reason for n in users_off.not_checked}
    assert mapping_checks <= set(skipped)
    assert all("'Provision Azure Active Directory Users' is disabled" in skipped[c]
               for c in mapping_checks)


def test_an_old_schema_kept_in_a_subfolder_is_noted_not_checked_as_another_job(tmp_path) -> None:
    """good/ as fetch-config saved it, and last month's editor download (bad's schema) kept in
    old/: the job's schema is the one at the top; the old one is named in a note, and no
    finding is labelled with a job it does not have."""
    folder = tmp_path / "config"
    shutil.copytree(CONFIG / "good", folder)
    (folder / "old").mkdir()
    shutil.copy(CONFIG / "bad" / "Flowcase SCIM schema.json", folder / "old" / "schema.json")
    notes: list[str] = []
    result = run_checks(read_config_dir(folder, notes.append))
    assert result.findings == check(CONFIG / "good").findings == []
    assert [n for n in notes if "another synchronization schema of the same job" in n] == [
        f"{folder / 'old' / 'schema.json'}: another synchronization schema of the same job, "
        f"different from {folder / 'schema-1.json'}; only that one is checked (remove old "
        "copies)"]
