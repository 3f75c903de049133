"""Charts as inline SVG for the HTML report: no script, no font or file fetched from anywhere.

Matplotlib's SVG backend draws text as glyph outlines (DejaVu Sans ships with matplotlib), so a
chart looks the same on every machine and no string from a log ever reaches the markup as text.
The output is made safe to paste into an HTML page: the XML prolog, metadata (creator, date),
comments and the global ``*{...}`` style are removed, ids get a per-chart prefix so several
charts can share one page, and a fixed hash salt keeps the bytes identical run after run.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_STYLE = {
    "svg.hashsalt": "loganalyzer",  # stable clip-path ids
    "svg.fonttype": "path",  # text as outlines: no font needed, nothing to escape
    "text.parse_math": False,  # "$5 … $6" in an error code is drawn as written, not as math
    "text.usetex": False,
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.edgecolor": "#888888",
    "axes.titlesize": 10,
    "axes.titleweight": "bold",
    "legend.frameon": False,
}

# Okabe-Ito: distinguishable with the common colour-vision deficiencies and in grey print
PALETTE = ("#D55E00", "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#F0E442", "#000000")
GREY = "#9E9E9E"

_ID = re.compile(r'\bid="([^"]+)"')
_REMOVED = re.compile(
    r"<\?xml.*?\?>|<!DOCTYPE.*?>|<!--.*?-->|<metadata>.*?</metadata>|<style[^>]*>.*?</style>",
    re.DOTALL,
)


def _figure(width: float, height: float) -> tuple[Figure, Axes]:
    """A figure of its own, not pyplot's: nothing global to open or close, and pyplot's
    import (its GUI backend machinery) is never paid. Matplotlib is imported on first use:
    only HTML charts need it."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height))
    return fig, fig.subplots()


def _inline_svg(fig: Figure, chart_id: str, label: str) -> str:
    """The figure as an ``<svg>`` element safe to place inside an HTML page."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None}, bbox_inches="tight")
    svg = _REMOVED.sub("", buffer.getvalue()).strip()
    prefix = f"{chart_id}-"
    for old in set(_ID.findall(svg)):
        new = prefix + old
        svg = (
            svg.replace(f'id="{old}"', f'id="{new}"')
            .replace(f"url(#{old})", f"url(#{new})")
            .replace(f'href="#{old}"', f'href="#{new}"')
        )
    aria = label.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
    return svg.replace("<svg ", f'<svg class="chart-svg" role="img" aria-label="{aria}" ', 1)


def stacked_bars(
    chart_id: str,
    title: str,
    categories: Sequence[str],
    series: dict[str, Sequence[int]],
    colors: dict[str, str] | None = None,
    ylabel: str = "events",
) -> str:
    """Vertical stacked bars, one stack per category (a day or a cycle), one colour per series."""
    from matplotlib import rc_context

    with rc_context(_STYLE):
        fig, ax = _figure(min(10.0, max(5.0, 0.28 * len(categories) + 3)), 3.2)
        positions = list(range(len(categories)))
        bottom = [0] * len(categories)
        for index, (name, values) in enumerate(series.items()):
            color = (colors or {}).get(name, PALETTE[index % len(PALETTE)])
            ax.bar(positions, values, bottom=bottom, label=name, color=color, width=0.8)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        ax.set_xticks(positions, _thinned(categories), rotation=45, ha="right")
        ax.yaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="y", color="#E0E0E0", linewidth=0.6)
        ax.set_axisbelow(True)
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
        return _inline_svg(fig, chart_id, title)


def horizontal_bars(
    chart_id: str, title: str, labels: Sequence[str], values: Sequence[int], xlabel: str
) -> str:
    """Ranked horizontal bars, largest on top (top error codes)."""
    from matplotlib import rc_context

    with rc_context(_STYLE):
        fig, ax = _figure(8.0, 0.32 * len(labels) + 1.0)
        positions = list(range(len(labels)))[::-1]
        ax.barh(positions, values, color=PALETTE[0], height=0.7)
        ax.set_yticks(positions, [_shortened(label, 60) for label in labels])
        ax.set_title(title, loc="left")
        ax.set_xlabel(xlabel)
        ax.xaxis.get_major_locator().set_params(integer=True)
        ax.grid(axis="x", color="#E0E0E0", linewidth=0.6)
        ax.set_axisbelow(True)
        for y, value in zip(positions, values, strict=True):
            ax.annotate(
                f"{value:,}", (value, y), xytext=(3, 0), textcoords="offset points",
                va="center", fontsize=8,
            )
        return _inline_svg(fig, chart_id, title)


def _thinned(categories: Sequence[str], most: int = 24) -> list[str]:
    """Every n-th tick label when there are too many to read."""
    step = max(1, -(-len(categories) // most))
    return [label if i % step == 0 else "" for i, label in enumerate(categories)]


def _shortened(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
