"""`why` answers as terminal text and as Markdown for pasting into a ticket.

Both read the same ``WhyAnswer``; the JSON shape lives in ``query.to_json``. Markdown escapes
every value from the logs with ``markdown.md_escape`` (as the report does), because log text
(SCIM details, display names) can contain ``|``, markup and spreadsheet formulas.
"""

from __future__ import annotations

import re

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from diagnostics.guide_steps import step_label
from loganalyzer.diagnosis_text import SEVERITY_STYLES
from loganalyzer.markdown import md_escape
from loganalyzer.why.lookup import Person
from loganalyzer.why.query import AMBIGUOUS, CaseKeys, Explanation, Verdict, WhyAnswer
from loganalyzer.why.timeline import Entry
from loganalyzer.wording import instant, plural

VERDICT_STYLES = {"FAILING": "bold red", "PROVISIONED": "bold green"}
CANDIDATE_LIMIT = 20
# what an unresolved answer's job-wide findings count: `why` diagnoses only each job's newest
# cycle (it stays interactive on a month), so its counts are not `diagnose`'s
NEWEST_CYCLE = ("in each job's newest cycle (counts are of that cycle only; `diagnose` counts "
                "the whole export)")
TIMELINE_LIMIT = 40  # latest events shown by default; the JSON always has them all


def _steps(steps: list[str]) -> str:
    if not steps:
        return "no guide step"
    first = f"guide step {step_label(steps[0])}"
    return first + (f" (also {', '.join(steps[1:])})" if len(steps) > 1 else "")


def _identifiers(person: Person) -> list[tuple[str, str]]:
    pairs = [
        ("UPN", person.upns), ("mail", person.mails), ("userName sent", person.user_names_sent),
        ("email sent", person.emails_sent), ("externalId", person.external_ids),
        ("Entra object id", [person.object_id] if person.object_id else []),
        ("Flowcase id", person.flowcase_ids),
    ]
    return [(name, ", ".join(values)) for name, values in pairs if values]


def _candidate_line(p: Person) -> str:
    upn = p.upns[0] if p.upns else (p.mails or p.user_names_sent or ["-"])[0]
    return (
        f"{p.display_name or '-'} | UPN {upn} | object id {p.object_id or '-'} | "
        f"last {p.last_status or '?'} at {instant(p.last_seen)} | {plural(p.events, 'event')}"
    )


def _unresolved_lines(answer: WhyAnswer) -> list[str]:
    found = answer.lookup
    if answer.verdict.state == AMBIGUOUS:
        lines = [answer.verdict.message, ""]
        lines += [f"  {_candidate_line(p)}" for p in found.people[:CANDIDATE_LIMIT]]
        if len(found.people) > CANDIDATE_LIMIT:
            lines.append(f"  ... and {len(found.people) - CANDIDATE_LIMIT} more")
        return lines
    lines = [answer.verdict.message]
    if found.suggestions:
        lines.append("Closest identifiers: " + ", ".join(found.suggestions))
    if answer.verdict.note:
        lines.append(answer.verdict.note)
    return lines


def _explanation_lines(e: Explanation, indent: str = "  ") -> list[str]:
    head = f"{indent}[{e.severity}] {e.rule_id}: {e.title} ({_steps(e.guide_steps)})"
    lines = [head, f"{indent}  {e.message}"]
    if e.fix:
        lines.append(f"{indent}  Fix: {e.fix}")
    return lines


def _verdict_lines(v: Verdict) -> list[str]:
    lines = [f"Verdict: {v.state.upper().replace('_', ' ')} (latest event {instant(v.since)} UTC)",
             f"  {v.message}"]
    if v.rule_id:
        lines.append(f"  Rule: {v.rule_id}: {v.title} ({_steps(v.guide_steps)})")
    elif v.guide_steps:
        lines.append(f"  Where to fix: {_steps(v.guide_steps)}")
    if v.fix:
        lines.append(f"  Fix: {v.fix}")
    if v.note:
        lines.append(f"  Note: {v.note}")
    if v.case_keys:
        lines.append(f"  For a support case: {_case_keys(v.case_keys)}")
    return lines


def _case_keys(keys: CaseKeys) -> str:
    """The ids of the failing request, by the names the Entra admin center gives them."""
    named = (("activity ID", keys.activity_id), ("change ID", keys.change_id),
             ("cycle ID", keys.cycle_id), ("job ID", keys.job_id), ("tenant ID", keys.tenant_id))
    return ", ".join(f"{name} {value}" for name, value in named if value) + (
        f" ({instant(keys.time)} UTC)")


def _row(e: Entry) -> list[str]:
    return [
        instant(e.time), (e.cycle_id or "-")[:8], e.action or "-", e.status or "-",
        e.failed_step or "-", str(e.http_status or "-"), e.reason or "-",
    ]


HEADER = ["time (UTC)", "cycle", "action", "status", "step", "HTTP", "reason"]


def _shown(timeline: list[Entry], limit: int) -> tuple[list[Entry], str | None]:
    """The latest ``limit`` entries (0 = all) and a line saying how many were left out."""
    if limit <= 0 or len(timeline) <= limit:
        return timeline, None
    hidden = len(timeline) - limit
    return timeline[-limit:], f"{hidden} earlier events not shown (--limit 0 shows all)"


def _styled(line: str) -> RenderableType:
    """One line of the answer as rich text, indented as written (wrapped lines keep the
    indent), with the severity tag or the verdict coloured."""
    text = line.lstrip(" ")
    rich_text = Text(text)
    if not text:
        return rich_text
    tag = re.match(r"\[(critical|high|medium|low|info)\]", text)
    if tag:
        rich_text.stylize(SEVERITY_STYLES[tag.group(1)], 0, tag.end())
    verdict = re.match(r"Verdict: ([A-Z]+(?: [A-Z]+)*)", text)
    if verdict:
        rich_text.stylize(VERDICT_STYLES.get(verdict.group(1).split()[0], "bold"),
                          len("Verdict: "), verdict.end())
    return Padding(rich_text, (0, 0, 0, len(line) - len(text)), expand=False)


def _timeline_table(rows: list[Entry]) -> Padding:
    table = Table(box=None, pad_edge=False, header_style="bold", padding=(0, 2, 0, 0))
    for name in HEADER:
        table.add_column(name, no_wrap=name != "reason", overflow="fold")
    for entry in rows:
        table.add_row(*_row(entry))
    return Padding(table, (0, 0, 0, 2), expand=False)


def render_terminal(answer: WhyAnswer, limit: int = TIMELINE_LIMIT) -> RenderableType:
    """One screen: who, verdict, job-wide findings first, then the timeline; notes last (rich:
    wrapped to the terminal, or to ``console.PLAIN_WIDTH`` in a file or pipe)."""
    notes = [Text(f"Note: {note}.") for note in answer.notes]
    return Group(_terminal(answer, limit), *([Text("")] + notes if notes else []))


def _terminal(answer: WhyAnswer, limit: int) -> RenderableType:
    person = answer.lookup.person
    if person is None:
        lines = _unresolved_lines(answer)
        lines += ["", f"Job-wide findings {NEWEST_CYCLE}:"] if answer.job_wide else []
        for e in answer.job_wide:
            lines += _explanation_lines(e)
        return Group(*map(_styled, lines))
    lines = [person.label()]
    lines += [f"  {name}: {value}" for name, value in _identifiers(person)]
    lines += [f"  {plural(person.events, 'event')}, {instant(person.first_seen)} to "
              f"{instant(person.last_seen)} UTC", ""]
    if answer.job_wide:
        lines.append("Job-wide problems (fix these first: they stop every user's changes):")
        for e in answer.job_wide:
            lines += _explanation_lines(e)
        lines.append("")
    lines += _verdict_lines(answer.verdict)
    others = _also_explains(answer)
    if others:
        lines += ["", "Also explains this user:"]
        for e in others:
            lines += _explanation_lines(e)
    shown, hidden = _shown(answer.timeline, limit)
    lines += ["", "Timeline (oldest first):"] + ([f"  ({hidden})"] if hidden else [])
    return Group(*map(_styled, lines), _timeline_table(shown))


def _also_explains(answer: WhyAnswer) -> list[Explanation]:
    """The person's other findings: neither job-wide nor the verdict's own."""
    return [e for e in answer.explanations
            if not e.job_wide and e.rule_id != answer.verdict.rule_id]


def _md(value: object | None) -> str:
    """A log value as Markdown text; ``-`` (not escaped as a formula) when there is none."""
    return "-" if value is None or value == "" else md_escape(value)


def _md_row(e: Entry) -> list[str]:
    return [
        instant(e.time), _md(e.cycle_id), _md(e.action), _md(e.status), _md(e.failed_step),
        _md(e.http_status), _md(e.reason),
    ]


def render_markdown(answer: WhyAnswer, limit: int = TIMELINE_LIMIT) -> str:
    """For a ticket: verdict and fix first, then the timeline as a table; notes last."""
    notes = [f"> **Note:** {md_escape(note, formula_guard=False)}." for note in answer.notes]
    return "\n".join([_markdown(answer, limit), *([""] + notes if notes else [])])


def _markdown(answer: WhyAnswer, limit: int) -> str:
    person = answer.lookup.person
    if person is None:
        lines = [f"### Why: {_md(answer.lookup.query)}", ""]
        if answer.verdict.state == AMBIGUOUS:
            lines += [_md(answer.verdict.message), "",
                      "| display name | UPN | object id | last status | events |",
                      "|---|---|---|---|---|"]
            for p in answer.lookup.people[:CANDIDATE_LIMIT]:
                lines.append(
                    f"| {_md(p.display_name)} | {_md(p.upns[0] if p.upns else None)} | "
                    f"{_md(p.object_id)} | {_md(p.last_status or '?')} "
                    f"{instant(p.last_seen)} | {p.events} |"
                )
        else:
            lines += [md_escape(line) for line in _unresolved_lines(answer)]
        lines += ["", f"Job-wide findings {md_escape(NEWEST_CYCLE)}:"] if answer.job_wide else []
        for e in answer.job_wide:
            lines += [f"- **Job-wide:** {_md(e.message)} ({_steps(e.guide_steps)}). "
                      f"Fix: {_md(e.fix)}"]
        return "\n".join(lines)
    v = answer.verdict
    lines = [f"### Why: {_md(person.label())}", ""]
    lines += [f"- {name}: {_md(value)}" for name, value in _identifiers(person)]
    lines += [f"- {plural(person.events, 'event')}, {instant(person.first_seen)} to "
              f"{instant(person.last_seen)} UTC", ""]
    for e in answer.job_wide:
        lines.append(f"- **Fix first (job-wide):** {_md(e.message)} — "
                     f"{_steps(e.guide_steps)}. Fix: {_md(e.fix)}")
    lines.append(f"- **Verdict: {v.state.replace('_', ' ')}** ({instant(v.since)} UTC): "
                 f"{_md(v.message)}")
    if v.rule_id or v.guide_steps:
        rule = f"`{v.rule_id}` {_md(v.title)}, " if v.rule_id else ""
        lines.append(f"- **Where:** {rule}{_steps(v.guide_steps)}")
    if v.fix:
        lines.append(f"- **Fix:** {_md(v.fix)}")
    if v.note:
        lines.append(f"- **Note:** {_md(v.note)}")
    if v.case_keys:
        lines.append(f"- **For a support case:** {_md(_case_keys(v.case_keys))}")
    for e in _also_explains(answer):
        lines.append(f"- **Also explains this user:** [{e.severity}] `{e.rule_id}` "
                     f"{_md(e.message)} — {_steps(e.guide_steps)}. Fix: {_md(e.fix)}")
    shown, hidden = _shown(answer.timeline, limit)
    lines += [""] + ([f"_{hidden}._", ""] if hidden else [])
    lines += ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(_md_row(e)) + " |" for e in shown]
    return "\n".join(lines)

