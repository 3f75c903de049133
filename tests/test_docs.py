"""The README and the manual in docs/ document what the code has: every canonical column,
every command, and links that lead somewhere."""

from __future__ import annotations

import importlib.util
import re
import shlex

import pytest
from conftest import ROOT
from typer.main import get_command
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.schema import FRAME_SCHEMAS

README = (ROOT / "README.md").read_text()
DOCS = {path.name: path.read_text() for path in sorted((ROOT / "docs").glob("*.md"))}
RULE_PAGES = [path.read_text() for path in sorted((ROOT / "docs" / "rules").glob("*.md"))]
MANUAL = README + "\n".join([*DOCS.values(), *RULE_PAGES])


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


def test_the_readme_is_a_short_front_page():
    assert len(README.splitlines()) < 250
    for topic in ("Getting an export out of Entra", "Job 1", "Job 2", "Job 3", "Exit codes"):
        assert f"## {topic}" in README, topic
    for click_path in ("**Download** → **JSON**", "**CSV**", "AADProvisioningLogs",
                       "**Diagnostic settings**", "ProvisioningLogs"):
        assert click_path in README, click_path


def _console_blocks(text: str) -> list[tuple[str, list[str]]]:
    """``$ loganalyzer ...`` and the lines shown under it, from each ```console block."""
    blocks = re.findall(r"```console\n\$ loganalyzer ([^\n]+)\n(.*?)```", text, re.DOTALL)
    return [(command, shown.rstrip("\n").split("\n")) for command, shown in blocks]


@pytest.mark.parametrize(
    ("command", "shown"), _console_blocks(README), ids=lambda v: str(v)[:40]
)
def test_the_readme_sample_output_is_what_the_command_prints(command, shown, tmp_path,
                                                            monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "sample_logs").symlink_to(ROOT / "sample_logs")
    result = CliRunner().invoke(app, shlex.split(command))
    assert result.exit_code == 0, result.output
    printed = [line for line in result.output.split("\n") if not line.startswith("read ")]
    cut = shown.index("...") if "..." in shown else len(shown)
    assert printed[:cut] == shown[:cut]


def test_every_option_of_every_command_is_in_the_manual():
    def options(command):
        for sub in getattr(command, "commands", {}).values():
            yield from options(sub)
        for param in getattr(command, "params", []):
            yield from (o for o in param.opts if o.startswith("--"))

    missing = {o for o in options(get_command(app)) if o not in MANUAL} - {"--help"}
    assert not missing


def test_every_rule_page_is_current():
    spec = importlib.util.spec_from_file_location(
        "generate_rule_pages", ROOT / "docs" / "generate_rule_pages.py"
    )
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    written = {p.name: p.read_text() for p in (ROOT / "docs" / "rules").glob("*.md")}
    assert written == generator.pages(), "run: python docs/generate_rule_pages.py"


def test_the_dependency_table_says_what_each_is_used_for():
    design = DOCS["design.md"]
    assert re.search(r"\| pandas \|[^\n]*Excel[^\n]*benchmark", design)
    assert re.search(r"\| openpyxl \|", design)
    package = "\n".join(p.read_text() for p in (ROOT / "loganalyzer").rglob("*.py"))
    assert "import pandas" in package and "openpyxl" in package
