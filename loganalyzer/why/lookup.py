"""Find one person in the events frame from whatever identifier an admin typed.

People type a UPN, a mail address, the userName or email sent to Flowcase, an externalId, the
Entra object id, the Flowcase id or a display name, in any case (Graph's own filters are
case-sensitive, which is what trips them up). One person may be logged under several of these
across events, so a person's events are grouped by the Entra object id wherever it is known;
an event that lacks it joins the person whose other identifiers it shares, if exactly one does.
"""

from __future__ import annotations

import difflib
import heapq
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import polars as pl

from loganalyzer.file_order import in_time_order
from loganalyzer.normalize import attribute_key
from loganalyzer.store_index import DETAIL_KEYS
from loganalyzer.why.folding import (
    composed,
    escaped,
    folded,
    folded_query,
    spelt_out_name,
)
from loganalyzer.why.frame_source import Coverage, FrameSource, without_groups

# Columns a person can be looked up by, strongest first: an exact match in an earlier tier
# wins, so a UPN typed in full is not made ambiguous by another account that merely *sent*
# the same email (that account is shown as a duplicate instead).
TIERS: tuple[tuple[str, ...], ...] = (
    ("upn", "source_id", "target_id", "identity_key"),
    ("mail",),
    ("user_name_sent", "email_sent", "external_id"),
    ("source_display_name",),
)
LOOKUP_COLUMNS = tuple(c for tier in TIERS for c in tier)  # store_index.IDENTIFIER_COLUMNS
# Columns that identify one person unambiguously (a display name may be shared, so it is not one).
LINK_COLUMNS = ("upn", "mail", "user_name_sent", "email_sent", "external_id", "target_id")
# Columns where another object logging one of a person's identifiers is a duplicate of them.
SHARED_COLUMNS = ("upn", "mail", "user_name_sent", "email_sent")


@dataclass
class Person:
    """One Entra user as the export knows them."""

    key: str  # the Entra object id, else the lower-cased identifier the log used
    object_id: str | None
    display_name: str | None
    upns: list[str]
    mails: list[str]
    user_names_sent: list[str]
    emails_sent: list[str]
    external_ids: list[str]
    flowcase_ids: list[str]
    events: int
    first_seen: datetime | None
    last_seen: datetime | None
    last_status: str | None
    event_ids: list[str] = field(default_factory=list, repr=False,
                                 metadata={"json": False})  # not in `why`'s JSON

    def label(self) -> str:
        """'Display Name <upn>' for headings."""
        who = self.upns[0] if self.upns else (self.mails or self.user_names_sent or [self.key])[0]
        return f"{self.display_name} <{who}>" if self.display_name else who


@dataclass
class Lookup:
    """The outcome of resolving a query: no one, exactly one person, or several."""

    query: str
    people: list[Person]
    matched_on: str | None  # "identifier", "partial identifier", "step details"
    suggestions: list[str]
    coverage: Coverage

    @property
    def person(self) -> Person | None:
        return self.people[0] if len(self.people) == 1 else None


def _lowered(users: pl.DataFrame) -> pl.DataFrame:
    return users.select(
        "event_id", *[pl.col(c).str.to_lowercase().alias(f"_{c}") for c in LOOKUP_COLUMNS]
    )


def equals_any(column: str, values: list[str]) -> pl.Expr:
    """Case-insensitive equality with any of ``values`` (lower-case). ASCII values are
    matched by a regex, faster than lower-casing every row of a 200,000-event frame; others
    by lower-casing both sides alike: the regex's case folding and ``str.lower`` disagree on
    letters such as the Turkish İ (lower-cased to i plus a combining dot)."""
    if not all(v.isascii() for v in values):
        wanted = [folded(unicodedata.normalize("NFC", v)) for v in values]
        return composed(pl.col(column)).str.to_lowercase().is_in(wanted).fill_null(False)
    alternatives = "|".join(escaped(v) for v in values)
    return pl.col(column).str.contains(f"(?i)^(?:{alternatives})$").fill_null(False)


def _unique_owner(matches: pl.DataFrame) -> pl.DataFrame:
    """event_id -> source id, for events whose matches name exactly one object."""
    return (
        matches.group_by("event_id")
        .agg(pl.col("_source_id").unique())
        .filter(pl.col("_source_id").list.len() == 1)
        .select("event_id", pl.col("_source_id").list.first().alias("person_key"))
    )


def _owners(lowered: pl.DataFrame) -> pl.DataFrame:
    """event_id -> person key: the object id, else the one object id that shares the event's
    strongest identifier (UPN with UPN first, ...), else the one sharing any identifier."""
    orphans = lowered.filter(pl.col("_source_id").is_null())
    keyed = lowered.select("event_id", pl.col("_source_id").alias("person_key")).filter(
        pl.col("person_key").is_not_null()
    )
    if orphans.is_empty():
        return keyed
    link = [f"_{c}" for c in LINK_COLUMNS]
    orphan_values = orphans.unpivot(
        index="event_id", on=link, variable_name="column", value_name="value"
    ).filter(pl.col("value").is_not_null())
    values = orphan_values["value"].unique().implode()
    known = (
        lowered.filter(pl.col("_source_id").is_not_null())
        .filter(pl.any_horizontal(pl.col(c).is_in(values) for c in link))
        .unpivot(index="_source_id", on=link, variable_name="column", value_name="value")
        .filter(pl.col("value").is_not_null())
        .unique()
    )
    rank = {c: i for i, c in enumerate(link)}
    same = orphan_values.join(known, on=["column", "value"]).with_columns(
        pl.col("column").replace_strict(rank).alias("_rank")
    )
    best = same.filter(pl.col("_rank") == pl.col("_rank").min().over("event_id"))
    by_kind = _unique_owner(best)
    any_kind = _unique_owner(
        orphan_values.join(known.select("value", "_source_id").unique(), on="value")
    ).join(by_kind, on="event_id", how="anti")
    linked = pl.concat([by_kind, any_kind])
    unlinked = orphans.join(linked, on="event_id", how="anti").select(
        "event_id", pl.coalesce("_identity_key", "event_id").alias("person_key")
    )
    return pl.concat([keyed, linked, unlinked])


def _pool(users: pl.DataFrame, matched: pl.DataFrame) -> pl.DataFrame:
    """The rows that can belong to the matched people: their object ids' events, events
    without an object id, and the events whose identifiers those share."""
    ids = matched["source_id"].drop_nulls().unique().implode()
    orphan = pl.col("source_id").is_null()
    orphans = users.filter(orphan)
    values = (
        orphans.select(pl.concat_list(LINK_COLUMNS).alias("v")).explode("v")["v"]
        .drop_nulls().str.to_lowercase().unique().to_list()
    )
    if len(values) > 1000:  # an export without object ids: compare everything
        return users
    shares = pl.any_horizontal(equals_any(c, values) for c in LINK_COLUMNS) if values else False
    return users.filter(pl.col("source_id").is_in(ids) | orphan | shares)


def _match_events(users: pl.DataFrame, q: str) -> tuple[pl.DataFrame, str | None]:
    names = ("identifier", "mail", "sent identifier", "display name")
    for tier, how in zip(TIERS, names, strict=True):
        exact = users.filter(pl.any_horizontal(equals_any(c, [q]) for c in tier))
        if not exact.is_empty():
            return exact, how
    starts = f"(?i)^{escaped(q)}"

    def text(column: str) -> pl.Expr:
        return pl.col(column) if q.isascii() else composed(pl.col(column))

    partial = users.filter(
        pl.any_horizontal(
            *(text(c).str.contains(starts).fill_null(False) for c in LOOKUP_COLUMNS),
            text("source_display_name").str.contains(f"(?i){escaped(q)}").fill_null(False),
        )
    )
    if not partial.is_empty():
        return partial, "partial identifier"
    return partial, None


def _match_details(source: FrameSource, users: pl.DataFrame, q: str) -> pl.DataFrame:
    """Events whose step details name the query (ReportableIdentifier, matched userName, ...)."""
    steps = source.steps_of(users["event_id"], columns=["event_id", "step_index", "details"])
    value = pl.element().struct.field("value")
    naming = steps.filter(  # a regex over the values first: exploding 800,000 steps is slow
        pl.col("details").list.eval(value.str.contains(f"(?i)^{escaped(q)}$")).list.any()
    )
    details = (
        naming.explode("details")
        .unnest("details")
        .filter(
            attribute_key(pl.col("key")).is_in(DETAIL_KEYS)
            & equals_any("value", [q])
        )
    )
    return users.filter(pl.col("event_id").is_in(details["event_id"].unique().implode()))


def _people(events: pl.DataFrame, owners: pl.DataFrame, keys: list[str],
            newest_first: list[str]) -> list[Person]:
    def distinct(column: str) -> pl.Expr:
        """Each value once, the newest first: a person renamed during the month is shown by
        the UPN they have now, the old one after it."""
        return pl.col(column).drop_nulls().reverse().unique(maintain_order=True).alias(column)

    mine = owners.filter(pl.col("person_key").is_in(keys))
    rows = (
        in_time_order(events.join(mine, on="event_id"), newest_first)
        .group_by("person_key", maintain_order=True)
        .agg(
            pl.col("source_id").drop_nulls().first(),
            pl.col("source_display_name").drop_nulls().last(),
            distinct("upn"), distinct("mail"), distinct("user_name_sent"),
            distinct("email_sent"), distinct("external_id"), distinct("target_id"),
            pl.len().alias("events"),
            pl.col("activity_time").min().alias("first_seen"),
            pl.col("activity_time").max().alias("last_seen"),
            pl.col("status").last().alias("last_status"),
            pl.col("event_id"),
        )
        .sort("last_seen", descending=True, nulls_last=True)
    )
    return [
        Person(
            key=r["person_key"], object_id=r["source_id"], display_name=r["source_display_name"],
            upns=r["upn"], mails=r["mail"], user_names_sent=r["user_name_sent"],
            emails_sent=r["email_sent"], external_ids=r["external_id"],
            flowcase_ids=r["target_id"], events=r["events"], first_seen=r["first_seen"],
            last_seen=r["last_seen"], last_status=r["last_status"], event_ids=r["event_id"],
        )
        for r in rows.iter_rows(named=True)
    ]


def closest_identifiers(names: set[str], q: str, limit: int = 5, cutoff: float = 0.6
                        ) -> list[str]:
    """Identifiers spelled most like the query: ``difflib.get_close_matches`` over the
    lower-cased identifiers, same answer, without its slow ``ratio`` for every one of them
    (50,000 at 1M events: 0.4 s). Its cheap bound, the characters in common, is counted for
    all at once, and ``ratio`` (never above that bound) is asked best bound first until no
    bound left can enter the ``limit`` best."""
    frame = pl.DataFrame({"name": sorted(names)}, schema={"name": pl.Utf8})
    common = pl.sum_horizontal(
        pl.lit(0),
        *(pl.col("name").str.count_matches(c, literal=True).clip(upper_bound=n)
          for c, n in Counter(q).items()),
    )
    length = pl.col("name").str.len_chars().alias("length")
    rows = frame.select("name", common.alias("common"), length).filter(
        2 * pl.col("common") >= cutoff * (pl.col("length") + len(q)) - 1e-9)  # a superset
    bounds = sorted(((_ratio(common, length + len(q)), name)
                     for name, common, length in rows.iter_rows()), reverse=True)
    matcher = difflib.SequenceMatcher()
    matcher.set_seq2(q)
    best: list[tuple[float, str]] = []
    for bound, name in bounds:
        if bound < cutoff or (len(best) == limit and bound < best[0][0]):
            break
        matcher.set_seq1(name)
        ratio = matcher.ratio()
        if ratio >= cutoff:
            (heapq.heappush if len(best) < limit else heapq.heappushpop)(best, (ratio, name))
    return [name for _, name in heapq.nlargest(limit, best)]


def suggestions(names: set[str], q: str, limit: int = 5) -> list[str]:
    """What to suggest for a query nobody matches: ``closest_identifiers``, except that an
    address is compared by its part before the @ with the others' (an identifier without one
    as it is): the domain a tenant's addresses share made every colleague look like a typo
    ('new.hire@northwind.no' suggested per.olsen@northwind.no), while the right name at the
    wrong domain is a near miss."""
    local, at, _ = q.partition("@")
    if not (at and local):
        return closest_identifiers(names, q, limit)
    by_local: dict[str, list[str]] = {}
    for name in names:
        by_local.setdefault(name.partition("@")[0] or name, []).append(name)
    close = closest_identifiers(set(by_local), local, limit)
    return [name for key in close for name in sorted(by_local[key])][:limit]


def _ratio(matches: int, length: int) -> float:
    """``difflib``'s ratio of ``matches`` in two strings of ``length`` characters together."""
    return 2.0 * matches / length if length else 1.0


def _match_spelt_out(users: pl.DataFrame, q: str) -> tuple[pl.DataFrame, str]:
    """Events whose display name is ``q``, else holds it, with its ø, æ, å (ä, ö, ü)
    typed as o or oe, ae, a or aa: "jorgen saether" is Jørgen Sæther. Tried last, so a
    name that matched as typed is never made ambiguous by it. Each name is folded once, not
    once an event (0.2 s of a 200,000-event export)."""
    names = users.select(pl.col("source_display_name").unique().drop_nulls())
    for whole, how in ((True, "display name"), (False, "partial identifier")):
        named = names.filter(spelt_out_name("source_display_name", q, whole=whole))
        if not named.is_empty():
            return users.filter(pl.col("source_display_name").is_in(
                named["source_display_name"].implode())), how
    return users.clear(), "partial identifier"


def _matches(source: FrameSource, found: pl.DataFrame, q: str) -> tuple[pl.DataFrame, str] | None:
    """The events matching ``q`` and how, or None."""
    matched, how = _match_events(found, q)
    if how is None:
        matched, how = _match_details(source, found, q), "step details"
    if matched.is_empty():
        matched, how = _match_spelt_out(found, q)
    return None if matched.is_empty() else (matched, how)


def lookup(source: FrameSource, query: str) -> Lookup:
    """Resolve ``query`` (case-insensitive) to the people it may mean, with all their events."""
    q = folded_query(query)
    cover = source.coverage()
    found = without_groups(source.candidates(q)) if q else None
    match = _matches(source, found, q) if found is not None else None
    if found is None or match is None:
        return Lookup(query, [], None, suggestions(source.identifiers(), q), cover)
    matched, how = match
    owners = _owners(_lowered(_pool(found, matched)))
    keys = owners.filter(pl.col("event_id").is_in(matched["event_id"].implode()))
    people = _people(found, owners, keys["person_key"].unique().to_list(), source.newest_first)
    return Lookup(query, people, how, [], cover)
