"""Helpers shared by the Graph tests: a fast retry policy, the served data, reading pages back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loganalyzer.graph.client import AuthOptions, GraphConnection, RetryPolicy
from loganalyzer.graph.fetch import FetchOptions
from loganalyzer.graph.query import Selection
from tests.fake_graph import FakeGraph, served_events

START = datetime(2026, 3, 1, tzinfo=UTC)
TOKEN = "eyJ0eXAiOiJKV1QiLCJub25jZSI6InRlc3QtdG9rZW4tZG8tbm90LXByaW50In0.c2lnbmF0dXJl"
# kiota's back-off is 0.5 s * 2^n plus up to 1 s of jitter; Retry-After from the fake is 1 s
FAST = RetryPolicy(max_retries=3, base_delay=0.0, connection_tries=3, connection_backoff=0.01)


def events() -> list[dict]:
    return served_events(START)


def options(graph: FakeGraph, token: str = TOKEN, **kwargs) -> FetchOptions:
    """A fetch, in pages of 40, of everything ``graph`` serves (unless told a window)."""
    times = sorted(e["activityDateTime"] for e in graph.events)
    last = datetime.fromisoformat(times[-1]) + timedelta(seconds=1)
    kwargs.setdefault("date_from", times[0])
    kwargs.setdefault("date_to", last.strftime("%Y-%m-%dT%H:%M:%SZ"))
    kwargs.setdefault("page_size", 40)
    kwargs.setdefault("selection", Selection())
    connection = GraphConnection(graph.url, AuthOptions(access_token=token), FAST)
    return FetchOptions(connection=connection,
                        **kwargs)


def pages(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("page-*.json"))]


def page_ids(folder: Path) -> list[str]:
    return [e["id"] for page in pages(folder) for e in page["value"]]
