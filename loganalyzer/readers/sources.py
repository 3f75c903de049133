"""Turn what the user named (files, folders, .zip, .gz) into a list of readable sources.

Folders mean every log file inside them; zip members are extracted to a work folder so the
fast JSON reader can read them by path; UTF-16 text (Excel "Unicode text") is transcoded to
UTF-8 once, so every reader downstream sees UTF-8.
"""

from __future__ import annotations

import codecs
import gzip
import shutil
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from loganalyzer.problems import InputError

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

    def open_binary(self):
        return gzip.open(self.path, "rb") if self.gzip else open(self.path, "rb")  # noqa: SIM115

    def head(self, size: int = 65536) -> bytes:
        """The first bytes, decompressed; a broken .gz is an input error, not a traceback."""
        try:
            with self.open_binary() as handle:
                return handle.read(size)
        except (OSError, EOFError) as exc:
            raise InputError(self.name, f"cannot be read ({exc})") from exc


def is_store(path: Path) -> bool:
    """A folder ``ingest`` finished: it writes the manifest last, after every Parquet file."""
    return path.is_dir() and (path / STORE_MARKER).is_file() and (path / STORE_MANIFEST).is_file()


def expand(inputs: list[Path], workdir: Path) -> tuple[list[Source], list[Path]]:
    """Split inputs into log sources and Parquet stores written by ``ingest``."""
    sources: list[Source] = []
    stores: list[Path] = []
    for given in inputs:
        path = Path(given)
        if not path.exists():
            raise InputError(str(path), "no such file or folder")
        if is_store(path):
            stores.append(path)
        elif path.is_dir():
            files = sorted(
                p for p in path.rglob("*")
                if p.is_file() and p.suffix.lower() in LOG_SUFFIXES and not p.name.startswith(".")
            )
            if not files:
                raise InputError(str(path), "folder holds no log files (.json, .csv, .gz, .zip)")
            for file in files:
                sources.extend(
                    replace(s, in_folder=True) for s in _expand_file(file, str(file), workdir)
                )
        else:
            sources.extend(_expand_file(path, str(path), workdir))
    return [_as_utf8(s, workdir) for s in sources], stores


def _expand_file(path: Path, name: str, workdir: Path) -> list[Source]:
    if path.suffix.lower() == ".zip":
        return _expand_zip(path, name, workdir)
    if path.suffix.lower() == ".gz":
        return [Source(name, path, gzip=True)]
    return [Source(name, path)]


def _expand_zip(path: Path, name: str, workdir: Path) -> list[Source]:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise InputError(name, f"not a readable .zip archive ({exc})") from exc
    target = workdir / f"zip{len(list(workdir.iterdir()))}"
    target.mkdir()
    found: list[Source] = []
    with archive:
        for number, member in enumerate(archive.infolist()):
            inner = Path(member.filename)
            if member.is_dir() or inner.name.startswith(".") or "__MACOSX" in inner.parts:
                continue
            if inner.suffix.lower() not in LOG_SUFFIXES:
                continue
            out = target / f"{number}-{inner.name}"  # members in two folders may share a name
            with archive.open(member) as src, open(out, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            inner_sources = _expand_file(out, f"{name}!{member.filename}", workdir)
            found.extend(replace(s, in_folder=True) for s in inner_sources)
    if not found:
        raise InputError(name, "archive holds no log files (.json, .csv, .gz)")
    return found


def _as_utf8(source: Source, workdir: Path) -> Source:
    """UTF-16 (with BOM) is transcoded; anything else must be UTF-8 (a BOM is fine)."""
    head = source.head(4)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        out = workdir / f"utf8-{abs(hash(source.name))}{Path(source.name).suffix}"
        with source.open_binary() as raw, open(out, "w", encoding="utf-8") as dst:
            text = codecs.getreader("utf-16")(raw)
            shutil.copyfileobj(text, dst, 1 << 20)
        return Source(source.name, out, in_folder=source.in_folder)
    return source


def check_utf8(source: Source, sample: bytes) -> None:
    """Fail early, naming the byte, when a file is not UTF-8 text."""
    try:
        sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(sample) - 4:  # not just a character cut at the sample's end
            bad = sample[exc.start : exc.start + 1].hex()
            raise InputError(
                source.name,
                f"is not UTF-8 text (byte 0x{bad} at offset {exc.start}); "
                "export it again or save it as UTF-8",
            ) from exc
