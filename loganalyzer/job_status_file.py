"""Reading the file ``--job-status`` names (the option is ``cli.options.JobStatusOption``), and
saying when it is of another job than the events: no typer here, as ``why.query`` uses it."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from diagnostics.facts.job_status import JobStatus, JobStatusError, parse_job_status
from loganalyzer.normalize import Table
from loganalyzer.problems import InputError
from loganalyzer.wording import quote_list

EXPECTED = "the JSON of GET /servicePrincipals/{id}/synchronization/jobs/{jobId}"


def read_job_status(path: Path) -> JobStatus:
    """The job status in ``path``; ``InputError`` naming the file and what was expected."""
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"))
    except OSError as exc:
        raise InputError(str(path), f"cannot read the job status ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise InputError(str(path), f"not UTF-8 text; expected {EXPECTED}") from None
    except json.JSONDecodeError as exc:
        raise InputError(str(path), f"not JSON ({exc.msg}); expected {EXPECTED}",
                         location=f"line {exc.lineno} column {exc.colno}") from None
    except (ValueError, RecursionError):  # a huge number, or nested too deep
        raise InputError(str(path), f"unreadable JSON (a number too long, or nested too "
                         f"deep); expected {EXPECTED}") from None
    try:
        return parse_job_status(document)
    except JobStatusError as exc:
        hint = "; this looks like a provisioning log: give it as INPUT" if _is_log(document) else ""
        raise InputError(str(path), f"{exc}{hint}") from None


def _is_log(document: object) -> bool:
    """A provisioning log export (a list of events, or a Graph page of them), not a job."""
    events = document.get("value") if isinstance(document, dict) else document
    return (isinstance(events, list) and bool(events) and isinstance(events[0], dict)
            and "activitydatetime" in (key.lower() for key in events[0]))


def logged_jobs(events: Table) -> list[str]:
    """The sync jobs the events are of, sorted."""
    return (events.lazy().select(pl.col("job_id").drop_nulls().unique().sort())
            .collect()["job_id"].to_list())


def other_job_notes(job: JobStatus | None, events: Table) -> list[str]:
    """A job status of a job none of the events is of (another app's, another tenant's, or
    a file mixed up): its quarantine and errors may say nothing of them. Said, not refused."""
    if job is None or not job.job_id:
        return []
    logged = logged_jobs(events)
    if not logged or job.job_id.lower() in {j.lower() for j in logged}:
        return []
    return [f"--job-status is of job {job.job_id}, but the events are of {quote_list(logged, 3)}: "
            "its quarantine and last error may not be theirs"]
