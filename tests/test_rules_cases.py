"""Data-driven rule cases: ``tests/rule_cases/<rule>.json``.

Each file holds ``{"rule": "FC008", "cases": [...]}``; each case lists events, optionally a
``job_status`` object, and what the rule must produce::

    {"name": "...",
     "events": [{"user": "a@x.no", "status": "failure", "http": 400,
                 "detail": "Department 'Sales' does not exist", "with": {"department": "Sales"}},
                {"group": "Sales EMEA", "status": "failure", "http": 404}],
     "expect": {"fires": true, "affected": ["a@x.no"], "severity": "high",
                "message": ["'Sales'"]}}

Event keys are ``eventfactory.Export.user``/``group`` arguments; ``sent`` replaces the
attributes Entra sent, ``with`` adds to the default ones (userName, work email, active), and
the short names ``email``, ``department``, ``manager``, ``countryCode``, ``countryName``
expand to their SCIM paths; ``untyped`` blanks the identity type (of a user or a group), as
an export that lost it logs the event. ``repeat`` with ``cycles`` emits the event once per
cycle. Every event goes through the production normalisation, so cases read like real exports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eventfactory import COUNTRY_CODE, COUNTRY_NAME, DEPARTMENT, EMAIL, MANAGER, Export

from diagnostics import RULES
from loganalyzer.engine import diagnose
from loganalyzer.findings import severity_rank

CASES_DIR = Path(__file__).parent / "rule_cases"
SHORT_NAMES = {
    "email": EMAIL,
    "department": DEPARTMENT,
    "manager": MANAGER,
    "countryCode": COUNTRY_CODE,
    "countryName": COUNTRY_NAME,
}


def _attributes(values: dict[str, str]) -> dict[str, str]:
    return {SHORT_NAMES.get(k, k): v for k, v in values.items()}


def build(events: list[dict[str, Any]]) -> Export:
    export = Export()
    for spec in events:
        spec = dict(spec)
        cycles = spec.pop("cycles", None) or [spec.pop("cycle", "cycle-1")]
        for cycle in cycles:
            kwargs = dict(spec)
            untyped = kwargs.pop("untyped", False)
            if "group" in kwargs:
                record = export.group(kwargs.pop("group"), cycle=cycle, **kwargs)
                _lose_type(record, untyped)
                continue
            upn = kwargs.pop("user")
            if "sent" in kwargs:
                kwargs["sent"] = _attributes(kwargs["sent"])
            extra = _attributes(kwargs.pop("with", {}))
            if extra:
                base = kwargs.get("sent") or {
                    "userName": upn.lower(),
                    EMAIL: upn.lower(),
                    "active": "True",
                }
                kwargs["sent"] = {**base, **extra}
            record = export.user(upn, cycle=cycle, **kwargs)
            _lose_type(record, untyped)
    return export


def _lose_type(record: dict[str, Any], untyped: bool) -> None:
    """Blank the identity type, as an export that lost it logs the event."""
    if untyped:
        for side in ("sourceIdentity", "targetIdentity"):
            record[side]["identityType"] = ""


def _load() -> list[Any]:
    params = []
    for path in sorted(CASES_DIR.glob("*.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        for case in document["cases"]:
            params.append(pytest.param(document["rule"], case, id=f"{path.stem}:{case['name']}"))
    return params


def _ident(affected) -> str:
    return affected.display_name if affected.type == "Group" else affected.id


@pytest.mark.parametrize(("rule_id", "case"), _load())
def test_rule_case(rule_id: str, case: dict[str, Any]) -> None:
    diagnosis = diagnose(build(case["events"]).frames(), case.get("job_status"))
    assert not diagnosis.rule_errors
    listed = {r.id: severity_rank(r.severity) for r in RULES}
    louder = [
        f.rule_id for f in diagnosis.findings if severity_rank(f.severity) < listed[f.rule_id]
    ]
    assert not louder, f"fired above the severity `rules list` shows: {louder}"
    found = [f for f in diagnosis.findings if f.rule_id == rule_id]
    expect = case["expect"]
    if not expect["fires"]:
        assert found == [], found[0].message if found else ""
        return
    assert len(found) == 1, f"{rule_id} did not fire"
    finding = found[0]
    if "affected" in expect:
        assert sorted(_ident(a) for a in finding.affected) == sorted(expect["affected"])
    if "severity" in expect:
        assert finding.severity == expect["severity"]
    for fragment in expect.get("message", []):
        assert fragment in finding.message
    for other in expect.get("not_with", []):
        assert other not in {f.rule_id for f in diagnosis.findings}


def test_every_rule_has_cases_that_fire_stay_silent_and_cover_several_users() -> None:
    by_rule: dict[str, list[dict[str, Any]]] = {}
    for path in CASES_DIR.glob("*.json"):
        document = json.loads(path.read_text(encoding="utf-8"))
        by_rule.setdefault(document["rule"], []).extend(document["cases"])
    for rule in RULES:
        cases = by_rule.get(rule.id, [])
        assert any(c["expect"]["fires"] for c in cases), f"{rule.id}: no case that fires"
        assert any(not c["expect"]["fires"] for c in cases), f"{rule.id}: no silent case"
        assert any(len(c["expect"].get("affected", [])) > 1 for c in cases), (
            f"{rule.id}: no case with several affected"
        )
