"""Objects fail cycle after cycle (escrow) and the job may be quarantined.

What it detects:
    Objects whose failures are escrow retries (an ``EntryEscrowRetry`` step, or "This
    operation was retried N times" with N >= 1) or that fail in three or more cycles, and
    whose latest event is still a failure (one that succeeded since is mended); with
    ``--job-status``, a job in quarantine, joined to the failing requests that caused it (how
    many, and of whom, when they go beyond the objects in escrow) and to the findings that
    explain those requests, with Entra's next attempt and the day it disables the job (four
    weeks after the quarantines began) unless a cycle succeeds first.
    High with a quarantine, else medium; low when only low-severity causes explain every
    failure (one transient 502 Entra retried once): a consequence is no louder than its
    causes.
Why provisioning fails:
    Entra retries a failed object on a back-off (6 h, 12 h, 24 h, ... for 28 days). While the
    cause stays, the same objects fail every cycle, the escrow grows and, past Entra's
    thresholds (over 40% of requests failing) or on a credentials error, the job is
    quarantined: cycles slow to once a day and are disabled after four weeks.
Evidence:
    ``EntryEscrowRetry`` steps, retry counts, failures of one object in several cycles; the
    job status ``code`` Quarantine, ``quarantine.reason`` and ``lastExecution.error``.
Fix:
    Fix the cause named by the other findings first (the token in step 3 for
    ``EncounteredQuarantineException``, unless the job's error is a SCIM compliance error such
    as a ``/Groups`` 404: the group mapping, step 7b), then restart provisioning (step 8b: "Restart
    provisioning" clears the escrow and the quarantine).
Known false positives:
    None: this finding is a consequence; its cause is the finding that explains the same
    events, which leads for each user.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.job_status import JobStatus, graph_time
from diagnostics.rulekit import (
    OBJECT,
    Context,
    Hit,
    as_ids,
    describe_objects,
    ids,
    moment,
    plural,
    quote_list,
    still_failing,
    verb,
)

ID = "FC016"
TITLE = "Objects fail cycle after cycle (escrow) and the job may be quarantined"
SEVERITY = "high"
GUIDE_STEPS = ("3", "8b")
PATTERNS = (16,)
KIND = "consequence"
REMEDIATION = (
    "Fix the cause the other findings name for these objects (for a quarantine with "
    'EncounteredQuarantineException: the Secret Token token="API_KEY" and Tenant URL of guide '
    'step 3), then on the Provisioning screen use "Restart provisioning" so Entra clears the '
    "escrow and the quarantine and retries now instead of on its 6-24 hour back-off "
    "(step 8b); watch the next cycle in the provisioning logs."
)
MANY_CYCLES = 3


def escrowed_failures(ctx: Context) -> pl.DataFrame:
    """Every failure (event id, object, label, cycle) of objects that failed on an escrow
    retry or in MANY_CYCLES cycles, and whose latest event is still a failure. Counted per
    Entra object (``OBJECT``): a rehire's failures are not the departed user's cycles."""
    # the columns read here and by the message: a month's escrow may be most of its failures
    failures = ctx.failures.select(
        "event_id", "label", "cycle_id", "is_escrow_retry", "retry_count", OBJECT
    )
    retried = failures.filter(
        pl.col("is_escrow_retry") | (pl.col("retry_count") >= 1).fill_null(False)
    )["object"]
    repeated = (
        failures.group_by("object")
        .agg(pl.col("cycle_id").n_unique().alias("cycles"))
        .filter(pl.col("cycles") >= MANY_CYCLES)["object"]
    )
    # an object that succeeded (or went in sync) since is no longer stuck
    stuck = still_failing(ctx, pl.concat([retried, repeated]).unique(), failures)
    return failures.select("event_id", "object", "label", "cycle_id").filter(
        pl.col("object").is_in(stuck.implode())
    )


def quarantine_causes(ctx: Context) -> pl.DataFrame:
    """The failing requests that put the job in quarantine."""
    if ctx.job.blames_credentials:
        auth = [f.event_ids for f in ctx.prior
                if f.kind == "cause" and f.rule_id in ("FC004", "FC005")]
        refused = pl.concat(auth) if auth else as_ids([])
        return ctx.failures.filter(pl.col("event_id").is_in(refused.implode()))
    return ctx.failures


def explained_by(ctx: Context, event_ids: pl.Series) -> list[str]:
    """'FC008 Department does not exist in Flowcase (24 failures)' for the prior findings."""
    wanted = event_ids.implode()
    found = []
    for finding in ctx.prior:
        if finding.kind != "cause":
            continue
        n = int(finding.event_ids.is_in(wanted).sum())  # both distinct
        if n:
            found.append((n, f"{finding.rule_id} {finding.title} ({plural(n, 'failure')})"))
    return [text for _, text in sorted(found, key=lambda pair: -pair[0])]


def as_loud_as_causes(ctx: Context, event_ids: pl.Series) -> str:
    """Medium, or low when every one of ``event_ids`` is explained by a low-severity cause
    (one transient 502 that Entra retried once): a consequence is no louder than its causes.
    A cause that repeats across cycles says so by its own severity."""
    wanted = event_ids.implode()
    explained = [f for f in ctx.prior if f.kind == "cause" and f.event_ids.is_in(wanted).any()]
    if not explained or any(f.severity != "low" for f in explained):
        return "medium"
    covered = pl.concat([as_ids(f.event_ids) for f in explained]).implode()
    return "low" if event_ids.is_in(covered).all() else "medium"


def quarantine_state(job: JobStatus) -> list[str]:
    """The quarantine in words: its reason, start and last error, then what happens next:
    the next attempt, and the day Entra disables the job if no cycle succeeds before."""
    since = graph_time(job.quarantine_since)
    text = f"the sync job is in quarantine ({job.quarantine_reason or 'no reason given'}"
    if job.quarantine_since:
        text += f" since {moment(since) if since else job.quarantine_since}"
    if job.error_code:
        text += f"; last error {job.error_code}"
    outlook = [text + ")"]
    next_attempt = graph_time(job.quarantine_next_attempt)
    if next_attempt:
        outlook.append(f"Entra tries again at {moment(next_attempt)}")
    if job.disabled_around:
        outlook.append(f"unless a cycle succeeds first, Entra disables the job after four weeks "
                       f"in quarantine, around {moment(job.disabled_around)}")
    return outlook


def beyond_escrow(ctx: Context, stuck: pl.DataFrame, event_ids: pl.Series) -> list[str]:
    """The failing requests a quarantine joins beyond the objects stuck in escrow, counted
    (EncounteredEscrowProportionThreshold counts every failing request): without it the
    message said '4 objects (27 failures)' of a finding of 30 events and 5 people."""
    if event_ids.len() == stuck.height:
        return []
    joined = ctx.failures.select("event_id", "label", OBJECT).filter(
        pl.col("event_id").is_in(event_ids.implode()))
    return [f"{plural(joined.height, 'failing request')} of {describe_objects(joined)} "
            f"in the logs count toward it"]


def evaluate(ctx: Context) -> list[Hit]:
    stuck = escrowed_failures(ctx)
    quarantined = ctx.job is not None and ctx.job.quarantined
    if stuck.height == 0 and not quarantined:
        return []
    parts = []
    details: dict = {}
    if stuck.height:
        cycles = stuck["cycle_id"].n_unique()
        # the export may hold a single cycle of retries: Entra's retry count says "again"
        how = "cycle after cycle" if cycles > 1 else "on retry from escrow"
        parts.append(
            f"{describe_objects(stuck)} "
            f"{verb(stuck['object'].n_unique(), 'keeps', 'keep')} failing {how} "
            f"({plural(stuck.height, 'failure')} in {plural(cycles, 'cycle')}"
            + (", retried from escrow)" if cycles > 1 else ")")
        )
    causes = stuck
    if quarantined:
        causes = quarantine_causes(ctx)
        parts += quarantine_state(ctx.job)
        details["quarantine"] = {
            "reason": ctx.job.quarantine_reason,
            "since": ctx.job.quarantine_since,
            "next_attempt": ctx.job.quarantine_next_attempt,
            "disabled_around": (disabled.isoformat() if (disabled := ctx.job.disabled_around)
                                else None),
            "error_code": ctx.job.error_code,
            "error_message": ctx.job.error_message,
            "failing_requests": causes.height,
        }
    # event ids only: ``stuck`` and ``causes`` may each be a month's failures
    event_ids = ids(pl.concat([stuck.select("event_id"), causes.select("event_id")]))
    parts += beyond_escrow(ctx, stuck, event_ids)
    reasons = explained_by(ctx, event_ids)
    if reasons:
        parts.append("caused by " + quote_list(reasons, 3))
    details["caused_by"] = reasons
    message = "; ".join(parts)
    severity = None if quarantined else as_loud_as_causes(ctx, event_ids)
    return [Hit(event_ids, message[0].upper() + message[1:] + ".", severity, details)]
