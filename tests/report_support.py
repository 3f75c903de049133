"""Helpers for the report tests: run `report`, read Markdown tables back, a hostile export."""

from __future__ import annotations

import json
import re
from pathlib import Path

from conftest import SAMPLES
from typer.testing import CliRunner, Result

from loganalyzer.cli import app

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
PIPE = "Ops | Admin"
TEMPLATE = "{{7*7}} {% if 1 %}yes{% endif %}"
FORMULA = '=HYPERLINK("http://evil.example/","click")'
NEWLINES = "first line\r\nsecond line\n| --- |"
MARKDOWN = "`code` *bold* [link](http://evil.example) ![x](http://evil.example/x.png)"
HOSTILE = [SCRIPT, IMG, PIPE, TEMPLATE, FORMULA, NEWLINES, MARKDOWN]
APP = "Flowcase <b>SCIM</b> | {{7*7}}"

_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def run_report(*args: str | Path) -> Result:
    """`loganalyzer report ARGS -q` in-process."""
    return CliRunner().invoke(app, ["report", *map(str, args), "-q"])


def md_cells(line: str) -> list[str]:
    """The cells of one Markdown table row, split on pipes that are not escaped."""
    return [cell.strip() for cell in _UNESCAPED_PIPE.split(line.strip())[1:-1]]


def md_tables(markdown: str) -> list[list[list[str]]]:
    """Every table: a list of rows (header first, separator dropped), each a list of cells."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] | None = None
    for line in markdown.splitlines():
        if line.startswith("|"):
            if current is None:
                current = []
                tables.append(current)
            if not re.fullmatch(r"\|(\s*-+:?\|)+", line.replace(" ", "")):
                current.append(md_cells(line))
        else:
            current = None
    return tables


def md_section(markdown: str, heading: str) -> str:
    """The text under a heading (any level) up to the next heading of the same or higher level."""
    match = re.search(rf"^(#+) {re.escape(heading)}\s*$", markdown, re.MULTILINE)
    assert match, f"no heading {heading!r}"
    level = len(match.group(1))
    rest = markdown[match.end():]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return rest[: end.start()] if end else rest


def hostile_export(path: Path) -> Path:
    """The failing sample with hostile display names, app name, SCIM error details (inside the
    reason's response body) and one error code: what an attacker could put into Entra data."""
    records = json.loads((SAMPLES / "failing-initial.json").read_text())
    failures = [r for r in records if r["provisioningStatusInfo"]["status"] == "failure"]
    for i, record in enumerate(failures):
        hostile = HOSTILE[i % len(HOSTILE)]
        record["sourceIdentity"]["displayName"] = hostile
        record["sourceIdentity"]["details"]["DisplayName"] = hostile
        for prop in record["modifiedProperties"]:
            if prop["displayName"] == "displayName":
                prop["newValue"] = hostile
        error = record["provisioningStatusInfo"]["errorInformation"]
        body = json.dumps({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "detail": f"{HOSTILE[(i + 3) % len(HOSTILE)]} is not valid",
            "status": 400,
        })
        error["reason"] = re.sub(
            r"Web Response:\s*(\{.*\}|.*?)\. This operation",
            lambda _m, body=body: f"Web Response: {body}. This operation",
            error["reason"],
            flags=re.DOTALL,
        )
    failures[-1]["provisioningStatusInfo"]["errorInformation"]["errorCode"] = FORMULA
    for record in records:
        record["servicePrincipal"]["displayName"] = APP
    path.write_text(json.dumps(records), encoding="utf-8")
    return path
