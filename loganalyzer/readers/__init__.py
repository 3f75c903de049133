"""Readers: one module per source format. Only readers know raw shapes.

Every reader yields batches of ``schema.RAW_SCHEMA`` rows (Graph-shaped records) and reports
records it could not use as ``Problem``s, and file-level remarks and fields it left out of a
kept record (``Ignored``) as notes: only skipped records count as problems.
"""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import polars as pl

from loganalyzer.problems import Ignored, InputError, Problem
from loganalyzer.readers import csv_logs, log_analytics
from loganalyzer.readers.json_careful import read_careful
from loganalyzer.readers.on_demand import read_on_demand
from loganalyzer.readers.records import Item, records_to_frame
from loganalyzer.readers.sniff import Kind, sniff
from loganalyzer.readers.sources import Source

log = logging.getLogger(__name__)

BATCH_ROWS = 20_000
IGNORED_SHOWN = 20  # per file: a file whose every record has the same fault says so 20 times


@dataclass
class ReadLog:
    """What reading said besides the records: skipped records, remarks, kinds seen."""

    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # source name -> Kind value
    ignored: Counter[str] = field(default_factory=Counter)  # file -> fields left out

    def add_ignored(self, item: Ignored) -> None:
        """A note per ignored field, up to IGNORED_SHOWN per file; the rest are counted."""
        self.ignored[item.file] += 1
        if self.ignored[item.file] <= IGNORED_SHOWN:
            self.notes.append(str(item))

    def count_unshown_ignored(self) -> None:
        for file, count in self.ignored.items():
            if count > IGNORED_SHOWN:
                self.notes.append(
                    f"{file}: {count - IGNORED_SHOWN} more field(s) of the wrong type ignored "
                    f"({count} in all); their records are kept"
                )


def _batched(items: Iterator[Item], read_log: ReadLog) -> Iterator[pl.DataFrame]:
    rows: list[dict] = []
    for item in items:
        if isinstance(item, Problem):
            read_log.problems.append(item)
            continue
        if isinstance(item, Ignored):
            read_log.add_ignored(item)
            continue
        rows.append(item)
        if len(rows) >= BATCH_ROWS:
            yield records_to_frame(rows)
            rows = []
    if rows:
        yield records_to_frame(rows)


def _is_envelope_lines(source: Source) -> bool:
    head = source.head(4096).decode("utf-8", errors="ignore")
    return '"properties"' in head and '"category"' in head


# the diagnostic-settings spelling (formats reference 3.1): capitalised keys, numbered enums
_DIAGNOSTIC_SPELLING = re.compile(r'"(Id|Name|Status|Type)"\s*:')


def _is_diagnostic_spelling(source: Source) -> bool:
    return bool(_DIAGNOSTIC_SPELLING.search(source.head(65536).decode("utf-8", errors="ignore")))


def _read_json(source: Source, kind: Kind, read_log: ReadLog) -> Iterator[pl.DataFrame]:
    """Fast reader first; on any refusal, the careful reader continues after what was read.

    The fast reader matches keys case-sensitively: envelopes in the diagnostic-settings
    spelling get their own columns, and that spelling anywhere else goes to the careful reader,
    which folds every spelling."""
    done = 0
    envelope, diagnostic = _is_envelope_lines(source), _is_diagnostic_spelling(source)
    if kind is not Kind.JSON_OBJECT and (envelope or not diagnostic):
        from loganalyzer.readers import json_fast  # DuckDB loads only when JSON is read

        try:
            for batch in json_fast.read_fast(source, kind, envelope, BATCH_ROWS, diagnostic):
                done += batch.height
                yield batch
            return
        except json_fast.REFUSALS as exc:
            log.info("fast JSON reader refused %s (%s); reading record by record", source.name, exc)
    yield from _batched(_after(read_careful(source, kind), done), read_log)


def _after(items: Iterator[Item], done: int) -> Iterator[Item]:
    """What the fast reader did not already yield: rows after record ``done``, the fields
    ignored on them (which follow their row), and every Problem."""
    new_record = True
    for item in items:
        if isinstance(item, dict):
            new_record = item["source_record"] > done
        if new_record or isinstance(item, Problem):
            yield item


def _whole_json(source: Source) -> dict:
    with source.open_binary() as handle:
        return json.loads(handle.read().decode("utf-8-sig"))


def read_sources(sources: list[Source], read_log: ReadLog) -> Iterator[pl.DataFrame]:
    """Read every source, whatever its kind, as RAW_SCHEMA batches."""
    csv_sources: list[Source] = []
    for source in sources:
        try:
            kind = sniff(source)
        except InputError as exc:
            if not source.in_folder:
                raise
            # a folder may hold other files (a job status, a manifest): say so, read the rest
            read_log.notes.append(f"skipped {source.name}: {exc.message}")
            continue
        read_log.kinds[source.name] = kind.value
        if kind is Kind.CSV:
            csv_sources.append(source)
        elif kind is Kind.LOG_ANALYTICS_JSON:
            yield from _batched(log_analytics.read_json(source), read_log)
        elif kind is Kind.ON_DEMAND:
            yield from _batched(read_on_demand(source, _whole_json(source)), read_log)
        else:
            yield from _read_json(source, kind, read_log)
    if csv_sources:
        items, notes = csv_logs.read_csv_sources(csv_sources)
        yield from _batched(items, read_log)
        read_log.notes.extend(notes)
        for source in csv_sources:
            read_log.kinds[source.name] = csv_logs.describe(source)
    read_log.count_unshown_ignored()


__all__ = ["InputError", "ReadLog", "read_sources"]
