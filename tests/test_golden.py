"""Every sample export through `diagnose`, checked against sample_logs/manifest.json.

The manifest is the generator's ground truth: for each file, which failure-catalog patterns it
contains, their guide steps and the complete set of affected identities (users: lower-cased
UPN; groups: display name), plus the unassigned users that are expected noise. For each
pattern, the one rule that covers it with the manifest's guide steps (in that order, first
step first) must fire and name exactly the affected identities; no other pattern's rule may
fire above low.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLES

from diagnostics import RULES, rule_by_id
from loganalyzer.engine import diagnose
from loganalyzer.findings import Diagnosis, Finding, severity_rank
from loganalyzer.ingest import load
from loganalyzer.normalize import Frames

MANIFEST = json.loads((SAMPLES / "manifest.json").read_text(encoding="utf-8"))
FILES = MANIFEST["files"]
SCENARIOS = sorted(
    name for name, spec in FILES.items()
    if "findings" in spec and not name.startswith("job-status/") and "periods" not in spec
)
VARIANTS = sorted(name for name, spec in FILES.items() if "same_events_as" in spec)
JOB_STATUS = sorted(name for name in FILES if name.startswith("job-status/"))
PERIODIC = sorted(name for name, spec in FILES.items() if "periods" in spec)


@cache
def frames_of(name: str) -> Frames:
    return load([SAMPLES / name]).frames


def identity(affected) -> str:
    return affected.display_name if affected.type == "Group" else affected.id


def rules_for(pattern: int, findings: list[Finding], noise: bool = False) -> list[Finding]:
    return [
        f for f in findings
        if pattern in rule_by_id(f.rule_id).patterns
        and (rule_by_id(f.rule_id).kind == "noise") == noise
    ]


def expected_by_pattern(findings: list[dict]) -> dict[int, dict]:
    merged: dict[int, dict] = {}
    for item in findings:
        entry = merged.setdefault(item["pattern"], {"steps": item["guide_steps"], "ids": set()})
        assert entry["steps"] == item["guide_steps"], f"pattern {item['pattern']}: steps differ"
        entry["ids"] |= set(item["affected"])
    return merged


def covering(pattern: int, steps: list[str], findings: list[Finding]) -> list[Finding]:
    """Findings of the rule for ``pattern`` whose guide steps begin with ``steps``."""
    return [
        f for f in rules_for(pattern, findings) if f.guide_steps[: len(steps)] == steps
    ]


def check(diagnosis: Diagnosis, expected: list[dict], check_ids: bool = True,
          only_listed: bool = True) -> None:
    assert not diagnosis.rule_errors
    wanted = expected_by_pattern(expected)
    for pattern, want in wanted.items():
        found = covering(pattern, want["steps"], diagnosis.findings)
        fired = {f.rule_id: f.guide_steps for f in rules_for(pattern, diagnosis.findings)}
        assert found, f"pattern {pattern}: no rule fired with steps {want['steps']}: {fired}"
        assert len({f.rule_id for f in found}) == 1, (pattern, fired)
        if check_ids:
            ids = {identity(a) for f in found for a in f.affected}
            assert ids == want["ids"], (
                f"pattern {pattern} ({found[0].rule_id}): missing {sorted(want['ids'] - ids)}, "
                f"extra {sorted(ids - want['ids'])}"
            )
    for finding in diagnosis.findings if only_listed else []:
        rule = rule_by_id(finding.rule_id)
        if rule.kind == "noise" or set(rule.patterns) & set(wanted):
            continue
        assert severity_rank(finding.severity) >= severity_rank("low"), (
            f"{finding.rule_id} fired: {finding.message}"
        )


def check_noise(diagnosis: Diagnosis, users: list[str]) -> None:
    noise = rules_for(13, diagnosis.findings, noise=True)
    assert {identity(a) for f in noise for a in f.affected} == set(users)
    assert all(f.severity == "info" for f in noise)


@pytest.mark.parametrize("name", SCENARIOS)
def test_scenario(name: str) -> None:
    spec = FILES[name]
    diagnosis = diagnose(frames_of(name))
    check(diagnosis, spec["findings"])
    check_noise(diagnosis, spec.get("noise_not_effectively_entitled", []))
    assert diagnosis.summary["events"] == spec["events"]
    assert diagnosis.summary["failures"] == spec["status_counts"].get("failure", 0)


def test_the_healthy_export_is_quiet() -> None:
    diagnosis = diagnose(frames_of("healthy-incremental.json"))
    assert all(severity_rank(f.severity) >= severity_rank("low") for f in diagnosis.findings)
    assert diagnosis.unexplained == []


def test_every_failure_of_the_scenarios_is_explained() -> None:
    for name in SCENARIOS + PERIODIC:
        diagnosis = diagnose(frames_of(name))
        assert diagnosis.unexplained == [], (name, diagnosis.unexplained)


def _signature(diagnosis: Diagnosis) -> set[tuple[str, tuple[str, ...]]]:
    return {(f.rule_id, tuple(sorted(identity(a) for a in f.affected))) for f in diagnosis.findings}


def _unit(name: str) -> str:
    """What a user would pass: the folder for multi-file formats, else the file."""
    folder = str(Path(name).parent)
    if folder.endswith(("/csv", "/csv-variant", "/graph-v1", "/storage")) and not name.endswith(
        ".zip"
    ):
        return folder
    return name


UNITS = sorted({_unit(name) for name in VARIANTS})


@pytest.mark.parametrize("unit", UNITS)
def test_every_format_gives_the_same_diagnosis(unit: str) -> None:
    base = next(FILES[n]["same_events_as"] for n in VARIANTS if _unit(n) == unit)
    assert _signature(diagnose(load([SAMPLES / unit]).frames)) == _signature(
        diagnose(frames_of(base))
    )


def test_the_main_csv_alone_still_explains_every_failure() -> None:
    """Without the steps and properties files the identifiers and sent values are gone, yet
    every failure is still attributed from its status, code and text."""
    diagnosis = diagnose(load([SAMPLES / "formats/csv/ProvisioningLogs.csv"]).frames)
    assert diagnosis.unexplained == []
    assert {"FC007", "FC008", "FC011"} <= {f.rule_id for f in diagnosis.findings}


@pytest.mark.parametrize("name", JOB_STATUS)
def test_job_status_is_joined_to_the_failing_requests(name: str) -> None:
    spec = FILES[name]
    job = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    diagnosis = diagnose(frames_of(spec["logs"]), job)
    assert diagnosis.summary["job_status"]["code"] == spec["status_code"]
    # the job file lists what the job status adds; the logs' own patterns are checked above
    check(diagnosis, spec.get("findings", []), check_ids=False, only_listed=False)
    if spec["quarantine_reason"]:
        quarantine = rules_for(16, diagnosis.findings)[0]
        assert spec["quarantine_reason"] in quarantine.message
        assert quarantine.details["quarantine"]["failing_requests"] > 0
        assert quarantine.details["caused_by"], "the quarantine names the findings behind it"
    else:
        assert not rules_for(16, diagnosis.findings)


def _period(frames: Frames, start: str, end: str) -> Frames:
    lo, hi = (datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (start, end))
    events = frames.events.filter(pl.col("activity_time").is_between(lo, hi, closed="left"))
    return frames.only(events["event_id"])


@pytest.mark.parametrize("name", PERIODIC)
def test_each_period_of_a_long_export(name: str) -> None:
    spec = FILES[name]
    frames = frames_of(name)
    for period in spec["periods"]:
        expected = [f for f in spec["findings"] if f.get("period") == period["name"]]
        check(diagnose(_period(frames, period["start"], period["end"])), expected)
    whole = [f for f in spec["findings"] if not f.get("period_only")]
    check(diagnose(frames), whole)
    check_noise(diagnose(frames), spec.get("noise_not_effectively_entitled", []))


def test_the_manifest_covers_every_rule_that_is_not_noise_or_a_flag_variant() -> None:
    patterns = {f["pattern"] for spec in FILES.values() for f in spec.get("findings", [])}
    assert patterns == set(range(1, 18))
    assert {p for r in RULES for p in r.patterns} == patterns


def test_samples_exist() -> None:
    assert Path(SAMPLES / "manifest.json").exists()
    assert SCENARIOS and JOB_STATUS and VARIANTS
