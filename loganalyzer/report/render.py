"""Render the report model with the twin templates in ``report_templates/``.

Escaping is the environment's job, not the template author's: the HTML environment autoescapes,
and the Markdown one runs every ``{{ value }}`` through ``md_escape`` (its ``finalize``), so a
template cannot forget it. Both neutralise values a spreadsheet would run as a formula when a
table is pasted into one; the tool's own notes, written after "Note:", are escaped by the ``own``
filter instead, without that guard's quote. Only the charts' SVG, drawn by ``charts.py``, is
marked safe.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import markupsafe

from loganalyzer.markdown import md_escape, neutralise_formula
from loganalyzer.report.charts import draw
from loganalyzer.report.model import Report
from loganalyzer.wording import plural

TEMPLATES = Path(str(resources.files("report_templates")))


def _shown(value: Any, escape: Callable[[str], str]) -> Any:
    """Numbers with thousands separators, None as empty, text through ``escape``."""
    if value is None:
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    if isinstance(value, str) and not isinstance(value, markupsafe.Markup):
        return escape(value)
    return value


def _environment(autoescape: bool, escape: Callable[[str], str],
                 own: Callable[[str], str]) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        finalize=lambda value: _shown(value, escape),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["plural"] = plural
    env.filters["own"] = lambda text: markupsafe.Markup(own(text))  # escaped: finalize skips it
    return env


def render_html(report: Report) -> str:
    """One self-contained page: inline CSS and SVG, no script, no external resource."""
    env = _environment(True, neutralise_formula, markupsafe.escape)
    template = env.get_template("report.html.j2")
    svg = {chart.id: markupsafe.Markup(draw(chart)) for chart in report.charts}
    return template.render(report=report, svg=svg)


def render_markdown(report: Report) -> str:
    """Markdown for GitHub, Azure DevOps and Jira: headings and tables, no raw HTML."""
    env = _environment(False, md_escape, lambda text: md_escape(text, formula_guard=False))
    return env.get_template("report.md.j2").render(report=report)

