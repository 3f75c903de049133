"""Fuzz tests over every reader and container kind, within a fixed seed and time budget.

The contract each case must keep is in ``fuzzkit.run_case``: exit 0 or 2 and no traceback,
every intact record kept, every lost record reported, one-line errors, bounded time, and no
control character from the data on the terminal. ``benchmarks/fuzz.py`` runs the long version.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import fuzzkit
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from loganalyzer.cli import app

SEED_NAMES = [seed.name for seed in fuzzkit.seeds()]
# a fixed seed (derandomize), no example database, no per-example deadline (run_case times
# each case itself); max_examples is the time budget: about a minute on two cores
BUDGET = {"derandomize": True, "deadline": None, "database": None,
          "suppress_health_check": list(HealthCheck)}


def cli(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, args)
    return result.exit_code, result.stdout, result.stderr


@st.composite
def cases(draw) -> fuzzkit.Case:
    seed = draw(st.sampled_from(fuzzkit.seeds()))
    op = draw(st.sampled_from(fuzzkit.OPS))
    payload = draw(st.sampled_from(sorted(fuzzkit.PAYLOADS))) if op in ("insert", "replace") \
        else ""
    at = draw(st.floats(0, 1))
    size = draw(st.floats(0, 1))
    in_container = bool(seed.container) and draw(st.booleans())
    return fuzzkit.make_case(seed, op, payload, at, size, in_container)


def check(case: fuzzkit.Case, through_cli: bool = False) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        outcome = fuzzkit.run_case(case, Path(tmp), cli if through_cli else None)
    assert not outcome.violations, (case.label, outcome.violations)


@pytest.mark.parametrize("op", fuzzkit.OPS)
@pytest.mark.parametrize("name", SEED_NAMES)
def test_every_reader_and_container_survives_each_mutation(name, op):
    seed = next(s for s in fuzzkit.seeds() if s.name == name)
    payload = "invalid-utf8" if op in ("insert", "replace") else ""
    check(fuzzkit.make_case(seed, op, payload, 0.5, 0.3, in_container=False))
    if seed.container:
        check(fuzzkit.make_case(seed, op, payload, 0.6, 0.2, in_container=True))


@settings(max_examples=120, **BUDGET)
@given(cases())
def test_random_mutations_keep_the_contract(case):
    check(case)


@settings(max_examples=20, **BUDGET)
@given(cases())
def test_random_mutations_through_the_command_line(case):
    check(case, through_cli=True)
