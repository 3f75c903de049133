"""Report periods: --since from the newest event for exports, from now for a live fetch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from conftest import SAMPLES

from loganalyzer.ingest import load
from loganalyzer.periods import choose_period
from loganalyzer.problems import InputError


@pytest.fixture(scope="module")
def events():
    return load([SAMPLES / "weekly-two-periods.json"]).frames.events


def test_since_counts_back_from_the_newest_event_of_an_export(events):
    period = choose_period(events, since="7d")
    newest = events["activity_time"].max()
    assert period.end == newest + timedelta(microseconds=1)
    assert period.length == timedelta(days=7)
    assert period.previous().end == period.start


def test_since_counts_back_from_now_for_a_live_fetch(events):
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    period = choose_period(events, since="7d", now=now)
    assert (period.start, period.end) == (now - timedelta(days=7), now)
    # the sample's events are from March: a live week with nothing in it stays empty
    in_period = events.filter(
        (events["activity_time"] >= period.start) & (events["activity_time"] < period.end)
    )
    assert in_period.height == 0


def test_since_and_from_together_are_refused(events):
    with pytest.raises(InputError, match="either --since or --from/--to"):
        choose_period(events, since="7d", start="2026-03-01")
