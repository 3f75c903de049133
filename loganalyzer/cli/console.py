"""The terminal: rich consoles for results and progress, plain text everywhere else.

Colour (by severity) only when the stream is a terminal and ``NO_COLOR`` is unset; text wraps
to the terminal's width there, and to ``PLAIN_WIDTH`` in files and pipes, which get no colour,
no control sequence and no progress bar.
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

from rich.console import Console, RenderableType
from rich.progress import (
    BarColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

PLAIN_WIDTH = 100
SHOW_AFTER = 0.3  # seconds: a quick step flashes no bar


def stdout_console() -> Console:
    """Results on a terminal: its width; colour and bold unless NO_COLOR is set."""
    plain_only = bool(os.environ.get("NO_COLOR"))
    return Console(highlight=False, emoji=False, markup=False,
                   color_system=None if plain_only else "auto")


def plain(renderable: RenderableType, width: int = PLAIN_WIDTH) -> str:
    """What ``renderable`` reads as in a file or a pipe: no colour, wrapped at ``width``."""
    console = Console(file=io.StringIO(), width=width, color_system=None, force_terminal=False,
                      highlight=False, emoji=False, markup=False)
    console.print(renderable)
    return "\n".join(line.rstrip() for line in console.file.getvalue().split("\n"))


class ProgressBar:
    """``progress(message, done, total)`` for ingest, fetch and diagnose: on a terminal a rich
    bar (the total when known, elapsed time and ETA; the message carries the rate), shown once
    the work takes longer than ``SHOW_AFTER``; on a pipe only the last message, once, at the
    end; nothing with ``--quiet``."""

    def __init__(self, quiet: bool, echo_last: bool = True) -> None:
        self.quiet = quiet
        self.tty = sys.stderr.isatty()
        self.echo_last = echo_last
        self.started = time.monotonic()
        self.last = ""
        self._bar: Progress | None = None
        self._task = None

    def __call__(self, message: str, done: float | None = None,
                 total: float | None = None) -> None:
        if self.quiet:
            return
        if not self.tty:
            self.last = message
            return
        if self._bar is None and time.monotonic() - self.started < SHOW_AFTER:
            return
        if self._bar is None:
            self._bar = Progress(
                TextColumn("{task.description}"), BarColumn(), TaskProgressColumn(),
                TimeElapsedColumn(), TimeRemainingColumn(),
                console=Console(file=sys.stderr), transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task(message, total=total)
        self._bar.update(self._task, description=message, total=total,
                         completed=done if done is not None else 0)

    def close(self) -> None:
        """Stop the bar; on a pipe, the last progress line once (what was read)."""
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self.last and self.echo_last and not self.quiet:
            print(self.last, file=sys.stderr)
        self.last = ""


@contextmanager
def progress_bar(quiet: bool, echo_last: bool = True) -> Iterator[ProgressBar]:
    """A ``ProgressBar``; ``echo_last=False`` for work whose last step says nothing on a pipe
    (the rules of a diagnosis)."""
    bar = ProgressBar(quiet, echo_last)
    try:
        yield bar
    finally:
        bar.close()
