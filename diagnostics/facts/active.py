"""The ``active`` attribute as sent, shared by the flag rule (FC003) and the soft-delete rule
(FC014) so a boolean complaint is attributed once: to the missing flag when Entra sent a
proper ``True``/``False`` string, to the mapping when it sent something else."""

from __future__ import annotations

import polars as pl

from diagnostics.facts.vocabulary import (
    ACTIVE_ATTRIBUTE,
    BOOLEAN,
    COUNTRY,
    DEPARTMENT,
    MANAGER,
    PATCH_SHAPE,
    ROLE,
    VALUE_REJECTED,
)
from diagnostics.rulekit import Context, http_in, is_transient, mentions, no_http_status

BOOLEAN_TEXT = ("true", "false")


def sent_active(ctx: Context) -> pl.DataFrame:
    """event_id, person, action, status and the lower-cased ``active`` value sent, of the
    requests the rules ask about: those that failed, sent False (a deactivation) or anything
    but True/False. A month of healthy updates sends True millions of times; those are left
    out."""
    return ctx.memo("sent_active", lambda: _sent_active(ctx))


def _sent_active(ctx: Context) -> pl.DataFrame:
    active = pl.col("value").str.strip_chars().str.to_lowercase()
    asked = (active != "true").fill_null(True) | pl.col("event_id").is_in(
        ctx.failures["event_id"].implode()
    )
    return ctx.sent_where(r"^active$", where=asked).select(
        "event_id",
        "person",
        "action",
        "status",
        pl.col("value").alias("raw"),
        active.alias("active"),
    )


def non_boolean_active(ctx: Context) -> pl.DataFrame:
    """Requests whose ``active`` value is not a boolean ('Disabled', '1', '')."""
    return sent_active(ctx).filter(~pl.col("active").fill_null("").is_in(BOOLEAN_TEXT))


def string_boolean_failures(ctx: Context) -> pl.DataFrame:
    """Update/disable failures about a boolean or the PATCH shape, where Entra sent a proper
    True/False: the pre-2020 SCIM client sends booleans as strings."""
    return ctx.memo("string_boolean_failures", lambda: _string_boolean_failures(ctx))


def _string_boolean_failures(ctx: Context) -> pl.DataFrame:
    improper = non_boolean_active(ctx)["event_id"]
    proper = sent_active(ctx).filter(pl.col("active").is_in(BOOLEAN_TEXT))["event_id"]
    complaint = (
        mentions(BOOLEAN)
        | mentions(PATCH_SHAPE)
        | (
            pl.col("event_id").is_in(proper.implode())
            & mentions(ACTIVE_ATTRIBUTE)
            & mentions(VALUE_REJECTED)
        )
    )
    return ctx.failures.filter(
        pl.col("action").is_in(["update", "disable"])
        & (http_in(400, 422) | (no_http_status() & ~is_transient()))
        & complaint
        & ~mentions(MANAGER)
        & ~mentions(DEPARTMENT)
        & ~mentions(ROLE)
        & ~mentions(COUNTRY)
        & ~pl.col("event_id").is_in(improper.implode())
    )
