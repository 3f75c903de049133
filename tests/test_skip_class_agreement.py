"""`why` and the rulebook read a skip the same way: one classification (``skip_class``).

Each user is first provisioned, then skipped as ``NotEffectivelyEntitled`` with the scoping
details Entra logs for one situation; the verdict of `why` and the rulebook's ``skip_class``
of that skip must name the same class, and the finding that leads the verdict must be the
rule for that class (FC013 not assigned, FC020 scoping filter, none for a disabled account).
"""

from __future__ import annotations

import json

import pytest
from eventfactory import Export

from diagnostics.facts.assignment import skip_classes
from diagnostics.rulekit import Context
from loganalyzer.why import query

MARKETING = "Marketing department filter.department EQUALS 'Marketing'"
NORWAY = "Norway only.country EQUALS 'NO'"


def _scoping(active: str, assigned: str, passed: str, result: dict[str, bool]) -> dict[str, str]:
    """The portal's EntrySynchronizationScoping details, as logged."""
    return {
        "Active in the source system": active,
        "Assigned to the application": assigned,
        "User has the required role": assigned,
        "ScopeEvaluationResult": json.dumps(result, separators=(",", ":")),
        "Scoping filter evaluation passed": passed,
    }


# upn -> (scoping details of the skip, class both must give, rule that must lead the verdict)
CASES = {
    "per.olsen@contoso.no": (_scoping("True", "False", "True", {}), "not_assigned", "FC013"),
    "nora.strand@contoso.no": (
        _scoping("True", "True", "False", {MARKETING: False}), "scoping_filter", "FC020"
    ),
    # Clauses of one group are ANDed, groups ORed: the Norway group passed, so the user is in
    # scope and the skip is about entitlement (e.g. the app role), not the filter.
    "lene.moe@contoso.no": (
        _scoping("True", "True", "True", {NORWAY: True, MARKETING: False}), None, None
    ),
    # Disabled in Entra and therefore also unassigned: never an assignment problem.
    "magnus.berntsen@contoso.no": (
        _scoping("False", "False", "True", {}), "inactive_in_entra", None
    ),
    # provision-on-demand spells the flags IsActive / Assigned
    "ida.lunde@contoso.no": ({"IsActive": "True", "Assigned": "False"}, "not_assigned", "FC013"),
    "elias.akesson@contoso.se": ({"IsActive": "False", "Assigned": "True"}, "inactive_in_entra",
                                 None),
}


@pytest.fixture(scope="module")
def frames():
    export = Export()
    for n, (upn, (scoping, _, _)) in enumerate(CASES.items()):
        flowcase_id = f"fc{n:04d}"
        export.user(upn, action="create", cycle="c1", matched_id=flowcase_id)
        export.user(upn, status="skipped", cycle="c2", skip_reason="NotEffectivelyEntitled",
                    scoping=scoping)
    return export.frames()


@pytest.fixture(scope="module")
def rulebook(frames) -> dict[str, str | None]:
    classes = skip_classes(Context(frames)).collect()
    return dict(zip(classes["event_id"], classes["skip_class"], strict=True))


@pytest.mark.parametrize("upn", list(CASES))
def test_why_verdict_and_rulebook_give_the_skip_the_same_class(upn, frames, rulebook):
    _, expected, leading_rule = CASES[upn]
    answer = query.why(frames, upn)
    latest = answer.timeline[-1]
    assert answer.verdict.state == "skipped"
    assert rulebook[latest.event_id] == expected
    # not_entitled is the timeline's name for a NotEffectivelyEntitled skip the rulebook
    # leaves unclassified
    assert answer.verdict.reason == (expected or "not_entitled")
    assert latest.skip == answer.verdict.reason
    assert answer.verdict.rule_id == leading_rule


def test_scoping_filter_verdict_quotes_the_failing_clause_and_points_at_the_filter(frames):
    verdict = query.why(frames, "nora.strand@contoso.no").verdict
    assert MARKETING in verdict.message
    assert verdict.guide_steps == ["3", "7a"]  # FC020's steps, not step 5 (assignment)
