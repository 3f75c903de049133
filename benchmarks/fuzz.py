"""The long fuzz run: many mutated inputs of every reader and container kind, outcomes by class.

    python benchmarks/fuzz.py --cases 2000 --seed 13 [--cli-every 10]

Prints, per seed kind and per mutation, how many cases were read, refused (exit 2) or crashed,
and every contract violation (see ``tests/fuzzkit.py``); exits 1 when there is one.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import fuzzkit  # noqa: E402


def _cli(args: list[str]) -> tuple[int, str, str]:
    from typer.testing import CliRunner

    from loganalyzer.cli import app

    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--cli-every", type=int, default=10,
                        help="run every Nth case through `diagnose` as well (0: never)")
    args = parser.parse_args()
    rng = Random(args.seed)
    by_seed: dict[str, Counter[str]] = {}
    by_op: dict[str, Counter[str]] = {}
    violations: list[tuple[str, str]] = []
    slowest = 0.0
    started = time.perf_counter()
    for number in range(args.cases):
        case = fuzzkit.random_case(rng)
        cli = _cli if args.cli_every and number % args.cli_every == 0 else None
        with tempfile.TemporaryDirectory() as tmp:
            outcome = fuzzkit.run_case(case, Path(tmp), cli)
        slowest = max(slowest, outcome.seconds)
        kind = f"{case.seed.name}{' (container)' if case.in_container else ''}"
        by_seed.setdefault(kind, Counter())[outcome.result] += 1
        by_op.setdefault(f"{case.op} {case.payload}".strip(), Counter())[outcome.result] += 1
        violations += [(case.label, v) for v in outcome.violations]
    total = time.perf_counter() - started
    print(f"{args.cases} cases in {total:.0f} s (slowest {slowest:.1f} s), seed {args.seed}")
    for title, table in (("by input kind", by_seed), ("by mutation", by_op)):
        print(f"\n{title:32} {'read':>6} {'exit 2':>7} {'crash':>6}")
        for name, counts in sorted(table.items()):
            print(f"{name:32} {counts['read']:6} {counts['refused']:7} {counts['crash']:6}")
    print(f"\ncontract violations: {len(violations)}")
    for label, violation in violations[:50]:
        print(f"  {label}: {violation}")
    sys.exit(1 if violations else 0)


if __name__ == "__main__":
    main()
