"""Configuration files: recognise each by its content, parse it into msgraph-sdk's typed models,
and write a snapshot back as the Graph JSON those models serialise to.

A folder may hold what ``fetch-config`` saved, what ``fetch-job`` saved (``sync-job.json``,
``sync-schema.json``), or what an admin copied by hand: the schema downloaded from the
provisioning page's schema editor (the same JSON as the schema GET) and the app manifest from
App registrations. File names never matter. The SDK's parser quietly turns a value of the wrong
type into ``None``, which would let a check pass on a broken file, so the fields the checks
read are type-checked first and a bad one stops the run naming the file and the JSON path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kiota_serialization_json.json_parse_node import JsonParseNode
from msgraph.generated.models.app_role_assignment_collection_response import (
    AppRoleAssignmentCollectionResponse,
)
from msgraph.generated.models.application import Application
from msgraph.generated.models.directory_object_collection_response import (
    DirectoryObjectCollectionResponse,
)
from msgraph.generated.models.service_principal import ServicePrincipal
from msgraph.generated.models.synchronization import Synchronization
from msgraph.generated.models.synchronization_job import SynchronizationJob
from msgraph.generated.models.synchronization_schema import SynchronizationSchema

from loganalyzer.config.model import (
    APP_ROLES,
    ASSIGNMENTS,
    JOBS,
    MEMBERS,
    PARTS,
    SCHEMA,
    SECRETS,
    ConfigSnapshot,
    GroupMembers,
    JobConfig,
    distinct,
    to_json,
)
from loganalyzer.problems import InputError

NOTES_FILE = "fetch-config.json"
EXPECTED = (
    "expected a configuration file: a synchronization job or schema (fetch-job, fetch-config, "
    "or the schema editor's Download), a service principal or app manifest with appRoles, "
    "app role assignments, group members, or fetch-config's own files"
)
# Only these provisioning settings are kept; every other "secret" (the token) is dropped on read.
PUBLIC_SECRETS = ("BaseAddress", "SyncAll")

_STR, _BOOL, _INT = (str,), (bool,), (int,)
_SOURCE: dict = {"expression": _STR, "name": _STR, "type": _STR}
_SOURCE["parameters"] = [{"key": _STR, "value": _SOURCE}]
_SCHEMA_SHAPE = {
    "synchronizationRules": [{"id": _STR, "objectMappings": [{
        "enabled": _BOOL, "sourceObjectName": _STR, "targetObjectName": _STR,
        "attributeMappings": [{"targetAttributeName": _STR, "matchingPriority": _INT,
                               "source": _SOURCE}],
    }]}],
    "directories": [{"name": _STR, "objects": [{"name": _STR, "attributes": [{
        "name": _STR, "required": _BOOL, "multivalued": _BOOL, "anchor": _BOOL}]}]}],
}
_ROLES_SHAPE = {"appRoles": [{"value": _STR, "isEnabled": _BOOL,
                              "allowedMemberTypes": [_STR], "displayName": _STR}]}
_JOB_SHAPE = {"id": _STR, "templateId": _STR,
              "schedule": {"state": _STR, "interval": _STR},
              "status": {"code": _STR, "quarantine": {"reason": _STR}}}
_PAGE_SHAPE = {"value": [{}]}
_CONTEXT_GROUP = re.compile(r"groups\('([^']+)'\)/(members|transitiveMembers)")
_CONTEXT_JOB = re.compile(r"jobs\('([^']+)'\)/schema")
_NAMES = {list: "an array", dict: "an object", str: "a string", bool: "true or false",
          int: "a whole number"}


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    for kind, name in ((bool, "true or false"), (int, "a number"), (float, "a number"),
                       (str, "a string"), (list, "an array"), (dict, "an object")):
        if isinstance(value, kind):
            return name
    return type(value).__name__


def _check_shape(value: Any, shape: Any, path: str, file: str) -> None:
    """Raise InputError at the first field whose type differs from ``shape`` (null is fine)."""
    if value is None:
        return
    if isinstance(shape, tuple):
        ok = isinstance(value, shape) and not (shape == _INT and isinstance(value, bool))
        expected = _NAMES[shape[0]]
    elif isinstance(shape, list):
        ok, expected = isinstance(value, list), "an array"
    else:
        ok, expected = isinstance(value, dict), "an object"
    if not ok:
        raise InputError(file, f"is {_type_name(value)}, expected {expected}",
                         location=path or "the top level")
    if isinstance(shape, list):
        for n, item in enumerate(value):
            _check_shape(item, shape[0], f"{path}[{n}]", file)
    elif isinstance(shape, dict):
        for key, sub in shape.items():
            _check_shape(value.get(key), sub, f"{path}.{key}" if path else key, file)


def _parse(model: Callable, doc: dict) -> Any:
    return JsonParseNode(doc).get_object_value(model)


def _context(doc: dict) -> str:
    context = doc.get("@odata.context")
    return context if isinstance(context, str) else ""


def _first(doc: dict) -> Any:
    value = doc.get("value")
    return value[0] if isinstance(value, list) and value and isinstance(value[0], dict) else {}


def recognise(doc: Any) -> str | None:
    """What a parsed JSON file holds, from its content; None when it is no configuration."""
    if not isinstance(doc, dict):
        return None
    context, first = _context(doc), _first(doc)
    if doc.get("loganalyzer") == "fetch-config":
        return "notes"
    if "synchronizationRules" in doc or ("directories" in doc and "version" in doc):
        return "schema"
    if "templateId" in doc and ("status" in doc or "schedule" in doc):
        return "job"
    if "appRoles" in doc:
        return "service principal" if "servicePrincipalType" in doc else "application"
    if "secrets" in doc:
        return "synchronization"
    if "value" not in doc:
        return None
    if "templateId" in first or context.endswith("/synchronization/jobs"):
        return "jobs"
    if "appRoleId" in first or context.endswith("/appRoleAssignedTo"):
        return "assignments"
    if match := _CONTEXT_GROUP.search(context):
        return match.group(2)
    return None


def _by_id(items: list) -> list:
    """Assignments or members without a second of the same id, the first file's kept: a copy
    of an earlier fetch names the same objects, perhaps renamed since."""
    seen: set[str] = set()
    kept = []
    for item in items:
        if item.id is None or item.id not in seen:
            seen.add(item.id)
            kept.append(item)
    return kept


class _Reader:
    """Collects the typed models of one folder's files."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.snapshot = ConfigSnapshot(source=str(folder))
        self.jobs: dict[str, SynchronizationJob] = {}
        self.schemas: list[tuple[str | None, SynchronizationSchema, Path]] = []
        self.notes: list[str] = []

    def add(self, path: Path, doc: dict, kind: str) -> None:
        name, snap = path.name, self.snapshot
        if kind == "notes":
            for part, why in (doc.get("unavailable") or {}).items():
                if part in PARTS and isinstance(why, str):
                    snap.unavailable[part] = why
        elif kind == "schema":
            _check_shape(doc, _SCHEMA_SHAPE, "", name)
            match = _CONTEXT_JOB.search(_context(doc))
            self.schemas.append((match.group(1) if match else None,
                                 _parse(SynchronizationSchema, doc), path))
        elif kind in ("job", "jobs"):
            items = [doc] if kind == "job" else doc["value"]
            for n, item in enumerate(items):
                where = "" if kind == "job" else f"value[{n}]"
                _check_shape(item, _JOB_SHAPE, where, name)
                job = _parse(SynchronizationJob, item)
                self.jobs[job.id or name] = job
        elif kind in ("service principal", "application"):
            _check_shape(doc, _ROLES_SHAPE, "", name)
            if kind == "application":
                snap.application = _parse(Application, doc)
            else:
                snap.service_principal = _parse(ServicePrincipal, doc)
        elif kind == "synchronization":
            _check_shape(doc, {"secrets": [{"key": _STR, "value": _STR}]}, "", name)
            snap.synchronization = public_settings(_parse(Synchronization, doc))
        elif kind == "assignments":
            _check_shape(doc, _PAGE_SHAPE, "", name)
            page = _parse(AppRoleAssignmentCollectionResponse, doc)
            # the same assignments saved twice (a copy, an earlier fetch) count once
            snap.assignments = _by_id((snap.assignments or []) + list(page.value or []))
        else:  # members / transitiveMembers
            _check_shape(doc, _PAGE_SHAPE, "", name)
            group_id = _CONTEXT_GROUP.search(_context(doc)).group(1)
            entry = snap.members.setdefault(group_id, GroupMembers(group_id))
            value = list(_parse(DirectoryObjectCollectionResponse, doc).value or [])
            if kind == "members":
                entry.direct = _by_id((entry.direct or []) + value)
            else:
                entry.transitive = _by_id((entry.transitive or []) + value)

    def finish(self, note: Callable[[str], None]) -> ConfigSnapshot:
        snap = self.snapshot
        unpaired = dict(self.jobs)
        # a schema saved twice (fetch-config's and the editor's download) counts once, as the
        # copy that names its job; of different ones, the copy nearest the top of the folder
        # comes first (an old download kept in a subfolder is not the job's schema)
        schemas = distinct(sorted(self.schemas, key=lambda s: (s[0] is None, len(s[2].parts))),
                           lambda found: found[1])
        checked: dict[str | None, Path] = {}
        for job_id, schema, path in schemas:
            key = job_id or (schema.id if schema.id in unpaired else None)
            if key is None and len(self.jobs) == 1 and len(schemas) == 1:
                key = next(iter(self.jobs))
            if key is None and self.jobs and len(schemas) > len(self.jobs):
                key = next(iter(self.jobs))  # one more schema than jobs: another copy
            if key is not None and key in checked:
                note(f"{path}: another synchronization schema of the same job, different from "
                     f"{checked[key]}; only that one is checked (remove old copies)")
                continue
            checked[key] = path
            if key is not None and key in unpaired:
                snap.jobs.append(JobConfig(key, unpaired.pop(key), schema))
            else:
                snap.jobs.append(JobConfig(key, None, schema))
        snap.jobs += [JobConfig(job_id, job, None) for job_id, job in unpaired.items()]
        wanted = {
            APP_ROLES: "a service principal or app manifest",
            JOBS: "a synchronization job (fetch-job's sync-job.json)",
            SCHEMA: "a synchronization schema (the schema editor's Download)",
            ASSIGNMENTS: "the app role assignments (fetch-config)",
            MEMBERS: "the assigned groups' members (fetch-config)",
            SECRETS: "the provisioning settings (fetch-config, when Graph returns them)",
        }
        for part, what in wanted.items():
            if not snap.has(part):
                snap.unavailable.setdefault(part, f"{self.folder} holds no file with {what}")
        return snap


def read_config_dir(folder: Path, note: Callable[[str], None]) -> ConfigSnapshot:
    """Every configuration file in ``folder`` (recursively; a single file works too); ``note``
    hears about files that are not configuration. InputError when nothing in it is."""
    if folder.is_file():
        paths = [folder]
    elif folder.is_dir():
        paths = sorted(p for p in folder.rglob("*")  # ".JSON" too, as Windows saves it
                       if p.is_file() and p.suffix.lower() == ".json")
    else:
        raise InputError(str(folder), "does not exist; --config takes the folder fetch-config "
                         "wrote, or one holding the files copied by hand")
    reader = _Reader(folder)
    found = 0
    for path in paths:
        try:
            doc = json.loads(path.read_text(encoding="utf-8-sig"))
        except UnicodeDecodeError:
            note(f"{path}: is not UTF-8 text; skipped")
            continue
        except ValueError as exc:
            note(f"{path}: is not one JSON document ({exc}); skipped")
            continue
        kind = recognise(doc)
        if kind is None:
            note(f"{path}: is not a configuration file; skipped")
            continue
        reader.add(path, doc, kind)
        found += kind != "notes"
    if not found:
        raise InputError(str(folder), f"holds no configuration file; {EXPECTED}")
    return reader.finish(note)


def public_settings(sync: Synchronization) -> Synchronization:
    """The synchronization object with every secret but the Tenant URL and scope removed."""
    secrets = [pair for pair in sync.secrets or []
               if getattr(pair.key, "value", pair.key) in PUBLIC_SECRETS]
    sync.secrets = secrets
    return sync


# ----------------------------------------------------------------------------- writing


def _page(graph: str, context: str, items: list) -> dict:
    return {"@odata.context": f"{graph}/$metadata#{context}",
            "value": [to_json(item) for item in items]}


def write_config_dir(snap: ConfigSnapshot, folder: Path, graph: str, sp_id: str,
                     fetched_at: str) -> list[Path]:
    """Save ``snap`` as one Graph-shaped JSON file per response; return the files written."""
    previous = folder / NOTES_FILE
    if folder.is_dir() and any(folder.iterdir()) and not previous.is_file():
        raise InputError(str(folder), "is not empty and was not written by fetch-config; "
                         "choose a new folder")
    old = json.loads(previous.read_text(encoding="utf-8")).get("files", []) \
        if previous.is_file() else []
    folder.mkdir(parents=True, exist_ok=True)
    sp = f"servicePrincipals('{sp_id}')"
    files: dict[str, dict] = {}
    if snap.service_principal is not None:
        files["service-principal.json"] = {
            "@odata.context": f"{graph}/$metadata#servicePrincipals/$entity",
            **to_json(snap.service_principal)}
    if snap.synchronization is not None:
        files["synchronization.json"] = {
            "@odata.context": f"{graph}/$metadata#{sp}/synchronization/$entity",
            **to_json(snap.synchronization)}
    if snap.job_models():
        files["synchronization-jobs.json"] = _page(graph, f"{sp}/synchronization/jobs",
                                                   snap.job_models())
    for n, (job_id, schema) in enumerate(snap.schemas(), 1):
        files[f"schema-{n}.json"] = {
            "@odata.context": f"{graph}/$metadata#{sp}/synchronization/jobs('{job_id}')/schema"
                              "/$entity", **to_json(schema)}
    if snap.assignments is not None:
        files["app-role-assignments.json"] = _page(graph, f"{sp}/appRoleAssignedTo",
                                                   snap.assignments)
    for group_id, members in snap.members.items():
        for kind, items in (("members", members.direct),
                            ("transitiveMembers", members.transitive)):
            if items is not None:
                suffix = "members" if kind == "members" else "transitive-members"
                files[f"group-{group_id}-{suffix}.json"] = _page(
                    graph, f"groups('{group_id}')/{kind}", items)
    files[NOTES_FILE] = {"loganalyzer": "fetch-config", "servicePrincipalId": sp_id,
                         "fetchedAt": fetched_at, "graph": graph,
                         "unavailable": snap.unavailable, "files": sorted(files)}
    for name in old:
        if name not in files and "/" not in name:
            (folder / name).unlink(missing_ok=True)
    written = []
    for name, body in files.items():
        path = folder / name
        path.write_text(json.dumps(body, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
