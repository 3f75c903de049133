"""Import the renderers' libraries on a thread of their own while the rules run.

Matplotlib (HTML charts) costs 0.45 s to import, and pandas (the workbook) about 0.3 s, whatever
the size of the input. The rule engine spends its time inside Polars, which releases the GIL,
so most of an import beside it is hidden (1M events: `report` 8.0-8.5 s against 8.3-9.2 s).
The thread is not a daemon: an import cut off at interpreter exit can crash the process, so a
run that ends early waits for it instead.
"""

from __future__ import annotations

import importlib
import threading

from loganalyzer.cli.outputs import Format

# What each format's renderer imports first (``plot._figure``, ``xlsx.render_xlsx``).
LIBRARIES: dict[Format, tuple[str, ...]] = {
    Format.html: ("matplotlib.figure", "matplotlib.backends.backend_svg", "jinja2"),
    Format.md: ("jinja2",),
    Format.xlsx: ("pandas", "openpyxl"),
}


def preload(formats: set[Format]) -> threading.Thread:
    """Start importing what rendering ``formats`` needs; the thread, for a caller that waits."""
    modules = list(dict.fromkeys(m for f in formats for m in LIBRARIES.get(f, ())))
    thread = threading.Thread(target=_import_all, args=(modules,), name="preload renderers")
    thread.start()
    return thread


def _import_all(modules: list[str]) -> None:
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:  # its renderer meets it again and reports it
            continue
