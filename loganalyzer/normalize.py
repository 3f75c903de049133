"""Raw Graph-shaped records -> the three canonical frames (events, steps, modified properties).

Everything here is a Polars expression over a whole batch, so a 200,000-event export is
normalised in vectorised passes. Records that cannot be used (no id, no parseable time) are
returned as problems with their file and record number, never dropped silently.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

import polars as pl

from loganalyzer import reasons
from loganalyzer.masking import mask_columns, mask_details, mask_named
from loganalyzer.problems import Problem
from loganalyzer.schema import (
    DETAIL_KEY_READ,
    EVENTS_SCHEMA,
    MODIFIED_PROPERTIES_SCHEMA,
    STEPS_SCHEMA,
    conformed,
    empty_frame,
)
from loganalyzer.skip_classes import with_skip_classes
from loganalyzer.textsafe import shown
from loganalyzer.timeparse import parse_utc_column

Table = pl.DataFrame | pl.LazyFrame


@dataclass
class Frames:
    """The canonical model of one or more exports.

    Exports are read into memory. A store's steps, modified properties and step details are
    scanned lazily (four rows per event: a month of a large tenant's steps never needs to be in
    memory whole), and so are its events when there are more than the analysis holds in
    memory (``ingest.EAGER_EVENTS``): code that reads ``events`` goes through ``.lazy()``.
    ``details`` is the store's long form of every step detail (``step_details`` of all steps),
    so a rule's question about a few keys is a filtered scan rather than an explode.
    """

    events: Table
    steps: Table
    modified_properties: Table
    details: pl.LazyFrame | None = None

    @staticmethod
    def concat(parts: list[Frames]) -> Frames:
        def stack(name: str) -> Table:
            frames = [getattr(p, name) for p in parts]
            if not frames:
                return empty_frame(name)
            if all(isinstance(f, pl.DataFrame) for f in frames):
                return pl.concat(frames, how="vertical")
            return pl.concat([f.lazy() for f in frames], how="vertical")

        details = [p.details for p in parts]
        stacked = pl.concat(details) if details and all(d is not None for d in details) else None
        return Frames(stack("events"), stack("steps"), stack("modified_properties"), stacked)

    def event_count(self) -> int:
        if isinstance(self.events, pl.DataFrame):
            return self.events.height
        return self.events.select(pl.len()).collect().item()

    def only(self, event_ids: pl.Series) -> Frames:
        """The same frames holding only these events (de-duplication)."""
        keep = pl.col("event_id").is_in(event_ids.implode())
        return Frames(
            self.events.filter(keep),
            self.steps.filter(keep),
            self.modified_properties.filter(keep),
            self.details.filter(keep) if self.details is not None else None,
        )

    def where(self, condition: pl.Expr) -> Frames:
        """The events meeting a condition, with only their steps and properties (scope,
        period). Lazy events stay lazy: the others keep the events' ids by a lazy join."""
        if isinstance(self.events, pl.DataFrame):
            return self.only(self.events.filter(condition)["event_id"])
        events = self.events.filter(condition)
        ids = events.select("event_id")

        def kept(frame: Table) -> pl.LazyFrame:
            return frame.lazy().join(ids, on="event_id", how="semi", maintain_order="left")

        details = kept(self.details) if self.details is not None else None
        return Frames(events, kept(self.steps), kept(self.modified_properties), details)

    def collected(self) -> Frames:
        """Every frame in memory (small exports, tests, writing a store from a store)."""
        return Frames(_collect(self.events), _collect(self.steps),
                      _collect(self.modified_properties), self.details)


def _collect(frame: Table) -> pl.DataFrame:
    return frame.collect() if isinstance(frame, pl.LazyFrame) else frame


def attribute_key(expr: pl.Expr) -> pl.Expr:
    """Fold an attribute path so every spelling compares equal.

    ``emails[type eq "work"].value`` (mapping), ``emails[type eq "work"]value`` (export step
    details) and ``urn:...:2.0:User:manager`` / ``urnietf...20Usermanager`` all fold the same.
    """
    return expr.str.to_lowercase().str.replace_all(r"[^a-z0-9]", "")


EMAIL_KEY = "emailstypeeqworkvalue"
USERNAME_KEY = "username"


# Graph's enum members, lower-cased (case differs between v1.0, beta, docs and exports)
ACTIONS = ("other", "create", "delete", "disable", "update", "stageddelete", "unknownfuturevalue")
RESULTS = ("success", "failure", "skipped", "warning", "unknownfuturevalue")
STEP_TYPES = (
    "import", "scoping", "matching", "processing", "referenceresolution", "export",
    "unknownfuturevalue",
)
ERROR_CATEGORIES = ("failure", "nonservicefailure", "success", "unknownfuturevalue")


# The diagnostic-settings copy writes step types and statuses as the enums' ordinals (§3.1).
STEP_TYPE_ORDINALS = dict(enumerate(("import", "scoping", "matching", "processing",
                                     "referenceresolution", "export")))
RESULT_ORDINALS = dict(enumerate(("success", "failure", "skipped", "warning")))
UNKNOWN_STATUS = "unknown"  # an event whose status no field of any spelling gave


def status_unknown() -> pl.Expr:
    """An event whose status is none of the four Graph documents: none was given, or a value
    Graph added later (``unknownFutureValue``); counted as unknown, never as healthy."""
    return ~pl.col("status").is_in(list(RESULT_ORDINALS.values()))


def _enum(
    expr: pl.Expr, members: tuple[str, ...], ordinals: dict[int, str] | None = None
) -> pl.Expr:
    """Known members compare case-insensitively (stored lower-cased); an ordinal (``"2"``)
    becomes its member when ``ordinals`` are given; unknown values verbatim."""
    lowered = expr.str.to_lowercase()
    if ordinals:
        lowered = lowered.replace({str(n): name for n, name in ordinals.items()})
    return (
        pl.when(lowered.is_in(members))
        .then(lowered)
        .when(expr.str.strip_chars() != "")
        .then(expr)
        .otherwise(None)
    )


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    return pl.when(expr.str.strip_chars().str.len_chars() > 0).then(expr).otherwise(None)


def _object_type(identity_type: pl.Expr) -> pl.Expr:
    lowered = identity_type.str.to_lowercase()
    return (
        pl.when(lowered.str.contains("group"))
        .then(pl.lit("Group"))
        .when(lowered.str.contains("user"))
        .then(pl.lit("User"))
        .otherwise(_blank_to_null(identity_type))
    )


# Each raw record's position in its batch: the key that ties steps, properties and facts to
# their event (an integer join, where the event id is a string of 36 characters).
EVENT = "_event"


def _by_distinct(column: pl.Series, expr: Callable[[pl.Expr], pl.Expr]) -> pl.Series:
    """``expr`` over ``column``, computed once per distinct value: step types, statuses and
    property names repeat a few dozen values over millions of rows."""
    distinct = column.unique()
    mapped = distinct.to_frame().select(expr(pl.col(column.name))).to_series()
    return column.replace(distinct, mapped)


def _explode(raw: pl.DataFrame, column: str, index: str) -> pl.DataFrame:
    """One row per item of the list ``column`` (empty and null lists give none), with the
    event's id and position and the item's position in its list."""
    items = pl.col(column)
    return (
        raw.select(
            EVENT, pl.col("id").alias("event_id"), items,
            pl.int_ranges(items.list.len()).cast(pl.List(pl.Int16)).alias(index),
        )
        .filter(items.list.len() > 0)
        .explode(column, index)
        .unnest(column)
    )


def _steps(raw: pl.DataFrame) -> pl.DataFrame:
    """STEPS_SCHEMA plus EVENT."""
    steps = _explode(raw, "provisioningSteps", "step_index")
    steps = steps.select(
        EVENT,
        "event_id",
        "step_index",
        "name",
        _by_distinct(
            steps["provisioningStepType"],
            lambda e: _enum(e, STEP_TYPES, STEP_TYPE_ORDINALS),
        ).alias("step_type"),
        _by_distinct(steps["status"], lambda e: _enum(e, RESULTS, RESULT_ORDINALS)),
        "description",
        pl.col("details").fill_null(pl.lit([], dtype=STEPS_SCHEMA["details"])),
    ).cast(STEPS_SCHEMA)
    return mask_details(mask_columns(steps, ["description"]), "details")


def _modified_properties(raw: pl.DataFrame) -> pl.DataFrame:
    """MODIFIED_PROPERTIES_SCHEMA plus EVENT."""
    props = _explode(raw, "modifiedProperties", "property_index")
    props = props.select(
        EVENT,
        "event_id",
        "property_index",
        pl.col("displayName").alias("name"),
        _by_distinct(props["displayName"], attribute_key).alias("attribute_key"),
        pl.col("oldValue").alias("old_value"),
        pl.col("newValue").alias("new_value"),
    ).cast(MODIFIED_PROPERTIES_SCHEMA)
    return mask_named(mask_columns(props, ["old_value", "new_value"]), "name",
                      ["old_value", "new_value"])


# export-step details that describe the request rather than carry a sent attribute (folded)
BOOKKEEPING_KEYS = ("reportableidentifier", "skipreason")


def detail_keys(steps: Table) -> dict[str, str]:
    """Every distinct step-detail key as logged -> its ``attribute_key`` (a few dozen)."""
    keys = (
        steps.lazy().select(
            pl.col("details")
            .list.eval(pl.element().struct.field("key"))
            .explode()
            .unique()
            .drop_nulls()
            .alias("key")
        )
        .with_columns(attribute_key(pl.col("key")).alias("folded"))
    )
    return dict(keys.collect().iter_rows())


def step_details(
    steps: Table,
    keys: Collection[str] | None = None,
    spellings: dict[str, str] | None = None,
) -> Table:
    """One row per (event, step, detail key): the long form rules and identity lookups use
    (and a store keeps as ``step_details.parquet``).

    ``keys`` keeps only these folded keys. A large export holds millions of detail pairs, so
    they are picked inside each step by their spellings as logged (``spellings``: what
    ``detail_keys`` returns, passed in by callers that ask often) before anything is exploded.
    Columns: ``DETAIL_ROWS_SCHEMA``; eager in, eager out; lazy in, lazy out.
    """
    if keys is not None:
        logged = spellings if spellings is not None else detail_keys(steps)
        raw = [key for key, folded in logged.items() if folded in keys]
        steps = steps.with_columns(
            pl.col("details").list.eval(
                pl.element().filter(pl.element().struct.field("key").is_in(raw))
            )
        )
    details = (
        steps.select("event_id", "step_index", "name", "step_type", "status", "details")
        .filter(pl.col("details").list.len() > 0)
        .explode("details")
        .unnest("details")
    )
    if isinstance(details, pl.DataFrame):  # millions of keys, a few dozen distinct
        return details.with_columns(
            _by_distinct(details["key"], attribute_key).alias("attribute_key")
        )
    return details.with_columns(attribute_key(pl.col("key")).alias("attribute_key"))


def sent_attributes(
    details: Table,
    modified_properties: Table,
    keys: Collection[str] | None = None,
) -> Table:
    """Attributes Entra sent to Flowcase: modified properties plus export-step details.

    ``details`` are step details in ``step_details`` form (any steps; only export steps count);
    ``keys`` keeps only these folded keys. Columns: event_id, attribute_key, name, value,
    origin ("modifiedProperties"|"export").
    """
    exported = details.filter(
        (pl.col("step_type") == "export") & ~pl.col("attribute_key").is_in(BOOKKEEPING_KEYS)
    )
    if keys is not None:
        modified_properties = modified_properties.filter(pl.col("attribute_key").is_in(keys))
        exported = exported.filter(pl.col("attribute_key").is_in(keys))
    from_props = modified_properties.select(
        "event_id",
        "attribute_key",
        "name",
        pl.col("new_value").alias("value"),
        pl.lit("modifiedProperties").alias("origin"),
    )
    from_export = exported.select(
        "event_id",
        "attribute_key",
        pl.col("key").alias("name"),
        "value",
        pl.lit("export").alias("origin"),
    )
    return pl.concat([from_props, from_export], how="vertical")


# (fact column, folded detail key, the step type it is read from or None for any step)
_DETAIL_FACTS = (
    ("skip_reason", "skipreason", None),
    ("step_upn", "userprincipalname", "import"),
    ("step_mail", "mail", "import"),
    ("export_user_name", USERNAME_KEY, "export"),
    ("export_email", EMAIL_KEY, "export"),
    ("export_external_id", "externalid", "export"),
    ("matched_target_id", "id", "matching"),
    ("reportable_identifier", "reportableidentifier", None),
)
_PROPERTY_FACTS = (
    ("prop_user_name", USERNAME_KEY),
    ("prop_email", EMAIL_KEY),
    ("prop_external_id", "externalid"),
)
# spellings as logged (camelCase on the wire, PascalCase in some exports) -> their fact's
# number: an exact-match lookup is far cheaper than folding every detail key of every step
_FACT_NUMBER = {key: number for number, (_, key, _) in enumerate(_DETAIL_FACTS)}
_FACT_SPELLINGS = {
    spelling: _FACT_NUMBER[re.sub("[^a-z0-9]", "", word.lower())]
    for word in (
        "skipReason", "userPrincipalName", "mail", "userName", "externalId", "id",
        "reportableIdentifier", 'emails[type eq "work"]value', 'emails[type eq "work"].value',
    )
    for spelling in (word, word[0].upper() + word[1:], word.lower())
}
_FACT_STEP_TYPE = {s: _DETAIL_FACTS[n][2] for s, n in _FACT_SPELLINGS.items()}


def _first_values(long: pl.DataFrame, facts: list[str]) -> pl.DataFrame:
    """Long (EVENT, fact number, value) rows in step order -> one row per event with a value,
    one column per fact: its first value that is not blank."""
    nonblank = long.filter(pl.col("value").str.strip_chars() != "")
    pair = pl.col(EVENT).cast(pl.UInt64) * 256 + pl.col("fact")  # facts are numbered < 256
    firsts = nonblank.filter(pair.is_first_distinct())
    wide = firsts.pivot(on="fact", index=EVENT, values="value")
    return wide.select(
        EVENT,
        *(
            pl.col(str(number)).alias(name) if str(number) in wide.columns
            else pl.lit(None, pl.Utf8).alias(name)
            for number, name in enumerate(facts)
        ),
    )


def _detail_facts(steps: pl.DataFrame) -> pl.DataFrame:
    details = (
        steps.select(EVENT, "step_type", "details")
        .explode("details")
        .unnest("details")
        .filter(pl.col("key").is_in(list(_FACT_SPELLINGS)))
    )
    step_type = pl.col("key").replace_strict(_FACT_STEP_TYPE, return_dtype=pl.Utf8)
    long = details.filter(step_type.is_null() | (step_type == pl.col("step_type"))).select(
        EVENT,
        pl.col("key").replace_strict(_FACT_SPELLINGS, return_dtype=pl.UInt8).alias("fact"),
        "value",
    )
    return _first_values(long, [f[0] for f in _DETAIL_FACTS])


def _property_facts(props: pl.DataFrame) -> pl.DataFrame:
    numbers = {key: number for number, (_, key) in enumerate(_PROPERTY_FACTS)}
    long = props.filter(pl.col("attribute_key").is_in(list(numbers))).select(
        EVENT,
        pl.col("attribute_key").replace_strict(numbers, return_dtype=pl.UInt8).alias("fact"),
        pl.col("new_value").alias("value"),
    )
    return _first_values(long, [f[0] for f in _PROPERTY_FACTS])


def _step_facts(steps: pl.DataFrame, props: pl.DataFrame) -> pl.DataFrame:
    """Per-event facts that live in steps and modified properties: one row per event that
    has steps (an event without steps gets none, not even its properties' facts)."""
    failed = (
        steps.filter(pl.col("status").is_in(["failure", "skipped"]))
        # steps are in event and step order: a stable sort puts each event's failures first
        .sort(EVENT, pl.col("status") != "failure", maintain_order=True)
        .unique(EVENT, keep="first", maintain_order=True)
        .select(
            EVENT,
            pl.col("name").alias("failed_step"),
            pl.col("description").alias("failed_step_description"),
        )
    )
    escrow = (
        steps.filter(pl.col("name") == "EntryEscrowRetry")
        .select(EVENT, pl.lit(True).alias("is_escrow_retry"))
        .unique(EVENT)
    )
    facts = steps.select(EVENT).unique(maintain_order=True)
    for part in (failed, escrow, _detail_facts(steps), _property_facts(props)):
        facts = facts.join(part, on=EVENT, how="left", maintain_order="left")
    return facts


def normalize(
    raw: pl.DataFrame, keep: Callable[[pl.DataFrame], pl.DataFrame] | None = None
) -> tuple[Frames, list[Problem]]:
    """Turn a batch of raw records into canonical frames plus the records that were unusable.

    ``keep`` filters the usable records first (ingest passes its de-duplicator, so an unusable
    copy of an event never claims its id).
    """
    raw, problems = _drop_unusable(raw)
    if keep is not None:
        raw = keep(raw)
    raw = raw.with_row_index(EVENT)
    steps = _steps(raw)
    props = _modified_properties(raw)
    facts = _step_facts(steps, props)

    psi = pl.col("provisioningStatusInfo")
    legacy = pl.col("statusInfo")
    err = psi.struct.field("errorInformation")
    reason = pl.coalesce(err.struct.field("reason"), legacy.struct.field("reason"))
    src = pl.col("sourceIdentity")
    tgt = pl.col("targetIdentity")

    events = _reason_parts(mask_columns(
        raw.with_columns(_blank_to_null(reason).alias("error_reason")), ["error_reason"]
    ))
    events = events.with_columns(
        _detail(src, DETAIL_KEY_READ["sourceIdentity"]).alias("source_upn")
    ).join(facts, on=EVENT, how="left", maintain_order="left")

    upn = pl.coalesce(_blank_to_null(pl.col("source_upn")), pl.col("step_upn"))
    user_name_sent = pl.coalesce(pl.col("prop_user_name"), pl.col("export_user_name"))
    email_sent = pl.coalesce(pl.col("prop_email"), pl.col("export_email"))
    source_id = _blank_to_null(src.struct.field("id"))
    events = events.select(
        pl.col("id").alias("event_id"),
        "activity_time",
        _blank_to_null(pl.col("tenantId")).alias("tenant_id"),
        _blank_to_null(pl.col("jobId")).alias("job_id"),
        _blank_to_null(pl.col("cycleId")).alias("cycle_id"),
        _blank_to_null(pl.col("changeId")).alias("change_id"),
        pl.coalesce(
            _blank_to_null(pl.col("servicePrincipal").struct.field("displayName")),
            _blank_to_null(
                _detail(pl.col("targetSystem"), DETAIL_KEY_READ["targetSystem"])
            ),
        ).alias("app_name"),
        _blank_to_null(pl.col("servicePrincipal").struct.field("id")).alias(
            "service_principal_id"
        ),
        pl.col("sourceSystem").struct.field("displayName").alias("source_system"),
        pl.col("targetSystem").struct.field("displayName").alias("target_system"),
        pl.col("initiatedBy").struct.field("displayName").alias("initiated_by"),
        _enum(pl.coalesce(pl.col("provisioningAction"), pl.col("action")), ACTIONS).alias(
            "action"
        ),
        pl.coalesce(
            _enum(psi.struct.field("status"), RESULTS, RESULT_ORDINALS),
            _enum(legacy.struct.field("status"), RESULTS, RESULT_ORDINALS),
            pl.lit(UNKNOWN_STATUS),
        ).alias("status"),
        pl.col("durationInMilliseconds").alias("duration_ms"),
        _blank_to_null(
            pl.coalesce(err.struct.field("errorCode"), legacy.struct.field("errorCode"))
        ).alias("error_code"),
        _enum(
            pl.coalesce(err.struct.field("errorCategory"), legacy.struct.field("errorCategory")),
            ERROR_CATEGORIES,
        ).alias("error_category"),
        "error_reason",
        pl.coalesce(
            err.struct.field("additionalDetails"), legacy.struct.field("additionalDetails")
        ).alias("error_additional_details"),
        pl.coalesce(
            err.struct.field("recommendedAction"), legacy.struct.field("recommendedAction")
        ).alias("error_recommended_action"),
        "http_status",
        "response_body",
        "scim_detail",
        "scim_type",
        "retry_count",
        "next_retry_time",
        "failed_step",
        "failed_step_description",
        "skip_reason",
        pl.col("is_escrow_retry").fill_null(False),
        _object_type(
            pl.coalesce(_blank_to_null(src.struct.field("identityType")),
                        _blank_to_null(tgt.struct.field("identityType")))
        ).alias("object_type"),
        source_id.alias("source_id"),
        _blank_to_null(src.struct.field("displayName")).alias("source_display_name"),
        src.struct.field("identityType").alias("source_identity_type"),
        pl.coalesce(_blank_to_null(tgt.struct.field("id")), pl.col("matched_target_id")).alias(
            "target_id"
        ),
        _blank_to_null(tgt.struct.field("displayName")).alias("target_display_name"),
        tgt.struct.field("identityType").alias("target_identity_type"),
        upn.alias("upn"),
        pl.col("step_mail").alias("mail"),
        user_name_sent.alias("user_name_sent"),
        email_sent.alias("email_sent"),
        pl.coalesce(pl.col("prop_external_id"), pl.col("export_external_id")).alias(
            "external_id"
        ),
        pl.coalesce(
            upn, pl.col("step_mail"), user_name_sent, email_sent,
            # the skip step's ReportableIdentifier is the UPN when it looks like one
            pl.when(pl.col("reportable_identifier").str.contains("@"))
            .then(pl.col("reportable_identifier")),
            source_id,
            pl.col("reportable_identifier"),
        )
        .str.to_lowercase()
        .alias("identity_key"),
        "source_file",
        "source_record",
    )
    # lazy: with_skip_classes's filter on the skips' ids runs before the details are exploded
    events = with_skip_classes(events, step_details(steps.lazy()))
    events = conformed(events, EVENTS_SCHEMA)
    events = mask_columns(events, ["error_additional_details", "error_recommended_action"])
    return Frames(events, steps.drop(EVENT), props.drop(EVENT)), problems


def _reason_parts(events: pl.DataFrame) -> pl.DataFrame:
    """``events`` with what each error reason says (response body, HTTP status, SCIM detail
    and type, retries), parsed once per distinct reason: only failures have one."""
    reason, body = pl.col("error_reason"), pl.col("response_body")
    parsed = (
        events.select(reason).drop_nulls().unique()
        .with_columns(reasons.response_body_expr(reason))
        .with_columns(
            reasons.http_status_expr(reason, body),
            reasons.scim_detail_expr(body),
            reasons.scim_type_expr(body),
            reasons.retry_count_expr(reason),
            reasons.next_retry_expr(reason),
        )
    )
    return events.join(parsed, on="error_reason", how="left", maintain_order="left")


def _detail(identity: pl.Expr, key: str) -> pl.Expr:
    """The first value of ``key`` in an identity's or system's details."""
    return (
        identity
        .struct.field("details")
        .list.eval(
            pl.element().filter(pl.element().struct.field("key") == key).struct.field("value")
        )
        .list.first()
    )


def _drop_unusable(raw: pl.DataFrame) -> tuple[pl.DataFrame, list[Problem]]:
    """Records without an id or a readable time cannot be placed: report them, keep the rest.

    Adds ``activity_time`` (the parsed time) to what it keeps.
    """
    raw = parse_utc_column(raw, "activityDateTime", "activity_time")
    missing_id = pl.col("id").is_null() | (pl.col("id").str.strip_chars() == "")
    bad_time = pl.col("activity_time").is_null()
    flagged = raw.with_columns(
        pl.when(missing_id)
        .then(pl.lit("missing 'id' (expected the event id)"))
        .when(pl.col("activityDateTime").is_null())
        .then(pl.lit("missing 'activityDateTime' (expected an ISO 8601 time)"))
        .when(bad_time)
        .then(pl.lit("unreadable 'activityDateTime' "))
        .otherwise(None)
        .alias("_problem")
    )
    bad = flagged.filter(pl.col("_problem").is_not_null())
    problems = [
        Problem(
            row["source_file"] or "?",
            f"record {row['source_record']}",
            row["_problem"] + shown(row["activityDateTime"]) if row["_problem"].endswith(" ")
            else row["_problem"],
        )
        for row in bad.select(
            "source_file", "source_record", "_problem", "activityDateTime"
        ).iter_rows(named=True)
    ]
    good = flagged.filter(pl.col("_problem").is_null()).drop("_problem")
    return good, problems
