"""What a diagnosis produces: findings, unexplained failures, and the rules that ran.

This is the contract between the rule engine and everything that presents results (the
``diagnose`` JSON, the HTML/Markdown reports, ``why``). ``to_json`` gives the stable machine
shape documented in the README; bump ``SCHEMA_VERSION`` on any incompatible change.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, is_dataclass
from datetime import datetime
from functools import cache
from typing import Any

import polars as pl

SCHEMA_VERSION = "1.1"
SEVERITIES = ("critical", "high", "medium", "low", "info")


def severity_rank(severity: str) -> int:
    """0 for critical ... 4 for info; used for sorting and ``--fail-on``."""
    return SEVERITIES.index(severity)


@dataclass
class Affected:
    """One user or group a finding is about."""

    id: str  # lower-cased UPN or email when known, else the Entra object id
    type: str  # "User", "Group", ...
    display_name: str | None
    events: int


@dataclass
class Evidence:
    """One event shown as evidence (a capped sample; counts are on the finding)."""

    event_id: str
    time: datetime
    cycle_id: str | None
    action: str | None
    status: str | None
    error_code: str | None
    http_status: int | None
    reason: str | None  # short: the SCIM detail when there is one
    change_id: str | None = None  # with the cycle id, what Microsoft support asks for


@dataclass
class Finding:
    rule_id: str
    title: str
    severity: str
    guide_steps: list[str]  # first = where it is fixed
    message: str  # one sentence naming who or what
    events: int
    affected: list[Affected]
    first_seen: datetime | None
    last_seen: datetime | None
    cycles: list[str]
    evidence: list[Evidence]
    remediation: str
    # every event it explains: not in the JSON, and one Arrow column, not Python strings (a
    # finding may explain a million events: 110 MB as a list, 41 MB as a Series); findings
    # compare equal on everything else
    event_ids: pl.Series = field(default_factory=lambda: pl.Series("event_id", [], pl.Utf8),
                                 repr=False, compare=False, metadata={"json": False})
    details: dict[str, Any] = field(default_factory=dict)  # rule-specific extras
    # cause: a setup mistake; consequence: a symptom (escrow, quarantine) of failures no cause
    # explains; noise: expected events (unassigned users) counted at info; error: a rule crashed
    kind: str = "cause"
    # every person it is about was exported or skipped since, without failing: history, not
    # what to fix now (the verdict leaves it out)
    mended: bool = False
    # how many of its events are failures: an accepted finding explaining most of the
    # period's failures still counts in the verdict (``verdict.counted_anyway``)
    failures: int = field(default=0, metadata={"json": False})


NO_ERROR_CODE = "no error code"  # an unexplained group's code when none was logged


@dataclass
class UnexplainedGroup:
    """Failures (or warnings) no rule explains, grouped by error code and HTTP status."""

    error_code: str | None
    http_status: int | None
    count: int
    sample_reason: str | None
    affected: int
    # the first few users or groups it happened to, to ask `why` about
    examples: list[str] = field(default_factory=list)

    def label(self) -> str:
        """What the group is keyed by, in words: 'Teapot / HTTP 418', 'no error code /
        HTTP 400', 'Teapot / no HTTP status', or, for a warning that logged only its status,
        'no error code or HTTP status'."""
        if self.error_code is None and self.http_status is None:
            return f"{NO_ERROR_CODE} or HTTP status"
        http = f"HTTP {self.http_status}" if self.http_status is not None else "no HTTP status"
        return f"{self.error_code or NO_ERROR_CODE} / {http}"


@dataclass
class UnexplainedSkip:
    """Skipped events no rule explains, grouped by skip reason (a reason the rulebook does
    not know yet is shown, never counted as noise)."""

    skip_reason: str  # SkipReason as logged, else "(no skip reason logged)"
    count: int
    sample_text: str | None  # the skipped step's description
    affected: int


@dataclass
class RuleInfo:
    rule_id: str
    title: str
    severity: str
    guide_steps: list[str]
    kind: str = "cause"
    patterns: list[int] = field(default_factory=list)  # failure-catalog patterns covered


@dataclass
class Suppressed:
    """A finding accepted with ``--ignore`` or a baseline (``accept.py``): not counted, listed."""

    finding: Finding
    source: str  # "ignored: FC019" (--ignore) or "baseline: weekly-baseline.json"


@dataclass
class Diagnosis:
    summary: dict[str, Any]
    findings: list[Finding]
    unexplained: list[UnexplainedGroup]
    rules_run: list[RuleInfo]
    rule_errors: list[str] = field(default_factory=list)  # a crashing rule, never a crashed run
    # what the reader should know about the input: other apps left out, unreadable statuses
    notes: list[str] = field(default_factory=list)
    unexplained_skips: list[UnexplainedSkip] = field(default_factory=list)
    suppressed: list[Suppressed] = field(default_factory=list)
    # warnings no finding explains, grouped as ``unexplained``: shown, never in the verdict
    unexplained_warnings: list[UnexplainedGroup] = field(default_factory=list)


def jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 text, tuples as lists and dataclasses as dicts (but fields marked
    ``metadata={"json": False}``), through dicts and lists: the JSON shapes of ``diagnose``
    and ``why`` both go through this. Not ``asdict``: it deep-copies every value, 1.2 s for
    the 45,000 people a finding of a 1M-event month names."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if is_dataclass(value) and not isinstance(value, type):
        return {name: jsonable(getattr(value, name)) for name in _json_fields(type(value))}
    return value


@cache
def _json_fields(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in fields(kind) if f.metadata.get("json", True))


def to_json(diagnosis: Diagnosis, verdict: dict[str, Any] | None = None) -> dict[str, Any]:
    """The stable machine-readable shape (``diagnose --format json``); ``verdict`` is
    ``verdict.to_json`` of the same diagnosis."""
    return jsonable(
        {
            "schema_version": SCHEMA_VERSION,
            "verdict": verdict,
            "summary": diagnosis.summary,
            "findings": diagnosis.findings,
            "unexplained": diagnosis.unexplained,
            "unexplained_skips": diagnosis.unexplained_skips,
            "rules_run": diagnosis.rules_run,
            "rule_errors": diagnosis.rule_errors,
            "notes": diagnosis.notes,
            "suppressed": [{"source": s.source, **jsonable(s.finding)}
                           for s in diagnosis.suppressed],
            "unexplained_warnings": diagnosis.unexplained_warnings,
        }
    )
