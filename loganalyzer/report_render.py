"""Render the report model with the twin templates in ``report_templates/``.

Escaping is the environment's job, not the template author's: the HTML environment autoescapes,
and the Markdown one runs every ``{{ value }}`` through ``md_escape`` (its ``finalize``), so a
template cannot forget it. Both neutralise values a spreadsheet would run as a formula when a
table is pasted into one. Only the charts' SVG, drawn by ``charts.py``, is marked safe.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from loganalyzer.report import Report
from loganalyzer.report_charts import draw

TEMPLATES = Path(str(resources.files("report_templates")))

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$])")
_LINE_BREAKS = re.compile(r"[\r\n\t\x0b\x0c\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORMULA_START = ("=", "+", "-", "@")


def neutralise_formula(text: str) -> str:
    """A value starting like a formula (``=HYPERLINK(...)``) gets a leading quote (OWASP)."""
    return "'" + text if text.lstrip().startswith(_FORMULA_START) else text


def md_escape(value: str) -> str:
    """Literal text on one line: safe in a Markdown table cell, heading or paragraph."""
    text = _CONTROL.sub("", _LINE_BREAKS.sub(" ", value))
    return _MD_SPECIAL.sub(r"\\\1", neutralise_formula(text))


def _shown(value: Any, escape: Callable[[str], str]) -> Any:
    """Numbers with thousands separators, None as empty, text through ``escape``."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return escape(value)
    return value


def _environment(autoescape: bool, escape: Callable[[str], str]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        finalize=lambda value: _shown(value, escape),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plural"] = lambda n, noun: f"{n:,} {noun}{'' if n == 1 else 's'}"
    return env


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG, no script, no external resource."""
    template = _environment(True, neutralise_formula).get_template("report.html.j2")
    svg = {chart.id: markupsafe.Markup(draw(chart)) for chart in report.charts}
    return template.render(report=report, svg=svg)


def render_markdown(report: Report) -> str:
    """Markdown for GitHub, Azure DevOps and Jira: headings and tables, no raw HTML."""
    return _environment(False, md_escape).get_template("report.md.j2").render(report=report)


RENDERERS: dict[str, Callable[[Report], str]] = {"html": render_html, "md": render_markdown}
