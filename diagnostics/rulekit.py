"""What a rule sees (``Context``) and returns (``Hit``), plus small expression helpers.

Rules read canonical columns only. The context adds two derived columns to the events that
nearly every rule needs and that only make sense over a whole export:

* ``person``: one identity per object across all its events (the latest lower-cased UPN,
  mail, sent userName/email or UPN-like ``ReportableIdentifier`` of its Entra object id, else
  the event's ``identity_key``), so a skip that carries only an object id and a failure that
  carries the UPN count as one user;
* ``text``: the lower-cased error code, app response and additional details with Entra's
  fixed wrapper sentences removed, for keyword patterns (``vocabulary.py``).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import polars as pl

from diagnostics.job_status import JobStatus
from loganalyzer.findings import Finding
from loganalyzer.normalize import Frames, sent_attributes, step_details

_WRAPPER = (
    r"processing of the http request resulted in an exception\.? please see the http response "
    r"returned by the 'response' property of this exception for details\.?"
    r"|this operation was retried (\d+|zero) times\..*$"
    r"|it will be retried again after this date:.*$"
)


@dataclass
class Hit:
    """What a rule found: the events it explains and one sentence naming who or what."""

    event_ids: Collection[str]
    message: str
    severity: str | None = None  # None: the rule's SEVERITY
    details: dict[str, Any] = field(default_factory=dict)


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


def is_failure() -> pl.Expr:
    return pl.col("status") == "failure"


def plural(count: int, word: str, words: str | None = None) -> str:
    return f"{count} {word if count == 1 else (words or word + 's')}"


def quote_list(values: Sequence[str], limit: int = 5) -> str:
    """'a, b, c and 4 more' for one-sentence messages."""
    shown = ", ".join(values[:limit])
    return shown if len(values) <= limit else f"{shown} and {len(values) - limit} more"


class Context:
    """The canonical frames of one diagnosis, with derived columns computed once."""

    def __init__(
        self,
        frames: Frames,
        job: JobStatus | None = None,
        prior: Sequence[Finding] = (),
    ) -> None:
        self.frames = frames
        self.job = job
        self.prior = list(prior)  # findings of cause/noise rules, for consequence rules

    @cached_property
    def events(self) -> pl.DataFrame:
        events = self.frames.events.join(self._reported_names(), on="event_id", how="left")
        own_key = pl.coalesce(
            *(
                pl.col(c).str.to_lowercase()
                for c in ("upn", "mail", "user_name_sent", "email_sent", "_reported")
            )
        )
        best = (
            events.filter(pl.col("source_id").is_not_null())
            .with_columns(own_key.alias("_key"))
            .filter(pl.col("_key").is_not_null())
            .sort("activity_time")
            .group_by("source_id")
            .agg(pl.col("_key").last().alias("_best"))
        )
        cleaned = pl.col("error_reason").str.to_lowercase().str.replace_all(_WRAPPER, " ")
        text = pl.concat_str(
            [
                pl.col("error_code"),
                pl.coalesce(pl.col("response_body").str.to_lowercase(), cleaned),
                pl.col("error_additional_details"),
            ],
            separator=" ",
            ignore_nulls=True,
        ).str.to_lowercase()
        return (
            events.join(best, on="source_id", how="left")
            .with_columns(
                pl.coalesce(
                    "_best",
                    own_key,
                    "identity_key",
                    pl.col("target_id").str.to_lowercase(),
                    "event_id",
                ).alias("person"),
                text.alias("text"),
            )
            .drop("_best", "_reported")
        )

    def _reported_names(self) -> pl.DataFrame:
        """event_id -> a UPN-like ``ReportableIdentifier`` (CSV exports lack the source UPN)."""
        return (
            self.step_details.filter(
                (pl.col("attribute_key") == "reportableidentifier")
                & pl.col("value").str.contains("@")
            )
            .group_by("event_id", maintain_order=True)
            .agg(pl.col("value").first().alias("_reported"))
        )

    @cached_property
    def failures(self) -> pl.DataFrame:
        return self.events.filter(is_failure())

    @cached_property
    def sent(self) -> pl.DataFrame:
        """Attributes sent to the app, one row each, with the event's person/status/action."""
        facts = self.events.select(
            "event_id", "person", "status", "action", "object_type", "cycle_id", "activity_time"
        )
        return sent_attributes(self.frames.steps, self.frames.modified_properties).join(
            facts, on="event_id", how="inner"
        )

    @cached_property
    def step_details(self) -> pl.DataFrame:
        return step_details(self.frames.steps)

    def sent_where(self, key_pattern: str) -> pl.DataFrame:
        """Sent attributes whose folded key (``attribute_key``) matches a regex."""
        return self.sent.filter(pl.col("attribute_key").str.contains(key_pattern))

    def of(self, event_ids: Iterable[str]) -> pl.DataFrame:
        """The events with these ids."""
        return self.events.filter(pl.col("event_id").is_in(list(event_ids)))

    def people(self, event_ids: Iterable[str]) -> list[str]:
        """Distinct identities of these events, sorted."""
        return sorted(self.of(event_ids)["person"].drop_nulls().unique().to_list())

    def who(self, event_ids: Iterable[str], limit: int = 5) -> str:
        """'a@x.no, b@x.no and 3 more' for a message."""
        return quote_list(self.people(event_ids), limit)


def ids(frame: pl.DataFrame) -> list[str]:
    """The distinct event ids of a frame, in order of appearance."""
    return frame["event_id"].unique(maintain_order=True).to_list()


def events_of_people(ctx: Context, people: Iterable[str], where: pl.Expr) -> list[str]:
    """Event ids of these people's events that satisfy ``where``."""
    return ids(ctx.events.filter(pl.col("person").is_in(list(people)) & where))


def whole_cycles(ctx: Context, failures: pl.DataFrame) -> list[str]:
    """Cycles in which every request to the app is one of these failures (skips send none)."""
    per_cycle = ctx.events.filter(pl.col("status") != "skipped").group_by("cycle_id").agg(
        pl.len().alias("n"),
        pl.col("event_id").is_in(failures["event_id"].implode()).sum().alias("failed"),
    )
    full = per_cycle.filter((pl.col("n") == pl.col("failed")) & pl.col("cycle_id").is_not_null())
    return sorted(full["cycle_id"].to_list())


def people_in(frame: pl.DataFrame) -> list[str]:
    """Distinct identities in a frame with a ``person`` column, sorted."""
    return sorted(frame["person"].drop_nulls().unique().to_list())


def describe(frame: pl.DataFrame, noun: str = "user", nouns: str | None = None) -> str:
    """'3 users (a@x.no, b@x.no, c@x.no)' for a message."""
    people = people_in(frame)
    return f"{plural(len(people), noun, nouns)} ({quote_list(people)})"


def count_by(frame: pl.DataFrame, value: str) -> list[tuple[str, int]]:
    """(value, number of distinct people) pairs, most people first."""
    rows = (
        frame.group_by(value)
        .agg(pl.col("person").n_unique().alias("n"))
        .sort(["n", value], descending=[True, False])
        .iter_rows()
    )
    return [(v, n) for v, n in rows if v is not None]
