"""Users are duplicated or collide with pre-existing Flowcase users.

What it detects:
    (1) Failures that say the user already exists: HTTP 409, ``scimType`` uniqueness, error
    codes ending in ``EntryConflict``/``Conflict``/``DuplicateTargetEntries``/
    ``DuplicateSourceEntries``/``MultipleEntriesInResponse`` (a GET for one user answered with
    several), or "already exists"/"duplicate"/"conflict" in the text, and
    which of them came right after a matching step that found no Flowcase user or sent an
    identifier (userName, work email) another Entra object also sends; (2) one identifier
    created successfully under different casings (the same person created twice).
Why provisioning fails:
    Entra matches existing Flowcase users by userName, then email. When pre-existing Flowcase
    data holds other values (another UPN, other casing, an old email), matching finds nothing,
    Entra creates the user and Flowcase refuses the copy, or accepts it and now has two.
Evidence:
    Conflict failures with their SCIM detail; the matching step ("no matching User was found");
    identifiers shared by several Entra objects or sent in several casings.
Fix:
    Steps 1 and 7a: make userName/email in Entra mirror the pre-existing Flowcase users
    (ToLower mappings, same UPN/email/externalId), merge or remove duplicates in Flowcase,
    and test with Provision on demand (step 8a) before bulk provisioning.
Known false positives:
    Department or role errors that contain the word "duplicate", and 409s about something
    else ("User must be Active.", "Duplicate department name": FC009's unless the text says
    the user already exists) are left to their own rules; upper-case identifiers that
    cause the conflict are also reported by FC006; group conflicts belong to FC001. A 404, or a
    delete or disable told the user is not found ("it has already been deleted"), is a user
    Flowcase no longer has, not a duplicate; a 409 for a stale version (an ETag, a concurrent
    change) is one user changed twice.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.identifiers import IDENTIFIER_KEYS, conflict_failures
from diagnostics.rulekit import (
    Context,
    Hit,
    describe,
    ids,
    plural,
    quote_list,
    verb,
)

ID = "FC007"
TITLE = "Duplicate users or identifiers that do not match pre-existing Flowcase data"
SEVERITY = "high"
GUIDE_STEPS = ("1", "7a", "8a")
PATTERNS = (7,)
REMEDIATION = (
    "\"Ensure your attribute mapping mirrors the existing user information as closely as "
    "possible — especially unique identifiers such as email, UPN, and external IDs\" (guide "
    "steps 1 and 7a): compare the userName/email Entra sends with the Flowcase user it collides "
    "with, fix the Entra value or the Flowcase user, merge duplicates, keep userName matching "
    "precedence 1 and email precedence 2, and test with Provision on demand (step 8a)."
)


def _lower_cased_identifier() -> pl.Expr:
    return pl.coalesce("user_name_sent", "email_sent").str.to_lowercase()








def created_after_no_match(ctx: Context, events: pl.DataFrame) -> pl.DataFrame:
    """Of these events, those whose matching step found no Flowcase user."""
    steps = ctx.steps_where(
        pl.col("event_id").is_in(events["event_id"].implode())
        & (pl.col("step_type") == "matching"),
        ["event_id", "name", "description"],
    ).filter(
        (pl.col("name") == "EntrySynchronizationAdd")
        | pl.col("description").str.to_lowercase().str.contains("no matching")
    )
    return events.filter(pl.col("event_id").is_in(steps["event_id"].implode()))


def shared_identifiers(ctx: Context) -> pl.DataFrame:
    """Sent identifiers (lower-cased) that more than one Entra object sends: event_id,
    person, key, source_id.

    Every sent identifier of a month takes part (tens of millions of values), so the owners
    are first counted over 64-bit hashes of the identifiers and of the event and object ids,
    in Polars' streaming engine: at 5M events 0.5 GB instead of 3.7 GB for joining and
    grouping the strings. Only the rows of the few candidate identifiers are then read with
    their facts, and counted again exactly (a hash collision cannot make a finding)."""
    named = pl.col("value").is_not_null()
    key = pl.col("value").str.to_lowercase()
    objects = (
        ctx.frames.events.lazy()
        .filter((pl.col("object_type") != "Group").fill_null(True)
                & pl.col("source_id").is_not_null())
        .select(pl.col("event_id").hash().alias("_event"),
                pl.col("source_id").hash().alias("_object"))
    )
    candidates = (
        ctx.sent_values(IDENTIFIER_KEYS, where=named)
        .select(pl.col("event_id").hash().alias("_event"), key.hash().alias("_key"))
        .join(objects, on="_event", how="inner")
        .group_by("_key")
        .agg(pl.col("_object").n_unique().alias("n"))
        .filter(pl.col("n") > 1)
        .collect(engine="streaming")["_key"]
    )
    if candidates.is_empty():  # as a rule: reading a month's sent values again costs 4 s at 5M
        return pl.DataFrame(schema=dict.fromkeys(("event_id", "person", "key", "source_id"),
                                                 pl.Utf8))
    rows = (
        ctx.sent_where(IDENTIFIER_KEYS, where=named & key.hash().is_in(candidates.implode()))
        .filter((pl.col("object_type") != "Group").fill_null(True)
                & pl.col("source_id").is_not_null())
        .select("event_id", "person", key.alias("key"), "source_id")
    )
    owners = pl.col("source_id").n_unique().over("key")
    return rows.filter(owners > 1)


def recased_creates(ctx: Context) -> pl.DataFrame:
    """Successful creates of one identifier under several casings (a person created twice)."""
    created = ctx.events_where(
        (pl.col("action") == "create") & (pl.col("status") == "success"),
        ("event_id", "user_name_sent", "email_sent"),
    ).with_columns(
        pl.coalesce("user_name_sent", "email_sent").alias("raw"),
        _lower_cased_identifier().alias("key"),
    ).filter(pl.col("raw").is_not_null())
    twice = created.group_by("key").agg(pl.col("raw").n_unique().alias("spellings")).filter(
        pl.col("spellings") > 1
    )
    return created.filter(pl.col("key").is_in(twice["key"].implode()))


def evaluate(ctx: Context) -> list[Hit]:
    conflicts = conflict_failures(ctx)
    recased = recased_creates(ctx)
    if conflicts.height + recased.height == 0:
        return []
    shared = shared_identifiers(ctx)
    blind = created_after_no_match(ctx, conflicts)
    parts = []
    if conflicts.height:
        part = (
            f"{describe(conflicts)} could not be provisioned because Flowcase already has "
            f"them ({plural(conflicts.height, 'conflict')})"
        )
        if blind.height:
            part += (
                f"; {plural(blind.height, 'create')} followed a matching step that found no "
                "Flowcase user, so the identifiers differ from the existing Flowcase data"
            )
        clashing = shared.filter(pl.col("event_id").is_in(conflicts["event_id"].implode()))
        if clashing.height:
            keys = sorted(clashing["key"].unique().to_list())
            part += f"; another Entra user already sends {quote_list(keys)}"
        parts.append(part)
    if recased.height:
        keys = sorted(recased["key"].unique().to_list())
        parts.append(
            f"{plural(len(keys), 'user')} ({quote_list(keys)}) "
            f"{verb(len(keys), 'was', 'were')} created twice under "
            "differently cased identifiers"
        )
    message = "; ".join(parts)
    details = {
        "conflicts": conflicts.height,
        "created_after_no_match": blind.height,
        "shared_identifiers": sorted(shared["key"].unique().to_list()),
        "recased_identifiers": sorted(recased["key"].unique().to_list()),
    }
    event_ids = ids(pl.concat([conflicts.select("event_id"), recased.select("event_id")]))
    return [Hit(event_ids, message[0].upper() + message[1:] + ".", details=details)]
