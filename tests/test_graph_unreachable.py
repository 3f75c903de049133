"""A Graph that never answers (DNS, a refused connection): every command that reads Graph, by
the raw reader or the typed SDK, tries as often and says the same thing, exit 3."""

from __future__ import annotations

import asyncio
import socket

import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.graph.client import AuthOptions, GraphConnection, GraphError
from loganalyzer.graph.sdk import GraphClient, with_client
from tests.graph_support import FAST, SP_ID, TOKEN

NEVER_ANSWERED = ("Graph never answered: check the network (a proxy, a firewall) and "
                  "--graph-url, then re-run the same command")
# RetryPolicy's defaults: 5 tries, 2 s doubling between them
WAITS = [2.0, 4.0, 8.0, 16.0]


@pytest.fixture
def closed_root() -> str:
    """A Graph root on a loopback port nobody listens on: the connection is refused."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{closed.getsockname()[1]}/v1.0"


@pytest.fixture
def waits(monkeypatch) -> list[float]:
    """The back-off waits asked for, not waited."""
    asked: list[float] = []

    async def no_wait(seconds: float, result=None):
        asked.append(seconds)
        return result

    monkeypatch.setattr(asyncio, "sleep", no_wait)
    return asked


@pytest.mark.parametrize(
    "args",
    [
        ["check", "--graph", "--app", "Flowcase SCIM"],
        ["fetch-config", "--app", "Flowcase SCIM", "-o", "{tmp}/config"],
        ["retest", "--app", "Flowcase SCIM", "--yes", "anna.berg@northwind.no"],
        ["fetch-job", "--app", "Flowcase SCIM", "-o", "{tmp}/job"],
        ["fetch-job", "--service-principal-id", SP_ID, "-o", "{tmp}/job"],
        ["fetch", "--since", "1d", "-o", "{tmp}/logs"],
        ["diagnose", "--graph", "--since", "1d"],
    ],
    ids=["check", "fetch-config", "retest", "fetch-job by name", "fetch-job by id", "fetch",
         "diagnose --graph"],
)
def test_a_graph_never_reached_is_retried_then_says_to_check_the_network(
        args, closed_root, waits, tmp_path) -> None:
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    result = CliRunner().invoke(app, [*args, "--graph-url", closed_root],
                                env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert result.exit_code == 3 and result.stdout == ""
    line = result.stderr
    assert line.count("\n") == 1 and "Traceback" not in line
    assert line.startswith(f"error: Graph at {closed_root} failed 5 times")
    assert line.rstrip().endswith(NEVER_ANSWERED)
    assert "try again later" not in line and "resume" not in line
    assert waits == WAITS


def test_a_write_that_never_left_this_machine_is_tried_again(closed_root) -> None:
    """A refused connection sent nothing, so even a write (Provision on demand) may be sent
    again; it is tried as often as a read and says the same."""
    connection = GraphConnection(closed_root, AuthOptions(access_token=TOKEN), FAST)
    tries: list[int] = []

    async def write(client: GraphClient):
        def request():
            tries.append(1)
            return client.sdk.users.by_user_id("anna").get()
        return await client.call("a write", "User.Read.All", request, write=True)

    with pytest.raises(GraphError) as failure:
        asyncio.run(with_client(connection, write))
    assert len(tries) == FAST.connection_tries and failure.value.exit_code == 3
    assert str(failure.value).endswith(NEVER_ANSWERED)
