"""`report` imports its renderers' libraries beside the rules (``cli.preload``)."""

from __future__ import annotations

import subprocess
import sys
import threading

import pytest

from loganalyzer.cli import preload as preload_module
from loganalyzer.cli.outputs import Format

WATCHED = ("matplotlib.figure", "matplotlib.backends.backend_svg", "jinja2", "pandas",
           "openpyxl")


def imported_after_preload(formats: str) -> list[str]:
    """The watched modules a fresh interpreter holds after preloading ``formats``."""
    code = (
        "import sys\n"
        "from loganalyzer.cli.outputs import Format\n"
        "from loganalyzer.cli.preload import preload\n"
        f"watched = {WATCHED!r}\n"
        "assert not [m for m in watched if m in sys.modules], 'imported before the preload'\n"
        f"preload({{Format(f) for f in {formats!r}.split(',') if f}}).join()\n"
        "print(','.join(m for m in watched if m in sys.modules))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    return [m for m in done.stdout.strip().split(",") if m]


@pytest.mark.parametrize(
    ("formats", "expected"),
    [
        ("html", ["matplotlib.figure", "matplotlib.backends.backend_svg", "jinja2"]),
        ("xlsx,md", ["jinja2", "pandas", "openpyxl"]),
        ("json", []),
    ],
)
def test_each_format_preloads_what_its_renderer_imports(formats: str, expected: list[str]):
    assert imported_after_preload(formats) == expected


def test_a_library_that_is_missing_is_left_to_the_renderer_to_report(monkeypatch):
    raised: list[BaseException] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: raised.append(args.exc_value))
    monkeypatch.setitem(preload_module.LIBRARIES, Format.html,
                        ("loganalyzer_no_such_library", "jinja2"))
    preload_module.preload({Format.html}).join()
    assert raised == []
