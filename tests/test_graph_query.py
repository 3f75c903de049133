"""The `$filter` we send: Graph's documented operators, quoting, windows and one user's clause."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from loganalyzer.graph.fetch import fetch_to_folder
from loganalyzer.graph.query import (
    QueryError,
    Selection,
    TimeWindow,
    build_filter,
    refuse_unkept,
    resolve_window,
    user_filter,
)
from tests.fake_graph import FLOWCASE, FakeGraph, compile_filter
from tests.graph_support import TOKEN, events, options, page_ids

# the fake Graph serves March 2026 (conftest.graph_in_march)
pytestmark = pytest.mark.usefixtures("graph_in_march")

NOW = datetime(2026, 3, 24, 12, 30, 5, tzinfo=UTC)


def test_filter_joins_window_and_selection_with_graph_operators():
    window = TimeWindow(datetime(2026, 3, 17, tzinfo=UTC), datetime(2026, 3, 24, tzinfo=UTC))
    selection = Selection(app="O'Neill & Co", service_principal_id=FLOWCASE.service_principal_id,
                          job_id=FLOWCASE.job_id, status="failure")
    assert build_filter(window, selection) == (
        "activityDateTime gt 2026-03-16T23:59:59Z and activityDateTime lt 2026-03-24T00:00:00Z"
        " and servicePrincipal/displayName eq 'O''Neill & Co'"
        f" and servicePrincipal/id eq '{FLOWCASE.service_principal_id}'"
        f" and jobId eq '{FLOWCASE.job_id}'"
        " and provisioningStatusInfo/status eq 'failure'"
    )


def test_every_filter_we_build_is_one_graph_documents():
    window = resolve_window("7d", None, None, NOW)
    for selection in (Selection(), Selection(app="Flowcase SCIM", status="skipped"),
                      Selection(extra=user_filter("Henrik Lie")),
                      Selection(extra=user_filter(FLOWCASE.service_principal_id))):
        compile_filter(build_filter(window, selection))  # raises where Graph would say 400


def test_unknown_status_is_refused():
    with pytest.raises(QueryError, match="--status"):
        build_filter(None, Selection(status="failed"))


def test_windows():
    since = resolve_window("36h", None, None, NOW)
    assert (since.start, since.end) == (datetime(2026, 3, 23, 0, 30, 5, tzinfo=UTC), NOW)
    days = resolve_window(None, "2026-03-17", "2026-03-23", NOW)
    assert days.to_json() == ["2026-03-17T00:00:00Z", "2026-03-24T00:00:00Z"]
    open_end = resolve_window(None, "2026-03-20T08:00:00+02:00", None, NOW)
    assert open_end.to_json() == ["2026-03-20T06:00:00Z", "2026-03-24T12:30:05Z"]
    with pytest.raises(QueryError, match="not both"):
        resolve_window("7d", "2026-03-17", None, NOW)
    with pytest.raises(QueryError, match="--to"):
        resolve_window(None, "2026-03-24", "2026-03-20", NOW)


def test_a_window_is_refused_only_when_graph_keeps_none_of_it():
    """Graph keeps 30 days: on 24 March 12:30:05 its oldest event is of 22 February 12:30:05."""
    kept_from = NOW - timedelta(days=30)
    refuse_unkept(TimeWindow(kept_from - timedelta(days=7), kept_from + timedelta(seconds=1)),
                  NOW, "--to")  # its last second is kept: analysed, with a note
    with pytest.raises(QueryError, match=r"^--to: the window 2026-02-15 12:30 to 2026-02-22 "
                       r"12:30 UTC ended more than 30 days ago"):
        refuse_unkept(TimeWindow(kept_from - timedelta(days=7), kept_from), NOW, "--to")


def test_a_fetch_of_days_graph_no_longer_keeps_asks_graph_nothing(tmp_path):
    with FakeGraph(events(), token=TOKEN) as graph:
        with pytest.raises(QueryError, match="^--from/--to: the window 2026-01-01 00:00 to "):
            fetch_to_folder(options(graph, date_from="2026-01-01", date_to="2026-01-31"),
                            tmp_path)
        assert not graph.served


def test_user_filter_by_object_id_name_or_nothing_for_upns():
    object_id = "E7412E37-48DC-4900-B4AB-D3B2D9CE8FE1"
    assert user_filter(object_id) == f"sourceIdentity/id eq '{object_id.lower()}'"
    assert user_filter("Henrik Lie") == "contains(sourceIdentity/displayName, 'Henrik Lie')"
    assert user_filter("henrik.lie@northwind.no") is None


def test_user_filter_narrows_the_download_case_sensitively(tmp_path):
    served = events()
    person = served[0]["sourceIdentity"]
    with FakeGraph(served, token=TOKEN) as graph:
        by_id = options(graph, selection=Selection(extra=user_filter(person["id"])))
        fetch_to_folder(by_id, tmp_path / "id")
        by_name = options(graph, selection=Selection(extra=user_filter(person["displayName"])))
        fetch_to_folder(by_name, tmp_path / "name")
        lower = options(graph, selection=Selection(extra=user_filter(
            person["displayName"].lower())))
        lowered = fetch_to_folder(lower, tmp_path / "lower")
    mine = {e["id"] for e in served if e["sourceIdentity"]["id"] == person["id"]}
    assert set(page_ids(tmp_path / "id")) == mine
    assert mine <= set(page_ids(tmp_path / "name"))
    assert len(page_ids(tmp_path / "name")) < len(served)
    assert lowered.events == 0  # Graph compares case-sensitively: callers must fall back
