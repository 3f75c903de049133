"""docs/config.md documents the configuration checks exactly as their docstrings say."""

from __future__ import annotations

import importlib.util
import re

from conftest import ROOT

from diagnostics.config_rules import CONFIG_RULES

_spec = importlib.util.spec_from_file_location(
    "generate_config_checks", ROOT / "docs" / "generate_config_checks.py")
generator = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generator)
PAGE, checks_reference, rewrite = generator.PAGE, generator.checks_reference, generator.rewrite


def test_the_checks_list_is_generated_from_the_docstrings() -> None:
    assert PAGE.read_text(encoding="utf-8") == rewrite(), (
        "docs/config.md is out of date: run `python docs/generate_config_checks.py`")
    assert checks_reference() in PAGE.read_text(encoding="utf-8")


def test_every_check_has_its_entry_and_fix() -> None:
    text = PAGE.read_text(encoding="utf-8")
    for rule in CONFIG_RULES:
        assert f"### {rule.id}\n" in text
        assert rule.doc["Fix"] in text


def test_every_permission_the_code_asks_for_is_documented() -> None:
    from loganalyzer.graph import config_fetch, retest

    text = PAGE.read_text(encoding="utf-8")
    for permission in (config_fetch.APP_READ, config_fetch.SYNC_READ, config_fetch.MEMBERS_READ,
                       retest.SYNC_WRITE, retest.USER_READ):
        assert re.search(rf"`{re.escape(permission)}`", text), permission
