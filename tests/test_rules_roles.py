"""Role values: tolerant parsing of what Entra logs, and the validity rules of guide step 4."""

from __future__ import annotations

import pytest

from diagnostics.facts.job_status import JobStatusError, parse_job_status
from diagnostics.facts.roles import parse_roles, role_problem


@pytest.mark.parametrize(
    ("raw", "roles"),
    [
        ('[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","value":"Consultant"}]',
         ["Consultant"]),
        ('[{"primary":false,"display":"Consultant","value":"consultant"},'
         '{"primary":false,"value":"countrymanager"}]', ["consultant", "countrymanager"]),
        ('{"value":"external"}', ["external"]),
        ('["consultant","referencemanager"]', ["consultant", "referencemanager"]),
        ("consultant, internationalmanager", ["consultant", "internationalmanager"]),
        ("limited_access", ["limited_access"]),
        # a truncated list still yields its values
        ('[{"primary":false,"value":"departmentmanager:office:NO:Sales EMEA"}', [
            "departmentmanager:office:NO:Sales EMEA"]),
        ("", []),
        ("[]", []),
    ],
)
def test_parse_roles(raw: str, roles: list[str]) -> None:
    assert parse_roles(raw) == roles


@pytest.mark.parametrize(
    "role",
    [
        "external", "limited_access", "consultant", "internationalmanager", "referencemanager",
        "countrymanager", "departmentmanager:office:NO:Engineering",
        "departmentmanager:dept:NO:SoftwareEngineering",
        "departmentmanager:custom_tag:region:north",
        "departmentmanager:office:SE:R&D",
    ],
)
def test_valid_roles(role: str) -> None:
    assert role_problem(role) is None


@pytest.mark.parametrize(
    ("role", "problem"),
    [
        ("Consultant", "wrong case"),
        ("admin", "not a Flowcase role"),
        ("international_manager", "not a Flowcase role"),
        ("departmentmanager:Sales", "old form"),
        ("departmentmanager:office:NO:Software Engineering", "departmentmanager:dept:NO:"
         "SoftwareEngineering"),
        ("departmentmanager:dept:NOR:Consulting", "'NOR' is not an ISO 3166 country code"),
        ("departmentmanager:office:UK:London", "'UK' is not an ISO 3166"),
        ("departmentmanager:dept:no:Sales", "must be upper case ('NO')"),
        ("DepartmentManager:office:NO:Sales", "case-sensitive"),
        ("departmentmanager:team:NO:Sales", "unknown form 'team'"),
        ("departmentmanager:custom_tag:region", "custom_tag:<category>:<tag>"),
        ("departmentmanager:office:NO:", "missing the country code or department"),
        # a bare value (no separator) names nothing to manage; it must not crash
        ("departmentmanager", "names no department or custom tag"),
        ("departmentmanager:", "names no department or custom tag"),
        ("departmentmanagerSales", "must be followed by ':' and the department"),
    ],
)
def test_invalid_roles_say_what_is_wrong(role: str, problem: str) -> None:
    assert problem in role_problem(role)


def test_job_status_shapes() -> None:
    job = {
        "id": "scim.x",
        "status": {
            "code": "Quarantine",
            "countSuccessiveCompleteFailures": 3,
            "quarantine": {"reason": "EncounteredEscrowProportionThreshold", "currentBegan": "",
                           "seriesBegan": "2026-03-25T20:00:00Z", "seriesCount": 2},
            "lastExecution": {"state": "EntryLevelErrors",
                              "error": {"code": "None", "message": "", "tenantActionable": False}},
        },
    }
    parsed = parse_job_status(job)
    assert parsed.quarantined and parsed.quarantine_since == "2026-03-25T20:00:00Z"
    assert parsed.error_code is None and parsed.successive_complete_failures == 3
    assert parse_job_status({"value": [job]}) == parsed
    assert parse_job_status(job["status"]).quarantine_reason == parsed.quarantine_reason
    healthy = parse_job_status({"status": {"code": "Active", "quarantine": None}})
    assert not healthy.quarantined
    for bad in ([], {"value": []}, {"displayName": "not a job"}):
        with pytest.raises(JobStatusError):
            parse_job_status(bad)
