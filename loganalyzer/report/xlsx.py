"""The report as an Excel workbook for admins who filter and sort in a spreadsheet.

One sheet per table of the report model (summary, findings, every affected person, evidence,
every cycle, unexplained failures and skips, unexplained warnings when there are some,
suppressed; the comparison with --compare-previous, the configuration findings with --config),
each a pandas DataFrame
written through openpyxl, with a frozen header row, an auto-filter and column widths fitted to
the content. Figures are numbers, so Excel sorts, sums and charts them: counts are integers,
a rate is a fraction of one with a percent format (0.255 shown as 25.5%; the events it counts
in the Summary's Note column), a cycle's duration a time span; the model carries each number
beside the text the pages show (``KeyFigure.number``, ``CycleRow.length``). Dates stay text as
the pages write them. Text from the logs that starts like a
formula gets a leading quote, as in Markdown, so Excel shows it instead of running it (the tool's
own notes do not: "--since 7d counts back ..." is not a formula; they are stored as text cells,
which Excel never evaluates); control characters, which the file format cannot hold, are
dropped.
"""

from __future__ import annotations

import io
import re
from datetime import timedelta
from typing import TYPE_CHECKING

from loganalyzer.engine import EVIDENCE_LIMIT
from loganalyzer.markdown import neutralise_formula
from loganalyzer.report.model import Comparison, KeyFigure, Report
from loganalyzer.textsafe import visible

if TYPE_CHECKING:
    import pandas as pd

MAX_WIDTH = 80
PERCENT = "0.0%"  # a rate rounded as the pages round it
DURATION = "[h]:mm:ss"  # a time span, not a time of day: 25 hours stay 25:00:00
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class _Own(str):
    """Text the tool wrote itself: no formula guard."""


class _Share(float):
    """A rate as a fraction of one (0.255), which the sheet shows as a percentage (25.5%)."""


def _steps(view) -> str:
    return ", ".join(f"{s.id} {s.title}".strip() for s in view.steps) or "none"


def tables(report: Report) -> dict[str, pd.DataFrame]:
    """Sheet name -> table, in workbook order."""
    import pandas as pd  # loaded only when a workbook is written: it costs 0.3 s of start-up

    views = [*report.findings, *report.notices]
    about = [("Title", report.title), ("Period", report.period),
             ("Verdict", report.verdict), ("Why", report.verdict_reason),
             ("Generated", report.generated_at), ("Tool version", report.tool_version)]
    if report.redacted:
        about.append(("Personal data", "redacted: names, user principal names, email "
                      "addresses and object ids are replaced by stable pseudonyms"))
    notes = [("Note", _Own(note)) for note in report.notes]
    notes.append(("Evidence sheet", f"a sample of at most {EVIDENCE_LIMIT} events per "
                  "finding; Findings gives every finding's count"))
    summary = [*((item, value, None) for item, value in about),
               *((f.label, _figure(f), f.note or None) for f in report.figures),
               *((item, value, None) for item, value in notes)]
    sheets = {
        # object: keeps _Own and _Share
        "Summary": pd.DataFrame(summary, columns=["Item", "Value", "Note"], dtype=object),
        "Findings": pd.DataFrame(
            [(v.rule_id, v.severity, v.kind, v.change, v.title, v.message, v.caused_by,
              _steps(v), v.events, len(v.affected), v.cycles, v.first_seen, v.last_seen,
              v.remediation) for v in views],
            columns=["Rule", "Severity", "Kind", "Change", "Title", "Message", "Caused by",
                     "Guide steps", "Events", "Affected", "Cycles", "First seen", "Last seen",
                     "Fix"]),
        "Affected": pd.DataFrame(
            [(v.rule_id, a.id, a.type, a.display_name, a.events)
             for v in views for a in v.affected],
            columns=["Rule", "Identity", "Type", "Display name", "Events"]),
        "Evidence": pd.DataFrame(
            [(v.rule_id, e.time, e.action, e.status, _int(e.http_status), e.error_code,
              e.reason, e.cycle_id, e.change_id, e.activity_id)
             for v in views for e in v.evidence],
            columns=["Rule", "Time (UTC)", "Action", "Status", "HTTP", "Error code", "Reason",
                     "Cycle id", "Change id", "Activity id"]),
        "Cycles": pd.DataFrame(
            [(c.start, c.length, c.events, c.success, c.failure, c.skipped, c.other,
              c.halted, c.cycle_id) for c in report.cycles],
            columns=["Start (UTC)", "Duration", "Events", "Success", "Failure", "Skipped",
                     "Other", "Halted", "Cycle id"]),
        "Unexplained": pd.DataFrame(
            [(u.error_code, _int(u.http_status), u.count, u.affected, u.sample_reason)
             for u in report.unexplained],
            columns=["Error code", "HTTP", "Failures", "Objects", "Sample reason"]),
        "Unexplained skips": pd.DataFrame(
            [(u.skip_reason, u.count, u.affected, u.sample_text)
             for u in report.unexplained_skips],
            columns=["Skip reason", "Skips", "Objects", "Sample text"]),
    }
    if report.unexplained_warnings:  # only when there are some: they did not fail
        sheets["Unexplained warnings"] = pd.DataFrame(
            [(u.error_code, _int(u.http_status), u.count, u.affected, u.sample_reason)
             for u in report.unexplained_warnings],
            columns=["Error code", "HTTP", "Warnings", "Objects", "Sample reason"])
    sheets["Suppressed"] = pd.DataFrame(
        [(s.rule_id, s.severity, s.title, s.events, s.affected, s.source)
         for s in report.suppressed],
        columns=["Rule", "Severity", "Title", "Events", "Affected", "Accepted by"])
    if report.comparison is not None:  # --compare-previous
        sheets["Comparison"] = _comparison(report.comparison, report.events)
    if report.configuration is not None:  # with --config, or --graph and an app
        sheets["Configuration"] = _configuration(report.configuration.findings)
    return sheets


def _configuration(findings) -> pd.DataFrame:
    """One row per configuration finding. A check accepted by --ignore or a baseline stays
    listed, as on the pages, and says what accepted it: without that column a sheet of
    high findings sits beside a healthy verdict with nothing to reconcile them."""
    import pandas as pd

    return pd.DataFrame(
        [(f.check_id, f.severity, f.title, f.message, ", ".join(f.guide_steps),
          ", ".join(f.log_rules), f.remediation, f.accepted) for f in findings],
        columns=["Check", "Severity", "Title", "Message", "Guide steps", "Log rules", "Fix",
                 "Accepted by"])


def _comparison(comparison: Comparison, events_now: int) -> pd.DataFrame:
    """The periods' events and failure rates, then one row per rule (new, resolved, not
    retested or ongoing) with its events, each before and now as numbers in the same two
    columns."""
    import pandas as pd

    rows = [("", "Previous period", comparison.previous_period, None, None),
            ("", "Events", None, comparison.previous_events, events_now),
            ("", "Failure rate", comparison.failure_rate_change,
             _percent(comparison.failure_percent_before), _percent(comparison.failure_percent_now))]
    if comparison.partial:
        rows.append(("", "No finding is called new", comparison.partial, None, None))
    if comparison.quiet:
        rows.append(("", comparison.quiet_label, comparison.quiet, None, None))
    for change, briefs in (("new", comparison.new), ("resolved", comparison.resolved),
                           ("not retested", comparison.not_retested),
                           ("ongoing", comparison.ongoing)):
        rows += [(change, b.rule_id, f"{b.title}: {b.message}", b.events_before, b.events_now)
                 for b in briefs]
    return pd.DataFrame(rows, columns=["Change", "Rule", "Finding", "Before", "Now"],
                        dtype=object)  # keeps _Share


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() else None


def _figure(figure: KeyFigure) -> str | int | float:
    """A key figure's cell: its number where it has one, else its words."""
    if figure.number is None:
        return figure.value
    return _Share(figure.number) if figure.share else figure.number


def _percent(percent: float | None) -> _Share | None:
    """The comparison's per cent (rounded to a tenth, as the format shows it) as a share."""
    return None if percent is None else _Share(percent / 100)


def _cell(value):
    """A cell's value: a formula made inert, control and bidi characters shown as escapes
    (``visible``, as in every output), and what XML cannot hold dropped."""
    if isinstance(value, str):
        text = _ILLEGAL.sub("", visible(value))
        return text if isinstance(value, _Own) else neutralise_formula(text)
    return value


def _number_formats(frame: pd.DataFrame) -> dict[tuple[int, int], str]:
    """(row, column) of the sheet -> number format, for each rate and duration: the file holds
    both as bare numbers (0.255; a duration in days), which Excel shows right only with one."""
    return {(row, column): PERCENT if isinstance(value, _Share) else DURATION
            for column, name in enumerate(frame.columns, 1)
            for row, value in enumerate(frame[name], 2)  # under the header row
            if isinstance(value, _Share | timedelta)}


def render_xlsx(report: Report) -> bytes:
    """The workbook's bytes."""
    import pandas as pd
    from openpyxl.utils import get_column_letter

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in tables(report).items():
            formats = _number_formats(frame)  # before pandas turns a _Share into a float
            frame = frame.map(_cell).astype({c: "Int64" for c in ("HTTP",) if c in frame})
            frame.to_excel(writer, sheet_name=name, index=False, freeze_panes=(1, 0))
            sheet = writer.sheets[name]
            for row in sheet.iter_rows():  # the tool's notes, unguarded, may begin with a file
                for cell in row:  # name such as "=1+2.csv": text, never a formula
                    if cell.data_type == "f":
                        cell.data_type = "s"
            for (row, column), number_format in formats.items():
                sheet.cell(row, column).number_format = number_format
            last = get_column_letter(len(frame.columns))
            sheet.auto_filter.ref = f"A1:{last}{len(frame) + 1}"
            for i, column in enumerate(frame.columns, 1):
                longest = max([len(str(column)), *(len(str(v)) for v in frame[column])])
                sheet.column_dimensions[get_column_letter(i)].width = min(MAX_WIDTH, longest + 2)
    return buffer.getvalue()
