"""Timestamps as the log sources write them, parsed to UTC.

Graph writes whole seconds (``2026-07-17T12:31:10Z``), storage exports 7 fractional digits,
Log Analytics and details use locale strings (``3/24/2026 7:17:42 AM``,
``11/3/2026, 7:17:42.123 AM``). The sentinel ``0001-01-01T00:00:00Z`` and ``""`` mean "none".
"""

from __future__ import annotations

import polars as pl

from loganalyzer.schema import UTC_TIME

_ISO_FORMATS = (
    "%Y-%m-%dT%H:%M:%S%.f%z",
    "%Y-%m-%dT%H:%M:%S%z",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%d %H:%M:%S",
)
_US_FORMATS = (
    "%m/%d/%Y, %I:%M:%S%.f %p",
    "%m/%d/%Y %I:%M:%S%.f %p",
    "%m/%d/%Y, %I:%M:%S %p",
    "%m/%d/%Y %I:%M:%S %p",
    "%m/%d/%Y %H:%M:%S",
)


def parse_utc(text: pl.Expr) -> pl.Expr:
    """Parse ISO 8601 (any fraction length, ``Z`` or offset) or US-locale text to UTC."""
    cleaned = (
        text.str.strip_chars()
        .str.replace(r"\s*UTC$", "")
        .str.replace(r"Z$", "+00:00")
        # chrono accepts at most 9 fractional digits; Entra writes 7, some tools more
        .str.replace(r"(\.\d{1,9})\d*", "$1")
    )
    cleaned = pl.when(cleaned.str.starts_with("0001-01-01")).then(None).otherwise(cleaned)
    attempts = []
    for fmt in _ISO_FORMATS + _US_FORMATS:
        if "%z" in fmt:
            attempts.append(cleaned.str.strptime(UTC_TIME, fmt, strict=False))
        else:
            naive = cleaned.str.strptime(pl.Datetime("us"), fmt, strict=False)
            attempts.append(naive.dt.replace_time_zone("UTC"))
    return pl.coalesce(attempts).cast(UTC_TIME)
