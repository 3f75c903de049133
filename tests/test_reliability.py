"""Issue 13: no input, however broken, ends in a traceback; one bad record never costs more
than a good file; log text cannot drive the terminal. One test per class of the issue."""

from __future__ import annotations

import copy
import csv
import errno
import gzip
import io
import json
import os
import random
import re
import tempfile
import zipfile
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLES
from typer.testing import CliRunner

from loganalyzer import readers
from loganalyzer.cli import app
from loganalyzer.ingest import load
from loganalyzer.problems import InputError
from loganalyzer.readers import containers, cut_arrays, json_careful
from loganalyzer.readers.cut_arrays import closed_prefix
from loganalyzer.readers.json_careful import TextStream, read_careful
from loganalyzer.readers.sniff import Kind
from loganalyzer.readers.sources import Source

RECORDS = json.loads((SAMPLES / "failing-initial.json").read_text(encoding="utf-8"))
UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def records(count: int) -> list[dict]:
    return [copy.deepcopy(RECORDS[i % len(RECORDS)]) | {"id": f"evt-{i:05d}"}
            for i in range(count)]


def ids(dataset) -> list[str]:
    return dataset.frames.events["event_id"].to_list()


def line_of(data: bytes, needle: bytes) -> int:
    return data[: data.index(needle)].count(b"\n") + 1


def assert_one_error_line(stderr: str, *fragments: str) -> str:
    assert "Traceback" not in stderr and "Aborted" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, stderr
    for fragment in fragments:
        assert fragment in errors[0], errors[0]
    return errors[0]


# 1. Decoding ------------------------------------------------------------------------------


def test_class01_invalid_utf8_after_64k_costs_one_record(tmp_path):
    events = records(40)
    text = json.dumps(events, indent=2).encode()
    bad = text.index(b'"evt-00030"')
    data = text[:bad + 5] + b"\xe9" + text[bad + 5:]  # inside record 31's id
    assert bad > 65536
    path = tmp_path / "export.json"
    path.write_bytes(data)
    dataset = load([path])
    assert len(ids(dataset)) == 39 and "evt-00030" not in "".join(ids(dataset))
    [problem] = dataset.problems
    line = line_of(text, b'"evt-00030"') - 1  # the record opens on the line before its id
    assert problem.location == f"record 31 (line {line})"
    assert problem.message.startswith("is not UTF-8 text (byte 0xe9 at line ")


@pytest.mark.parametrize("container", ["plain", "gz", "zip"])
def test_class01_invalid_utf8_in_json_lines_and_containers(tmp_path, container):
    lines = [json.dumps(e).encode() for e in records(20)]
    lines[14] = lines[14].replace(b"evt-00014", b"evt-\xff0014")
    data = b"\n".join(lines) + b"\n"
    if container == "gz":
        path, name = tmp_path / "PT1H.json.gz", str(tmp_path / "PT1H.json.gz")
        path.write_bytes(gzip.compress(data))
    elif container == "zip":
        path, name = tmp_path / "logs.zip", f"{tmp_path / 'logs.zip'}!PT1H.json"
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("PT1H.json", data)
    else:
        path, name = tmp_path / "PT1H.json", str(tmp_path / "PT1H.json")
        path.write_bytes(data)
    dataset = load([path])
    assert len(ids(dataset)) == 19
    [problem] = dataset.problems
    assert (problem.file, problem.location) == (name, "line 15")
    assert "is not UTF-8 text (byte 0xff at column" in problem.message


def test_class01_download_cut_inside_a_multibyte_character(tmp_path):
    events = records(5)
    events[4]["sourceIdentity"]["displayName"] = "Bjørn Ås"
    data = json.dumps(events, indent=2, ensure_ascii=False).encode()
    cut = data.index("ø".encode()) + 1  # the first of its two bytes
    path = tmp_path / "cut.json"
    path.write_bytes(data[:cut])
    dataset = load([path])
    assert ids(dataset) == [f"evt-{i:05d}" for i in range(4)]
    [problem] = dataset.problems
    assert problem.location.startswith("record 5 (line ")
    assert "truncated" in problem.message


def test_class01_utf16_with_a_lone_surrogate(tmp_path):
    lines = [json.dumps(e) for e in records(6)]
    encoded = [line.encode("utf-16-le") for line in lines]
    encoded[2] = encoded[2].replace("evt-00002".encode("utf-16-le"),
                                    "evt-".encode("utf-16-le") + b"\x00\xd8" + b"2\x00")
    path = tmp_path / "unicode.json"
    path.write_bytes(b"\xff\xfe" + "\n".encode("utf-16-le").join(encoded))
    dataset = load([path])
    assert len(ids(dataset)) == 5
    [problem] = dataset.problems
    assert problem.location == "line 3" and "is not UTF-8 text" in problem.message


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_class01_utf16_without_a_bom_is_read_as_utf16(tmp_path, encoding):
    """.NET's UnicodeEncoding without a BOM and some scripts write UTF-16 with none: it used
    to be refused as a binary file. Names with letters beyond ASCII come through."""
    sample = SAMPLES / "failing-initial.json"
    text = sample.read_text(encoding="utf-8")
    assert any(ord(c) > 127 for c in text)  # "Røed" and the like: not only ASCII
    path = tmp_path / "unicode.json"
    path.write_bytes(text.encode(encoding))
    read, expected = load([path]), load([sample])
    assert read.problems == []
    assert read.frames.events.drop("source_file").equals(
        expected.frames.events.drop("source_file"))
    assert read.frames.steps.height == expected.frames.steps.height


# 2. Damaged containers --------------------------------------------------------------------


def _gz(tmp_path: Path, data: bytes, name: str = "export.json.gz") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_class02_gzip_cut_in_its_trailer(tmp_path):
    data = json.dumps(records(8)).encode()
    path = _gz(tmp_path, gzip.compress(data)[:-4])
    code, _, stderr = run("summary", str(path))
    assert code == 0 and "Aborted" not in stderr and "Traceback" not in stderr
    dataset = load([path])
    assert len(ids(dataset)) == 8
    assert any(n.startswith(f"{path}: the .gz is cut short") for n in dataset.notes)


def test_class02_gzip_with_trailing_garbage_and_corrupt_body(tmp_path):
    data = json.dumps(records(30), indent=2).encode()
    garbage = _gz(tmp_path, gzip.compress(data) + b"this is not gzip", "garbage.json.gz")
    dataset = load([garbage])
    assert len(ids(dataset)) == 30
    assert any("not gzip data; they are ignored" in n for n in dataset.notes)

    packed = bytearray(gzip.compress(data, compresslevel=1))
    middle = len(packed) // 2
    packed[middle:middle + 40] = bytes(40)
    corrupt = _gz(tmp_path, bytes(packed), "corrupt.json.gz")
    dataset = load([corrupt])
    assert 0 < len(ids(dataset)) < 30
    assert any(n.startswith(f"{corrupt}: the .gz is damaged after") for n in dataset.notes)
    assert "truncated" in dataset.problems[-1].message  # the record the damage cut


def _zip(path: Path, members: dict[str, bytes], method=zipfile.ZIP_DEFLATED) -> bytes:
    with zipfile.ZipFile(path, "w", method) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path.read_bytes()


def _patch_central(raw: bytes, member: str, offset: int, value: bytes) -> bytes:
    """Change a field of one member's central-directory entry (flags at 8, method at 10)."""
    entry = raw.index(b"PK\x01\x02" + raw[raw.index(b"PK\x01\x02") + 4:][:0])
    while raw[entry + 46:entry + 46 + len(member)] != member.encode():
        entry = raw.index(b"PK\x01\x02", entry + 4)
    return raw[:entry + offset] + value + raw[entry + offset + len(value):]


@pytest.mark.parametrize("damage", ["bad-crc", "corrupt-deflate", "encrypted", "deflate64"])
def test_class02_damaged_zip_members(tmp_path, damage):
    good = json.dumps(records(5)).encode()
    other = json.dumps([e | {"id": e["id"] + "-b"} for e in records(40)], indent=2).encode()
    path = tmp_path / "download.zip"
    method = zipfile.ZIP_STORED if damage == "bad-crc" else zipfile.ZIP_DEFLATED
    raw = _zip(path, {"a/good.json": good, "b/damaged.json": other}, method)
    if damage == "bad-crc":
        at = raw.index(b"Bj\xc3\xb8rn") if b"Bj\xc3\xb8rn" in raw else raw.index(b"evt-00020-b")
        raw = raw[:at + 4] + b"X" + raw[at + 5:]
    elif damage == "corrupt-deflate":
        with zipfile.ZipFile(path) as archive:
            info = archive.getinfo("b/damaged.json")
        start = raw.index(b"b/damaged.json") + len("b/damaged.json")
        middle = start + int(info.compress_size * 0.8)
        raw = raw[:middle] + bytes(64) + raw[middle + 64:]
    elif damage == "encrypted":
        raw = _patch_central(raw, "b/damaged.json", 8, b"\x01\x00")
    else:
        raw = _patch_central(raw, "b/damaged.json", 10, b"\x09\x00")
    path.write_bytes(raw)
    dataset = load([path])
    kept = ids(dataset)
    assert [i for i in kept if not i.endswith("-b")] == [f"evt-{i:05d}" for i in range(5)]
    [note] = [n for n in dataset.notes if "b/damaged.json" in n]
    expected = {"bad-crc": ["its CRC does not match"],
                "corrupt-deflate": ["is damaged after", "its CRC does not match"],
                "encrypted": ["skipped", "encrypted"], "deflate64": ["skipped", "Deflate64"]}
    assert any(e in note for e in expected[damage]) and f"{path}!b/damaged.json" in note
    if damage == "bad-crc":
        assert len(kept) == 45  # read as is: the changed byte was inside an id
    if damage == "corrupt-deflate":
        assert 5 <= len(kept) < 45 and dataset.problems


def test_class02_zip_bomb_is_capped(tmp_path, monkeypatch):
    monkeypatch.setattr(containers, "FLOOR", 1 << 20)
    monkeypatch.setattr(containers, "RATIO", 10)
    bomb = json.dumps(records(3)).encode()[:-1] + b"," + b" " * (8 << 20) + b"]"
    path = tmp_path / "bomb.zip"
    _zip(path, {"export.json": bomb})
    dataset = load([path])
    assert len(ids(dataset)) == 3
    [note] = [n for n in dataset.notes if "zip bomb" in n]
    assert note.startswith(f"{path}!export.json: expands to more than")
    assert max(p.stat().st_size for p in tmp_path.rglob("*")) < 2 << 20


# 3. Nesting ---------------------------------------------------------------------------------


def test_class03_deep_nesting_costs_one_record(tmp_path):
    events = records(5)
    text = json.dumps(events, indent=2)
    deep = '"deep": ' + "[" * 5000 + "]" * 5000 + ","
    text = text.replace('"id": "evt-00002",', '"id": "evt-00002", ' + deep)
    (tmp_path / "deep.json").write_text(text)
    lines = [json.dumps(e) for e in records(5)]
    lines[1] = lines[1][:-1] + ', "x": ' + '{"a":' * 3000 + "1" + "}" * 3000 + "}"
    (tmp_path / "deep.jsonl").write_text("\n".join(lines))
    for name, kind, where in (("deep.json", Kind.JSON_ARRAY, "record 3 (line "),
                              ("deep.jsonl", Kind.NDJSON, "line 2")):
        path = tmp_path / name
        items = list(read_careful(Source(str(path), path), kind))
        assert [i["id"] for i in items if isinstance(i, dict)] == [
            f"evt-{n:05d}" for n in range(5) if n != int(where == "line 2") + 2 * (kind is
                                                                                 Kind.JSON_ARRAY)]
        [problem] = [i for i in items if not isinstance(i, dict)]
        assert problem.location.startswith(where) and "nested deeper" in problem.message
        dataset = load([path])  # the fast reader ignores the unknown field, or the careful one
        assert len(ids(dataset)) in (4, 5) and len(ids(dataset)) + len(dataset.problems) == 5


def test_class03_deep_nesting_where_the_kind_is_sniffed(tmp_path):
    """Found by the fuzz run: nesting in a Graph page's first line crashed the sniffer."""
    page = {"@odata.context": "x", "value": records(3)}
    text = json.dumps(page).replace('"x"', "[" * 5000 + "]" * 5000, 1)
    path = tmp_path / "page.json"
    path.write_text(text)
    assert len(ids(load([path]))) == 3


def _portal_copy(tmp_path: Path) -> tuple[Path, list[list[str]]]:
    """The sample portal download copied, and its steps file's rows (header first)."""
    folder = tmp_path / "download"
    folder.mkdir()
    for path in (SAMPLES / "formats/csv").glob("*.csv"):
        (folder / path.name).write_bytes(path.read_bytes())
    steps = folder / "ProvisioningLogs_ProvisioningSteps.csv"
    rows = list(csv.reader(io.StringIO(steps.read_text(encoding="utf-8-sig"), newline="")))
    rows[0] = [h.lstrip("\ufeff") for h in rows[0]]
    return folder, rows


def _write_steps(folder: Path, rows: list[list[str]]) -> None:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    (folder / "ProvisioningLogs_ProvisioningSteps.csv").write_text(out.getvalue(),
                                                                   encoding="utf-8")


def test_class03_deep_nesting_in_a_csv_details_cell_and_a_log_analytics_column(tmp_path):
    folder, rows = _portal_copy(tmp_path)
    rows[1][rows[0].index("Details")] = "[" * 5000 + "]" * 5000
    _write_steps(folder, rows)
    dataset = load([folder])
    assert dataset.frames.events.height == load([SAMPLES / "formats/csv"]).frames.events.height
    assert any("details" in n.lower() for n in dataset.notes)

    la_rows = json.loads((SAMPLES / "formats/log-analytics/AADProvisioningLogs.json").read_text(
        encoding="utf-8"))[:6]
    la_rows[2]["ProvisioningSteps"] = "[" * 5000 + "]" * 5000
    path = tmp_path / "la.json"
    path.write_text(json.dumps(la_rows, indent=2))
    dataset = load([path])
    assert dataset.frames.events.height == 5
    [problem] = dataset.problems
    assert problem.location.startswith("record 3 (line ") and "nested deeper" in problem.message


# 4. Numbers out of range ------------------------------------------------------------------


def test_class04_numbers_out_of_range_are_noted_not_fatal(tmp_path):
    values = ["1e400", "Infinity", '"inf"', "1e30", str(2**64), "1204"]
    events = records(len(values))
    text = ",\n".join(
        json.dumps(e).replace('"durationInMilliseconds": ', f'"durationInMilliseconds": {v}, "_":')
        for e, v in zip(events, values, strict=True)
    )
    path = tmp_path / "numbers.json"
    path.write_text(f"[{text}]")
    dataset = load([path])
    durations = dataset.frames.events["duration_ms"].to_list()
    assert durations == [None] * 5 + [1204]
    notes = [n for n in dataset.notes if "'durationInMilliseconds'" in n]
    assert len(notes) == 5 and all("out of range" in n for n in notes)
    assert not dataset.problems


@pytest.mark.parametrize("number", ["inf", "-Infinity", "1e400"])
def test_class04_a_step_number_out_of_range_in_a_csv_download(tmp_path, number):
    folder, rows = _portal_copy(tmp_path)
    rows[1][rows[0].index("Step")] = number
    _write_steps(folder, rows)
    code, _, stderr = run("diagnose", str(folder), "-q")
    assert code == 0 and "Traceback" not in stderr
    whole = load([SAMPLES / "formats/csv"]).frames.events.height
    assert load([folder]).frames.events.height == whole


def test_class01_half_a_surrogate_pair_escaped_in_json_text(tmp_path):
    """A text cut inside an emoji: JSON may escape half of its surrogate pair, UTF-8 cannot
    hold it. The record is kept, the half becomes U+FFFD, in an export and a CSV cell."""
    events = records(3)
    events[1]["provisioningSteps"][0]["details"] = {"DisplayName": "Ola \ud83d"}
    path = tmp_path / "export.json"
    path.write_text(json.dumps(events))  # escaped as "\\ud83d", as JSON allows
    code, _, stderr = run("diagnose", str(path), "-q")
    assert code == 0 and "Traceback" not in stderr
    details = load([path]).frames.steps.filter(pl.col("step_index") == 0)["details"].to_list()
    assert {"key": "DisplayName", "value": "Ola \ufffd"} in details[1]

    folder, rows = _portal_copy(tmp_path)
    rows[1][rows[0].index("Details")] = '{"DisplayName": "Ola \\ud83d"}'
    _write_steps(folder, rows)
    code, _, stderr = run("diagnose", str(folder), "-q")
    assert code == 0 and "Traceback" not in stderr
    steps = load([folder]).frames.steps.explode("details")["details"].struct.field("value")
    assert "Ola \ufffd" in steps.to_list()


# 5. Odd shapes ------------------------------------------------------------------------------


def test_class05_log_analytics_tables_with_rows_not_an_array(tmp_path):
    path = tmp_path / "query.json"
    columns = [{"name": c, "type": "string"} for c in ("TimeGenerated", "Id", "ResultType")]
    path.write_text(json.dumps({"tables": [{"name": "PrimaryResult", "columns": columns,
                                            "rows": 5}]}))
    code, stdout, stderr = run("summary", str(path))
    assert code == 2 and stdout == ""
    assert_one_error_line(stderr, str(path), "'rows' is not an array of rows (found int)")


@pytest.fixture
def store(tmp_path) -> Path:
    export = tmp_path / "export.json"
    export.write_text(json.dumps(records(12)))
    out = tmp_path / "store"
    assert run("ingest", str(export), "-o", str(out), "-q")[0] == 0
    return out


@pytest.mark.parametrize("damage", ["manifest", "file-order", "truncated", "missing",
                                    "schema"])
@pytest.mark.parametrize("command", ["summary", "why"])
def test_class05_damaged_store_is_one_line_exit_2(store, damage, command):
    if damage == "manifest":
        (store / "manifest.json").write_text('{"problems": [1, 2')
        named = store / "manifest.json"
    elif damage == "file-order":  # `why` would order a person's events by its files
        manifest = json.loads((store / "manifest.json").read_text())
        (store / "manifest.json").write_text(json.dumps(manifest | {"newest_first": "x.json"}))
        named = store / "manifest.json"
    elif damage == "truncated":
        named = store / "steps.parquet"
        named.write_bytes(named.read_bytes()[:200])
    elif damage == "missing":
        named = store / "modified_properties.parquet"
        named.unlink()
    else:
        named = store / "events.parquet"
        pl.DataFrame({"event_id": ["a"], "other": [1]}).write_parquet(named)
    args = ["why", "anna@northwind.no", str(store)] if command == "why" else ["summary", str(store)]
    code, stdout, stderr = run(*args)
    assert code == 2, stderr
    assert_one_error_line(stderr, str(named), "run ingest again")


# 6. One bad record is linear and streams ------------------------------------------------------


def test_class06_one_bad_record_streams_in_bounded_memory(tmp_path, monkeypatch):
    monkeypatch.setattr(json_careful, "CHUNK", 1 << 16)
    held = []
    more = TextStream.more

    def tracking(self):
        grew = more(self)
        held.append(len(self.buf))
        return grew

    monkeypatch.setattr(TextStream, "more", tracking)
    events = records(2000)
    text = json.dumps(events, separators=(",", ":"))
    middle = text.index('"evt-01000"')
    text = text[:middle] + '"evt-01000" "oops",' + text[middle + len('"evt-01000",'):]
    path = tmp_path / "big.json"
    path.write_text(text)
    items = list(read_careful(Source(str(path), path), Kind.JSON_ARRAY))
    rows = [i for i in items if isinstance(i, dict)]
    problems = [i for i in items if not isinstance(i, dict) and "malformed" in i.message]
    assert len(rows) == 1999 and [p.location for p in problems] == ["record 1001 (line 1)"]
    assert rows[-1]["source_record"] == 2000
    assert len(text) > 8_000_000 and max(held) < 4 * (1 << 16)


@pytest.mark.parametrize("lines", [False, True], ids=["array", "json-lines"])
def test_class06_after_the_damage_the_fast_reader_takes_over(tmp_path, monkeypatch, lines):
    monkeypatch.setattr(json_careful, "CLEAN_RUN", 50)
    called = []
    read_careful_ = readers.read_careful

    def counting(*args, **kwargs):
        called.append(kwargs.get("skip"))
        return read_careful_(*args, **kwargs)

    monkeypatch.setattr(readers, "read_careful", counting)
    events = records(1500)
    if lines:
        text = "\n".join(json.dumps(e, separators=(",", ":")) for e in events) + "\n"
    else:
        text = json.dumps(events, indent=1)
    for victim in ("evt-00400", "evt-01100"):
        at = text.index(f'"{victim}"')
        text = text[:at] + f'"{victim}" "broken"' + text[at + len(victim) + 2:]
    data = text.encode()
    path = tmp_path / ("big.jsonl" if lines else "big.json")
    path.write_bytes(data)
    dataset = load([path])
    assert len(ids(dataset)) == 1498
    numbers = dict(zip(ids(dataset), dataset.frames.events["source_record"], strict=True))
    assert numbers["evt-01499"] == 1500 and numbers["evt-00800"] == 801
    where = [p.location for p in dataset.problems]
    first, second = (line_of(data, b'"evt-00400"'), line_of(data, b'"evt-01100"'))
    if lines:
        assert where == [f"line {first}", f"line {second}"]
    else:
        assert where == [f"record 401 (line {first - 1})", f"record 1101 (line {second - 1})"]
    assert len(called) == 2  # the careful reader ran twice, briefly; DuckDB read the rest


def _careful_rows(monkeypatch) -> list[int]:
    """How many events each call of the careful reader yields, as ``_read_json`` calls it."""
    calls: list[int] = []
    read_careful_ = readers.read_careful

    def counting(*args, **kwargs):
        items, calls_at = read_careful_(*args, **kwargs), len(calls)
        calls.append(0)
        while True:
            try:
                item = next(items)
            except StopIteration as stop:
                return stop.value
            calls[calls_at] += isinstance(item, dict)
            yield item

    monkeypatch.setattr(readers, "read_careful", counting)
    return calls


def _read_carefully(path: Path) -> tuple[list[str], list[json_careful.Problem]]:
    """The events and problems of the careful reader alone: what the fast one must match."""
    items = list(read_careful(Source(str(path), path), Kind.JSON_ARRAY))
    return ([i["id"] for i in items if isinstance(i, dict)],
            [i for i in items if isinstance(i, json_careful.Problem)])


@pytest.mark.parametrize("cut", ["in-a-record", "after-a-comma"])
@pytest.mark.parametrize("layout", ["portal", "spaced", "indented", "bom"])
def test_class06_a_cut_download_is_read_fast_up_to_its_cut_record(tmp_path, monkeypatch,
                                                                  layout, cut):
    """An interrupted download used to be read record by record from its start, ten times
    slower per event than the whole file: only the cut record is the careful reader's now,
    and the problem is said as before, at the same line and column."""
    calls = _careful_rows(monkeypatch)
    spill = tmp_path / "temp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    events = records(1200)
    text = json.dumps(events, indent=2 if layout == "indented" else None,
                      separators=(",", ":") if layout == "portal" else None)
    data = (b"\xef\xbb\xbf" if layout == "bom" else b"") + text.encode()
    path = tmp_path / "cut.json"
    path.write_bytes(data)
    assert closed_prefix(Source(str(path), path), Kind.JSON_ARRAY) is None  # whole: not copied
    last = data.index(b'"evt-01199"')
    end = last + 6 if cut == "in-a-record" else data.rindex(b",", 0, last) + 1
    path.write_bytes(data[:end])
    dataset = load([path])
    careful_ids, careful_problems = _read_carefully(path)
    assert ids(dataset) == careful_ids == [f"evt-{i:05d}" for i in range(1199)]
    assert dataset.problems == careful_problems
    [problem] = dataset.problems
    assert problem.location.startswith("record 1200 (line ")
    assert ("Unterminated string starting at line" if cut == "in-a-record"
            else "missing: the file ends after record 1199") in problem.message
    # the careful reader read from the last record start on: the cut one, or the last whole
    assert calls == [0 if cut == "in-a-record" else 1]
    assert list(spill.iterdir()) == []  # the copy and the rest are removed


def _cut_download(tmp_path: Path) -> Path:
    text = json.dumps(records(1200), separators=(",", ":"))
    path = tmp_path / "cut.json"
    path.write_text(text[: text.index('"evt-01199"') + 6])
    return path


@pytest.mark.skipif(not hasattr(os, "copy_file_range"), reason="Linux's in-kernel copy")
def test_class06_a_kernel_refusing_the_copy_part_way_is_copied_on_from_there(tmp_path,
                                                                             monkeypatch):
    """Between two file systems (the export on another disk than the temp folder) the kernel
    may refuse its copy, after some of it or at once: the rest is copied through Python from
    where the kernel stopped, and the file is still read fast up to its cut."""
    calls = _careful_rows(monkeypatch)
    kernel_copy, given = os.copy_file_range, []

    def refusing(source, target, count, *args):
        given.append(count)
        if len(given) > 1:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return kernel_copy(source, target, min(count, 1000), *args)

    monkeypatch.setattr(os, "copy_file_range", refusing)
    path = _cut_download(tmp_path)
    dataset = load([path])
    assert len(given) == 2
    assert ids(dataset) == _read_carefully(path)[0] == [f"evt-{i:05d}" for i in range(1199)]
    assert calls == [0]  # the copy held every whole record


def test_class06_a_full_temp_folder_reads_the_cut_download_carefully(tmp_path, monkeypatch):
    """No room for the copy of the whole records: the file is read record by record as before
    the copy existed, not refused, and no part of the copy is left."""
    calls = _careful_rows(monkeypatch)
    spill = tmp_path / "temp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cut_arrays, "_copy", full)
    path = _cut_download(tmp_path)
    dataset = load([path])
    assert (ids(dataset), dataset.problems) == _read_carefully(path)
    assert calls == [1199]
    assert list(spill.iterdir()) == []


def test_class06_a_temp_folder_filling_up_while_the_rest_is_written_keeps_none_of_it(
        tmp_path, monkeypatch):
    """The part of the file after the cut's last record start (or after damage) is written to
    the temp folder for the next reader: when that fills the folder, the part written is
    removed, not left to keep it full, and the file is still read carefully."""
    spill = tmp_path / "temp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))

    def full(source, target, length):
        target.write(source.read(100))
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(readers.shutil, "copyfileobj", full)
    path = _cut_download(tmp_path)
    dataset = load([path])
    assert (ids(dataset), dataset.problems) == _read_carefully(path)
    assert list(spill.iterdir()) == []


def test_class06_the_copy_is_closed_before_it_is_removed(tmp_path, monkeypatch):
    """Windows cannot remove a file that is still open: a temp folder filling up during the
    copy must close the copy before removing it, or the fallback to the careful reader
    fails with 'The process cannot access the file because it is being used'."""
    opened = []
    named_temporary_file = tempfile.NamedTemporaryFile

    def recorded(*args, **kwargs):
        opened.append(named_temporary_file(*args, **kwargs))
        return opened[-1]

    unlink = Path.unlink

    def as_windows_does(self, *args, **kwargs):
        if any(f.name == str(self) and not f.closed for f in opened):
            raise PermissionError(errno.EACCES, "used by another process", str(self))
        return unlink(self, *args, **kwargs)

    def full(*args):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(cut_arrays.tempfile, "NamedTemporaryFile", recorded)
    monkeypatch.setattr(Path, "unlink", as_windows_does)
    monkeypatch.setattr(cut_arrays, "_copy", full)
    path = _cut_download(tmp_path)
    assert closed_prefix(Source(str(path), path), Kind.JSON_ARRAY) is None
    assert len(opened) == 1 and not Path(opened[0].name).exists()


def test_class06_a_record_start_inside_the_cut_record_falls_back(tmp_path, monkeypatch):
    """The last place a record seems to start is inside the cut record (a nested object with
    the records' first key): DuckDB refuses the copy and the careful reader reads on, with the
    same events and problem as alone."""
    calls = _careful_rows(monkeypatch)
    events = records(300)
    events[-1]["extra"] = [{"id": "a"}, {"id": "b", "more": "x" * 100}]
    text = json.dumps(events, separators=(",", ":"))
    path = tmp_path / "cut.json"
    path.write_text(text[: text.rindex('"more"') + 20])
    dataset = load([path])
    careful_ids, careful_problems = _read_carefully(path)
    assert ids(dataset) == careful_ids and len(careful_ids) == 299
    assert dataset.problems == careful_problems and "truncated" in careful_problems[-1].message
    assert len(calls) == 1


def test_class06_a_hand_back_keeps_a_one_line_file_s_columns(tmp_path, monkeypatch):
    """After the fast reader takes over again, the careful reader's columns on a one-line
    file are the whole file's, not the rest's it was handed."""
    monkeypatch.setattr(json_careful, "CLEAN_RUN", 50)
    text = json.dumps(records(1500), separators=(",", ":"))
    for victim in ("evt-00400", "evt-01100"):
        at = text.index(f'"{victim}"')
        text = text[:at] + f'"{victim}" "broken"' + text[at + len(victim) + 2:]
    path = tmp_path / "big.json"
    path.write_text(text)
    dataset = load([path])
    assert len(dataset.problems) == 2
    assert dataset.problems == _read_carefully(path)[1]


# A Graph page, or an array of pages, cut off: read fast up to the cut as a portal array is

CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#auditLogs/provisioning"
NEXT_LINK = ("https://graph.microsoft.com/v1.0/auditLogs/provisioning?$top=20&$skiptoken="
             "g822a72df43b19c8ce94b71d153981b680a08800bc3e35f239dffb378ff72c25")


def _page(events: list[dict], link_first: bool = False) -> dict:
    if link_first:  # Graph's own order on some endpoints: the nextLink before the events
        return {"@odata.context": CONTEXT, "@odata.nextLink": NEXT_LINK, "value": events}
    return {"@odata.context": CONTEXT, "value": events, "@odata.nextLink": NEXT_LINK}


def _page_file(shape: str, events: list[dict]) -> bytes:
    """The events saved as one Graph page, as several (an array of pages, or pages one per
    line), compact or indented."""
    pages = [_page(events[i:i + 20]) for i in range(0, len(events), 20)]
    if shape == "page":
        return json.dumps(_page(events), indent=2).encode()
    if shape == "page-compact":
        return b"\xef\xbb\xbf" + json.dumps(_page(events, link_first=True),
                                            separators=(",", ":")).encode()
    if shape == "pages-array":
        return json.dumps(pages, indent=2).encode()
    if shape == "pages-array-compact":
        return json.dumps(pages, separators=(",", ":")).encode()
    assert shape == "pages-a-line"
    return "\n".join(json.dumps(p) for p in pages).encode() + b"\n"


def _tables(dataset) -> dict[str, pl.DataFrame]:
    frames = dataset.frames
    tables = {name: getattr(frames, name) for name in ("events", "steps", "modified_properties")}
    return {name: t.collect() if isinstance(t, pl.LazyFrame) else t
            for name, t in tables.items()}


def _assert_read_as_carefully(path: Path, monkeypatch):
    """The events, steps, properties, problems and notes of ``load`` equal those of the
    careful reader reading the whole file (as before the fast reader read a cut file's
    whole records), but for the record numbers of an array of pages' events: the careful
    reader gives each event its page's number, the fast one numbers them one by one (as it
    numbers the whole file's). Returns the dataset, or None when neither read an event."""
    with monkeypatch.context() as patched:
        patched.setattr(readers, "closed_prefix", lambda source, kind: None)
        try:
            careful = load([path])
        except InputError as exc:  # cut in its first record (or page): nothing to read
            with pytest.raises(InputError) as again:
                load([path])
            assert str(again.value) == str(exc)
            return None
    split = load([path])
    ours, theirs = _tables(split), _tables(careful)
    if "pages-array" in path.name:
        ours["events"] = ours["events"].drop("source_record")
        theirs["events"] = theirs["events"].drop("source_record")
    for name, table in ours.items():
        assert table.equals(theirs[name]), name
    assert split.problems == careful.problems
    assert (split.input_notes(), split.kinds) == (careful.input_notes(), careful.kinds)
    assert split.cut_within(None) == careful.cut_within(None)
    return split


def _copies(monkeypatch) -> list[Kind]:
    """How each file read was copied for the fast reader (its kind), as ``closed_prefix``
    answered: None when it was not."""
    made: list[Kind | None] = []

    def recorded(source, kind):
        prefix = closed_prefix(source, kind)
        made.append(prefix.kind if prefix else None)
        return prefix

    monkeypatch.setattr(readers, "closed_prefix", recorded)
    return made


def _cuts(data: bytes, seed: int) -> list[int]:
    """Where to cut a file: at random, and where a cut is hardest to read: in a string with
    an escaped quote or a brace in it, in a nested step, right after a comma between two
    records or after a record's '}', in an @odata key or nextLink, a few bytes into a
    record."""
    rng = random.Random(seed)
    start = data.index(b'"id"')
    cuts = sorted(rng.sample(range(start, len(data) - 2), 4))
    late = len(data) * 2 // 3
    for needle, offset in ((b'\\"', 1), (b'[{\\"', 2), (b'"provisioningSteps"', 40),
                           (b'"details"', 12), (b"@odata.cont", 4), (b"skiptoken=", 6),
                           (b'"id"', 2)):
        at = data.find(needle, late)
        if at >= 0:
            cuts.append(at + offset)
    comma = data.find(b"},", late)
    cuts += [comma + 1, comma + 2]  # after a record's '}' (or a nested one's), its comma
    return cuts


@pytest.mark.parametrize("shape", ["page", "page-compact", "pages-array",
                                   "pages-array-compact", "pages-a-line"])
def test_class06_a_cut_graph_page_is_read_as_the_careful_reader_reads_it(tmp_path,
                                                                         monkeypatch, shape):
    """A Graph page cut off (or an array of pages, or pages one per line) used to go whole to
    the careful reader, ten times slower per event: its whole records (whole pages, for an
    array of pages) are now read fast from a copy, and wherever the file is cut, the events,
    their steps, the problems (line and column) and notes are the careful reader's."""
    made = _copies(monkeypatch)
    spill = tmp_path / "temp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    data = _page_file(shape, records(60))
    path = tmp_path / f"{shape}.json"
    for end in _cuts(data, seed=len(shape)):
        path.write_bytes(data[:end])
        made.clear()
        dataset = _assert_read_as_carefully(path, monkeypatch)
        if end < len(data) // 2:
            continue
        assert made[0] is not None, end  # past the first page: its records were read fast
        numbers = dataset.frames.events["source_record"].to_list()
        assert numbers[:20] == list(range(1, 21))  # not the careful reader's page numbers
        assert list(spill.iterdir()) == []


def test_class06_a_whole_page_too_large_for_duckdb_is_read_fast(tmp_path, monkeypatch):
    """DuckDB reads a Graph page as one object of at most 16 MB: a script that saved a whole
    pull as one page was read record by record even whole. Its events are now copied as an
    array for the fast reader, and read as the careful reader read them (no problem; the
    nextLink after them still counted)."""
    made = _copies(monkeypatch)
    data = _page_file("page", records(60))
    path = tmp_path / "page.json"
    path.write_bytes(data)
    load([path])
    assert made == [None]  # small enough for DuckDB: read as it is
    monkeypatch.setattr(cut_arrays, "MAX_RECORD", len(data) - 1)
    made.clear()
    dataset = _assert_read_as_carefully(path, monkeypatch)
    assert made == [Kind.JSON_ARRAY] and dataset.problems == []
    assert len(ids(dataset)) == 60
    assert any("@odata.nextLink" in note for note in dataset.notes)


def test_class06_pages_opened_otherwise_than_the_first_are_read_carefully(tmp_path,
                                                                         monkeypatch):
    """An array of pages numbers its pages: they are counted in the copy by how the first one
    opens. A page opened otherwise (another writer's spacing) makes the count unsure: after
    the fast read, the careful reader reads the file from its start, passing the events the
    fast reader gave, and the cut page is still named by its number."""
    calls = _careful_rows(monkeypatch)
    pages = [_page(records(100)[i:i + 20]) for i in range(0, 100, 20)]
    text = json.dumps(pages, separators=(",", ":"))
    at = text.index('{"@odata.context"', 10)
    text = text[:at] + '{ "@odata.context"' + text[at + len('{"@odata.context"'):]
    path = tmp_path / "pages-array.json"
    path.write_text(text[: text.rindex('"id"') + 8])
    [problem] = _assert_read_as_carefully(path, monkeypatch).problems
    assert problem.location.startswith("record 5 (line 1)")
    # alone, the careful reader read the four whole pages; after the fast reader, none of them
    assert calls == [80, 0]


def test_class06_a_cut_page_of_another_log_is_read_carefully(tmp_path, monkeypatch):
    """A page of sign-ins (its @odata.context names them) is the careful reader's whole, which
    skips its records as of another log; no copy is made."""
    made = _copies(monkeypatch)
    page = _page(records(50)) | {"@odata.context": CONTEXT.replace("provisioning", "signIns")}
    text = json.dumps(page)
    path = tmp_path / "signins.json"
    path.write_text(text[: text.rindex('"id"') + 8])
    load([path])
    assert made == [None]


# 7. Counting ---------------------------------------------------------------------------------


def test_class07_two_adjacent_broken_records_are_both_reported_exactly(tmp_path):
    events = records(10)
    events[8].pop("id")  # a later problem, to check numbering does not drift
    text = json.dumps(events, indent=2)
    for victim in ("evt-00003", "evt-00004"):
        at = text.index(f'"{victim}"')
        text = text[:at] + f'"{victim}" "broken": ' + text[at + len(victim) + 3:]
    data = text.encode()
    path = tmp_path / "two.json"
    path.write_bytes(data)
    dataset = load([path])
    assert len(ids(dataset)) == 7
    locations = {p.location: p.message for p in dataset.problems}
    line3 = line_of(data, b'"evt-00003"') - 1
    line4 = line_of(data, b'"evt-00004"') - 1
    assert f"record 4 (line {line3})" in locations
    assert f"record 5 (line {line4})" in locations
    assert "record 9" in locations and locations["record 9"].startswith("missing 'id'")
    assert len(dataset.problems) == 3


# 8. Folder contract ---------------------------------------------------------------------------


@pytest.mark.parametrize("as_zip", [False, True], ids=["folder", "zip"])
def test_class08_side_file_with_unknown_header_is_skipped(tmp_path, as_zip):
    portal = SAMPLES / "formats/csv"
    files = {p.name: p.read_bytes() for p in portal.glob("*.csv")}
    steps = "ProvisioningLogs_ProvisioningSteps.csv"
    files[steps] = b"Foo,Bar,Baz\r\n1,2,3\r\n"
    files["hr.csv"] = b"Name,Department,Manager\r\nAnna Berg,Sales,\r\n"
    files["SOURCE.txt"] = b"exported by IT on Monday\n"
    folder = tmp_path / "download"
    folder.mkdir()
    for name, data in files.items():
        (folder / name).write_bytes(data)
    target = folder
    if as_zip:
        target = tmp_path / "download.zip"
        _zip(target, files)
    dataset = load([target])
    assert dataset.frames.events.height == load([portal]).frames.events.height
    skipped = sorted(n.split(":")[0].rsplit("/", 1)[-1].rsplit("!", 1)[-1]
                     for n in dataset.notes if n.startswith("skipped "))
    assert skipped == ["ProvisioningLogs_ProvisioningSteps.csv", "SOURCE.txt", "hr.csv"]
    code, stdout, stderr = run("summary", str(target))
    assert code == 0 and "skipped" in stdout + stderr


def test_class08_folder_without_any_log_exits_2(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "hr.csv").write_bytes(b"Name,Department\r\nAnna,Sales\r\n")
    (folder / "SOURCE.txt").write_bytes(b"exported by IT\n")
    code, _, stderr = run("summary", str(folder))
    assert code == 2
    assert_one_error_line(stderr, "holds no provisioning events")


# 9. Error messages ----------------------------------------------------------------------------


def test_class09_errors_are_one_line_with_values_shortened(tmp_path):
    odd = tmp_path / "bad\nname\x1b[2J.json"
    odd.write_text("null")
    code, _, stderr = run("summary", str(odd))
    assert code == 2
    line = assert_one_error_line(stderr, "bad\\nname\\x1b[2J.json", "holds only JSON null")
    assert "\x1b" not in line

    events = records(2)
    events[0]["activityDateTime"] = "2026-03-24T" + "9" * 5_000_000
    path = tmp_path / "huge-date.json"
    path.write_text(json.dumps(events))
    code, _, stderr = run("summary", str(path))
    assert code == 0
    [problem_line] = [line for line in stderr.splitlines() if "'activityDateTime'" in line]
    assert len(problem_line) < 400 and "(5,000,011 characters)" in problem_line


# 10. Data drives the terminal -------------------------------------------------------------------

NASTY = "\x1b]0;pwned\x07 \x1b[2J \u202eevil \x9b31m"


@pytest.fixture
def nasty_export(tmp_path) -> Path:
    events = records(6)
    for event in events:
        event["sourceIdentity"]["displayName"] = f"Anna {NASTY} Berg"
        info = event["provisioningStatusInfo"].get("errorInformation")
        if info:
            info["reason"] = f"StatusCode: BadRequest Web Response: {{\"detail\": \"{NASTY}\"}}"
    events[5]["activityDateTime"] = f"yesterday {NASTY}"  # a stderr problem line
    path = tmp_path / "nasty.json"
    path.write_text(json.dumps(events))
    return path


@pytest.mark.parametrize(
    "args",
    [["summary"], ["summary", "--format", "json"], ["diagnose"], ["diagnose", "--format", "md"],
     ["diagnose", "--format", "json"], ["report", "--format", "html", "-o", "OUT"],
     ["report", "--format", "md", "-o", "OUT"], ["why", "Anna"], ["why", "Anna", "--format", "md"],
     ["why", "Anna", "--format", "json"]],
    ids=lambda a: " ".join(a),
)
def test_class10_control_characters_from_data_are_escaped_everywhere(nasty_export, tmp_path,
                                                                      args):
    suffix = next((f".{a}" for a in args if a in ("html", "md")), ".txt")
    out = tmp_path / f"out{suffix}"
    upn = RECORDS[0]["sourceIdentity"]["details"]["UserPrincipalName"]
    command = [args[0], *([upn] if args[0] == "why" else []), str(nasty_export)]
    command += [str(out) if a == "OUT" else a for a in args[1:] if a != "Anna"]
    code, stdout, stderr = run(*command)
    assert code in (0, 1), stderr
    written = out.read_text(encoding="utf-8") if out.exists() else ""
    for text in (stdout, stderr, written):
        assert not UNSAFE.search(text), repr(UNSAFE.search(text))
    assert "\\x1b" in stderr  # the problem line shows the escape, visibly
    if "json" in args:
        json.loads(stdout)


# 11. Data crashes a chart -----------------------------------------------------------------------


def test_class11_dollar_signs_in_data_are_drawn_literally(tmp_path):
    events = records(30)
    for event in events:
        info = event["provisioningStatusInfo"].get("errorInformation")
        if info and info.get("errorCode"):
            info["errorCode"] = "Err $x^{$ and $5 \\frac{1}{0} $6"
    path = tmp_path / "dollars.json"
    path.write_text(json.dumps(events))
    out = tmp_path / "report.html"
    code, _, stderr = run("report", str(path), "--format", "html", "-o", str(out))
    assert code == 0, stderr
    html = out.read_text(encoding="utf-8")
    assert html.count("<svg") >= 3  # the charts, the error-code one included, were drawn


# 12. Secrets -----------------------------------------------------------------------------------


def test_class12_issue_secrets_are_masked_with_redact(tmp_path):
    secrets = {
        "sig": "https://a.blob.core.windows.net/c?sv=1&sig=U0VDUkVUc2ln%3D",
        "sas": "SharedAccessSignature sr=ns&sig=U0FTc2lnbmF0dXJl&se=1&skn=k",
        "account": "DefaultEndpointsProtocol=https;AccountKey=QUNDT1VOVEtFWQ==;",
        "apim": "Ocp-Apim-Subscription-Key: 0a1b2c3d4e5f60718293a4b5c6d7e8f9",
        "pem": "-----BEGIN PRIVATE KEY-----\\nUFJJVkFURUtFWQ\\n-----END PRIVATE KEY-----",
        "github": "ghp_R2l0SHViVG9rZW4wMTIzNDU2Nzg5YWJjZGVm",
    }
    events = records(len(secrets))
    for event, text in zip(events, secrets.values(), strict=True):
        event["provisioningStatusInfo"]["status"] = "failure"
        event["provisioningStatusInfo"]["errorInformation"] = {
            "errorCode": "SystemForCrossDomainIdentityManagementBadRequest",
            "reason": f"StatusCode: BadRequest Web Response: {{\"detail\": \"{text}\"}}"}
    path = tmp_path / "secrets.json"
    path.write_text(json.dumps(events))
    out = tmp_path / "report.html"
    assert run("report", str(path), "--format", "html", "--redact", "-o", str(out))[0] in (0, 1)
    html = out.read_text(encoding="utf-8")
    for secret in ("U0VDUkVUc2ln", "U0FTc2lnbmF0dXJl", "QUNDT1VOVEtFWQ", "0a1b2c3d4e5f607",
                   "UFJJVkFURUtFWQ", "R2l0SHViVG9rZW4"):
        assert secret not in html


def test_class10_rich_terminal_output_escapes_data_but_keeps_its_colours(monkeypatch, capsys):
    from rich.table import Table

    from loganalyzer.cli import outputs

    monkeypatch.setattr(outputs.sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("FORCE_COLOR", "1")
    table = Table()
    table.add_column("reason", style="bold red")
    table.add_row(NASTY)
    outputs._to_stdout(table, outputs.Format.terminal)
    shown = capsys.readouterr().out
    assert "\\x1b]0;pwned" in shown and "\\u202e" in shown  # rich drops the BEL itself
    assert not re.search("\x1b[^\\[]|\x1b\\[2J|[\x07\x9b\u202e]", shown)
