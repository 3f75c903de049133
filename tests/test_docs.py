"""The README and the manual in docs/ document what the code has: every canonical column,
every command, and links that lead somewhere."""

from __future__ import annotations

import re

from conftest import ROOT
from typer.main import get_command

from loganalyzer.cli import app
from loganalyzer.schema import FRAME_SCHEMAS

README = (ROOT / "README.md").read_text()
DOCS = {path.name: path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
MANUAL = README + "\n".join(DOCS.values())


def test_every_canonical_column_is_documented_on_the_inputs_page():
    documented = set(re.findall(r"`([a-z_]+)`", DOCS["inputs.md"]))
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
        assert re.search(rf"loganalyzer {re.escape(name)}\b", MANUAL), name


def test_the_two_setup_commands_are_the_ones_ci_runs():
    ci = (ROOT / ".ci" / "run").read_text()
    assert 'pip install -q -e ".[test]"' in README and 'pip install -q -e ".[test]"' in ci
    assert "bash .ci/system-deps" in README and "system-deps" in ci


def test_every_page_of_the_manual_is_linked_from_the_readme():
    linked = set(re.findall(r"\(docs/([\w-]+\.md)\)", README))
    assert set(DOCS) <= linked


def test_relative_links_lead_to_files_that_exist():
    pages = {"README.md": (ROOT, README)} | {n: (ROOT / "docs", t) for n, t in DOCS.items()}
    broken = [
        f"{name}: {target}"
        for name, (folder, text) in pages.items()
        for target in re.findall(r"\]\((?!https?:|#)([^)#\s]+)", text)
        if not (folder / target).exists()
    ]
    assert not broken


def test_module_paths_named_in_the_manual_exist():
    named = set(re.findall(r"`((?:loganalyzer|diagnostics)/[\w/]+\.py)`", MANUAL))
    assert named, "the manual names no module at all"
    assert not {path for path in named if not (ROOT / path).exists()}
