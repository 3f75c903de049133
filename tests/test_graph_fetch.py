"""`fetch` against the loopback Graph: paging, filters, retries, resume, incremental."""

from __future__ import annotations

import json
import socket
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from loganalyzer.graph.client import AuthOptions, GraphConnection, GraphError, GraphRequestError
from loganalyzer.graph.fetch import FetchOptions, fetch_to_folder
from loganalyzer.graph.query import QueryError, Selection, odata_time
from loganalyzer.graph.state import fetched_windows
from loganalyzer.ingest import ingest_to_store, load
from tests.fake_graph import OTHER_APP, FakeGraph, make_events
from tests.graph_support import FAST, START, TOKEN, events, options, page_ids, pages

# the fake Graph serves March 2026 (conftest.graph_in_march)
pytestmark = pytest.mark.usefixtures("graph_in_march")

LOGS = "/auditLogs/provisioning"


@pytest.fixture
def graph():
    with FakeGraph(events(), token=TOKEN) as fake:
        yield fake


def test_every_event_arrives_exactly_once_across_pages(graph, tmp_path):
    result = fetch_to_folder(options(graph), tmp_path / "out")
    ids = page_ids(tmp_path / "out")
    assert sorted(ids) == sorted(e["id"] for e in graph.events)
    assert len(ids) == len(set(ids))
    served = [s for s in graph.served if s.status == 200]
    assert result.pages == len(served) == -(-len(graph.events) // 40) > 2
    # each file is the page as Graph sent it: envelope, order, and the nextLink it followed
    files = pages(tmp_path / "out")
    assert [[e["id"] for e in p["value"]] for p in files] == [s.ids for s in served]
    assert all("@odata.context" in p for p in files)
    assert all(p["@odata.nextLink"].startswith(graph.url) for p in files[:-1])
    assert "@odata.nextLink" not in files[-1]


@pytest.mark.parametrize(
    ("selection", "keep"),
    [
        (Selection(app=OTHER_APP.name), lambda e: e["servicePrincipal"]["displayName"]
         == OTHER_APP.name),
        (Selection(service_principal_id=OTHER_APP.service_principal_id),
         lambda e: e["servicePrincipal"]["id"] == OTHER_APP.service_principal_id),
        (Selection(job_id=OTHER_APP.job_id), lambda e: e["jobId"] == OTHER_APP.job_id),
        (Selection(status="failure"), lambda e: e["provisioningStatusInfo"]["status"]
         == "failure"),
    ],
    ids=["app", "service-principal", "job", "status"],
)
def test_selection_is_filtered_server_side(graph, tmp_path, selection, keep):
    expected = {e["id"] for e in graph.events if keep(e)}
    assert 0 < len(expected) < len(graph.events)
    fetch_to_folder(options(graph, selection=selection), tmp_path)
    assert sorted(page_ids(tmp_path)) == sorted(expected)
    [first, *_] = graph.log_requests(LOGS)
    assert "$filter" in first.query  # the server did the filtering, not the client


def test_time_window_is_half_open_and_filtered_server_side(graph, tmp_path):
    opts = options(graph, date_from="2026-03-01T04:00:00Z", date_to="2026-03-01T06:00:00Z")
    fetch_to_folder(opts, tmp_path)
    expected = {e["id"] for e in graph.events
                if "2026-03-01T04:00:00Z" <= e["activityDateTime"] < "2026-03-01T06:00:00Z"}
    assert len(expected) == 24  # one event every 5 minutes, 04:00 included, 06:00 not
    assert set(page_ids(tmp_path)) == expected


def test_app_name_is_case_sensitive_and_says_so(graph, tmp_path):
    result = fetch_to_folder(options(graph, selection=Selection(app="flowcase")), tmp_path)
    assert result.events == 0
    assert any("case-sensitively" in note for note in result.notes)


def test_429_retry_after_is_honoured(graph, tmp_path):
    graph.fail(LOGS, 429, retry_after="1", skip=1)
    result = fetch_to_folder(options(graph), tmp_path)
    assert sorted(page_ids(tmp_path)) == sorted(e["id"] for e in graph.events)
    requests = graph.log_requests(LOGS)
    throttled = next(i for i, s in enumerate(requests) if s.status == 429)
    retry = requests[throttled + 1]
    assert retry.query == requests[throttled].query and retry.status == 200
    assert retry.retry_attempt == "1"
    assert retry.at - requests[throttled].at >= 0.95
    assert result.pages == len(pages(tmp_path))


@pytest.mark.parametrize(("since", "noted"), [("40d", True), ("30d", False)])
def test_a_window_older_than_graph_keeps_is_a_note_not_an_error(graph, tmp_path, since, noted):
    result = fetch_to_folder(options(graph, since=since, date_from=None, date_to=None), tmp_path)
    said = [n for n in result.notes if n.startswith("Graph keeps provisioning logs for 30 days")]
    assert len(said) == noted


def test_a_graph_never_reached_says_to_check_the_network_not_to_resume(tmp_path):
    with socket.socket() as closed:  # a port nobody listens on: the connection is refused
        closed.bind(("127.0.0.1", 0))
        root = f"http://127.0.0.1:{closed.getsockname()[1]}/v1.0"
    connection = GraphConnection(root, AuthOptions(access_token=TOKEN), FAST)
    with pytest.raises(GraphError) as failure:
        fetch_to_folder(FetchOptions(connection=connection), tmp_path)
    said = str(failure.value)
    assert failure.value.exit_code == 3
    assert "resume" not in said
    assert "Graph never answered: check the network (a proxy, a firewall) and --graph-url" in said


def test_503_is_retried_with_backoff(graph, tmp_path):
    graph.fail(LOGS, 503, skip=2)
    fetch_to_folder(options(graph), tmp_path)
    ids = page_ids(tmp_path)
    assert sorted(ids) == sorted(e["id"] for e in graph.events)
    assert [s.status for s in graph.log_requests(LOGS)].count(503) == 1


def test_dropped_connection_mid_body_is_retried(graph, tmp_path):
    graph.drop(LOGS, skip=1, times=2)
    fetch_to_folder(options(graph), tmp_path)
    ids = page_ids(tmp_path)
    assert sorted(ids) == sorted(e["id"] for e in graph.events)
    assert len(ids) == len(set(ids))
    assert not list(tmp_path.glob("*.part"))


def test_gives_up_after_bounded_tries_then_resumes(graph, tmp_path):
    graph.drop(LOGS, skip=2, times=3)  # FAST allows 3 tries
    with pytest.raises(GraphError) as failure:
        fetch_to_folder(options(graph), tmp_path)
    assert failure.value.exit_code == 3
    assert "re-run the same command to resume" in str(failure.value)
    assert len(pages(tmp_path)) == 2
    result = fetch_to_folder(options(graph), tmp_path)
    assert result.resumed and result.total_events == len(graph.events)
    ids = page_ids(tmp_path)
    assert sorted(ids) == sorted(e["id"] for e in graph.events)
    first_requests = [s for s in graph.log_requests(LOGS) if "$skiptoken" not in s.query]
    assert len(first_requests) == 1  # the resumed run went on from the saved nextLink


def test_resume_after_interruption_has_no_duplicates(graph, tmp_path):
    seen = []

    def interrupt_after_two_pages(line: str, *_: float | None) -> None:
        seen.append(line)
        if len(seen) == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_to_folder(options(graph), tmp_path, interrupt_after_two_pages)
    assert len(pages(tmp_path)) == 2
    requests_before = len(graph.log_requests(LOGS))
    result = fetch_to_folder(options(graph), tmp_path)
    assert result.resumed
    ids = page_ids(tmp_path)
    assert len(ids) == len(set(ids)) == len(graph.events)
    assert len(graph.log_requests(LOGS)) - requests_before == result.pages


def test_finished_download_is_not_fetched_again(graph, tmp_path):
    fetch_to_folder(options(graph), tmp_path)
    served = len(graph.served)
    again = fetch_to_folder(options(graph), tmp_path)
    assert again.already_complete and again.total_events == len(graph.events)
    assert len(graph.served) == served


def test_folder_of_another_request_is_refused(graph, tmp_path):
    failures = fetch_to_folder(options(graph, selection=Selection(status="failure")), tmp_path)
    with pytest.raises(QueryError, match="another request.*its pages are kept"):
        fetch_to_folder(options(graph), tmp_path)
    fresh = fetch_to_folder(options(graph, restart=True), tmp_path)
    assert fresh.events == len(graph.events)
    # the finished download's pages stay; the readers count an event fetched twice once
    assert len(page_ids(tmp_path)) == len(graph.events) + failures.events
    assert set(page_ids(tmp_path)) == {e["id"] for e in graph.events}


def test_restart_discards_only_the_unfinished_download(tmp_path):
    """Scheduled runs append to one folder; --restart after an interrupted run must keep the
    earlier runs' pages, which the incremental state will not ask Graph for again."""
    first = make_events(60, START, timedelta(minutes=5))  # 00:00 .. 04:55
    with FakeGraph(first, token=TOKEN) as graph:
        state, logs = tmp_path / "flowcase.state", tmp_path / "logs"
        base = options(graph, incremental=state, date_from="2026-03-01",
                       date_to="2026-03-01T05:00:00Z")
        fetch_to_folder(base, logs)
        earlier = sorted(logs.glob("page-*.json"))
        graph.events += make_events(90, START + timedelta(hours=5), timedelta(minutes=2), seed=12)
        later = replace(base, date_to="2026-03-01T08:00:00Z")

        def interrupt(*_: object) -> None:
            raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            fetch_to_folder(later, logs, interrupt)
        assert len(list(logs.glob("page-*.json"))) == len(earlier) + 1
        fetch_to_folder(replace(later, restart=True), logs)
    assert all(page.exists() for page in earlier)
    ids = page_ids(logs)
    assert sorted(ids) == sorted(e["id"] for e in graph.events)
    assert len(ids) == len(set(ids))


def test_incremental_fetches_only_new_events(tmp_path):
    first = make_events(60, START, timedelta(minutes=5))  # 00:00 .. 04:55
    with FakeGraph(first, token=TOKEN) as graph:
        state = tmp_path / "flowcase.state"
        base = options(graph, incremental=state, date_from="2026-03-01",
                       date_to="2026-03-01T05:00:00Z")
        run1 = fetch_to_folder(base, tmp_path / "logs")
        assert run1.events == 60
        watermark = json.loads(state.read_text())["watermark"]
        assert watermark == "2026-03-01T04:55:00Z"  # the newest event fetched
        # late arrivals stamped before the watermark, and new activity after it
        late = make_events(3, START + timedelta(hours=4, minutes=31), timedelta(minutes=7),
                           seed=11)
        new = make_events(30, START + timedelta(hours=5), timedelta(minutes=5), seed=12)
        graph.events += late + new
        run2 = fetch_to_folder(replace(base, date_to="2026-03-01T08:00:00Z"), tmp_path / "logs")
    assert run2.events == len(late + new)
    assert run2.known_skipped == 13  # the overlap hour (03:55-04:55) asked again, dropped
    assert "activityDateTime gt 2026-03-01T03:54:59Z" in run2.filter
    ids = page_ids(tmp_path / "logs")
    assert sorted(ids) == sorted(e["id"] for e in first + late + new)
    assert len(ids) == len(set(ids))
    assert json.loads(state.read_text())["watermark"] == "2026-03-01T07:25:00Z"


def test_a_quiet_scheduled_run_gives_no_hints_for_an_empty_answer(tmp_path):
    """An earlier run of this incremental state found the app's events, so a week Graph has
    nothing new for is quiet, not a mistyped --app: the cron mail said 'Graph returned no
    events' and '--app is compared case-sensitively' every quiet week. A first run that finds
    nothing still gets the hints."""
    flowcase = Selection(app="Flowcase SCIM")
    week_ago = START + timedelta(days=5)
    with FakeGraph(make_events(20, week_ago, timedelta(minutes=5)), token=TOKEN) as graph:
        state = tmp_path / "flowcase.state"
        never = fetch_to_folder(options(graph, selection=flowcase, incremental=tmp_path / "x",
                                        date_from="2026-03-10", date_to="2026-03-12"),
                                tmp_path / "quiet-days")
        week = options(graph, selection=flowcase, incremental=state)
        assert fetch_to_folder(week, tmp_path / "logs").events > 0
        quiet = fetch_to_folder(replace(week, date_to="2026-03-09"), tmp_path / "logs")
    assert quiet.events == 0
    assert quiet.notes == []
    assert never.events == 0
    assert "Graph returned no events for this request" in never.notes
    assert any("compared case-sensitively" in note for note in never.notes)


class _Clock:
    """The time it is for Graph (``graph_clock``), as the test says: scheduled runs hours
    apart."""

    at = START


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr("loganalyzer.graph.query.graph_clock", lambda: _Clock.at)
    _Clock.at = START
    return _Clock


def _interrupt(*_: object) -> None:
    raise KeyboardInterrupt


def _scheduled(graph: FakeGraph, state) -> FetchOptions:
    return options(graph, incremental=state, since="1d", date_from=None, date_to=None)


def test_resumed_incremental_run_goes_on_up_to_now(clock, tmp_path):
    state, logs = tmp_path / "flowcase.state", tmp_path / "logs"
    with FakeGraph(make_events(60, START, timedelta(minutes=5)), token=TOKEN) as graph:
        clock.at = START + timedelta(hours=5)  # events 00:00 .. 04:55
        fetch_to_folder(_scheduled(graph, state), logs)
        graph.events += make_events(90, START + timedelta(hours=5), timedelta(minutes=2), seed=12)
        clock.at = START + timedelta(hours=8)  # the 08:00 run is interrupted
        with pytest.raises(KeyboardInterrupt):
            fetch_to_folder(_scheduled(graph, state), logs, _interrupt)
        graph.events += make_events(30, START + timedelta(hours=8), timedelta(minutes=2), seed=13)
        clock.at = START + timedelta(hours=9)  # resumed at 09:00: 08:00 .. 08:58 is new too
        result = fetch_to_folder(_scheduled(graph, state), logs)
    assert result.resumed and result.window.end == clock.at
    ids = page_ids(logs)
    assert sorted(ids) == sorted(e["id"] for e in graph.events)
    assert len(ids) == len(set(ids))
    assert json.loads(state.read_text())["watermark"] == "2026-03-01T08:58:00Z"
    assert result.watermark == datetime(2026, 3, 1, 8, 58, tzinfo=UTC)


def test_a_folder_keeps_the_window_of_every_run_into_it(clock, tmp_path):
    """Scheduled runs into one folder: each run's state keeps the windows of the runs before
    it, so the folder covers all of them, not the last run's window alone."""
    state, logs = tmp_path / "flowcase.state", tmp_path / "logs"
    with FakeGraph(make_events(60, START, timedelta(minutes=5)), token=TOKEN) as graph:
        for hours in (5, 8):  # the second run asks from an hour before 04:55
            clock.at = START + timedelta(hours=hours)
            fetch_to_folder(_scheduled(graph, state), logs)
    assert fetched_windows([logs]) == [(START - timedelta(hours=19), START + timedelta(hours=8))]


def _kept_windows(folder) -> list[list[str]]:
    """The earlier downloads' windows the folder's run state keeps, as written."""
    return json.loads((folder / ".fetch-state.json").read_text())["fetched"]


def test_hourly_scheduled_runs_keep_one_window_and_a_gap_keeps_two(clock, tmp_path):
    """An hourly scheduled fetch into one folder added a window to its run state each run,
    forever (30 runs: 29 windows); windows that meet are one, so it keeps one. A run after
    the schedule stopped for three days (--since 1d: its window begins after the last run's
    end) keeps the gap: two windows, and later runs keep those two."""
    state, logs = tmp_path / "flowcase.state", tmp_path / "logs"
    with FakeGraph(make_events(60, START, timedelta(minutes=5)), token=TOKEN) as graph:
        for hour in range(5, 35):
            clock.at = START + timedelta(hours=hour)
            fetch_to_folder(_scheduled(graph, state), logs)
            assert len(_kept_windows(logs)) == (hour > 5)
        first_day = (START - timedelta(hours=19), START + timedelta(hours=34))
        assert fetched_windows([logs]) == [first_day]
        after_gap = START + timedelta(days=4, hours=10)
        for hour in range(3):
            clock.at = after_gap + timedelta(hours=hour)
            fetch_to_folder(_scheduled(graph, state), logs)
    assert _kept_windows(logs) == [["2026-02-28T05:00:00Z", "2026-03-02T10:00:00Z"],
                                   ["2026-03-04T10:00:00Z", "2026-03-05T11:00:00Z"]]
    assert fetched_windows([logs]) == [first_day, (after_gap - timedelta(days=1), clock.at)]
    # a store ingested from the folder keeps the same two windows
    manifest = ingest_to_store([logs], tmp_path / "store")
    assert manifest["fetched_windows"] == [[start.isoformat(), end.isoformat()]
                                           for start, end in fetched_windows([logs])]


def test_a_run_state_with_a_long_window_list_still_reads(clock, tmp_path):
    """A state written before kept a window a run: it still reads, as one window, and the
    next run keeps it merged."""
    state, logs = tmp_path / "flowcase.state", tmp_path / "logs"
    with FakeGraph(make_events(60, START, timedelta(minutes=5)), token=TOKEN) as graph:
        clock.at = START + timedelta(hours=5)
        fetch_to_folder(_scheduled(graph, state), logs)
        written = json.loads((logs / ".fetch-state.json").read_text())
        hours = [START - timedelta(hours=n) for n in range(48, 0, -1)]
        written["fetched"] = [[odata_time(a), odata_time(a + timedelta(hours=1))]
                              for a in hours]
        (logs / ".fetch-state.json").write_text(json.dumps(written))
        assert fetched_windows([logs]) == [(START - timedelta(hours=48), clock.at)]
        clock.at = START + timedelta(hours=6)
        fetch_to_folder(_scheduled(graph, state), logs)
    assert _kept_windows(logs) == [["2026-02-27T00:00:00Z", "2026-03-01T05:00:00Z"]]
    assert fetched_windows([logs]) == [(START - timedelta(hours=48), clock.at)]


def test_watermark_never_moves_back(clock, tmp_path):
    """Two folders on one state file: the older window, resumed last, must not pull the
    watermark back to its end (the next run would fetch hours again)."""
    state = tmp_path / "flowcase.state"
    with FakeGraph(make_events(60, START, timedelta(minutes=5)), token=TOKEN) as graph:
        clock.at = START + timedelta(hours=5)
        with pytest.raises(KeyboardInterrupt):
            fetch_to_folder(_scheduled(graph, state), tmp_path / "a", _interrupt)
        graph.events += make_events(90, START + timedelta(hours=5), timedelta(minutes=2), seed=12)
        clock.at = START + timedelta(hours=8)
        fetch_to_folder(_scheduled(graph, state), tmp_path / "b")
        assert json.loads(state.read_text())["watermark"] == "2026-03-01T07:58:00Z"
        resumed = fetch_to_folder(_scheduled(graph, state), tmp_path / "a")
    assert resumed.resumed
    assert json.loads(state.read_text())["watermark"] == "2026-03-01T07:58:00Z"


def test_incremental_state_of_another_selection_is_refused(graph, tmp_path):
    state = tmp_path / "s.state"
    fetch_to_folder(options(graph, incremental=state), tmp_path / "a")
    other = options(graph, incremental=state, selection=Selection(job_id=OTHER_APP.job_id))
    with pytest.raises(QueryError, match="another selection"):
        fetch_to_folder(other, tmp_path / "b")


def test_next_link_to_another_host_is_refused(graph, tmp_path):
    graph.fail(LOGS, 200, body={"value": [], "@odata.nextLink":
                                "https://collector.example.net/v1.0/auditLogs/provisioning"})
    with pytest.raises(GraphRequestError, match="refusing to send the token"):
        fetch_to_folder(options(graph), tmp_path)


def test_a_repeated_next_link_stops_the_download(graph, tmp_path):
    """A server that hands back a nextLink already followed would be paged forever."""
    loop = f"{graph.url}/auditLogs/provisioning?$top=40&$skiptoken=5f1c0e9a"
    newest = sorted(graph.events, key=lambda e: e["activityDateTime"], reverse=True)
    graph.fail(LOGS, 200, times=50, body={
        "@odata.context": f"{graph.url}/$metadata#auditLogs/provisioning",
        "value": newest[:40], "@odata.nextLink": loop})
    with pytest.raises(GraphError, match="same @odata.nextLink again") as failure:
        fetch_to_folder(options(graph), tmp_path)
    assert failure.value.exit_code == 3
    assert "/v1.0/auditLogs/provisioning" in str(failure.value)
    assert len(graph.log_requests(LOGS)) == 2  # the first page, and the link once
    assert len(pages(tmp_path)) == 1 and not list(tmp_path.glob("*.part"))


def test_fetched_folder_analyses_like_the_file_export(graph, tmp_path):
    export = tmp_path / "portal-download.json"
    export.write_text(json.dumps(graph.events, indent=2))
    fetch_to_folder(options(graph), tmp_path / "fetched")
    fetched, exported = load([tmp_path / "fetched"]), load([export])
    assert fetched.problems == exported.problems == []
    for name in ("events", "steps", "modified_properties"):
        ours = getattr(fetched.frames, name)
        theirs = getattr(exported.frames, name)
        keys = ["event_id"] + [k for k in ("step_index", "property_index") if k in ours.columns]
        drop = [c for c in ("source_file", "source_record") if c in ours.columns]
        assert ours.height == theirs.height > 0
        assert ours.drop(drop).sort(keys).equals(theirs.drop(drop).sort(keys)), name
    statuses = fetched.frames.events.group_by("status").len().sort("status")
    assert statuses.equals(exported.frames.events.group_by("status").len().sort("status"))
    assert pl.Series(page_ids(tmp_path / "fetched")).n_unique() == len(graph.events)
