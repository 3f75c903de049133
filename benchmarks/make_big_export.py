"""Write a large portal JSON download (compact top-level array) for the benchmark.

The events are the bundled sample events (every scenario, so failures, skips, escrow retries
and groups are all represented) replicated with fresh ids, change ids and times, streamed to
disk so the generator itself needs little memory.

    python benchmarks/make_big_export.py --events 200000 -o benchmarks/data/portal-200k.json
"""

from __future__ import annotations

import argparse
import json
import uuid
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def template_events() -> list[dict]:
    files = sorted((ROOT / "sample_logs").glob("*.json"))
    files = [f for f in files if f.name != "manifest.json"]
    events: list[dict] = []
    for path in files or [ROOT / "tests" / "data" / "graph-records-captured.json"]:
        data = json.loads(path.read_text(encoding="utf-8-sig"))
        if isinstance(data, list):
            events.extend(e for e in data if isinstance(e, dict))
    return events


def write_export(path: Path, count: int) -> int:
    templates = template_events()
    start = datetime(2026, 10, 1)
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = uuid.UUID(int=0x5EED)
    with open(path, "w", encoding="utf-8") as out:
        out.write("[")
        for i in range(count):
            event = dict(templates[i % len(templates)])
            n = rng.int + i
            event["id"] = str(uuid.UUID(int=n & ((1 << 128) - 1)))
            event["changeId"] = str(uuid.UUID(int=(n * 7919) & ((1 << 128) - 1)))
            event["cycleId"] = str(uuid.UUID(int=(i // 2000 + 17) * 104729))
            when = start + timedelta(seconds=i * 3)
            event["activityDateTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
            if i:
                out.write(",")
            out.write(json.dumps(event, separators=(",", ":")))
        out.write("]")
    return path.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    size = write_export(args.output, args.events)
    print(f"wrote {args.output}: {args.events:,} events, {size / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
