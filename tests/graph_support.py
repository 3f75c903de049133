"""Helpers shared by the Graph tests: a fast retry policy, the served data, reading pages back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from loganalyzer.config.files import recognise
from loganalyzer.graph.client import AuthOptions, GraphConnection, RetryPolicy
from loganalyzer.graph.fetch import FetchOptions
from loganalyzer.graph.query import Selection
from tests.fake_graph import ConfigData, FakeGraph, served_events

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


def one_error_line(stderr: str) -> str:
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "Traceback" not in stderr, stderr
    return errors[0]


def pages(folder: Path) -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(folder.glob("page-*.json"))]


def page_ids(folder: Path) -> list[str]:
    return [e["id"] for page in pages(folder) for e in page["value"]]


# --------------------------------------------------------------------------- configuration

CONFIG = Path(__file__).resolve().parent.parent / "sample_logs" / "config"
SP_ID = "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10"  # the samples' Flowcase SCIM app


def _body(doc: dict) -> dict:
    return {k: v for k, v in doc.items() if k != "@odata.context"}


def config_graph(folder: Path, events: list[dict] | None = None, **kwargs) -> FakeGraph:
    """A FakeGraph serving the configuration in a sample folder (good/ or bad/): the bodies
    are the files themselves. bad/ holds an app manifest instead of a service principal, so its
    roles are served on good/'s service principal."""
    data, jobs, schemas = ConfigData(), {SP_ID: []}, {}
    roles = None
    for path in sorted(folder.glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        kind = recognise(doc)
        if kind == "service principal":
            data.service_principals[SP_ID] = _body(doc)
        elif kind == "application":
            roles = doc["appRoles"]
        elif kind == "job":
            jobs[SP_ID].append(_body(doc))
        elif kind == "jobs":
            jobs[SP_ID] += doc["value"]
        elif kind == "schema":
            schemas["schema"] = _body(doc)
        elif kind == "synchronization":
            data.synchronization[SP_ID] = _body(doc)
        elif kind == "assignments":
            data.assignments[SP_ID] = doc["value"]
        elif kind in ("members", "transitiveMembers"):
            group = doc["@odata.context"].split("groups('")[1].split("'")[0]
            table = data.members if kind == "members" else data.transitive
            table[group] = doc["value"]
            data.users += [m for m in doc["value"] if "userPrincipalName" in m]
    if roles is not None:
        sp = json.loads((CONFIG / "good" / "service-principal.json").read_text())
        data.service_principals[SP_ID] = {**_body(sp), "appRoles": roles}
    schemas = {job["id"]: schemas["schema"] for job in jobs[SP_ID]}
    return FakeGraph(events or [], jobs=jobs, schemas=schemas, config=data, **kwargs)


def connection(graph: FakeGraph, token: str = TOKEN) -> GraphConnection:
    return GraphConnection(graph.url, AuthOptions(access_token=token), FAST)
