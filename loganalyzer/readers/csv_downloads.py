"""The portal CSV files of one call, paired into downloads (one main file and its children).

The portal writes at most 100,000 records per file, so a month of a large tenant arrives as
many downloads of three files each. Reading them one download at a time keeps memory bounded
by one download, so each steps or properties file must be given to the right main file.

The files of one download share a name once the child's own word is taken out
(``ProvisioningLogs_ProvisioningSteps_2026-11-01.csv`` -> ``ProvisioningLogs_2026-11-01.csv``,
``ProvisioningLogs_ModifiedProperties (1).csv`` -> ``ProvisioningLogs (1).csv``), in the same
folder or archive. That is tried first because it costs nothing; a child whose name finds no
single main file is given to the main file holding most of its change IDs (the documented
join key), read for that purpose. A child that matches no main file either way is said in a
note naming it, never dropped silently; without any main file at all it is an input error.
A download given twice (the .zip beside its extracted files) is found here too, by its bytes.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from dataclasses import dataclass, field

import polars as pl
import pyarrow as pa

from loganalyzer.problems import InputError, Problem, unread_files
from loganalyzer.readers.csv_headers import CsvKind
from loganalyzer.readers.csv_portal import PortalFile
from loganalyzer.readers.sources import Source
from loganalyzer.wording import verb

# the word a child file adds to its download's name, with the separator before it
_CHILD_WORDS = {
    CsvKind.STEPS: re.compile(r"[ _.-]?provisioning[ _-]?steps", re.IGNORECASE),
    CsvKind.PROPERTIES: re.compile(r"[ _.-]?modified[ _-]?properties", re.IGNORECASE),
}
_SUFFIXES = re.compile(r"(\.(csv|tsv|txt))?(\.gz)?$", re.IGNORECASE)
_FOLDER_END = re.compile(r"^(.*[/\\!])?(.*)$", re.DOTALL)


@dataclass
class Download:
    """One portal download: a main file and the steps/properties files that go with it."""

    main: PortalFile
    children: list[PortalFile] = field(default_factory=list)

    @property
    def files(self) -> list[PortalFile]:
        return [self.main, *self.children]

    def has(self, kind: CsvKind) -> bool:
        return any(child.kind is kind for child in self.children)


def name_key(file: PortalFile) -> tuple[str, str]:
    """(folder or archive, name without extension or the child's word), case-folded."""
    match = _FOLDER_END.match(file.name)
    assert match is not None  # the pattern matches every string
    folder, base = match.group(1) or "", _SUFFIXES.sub("", match.group(2))
    if file.kind in _CHILD_WORDS:
        base = _CHILD_WORDS[file.kind].sub("", base, count=1)
    return folder.casefold(), base.casefold()


def pair(files: list[PortalFile], notes: list[str]) -> list[Download]:
    """The downloads among ``files``, in the order their main files were given."""
    mains = [f for f in files if f.kind is CsvKind.MAIN]
    children = [f for f in files if f.kind is not CsvKind.MAIN]
    if not mains:
        _refuse_without_main(children[0], notes)
    downloads = [Download(main) for main in mains]
    by_name: dict[tuple[str, str], list[Download]] = defaultdict(list)
    for download in downloads:
        by_name[name_key(download.main)].append(download)
    unpaired = []
    for child in children:
        named = by_name.get(name_key(child), [])
        if len(named) == 1:
            named[0].children.append(child)
        else:
            unpaired.append(child)
    if unpaired:
        _pair_by_change_ids(unpaired, downloads, notes)
    return downloads


def _refuse_without_main(child: PortalFile, notes: list[str]) -> None:
    """No main file: none was given, or a folder held one that could not be read (Excel
    saved it in ANSI), which is then the error to fix."""
    unread = unread_files(notes)
    raise InputError(
        child.name,
        f"is the {_what(child)} file of a portal CSV download, but its main ProvisioningLogs "
        + (f"file could not be read: {unread}" if unread else
           "file was not given (expected all three files of the download, or its .zip)"),
    )


def _what(child: PortalFile) -> str:
    return child.kind.value.removeprefix("portal CSV (").rstrip(")")


def _pair_by_change_ids(children: list[PortalFile], downloads: list[Download],
                        notes: list[str]) -> None:
    """Each child to the main file holding most of its change IDs; on a tie, to a main file
    without a child of that kind yet, then to one in the same folder, then to the first."""
    main_ids = [change_ids(d.main).implode() for d in downloads]
    for child in children:
        ids = change_ids(child)
        folder = name_key(child)[0]
        scores = [
            (int(ids.is_in(known).sum()), not download.has(child.kind),
             name_key(download.main)[0] == folder, -index)
            for index, (download, known) in enumerate(zip(downloads, main_ids, strict=True))
        ]
        best = max(scores)
        if best[0]:
            downloads[-best[3]].children.append(child)
        elif ids.is_empty():
            notes.append(f"{child.name}: the {_what(child)} file of a portal CSV download holds "
                         "no row with a change ID and shares no main file's name; not used")
        else:
            notes.append(
                f"{child.name}: is the {_what(child)} file of a portal CSV download whose main "
                f"ProvisioningLogs file was not given (no main file shares its name or any of "
                f"its {len(ids):,} change IDs); its rows are not used"
            )


def copies(groups: list[list[Source]], notes: list[str]) -> set[int]:
    """The groups (a download's files, a Log Analytics file) whose every file is byte for byte
    a file of one earlier group: the .zip beside its extracted files, a download saved twice.
    They are left out with a note; events repeated in downloads that only overlap (two date
    ranges) are read, and ingest keeps the first copy of each event id."""
    left_out: set[int] = set()
    for index, group in enumerate(groups):
        for earlier in range(index):
            if earlier not in left_out and _same_files(group, groups[earlier]):
                left_out.add(index)
                same = verb(len(group), "file", "files")
                notes.append(f"{group[0].name}: the same {same} as {groups[earlier][0].name}, "
                             "already read from another file; used once")
                break
    return left_out


def _same_files(group: list[Source], earlier: list[Source]) -> bool:
    if len(group) != len(earlier):
        return False
    sizes = sorted(s.path.stat().st_size for s in group)
    if sizes != sorted(s.path.stat().st_size for s in earlier):
        return False
    return sorted(map(_digest, group)) == sorted(map(_digest, earlier))


def _digest(source: Source) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with open(source.path, "rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def change_ids(file: PortalFile) -> pl.Series:
    """The distinct change IDs of a file (stripped, lower-cased: GUIDs in any case, none
    empty): only that column is parsed, and a file pyarrow cannot parse is read row by row."""
    index = file.columns.positions.get("changeId")
    if index is None:
        return pl.Series("changeId", [], pl.Utf8)
    try:
        found = file.table.text_columns(only=index).to_series()
    except (pa.ArrowException, OSError):  # a cut row, bytes that are not UTF-8, ...
        found = pl.Series([row.cells[index] for row in file.table.rows()
                           if not isinstance(row, Problem)], dtype=pl.Utf8)
    found = found.str.strip_chars().str.to_lowercase()
    return found.filter(found != "").unique()
