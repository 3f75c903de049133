"""Accepted findings: `--ignore RULE[:IDENTITY]` and baseline files, like Ruff's and Checkov's.

A weekly job must be able to say "FC019 is known and accepted" without hiding what is new. A
finding is suppressed when its rule is accepted as a whole, or when every user or group it
names is accepted for that rule; one more person affected brings the whole finding back. What
was suppressed is kept (``Diagnosis.suppressed``) and listed in a short section of every output.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from loganalyzer.findings import SEVERITIES, Diagnosis, Finding, Suppressed
from loganalyzer.problems import InputError

if TYPE_CHECKING:
    from loganalyzer.config.check import ConfigResult

BASELINE_VERSION = 1
_SPEC = re.compile(r"^((?:FC|CC)\d{3})(?::(.+))?$", re.IGNORECASE)
CHECK_PREFIX = "CC"  # a configuration check: accepted as a whole
WHOLE_RULE = "*"


@dataclass
class Acceptance:
    """Accepted identities per rule id (``WHOLE_RULE`` accepts every finding of the rule),
    with where each acceptance came from, for the suppressed section."""

    accepted: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    sources: dict[str, str] = field(default_factory=dict)

    def add(self, rule_id: str, identity: str, source: str) -> None:
        self.accepted[rule_id.upper()].add(identity.strip().lower())
        self.sources.setdefault(rule_id.upper(), source)

    def __bool__(self) -> bool:
        return bool(self.accepted)

    def covers(self, finding: Finding) -> bool:
        names = self.accepted.get(finding.rule_id)
        if not names:
            return False
        if WHOLE_RULE in names:
            return True
        return bool(finding.affected) and all(_names(a) & names for a in finding.affected)


def _names(affected) -> set[str]:
    names = {affected.id.lower()}
    if affected.display_name:
        names.add(affected.display_name.lower())
    return names


def parse_ignore(specs: list[str], rule_ids: set[str]) -> Acceptance:
    """``FC019``, ``FC019:ida.eriksen@northwind.no`` or a configuration check ``CC017``
    (whole: it names settings, not people); an unknown id is an error."""
    acceptance = Acceptance()
    for spec in specs:
        match = _SPEC.match(spec.strip())
        if not match:
            raise InputError("--ignore",
                             f"expected RULE or RULE:IDENTITY (e.g. FC019), got {spec!r}")
        rule_id = match.group(1).upper()
        refused = _refusal(rule_id, bool(match.group(2)), rule_ids,
                           whole=f"--ignore {rule_id}, not {spec.strip()!r}")
        if refused:
            raise InputError("--ignore", refused)
        acceptance.add(rule_id, match.group(2) or WHOLE_RULE, f"ignored: {spec.strip()}")
    return acceptance


def _refusal(rule_id: str, names_someone: bool, rule_ids: set[str], whole: str) -> str:
    """Why ``rule_id`` cannot be accepted so ('' when it can); ``whole``: how to accept a
    configuration check as a whole, spelt as the user wrote the rest."""
    if rule_id not in rule_ids:
        return f"no rule {rule_id}; `loganalyzer rules list` shows them"
    if rule_id.startswith(CHECK_PREFIX) and names_someone:
        return f"a configuration check is accepted as a whole: {whole}"
    return ""


def accept_checks(configuration: ConfigResult | None, acceptance: Acceptance) -> None:
    """Mark the configuration findings ``--ignore CCnnn`` accepts: still listed, and out of
    the verdict and ``--fail-on``."""
    for finding in configuration.findings if configuration else []:
        if finding.check_id in acceptance.accepted:
            finding.accepted = acceptance.sources[finding.check_id]


def read_baseline(path: Path, acceptance: Acceptance, rule_ids: set[str]) -> Acceptance:
    """Add the findings accepted in a baseline file written by ``--write-baseline``; an
    entry of a rule this version does not have is refused, as ``--ignore`` refuses it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(str(path), f"cannot read the baseline ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"line {exc.lineno}: not JSON ({exc.msg})") from None
    entries = data.get("accepted") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise InputError(str(path),
                         'expected a baseline: {"accepted": [...]} from --write-baseline')
    version = data.get("baseline_version", BASELINE_VERSION)
    if not isinstance(version, int) or version > BASELINE_VERSION:
        raise InputError(str(path), f"baseline_version {version!r} is not one this loganalyzer "
                         f"reads (up to {BASELINE_VERSION}): written by a newer version? "
                         "upgrade, or write the baseline again")
    for n, entry in enumerate(entries):
        rule_id = entry.get("rule_id") if isinstance(entry, dict) else None
        identities = entry.get("identities") if isinstance(entry, dict) else None
        wrong = [what for what, ok in (("rule_id (text)", isinstance(rule_id, str)),
                                       ("identities (a list, [] for the whole rule)",
                                        isinstance(identities, list))) if not ok]
        if wrong:
            raise InputError(str(path), f"accepted[{n}]: missing or not valid: "
                             + " and ".join(wrong))
        refused = _refusal(rule_id.strip().upper(), bool(identities), rule_ids,
                           whole='"identities": []')
        if refused:
            raise InputError(str(path), f"accepted[{n}]: {refused}")
        for identity in identities or [WHOLE_RULE]:
            acceptance.add(rule_id.strip(), str(identity), f"baseline: {path.name}")
    return acceptance


def baseline(diagnosis: Diagnosis, configuration: ConfigResult | None = None) -> dict:
    """The baseline accepting every finding of ``diagnosis`` (suppressed ones included) and
    every configuration finding (accepted ones included), each check as a whole."""
    findings = [*diagnosis.findings, *(s.finding for s in diagnosis.suppressed)]
    entries: dict[str, set[str]] = defaultdict(set)
    titles: dict[str, str] = {}
    for finding in findings:
        if finding.kind == "error":
            continue
        titles[finding.rule_id] = finding.title
        entries[finding.rule_id] |= {a.id for a in finding.affected} or {WHOLE_RULE}
    for check in configuration.findings if configuration else []:
        titles[check.check_id] = check.title
        entries[check.check_id] = {WHOLE_RULE}
    return {
        "baseline_version": BASELINE_VERSION,
        "written_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "accepted": [
            {"rule_id": rule_id, "title": titles[rule_id],
             "identities": sorted(entries[rule_id] - {WHOLE_RULE})
             if entries[rule_id] != {WHOLE_RULE} else []}
            for rule_id in sorted(entries)
        ],
    }


def apply(diagnosis: Diagnosis, acceptance: Acceptance) -> Diagnosis:
    """The diagnosis without the accepted findings, which move to ``suppressed``."""
    if not acceptance:
        return diagnosis
    kept, suppressed = [], list(diagnosis.suppressed)
    for finding in diagnosis.findings:
        if acceptance.covers(finding):
            suppressed.append(Suppressed(finding, acceptance.sources[finding.rule_id]))
        else:
            kept.append(finding)
    summary = dict(diagnosis.summary)
    summary["findings_by_severity"] = {
        s: n for s in SEVERITIES if (n := sum(f.severity == s for f in kept))
    }
    return dataclasses.replace(diagnosis, summary=summary, findings=kept, suppressed=suppressed)
