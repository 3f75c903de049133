"""Report periods: --since from the newest event for exports, from now for a live fetch."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from conftest import SAMPLES
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.ingest import load
from loganalyzer.periods import choose_period
from loganalyzer.problems import InputError


@pytest.fixture(scope="module")
def events():
    return load([SAMPLES / "weekly-two-periods.json"]).frames.events


def test_since_counts_back_from_the_newest_event_of_an_export(events):
    period = choose_period(events, since="7d")
    newest = events["activity_time"].max()
    assert period.end == newest + timedelta(seconds=1)  # the next whole second: it is in
    assert period.length == timedelta(days=7)
    assert period.previous().end == period.start


def test_since_and_from_together_are_refused(events):
    with pytest.raises(InputError, match="either --since or --from/--to"):
        choose_period(events, since="7d", start="2026-03-01")


BAD_OPTIONS = [
    (["--since", "7x"], "--since: expected a length such as 7d, 36h or 2w, got '7x'"),
    (["--since", "0d"], "--since: must be longer than 0 (such as 7d, 36h or 2w), got '0d'"),
    (["--since", "-3d"], "--since: expected a length such as 7d, 36h or 2w, got '-3d'"),
    (["--from", "01/03/2026"], "--from: expected a date (2026-03-01) or date-time"),
    (["--from", "2026-03-05", "--to", "2026-03-01"],
     "--to: must be after --from (2026-03-05 00:00 UTC)"),
    (["--since", "7d", "--from", "2026-03-01"],
     "--since: use either --since or --from/--to, not both"),
    (["--config", "nothere"], "nothere: does not exist; --config takes the folder"),
]


@pytest.mark.parametrize(
    ("command", "args", "message"),
    [(command, args, message)
     for command in (["diagnose"], ["report"], ["summary"], ["why", "anna.berg@northwind.no"])
     for args, message in BAD_OPTIONS if command != ["summary"] or args[0] != "--config"],
)
def test_bad_period_and_config_options_are_refused_before_any_log_is_read(
        tmp_path, command, args, message):
    """The input does not exist: reading it first would report that instead."""
    result = CliRunner().invoke(app, [*command, str(tmp_path / "missing.json"), *args, "-q"])
    assert result.exit_code == 2
    assert result.stderr.startswith(f"error: {message}"), result.stderr


@pytest.mark.parametrize("options", [["--since", "2d"], ["--from", "2026-03-23T10:00:00Z"]])
def test_a_report_period_counted_from_the_newest_event_is_in_whole_seconds(tmp_path, options):
    out = tmp_path / "findings.json"
    result = CliRunner().invoke(app, ["report", str(SAMPLES / "failing-initial.json"), *options,
                                      "-o", str(out), "-q"])
    assert result.exit_code == 0, result.output
    period = json.loads(out.read_text())["period"]
    # the newest event is at 08:06:10: the period ends with the second it is in
    assert period["end"] == "2026-03-24T08:06:11+00:00"
    assert "." not in period["start"]


# ------------------------------------------------ a period without events: files and Graph agree

WEEKLY = SAMPLES / "weekly-two-periods.json"
SPAN = "the input's events run from 2026-02-23 01:18 to 2026-03-08 22:09 UTC"


@pytest.mark.parametrize(
    "command",
    [["diagnose"], ["report", "--format", "md"], ["why", "anna.berg@northwind.no"], ["summary"]],
)
@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["--from", "2025-03-02", "--to", "2025-03-08"],
         "--from/--to: no event of the input is in the period asked for (2025-03-02 00:00 to "
         "2025-03-09 00:00 UTC)"),
        (["--from", "2027-01-01"],
         "--from: no event of the input is in the period asked for (from 2027-01-01 00:00 UTC)"),
        (["--to", "2026-02-22"],  # the 7 days before it, as with --graph
         "--to: no event of the input is in the period asked for (2026-02-16 00:00 to "
         "2026-02-23 00:00 UTC)"),
    ],
    ids=["a year off", "after the newest", "before the oldest"],
)
def test_a_period_the_input_does_not_reach_exits_2_with_the_input_s_span(command, args, said):
    """A mistyped period: an export cannot say that period was quiet, only what it holds."""
    result = CliRunner().invoke(app, [*command, str(WEEKLY), *args, "-q"])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr == f"error: {said}: {SPAN}\n"


@pytest.mark.parametrize("command", ["diagnose", "report"])
def test_a_quiet_stretch_inside_the_input_is_reported_as_quiet_not_refused(tmp_path, command):
    """Two days without events inside the export: a scheduled run over them reports a quiet
    period (exit 0 even with --fail-on info), as --graph does, and names the input's span."""
    records = json.loads(WEEKLY.read_text())
    gap = tmp_path / "gap.json"
    gap.write_text(json.dumps([r for r in records
                               if not r["activityDateTime"].startswith(("2026-03-05",
                                                                         "2026-03-06"))]))
    result = CliRunner().invoke(app, [command, str(gap), "--from", "2026-03-05", "--to",
                                      "2026-03-06", "--format", "json", "--fail-on", "info",
                                      "-q"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["summary"]["events"] == 0 and answer["verdict"]["state"] == "healthy"
    assert answer["notes"][0] == ("no provisioning events from 2026-03-05 00:00 to 2026-03-07 "
                                  f"00:00 UTC, a quiet stretch of the input: {SPAN}")


def test_a_quiet_period_reads_no_events_not_an_unknown_span():
    """The terminal's headline of a quiet period: "No events.", the bounds in the note."""
    result = CliRunner().invoke(app, ["diagnose", str(WEEKLY), "--from", "2026-02-23T18:00",
                                      "--to", "2026-02-23T23:00", "-q"])
    assert result.exit_code == 0, result.output
    assert "\nNo events.\n" in result.stdout and "?" not in result.stdout
    assert "no provisioning events from 2026-02-23 18:00 to 2026-02-23 23:00 UTC" in " ".join(
        result.stdout.split())


def test_a_time_copied_from_an_event_with_a_lower_case_z_bounds_the_period(events):
    """An event's time as RFC 3339 allows it ('...05z'), read as UTC in the events, is read so
    in --from and --to too."""
    period = choose_period(events, start="2026-03-01T08:00:05z", end="2026-03-05T08:00:00z")
    assert period.start.isoformat() == "2026-03-01T08:00:05+00:00"
    assert period.end.isoformat() == "2026-03-05T08:00:00+00:00"


def test_fetches_minutes_apart_meet_and_a_longer_gap_is_named(events):
    """Two scheduled `fetch --since 7d` runs into two folders start a few seconds apart, so
    Graph was not asked for the seconds between their windows: that gap, shorter than any
    provisioning cycle, said 'nothing was fetched from 2026-03-17 03:00 to 2026-03-17 03:00
    UTC' and called no finding new. Windows under ``MEETING`` apart meet; a longer gap is
    named."""
    from datetime import UTC, datetime

    from loganalyzer.periods import MEETING, Period, merged, period_note

    def at(text: str) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=UTC)

    first = (at("2026-03-10T03:00:04"), at("2026-03-17T03:00:04"))
    seconds_later = (at("2026-03-17T03:00:07"), at("2026-03-24T03:00:07"))
    period = Period(at("2026-03-15T00:00"), at("2026-03-20T00:00"))
    assert merged([seconds_later, first]) == [(first[0], seconds_later[1])]
    assert period_note(period, events.clear(), [first, seconds_later], empty=False) is None
    later = (first[1] + MEETING + timedelta(minutes=1), at("2026-03-24T03:00:00"))
    note = period_note(period, events.clear(), [first, later], empty=False)
    assert note.startswith("nothing was fetched from 2026-03-17 03:00 to 2026-03-17 03:06 UTC, "
                           "in the period asked for (2026-03-15 00:00 to 2026-03-20 00:00 "
                           "UTC)"), note
