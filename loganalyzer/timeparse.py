"""Timestamps as the log sources write them, parsed to UTC.

Graph writes whole seconds (``2026-07-17T12:31:10Z``), storage exports 7 fractional digits,
Log Analytics and details use locale strings (``3/24/2026 7:17:42 AM``,
``11/3/2026, 7:17:42.123 AM``). The sentinel ``0001-01-01T00:00:00Z`` and ``""`` mean "none".
ISO is tried first on the whole column; the slower fallbacks only run on what ISO left.
"""

from __future__ import annotations

import polars as pl

from loganalyzer.schema import UTC_TIME

# chrono's %.f is optional, so this one format reads whole seconds and any fraction
_ISO = "%Y-%m-%dT%H:%M:%S%.f%z"
_FALLBACK_FORMATS = (
    ("%Y-%m-%dT%H:%M:%S%.f", False),
    ("%Y-%m-%d %H:%M:%S%.f%z", True),
    ("%Y-%m-%d %H:%M:%S%.f", False),
    ("%m/%d/%Y, %I:%M:%S%.f %p", False),
    ("%m/%d/%Y %I:%M:%S%.f %p", False),
    ("%m/%d/%Y %H:%M:%S%.f", False),
    # a portal CSV opened and saved again in Excel (en-US) loses the seconds
    ("%m/%d/%Y %H:%M", False),
    ("%m/%d/%Y %I:%M %p", False),
)


def _cleaned(text: pl.Expr) -> pl.Expr:
    cleaned = (
        text.str.strip_chars()
        .str.replace(r"\s*UTC$", "")
        .str.replace(r"Z$", "+00:00")
        .str.replace(r"(\.\d{9})\d+", "$1")  # chrono reads at most 9 fractional digits
    )
    return pl.when(cleaned.str.starts_with("0001-01-01")).then(None).otherwise(cleaned)


def parse_iso(text: pl.Expr) -> pl.Expr:
    """ISO 8601 with ``Z`` or an offset and any fraction; null when it is not that."""
    return _cleaned(text).str.strptime(UTC_TIME, _ISO, strict=False)


def _parse_with(text: pl.Expr, fmt: str, has_zone: bool) -> pl.Expr:
    if has_zone:
        return text.str.strptime(UTC_TIME, fmt, strict=False)
    return text.str.strptime(pl.Datetime("us"), fmt, strict=False).dt.replace_time_zone("UTC")


def parse_utc(text: pl.Expr) -> pl.Expr:
    """Every known format (slower): for small columns and details."""
    cleaned = _cleaned(text)
    attempts = [cleaned.str.strptime(UTC_TIME, _ISO, strict=False)]
    attempts += [_parse_with(cleaned, fmt, zone) for fmt, zone in _FALLBACK_FORMATS]
    return pl.coalesce(attempts)


def parse_utc_column(frame: pl.DataFrame, column: str, alias: str) -> pl.DataFrame:
    """Add ``alias`` = ``column`` parsed; the fallback formats run only on rows ISO missed."""
    frame = frame.with_columns(parse_iso(pl.col(column)).alias(alias))
    missed = pl.col(alias).is_null() & pl.col(column).is_not_null()
    if frame.select(missed.any()).item():
        frame = frame.with_columns(
            pl.when(missed).then(parse_utc(pl.col(column))).otherwise(pl.col(alias)).alias(alias)
        )
    return frame
