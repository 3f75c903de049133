"""Logs and configuration together, for `diagnose`, `report` and `why` with ``--config DIR``
(or ``--graph`` with an app chosen, when the permissions allow).

The configuration findings get their own section, and a log finding whose cause a
configuration finding confirms says so in its message ("Confirmed by the configuration:
CC003 userName is mapped Direct [userPrincipalName] …"). The configuration's sync job is the
log rules' job status when no ``--job-status`` is given (``configured_job``). The commands call
``load``, ``configured_job`` and then ``confirm``; the output modules only add the section.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from diagnostics.config_rules.cc015_job_quarantined_or_stopped import ID as QUARANTINE_CHECK
from diagnostics.facts.job_status import JobStatus, parse_job_status
from loganalyzer.config.check import ConfigResult, run_checks
from loganalyzer.config.model import to_json
from loganalyzer.config.render import confirmation, render_markdown, render_terminal


def load(config_dir: Path | None, graph_target: Any, connection: Any,
         note: Callable[[str], None]) -> ConfigResult | None:
    """The checked configuration: from ``config_dir`` (InputError when unusable), else from
    Graph for ``graph_target`` (an ``AppTarget``) where Graph allows; else None."""
    if config_dir is not None:
        from loganalyzer.config.files import read_config_dir

        return run_checks(read_config_dir(config_dir, note))
    if graph_target is None:
        return None
    from loganalyzer.graph.client import GraphError
    from loganalyzer.graph.config_fetch import fetch_config

    try:
        return run_checks(fetch_config(connection, graph_target)[1])
    except GraphError as exc:
        note(f"configuration not checked: {exc}")
        return None


def configured_job(result: ConfigResult | None,
                   logged_jobs: Callable[[], Iterable[str]]) -> JobStatus | None:
    """The configuration's sync job as the log rules' job status (quarantine in the key
    figures and FC016, a last run that failed in the verdict), as ``--job-status`` gives it:
    the job the events are of (the only one when no event names a job). None without such a
    job, or when ``--ignore CC015`` accepted its state: the admin knows, and the verdict must
    not fail for it all the same. ``logged_jobs`` is asked only with a configuration: it
    reads every event's job."""
    if result is None or result.snapshot is None:
        return None
    if any(f.check_id == QUARANTINE_CHECK and f.accepted for f in result.findings):
        return None
    jobs = result.snapshot.job_models()
    logged = {job.lower() for job in logged_jobs()}
    chosen = [j for j in jobs if (j.id or "").lower() in logged] if logged else jobs
    return parse_job_status(to_json(chosen[0])) if len(chosen) == 1 else None


def confirm(items: Iterable[Any], result: ConfigResult | None) -> None:
    """Append the confirming configuration finding to each log finding's (or why
    explanation's) message; ``items`` have ``rule_id`` and ``message``."""
    for item in items:
        text = confirmation(item.rule_id, result) if item.rule_id else None
        if text:
            item.message = f"{item.message.rstrip()} {text}"


def without_people(result: ConfigResult) -> ConfigResult:
    """For ``--redact``: findings that name people keep their counts, not the names."""
    findings = []
    for finding in result.findings:
        if "sample" in finding.details:
            evidence = [replace(e, current=e.current.split(":")[0]) for e in finding.evidence]
            finding = replace(finding, message=finding.message.split(" (")[0] + ".",
                              evidence=evidence,
                              details={k: v for k, v in finding.details.items()
                                       if k != "sample"})
        findings.append(finding)
    return replace(result, findings=findings)


def section(text: str, result: ConfigResult | None, fmt: str) -> str:
    """``text`` (terminal or Markdown output) with the configuration section appended."""
    if result is None:
        return text
    if fmt == "md":
        return f"{text.rstrip()}\n\n{render_markdown(result, level=2)}"
    return f"{text.rstrip()}\n\n{render_terminal(result, title='CONFIGURATION')}"


def terminal_section(answer: RenderableType, result: ConfigResult | None) -> RenderableType:
    """A rich terminal answer (``diagnose``, ``why``) with the configuration section after it."""
    if result is None:
        return answer
    return Group(answer, Text(""), Text(render_terminal(result, title="CONFIGURATION")))
