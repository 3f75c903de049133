"""What a rule sees (``Context``) and returns (``Hit``), plus small expression helpers.

Rules read canonical columns only. The context adds three derived columns to the events that
nearly every rule needs and that only make sense over a whole export:

* ``person``: one identity per object across all its events (the latest lower-cased UPN,
  mail, sent userName/email or UPN-like ``ReportableIdentifier`` of its Entra object id, else
  the event's ``identity_key``), so a skip that carries only an object id and a failure that
  carries the UPN count as one user;
* ``text``: the lower-cased error code, app response (``response_body``, else the reason
  without Entra's fixed wrapper, ``reasons.reason_text_expr``) and additional details, with
  Entra's own names blanked (``reasons.without_entra_words``: "Azure Active Directory" is not
  about ``active``), for keyword patterns (``vocabulary.py``);
* ``label``: the person, or a group's display name, for messages.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import polars as pl

from diagnostics.facts.job_status import JobStatus
from diagnostics.facts.vocabulary import TRANSIENT, TRANSIENT_CODE
from loganalyzer.compact import compact
from loganalyzer.findings import Finding
from loganalyzer.normalize import (
    BOOKKEEPING_KEYS,
    Frames,
    detail_keys,
    sent_attributes,
    step_details,
)
from loganalyzer.reasons import reason_text_expr, without_entra_words
from loganalyzer.schema import empty_frame
from loganalyzer.wording import moment, plural, quote_list, verb

__all__ = ["moment", "plural", "quote_list", "verb"]  # rules take the one wording helper from here


# What the engine reads of a finding's events (a finding can explain a million skips of a
# month); the reasons' texts are read for its few evidence events only.
FINDING_COLUMNS = (
    "event_id", "activity_time", "cycle_id", "action", "status", "error_code", "http_status",
    "person", "object_type", "source_display_name",
)


@dataclass
class Hit:
    """What a rule found: the events it explains and one sentence naming who or what.

    ``rows`` (``of_rows``): these events with at least ``FINDING_COLUMNS``, one row each in
    the events' order, when the rule read them anyway; the engine then does not read them
    again (a month's not-assigned skips: 1.2 s and a second copy at 5M events)."""

    event_ids: pl.Series | Collection[str]  # ``ids`` of a frame, or any ids
    message: str
    severity: str | None = None  # None: the rule's SEVERITY
    details: dict[str, Any] = field(default_factory=dict)
    rows: pl.DataFrame | pl.LazyFrame | None = None

    @classmethod
    def of_rows(cls, rows: pl.DataFrame | pl.LazyFrame, message: str, **kwargs: Any) -> Hit:
        """A hit explaining exactly the events of ``rows`` (``FINDING_COLUMNS`` at least); a
        lazy frame (``Context.rows_where``) is read by the engine without being held."""
        return cls(pl.Series("event_id", [], pl.Utf8), message, rows=rows, **kwargs)


def http_in(*codes: int) -> pl.Expr:
    return pl.col("http_status").is_in(list(codes)).fill_null(False)


def http_at_least(code: int) -> pl.Expr:
    return (pl.col("http_status") >= code).fill_null(False)


def no_http_status() -> pl.Expr:
    return pl.col("http_status").is_null()


def code_like(pattern: str) -> pl.Expr:
    """The error code matches a (lower-case) regex; codes are usually ``<Connector><Suffix>``."""
    return pl.col("error_code").str.to_lowercase().str.contains(pattern).fill_null(False)


def mentions(pattern: str) -> pl.Expr:
    """The error text (lower-case, wrapper removed) matches a lower-case regex."""
    return pl.col("text").str.contains(pattern).fill_null(False)


# a quoted value of several words, also escaped inside a JSON body ('Engineering Managers',
# \"Head of Division\"): data an app echoes back, not what its message is about. A quoted
# single word may be the attribute itself ("attribute 'manager'"); an apostrophe is no quote.
QUOTED_WORDS = r"""(^|[^a-z0-9])('[^']*\s[^']*'|\\"[^"]*\s[^"]*\\")"""


def mentions_outside_names(pattern: str) -> pl.Expr:
    """``mentions``, in the text without its quoted names: "Department 'Engineering
    Managers' does not exist" does not mention the manager attribute."""
    unquoted = pl.col("text").str.replace_all(QUOTED_WORDS, "$1")
    return unquoted.str.contains(pattern).fill_null(False)


# one Entra object: its object id, else (an export that lost it) its person. Two objects
# sharing a UPN (a rehire and the departed user) are two, each with its own failures.
OBJECT = pl.coalesce("source_id", "person").alias("object")


def latest_events(ctx: Context, keys: pl.Series, key: pl.Expr | None = None) -> pl.DataFrame:
    """The key, ``latest`` (event id), ``status``, ``activity_time`` and ``app_name`` of the
    latest event of each of ``keys`` (the greatest event id among ties, in any read order).
    ``key`` is an expression over ``Context.scan`` with an output name: the person by
    default."""
    key = pl.col("person") if key is None else key
    name = key.meta.output_name()
    # counted in the streaming engine: their events of a month are millions. Their latest
    # time is collected first, and their events scanned again: one query reading them twice
    # held them all in between (10M events: the rule peaked 0.57 GB above where it started,
    # now 0.14 GB).
    theirs = ctx.scan.select(key, "activity_time", "event_id", "status", "app_name").filter(
        pl.col(name).is_in(keys.implode()))
    last_seen = (theirs.group_by(name).agg(pl.col("activity_time").max())
                 .collect(engine="streaming"))
    return (
        theirs.join(last_seen.lazy(), on=[name, "activity_time"], how="semi")
        .group_by(name)
        .agg(pl.col("event_id").max().alias("latest"),
             pl.col("status", "app_name").sort_by("event_id").last(),
             pl.col("activity_time").first())
        .collect(engine="streaming")
    )


def still_failing(ctx: Context, objects: pl.Series, failures: pl.DataFrame) -> pl.Series:
    """Those of ``objects`` (``OBJECT`` values) whose latest event is one of ``failures``: not
    mended since (a later success, or a skip as in sync or out of scope, ends the trouble).
    Per object: a rehire's success mends nothing of the departed user with the same UPN."""
    latest = latest_events(ctx, objects, OBJECT)
    return latest.filter(pl.col("latest").is_in(failures["event_id"].implode()))["object"]


def is_transient() -> pl.Expr:
    """A failure Entra retries by itself: its code (``InternalError``, ``TooManyRequests``) or
    its text (time-outs, throttling, 5xx wording) says so."""
    return code_like(TRANSIENT_CODE) | mentions(TRANSIENT)


def is_failure() -> pl.Expr:
    return pl.col("status") == "failure"


def failures_where(
    http: Collection[int] = (),
    codes: str | None = None,
    text: str | pl.Expr | bool = False,
) -> pl.Expr:
    """A failure answered with one of the ``http`` statuses, or whose error code matches the
    regex ``codes``, or that has no HTTP status (exports often lose it) and whose text matches
    ``text`` (a regex for ``mentions``, an expression, or ``True`` for any text)."""
    if isinstance(text, bool):
        unlogged = pl.lit(text)
    elif isinstance(text, str):
        unlogged = mentions(text)
    else:
        unlogged = text
    matched = (no_http_status() & unlogged) | http_in(*http)
    if codes is not None:
        matched = matched | code_like(codes)
    return is_failure() & matched


# The event columns rules and the engine read. The others (tenant, change id, duration, where
# the record came from, ...) are left out of ``Context.scan``: a rule's filter over a month
# of events then reads half as much.
RULE_COLUMNS = (
    "event_id", "activity_time", "cycle_id", "app_name", "action", "status", "error_code",
    "error_reason", "error_additional_details", "http_status", "response_body", "scim_detail",
    "scim_type", "retry_count", "next_retry_time", "failed_step_description", "skip_reason",
    "is_escrow_retry", "skip_class", "scope_clauses", "object_type", "source_id",
    "source_display_name", "target_id", "upn", "mail", "user_name_sent", "email_sent",
    "identity_key",
)


DERIVED = ("person", "text", "label")  # the columns ``Context`` adds
# What a finding names its events by (``ids``, ``describe``, ``people``). A rule asks
# ``events_where`` for these and the columns it reads after, not for every column: on a
# scanned store each column asked for is decoded in every row group (5M events, the
# failures: 2.9 s with every column, 1.1 s with these and the status).
NAMED = ("event_id", "person", "label")
ROW = "_row"  # an event's position among the events in memory
# The long texts ``text`` is made of: left out of ``Context.failures``, which is kept for the
# whole diagnosis (at 250k failures a month, 146 MB of mostly unique reasons); rules match
# ``text`` and read these for the few rows that need them.
LONG_TEXTS = ("error_reason", "error_additional_details", "response_body")
# What no rule asks of a failure: who it is comes as ``person`` (without these six,
# the failures' memory at 10M events: 335 MB instead of 409 MB).
UNASKED_OF_FAILURES = ("upn", "mail", "identity_key", "target_id", "app_name",
                       "next_retry_time")
FAILURE_COLUMNS = tuple(
    c for c in (*RULE_COLUMNS, *DERIVED)
    if c not in (*LONG_TEXTS, *UNASKED_OF_FAILURES)
    and c not in ("skip_class", "scope_clauses")  # skips only
)
DERIVED_SET = frozenset(DERIVED)
# What ``sent_where`` adds to each sent attribute from its event.
SENT_FACTS = (
    "event_id", "person", "status", "action", "object_type", "cycle_id", "activity_time",
    "source_id",
)
# a group by its display name, anyone else by their person
# how a message names an object: a group by its display name; a user by the person key (a
# UPN or email), or, when the export logged neither (a portal CSV without its attribute files),
# as "Display Name <object id>", which `why` finds by either: one name per person (renamed
# during the month, a user is still one user)
LABEL = (
    pl.when(pl.col("object_type") == "Group")
    .then(pl.coalesce("source_display_name", "person"))
    .when(pl.col("person").str.contains("@", literal=True).not_()
          & pl.col("source_display_name").is_not_null())
    .then(pl.format("{} <{}>", pl.col("source_display_name").max().over("person"), "person"))
    .otherwise(pl.col("person"))
    .alias("label")
)


def _inputs(columns: Collection[str]) -> set[str]:
    """The columns of ``Context._events`` that these columns are computed from."""
    needed = set(columns) - {"text", "label"}
    if "text" in columns:
        needed.add("event_id")
    if "label" in columns:
        needed |= {"object_type", "source_display_name", "person"}
    return needed


class Context:
    """The canonical frames of one diagnosis, with derived columns computed once.

    Rules never see a month whole: ``events_where`` and ``failures`` give rows, ``scan`` is
    for aggregates, and ``details``, ``sent_where`` and ``steps_where`` collect the rows a
    question needs. Events are in memory (an export, a store up to ``ingest.EAGER_EVENTS``)
    or scanned (a larger store); steps, modified properties and step details of a store are
    always scanned. A store's ``step_details.parquet`` answers ``details`` with a filtered
    scan; without it (an export in memory, an older store) the wanted keys are picked inside
    each step before anything is exploded.
    """

    def __init__(
        self,
        frames: Frames,
        job: JobStatus | None = None,
        prior: Sequence[Finding] = (),
        sent_elsewhere: Callable[[str], bool] | None = None,
    ) -> None:
        self.frames = frames
        self.job = job
        self.prior = list(prior)  # findings of cause/noise rules, for consequence rules
        self._sent_elsewhere = sent_elsewhere  # ``sent_outside``
        self._cache: dict[Any, Any] = {}

    def sent_outside(self, key_pattern: str) -> bool:
        """Whether an event of the input beyond these frames sent an attribute whose folded
        key matches ``key_pattern``: `why` diagnoses a few cycles of a larger input, and a
        rule that fires on what *no* event sent (FC003: roles never sent) must not fire on
        them for what only the rest of the input sent, where `diagnose` stays quiet. False
        for a whole input (``sent_elsewhere`` not given). Ask it last: it reads the input."""
        return bool(self._sent_elsewhere and self._sent_elsewhere(key_pattern))

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """Compute once per diagnosis what several rules share (``roles.sent_roles``, ...);
        a frame is kept compacted (``loganalyzer.compact``)."""
        if key not in self._cache:
            value = compute()
            self._cache[key] = (compact(value) if isinstance(value, pl.DataFrame | pl.Series)
                                else value)
        return self._cache[key]

    @cached_property
    def scan(self) -> pl.LazyFrame:
        """The events' ``RULE_COLUMNS`` plus ``person`` and ``label``, as a lazy query for
        aggregates over every event (``text`` is added by ``events_where``: joining it to a
        month of events costs every query that does not read it). Its rows come in no
        particular order: ask ``events_where`` for rows in the events' order."""
        if self._in_memory:
            return self._events.lazy().with_columns(LABEL)
        return self._scanned

    def events_where(
        self, condition: pl.Expr, columns: Sequence[str] | None = None
    ) -> pl.DataFrame:
        """The events that meet a condition, in the events' order: ``columns`` of
        ``RULE_COLUMNS``, ``person``, ``text`` and ``label`` (default: all of them).

        The condition judges each event alone (no window, shift or aggregate): events in
        memory are judged in two groups, those with an error text and those without.

        Read in two passes: the condition over only the columns it names, then the matching
        rows, whose text and label are computed beside them rather than for every event of a
        month. Lazy events (a large store) are taken by event id in the second pass, which
        the Parquet reader filters before decoding the other columns; a condition on logged
        columns only is one filtered scan.
        """
        wanted = list(columns or (*RULE_COLUMNS, *DERIVED))
        if self._in_memory:
            keep = self._meets(condition)
            read = [c for c in self._events.columns if c in _inputs(wanted)]
            picked = self._events.select(read).filter(keep).lazy()
        else:
            names = set(condition.meta.root_names())
            if DERIVED_SET & names:
                # a condition on ``text`` alone needs no one's person: the events as logged
                source = (self.scan if {"person", "label"} & names
                          else self.frames.events.lazy().select(RULE_COLUMNS))
                source = self._with_text(source) if "text" in names else source
                found = source.filter(condition).select("event_id").collect()["event_id"]
                condition = pl.col("event_id").is_in(found.implode())
            # the logged columns' condition is read inside the Parquet scan, in file order
            events = self.frames.events.lazy().select(RULE_COLUMNS).filter(condition)
            picked = self._with_scanned_person(events, wanted)
        if "label" in wanted:
            picked = picked.with_columns(LABEL)
        if "text" in wanted and "text" not in picked.collect_schema():
            picked = self._with_text(picked)
        return picked.select(wanted).collect()

    def _with_scanned_person(self, events: pl.LazyFrame, wanted: list[str]) -> pl.LazyFrame:
        """Scanned rows with their ``person``. A row of an object whose best identity is known
        takes it by the object id; the identity columns are read, in a second scan, only for
        the rows of objects without one (there are seldom any): read for every row, these
        six text columns were half the cost of a question at 5M events."""
        if not {"person", "label"} & set(wanted):
            return events
        read = _inputs(wanted) | {"event_id", "source_id"}
        rows = (events.select(c for c in RULE_COLUMNS if c in read)
                .join(self._best.lazy(), on="source_id", how="left", maintain_order="left")
                .collect())
        unknown = rows.filter(pl.col("_best").is_null())["event_id"]
        if unknown.is_empty():
            return rows.lazy().rename({"_best": "person"})
        theirs = self._with_person(
            self.frames.events.lazy().filter(pl.col("event_id").is_in(unknown.implode()))
            .select("event_id", "source_id", "identity_key", "target_id", *self._LOGGED)
        ).select("event_id", pl.col("person").alias("_theirs")).unique("event_id", keep="first")
        return (rows.lazy().join(theirs, on="event_id", how="left", maintain_order="left")
                .with_columns(pl.coalesce("_best", "_theirs").alias("person"))
                .drop("_best", "_theirs"))

    def _meets(self, condition: pl.Expr) -> pl.Series:
        """Which events in memory meet a row-by-row ``condition``. Every event logging no
        error text has the same, empty, ``text``: a condition on it is asked of every event
        with an empty text, then of the few with one (joining a month's events to their texts
        cost 0.3 s a question at a million events)."""
        asked = condition.fill_null(False).alias("_keep")
        if "text" not in condition.meta.root_names():
            return self.scan.select(asked).collect().to_series()
        keep = self.scan.with_columns(pl.lit("").alias("text")).select(asked).collect()
        texts = self._texts
        names = _inputs(set(condition.meta.root_names()) - {"text"}) | {"event_id"}
        said = self._events.select(c for c in self._events.columns if c in names)[texts[ROW]]
        if "label" in condition.meta.root_names():
            said = said.with_columns(LABEL)
        met = said.with_columns(texts["_text"].alias("text")).select(asked).to_series()
        return keep.to_series().scatter(texts[ROW], met)

    def _with_text(self, events: pl.LazyFrame) -> pl.LazyFrame:
        return events.join(
            self._texts.lazy().select("event_id", "_text"), on="event_id", how="left",
            maintain_order="left"
        ).with_columns(pl.col("_text").fill_null("").alias("text")).drop("_text")

    @cached_property
    def _in_memory(self) -> bool:
        return isinstance(self.frames.events, pl.DataFrame)

    @cached_property
    def _events(self) -> pl.DataFrame:
        """Events in memory: ``RULE_COLUMNS`` plus ``person``. The loaded columns are
        shared, not copied, so the one added column is all this holds."""
        events = self.frames.events
        inputs = events.lazy().select(
            "event_id", "source_id", "identity_key", "target_id", *self._LOGGED
        )
        person = self._with_person(inputs).select("person").collect().to_series()
        return events.select(RULE_COLUMNS).with_columns(
            _cut_like(person, events.get_column("event_id"))
        )

    @cached_property
    def _scanned(self) -> pl.LazyFrame:
        """Scanned events (a large store): ``RULE_COLUMNS``, ``person`` and ``label``, in no
        particular order. An event of an object whose best identity is known takes it by a
        join on the object id alone, so the identity columns are read only for the events of
        objects without one (a month's aggregate over every event's person then reads two
        columns, not nine). The Parquet reader decodes every column a query names in each row
        group it reads, so when every event's object has one (as a rule) the events of
        objects without one are left out of the query, not filtered out of it."""
        events = self.frames.events.lazy().select(RULE_COLUMNS)
        known = pl.col("source_id").is_in(self._best["source_id"].implode()).fill_null(False)
        named = events.filter(known).join(self._best.lazy(), on="source_id", how="left")
        named = named.rename({"_best": "person"})
        if not events.select((~known).any()).collect().item():
            return named.with_columns(LABEL)
        others = self._with_person(events.filter(~known))
        return pl.concat([named, others], how="vertical").with_columns(LABEL)

    def _with_person(self, events: pl.LazyFrame) -> pl.LazyFrame:
        """``events`` (their ids, identity columns and ``_LOGGED``) with their ``person``: the
        best identity of their object, else the identifier the event names, its identity key,
        its target id, its own id. The one definition of a person, wherever events are held."""
        person = pl.coalesce(
            "_best", self._own_key, "identity_key", pl.col("target_id").str.to_lowercase(),
            "event_id",
        ).alias("person")
        return (
            events.join(self._reported.lazy(), on="event_id", how="left", maintain_order="left")
            .join(self._best.lazy(), on="source_id", how="left", maintain_order="left")
            .with_columns(person)
            .drop("_reported", "_best")
        )

    def rows_where(self, condition: pl.Expr, columns: Sequence[str]) -> pl.LazyFrame:
        """``events_where`` for rows that may be millions (a month's skips), as a lazy frame:
        events in memory give theirs; scanned events are written, in the events' order, to a
        temporary Parquet file the rule and the engine then read (held, the 10M benchmark's
        2.3M not-assigned skips took FC013 1.6 GB above where it started). ``condition``
        names logged columns only, held or scanned."""
        if DERIVED_SET & set(condition.meta.root_names()):
            raise ValueError(f"rows_where: {condition} names a derived column")
        if self._in_memory:
            return self.events_where(condition, columns).lazy()
        read = _inputs(columns) | {"event_id", "source_id", "identity_key", "target_id",
                                   *self._LOGGED}
        events = (self.frames.events.lazy().select(RULE_COLUMNS).filter(condition)
                  .select(c for c in RULE_COLUMNS if c in read))
        rows = self._with_person(events)
        if "label" in columns:
            rows = rows.with_columns(LABEL)
        path = Path(self._spill.name) / f"rows-{len(os.listdir(self._spill.name))}.parquet"
        rows.select(columns).sink_parquet(path, compression="lz4")
        return pl.scan_parquet(path)

    @cached_property
    def _spill(self) -> tempfile.TemporaryDirectory:
        return tempfile.TemporaryDirectory(prefix="loganalyzer-rows-")

    def forget_rule_facts(self) -> None:
        """Drop what only the rules read (their shared facts, the error texts) once they have
        run: the summary's month-wide counts need the room (10M events: 0.3 GB)."""
        self._cache.clear()
        self.__dict__.pop("_texts", None)

    def close(self) -> None:
        """Remove the rows ``rows_where`` wrote: their lazy frames cannot be read after."""
        if "_spill" in self.__dict__:
            self._spill.cleanup()

    @cached_property
    def failures(self) -> pl.DataFrame:
        """Every failure with its ``FAILURE_COLUMNS``: the rows most rules start from, kept."""
        return compact(self.events_where(is_failure(), FAILURE_COLUMNS))

    _LOGGED = ("upn", "mail", "user_name_sent", "email_sent")
    _own_key = pl.coalesce(*_LOGGED, "_reported").str.to_lowercase()

    @cached_property
    def _reported(self) -> pl.DataFrame:
        """A skip step's UPN-like ReportableIdentifier, for events that name nobody else."""
        unnamed = (
            self.frames.events.lazy()
            .filter(pl.all_horizontal(pl.col(c).is_null() for c in self._LOGGED))
            .select("event_id")
        )
        return compact(
            self.detail_rows(("reportableidentifier",))
            .filter(pl.col("value").str.contains("@"))
            .join(unnamed, on="event_id", how="semi")
            .group_by("event_id", maintain_order=True)
            .agg(pl.col("value").first().alias("_reported"))
            .collect()
        )

    @cached_property
    def _best(self) -> pl.DataFrame:
        """Per Entra object id, the key its latest event names it by: one identity per
        object, so a skip carrying only the object id counts as the user its failure names.
        The latest is the last of the latest time in the events' order, found per object by
        the streaming engine: sorting a month's events first held them all (5M: 0.7 GB)."""
        return compact(
            self.frames.events.lazy()
            .with_row_index(ROW)
            .filter(pl.col("source_id").is_not_null())
            .select(ROW, "event_id", "activity_time", "source_id", *self._LOGGED)
            .join(self._reported.lazy(), on="event_id", how="left")
            .with_columns(self._own_key.alias("_key"))
            .filter(pl.col("_key").is_not_null())
            .group_by("source_id")
            .agg(pl.col("_key").sort_by("activity_time", ROW).last().alias("_best"))
            .collect(engine="streaming")
        )

    @cached_property
    def _texts(self) -> pl.DataFrame:
        """The lower-cased error text of every event that logs any: a few percent of the
        events, and string regexes cost per row even where the value is null. The reason is
        read only where there is no app response."""
        said = without_entra_words(reason_text_expr(pl.col("error_reason")))
        text = pl.concat_str(
            [
                pl.col("error_code"),
                pl.coalesce(
                    "response_body",
                    pl.when(pl.col("response_body").is_null()).then(said),
                ),
                without_entra_words(pl.col("error_additional_details")),
            ],
            separator=" ",
            ignore_nulls=True,
        ).str.to_lowercase()
        sources = ("error_code", "response_body", "error_reason", "error_additional_details")
        events = self.frames.events.lazy()
        if self._in_memory:  # their positions, for ``_meets`` (on a scan, a row index
            events = events.with_row_index(ROW)  # would keep the filter out of the reader)
        return compact(
            events
            .filter(pl.any_horizontal(pl.col(c).is_not_null() for c in sources))
            .select(pl.selectors.by_name(ROW, require_all=False), "event_id", text.alias("_text"))
            .collect()
        )

    @cached_property
    def _spellings(self) -> dict[str, str]:
        """Every distinct step-detail key as logged -> its folded form."""
        if self.frames.details is not None:
            keys = self.frames.details.select("key", "attribute_key").unique()
            keys = keys.collect(engine="streaming")
            return dict(keys.iter_rows())
        return detail_keys(self.frames.steps)

    @cached_property
    def _attribute_keys(self) -> list[str]:
        """Distinct folded keys of the step details and modified properties."""
        props = (
            self.frames.modified_properties.lazy()
            .select(pl.col("attribute_key").drop_nulls().unique())
            .collect()["attribute_key"]
        )
        return sorted(set(self._spellings.values()) | set(props.to_list()))

    def detail_rows(
        self, keys: Collection[str] | None, step_types: Collection[str] | None = None
    ) -> pl.LazyFrame:
        """Step details (``normalize.step_details`` form) of these folded keys, lazily: for
        an aggregate over a month of details that should never be in memory at once."""
        if self.frames.details is not None:
            return self.frames.details.filter(_detail_filter(keys, step_types))
        steps = self.frames.steps.lazy()
        if step_types is not None:
            steps = steps.filter(pl.col("step_type").is_in(list(step_types)))
        return step_details(steps, keys, self._spellings)

    def details(
        self,
        keys: Collection[str],
        step_types: Collection[str] | None = None,
        where: pl.Expr | None = None,
        columns: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Step details whose folded key is one of ``keys`` (folded, e.g. ``"skipreason"``):
        event_id, step_index, name, step_type, status, key, value, attribute_key.

        Cached per question; with ``where`` (a filter on those columns, applied before
        anything is collected) the answer is not cached: ask so when only a few of a month's
        rows are wanted. ``columns`` (with ``where`` only) keeps those of them: a month's
        not-assigned flags are millions of rows, of eight columns each."""
        wanted = tuple(sorted(keys))
        types = tuple(sorted(step_types)) if step_types is not None else None
        if where is None:
            return self.memo(("details", wanted, types), lambda: self.detail_rows(
                wanted, types).collect(engine="streaming"))
        if self.frames.details is not None:
            # ``where`` asked of these keys' rows only: a plain ``picked & where`` pushed into
            # the scan evaluates ``where`` over every row read (5M events: lower-casing 74M
            # details' values to find 1.15M, 3.1-3.3 s; 1.5-1.6 s written so)
            picked = _detail_filter(wanted, types)
            rows = self.frames.details.filter(picked & pl.when(picked).then(where).otherwise(False))
        else:
            rows = self.detail_rows(wanted, types).filter(where)
        return rows.select(columns or pl.all()).collect(engine="streaming")

    def steps_where(self, condition: pl.Expr, columns: Sequence[str]) -> pl.DataFrame:
        """Some columns of the steps that meet a condition (never every step in memory)."""
        steps = self.frames.steps.lazy().filter(condition).select(columns)
        return steps.collect(engine="streaming")

    def sent_where(self, key_pattern: str, where: pl.Expr | None = None) -> pl.DataFrame:
        """Attributes sent to the app whose folded key matches a regex (modified properties
        and export details), one row each: event_id, attribute_key, name, value, origin, and
        the event's ``SENT_FACTS`` (person, status, action, ...).

        ``where`` (over the first five columns) is applied before anything is collected, and
        only the events of the rows it keeps are read for their facts. Answers are not
        cached: a month of sent attributes is millions of rows, so rules keep what they
        derive (``memo``), not the rows.
        """
        sent = self.sent_values(key_pattern, where).collect(engine="streaming")
        wanted = pl.col("event_id").is_in(sent["event_id"].unique().implode())
        facts = self.scan.filter(wanted).select(SENT_FACTS).collect()
        return sent.join(facts, on="event_id", how="inner", maintain_order="left")

    def sent_values(self, key_pattern: str, where: pl.Expr | None = None) -> pl.LazyFrame:
        """``sent_where``'s first five columns as a lazy query, without the events' facts:
        for rules that aggregate every sent value (only the rows and columns the aggregate
        needs are read)."""
        pattern = re.compile(key_pattern)
        keys = [k for k in self._attribute_keys if pattern.search(k)]
        if not keys:  # no such attribute in the export: nothing to scan
            return sent_attributes(empty_frame("steps").pipe(step_details),
                                   empty_frame("modified_properties")).lazy()
        sent = sent_attributes(
            self.detail_rows(keys, ("export",)), self.frames.modified_properties.lazy(), keys
        )
        return sent if where is None else sent.filter(where)

    def exporting(self, event_ids: pl.Series) -> pl.Series:
        """Of these events, the ids of those that sent any attribute to the app (a modified
        property, or an export-step detail other than bookkeeping). Asked for a few candidate
        events, so the scans read only theirs."""
        wanted = pl.col("event_id").is_in(event_ids.implode())
        exported = (
            self.detail_rows(None, ("export",))
            .filter(wanted & ~pl.col("attribute_key").is_in(BOOKKEEPING_KEYS))
            .select("event_id")
        )
        sent = self.frames.modified_properties.lazy().filter(wanted).select("event_id")
        return pl.concat([sent, exported]).unique(maintain_order=True).collect()["event_id"]

    def of(self, event_ids: Iterable[str] | pl.Series, columns: Sequence[str] | None = None
           ) -> pl.DataFrame:
        """The events with these ids (``columns`` as in ``events_where``)."""
        wanted = as_ids(event_ids)
        return self.events_where(pl.col("event_id").is_in(wanted.implode()), columns)


def _detail_filter(keys: Collection[str] | None, step_types: Collection[str] | None
                   ) -> pl.Expr:
    """Stored step details of these folded keys and step types (None: any)."""
    condition = pl.lit(True)
    if keys is not None:
        condition = condition & pl.col("attribute_key").is_in(list(keys))
    if step_types is not None:
        condition = condition & pl.col("step_type").is_in(list(step_types))
    return condition


def _cut_like(series: pl.Series, like: pl.Series) -> pl.Series:
    """``series`` in pieces of the lengths ``like`` is in (slices, no copy). A frame whose
    columns are cut alike filters piece by piece; one column cut otherwise made every filter
    first copy all the others into one piece (70-100 ms a question on a million events)."""
    series, pieces, start = series.rechunk(), [], 0
    for length in like.chunk_lengths():
        pieces.append(series.slice(start, length))
        start += length
    return pl.concat(pieces, rechunk=False) if len(pieces) > 1 else series


def ids(frame: pl.DataFrame) -> pl.Series:
    """The distinct event ids of a frame, in order of appearance."""
    return frame["event_id"].unique(maintain_order=True)


def as_ids(event_ids: Iterable[str] | pl.Series) -> pl.Series:
    """Event ids as one text Series; a Series is taken as it is, never copied into Python
    strings (a month's finding may hold a million)."""
    if isinstance(event_ids, pl.Series):
        return event_ids.cast(pl.Utf8).rename("event_id")
    return pl.Series("event_id", list(event_ids), dtype=pl.Utf8)


def whole_cycles(ctx: Context, failures: pl.DataFrame) -> list[str]:
    """Cycles in which every request to the app is one of these failures (skips send none)."""
    per_cycle = (
        ctx.frames.events.lazy()
        .filter(pl.col("status") != "skipped")
        .group_by("cycle_id")
        .agg(
            pl.len().alias("n"),
            pl.col("event_id").is_in(failures["event_id"].implode()).sum().alias("failed"),
        )
        .collect(engine="streaming")
    )
    full = per_cycle.filter((pl.col("n") == pl.col("failed")) & pl.col("cycle_id").is_not_null())
    return sorted(full["cycle_id"].to_list())


def tally(rows: pl.LazyFrame) -> tuple[int, pl.DataFrame]:
    """How many rows a lazy frame has, and their distinct ``label`` (a frame for ``describe``
    and ``people``): what a message says of a month's rows, without holding them."""
    count = rows.select(pl.len()).collect().item()
    return count, rows.select(pl.col("label").unique()).collect()


def people(frame: pl.DataFrame) -> int:
    """How many users or groups ``describe`` names (for the verb that follows it)."""
    return frame["label"].drop_nulls().n_unique()


def object_names(frame: pl.DataFrame) -> list[str]:
    """One name per Entra object (``object`` column) of a frame, sorted: its label, and its
    object id too where objects share a label (a rehire keeps the departed user's UPN)."""
    named = frame.group_by("object").agg(pl.col("label").drop_nulls().max())
    shared = pl.len().over("label") > 1
    name = pl.when(shared).then(pl.format("{} <{}>", "label", "object")).otherwise("label")
    return sorted(named.select(name).to_series().drop_nulls().to_list())


def describe_objects(frame: pl.DataFrame) -> str:
    """'2 objects (a@x.no, b@x.no)': ``describe`` counting Entra objects, not names."""
    names = object_names(frame)
    return f"{plural(len(names), 'object')} ({quote_list(names)})"


def describe(frame: pl.DataFrame, noun: str = "user", nouns: str | None = None) -> str:
    """'3 users (a@x.no, b@x.no, c@x.no)' for a message; groups by their display name."""
    labels = sorted(frame["label"].drop_nulls().unique().to_list())
    return f"{plural(len(labels), noun, nouns)} ({quote_list(labels)})"
