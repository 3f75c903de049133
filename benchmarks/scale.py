"""Scaling benchmark: every command at 100k, 500k, 1M and 5M events, one table, one run.

For each size a tenant export nobody has seen (``make_tenant.py``: many users, many cycles,
about 5% failures) is generated once into ``benchmarks/data`` (5M as NDJSON, one object per
line, as storage-account and Log Analytics exports of a long month are). Each contender runs
in its own process; its wall time and peak RSS (``os.wait4``) are its own. A watchdog kills
a process whose RSS passes ``--limit-gb`` (default 10) or when the machine runs short of
memory, so the baseline never takes the machine over: it is not run at sizes where its RSS at
the smallest size, scaled, says it would pass the limit. At ``--raw-sizes`` ``diagnose`` also
reads the export itself (through a temporary store), to compare with ingest + diagnose.

    python benchmarks/scale.py                            # 100k, 500k, 1M, 5M
    python benchmarks/scale.py --sizes 100k,1M --csv-sizes 100k

The CSV column reads the portal's CSV download of the same events: one triple of files at
100k, and above the portal's 100,000 records per file one triple per 100,000 events (ten at
1M), as a month of a large tenant is downloaded. At ``--ndjson-sizes`` (default 1M) the same
events are also ingested from NDJSON, so the 5M NDJSON rate is compared with its own format.

Two floors are measured on each export: DuckDB's bare ``count(*)`` scan, and loganalyzer's
reader alone (DuckDB's typed read of the columns ingest needs, handed to Polars; nothing
normalised or written), which is what parsing the file costs before ingest does its work.
The last table gives each command's events per second against its rate at 1M, in the same
input format, and its marginal rate: that of the events added since the size before, which
leaves out what a command costs whatever its input (start-up).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
sys.path.insert(0, str(HERE))
from make_tenant import PORTAL_FILE_LIMIT, Tenant  # noqa: E402

BYTES_PER_EVENT = 3200  # generated JSON, for the disk check
NDJSON_FROM = 2_000_000  # sizes at or above this are generated as NDJSON
PANDAS = """
import json, sys
import pandas as pd
with open(sys.argv[1], encoding="utf-8") as f:
    data = json.load(f)
events = pd.json_normalize(data)
steps = pd.json_normalize(data, record_path="provisioningSteps", meta=["id"])
print(len(events), len(steps))
"""
DUCKDB = """
import sys, duckdb
fmt = "newline_delimited" if sys.argv[1].endswith(".ndjson") else "array"
path = sys.argv[1].replace("'", "''")
print(duckdb.sql(f"SELECT count(*) FROM read_json('{path}', format='{fmt}', "
                 "maximum_object_size=16777216)").fetchall())
"""

READER = """
import sys
from pathlib import Path
from loganalyzer.readers.json_fast import read_fast
from loganalyzer.readers.sniff import Kind
from loganalyzer.readers.sources import Source
path = Path(sys.argv[1])
kind = Kind.NDJSON if path.suffix == ".ndjson" else Kind.JSON_ARRAY
print(sum(f.height for f in read_fast(Source(path.name, path), kind, False, 20_000)))
"""
LINEAR_WORK = ("ingest EXPORT -o STORE", "diagnose STORE --format json",
               "report STORE --format html")


@dataclass
class Run:
    size: int
    work: str
    seconds: float | None = None
    peak_mb: float | None = None
    note: str = ""


def parse_size(text: str) -> int:
    text = text.strip().lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def label(n: int) -> str:
    return f"{n // 1_000_000}M" if n % 1_000_000 == 0 else f"{n // 1_000}k"


def available_mb() -> float:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) / 1024
    return float("inf")


# Commands run as an installed tool runs: Python's compiled bytecode is cached (pip writes it
# at install time). A machine that sets PYTHONDONTWRITEBYTECODE would otherwise compile every
# module on every run, about 0.15 s a command that no user pays.
AS_INSTALLED = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def measure(argv: list[str], limit_mb: float, reserve_mb: float,
            timeout: float, ok: tuple[int, ...] = (0,)) -> tuple[float, float, str]:
    """Run argv alone; (seconds, peak RSS MB, note). Killed past ``limit_mb`` RSS, when the
    machine has less than ``reserve_mb`` available, or after ``timeout`` seconds."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env=AS_INSTALLED)
    killed: list[str] = []

    def watch() -> None:
        status = Path(f"/proc/{proc.pid}/status")
        while proc.returncode is None:
            try:
                rss = next(int(x.split()[1]) for x in status.read_text().splitlines()
                           if x.startswith("VmRSS:")) / 1024
            except (OSError, StopIteration):
                return
            if rss > limit_mb or available_mb() < reserve_mb:
                killed.append(f"killed at {rss / 1024:.1f} GB RSS")
            elif time.perf_counter() - started > timeout:
                killed.append(f"killed after {timeout:.0f} s")
            if killed:
                os.kill(proc.pid, signal.SIGKILL)
                return
            time.sleep(0.2)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    stderr = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if killed:
        return seconds, usage.ru_maxrss / 1024, killed[0]
    if proc.returncode not in ok:
        raise SystemExit(f"{argv} failed ({proc.returncode}):\n{stderr[-2000:]}")
    return seconds, usage.ru_maxrss / 1024, ""


def export_for(data: Path, n: int, ndjson: bool = False) -> Path:
    """The generated export of ``n`` events (written once, kept)."""
    fmt = "ndjson" if ndjson or n >= NDJSON_FROM else "json"
    path = data / f"tenant-{label(n)}.{fmt}"
    if not path.exists():
        need = n * BYTES_PER_EVENT * 1.3  # the export plus its store
        free = shutil.disk_usage(data).free
        if free < need + 10e9:
            raise SystemExit(f"not enough disk for {label(n)}: {free / 1e9:.0f} GB free")
        print(f"generating {path.name} ...", file=sys.stderr, flush=True)
        subprocess.run([sys.executable, str(HERE / "make_tenant.py"), "--events", str(n),
                        "--format", fmt, "-o", str(path)], check=True)
    return path


def csv_for(data: Path, n: int) -> Path:
    """The same events as the portal's CSV download: one triple up to the portal's 100,000
    records per file, else one triple per 100,000 events (written once, kept)."""
    folder = data / f"tenant-{label(n)}-csv"
    if not folder.exists():
        print(f"generating {folder.name} ...", file=sys.stderr, flush=True)
        partial = data / f".{folder.name}.partial"
        shutil.rmtree(partial, ignore_errors=True)
        per_download = [] if n <= PORTAL_FILE_LIMIT else ["--per-download",
                                                          str(PORTAL_FILE_LIMIT)]
        subprocess.run([sys.executable, str(HERE / "make_tenant.py"), "--events", str(n),
                        "--format", "csv", *per_download, "-o", str(partial)], check=True)
        partial.rename(folder)
    return folder


def downloads(n: int) -> str:
    count = -(-n // PORTAL_FILE_LIMIT)
    return "1 triple" if count == 1 else f"{count} triples"


def warm_up(data: Path) -> None:
    """Run every timed command once, untimed, on a bundled sample: the first run after an
    install or a checkout compiles the bytecode and builds matplotlib's font cache (1-2 s),
    which would otherwise land on whichever size runs first."""
    cli, sample = str(BIN / "loganalyzer"), HERE.parent / "sample_logs" / "failing-initial.json"
    store, out = data / "store-warm-up", data / "out"
    out.mkdir(exist_ok=True)
    for argv in (["ingest", "-q", str(sample), "-o", str(store)],
                 ["diagnose", "-q", str(store), "--format", "json", "-o", str(out / "d.json")],
                 ["report", "-q", str(store), "--format", "html", "-o", str(out / "r.html")],
                 ["why", "someone", str(store), "-q"]):
        subprocess.run([cli, *argv], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    shutil.rmtree(store, ignore_errors=True)


def run_size(n: int, args: argparse.Namespace, pandas_mb_per_event: list[float]) -> list[Run]:
    data, cli = args.data, str(BIN / "loganalyzer")
    export = export_for(data, n)
    store = data / f"store-{label(n)}"
    shutil.rmtree(store, ignore_errors=True)
    who = Tenant(n).user(1234)["upn"]
    limit, reserve = args.limit_gb * 1024, args.reserve_gb * 1024
    runs: list[Run] = []

    def go(work: str, argv: list[str]) -> None:
        ok = (0, 1) if argv[0] == cli else (0,)  # loganalyzer exits 1 when it finds problems
        seconds, peak, note = measure(argv, limit, reserve, args.timeout, ok)
        runs.append(Run(n, work, seconds, peak, note))
        print(f"  {label(n):>4} {work:34} {seconds:8.1f} s {peak:8.0f} MB {note}",
              file=sys.stderr, flush=True)

    if export.suffix == ".ndjson":
        runs.append(Run(n, "pandas json.load + json_normalize", note="NDJSON: not one document"))
    elif pandas_mb_per_event and pandas_mb_per_event[0] * n > limit:
        need = pandas_mb_per_event[0] * n / 1024
        runs.append(Run(n, "pandas json.load + json_normalize",
                        note=f"not run: would need ~{need:.0f} GB"))
    else:
        go("pandas json.load + json_normalize", [sys.executable, "-c", PANDAS, str(export)])
        if not runs[-1].note:
            pandas_mb_per_event.append(runs[-1].peak_mb / n)
    go("DuckDB scan (count(*) of read_json)", [sys.executable, "-c", DUCKDB, str(export)])
    go("reader alone (DuckDB typed read to Polars)", [sys.executable, "-c", READER, str(export)])
    go("ingest EXPORT -o STORE", [cli, "ingest", "-q", str(export), "-o", str(store)])
    if n in args.ndjson_sizes and export.suffix != ".ndjson":
        lines = export_for(data, n, ndjson=True)
        go("ingest NDJSON EXPORT -o STORE (same events)",
           [cli, "ingest", "-q", str(lines), "-o", str(data / f"store-{label(n)}-ndjson")])
        shutil.rmtree(data / f"store-{label(n)}-ndjson", ignore_errors=True)
    out = data / "out"
    out.mkdir(exist_ok=True)
    if not store.exists():  # ingest was killed: nothing to analyse at this size
        for work in ("diagnose STORE --format json", "report STORE --format html",
                     "why USER STORE"):
            runs.append(Run(n, work, note="not run: no store"))
        return runs
    go("diagnose STORE --format json",
       [cli, "diagnose", "-q", str(store), "--format", "json", "-o", str(out / "d.json")])
    go("report STORE --format html",
       [cli, "report", "-q", str(store), "--format", "html", "-o", str(out / "r.html")])
    go("why USER STORE", [cli, "why", who, str(store), "-q"])
    if n in args.raw_sizes:  # no store: read through a temporary one
        go("diagnose EXPORT --format json",
           [cli, "diagnose", "-q", str(export), "--format", "json", "-o", str(out / "d.json")])
    if n in args.csv_sizes:
        folder = csv_for(data, n)
        csv_store = data / f"store-{label(n)}-csv"
        shutil.rmtree(csv_store, ignore_errors=True)
        go(f"ingest portal CSV, {downloads(n)}",
           [cli, "ingest", "-q", str(folder), "-o", str(csv_store)])
        shutil.rmtree(csv_store, ignore_errors=True)
    if not args.keep:
        shutil.rmtree(store, ignore_errors=True)
    return runs


def table(runs: list[Run]) -> str:
    scans = {r.size: r.seconds for r in runs if r.work.startswith("DuckDB") and not r.note}
    readers = {r.size: r.seconds for r in runs if r.work.startswith("reader") and not r.note}
    json_rate = {r.size: r.seconds / r.size for r in runs
                 if r.work.startswith("ingest EXPORT") and r.seconds and not r.note}
    parts: dict[int, list[float]] = {}
    for r in runs:
        if r.work in ("ingest EXPORT -o STORE", "diagnose STORE --format json") and r.seconds:
            parts.setdefault(r.size, []).append(r.seconds)
    separate = {size: sum(s) for size, s in parts.items() if len(s) == 2}
    lines = ["| events | work | seconds | peak RSS | events/s | x DuckDB scan |",
             "|---:|---|---:|---:|---:|---:|"]
    for r in runs:
        if r.seconds is None or r.note.startswith("killed"):
            cells = [label(r.size), r.work, "-", "-", "-", r.note]
            if r.seconds is not None:
                cells[2:4] = [f"{r.seconds:.1f}", f"{r.peak_mb:,.0f} MB"]
            lines.append("| " + " | ".join(cells) + " |")
            continue
        # the scan is of the size's own export: another format's ingest has no ratio to it
        same_file = "NDJSON" not in r.work
        ratio = f"{r.seconds / scans[r.size]:.2f}x" if scans.get(r.size) and same_file else "-"
        if r.work.startswith("diagnose EXPORT") and r.size in separate:
            ratio += f" ({r.seconds / separate[r.size]:.2f}x ingest + diagnose STORE)"
        if r.work == "ingest EXPORT -o STORE" and readers.get(r.size):
            ratio += f" ({r.seconds / readers[r.size]:.2f}x reader alone)"
        if r.work.startswith("ingest portal CSV") and json_rate.get(r.size):
            ratio += f" ({r.seconds / r.size / json_rate[r.size]:.2f}x JSON ingest)"
        lines.append(f"| {label(r.size)} | {r.work} | {r.seconds:.1f} | {r.peak_mb:,.0f} MB | "
                     f"{r.size / r.seconds:,.0f} | {ratio} |")
    return "\n".join(lines)


def rates(runs: list[Run], export_format: dict[int, str]) -> str:
    """Events per second of ingest, diagnose and report at each size, and their change from
    1M in the same input format (ingest of NDJSON is compared with NDJSON). The marginal
    rate is that of the events added since the size before, (n - m) / (t(n) - t(m)): a
    command's fixed cost (starting Python and its libraries, about 0.5 s) weighs on the rate
    at 100k and not on the marginal one, so the two tell start-up from per-event cost."""
    seconds = {}
    for r in runs:
        if not r.seconds or r.note:
            continue
        if r.work in LINEAR_WORK:
            fmt = export_format[r.size] if r.work.startswith("ingest") else "store"
            seconds[(r.work.split()[0], fmt, r.size)] = r.seconds
        elif r.work.startswith("ingest NDJSON"):
            seconds[("ingest", "ndjson", r.size)] = r.seconds
    lines = ["| work | input | events | events/s | against 1M | marginal events/s |",
             "|---|---|---:|---:|---:|---:|"]
    before: dict[tuple[str, str], tuple[int, float]] = {}
    for (work, fmt, size), taken in sorted(seconds.items()):
        base = seconds.get((work, fmt, 1_000_000))
        change = f"{size / taken / (1_000_000 / base) - 1:+.0%}" if base else "-"
        last = before.get((work, fmt))
        marginal = "-"
        if last and taken > last[1]:
            marginal = f"{(size - last[0]) / (taken - last[1]):,.0f} (from {label(last[0])})"
        before[(work, fmt)] = (size, taken)
        lines.append(f"| {work} | {fmt} | {label(size)} | {size / taken:,.0f} | {change} "
                     f"| {marginal} |")
    return "\n".join(lines)


def machine() -> str:
    """CPU model, cores, memory and load: the figures mean little without them."""
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), "unknown CPU")
    total = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                 if line.startswith("MemTotal:")) / 1024 / 1024
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (f"{cpu}, {os.cpu_count()} cores, {total:.0f} GiB; {libraries()}; "
            f"load average {load}")


def libraries() -> str:
    """The versions doing the work: DuckDB's typed JSON read took 1.55x as long in 2.0.1 as
    in 1.5.6 on the same file (docs/performance-history.md, 2026-12-02)."""
    from importlib.metadata import PackageNotFoundError, version

    def of(name: str) -> str:
        try:
            return f"{name} {version(name)}"
        except PackageNotFoundError:
            return f"{name} not installed"

    return ", ".join(of(name) for name in ("duckdb", "polars", "pyarrow", "pandas"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100k,500k,1M,5M")
    parser.add_argument("--csv-sizes", default="100k,1M")
    parser.add_argument("--raw-sizes", default="100k,1M",
                        help="sizes at which diagnose also reads the export itself")
    parser.add_argument("--ndjson-sizes", default="1M",
                        help="sizes whose events are also ingested from NDJSON")
    parser.add_argument("--data", type=Path, default=HERE / "data")
    parser.add_argument("--limit-gb", type=float, default=10.0,
                        help="kill a command whose RSS passes this")
    parser.add_argument("--reserve-gb", type=float, default=3.0,
                        help="kill a command when the machine has less available than this")
    parser.add_argument("--timeout", type=float, default=1800,
                        help="kill a command that runs longer than this (seconds)")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    args = parser.parse_args()
    args.data.mkdir(parents=True, exist_ok=True)
    args.csv_sizes = {parse_size(s) for s in args.csv_sizes.split(",") if s.strip()}
    args.raw_sizes = {parse_size(s) for s in args.raw_sizes.split(",") if s.strip()}
    args.ndjson_sizes = {parse_size(s) for s in args.ndjson_sizes.split(",") if s.strip()}
    sizes = sorted(parse_size(s) for s in args.sizes.split(","))
    pandas_mb_per_event: list[float] = []
    runs: list[Run] = []
    started = machine()
    warm_up(args.data)
    for n in sizes:
        runs.extend(run_size(n, args, pandas_mb_per_event))
    print(f"machine: {started} (at the start); load average at the end: "
          f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(table(runs))
    print()
    print(rates(runs, {n: export_for(args.data, n).suffix.lstrip(".") for n in sizes}))


if __name__ == "__main__":
    main()
