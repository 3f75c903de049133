"""Log values as literal Markdown text: one escaper for every Markdown output.

Reports, ``diagnose --format md`` and ``why --format md`` all paste values from the logs
(display names, SCIM error bodies) into tables, headings and paragraphs, and those documents
end up in tickets and spreadsheets. Each value is flattened to one line, stripped of control
characters, has every Markdown-active character escaped, and gets a leading quote when it
starts like a spreadsheet formula (a table cell pasted into Excel would run it). The tool's own
notes follow a label ("Note:"), start with its own words, and so go without the quote.
"""

from __future__ import annotations

import re

_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>|~&$#])")
_LINE_BREAKS = re.compile(r"[\r\n\t\x0b\x0c\x85\u2028\u2029]+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FORMULA_START = ("=", "+", "-", "@")


def neutralise_formula(text: str) -> str:
    """A value starting like a formula (``=HYPERLINK(...)``) gets a leading quote (OWASP)."""
    return "'" + text if text.lstrip().startswith(_FORMULA_START) else text


def md_escape(value: object, formula_guard: bool = True) -> str:
    """Literal text on one line: safe in a Markdown table cell, heading or paragraph."""
    text = _CONTROL.sub("", _LINE_BREAKS.sub(" ", str(value)))
    return _MD_SPECIAL.sub(r"\\\1", neutralise_formula(text) if formula_guard else text)
