"""How bad input is reported: per-record problems that are kept, and errors that stop the run."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from loganalyzer.wording import plural, verb

if TYPE_CHECKING:
    from loganalyzer.file_order import FileEnds


@dataclass(frozen=True)
class Problem:
    """One input record that could not be used, and why."""

    file: str
    location: str  # "record 17", "line 42", "byte 1033"
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.message}"


@dataclass(frozen=True)
class Ignored:
    """One field of a kept record that was ignored because it had the wrong type, and why."""

    file: str
    location: str
    message: str  # "'provisioningSteps' is a string, expected an array of steps; ignored"

    def __str__(self) -> str:
        return f"{self.file}: {self.location}: {self.message}"


class KeptEventsNote(str):
    """A note on what a file's events lack (a portal CSV download without its steps file). It
    holds only while some of those events are kept: when every one repeats an event read from
    another input (a JSON copy with its steps), the analysis never used them, and the note
    would say something is unknown that is known (``ReadLog.settled_notes``)."""

    file: str

    def __new__(cls, file: str, text: str) -> KeptEventsNote:
        note = super().__new__(cls, text)
        note.file = file
        return note

    def __getnewargs__(self) -> tuple[str, str]:  # copied or pickled whole, file and all
        return self.file, str(self)


class InputError(Exception):
    """Input that cannot be used at all. The CLI prints it on one line, then ``choices`` one
    per line (the apps to pick from, say), and exits with code 2."""

    def __init__(self, file: str, message: str, location: str | None = None,
                 choices: Sequence[str] = ()):
        self.file = file
        self.location = location
        self.message = message
        self.choices = list(choices)
        where = f"{file}: {location}" if location else file
        super().__init__(f"{where}: {message}")


# How to see every skipped record: stores keep them all; other inputs can be ingested into one.
ALL_IN_MANIFEST = "all are listed in the store's manifest.json"
ALL_VIA_INGEST = (
    "run `loganalyzer ingest -o STORE` on the same inputs to list them all in STORE/manifest.json"
)


# the end of a JSON reader's problem when nothing after the broken record could be read
CUT_OFF = "the rest of the file holds no further readable record"
# why a file is cut off and what to do, said of every cut (the unread note, an array cut
# right after its '[')
CUT_OFF_ADVICE = "a download or copy that did not finish? export it again"


def unread_note(problems: Sequence[Problem], files_shown: int = 3) -> str:
    """What every output says of the records it could not read: its counts leave them out;
    in which files (a scheduled run's stderr, which lists them, is gone). A file cut off
    (a download that did not finish) lost an unknown number of records after the break,
    which the count cannot show: it is named."""
    count = len(problems)
    by_file = Counter(p.file for p in problems).most_common()
    files = ", ".join(f"{file} {n:,}" for file, n in by_file[:files_shown])
    more = f" and {plural(len(by_file) - files_shown, 'more file')}" \
        if len(by_file) > files_shown else ""
    cut = [f"; {where}: whatever followed is missing too ({CUT_OFF_ADVICE})"
           for where in cut_off(problems)]
    return (f"{plural(count, 'input record')} could not be read and "
            f"{verb(count, 'is', 'are')} not counted ({files}{more})" + "".join(cut[:files_shown]))


def cut_off(problems: Sequence[Problem]) -> list[str]:
    """'export.json is cut off at record 549' for each file that ends in a broken record:
    how many records followed is not known, so what was read cannot vouch for the period
    (``verdict``: never healthy)."""
    return [f"{p.file} is cut off at {p.location.split(' (')[0]}"
            for p in problems if p.message.endswith(CUT_OFF)]


# the end of a cut that ``across_cuts`` found another input reaching across
_ACROSS = " and what followed is read from there"


def across_cuts(problems: Sequence[Problem], *ends: FileEnds) -> list[Problem]:
    """``problems``, each cut (``cut_off``) that another input reaches across said so instead
    of cut: a re-export of the same days, given with the cut file or appended to the store it
    went into, holds records on both sides of where the cut file stopped, so what the cut
    lost is read from there (the next week's export, which starts after it, does not).
    ``ends``: the files' first and last records and oldest and newest times, a later one's
    file replacing an earlier's (the spans of records read before de-duplication)."""
    file_times = {file: t for e in ends for file, t in e.times().items()}
    spans = {file: span for e in ends for file, span in e.spans().items()}

    def reached_by(problem: Problem) -> str | None:
        first, last = file_times.get(problem.file, (None, None))
        if first is None or last is None:
            return None
        for other, (low, high) in spans.items():
            # the side the cut lost: after an oldest-first file, before a newest-first one
            lost_side = high > last if first < last else low < last if first > last else (
                low < last < high)
            if other != problem.file and low <= last <= high and lost_side:
                return other
        return None

    # a store's manifest already said so (the store given with the cut file it was made
    # from): its file's spans there lack the re-export's copies, which it dropped
    said = {(p.file, p.location) for p in problems if p.message.endswith(_ACROSS)}
    settled = []
    for problem in problems:
        if not problem.message.endswith(CUT_OFF):
            settled.append(problem)
        elif (problem.file, problem.location) not in said:
            other = reached_by(problem)
            settled.append(replace(problem, message=(
                f"{problem.message}, but {other} reaches across the cut (an export of the "
                f"same days?){_ACROSS}")) if other else problem)
    return settled


def cuts_named(cuts: Sequence[str]) -> str:
    """The first cut ``cut_off`` names, and how many more files are cut."""
    more = f" (and {plural(len(cuts) - 1, 'more file')})" if len(cuts) > 1 else ""
    return cuts[0] + more


def cut_within(problems: Sequence[Problem], file_times: Mapping[str, tuple[datetime, datetime]],
               start: datetime | None = None, end: datetime | None = None) -> list[str]:
    """The inputs cut off (``cut_off``) whose lost events may lie between ``start`` and
    ``end`` (None: no bound). ``file_times`` gives each file's first and last record read: a
    file read oldest first lost what came after its last record, one read newest first (the
    portal's download) what came before it, so a span wholly on the other side lost
    nothing. A file of which nothing was read, or whose ends share a second, may have lost
    anything."""
    def reaches(problem: Problem) -> bool:
        first, last = file_times.get(problem.file, (None, None))
        if first is None or first == last:
            return True
        if first < last:
            return end is None or end > last
        return start is None or start < last

    return cut_off([p for p in problems if reaches(p)])


_SKIPPED = "skipped "


def skipped_note(name: str, why: str) -> str:
    """The note for a file a folder or archive held that could not be read, kept as a note
    (the rest is read) and named again if nothing else was (``skipped_files``)."""
    return f"{_SKIPPED}{name}: {why}"


def skipped_files(notes: list[str]) -> list[str]:
    """"name: why" of every file ``skipped_note`` named."""
    return [n.removeprefix(_SKIPPED) for n in notes if n.startswith(_SKIPPED)]


def unread_files(notes: list[str], limit: int = 3) -> str:
    """The first ``limit`` skipped files and why, for an error about what is missing."""
    skipped = skipped_files(notes)
    return "; ".join(skipped[:limit]) + ("; …" if len(skipped) > limit else "")


def summarize_problems(
    problems: list[Problem], *, where_all: str, limit: int = 5
) -> list[str]:
    """Short lines for the terminal: count per file, then the first few and ``where_all``
    (how to see the rest) when there are more."""
    if not problems:
        return []
    by_file = Counter(p.file for p in problems)
    lines = [f"skipped {plural(n, 'record')} in {f}" for f, n in by_file.items()]
    lines += [f"  {p}" for p in problems[:limit]]
    if len(problems) > limit:
        lines.append(f"  ... and {len(problems) - limit} more ({where_all})")
    return lines
