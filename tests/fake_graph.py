"""A loopback stand-in for Microsoft Graph, and the provisioning records it serves.

``FakeGraph`` is a real HTTP server on 127.0.0.1 (ephemeral port, own thread). It serves
``GET /v1.0/auditLogs/provisioning`` newest first, paged by ``$top`` with an absolute
``@odata.nextLink`` back to itself carrying an opaque ``$skiptoken``, and applies ``$filter`` the
way Graph documents it: ``and``-joined clauses, ``activityDateTime gt/lt/eq``, ``eq`` on ids,
names and status, ``contains`` on display names, all case-sensitive; anything else is a 400.
It also serves ``/servicePrincipals/{id}/synchronization/jobs[/{jobId}[/schema]]`` and, for the
configuration checks, ``/servicePrincipals/{id}`` (and ``?$filter=displayName eq '…'``),
``/servicePrincipals/{id}/synchronization``, ``/servicePrincipals/{id}/appRoleAssignedTo``,
``/groups/{id}/members`` and ``/transitiveMembers`` (collections paged by ``$top``, default
``config_page``, with ``$select``), ``/users/{id or UPN}``, and
``POST .../jobs/{jobId}/provisionOnDemand`` answering Graph's ``stringKeyStringValuePair``.

Faults are scripted per path: a status (429 with ``Retry-After``, 503, 401, 403 with Graph's
error bodies) or a connection dropped half-way through the body. Every request is logged.
"""

from __future__ import annotations

import json
import random
import re
import secrets
import socket
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "sample_logs" / "failing-initial.json"
TENANT = "b3e1a7c4-5d92-4f6e-8a10-2c9d7e4f6b58"  # the sample logs' tenant

# --------------------------------------------------------------------------- the records


@dataclass(frozen=True)
class App:
    name: str
    service_principal_id: str
    job_id: str
    target_system: str


FLOWCASE = App(  # as in sample_logs/
    "Flowcase SCIM", "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10",
    "scim.b3e1a7c45d924f6e8a102c9d7e4f6b58.4c7e2a91-0b3d-4e58-a6f2-9d1c8b7e5a30", "customappsso",
)
OTHER_APP = App(
    "Airtable - test Corp", "e394395f-7b85-4a43-a1be-365854c5a110",
    "airtable.b3e1a7c45d924f6e8a102c9d7e4f6b58.fa64de6e-a5fe-40fe-bd5c-eb15a3638d3d", "Airtable",
)
_FIRST = ["Ada", "Bjørn", "Chloé", "Dmitri", "Eve", "Farah", "Gustav", "Hiro", "Ines", "Jonas"]
_LAST = ["Berg", "Olsen", "Ng", "Moreau", "Kowalski", "Haugen", "Silva", "Tanaka"]


def _reason(status_name: str, status: int, detail: str, scim_type: str | None) -> str:
    body = {"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"], "detail": detail,
            "status": status}
    if scim_type:
        body["scimType"] = scim_type
    return (
        f"StatusCode: {status_name}\r\nMessage: Processing of the HTTP request resulted in an "
        "exception. Please see the HTTP response returned by the 'Response' property of this "
        f"exception for details.\r\nWeb Response: \r\n{json.dumps(body)}. This operation was "
        "retried 1 times. It will be retried again after this date: "
        "2026-03-24T13:23:44.9198514Z UTC"
    )


_FAILURES = [
    ("SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering", "Conflict", 409,
     "A user with this email already exists.", "uniqueness"),
    ("SystemForCrossDomainIdentityManagementBadRequest", "BadRequest", 400,
     "Invalid value for attribute 'roles'.", "invalidValue"),
]


def _steps(app: App, user: str, status: str, action: str, user_id: str) -> list[dict]:
    verb = {"create": "Add", "update": "Update", "other": "Update"}[action]
    steps = [
        {"name": f"EntryImport{verb}", "provisioningStepType": "import", "status": "success",
         "description": f"Received User '{user}' change of type ({verb}) from Microsoft Entra ID",
         "details": {"objectId": user_id}},
        {"name": "EntrySynchronizationScoping", "provisioningStepType": "scoping",
         "status": "success" if status != "skipped" else "skipped",
         "description": "Determine if User in scope by evaluating against each scoping filter",
         "details": {"Active in the source system": "True",
                     "Assigned to the application": "True" if status != "skipped" else "False",
                     "ScopeEvaluationResult": "{}"}},
    ]
    if status == "skipped":
        steps[-1]["details"]["SkipReason"] = "NotEffectivelyEntitled"
        return steps
    export = {"create": "EntryExportAdd", "update": "EntryExportUpdate", "other": "EntryExport"}
    steps.append({
        "name": export[action], "provisioningStepType": "export",
        "status": "failure" if status == "failure" else "success",
        "description": (f"Failed to create User '{user}' in {app.target_system}"
                        if status == "failure" else
                        f"User '{user}' was updated in {app.target_system}"),
        "details": {"ReportableIdentifier": user, "userName": user, "active": "True",
                    'emails[type eq "work"]value': user},
    })
    return steps


def make_events(count: int, start: datetime, spacing: timedelta, seed: int = 7,
                apps: tuple[App, ...] = (FLOWCASE, OTHER_APP)) -> list[dict]:
    """``count`` provisioning records shaped like Graph's (formats reference §1.6-1.7): users
    of two apps, successes, SCIM 409/400 failures and out-of-scope skips, one per ``spacing``."""
    rng = random.Random(seed)
    events = []
    cycle = ""
    for n in range(count):
        if n % 8 == 0:  # a provisioning cycle every 40 minutes or so
            cycle = str(uuid.UUID(int=rng.getrandbits(128)))
        app = apps[n % len(apps)]
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        upn = f"{first.lower()}.{last.lower()}{n}@contoso.com"
        user_id = str(uuid.UUID(int=rng.getrandbits(128)))
        status = rng.choices(["success", "failure", "skipped", "warning"], [6, 3, 2, 1])[0]
        action = "other" if status == "skipped" else rng.choice(["create", "update"])
        error = None
        if status == "failure":
            code, name, http, detail, scim = rng.choice(_FAILURES)
            error = {"errorCode": code, "reason": _reason(name, http, detail, scim),
                     "additionalDetails": None, "errorCategory": "nonServiceFailure",
                     "recommendedAction": None}
        when = start + spacing * n
        events.append({
            "id": str(uuid.UUID(int=rng.getrandbits(128))),
            "activityDateTime": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "tenantId": TENANT,
            "jobId": app.job_id,
            "cycleId": cycle,
            "changeId": str(uuid.UUID(int=rng.getrandbits(128))),
            "provisioningAction": action,
            "durationInMilliseconds": rng.randint(200, 4000),
            "initiatedBy": {"displayName": "Azure AD Provisioning Service", "id": "",
                            "initiatorType": "system"},
            "servicePrincipal": {"displayName": app.name, "id": app.service_principal_id},
            "sourceSystem": {"details": {}, "displayName": "Microsoft Entra ID",
                             "id": "e156568c-b65b-40a1-82ca-8afd5500c140"},
            "targetSystem": {"details": {"ApplicationId": "8adf8e6e-67b2-4cf2-a259-e3dc5476c621",
                                         "ServicePrincipalDisplayName": app.name,
                                         "ServicePrincipalId": app.service_principal_id},
                             "displayName": app.target_system,
                             "id": "ed85458d-2a0d-4119-ba5f-bd264973c1af"},
            "sourceIdentity": {"details": {"DisplayName": f"{first} {last}",
                                           "UserPrincipalName": upn, "id": user_id,
                                           "odatatype": "User"},
                               "displayName": f"{first} {last}", "id": user_id,
                               "identityType": "User"},
            "targetIdentity": {"details": {}, "displayName": "",
                               "id": "" if status == "failure" else f"fc-{n:05d}",
                               "identityType": "urn:ietf:params:scim:schemas:extension:"
                                               "enterprise:2.0:User"},
            "provisioningStatusInfo": {"status": status, "errorInformation": error},
            "provisioningSteps": _steps(app, upn, status, action, user_id),
            "modifiedProperties": [] if status == "skipped" else [
                {"displayName": "userName", "oldValue": None, "newValue": upn},
                {"displayName": "active", "oldValue": None, "newValue": "True"},
            ],
        })
    return events


def served_events(start: datetime, count: int = 120) -> list[dict]:
    """What the fake serves: the sample export's events when the sample exists, plus generated
    records of two apps spread from ``start`` (so every selection test has something to find)."""
    events = make_events(count, start, timedelta(minutes=5))
    if SAMPLE.exists():
        data = json.loads(SAMPLE.read_text(encoding="utf-8-sig"))
        events += data["value"] if isinstance(data, dict) else data
    return events


# --------------------------------------------------------------------------- the filter


_FIELD = r"[A-Za-z]+(?:/[A-Za-z]+)?"
_COMPARE = re.compile(rf"^({_FIELD}) (eq|gt|lt) ('(?:[^']|'')*'|[0-9][0-9T:.Z+-]*)$")
_CONTAINS = re.compile(rf"^contains\(({_FIELD}), ?'((?:[^']|'')*)'\)$")
_FILTERABLE = {  # field -> operators, as the v1.0 page documents them
    "activityDateTime": {"eq", "gt", "lt"},
    "jobId": {"eq", "contains"},
    "servicePrincipal/id": {"eq"},
    "servicePrincipal/displayName": {"eq"},
    "provisioningStatusInfo/status": {"eq", "contains"},
    "sourceIdentity/id": {"eq", "contains"},
    "sourceIdentity/displayName": {"eq", "contains"},
}


class FilterError(ValueError):
    pass


def _split_and(text: str) -> list[str]:
    parts, current, quoted = [], [], False
    i = 0
    while i < len(text):
        if text[i] == "'":
            quoted = not quoted
        if not quoted and text.startswith(" and ", i):
            parts.append("".join(current))
            current, i = [], i + 5
            continue
        current.append(text[i])
        i += 1
    parts.append("".join(current))
    return [p.strip() for p in parts]


def _value(event: dict, path: str) -> Any:
    value: Any = event
    for key in path.split("/"):
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def compile_filter(text: str):
    """A predicate over events for a Graph ``$filter``; FilterError when Graph would say 400."""
    tests = []
    for clause in _split_and(text) if text else []:
        if match := _CONTAINS.match(clause):
            name, op, literal = match.group(1), "contains", match.group(2).replace("''", "'")
        elif match := _COMPARE.match(clause):
            name, op, literal = match.groups()
            if literal.startswith("'"):
                literal = literal[1:-1].replace("''", "'")
        else:
            raise FilterError(f"Invalid filter clause: {clause}")
        if op not in _FILTERABLE.get(name, set()):
            raise FilterError(f"Unsupported Query: '{op}' on '{name}'")
        tests.append((name, op, literal))

    def predicate(event: dict) -> bool:
        for name, op, literal in tests:
            value = _value(event, name)
            if name == "activityDateTime":
                when, bound = _time(value), _time(literal)
                ok = {"eq": when == bound, "gt": when > bound, "lt": when < bound}[op]
            elif op == "contains":
                ok = isinstance(value, str) and literal in value  # case-sensitive, like Graph
            else:
                ok = value == literal
            if not ok:
                return False
        return True

    return predicate


# --------------------------------------------------------------------------- the server


@dataclass
class Fault:
    """What to do instead of answering normally, for requests whose path contains ``path``."""

    path: str
    status: int = 0  # 0 with drop=True: cut the body half-way
    retry_after: str | None = None
    body: dict | None = None
    drop: bool = False
    times: int = 1
    skip: int = 0  # let this many matching requests through first


@dataclass
class ConfigData:
    """What the fake serves for the configuration endpoints (Graph JSON, keyed by id)."""

    service_principals: dict[str, dict] = field(default_factory=dict)
    synchronization: dict[str, dict] = field(default_factory=dict)  # sp -> {"secrets": [...]}
    assignments: dict[str, list[dict]] = field(default_factory=dict)  # sp -> appRoleAssignments
    members: dict[str, list[dict]] = field(default_factory=dict)  # group -> directoryObjects
    transitive: dict[str, list[dict]] = field(default_factory=dict)
    users: list[dict] = field(default_factory=list)
    on_demand: dict[str, tuple[dict, dict]] = field(default_factory=dict)  # user id -> (key, value)
    page: int = 2  # default $top of configuration collections: small, so paging is exercised


@dataclass
class Served:
    path: str
    query: dict[str, str]
    status: int
    authorization: str | None
    retry_attempt: str | None
    ids: list[str] = field(default_factory=list)
    at: float = 0.0


_GRAPH_ERRORS = {
    401: {"code": "InvalidAuthenticationToken", "message": "Access token validation failure."},
    403: {"code": "Authorization_RequestDenied",
          "message": "Insufficient privileges to complete the operation."},
    429: {"code": "TooManyRequests", "message": "Please retry again later."},
    503: {"code": "ServiceUnavailable", "message": "Service is unavailable. Try again later."},
    404: {"code": "Request_ResourceNotFound",
          "message": "Resource does not exist or one of its queried reference-property objects "
                     "are not present."},
    400: {"code": "BadRequest", "message": "Invalid filter clause"},
}


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        """A client closing a kept-alive connection is normal; http.server would print a
        traceback on stderr, which a command's captured stderr then holds."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class FakeGraph:
    """Start with ``with FakeGraph(events) as graph:``; ``graph.url`` is the Graph root."""

    def __init__(self, events: list[dict], token: str | None = None, default_top: int = 100,
                 jobs: dict[str, list[dict]] | None = None,
                 schemas: dict[str, dict] | None = None, config: ConfigData | None = None
                 ) -> None:
        self.events = list(events)
        self.config = config or ConfigData()
        self.posts: list[tuple[str, dict]] = []
        self.token = token
        self.default_top = default_top
        self.jobs = jobs or {}
        self.schemas = schemas or {}
        self.faults: list[Fault] = []
        self.served: list[Served] = []
        self._pages: dict[str, tuple[list[dict], int, int]] = {}
        self._lock = threading.Lock()
        self._server = _Server(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,),
                                        daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1.0"

    def __enter__(self) -> FakeGraph:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail(self, path: str, status: int, times: int = 1, retry_after: str | None = None,
             body: dict | None = None, skip: int = 0) -> None:
        self.faults.append(Fault(path, status, retry_after, body, False, times, skip))

    def drop(self, path: str, times: int = 1, skip: int = 0) -> None:
        self.faults.append(Fault(path, drop=True, times=times, skip=skip))

    def log_requests(self, path: str) -> list[Served]:
        return [s for s in self.served if path in s.path]

    # -- request handling (runs in the server's threads)

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path in path and fault.times > 0:
                    if fault.skip > 0:
                        fault.skip -= 1
                        return None
                    fault.times -= 1
                    return fault
        return None

    def _provisioning(self, query: dict[str, str]) -> tuple[int, dict]:
        if "$skiptoken" in query:
            with self._lock:
                entry = self._pages.get(query["$skiptoken"])
            if entry is None:
                return 400, {"error": {"code": "BadRequest", "message": "Invalid skip token."}}
            matched, offset, top = entry
        else:
            try:
                predicate = compile_filter(query.get("$filter", ""))
            except FilterError as exc:
                return 400, {"error": {"code": "BadRequest", "message": str(exc)}}
            matched = sorted((e for e in self.events if predicate(e)),
                             key=lambda e: (e["activityDateTime"], e["id"]), reverse=True)
            offset, top = 0, int(query.get("$top", self.default_top))
        page = {"@odata.context": f"{self.url}/$metadata#auditLogs/provisioning",
                "value": matched[offset:offset + top]}
        if offset + top < len(matched):
            token = secrets.token_hex(16)
            with self._lock:
                self._pages[token] = (matched, offset + top, top)
            page["@odata.nextLink"] = (f"{self.url}/auditLogs/provisioning?$top={top}"
                                       f"&$skiptoken={token}")
        return 200, page

    def _collection(self, items: list[dict], query: dict[str, str], context: str,
                    path: str) -> tuple[int, dict]:
        """A Graph collection page with $select, $top and an absolute nextLink."""
        if "$skiptoken" in query:
            with self._lock:
                entry = self._pages.get(query["$skiptoken"])
            if entry is None:
                return 400, {"error": {"code": "BadRequest", "message": "Invalid skip token."}}
            items, offset, top = entry
        else:
            offset, top = 0, int(query.get("$top", self.config.page))
            if "$select" in query:
                keep = set(query["$select"].split(",")) | {"@odata.type"}
                items = [{k: v for k, v in item.items() if k in keep} for item in items]
        page = {"@odata.context": f"{self.url}/$metadata#{context}",
                "value": items[offset:offset + top]}
        if offset + top < len(items):
            token = secrets.token_hex(16)
            with self._lock:
                self._pages[token] = (items, offset + top, top)
            page["@odata.nextLink"] = f"{self.url}/{path}?$top={top}&$skiptoken={token}"
        return 200, page

    def _service_principals(self, parts: list[str], query: dict[str, str]) -> tuple[int, dict]:
        config = self.config
        if len(parts) == 1:  # ?$filter=displayName eq '...'
            match = re.fullmatch(r"displayName eq '((?:[^']|'')*)'", query.get("$filter", ""))
            if not match:
                return 400, {"error": _GRAPH_ERRORS[400]}
            name = match.group(1).replace("''", "'")
            found = [sp for sp in config.service_principals.values()
                     if sp.get("displayName") == name]
            return self._collection(found, query, "servicePrincipals", "servicePrincipals")
        sp = parts[1]
        if len(parts) == 2 and sp in config.service_principals:
            return 200, {"@odata.context": f"{self.url}/$metadata#servicePrincipals/$entity",
                         **config.service_principals[sp]}
        if parts[2:] == ["appRoleAssignedTo"] and sp in config.assignments:
            return self._collection(config.assignments[sp], query,
                                    f"servicePrincipals('{sp}')/appRoleAssignedTo",
                                    f"servicePrincipals/{sp}/appRoleAssignedTo")
        if parts[2:] == ["synchronization"] and sp in config.synchronization:
            return 200, {"@odata.context": f"{self.url}/$metadata#servicePrincipals('{sp}')/"
                                           "synchronization/$entity",
                         **config.synchronization[sp]}
        if len(parts) >= 4:
            return self._synchronization(parts)
        return 404, {"error": _GRAPH_ERRORS[404]}

    def _groups(self, parts: list[str], query: dict[str, str]) -> tuple[int, dict]:
        if len(parts) != 3 or parts[2] not in ("members", "transitiveMembers"):
            return 404, {"error": _GRAPH_ERRORS[404]}
        table = self.config.members if parts[2] == "members" else self.config.transitive
        if parts[1] not in table:
            return 404, {"error": _GRAPH_ERRORS[404]}
        return self._collection(table[parts[1]], query, "directoryObjects", "/".join(parts))

    def _users(self, parts: list[str]) -> tuple[int, dict]:
        wanted = unquote(parts[1]).lower() if len(parts) == 2 else ""
        for user in self.config.users:
            if wanted in (user["id"].lower(), user.get("userPrincipalName", "").lower()):
                return 200, {"@odata.context": f"{self.url}/$metadata#users/$entity", **user}
        return 404, {"error": _GRAPH_ERRORS[404]}

    def _post(self, path: str, body: dict) -> tuple[int, dict]:
        parts = [p for p in path.split("/") if p][1:]
        self.posts.append(("/".join(parts), body))
        if len(parts) != 6 or parts[0] != "servicePrincipals" or parts[5] != "provisionOnDemand":
            return 404, {"error": _GRAPH_ERRORS[404]}
        if parts[4] not in {job["id"] for job in self.jobs.get(parts[1], [])}:
            return 404, {"error": _GRAPH_ERRORS[404]}
        try:
            subject = body["parameters"][0]["subjects"][0]
        except (KeyError, IndexError, TypeError):
            return 400, {"error": {"code": "BadRequest", "message": "Invalid parameters."}}
        result = self.config.on_demand.get(subject.get("objectId"))
        if result is None:
            return 404, {"error": _GRAPH_ERRORS[404]}
        key, value = result
        return 200, {"@odata.context": f"{self.url}/$metadata#microsoft.graph."
                                       "stringKeyStringValuePair",
                     "key": json.dumps(key), "value": json.dumps(value)}

    def _synchronization(self, parts: list[str]) -> tuple[int, dict]:
        # servicePrincipals/{sp}/synchronization/jobs[/{job}[/schema]]
        sp = parts[1]
        if sp not in self.jobs or parts[2:4] != ["synchronization", "jobs"]:
            return 404, {"error": _GRAPH_ERRORS[404]}
        jobs = {job["id"]: job for job in self.jobs[sp]}
        context = f"{self.url}/$metadata#servicePrincipals('{sp}')/synchronization/jobs"
        if len(parts) == 4:
            return 200, {"@odata.context": context, "value": self.jobs[sp]}
        if parts[4] not in jobs:
            return 404, {"error": _GRAPH_ERRORS[404]}
        if len(parts) == 5:
            return 200, {"@odata.context": f"{context}/$entity", **jobs[parts[4]]}
        return 200, {"@odata.context": f"{context}('{quote(parts[4])}')/schema/$entity",
                     **self.schemas.get(parts[4], {})}

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *_args: object) -> None:
                pass

            def _arrive(self, path: str, query: dict) -> tuple[Served, Fault | None, bool]:
                """Record the request; answer it here when the token is wrong or a fault is
                queued for it (the third value says it was answered)."""
                record = Served(path, query, 0, self.headers.get("Authorization"),
                                self.headers.get("Retry-Attempt"), at=time.time())
                fake.served.append(record)
                fault = fake._take_fault(path)
                if fake.token and self.headers.get("Authorization") != f"Bearer {fake.token}":
                    self._send(record, 401, {"error": _GRAPH_ERRORS[401]})
                    return record, fault, True
                if fault and not fault.drop:
                    body = fault.body or {"error": _GRAPH_ERRORS.get(fault.status, {})}
                    self._send(record, fault.status, body, fault.retry_after)
                    return record, fault, True
                return record, fault, False

            def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
                url = urlsplit(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                record, fault, answered = self._arrive(url.path, query)
                if answered:
                    return
                status, body = fake._route(url.path, query)
                record.ids = [e.get("id") for e in body.get("value", [])
                              if isinstance(e, dict)] if "auditLogs" in url.path else []
                self._send(record, status, body, drop=bool(fault and fault.drop))

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                url = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length) or b"{}")
                except ValueError:
                    body = {}
                record, fault, answered = self._arrive(url.path, {})
                if not answered:
                    self._send(record, *fake._post(url.path, body),
                               drop=bool(fault and fault.drop))

            def _send(self, record: Served, status: int, body: dict,
                      retry_after: str | None = None, drop: bool = False) -> None:
                record.status = status
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                if retry_after is not None:
                    self.send_header("Retry-After", retry_after)
                self.end_headers()
                if not drop:
                    self.wfile.write(data)
                    return
                self.wfile.write(data[: len(data) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)

        return Handler

    def _route(self, path: str, query: dict[str, str]) -> tuple[int, dict]:
        parts = [p for p in path.split("/") if p][1:]  # drop "v1.0"
        if parts == ["auditLogs", "provisioning"]:
            return self._provisioning(query)
        if parts[:1] == ["servicePrincipals"]:
            return self._service_principals(parts, query)
        if parts[:1] == ["groups"]:
            return self._groups(parts, query)
        if parts[:1] == ["users"]:
            return self._users(parts)
        return 404, {"error": _GRAPH_ERRORS[404]}
