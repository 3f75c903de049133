"""CSV exports: the Entra admin center download (three files) and Log Analytics CSV.

Every CSV source of one call arrives here together, because the portal download splits each
event over three files. Each file is classified by its header, never its name: a Log
Analytics ``AADProvisioningLogs`` export goes row by row to ``log_analytics``; the portal
files go to ``csv_downloads`` to be paired into downloads, each joined on change ID by
``csv_columnar`` (or ``csv_portal`` when that one refuses).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from loganalyzer.problems import InputError, Problem, skipped_note
from loganalyzer.readers import log_analytics
from loganalyzer.readers.csv_headers import EXPECTED, CsvKind, classify_portal, fold_header
from loganalyzer.readers.csv_portal import PortalFile
from loganalyzer.readers.csv_table import CsvTable
from loganalyzer.readers.records import Item
from loganalyzer.readers.sources import Source
from loganalyzer.textsafe import shown


def _classify(table: CsvTable) -> CsvKind | PortalFile:
    if log_analytics.is_log_analytics_header(table.header):
        return CsvKind.LOG_ANALYTICS
    portal = classify_portal(table.header)
    if portal is None:
        found = ", ".join(h.strip() for h in table.header[:12] if h.strip())
        more = f" (+{len(table.header) - 12} more)" if len(table.header) > 12 else ""
        raise InputError(
            table.source.name,
            f"is CSV but not a provisioning log export: columns found: {found}{more}; "
            f"expected {EXPECTED}",
        )
    kind, columns = portal
    return PortalFile(table, kind, columns)


def describe(source: Source) -> str | None:
    """The kind of a CSV source, for display ("portal CSV (steps)", "Log Analytics CSV");
    None for one that was skipped."""
    try:
        _, found = _open(source)
    except InputError:
        return None
    return found.value if isinstance(found, CsvKind) else found.kind.value


@dataclass
class CsvFiles:
    """The CSV sources of one call, classified by header."""

    log_analytics: list[CsvTable] = field(default_factory=list)
    portal: list[PortalFile] = field(default_factory=list)


def classify(sources: list[Source], notes: list[str]) -> CsvFiles:
    """Read every header and sort the files by kind; a file that is no provisioning log is an
    InputError, or a note when it was found in a folder or archive (an HR extract beside the
    logs)."""
    found = CsvFiles()
    for source in sources:
        try:
            table, kind = _open(source)
        except InputError as exc:
            if not source.in_folder:
                raise
            notes.append(skipped_note(source.name, exc.message))
            continue
        if isinstance(kind, PortalFile):
            found.portal.append(kind)
        else:
            found.log_analytics.append(table)
    return found


def _open(source: Source) -> tuple[CsvTable, CsvKind | PortalFile]:
    """The table and its kind; an InputError for a file that is no provisioning log."""
    table = CsvTable.open(source)
    kind = _classify(table)
    if not isinstance(kind, PortalFile):
        _require_id(table)
    return table, kind


def _require_id(table: CsvTable) -> None:
    if "id" not in {fold_header(h) for h in table.header}:
        raise InputError(
            table.source.name,
            "is a Log Analytics export without the Id column (expected Id and TimeGenerated; "
            "export all columns, or keep Id in the query's project)",
        )


def log_analytics_rows(table: CsvTable, notes: list[str]) -> Iterator[Item]:
    """One Log Analytics CSV file, row by row."""
    zoned = log_analytics.local_time_column(table.header)
    if zoned is not None:
        raise InputError(table.source.name, f"its times are not in UTC ('{shown(zoned)}'); "
                         "export it again with the portal's time zone set to UTC")
    unknown = [h.strip() for h in table.header if not log_analytics.is_known_column(h)]
    if unknown:
        notes.append(f"{table.source.name}: columns not used: {', '.join(unknown)}")
    for row in table.rows():
        if isinstance(row, Problem):
            yield row
            continue
        yield from log_analytics.record_from_row(
            dict(zip(table.header, row.cells, strict=True)), table.source.name,
            f"line {row.line}", row.number,
        )
