"""Sign-in and refusals: 401/403 name what is missing (exit 2); tokens and secrets never show."""

from __future__ import annotations

import asyncio
import logging
import socket

import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.graph.client import (
    AuthOptions,
    GraphConnection,
    GraphError,
    GraphRequestError,
    GraphSession,
    _Secrets,
    _Tokens,
    check_graph_url,
)
from loganalyzer.graph.fetch import fetch_to_folder
from loganalyzer.graph.sdk import _TokenProvider
from tests.fake_graph import FakeGraph
from tests.graph_support import TOKEN, events, one_error_line, options, page_ids

# the fake Graph serves March 2026 (conftest.graph_in_march)
pytestmark = pytest.mark.usefixtures("graph_in_march")

LOGS = "/auditLogs/provisioning"
SECRET = "s3cr3t~Value.From_Env-9f2c"
WINDOW = ("--from", "2026-03-01", "--to", "2026-03-31")  # the served events' month


@pytest.fixture(autouse=True)
def no_ambient_credentials(monkeypatch):
    for name in ("GRAPH_ACCESS_TOKEN", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID",
                 "AZURE_CLIENT_ID", "AZURE_CLIENT_CERTIFICATE_PASSWORD"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture
def graph():
    with FakeGraph(events(), token=TOKEN) as fake:
        yield fake


def fetch(graph: FakeGraph, out, *args: str, env: dict | None = None):
    args = (*WINDOW, *args)
    result = CliRunner().invoke(
        app, ["fetch", "--graph-url", graph.url, "-o", str(out), *args],
        env=env,
    )
    return result.exit_code, result.stdout, result.stderr


def test_401_names_the_missing_permissions_and_exits_2(graph, tmp_path):
    code, _, stderr = fetch(graph, tmp_path, "--access-token", "expired-or-foreign-token")
    assert code == 2
    line = one_error_line(stderr)
    for missing in ("401", "AuditLog.Read.All", "Directory.Read.All", "P1 or P2",
                    "object id, not its application (client) id"):
        assert missing in line
    assert "expired-or-foreign-token" not in stderr


def test_403_without_licence_says_so_and_exits_2(graph, tmp_path):
    graph.fail(LOGS, 403, body={"error": {
        "code": "Authentication_RequestFromNonPremiumTenantOrB2CTenant",
        "message": "Tenant does not have a SKU required for this operation"}})
    code, _, stderr = fetch(graph, tmp_path, env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert code == 2
    line = one_error_line(stderr)
    assert "Authentication_RequestFromNonPremiumTenantOrB2CTenant" in line
    assert "P1 or P2" in line and "AuditLog.Read.All" in line


def test_token_from_environment_is_used_and_never_shown(graph, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    code, stdout, stderr = fetch(graph, tmp_path / "out", env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert code == 0, stderr
    assert graph.served and all(s.authorization == f"Bearer {TOKEN}" for s in graph.served)
    assert sorted(page_ids(tmp_path / "out")) == sorted(e["id"] for e in graph.events)
    written = "".join(p.read_text() for p in (tmp_path / "out").iterdir())
    for text in (stdout, stderr, caplog.text, written):
        assert TOKEN not in text


def test_token_never_shows_through_retries_and_failures(graph, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    graph.drop(LOGS, skip=1)
    graph.fail(LOGS, 500, skip=1)
    graph.drop(LOGS, skip=2, times=5)  # then more drops than the policy allows
    with pytest.raises(GraphError) as failure:
        fetch_to_folder(options(graph), tmp_path)
    assert any(s.status == 500 for s in graph.served)
    texts = [str(failure.value), repr(failure.value), caplog.text,
             repr(options(graph)), repr(options(graph).connection.auth)]
    texts += [r.getMessage() for r in caplog.records]
    assert not [t for t in texts if TOKEN in t]


def test_client_secret_needs_tenant_and_client_and_is_never_shown(graph, tmp_path):
    code, stdout, stderr = fetch(graph, tmp_path, env={"AZURE_CLIENT_SECRET": SECRET})
    assert code == 2
    assert "--tenant-id" in one_error_line(stderr) and "AZURE_TENANT_ID" in stderr
    assert SECRET not in stdout + stderr
    assert not graph.served


def test_one_sign_in_method_at_a_time(graph, tmp_path):
    code, _, stderr = fetch(graph, tmp_path, "--access-token", TOKEN, "--managed-identity")
    assert code == 2
    assert "choose one way to sign in" in one_error_line(stderr)
    assert TOKEN not in stderr


def test_missing_certificate_file_is_named(graph, tmp_path):
    code, _, stderr = fetch(graph, tmp_path, "--certificate", str(tmp_path / "app.pem"),
                            "--tenant-id", "t", "--client-id", "c")
    assert code == 2
    assert "app.pem" in one_error_line(stderr)


def test_bad_filter_option_exits_2_without_a_request(graph, tmp_path):
    code, _, stderr = fetch(graph, tmp_path, "--from", "yesterday", env={
        "GRAPH_ACCESS_TOKEN": TOKEN})
    assert code == 2
    assert "--from" in one_error_line(stderr)
    assert not graph.served


class StubSecretCredential:
    """Stands in for azure-identity's ClientSecretCredential (no network in tests)."""

    issued: list[str] = []

    def __init__(self, tenant_id: str, client_id: str, secret: str, **_kwargs) -> None:
        self.secret = secret

    def get_token(self, scope: str):
        from azure.core.credentials import AccessToken
        from azure.core.exceptions import ClientAuthenticationError

        if self.secret != SECRET:
            raise ClientAuthenticationError(
                f"AADSTS7000215: Invalid client secret provided ({self.secret}).\nTrace ID: 1")
        assert scope.endswith("/.default")
        StubSecretCredential.issued.append(scope)
        return AccessToken(TOKEN, 4_102_444_800)


def test_client_secret_from_environment_signs_in_once(graph, tmp_path, monkeypatch):
    monkeypatch.setattr("loganalyzer.graph.client.ClientSecretCredential", StubSecretCredential)
    StubSecretCredential.issued.clear()
    env = {"AZURE_CLIENT_SECRET": SECRET, "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"}
    code, stdout, stderr = fetch(graph, tmp_path, "--page-size", "50", env=env)
    assert code == 0, stderr
    assert StubSecretCredential.issued == [graph.url.split("/v1.0")[0] + "/.default"]
    assert len(graph.served) > 1  # the cached token served every page
    assert SECRET not in stdout + stderr and TOKEN not in stdout + stderr


def test_rejected_client_secret_is_scrubbed_from_the_message(graph, tmp_path, monkeypatch):
    monkeypatch.setattr("loganalyzer.graph.client.ClientSecretCredential", StubSecretCredential)
    wrong = "wrong-secret-value-123"
    env = {"AZURE_CLIENT_SECRET": wrong, "AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "c"}
    code, stdout, stderr = fetch(graph, tmp_path, env=env)
    assert code == 2
    line = one_error_line(stderr)
    assert "AADSTS7000215" in line and "[redacted]" in line
    assert wrong not in stdout + stderr


def test_a_sign_in_service_that_cannot_be_reached_is_tried_again_then_exits_3(
        graph, tmp_path, monkeypatch):
    """azure-identity's real credential, sent to a closed port on this machine: it reports
    the refused connection as ClientAuthenticationError, which must not read as wrong
    credentials (exit 2) to a weekly job, whose wrapper retries on 3."""
    from azure.identity import ClientSecretCredential

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    attempts = []

    class Unreachable(ClientSecretCredential):
        def __init__(self, tenant_id, client_id, secret, **_kwargs):
            super().__init__(tenant_id, client_id, secret, authority=f"127.0.0.1:{closed}",
                             disable_instance_discovery=True, retry_total=0)

        def get_token(self, *scopes, **kwargs):
            attempts.append(scopes)
            return super().get_token(*scopes, **kwargs)

    monkeypatch.setattr("loganalyzer.graph.client.ClientSecretCredential", Unreachable)
    monkeypatch.setattr("loganalyzer.graph.client.SIGN_IN_RETRIES", (0.0,))
    env = {"AZURE_CLIENT_SECRET": SECRET, "AZURE_TENANT_ID": "0c8e1b2a-4d5f-4e6a-9b7c-1d2e3f4a5b6c",
           "AZURE_CLIENT_ID": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2918"}
    code, stdout, stderr = fetch(graph, tmp_path, env=env)
    assert code == 3, stderr
    line = one_error_line(stderr)
    assert "the sign-in service could not be reached" in line
    assert "Connection refused" in line and "try again later" in line
    assert len(attempts) == 2  # tried again once (SIGN_IN_RETRIES)
    assert SECRET not in stdout + stderr
    assert not graph.served  # no token: nothing was asked of Graph


@pytest.mark.parametrize(
    ("url", "said"),
    [
        ("graph.microsoft.com/v1.0", "give the whole address with https://"),
        ("http://graph.microsoft.com/v1.0", "plain http would send the token unencrypted"),
        ("ftp://graph.microsoft.com/v1.0", "give the whole address with https://"),
        ("https://graph.microsoft.com:44x/v1.0", "the port is not a number"),
        (f"https://user:{SECRET}@graph.microsoft.com/v1.0", "must not hold a user name"),
    ],
)
@pytest.mark.parametrize("command", [["fetch", "-o", "{out}"], ["check", "--graph", "--app", "x"],
                                     ["fetch-job", "--service-principal-id", "x", "-o", "{out}"]])
def test_graph_url_the_token_must_not_go_to_is_refused(graph, tmp_path, url, said, command):
    args = [str(tmp_path / "out") if a == "{out}" else a for a in command]
    result = CliRunner().invoke(app, [*args, "--graph-url", url],
                                env={"GRAPH_ACCESS_TOKEN": TOKEN})
    assert result.exit_code == 2
    assert said in one_error_line(result.stderr)
    assert SECRET not in result.output and TOKEN not in result.output


@pytest.mark.parametrize("url", ["https://graph.microsoft.us/v1.0", "http://127.0.0.1:8080/v1.0",
                                 "http://[::1]:8080/v1.0", "http://localhost:8080/v1.0"])
def test_https_and_loopback_graph_urls_are_accepted(url):
    check_graph_url(url)


ROOT = "https://graph.microsoft.com/v1.0"


@pytest.mark.parametrize(
    ("link", "same"),
    [
        ("https://graph.microsoft.com/v1.0/auditLogs/provisioning?$skiptoken=a1", True),
        ("https://GRAPH.microsoft.com:443/v1.0/auditLogs/provisioning?$skiptoken=a1", True),
        ("https://graph.microsoft.com.evil.com/v1.0/auditLogs/provisioning", False),
        ("https://graph.microsoft.com:8443/v1.0/auditLogs/provisioning", False),
        ("http://graph.microsoft.com/v1.0/auditLogs/provisioning", False),
        ("https://graph.microsoft.com@evil.com/v1.0/auditLogs/provisioning", False),
    ],
)
def test_next_links_are_compared_by_scheme_host_and_port(link, same):
    session = GraphSession(GraphConnection(ROOT, AuthOptions(access_token=TOKEN)))
    try:
        if same:
            assert session.check_origin(link) == link
        else:
            with pytest.raises(GraphRequestError, match="refusing to send the token"):
                session.check_origin(link)
    finally:
        asyncio.run(session.close())
    # the SDK's reads (check --graph, retest) give the token to the same server only
    provider = _TokenProvider(_Tokens(AuthOptions(access_token=TOKEN), ROOT, _Secrets()), ROOT)
    assert asyncio.run(provider.get_authorization_token(link)) == (TOKEN if same else "")


def test_no_managed_identity_on_this_machine_is_a_setup_error_not_a_retry(
        graph, tmp_path, monkeypatch):
    """--managed-identity where there is none: its local endpoint refuses the connection,
    as an outage would, but trying again will not mend it: exit 2, at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    monkeypatch.setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", f"http://127.0.0.1:{closed}")
    monkeypatch.setattr("loganalyzer.graph.client.SIGN_IN_RETRIES", (60.0,))  # never waited
    code, stdout, stderr = fetch(graph, tmp_path, "--managed-identity")
    assert code == 2, stderr
    line = one_error_line(stderr)
    assert "could not sign in with managed identity" in line
    assert "try again later" not in line
    assert not graph.served
