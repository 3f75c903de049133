"""The rulebook: one module per rule in ``rules/`` (``fcNNN_<problem>.py``), discovered and
validated here; ``facts/`` holds the evidence several rules share.

Adding a rule is adding a file; nothing registers it by hand. Importing this package imports
every rule module and checks its metadata (``rule.rule_from_module``), so a malformed rule
fails at import with the file named, not halfway through a diagnosis.
"""

from __future__ import annotations

import importlib
import json
import pkgutil
import re
from pathlib import Path
from typing import Any

from diagnostics import rules as _rules_package
from diagnostics.rule import Rule, RuleDefinitionError, rule_from_module

_RULE_MODULE = re.compile(r"^fc\d{3}_\w+$")
GUIDE_WARNINGS_FILE = Path(__file__).with_name("guide_warnings.json")


def _discover() -> tuple[Rule, ...]:
    found: list[Rule] = []
    for info in sorted(pkgutil.iter_modules(_rules_package.__path__), key=lambda i: i.name):
        if not _RULE_MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{_rules_package.__name__}.{info.name}")
        found.append(rule_from_module_checked(module, info.name))
    seen: dict[str, str] = {}
    for rule in found:
        if rule.id in seen:
            raise RuleDefinitionError(
                f"rule id {rule.id} is used by both {seen[rule.id]} and {rule.module}"
            )
        seen[rule.id] = rule.module
    for rule in found:
        unknown = [caused for caused in rule.causes if caused not in seen]
        if unknown:
            raise RuleDefinitionError(f"{rule.module}: CAUSES names no rule: {', '.join(unknown)}")
    return tuple(found)


def rule_from_module_checked(module: Any, name: str) -> Rule:
    """Validate a rule module and check that its file name carries its id."""
    rule = rule_from_module(module)
    if not name.startswith(rule.id.lower() + "_"):
        raise RuleDefinitionError(
            f"{module.__file__}: file name must start with {rule.id.lower()}_"
        )
    return rule


def rule_by_id(rule_id: str) -> Rule | None:
    """Case-insensitive lookup (``rules show fc008`` works)."""
    wanted = rule_id.strip().upper()
    return next((r for r in RULES if r.id == wanted), None)


def guide_warnings() -> list[dict[str, Any]]:
    """Every warning of the setup guide, with the rules that cover it or why logs cannot."""
    return json.loads(GUIDE_WARNINGS_FILE.read_text(encoding="utf-8"))


RULES: tuple[Rule, ...] = _discover()
