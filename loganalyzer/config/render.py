"""Configuration check results as terminal text or Markdown, whole or as a section.

``check`` prints the whole result; ``diagnose``, ``report`` and ``why`` add it as their
"Configuration" section and, next to a log finding, say which configuration finding confirms
its cause (``confirmation``). Every value from the configuration is escaped in Markdown.
"""

from __future__ import annotations

import textwrap
from collections import Counter

from diagnostics.guide_steps import step_label
from loganalyzer.config.check import ConfigFinding, ConfigResult
from loganalyzer.findings import SEVERITIES
from loganalyzer.markdown import md_escape
from loganalyzer.wording import plural


def _wrap(text: str, indent: str) -> list[str]:
    return textwrap.wrap(text, 100, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_on_hyphens=False, break_long_words=False) or [indent]


def headline(result: ConfigResult) -> str:
    """The findings by severity; with none, how many checks ran, since "no findings" alone
    would read as a pass when the parts the checks need were missing."""
    counts = Counter(f.severity for f in result.findings)
    ran, total = len(result.checks) - len(result.not_checked), len(result.checks)
    if not result.findings and not ran:
        return (f"Configuration ({result.source}): nothing could be checked (0 of {total} "
                "checks ran; what each one needs is listed under Not checked).")
    if not result.findings and ran < total:
        return (f"Configuration ({result.source}): no findings in the {ran} of {total} checks "
                "that ran.")
    if not result.findings:
        return f"Configuration ({result.source}): no findings."
    parts = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s])
    return f"Configuration ({result.source}): {plural(len(result.findings), 'finding')} ({parts})."


def confirmation(rule_id: str, result: ConfigResult | None) -> str | None:
    """'Confirmed by the configuration: CC003 userName is mapped Direct …' for a log rule."""
    found = result.by_log_rule().get(rule_id) if result else None
    if not found:
        return None
    return "Confirmed by the configuration: " + "; ".join(
        f"{f.check_id} {f.message.rstrip('.')}" for f in found) + "."


def _logs(log_rules: list[str]) -> str:
    """Where the logs take over from a check that could not run."""
    if not log_rules:
        return ""
    return f" (in the logs: {' and '.join(log_rules)})"


def _accepted(finding: ConfigFinding) -> str:
    """' (accepted: ignored: CC017; not in the verdict)' for an accepted finding, else ''."""
    return f" (accepted: {finding.accepted}; not in the verdict)" if finding.accepted else ""


def _steps(finding: ConfigFinding) -> str:
    return ", ".join(step_label(s) for s in finding.guide_steps)


def render_terminal(result: ConfigResult, title: str | None = None) -> str:
    lines = ([title, ""] if title else []) + [headline(result), ""]
    for f in result.findings:
        lines += _wrap(f"[{f.severity.upper()}] {f.check_id} {f.title} — step {_steps(f)}"
                       f"{_accepted(f)}", "")
        lines += _wrap(f.message, "  ")
        for e in f.evidence:
            lines += _wrap(f"{e.subject}: {e.current}  (expected: {e.expected})", "    ")
        lines += _wrap(f"Fix: {f.remediation}", "  ")
        if f.log_rules:
            lines.append(f"  In the logs: {', '.join(f.log_rules)}")
        lines.append("")
    if result.not_checked:
        lines.append("Not checked:")
        for n in result.not_checked:
            lines += _wrap(f"{n.check_id} {n.title}: {n.reason}{_logs(n.log_rules)}", "  ")
        lines.append("")
    lines.append(f"Checks run: {len(result.checks) - len(result.not_checked)} of "
                 f"{len(result.checks)}.")
    return "\n".join(lines)


def render_markdown(result: ConfigResult, level: int = 1) -> str:
    h = "#" * level
    lines = [f"{h} Configuration", "", md_escape(headline(result)), ""]
    for f in result.findings:
        lines += [f"{h}# {f.check_id} {md_escape(f.title)} ({f.severity}){_accepted(f)}", "",
                  f"Guide step: {md_escape(_steps(f))}", "", md_escape(f.message), ""]
        if f.evidence:
            lines += ["| what | current | expected |", "|---|---|---|"]
            lines += [f"| {md_escape(e.subject)} | {md_escape(e.current)} | "
                      f"{md_escape(e.expected)} |" for e in f.evidence]
            lines.append("")
        lines += [f"**Fix:** {md_escape(f.remediation)}", ""]
        if f.log_rules:
            lines += [f"In the logs: {', '.join(f.log_rules)}", ""]
    if result.not_checked:
        lines += [f"{h}# Not checked", ""]
        lines += [f"- {n.check_id} {md_escape(n.title)}: {md_escape(n.reason)}"
                  f"{_logs(n.log_rules)}" for n in result.not_checked]
        lines.append("")
    return "\n".join(lines)
