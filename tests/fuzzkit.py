"""Mutation fuzzing of every reader and container kind, and the contract every case must keep.

A *seed* is a small real-shaped input (built from the bundled samples) whose records' byte
spans are known. A *mutation* damages it (a flipped byte, an inserted escape sequence, invalid
UTF-8, deep nesting, a huge number, a cut, a duplicated or deleted range), either inside the
log text or in the container's compressed bytes. ``run_case`` reads the result as ``load``
does and checks the contract:

- no exception but ``InputError`` (the CLI's exit 2), and within ``TIME_LIMIT`` seconds;
- every record the mutation did not touch is kept;
- a record that was lost is reported (a problem or a note names the file);
- a refusal (exit 2) only when the mutation hit the file's frame (before the first record or
  after the last) or left no intact record;
- through the CLI: exit 0 or 2, never a traceback or "Aborted", at most one error line, no
  control character from the data on the terminal.

Used by ``tests/test_fuzz.py`` (a fixed-seed budget in CI) and ``benchmarks/fuzz.py`` (a long
run that prints outcomes by class).
"""

from __future__ import annotations

import csv
import functools
import gzip
import io
import json
import re
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from random import Random

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"
RECORDS_PER_SEED = 10
TIME_LIMIT = 20.0  # seconds per case (inputs are ~50 KB; a hang or a quadratic walk exceeds it)

# What the mutations insert: each is a class of damage the readers must survive.
PAYLOADS: dict[str, bytes] = {
    "escape-title": b"\x1b]0;pwned\x07",
    "escape-clear": b"\x1b[2J",
    "c1-csi": "\u009b31m".encode(),
    "rtl-override": "\u202e".encode(),
    "invalid-utf8": b"\xff\xfe\xe9",
    "cut-multibyte": b"\xe2\x82",
    "nul": b"\x00",
    "quote": b'"',
    "open-brace": b"{",
    "close-bracket": b"]",
    "comma": b",",
    "newline": b"\r\n",
    "deep-array": b"[" * 3000,
    "deep-object": b'{"a":' * 3000,
    "huge-number": b"1e400",
    "infinity": b"-Infinity",
    "long-digits": b"9" * 5000,
    "mathtext": b"$\\frac{1}{2}$ $x^2$",
    "secret": b" sig=c2VjcmV0c2lnbmF0dXJl&se=1 ",
}
OPS = ("flip", "insert", "replace", "delete", "duplicate", "truncate")


@dataclass(frozen=True, eq=False)
class Seed:
    """A small input: its files (path -> bytes), the file mutations hit, and where each of
    that file's records is (byte start, byte end, event id)."""

    name: str
    files: dict[str, bytes] = field(repr=False)
    target: str
    spans: tuple[tuple[int, int, str], ...]
    container: str = ""  # "", "gz" or "zip": how the files are wrapped before reading
    input_name: str = ""  # what is passed to load (a file or the folder)
    side_file: bool = False  # the target is a side file: every event must still be read

    @property
    def is_csv(self) -> bool:
        return self.target.endswith(".csv")


@dataclass
class Case:
    seed: Seed
    op: str
    payload: str
    start: int  # byte range of the target (inner) or of the container that was changed
    end: int
    in_container: bool = False
    data: dict[str, bytes] = field(default_factory=dict, repr=False)
    shift: int = 0  # how many bytes longer the target became
    at: float = 0.0  # the mutation's parameters, to replay it
    size: float = 0.0

    @property
    def label(self) -> str:
        where = "container" if self.in_container else "text"
        return (f"{self.seed.name}/{where}/{self.op}/{self.payload or '-'}"
                f"@{self.at:.4f},{self.size:.4f}")


@dataclass
class Outcome:
    case: Case
    result: str  # "read", "refused" (exit 2) or "crash"
    seconds: float
    violations: list[str]
    kept: int = 0
    reported: int = 0


# ---------------------------------------------------------------- seeds


def _records() -> list[dict]:
    data = json.loads((SAMPLES / "failing-initial.json").read_text(encoding="utf-8"))
    return data[:RECORDS_PER_SEED]


def _array_spans(text: str, pos: int, key: Callable[[dict], str]) -> list[tuple[int, int, str]]:
    """(start, end, id) of each object in a JSON array that starts after ``pos``, in bytes."""
    decoder = json.JSONDecoder()
    spans = []
    while True:
        match = re.compile(r"[\s,]*").match(text, pos)
        pos = match.end()
        if pos >= len(text) or text[pos] == "]":
            break
        value, end = decoder.raw_decode(text, pos)
        spans.append((pos, end, key(value)))
        pos = end
    return [(_bytes(text, s), _bytes(text, e), i) for s, e, i in spans]


def _bytes(text: str, pos: int) -> int:
    return len(text[:pos].encode("utf-8"))


def _line_spans(text: str, key: Callable[[dict], str]) -> list[tuple[int, int, str]]:
    spans, pos = [], 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            spans.append((_bytes(text, pos), _bytes(text, pos + len(line)), key(json.loads(line))))
        pos += len(line)
    return spans


def _csv_spans(text: str, id_column: str) -> list[tuple[int, int, str]]:
    """(start, end, id) of each data row, from where each physical line starts."""
    starts = [0]
    for match in re.finditer("\n", text):
        starts.append(match.end())
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader)
    index = [h.lstrip("\ufeff") for h in header].index(id_column)
    spans, line = [], reader.line_num
    for row in reader:
        first, line = line, reader.line_num
        if row:
            end = starts[min(line, len(starts) - 1)]
            spans.append((_bytes(text, starts[first]), _bytes(text, end), row[index]))
    return spans


def _csv_head(path: Path, rows: int) -> str:
    text = path.read_text(encoding="utf-8-sig")
    reader = csv.reader(io.StringIO(text, newline=""))
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    for number, row in enumerate(reader):
        if number > rows:
            break
        writer.writerow(row)
    return out.getvalue()


def _ndjson(records: list[dict], envelope: bool) -> str:
    lines = []
    for record in records:
        obj = record
        if envelope:
            obj = {"time": record["activityDateTime"], "category": "ProvisioningLogs",
                   "operationName": "Provisioning activity", "properties": record}
        lines.append(json.dumps(obj, separators=(",", ":")))
    return "\n".join(lines) + "\n"


def _by_id(record: dict) -> str:
    return str(record.get("id") or record.get("properties", {}).get("id"))


@functools.cache
def seeds() -> tuple[Seed, ...]:
    """Every reader and container kind, each with its records' spans."""
    records = _records()
    compact = json.dumps(records, separators=(",", ":"))
    pretty = json.dumps(records, indent=2, ensure_ascii=False)
    page = json.dumps({"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/"
                       "provisioning", "value": records,
                       "@odata.nextLink": "https://graph.microsoft.com/v1.0/next"},
                      separators=(",", ":"))
    ndjson = _ndjson(records, envelope=False)
    envelope = _ndjson(records, envelope=True)
    single = json.dumps(records[1], indent=2)
    la_rows = json.loads((SAMPLES / "formats/log-analytics/AADProvisioningLogs.json").read_text(
        encoding="utf-8"))[:RECORDS_PER_SEED]
    la_json = json.dumps(la_rows, indent=2)
    la_csv = _csv_head(SAMPLES / "formats/log-analytics/AADProvisioningLogs.csv",
                       RECORDS_PER_SEED)
    portal = SAMPLES / "formats/csv"
    main_csv = "\ufeff" + _csv_head(portal / "ProvisioningLogs.csv", RECORDS_PER_SEED)
    steps_csv = (portal / "ProvisioningLogs_ProvisioningSteps.csv").read_bytes()
    props_csv = (portal / "ProvisioningLogs_ModifiedProperties.csv").read_bytes()
    portal_files = {"ProvisioningLogs.csv": main_csv.encode(),
                    "ProvisioningLogs_ProvisioningSteps.csv": steps_csv,
                    "ProvisioningLogs_ModifiedProperties.csv": props_csv}
    main_spans = tuple(_csv_spans(main_csv, "ID"))

    def one(name: str, file: str, text: str, spans, container: str = "") -> Seed:
        return Seed(name, {file: text.encode("utf-8")}, file, tuple(spans), container)

    utf16 = "\ufeff" + ndjson
    utf16_spans = tuple((2 + 2 * s, 2 + 2 * e, i) for s, e, i in _line_spans(ndjson, _by_id))
    return (
        one("json-compact", "export.json", compact, _array_spans(compact, 1, _by_id)),
        one("json-pretty", "export.json", pretty, _array_spans(pretty, 1, _by_id)),
        one("graph-page", "page.json", page,
            _array_spans(page, page.index('"value":[') + 9, _by_id)),
        one("ndjson", "events.jsonl", ndjson, _line_spans(ndjson, _by_id)),
        one("storage-envelope", "PT1H.json", envelope, _line_spans(envelope, _by_id)),
        one("single-object", "event.json", single, [(0, len(single), records[1]["id"])]),
        one("log-analytics-json", "la.json", la_json, _array_spans(la_json, 1, lambda r: r["Id"])),
        one("log-analytics-csv", "la.csv", la_csv, _csv_spans(la_csv, "Id")),
        Seed("portal-csv-folder", portal_files, "ProvisioningLogs.csv", main_spans,
             input_name="download"),
        Seed("portal-csv-steps-file", portal_files, "ProvisioningLogs_ProvisioningSteps.csv",
             (), input_name="download", side_file=True),
        Seed("utf16-ndjson", {"events.jsonl": utf16.encode("utf-16-le")}, "events.jsonl",
             utf16_spans),
        one("gz-json", "export.json", compact, _array_spans(compact, 1, _by_id), "gz"),
        one("gz-ndjson", "PT1H.json", envelope, _line_spans(envelope, _by_id), "gz"),
        one("zip-json", "export.json", pretty, _array_spans(pretty, 1, _by_id), "zip"),
        Seed("zip-portal-csv", portal_files, "ProvisioningLogs.csv", main_spans, "zip"),
    )


# ---------------------------------------------------------------- mutations


def mutate(data: bytes, op: str, payload: bytes, at: float, size: float) -> tuple[bytes, int, int]:
    """Apply one mutation at a relative position; returns the bytes and the changed range."""
    pos = min(int(at * len(data)), len(data))
    length = max(1, int(size * min(len(data), 4096)))
    if op == "flip":
        if not data:
            return data, 0, 0
        pos = min(pos, len(data) - 1)
        flipped = bytes([data[pos] ^ (1 << int(size * 7.99))])
        return data[:pos] + flipped + data[pos + 1:], pos, pos + 1
    if op == "insert":
        return data[:pos] + payload + data[pos:], pos, pos
    if op == "replace":
        return data[:pos] + payload + data[pos + len(payload):], pos, pos + len(payload)
    if op == "delete":
        return data[:pos] + data[pos + length:], pos, pos + length
    if op == "duplicate":
        return data[:pos + length] + data[pos:], pos + length, pos + length
    if op == "truncate":
        return data[:pos], pos, len(data)
    raise ValueError(op)


def _wrap(seed: Seed, files: dict[str, bytes]) -> dict[str, bytes]:
    """The files as they are given to the reader (compressed, zipped, or as they are)."""
    if seed.container == "gz":
        return {f"{name}.gz": gzip.compress(data, mtime=0) for name, data in files.items()}
    if seed.container == "zip":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in files.items():
                archive.writestr(name, data)
        return {"export.zip": buffer.getvalue()}
    return files


def make_case(seed: Seed, op: str, payload: str, at: float, size: float,
              in_container: bool) -> Case:
    files = dict(seed.files)
    if in_container and seed.container:
        wrapped = _wrap(seed, files)
        [(name, data)] = wrapped.items()
        changed, start, end = mutate(data, op, PAYLOADS.get(payload, b""), at, size)
        return Case(seed, op, payload, start, end, True, {name: changed}, at=at, size=size)
    original = files[seed.target]
    changed, start, end = mutate(original, op, PAYLOADS.get(payload, b""), at, size)
    files[seed.target] = changed
    return Case(seed, op, payload, start, end, False, _wrap(seed, files),
                len(changed) - len(original), at, size)


def random_case(rng: Random) -> Case:
    seed = rng.choice(seeds())
    op = rng.choice(OPS)
    payload = rng.choice(sorted(PAYLOADS)) if op in ("insert", "replace") else ""
    in_container = bool(seed.container) and rng.random() < 0.35
    return make_case(seed, op, payload, rng.random(), rng.random(), in_container)


# ---------------------------------------------------------------- the contract


def _intact(case: Case) -> set[str]:
    """Ids of the target's records the mutation did not touch (a byte either side counts)."""
    if case.in_container:
        return set()
    spans = case.seed.spans
    if case.seed.name.startswith("utf16") and case.shift % 2:
        spans = tuple(span for span in spans if span[1] < case.start - 1)  # misaligned after
    if case.seed.side_file:
        return set(_baseline(case.seed))
    return {i for s, e, i in spans if e < case.start - 1 or s > case.end + 1}


def _needs_report(case: Case, lost: set[str], renamed: bool) -> set[str]:
    """The lost records a reader can know about: not those wholly cut away (a deleted range,
    the end of a truncated file), nor, when the damage spans several records, those it merged
    into one valid record."""
    if case.in_container:
        return lost
    touched = _damaged_ids(case)
    if len(touched) == 1 and renamed:
        return lost - touched  # the damage changed its id: it was read, under another id
    if len(touched) > 1 or case.op == "truncate":
        return lost - touched - {i for s, e, i in case.seed.spans if s >= case.start}
    return lost


def _frame_hit(case: Case) -> bool:
    """Did the mutation touch what surrounds the records (a header, the opening bracket, the
    end of a .gz, the zip directory) rather than only records?"""
    if case.in_container or not case.seed.spans:
        return True
    first = min(s for s, _, _ in case.seed.spans)
    last = max(e for _, e, _ in case.seed.spans)
    return case.start <= first + 1 or case.end >= last - 1


_BASELINES: dict[str, frozenset[str]] = {}


def _baseline(seed: Seed) -> frozenset[str]:
    """The events the undamaged seed yields."""
    if seed.name not in _BASELINES:
        _BASELINES[seed.name] = _read_ids(seed)
    return _BASELINES[seed.name]


def _read_ids(seed: Seed) -> frozenset[str]:
    import tempfile

    from loganalyzer.ingest import load

    with tempfile.TemporaryDirectory() as tmp:
        path = _write(Path(tmp), seed, _wrap(seed, dict(seed.files)))
        return frozenset(load([path]).frames.events["event_id"].to_list())


def _write(folder: Path, seed: Seed, files: dict[str, bytes]) -> Path:
    base = folder / seed.input_name if seed.input_name else folder
    base.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (base / name).write_bytes(data)
    return base if seed.input_name else base / next(iter(files))


_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")


def run_case(case: Case, folder: Path, cli: Callable[[list[str]], tuple[int, str, str]] | None
             = None) -> Outcome:
    """Read one case and check the contract; ``cli`` (args -> exit code, stdout, stderr) adds
    the command-line checks."""
    from loganalyzer.ingest import load
    from loganalyzer.problems import InputError

    path = _write(folder, case.seed, case.data)
    violations: list[str] = []
    started = time.perf_counter()
    result, kept, reported = "read", 0, 0
    try:
        dataset = load([path])
    except InputError as exc:
        result = "refused"
        message = str(exc)
        if "\n" in message.strip() or not message:
            violations.append("the refusal is not one line")
        csv_swallowed = case.seed.is_csv and "no usable provisioning event" in message  # below
        if not _frame_hit(case) and _intact(case) - _damaged_ids(case) and not csv_swallowed:
            violations.append(f"refused although intact records remain: {exc}")
    except Exception as exc:  # noqa: BLE001 (the contract: nothing but InputError)
        result = "crash"
        violations.append(f"{type(exc).__name__}: {str(exc)[:200]}")
    else:
        ids = set(dataset.frames.events["event_id"].to_list())
        kept = len(ids)
        reported = len(dataset.problems)
        missing = _intact(case) - ids
        # in CSV, a quote opened by the damage can swallow the rows after it (they must at
        # least be reported by line), and a damaged header changes what every row means
        csv_excused = case.seed.is_csv and (dataset.problems or _frame_hit(case))
        if missing and not csv_excused:
            violations.append(f"{len(missing)} intact record(s) lost, e.g. {sorted(missing)[0]}")
        lost = _needs_report(case, set(_baseline(case.seed) - ids),
                             bool(ids - _baseline(case.seed)))
        names = {p.file for p in dataset.problems} | {n.split(":")[0] for n in dataset.notes}
        if lost and not (dataset.problems or any(n.startswith("skipped") for n in dataset.notes)
                         or any(name in n for n in dataset.notes for name in names)):
            violations.append(f"{len(lost)} record(s) lost without a report")
    seconds = time.perf_counter() - started
    if seconds > TIME_LIMIT:
        violations.append(f"took {seconds:.1f} s")
    if cli is not None:
        violations += _cli_violations(cli, path)
    return Outcome(case, result, seconds, violations, kept, reported)


def _damaged_ids(case: Case) -> set[str]:
    return {i for s, e, i in case.seed.spans if not (e < case.start - 1 or s > case.end + 1)}


def _cli_violations(cli: Callable[[list[str]], tuple[int, str, str]], path: Path) -> list[str]:
    code, stdout, stderr = cli(["diagnose", str(path)])
    found = []
    if code not in (0, 2):
        found.append(f"diagnose exit code {code}")
    if "Traceback" in stderr or "Aborted" in stderr:
        found.append("diagnose printed a traceback or 'Aborted'")
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    if len(errors) > 1 or (code == 2 and len(errors) != 1):
        found.append(f"diagnose printed {len(errors)} error lines")
    if _UNSAFE.search(stdout.replace("\r", "")) or _UNSAFE.search(stderr.replace("\r", "")):
        found.append("a control character reached the terminal")
    return found
