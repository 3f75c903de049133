"""Write output files whole or not at all.

A weekly report runs unattended, and it overwrites last week's files. If the write were made
in place, a full disk or a killed run would leave a cut-off report and last week's report would
be lost. So each file is first written to a temporary file in the same folder, and the
temporary files are renamed over the targets only when all of them are complete. A rename
within a folder is atomic, so a reader sees either the old file or the new one.

Where no temporary file can be made beside a file the user may still write (a folder they may
not add files to), that file is written in place, as any editor would, once the others are
complete.
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
from pathlib import Path


def write_all(contents: dict[Path, bytes]) -> None:
    """Write every file; a failure while writing leaves every target as it was (``OSError``
    names the target, as ``filename``). The files are then renamed into place one after the
    other: should a rename fail (on Windows, a file open in another program), the files
    before it are already new, and the ``OSError`` lists them (``written``) and those after
    it (``not_written``), so the message can say which files are of this run. A link is
    followed: its target is replaced. A new file gets the usual permissions (the umask's); a
    file that is replaced keeps its own."""
    staged: dict[Path, Path | None] = {}  # target -> its temporary file (None: in place)
    try:
        for path, content in contents.items():
            staged[path] = _staged(path, content)
        order = list(staged)
        for done, (path, temporary) in enumerate(staged.items()):
            try:
                if temporary is None:
                    _target(path).write_bytes(contents[path])
                else:
                    os.replace(temporary, _target(path))
            except OSError as exc:
                exc.filename = str(path)
                exc.written, exc.not_written = order[:done], order[done + 1:]
                raise
    finally:
        for temporary in staged.values():
            if temporary is not None:
                with contextlib.suppress(FileNotFoundError):
                    temporary.unlink()


def write_text(path: Path, text: str) -> None:
    """``write_all`` of one UTF-8 text file."""
    write_all({path: text.encode("utf-8")})


def _target(path: Path) -> Path:
    """The file to replace: a link's target (replacing the link would leave its file old)."""
    return path.resolve() if path.is_symlink() else path


def _staged(path: Path, content: bytes) -> Path | None:
    """``content`` in a new hidden file beside ``path``, opened with ``open``, not
    ``mkstemp``, so that a new report is readable as any other file the user writes; None
    when the folder takes no new file but the file itself may be written."""
    target = _target(path)
    if target.exists() and not os.access(target, os.W_OK):  # a rename would not ask
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
    temporary = target.with_name(f".{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with open(temporary, "xb") as out:
            out.write(content)
        if target.exists():
            shutil.copymode(target, temporary)
    except BaseException as exc:  # also SIGTERM (a scheduler's timeout) and Ctrl-C
        with contextlib.suppress(OSError):
            temporary.unlink()
        if isinstance(exc, PermissionError) and target.exists():
            return None
        if isinstance(exc, OSError):
            exc.filename = str(path)  # the user named the report, not our temporary file
        raise
    return temporary
