"""A step's ``Details`` cell in a portal CSV: JSON, or ``key=value`` text.

The portal shows details as (indented) JSON; other tools and hand-made exports write
``key=value`` pairs, one per line or separated by ``;`` or ``,``. Both are read into the
``details`` bag of a Graph step; a value holding the separator (``Doe, John``) survives.
"""

from __future__ import annotations

import json
import re
from typing import Any

_PAIR_SEPARATOR = re.compile(r"\s*(?:=|:\s)\s*")
# a comma before a closing bracket, outside strings (strings are matched first and kept)
_TRAILING_COMMA = re.compile(r'("(?:\\.|[^"\\])*")|,(\s*[}\]])')


def parse_details(text: str | None) -> dict[str, Any] | list[Any] | None:
    """The details bag (a JSON object, a JSON key/value list, or pairs); None if unreadable.

    Pairs are split on new lines, else on ``;``, else on ``,``; a piece without ``=`` (or
    ``: ``) continues the previous value.
    """
    if not text or not text.strip():
        return {}
    text = text.strip()
    if text[0] in "{[":
        return _json_bag(text)
    separator = next((s for s in ("\n", ";", ",") if s in text), None)
    pieces = text.splitlines() if separator == "\n" else text.split(separator or "\n")
    pairs: dict[str, str] = {}
    last: str | None = None
    for piece in pieces:
        parts = _PAIR_SEPARATOR.split(piece.strip(), maxsplit=1)
        if len(parts) == 2 and parts[0]:
            last = parts[0]
            pairs[last] = parts[1]
        elif last is not None:
            pairs[last] += (separator or "") + piece
        elif piece.strip():
            return None
    return pairs or None


def _json_bag(text: str) -> dict[str, Any] | list[Any] | None:
    """JSON details, also with a trailing comma (``{"a": "b",}``), as the column-wise
    reader's DuckDB reads them; None if unreadable (never split into ``key=value`` pieces:
    a JSON text cut there gives keys like ``{"SkipReason"``)."""
    for attempt in (text, _TRAILING_COMMA.sub(lambda m: m.group(1) or m.group(2), text)):
        try:
            parsed = json.loads(attempt)
        except (ValueError, RecursionError):  # malformed, or nested too deep to read
            continue
        return parsed if isinstance(parsed, dict | list) else None
    return None
