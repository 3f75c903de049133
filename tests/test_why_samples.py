"""`why` on every bundled sample export, against the ground truth in sample_logs/manifest.json.

Each affected user is typed in another case than the log has it (Graph's own filters are
case-sensitive; ours must not be) and must be told the guide step the scenario was built for.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

import pytest

from diagnostics.guide_steps import step_rank
from loganalyzer.ingest import load
from loganalyzer.why import query
from loganalyzer.why.frame_source import FrameSource

SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
MANIFEST = json.loads((SAMPLES / "manifest.json").read_text())["files"]
ESCROW_PATTERN = 16  # a consequence (objects failing cycle after cycle): their cause leads
UPPER_CASE_PATTERN, CONFLICT_PATTERN = 6, 7  # FC006 causes FC007's conflict for one user
SCENARIOS = {
    name: entry for name, entry in MANIFEST.items()
    if "findings" in entry and not name.startswith("job-status/")
}


@cache
def _source(name: str) -> FrameSource:
    return FrameSource.from_frames(load([SAMPLES / name]).frames)


def _cases() -> list[tuple[str, str, list[tuple[int, list[str]]]]]:
    """(file, user, (pattern, guide steps) of every finding that affects them there): one
    user per finding, the first affected user not already picked."""
    cases = []
    for name, entry in SCENARIOS.items():
        steps_by_user: dict[str, list[tuple[int, list[str]]]] = {}
        # `why` reads the whole file: a period's escrow may be mended by its end
        findings = [f for f in entry["findings"] if not f.get("period_only")]
        for finding in findings:
            for user in finding["affected"]:
                steps_by_user.setdefault(user, []).append(
                    (finding["pattern"], finding["guide_steps"])
                )
        picked: set[str] = set()
        for finding in findings:
            users = [u for u in finding["affected"] if "@" in u and u not in picked]
            if users:
                picked.add(users[0])
                cases.append((name, users[0], steps_by_user[users[0]]))
    return cases


def _named_steps(answer: query.WhyAnswer) -> set[str]:
    cited = [answer.verdict.guide_steps] + [e.guide_steps for e in answer.explanations]
    return {steps[0] for steps in cited if steps}


@pytest.mark.parametrize(("name", "user", "expected"), _cases())
def test_affected_user_in_another_case_gets_the_right_guide_step(name, user, expected):
    answer = query.why(_source(name), user.swapcase())
    assert answer.lookup.person is not None, f"{user} not found in {name}"
    named = _named_steps(answer)
    for _, steps in expected:
        if steps:  # transient trouble (pattern 17) has no guide step
            assert steps[0] in named, (name, user, steps, named)
    patterns = {pattern for pattern, _ in expected}
    causes = [steps[0] for pattern, steps in expected if steps and pattern != ESCROW_PATTERN
              and not (pattern == CONFLICT_PATTERN and UPPER_CASE_PATTERN in patterns)]
    if answer.verdict.state == query.FAILING and causes:
        # the verdict cites the earliest step among the causes of this user's failures (a
        # conflict after upper-case identifiers is caused by them: catalog pattern 6)
        assert answer.verdict.guide_steps[0] == min(causes, key=lambda s: step_rank([s]))


def test_every_scenario_with_users_is_covered():
    files = {name for name, _, _ in _cases()}
    with_users = {
        name for name, entry in SCENARIOS.items()
        if any("@" in u for f in entry["findings"] for u in f["affected"])
    }
    assert files == with_users and len(files) >= 15


def _people(name: str) -> set[str]:
    events = _source(name).events
    users = events.filter(events["object_type"] == "User")
    return set(users["identity_key"].drop_nulls().unique().to_list())


def test_healthy_export_says_provisioned_for_everyone_assigned():
    name = "healthy-incremental.json"
    noise = set(MANIFEST[name]["noise_not_effectively_entitled"])
    assigned = sorted(_people(name) - noise)
    assert len(assigned) >= 5
    for user in assigned:
        answer = query.why(_source(name), user.upper())
        assert answer.verdict.state == query.PROVISIONED, (user, answer.verdict)
        assert answer.job_wide == []


@pytest.mark.parametrize("name", sorted(n for n, e in SCENARIOS.items()
                                        if e.get("noise_not_effectively_entitled")))
def test_unassigned_user_is_skipped_as_not_assigned_with_guide_step_5(name):
    user = MANIFEST[name]["noise_not_effectively_entitled"][0]
    verdict = query.why(_source(name), user.title()).verdict
    assert verdict.state == query.SKIPPED
    assert verdict.reason == "not_assigned"
    assert verdict.guide_steps[0] == "5"
    assert "nested group" in verdict.note


def test_users_behind_halting_group_404s_are_told_to_fix_the_group_mapping_first():
    name = "group-404-halt.json"
    user = sorted(_people(name) - set(MANIFEST[name]["noise_not_effectively_entitled"]))[0]
    answer = query.why(_source(name), user)
    assert [e.rule_id for e in answer.job_wide][:1] == ["FC001"]
    assert answer.job_wide[0].guide_steps[0] == "7b"
    assert answer.explanations[0].job_wide  # named first


def test_a_quarantined_job_is_named_job_wide_for_every_user():
    """With --job-status saying quarantine, the job itself is named before any verdict, also
    for a user the escrow finding does not list (its severity is high, not critical)."""
    name = "pattern-16-quarantine-escrow.json"
    status = json.loads((SAMPLES / "job-status/pattern-16-quarantine-escrow.job.json")
                        .read_text())
    escrowed = MANIFEST[name]["findings"][1]["affected"][0]
    everyone = sorted(_people(name))
    bystander = next(u for u in everyone if u not in MANIFEST[name]["findings"][1]["affected"])
    for user in (escrowed, bystander):
        answer = query.why(_source(name), user, job_status=status)
        assert "FC016" in [f.rule_id for f in answer.job_wide], user


def _records(name: str) -> dict[str, dict]:
    """The sample's raw records by their activity id."""
    document = json.loads((SAMPLES / name).read_text())
    records = document["value"] if isinstance(document, dict) else document
    return {record["id"]: record for record in records}


@pytest.mark.parametrize(("name", "user", "expected"), _cases())
def test_a_failing_user_gets_the_ids_a_support_case_names(name, user, expected):
    """Failing: the activity, change, cycle, job and tenant ids of the latest failure, as
    the raw record has them; anything else: none (nothing to open a case about)."""
    answer = query.why(_source(name), user)
    keys = answer.verdict.case_keys
    if answer.verdict.state != query.FAILING:
        assert keys is None
        return
    latest = answer.timeline[-1]
    assert keys is not None and keys.activity_id == latest.event_id
    record = _records(name)[keys.activity_id]
    assert record["provisioningStatusInfo"]["status"] == "failure"
    assert (keys.change_id, keys.cycle_id, keys.job_id, keys.tenant_id) == (
        record["changeId"], record["cycleId"], record["jobId"], record["tenantId"])
    assert keys.time == latest.time
