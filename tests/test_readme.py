"""The README documents what the code has: every canonical column and every command."""

from __future__ import annotations

import re

from conftest import ROOT
from typer.main import get_command

from loganalyzer.cli import app
from loganalyzer.schema import FRAME_SCHEMAS

README = (ROOT / "README.md").read_text()


def test_every_canonical_column_is_documented():
    documented = set(re.findall(r"`([a-z_]+)`", README))
    missing = {
        f"{frame}.{column}"
        for frame, schema in FRAME_SCHEMAS.items()
        for column in schema
        if column not in documented
    }
    assert not missing


def test_every_command_is_documented():
    commands = set(get_command(app).commands)
    assert commands >= {"ingest", "summary", "diagnose", "report", "why", "fetch", "fetch-job"}
    for name in commands - {"version"}:
        assert re.search(rf"loganalyzer {re.escape(name)}\b", README), name


def test_the_two_setup_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -q -e ".[test]"' in README and 'pip install -q -e ".[test]"' in ci
    assert "bash .ci/system-deps" in README and "system-deps" in ci
