"""--redact: no name, UPN, email or object id from the input survives into a shared report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLES
from report_support import run_report

from loganalyzer.ingest import load
from loganalyzer.normalize import Frames
from loganalyzer.redact import pseudonyms, redact_report
from loganalyzer.report import Report, RuleRow

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
PERSONAL_PROPERTIES = {"userName", 'emails[type eq "work"].value', "displayName", "externalId"}


def _identifiers(name: str) -> set[str]:
    """Every personal identifier in the raw export, read straight from the JSON."""
    found: set[str] = set()
    for record in json.loads((SAMPLES / name).read_text()):
        for side in ("sourceIdentity", "targetIdentity"):
            identity = record.get(side) or {}
            found.update([identity.get("id") or "", identity.get("displayName") or ""])
            details = identity.get("details") or {}
            found.update(str(v) for k, v in details.items() if k in (
                "UserPrincipalName", "userPrincipalName", "Mail", "mail", "DisplayName"))
        for prop in record.get("modifiedProperties") or []:
            if prop["displayName"] in PERSONAL_PROPERTIES:
                found.add(prop["newValue"] or "")
        reason = ((record["provisioningStatusInfo"] or {}).get("errorInformation") or {})
        found.update(EMAIL.findall(reason.get("reason") or ""))
    return {v for v in found if len(v) >= 3 and not re.fullmatch(r"\d{1,5}", v)}


@pytest.mark.parametrize("sample", ["failing-initial.json", "group-404-halt.json"])
def test_redacted_reports_hold_no_personal_identifier(tmp_path: Path, sample: str) -> None:
    identifiers = _identifiers(sample)
    plain = tmp_path / "plain.md"
    assert run_report(SAMPLES / sample, "-o", plain).exit_code == 0
    # the plain report names people, so the checks below can fail
    plain_text = plain.read_text(encoding="utf-8").lower()
    assert sum(i.lower() in plain_text for i in identifiers) >= 5
    escaped = {i.replace("&", "&amp;").replace("'", "&#39;") for i in identifiers}
    for fmt in ("md", "html"):
        redacted = tmp_path / f"redacted.{fmt}"
        assert run_report(SAMPLES / sample, "--redact", "-o", redacted).exit_code == 0
        text = redacted.read_text(encoding="utf-8").lower()
        leaked = sorted(i for i in identifiers | escaped if re.search(
            rf"(?<![\w-]){re.escape(i.lower())}(?![\w-])", text))
        assert leaked == [], fmt
        assert "@redacted" in text and "personal data" in text


def test_one_person_has_one_stable_pseudonym() -> None:
    frames = load([SAMPLES / "failing-initial.json"]).frames
    names = pseudonyms(frames)
    upn, display = "lars.hansen@northwind.no", "lars hansen"
    assert names[upn].endswith("@redacted")
    assert names[upn].removesuffix("@redacted") == names[display]
    assert pseudonyms(frames) == names  # same input, same pseudonyms (weekly reports line up)


def test_unknown_emails_in_free_text_are_replaced_and_the_rest_is_kept() -> None:
    report = Report(
        title="t", tenants=[], apps=["Flowcase SCIM"], jobs=[], period="", generated_at="",
        tool_version="", verdict="failing",
        verdict_reason="Manager boss.person@contoso.com not found; HTTP 404 for Lars Hansen.",
        figures=[], findings=[], notices=[], charts=[], cycles=[], cycles_more=0,
        unexplained=[], unexplained_failures=0,
        rules=[RuleRow("FC001", "SCIM group provisioning is still enabled", "critical", "7b",
                       "cause")],
        rule_errors=[],
    )
    frames: Frames = load([SAMPLES / "failing-initial.json"]).frames
    redacted = redact_report(report, frames)
    assert "contoso" not in redacted.verdict_reason
    assert "Lars Hansen" not in redacted.verdict_reason
    assert re.fullmatch(
        r"Manager email-[0-9a-f]{8}@redacted not found; HTTP 404 for user-[0-9a-f]{8}\.",
        redacted.verdict_reason,
    )
    assert redacted.rules == report.rules and redacted.apps == report.apps
    assert redacted.redacted
