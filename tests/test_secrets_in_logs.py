"""A credential echoed in a log's error text never reaches any output."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loganalyzer.cli import app

DATA = Path(__file__).parent / "data"
TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJhdWQiOiJmbG93Y2FzZSJ9.SIGNATUREabcdef"
API_KEY = "fc_live_8d7e6f5a4b3c2d1e"


@pytest.fixture
def export(tmp_path) -> Path:
    records = json.loads((DATA / "graph-records-captured.json").read_text())
    failure = copy.deepcopy(records[1])
    info = failure["provisioningStatusInfo"]["errorInformation"]
    info["errorCode"] = "SystemForCrossDomainIdentityManagementCredentialValidationFailure"
    info["reason"] = (
        "StatusCode: Unauthorized\r\nMessage: Processing of the HTTP request resulted in an "
        "exception.\r\nWeb Response: \r\n{\"detail\":\"Invalid token " + f'token=\\"{API_KEY}\\"'
        + f" (Authorization: Bearer {TOKEN})\",\"status\":401}}. This operation was retried 0 "
        "times. It will be retried again after this date: 2026-03-24T13:23:44.9198514Z UTC"
    )
    info["additionalDetails"] = f"api_key={API_KEY}"
    # Flowcase's event beside another SCIM app's (only Flowcase's are diagnosed)
    failure["servicePrincipal"] = {"id": "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10",
                                   "displayName": "Flowcase"}
    path = tmp_path / "export.json"
    path.write_text(json.dumps([records[0], failure]))
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["diagnose", "--format", "json"],
        ["diagnose", "--format", "md"],
        ["diagnose"],
        ["why", "craig_ranger@test .com"],
        ["why", "craig_ranger@test .com", "--format", "json"],
        ["report", "--format", "md", "-o", "-"],
    ],
    ids=lambda c: " ".join(c[:3]),
)
def test_no_output_shows_the_credential(export, tmp_path, command):
    args = list(command)
    if args[0] == "why":
        args.insert(2, str(export))
    elif args[-1] == "-":
        args[-1] = str(tmp_path / "report.md")
        args.insert(1, str(export))
    else:
        args.insert(1, str(export))
    result = CliRunner().invoke(app, args)
    assert result.exit_code in (0, 1), result.output
    written = (tmp_path / "report.md").read_text() if args[0] == "report" else ""
    for text in (result.stdout, result.stderr, written):
        assert TOKEN not in text and "SIGNATUREabcdef" not in text
        assert API_KEY not in text
    assert "REDACTED" in result.stdout + written


SAMPLES = Path(__file__).resolve().parent.parent / "sample_logs"
ECHOED = (f"rejected: Authorization: Token {API_KEY}0000 and token=\"{API_KEY}\"; "
          f"client_secret={API_KEY}")


def _with_echoed_error(document: dict) -> dict:
    """Every error message of a job status replaced by one that echoes credentials."""
    for key, value in document.items():
        if key == "error" and isinstance(value, dict):
            value["message"] = ECHOED
        elif isinstance(value, dict):
            _with_echoed_error(value)
    return document


@pytest.mark.parametrize("command", [["diagnose", "--format", "json"], ["diagnose"],
                                     ["report", "--format", "md"], ["report", "--format", "html"]])
def test_a_job_status_message_is_masked_like_log_text(tmp_path, command):
    status = json.loads((SAMPLES / "job-status/pattern-04-bad-token.job.json").read_text())
    job = tmp_path / "job.json"
    job.write_text(json.dumps(_with_echoed_error(status)))
    result = CliRunner().invoke(app, [*command, str(SAMPLES / "pattern-04-bad-token.json"),
                                      "--job-status", str(job), "-q"])
    assert result.exit_code in (0, 1), result.output
    assert API_KEY not in result.stdout and "REDACTED" in result.stdout


def test_a_configuration_message_is_masked(tmp_path):
    """A saved sync job whose quarantine message echoes the token: `check --config`."""
    config = tmp_path / "config"
    shutil.copytree(SAMPLES / "config/bad", config)
    job_file = config / "sync-job.json"
    job = _with_echoed_error(json.loads(job_file.read_text()))
    job.setdefault("status", {})["code"] = "Quarantine"
    job["status"].setdefault("quarantine", {"reason": "EncounteredQuarantineException"})
    job["status"]["quarantine"]["error"] = {"code": "InvalidCredentials", "message": ECHOED}
    job_file.write_text(json.dumps(job))
    result = CliRunner().invoke(app, ["check", "--config", str(config), "-q"])
    assert "quarantine" in result.stdout
    assert API_KEY not in result.stdout and "REDACTED" in result.stdout
