"""The fast path for JSON exports: DuckDB's JSON reader with an explicit schema.

DuckDB parses the file in bounded memory and hands Arrow batches to Polars, so a 0.6 GB
portal download is read at several times the speed of ``json.load`` + pandas and without
holding the document in memory. Any error (malformed JSON, an unexpected type) makes the
caller fall back to ``json_careful``, which reads record by record and says where it broke.
"""

from __future__ import annotations

from collections.abc import Iterator

import duckdb
import polars as pl
import pyarrow as pa

from loganalyzer.prefetch import prefetch
from loganalyzer.readers.other_logs import envelope_category, page_log
from loganalyzer.readers.sniff import Kind
from loganalyzer.readers.sources import Source
from loganalyzer.schema import DETAIL_KEY_READ, DETAILS, RAW_SCHEMA, conformed

THREADS = 2
LOG = "_log"  # an envelope's category or a page's @odata.context: which log a record is of


class Unfolded(ValueError):
    """A record the fast reader's columns do not fit (no status found, or Graph's spelling in a
    diagnostic-settings file): the careful reader, which folds every spelling, takes over."""


# what the fast reader raises for input it cannot read (the careful reader then takes over)
REFUSALS = (duckdb.Error, pa.ArrowException, OSError, Unfolded)
_MAP = "MAP(VARCHAR, VARCHAR)"


def _bag(column: str) -> str:
    """An identity's or system's details: DuckDB builds a MAP slowly (a fifth of the read for
    these four bags), so only the key normalize reads is read, as a STRUCT field; anything but
    an object still refuses the file, as the MAP did."""
    return f'STRUCT("{DETAIL_KEY_READ[column] or "_"}" VARCHAR)'


def _identity(column: str, names: str = "id VARCHAR, displayName VARCHAR") -> str:
    return f"STRUCT({names}, identityType VARCHAR, details {_bag(column)})"


def _system(column: str, names: str = "id VARCHAR, displayName VARCHAR") -> str:
    return f"STRUCT({names}, details {_bag(column)})"


_ERROR_NAMES = ["errorCode", "reason", "additionalDetails", "errorCategory", "recommendedAction"]
_ERROR = ", ".join(f"{name} VARCHAR" for name in _ERROR_NAMES)
# the diagnostic spelling capitalises keys; whether it does inside the error objects is not
# documented, so both spellings are read there (the careful reader folds any case)
_CAPITALISED_ERROR_NAMES = [name[0].upper() + name[1:] for name in _ERROR_NAMES]
_EITHER_ERROR = _ERROR + ", " + ", ".join(f'"{n}" VARCHAR' for n in _CAPITALISED_ERROR_NAMES)
EVENT_COLUMNS = {
    "id": "VARCHAR",
    "activityDateTime": "VARCHAR",
    "tenantId": "VARCHAR",
    "jobId": "VARCHAR",
    "cycleId": "VARCHAR",
    "changeId": "VARCHAR",
    "provisioningAction": "VARCHAR",
    "action": "VARCHAR",
    # as text, checked by ``_NOT_A_DURATION``: DuckDB casts ``true`` to 1 in a BIGINT column
    "durationInMilliseconds": "VARCHAR",
    "initiatedBy": "STRUCT(id VARCHAR, displayName VARCHAR, initiatorType VARCHAR, "
    "initiatingType VARCHAR)",
    # an object on the wire; the v1.0 doc's array form makes DuckDB refuse the file and the
    # careful reader (which folds it) take over
    "servicePrincipal": "STRUCT(id VARCHAR, displayName VARCHAR, name VARCHAR)",
    "sourceSystem": _system("sourceSystem"),
    "targetSystem": _system("targetSystem"),
    "sourceIdentity": _identity("sourceIdentity"),
    "targetIdentity": _identity("targetIdentity"),
    "provisioningStatusInfo": f"STRUCT(status VARCHAR, errorInformation STRUCT({_ERROR}))",
    "statusInfo": f"STRUCT(status VARCHAR, {_ERROR})",
    "provisioningSteps": "STRUCT(name VARCHAR, provisioningStepType VARCHAR, status VARCHAR, "
    f"description VARCHAR, details {_MAP})[]",
    "modifiedProperties": "STRUCT(displayName VARCHAR, oldValue VARCHAR, newValue VARCHAR)[]",
}
_EVENT_STRUCT = "STRUCT(" + ", ".join(f'"{k}" {v}' for k, v in EVENT_COLUMNS.items()) + ")"

# The diagnostic-settings / event-hub copy (formats reference 3.1) spells the nested objects
# ``Id``/``Name``/``Type``/``Status``; DuckDB matches keys case-sensitively, so it has its own
# columns, renamed to Graph's in Polars (``_FOLD_DIAGNOSTIC``).
_DIAG_NAMES = '"Id" VARCHAR, "Name" VARCHAR'
DIAGNOSTIC_COLUMNS = {
    **EVENT_COLUMNS,
    "initiatedBy": 'STRUCT("Type" VARCHAR, "Id" VARCHAR, "Name" VARCHAR)',
    "servicePrincipal": 'STRUCT("Id" VARCHAR, "Name" VARCHAR)',
    **{c: _system(c, _DIAG_NAMES) for c in ("sourceSystem", "targetSystem")},
    **{c: _identity(c, _DIAG_NAMES) for c in ("sourceIdentity", "targetIdentity")},
    "provisioningStatusInfo":
        f'STRUCT("Status" VARCHAR, errorInformation STRUCT({_EITHER_ERROR}))',
    "statusInfo": f'STRUCT("Status" VARCHAR, {_EITHER_ERROR})',
}
_DIAG_STRUCT = "STRUCT(" + ", ".join(f'"{k}" {v}' for k, v in DIAGNOSTIC_COLUMNS.items()) + ")"


def _projection(prefix: str) -> str:
    """SELECT list of the event columns under ``prefix`` ('' or 'e.'), parsed as typed.

    Folding variants (``initiatingType``, ``servicePrincipal.name``) is left to Polars: in SQL
    it cost a fifth of the read time.
    """
    return ", ".join(f'{prefix}"{name}" AS "{name}"' for name in EVENT_COLUMNS)


_FOLD_VARIANTS = (
    pl.struct(
        pl.col("initiatedBy").struct.field("id"),
        pl.col("initiatedBy").struct.field("displayName"),
        pl.coalesce(
            pl.col("initiatedBy").struct.field("initiatorType"),
            pl.col("initiatedBy").struct.field("initiatingType"),
        ).alias("initiatorType"),
    ).alias("initiatedBy"),
    pl.when(pl.col("servicePrincipal").is_not_null())
    .then(
        pl.struct(
            pl.col("servicePrincipal").struct.field("id"),
            pl.coalesce(
                pl.col("servicePrincipal").struct.field("displayName"),
                pl.col("servicePrincipal").struct.field("name"),
            ).alias("displayName"),
        )
    )
    .alias("servicePrincipal"),
)


def _pairs(column: str) -> pl.Expr:
    """``column`` with its details bag as RAW_SCHEMA's key/value list: the one pair read."""
    key = DETAIL_KEY_READ[column]
    details = pl.lit(None, DETAILS)
    if key is not None:
        value = pl.col(column).struct.field("details").struct.field(key)
        pair = pl.struct(pl.lit(key).alias("key"), value.alias("value"))
        details = pl.when(value.is_not_null()).then(pl.concat_list(pair)).otherwise(details)
    return pl.col(column).struct.with_fields(details.alias("details"))


_NO_STATUS = (
    pl.col("provisioningStatusInfo").struct.field("status").is_null()
    & pl.col("statusInfo").struct.field("status").is_null()
)


_DURATION = pl.col("durationInMilliseconds").cast(pl.Int64, strict=False)
# anything but a whole number of 64 bits (a boolean, 12.5, 1e400): the careful reader notes it
_NOT_A_DURATION = pl.col("durationInMilliseconds").is_not_null() & _DURATION.is_null()


def _field(column: str, name: str, alias: str) -> pl.Expr:
    return pl.col(column).struct.field(name).alias(alias)


def _either_error(error: pl.Expr) -> list[pl.Expr]:
    """The error fields of ``error`` (a struct read with ``_EITHER_ERROR``), either spelling."""
    return [
        pl.coalesce(error.struct.field(name), error.struct.field(capitalised)).alias(name)
        for name, capitalised in zip(_ERROR_NAMES, _CAPITALISED_ERROR_NAMES, strict=True)
    ]


_ERROR_INFORMATION = pl.col("provisioningStatusInfo").struct.field("errorInformation")
_FOLD_DIAGNOSTIC = (
    pl.struct(_field("initiatedBy", "Id", "id"), _field("initiatedBy", "Name", "displayName"),
              _field("initiatedBy", "Type", "initiatorType")).alias("initiatedBy"),
    pl.col("servicePrincipal").struct.rename_fields(["id", "displayName"]),
    *(pl.col(c).struct.rename_fields(["id", "displayName", "details"])
      for c in ("sourceSystem", "targetSystem")),
    *(pl.col(c).struct.rename_fields(["id", "displayName", "identityType", "details"])
      for c in ("sourceIdentity", "targetIdentity")),
    # the envelope's resultType is the status when the record has none (3.1)
    pl.struct(
        pl.coalesce(pl.col("provisioningStatusInfo").struct.field("Status"), "resultType")
        .alias("status"),
        pl.when(_ERROR_INFORMATION.is_not_null())
        .then(pl.struct(_either_error(_ERROR_INFORMATION)))
        .alias("errorInformation"),
    ).alias("provisioningStatusInfo"),
    pl.when(pl.col("statusInfo").is_not_null())
    .then(pl.struct(pl.col("statusInfo").struct.field("Status").alias("status"),
                    *_either_error(pl.col("statusInfo"))))
    .alias("statusInfo"),
)
# in the diagnostic spelling, a record spelled like Graph would lose its app: refuse the file
_NO_APP = pl.col("servicePrincipal").struct.field("Id").is_null() & pl.col(
    "servicePrincipal").struct.field("Name").is_null()


def _query(source: Source, kind: Kind, envelope: bool, diagnostic: bool = False) -> str:
    path = str(source.path).replace("'", "''")
    compression = "gzip" if source.gzip else "uncompressed"
    opts = f"compression='{compression}', maximum_object_size=16777216"
    if kind in (Kind.GRAPH_PAGE, Kind.GRAPH_PAGES_ARRAY):  # one page, or several
        pages = "array" if kind is Kind.GRAPH_PAGES_ARRAY else "unstructured"
        inner = (
            f"SELECT unnest(value) AS e, \"@odata.context\" AS {LOG} FROM read_json('{path}', "
            f"format='{pages}', columns={{'value': '{_EVENT_STRUCT}[]', "
            f"'@odata.context': 'VARCHAR'}}, {opts})"
        )
        return f"SELECT {_projection('e.')}, {LOG} FROM ({inner})"
    fmt = "array" if kind is Kind.JSON_ARRAY else "newline_delimited"
    if envelope and diagnostic:
        columns = (f"{{'properties': '{_DIAG_STRUCT}', 'resultType': 'VARCHAR', "
                   "'category': 'VARCHAR'}")
        inner = (
            f"SELECT properties AS e, resultType, category AS {LOG} FROM read_json('{path}', "
            f"format='{fmt}', columns={columns}, {opts})"
        )
        return f"SELECT {_projection('e.')}, resultType, {LOG} FROM ({inner})"
    if envelope:
        columns = f"{{'properties': '{_EVENT_STRUCT}', 'category': 'VARCHAR'}}"
        inner = (
            f"SELECT properties AS e, category AS {LOG} FROM read_json('{path}', "
            f"format='{fmt}', columns={columns}, {opts})"
        )
        return f"SELECT {_projection('e.')}, {LOG} FROM ({inner})"
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in EVENT_COLUMNS.items()) + "}"
    reader = f"read_json('{path}', format='{fmt}', columns={columns}, {opts})"
    return f"SELECT {_projection('')} FROM {reader}"


def _refuse_other_logs(frame: pl.DataFrame, kind: Kind, offset: int) -> None:
    """Records of another log (an envelope's category, a page's endpoint) are the careful
    reader's to count and skip (``other_logs``)."""
    if LOG not in frame.columns:
        return
    is_page = kind in (Kind.GRAPH_PAGE, Kind.GRAPH_PAGES_ARRAY)
    for said in frame[LOG].drop_nulls().unique().to_list():
        other = page_log(said) if is_page else envelope_category({"category": said})
        if other:
            raise Unfolded(f"a record after record {offset} is of another log ({other})")


# what closes a whole file of each kind (a JSON array; a Graph page, an object)
_CLOSING = {Kind.JSON_ARRAY: b"]", Kind.GRAPH_PAGES_ARRAY: b"]", Kind.GRAPH_PAGE: b"}"}
_TAIL = 4096


def _refuse_unclosed(source: Source, kind: Kind) -> None:
    """DuckDB reads an array cut between two records as if it were closed, so a download
    that stopped there would lose its tail unsaid: such a file is the careful reader's,
    which names the cut. A cut ``.gz`` fails its own check."""
    closing = _CLOSING.get(kind)
    if closing is None or source.gzip:
        return
    with open(source.path, "rb") as handle:
        size = handle.seek(0, 2)
        handle.seek(max(0, size - _TAIL))
        tail = handle.read().rstrip()
    if tail and not tail.endswith(closing):
        raise Unfolded(f"the file does not end with {closing.decode()!r}: cut off?")


def read_fast(
    source: Source, kind: Kind, envelope: bool, batch_rows: int, diagnostic: bool = False,
    offset: int = 0,
) -> Iterator[pl.DataFrame]:
    """Yield RAW_SCHEMA batches, numbering records after ``offset``. Raises duckdb.Error on
    anything it cannot read.

    ``diagnostic``: the envelopes' ``properties`` use the diagnostic-settings spelling."""
    _refuse_unclosed(source, kind)
    diagnostic = diagnostic and envelope and kind not in (Kind.GRAPH_PAGE,
                                                          Kind.GRAPH_PAGES_ARRAY)
    con = duckdb.connect(config={"threads": THREADS, "preserve_insertion_order": True})
    try:
        reader = con.sql(_query(source, kind, envelope, diagnostic)).to_arrow_reader(batch_rows)
        # DuckDB parses a file on one core, the slowest stage of ingest: it parses the next
        # batch in its own thread while this one is folded here
        for batch in prefetch(iter(reader)):
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            if diagnostic and frame.select(_NO_APP.any()).item():
                raise Unfolded(f"a record after record {offset} is not in the "
                               "diagnostic-settings spelling")
            frame = frame.with_columns(
                *(_FOLD_DIAGNOSTIC if diagnostic else _FOLD_VARIANTS),
                pl.lit(source.name).alias("source_file"),
                (pl.int_range(pl.len(), dtype=pl.Int64) + offset + 1).alias("source_record"),
            ).with_columns(_pairs(column) for column in DETAIL_KEY_READ)
            _refuse_other_logs(frame, kind, offset)
            if frame.select(_NO_STATUS.any()).item():
                raise Unfolded(f"a record after record {offset} has no status")
            if frame.select(_NOT_A_DURATION.any()).item():
                raise Unfolded(f"a record after record {offset} has a duration that is not "
                               "a whole number")
            frame = frame.with_columns(_DURATION)
            offset += frame.height
            yield conformed(frame, RAW_SCHEMA)
    finally:
        con.close()
