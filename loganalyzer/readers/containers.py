"""Read .gz and .zip containers as far as they are intact, saying what is wrong with them.

A download cut in its gzip trailer, a .gz with bytes appended, a zip member with a bad CRC or
corrupt deflate data: everything that decompresses is kept, and a note names the file and the
damage, so the reader reports the record that was cut instead of the run failing. A member that
cannot be read at all (encrypted, Deflate64) is skipped with a note. Extraction is capped, so a
small archive cannot fill the disk (a zip bomb).
"""

from __future__ import annotations

import io
import zipfile
import zlib
from pathlib import Path

from loganalyzer.problems import skipped_note

CHUNK = 1 << 20
PIECE = 1 << 14  # compressed bytes per step: damage costs what one step would have given
# A member may expand to RATIO times its compressed size plus FLOOR bytes; JSON and CSV
# exports compress 5-30 times, a zip bomb a thousand times and more.
RATIO = 200
FLOOR = 256 << 20
_READABLE = {zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2, zipfile.ZIP_LZMA}
_METHODS = {9: "Deflate64", 12: "bzip2", 14: "LZMA", 93: "Zstandard", 95: "xz", 98: "PPMd",
            99: "AES encryption"}
# An export opened in Excel and saved as a workbook: .xlsx is a zip holding xl/..., .xls an
# OLE2 compound file. Given, it is refused saying so; in a folder or archive it is skipped
# with that note, never in silence as a screenshot or a readme is.
WORKBOOK_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
WORKBOOK = ("an Excel workbook, not a CSV or JSON export: in Excel use File > Save As > "
            "'CSV UTF-8 (Comma delimited)' and pass that file, or export the logs again")


class GzipStream(io.RawIOBase):
    """The decompressed bytes of a .gz (every member), up to the first damage.

    Python's ``gzip`` raises on a cut trailer, trailing garbage or a bad CRC and gives up what
    it had; this keeps it and records what was wrong in ``damage`` (once per file).
    """

    def __init__(self, path: Path, damage: dict[str, None]):
        self._file = open(path, "rb")  # noqa: SIM115 (closed in close())
        self._damage = damage
        self._inflate = zlib.decompressobj(31)
        self._pending = b""
        self._out = 0  # decompressed bytes given so far
        self._done = False

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        self._file.close()
        super().close()

    def readinto(self, buffer) -> int:  # type: ignore[override]
        while not self._pending and not self._done:
            self._step()
        size = min(len(buffer), len(self._pending))
        buffer[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        self._out += size
        return size

    def _note(self, what: str) -> None:
        self._damage[f"{what}; what came before it is read"] = None

    def _step(self) -> None:
        if self._inflate.eof:
            self._next_member(self._inflate.unused_data)
            return
        data = self._inflate.unconsumed_tail or self._file.read(PIECE)
        if not data:
            self._done = True
            self._note(f"the .gz is cut short after {self._out:,} bytes of data (no gzip "
                       "end marker: an interrupted download?)")
            return
        try:
            self._pending = self._inflate.decompress(data, CHUNK)
        except zlib.error as exc:
            self._done = True
            self._note(f"the .gz is damaged after {self._out:,} bytes of data ({exc})")

    def _next_member(self, rest: bytes) -> None:
        """After one gzip member: another member, zero padding, or garbage."""
        rest += self._file.read(max(0, 18 - len(rest)))
        if not rest.strip(b"\x00"):
            padding = rest + self._file.read(CHUNK)
            if not padding.strip(b"\x00"):
                self._done = True
                return
            rest = padding.lstrip(b"\x00")
        if rest.startswith(b"\x1f\x8b"):
            self._inflate = zlib.decompressobj(31)
            self._pending = self._inflate.decompress(rest, CHUNK)
            return
        self._done = True
        self._damage["bytes after the end of the gzip data are not gzip data; they are "
                     "ignored"] = None


def extract_zip(path: Path, name: str, target: Path, suffixes: set[str],
                notes: list[str]) -> list[tuple[Path, str]]:
    """Extract the log members of a zip to ``target``: (extracted file, member name) each.

    A damaged member keeps what was extracted before the damage; an unreadable one is skipped;
    both with a note naming ``archive!member``.
    """
    found: list[tuple[Path, str]] = []
    with zipfile.ZipFile(path) as archive:
        for number, member in enumerate(archive.infolist()):
            inner = Path(member.filename)
            if member.is_dir() or inner.name.startswith(".") or "__MACOSX" in inner.parts:
                continue
            label = f"{name}!{member.filename}"
            if inner.suffix.lower() in WORKBOOK_SUFFIXES:
                notes.append(skipped_note(label, WORKBOOK))
            if inner.suffix.lower() not in suffixes:
                continue
            why_not = _unreadable(member)
            if why_not:
                notes.append(skipped_note(label, why_not))
                continue
            out = target / f"{number}-{inner.name}"  # members in two folders may share a name
            damage = _copy_member(archive, member, out)
            if damage:
                notes.append(f"{label}: {damage}")
            found.append((out, label))
    return found


def _unreadable(member: zipfile.ZipInfo) -> str | None:
    if member.flag_bits & 0x1:
        return "it is encrypted (password protected); extract it yourself and pass the file"
    if member.compress_type not in _READABLE:
        method = _METHODS.get(member.compress_type, f"method {member.compress_type}")
        return (f"it is compressed with {method}, which cannot be read; extract it yourself "
                "(or zip it again with ordinary Deflate) and pass the file")
    return None


def _copy_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, out: Path) -> str | None:
    """Copy one member, up to the cap; what went wrong, if anything."""
    cap = member.compress_size * RATIO + FLOOR
    written, crc = 0, 0
    with open(out, "wb") as dst:
        try:
            with archive.open(member) as src:
                src._expected_crc = None  # checked below, so a bad CRC keeps the last chunk
                while chunk := src.read(PIECE):
                    if written + len(chunk) > cap:
                        dst.write(chunk[: cap - written])
                        return (f"expands to more than {cap >> 20} MB ({RATIO} times its "
                                f"compressed size: a zip bomb?); only the first {cap >> 20} MB "
                                "are read")
                    dst.write(chunk)
                    written += len(chunk)
                    crc = zlib.crc32(chunk, crc)
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
                RuntimeError) as exc:
            return f"is damaged after {written:,} bytes ({exc}); what came before it is read"
    if crc != member.CRC:
        return ("its CRC does not match its data (a damaged archive); it is read as is, and a "
                "damaged record is reported")
    return None
