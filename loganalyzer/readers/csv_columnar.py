"""One portal CSV download read column-wise: pyarrow parses, Polars joins on change ID.

The record-by-record reader (``csv_portal``) knows every way a download can be broken and says
where; building a Python dict per event costs it ~30 s per 100,000 events. This reader takes
the common case, a clean download, at the speed of the JSON path: one file of each kind at
most, every row as wide as its header, every event with an id and a date, every step and
property with a change ID that names an event, numbers where numbers belong, step details that
can be read. For anything else it refuses before yielding a row and the careful reader reads
that download, so what is reported and kept is the same whichever reader ran (tests compare
the two). Several downloads are paired by ``csv_downloads`` and read one at a time.
"""

from __future__ import annotations

from collections.abc import Iterator

import polars as pl
import pyarrow as pa

from loganalyzer.readers.csv_details import parse_details
from loganalyzer.readers.csv_downloads import Download
from loganalyzer.readers.csv_headers import CsvKind
from loganalyzer.readers.csv_portal import PortalFile, PortalReader
from loganalyzer.readers.locale_numbers import ungrouped_expr
from loganalyzer.readers.records import raw_record, valid_unicode
from loganalyzer.schema import DETAILS, RAW_SCHEMA, conformed
from loganalyzer.timeparse import year_first_dates


class Refused(Exception):
    """The download is not clean enough for this reader."""


def read_portal(download: Download, notes: list[str], batch_rows: int) -> Iterator[pl.DataFrame]:
    """RAW_SCHEMA batches of one clean portal download; raises ``Refused`` (having read no
    row) for anything the careful reader should handle. The files are read here; each batch
    is joined to its steps and properties as it is asked for, so it holds its own copy of
    them and the download is freed once its last batch is taken."""
    by_kind = {kind: [f for f in download.children if f.kind is kind] for kind in CsvKind}
    if any(len(f) > 1 for f in by_kind.values()):
        raise Refused(f"{download.main.name}: two files of one kind")
    main = download.main
    steps = by_kind[CsvKind.STEPS][0] if by_kind[CsvKind.STEPS] else None
    props = by_kind[CsvKind.PROPERTIES][0] if by_kind[CsvKind.PROPERTIES] else None
    for child in (steps, props):
        if child is not None and "eventId" in child.columns.positions:
            raise Refused("child rows name their event")
    events = _events(main)
    lists = {"provisioningSteps": _steps(steps, events) if steps else None,
             "modifiedProperties": _properties(props, events) if props else None}
    _add_notes(PortalReader(download.files, notes), main, steps, props)
    return _joined(events, lists, batch_rows)


# a download read: its batches (joined as they are asked for) and notes, or the refusal
Read = tuple[Iterator[pl.DataFrame], list[str]] | Refused


def read_or_refuse(download: Download, batch_rows: int) -> Read:
    """A download as ``read_portal`` read or refused it. Downloads are read one at a time:
    reading the next one in a second thread while this one was stored held two at once
    (1M events in ten downloads: 1.95-2.01 GB against 1.55-1.60 GB) and gained nothing
    measurable on two cores, whose other stages already overlap (40.3-48.0 s against
    41.2-47.3 s, three alternating pairs)."""
    notes: list[str] = []
    try:
        return read_portal(download, notes, batch_rows), notes
    except Refused as exc:
        return exc


def _joined(events: pl.DataFrame, lists: dict[str, pl.DataFrame | None],
            batch_rows: int) -> Iterator[pl.DataFrame]:
    last = (events.height - 1) // batch_rows * batch_rows
    for start in range(0, events.height, batch_rows):
        raw = events.slice(start, batch_rows)
        for name, per_change in lists.items():
            empty = pl.lit([], dtype=RAW_SCHEMA[name])
            if per_change is None:
                raw = raw.with_columns(empty.alias(name))
            else:
                raw = raw.with_columns(_change_key().alias("_change")).join(
                    per_change.rename({"changeId": "_change"}), on="_change", how="left",
                    maintain_order="left").drop("_change")
                raw = raw.with_columns(pl.col(name).fill_null(empty))
        if start == last:
            lists.clear()  # the steps are freed while the last batch is used
        yield conformed(raw, RAW_SCHEMA)


def _add_notes(reader: PortalReader, main: PortalFile, *children: PortalFile | None) -> None:
    """The notes the careful reader writes for a clean download, in its order."""
    for child in children:
        if child is not None:
            reader._note_columns(child)
    reader._note_missing_files(main)
    reader._note_columns(main)
    if "id" not in main.columns.positions:
        reader.notes.append(
            f"{main.name}: no 'ID' column: the change ID stands in for the event id, so the "
            "same events loaded from another export are not recognised as duplicates"
        )


def _read(file: PortalFile) -> pl.DataFrame:
    """Every data row as text (c0, c1, ...) plus ``_row`` (file order); refuses a row of the
    wrong width, text that is not UTF-8 or any other parse error."""
    try:
        frame = file.table.text_columns()
    except (pa.ArrowException, OSError) as exc:  # a row of the wrong width, not UTF-8, ...
        raise Refused(f"{file.name}: {exc}") from exc
    # the careful reader skips rows whose every cell is empty and does not count them
    blank = ~pl.any_horizontal(pl.all() != "")
    if frame.select(blank.any()).item():
        frame = frame.filter(~blank)
    return frame.with_row_index("_row", offset=1)


def _value(file: PortalFile, path: str, none_words: bool = False) -> pl.Expr:
    """A column's stripped text, null when empty or not a column of this file."""
    index = file.columns.positions.get(path)
    if index is None:
        return pl.lit(None, pl.Utf8)
    text = pl.col(f"c{index}").str.strip_chars()
    empty = text == ""
    if none_words:
        empty = empty | text.str.to_lowercase().is_in(["none", "null"])
    return pl.when(empty).then(None).otherwise(text)


def _present(*exprs: pl.Expr) -> pl.Expr:
    return pl.any_horizontal(*(e.is_not_null() for e in exprs))


def _object(fields: dict[str, pl.Expr]) -> pl.Expr:
    """A struct of these fields, null when none of them has a value."""
    return pl.when(_present(*fields.values())).then(
        pl.struct(*(e.alias(k) for k, e in fields.items()))
    )


def _events(main: PortalFile) -> pl.DataFrame:
    # each column's value once (the structs below name some of them several times)
    known = main.columns.positions
    rows = _read(main).select(
        "_row", *(_value(main, path, none_words=path.endswith(("errorCode", "reason")))
                  .alias(path) for path in known))

    def v(path: str) -> pl.Expr:
        return pl.col(path) if path in known else pl.lit(None, pl.Utf8)

    no_details = pl.lit([], dtype=DETAILS)
    upn = v("sourceIdentity.details.UserPrincipalName")
    error = {k: v(f"provisioningStatusInfo.errorInformation.{k}") for k in (
        "errorCode", "reason", "additionalDetails", "errorCategory", "recommendedAction")}
    status = v("provisioningStatusInfo.status")

    def system(name: str) -> pl.Expr:
        fields = {k: v(f"{name}.{k}") for k in ("id", "displayName")}
        kept = pl.struct(*(e.alias(k) for k, e in fields.items()), no_details.alias("details"))
        return pl.when(_present(*fields.values())).then(kept)

    def identity(name: str, details: pl.Expr) -> pl.Expr:
        fields = {k: v(f"{name}.{k}") for k in ("id", "displayName", "identityType")}
        kept = pl.struct(*(e.alias(k) for k, e in fields.items()), details.alias("details"))
        return pl.when(_present(*fields.values()) | details.list.len().gt(0)).then(kept)

    upn_details = (
        pl.when(upn.is_not_null())
        .then(pl.concat_list(pl.struct(pl.lit("UserPrincipalName").alias("key"),
                                       upn.alias("value"))))
        .otherwise(no_details)
    )
    duration_text = ungrouped_expr(v("durationInMilliseconds"))  # 1,458 from a re-saved sheet
    duration = duration_text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False)
    events = rows.select(
        pl.coalesce(v("id"), v("changeId")).alias("id"),
        *(v(k).alias(k) for k in ("activityDateTime", "tenantId", "jobId", "cycleId",
                                  "changeId", "provisioningAction")),
        pl.lit(None, pl.Utf8).alias("action"),
        duration.alias("durationInMilliseconds"),
        duration_text.is_not_null().alias("_has_duration"),
        pl.struct(*(v(f"initiatedBy.{k}").alias(k)
                    for k in ("id", "displayName", "initiatorType"))).alias("initiatedBy"),
        _object({"id": v("servicePrincipal.id"),
                 "displayName": v("servicePrincipal.displayName")}).alias("servicePrincipal"),
        system("sourceSystem").alias("sourceSystem"),
        system("targetSystem").alias("targetSystem"),
        identity("sourceIdentity", upn_details).alias("sourceIdentity"),
        identity("targetIdentity", no_details).alias("targetIdentity"),
        pl.when(_present(status, *error.values()))
        .then(pl.struct(status.alias("status"), _object(error).alias("errorInformation")))
        .alias("provisioningStatusInfo"),
        pl.lit(None, RAW_SCHEMA["statusInfo"]).alias("statusInfo"),
        pl.lit(main.name).alias("source_file"),
        pl.col("_row").cast(pl.Int64).alias("source_record"),
    )
    # the file's day/month order decided once, from all its dates, for every batch
    events = events.with_columns(year_first_dates(events["activityDateTime"]))
    unusable = (
        pl.col("id").is_null()
        | pl.col("activityDateTime").is_null()
        | (pl.col("_has_duration") & pl.col("durationInMilliseconds").is_null())
    )
    if events.select(unusable.any()).item() or not events["id"].is_unique().all():
        raise Refused(f"{main.name}: an event without id or date, a bad number or a repeat")
    return events.drop("_has_duration")


def _change_key() -> pl.Expr:
    """The key a child row is joined on: its change ID lower-cased (a GUID, in any case)."""
    return pl.col("changeId").str.to_lowercase()


def _children_of(rows: pl.DataFrame, events: pl.DataFrame, file: PortalFile) -> None:
    """Refuse rows without a change ID, or naming no event (the careful reader says where).
    ``rows`` hold lower-cased change IDs."""
    orphan = pl.col("changeId").is_null() | ~pl.col("changeId").is_in(
        events.select(_change_key())["changeId"].drop_nulls().implode()
    )
    if rows.select(orphan.any()).item():
        raise Refused(f"{file.name}: a row without a change ID of the main file")


def _steps(file: PortalFile, events: pl.DataFrame) -> pl.DataFrame:
    rows = _read(file)
    order_text = _value(file, "order")
    rows = rows.select(
        "_row",
        _value(file, "changeId").str.to_lowercase().alias("changeId"),
        order_text.is_not_null().alias("_has_order"),
        order_text.cast(pl.Float64, strict=False).cast(pl.Int64, strict=False).alias("_order"),
        _value(file, "name").alias("name"),
        _value(file, "provisioningStepType").alias("provisioningStepType"),
        _value(file, "status").alias("status"),
        _value(file, "description").alias("description"),
        _value(file, "details").fill_null("").alias("_details"),
    )
    _children_of(rows, events, file)
    if "order" in file.columns.positions:
        # the careful reader sorts an event's steps by number only when all have one
        if not rows.select((pl.col("_has_order") & pl.col("_order").is_not_null()).all()).item():
            raise Refused(f"{file.name}: a step number that is missing or not a number")
        rows = rows.sort("changeId", "_order", "_row")
    details = _details(rows["_details"], file)
    steps = rows.drop("_details").with_columns(details.alias("details"))  # the text is freed
    return steps.group_by("changeId", maintain_order=True).agg(
        pl.struct("name", "provisioningStepType", "status", "description", "details")
        .alias("provisioningSteps")
    )


# a details cell that is a JSON object of strings, as key/value pairs in their order; one row
# out per row in, in order (DuckDB keeps the insertion order of a projection; checked below)
_DETAILS_SQL = """
SELECT _i, list_transform(
         list_filter(map_entries(m), lambda e: e.key <> '@odata.type'),
         lambda e: struct_pack(key := e.key, value := json_extract_string(e.value, '$'))
       ) AS details,
       list_bool_and(list_transform(map_values(m), lambda x: json_type(x) = 'VARCHAR')) AS ok
FROM (SELECT _i, CASE WHEN starts_with(_details, '{')
                      THEN TRY(from_json(_details, '"MAP(VARCHAR, JSON)"')) END AS m
      FROM cells)
"""


def _details(texts: pl.Series, file: PortalFile) -> pl.Series:
    """The details (key/value list) of each step, in order. JSON objects of strings are read
    by DuckDB; the rest (key=value text, arrays, other value types) as the careful reader
    reads them."""
    import duckdb  # loaded only when needed: every command would pay for its import

    cells = pl.DataFrame({"_details": texts}).with_row_index("_i")
    con = duckdb.connect(config={"threads": 2})
    try:
        con.register("cells", cells.to_arrow(compat_level=pl.CompatLevel.newest()))  # no copy
        parsed = con.sql(_DETAILS_SQL).pl()
    finally:
        con.close()
    if not parsed["_i"].is_sorted():
        parsed = parsed.sort("_i")
    empty = texts == ""
    details = parsed["details"].cast(DETAILS)
    details = pl.select(pl.when(empty).then(pl.lit([], DETAILS)).otherwise(details)).to_series()
    good = (parsed["ok"].fill_null(details.list.len() == 0) & details.is_not_null()) | empty
    if good.all():
        return details.alias("details")
    rest = cells.filter(~good)
    slow = valid_unicode([_careful_details(text, file) for text in rest["_details"].to_list()])
    return pl.concat([
        pl.DataFrame({"_i": cells["_i"], "details": details}).filter(good),
        pl.DataFrame({"_i": rest["_i"], "details": pl.Series(slow, dtype=DETAILS)}),
    ]).sort("_i")["details"]


def _careful_details(text: str, file: PortalFile) -> list[dict]:
    bag = parse_details(text)
    if bag is None:
        raise Refused(f"{file.name}: step details that cannot be read")
    row, ignored = raw_record({"provisioningSteps": [{"details": bag}]}, file.name, 0)
    if ignored:
        raise Refused(f"{file.name}: step details of the wrong type")
    return row["provisioningSteps"][0]["details"]


def _properties(file: PortalFile, events: pl.DataFrame) -> pl.DataFrame:
    rows = _read(file).select(
        _value(file, "changeId").str.to_lowercase().alias("changeId"),
        _value(file, "displayName").alias("displayName"),
        _value(file, "oldValue").alias("oldValue"),
        _value(file, "newValue").alias("newValue"),
    )
    _children_of(rows, events, file)
    if rows["displayName"].null_count():
        raise Refused(f"{file.name}: a property without a name")
    return rows.group_by("changeId", maintain_order=True).agg(
        pl.struct("displayName", "oldValue", "newValue").alias("modifiedProperties")
    )
