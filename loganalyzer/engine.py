"""Run the rulebook over canonical frames: findings, what no finding explains (failures,
skips, warnings) and a summary.

Rules run in two phases. Cause and noise rules see the frames; consequence rules (escrow,
quarantine) run after them and see their findings, so they can claim only the failures no
cause explains and say which findings caused a quarantine. A rule that raises becomes an entry
in ``rule_errors`` plus an info finding naming it; the run goes on.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

import polars as pl

from diagnostics import RULES
from diagnostics.facts.job_status import JobStatus, parse_job_status
from diagnostics.guide_steps import step_rank
from diagnostics.rule import Rule
from diagnostics.rulekit import (
    FINDING_COLUMNS,
    OBJECT,
    Context,
    Hit,
    as_ids,
    is_failure,
    latest_events,
)
from loganalyzer import reasons
from loganalyzer.compact import compact
from loganalyzer.findings import (
    Affected,
    Diagnosis,
    Evidence,
    Finding,
    RuleInfo,
    UnexplainedGroup,
    UnexplainedSkip,
    severity_rank,
)
from loganalyzer.normalize import Frames, status_unknown
from loganalyzer.skip_classes import INACTIVE
from loganalyzer.textsafe import clipped
from loganalyzer.wording import plural, verb

EVIDENCE_LIMIT = 5
REASON_LIMIT = 200
_KIND_ORDER = {"cause": 0, "consequence": 1, "noise": 2, "error": 3}
_CAUSES = {rule.id: rule.causes for rule in RULES if rule.causes}


def rules() -> list[RuleInfo]:
    """Metadata of every rule in the rulebook, in id order."""
    return [
        RuleInfo(r.id, r.title, r.severity, list(r.guide_steps), r.kind, list(r.patterns))
        for r in RULES
    ]


def diagnose(
    frames: Frames,
    job_status: dict | JobStatus | None = None,
    progress: Callable[..., None] | None = None,
) -> Diagnosis:
    """Run every rule; ``job_status`` is the sync job JSON (``GET .../jobs/{jobId}``);
    ``progress(message, done, total)`` is told before each rule."""
    job = parse_job_status(job_status) if isinstance(job_status, dict) else job_status
    ctx = Context(frames, job)
    try:
        return _diagnosis(ctx, progress)
    finally:
        ctx.close()


def findings_of(frames: Frames, job_status: dict | JobStatus | None = None,
                sent_elsewhere: Callable[[str], bool] | None = None) -> list[Finding]:
    """The findings ``diagnose`` gives, in its order, without what `why` never reads: each
    finding's evidence and first and last time (``first_seen``, ``last_seen``: None,
    ``evidence``: empty; three queries a finding) and its ``failures``, and the summary and
    the unexplained failures, skips and warnings (1M store, `why`'s context of 7,600 events:
    0.10 s of the 0.40 s). ``frames`` may be a part of the input: ``sent_elsewhere(key
    pattern)`` then says whether the rest of it sent such an attribute
    (``Context.sent_outside``)."""
    job = parse_job_status(job_status) if isinstance(job_status, dict) else job_status
    ctx = Context(frames, job, sent_elsewhere=sent_elsewhere)
    try:
        return _findings(ctx, None, [], brief=True)
    finally:
        ctx.close()


def _findings(ctx: Context, progress: Callable[..., None] | None, errors: list[str],
              brief: bool = False) -> list[Finding]:
    """Every rule's findings, mended ones marked, in report order; ``brief``: without their
    evidence and times (``findings_of``)."""
    findings: list[Finding] = []
    done = 0
    for phase in (("cause", "noise"), ("consequence",)):
        ctx.prior = list(findings)
        for rule in (r for r in RULES if r.kind in phase):
            if progress is not None:
                progress(f"rule {rule.id}", done, len(RULES))
            findings.extend(_run(rule, ctx, errors, brief))
            done += 1
    ctx.forget_rule_facts()
    if not brief:
        _give_reasons(ctx, findings)
    _mark_mended(ctx, findings)
    return in_report_order(findings)


def _diagnosis(ctx: Context, progress: Callable[..., None] | None) -> Diagnosis:
    errors: list[str] = []
    findings = _findings(ctx, progress, errors)
    explained = _explained(findings)
    # looked up in the failures, not the other way round: ``is_in`` hashes its argument, and
    # a month's explained skips are millions
    failure_ids = ctx.failures["event_id"].implode()
    explained_failures = explained.filter(explained.is_in(failure_ids))
    _count_failures(findings, failure_ids)
    summary = _summary(ctx, findings, len(explained_failures), ctx.job)
    return Diagnosis(
        summary=summary,
        findings=findings,
        unexplained=_unexplained(ctx, explained_failures),
        rules_run=rules(),
        rule_errors=errors,
        notes=[note for note in (unknown_status_note(summary["unknown_status"]),
                                 nothing_reached_note(summary)) if note],
        unexplained_skips=_unexplained_skips(ctx, explained),
        unexplained_warnings=_unexplained_warnings(ctx, explained),
    )


MENDED = ("Mended since: every user and group it is about succeeded in a later request.")


def _mark_mended(ctx: Context, findings: list[Finding]) -> None:
    """Mark the findings of failures whose objects all succeeded since: each one's latest
    event is a success later than the finding's events for it, in the same app (a sandbox
    app's success mends nothing in production) or in none (a pasted on-demand result): a
    department created and the user retried, a token fixed. Events of the same second have
    no known order, so they mend nothing. A finding of what was *sent* (upper-case, the
    manager) is never mended: a later update that does not send it, or an in-sync skip,
    fixes nothing. Nor is a quarantine (the job's, not the objects')."""
    asked = [f for f in findings if f.kind in ("cause", "consequence") and len(f.event_ids)
             and not f.details.get("quarantine")]
    if not asked:
        return
    wanted = pl.concat([f.event_ids for f in asked]).unique().implode()
    whose = ctx.scan.filter(pl.col("event_id").is_in(wanted)).select(
        "event_id", OBJECT, "status", "activity_time", "app_name").collect()
    latest = latest_events(ctx, whose["object"].unique(), OBJECT)
    for finding in asked:
        mine = whose.filter(pl.col("event_id").is_in(finding.event_ids.implode()))
        if mine.height < len(finding.event_ids) or (mine["status"] != "failure").any():
            continue
        last_failed = mine.group_by("object").agg(
            pl.col("activity_time").max().alias("_failed"), pl.col("app_name").first()
            .alias("_app"))
        same_app = pl.col("app_name").is_null() | (pl.col("app_name") == pl.col("_app"))
        after = last_failed.join(latest, on="object", how="left").select(
            ((pl.col("status") == "success") & (pl.col("activity_time") > pl.col("_failed"))
             & same_app).fill_null(False).all()).item()
        if after:
            finding.mended = True
            finding.message = f"{finding.message} {MENDED}"


def nothing_reached_note(summary: dict[str, Any]) -> str:
    """Every event an out-of-scope skip: nobody reached Flowcase. Normal in a quiet week when
    only people outside the app changed; after an initial cycle, nobody is assigned."""
    events = summary["events"]
    if not events or summary["expected_skips"]["not_effectively_entitled"] < events:
        return ""  # some other skip (a rule explains it) or one whose reason is not logged
    return (f"No event reached Flowcase: all {plural(events, 'event')} "
            f"{verb(events, 'was', 'were')} skipped as out of scope (NotEffectivelyEntitled), "
            "none was in sync. Normal when no assigned user changed; if people should have "
            "been provisioned, check that they are assigned to the app (guide step 5) and the "
            "scope (step 3)")


def unknown_status_note(count: int) -> str:
    """Events whose status no field gave (an unfamiliar export shape) or Graph added later:
    never healthy."""
    if not count:
        return ""
    return (
        f"{plural(count, 'event')} {verb(count, 'has', 'have')} no readable status (none, or "
        f"one such as unknownFutureValue) and "
        f"{verb(count, 'is', 'are')} counted as 'unknown': the diagnosis cannot call "
        f"{verb(count, 'it', 'them')} healthy; check the export's shape (see the inputs page "
        "of the manual)"
    )


def report_order(finding: Finding) -> tuple:
    """How every output lists findings: causes before their consequences (escrow, quarantine)
    and expected noise; the ones still to fix before those mended since (a token replaced
    mid-export must not head the list above the department still missing); then most severe
    first, then guide step (1 ... delete, none last), then most events; ``causes_first`` then
    puts a rule before the ones it causes."""
    return (
        _KIND_ORDER.get(finding.kind, 9),
        finding.mended,
        severity_rank(finding.severity),
        step_rank(finding.guide_steps),
        -finding.events,
        finding.rule_id,
    )


def in_report_order(findings: Iterable[Finding]) -> list[Finding]:
    """The findings as every output lists them (``report_order``, then ``causes_first``)."""
    return causes_first(sorted(findings, key=report_order))


def lead_order(findings: Iterable[Finding]) -> list[Finding]:
    """Which finding leads for one user: causes before consequences and noise, then the
    earliest guide step (a bad token explains every later failure), then severity; a rule
    that causes another's findings (``Rule.causes``) goes before them whatever its step."""
    return causes_first(sorted(
        findings,
        key=lambda f: (
            _KIND_ORDER.get(f.kind, 9),
            step_rank(f.guide_steps),
            severity_rank(f.severity),
            -f.events,
            f.rule_id,
        ),
    ))


def causes_first(ordered: list[Finding]) -> list[Finding]:
    """``ordered`` with a rule that causes another's findings (``Rule.causes``) moved before
    the first of them: the list and "fix first" then agree (an upper-case userName before the
    409s it caused)."""
    for finding in list(ordered):
        caused = [i for i, f in enumerate(ordered) if f.rule_id in _CAUSES.get(finding.rule_id, ())]
        if caused and caused[0] < ordered.index(finding):
            ordered.remove(finding)
            ordered.insert(caused[0], finding)
    return ordered


def findings_for_events(diagnosis: Diagnosis | Sequence[Finding], event_ids: Iterable[str]
                        ) -> list[Finding]:
    """Findings (of a diagnosis, or ``findings_of``) that explain any of these events,
    leading finding first."""
    found = diagnosis.findings if isinstance(diagnosis, Diagnosis) else diagnosis
    wanted = as_ids(event_ids).implode()
    return lead_order(f for f in found if f.event_ids.is_in(wanted).any())


def leading_finding_for(diagnosis: Diagnosis, identity_key: str) -> Finding | None:
    """The finding that leads for one user or group: ``Affected.id`` (or a group's display
    name), case-insensitive."""
    key = identity_key.strip().lower()

    def names(a: Affected) -> set[str]:
        group_name = a.display_name if a.type == "Group" and a.display_name else a.id
        return {a.id.lower(), group_name.lower()}

    about = [f for f in diagnosis.findings if any(key in names(a) for a in f.affected)]
    ordered = lead_order(about)
    return ordered[0] if ordered else None


def _run(rule: Rule, ctx: Context, errors: list[str], brief: bool = False) -> list[Finding]:
    try:
        return [_finding(rule, hit, ctx, brief=True) if brief else _finding(rule, hit, ctx)
                for hit in rule.evaluate(ctx)]
    except Exception as exc:  # a broken rule must never break the run
        message = f"{rule.id} ({rule.module}) raised {type(exc).__name__}: {exc}"
        errors.append(message)
        return [_error_finding(rule, message)]


def _error_finding(rule: Rule, message: str) -> Finding:
    return Finding(
        rule_id=rule.id,
        title=f"Rule {rule.id} could not run: {rule.title}",
        severity="info",
        guide_steps=list(rule.guide_steps),
        message=f"{message}; this pattern was not checked.",
        events=0,
        affected=[],
        first_seen=None,
        last_seen=None,
        cycles=[],
        evidence=[],
        remediation="Report this rule error with the export that caused it.",
        kind="error",
    )


def short_reason() -> pl.Expr:
    """One line per event for evidence and timelines (``reasons.short_reason_expr``)."""
    return reasons.short_reason_expr(REASON_LIMIT)


REASON_COLUMNS = ("scim_detail", "error_reason", "skip_reason", "failed_step_description")


def _finding(rule: Rule, hit: Hit, ctx: Context, brief: bool = False) -> Finding:
    """A rule's hit as a finding. Its rows are read as a lazy query, a few columns at a
    time: a lazy ``Hit.rows`` (a month's skips, in a temporary file) is never held whole.
    ``brief``: without evidence and times (``findings_of``)."""
    rows = (hit.rows if hit.rows is not None
            else ctx.of(hit.event_ids, FINDING_COLUMNS)).lazy().select(FINDING_COLUMNS)
    event_ids = compact(rows.select("event_id").collect().to_series())  # kept to the end
    first_seen = last_seen = None
    if not brief:
        seen = rows.select(first=pl.col("activity_time").min(),
                           last=pl.col("activity_time").max())
        first_seen, last_seen = seen.collect().row(0)
    return Finding(
        rule_id=rule.id,
        title=rule.title,
        severity=hit.severity or rule.severity,
        guide_steps=list(rule.guide_steps),
        message=hit.message,
        events=len(event_ids),
        affected=_affected(rows),
        first_seen=first_seen,
        last_seen=last_seen,
        cycles=_cycles(rows),
        evidence=[] if brief else _evidence(rows),
        remediation=rule.remediation,
        event_ids=event_ids,
        details=hit.details,
        kind=rule.kind,
    )


def _affected(rows: pl.LazyFrame) -> list[Affected]:
    people = (
        rows.group_by("person")
        .agg(
            pl.col("object_type").drop_nulls().first(),
            pl.col("source_display_name").drop_nulls().first(),
            pl.len().alias("n"),
        )
        .sort(["n", "person"], descending=[True, False])
        .collect(engine="streaming")
    )
    return [
        Affected(id=p, type=t or "Unknown", display_name=d, events=n)
        for p, t, d, n in people.iter_rows()
    ]


def _cycles(rows: pl.LazyFrame) -> list[str]:
    first = (rows.group_by("cycle_id").agg(pl.col("activity_time").min()).drop_nulls("cycle_id")
             .collect(engine="streaming"))
    return first.sort("activity_time", "cycle_id")["cycle_id"].to_list()


def _evidence(rows: pl.LazyFrame) -> list[Evidence]:
    """Failures first, one event per person before a second one, oldest first (events of the
    same second by id, so the same events are picked whatever order they were read in); their
    reasons are read afterwards (``_give_reasons``). Only each person's first
    ``EVIDENCE_LIMIT`` events can be picked, so only those are ordered: a finding may hold a
    million events."""
    firsts = (
        rows.select("event_id", "activity_time", "person", "status")
        .group_by("person")
        .agg(pl.all().sort_by("activity_time", "event_id").head(EVIDENCE_LIMIT))
        .explode(pl.exclude("person"))
        .collect(engine="streaming")
    )
    chosen = (
        firsts.sort("activity_time", "event_id")
        .with_columns(pl.int_range(pl.len()).over("person").alias("_nth"))
        .sort(["_nth", pl.col("status") != "failure", "activity_time", "event_id"])
        .head(EVIDENCE_LIMIT)
        .sort("activity_time", "event_id")
    )
    picked = chosen.select("event_id").join(
        rows.filter(pl.col("event_id").is_in(chosen["event_id"].implode())).collect(),
        on="event_id", how="left", maintain_order="left",
    )
    return [
        Evidence(
            event_id=r["event_id"],
            time=r["activity_time"],
            cycle_id=r["cycle_id"],
            action=r["action"],
            status=r["status"],
            error_code=r["error_code"],
            http_status=r["http_status"],
            reason=None,
        )
        for r in picked.iter_rows(named=True)
    ]


def _give_reasons(ctx: Context, findings: Sequence[Finding]) -> None:
    """The short reason and change id of every finding's evidence, read in one query: a
    month's events are scanned for each query, and one per finding cost a second each at 5M
    events."""
    shown = [e for f in findings for e in f.evidence]
    if not shown:
        return
    # the events as logged: the change id is not among the columns the rules read
    ids = as_ids(sorted({e.event_id for e in shown})).implode()
    read = (ctx.frames.events.lazy().filter(pl.col("event_id").is_in(ids))
            .select("event_id", "change_id", short_reason()).collect())
    by_event = {event_id: (change, reason) for event_id, change, reason in read.iter_rows()}
    for evidence in shown:
        evidence.change_id, evidence.reason = by_event.get(evidence.event_id, (None, None))


def _count_failures(findings: Sequence[Finding], failure_ids: pl.Series) -> None:
    """Each cause's and consequence's failures, in one lookup of all their events: the
    verdict must know which failures an accepted finding explains. Noise (a month's millions
    of expected skips) explains none."""
    asked = [f for f in findings if f.kind in ("cause", "consequence")]
    if not asked:
        return
    failed = pl.concat([f.event_ids for f in asked]).is_in(failure_ids)
    start = 0
    for finding in asked:
        finding.failures = int(failed.slice(start, len(finding.event_ids)).sum())
        start += len(finding.event_ids)


def _explained(findings: Sequence[Finding]) -> pl.Series:
    """The events a cause or noise finding explains (a month's may be millions: one Series,
    built once, not a Python set per question)."""
    lists = [f.event_ids for f in findings if f.kind in ("cause", "noise")]
    return compact(pl.concat(lists).unique()) if lists else pl.Series([], dtype=pl.Utf8)


EXAMPLES = 3  # users or groups named per group of unexplained failures or warnings


def _unexplained(ctx: Context, explained: pl.Series) -> list[UnexplainedGroup]:
    """The failures no cause or noise finding explains (``explained``: those that do)."""
    return _by_reason(ctx, is_failure(), explained)


def _unexplained_warnings(ctx: Context, explained: pl.Series) -> list[UnexplainedGroup]:
    """The warnings no finding explains, grouped as the failures are: they did not fail,
    but what Entra warned of (an attribute Flowcase ignored) must reach the reader."""
    return _by_reason(ctx, pl.col("status") == "warning", explained)


def _by_reason(ctx: Context, status: pl.Expr, explained: pl.Series) -> list[UnexplainedGroup]:
    """The events of ``status`` not in ``explained``, by error code and HTTP status, each
    group with its first short reason and the first few people to ask `why` about."""
    left = ctx.events_where(
        status & ~pl.col("event_id").is_in(explained.implode()),
        ("event_id", "activity_time", "error_code", "http_status", "person", "label",
         *REASON_COLUMNS),
    )
    if left.height == 0:
        return []
    left = _with_step_reasons(ctx, left.with_columns(short_reason().alias("_reason")))
    groups = (
        left.sort("activity_time", "event_id")  # a group's first reason: the same every run
        .group_by(["error_code", "http_status"], maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("_reason").drop_nulls().first(),
            pl.col("person").n_unique().alias("affected"),
            pl.col("label").drop_nulls().unique(maintain_order=True).head(EXAMPLES)
            .alias("examples"),
        )
        .sort(["count", "error_code", "http_status"], descending=[True, False, False],
              nulls_last=True)
    )
    return [UnexplainedGroup(*row) for row in groups.iter_rows()]


# the steps that say what went wrong or what Entra warned of, in the order asked
_TELLING_STEPS = ("warning", "failure", "skipped")
STEP_REASON_COLUMNS = ("event_id", "step_index", "status", "description", "details")
# event ids -> their steps (at least ``STEP_REASON_COLUMNS``; any status: the rest are dropped)
StepReader = Callable[[pl.Series], pl.DataFrame]


def _with_step_reasons(ctx: Context, events: pl.DataFrame) -> pl.DataFrame:
    """``with_step_reasons`` on the rules' frames: only the telling steps are read."""
    return with_step_reasons(events, lambda ids: ctx.steps_where(
        pl.col("event_id").is_in(ids.implode()) & pl.col("status").is_in(_TELLING_STEPS),
        STEP_REASON_COLUMNS))


def with_step_reasons(events: pl.DataFrame, steps_of: StepReader,
                      reason: str = "_reason") -> pl.DataFrame:
    """``events`` whose ``reason`` column no error field gave (a warning may carry only its
    status, with what Entra warned of in a step) given the step's: the first step at warning,
    else at failure or skipped, by its description, else its details as ``key: value``
    pairs. Only those events' steps are read (``steps_of``): every other event has its
    reason. `diagnose` samples its unexplained groups with it, `why` its timeline."""
    silent = events.filter(pl.col(reason).is_null())["event_id"]
    if silent.is_empty():
        return events
    steps = steps_of(silent).filter(pl.col("status").is_in(_TELLING_STEPS))
    if steps.height == 0:
        return events
    pair = pl.element().struct.field("key") + pl.lit(": ") + pl.element().struct.field("value")
    details = pl.col("details").list.eval(pair.str.strip_chars()).list.join("; ")
    told = (
        steps.with_columns(
            pl.coalesce(_blank_to_null(pl.col("description")), _blank_to_null(details))
            .str.replace_all(r"\s+", " ").str.strip_chars().alias("_told"),
            pl.col("status").replace_strict(
                {s: n for n, s in enumerate(_TELLING_STEPS)}, return_dtype=pl.UInt8
            ).alias("_rank"),
        )
        .drop_nulls("_told")
        .sort("event_id", "_rank", "step_index")
        .unique("event_id", keep="first")
        .select("event_id", reasons.clipped_expr(pl.col("_told"), REASON_LIMIT)
                .alias("_step_reason"))
    )
    return (events.join(told, on="event_id", how="left", maintain_order="left")
            .with_columns(pl.coalesce(reason, "_step_reason").alias(reason))
            .drop("_step_reason"))


def _blank_to_null(text: pl.Expr) -> pl.Expr:
    return pl.when(text.str.strip_chars().str.len_chars() > 0).then(text)


# skips that are expected and counted (``expected_skips``), never "unexplained": by reason,
# and a user disabled in Entra (the guide's soft delete at work), whatever the reason says
EXPECTED_SKIPS = ("redundantexport",)
NO_SKIP_REASON = "(no skip reason logged)"


def _unexplained_skips(ctx: Context, explained: pl.Series) -> list[UnexplainedSkip]:
    skipped = ctx.events_where(
        (pl.col("status") == "skipped")
        & ~pl.col("skip_reason").str.to_lowercase().is_in(EXPECTED_SKIPS).fill_null(False)
        & (pl.col("skip_class").fill_null("") != INACTIVE)
        & ~pl.col("event_id").is_in(explained.implode()),
        ("event_id", "activity_time", "skip_reason", "failed_step_description", "person"),
    )
    if skipped.height == 0:
        return []
    groups = (
        skipped.sort("activity_time", "event_id")
        .with_columns(pl.col("skip_reason").fill_null(NO_SKIP_REASON))
        .group_by("skip_reason", maintain_order=True)
        .agg(
            pl.len().alias("count"),
            pl.col("failed_step_description").drop_nulls().first(),
            pl.col("person").n_unique().alias("affected"),
        )
        .sort(["count", "skip_reason"], descending=[True, False])
    )
    return [
        UnexplainedSkip(reason, count, _clip(sample), affected)
        for reason, count, sample, affected in groups.iter_rows()
    ]


def _clip(text: str | None) -> str | None:
    return None if text is None else clipped(text, REASON_LIMIT)


def _counts(ctx: Context) -> dict[str, Any]:
    """The summary's counts, by the streaming engine with state per object and per cycle:
    one ``select`` of them all held a month's columns (5M events: 0.5 GB more)."""
    status, skip = pl.col("status"), pl.col("skip_reason").str.to_lowercase()
    per_object = ctx.scan.group_by("object_type", "person").agg(
        pl.len().alias("events"),
        *((status == s).sum().alias(s) for s in ("failure", "skipped", "success", "warning")),
        status_unknown().sum().alias("unknown"),
        (skip == "noteffectivelyentitled").sum().alias("not_entitled"),
        (skip == "redundantexport").sum().alias("redundant"),
        pl.col("activity_time").min().alias("start"),
        pl.col("activity_time").max().alias("end"),
    ).collect(engine="streaming")
    cycles = ctx.frames.events.lazy().group_by("cycle_id", "app_name").len().collect(
        engine="streaming")
    kinds = per_object["object_type"]
    return per_object.select(
        pl.exclude("object_type", "person", "start", "end").sum(),
        pl.col("start").min(), pl.col("end").max(),
    ).row(0, named=True) | {
        "users": int((kinds == "User").sum()),
        "groups": int((kinds == "Group").sum()),
        "cycles": cycles["cycle_id"].drop_nulls().n_unique(),
        "apps": cycles["app_name"].drop_nulls().unique().to_list(),
    }


def _summary(
    ctx: Context, findings: Sequence[Finding], explained: int, job: JobStatus | None
) -> dict[str, Any]:
    counts = _counts(ctx)
    failures = counts["failure"]
    return {
        "events": counts["events"],
        "failures": failures,
        "skipped": counts["skipped"],
        "successes": counts["success"],
        "warnings": counts["warning"],
        "unknown_status": counts["unknown"],
        "cycles": counts["cycles"],
        "time_range": {"start": counts["start"], "end": counts["end"]},
        "users": counts["users"],
        "groups": counts["groups"],
        "apps": sorted(counts["apps"]),
        "explained_failures": explained,
        "unexplained_failures": failures - explained,
        "expected_skips": {
            "not_effectively_entitled": counts["not_entitled"],
            "redundant_export": counts["redundant"],
        },
        "findings_by_severity": {
            s: n for s in ("critical", "high", "medium", "low", "info")
            if (n := sum(f.severity == s for f in findings))
        },
        "job_status": _job_summary(job),
    }


def _job_summary(job: JobStatus | None) -> dict[str, Any] | None:
    if job is None:
        return None
    return {
        "code": job.code,
        "quarantined": job.quarantined,
        "quarantine_reason": job.quarantine_reason,
        "quarantine_since": job.quarantine_since,
        "quarantine_next_attempt": job.quarantine_next_attempt,
        "disabled_around": job.disabled_around.isoformat() if job.disabled_around else None,
        "error_code": job.error_code,
        "error_message": job.error_message,
    }
