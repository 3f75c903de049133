"""The rulebook's own contract: ids, documentation, guide steps, coverage of the guide."""

from __future__ import annotations

import re
import types
from pathlib import Path

import pytest

from diagnostics import RULES, guide_warnings, rule_by_id
from diagnostics.guide_steps import STEP_ORDER, STEPS, step_rank
from diagnostics.rule import DOC_SECTIONS, KINDS, RuleDefinitionError, rule_from_module
from loganalyzer.findings import SEVERITIES

SHARED = Path(__file__).resolve().parents[2] / "shared"
GUIDE = SHARED / "guide" / "flowcase-entra-scim-setup-guide.txt"
CATALOG = SHARED / "reference" / "failure-catalog.md"
needs_reference = pytest.mark.skipif(
    not CATALOG.exists(), reason="the shared guide and failure catalog are not checked out here"
)


def test_rule_ids_are_unique_and_match_their_files() -> None:
    ids = [r.id for r in RULES]
    assert len(ids) == len(set(ids))
    for rule in RULES:
        assert rule.module.split(".")[-1].startswith(rule.id.lower() + "_")


@pytest.mark.parametrize("rule", RULES, ids=lambda r: r.id)
def test_rule_metadata_is_complete(rule) -> None:
    assert rule.severity in SEVERITIES
    assert rule.kind in KINDS
    assert all(step in STEPS for step in rule.guide_steps)
    for section in DOC_SECTIONS:
        assert len(rule.doc[section]) > 40, f"{rule.id}: section '{section}' is too thin"
    assert not rule.title.startswith(rule.id)


def test_only_transient_trouble_has_no_guide_step() -> None:
    assert [r.id for r in RULES if not r.guide_steps] == ["FC017"]


@needs_reference
def test_step_ids_are_the_catalogs() -> None:
    catalog_ids = re.findall(r"^\| `([0-9a-z]+)` \|", CATALOG.read_text(), re.MULTILINE)
    assert tuple(catalog_ids) == STEP_ORDER


def test_findings_without_step_sort_last() -> None:
    assert step_rank(["1"]) < step_rank(["7a"]) < step_rank(["7b"]) < step_rank(["delete"])
    assert step_rank([]) == len(STEP_ORDER)


def test_every_catalog_pattern_has_a_rule() -> None:
    covered = {p for r in RULES if r.kind != "noise" for p in r.patterns}
    assert covered == set(range(1, 18))


@needs_reference
def test_first_guide_step_matches_the_catalog() -> None:
    """Each pattern's rule is fixed where the catalog says (the first step it cites)."""
    text = CATALOG.read_text()
    for rule in RULES:
        if rule.kind == "noise" or not rule.guide_steps:
            continue
        for pattern in rule.patterns:
            row = re.search(rf"^{pattern}\. \*\*[^*]+\*\* — ([^.]*)", text, re.MULTILINE)
            cited = re.findall(r"`([0-9a-z]+)`", row.group(1))
            assert rule.guide_steps[0] in cited, (rule.id, pattern, cited)


def test_every_guide_warning_is_covered_or_explained() -> None:
    warnings = guide_warnings()
    assert {w["step"] for w in warnings} == set(STEPS)
    for warning in warnings:
        rules = warning.get("rules")
        if rules:
            assert all(rule_by_id(r) is not None for r in rules), warning
        else:
            assert len(warning.get("not_decidable", "")) > 30, warning
    cited = {r for w in warnings for r in w.get("rules", [])}
    assert cited | {"FC017"} == {r.id for r in RULES}


@needs_reference
def test_the_guides_own_warning_boxes_are_listed() -> None:
    """Each boxed warning of the guide text appears in guide_warnings.json."""
    listed = " ".join(w["warning"] for w in guide_warnings()).lower()
    boxes = [
        "SCIM Groups Not Supported",
        "Manager Attribute Not Supported",
        "aadOptscim062020",
        "Lowercase",
        "Pre-existing data",
        "Departments Must Exist",
        "token=\"API_KEY\"",
        "International Manager",
        "Sync only assigned users and groups",
        "Test Connection",
        "case-sensitive",
        "departmentmanager",
        "Nested Groups Do Not Cascade",
        "Country Attribute",
        "Disable SCIM group support",
        "Provision on demand",
    ]
    guide = GUIDE.read_text().lower()
    for box in boxes:
        assert box.lower() in guide, box
        assert box.lower() in listed, box


def test_remediation_quotes_the_guides_exact_settings() -> None:
    quotes = {
        "FC001": ["Provision Azure Active Directory Groups", '"Enabled" to "No"'],
        "FC004": ['token="API_KEY"'],
        "FC006": ["ToLower([userPrincipalName], )", "ToLower([mail], )"],
        "FC014": ['Switch([isSoftDeleted],, "False","True","True","False")'],
        "FC003": ["?aadOptscim062020", "AppRoleAssignmentsComplex([appRoleAssignments])"],
        "FC019": ["Sync only assigned users and groups"],
    }
    for rule_id, fragments in quotes.items():
        for fragment in fragments:
            assert fragment in rule_by_id(rule_id).remediation, (rule_id, fragment)


def _module(**attrs) -> types.ModuleType:
    module = types.ModuleType("diagnostics.fc999_fake")
    module.__file__ = "diagnostics/fc999_fake.py"
    module.__doc__ = "Fake.\n\n" + "\n".join(f"{s}:\n    text" for s in DOC_SECTIONS)
    defaults = dict(
        ID="FC999", TITLE="Fake", SEVERITY="high", GUIDE_STEPS=("1",), PATTERNS=(1,),
        REMEDIATION="Do it.", evaluate=lambda ctx: [],
    )
    for key, value in {**defaults, **attrs}.items():
        setattr(module, key, value)
    return module


def test_loader_accepts_a_well_formed_rule() -> None:
    rule = rule_from_module(_module())
    assert rule.id == "FC999" and rule.doc["Fix"] == "text" and rule.causes == ()
    assert rule_from_module(_module(CAUSES=("FC007",))).causes == ("FC007",)


@pytest.mark.parametrize(
    ("attrs", "complaint"),
    [
        ({"ID": "X1"}, "ID"),
        ({"SEVERITY": "urgent"}, "SEVERITY"),
        ({"GUIDE_STEPS": ("9",)}, "GUIDE_STEPS"),
        ({"PATTERNS": (18,)}, "PATTERNS"),
        ({"REMEDIATION": " "}, "REMEDIATION"),
        ({"KIND": "weird"}, "KIND"),
        ({"CAUSES": ["FC007"]}, "CAUSES"),
        ({"CAUSES": ("fc7",)}, "CAUSES"),
        ({"__doc__": "Only a title."}, "docstring lacks"),
    ],
)
def test_loader_rejects_malformed_rules_naming_the_file(attrs, complaint) -> None:
    with pytest.raises(RuleDefinitionError, match=complaint) as raised:
        rule_from_module(_module(**attrs))
    assert "fc999_fake.py" in str(raised.value)


def test_every_guide_warning_says_which_configuration_check_covers_it() -> None:
    from diagnostics.config_rules import CONFIG_RULES, config_rule_by_id

    for warning in guide_warnings():
        checks = warning.get("config_checks")
        if checks:
            assert all(config_rule_by_id(c) is not None for c in checks), warning
            assert "config_not_checkable" not in warning, warning
        else:
            assert len(warning.get("config_not_checkable", "")) > 30, warning
    cited = {c for w in guide_warnings() for c in w.get("config_checks", [])}
    assert cited == {r.id for r in CONFIG_RULES}


def test_a_rule_that_causes_an_unknown_rule_stops_the_rulebook(tmp_path, monkeypatch) -> None:
    """``CAUSES`` names rules the lead order puts after this one: a typo would silently
    order nothing, so the rulebook refuses to load."""
    import importlib
    import sys

    import diagnostics

    package = tmp_path / "fake_rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    doc = "Fake.\n\n" + "\n".join(f"{s}:\n    text" for s in DOC_SECTIONS)
    (package / "fc998_fake.py").write_text(
        f'"""{doc}"""\nID = "FC998"\nTITLE = "Fake"\nSEVERITY = "high"\nGUIDE_STEPS = ("1",)\n'
        'PATTERNS = (1,)\nREMEDIATION = "Do it."\nCAUSES = ("FC997",)\n\n\n'
        "def evaluate(ctx):\n    return []\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(diagnostics, "_rules_package", importlib.import_module("fake_rules"))
    try:
        with pytest.raises(RuleDefinitionError, match="CAUSES names no rule: FC997"):
            diagnostics._discover()
    finally:
        sys.modules.pop("fake_rules", None)
        sys.modules.pop("fake_rules.fc998_fake", None)
