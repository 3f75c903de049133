"""`--format` and `-o/--output`: one vocabulary for every command that prints a result.

A command declares ``out: Output`` with ``Output = output_options("diagnose", ...)`` under
``@with_options(out=Output)``: `--format` is then a typed choice of that command's formats
(listed in --help, refused by click with the same one-line error everywhere) and `-o` may be
given several times, each file in the format its suffix names, so one run writes the HTML
report, the JSON and the ticket's Markdown. A `--format` that contradicts a suffix is an error;
HTML and Excel never go to a terminal (they need ``-o FILE``, or ``-o -`` to print anyway).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.console import RenderableType
from rich.segment import Segment, Segments

from loganalyzer import atomic_write
from loganalyzer.cli.console import plain, stdout_console
from loganalyzer.problems import InputError
from loganalyzer.textsafe import json_text, visible


class Format(StrEnum):
    terminal = "terminal"
    md = "md"
    json = "json"
    html = "html"
    xlsx = "xlsx"


SUFFIXES = {
    ".txt": Format.terminal, ".md": Format.md,
    ".markdown": Format.md, ".json": Format.json, ".html": Format.html, ".htm": Format.html,
    ".xlsx": Format.xlsx,
}
NOT_FOR_TERMINALS = (Format.html, Format.xlsx)
STDOUT = "-"

# a format's content: text, bytes (xlsx) or, for the terminal format, something rich prints
Content = str | bytes | RenderableType
Renderers = dict[Format, Callable[[], Content]]


@dataclass(frozen=True)
class Target:
    """One output: a format and a file (None: stdout)."""

    fmt: Format
    path: Path | None


def output_options(command: str, formats: tuple[Format, ...], default: Format) -> type:
    """The option group of ``command``: `--format` (a choice of ``formats``) and `-o`."""
    name = f"{command.title().replace('-', '')}Format"
    choice = StrEnum(name, {f.value: f.value for f in formats})
    suffixes = ", ".join(s for s, f in SUFFIXES.items() if f in formats)
    fields = [
        ("fmt", Annotated[choice | None, typer.Option(
            "--format", show_default=False, case_sensitive=False,
            help=f"Output format (default: from the -o suffix, else {default.value}).")], None),
        ("outputs", Annotated[list[str] | None, typer.Option(
            "--output", "-o", show_default=False, metavar="FILE",
            help=f"Write to this file, in the format of its suffix ({suffixes}); repeat for "
            "several outputs from one run; - is stdout.")], None),
    ]
    group = dataclasses.make_dataclass(f"{choice.__name__}Output", fields, frozen=True)
    group.formats = formats
    group.default = default
    return group


def targets(out) -> list[Target]:
    """Where each output goes; ``InputError`` for an empty -o, a suffix the command cannot
    write, a `--format` that contradicts it, two outputs to stdout, one file named twice, or
    HTML/Excel to a terminal."""
    chosen = Format(out.fmt.value) if out.fmt is not None else None
    if "" in (out.outputs or []):
        raise InputError("-o", "the value is empty: name a file (" + _suffix_list(out.formats)
                         + "), or - for stdout")
    paths = [Path(name) for name in out.outputs or []]
    found: list[Target] = []
    for path in paths:
        if str(path) == STDOUT:
            found.append(Target(chosen or out.default, None))
            continue
        by_suffix = SUFFIXES.get(path.suffix.lower())
        if by_suffix is None and chosen is None:
            raise InputError(f"-o {path}", "cannot tell the format from the suffix; give "
                             "--format or name the file " + _suffix_list(out.formats))
        if by_suffix is not None and chosen is not None and by_suffix != chosen:
            raise InputError(f"-o {path}", f"the suffix says {by_suffix.value} but --format "
                             f"is {chosen.value}")
        fmt = by_suffix or chosen
        if fmt not in out.formats:
            raise InputError(f"-o {path}", f"this command writes "
                             f"{', '.join(f.value for f in out.formats)}, not {fmt.value}")
        found.append(Target(fmt, _writable_place(path, "-o")))
    if not paths:
        found.append(Target(chosen or out.default, None))
        if found[0].fmt in NOT_FOR_TERMINALS and sys.stdout.isatty():
            raise InputError("--format", f"{found[0].fmt.value} is not shown in a terminal: "
                             f"write it with -o FILE (or -o - to print it anyway)")
    if sum(t.path is None for t in found) > 1:
        raise InputError("-o", "only one output can go to stdout")
    named: dict[Path, str] = {}  # each file -> the -o that named it first
    for name in out.outputs or []:
        file = Path(name).resolve()
        if name != STDOUT and file in named:
            raise InputError(f"-o {name}", f"the same file as -o {named[file]}")
        named[file] = name
    return found


def _writable_place(path: Path, option: str) -> Path:
    """``path``, once its folder is known to exist: checked before the analysis, so a run
    that can write nothing stops at once, and one with several outputs writes none."""
    folder = path.parent
    if not folder.is_dir():
        raise InputError(f"{option} {path}", f"cannot write: the folder {folder} does not exist")
    if path.is_dir():
        raise InputError(f"{option} {path}", "cannot write: it is a folder")
    return path


def other_file(path: Path, option: str, found: list[Target]) -> Path:
    """A file written beside the outputs (``--write-baseline``), checked as they are, before
    the analysis: its folder must exist, and no -o may name it, or the report would be
    written over it (and next week's --baseline refuse what is left)."""
    for target in found:
        if target.path is not None and target.path.resolve() == path.resolve():
            raise InputError(f"{option} {path}", f"the same file as -o {target.path}")
    return _writable_place(path, option)


def _suffix_list(formats: tuple[Format, ...]) -> str:
    return "/".join(s for s, f in SUFFIXES.items() if f in formats)


def write(found: list[Target], renderers: Renderers, quiet: bool,
          also: dict[Path, bytes] | None = None) -> None:
    """Render each format once, write the files (and ``also``: --write-baseline's), then
    print what goes to stdout; "wrote FILE" on stderr unless ``quiet``. The files are
    written whole or not at all (``atomic_write``): a failed run leaves last week's report
    and baseline as they were."""
    cache: dict[Format, Content] = {}
    for target in found:
        if target.fmt not in cache:
            cache[target.fmt] = renderers[target.fmt]()
    files = {target.path: _file_bytes(cache[target.fmt], target.fmt)
             for target in found if target.path is not None} | (also or {})
    try:
        atomic_write.write_all(files)
    except OSError as exc:
        message = f"cannot write ({exc.strerror})"
        if written := getattr(exc, "written", None):  # a rename failed after others were done
            message += f"; already written: {', '.join(map(str, written))}"
            if exc.not_written:
                message += f"; not written: {', '.join(map(str, exc.not_written))}"
        raise InputError(exc.filename or "-o", message) from None
    if not quiet:
        for path in files:
            typer.echo(f"wrote {path}", err=True)
    for target in found:
        if target.path is None:
            _to_stdout(cache[target.fmt], target.fmt)


def _file_bytes(content: Content, fmt: Format) -> bytes:
    if isinstance(content, bytes):
        return content
    text = _safe(content if isinstance(content, str) else plain(content), fmt)
    return (text if text.endswith("\n") else text + "\n").encode("utf-8")


def _safe(text: str, fmt: Format) -> str:
    """Control characters from the log shown as escapes (JSON keeps them JSON-escaped)."""
    return json_text(text) if fmt is Format.json else visible(text)


def _to_stdout(content: Content, fmt: Format) -> None:
    if isinstance(content, bytes):
        sys.stdout.flush()
        sys.stdout.buffer.write(content)
        sys.stdout.buffer.flush()
    elif isinstance(content, str):
        content = _safe(content, fmt)
        typer.echo(content, nl=not content.endswith("\n"))
    elif sys.stdout.isatty():
        console = stdout_console()
        # rich passes ESC through: escape the text of every segment, keep rich's own styling
        console.print(Segments(
            segment if segment.control else Segment(visible(segment.text), segment.style)
            for segment in console.render(content)
        ))
    else:
        typer.echo(_safe(plain(content), fmt), nl=False)
