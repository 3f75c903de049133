"""Render a Diagnosis for people: the terminal text and a Markdown document.

Both put the findings first (guide-step order, each with its fix), then the failures no rule
explains, then what was counted as expected noise. Markdown escapes every value taken from
a log with ``markdown.md_escape`` (as the report does), since error bodies can hold ``|``,
``<``, newlines and spreadsheet formulas.
"""

from __future__ import annotations

import textwrap
from datetime import datetime

from diagnostics.guide_steps import STEPS
from loganalyzer.findings import Diagnosis, Finding
from loganalyzer.markdown import md_escape
from loganalyzer.wording import plural

AFFECTED_SHOWN = 10
WIDTH = 100


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M:%S") if value else "?"


def _steps(finding: Finding) -> str:
    if not finding.guide_steps:
        return "no guide step"
    first, *rest = finding.guide_steps
    text = f"guide step {first} ({STEPS[first]})"
    return text + (f", also {', '.join(rest)}" if rest else "")


def _headline(diagnosis: Diagnosis) -> str:
    s = diagnosis.summary
    span = s["time_range"]
    return (
        f"{plural(s['events'], 'event')}, {_when(span['start'])} to {_when(span['end'])} UTC, "
        f"{plural(s['cycles'], 'cycle')}: {plural(s['failures'], 'failure')} "
        f"({s['explained_failures']:,} explained, {s['unexplained_failures']:,} unexplained), "
        f"{s['skipped']:,} skipped."
    )


def _affected_line(finding: Finding) -> str:
    shown = [
        f"{a.display_name or a.id} ({a.events})" if a.type == "Group" else f"{a.id} ({a.events})"
        for a in finding.affected[:AFFECTED_SHOWN]
    ]
    more = len(finding.affected) - AFFECTED_SHOWN
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, WIDTH, initial_indent=indent, subsequent_indent=indent) or [indent]


def render_terminal(diagnosis: Diagnosis) -> str:
    """Plain text: findings with their fix, then unexplained failures and expected skips."""
    lines = [_headline(diagnosis), ""]
    for note in diagnosis.notes:
        lines += _wrap(f"Note: {note}.", "")
    lines += [""] if diagnosis.notes else []
    if not diagnosis.findings:
        lines += ["No findings: every failure rule is quiet.", ""]
    for f in diagnosis.findings:
        lines.append(f"[{f.severity.upper()}] {f.rule_id} {f.title} — {_steps(f)}")
        lines += _wrap(f.message, "  ")
        if f.affected:
            lines += _wrap(f"Affected ({len(f.affected)}): {_affected_line(f)}", "  ")
        if f.events:
            lines.append(
                f"  Seen {_when(f.first_seen)} to {_when(f.last_seen)} in "
                f"{plural(len(f.cycles), 'cycle')}, {plural(f.events, 'event')}"
            )
        if f.evidence:
            lines.append("  Evidence:")
        for e in f.evidence:
            http = f"HTTP {e.http_status}" if e.http_status else "no HTTP status"
            lines.append(
                f"    {_when(e.time)}  {e.action or '-'} {e.status or '-'}, {http}, "
                f"{e.error_code or 'no error code'}"
            )
            if e.reason:
                lines += _wrap(e.reason, "      ")
        lines += _wrap(f"Fix: {f.remediation}", "  ")
        lines.append("")
    lines += _unexplained_text(diagnosis)
    lines += _unexplained_skips_text(diagnosis)
    skips = diagnosis.summary["expected_skips"]
    lines.append(
        f"Expected skips (counted, not failures): {skips['redundant_export']:,} RedundantExport, "
        f"{skips['not_effectively_entitled']:,} NotEffectivelyEntitled."
    )
    lines.append(f"Rules run: {len(diagnosis.rules_run)}.")
    lines += [f"Rule error: {e}" for e in diagnosis.rule_errors]
    return "\n".join(lines)


def _unexplained_text(diagnosis: Diagnosis) -> list[str]:
    if not diagnosis.unexplained:
        return ["Unexplained failures: none.", ""]
    lines = [f"Unexplained failures ({sum(u.count for u in diagnosis.unexplained)}):"]
    for u in diagnosis.unexplained:
        lines += _wrap(
            f"{u.error_code or '(no code)'} / HTTP {u.http_status or '-'}: "
            f"{plural(u.count, 'failure')}, {plural(u.affected, 'object')}; "
            f"e.g. {u.sample_reason or '(no reason logged)'}",
            "  ",
        )
    return [*lines, ""]


def _unexplained_skips_text(diagnosis: Diagnosis) -> list[str]:
    if not diagnosis.unexplained_skips:
        return []
    total = sum(u.count for u in diagnosis.unexplained_skips)
    lines = [f"Unexplained skips ({total:,}; no rule knows these skip reasons yet):"]
    for u in diagnosis.unexplained_skips:
        lines += _wrap(
            f"{u.skip_reason}: {plural(u.count, 'skip')}, {plural(u.affected, 'object')}; "
            f"e.g. {u.sample_text or '(no description logged)'}",
            "  ",
        )
    return [*lines, ""]


def render_markdown(diagnosis: Diagnosis) -> str:
    """A Markdown document with the same content as the terminal text."""
    out = ["# Provisioning diagnosis", "", md_escape(_headline(diagnosis)), ""]
    out += [f"> **Note:** {md_escape(note)}." for note in diagnosis.notes]
    out += [""] if diagnosis.notes else []
    if not diagnosis.findings:
        out += ["No findings: every failure rule is quiet.", ""]
    for f in diagnosis.findings:
        out += [
            f"## {f.severity.upper()} · {f.rule_id} {md_escape(f.title)}",
            "",
            f"*{md_escape(_steps(f))}*",
            "",
            md_escape(f.message),
            "",
        ]
        if f.affected:
            out += [f"**Affected ({len(f.affected)}):** {md_escape(_affected_line(f))}", ""]
        if f.evidence:
            out += [
                "| time (UTC) | cycle | action | status | HTTP | error code | reason |",
                "|---|---|---|---|---|---|---|",
            ]
            out += [
                "| "
                + " | ".join(
                    md_escape(v if v is not None else "")
                    for v in (
                        _when(e.time), e.cycle_id, e.action, e.status, e.http_status,
                        e.error_code, e.reason,
                    )
                )
                + " |"
                for e in f.evidence
            ]
            out.append("")
        out += [f"**Fix:** {md_escape(f.remediation)}", ""]
    out += ["## Unexplained failures", ""]
    if diagnosis.unexplained:
        out += [
            "| error code | HTTP | failures | objects | sample reason |",
            "|---|---|---|---|---|",
        ]
        out += [
            f"| {md_escape(u.error_code or '')} | {u.http_status or ''} | {u.count} | "
            f"{u.affected} | {md_escape(u.sample_reason or '')} |"
            for u in diagnosis.unexplained
        ]
    else:
        out.append("None.")
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
    skips = diagnosis.summary["expected_skips"]
    out += [
        "",
        f"Expected skips (counted, not failures): {skips['redundant_export']:,} RedundantExport, "
        f"{skips['not_effectively_entitled']:,} NotEffectivelyEntitled. "
        f"Rules run: {len(diagnosis.rules_run)}.",
    ]
    out += [f"- Rule error: {md_escape(e)}" for e in diagnosis.rule_errors]
    return "\n".join(out) + "\n"
