"""One app's provisioning configuration, as msgraph-sdk's typed models, wherever it was read.

``fetch-config`` and ``check --graph`` fill it from Graph; ``check --config DIR`` from saved or
hand-copied files (``config.files``). The configuration checks read only this, so a check
gives the same answer online and offline. A part that could not be read (a permission Graph
refused, a file not given) is ``None`` and ``unavailable`` says why, so a check can say it was
not run instead of passing silently.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from msgraph.generated.models.app_role import AppRole
    from msgraph.generated.models.app_role_assignment import AppRoleAssignment
    from msgraph.generated.models.application import Application
    from msgraph.generated.models.directory_object import DirectoryObject
    from msgraph.generated.models.service_principal import ServicePrincipal
    from msgraph.generated.models.synchronization import Synchronization
    from msgraph.generated.models.synchronization_job import SynchronizationJob
    from msgraph.generated.models.synchronization_schema import SynchronizationSchema

T = TypeVar("T")

# The parts a check can need; ``unavailable`` is keyed by them.
APP_ROLES = "app roles"
JOBS = "synchronization job"
SCHEMA = "synchronization schema"
ASSIGNMENTS = "assignments"
MEMBERS = "group members"
SECRETS = "provisioning settings (Tenant URL, scope)"
PARTS = (APP_ROLES, JOBS, SCHEMA, ASSIGNMENTS, MEMBERS, SECRETS)


def to_json(model: Any) -> dict:
    """A typed model as the JSON Graph sends: kiota's writer, with two of its losses mended
    (``_GraphJsonWriter``), so fetch-config's files read back as what Graph returned."""
    writer = _graph_json_writer()
    writer.write_object_value(None, model)
    return json.loads(writer.get_serialized_content())


def _graph_json_writer() -> Any:
    from kiota_serialization_json.json_serialization_writer import JsonSerializationWriter

    class _GraphJsonWriter(JsonSerializationWriter):
        """kiota drops a flags enum held as a list (an object mapping's ``flowTypes``,
        ``Add,Update,Delete``; a directory's ``discoverabilities``) and writes a duration as
        Python's ``0:40:00``; Graph sends ``"Add,Update,Delete"`` and ``"PT40M"``."""

        def write_enum_value(self, key: str | None, value: Any) -> None:
            if isinstance(value, list):
                self.write_str_value(key, ",".join(flag.value for flag in value))
            else:
                super().write_enum_value(key, value)

        def write_timedelta_value(self, key: str | None, value: Any) -> None:
            if isinstance(value, timedelta):
                self.write_str_value(key, iso_duration(value))
            else:
                super().write_timedelta_value(key, value)

        def _create_new_writer(self) -> JsonSerializationWriter:
            writer = _GraphJsonWriter()
            writer.on_before_object_serialization = self.on_before_object_serialization
            writer.on_after_object_serialization = self.on_after_object_serialization
            writer.on_start_object_serialization = self.on_start_object_serialization
            return writer

    return _GraphJsonWriter()


def iso_duration(value: timedelta) -> str:
    """An ISO 8601 duration as Graph writes a job's interval: PT40M, P1D, PT1H30M, and a
    fraction to the microsecond (Graph's never-scheduled P10675199DT2H48M5.4775807S has one
    digit more than a timedelta keeps)."""
    hours, rest = divmod(value.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if value.microseconds:
        second = f"{seconds}.{value.microseconds:06d}".rstrip("0")
    else:
        second = str(seconds) if seconds else ""
    time = "".join(f"{n}{unit}" for n, unit in ((hours, "H"), (minutes, "M"), (second, "S"))
                   if n)
    date = f"{value.days}D" if value.days else ""
    return "P" + date + ("T" + time if time else "") if date or time else "PT0S"


def distinct(items: Iterable[T], model: Callable[[T], Any] = lambda item: item) -> list[T]:
    """``items`` without a repeat of the same ``model`` content, first kept: a schema given
    twice (two files) or an object mapping listed twice must not double the findings. The
    SDK's models do not compare by content, and ``@odata`` annotations (where a copy was read
    from) are not content."""
    seen: set[str] = set()
    kept = []
    for item in items:
        data = to_json(model(item))
        key = json.dumps({k: v for k, v in data.items() if not k.startswith("@odata")},
                         sort_keys=True)
        if key not in seen:
            seen.add(key)
            kept.append(item)
    return kept


@dataclass
class JobConfig:
    """One synchronization job and its schema (either may be missing offline)."""

    job_id: str | None
    job: SynchronizationJob | None = None
    schema: SynchronizationSchema | None = None


@dataclass
class GroupMembers:
    """An assigned group's members: direct, and through nested groups (transitive)."""

    group_id: str
    direct: list[DirectoryObject] | None = None
    transitive: list[DirectoryObject] | None = None


@dataclass
class ConfigSnapshot:
    source: str  # "Microsoft Graph: service principal ..." or the folder
    service_principal: ServicePrincipal | None = None
    application: Application | None = None
    jobs: list[JobConfig] = field(default_factory=list)
    assignments: list[AppRoleAssignment] | None = None
    members: dict[str, GroupMembers] = field(default_factory=dict)
    synchronization: Synchronization | None = None
    unavailable: dict[str, str] = field(default_factory=dict)  # part -> why

    def app_roles(self) -> list[AppRole] | None:
        """The app roles: the application's (manifest) when given, else the service
        principal's (Graph copies them from the application)."""
        for owner in (self.application, self.service_principal):
            if owner is not None and owner.app_roles is not None:
                return list(owner.app_roles)
        return None

    def schemas(self) -> list[tuple[str | None, SynchronizationSchema]]:
        return [(j.job_id, j.schema) for j in self.jobs if j.schema is not None]

    def job_models(self) -> list[SynchronizationJob]:
        return [j.job for j in self.jobs if j.job is not None]

    def secret(self, key: str) -> str | None:
        """A non-secret provisioning setting (``BaseAddress``, ``SyncAll``) if Graph gave it."""
        secrets = self.synchronization.secrets if self.synchronization else None
        for pair in secrets or []:
            name = getattr(pair.key, "value", pair.key)
            if name == key:
                return pair.value
        return None

    def has(self, part: str) -> bool:
        present = {
            APP_ROLES: self.app_roles() is not None,
            JOBS: bool(self.job_models()),
            SCHEMA: bool(self.schemas()),
            ASSIGNMENTS: self.assignments is not None,
            MEMBERS: self.assignments is not None and all(
                m.direct is not None and m.transitive is not None
                for m in self.members.values()),
            SECRETS: self.secret("BaseAddress") is not None or self.secret("SyncAll") is not None,
        }
        return present[part]
