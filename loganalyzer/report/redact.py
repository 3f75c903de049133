"""``--redact``: replace personal data in a report with stable pseudonyms before it is shared.

Reports get attached to tickets. Every identifier of a user or group seen in the events (UPN,
mail, the userName and email sent, externalId, display names, Entra and Flowcase object ids)
is replaced wherever it appears in the report's text, as a whole word and ignoring case; any
other email address left in free text (a response body naming a manager) is replaced too.

One person gets one pseudonym for all their identifiers (``user-1a2b3c4d@redacted`` for
addresses, ``user-1a2b3c4d`` for names and ids), derived from their Entra object id, so the
same user reads the same across findings and across weekly reports. It is a hash, not
encryption: someone who already knows an address can check whether it is in the report.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import fields, is_dataclass, replace
from typing import Any

import polars as pl

from loganalyzer.report.model import Report

PERSONAL_COLUMNS = (
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


def pseudonyms(events: pl.DataFrame | pl.LazyFrame) -> dict[str, str]:
    """Lower-cased identifier -> pseudonym, for every user and group in the events.

    The key of a person is their Entra object id (else their identity key), so the UPN, mail,
    display name and ids of one object share one pseudonym.
    """
    people = (
        events.lazy()
        .select(
            pl.when(pl.col("object_type") == "Group")
            .then(pl.lit("group"))
            .otherwise(pl.lit("user"))
            .alias("kind"),
            pl.coalesce("source_id", "identity_key", pl.col("target_id").str.to_lowercase())
            .str.to_lowercase()
            .alias("key"),
            *PERSONAL_COLUMNS,
        )
        .drop_nulls("key")
        .unique()
        .unpivot(index=["kind", "key"], on=list(PERSONAL_COLUMNS))
        .select("kind", "key", pl.col("value").str.strip_chars())
        .drop_nulls()
        .filter(
            (pl.col("value").str.len_chars() >= 3)
            & ~pl.col("value").str.contains(r"^\d{1,5}$")  # a short number is not a person
        )
        .unique(["value"], keep="first", maintain_order=True)
        .collect()
    )
    mapping: dict[str, str] = {}
    for kind, key, value in people.iter_rows():
        mapping.setdefault(value.lower(), _pseudonym(kind, key, value))
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


def redact_report(report: Report, events: pl.DataFrame | pl.LazyFrame) -> Report:
    """The same report with every personal identifier replaced by its pseudonym."""
    mapping = pseudonyms(events)
    for finding in report.findings + report.notices:
        for row in finding.affected:  # ids a rule derived, e.g. from a step's details
            kind = "group" if row.type == "Group" else "user"
            mapping.setdefault(row.id.lower(), _pseudonym(kind, row.id, row.id))
    texts: list[str] = []
    _strings(report, texts)
    replaced = iter(_Replacer(mapping)(texts))
    return replace(_rebuilt(report, replaced), redacted=True)
