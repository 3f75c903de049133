"""The command-line side of Graph fetching: messages, exit codes, and `--graph` on the analysis
commands (diagnose gives what the file export gives, why narrows the request to the user)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from loganalyzer.cli import app, load_inputs
from loganalyzer.cli.fetch import fetched_folder, run_fetch
from loganalyzer.graph.fetch import fetch_to_folder
from loganalyzer.ingest import read_manifest
from tests.fake_graph import FLOWCASE, SAMPLE, FakeGraph
from tests.graph_support import TOKEN, events, one_error_line, options

# the fake Graph serves March 2026 (conftest.graph_in_march)
pytestmark = pytest.mark.usefixtures("graph_in_march")

LOGS = "/auditLogs/provisioning"


@pytest.fixture
def graph():
    with FakeGraph(events(), token=TOKEN) as fake:
        yield fake


def fetch(graph: FakeGraph, *args: str):
    result = CliRunner().invoke(
        app, ["fetch", "--graph-url", graph.url, "--from", "2026-03-01", "--to", "2026-03-31",
              *args], env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert result.stdout == ""  # fetch writes files; what it says goes to stderr
    return result.exit_code, result.stderr


def test_fetch_then_rerun_says_it_is_complete_and_summary_reads_the_folder(graph, tmp_path):
    out = str(tmp_path / "logs")
    code, said = fetch(graph, "-o", out, "--status", "failure")
    failures = sum(e["provisioningStatusInfo"]["status"] == "failure" for e in graph.events)
    assert code == 0 and f"{failures} events" in said
    assert "provisioningStatusInfo/status eq 'failure'" in said
    code, said = fetch(graph, "-o", out, "--status", "failure")
    assert code == 0 and "already holds this download, complete" in said
    summary = CliRunner().invoke(app, ["summary", out, "--format", "json", "-q"])
    assert summary.exit_code == 0 and f'"failure": {failures}' in summary.stdout


def test_incremental_from_the_command_line(graph, tmp_path):
    state = tmp_path / "flowcase.state"
    code, said = fetch(graph, "-o", str(tmp_path / "logs"), "--incremental", str(state),
                            "--app", FLOWCASE.name)
    assert code == 0 and state.exists()
    newest = max(e["activityDateTime"] for e in graph.events
                 if e["servicePrincipal"]["displayName"] == FLOWCASE.name)
    assert newest.startswith("2026-03-24T08:06")  # the next run starts an hour before it
    assert "next run asks for events from 2026-03-24 07:06 UTC on" in said
    code, said = fetch(graph, "-o", str(tmp_path / "logs"), "--incremental", str(state),
                            "--app", FLOWCASE.name)
    assert code == 0 and "0 events" in said


def test_graph_unavailable_exits_3_and_says_how_to_resume(graph, tmp_path, capsys):
    graph.drop(LOGS, times=10)
    with pytest.raises(typer.Exit) as stop:
        run_fetch(options(graph), tmp_path, quiet=True)
    assert stop.value.exit_code == 3
    assert "re-run the same command to resume" in capsys.readouterr().err


def test_fetched_folder_feeds_analysis_and_is_removed(graph):
    with fetched_folder(options(graph), quiet=True) as fetched:
        folder = fetched.folder
        dataset = load_inputs([folder], quiet=True)
        assert folder.exists()
    assert not folder.exists()
    assert sorted(dataset.frames.events["event_id"]) == sorted(e["id"] for e in graph.events)


# ---------------------------------------------------------------- --graph on diagnose and why

WINDOW = ("--from", "2026-03-01", "--to", "2026-03-31")


def analyse(graph: FakeGraph, *args: str):
    """An analysis command with --graph against the stand-in; the token never shows."""
    result = CliRunner().invoke(
        app, [*args, "--graph", "--graph-url", graph.url, "--access-token", TOKEN, *WINDOW])
    assert TOKEN not in result.stdout and TOKEN not in result.stderr
    return result


def first_page_filters(graph: FakeGraph) -> list[str]:
    """The $filter of each request that started a download (later pages carry a skiptoken)."""
    return [s.query.get("$filter", "") for s in graph.log_requests(LOGS)
            if "$skiptoken" not in s.query]


def test_diagnose_graph_gives_the_findings_of_the_file_export(graph, tmp_path):
    export = tmp_path / "provisioning.json"
    export.write_text(json.dumps({"value": graph.events}), encoding="utf-8")
    from_file = CliRunner().invoke(app, ["diagnose", str(export), "--format", "json", "-q"])
    assert from_file.exit_code == 0, from_file.output
    expected = json.loads(from_file.stdout)
    flowcase = [e for e in graph.events if e["servicePrincipal"]["displayName"] == FLOWCASE.name]
    assert expected["summary"]["events"] == len(flowcase) and expected["findings"]
    assert expected["summary"]["scope"]["other_events"] == len(graph.events) - len(flowcase)

    fetched = analyse(graph, "diagnose", "--format", "json")
    assert fetched.exit_code == 0, fetched.output
    answer = json.loads(fetched.stdout)
    # the fake's March events lie beyond the 30 days Graph keeps: the output says so, not
    # only stderr (a report read later must know its first days are gone, not quiet)
    kept = [n for n in answer["notes"] if n.startswith("Graph keeps provisioning logs for 30 "
                                                         "days: the window starts ")]
    assert len(kept) == 1
    answer["notes"].remove(kept[0])
    assert answer == expected
    assert "read " in fetched.stderr  # progress is shown, the token is not


def _unique_person(graph: FakeGraph) -> dict:
    """The sourceIdentity of a generated user whose display name names nobody else, not even
    as part of another name (so `why NAME` has exactly one answer)."""
    names = [e["sourceIdentity"]["displayName"].lower() for e in graph.events]
    for event in graph.events:
        if event["servicePrincipal"]["displayName"] != FLOWCASE.name:
            continue  # the other app's users are not Flowcase's (scope.choose)
        identity = event["sourceIdentity"]
        name = identity["displayName"].lower()
        if identity["identityType"] == "User" and sum(name in other for other in names) == 1:
            return identity
    raise AssertionError("the stand-in serves no user with a unique display name")


def _events_of(graph: FakeGraph, identity: dict) -> set[str]:
    return {e["id"] for e in graph.events if e["sourceIdentity"]["id"] == identity["id"]}


@pytest.mark.parametrize(
    ("query", "narrowing"),
    [
        (lambda who: who["displayName"], "contains(sourceIdentity/displayName, '{name}')"),
        (lambda who: who["id"].upper(), "sourceIdentity/id eq '{id}'"),
        (lambda who: who["details"]["UserPrincipalName"].upper(), None),
    ],
    ids=["display name", "object id", "upn"],
)
def test_why_graph_asks_graph_for_the_user_where_it_can(graph, query, narrowing):
    person = _unique_person(graph)
    result = analyse(graph, "why", query(person), "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["user"]["object_id"] == person["id"]
    assert {entry["event_id"] for entry in answer["timeline"]} == _events_of(graph, person)
    [sent] = first_page_filters(graph)
    if narrowing is None:  # Graph cannot filter on a UPN: the window, matched here
        assert "sourceIdentity" not in sent
    else:
        assert sent.endswith(narrowing.format(name=person["displayName"], id=person["id"]))
    assert "found nobody" not in result.stderr


def test_why_graph_fetches_again_when_the_case_sensitive_filter_misses(graph):
    person = _unique_person(graph)
    typed = person["displayName"].lower()
    assert typed != person["displayName"]
    result = analyse(graph, "why", typed, "--format", "json")
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["user"]["object_id"] == person["id"]
    assert {entry["event_id"] for entry in answer["timeline"]} == _events_of(graph, person)
    narrowed, whole = first_page_filters(graph)
    assert f"contains(sourceIdentity/displayName, '{typed}')" in narrowed
    assert "sourceIdentity" not in whole
    assert "case-sensitive" in result.stderr and "fetching the whole window" in result.stderr


def test_why_graph_for_nobody_says_so_after_the_whole_window(graph):
    result = analyse(graph, "why", "Nobody Atall", "--format", "json")
    assert result.exit_code == 2
    answer = json.loads(result.stdout)
    assert answer["verdict"]["state"] == "never_seen"
    flowcase = [e for e in graph.events if e["servicePrincipal"]["displayName"] == FLOWCASE.name]
    assert answer["export"]["events"] == len(flowcase)  # judged on the whole window's Flowcase
    assert any("other app not diagnosed: Airtable" in n for n in answer["notes"])
    assert len(first_page_filters(graph)) == 2




def test_a_bare_to_selects_the_same_period_from_files_and_from_graph(graph, tmp_path):
    """--to alone is the end of the default 7 days on both: files started at their oldest
    event, so the same options analysed two different periods of the same events."""
    export = tmp_path / "provisioning.json"
    export.write_text(json.dumps({"value": graph.events}), encoding="utf-8")
    asked = ["--to", "2026-03-24", "--format", "json", "-q"]
    from_file = CliRunner().invoke(app, ["report", str(export), *asked])
    from_graph = CliRunner().invoke(app, ["report", "--graph", "--graph-url", graph.url,
                                          "--access-token", TOKEN, *asked])
    assert from_file.exit_code == from_graph.exit_code == 0, from_file.output
    on_file, on_graph = json.loads(from_file.stdout), json.loads(from_graph.stdout)
    assert on_file["period"] == on_graph["period"] == {
        "start": "2026-03-18T00:00:00+00:00", "end": "2026-03-25T00:00:00+00:00"}
    assert on_file["summary"]["events"] == on_graph["summary"]["events"] > 0

@pytest.mark.parametrize("command", ["diagnose", "report"])
def test_a_window_graph_has_no_event_for_is_a_quiet_period_as_on_files(command):
    """A quiet week: Entra logs only changes. `diagnose --graph` exited 2 where `report
    --graph` (and both on a quiet stretch of a file) report it as quiet."""
    with FakeGraph(events(), token=TOKEN) as empty_week:  # its events end on 24 March
        result = CliRunner().invoke(app, [
            command, "--graph", "--graph-url", empty_week.url, "--access-token", TOKEN,
            "--from", "2026-03-26", "--to", "2026-03-29", "--format", "json", "--fail-on",
            "info", "-q"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["summary"]["events"] == 0 and answer["verdict"]["state"] == "healthy"
    assert answer["notes"][0] == ("Microsoft Graph returned no provisioning events for "
                                  "activityDateTime gt 2026-03-25T23:59:59Z and activityDateTime "
                                  "lt 2026-03-30T00:00:00Z")


@pytest.mark.parametrize("command", ["diagnose", "report", "why anna.berg@northwind.no"])
@pytest.mark.parametrize(("window", "option"), [
    (("--from", "2026-01-15", "--to", "2026-01-31"), "--from/--to"),
    (("--to", "2026-02-20"), "--to"),  # the 7 days before it
])
def test_a_window_graph_no_longer_keeps_is_refused_not_called_quiet(graph, command, window,
                                                                     option):
    """On 31 March Graph keeps nothing of January or mid-February (30 days): its empty answer
    would read as a quiet period, as if nothing had happened."""
    result = CliRunner().invoke(app, [
        *command.split(), "--graph", "--graph-url", graph.url, "--access-token", TOKEN,
        *window, "--format", "json"])
    assert result.exit_code == 2 and result.stdout == ""
    said = one_error_line(result.stderr)
    assert said.startswith(f"error: {option}: the window ")
    assert ("ended more than 30 days ago, and Microsoft Graph keeps provisioning logs for 30 "
            "days (nothing before 2026-03-01 03:00 UTC)") in said
    assert "read an export of those days instead" in said
    assert not graph.log_requests(LOGS)  # refused before asking Graph


def test_a_window_partly_older_than_graph_keeps_is_analysed_with_a_note(graph):
    """Its days since 1 March 03:00 are still kept: analysed, the lost days noted."""
    result = CliRunner().invoke(app, [
        "diagnose", "--graph", "--graph-url", graph.url, "--access-token", TOKEN,
        "--from", "2026-02-25", "--to", "2026-03-02", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["summary"]["events"] > 0
    assert ("Graph keeps provisioning logs for 30 days: the window starts 2026-02-25, but "
            "nothing before 2026-03-01 03:00 UTC comes back") in " ".join(answer["notes"])

@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["diagnose", "{export}", "--job-id", FLOWCASE.job_id],
         "--job-id: only applies with --graph"),
        (["why", "ada", "{export}", "--since", "7x"], "--since: expected a length such as 7d"),
        (["report", "{export}", "--access-token", TOKEN], "--access-token: only applies with"),
        (["diagnose", "{export}", "--graph"], "give exports or stores to read, or --graph"),
        (["why", "ada"], "give exports or stores to read, or --graph"),
    ],
)
def test_graph_options_need_graph_and_exclude_files(args, message):
    export = str(SAMPLE)
    result = CliRunner().invoke(app, [export if a == "{export}" else a for a in args])
    assert result.exit_code == 2
    assert message in result.stderr and "Traceback" not in result.output
    assert TOKEN not in result.output


def test_why_graph_when_the_filter_finds_only_a_group_judges_the_whole_window():
    """`contains` also matches groups, which are never the answer to `why`: the narrowed fetch
    alone would describe three group events; the whole window gives the file export's answer."""
    export = SAMPLE.parent / "group-404-halt.json"
    served = json.loads(export.read_text(encoding="utf-8"))
    from_file = CliRunner().invoke(
        app, ["why", "Flowcase Managers", str(export), "--format", "json", "-q"])
    assert from_file.exit_code == 2
    expected = json.loads(from_file.stdout)
    assert expected["verdict"]["state"] == "group" and expected["job_wide"]
    with FakeGraph(served, token=TOKEN) as graph:
        result = analyse(graph, "why", "Flowcase Managers", "--format", "json")
        narrowed, whole = first_page_filters(graph)
    assert result.exit_code == 2
    assert json.loads(result.stdout) == expected
    assert "contains(sourceIdentity/displayName, 'Flowcase Managers')" in narrowed
    assert "sourceIdentity" not in whole


def test_an_unfinished_download_is_named_when_read(graph, tmp_path):
    """An interrupted fetch leaves a folder that reads like a whole window; diagnose and ingest
    must say it is a part."""
    logs = tmp_path / "logs"

    def interrupt_after_two_pages(line: str, *_: float | None) -> None:
        if line.startswith("fetched 2 pages"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_to_folder(options(graph), logs, interrupt_after_two_pages)
    said = (f"{logs}: this folder holds an unfinished download: 2 pages of "
            "activityDateTime gt ")
    diagnosed = CliRunner().invoke(app, ["diagnose", str(logs), "--format", "json", "-q"])
    assert diagnosed.exit_code in (0, 1), diagnosed.output
    [note] = [n for n in json.loads(diagnosed.stdout)["notes"] if "unfinished" in n]
    assert note.startswith(said) and note.endswith("; run fetch again to finish it")
    ingested = CliRunner().invoke(app, ["ingest", str(logs), "-o", str(tmp_path / "store")])
    assert ingested.exit_code == 0 and said in ingested.stderr
    fetch_to_folder(options(graph), logs)  # finished: nothing to say
    assert not [n for n in load_inputs([logs], quiet=True).notes if "unfinished" in n]


def fetch_into(logs: Path, served: list[dict], *args: str) -> None:
    """`fetch ARGS -o logs` from a Graph serving ``served``, on 31 March."""
    with FakeGraph(served, token=TOKEN) as graph:
        fetched = CliRunner().invoke(app, ["fetch", "--graph-url", graph.url, *args,
                                           "-o", str(logs), "-q"],
                                     env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert fetched.exit_code == 0, fetched.output


def fetch_quiet_last_week(logs: Path, *args: str) -> None:
    """`fetch --since 14d -o logs` on 31 March of events that end on 22 March: the last 7
    days fetched are a quiet week."""
    until_22_march = [e | {"activityDateTime": e["activityDateTime"].replace("03-24", "03-21")}
                      for e in events()]
    fetch_into(logs, until_22_march, "--since", "14d", *args)


@pytest.mark.parametrize("command", ["diagnose", "report"])
def test_since_on_a_fetch_folder_counts_back_from_when_it_was_fetched(tmp_path, command):
    """The weekly cron job of the Graph docs: `fetch --since 14d -o logs`, then `report logs
    --since 7d`. Fetched on 31 March, the events end on 22 March: the last 7 days are a quiet
    week, as `report --graph` says. Counting back from the newest event reported the week
    before again, as this week, and exited 1 for its findings."""
    logs = tmp_path / "logs"
    fetch_quiet_last_week(logs)
    result = CliRunner().invoke(app, [command, str(logs), "--since", "7d", "--format", "json",
                                      "--fail-on", "high", "-q"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["summary"]["events"] == 0
    week = "no provisioning events from 2026-03-24 03:00"
    quiet = [n for n in answer["notes"] if n.startswith(week)]
    assert quiet and "the events Microsoft Graph returned for the window fetched" in quiet[0]


def test_a_fetch_folder_whose_first_days_were_quiet_is_compared_as_graph_compares_it(
        graph, tmp_path):
    """`fetch --since 14d` asked Graph from 17 March; its events begin on 24 March. The
    days before were quiet, not missing: `report --graph` calls its findings new, and the
    folder said "No finding is called new: the input begins at 2026-03-24 07:38 UTC"."""
    logs = tmp_path / "logs"
    fetched = CliRunner().invoke(app, ["fetch", "--graph-url", graph.url, "--since", "14d",
                                       "-o", str(logs), "-q"], env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert fetched.exit_code == 0, fetched.output
    asked = ["--since", "7d", "--compare-previous", "--format", "json", "-q"]
    from_folder = CliRunner().invoke(app, ["report", str(logs), *asked])
    from_graph = CliRunner().invoke(app, ["report", "--graph", "--graph-url", graph.url,
                                          "--access-token", TOKEN, *asked])
    assert from_folder.exit_code == from_graph.exit_code == 0, from_folder.output
    on_folder = json.loads(from_folder.stdout)["comparison"]
    on_graph = json.loads(from_graph.stdout)["comparison"]
    assert on_folder["partial"] == on_graph["partial"] == ""
    assert on_folder["new"] == on_graph["new"] != []


@pytest.mark.parametrize("command", ["diagnose", "report"])
@pytest.mark.parametrize(("options", "period"), [
    (["--from", "2026-03-24"], "2026-03-24 00:00 to 2026-03-31 03:00"),
    (["--from", "2026-03-24", "--to", "2026-03-30"], "2026-03-24 00:00 to 2026-03-31 00:00"),
])
def test_from_and_to_inside_a_fetch_folders_window_are_a_quiet_period(tmp_path, command,
                                                                     options, period):
    """The same fetch as above (events end on 22 March, fetched up to 31 March): a week
    asked by --from/--to after the last event but inside the window fetched is quiet, as
    --since 7d and `report --graph --from` say; it was refused as a period holding no event
    of the input (exit 2), and a bare --from ended at the newest event, not the fetch's end."""
    logs = tmp_path / "logs"
    fetch_quiet_last_week(logs)
    result = CliRunner().invoke(app, [command, str(logs), *options, "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.stdout)
    assert answer["summary"]["events"] == 0
    quiet = [n for n in answer["notes"] if n.startswith(f"no provisioning events from {period}")]
    assert quiet and "the events Microsoft Graph returned for the window fetched" in quiet[0]


def test_why_since_on_a_fetch_folder_counts_back_from_when_it_was_fetched(tmp_path):
    """`why` on the weekly fetch folder, as `report logs --since 7d` above: the last 7 days
    fetched are quiet, so nobody's story is in them (exit 2, the quiet week said); counting
    back from the newest event told Erik Dahl's failure of the week before as this week's."""
    logs = tmp_path / "logs"
    fetch_quiet_last_week(logs)
    result = CliRunner().invoke(app, ["why", "Erik Dahl", str(logs), "--since", "7d", "-q"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert "no provisioning events from 2026-03-24 03:00 to 2026-03-31 03:00 UTC" in said
    assert "the events Microsoft Graph returned for the window fetched" in said


def test_summary_since_on_a_fetch_folder_counts_back_from_when_it_was_fetched(tmp_path):
    """`summary logs --since 7d` on the weekly fetch folder counts the quiet last 7 days
    fetched, as `report` does, not the week before's 57 events."""
    logs = tmp_path / "logs"
    fetch_quiet_last_week(logs)
    result = CliRunner().invoke(app, ["summary", str(logs), "--since", "7d", "--format", "json",
                                      "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["events"] == 0


def test_a_store_ingested_from_a_fetch_folder_keeps_its_window(tmp_path):
    """`ingest logs -o store` weekly, then `report store --since 7d`: the store keeps the
    window Graph was asked for, so the quiet last week is quiet, as on the folder itself,
    and a store appended to keeps it too. Before, the store counted back from its newest
    event and reported the week before again."""
    logs, store = tmp_path / "logs", tmp_path / "store"
    fetch_quiet_last_week(logs)
    for inputs in ([logs], [store, str(SAMPLE)]):  # built, then appended to
        made = CliRunner().invoke(app, ["ingest", *map(str, inputs), "-o", str(store), "-q"])
        assert made.exit_code == 0, made.output
        [window] = read_manifest(store)["fetched_windows"]
        assert window[1].startswith("2026-03-31T03:00")
        result = CliRunner().invoke(app, ["report", str(store), "--since", "7d", "--format",
                                          "json", "--fail-on", "high", "-q"])
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["summary"]["events"] == 0


def test_a_store_of_an_older_version_keeps_its_one_window(tmp_path):
    """A manifest written before stores kept every window fetched holds one [start, end]
    pair under ``fetched_window``: the store still counts back from its end."""
    logs, store = tmp_path / "logs", tmp_path / "store"
    fetch_quiet_last_week(logs)
    made = CliRunner().invoke(app, ["ingest", str(logs), "-o", str(store), "-q"])
    assert made.exit_code == 0, made.output
    manifest = read_manifest(store)
    manifest["fetched_window"] = manifest.pop("fetched_windows")[0]
    (store / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    result = CliRunner().invoke(app, ["report", str(store), "--since", "7d", "--format", "json",
                                      "-q"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["events"] == 0


FIRST_WEEK = ("--from", "2026-03-01", "--to", "2026-03-07")  # asked up to 8 March 00:00


def two_fetches_with_a_gap(tmp_path: Path, layout: str) -> Path:
    """The first week of March fetched, then on 31 March the two weeks from 17 March 03:00:
    the days between were never asked of Graph (a weekly run that failed). Fetched into two
    folders under one, into one folder (the second, another request, with --restart), or
    ingested week by week into one store."""
    logs = tmp_path / "logs"
    if layout == "one folder":
        fetch_into(logs, events(), *FIRST_WEEK)
        fetch_quiet_last_week(logs, "--restart")
        return logs
    fetch_into(logs / "first-week", events(), *FIRST_WEEK)
    fetch_quiet_last_week(logs / "last-two-weeks")
    if layout == "subfolders":
        return logs
    store = tmp_path / "store"
    for inputs in ([logs / "first-week"], [store, logs / "last-two-weeks"]):
        made = CliRunner().invoke(app, ["ingest", *map(str, inputs), "-o", str(store), "-q"])
        assert made.exit_code == 0, made.output
    return store


@pytest.mark.parametrize(("layout", "command"), [
    ("subfolders", ["report"]), ("one folder", ["report"]), ("store", ["report"]),
    ("subfolders", ["diagnose"]), ("subfolders", ["summary"]),
    ("subfolders", ["why", "Erik Dahl"]),
])
def test_a_period_between_two_fetches_is_not_fetched_not_quiet(tmp_path, layout, command):
    """A week between two fetches was never asked of Graph: exit 2 naming what was fetched,
    as for a period the input does not reach. The two were taken as one window from 1 to
    31 March, so that week was a quiet, healthy one, and a weekly run that failed went
    unseen."""
    given = two_fetches_with_a_gap(tmp_path, layout)
    result = CliRunner().invoke(app, [*command, str(given), "--from", "2026-03-09",
                                      "--to", "2026-03-15", "--format", "json", "-q"])
    assert result.exit_code == 2, result.output
    said = " ".join(result.output.split())
    assert ("no event of the input is in the period asked for (2026-03-09 00:00 to "
            "2026-03-16 00:00 UTC)") in said
    assert ("2026-03-01 00:00 to 2026-03-08 00:00 and 2026-03-17 03:00 to 2026-03-31 03:00 "
            "UTC") in said
    assert "quiet" not in said


@pytest.mark.parametrize("command", ["diagnose", "report"])
def test_a_period_partly_between_two_fetches_names_the_days_not_fetched(tmp_path, command):
    """5 to 11 March: its first three days fetched and quiet, the rest never asked of Graph.
    A note names the days not fetched, and nothing calls the period quiet."""
    logs = two_fetches_with_a_gap(tmp_path, "subfolders")
    result = CliRunner().invoke(app, [command, str(logs), "--from", "2026-03-05", "--to",
                                      "2026-03-11", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert [n for n in notes if "nothing was fetched from 2026-03-08 00:00 to 2026-03-12 00:00 "
            "UTC" in n]
    assert not [n for n in notes if "quiet" in n]


def test_a_previous_period_never_fetched_is_not_compared_with(tmp_path):
    """The first week of March and the last week, fetched on 31 March: the week before it
    (17 to 24 March) was never asked of Graph, so no finding of this week is called new.
    It was taken as a quiet week, and every finding was new."""
    logs = tmp_path / "logs"
    fetch_into(logs / "first-week", events(), *FIRST_WEEK)
    fetch_into(logs / "last-week", events(), "--since", "7d")
    result = CliRunner().invoke(app, ["report", str(logs), "--since", "7d", "--compare-previous",
                                      "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.stdout)["comparison"]
    assert comparison["partial"].startswith(
        "nothing was fetched from 2026-03-17 03:00 to 2026-03-24 03:00 UTC")
    assert comparison["new"] == [] and comparison["ongoing"] == []


def test_fetches_that_meet_leave_no_gap(tmp_path):
    """A window fetched up to the moment the next one starts: the days across the two are
    fetched, and quiet."""
    logs = tmp_path / "logs"
    fetch_into(logs / "first", events(), "--from", "2026-03-01", "--to", "2026-03-17T03:00Z")
    fetch_quiet_last_week(logs / "last-two-weeks")
    result = CliRunner().invoke(app, ["report", str(logs), "--from", "2026-03-10", "--to",
                                      "2026-03-20", "--format", "json", "-q"])
    assert result.exit_code == 0, result.output
    notes = json.loads(result.stdout)["notes"]
    assert [n for n in notes if n.startswith("no provisioning events from 2026-03-10 00:00")]
    assert not [n for n in notes if "nothing was fetched" in n]
