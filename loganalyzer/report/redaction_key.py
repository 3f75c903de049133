"""The secret ``--redact`` keys its pseudonyms with (HMAC-SHA-256 in ``redact``).

A plain hash of an address or object id could be reversed by anyone holding a staff list, by
hashing every entry and looking the pseudonyms up; keyed, it cannot. The key must stay the
same from one weekly report to the next, so that one person reads the same in both: it is
``LOGANALYZER_REDACTION_KEY`` when set, else a random key kept in the user's configuration
folder, made on first use and readable by that user alone.
"""

from __future__ import annotations

import contextlib
import functools
import os
import secrets
from pathlib import Path

from loganalyzer.problems import InputError

KEY_ENV = "LOGANALYZER_REDACTION_KEY"
KEY_FILE_NAME = "redaction.key"
MIN_LENGTH = 16
_made: list[Path] = []  # the key file this process made, for a note


@functools.cache
def redaction_key() -> bytes:
    """The key; ``InputError`` when it is too short or can be neither read nor made."""
    given = os.environ.get(KEY_ENV)
    if given is not None:
        if len(given.strip()) < MIN_LENGTH:
            raise InputError(KEY_ENV, f"is set but holds fewer than {MIN_LENGTH} characters; "
                             "give a longer secret, or unset it to use the key file")
        return given.strip().encode("utf-8")
    path = key_file()
    try:
        if not path.exists():
            _make(path)
        key = path.read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(str(path), f"cannot keep the redaction key here ({exc}); set "
                         f"{KEY_ENV} to a secret of your own") from None
    if len(key) < MIN_LENGTH:
        raise InputError(str(path), f"is not a redaction key (expected 64 hex digits); delete "
                         f"it to make a new one, or set {KEY_ENV}")
    return key.encode("ascii")


def key_file() -> Path:
    """``redaction.key`` in the user's configuration folder (``%APPDATA%`` on Windows, else
    ``$XDG_CONFIG_HOME`` or ``~/.config``), under ``loganalyzer``."""
    base = os.environ.get("APPDATA") if os.name == "nt" else os.environ.get("XDG_CONFIG_HOME")
    if not base:
        try:
            base = str(Path.home() / ".config")
        except RuntimeError:  # no HOME and a user the system does not name (a container)
            raise InputError(KEY_ENV, "no home folder to keep the redaction key in; set "
                             f"{KEY_ENV} to a secret of your own") from None
    return Path(base) / "loganalyzer" / KEY_FILE_NAME


def made_key() -> Path | None:
    """The key file this process made, if it did and was not asked before: pseudonyms then
    differ from those of reports made with another key, which the user should hear, once."""
    return _made.pop() if _made else None


def _make(path: Path) -> None:
    """A new key at ``path``, complete before anyone can read it: written to a file of its
    own (readable by the user alone from the start, whatever the umask), then linked into
    place; when several runs start at once, the first link wins and the others read it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    made = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(made, "w", encoding="ascii") as out:
            out.write(secrets.token_hex(32) + "\n")
        try:
            os.link(temporary, path)
        except FileExistsError:
            return  # another run made it first
        except OSError:  # a file system without links
            if path.exists():
                return
            os.replace(temporary, path)
        _made.append(path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
