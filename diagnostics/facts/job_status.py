"""The facts a rule needs from a sync job's status (``GET .../synchronization/jobs/{jobId}``).

Accepts the job object, its ``status`` object alone, or a Graph list page holding one job;
missing parts stay ``None`` (Graph writes ``""`` for timestamps that mean nothing).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from loganalyzer.masking import mask


class JobStatusError(ValueError):
    """The JSON is not a synchronization job status."""


QUARANTINE_EXCEPTION = "EncounteredQuarantineException"
# formats reference 4.4: more than four weeks in quarantine disables the job
QUARANTINE_LIMIT = timedelta(weeks=4)
# Flowcase's /Groups endpoint answering 404 (catalog pattern 1), whatever code Entra files it
# under: Test Connection's credential check words it "We received this unexpected response
# from your application: An HTTP/404 Not Found response ... Resource: .../Groups?filter=..."
_GROUPS_NOT_FOUND = (re.compile(r"\b404\b|NotFound", re.IGNORECASE),
                     re.compile(r"/Groups\b", re.IGNORECASE))


def is_never(text: str | None) -> bool:
    """Graph's ``0001-01-01T00:00:00Z``: never, not a time."""
    return (text or "").strip().startswith("0001-01-01")


def graph_time(text: str | None) -> datetime | None:
    """A Graph timestamp (``2021-05-24T21:45:54.4981365Z``) in UTC; None for none, ``""``,
    the ``0001-01-01`` sentinel and text that is not a timestamp."""
    try:
        moment = datetime.fromisoformat((text or "").strip())
    except ValueError:
        return None
    if moment.year == 1:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class JobStatus:
    job_id: str | None
    code: str | None  # Active, Paused, Quarantine, ...
    quarantine_reason: str | None  # EncounteredQuarantineException, ...
    quarantine_since: str | None  # the current quarantine's start, else the series'
    quarantine_series_began: str | None  # the first of this run of quarantines
    quarantine_next_attempt: str | None
    error_code: str | None  # quarantine.error, else lastExecution.error
    error_message: str | None
    last_execution_state: str | None
    successive_complete_failures: int | None

    @property
    def quarantined(self) -> bool:
        return self.code == "Quarantine" or bool(self.quarantine_reason)

    @property
    def disabled_around(self) -> datetime | None:
        """When Entra disables a job still in quarantine: four weeks after its run of
        quarantines began (a cycle that succeeds before lifts the quarantine)."""
        began = [when for text in (self.quarantine_series_began, self.quarantine_since)
                 if (when := graph_time(text))]
        return min(began) + QUARANTINE_LIMIT if began else None

    @property
    def blames_credentials(self) -> bool:
        """The job's error is about the credentials. ``EncounteredQuarantineException`` means
        "invalid credentials / cannot connect" (formats reference 4.4) unless its error names
        another cause: a SCIM compliance error (``...ServiceIncompatible``), or a message saying
        ``/Groups`` answered 404 under any code (a credential-validation one too), is the group
        mapping, not the token."""
        code = (self.error_code or "").lower()
        if all(pattern.search(self.error_message or "") for pattern in _GROUPS_NOT_FOUND):
            return False
        if code.endswith(("invalidcredentials", "unauthorized")) or "credential" in code:
            return True
        return self.quarantine_reason == QUARANTINE_EXCEPTION and "incompatible" not in code


def _text(value: Any) -> str | None:
    if value is None:
        return None
    value = str(value).strip()
    return value or None


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _error(obj: Mapping[str, Any] | None) -> tuple[str | None, str | None]:
    """(code, message); the message masked, as log texts are (it may echo a credential)."""
    if not isinstance(obj, Mapping):
        return None, None
    code = _text(obj.get("code"))
    message = mask(_text(obj.get("message")))
    return (None if code in (None, "None") else code), message


def _began(quarantine: Mapping) -> str | None:
    """When the quarantine began: the current one's start, else the series'. Graph's
    ``0001-01-01`` sentinel means never, not a start: taken as one, it hid the series' start
    and the rule's message printed it raw ("since 0001-01-01T00:00:00Z")."""
    for key in ("currentBegan", "seriesBegan"):
        text = _text(quarantine.get(key))
        if text and not is_never(text):
            return text
    return None


def parse_job_status(document: Any) -> JobStatus:
    """Read a job (or its status) as Graph returns it; raise JobStatusError otherwise."""
    if isinstance(document, Mapping) and isinstance(document.get("value"), list):
        jobs = [j for j in document["value"] if isinstance(j, Mapping)]
        if len(jobs) != 1:
            raise JobStatusError(f"expected one synchronization job, found {len(jobs)}")
        document = jobs[0]
    if not isinstance(document, Mapping):
        raise JobStatusError("expected a JSON object (a synchronization job)")
    status = document.get("status") if isinstance(document.get("status"), Mapping) else None
    if status is None and any(k in document for k in ("quarantine", "lastExecution", "code")):
        status = document
    if status is None:
        raise JobStatusError(
            "expected a synchronization job with a 'status' object "
            "(quarantine, lastExecution, code)"
        )
    quarantine = status.get("quarantine") if isinstance(status.get("quarantine"), Mapping) else {}
    last = status.get("lastExecution") if isinstance(status.get("lastExecution"), Mapping) else {}
    q_code, q_message = _error(quarantine.get("error"))
    l_code, l_message = _error(last.get("error"))
    return JobStatus(
        job_id=_text(document.get("id")),
        code=_text(status.get("code")),
        quarantine_reason=_text(quarantine.get("reason")),
        quarantine_since=_began(quarantine),
        quarantine_series_began=_text(quarantine.get("seriesBegan")),
        quarantine_next_attempt=_text(quarantine.get("nextAttempt")),
        error_code=q_code or l_code,
        error_message=(q_message if q_code else None) or l_message,
        last_execution_state=_text(last.get("state")),
        successive_complete_failures=_int(status.get("countSuccessiveCompleteFailures")),
    )
