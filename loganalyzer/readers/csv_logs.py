"""Portal CSV downloads and Log Analytics CSV exports (being written)."""

from __future__ import annotations

from collections.abc import Iterator

from loganalyzer.problems import InputError, Problem
from loganalyzer.readers.sources import Source


def read_csv_sources(sources: list[Source]) -> tuple[Iterator[dict | Problem], list[str]]:
    raise InputError(sources[0].name, "CSV exports are not supported yet")


def describe(source: Source) -> str:
    return "CSV"
