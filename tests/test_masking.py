"""Credentials in log texts are masked by one table, pattern by pattern, before anything is
written: terminal, Markdown, HTML (also with --redact), JSON and the store."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.ingest import read_store
from loganalyzer.masking import MASK, PATTERNS, TRIGGER, mask, mask_columns, mask_expr

DATA = Path(__file__).parent / "data"

# the secret part of each table example: none may survive masking
SECRETS = {
    "PEM private key": "MIIEowIBAAKCAQEA7x",
    "JSON Web Token": "eyJzdWIiOiIxMjM0In0",
    "Authorization: Bearer": "0123456789abcdefSECRET",
    "Authorization: Basic": "dXNlcjpwYXNzd29yZA==",
    "GitHub token": "ghp_0123456789abcdefghij",
    "AWS access key id": "AKIAIOSFODNN7EXAMPLE",
    "Slack token": "xoxb-123456789012",
    "Azure SAS signature (sig=)": "AbC%2Bdef%3D",
    "SharedAccessSignature token": "sig=AbC%3D",
    "Azure connection-string key (AccountKey=, SharedAccessKey=)": "bXlzZWNyZXRrZXk=",
    "password in a URL": "hunter2secret",
    "Authorization header, any scheme (Token …, a bare value, URL-encoded)":
        "0123456789abcdefSECRET2",
    "quoted value of a key, token, secret or password label (token=\"a,b\")":
        "S3CRET,with,commas0123",
    "key or code in a URL's query (Azure Functions ?code=, ?key=)": "AzFnKeyS3cr3tVALUE0001",
    "single-quoted value of such a label (password='two words')": "correct horse battery",
    "such a label and a value after a space (secret token S3cr3t0001, api_key X)":
        "SCIMTOKENs3cr3tVALUE0005",
}


def _secret_of(pattern) -> list[str]:
    if pattern.name in SECRETS:
        return [SECRETS[pattern.name]]
    return ["0123456789abcdef0123456789abcdef", "API_KEY_123"]  # the label pattern's example


@pytest.mark.parametrize("pattern", PATTERNS, ids=lambda p: p.name)
def test_every_pattern_masks_its_example_in_text_and_columns(pattern):
    assert re.search(TRIGGER, pattern.example)  # else the prefilter would skip it
    column = pl.DataFrame({"t": [pattern.example]}).select(mask_expr(pl.col("t"))).item()
    assert mask(pattern.example) == column
    frame = pl.DataFrame({"t": ["nothing to hide", pattern.example, None]})
    assert mask_columns(frame, ["t"])["t"].to_list() == ["nothing to hide", column, None]
    assert MASK in column
    for secret in _secret_of(pattern):
        assert secret in pattern.example
        assert secret not in column


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("https://acct.blob.core.windows.net/c?sv=1&sig=Zm9vYmFy&se=2026",
         "sv=1&sig=[REDACTED]&se=2026"),
        ("AccountName=a;AccountKey=Zm9vYmFyYmF6;EndpointSuffix=core.windows.net",
         "AccountKey=[REDACTED];EndpointSuffix"),
        ('{"Ocp-Apim-Subscription-Key":"0123456789abcdef"}',
         '"Ocp-Apim-Subscription-Key":"[REDACTED]"'),
        ("Endpoint=sb://ns/;SharedAccessKeyName=Root;SharedAccessKey=Zm9vYmFy=",
         "SharedAccessKeyName=Root;SharedAccessKey=[REDACTED]"),
        ("-----BEGIN PRIVATE KEY-----\\nMIIBVQIBADANBgkqhkiG9w0B (cut)", "[REDACTED]"),
    ],
    ids=["sas-query", "account-key", "apim-json", "service-bus", "pem-cut"],
)
def test_the_label_stays_readable(text, kept):
    assert kept in mask(text)


@pytest.mark.parametrize(
    "text",
    [
        "StatusCode: Conflict Message: Processing of the HTTP request resulted in an exception.",
        '{"detail":"User with userName anna.berg@northwind.no already exists","status":409}',
        "The token provided is invalid or expired",
        "Skipped: user is not assigned (SkipReason NotEffectivelyEntitled)",
        "departmentManager=anna.berg@northwind.no",
    ],
)
def test_ordinary_log_text_is_left_alone(text):
    assert mask(text) == text


@pytest.fixture
def export(tmp_path) -> Path:
    """A failed event whose reason, step description, step details and modified properties
    each carry one kind of secret."""
    records = json.loads((DATA / "graph-records-captured.json").read_text())
    failure = copy.deepcopy(records[1])
    examples = [p.example for p in PATTERNS]
    info = failure["provisioningStatusInfo"]["errorInformation"]
    info["reason"] = "StatusCode: Unauthorized Web Response: " + " | ".join(examples[:6])
    info["additionalDetails"] = examples[6]
    step = failure["provisioningSteps"][-1]
    step["description"] = f"Failed to export: {examples[7]}"
    step["details"] = {"Authorization": examples[8], "ConnectionString": examples[9]}
    failure["modifiedProperties"] = [
        {"displayName": "url", "oldValue": examples[10], "newValue": examples[11]}
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps([records[0], failure]))
    return path


def _assert_no_secret(text: str) -> None:
    for pattern in PATTERNS:
        for secret in _secret_of(pattern):
            assert secret not in text, (pattern.name, secret)


def test_the_store_holds_no_secret(export, tmp_path):
    store = tmp_path / "store"
    result = CliRunner().invoke(app, ["ingest", str(export), "-o", str(store), "-q"])
    assert result.exit_code == 0, result.output
    frames, _ = read_store(store)
    frames = frames.collected()
    cells = []
    for frame in (frames.events, frames.steps, frames.modified_properties,
                  frames.details.collect()):
        cells += [json.dumps(row, default=str) for row in frame.iter_rows(named=True)]
    text = "\n".join(cells)
    assert MASK in text
    _assert_no_secret(text)


@pytest.mark.parametrize(
    "command",
    [
        ["diagnose"],
        ["diagnose", "--format", "md"],
        ["diagnose", "--format", "json"],
        ["summary", "--format", "json"],
        ["report", "--format", "html", "-o", "OUT"],
        ["report", "--format", "html", "--redact", "-o", "OUT"],
        ["report", "--format", "md", "-o", "OUT"],
    ],
    ids=lambda c: " ".join(c),
)
def test_no_output_holds_a_secret(export, tmp_path, command):
    fmt = command[command.index("--format") + 1] if "--format" in command else "txt"
    out = tmp_path / f"out.{fmt}"
    args = [command[0], str(export), *[str(out) if a == "OUT" else a for a in command[1:]]]
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    written = out.read_text() if out.exists() else ""
    _assert_no_secret(result.stdout + result.stderr + written)


@pytest.mark.parametrize("text", [
    "rejected header Authorization: Token S1ECRETAAAA0123456789",
    '{"Authorization": "S2ECRETBBBB0123456789"}',
    "GET /x?Authorization=Bearer%20S3ECRETCCCC0123456789",
    "blob?sv=1&sig%3DS5ECRETEEEE0123&se=2",
    "Authorization: Bearer S7ECRET!GGGG0123456789",
    'Bearer "S8ECRETHHHH0123456789"',
    "{\\u0022token\\u0022:\\u0022S9ECRETVAL1234\\u0022}",  # as .NET escapes JSON
    'token="S4ECRET,DDDD0123456789"',
    # labels with no ':' or '=' between them and the value, as error texts write them
    "Bearer token S10ECRETAAAA0123 is expired",
    "Bearer: S11ECRETBBBB0123",
    "api_key S12ECRETCCCC0123",
    "client secret S13ECRETDDDD0123 was rejected",
    "credentials for https://acme.flowcase.com/api/scim/v2 using secret token S14ECRET5",
    # a Functions key in the tenant URL; '=' URL-encoded or JSON-escaped; single quotes
    "https://fn.azurewebsites.net/api/scim/v2/Users?code=S15ECRETEEEE0123&x=1",
    "GET /Users?filter=x&key=S16ECRETFFFF0123",
    "token%3DS17ECRETGGGG0123",
    "token\\u003dS18ECRETHHHH0123",
    "password='S19ECRET with spaces'",
    # the query escaped whole, a key with escapes of its own, .NET's escaped apostrophe
    "GET /Users?code%3DS20ECRETIIII0123",
    "next=%2FUsers%3Fcode%3DS21ECRETJJJJ0123%26filter%3Dx",
    "?code=S22ECRET%2Bkk%2Fll%3D%3D&x=1",
    "password=\\u0027S23ECRET words\\u0027",
])
def test_other_header_forms_and_escapes_lose_their_secret(text):
    masked = mask(text)
    assert MASK in masked and "ECRET" not in masked
    assert pl.DataFrame({"t": [text]}).select(mask_expr(pl.col("t"))).item() == masked


@pytest.mark.parametrize("prose", ["Bearer token was rejected", "Authorization failed for user",
                                   "The token provided is invalid or expired",
                                   "Your token expired on 2026-03-24", "password policy violated",
                                   "the secret token was rotated 2 times", "key 12 of 40",
                                   "GET /Users?code=200",
                                   "The bearer token supplied is not valid",
                                   "Bearer token required",
                                   "Authorization: failed", "Basic authentication failed",
                                   "The Basic Authentication scheme is not supported",
                                   "Basic HTTP authentication is disabled"])
def test_prose_about_authorization_is_left_alone(prose):
    assert mask(prose) == prose
    assert pl.DataFrame({"t": [prose]}).select(mask_expr(pl.col("t"))).item() == prose


@pytest.mark.parametrize("credential", ["dXNlcjpwYXNzd29yZA==", "YWRtaW46aHVudGVyMg",
                                        "Zmxvd2Nhc2U6c2VjcmV0", "bG9uZ3VzZXI6cGFzcw"])
def test_a_basic_credential_outside_a_header_is_masked(credential):
    text = f'curl -H "Basic {credential}" failed'
    assert mask(text) == f'curl -H "Basic {MASK}" failed'
    assert pl.DataFrame({"t": [text]}).select(mask_expr(pl.col("t"))).item() == mask(text)


def test_a_value_named_as_a_credential_is_masked_whatever_it_looks_like(tmp_path):
    """An app mapping that sends a password (Entra's RandomString()) or a detail named
    SecretToken: the value has no label of its own, its key says what it is."""
    records = json.loads((DATA / "graph-records-captured.json").read_text())
    event = copy.deepcopy(records[1])
    event["provisioningSteps"][-1]["details"].update(
        {"password": "plain-hunter2", "SecretToken": "tok3nValue", "passwordPolicies": "None"})
    event["modifiedProperties"] = [
        {"displayName": "password", "oldValue": None, "newValue": "plain-hunter3"},
        {"displayName": "urn:ietf:params:scim:schemas:core:2.0:User:password",
         "oldValue": "plain-hunter4", "newValue": None},
        {"displayName": "passwordPolicies", "oldValue": None,
         "newValue": "DisablePasswordExpiration"},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps([records[0], event]))
    store = tmp_path / "store"
    result = CliRunner().invoke(app, ["ingest", str(path), "-o", str(store), "-q"])
    assert result.exit_code == 0, result.output
    frames = read_store(store)[0].collected()
    text = "\n".join(json.dumps(row, default=str) for frame in (
        frames.steps, frames.modified_properties, frames.details.collect())
        for row in frame.iter_rows(named=True))
    assert "plain-hunter" not in text and "tok3nValue" not in text
    assert text.count(MASK) >= 5  # details in both forms, and the two properties
    # a name that only begins like one keeps its value
    assert "DisablePasswordExpiration" in text
