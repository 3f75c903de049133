"""The provisioning job is in quarantine, paused or disabled.

What it detects:
    A synchronization job whose status code is ``Quarantine`` or ``Paused``, or whose schedule
    state is ``Disabled`` or ``Paused``; with the quarantine reason, the last error and since
    when.
Why provisioning fails:
    A quarantined job runs at most once a day and is disabled after four weeks; a paused or
    disabled job provisions nobody. The reason (for example
    ``EncounteredEscrowProportionThreshold``: more than 40% of operations failed) points at
    the cause to fix first.
Evidence:
    The job's status and schedule against "Active", the quarantine reason and error message
    (none when Graph's error code is ``None``) and since when (none for Graph's
    ``0001-01-01T00:00:00Z``, which means never).
Fix:
    Step 3 then 8b: fix the cause the reason and the log findings name (a quarantine for
    credentials is the Tenant URL or Secret Token of step 3), then restart provisioning
    (Provisioning > Restart provisioning) so the quarantine is lifted.
Known false positives:
    A job an admin paused on purpose (for a maintenance window) is reported.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from diagnostics.config_rule import ConfigHit, Mismatch, NotCheckable
from diagnostics.facts.config import enum_text
from loganalyzer.config.model import JOBS, ConfigSnapshot

ID = "CC015"
TITLE = "The provisioning job is in quarantine or stopped"
SEVERITY = "critical"
GUIDE_STEPS = ("3", "8b")
NEEDS = (JOBS,)
LOG_RULES = ("FC016",)
REMEDIATION = (
    "Fix the cause named by the quarantine reason and the log findings (for credentials, the "
    'Tenant URL and Secret Token of guide step 3), then Provisioning > "Restart provisioning" '
    '(guide step 8b: "Provisioning will run continuously in cycles (approximately every 40 '
    'minutes). You can monitor progress via the provisioning logs.").'
)
NO_ERROR = "None"  # Graph's error code when there was no error


def _what(code: str, state: str) -> str:
    """The job's condition in words; a paused job is paused whatever its schedule says."""
    if code == "Quarantine":
        return "in quarantine"
    return "paused" if "Paused" in (code, state) else "disabled"


def _error_text(status: Any) -> str:
    """The quarantine's error, else the last run's; '' for Graph's no-error placeholder
    (code "None", empty message), which is not a reason."""
    last = status.last_execution
    for error in (status.quarantine.error, last.error if last else None):
        text = error and (error.message or (error.code if error.code != NO_ERROR else ""))
        if text:
            return text
    return ""


def _since(quarantine: Any) -> datetime | None:
    """When the quarantine began, in UTC; Graph's 0001-01-01 sentinel means never."""
    for moment in (quarantine.current_began, quarantine.series_began):
        if moment is not None and moment.year > 1:
            return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return None


def _quarantine(label: str, status: Any) -> tuple[Mismatch, str]:
    """The quarantine's evidence and the reason for the message."""
    why = enum_text(status.quarantine.reason) or "no reason given"
    reason = why + (f": {message}" if (message := _error_text(status)) else "")
    began = _since(status.quarantine)
    since = f" (since {began:%Y-%m-%d %H:%M} UTC)" if began else ""
    return Mismatch(f"{label} quarantine", reason + since, "not in quarantine"), reason


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    jobs = config.job_models()
    if not jobs:
        raise NotCheckable(config.unavailable.get(JOBS, "no synchronization job was read"))
    hits = []
    for job in jobs:
        status = job.status
        code = enum_text(status.code) if status else ""
        state = enum_text(job.schedule.state) if job.schedule else ""
        if code not in ("Quarantine", "Paused") and state not in ("Disabled", "Paused"):
            continue
        label = f"job {job.id}"
        shown = f"status {code or 'not given'}, schedule {state or 'not given'}"
        evidence = [Mismatch(label, shown, "status Active, schedule Active")]
        reason = ""
        if code == "Quarantine" and status.quarantine is not None:
            found, why = _quarantine(label, status)
            evidence.append(found)
            reason = f" ({why})"
        hits.append(ConfigHit(f"The provisioning job is {_what(code, state)}{reason}.", evidence,
                              severity=None if code == "Quarantine" else "high"))
    return hits
