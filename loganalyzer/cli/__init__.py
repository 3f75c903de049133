"""The command line: a thin typer layer over the library, one module per command group.

Each command parses options, calls the library and prints; nothing else. ``common`` holds the
typer app and what every command shares, ``options`` the option groups declared once.
Importing this package registers every command on ``app``.
"""

from loganalyzer.cli import check, diagnose, fetch, ingest, report, retest, why  # noqa: F401
from loganalyzer.cli.common import app, load_inputs

__all__ = ["app", "load_inputs"]
