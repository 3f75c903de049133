"""Render a Diagnosis for people: rich terminal output and a Markdown document.

Both open with the verdict, the cause to fix first and the count of findings by severity, then
list the findings causes first (``engine.report_order``), each with its fix and, for a
consequence, the cause it follows from; then the failures, skips and warnings no rule explains,
what was counted as expected noise, and the findings accepted with ``--ignore`` or a baseline.
Markdown escapes every value taken from a log with ``markdown.md_escape`` (as the report does);
the terminal output is built from rich ``Text``, never markup, so a log value cannot style it.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.text import Text

from diagnostics.guide_steps import STEPS
from loganalyzer.findings import NO_ERROR_CODE, Affected, Diagnosis, Finding, UnexplainedGroup
from loganalyzer.markdown import md_escape
from loganalyzer.verdict import Verdict, no_findings_sentence, severity_counts, step_phrase
from loganalyzer.wording import instant, plural

AFFECTED_SHOWN = 10
SEVERITY_STYLES = {
    "critical": "bold white on red",
    "high": "bold red",
    "medium": "bold yellow",
    "low": "cyan",
    "info": "dim",
}
VERDICT_STYLES = {"failing": "bold red", "degraded": "bold yellow", "healthy": "bold green"}


def _steps(finding: Finding) -> str:
    if not finding.guide_steps:
        return "no guide step"
    first, *rest = finding.guide_steps
    text = f"guide step {first} ({STEPS[first]})"
    return text + (f", also {', '.join(rest)}" if rest else "")


def headline(diagnosis: Diagnosis, verdict: Verdict) -> list[str]:
    """The first lines of every rendering: verdict, fix first, findings by severity."""
    counts = severity_counts(diagnosis.findings)
    if diagnosis.suppressed:
        counts += f" ({len(diagnosis.suppressed)} suppressed)"
    first = verdict.fix_first
    return [
        f"Verdict: {verdict.state}. {verdict.reason}.",
        f"Fix first: {verdict.fix_first_id} {step_phrase(first)}" if first else
        "Fix first: nothing",
        f"Findings: {counts}",
    ]


def _expected_skips(diagnosis: Diagnosis) -> str:
    """The skips counted as noise, or that there were none."""
    skips = diagnosis.summary["expected_skips"]
    counted = [f"{n:,} {name}" for name, n in (
        ("RedundantExport", skips["redundant_export"]),
        ("NotEffectivelyEntitled", skips["not_effectively_entitled"])) if n]
    return ("Expected skips (counted, not failures): " + (", ".join(counted) or "none") + ".")


def _counts_line(diagnosis: Diagnosis) -> str:
    s = diagnosis.summary
    span = s["time_range"]
    if not s["events"]:  # a quiet period: its bounds are in the notes
        return "No events."
    return (
        f"{plural(s['events'], 'event')}, {instant(span['start'])} to {instant(span['end'])} UTC, "
        f"{plural(s['cycles'], 'cycle')}: {plural(s['failures'], 'failure')} "
        f"({s['explained_failures']:,} explained, {s['unexplained_failures']:,} unexplained), "
        f"{s['skipped']:,} skipped"
        + (f", {plural(s['warnings'], 'warning')}." if s.get("warnings") else ".")
    )


def _affected_line(finding: Finding) -> str:
    shown = [f"{_name(a)} ({a.events})" for a in finding.affected[:AFFECTED_SHOWN]]
    more = len(finding.affected) - AFFECTED_SHOWN
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _name(affected: Affected) -> str:
    """A group by its name; a user by UPN or email, else by name and object id."""
    if affected.type == "Group":
        return affected.display_name or affected.id
    if "@" in affected.id or not affected.display_name:
        return affected.id
    return f"{affected.display_name} <{affected.id}>"


def caused_by(finding: Finding) -> str:
    """For a consequence (escrow, quarantine): the findings it follows from, or ''."""
    causes = finding.details.get("caused_by") or []
    return "; ".join(causes) if finding.kind == "consequence" else ""


def _indent(text: str | Text, level: int = 1) -> Padding:
    return Padding(text if isinstance(text, Text) else Text(text), (0, 0, 0, 2 * level),
                   expand=False)


def render_terminal(diagnosis: Diagnosis, verdict: Verdict) -> RenderableType:
    """Findings with their fix, then unexplained failures, skips and warnings, expected skips
    and suppressed findings; rich wraps it to the terminal (or ``console.PLAIN_WIDTH`` in a
    file or pipe)."""
    lines = headline(diagnosis, verdict)
    first = verdict.fix_first
    top = Text(lines[0])
    top.stylize(VERDICT_STYLES.get(verdict.state, ""), len("Verdict: "),
                len("Verdict: ") + len(verdict.state))
    parts: list[RenderableType] = [top, Text(lines[1], style="bold" if first else ""),
                                   Text(lines[2]), Text(_counts_line(diagnosis)), Text("")]
    for note in diagnosis.notes:
        parts.append(Text(f"Note: {note}."))
    parts += [Text("")] if diagnosis.notes else []
    if not diagnosis.findings:
        parts += [Text(no_findings_sentence(diagnosis)), Text("")]
    for f in diagnosis.findings:
        parts += _finding_terminal(f)
    parts += _unexplained_text(diagnosis)
    parts += _unexplained_skips_text(diagnosis)
    parts += _unexplained_warnings_text(diagnosis)
    parts.append(Text(_expected_skips(diagnosis)))
    parts += _suppressed_text(diagnosis)
    parts.append(Text(f"Rules run: {len(diagnosis.rules_run)}."))
    parts += [Text(f"Rule error: {e}", style="red") for e in diagnosis.rule_errors]
    return Group(*parts)


def _finding_terminal(f: Finding) -> list[RenderableType]:
    title = Text()
    title.append(f"[{f.severity.upper()}]", style=SEVERITY_STYLES.get(f.severity, ""))
    title.append(f" {f.rule_id} {f.title} — {_steps(f)}", style="bold")
    out: list[RenderableType] = [title, _indent(f.message)]
    cause = caused_by(f)
    if cause:
        out.append(_indent(Text(f"Caused by: {cause}; fix that first.", style="bold")))
    if f.affected:
        out.append(_indent(f"Affected ({len(f.affected)}): {_affected_line(f)}"))
    if f.events:
        out.append(_indent(f"Seen {instant(f.first_seen)} to {instant(f.last_seen)} in "
                           f"{plural(len(f.cycles), 'cycle')}, {plural(f.events, 'event')}"))
    if f.evidence:
        out.append(_indent("Evidence:"))
    for e in f.evidence:
        http = f"HTTP {e.http_status}" if e.http_status else "no HTTP status"
        out.append(_indent(f"{instant(e.time)}  {e.action or '-'} {e.status or '-'}, {http}, "
                           f"{e.error_code or 'no error code'}", 2))
        if e.reason:
            out.append(_indent(Text(e.reason, style="dim"), 3))
    out += [_indent(f"Fix: {f.remediation}"), Text("")]
    return out


def _unexplained_text(diagnosis: Diagnosis) -> list[RenderableType]:
    if not diagnosis.unexplained:
        return [Text("Unexplained failures: none."), Text("")]
    out: list[RenderableType] = [
        Text(f"Unexplained failures ({sum(u.count for u in diagnosis.unexplained)}):")
    ]
    out += [_indent(_group_line(u, "failure")) for u in diagnosis.unexplained]
    return [*out, Text("")]


def _unexplained_warnings_text(diagnosis: Diagnosis) -> list[RenderableType]:
    """What the warnings no rule explains said: counting them tells the reader nothing."""
    if not diagnosis.unexplained_warnings:
        return []
    total = sum(u.count for u in diagnosis.unexplained_warnings)
    out: list[RenderableType] = [Text(f"Unexplained warnings ({total:,}; they did not fail):")]
    out += [_indent(_group_line(u, "warning")) for u in diagnosis.unexplained_warnings]
    return [*out, Text("")]


def _group_line(group: UnexplainedGroup, noun: str) -> str:
    """'Teapot / HTTP 418: 3 failures, 2 objects; e.g. I'm a teapot; who: ...'; a group
    without code or status is 'no error code or HTTP status' (``UnexplainedGroup.label``)."""
    return (f"{group.label()}: "
            f"{plural(group.count, noun)}, {plural(group.affected, 'object')}; "
            f"e.g. {group.sample_reason or '(no reason logged)'}{_who(group)}")


def _who(group: UnexplainedGroup) -> str:
    """'; who: a@x, b@x and 3 more (ask `loganalyzer why` about one)'."""
    if not group.examples:
        return ""
    more = group.affected - len(group.examples)
    return (f"; who: {', '.join(group.examples)}{f' and {more:,} more' if more > 0 else ''} "
            "(ask `loganalyzer why` about one)")


def _unexplained_skips_text(diagnosis: Diagnosis) -> list[RenderableType]:
    if not diagnosis.unexplained_skips:
        return []
    total = sum(u.count for u in diagnosis.unexplained_skips)
    out: list[RenderableType] = [
        Text(f"Unexplained skips ({total:,}; no rule knows these skip reasons yet):")
    ]
    out += [
        _indent(f"{u.skip_reason}: {plural(u.count, 'skip')}, {plural(u.affected, 'object')}; "
                f"e.g. {u.sample_text or '(no description logged)'}")
        for u in diagnosis.unexplained_skips
    ]
    return [*out, Text("")]


def _suppressed_lines(diagnosis: Diagnosis) -> list[str]:
    return [
        f"{s.finding.rule_id} {s.finding.severity} {s.finding.title}: "
        f"{plural(s.finding.events, 'event')}, {len(s.finding.affected):,} affected ({s.source})"
        for s in diagnosis.suppressed
    ]


def _suppressed_text(diagnosis: Diagnosis) -> list[RenderableType]:
    if not diagnosis.suppressed:
        return []
    return [Text(f"Suppressed ({len(diagnosis.suppressed)}, accepted):", style="dim"),
            *(_indent(Text(line, style="dim")) for line in _suppressed_lines(diagnosis))]


def _md_groups(groups: list[UnexplainedGroup], counted: str) -> list[str]:
    """The table of unexplained failures or warnings; ``counted`` heads the count column."""
    return [
        f"| error code | HTTP | {counted} | objects | for example | sample reason |",
        "|---|---|---|---|---|---|",
        *(f"| {md_escape(u.error_code or NO_ERROR_CODE)} | {u.http_status or ''} | {u.count} | "
          f"{u.affected} | {md_escape(', '.join(u.examples))} | "
          f"{md_escape(u.sample_reason or '')} |" for u in groups),
    ]


def render_markdown(diagnosis: Diagnosis, verdict: Verdict) -> str:
    """A Markdown document with the same content as the terminal text."""
    verdict_line, first_line, counts_line = headline(diagnosis, verdict)
    out = [
        "# Provisioning diagnosis",
        "",
        f"**{md_escape(verdict_line)}**",
        "",
        f"- {md_escape(first_line)}",
        f"- {md_escape(counts_line)}",
        f"- {md_escape(_counts_line(diagnosis))}",
        "",
    ]
    out += [f"> **Note:** {md_escape(note, formula_guard=False)}." for note in diagnosis.notes]
    out += [""] if diagnosis.notes else []
    if not diagnosis.findings:
        out += [no_findings_sentence(diagnosis), ""]
    for f in diagnosis.findings:
        out += [
            f"## {f.severity.upper()} · {f.rule_id} {md_escape(f.title)}",
            "",
            f"*{md_escape(_steps(f))}*",
            "",
            md_escape(f.message),
            "",
        ]
        if caused_by(f):
            out += [f"**Caused by:** {md_escape(caused_by(f))}; fix that first.", ""]
        if f.affected:
            out += [f"**Affected ({len(f.affected)}):** {md_escape(_affected_line(f))}", ""]
        if f.evidence:
            more = f.events - len(f.evidence)
            out += [f"**Evidence:** {plural(f.events, 'event')}"
                    + (f", a sample of {len(f.evidence)} (and {more:,} more):" if more > 0
                       else ":"), ""]
            out += [
                "| time (UTC) | cycle | action | status | HTTP | error code | reason |",
                "|---|---|---|---|---|---|---|",
            ]
            out += [
                "| "
                + " | ".join(
                    md_escape(v if v is not None else "")
                    for v in (
                        instant(e.time), e.cycle_id, e.action, e.status, e.http_status,
                        e.error_code, e.reason,
                    )
                )
                + " |"
                for e in f.evidence
            ]
            out.append("")
        out += [f"**Fix:** {md_escape(f.remediation)}", ""]
    out += ["## Unexplained failures", ""]
    out += _md_groups(diagnosis.unexplained, "failures") if diagnosis.unexplained else ["None."]
    if diagnosis.unexplained_skips:
        out += [
            "",
            "## Unexplained skips",
            "",
            "| skip reason | skips | objects | sample text |",
            "|---|---|---|---|",
        ]
        out += [
            f"| {md_escape(u.skip_reason)} | {u.count} | {u.affected} | "
            f"{md_escape(u.sample_text or '')} |"
            for u in diagnosis.unexplained_skips
        ]
    if diagnosis.unexplained_warnings:
        out += ["", "## Unexplained warnings", "",
                "Warnings no rule explains; they did not fail.", ""]
        out += _md_groups(diagnosis.unexplained_warnings, "warnings")
    out += ["", f"{md_escape(_expected_skips(diagnosis))} Rules run: {len(diagnosis.rules_run)}."]
    if diagnosis.suppressed:
        out += ["", "## Suppressed (accepted)", ""]
        out += [f"- {md_escape(line)}" for line in _suppressed_lines(diagnosis)]
    out += [f"- Rule error: {md_escape(e)}" for e in diagnosis.rule_errors]
    return "\n".join(out) + "\n"
