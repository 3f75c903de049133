"""The verdict on a diagnosis: healthy, degraded or failing, why, and which cause to fix first.

One verdict for every output: the report's health section and the first lines of ``diagnose``
(terminal, Markdown and JSON) say the same thing. A consequence (escrow, quarantine) never
leads over its cause (``engine.lead_order``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from diagnostics.facts.job_status import JobStatus
from diagnostics.guide_steps import STEPS, step_rank
from loganalyzer.engine import lead_order
from loganalyzer.findings import SEVERITIES, Diagnosis, Finding, Suppressed, severity_rank
from loganalyzer.problems import cuts_named
from loganalyzer.wording import plural, quote_list, verb

if TYPE_CHECKING:
    from loganalyzer.config.check import ConfigFinding, ConfigResult

NO_EVENTS = (
    "No provisioning events in the period: nothing changed (Entra logs only changes)"
)
# at least this share of the period's events failed: accepting the findings that explain the
# failures (--ignore, a baseline) cannot make the job healthy
MOST_FAILED = 0.5


@dataclass
class Verdict:
    state: str  # healthy | degraded | failing
    reason: str  # one sentence, without the fix-first clause
    fix_first: Finding | ConfigFinding | None  # the cause to fix first (see ``verdict``)

    @property
    def fix_first_id(self) -> str | None:
        """The rule id (FCnnn), or a configuration finding's check id (CCnnn)."""
        first = self.fix_first
        return None if first is None else getattr(first, "rule_id", None) or first.check_id

    def to_json(self) -> dict:
        """The verdict in ``diagnose --format json``."""
        first = self.fix_first
        return {
            "state": self.state,
            "reason": self.reason,
            "fix_first": {"rule_id": self.fix_first_id, "title": first.title,
                          "guide_step": (first.guide_steps or [None])[0]} if first else None,
        }

    @property
    def sentence(self) -> str:
        """The reason and, when there is one, what to fix first: the report's verdict line."""
        first = f"; fix first: {step_phrase(self.fix_first)}" if self.fix_first else ""
        return f"{self.reason}{first}."


def verdict(diagnosis: Diagnosis, job_status: JobStatus | None = None,
            configuration: ConfigResult | None = None, *, cut_off: Sequence[str] = (),
            not_retested: Sequence[str] = ()) -> Verdict:
    """failing: quarantine, a high/critical finding, or a high/critical configuration finding
    (``--config``); degraded: a medium finding, failures no rule explains, a rule that
    crashed, or an input cut off (``problems.cut_off``: the records after the cut, of any
    status, are missing); healthy otherwise. An accepted finding that explains failures
    counts all the same when at least half the events failed (``counted_anyway``). A period
    without events has its own wording (nothing changed is normal), and is degraded when
    ``not_retested`` names high or critical findings of the period before that it could
    not show again.

    The cause to fix first is the leading most severe high or critical finding (a critical
    group 404 halting every cycle before one user's unknown department; among equals, the
    earliest guide step); without one, the leading medium-severity *cause* (a degraded run
    still has something to fix); without either, the accepted finding counted anyway (it
    explains why most events fail). Low findings and noise never lead; a consequence
    (escrow) leads only when no cause is as loud."""
    current = [f for f in diagnosis.findings if not f.mended]
    loud = [f for f in current if severity_rank(f.severity) <= severity_rank("high")]
    medium_causes = [f for f in current if f.severity == "medium" and f.kind == "cause"]
    # accepted, but explaining a job whose events mostly fail: still the thing to fix
    first = _fix_first(loud or medium_causes) or _fix_first(still_to_fix(diagnosis))
    if not diagnosis.summary.get("events"):
        state, reason = _quiet(diagnosis, loud, job_status, not_retested)
    else:
        state, reason = _not_running(*_busy(diagnosis, loud, job_status), job_status)
    mended = [f for f in diagnosis.findings
              if f.mended and severity_rank(f.severity) <= severity_rank("medium")]
    if mended:
        named = quote_list([f.rule_id for f in mended], 3)
        reason += (f"; {plural(len(mended), 'finding')} of the period "
                   f"{verb(len(mended), 'was', 'were')} mended since ({named}): "
                   f"{verb(len(mended), 'its', 'their')} users all succeeded in a later "
                   "request")
    wrong = _loud_configuration(configuration)
    worst = min(wrong, key=lambda f: (severity_rank(f.severity), step_rank(f.guide_steps)),
                default=None)
    if worst and (first is None or severity_rank(worst.severity) < severity_rank(
            first.severity)):  # a job in quarantine before one user's unknown department
        first = worst
    if wrong:
        named = quote_list([f"{f.check_id} {f.title}" for f in wrong], 2)
        reason += (f"; {'and' if state == 'failing' else 'but'} the configuration has "
                   f"{plural(len(wrong), 'finding')} at high severity or above ({named})")
        state = "failing"
    if cut_off:
        reason += (f"; {'and' if state == 'failing' else 'but'} {cuts_named(cut_off)}: the "
                   "records after the cut are missing and may hold problems not shown "
                   "here (export it again)")
        state = "failing" if state == "failing" else "degraded"
    return Verdict(state, reason, first)


NOT_RUNNING = ("Paused", "NotRun", "NotConfigured")  # job status codes of a job that is off


def _not_running(state: str, reason: str, job_status: JobStatus | None) -> tuple[str, str]:
    """A period with events whose job is not running now (paused, or disabled after four
    weeks in quarantine) is never healthy: the events were provisioned, but nothing is
    from now on. It was 'healthy' with 'job status Paused' only in the key figures."""
    code = job_status.code if job_status else None
    if code not in NOT_RUNNING or state == "failing":
        return state, reason
    return "degraded", (f"The provisioning job is not running (status {code}): start "
                        f"provisioning on the enterprise application if it should run; "
                        f"{reason[0].lower()}{reason[1:]}")


def _fix_first(candidates: list[Finding]) -> Finding | None:
    """Causes before consequences, then the most severe, then ``lead_order``."""
    pool = [f for f in candidates if f.kind == "cause"] or candidates
    if not pool:
        return None
    top = min(severity_rank(f.severity) for f in pool)
    return lead_order(f for f in pool if severity_rank(f.severity) == top)[0]


def _loud_configuration(configuration: ConfigResult | None, severity: str = "high") -> list:
    """Configuration findings at ``severity`` or above, not accepted (``--ignore CCnnn``): a
    job in quarantine or the group mapping left on fails the next cycle, whatever this
    period's logs say."""
    limit = severity_rank(severity)
    return [f for f in (configuration.findings if configuration else [])
            if severity_rank(f.severity) <= limit and not f.accepted]


def severity_counts(findings: list[Finding]) -> str:
    """'1 critical, 2 medium, 1 info', most severe first; 'none' without findings."""
    counts = [(s, sum(f.severity == s for f in findings)) for s in SEVERITIES]
    return ", ".join(f"{n} {s}" for s, n in counts if n) or "none"


def step_phrase(finding: Finding) -> str:
    """'FC008 Department does not exist in Flowcase (guide step 1 Departments)'."""
    step = finding.guide_steps[0] if finding.guide_steps else None
    where = f" (guide step {step} {STEPS[step]})" if step in STEPS else ""
    return f"{finding.title}{where}"


def _busy(
    diagnosis: Diagnosis, loud: list[Finding], job_status: JobStatus | None
) -> tuple[str, str]:
    findings = [f for f in diagnosis.findings if not f.mended]
    medium = [f for f in findings if f.severity == "medium"]
    unexplained = sum(u.count for u in diagnosis.unexplained)
    failed = _rate(diagnosis.summary["failures"], diagnosis.summary["events"])
    trouble = job_trouble(job_status)  # quarantine, or a last run that failed
    if trouble:
        return "failing", trouble
    if loud:
        return "failing", (
            f"{plural(len(loud), 'finding')} at high severity or above and {failed} of events "
            "failed"
        )
    anyway = counted_anyway(diagnosis)
    if any(severity_rank(s.finding.severity) <= severity_rank("high") for s in anyway):
        return "failing", f"{failed} of events failed; {_accepted_clause(anyway)}"
    unknown = diagnosis.summary.get("unknown_status", 0)
    accepted_medium = any(s.finding.severity == "medium" for s in anyway)
    if accepted_medium and not (medium or unexplained or diagnosis.rule_errors or unknown):
        return "degraded", f"{failed} of events failed; {_accepted_clause(anyway)}"
    if medium or unexplained or diagnosis.rule_errors or unknown:
        parts = []
        if unknown:
            parts.append(f"{plural(unknown, 'event')} whose status could not be read")
        if medium:
            parts.append(plural(len(medium), "medium-severity finding"))
        if unexplained:
            parts.append(f"{plural(unexplained, 'failure')} no rule explains")
        if diagnosis.rule_errors:
            parts.append(f"{plural(len(diagnosis.rule_errors), 'rule')} that could not run")
        accepted = f"; {_accepted_clause(anyway)}" if anyway else ""
        return "degraded", (
            f"No high-severity finding, but {' and '.join(parts)}; {failed} of events failed"
            f"{accepted}"
        )
    low = sum(f.severity == "low" for f in findings)
    extra = f"; {plural(low, 'low-severity finding')} listed for information" if low else ""
    extra += f"; {_accepted_clause(anyway)}" if anyway else ""  # low: healthy unaccepted too
    current = "current " if len(findings) < len(diagnosis.findings) else ""
    return "healthy", (f"No {current}finding above low severity and {failed} of events "
                       f"failed{extra}")


def counted_anyway(diagnosis: Diagnosis) -> list[Suppressed]:
    """The accepted findings (``--ignore``, a baseline) that explain failures not mended
    since, when at least half the period's events failed: a job whose events mostly fail is
    never healthy because of what was accepted. They stay listed under Suppressed; the verdict
    and ``--fail-on`` count them by their severity (a low one leaves it healthy, as it would
    unaccepted)."""
    events = diagnosis.summary.get("events") or 0
    if not events or diagnosis.summary.get("failures", 0) < MOST_FAILED * events:
        return []
    return [s for s in diagnosis.suppressed if s.finding.failures and not s.finding.mended]


def no_findings_sentence(diagnosis: Diagnosis) -> str:
    """What stands in for the findings, in every output: accepted ones are not quiet, and
    those counted in the verdict anyway (most events failed) are still to fix."""
    accepted = plural(len(diagnosis.suppressed), "finding")
    anyway = [f.rule_id for f in still_to_fix(diagnosis)]
    if anyway:
        n = len(diagnosis.suppressed)
        return (f"No other finding: {accepted} {verb(n, 'is', 'are')} accepted (listed "
                f"under Suppressed), but {quote_list(anyway, 3)} "
                f"{verb(len(anyway), 'explains', 'explain')} why most events failed and "
                f"{verb(len(anyway), 'is', 'are')} still to fix.")
    if diagnosis.suppressed:
        return f"No finding is left to fix: {accepted} accepted, listed under Suppressed."
    return "No findings: every failure rule is quiet."


def still_to_fix(diagnosis: Diagnosis) -> list[Finding]:
    """The accepted findings counted anyway (``counted_anyway``) at medium severity or above:
    what is still to fix in a job whose events mostly fail (a low one leaves it healthy)."""
    return [s.finding for s in counted_anyway(diagnosis)
            if severity_rank(s.finding.severity) <= severity_rank("medium")]


def _accepted_clause(accepted: list[Suppressed]) -> str:
    """'the findings that explain them are ignored (--ignore FC004, FC016)', or accepted by
    a baseline, named by its file (``accept``'s sources: 'ignored: FC004', 'baseline: FILE').
    Rule ids only: an accepted identity is personal data."""
    ignored: dict[str, None] = {}
    by_file: dict[str, dict[str, None]] = {}
    for s in accepted:
        if s.source.startswith("ignored:"):
            ignored[s.finding.rule_id] = None
        else:
            name = s.source.removeprefix("baseline:").strip()
            by_file.setdefault(name, {})[s.finding.rule_id] = None
    how = [f"--ignore {', '.join(ignored)}"] if ignored else []
    how += [f"{', '.join(ids)} in the baseline {name}" for name, ids in by_file.items()]
    which = ("the finding that explains them is" if len(accepted) == 1
             else "the findings that explain them are")
    return f"{which} {'accepted' if by_file else 'ignored'} ({'; '.join(how)})"


def _quiet(
    diagnosis: Diagnosis, loud: list[Finding], job_status: JobStatus | None,
    not_retested: Sequence[str],
) -> tuple[str, str]:
    """A period without events: healthy (nothing changed), unless the job status says the job
    is in quarantine, failed or is not running, a rule still found something (from the job
    status alone), or the period before failed loudly: Entra retries failed users every
    cycle, so silence after failures is not a fix (a stopped job logs nothing either)."""
    trouble = job_trouble(job_status)
    if trouble:
        return "failing", f"{trouble}, and the period has no provisioning events"
    if loud:
        return "failing", (
            f"The period has no provisioning events, but {plural(len(loud), 'finding')} at high "
            "severity or above"
        )
    code = job_status.code if job_status else None
    if code in NOT_RUNNING:
        return "degraded", (
            f"The provisioning job is not running (status {code}), so nothing was provisioned "
            "in the period; start provisioning on the enterprise application if it should run"
        )
    if not_retested:
        return "degraded", (
            f"The period has no provisioning events, but the period before had "
            f"{plural(len(not_retested), 'finding')} at high severity or above "
            f"({quote_list(list(not_retested), 3)}) that nothing has retested since: Entra "
            "retries failed users every cycle, so this silence may be a job that stopped "
            "(fetch-job shows its status); test an affected user with loganalyzer retest")
    medium = [f for f in diagnosis.findings if f.severity == "medium"]
    if medium or diagnosis.rule_errors:
        parts = [plural(len(medium), "medium-severity finding")] if medium else []
        if diagnosis.rule_errors:
            parts.append(f"{plural(len(diagnosis.rule_errors), 'rule')} that could not run")
        return "degraded", f"The period has no provisioning events, but {' and '.join(parts)}"
    advice = (
        f"the job status is {code or 'unknown'}"
        if job_status
        else "if changes were expected, check that the job is running (fetch-job shows its status)"
    )
    return "healthy", f"{NO_EVENTS}; {advice}"


def fails_at(diagnosis: Diagnosis, severity: str, job_status: JobStatus | None = None,
             configuration: ConfigResult | None = None, *, cut_off: Sequence[str] = ()
             ) -> bool:
    """``--fail-on severity``: a finding at or above it (of the logs, not mended since, or of
    the configuration given with ``--config``), or the job itself in trouble (quarantine, a
    failed last run), which makes the verdict failing whatever findings were accepted and
    trips every level; so does an input cut off: what is missing cannot be said to be below
    any level, and a scheduled run must export it again. An accepted finding counted in the
    verdict (``counted_anyway``: half the events or more failed) counts here too."""
    limit = severity_rank(severity)
    if cut_off:
        return True
    counted = [f for f in diagnosis.findings if not f.mended]
    counted += [s.finding for s in counted_anyway(diagnosis)]
    return bool(job_trouble(job_status) or _loud_configuration(configuration, severity)) or any(
        severity_rank(f.severity) <= limit for f in counted)


def job_trouble(job: JobStatus | None) -> str:
    """'The provisioning job is in quarantine (why)' or '... last run failed (error)', or ''."""
    if job is None:
        return ""
    if job.quarantined:
        why = job.quarantine_reason or "no reason given"
        if job.error_message:
            why += f": {job.error_message.rstrip('.')}"
        return f"The provisioning job is in quarantine ({why})"
    if (job.last_execution_state or "").lower() == "failed":
        error = ": ".join(e.rstrip(".") for e in (job.error_code, job.error_message) if e)
        return f"The provisioning job's last run failed ({error or 'no error given'})"
    return ""


def _rate(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"
