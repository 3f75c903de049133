"""Timestamps as the log sources write them, parsed to UTC.

Graph writes whole seconds (``2026-07-17T12:31:10Z``), storage exports 7 fractional digits,
Log Analytics and details use locale strings (``3/24/2026 7:17:42 AM``,
``11/3/2026, 7:17:42.123 AM``). The sentinel ``0001-01-01T00:00:00Z`` and ``""`` mean "none".
ISO is tried first on the whole column; the slower fallbacks only run on what ISO left.

A CSV re-saved by Excel writes dates in its locale: ``24/03/2026 08:06`` (day first, as in
the UK), ``24.03.2026 08:06`` (Germany, Norway), ``2026-03-24 08:06`` (Sweden). Whether
``03/04/2026`` is the 3rd of April or the 4th of March is decided for a whole column from
the dates that can only be one (a first number over 12 is a day), never per value; dotted
dates, and dates whose time has a decimal comma, are always day first.

Log Analytics writes TimeGenerated in the portal's regional format (JavaScript's
``toLocaleString`` with milliseconds): ``24.3.2026, 8:06:10,099`` in Norway and Germany,
``2026-03-24 8:06:10,099`` in Sweden, ``24.3.2026, 8.06.10,099`` in Denmark and
``24.3.2026 klo 8.06.10,099`` in Finland; ``_regional`` rewrites the time part with colons and a
decimal point.
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
    ("%Y-%m-%d %H:%M", False),
    ("%Y-%m-%d %I:%M:%S%.f %p", False),
    ("%Y-%m-%d %I:%M %p", False),
)
# numeric dates in either order, rewritten year first (``_year_first``) and then read so
_NUMERIC_DATE = r"^(\d{1,2})([/.])(\d{1,2})[/.](\d{4}),?"


def day_first(texts: pl.Series) -> bool:
    """Whether the numeric dates among ``texts`` write the day first: some are dotted, or
    some have a first number over 12 and none a second one over 12 (which only a
    month-first date has). Month first, the portal's and Log Analytics' en-US, otherwise."""
    parts = texts.str.extract_groups(_NUMERIC_DATE).struct.unnest().drop_nulls()
    if parts.is_empty():
        return False
    first, second = parts["1"].cast(pl.Int32), parts["3"].cast(pl.Int32)
    if (second > 12).any():
        return False
    # a decimal comma in the time (fr-FR '03/11/2026 7:17:42,123') is never a month-first
    # locale's
    comma = texts.str.contains(_COMMA_FRACTION).any()
    return bool((parts["2"] == ".").any() or (first > 12).any() or comma)


def year_first_dates(texts: pl.Series) -> pl.Series:
    """``texts`` with their numeric dates rewritten year first when the whole series shows
    them day first (``day_first``), the rest as they are: for a reader holding a whole file,
    so that a batch of only the 1st to the 12th of a month is not read month first."""
    if not day_first(texts):
        return texts
    rewritten = _year_first(pl.col(texts.name).str.strip_chars(), day_first=True)
    return texts.to_frame().select(
        pl.coalesce(rewritten, pl.col(texts.name)).alias(texts.name)).to_series()


def _year_first(text: pl.Expr, day_first: bool) -> pl.Expr:
    """A numeric date rewritten ``yyyy-mm-dd`` with the time as written after it."""
    groups = text.str.extract_groups(_NUMERIC_DATE)
    first, second = groups.struct.field("1"), groups.struct.field("3")
    day, month = (first, second) if day_first else (second, first)
    rest = text.str.replace(_NUMERIC_DATE, "").str.strip_chars()
    return pl.concat_str(groups.struct.field("4"), pl.lit("-"), month.str.zfill(2), pl.lit("-"),
                         day.str.zfill(2), pl.lit(" "), rest)


def _cleaned(text: pl.Expr) -> pl.Expr:
    cleaned = (
        text.str.strip_chars()
        .str.replace(r"\s*UTC$", "")
        .str.replace(r"[Zz]$", "+00:00")  # RFC 3339 allows a lower-case z
        .str.replace(r"(\.\d{9})\d+", "$1")  # chrono reads at most 9 fractional digits
    )
    return pl.when(cleaned.str.starts_with("0001-01-01")).then(None).otherwise(cleaned)


# a time after the date: Danish and Finnish dots between its parts, a decimal comma
_DOTTED_TIME = r"(^|[\s,])(\d{1,2})\.(\d{2})\.(\d{2})(\D|$)"
_COMMA_FRACTION = r"(\d:\d{2}),(\d+)"


def _regional(cleaned: pl.Expr) -> pl.Expr:
    """A European regional format's time written as the fallback formats read it."""
    return (cleaned.str.replace(r"\s+klo\s+", " ")
            .str.replace(_DOTTED_TIME, "${1}${2}:${3}:${4}${5}")
            .str.replace(_COMMA_FRACTION, "${1}.${2}"))


def parse_iso(text: pl.Expr) -> pl.Expr:
    """ISO 8601 with ``Z`` or an offset and any fraction; null when it is not that."""
    return _cleaned(text).str.strptime(UTC_TIME, _ISO, strict=False)


def _parse_with(text: pl.Expr, fmt: str, has_zone: bool) -> pl.Expr:
    if has_zone:
        return text.str.strptime(UTC_TIME, fmt, strict=False)
    return text.str.strptime(pl.Datetime("us"), fmt, strict=False).dt.replace_time_zone("UTC")


def parse_utc(text: pl.Expr) -> pl.Expr:
    """Every known format (slower): for small columns and details."""
    cleaned = _regional(_cleaned(text))
    attempts = [cleaned.str.strptime(UTC_TIME, _ISO, strict=False)]
    attempts += [_parse_with(cleaned, fmt, zone) for fmt, zone in _FALLBACK_FORMATS]
    return pl.coalesce(attempts)


def parse_utc_column(frame: pl.DataFrame, column: str, alias: str) -> pl.DataFrame:
    """Add ``alias`` = ``column`` parsed; the fallback formats run only on rows ISO missed.
    Numeric dates are read in the order the rows ISO missed show (``day_first``)."""
    frame = frame.with_columns(parse_iso(pl.col(column)).alias(alias))
    missed = pl.col(alias).is_null() & pl.col(column).is_not_null()
    if frame.select(missed.any()).item():
        order = day_first(frame.filter(missed).select(_cleaned(pl.col(column))).to_series())
        cleaned = _regional(_cleaned(pl.col(column)))
        parsed = (  # a numeric date in the column's order only, never the other as a fallback
            pl.when(cleaned.str.contains(_NUMERIC_DATE))
            .then(parse_utc(_year_first(cleaned, order)))
            .otherwise(parse_utc(pl.col(column)))
        )
        frame = frame.with_columns(
            pl.when(missed).then(parsed).otherwise(pl.col(alias)).alias(alias)
        )
    return frame
