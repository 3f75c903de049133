"""The configuration checks' own contract: ids, documentation, guide steps, log rules."""

from __future__ import annotations

import types

import pytest

from diagnostics import rule_by_id
from diagnostics.config_rule import config_rule_from_module
from diagnostics.config_rules import CONFIG_RULES, config_rule_by_id
from diagnostics.guide_steps import STEPS
from diagnostics.rule import DOC_SECTIONS, RuleDefinitionError
from loganalyzer.config.model import PARTS
from loganalyzer.findings import SEVERITIES


def test_check_ids_are_unique_and_match_their_files() -> None:
    ids = [r.id for r in CONFIG_RULES]
    assert ids == sorted(set(ids)) and ids[0] == "CC001"
    for rule in CONFIG_RULES:
        assert rule.module.split(".")[-1].startswith(rule.id.lower() + "_")
    assert config_rule_by_id("cc014").id == "CC014"


@pytest.mark.parametrize("rule", CONFIG_RULES, ids=lambda r: r.id)
def test_check_metadata_is_complete(rule) -> None:
    assert rule.severity in SEVERITIES
    assert rule.guide_steps and all(step in STEPS for step in rule.guide_steps)
    assert rule.needs and all(part in PARTS for part in rule.needs)
    assert all(rule_by_id(r) is not None for r in rule.log_rules)
    for section in DOC_SECTIONS:
        assert len(rule.doc[section]) > 40, f"{rule.id}: section '{section}' is too thin"


def _module(**attrs) -> types.ModuleType:
    module = types.ModuleType("diagnostics.config_rules.cc999_fake")
    module.__file__ = "diagnostics/config_rules/cc999_fake.py"
    module.__doc__ = "Fake.\n\n" + "\n".join(f"{s}:\n    text" for s in DOC_SECTIONS)
    defaults = dict(ID="CC999", TITLE="Fake", SEVERITY="high", GUIDE_STEPS=("4",),
                    NEEDS=("app roles",), LOG_RULES=("FC011",),
                    REMEDIATION='Do it (guide: "do it").', evaluate=lambda config: [])
    for key, value in {**defaults, **attrs}.items():
        setattr(module, key, value)
    return module


def test_loader_accepts_a_well_formed_check() -> None:
    rule = config_rule_from_module(_module())
    assert rule.id == "CC999" and rule.needs == ("app roles",)


@pytest.mark.parametrize(("attrs", "complaint"), [
    ({"ID": "FC001"}, "ID"),
    ({"GUIDE_STEPS": ()}, "GUIDE_STEPS"),
    ({"NEEDS": ("the moon",)}, "NEEDS"),
    ({"LOG_RULES": ("CC001",)}, "LOG_RULES"),
    ({"REMEDIATION": "Do it."}, "REMEDIATION"),
    ({"__doc__": "Only a title."}, "docstring lacks"),
])
def test_loader_rejects_malformed_checks_naming_the_file(attrs, complaint) -> None:
    with pytest.raises(RuleDefinitionError, match=complaint) as raised:
        config_rule_from_module(_module(**attrs))
    assert "cc999_fake.py" in str(raised.value)
