"""Benchmark: what one bad record costs. The same export with and without one broken record
in the middle, and a small .gz padded with whitespace around a broken record.

    python benchmarks/bad_record.py                  # 100,000 events (~0.37 GB)
    python benchmarks/bad_record.py --events 20000 --padding-mb 256

Each run is `loganalyzer ingest` in its own process; wall time and peak RSS from ``os.wait4``.
The broken export is read by the careful reader (the fast one refuses it); the issue's
expectation is that it costs about what the good file costs, in bounded memory.
"""

from __future__ import annotations

import argparse
import gzip
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from make_big_export import write_export  # noqa: E402
from run import BIN, measure  # noqa: E402


def break_middle_record(good: Path, bad: Path) -> None:
    """Copy ``good`` with the middle record's id followed by a stray string (a missing comma,
    as a hand edit leaves it). Streamed: this process stays small, because a child's peak RSS
    as ``os.wait4`` reports it starts from its parent's at fork."""
    with open(good, "rb") as src, open(bad, "wb") as dst:
        middle = good.stat().st_size // 2
        src.seek(middle)
        window = src.read(1 << 16)
        start = window.index(b'{"id":"')
        end = middle + window.index(b'",', start + 7) + 1
        src.seek(0)
        copy_bytes(src, dst, end)
        dst.write(b' "broken"')
        shutil.copyfileobj(src, dst, 1 << 22)


def copy_bytes(src, dst, count: int) -> None:
    while count > 0:
        chunk = src.read(min(count, 1 << 22))
        dst.write(chunk)
        count -= len(chunk)


def padded_gz(path: Path, padding_mb: int) -> None:
    """A few events, a broken one, and ``padding_mb`` of spaces between records, gzipped."""
    with gzip.open(path, "wb", compresslevel=6) as out:
        out.write(b'[{"id":"a","activityDateTime":"2026-03-24T08:00:00Z"},')
        block = b" " * (1 << 20)
        for _ in range(padding_mb):
            out.write(block)
        out.write(b'{"id":"b" "broken","activityDateTime":"2026-03-24T08:00:01Z"},')
        out.write(b'{"id":"c","activityDateTime":"2026-03-24T08:00:02Z"}]')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--padding-mb", type=int, default=1024)
    parser.add_argument("--data", type=Path, default=HERE / "data")
    args = parser.parse_args()
    good = args.data / f"portal-{args.events // 1000}k.json"
    if not good.exists():
        write_export(good, args.events)
    bad = args.data / f"portal-{args.events // 1000}k-one-bad-record.json"
    break_middle_record(good, bad)
    gz = args.data / f"padded-{args.padding_mb}mb-one-bad-record.json.gz"
    if not gz.exists():
        padded_gz(gz, args.padding_mb)
    print(f"{args.events:,} events, {good.stat().st_size / 1e6:.0f} MB; "
          f"padded .gz {gz.stat().st_size / 1e6:.1f} MB ({args.padding_mb:,} MB of padding)")
    exe = str(BIN / "loganalyzer")
    for label, path in (("good export (fast reader)", good),
                        ("one bad record in the middle (careful reader)", bad),
                        (f"padded .gz, one bad record ({args.padding_mb} MB)", gz)):
        store = Path(tempfile.mkdtemp()) / "store"
        measure(label, [exe, "ingest", str(path), "-o", str(store), "-q"])
        shutil.rmtree(store.parent)


if __name__ == "__main__":
    main()
