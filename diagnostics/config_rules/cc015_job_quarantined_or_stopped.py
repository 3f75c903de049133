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
    The job's status and schedule against "Active", the quarantine reason and error message.
Fix:
    Step 8b: fix the cause the reason and the log findings name, then restart provisioning
    (Provisioning > Restart provisioning) so the quarantine is lifted.
Known false positives:
    A job an admin paused on purpose (for a maintenance window) is reported.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch, NotCheckable
from diagnostics.facts.config import enum_text
from loganalyzer.config.model import JOBS, ConfigSnapshot

ID = "CC015"
TITLE = "The provisioning job is in quarantine or stopped"
SEVERITY = "critical"
GUIDE_STEPS = ("8b",)
NEEDS = (JOBS,)
LOG_RULES = ("FC016",)
REMEDIATION = (
    "Fix the cause named by the quarantine reason and the log findings, then Provisioning > "
    '"Restart provisioning" (guide step 8b: "Provisioning will run continuously in cycles '
    '(approximately every 40 minutes). You can monitor progress via the provisioning logs.").'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    jobs = config.job_models()
    if not jobs:
        raise NotCheckable(config.unavailable.get(JOBS, "no synchronization job was read"))
    hits = []
    for job in jobs:
        status = job.status
        code = enum_text(status.code) if status else ""
        state = enum_text(job.schedule.state) if job.schedule else ""
        quarantine = status.quarantine if status else None
        if code not in ("Quarantine", "Paused") and state not in ("Disabled", "Paused"):
            continue
        label = f"job {job.id}"
        evidence = [Mismatch(label, f"status {code or '?'}, schedule {state or '?'}",
                             "status Active, schedule Active")]
        reason = ""
        if quarantine is not None and code == "Quarantine":
            why = enum_text(quarantine.reason) or "no reason given"
            error = quarantine.error or (status.last_execution.error
                                         if status.last_execution else None)
            message = (error.message or error.code) if error else ""
            began = quarantine.current_began or quarantine.series_began
            evidence.append(Mismatch(f"{label} quarantine",
                                     f"{why}" + (f": {message}" if message else "")
                                     + (f" (since {began:%Y-%m-%d %H:%M} UTC)" if began else ""),
                                     "not in quarantine"))
            reason = f" ({why}{': ' + message if message else ''})"
        what = "in quarantine" if code == "Quarantine" else f"{(state or code).lower()}"
        hits.append(ConfigHit(f"The provisioning job is {what}{reason}.", evidence,
                              severity=None if code == "Quarantine" else "high"))
    return hits
