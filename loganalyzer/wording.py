"""Counting words in messages: one helper, so no message says "1 users were" or "(s)".

Every rule message, note, headline and verdict builds its counts here; times in sentences
are written by ``moment``, and event times, which need the second, by ``instant``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime


def plural(count: int, word: str, words: str | None = None) -> str:
    """'1 user', '2 users', '1,204 events'; ``words`` for irregular plurals ('1 entry',
    '2 entries')."""
    return f"{count:,} {word if count == 1 else (words or word + 's')}"


def verb(count: int, singular: str, plural_form: str) -> str:
    """The verb that agrees with ``count``: ``verb(1, 'was', 'were')`` is 'was'."""
    return singular if count == 1 else plural_form


def quote_list(values: Sequence[str], limit: int = 5) -> str:
    """'a, b, c and 4 more' for one-sentence messages; one more is named, not counted
    ('a, b, c, d', never 'a, b, c and 1 more': the name takes no more room)."""
    if len(values) <= limit + 1:
        return ", ".join(values)
    return f"{', '.join(values[:limit])} and {len(values) - limit} more"


def moment(when: datetime) -> str:
    """A time in a sentence, to the minute, in UTC: ``2026-03-25 20:00 UTC``."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def instant(when: datetime | None) -> str:
    """An event's time (UTC, as every frame holds it) to the second, without fractions, so
    events of one cycle are told apart: ``2026-03-24 07:38:46``; '?' when unknown. The caller
    writes ' UTC' once after the time or the range."""
    return when.strftime("%Y-%m-%d %H:%M:%S") if when else "?"
