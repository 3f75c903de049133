"""CSV exports: the Entra admin center download (three files) and Log Analytics CSV.

Every CSV source of one call arrives here together, because the portal download splits each
event over three files. Each file is classified by its header, never its name: a Log
Analytics ``AADProvisioningLogs`` export goes row by row to ``log_analytics``; the portal
files go to ``csv_portal`` to be joined on change ID.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

from loganalyzer.problems import InputError, Problem
from loganalyzer.readers import log_analytics
from loganalyzer.readers.csv_headers import EXPECTED, CsvKind, classify_portal, fold_header
from loganalyzer.readers.csv_portal import PortalFile, PortalReader
from loganalyzer.readers.csv_table import CsvTable
from loganalyzer.readers.records import Item
from loganalyzer.readers.sources import Source
from loganalyzer.wording import plural


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
        found = _classify(CsvTable.open(source))
    except InputError:
        return None
    return found.value if isinstance(found, CsvKind) else found.kind.value


def read_csv_sources(sources: list[Source]) -> tuple[Iterator[Item], list[str]]:
    """Every CSV source of one call -> RAW rows and Problems, plus notes filled while iterating.

    Headers are read (and bad files refused) at once; rows are read as the iterator is used.
    """
    notes: list[str] = []
    log_analytics_tables: list[CsvTable] = []
    portal_files: list[PortalFile] = []
    for source in sources:
        try:
            table = CsvTable.open(source)
            found = _classify(table)
            if not isinstance(found, PortalFile):
                _require_id(table)
        except InputError as exc:
            if not source.in_folder:
                raise
            # a folder or .zip may hold other CSV files (an HR extract): say so, read the rest
            notes.append(f"skipped {source.name}: {exc.message}")
            continue
        if isinstance(found, PortalFile):
            portal_files.append(found)
        else:
            log_analytics_tables.append(table)
    portal = PortalReader(portal_files, notes) if portal_files else None

    def items() -> Iterator[Item]:
        for table in log_analytics_tables:
            yield from _log_analytics_rows(table, notes)
        if portal is not None:
            yield from portal.read()

    return _first_copies(items(), notes), notes


def _first_copies(items: Iterator[Item], notes: list[str]) -> Iterator[Item]:
    """An event given in two files (the .zip and its extracted files, two overlapping exports)
    is passed on once; the copies are counted in a note. An id repeated inside one file is
    passed on: ingest counts it among the duplicate events."""
    seen: dict[str, str] = {}  # event id -> the file it was first read from
    copies: Counter[str] = Counter()
    for item in items:
        if isinstance(item, dict):
            first = seen.setdefault(item["id"], item["source_file"])
            if first != item["source_file"]:
                copies[item["source_file"]] += 1
                continue
        yield item
    for file, count in copies.items():
        notes.append(f"{file}: {plural(count, 'event')} already read from another file; "
                     "used once")


def _require_id(table: CsvTable) -> None:
    if "id" not in {fold_header(h) for h in table.header}:
        raise InputError(
            table.source.name,
            "is a Log Analytics export without the Id column (expected Id and TimeGenerated; "
            "export all columns, or keep Id in the query's project)",
        )


def _log_analytics_rows(table: CsvTable, notes: list[str]) -> Iterator[Item]:
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
