"""The period a report covers (``--since 7d``, ``--from``/``--to``) and the one before it.

For an export, ``--since`` counts back from the newest event in the input, not from the clock,
so an export analysed a week later still gives the same report. For a live fetch (``--graph``)
it counts back from now, so a job that stopped provisioning shows an empty last week.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import polars as pl

from loganalyzer.normalize import Frames, Table
from loganalyzer.problems import InputError

DEFAULT_SINCE = "7d"  # the length of a period given by its end alone (and of a fetch)
_SINCE = re.compile(r"^\s*(\d+)\s*([hdw])\s*$", re.IGNORECASE)
_UNITS = {"h": "hours", "d": "days", "w": "weeks"}
Window = tuple[datetime, datetime]  # a stretch of time the input covers, start and end


@dataclass(frozen=True)
class Period:
    """A half-open interval [start, end) of activity time, UTC."""

    start: datetime
    end: datetime

    def previous(self) -> Period:
        """The period of the same length that ends where this one starts."""
        return Period(self.start - (self.end - self.start), self.start)

    @property
    def length(self) -> timedelta:
        return self.end - self.start


def parse_since(text: str) -> timedelta:
    """'7d', '36h', '2w' -> a duration; InputError naming the option otherwise."""
    match = _SINCE.match(text)
    if not match:
        raise InputError("--since", f"expected a length such as 7d, 36h or 2w, got {text!r}")
    if int(match.group(1)) == 0:
        raise InputError("--since", f"must be longer than 0 (such as 7d, 36h or 2w), got {text!r}")
    return timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))})


def parse_bound(option: str, text: str, end_of_day: bool) -> datetime:
    """An ISO date or date-time (UTC unless it has an offset); a bare --to date includes its day."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text.strip()):
            day = date.fromisoformat(text.strip())
            moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
            return moment + timedelta(days=1) if end_of_day else moment
        # RFC 3339 allows a lower-case z, as the events are read (``timeparse``)
        moment = datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", text.strip()))
    except ValueError:
        raise InputError(
            option, f"expected a date (2026-03-01) or date-time (2026-03-01T08:00Z), got {text!r}"
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def stale_note(period: Period | None, since: str | None, now: datetime) -> str | None:
    """``--since`` on files counts back from the input's newest event. When that event is
    older than the period asked for, the run did not look at the last days: a scheduled job
    whose export was not refreshed would report an old week again without a word."""
    if period is None or not since:
        return None
    age = now - period.end
    if age <= period.length:
        return None
    days = age // timedelta(days=1)
    return (f"--since {since} counts back from the newest event of the input "
            f"({period.end:%Y-%m-%d %H:%M} UTC, {days:,} days ago), so this is not the last "
            f"{since} before now: check that newer logs were exported")


def check_options(since: str | None, start: str | None, end: str | None) -> None:
    """The errors of --since/--from/--to on their own, found before any log is read (a large
    export takes long to read); ``choose_period`` then adds those that need the events."""
    if since and (start or end):
        raise InputError("--since", "use either --since or --from/--to, not both")
    if since:
        parse_since(since)
    first = parse_bound("--from", start, end_of_day=False) if start else None
    last = parse_bound("--to", end, end_of_day=True) if end else None
    if first and last and last <= first:
        raise InputError("--to", f"must be after --from ({first:%Y-%m-%d %H:%M} UTC)")


def choose_period(
    events: Table,
    since: str | None = None,
    start: str | None = None,
    end: str | None = None,
    fetched: list[Window] | None = None,
) -> Period | None:
    """The period the options ask for, or None for 'everything in the input'.

    ``--since`` ends at the newest event (a live fetch counts back from the clock instead:
    ``resolve_window``), so an export analysed a week later gives the same period; on a folder
    ``fetch`` wrote, at the end of the last window it fetched (``fetched``: the windows, in
    order, ``merged``) when that is later: a quiet week fetched is quiet, not the week before
    reported again; a bare ``--from`` ends there too, and --from/--to inside a window fetched
    are a quiet period, not one that misses the input. A
    bare ``--to`` is the end of ``DEFAULT_SINCE``, as for ``--graph`` (``resolve_window``), so
    the same options select the same period from an export and from Graph.
    A period that misses what the input covers (``covered``) is ``InputError`` naming it: an
    export holds only what it was exported for, and a fetch what Graph was asked for, so it
    cannot say such a period was quiet (a mistyped date, the wrong file, or the days between
    two fetches). One that overlaps it but holds no event is a quiet stretch, analysed as one.
    """
    check_options(since, start, end)
    if not (since or start or end):
        return None
    oldest, newest = time_range(events)
    if newest is None:
        raise InputError("the input", "holds no provisioning events to choose a period from")
    fetched = fetched or []
    finish = max(_just_after(newest), fetched[-1][1]) if fetched else _just_after(newest)
    if since:
        return Period(finish - parse_since(since), finish)
    last = parse_bound("--to", end, end_of_day=True) if end else finish
    if start:
        first = parse_bound("--from", start, end_of_day=False)
    else:  # a bare --to ends a period of the default length, as a fetch's does
        first = last - parse_since(DEFAULT_SINCE) if end else oldest
    stretches = covered(events, fetched)
    if not any(begins < last and first <= ends for begins, ends in stretches):
        option = "/".join(name for name, given in (("--from", start), ("--to", end)) if given)
        asked = f"from {_minute(first)}" if option == "--from" else (
            f"{_minute(first)} to {_minute(last)}")
        raise InputError(option, f"no event of the input is in the period asked for ({asked} UTC): "
                         f"{_spans(stretches)}")
    return Period(first, last)


# Windows less apart than this meet: scheduled `fetch --since 7d` runs start seconds apart,
# and such a gap may lose a few events, never a whole cycle (Entra runs one every 40 minutes)
MEETING = timedelta(minutes=5)


def merged(windows: Iterable[Window]) -> list[Window]:
    """The windows in order, those that overlap or meet (``MEETING``) joined: two fetches
    that meet leave no day unasked, two that do not leave the days between them unknown."""
    joined: list[Window] = []
    for start, end in sorted(windows):
        if joined and start - joined[-1][1] < MEETING:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return joined


def covered(events: Table, fetched: list[Window]) -> list[Window]:
    """What the input covers: the windows Graph was asked for, and the span of the events
    outside them (an export read beside a fetch covers the span of its events, as an export
    alone does); the events alone say nothing of the days between two windows."""
    at = pl.col("activity_time")
    inside = [(at >= start) & (at < end) for start, end in fetched]
    outside = events.lazy().filter(~pl.any_horizontal(inside)) if inside else events
    oldest, newest = time_range(outside)
    return merged(fetched + ([(oldest, newest)] if newest else []))


def unfetched(period: Period, stretches: list[Window]) -> list[Period]:
    """The parts of the period between two stretches the input covers (``covered``): never
    fetched, so missing, not quiet. (Before the first stretch the span of an export is all
    there is to go by, as ever.)"""
    return [Period(max(ends, period.start), min(begins, period.end))
            for (_, ends), (begins, _) in pairwise(stretches)
            if ends < period.end and begins > period.start]


def unfetched_text(gaps: list[Period]) -> str:
    """'nothing was fetched from A to B UTC' for the gaps of ``unfetched``."""
    return "nothing was fetched " + " and ".join(
        f"from {_minute(gap.start)} to {_minute(gap.end)}" for gap in gaps) + " UTC"


def _span(oldest: datetime | None, newest: datetime | None) -> str:
    if newest is None:
        return "the input has no events"
    return f"the input's events run from {_minute(oldest)} to {_minute(newest)} UTC"


def _spans(stretches: list[Window]) -> str:
    """What the input covers, for a period that misses it: the stretches fetched when there
    are several, so the reader sees the days between were never asked of Graph."""
    if len(stretches) == 1:
        return _span(*stretches[0])
    runs = " and ".join(f"{_minute(start)} to {_minute(end)}" for start, end in stretches)
    return f"the input covers {runs} UTC, and nothing was fetched between them"


def period_note(period: Period, events: Table, fetched: list[Window], empty: bool,
                graph: bool = False) -> str | None:
    """What to say of a period beside its findings: the days of it never fetched, which are
    missing, not quiet; else, when it holds no event (``empty``), that it is a quiet one
    (``quiet_note``)."""
    if gaps := unfetched(period, covered(events, fetched)):
        return (f"{unfetched_text(gaps)}, in the period asked for ({_minute(period.start)} to "
                f"{_minute(period.end)} UTC): those days are missing from the input, Graph was "
                "never asked for them")
    return quiet_note(period, events, graph or bool(fetched)) if empty else None


def quiet_note(period: Period, events: Table, graph: bool = False) -> str:
    """For a period of the input that holds no event: the span of the input beside it, so the
    reader sees the quiet stretch lies inside what was exported. ``graph``: the events are a
    live fetch's (with --compare-previous, the period before's), worded as such."""
    quiet = f"no provisioning events from {_minute(period.start)} to {_minute(period.end)} UTC"
    if not graph:
        return f"{quiet}, a quiet stretch of the input: {_span(*time_range(events))}"
    oldest, newest = time_range(events)
    return (f"{quiet}, a quiet period: the events Microsoft Graph returned for the window "
            f"fetched run from {_minute(oldest)} to {_minute(newest)} UTC")


def _minute(moment: datetime | None) -> str:
    return f"{moment:%Y-%m-%d %H:%M}" if moment else "?"


def _just_after(newest: datetime) -> datetime:
    """The end of a period the newest event belongs to: the next whole second (Graph logs
    whole seconds), so the bounds a report writes have no microseconds."""
    return newest.replace(microsecond=0) + timedelta(seconds=1)


def select(frames: Frames, period: Period) -> Frames:
    """The events in the period, with their steps and modified properties."""
    return frames.where(
        (pl.col("activity_time") >= period.start) & (pl.col("activity_time") < period.end)
    )


def time_range(events: Table) -> tuple[datetime | None, datetime | None]:
    """The oldest and newest event time (None, None without events)."""
    times = pl.col("activity_time")
    return events.lazy().select(times.min(), times.max().alias("newest")).collect().row(0)
