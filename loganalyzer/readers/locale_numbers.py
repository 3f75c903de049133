"""Whole numbers a spreadsheet re-saved with its locale's thousands separator.

A CSV opened and saved by Excel writes a duration of 1458 ms as ``1,458`` (English),
``1.458`` (German, Norwegian) or ``1 458`` (French, Swedish: a space or a no-break space).
Durations are whole milliseconds, so ``1.458`` is never a fraction: every form is 1458.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

_SEPARATORS = (",", ".", "[ \u00a0\u202f]")
# one separator throughout, every group of three digits (Polars' regex has no backreference)
_GROUPED = [rf"^\d{{1,3}}(?:{sep}\d{{3}})+$" for sep in _SEPARATORS]


def ungrouped(value: Any) -> Any:
    """``1,234``, ``1.234`` or ``1 234`` is ``"1234"``; anything else is returned as it is."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    grouped = any(re.match(pattern, text) for pattern in _GROUPED)
    return re.sub(r"\D", "", text) if grouped else value


def ungrouped_expr(text: pl.Expr) -> pl.Expr:
    """``ungrouped`` over a text column."""
    stripped = text.str.strip_chars()
    grouped = pl.any_horizontal(stripped.str.contains(pattern) for pattern in _GROUPED)
    return pl.when(grouped).then(stripped.str.replace_all(r"\D", "")).otherwise(text)
