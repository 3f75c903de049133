"""`why USER`: resolve the user, tell their story, and give a verdict on their latest state.

``why(dataset_or_frames, user, job_status=None) -> WhyAnswer`` is the library entry point the
CLI and the benchmark call. The user is resolved on the events frame first; the rule engine then
runs only on what can explain this person (their events plus the cycles they were in), so the
answer stays interactive on a 200,000-event store.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import polars as pl

from diagnostics.guide_steps import STEPS, step_rank
from loganalyzer import timeline as tl
from loganalyzer.findings import Finding, severity_rank
from loganalyzer.ingest import Dataset
from loganalyzer.normalize import Frames
from loganalyzer.user_lookup import Lookup, lookup

# Verdict states (stable: they appear in the JSON).
PROVISIONED = "provisioned"
FAILING = "failing"
SKIPPED = "skipped"
DELETED = "deleted"
NEVER_SEEN = "never_seen"
AMBIGUOUS = "ambiguous"

NESTED_GROUP_NOTE = (
    "Logs cannot tell 'not assigned' apart from 'only in a nested group': if the user is in a "
    "group that is assigned to the app only through another group, assign that group (or the "
    "user) directly, because nested groups do not cascade."
)


@dataclass
class Explanation:
    """A finding as it concerns this user."""

    rule_id: str | None
    title: str | None
    severity: str | None
    guide_steps: list[str]
    guide_step_title: str | None
    message: str
    fix: str | None
    job_wide: bool = False


@dataclass
class Verdict:
    state: str
    reason: str | None  # failure or skip class (already_in_sync, not_assigned, ...)
    since: datetime | None  # time of the latest event
    message: str
    rule_id: str | None
    title: str | None
    guide_steps: list[str]
    guide_step_title: str | None
    fix: str | None
    note: str | None = None


@dataclass
class WhyAnswer:
    lookup: Lookup
    verdict: Verdict
    timeline: list[tl.Entry] = field(default_factory=list)
    job_wide: list[Explanation] = field(default_factory=list)  # fix these first
    explanations: list[Explanation] = field(default_factory=list)  # leading first

    @property
    def resolved(self) -> bool:
        return self.lookup.person is not None


def _title(steps: list[str]) -> str | None:
    return STEPS.get(steps[0]) if steps else None


def _explanation(finding: Finding, job_wide: bool) -> Explanation:
    return Explanation(
        rule_id=finding.rule_id, title=finding.title, severity=finding.severity,
        guide_steps=list(finding.guide_steps), guide_step_title=_title(finding.guide_steps),
        message=finding.message, fix=finding.remediation, job_wide=job_wide,
    )


def leading_order(findings: list[Finding]) -> list[Finding]:
    """Earliest guide step first (a bad token explains every later failure), then severity."""
    return sorted(findings, key=lambda f: (step_rank(f.guide_steps), severity_rank(f.severity)))


def _is_job_wide(finding: Finding, person_key: str, object_id: str | None) -> bool:
    """A finding about the job or other objects (a halted cycle, a bad token) that covers them."""
    ids = {a.id.lower() for a in finding.affected}
    mine = {person_key.lower(), (object_id or "").lower()}
    return bool(finding.cycles) and (len(ids - mine) > 0 or not ids)


def _skip_verdict(entry: tl.Entry) -> tuple[str, list[str], str, str | None]:
    """(message, guide steps, fix, note) for a skipped latest event no finding explains."""
    if entry.skip == tl.NOT_ASSIGNED:
        return (
            "Skipped: the user is not assigned to the app (NotEffectivelyEntitled, 'Assigned "
            "to the application' False).",
            ["5"],
            "Assign the user, or a group they are a direct member of, under Users and Groups "
            "of the enterprise application.",
            NESTED_GROUP_NOTE,
        )
    if entry.skip == tl.NOT_ENTITLED:
        return (
            "Skipped as not effectively entitled: not assigned, or assigned without an app role "
            "that allows provisioning.",
            ["5"],
            "Assign the user (or a group they are a direct member of) to the app with a role.",
            NESTED_GROUP_NOTE,
        )
    if entry.skip == tl.SCOPING_FILTER:
        return (
            f"Skipped: {entry.reason}.",
            [],
            "Change the user's attribute in Entra, or the scoping filter under Provisioning > "
            "Mappings > Provision Azure Active Directory Users > Source Object Scope.",
            "The setup guide does not use scoping filters; someone added one.",
        )
    if entry.skip == tl.INACTIVE:
        return (
            "Skipped: the account is disabled or soft-deleted in Entra.",
            ["delete"],
            "Nothing to fix if the user left; otherwise re-enable the account in Entra.",
            None,
        )
    return (f"Skipped: {entry.reason}.", [], "Check the skip reason in the event's steps.", None)


def _verdict(entries: list[tl.Entry], leading: Finding | None) -> Verdict:
    last = entries[-1]
    rule = dict(
        rule_id=leading.rule_id if leading else None,
        title=leading.title if leading else None,
        guide_steps=list(leading.guide_steps) if leading else [],
        guide_step_title=_title(leading.guide_steps) if leading else None,
        fix=leading.remediation if leading else None,
    )
    if last.status == "failure":
        what = f"{last.action or 'request'} failed"
        if last.http_status:
            what += f" with HTTP {last.http_status}"
        message = f"Failing: the latest {what}: {last.reason or 'no reason logged'}."
        if leading:
            message += f" {leading.message}"
        else:
            message += " No rule explains it (see 'unexplained' in diagnose)."
        return Verdict(FAILING, last.error_code, last.time, message, **rule)
    if last.status == "skipped" and last.skip != tl.ALREADY_IN_SYNC:
        message, steps, fix, note = _skip_verdict(last)
        if leading is None:
            rule.update(guide_steps=steps, guide_step_title=_title(steps), fix=fix)
        return Verdict(SKIPPED, last.skip, last.time, message, note=note, **rule)
    if last.status == "success" and last.action == "delete":
        return Verdict(DELETED, None, last.time, "Deleted from Flowcase.", **rule)
    reason = tl.ALREADY_IN_SYNC if last.skip == tl.ALREADY_IN_SYNC else last.status
    message = (
        "Provisioned: Flowcase already matches Entra (RedundantExport)."
        if reason == tl.ALREADY_IN_SYNC
        else f"Provisioned: {last.reason or last.status}."
    )
    return Verdict(PROVISIONED, reason, last.time, message, **rule)


def _frames(source: Dataset | Frames) -> Frames:
    return source.frames if isinstance(source, Dataset) else source


def context_frames(frames: Frames, event_ids: list[str]) -> Frames:
    """The person's events plus every event of the cycles they were in (job-wide evidence)."""
    events = frames.events
    mine = events.filter(pl.col("event_id").is_in(event_ids))
    cycles = mine["cycle_id"].drop_nulls().unique().implode()
    keep = events.filter(pl.col("event_id").is_in(event_ids) | pl.col("cycle_id").is_in(cycles))
    ids = keep["event_id"].implode()
    return Frames(
        keep,
        frames.steps.filter(pl.col("event_id").is_in(ids)),
        frames.modified_properties.filter(pl.col("event_id").is_in(ids)),
    )


def _diagnose(frames: Frames, job_status: dict | None) -> list[Finding]:
    from loganalyzer.engine import diagnose

    return diagnose(frames, job_status).findings


def why(source: Dataset | Frames, user: str, job_status: dict | None = None) -> WhyAnswer:
    """Resolve ``user`` case-insensitively; timeline, verdict and the findings that explain it."""
    frames = _frames(source)
    found = lookup(frames, user)
    person = found.person
    if person is None:
        return _unresolved(frames, found, job_status)
    entries = tl.build(frames, person.event_ids)
    findings = _diagnose(context_frames(frames, person.event_ids), job_status)
    mine = set(person.event_ids)
    explaining = leading_order([f for f in findings if mine & set(f.event_ids)])
    latest = entries[-1].event_id
    about_latest = [f for f in explaining if latest in f.event_ids]
    leading = about_latest[0] if about_latest else None
    if leading is None and entries[-1].status == "failure" and explaining:
        leading = explaining[0]
    job_wide = [
        _explanation(f, True) for f in explaining
        if _is_job_wide(f, person.key, person.object_id)
    ]
    personal = [_explanation(f, False) for f in explaining
                if not _is_job_wide(f, person.key, person.object_id)]
    return WhyAnswer(found, _verdict(entries, leading), entries, job_wide, job_wide + personal)


def _unresolved(frames: Frames, found: Lookup, job_status: dict | None) -> WhyAnswer:
    if found.people:
        message = f"{len(found.people)} people match '{found.query}'; name one of them exactly."
        return WhyAnswer(found, Verdict(AMBIGUOUS, None, None, message, None, None, [], None, None))
    cover = found.coverage
    apps = ", ".join(cover.apps) or "no app name"
    message = (
        f"Never seen: no event in this export names '{found.query}'. The export covers "
        f"{cover.events:,} events from {_when(cover.start)} to {_when(cover.end)} ({apps})."
    )
    job_wide = [
        _explanation(f, True)
        for f in leading_order(_diagnose(frames, job_status))
        if f.cycles and severity_rank(f.severity) <= severity_rank("high")
    ]
    verdict = Verdict(NEVER_SEEN, None, None, message, None, None, [], None, None,
                      note="Check the spelling, the time range of the export, and the app.")
    return WhyAnswer(found, verdict, [], job_wide, job_wide)


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "?"


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def to_json(answer: WhyAnswer) -> dict[str, Any]:
    """The documented machine shape of `why --format json`."""
    person = answer.lookup.person
    user = None
    if person is not None:
        user = asdict(person)
        user.pop("event_ids")
    cover = answer.lookup.coverage
    return _jsonable(
        {
            "query": answer.lookup.query,
            "matched_on": answer.lookup.matched_on,
            "user": user,
            "verdict": asdict(answer.verdict),
            "job_wide": [asdict(e) for e in answer.job_wide],
            "explanations": [asdict(e) for e in answer.explanations],
            "timeline": [asdict(e) for e in answer.timeline],
            "candidates": [
                {k: v for k, v in asdict(p).items() if k != "event_ids"}
                for p in answer.lookup.people
            ] if person is None else [],
            "suggestions": answer.lookup.suggestions,
            "export": asdict(cover),
        }
    )
