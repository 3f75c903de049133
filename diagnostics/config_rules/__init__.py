"""The configuration checks: one module per check, ``ccNNN_<problem>.py``, discovered here.

Like the log rules, a check is added by adding a file; importing this package imports and
validates every check (``config_rule.config_rule_from_module``), so a malformed check fails
at import with its file named.
"""

from __future__ import annotations

import importlib
import pkgutil
import re

from diagnostics.config_rule import ConfigRule, config_rule_from_module
from diagnostics.rule import RuleDefinitionError

_CHECK_MODULE = re.compile(r"^cc\d{3}_\w+$")


def _discover() -> tuple[ConfigRule, ...]:
    found: list[ConfigRule] = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        if not _CHECK_MODULE.match(info.name):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        rule = config_rule_from_module(module)
        if not info.name.startswith(rule.id.lower() + "_"):
            raise RuleDefinitionError(
                f"{module.__file__}: file name must start with {rule.id.lower()}_")
        if any(r.id == rule.id for r in found):
            raise RuleDefinitionError(f"check id {rule.id} is used twice ({module.__file__})")
        found.append(rule)
    return tuple(found)


def config_rule_by_id(rule_id: str) -> ConfigRule | None:
    wanted = rule_id.strip().upper()
    return next((r for r in CONFIG_RULES if r.id == wanted), None)


CONFIG_RULES: tuple[ConfigRule, ...] = _discover()
