"""A configuration check's metadata, read from its module and checked when the package loads.

The same contract as a log rule (``rule.py``): a check file defines ``ID`` (``CCnnn``),
``TITLE``, ``SEVERITY``, ``GUIDE_STEPS``, ``REMEDIATION`` (quoting the guide), ``NEEDS`` (the
parts of the configuration it reads, ``config.model.PARTS``), ``LOG_RULES`` (the log rules
whose cause this check confirms: they see the same mistake once it has hurt someone), a
docstring with the sections of ``rule.DOC_SECTIONS`` and
``evaluate(config) -> Iterable[ConfigHit]``. A check that cannot be decided from what was read
raises ``NotCheckable`` with the reason.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from diagnostics.guide_steps import STEPS
from diagnostics.rule import attribute_reader, documented
from loganalyzer.config.model import PARTS
from loganalyzer.findings import SEVERITIES
from loganalyzer.masking import mask

_ID = re.compile(r"^CC\d{3}$")
_LOG_RULE = re.compile(r"^FC\d{3}$")


class NotCheckable(Exception):
    """What was read does not decide the check (a part missing, a setting Graph hides)."""


@dataclass(frozen=True)
class Mismatch:
    """One piece of evidence: what the configuration has, and what the guide asks for. Every
    text is masked (``loganalyzer.masking``): a job's error message or a Tenant URL can carry a
    credential, an expected value is often built from the current one (CC016's fixed URL), and
    configuration is read outside ``normalize``."""

    subject: str  # "userName mapping", "app role 'Consultant'", "job scim.…"
    current: str
    expected: str

    def __post_init__(self) -> None:
        for name in ("subject", "current", "expected"):
            object.__setattr__(self, name, mask(getattr(self, name)))


@dataclass
class ConfigHit:
    """One finding of a check: a sentence naming what is wrong (masked), and its evidence."""

    message: str
    evidence: list[Mismatch]
    severity: str | None = None  # None: the check's SEVERITY
    details: dict[str, Any] = field(default_factory=dict)
    # None: the check's LOG_RULES; a hit narrows them when only some see its kind of mistake
    log_rules: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        self.message = mask(self.message)


@dataclass(frozen=True)
class ConfigRule:
    id: str
    title: str
    severity: str
    guide_steps: tuple[str, ...]
    needs: tuple[str, ...]
    log_rules: tuple[str, ...]
    remediation: str
    summary: str
    doc: dict[str, str]
    docstring: str
    module: str
    evaluate: Callable[[Any], Iterable[ConfigHit]]


def config_rule_from_module(module: ModuleType) -> ConfigRule:
    """Read and validate one check module; raise RuleDefinitionError naming the file."""
    need = attribute_reader(module)

    def listed(allowed: Callable[[Any], bool]) -> Callable[[Any], bool]:
        return lambda v: isinstance(v, tuple | list) and all(allowed(x) for x in v)

    summary, doc = documented(module)
    return ConfigRule(
        id=need("ID", lambda v: isinstance(v, str) and bool(_ID.match(v)), "like 'CC001'"),
        title=need("TITLE", lambda v: isinstance(v, str) and v.strip() != "", "a title"),
        severity=need("SEVERITY", lambda v: v in SEVERITIES, f"one of {SEVERITIES}"),
        guide_steps=tuple(need("GUIDE_STEPS", lambda v: bool(v) and listed(STEPS.__contains__)(v),
                               f"a non-empty list of guide step ids from {tuple(STEPS)}")),
        needs=tuple(need("NEEDS", lambda v: bool(v) and listed(PARTS.__contains__)(v),
                         f"a non-empty list of configuration parts from {PARTS}")),
        log_rules=tuple(need("LOG_RULES", listed(lambda r: bool(_LOG_RULE.match(str(r)))),
                             "a list of log rule ids (may be empty)")),
        remediation=" ".join(need("REMEDIATION", lambda v: isinstance(v, str) and '"' in v,
                                  "the fix, quoting the guide in double quotes").split()),
        summary=summary,
        doc=doc,
        docstring=inspect.cleandoc(module.__doc__ or ""),
        module=module.__name__,
        evaluate=need("evaluate", callable, "a function evaluate(config) -> Iterable[ConfigHit]"),
    )
