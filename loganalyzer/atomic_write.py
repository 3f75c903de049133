"""Write output files whole or not at all.

A weekly report runs unattended, and it overwrites last week's files. If the write were made
in place, a full disk or a killed run would leave a cut-off report and last week's report would
be lost. So each file is first written to a temporary file in the same folder, and the
temporary files are renamed over the targets only when all of them are complete. A rename
within a folder is atomic, so a reader sees either the old file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from pathlib import Path


def write_all(contents: dict[Path, bytes]) -> None:
    """Write every file; a failure while writing leaves every target as it was (``OSError``
    names the target, as ``filename``). A new file gets the usual permissions (the umask's);
    a file that is replaced keeps its own."""
    staged: dict[Path, Path] = {}
    try:
        for path, content in contents.items():
            staged[path] = _staged(path, content)
        for path, temporary in staged.items():
            try:
                os.replace(temporary, path)
            except OSError as exc:
                exc.filename = str(path)
                raise
    finally:
        for temporary in staged.values():
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()


def write_text(path: Path, text: str) -> None:
    """``write_all`` of one UTF-8 text file."""
    write_all({path: text.encode("utf-8")})


def _staged(path: Path, content: bytes) -> Path:
    """``content`` in a new hidden file beside ``path``; opened with ``open``, not
    ``mkstemp``, so that a new report is readable as any other file the user writes."""
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as out:
            out.write(content)
        if path.exists():
            shutil.copymode(path, temporary)
    except OSError as exc:
        with contextlib.suppress(OSError):
            temporary.unlink()
        exc.filename = str(path)  # the user named the report, not our temporary file
        raise
    return temporary
