"""Helpers for the report tests: run the `report` command, and read Markdown tables back."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner, Result

from loganalyzer.cli import app

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def run_report(*args: str | Path) -> Result:
    """`loganalyzer report ARGS -q` in-process."""
    return CliRunner().invoke(app, ["report", *map(str, args), "-q"])


def md_cells(line: str) -> list[str]:
    """The cells of one Markdown table row, split on pipes that are not escaped."""
    return [cell.strip() for cell in _UNESCAPED_PIPE.split(line.strip())[1:-1]]


def md_tables(markdown: str) -> list[list[list[str]]]:
    """Every table: a list of rows (header first, separator dropped), each a list of cells."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in markdown.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            if not re.fullmatch(r"\|(\s*-+:?\|)+", line.replace(" ", "")):
                current.append(md_cells(line))
        else:
            current = None
    return tables


def md_section(markdown: str, heading: str) -> str:
    """The text under a heading (any level) up to the next heading of the same or higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", markdown, re.MULTILINE)
    assert match, f"no heading {heading!r}"
    level = len(match.group(1))
    rest = markdown[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest
