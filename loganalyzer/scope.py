"""Which events are Flowcase's: decided per provisioning job, before any rule runs.

A tenant-wide export (Log Analytics, a diagnostic-settings stream, a Graph pull without a
filter, an all-apps portal download) holds every app's provisioning: gallery apps, other
non-gallery SCIM apps, inbound HR provisioning into Entra/AD, cross-tenant sync. Flowcase's
rulebook must see only Flowcase's events; the rest are counted, by app, and named in every
output ("412 events of 3 other apps not diagnosed: Box 300, ...").

A job is Flowcase's when its app, service principal or target system name mentions Flowcase
(or its former name, CV Partner); failing that, when it is the one outbound job of the
non-gallery SCIM template guide step 2 creates (job id ``scim.…``, target ``customappsso``).
A job whose target is Entra ID or Active Directory is inbound and never Flowcase's.
``--app NAME|SERVICE_PRINCIPAL_ID|JOB_ID`` (repeatable) overrides the choice.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import polars as pl

from loganalyzer.normalize import Frames
from loganalyzer.problems import InputError
from loganalyzer.wording import plural, quote_list

OTHER_APPS_SHOWN = 8  # apps named in the note on the apps left out, before 'and N more'

FLOWCASE_NAME = re.compile(r"flowcase|cv[ _-]?partner", re.IGNORECASE)
# target systems that are the directory itself: the job provisions *into* Entra / AD
INBOUND_TARGET = re.compile(
    r"azure active directory|microsoft entra|entra id|^active directory|\bon-?prem", re.IGNORECASE
)
GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# <templateId>.<tenant id without hyphens>[.<guid>] (formats reference 1.4)
JOB_ID = re.compile(r"^[A-Za-z][A-Za-z0-9]*\.[0-9A-Za-z]{32}(\.[0-9A-Za-z-]{36})?$")
SCIM_TEMPLATE = "scim"
SCIM_TARGET = "customappsso"
_JOB_KEY = "_scope_job"
UNNAMED = "(no app or job named)"  # a pasted on-demand result names neither


@dataclass(frozen=True)
class AppEvents:
    """One app of the input (its jobs together) and how many events it has."""

    name: str  # display name; else the service principal or job id
    service_principal_id: str | None
    job_ids: tuple[str, ...]
    events: int
    app_value: str  # what to pass to --app to choose it
    inbound: bool  # provisions into Entra ID / Active Directory
    named_flowcase: bool  # its name mentions Flowcase or CV Partner
    scim: bool  # the non-gallery SCIM template of guide step 2
    keys: tuple[str, ...] = ()  # its jobs' grouping keys (job id, else app), to select events


@dataclass
class Scope:
    """The Flowcase events to diagnose, and the apps left out."""

    frames: Frames
    chosen: list[AppEvents]
    others: list[AppEvents]
    by_option: bool = False  # chosen with --app

    @property
    def other_events(self) -> int:
        return sum(a.events for a in self.others)

    def note(self) -> str | None:
        """'412 events of 3 other apps not diagnosed: Box 300, Dropbox Business 100, ...'."""
        if not self.others:
            return None
        listed = [f"{a.name} {a.events:,}" for a in self.others]
        return (
            f"{plural(self.other_events, 'event')} of {plural(len(self.others), 'other app')} "
            f"not diagnosed: {quote_list(listed, limit=OTHER_APPS_SHOWN)} (only Flowcase's "
            "events are; choose another with --app)"
        )

    def choice_note(self) -> str | None:
        """Says so when the app was chosen for being the only non-gallery SCIM app, or when
        several apps named Flowcase (a test app beside production) are diagnosed together:
        the findings do not say whose events they are."""
        if self.by_option or not self.chosen:
            return None
        named = [a for a in self.chosen if a.named_flowcase]
        if len(named) > 1:
            listed = ", ".join(f"{_told_apart(a)} {plural(a.events, 'event')}" for a in named)
            return (f"diagnosed {len(named)} apps named Flowcase together: {listed} (a test "
                    "app beside production?), so their findings mix; name one with --app to "
                    "diagnose it alone")
        if named:
            return None
        app = self.chosen[0]
        if app.name == UNNAMED:
            return None
        return (f"diagnosed '{app.name}' as the Flowcase app: no app is named Flowcase or CV "
                "Partner and it is the only non-gallery SCIM app; name another with --app")

    def notes(self) -> list[str]:
        return [n for n in (self.note(), self.choice_note()) if n]

    def to_json(self) -> dict:
        return {
            "diagnosed": [_public(a) for a in self.chosen],
            "chosen_by": "--app" if self.by_option else "automatic",
            "other_events": self.other_events,
            "other_apps": [_public(a) for a in self.others],
            "note": self.note(),
            "choice_note": self.choice_note(),
        }


def _told_apart(app: AppEvents) -> str:
    """The app's name, with the --app value that takes it alone when another app shares the
    name (an app re-created as "Flowcase" beside the old one): its name would take both."""
    return app.name if app.app_value == app.name else f"{app.name} (--app {app.app_value})"


def _public(app: AppEvents) -> dict:
    fields = asdict(app)
    fields.pop("keys")
    return fields


class ScopeError(InputError):
    """No app, or more than one, could be Flowcase's: the user must name one with --app."""

    def __init__(self, inputs: str, message: str, apps: Sequence[AppEvents]):
        super().__init__(inputs, message, choices=[_choice_line(a) for a in apps])
        self.apps = list(apps)


def _choice_line(app: AppEvents) -> str:
    kind = "inbound to Entra/AD" if app.inbound else ("SCIM" if app.scim else "gallery app")
    return f"  {app.name} ({kind}): {plural(app.events, 'event')}   --app '{app.app_value}'"


def _inbound(target_system: str | None) -> bool:
    return bool(INBOUND_TARGET.search(target_system or ""))


def _template(job_id: str | None) -> str:
    return (job_id or "").split(".", 1)[0].casefold()


JOB_COLUMNS = ("job_id", "app_name", "service_principal_id", "target_system")


def jobs(frames: Frames) -> pl.DataFrame:
    """One row per job: its key, job id, app name, service principal, target and source system
    (the most frequent), and the number of events."""
    counts = (  # lazy: only the four columns read, not a copy of every event
        frames.events.lazy().group_by(JOB_COLUMNS).agg(pl.len().alias("events")).collect()
    )
    return jobs_of(counts)


def jobs_of(counts: pl.DataFrame) -> pl.DataFrame:
    """``jobs`` from event counts per ``JOB_COLUMNS`` (a store's index keeps them, so the
    apps are known without reading the events). Equally frequent names: the first by name."""
    counts = counts.with_columns(job_key().alias(_JOB_KEY))
    found = counts.group_by(_JOB_KEY).agg(pl.col("events").sum())
    for column in JOB_COLUMNS:
        most = (
            counts.filter(pl.col(column).is_not_null())
            .group_by(_JOB_KEY, column)
            .agg(pl.col("events").sum().alias("_n"))
            .sort("_n", column, descending=[True, False])
            .group_by(_JOB_KEY, maintain_order=True)
            .agg(pl.col(column).first())
        )
        found = found.join(most, on=_JOB_KEY, how="left")
    return found.select(_JOB_KEY, *JOB_COLUMNS, "events").sort(
        "events", _JOB_KEY, descending=[True, False])


def job_key() -> pl.Expr:
    """A job is its id; events without one are grouped by their app."""
    return pl.coalesce("job_id", "service_principal_id", "app_name", pl.lit(""))


def apps(frames: Frames) -> list[AppEvents]:
    """Every app of the input, most events first."""
    return apps_of(jobs(frames))


def apps_of(jobs: pl.DataFrame) -> list[AppEvents]:
    """The apps of these ``jobs`` rows, most events first."""
    rows = list(jobs.iter_rows(named=True))
    grouped: dict[tuple[str, bool], list[dict]] = {}
    for row in rows:
        # decided per job: an app's inbound job (into Entra/AD) never joins its outbound one
        app = row["service_principal_id"] or row["app_name"] or row[_JOB_KEY]
        grouped.setdefault((app, _inbound(row["target_system"])), []).append(row)
    names = [next((r["app_name"] for r in g if r["app_name"]), None) for g in grouped.values()]
    found = [_app(group, names.count(name) > 1) for group, name in zip(grouped.values(), names,
                                                                         strict=True)]
    return sorted(found, key=lambda a: (-a.events, a.name))


def _app(rows: list[dict], name_shared: bool) -> AppEvents:
    name = next((r["app_name"] for r in rows if r["app_name"]), None)
    sp_id = next((r["service_principal_id"] for r in rows if r["service_principal_id"]), None)
    job_ids = tuple(r["job_id"] for r in rows if r["job_id"])
    targets = " / ".join(r["target_system"] or "" for r in rows)
    value = (name if name and not name_shared else None) or sp_id or (job_ids[0] if job_ids
                                                                      else "")
    identified = bool(name or sp_id or job_ids)
    return AppEvents(
        name=name or sp_id or (job_ids[0] if job_ids else UNNAMED),
        service_principal_id=sp_id,
        job_ids=job_ids,
        events=sum(r["events"] for r in rows),
        app_value=value,
        inbound=_inbound(rows[0]["target_system"]),
        named_flowcase=bool(FLOWCASE_NAME.search(f"{name or ''} {targets}")),
        # events naming no app or job (a pasted on-demand result) can only be the user's app
        scim=not identified or SCIM_TARGET in targets.casefold()
        or any(_template(j) == SCIM_TEMPLATE for j in job_ids),
        keys=tuple(r[_JOB_KEY] for r in rows),
    )


def _matches(app: AppEvents, value: str) -> bool:
    wanted = value.strip().casefold()
    return wanted in {
        (app.name or "").casefold(), (app.service_principal_id or "").casefold(),
        *(j.casefold() for j in app.job_ids),
    }


def choose(frames: Frames, wanted: Sequence[str] = (), inputs: str = "INPUTS") -> Scope:
    """The Flowcase events of ``frames`` and the apps left out.

    ``wanted`` are ``--app`` values (a display name, service principal id or job id,
    case-insensitive). ``ScopeError`` (exit 2, listing the apps and the ``--app`` value for
    each) when a value matches nothing, or when no app or several could be Flowcase's.
    """
    found = apps(frames)
    chosen = pick(found, wanted, inputs)
    return _narrow(frames, chosen, [a for a in found if a not in chosen], bool(wanted))


def pick(found: list[AppEvents], wanted: Sequence[str], inputs: str) -> list[AppEvents]:
    """The apps ``choose`` keeps (none when there are no apps at all)."""
    if not found:  # no events at all: nothing to choose between
        return []
    if not wanted:
        return _automatic(found, inputs)
    chosen: list[AppEvents] = []
    for value in wanted:
        hits = [a for a in found if _matches(a, value)]
        if not hits:
            raise ScopeError(inputs, f"--app '{value}' names no app, service principal or "
                             "job in the input; the apps are:", found)
        chosen += [a for a in hits if a not in chosen]
    return chosen


def _automatic(found: list[AppEvents], inputs: str) -> list[AppEvents]:
    outbound = [a for a in found if not a.inbound]
    named = [a for a in outbound if a.named_flowcase]
    if named:
        # a pasted on-demand result names no app: beside one Flowcase app, it is that app's
        unnamed = [a for a in outbound if a.name == UNNAMED] if len(named) == 1 else []
        return named + unnamed
    scim = [a for a in outbound if a.scim]
    if len(scim) == 1:
        return scim
    if not scim:
        raise ScopeError(inputs, f"no Flowcase events: none of the {plural(len(found), 'app')} "
                         "in the input is Flowcase's (no app named Flowcase or CV Partner, no "
                         "non-gallery SCIM job); if one of these is, name it with --app:", found)
    raise ScopeError(inputs, f"{len(scim)} non-gallery SCIM apps and none is named Flowcase; "
                     "choose the Flowcase app with --app:", found)


def _narrow(frames: Frames, chosen: list[AppEvents], others: list[AppEvents],
            by_option: bool) -> Scope:
    if not others:
        return Scope(frames, chosen, [], by_option)
    keys = [k for a in chosen for k in a.keys]
    return Scope(frames.where(job_key().is_in(keys)), chosen, others, by_option)
