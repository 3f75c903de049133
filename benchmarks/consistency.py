"""Cross-check `diagnose` against `why`: the two must never contradict each other.

For each input, runs ``diagnose --format json`` (the command), then `why` (the library, on
the events the command reads) about every user a finding names and the examples of the
unexplained groups (``--everyone``: every user), and prints each contradiction:

- a `why` verdict led by a rule `diagnose` did not fire;
- a verdict led by a rule that does not name the person in `diagnose` and is not job-wide
  (a user `diagnose` does not name blamed on a rule);
- a failing verdict without a rule for someone a current cause names;
- a finding naming the person missing from `why`'s explanations.

Counts may differ (`why` counts only the events that can explain the person, and says so).
With ``--store`` every input is also ingested into a store and the same users asked there
(read through its identity index). Exit 1 on any contradiction.

    python benchmarks/consistency.py --everyone --store sample_logs/[fghp]*.json
    python benchmarks/consistency.py --store --limit 300 data/tenant-20k.json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import polars as pl
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.cli.why import _load
from loganalyzer.job_status_file import read_job_status
from loganalyzer.why.query import to_json, why

RUNNER = CliRunner()


def _json(args: list[str]) -> dict:
    result = RUNNER.invoke(app, [*args, "--format", "json", "-q"])
    if result.exit_code not in (0, 1, 2, 4):
        raise RuntimeError(f"{' '.join(args)}: exit {result.exit_code}: {result.output}")
    try:
        return json.loads(result.stdout)
    except json.JSONDecodeError:
        raise RuntimeError(f"{' '.join(args)}: exit {result.exit_code}: {result.output}") from None


def _named(diagnosis: dict) -> dict[str, dict[str, dict]]:
    """user id -> rule id -> finding, for every user a finding (not accepted) names."""
    named: dict[str, dict[str, dict]] = {}
    for finding in diagnosis["findings"]:
        for affected in finding["affected"]:
            if affected["type"] == "User":
                named.setdefault(affected["id"], {})[finding["rule_id"]] = finding
    return named


def _unexplained_users(diagnosis: dict) -> set[str]:
    return {who for group in diagnosis["unexplained"] for who in group.get("examples", [])}


def _everyone(source) -> list[str]:
    """Each user's identity key (the lower-cased UPN, else what the event names them by, as
    `diagnose` does) in the events `why` reads."""
    users = source.events.filter(pl.col("object_type") == "User")
    return sorted(set(users["identity_key"].drop_nulls().to_list()))


def check(inputs: list[str], job_status: str | None, everyone: bool = False,
          also: set[str] = frozenset(), limit: int = 0) -> tuple[list[str], set[str]]:
    """The contradictions between `diagnose` and `why` on ``inputs`` (one line each):
    `diagnose` through the command, `why` through the library on the events the command
    reads (``cli.why._load``), loaded once for every user asked; ``also``: more users to ask.
    Returns the users asked too."""
    extra = ["--job-status", job_status] if job_status else []
    diagnosis = _json(["diagnose", *inputs, *extra])
    fired = {f["rule_id"]: f for f in diagnosis["findings"]}
    named = _named(diagnosis)
    problems = []
    where = " ".join(Path(i).name for i in inputs)
    source, _ = _load([Path(i) for i in inputs], True, None)
    job = read_job_status(Path(job_status)) if job_status else None
    users = set(named) | _unexplained_users(diagnosis) | set(also)
    if everyone:
        users |= set(_everyone(source))
    for n, user in enumerate(sorted(users)):
        if limit and n >= limit:
            break
        answer = to_json(why(source, user, job))
        verdict = answer["verdict"]
        rule, state = verdict["rule_id"], verdict["state"]
        mine = named.get(user, {})
        wide = {e["rule_id"] for e in answer["job_wide"]}
        said = f"{where}: {user}: why {state} {rule}; diagnose names them in {sorted(mine)}"
        if answer["user"] is None:
            problems.append(f"{said}: why finds nobody ({verdict['message']})")
            continue
        if rule is not None and rule not in fired:
            problems.append(f"{said}: {rule} is not among diagnose's findings")
        elif rule is not None and rule not in mine and rule not in wide:
            problems.append(f"{said}: {rule} does not name them and is not job-wide")
        causes = [r for r, f in mine.items() if f["kind"] == "cause" and not f["mended"]
                  and f["severity"] not in ("info",)]
        if state == "failing" and rule is None and causes:
            problems.append(f"{said}: failing with no rule")
        explained = {e["rule_id"] for e in answer["explanations"]}
        missing = sorted(set(mine) - explained)
        if missing:
            problems.append(f"{said}: why's explanations lack {missing}")
    return problems, users


def _say(lines: list[str]) -> None:
    for line in lines:
        print(line, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", nargs="+", help="exports (each is checked on its own)")
    parser.add_argument("--store", action="store_true", help="also ingest each into a store")
    parser.add_argument("--job-status", help="a sync job status JSON given to both commands")
    parser.add_argument("--limit", type=int, default=0,
                        help="ask `why` about at most N users an input (a large tenant)")
    parser.add_argument("--everyone", action="store_true",
                        help="ask `why` about every user of the input, not only those named")
    options = parser.parse_args(argv)
    problems = []
    for given in options.inputs:
        found, asked = check([given], options.job_status, options.everyone,
                             limit=options.limit)
        problems += found
        _say(found)
        if options.store:
            with tempfile.TemporaryDirectory() as folder:
                store = str(Path(folder) / "store")
                result = RUNNER.invoke(app, ["ingest", given, "-o", store, "-q"])
                if result.exit_code:
                    problems.append(f"{given}: ingest exit {result.exit_code}: {result.output}")
                    continue
                found, _ = check([store], options.job_status, also=asked, limit=options.limit)
                problems += [f"[store] {p}" for p in found]
                _say([f"[store] {p}" for p in found])
    print(f"{len(problems)} contradiction(s) in {len(options.inputs)} input(s)", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
