"""Run the configuration checks on one snapshot: findings, checks that could not run, errors.

The counterpart of ``engine.py`` for configuration. A check that raises ``NotCheckable`` is
listed with its reason and the log rules that cover it instead; a check that crashes is
reported as an error finding for that check, never a crashed run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from diagnostics.config_rule import ConfigRule, Mismatch, NotCheckable
from diagnostics.config_rules import CONFIG_RULES
from diagnostics.guide_steps import step_rank
from loganalyzer.config.model import ConfigSnapshot
from loganalyzer.findings import severity_rank

SCHEMA_VERSION = "1.0"


@dataclass
class ConfigFinding:
    check_id: str
    title: str
    severity: str
    guide_steps: list[str]
    message: str
    evidence: list[Mismatch]
    remediation: str
    log_rules: list[str]  # the log rules that see the same mistake once it hurts
    details: dict[str, Any] = field(default_factory=dict)
    # what accepted it ("ignored: CC017"): still listed, out of the verdict and --fail-on
    accepted: str = ""


@dataclass
class NotChecked:
    check_id: str
    title: str
    reason: str
    log_rules: list[str]


@dataclass
class ConfigResult:
    source: str
    findings: list[ConfigFinding]
    not_checked: list[NotChecked]
    checks: list[str]  # every check id that ran or was considered
    snapshot: ConfigSnapshot | None = field(default=None, repr=False, compare=False)
    drift: list = field(default_factory=list)  # config.drift.Drift rows, with a previous run

    def by_log_rule(self) -> dict[str, list[ConfigFinding]]:
        """Log rule id -> the configuration findings that confirm its cause."""
        found: dict[str, list[ConfigFinding]] = {}
        for finding in self.findings:
            for rule_id in finding.log_rules:
                found.setdefault(rule_id, []).append(finding)
        return found


def _run(rule: ConfigRule, config: ConfigSnapshot) -> list[ConfigFinding] | NotChecked:
    missing = [part for part in rule.needs if not config.has(part)]
    if missing:
        why = "; ".join(config.unavailable.get(p, f"no {p} was read") for p in missing)
        return NotChecked(rule.id, rule.title, why, list(rule.log_rules))
    try:
        hits = list(rule.evaluate(config))
    except NotCheckable as exc:
        return NotChecked(rule.id, rule.title, str(exc), list(rule.log_rules))
    except Exception as exc:  # noqa: BLE001 - one broken check must not stop the others
        return [ConfigFinding(rule.id, rule.title, "info", list(rule.guide_steps),
                              f"The check {rule.id} failed ({type(exc).__name__}: {exc}); its "
                              "result is unknown.", [], rule.remediation, [])]
    return [ConfigFinding(rule.id, rule.title, hit.severity or rule.severity,
                          list(rule.guide_steps), hit.message, hit.evidence, rule.remediation,
                          list(rule.log_rules if hit.log_rules is None else hit.log_rules),
                          hit.details) for hit in hits]


def run_checks(config: ConfigSnapshot) -> ConfigResult:
    findings: list[ConfigFinding] = []
    not_checked: list[NotChecked] = []
    for rule in CONFIG_RULES:
        outcome = _run(rule, config)
        if isinstance(outcome, NotChecked):
            not_checked.append(outcome)
        else:
            findings += outcome
    findings.sort(key=lambda f: (severity_rank(f.severity), step_rank(f.guide_steps),
                                 f.check_id))
    return ConfigResult(config.source, findings, not_checked, [r.id for r in CONFIG_RULES],
                        config)


def to_json(result: ConfigResult) -> dict[str, Any]:
    """The stable machine shape of ``check --format json`` and the ``configuration`` section."""
    return {
        "schema_version": SCHEMA_VERSION,
        "source": result.source,
        "findings": [asdict(f) for f in result.findings],
        "not_checked": [asdict(n) for n in result.not_checked],
        "checks": result.checks,
    }
