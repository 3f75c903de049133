"""Benchmark: loganalyzer against the obvious alternative, in the same run, on the same file.

Each contender runs in its own process; wall time and that process's peak RSS (from
``os.wait4``) are printed. Baseline = ``json.load`` + ``pandas.json_normalize`` of the events
and of their steps, what a script written by hand would do.

    python benchmarks/run.py                 # 200,000 events (~0.6 GB), generated if missing
    python benchmarks/run.py --events 20000  # a quicker look
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent

BASELINE = """
import json, sys
import pandas as pd
with open(sys.argv[1], encoding="utf-8") as f:
    data = json.load(f)
events = pd.json_normalize(data)
steps = pd.json_normalize(data, record_path="provisioningSteps", meta=["id"])
print(len(events), len(steps))
"""


def measure(label: str, argv: list[str]) -> tuple[float, float]:
    """Run argv; return (seconds, peak RSS in MB) of that process alone."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    stderr = proc.stderr.read().decode() if proc.stderr else ""
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"{label} failed:\n{stderr}")
    peak_mb = usage.ru_maxrss / 1024
    cpu = usage.ru_utime + usage.ru_stime  # what a busy machine's wall time hides
    print(f"  {label:48} {seconds:8.2f} s   CPU {cpu:8.2f} s   peak RSS {peak_mb:8.0f} MB",
          flush=True)
    return seconds, peak_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--keep", action="store_true", help="keep the generated data")
    args = parser.parse_args()
    data = HERE / "data"
    export = data / f"portal-{args.events}.json"
    store = data / f"store-{args.events}"
    if not export.exists():
        subprocess.run(
            [sys.executable, str(HERE / "make_big_export.py"), "--events", str(args.events),
             "-o", str(export)],
            check=True,
        )
    size_mb = export.stat().st_size / 1e6
    print(f"input: {export.name}, {args.events:,} events, {size_mb:.0f} MB")
    shutil.rmtree(store, ignore_errors=True)
    cli = str(BIN / "loganalyzer")

    base_s, base_mb = measure("baseline: json.load + pandas.json_normalize",
                              [sys.executable, "-c", BASELINE, str(export)])
    ingest_s, ingest_mb = measure("loganalyzer ingest EXPORT -o STORE",
                                  [cli, "ingest", "-q", str(export), "-o", str(store)])
    extra = {}
    for label, argv in commands(cli, store):
        extra[label] = measure(label, argv)

    print()
    print(f"ingest speed-up over baseline: {base_s / ingest_s:.1f}x")
    print(f"ingest peak RSS / file size:   {ingest_mb / size_mb:.2f}x "
          f"(baseline {base_mb / size_mb:.2f}x)")
    for label, (seconds, _) in extra.items():
        print(f"{label}: {seconds:.2f} s ({seconds / ingest_s:.2f}x ingest)")
    if not args.keep:
        shutil.rmtree(store, ignore_errors=True)


def commands(cli: str, store: Path) -> list[tuple[str, list[str]]]:
    """The analysis commands, each timed on the store."""
    out = HERE / "data" / "out"
    out.mkdir(parents=True, exist_ok=True)
    return [
        ("summary STORE", [cli, "summary", "-q", str(store)]),
        ("diagnose STORE --format json", [cli, "diagnose", "-q", str(store), "--format", "json"]),
        ("report STORE --format html",
         [cli, "report", "-q", str(store), "--format", "html", "-o", str(out / "r.html")]),
        ("why USER STORE", [cli, "why", "anna.berg@northwind.no", str(store), "-q"]),
    ]


if __name__ == "__main__":
    main()
