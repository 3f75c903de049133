"""A rule's metadata, read from its module and checked when the rulebook is imported.

A rule file defines ``ID``, ``TITLE``, ``SEVERITY``, ``GUIDE_STEPS``, ``PATTERNS`` (the
failure-catalog patterns it covers), ``REMEDIATION``, optionally ``KIND`` and ``CAUSES``
(the rules whose findings it causes where both explain a user: it leads them), a docstring with
the sections in ``DOC_SECTIONS`` and ``evaluate(ctx) -> Iterable[Hit]``. Anything missing or
malformed stops the import with a message naming the file, so a broken rule never ships.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from diagnostics.guide_steps import STEPS
from loganalyzer.findings import SEVERITIES
from loganalyzer.wording import verb

DOC_SECTIONS = (
    "What it detects",
    "Why provisioning fails",
    "Evidence",
    "Fix",
    "Known false positives",
)

# cause: a setup mistake; consequence: a symptom (escrow, quarantine) whose cause is elsewhere;
# noise: expected events that are counted, never a failure.
KINDS = ("cause", "consequence", "noise")
CATALOG_PATTERNS = range(1, 18)
_ID = re.compile(r"^FC\d{3}$")


class RuleDefinitionError(Exception):
    """A rule file that does not follow the rule contract."""


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    severity: str
    guide_steps: tuple[str, ...]
    patterns: tuple[int, ...]
    kind: str
    remediation: str
    summary: str  # first line of the docstring
    doc: dict[str, str]  # section title -> text (whitespace folded)
    docstring: str  # as written, for `rules show`
    module: str
    evaluate: Callable[[Any], Iterable[Any]]
    causes: tuple[str, ...] = ()  # rules it leads where both explain one user


def parse_doc(docstring: str) -> tuple[str, dict[str, str]]:
    """Split a rule docstring into its first line and its titled sections."""
    lines = docstring.strip().splitlines()
    summary = lines[0].strip() if lines else ""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines[1:]:
        heading = line.strip().rstrip(":")
        if heading in DOC_SECTIONS and line.strip().endswith(":"):
            current = sections.setdefault(heading, [])
        elif current is not None:
            current.append(line.strip())
    return summary, {k: " ".join(" ".join(v).split()) for k, v in sections.items()}


def attribute_reader(module: ModuleType) -> Callable[[str, Callable[[Any], bool], str], Any]:
    """``need(name, check, expected)``: the module's attribute, or a RuleDefinitionError naming
    the file, the attribute and what was expected (log rules and configuration checks alike)."""
    where = getattr(module, "__file__", module.__name__)

    def need(name: str, check: Callable[[Any], bool], expected: str) -> Any:
        value = getattr(module, name, None)
        if value is None or not check(value):
            raise RuleDefinitionError(f"{where}: {name} must be {expected}, got {value!r}")
        return value

    return need


def documented(module: ModuleType) -> tuple[str, dict[str, str]]:
    """The docstring's first line and its sections; every section of DOC_SECTIONS is required."""
    summary, doc = parse_doc(module.__doc__ or "")
    missing = [s for s in DOC_SECTIONS if not doc.get(s)]
    if missing:
        where = getattr(module, "__file__", module.__name__)
        sections = verb(len(missing), "section", "sections")
        raise RuleDefinitionError(f"{where}: docstring lacks {sections} {', '.join(missing)}")
    return summary, doc


def rule_from_module(module: ModuleType) -> Rule:
    """Read and validate one rule module; raise RuleDefinitionError naming the file."""
    need = attribute_reader(module)
    rule_id = need("ID", lambda v: isinstance(v, str) and bool(_ID.match(v)), "like 'FC001'")
    title = need("TITLE", lambda v: isinstance(v, str) and v.strip() != "", "a non-empty title")
    severity = need("SEVERITY", lambda v: v in SEVERITIES, f"one of {SEVERITIES}")
    steps = need(
        "GUIDE_STEPS",
        lambda v: isinstance(v, tuple | list) and all(s in STEPS for s in v),
        f"a list of guide step ids from {tuple(STEPS)}",
    )
    patterns = need(
        "PATTERNS",
        lambda v: isinstance(v, tuple | list) and v and all(p in CATALOG_PATTERNS for p in v),
        "a non-empty list of failure-catalog pattern numbers 1-17",
    )
    kind = getattr(module, "KIND", "cause")
    if kind not in KINDS:
        where = getattr(module, "__file__", module.__name__)
        raise RuleDefinitionError(f"{where}: KIND must be one of {KINDS}, got {kind!r}")
    remediation = need(
        "REMEDIATION",
        lambda v: isinstance(v, str) and v.strip() != "",
        "the fix, quoting the guide",
    )
    evaluate = need("evaluate", callable, "a function evaluate(ctx) -> Iterable[Hit]")
    causes = getattr(module, "CAUSES", ())
    if not (isinstance(causes, tuple) and all(isinstance(c, str) and _ID.match(c)
                                              for c in causes)):
        where = getattr(module, "__file__", module.__name__)
        raise RuleDefinitionError(f"{where}: CAUSES must be a tuple of rule ids like "
                                  f"('FC007',), got {causes!r}")
    summary, doc = documented(module)
    return Rule(
        id=rule_id,
        title=title,
        severity=severity,
        guide_steps=tuple(steps),
        patterns=tuple(patterns),
        kind=kind,
        remediation=" ".join(remediation.split()),
        summary=summary,
        doc=doc,
        docstring=inspect.cleandoc(module.__doc__ or ""),
        module=module.__name__,
        evaluate=evaluate,
        causes=causes,
    )
