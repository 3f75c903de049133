"""Text from a log, made safe to show: control characters visible, values short and on one line.

Log texts are written by whoever controls a SCIM endpoint or a user's attributes. An
``ESC ]0;…`` sequence sets the window title of whoever runs ``diagnose``, ``ESC [2J`` clears
their screen and U+202E reverses what they read, so every character that can steer a terminal
or hide text is shown as an escape (``\\x1b``, ``\\u202e``) in every output. One place decides
which characters those are; renderers call ``visible`` (documents) or ``one_line`` (messages).
"""

from __future__ import annotations

import re

# C0 and C1 controls, DEL, bidi overrides/isolates and marks, line/paragraph separators, and
# lone surrogates (bytes that were not UTF-8, kept by the readers as surrogate escapes).
_UNSAFE = (
    "\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
    "\ud800-\udfff"
)
_IN_DOCUMENT = re.compile(f"[{_UNSAFE}]")  # tab and newline are layout
_IN_LINE = re.compile(f"[\t\n{_UNSAFE}]")
_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                      "\ud800-\udfff]")
_NAMED = {"\t": "\\t", "\n": "\\n", "\r": "\\r"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: str) -> str:
    """A document (terminal, Markdown, HTML) with every control character from data shown
    as an escape; tabs and line breaks, which the renderers write themselves, are kept."""
    return _IN_DOCUMENT.sub(_escape, text)


def one_line(text: str) -> str:
    """A message on exactly one line: line breaks and tabs escaped as well."""
    return _IN_LINE.sub(_escape, text)


def shown(value: object, limit: int = 80) -> str:
    """A value quoted inside a message: one line, cut to ``limit`` characters (saying how long
    it was), so a 5 MB date or a multi-line name cannot flood or forge the error line."""
    text = one_line(str(value))
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


def json_text(text: str) -> str:
    """A JSON document with the characters JSON leaves raw (DEL, C1, bidi controls, lone
    surrogates) written as ``\\uXXXX`` escapes: the same JSON value, inert in a terminal."""
    return _IN_JSON.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


CUT = "…"  # what ends a text cut to its limit (``--redact`` looks for it)


def clipped(text: str, limit: int) -> str:
    """A reason as a report shows it: whitespace runs collapsed, cut to ``limit``
    characters with ``CUT``."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + CUT
