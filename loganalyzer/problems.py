"""How bad input is reported: per-record problems that are kept, and errors that stop the run."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One input record that could not be used, and why."""

    file: str
    location: str  # "record 17", "line 42", "byte 1033"
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.message}"


class InputError(Exception):
    """Input that cannot be used at all. The CLI prints it on one line and exits with code 2."""

    def __init__(self, file: str, message: str, location: str | None = None):
        self.file = file
        self.location = location
        self.message = message
        where = f"{file}: {location}" if location else file
        super().__init__(f"{where}: {message}")


def summarize_problems(problems: list[Problem], limit: int = 5) -> list[str]:
    """Short lines for the terminal: count per file and message kind, then the first few."""
    if not problems:
        return []
    by_file = Counter(p.file for p in problems)
    lines = [f"skipped {n} record(s) in {f}" for f, n in by_file.items()]
    lines += [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more (see the store's manifest.json)")
    return lines
