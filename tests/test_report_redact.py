"""--redact: no name, UPN, email or object id from the input survives into a shared report."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from conftest import SAMPLES
from report_support import run_report

from loganalyzer.engine import diagnose
from loganalyzer.ingest import load
from loganalyzer.report.model import Analysis, Report, RuleRow, build_report
from loganalyzer.report.redact import pseudonyms, redact_report
from loganalyzer.report.render import render_html, render_markdown

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


def _leaks(identifiers: set[str], text: str) -> list[str]:
    """Identifiers found in the text as a whole word (HTML-escaped spellings too)."""
    escaped = {i.replace("&", "&amp;").replace("'", "&#39;") for i in identifiers}
    text = text.lower()
    return sorted(i for i in identifiers | escaped if re.search(
        rf"(?<![\w-]){re.escape(i.lower())}(?![\w-])", text))


@pytest.mark.parametrize("sample", ["failing-initial.json", "group-404-halt.json"])
def test_redacted_reports_hold_no_personal_identifier(sample: str) -> None:
    identifiers = _identifiers(sample)
    dataset = load([SAMPLES / sample])
    report = build_report(Analysis(dataset, diagnose(dataset.frames)))
    # the plain report names people, so the checks below can fail
    assert len(_leaks(identifiers, render_markdown(report))) >= 5
    redacted = redact_report(report, dataset.frames.events)
    for text in (render_markdown(redacted), render_html(redacted)):
        assert _leaks(identifiers, text) == []
        assert "@redacted" in text and "Personal data" in text


def test_redact_option_writes_a_redacted_report(tmp_path: Path) -> None:
    target = tmp_path / "ticket.md"
    result = run_report(SAMPLES / "pattern-06-uppercase-identifiers.json", "--redact", "-o", target)
    assert result.exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert _leaks(_identifiers("pattern-06-uppercase-identifiers.json"), text) == []
    assert re.search(r"user-[0-9a-f]{8}@redacted", text)


def test_one_person_has_one_stable_pseudonym() -> None:
    events = load([SAMPLES / "failing-initial.json"]).frames.events
    names = pseudonyms(events)
    upn, display = "lars.hansen@northwind.no", "lars hansen"
    assert names[upn].endswith("@redacted")
    assert names[upn].removesuffix("@redacted") == names[display]
    assert pseudonyms(events) == names  # same input, same pseudonyms (weekly reports line up)


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
    redacted = redact_report(report, load([SAMPLES / "failing-initial.json"]).frames.events)
    assert "contoso" not in redacted.verdict_reason
    assert "Lars Hansen" not in redacted.verdict_reason
    assert re.fullmatch(
        r"Manager email-[0-9a-f]{8}@redacted not found; HTTP 404 for user-[0-9a-f]{8}\.",
        redacted.verdict_reason,
    )
    assert redacted.rules == report.rules and redacted.apps == report.apps
    assert redacted.redacted
