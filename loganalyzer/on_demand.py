"""A Provision-on-demand response, read and diagnosed like a provisioning log event.

``POST .../provisionOnDemand`` answers a ``stringKeyStringValuePair`` whose ``key`` and
``value`` are JSON *encoded as strings* (formats reference 5.3): the key holds the result
(``{"result": "Skipped", "details": {"errorCode": …, "errorMessage": …}}``), the value a
provisioning-log-like object with other names (``type`` for the step type, ``startTime``,
``statusInfo``, identities with ``type``/``name``). The SDK cannot model what is inside those
strings, so they are parsed here; ``readers/on_demand.py`` (which also reads a pasted response
as an export) turns the pair into a Graph-shaped record, so it goes through the same
normalisation and rulebook as any export.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from loganalyzer import engine
from loganalyzer.findings import Finding
from loganalyzer.normalize import normalize
from loganalyzer.problems import InputError
from loganalyzer.readers.on_demand import as_event
from loganalyzer.readers.records import raw_record, records_to_frame


@dataclass
class OnDemandResult:
    subject: str  # the user as given on the command line
    result: str  # Success, Skipped, Failure (as Graph spelled it)
    error_code: str | None
    error_message: str | None
    steps: list[tuple[str, str, str]] = field(default_factory=list)  # name, status, description
    findings: list[Finding] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.result.lower() not in ("success", "skipped")


def _loads(text: Any, what: str, subject: str) -> dict:
    try:
        value = json.loads(text) if isinstance(text, str) else None
    except ValueError as exc:
        raise InputError(f"Provision on demand for {subject}",
                         f"its {what} is not JSON text ({exc})") from None
    if not isinstance(value, dict):
        raise InputError(f"Provision on demand for {subject}",
                         f"its {what} is not a JSON object encoded as a string")
    return value


def read_on_demand(subject: str, key: str | None, value: str | None,
                   service_principal_id: str, job_id: str) -> OnDemandResult:
    """Parse one response and run the rulebook on it."""
    outcome = _loads(key, "key", subject)
    details = outcome.get("details") if isinstance(outcome.get("details"), dict) else {}
    event = _loads(value, "value", subject) if value else {}
    result = OnDemandResult(subject, str(outcome.get("result") or "Unknown"),
                            details.get("errorCode"), details.get("errorMessage"))
    result.steps = [(str(s.get("name")), str(s.get("status")), str(s.get("description") or ""))
                    for s in event.get("provisioningSteps") or [] if isinstance(s, dict)]
    record = {**as_event(outcome, event), "jobId": job_id,
              "servicePrincipal": {"id": service_principal_id}}
    if record["id"] and record["activityDateTime"]:
        row, _ignored = raw_record(record, "provisionOnDemand", 1, f"the result for {subject}")
        frames, _problems = normalize(records_to_frame([row]))
        result.findings = [f for f in engine.diagnose(frames).findings if f.severity != "info"]
    return result
