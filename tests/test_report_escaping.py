"""Hostile values in a real export come out as text, never as markup, in HTML and Markdown.

The failing sample is rewritten the way an attacker (or an unlucky admin) could shape Entra data:
display names, the app's name, SCIM error details inside the reason's response body and an error
code carry script tags, image tags with handlers, pipes, template syntax, spreadsheet formulas,
line breaks and Markdown syntax. The reports must show each one, escaped.
"""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from report_support import FORMULA, SCRIPT, hostile_export, md_tables, run_report
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.markdown import md_escape, neutralise_formula


@pytest.fixture(scope="module")
def export(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_export(tmp_path_factory.mktemp("hostile") / "hostile.json")


@pytest.fixture(scope="module")
def reports(export: Path) -> dict[str, str]:
    folder = export.parent
    out = {}
    for fmt in ("html", "md"):
        target = folder / f"report.{fmt}"
        result = run_report(export, "--format", fmt, "-o", target)
        assert result.exit_code == 0, result.output
        out[fmt] = target.read_text(encoding="utf-8")
    return out


class _Page(HTMLParser):
    """Tags, link targets and text cells of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.attributes: list[tuple[str, str]] = []
        self.cells: list[str] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.attributes += [(k, v or "") for k, v in attrs]
        if tag in ("td", "th", "dd", "p", "h1", "h3"):
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th", "dd", "p", "h1", "h3") and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def test_html_shows_hostile_values_as_text(reports: dict[str, str]) -> None:
    html = reports["html"]
    page = _Page()
    page.feed(html)
    assert not {"script", "img", "b", "iframe", "object"} & page.tags
    assert not [a for a in page.attributes if a[0].startswith("on")]
    assert all(v.startswith("#") for k, v in page.attributes if k in ("href", "src", "xlink:href"))
    # the values made it into the report, escaped
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "Flowcase &lt;b&gt;SCIM&lt;/b&gt; | {{7*7}}" in html
    assert "{{7*7}} {% if 1 %}yes{% endif %}" in html  # data, never evaluated
    assert "49" not in " ".join(c for c in page.cells if "7*7" in c)


def test_html_cells_never_start_like_a_formula(reports: dict[str, str]) -> None:
    page = _Page()
    page.feed(reports["html"])
    starts = [c for c in page.cells if c.strip()[:1] in ("=", "+", "-", "@")]
    assert starts == []
    assert any(c.strip().startswith("'=HYPERLINK(") for c in page.cells)


def test_markdown_has_no_markup_from_the_logs(reports: dict[str, str]) -> None:
    markdown = reports["md"]
    assert not re.search(r"(?<!\\)<", markdown), "raw HTML"
    assert not re.search(r"(?<!\\)`", markdown), "unescaped backtick"
    assert not re.search(r"(?<!\\)[\[\]]", markdown), "unescaped link bracket"
    assert r"\<script\>alert(1)\</script\>" in markdown
    assert r"\<img src=x onerror=alert(1)\>" in markdown
    assert r"Ops \| Admin" in markdown
    assert r"{{7\*7}} {% if 1 %}yes{% endif %}" in markdown  # data, never evaluated
    assert "first line second line \\| --- \\|" in markdown  # one line, pipes escaped


def test_markdown_tables_keep_their_shape(reports: dict[str, str]) -> None:
    tables = md_tables(reports["md"])
    assert len(tables) >= 8
    for table in tables:
        assert len({len(row) for row in table}) == 1, table
    cells = [cell for table in tables for row in table for cell in row]
    assert [c for c in cells if c[:1] in ("=", "+", "-", "@")] == []
    assert any(c.startswith("'=HYPERLINK(") for c in cells)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("a|b", r"a\|b"),
        ("line1\r\nline2\nline3", "line1 line2 line3"),
        ("`x`", r"\`x\`"),
        ("<b>x</b>", r"\<b\>x\</b\>"),
        ("[a](http://x)", r"\[a\](http://x)"),
        ("=1+1", "'=1+1"),
        ("+47 22 00 00 00", "'+47 22 00 00 00"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("a\\b", r"a\\b"),
        ("{{ x }}", "{{ x }}"),
        ("tab\there", "tab here"),
    ],
)
def test_md_escape(value: str, expected: str) -> None:
    assert md_escape(value) == expected


def test_formula_neutralising_leaves_ordinary_text_alone() -> None:
    assert neutralise_formula("user=admin") == "user=admin"
    assert neutralise_formula("  =cmd") == "'  =cmd"


def test_diagnose_and_why_markdown_escape_log_values_as_the_report_does(
    export: Path, reports: dict[str, str]
) -> None:
    """The user whose display name is a formula and whose SCIM error detail is a script tag."""
    failures = [r for r in json.loads(export.read_text())
                if r["provisioningStatusInfo"]["status"] == "failure"]
    person = next(r["sourceIdentity"] for r in failures
                  if r["sourceIdentity"]["displayName"] == FORMULA)
    runner = CliRunner()
    diagnosis = runner.invoke(app, ["diagnose", str(export), "--format", "md", "-q"])
    why = runner.invoke(app, ["why", person["details"]["UserPrincipalName"], str(export),
                              "--format", "md", "-q"])
    assert diagnosis.exit_code == 0 and why.exit_code == 0, diagnosis.output + why.output
    script_reason = md_escape(f"{SCRIPT} is not valid")
    for markdown in (reports["md"], diagnosis.stdout, why.stdout):
        assert script_reason in markdown and md_escape(FORMULA) in markdown
        assert not re.search(r"(?<!\\)<", markdown), "raw HTML"
        cells = [c for table in md_tables(markdown) for row in table for c in row]
        # "-" alone is the why table's "no value"; anything else may not start like a formula
        assert [c for c in cells if c[:1] in ("=", "+", "@") or c[:1] == "-" != c] == []
    assert why.stdout.startswith(f"### Why: {md_escape(FORMULA)} ")
