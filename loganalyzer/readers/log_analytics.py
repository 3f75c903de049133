"""Log Analytics AADProvisioningLogs exports (being written)."""

from __future__ import annotations

from collections.abc import Iterator

from loganalyzer.problems import InputError, Problem
from loganalyzer.readers.sources import Source


def read_json(source: Source) -> Iterator[dict | Problem]:
    raise InputError(source.name, "Log Analytics exports are not supported yet")
