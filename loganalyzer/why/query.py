"""`why USER`: resolve the user, tell their story, and give a verdict on their latest state.

``why(dataset_or_frames, user, job_status=None) -> WhyAnswer`` is the library entry point the
CLI and the benchmark call. The user is resolved on the events frame first; the rule engine then
runs only on what can explain this person (their latest events, the cycles of their latest event
and failure, each job's newest cycle, and objects sharing their identifiers), so the answer stays
interactive on a 200,000-event store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import polars as pl

from diagnostics.facts.job_status import JobStatus, parse_job_status
from diagnostics.guide_steps import STEPS
from loganalyzer.engine import (
    STEP_REASON_COLUMNS,
    findings_for_events,
    findings_of,
    lead_order,
)
from loganalyzer.file_order import in_time_order
from loganalyzer.findings import Finding, jsonable
from loganalyzer.job_status_file import other_job_notes
from loganalyzer.normalize import Frames
from loganalyzer.problems import cuts_named
from loganalyzer.scope import OTHER_APPS_SHOWN
from loganalyzer.why import timeline as tl
from loganalyzer.why.elsewhere import AppNaming, likeliest
from loganalyzer.why.frame_source import FrameSource
from loganalyzer.why.lookup import SHARED_COLUMNS, Lookup, Person, equals_any, lookup
from loganalyzer.wording import moment, plural, quote_list

if TYPE_CHECKING:  # ingest pulls in the report stack; `why` on a store never needs it
    from loganalyzer.ingest import Dataset

# Verdict states (stable: they appear in the JSON).
PROVISIONED = "provisioned"
FAILING = "failing"
SKIPPED = "skipped"
DELETED = "deleted"
NEVER_SEEN = "never_seen"
GROUP = "group"  # the name is a group's: Flowcase takes no SCIM groups
AMBIGUOUS = "ambiguous"
UNKNOWN = "unknown"  # the latest event's status could not be read: never called provisioned

HISTORY_LIMIT = 200  # a person's latest events the rule engine sees (the timeline has all)

NESTED_GROUP_NOTE = (
    "Logs cannot tell 'not assigned' apart from 'only in a nested group': if the user is in a "
    "group that is assigned to the app only through another group, assign that group (or the "
    "user) directly, because nested groups do not cascade."
)


@dataclass
class Explanation:
    """A finding as it concerns this user."""

    rule_id: str | None
    title: str | None
    severity: str | None
    guide_steps: list[str]
    guide_step_title: str | None
    message: str
    fix: str | None
    job_wide: bool = False


@dataclass
class CaseKeys:
    """What a support case about one request names (Microsoft support asks for the tenant,
    job, cycle and change ids; Flowcase's for the time and the user): the person's latest
    failure, copied from the log as it is."""

    time: datetime
    activity_id: str
    change_id: str | None
    cycle_id: str | None
    job_id: str | None
    tenant_id: str | None


CASE_COLUMNS = ("change_id", "job_id", "tenant_id")


@dataclass
class Verdict:
    state: str
    reason: str | None  # failure or skip class (already_in_sync, not_assigned, ...)
    since: datetime | None  # time of the latest event
    message: str
    rule_id: str | None
    title: str | None
    guide_steps: list[str]
    guide_step_title: str | None
    fix: str | None
    note: str | None = None
    case_keys: CaseKeys | None = None  # failing: the ids a support case about it names


@dataclass
class WhyAnswer:
    lookup: Lookup
    verdict: Verdict
    timeline: list[tl.Entry] = field(default_factory=list)
    job_wide: list[Explanation] = field(default_factory=list)  # fix these first
    explanations: list[Explanation] = field(default_factory=list)  # leading first
    notes: list[str] = field(default_factory=list)  # other apps left out, ...
    # never seen: the apps left out whose events are about the person
    in_other_apps: list[AppNaming] = field(default_factory=list)

    @property
    def resolved(self) -> bool:
        return self.lookup.person is not None


def _title(steps: list[str]) -> str | None:
    return STEPS.get(steps[0]) if steps else None


def _explanation(finding: Finding, job_wide: bool) -> Explanation:
    return Explanation(
        rule_id=finding.rule_id, title=finding.title, severity=finding.severity,
        guide_steps=list(finding.guide_steps), guide_step_title=_title(finding.guide_steps),
        message=finding.message, fix=finding.remediation, job_wide=job_wide,
    )


def _is_job_wide(finding: Finding, cycles: set[str], mine: set[str]) -> bool:
    """A finding about the whole job that reaches this person: a critical one in their cycles
    (halting group 404s, every request refused) or one about the job itself (quarantine)."""
    if finding.kind == "noise" or finding.severity == "info":
        return False
    if finding.details.get("quarantine"):  # the job itself, whoever else it names
        return True
    if not finding.affected:
        return finding.kind != "error"
    others = any(a.id.lower() not in mine for a in finding.affected)
    return finding.severity == "critical" and others and bool(cycles & set(finding.cycles))


# a skip reason no classification knows: a rule may still explain it (FC021), else it is
# listed among the unexplained skips of `diagnose`
UNKNOWN_SKIP_FIX = ("Check the skip reason in the event's steps; `diagnose` lists it among the "
                    "unexplained skips.")


# a skip with no SkipReason: read without its steps (a portal CSV without its steps file,
# or cut before its rows), "Skipped: skipped." would say nothing
NO_SKIP_REASON = ("Skipped: the log names no skip reason (Entra writes it in the event's "
                  "steps, which are missing or do not say).")
NO_SKIP_REASON_FIX = ("Give the export with its steps (the JSON download, or the portal CSV "
                      "download's steps file) to see why Entra skipped the user.")


def _skip_verdict(entry: tl.Entry) -> tuple[str, list[str], str, str | None]:
    """(message, guide steps, fix, note) for a skipped latest event no finding explains."""
    if entry.skip == tl.NOT_ASSIGNED:
        return (
            "Skipped: Entra says the user is not assigned to the app.",
            ["5"],
            "Assign the user, or a group they are a direct member of, under Users and Groups "
            "of the enterprise application.",
            NESTED_GROUP_NOTE,
        )
    if entry.skip == tl.NOT_ENTITLED:
        return (
            "Skipped as not effectively entitled: not assigned, or assigned without an app role "
            "that allows provisioning.",
            ["5"],
            "Assign the user (or a group they are a direct member of) to the app with a role.",
            NESTED_GROUP_NOTE,
        )
    if entry.skip == tl.SCOPING_FILTER:
        return (
            f"Skipped: {_said(entry.reason)}.",
            [],
            "Change the user's attribute in Entra, or the scoping filter under Provisioning > "
            "Mappings > Provision Azure Active Directory Users > Source Object Scope.",
            "The setup guide does not use scoping filters; someone added one.",
        )
    if entry.skip == tl.INACTIVE:
        return (
            "Skipped: the account is disabled or soft-deleted in Entra.",
            ["delete"],
            "Nothing to fix if the user left; otherwise re-enable the account in Entra.",
            None,
        )
    if entry.skip is None:  # no SkipReason: the steps that log it are not in the input
        return (NO_SKIP_REASON, [], NO_SKIP_REASON_FIX, None)
    return (f"Skipped: {_said(entry.reason)}.", [], UNKNOWN_SKIP_FIX, None)


# the statuses of a latest event that did what it set out to do (a skip reaching the end of
# ``_verdict`` is Flowcase already matching Entra)
_DONE = ("success", "warning", "skipped")


def _said(reason: str | None) -> str:
    """A logged reason inside our sentence: without its own full stop (Flowcase's 409 text ends
    with one), or that none was logged."""
    return reason.rstrip(" .") if reason and reason.strip(" .") else "no reason logged"


def _explained_by(finding: Finding, mine: set[str]) -> str:
    """The leading finding as it concerns this person (``mine``: their identifiers): its
    message when it is about them alone (it names what is wrong: "name.familyName is empty
    or invalid"), else its title and how many others it names, not its message about
    everyone."""
    others = [a for a in finding.affected if a.id.lower() not in mine]
    if not others:
        return finding.message
    said = f"{finding.rule_id} ({finding.title}) explains it"
    kind = "user" if all(a.type == "User" for a in others) else "object"
    return f"{said}, for {plural(len(others), 'other ' + kind)} too."


def _verdict(entries: list[tl.Entry], leading: Finding | None, job_wide: bool,
             mine: set[str]) -> Verdict:
    """The latest event decides the state; ``leading`` (if any) is the rule behind it, already
    shown among the job-wide findings when ``job_wide``; ``mine``: the person's identifiers."""
    last = entries[-1]
    rule = dict(
        rule_id=leading.rule_id if leading else None,
        title=leading.title if leading else None,
        guide_steps=list(leading.guide_steps) if leading else [],
        guide_step_title=_title(leading.guide_steps) if leading else None,
        fix=leading.remediation if leading else None,
    )
    if last.status == "failure":
        what = f"{last.action or 'request'} failed"
        if last.http_status:
            what += f" with HTTP {last.http_status}"
        message = f"Failing: the latest {what}: {_said(last.reason)}."
        if leading and job_wide:
            message += f" Explained by the job-wide finding {leading.rule_id} above."
        elif leading:
            message += f" {_explained_by(leading, mine)}"
        else:
            message += " No rule explains it (see 'unexplained' in diagnose)."
        return Verdict(FAILING, last.error_code, last.time, message, **rule)
    if last.status == "skipped" and last.skip != tl.ALREADY_IN_SYNC:
        message, steps, fix, note = _skip_verdict(last)
        if leading is not None and fix == UNKNOWN_SKIP_FIX:
            message = f"Skipped ({last.skip}): {_explained_by(leading, mine)}"
        if leading is None:
            rule.update(guide_steps=steps, guide_step_title=_title(steps), fix=fix)
        return Verdict(SKIPPED, last.skip, last.time, message, note=note, **rule)
    if last.status == "success" and last.action == "delete":
        return Verdict(DELETED, None, last.time, "Deleted from Flowcase.", **rule)
    if last.status not in _DONE:  # unreadable, or a value Graph added (unknownFutureValue)
        return Verdict(UNKNOWN, None, last.time, "Unknown: the export does not say whether the "
                       "latest event succeeded (no readable status); its steps are in the "
                       "timeline below.", **rule)
    reason = tl.ALREADY_IN_SYNC if last.skip == tl.ALREADY_IN_SYNC else last.status
    if reason == tl.ALREADY_IN_SYNC:
        message = "Provisioned: Flowcase already matches Entra (RedundantExport)."
    elif last.status == "warning":  # done, but Entra says something was not as asked
        message = f"Provisioned with a warning: {_said(last.reason)}."
    else:
        message = f"Provisioned: {_said(last.reason or last.status)}."
    return Verdict(PROVISIONED, reason, last.time, message, **rule)


def _source(source: Dataset | Frames | FrameSource) -> FrameSource:
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, Frames):
        return FrameSource.from_frames(source)
    return FrameSource.from_frames(source.frames, source.problems)


def recent_events(person: Person) -> list[str]:
    """The person's events the rule engine sees: the latest ``HISTORY_LIMIT`` (the timeline
    shows them all). Keeps the answer interactive for someone logged thousands of times."""
    return person.event_ids[-HISTORY_LIMIT:]


def context_cycles(mine: pl.DataFrame, latest: list[str], newest_first: list[str]) -> set[str]:
    """Cycles whose job-wide trouble reaches this person: the cycle of their latest event and
    of their latest failure (``mine``: their recent events), and each job's newest cycle
    (``latest``: a halted job stops everyone). Events of the same second are ordered as the
    timeline orders them, so its latest event and this one are the same."""
    mine = in_time_order(mine, newest_first)
    last = mine.tail(1)["cycle_id"].to_list()
    failed = mine.filter(pl.col("status") == "failure").tail(1)["cycle_id"].to_list()
    return {c for c in last + failed + latest if c is not None}


def shared_identifiers(person: Person) -> list[str]:
    """The person's identifiers another object may also log (a duplicate)."""
    return sorted(_identifiers(person) - {person.key.lower(), (person.object_id or "").lower()})


def context_event_ids(
    events: pl.DataFrame, person: Person, recent: list[str], cycles: set[str]
) -> pl.Series:
    """What can explain this person: their recent events, the events of ``cycles``, and other
    objects sharing one of their identifiers (duplicates). A few cycles, not the export."""
    shares = pl.any_horizontal(
        equals_any(c, shared_identifiers(person))
        for c in SHARED_COLUMNS
    )
    others = shares & ~pl.col("event_id").is_in(person.event_ids)
    return events.filter(
        pl.col("event_id").is_in(recent) | pl.col("cycle_id").is_in(sorted(cycles)) | others
    )["event_id"]


def _identifiers(person: Person) -> set[str]:
    values = person.upns + person.mails + person.user_names_sent + person.emails_sent
    return {v.lower() for v in values} | {person.key.lower()} | {
        (person.object_id or "").lower()
    }


def why(
    source: Dataset | Frames | FrameSource, user: str, job_status: JobStatus | dict | None = None
) -> WhyAnswer:
    """Resolve ``user`` case-insensitively; timeline, verdict and the findings that explain it."""
    src = _source(source)
    job = parse_job_status(job_status) if isinstance(job_status, dict) else job_status
    found = lookup(src, user)
    person = found.person
    if person is None:
        return _unresolved(src, found, job)
    rows = src.rows(person.event_ids, tl.COLUMNS + CASE_COLUMNS + ("identity_key",))
    recent = recent_events(person)
    latest = src.latest_cycles(rows["job_id"].unique().to_list())  # of the person's jobs
    cycles = context_cycles(rows.filter(pl.col("event_id").is_in(recent)), latest,
                            src.newest_first)
    context = context_event_ids(src.reach(cycles, shared_identifiers(person)), person, recent,
                                cycles)
    src.prefetch(context)
    entries = tl.build(rows, src.newest_first,
                       lambda ids: src.steps_of(ids, list(STEP_REASON_COLUMNS)))
    findings = findings_of(src.subset(context), job, src.sent_anywhere)
    current = {c for c in [entries[-1].cycle_id, *latest] if c is not None}
    keys = set(rows["identity_key"].drop_nulls().str.to_lowercase().to_list())
    answer = _explained(found, entries, findings, cycles, current, keys)
    if answer.verdict.state == FAILING:
        answer.verdict.case_keys = _case_keys(rows, entries[-1])
    if cuts := src.cut_after(entries[-1].time):
        answer.verdict.note = _also(answer.verdict.note, (
            f"{cuts_named(cuts)}: the records after the cut are missing and this person's later "
            "events may be among them, so this verdict is of the latest event read (export it "
            "again)"))
    answer.notes += _several_apps(rows) + other_job_notes(job, rows) + _counted_note(
        answer, len(context), src.coverage().events)
    return answer


def _counted_note(answer: WhyAnswer, considered: int, total: int) -> list[str]:
    """The findings' counts are of the events the rules saw, not of the input: said, so that
    "9 failures" here beside `diagnose`'s 24 is not taken for a contradiction."""
    if not answer.explanations or considered >= total:
        return []
    return [f"the findings count the {plural(considered, 'event')} that can explain this person "
            f"(their latest events, the cycles around them, objects sharing their identifiers) "
            f"of the {total:,} in the input: `diagnose` counts them all"]


def _case_keys(rows: pl.DataFrame, latest: tl.Entry) -> CaseKeys:
    ids = rows.filter(pl.col("event_id") == latest.event_id).select(CASE_COLUMNS).row(
        0, named=True)
    return CaseKeys(time=latest.time, activity_id=latest.event_id, cycle_id=latest.cycle_id,
                    **ids)


def _several_apps(rows: pl.DataFrame) -> list[str]:
    """A note when the person's events lie in more than one Flowcase app (a test instance
    beside production): one timeline and verdict then mix them."""
    counts = rows.group_by("app_name").len().sort("len", "app_name", descending=[True, False])
    if counts.height < 2:
        return []
    listed = ", ".join(f"{name or 'an unnamed app'}: {n}" for name, n in counts.iter_rows())
    return [f"this person's events are in {counts.height} Flowcase apps ({listed}); the "
            "timeline and the verdict take them together: name one with --app"]


def _explained(found: Lookup, entries: list[tl.Entry], findings: list[Finding],
               cycles: set[str], current: set[str], keys: set[str]) -> WhyAnswer:
    """Job-wide findings first, then the ones about this person; the verdict's rule is the
    leading finding about their latest event. A job-wide finding of the past (its cycles
    are neither the person's latest nor the job's newest: a token since replaced) is not to
    be fixed first; it is among the ones that explain the person's history."""
    person = found.people[0]
    # ``keys``: their events' identity keys, which name them where no UPN, mail or
    # identifier sent is logged (a skip step's ReportableIdentifier, as the rules name them)
    mine = _identifiers(person) | keys
    job_wide = lead_order(f for f in findings if _is_job_wide(f, cycles, mine)
                          and (f.details.get("quarantine") or current & set(f.cycles)))
    wide = {id(f) for f in job_wide}
    personal = [f for f in findings_for_events(findings, person.event_ids) if id(f) not in wide]
    latest = entries[-1]
    # The assignment rules and the timeline share one skip classification, so a finding
    # about the latest skip never contradicts its class: FC013/FC018 explain only "not
    # assigned" skips, FC020 only scoping-filter ones.
    about_latest = findings_for_events(findings, [latest.event_id])
    leading = about_latest[0] if about_latest else None
    if leading is None and latest.status == "failure":  # only what stops everyone's changes:
        leading = next(iter(job_wide), None)  # a finding about other events is not the cause
    verdict = _verdict(entries, leading, id(leading) in wide, mine)
    return WhyAnswer(
        found, verdict, entries, [_explanation(f, True) for f in job_wide],
        [_explanation(f, True) for f in job_wide] + [_explanation(f, False) for f in personal],
    )


# "users are not showing up": after a typo, a period or an app that misses them, the usual
# reason is that nobody assigned them, and Entra logs nothing of a user it does not process
NEVER_SEEN_NOTE = (
    "Check the spelling, the time range of the export, and the app. If those are right, Entra "
    "did not process this user in the period: it logs nothing of a user who is not assigned "
    "to the app (or only through a nested group) and did not change. Assign the user, or a "
    "group they are a direct member of (guide step 5), then test them with Provision on "
    "demand (guide step 8a), which shows the result at once."
)


def _unresolved(src: FrameSource, found: Lookup, job_status: JobStatus | None) -> WhyAnswer:
    if found.people:
        verdict = Verdict(AMBIGUOUS, None, None, _ambiguity(found), None, None, [], None, None)
        return WhyAnswer(found, verdict)
    cover = found.coverage
    apps = ", ".join(cover.apps) or "no app name"
    asked = found.query.strip()
    group_events = src.group_events(found.query)
    elsewhere = [] if group_events else src.in_other_apps(found.query)
    where = "of the Flowcase app in this export" if elsewhere else "in this export"
    message = (
        f"Never seen: no event {where} is about '{asked}'. The export covers "
        f"{plural(cover.events, 'event')} from {_when(cover.start)} to {_when(cover.end)} ({apps})."
    )
    if group_events:
        message = (
            f"'{asked}' is a group ({plural(group_events, 'event')} in this export), not a user: "
            "`why` explains users. Flowcase does not take SCIM groups; the findings below say "
            "what its events show."
        )
    else:
        message += _in_other_apps(asked, elsewhere) + _named_elsewhere(src, asked)
    latest = src.latest_cycles()
    reached = src.reach(latest, [])
    frames = src.subset(reached.filter(pl.col("cycle_id").is_in(latest))["event_id"])
    findings = findings_of(frames, job_status)
    cycles = set(latest)
    job_wide = [
        _explanation(f, True)
        for f in lead_order(findings)
        if _is_job_wide(f, cycles, set())
    ]
    note = None if group_events else NEVER_SEEN_NOTE
    if not group_events and (cuts := src.cut_after(None)):
        note = _also(note, f"{cuts_named(cuts)}: the records after the cut are missing and this "
                           "person's may be among them (export it again)")
    state = GROUP if group_events else NEVER_SEEN
    verdict = Verdict(state, None, None, message, None, None, [], None, None, note=note)
    return WhyAnswer(found, verdict, [], job_wide, job_wide, in_other_apps=elsewhere)


def _also(note: str | None, more: str) -> str:
    """A verdict's note with one more sentence, as written: it starts with a file's name
    (``export.json is cut off ...``), which a capital would turn into another file's."""
    return f"{note} {more}." if note else f"{more}."


def _ambiguity(found: Lookup) -> str:
    """What to type instead when several people match. A prefix narrows to an identifier
    written out; an identifier typed in full that several Entra objects log (a rehire given
    the old UPN, an account deleted and created again) leaves only the object id, and a
    shared display name the UPN or the object id."""
    n, asked = len(found.people), found.query
    if found.matched_on == "partial identifier":
        return f"{n} people match '{asked}'; name one of them exactly."
    if found.matched_on == "display name":
        return f"{n} people are called '{asked}'; name one by UPN or Entra object id."
    return (f"{n} Entra objects share '{asked}' (a rehire, or an account deleted and created "
            "again?); name one by its Entra object id.")


MENTIONS_SHOWN = 3  # group names listed before "and N more"


def _in_other_apps(asked: str, apps: list[AppNaming]) -> str:
    """Where someone no Flowcase event is about is: the apps left out (a sandbox "Flowcase
    Test" app they were assigned to by mistake, another SCIM app), and the ``--app`` value
    of the likeliest Flowcase app among them."""
    if not apps:
        return ""
    said = f" '{asked}' is in {plural(sum(a.events for a in apps), 'event')} of "
    if len(apps) == 1:
        said, which = f"{said}another app in this export, {apps[0].app}", "it"
    else:
        listed = quote_list([f"{a.app}: {a.events:,}" for a in apps], limit=OTHER_APPS_SHOWN)
        said, which = f"{said}{len(apps)} other apps in this export ({listed})", "one of them"
    best = likeliest(apps)
    if best is None:
        return said + ": inbound provisioning into Entra ID or Active Directory, never Flowcase's."
    return (f"{said}; if {which} is the Flowcase app you mean, name it with "
            f"--app '{best.app_value}'.")


def _named_elsewhere(src: FrameSource, asked: str) -> str:
    """Where a name no event is about still appears: in groups' names, and in the errors of
    other people's events (Flowcase's 409 names the account it already holds)."""
    said = ""
    groups = src.group_names(asked)
    if groups:
        listed = ", ".join(f"'{g}'" for g in groups[:MENTIONS_SHOWN])
        more = f" and {len(groups) - MENTIONS_SHOWN} more" if len(groups) > MENTIONS_SHOWN else ""
        said += (f" It is part of the name of {plural(len(groups), 'group')} ({listed}{more}); "
                 "Flowcase takes no SCIM groups.")
    mentions = src.mentions(asked)
    if mentions.height:
        first = mentions.row(0, named=True)
        who = first["upn"] or first["source_display_name"] or "another object"
        said += (f" The error of {plural(mentions.height, 'event')} names it, first the "
                 f"{first['action'] or 'change'} of {who} at {_when(first['activity_time'])}: ")
        # an event without a UPN may be this very person, known here by name alone
        said += ("Flowcase may already hold an account with it" if first["upn"] else
                 "no UPN is logged for it here (a portal CSV download without its steps file "
                 "has none), so it may be this person") + f"; ask `why` about {who}."
    return said


def _when(when: datetime | None) -> str:
    return moment(when) if when else "?"


def to_json(answer: WhyAnswer) -> dict[str, Any]:
    """The documented machine shape of `why --format json`."""
    person = answer.lookup.person
    return jsonable(
        {
            "query": answer.lookup.query,
            "matched_on": answer.lookup.matched_on,
            "user": person,
            "verdict": answer.verdict,
            "job_wide": answer.job_wide,
            "explanations": answer.explanations,
            "timeline": answer.timeline,
            "candidates": answer.lookup.people if person is None else [],
            "suggestions": answer.lookup.suggestions,
            "export": answer.lookup.coverage,
            "in_other_apps": answer.in_other_apps,
            "notes": answer.notes,
        }
    )
