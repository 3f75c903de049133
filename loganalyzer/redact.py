"""``--redact``: replace personal data in a report with stable pseudonyms before it is shared.

Reports get attached to tickets. Every identifier of a user or group seen in the events (UPN,
mail, the userName and email sent, externalId, display names, Entra and Flowcase object ids)
is replaced wherever it appears in the report's text, as a whole word and ignoring case; any
other email address left in free text (a response body naming a manager) is replaced too.

One person gets one pseudonym for all their identifiers (``user-1a2b3c4d@redacted`` for
addresses, ``user-1a2b3c4d`` for names and ids), derived from the rulebook's person key, so the
same user reads the same across findings and across weekly reports. It is a hash, not
encryption: someone who already knows an address can check whether it is in the report.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import fields, is_dataclass, replace
from typing import Any

import polars as pl

from diagnostics.rulekit import Context
from loganalyzer.normalize import Frames
from loganalyzer.report import Report

PERSONAL_COLUMNS = (
    "person",
    "upn",
    "mail",
    "user_name_sent",
    "email_sent",
    "external_id",
    "identity_key",
    "source_display_name",
    "target_display_name",
    "source_id",
    "target_id",
)
_EMAIL = re.compile(r"[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+")


def _digest(text: str) -> str:
    return hashlib.sha256(text.lower().encode("utf-8")).hexdigest()[:8]


def _pseudonym(kind: str, key: str, value: str) -> str:
    suffix = "@redacted" if "@" in value else ""
    return f"{kind}-{_digest(key)}{suffix}"


def pseudonyms(frames: Frames) -> dict[str, str]:
    """Lower-cased identifier -> pseudonym, for every user and group in the events."""
    people = (
        Context(frames).events.select(
            pl.when(pl.col("object_type") == "Group")
            .then(pl.lit("group"))
            .otherwise(pl.lit("user"))
            .alias("kind"),
            *PERSONAL_COLUMNS,
        )
        .unique()
        .unpivot(index=["kind", "person"], on=list(PERSONAL_COLUMNS[1:]))
        .select("kind", "person", pl.col("value").str.strip_chars())
        .drop_nulls()
        .filter(
            (pl.col("value").str.len_chars() >= 3)
            & ~pl.col("value").str.contains(r"^\d{1,5}$")  # a short number is not a person
        )
    )
    mapping: dict[str, str] = {}
    for kind, person, value in people.iter_rows():
        mapping.setdefault(value.lower(), _pseudonym(kind, person, value))
        mapping.setdefault(person.lower(), _pseudonym(kind, person, person))
    return mapping


class _Replacer:
    """Whole-word, case-insensitive replacement of many identifiers in many strings at once."""

    def __init__(self, mapping: dict[str, str]) -> None:
        self.mapping = mapping
        self.patterns = sorted(mapping, key=len, reverse=True)

    def __call__(self, texts: list[str]) -> list[str]:
        if not texts:
            return texts
        if self.patterns:
            # find candidates in lower-cased text (Unicode-aware: 'Østergaard'), then replace
            # them in the original with a case-insensitive whole-word pattern
            found = pl.Series([t.lower() for t in texts], dtype=pl.Utf8).str.extract_many(
                self.patterns
            )
            texts = [
                self._replace_known(text, hits) if hits else text
                for text, hits in zip(texts, found.to_list(), strict=True)
            ]
        return [_EMAIL.sub(lambda m: f"email-{_digest(m.group(0))}@redacted", t) for t in texts]

    def _replace_known(self, text: str, hits: list[str]) -> str:
        words = sorted({h.lower() for h in hits}, key=len, reverse=True)
        pattern = re.compile(
            r"(?<!\w)(" + "|".join(re.escape(w) for w in words) + r")(?!\w)", re.IGNORECASE
        )
        return pattern.sub(lambda m: self.mapping.get(m.group(0).lower(), m.group(0)), text)


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif is_dataclass(value):
        for f in fields(value):
            _strings(getattr(value, f.name), out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


def _rebuilt(value: Any, replaced: Any) -> Any:
    if isinstance(value, str):
        return next(replaced)
    if is_dataclass(value):
        return replace(
            value,
            **{f.name: _rebuilt(getattr(value, f.name), replaced) for f in fields(value)},
        )
    if isinstance(value, list):
        return [_rebuilt(item, replaced) for item in value]
    return value


def redact_report(report: Report, frames: Frames) -> Report:
    """The same report with every personal identifier replaced by its pseudonym."""
    texts: list[str] = []
    _strings(report, texts)
    replaced = iter(_Replacer(pseudonyms(frames))(texts))
    return replace(_rebuilt(report, replaced), redacted=True)
