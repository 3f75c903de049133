"""Where `diagnose` spends its memory: each rule's seconds, resident memory after it, and the
peak while it ran, on one store (Linux only: the peak is reset before each rule through
``/proc/self/clear_refs``).

    python benchmarks/rule_memory.py STORE

The phases after the rules (reasons, summary, unexplained failures and skips) are measured
the same way; the last line is the whole run's peak, the highest of theirs (the reset clears
``getrusage``'s figure too).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from loganalyzer import engine
from loganalyzer.ingest import load

MB = 1024 * 1024


def _status(field: str) -> int:
    """A ``/proc/self/status`` memory figure in MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) // 1024
    raise RuntimeError(f"no {field} in /proc/self/status")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


class Meter:
    """Prints one line per phase: seconds, RSS after, peak during."""

    def __init__(self) -> None:
        self.name, self.started = "load", time.perf_counter()
        self.peak = 0
        _reset_peak()
        print(f"{'phase':<18}{'seconds':>9}{'RSS MB':>9}{'peak MB':>9}")

    def next(self, name: str) -> None:
        peak = _status("VmHWM")
        self.peak = max(self.peak, peak)
        print(f"{self.name:<18}{time.perf_counter() - self.started:9.2f}"
              f"{_status('VmRSS'):9,}{peak:9,}", flush=True)
        self.name, self.started = name, time.perf_counter()
        _reset_peak()


def _metered(meter: Meter, name: str, function):
    def wrapped(*args, **kwargs):
        meter.next(name)
        return function(*args, **kwargs)
    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    args = parser.parse_args()
    meter = Meter()
    dataset = load([args.store], analysis_only=True)
    for name in ("_give_reasons", "_summary", "_unexplained", "_unexplained_skips"):
        setattr(engine, name, _metered(meter, name.strip("_"), getattr(engine, name)))
    engine.diagnose(dataset.frames, progress=lambda message, *_: meter.next(message[5:]))
    meter.next("")
    print(f"whole run: peak {meter.peak:,} MB")


if __name__ == "__main__":
    main()
