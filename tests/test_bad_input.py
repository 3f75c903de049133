"""Bad input: one line naming the file, record and what was expected; exit 2; good records kept."""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, SAMPLES
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.ingest import load
from loganalyzer.problems import InputError

DATA = Path(__file__).parent / "data"
RECORDS = json.loads((DATA / "graph-records-captured.json").read_text())


def run(*args: str):
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def assert_one_line_error(stderr: str, *fragments: str) -> None:
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    assert "Traceback" not in stderr
    for fragment in fragments:
        assert fragment in errors[0]


def test_truncated_download_keeps_good_records(tmp_path):
    text = json.dumps(RECORDS, indent=2)
    cut = text[: text.index('"provisioningSteps"', text.index(RECORDS[1]["id"]))]
    path = tmp_path / "cut.json"
    path.write_text(cut)
    dataset = load([path])
    assert dataset.frames.events["event_id"].to_list() == [RECORDS[0]["id"]]
    [problem] = dataset.problems
    assert problem.file == str(path)
    assert problem.location.startswith("record 2 (line ")
    assert "truncated" in problem.message
    # the outputs' note names the cut: how many records followed it is not known
    assert dataset.input_notes() == [
        f"1 input record could not be read and is not counted ({path} 1); {path} is cut off at "
        "record 2: whatever followed is missing too (a download or copy that did not finish? "
        "export it again)"]


@pytest.mark.parametrize("shape", ["array", "graph page"])
@pytest.mark.parametrize("ending", ["}", "},", "},\n  "], ids=["record", "comma", "space"])
def test_a_download_cut_between_two_records_is_named_as_cut(tmp_path, shape, ending):
    """A download that stopped right after a record (DuckDB reads such an array as if it
    were closed) keeps the records it has and says the file is cut off after them."""
    text = json.dumps(RECORDS[:2], indent=2)
    if shape == "graph page":
        text = '{"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/' \
               'provisioning", "value": ' + text + "}"
    end = text.index(RECORDS[1]["id"])
    end = text.index("\n  }", end) + len("\n  ")
    path = tmp_path / "cut.json"
    path.write_text(text[:end] + ending)
    dataset = load([path])
    assert dataset.frames.events["event_id"].to_list() == [r["id"] for r in RECORDS[:2]]
    assert dataset.input_notes() == [
        f"1 input record could not be read and is not counted ({path} 1); {path} is cut off at "
        "record 3: whatever followed is missing too (a download or copy that did not finish? "
        "export it again)"]
    whole = tmp_path / "whole.json"
    whole.write_text(text + "\n")
    assert load([whole]).input_notes() == []


def test_a_record_broken_in_the_middle_is_not_called_a_cut(tmp_path):
    text = json.dumps([RECORDS[0], dict(RECORDS[1], id="middle"), RECORDS[1]], indent=2)
    start = text.index('"id": "middle"')
    path = tmp_path / "broken.json"
    path.write_text(text[:start] + '"id": "middle" "oops": 1,' +
                    text[start + len('"id": "middle",'):])
    [note] = load([path]).input_notes()
    assert note == f"1 input record could not be read and is not counted ({path} 1)"


def test_broken_record_in_the_middle_is_skipped_and_later_ones_kept(tmp_path):
    middle = dict(RECORDS[1], id="middle")
    text = json.dumps([RECORDS[0], middle, RECORDS[1]], indent=2)
    start = text.index('"id": "middle"')
    broken = text[:start] + '"id": "middle" "oops": 1,' + text[start + len('"id": "middle",'):]
    path = tmp_path / "broken.json"
    path.write_text(broken)
    dataset = load([path])
    assert sorted(dataset.frames.events["event_id"]) == sorted(r["id"] for r in RECORDS)
    [problem] = dataset.problems
    assert problem.location.startswith("record 2")
    code, _, stderr = run("summary", str(path))
    assert code == 0
    assert f"skipped 1 record in {path}" in stderr


def test_records_missing_required_fields(tmp_path):
    no_id = dict(RECORDS[0])
    del no_id["id"]
    no_time = dict(RECORDS[1])
    del no_time["activityDateTime"]
    bad_time = dict(RECORDS[1], id="x1", activityDateTime="yesterday")
    path = tmp_path / "missing.json"
    path.write_text(json.dumps([no_id, no_time, bad_time, RECORDS[1]]))
    dataset = load([path])
    assert dataset.frames.events["event_id"].to_list() == [RECORDS[1]["id"]]
    messages = {p.location: p.message for p in dataset.problems}
    assert messages["record 1"].startswith("missing 'id'")
    assert messages["record 2"].startswith("missing 'activityDateTime'")
    assert messages["record 3"] == "unreadable 'activityDateTime' yesterday"


def test_ndjson_bad_line_named(tmp_path):
    path = tmp_path / "lines.json"
    path.write_text(json.dumps(RECORDS[0]) + "\n{not json}\n" + json.dumps(RECORDS[1]) + "\n")
    dataset = load([path])
    assert dataset.frames.events.height == 2
    [problem] = dataset.problems
    assert problem.location == "line 2"


@pytest.mark.parametrize("newline", ["\n", "\r\n"], ids=["LF", "CRLF"])
def test_ndjson_line_cut_mid_record_names_the_column_where_it_stops(tmp_path, newline):
    """A storage blob copied while a line was half written: the column the JSON stops at is
    the end of that line, not column 1 of the line after it."""
    whole = json.dumps(RECORDS[0])
    cut = whole[: whole.index('"cycleId"')]  # '..."changeId": "…", ' and the line ends
    path = tmp_path / "PT1H.json"
    path.write_bytes(newline.join([json.dumps(RECORDS[0]), cut, json.dumps(RECORDS[1])])
                     .encode() + newline.encode())
    dataset = load([path])
    assert dataset.frames.events.height == 2
    [problem] = dataset.problems
    assert problem.location == "line 2"
    assert "at column 1)" not in problem.message, problem.message
    assert problem.message.endswith(f"at column {len(cut) + 1})"), problem.message


def test_ndjson_ending_inside_its_last_record_is_cut_off(tmp_path):
    """An hourly PT1H.json blob copied while Azure was still appending to it ends inside a
    record, without a line break: a cut, said as for a JSON export cut mid-record (never a
    healthy verdict), not only one malformed line. A broken line with a line break after it
    is one bad line."""
    from loganalyzer.problems import cut_off

    whole = json.dumps(RECORDS[1])
    path = tmp_path / "PT1H.json"
    path.write_text(json.dumps(RECORDS[0]) + "\n" + whole[: len(whole) // 2])
    dataset = load([path])
    assert dataset.frames.events.height == 1
    assert cut_off(dataset.problems) == [f"{path} is cut off at line 2"]
    path.write_text(json.dumps(RECORDS[0]) + "\n" + whole[: len(whole) // 2] + "\n")
    assert cut_off(load([path]).problems) == []


@pytest.mark.parametrize(
    ("content", "fragments"),
    [
        (b"", ["is empty"]),
        (b"   \n", ["is empty"]),
        (json.dumps(json.loads((DATA / "job-status-quarantine.json").read_text())).encode(),
         ["synchronization job status", "--job-status"]),
        (b'{"hello": "world"}', ["not a provisioning log"]),
        (b"[1, 2, 3]", ["no usable provisioning event", "expected a JSON object"]),
        (b"[", ["is cut off after its opening '['", "export it again"]),
        (b"\xef\xbb\xbf[\r\n  \n", ["is cut off after its opening '['"]),
        ('[{"id": "caf\u00e9"}]'.encode("latin-1") + b" " * 10, ["not UTF-8", "0xe9"]),
        (b"\x00\x01\x02binary", ["binary file"]),
        (b"null\n", ["holds only JSON null", "expected a provisioning log export"]),
        (b"  1735\n", ["holds only a bare JSON number", "expected a provisioning log export"]),
        (b'"Audit logs"', ["holds only a bare JSON string", "or CSV with a header row"]),
        (b"Provisioning logs for March\nexported by IT\n",
         ["neither JSON nor CSV", "first line has no comma, semicolon or tab"]),
    ],
    ids=["empty", "blank", "job-status", "other-json", "not-objects", "cut-after-bracket",
         "cut-after-bracket-and-space", "latin-1", "binary", "null", "number", "string",
         "plain-text"],
)
def test_unusable_files_give_one_line_and_exit_2(tmp_path, content, fragments):
    path = tmp_path / "input.json"
    path.write_bytes(content)
    with pytest.raises(InputError):
        load([path])
    code, stdout, stderr = run("summary", str(path))
    assert code == 2
    assert stdout == ""
    assert_one_line_error(stderr, str(path), *fragments)


@pytest.mark.parametrize("content", [b"[]", b"[\n]\n"])
def test_an_empty_array_is_a_whole_export_without_events_not_a_cut(tmp_path, content):
    path = tmp_path / "empty.json"
    path.write_bytes(content)
    code, _, stderr = run("summary", str(path))
    assert code == 2
    assert_one_line_error(stderr, f"{path}: holds no provisioning events")
    assert "cut off" not in stderr


def test_an_array_cut_after_its_bracket_in_a_folder_is_skipped_as_cut_off(tmp_path):
    shutil.copy(SAMPLES / "failing-initial.json", tmp_path / "good.json")
    (tmp_path / "cut.json").write_bytes(b"[\n  ")
    notes = load([tmp_path]).notes
    assert (f"skipped {tmp_path / 'cut.json'}: is cut off after its opening '[': the events "
            "that followed are missing (a download or copy that did not finish? export it "
            "again)") in notes


GRAPH_THROTTLED = {"error": {"code": "TooManyRequests", "message": "Too many requests.",
                             "innerError": {"date": "2026-03-20T10:00:00",
                                            "request-id": "5f1c7a2e-0b9d-4c3e-8a61-2d4f9e0b7c13"}}}


def test_a_graph_error_saved_as_a_page_is_named_and_its_events_said_missing(tmp_path):
    """A script saving each Graph page was throttled on page 2 and wrote Graph's error body
    in its place. Pages 1 and 3 are whole (3 ends the pull), so nothing else says that the
    events of page 2 are missing: its note must, not call it some JSON that is no log."""
    pages = _graph_pages(3)
    for n, page in enumerate(pages, start=1):
        (tmp_path / f"page-{n:03d}.json").write_text(json.dumps(page, indent=2))
    (tmp_path / "page-002.json").write_text(json.dumps(GRAPH_THROTTLED))
    notes = load([tmp_path]).notes
    said = (f"skipped {tmp_path / 'page-002.json'}: is Microsoft Graph's error response "
            "(TooManyRequests: Too many requests.), not provisioning logs: the request that "
            "saved it failed, so the events it should hold are missing; request it again, or "
            "fetch with `loganalyzer fetch` (it retries throttled pages)")
    assert said in notes
    code, _, stderr = run("summary", str(tmp_path / "page-002.json"))
    assert code == 2
    assert_one_line_error(stderr, "is Microsoft Graph's error response (TooManyRequests")


def test_missing_path_and_empty_folder(tmp_path):
    code, _, stderr = run("summary", str(tmp_path / "nope.json"))
    assert code == 2
    assert_one_line_error(stderr, "no such file or folder")
    (tmp_path / "empty").mkdir()
    code, _, stderr = run("summary", str(tmp_path / "empty"))
    assert code == 2
    assert_one_line_error(stderr, "folder holds no log files")


def test_a_store_inside_a_folder_is_read_as_a_store_and_a_broken_link_is_noted(tmp_path):
    """A folder of weekly files that also holds the store of earlier weeks: the store's
    events count (its manifest is not a log to be skipped), and a link whose file is gone
    is said, not silently missing."""
    records = json.loads((SAMPLES / "weekly-two-periods.json").read_text(encoding="utf-8"))
    split = len(records) // 2
    folder = tmp_path / "logs"
    folder.mkdir()
    (tmp_path / "older.json").write_text(json.dumps(records[:split]), encoding="utf-8")
    code, _, stderr = run("ingest", "-q", str(tmp_path / "older.json"), "-o",
                          str(folder / "store"))
    assert code == 0, stderr
    (folder / "newer.json").write_text(json.dumps(records[split:]), encoding="utf-8")
    (folder / "gone.json").symlink_to(tmp_path / "deleted.json")
    dataset = load([folder])
    assert dataset.frames.event_count() == len({r["id"] for r in records})
    assert f"skipped {folder / 'gone.json'}: a link to a file that does not exist" in \
        dataset.notes
    assert not [n for n in dataset.notes if "manifest.json" in n]
    # a folder holding only a store is read too, not refused as holding no log files
    (folder / "newer.json").unlink()
    (folder / "gone.json").unlink()
    assert load([folder]).frames.event_count() == split


def test_a_folder_of_files_excel_saved_in_ansi_says_why_it_holds_no_events(tmp_path):
    """Excel's default CSV save on Windows is ANSI (cp1252): the error names each file and
    its encoding instead of only "holds no provisioning events"."""
    folder = tmp_path / "download"
    folder.mkdir()
    for csv in (SAMPLES / "formats/csv").glob("*.csv"):
        text = csv.read_text(encoding="utf-8-sig")
        (folder / csv.name).write_bytes(text.encode("cp1252", errors="replace"))
    code, _, stderr = run("diagnose", str(folder))
    assert code == 2
    assert_one_line_error(stderr, "holds no provisioning events (skipped",
                          "ProvisioningLogs.csv: is not UTF-8 text", "save it as CSV UTF-8")


def test_a_download_whose_main_file_alone_excel_saved_in_ansi_names_that_file(tmp_path):
    """Only the main file has a non-ASCII name, so only it is not UTF-8 once Excel saved the
    three in ANSI: the error named its steps file and said the main file 'was not given'."""
    folder = tmp_path / "download"
    shutil.copytree(SAMPLES / "formats/csv", folder, ignore=shutil.ignore_patterns("*.zip"))
    main = folder / "ProvisioningLogs.csv"
    text = main.read_text(encoding="utf-8-sig")
    main.write_bytes(text.replace("Kari", "Kåri").encode("cp1252"))
    code, _, stderr = run("diagnose", str(folder))
    assert code == 2
    assert_one_line_error(stderr, "its main ProvisioningLogs file could not be read",
                          "ProvisioningLogs.csv: is not UTF-8 text", "save it as CSV UTF-8")
    assert "was not given" not in stderr


def test_corrupt_archives(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"PK\x03\x04 not really")
    code, _, stderr = run("summary", str(tmp_path / "x.zip"))
    assert code == 2
    assert_one_line_error(stderr, "not a readable .zip archive")
    (tmp_path / "y.json.gz").write_bytes(b"\x1f\x8b\x08 truncated")
    code, _, stderr = run("ingest", str(tmp_path / "y.json.gz"), "-o", str(tmp_path / "s"))
    assert code == 2
    assert_one_line_error(stderr, "cannot be read")


def test_zip_members_with_the_same_name_are_both_read(tmp_path):
    import zipfile

    archive = tmp_path / "two.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("a/export.json", json.dumps([RECORDS[0]]))
        z.writestr("b/export.json", json.dumps([RECORDS[1]]))
    dataset = load([archive])
    assert sorted(dataset.frames.events["event_id"]) == sorted(r["id"] for r in RECORDS)
    assert dataset.duplicates == 0


def test_failed_ingest_leaves_no_store_behind(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(RECORDS))
    empty = tmp_path / "empty.json"
    empty.write_text("")
    store = tmp_path / "store"
    code, _, stderr = run("ingest", str(good), str(empty), "-o", str(store))
    assert code == 2
    assert_one_line_error(stderr, "is empty")
    assert not store.exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_ingest_refuses_to_overwrite_a_folder_that_is_not_a_store(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(RECORDS))
    target = tmp_path / "documents"
    target.mkdir()
    (target / "keep.txt").write_text("mine")
    code, _, stderr = run("ingest", str(good), "-o", str(target))
    assert code == 2
    assert_one_line_error(stderr, "is not a store")
    assert (target / "keep.txt").read_text() == "mine"
    code, _, _ = run("ingest", str(good), "-o", str(tmp_path / "store"))
    code_again, _, _ = run("ingest", str(good), "-o", str(tmp_path / "store"))
    assert (code, code_again) == (0, 0)  # an earlier store is replaced


def test_folder_with_a_job_status_file_reads_the_logs_and_says_what_it_skipped(tmp_path):
    folder = tmp_path / "ticket"
    folder.mkdir()
    (folder / "export.json").write_text(json.dumps(RECORDS))
    (folder / "job.json").write_text((DATA / "job-status-quarantine.json").read_text())
    dataset = load([folder])
    assert dataset.frames.events.height == 2
    [note] = dataset.notes
    assert note.startswith(f"skipped {folder / 'job.json'}: is a synchronization job status")
    code, _, _ = run("summary", str(folder / "job.json"))
    assert code == 2  # named directly, it is still an error


def many_broken_records(path: Path) -> Path:
    """Seven NDJSON lines cut mid-record around one good record: more than the terminal lists."""
    lines = [json.dumps(RECORDS[1])] + [json.dumps(RECORDS[0])[:40]] * 7
    path.write_text("\n".join(lines) + "\n")
    return path


def test_more_problems_than_shown_says_how_to_see_them_all(tmp_path):
    export = many_broken_records(tmp_path / "export.jsonl")
    code, _, stderr = run("summary", str(export))
    assert code == 0
    assert f"skipped 7 records in {export}" in stderr
    assert "... and 2 more (run `loganalyzer ingest -o STORE` on the same inputs" in stderr
    assert "the store's manifest.json" not in stderr  # there is no store

    store = tmp_path / "store"
    code, _, stderr = run("ingest", str(export), "-o", str(store), "-q")
    assert code == 0
    assert f"... and 2 more (all are listed in {store}/manifest.json)" in stderr
    assert "wrote" not in stderr and "note:" not in stderr  # -q: the skipped records only
    code, _, loud = run("ingest", str(export), "-o", str(tmp_path / "again"))
    assert code == 0 and f"wrote {tmp_path / 'again'}: 1 event, 2 steps" in loud
    assert len(json.loads((store / "manifest.json").read_text())["problems"]) == 7

    code, _, stderr = run("summary", str(store))
    assert code == 0
    assert "... and 2 more (all are listed in the store's manifest.json)" in stderr


def test_every_output_says_records_were_left_unread(tmp_path):
    """stderr is gone once a weekly job has run: the JSON, the report and `why` say it too."""
    text = (SAMPLES / "pattern-08-unknown-department.json").read_text(encoding="utf-8")
    records = json.loads(text)
    last = records[-1]
    cut = text[: text.index(last["id"]) + 10]  # inside the last record's id: an open string
    path = tmp_path / "cut.json"
    path.write_text(cut, encoding="utf-8")
    note = (f"1 input record could not be read and is not counted ({path} 1); {path} is cut "
            f"off at record {len(records)}: whatever followed is missing too (a download or "
            "copy that did not finish? export it again)")

    code, out, stderr = run("diagnose", str(path), "--format", "json", "-q")
    assert code == 0
    assert "Unterminated string starting at line " in stderr  # not "starting at at line"
    assert json.loads(out)["notes"] == [note]
    code, out, _ = run("report", str(path), "--format", "md", "-q")
    assert code == 0 and f"Note: {note}" in out.replace("\\_", "_")  # Markdown escapes _
    code, out, _ = run("why", "hanne.roed@northwind.no", str(path), "--format", "json", "-q")
    assert code == 0 and note in json.loads(out)["notes"]


def _graph_pages(count: int) -> list[dict]:
    """``count`` Graph pages of the bundled v1.0 download, each linking to the next."""
    folder = SAMPLES / "formats" / "graph-v1"
    pages = [json.loads(p.read_text()) for p in sorted(folder.glob("page-*.json"))]
    assert len(pages) >= count
    return pages[:count]


@pytest.mark.parametrize("indent", [None, 2], ids=["one page per line", "pretty pages"])
def test_graph_pages_written_one_after_another_with_one_cut_report_only_the_cut(
        tmp_path, indent):
    """A script that appends each Graph page to one file, killed while writing the second
    page: the first and third pages are whole, so the only problem is the cut record on the
    second page, not the end of the first page's ``value`` array."""
    first, second, third = (json.dumps(p, indent=indent) for p in _graph_pages(3))
    cut_at = second.index('"activityDateTime"', len(second) // 2)
    path = tmp_path / "pages.json"
    path.write_text("\n".join([first, second[:cut_at], third]) + "\n")
    whole = len(json.loads(first)["value"]) + len(json.loads(third)["value"])
    kept_of_second = second[:cut_at].count('"activityDateTime"')  # those before the cut one

    dataset = load([path])

    assert dataset.frames.events.height == whole + kept_of_second
    [problem] = dataset.problems
    second_starts = first.count("\n") + 2
    cut_line = second_starts + second[:cut_at].count("\n")
    line = int(problem.location.removesuffix(")").rpartition("line ")[2])
    assert second_starts <= line <= cut_line, problem  # the cut record, on the second page
    assert "malformed JSON" in problem.message


def test_graph_pages_one_per_line_read_alike_by_the_fast_and_the_careful_reader(tmp_path):
    """A page file the fast reader takes whole, read again by the careful one (as after a
    refused record) gives the same events and no problem."""
    pages = _graph_pages(3)
    path = tmp_path / "pages.json"
    path.write_text("\n".join(json.dumps(p) for p in pages) + "\n")
    fast = load([path])
    events = sum(len(p["value"]) for p in pages)
    assert fast.frames.events.height == events and not fast.problems
    bad = dict(pages[2]["value"][0], durationInMilliseconds=True)  # the fast reader refuses it
    pages[2]["value"][0] = bad
    path.write_text("\n".join(json.dumps(p) for p in pages) + "\n")
    careful = load([path])
    assert careful.frames.events.height == events
    assert not careful.problems
    assert sorted(careful.frames.events["event_id"]) == sorted(fast.frames.events["event_id"])


def _cut_export(folder: Path) -> Path:
    """A portal download of the pattern-08 sample whose last record was cut off: one record
    that cannot be read, and a note on nothing else."""
    text = (SAMPLES / "pattern-08-unknown-department.json").read_text(encoding="utf-8")
    last = json.loads(text)[-1]
    path = folder / "cut.json"
    path.write_text(text[: text.index(last["id"]) + 10], encoding="utf-8")
    return path


def test_a_folder_holding_an_export_and_its_store_says_each_thing_once(tmp_path):
    folder = tmp_path / "logs"
    folder.mkdir()
    export = _cut_export(folder)
    code, _, stderr = run("ingest", "-q", str(export), "-o", str(folder / "store"))
    assert code == 0, stderr
    alone = load([export])
    for inputs in ([folder], [folder, folder / "store"]):  # the store also given itself
        dataset = load(inputs)
        assert dataset.frames.event_count() == alone.frames.event_count()
        assert dataset.problems == alone.problems  # one unread record, not two
        assert dataset.input_notes()[0].startswith(
            f"1 input record could not be read and is not counted ({export} 1); {export} is cut "
            "off at record ")
        # spilled through a temporary store, what the store's ingest noted is kept
        spilled = load(inputs, spill_bytes=1)
        assert spilled.frames.event_count() == alone.frames.event_count()
        assert spilled.problems == alone.problems


def test_adding_a_week_to_a_store_keeps_what_was_said_of_the_weeks_before(tmp_path):
    export = _cut_export(tmp_path)
    store = tmp_path / "store"
    assert run("ingest", "-q", str(export), "-o", str(store))[0] == 0
    before = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    assert before["problems"]
    week = tmp_path / "week.json"
    week.write_text((SAMPLES / "healthy-incremental.json").read_text(encoding="utf-8"),
                    encoding="utf-8")
    code, _, stderr = run("ingest", str(store), str(week), "-o", str(store))
    assert code == 0, stderr
    assert "replacing" not in stderr
    after = json.loads((store / "manifest.json").read_text(encoding="utf-8"))
    assert after["problems"] == before["problems"]
    # ingest of a folder into a store inside it reads that store: nothing is replaced
    folder = tmp_path / "logs"
    folder.mkdir()
    shutil.move(store, folder / "store")
    code, _, stderr = run("ingest", str(folder), "-o", str(folder / "store"))
    assert code == 0 and "replacing" not in stderr, stderr


def test_a_store_whose_manifest_is_damaged_is_rebuilt_by_ingest(tmp_path):
    store = tmp_path / "store"
    sample = str(SAMPLES / "failing-initial.json")
    assert run("ingest", "-q", sample, "-o", str(store))[0] == 0
    (store / "manifest.json").write_text("{not json", encoding="utf-8")
    code, _, stderr = run("ingest", sample, "-o", str(store))
    assert code == 0, stderr
    assert f"note: replacing the store {store};" in stderr
    assert json.loads((store / "manifest.json").read_text(encoding="utf-8"))["counts"]


def test_a_csv_excel_saved_in_ansi_is_refused_naming_its_line_as_the_docs_show(
        tmp_path, monkeypatch):
    """The download re-saved as cp1252: the first "ø" (byte 0xf8) is named by its line, with
    Excel's way out, in the words docs/inputs.md shows."""
    text = (SAMPLES / "formats/csv/ProvisioningLogs.csv").read_text(encoding="utf-8-sig")
    (tmp_path / "ProvisioningLogs.csv").write_bytes(text.encode("cp1252", errors="replace"))
    line = text[:text.index("ø")].count("\n") + 1
    monkeypatch.chdir(tmp_path)
    code, _, stderr = run("summary", "ProvisioningLogs.csv")
    shown = (f"error: ProvisioningLogs.csv: is not UTF-8 text (byte 0xf8 at line {line}); "
             "export it again, or in Excel save it as CSV UTF-8 (Comma delimited)")
    assert code == 2 and stderr == shown + "\n"
    assert shown in (ROOT / "docs/inputs.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_an_export_opened_in_excel_and_saved_as_a_workbook_says_so(tmp_path, suffix):
    """A Log Analytics CSV opened in Excel and saved as a workbook (.xlsx, or renamed back
    to .csv): say it is a workbook and how to save it as CSV, not 'a binary file'."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["TimeGenerated [UTC]", "Id", "ResultType"])
    workbook.active.append(["3/24/2026, 8:06:10.099 AM", "4e7f7293", "Failure"])
    path = tmp_path / f"AADProvisioningLogs{suffix}"
    workbook.save(path)
    code, stdout, stderr = run("diagnose", str(path))
    assert code == 2 and stdout == ""
    assert_one_line_error(stderr, str(path), "an Excel workbook", "CSV UTF-8")


def _saved_workbook(path: Path) -> Path:
    """A Log Analytics CSV opened in Excel and saved as a workbook."""
    import openpyxl

    workbook = openpyxl.Workbook()
    workbook.active.append(["TimeGenerated [UTC]", "Id", "ResultType"])
    workbook.active.append(["3/24/2026, 8:06:10.099 AM", "4e7f7293", "Failure"])
    workbook.save(path)
    return path


@pytest.mark.parametrize("container", ["folder", "zip"])
def test_a_workbook_beside_exports_is_named_as_skipped_not_dropped_in_silence(tmp_path,
                                                                              container):
    """A folder (or .zip) of downloads where one was saved from Excel as .xlsx: the rest is
    diagnosed and the note names the workbook and how to save it as CSV; a folder holding only
    the workbook says so in its error."""
    folder = tmp_path / "logs"
    folder.mkdir()
    workbook = _saved_workbook(folder / "AADProvisioningLogs.xlsx")
    code, _, stderr = run("diagnose", str(folder))
    assert code == 2
    assert_one_line_error(stderr, str(folder), "holds no log files",
                          f"skipped {workbook}: an Excel workbook", "CSV UTF-8")
    shutil.copy(SAMPLES / "failing-initial.json", folder)
    given = folder
    if container == "zip":
        given = tmp_path / "logs.zip"
        with zipfile.ZipFile(given, "w") as archive:
            for member in folder.iterdir():
                archive.write(member, member.name)
    code, stdout, _ = run("diagnose", str(given))
    assert code == 0 and "Verdict: failing" in stdout
    named = f"{given}!AADProvisioningLogs.xlsx" if container == "zip" else str(workbook)
    assert f"Note: skipped {named}: an Excel workbook" in " ".join(stdout.split())


def test_an_old_excel_workbook_says_so(tmp_path):
    path = tmp_path / "ProvisioningLogs.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504)
    code, _, stderr = run("diagnose", str(path))
    assert code == 2
    assert_one_line_error(stderr, str(path), "an Excel workbook", "CSV UTF-8")
