"""Where a person never seen among Flowcase's events does appear: in the apps ``scope`` left out.

A tenant-wide export holds every app's events. Someone assigned by mistake to a sandbox
"Flowcase Test" app, or only to another SCIM app, is in the export, just not in the app `why`
judges; "never seen" alone sends the support engineer looking for a typo. So for someone never
seen, `why` counts the events of the other apps about them, found as the lookup finds people
(the whole identifier, folded as ``folding`` folds it; else a display name with its Nordic
letters spelt out) and counted per object as the lookup groups them: every event of an Entra
object that logs the identifier in that app.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from loganalyzer.normalize import Table
from loganalyzer.scope import AppEvents, Scope, job_key
from loganalyzer.store_index import IDENTIFIER_COLUMNS, READ_KEYS, read_keys
from loganalyzer.why.folding import folded_query, spelt_out_name
from loganalyzer.why.lookup import equals_any

JOB = "job"  # an event's ``scope.job_key``, as the store's identity index names it
# what finding and counting read of an event: its app, its object and its identifiers
COLUMNS = ("event_id", "activity_time", "job_id", "service_principal_id", "app_name",
           "object_type", *IDENTIFIER_COLUMNS)


@dataclass(frozen=True)
class AppNaming:
    """An app left out with events about the person: what ``--app`` takes to judge it."""

    app: str
    app_value: str
    events: int
    inbound: bool  # provisions into Entra ID / Active Directory: never Flowcase's
    named_flowcase: bool  # its name mentions Flowcase: a sandbox or test app beside production
    scim: bool  # a non-gallery SCIM app, as Flowcase's is


@dataclass
class OtherApps:
    """The apps ``scope.choose`` left out and their events, read only for someone never seen
    (lazily: an export's are already in memory, a store's are scanned then)."""

    apps: list[AppEvents]
    events: pl.LazyFrame  # ``COLUMNS`` at least

    @staticmethod
    def left_out(events: Table, chosen: Scope) -> OtherApps | None:
        """The other apps of ``events`` (``chosen``: what scope kept), None without any. Only
        ``COLUMNS`` are held (a selection shares their memory), so an export's other columns
        are freed once scope has narrowed them, as without this."""
        if not chosen.others:
            return None
        kept = [k for app in chosen.chosen for k in app.keys]
        return OtherApps(chosen.others, events.select(COLUMNS).lazy().filter(
            ~job_key().is_in(kept)))

    def where(self, condition: pl.Expr) -> OtherApps:
        """Only the events meeting ``condition`` (a period; an indexed store's objects)."""
        return OtherApps(self.apps, self.events.filter(condition))

    def naming(self, query: str) -> list[AppNaming]:
        """The apps with events about ``query``, most events first."""
        q = folded_query(query)
        if not q:
            return []
        logging = pl.any_horizontal(equals_any(c, [q]) for c in IDENTIFIER_COLUMNS)
        user = pl.col("object_type").fill_null("") != "Group"
        found = self.counted(self.events.filter(user & logging)
                             .select(*read_keys(), job_key().alias(JOB)).unique())
        if found:
            return found
        spelt = spelt_out_name("source_display_name", q, whole=True)  # as the lookup's last try
        return self.counted(self.events.filter(user & spelt)
                            .select(*read_keys(), job_key().alias(JOB)).unique())

    def counted(self, objects: pl.LazyFrame) -> list[AppNaming]:
        """The events of ``objects`` (``READ_KEYS`` and ``JOB``, as the identity index has
        them) per app, most first."""
        keyed = self.events.select(*read_keys(), job_key().alias(JOB))
        per_job = dict(keyed.join(objects, on=[*READ_KEYS, JOB], how="semi", nulls_equal=True)
                       .group_by(JOB).len().collect().iter_rows())
        found = [AppNaming(a.name, a.app_value, sum(per_job.get(k, 0) for k in a.keys),
                           a.inbound, a.named_flowcase, a.scim) for a in self.apps]
        return sorted((f for f in found if f.events), key=lambda f: (-f.events, f.app))


def likeliest(apps: list[AppNaming]) -> AppNaming | None:
    """The app to suggest for ``--app``: one named Flowcase first (a sandbox beside
    production), then a non-gallery SCIM app, then the one with most events (``apps`` come
    most first); never one provisioning into Entra/AD."""
    return min((a for a in apps if not a.inbound),
               key=lambda a: (not a.named_flowcase, not a.scim), default=None)
