"""Turn what the user named (files, folders, .zip, .gz) into a list of readable sources.

Folders mean every log file inside them; zip members are extracted (capped) to a work folder
so the fast JSON reader can read them by path; UTF-16 text (Excel "Unicode text") is
transcoded to UTF-8 once, so every reader downstream sees UTF-8. Damaged containers are read
as far as they are intact (``containers``).
"""

from __future__ import annotations

import codecs
import io
import re
import zipfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from loganalyzer.graph.state import unfinished_downloads
from loganalyzer.problems import InputError, skipped_note, unread_files
from loganalyzer.readers.containers import WORKBOOK, WORKBOOK_SUFFIXES, GzipStream, extract_zip

LOG_SUFFIXES = {".json", ".jsonl", ".ndjson", ".csv", ".tsv", ".txt", ".log", ".gz", ".zip"}
STORE_MANIFEST = "manifest.json"
STORE_MARKER = "events.parquet"


@dataclass(frozen=True)
class Source:
    """One log file as the user knows it (``name``) and where to read its bytes (``path``)."""

    name: str
    path: Path
    gzip: bool = False
    in_folder: bool = False  # found by walking a folder, not named by the user
    # what is wrong with the container, met while reading it (a note each, said once)
    damage: dict[str, None] = field(default_factory=dict, compare=False, repr=False)

    def open_binary(self):
        if self.gzip:
            return io.BufferedReader(GzipStream(self.path, self.damage), 1 << 20)
        return open(self.path, "rb")  # noqa: SIM115

    def head(self, size: int = 65536) -> bytes:
        """The first bytes, decompressed; a .gz damaged from its start is an input error."""
        try:
            with self.open_binary() as handle:
                head = handle.read(size)
        except OSError as exc:
            raise InputError(self.name, f"cannot be read ({exc})") from exc
        if not head and self.damage:
            raise InputError(self.name, f"cannot be read: {next(iter(self.damage))}")
        return head


def is_store(path: Path) -> bool:
    """A folder ``ingest`` finished: it writes the manifest last, after every Parquet file."""
    return path.is_dir() and (path / STORE_MARKER).is_file() and (path / STORE_MANIFEST).is_file()


def expand(
    inputs: list[Path], workdir: Path, notes: list[str]
) -> tuple[list[Source], list[Path]]:
    """Split inputs into log sources and Parquet stores written by ``ingest``; what is wrong
    with an archive goes to ``notes``."""
    sources: list[Source] = []
    stores: list[Path] = []
    for given in inputs:
        path = Path(given)
        if not path.exists():
            raise InputError(str(path), "no such file or folder")
        if is_store(path):
            stores.append(path)
        elif path.is_dir():
            files, inner_stores = _folder_contents(path, notes)
            stores.extend(inner_stores)
            if not files and not inner_stores:
                why = unread_files(notes)  # a workbook saved from an export, say
                raise InputError(str(path), "folder holds no log files (.json, .csv, .gz, .zip)"
                                 + (f"; skipped {why}" if why else ""))
            notes.extend(unfinished_downloads(path))
            for file in files:
                sources.extend(
                    replace(s, in_folder=True)
                    for s in _expand_file(file, str(file), workdir, notes)
                )
        else:
            sources.extend(_expand_file(path, str(path), workdir, notes))
    # a store given itself and inside a folder given too is read once, where first given
    unique = list({store.resolve(): store for store in stores}.values())
    return [_as_utf8(s, workdir) for s in sources], unique


def _walk(folder: Path) -> tuple[list[Path], list[Path]]:
    """Every entry of a folder at any depth but those inside the stores it holds (a store's
    own files are not logs), and those stores."""
    entries = sorted(folder.rglob("*"))
    stores = [p for p in entries if is_store(p)]
    return [p for p in entries if not any(store in p.parents for store in stores)], stores


def export_files(folder: Path) -> list[Path]:
    """Every file of a folder, but those of the stores inside it."""
    return [p for p in _walk(folder)[0] if p.is_file()]


def _folder_contents(folder: Path, notes: list[str]) -> tuple[list[Path], list[Path]]:
    """The log files and the stores a folder holds; a link to a missing log file is a note,
    not a silent gap."""
    entries, stores = _walk(folder)
    files = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        if entry.suffix.lower() in WORKBOOK_SUFFIXES:
            notes.append(skipped_note(str(entry), WORKBOOK))
        if entry.suffix.lower() not in LOG_SUFFIXES:
            continue
        if entry.is_file():
            files.append(entry)
        elif entry.is_symlink() and not entry.exists():
            notes.append(skipped_note(str(entry), "a link to a file that does not exist"))
    return files, stores


def _expand_file(path: Path, name: str, workdir: Path, notes: list[str]) -> list[Source]:
    if path.suffix.lower() == ".zip":
        return _expand_zip(path, name, workdir, notes)
    if path.suffix.lower() == ".gz":
        return [Source(name, path, gzip=True)]
    return [Source(name, path)]


def _expand_zip(path: Path, name: str, workdir: Path, notes: list[str]) -> list[Source]:
    target = workdir / f"zip{len(list(workdir.iterdir()))}"
    target.mkdir()
    try:
        members = extract_zip(path, name, target, LOG_SUFFIXES, notes)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise InputError(name, f"not a readable .zip archive ({exc})") from exc
    found: list[Source] = []
    for out, label in members:
        inner_sources = _expand_file(out, label, workdir, notes)
        found.extend(replace(s, in_folder=True) for s in inner_sources)
    if not found:
        raise InputError(name, "archive holds no readable log files (.json, .csv, .gz)")
    return found


def utf16_without_bom(head: bytes) -> str | None:
    """'utf-16-le' or 'utf-16-be' for UTF-16 text written without a BOM (.NET's
    ``UnicodeEncoding(false, ...)``, some scripts), else None. An export starts with '[',
    '{' or a CSV header, mostly ASCII, so in UTF-16 nearly every other byte is NUL and the
    bytes between are not; a binary file does not look like that."""
    sample = head[: len(head) // 2 * 2]
    if len(sample) < 8:
        return None
    low, high = sample[0::2], sample[1::2]
    for encoding, text, zeros in (("utf-16-le", low, high), ("utf-16-be", high, low)):
        if text[0] != 0 and zeros[0] == 0 and zeros.count(0) >= 0.9 * len(zeros) \
                and text.count(0) <= 0.1 * len(text):
            return encoding
    return None


def _as_utf8(source: Source, workdir: Path) -> Source:
    """UTF-16 (with a BOM, or without one: ``utf16_without_bom``) is transcoded; anything
    else must be UTF-8 (a BOM is fine).

    A lone surrogate or a cut last character is carried over as bytes that are not UTF-8, so
    the readers report the record that holds it and keep the others.
    """
    head = source.head(1024)
    encoding = ("utf-16" if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
                else utf16_without_bom(head))
    if encoding is None:
        return source
    out = workdir / f"utf8-{len(list(workdir.iterdir()))}{Path(source.name).suffix}"
    decoder = codecs.getincrementaldecoder(encoding)("surrogatepass")
    with source.open_binary() as raw, open(out, "wb") as dst:
        while True:
            data = raw.read(1 << 20)
            try:
                text = decoder.decode(data, final=not data)
            except UnicodeDecodeError:  # an odd last byte: half a character
                text, data = "\ufffd", b""
            dst.write(text.encode("utf-8", "surrogatepass"))
            if not data:
                break
    return Source(source.name, out, in_folder=source.in_folder, damage=source.damage)


_NOT_UTF8 = re.compile("[\udc80-\udcff]")
NOT_UTF8_LIMIT = 8  # more bad bytes than this in the first 64 KiB: the file is in another encoding
# a CSV in another encoding is mostly one Excel saved as "CSV (Comma delimited)", i.e. ANSI
CSV_UTF8_FIX = "export it again, or in Excel save it as CSV UTF-8 (Comma delimited)"


def check_utf8(source: Source, sample: bytes, csv: bool) -> None:
    """Fail early, naming the first byte, when a file is not UTF-8 text at all (a Latin-1 or
    Windows-1252 export): in a CSV by its line (as an editor counts them), else by its offset.
    A few bad bytes are damage: the readers skip the records holding them and keep the
    rest."""
    text = sample.decode("utf-8", errors="surrogateescape")
    cut = len(text) - 4  # a character cut at the sample's end is not a fault
    bad = [m.start() for m in _NOT_UTF8.finditer(text, 0, max(cut, 0))]
    if len(bad) > NOT_UTF8_LIMIT:
        offset = len(text[: bad[0]].encode("utf-8", "surrogateescape"))
        line = sample.count(b"\n", 0, offset) + 1
        where, fix = ((f"line {line}", CSV_UTF8_FIX) if csv
                      else (f"offset {offset}", "export it again or save it as UTF-8"))
        raise InputError(source.name, f"is not UTF-8 text (byte 0x{sample[offset]:02x} at "
                         f"{where}); {fix}")
