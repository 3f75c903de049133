"""Shared fixtures: paths to the bundled sample logs and the shared reference material."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "sample_logs"


@pytest.fixture
def samples() -> Path:
    return SAMPLES


@pytest.fixture(autouse=True)
def redaction_key_of_the_tests(monkeypatch):
    """`report --redact` keys its pseudonyms with a secret kept in the user's configuration
    folder; the tests give one, so that they never write there."""
    from loganalyzer.report.redaction_key import KEY_ENV, redaction_key

    monkeypatch.setenv(KEY_ENV, "test-redaction-key-0123456789abcdef")
    redaction_key.cache_clear()
    yield
    redaction_key.cache_clear()


# when the tests ask the fake Graph, whose logs are of March 2026 (tests/fake_graph.py): Graph
# (30 days) then keeps all of March but its first three hours
GRAPH_TODAY = datetime(2026, 3, 31, 3, tzinfo=UTC)


@pytest.fixture
def graph_in_march(monkeypatch):
    """Ask the fake Graph as on ``GRAPH_TODAY``: asked as today, Graph would keep none of its
    March logs, and a window of March would be refused."""
    from loganalyzer.graph import query

    monkeypatch.setattr(query, "graph_clock", lambda: GRAPH_TODAY)
