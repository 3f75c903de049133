"""Write a month of a large tenant's provisioning log, streamed to disk in bounded memory.

Unlike ``make_big_export.py`` (the bundled samples replicated), every event here is new: one
user per 100 events (at least 2,000 users), one sync cycle per 40 minutes touching a rolling
share of them, about 72% updates and creates that succeed, 23% expected skips (not entitled,
redundant export) and 5% failures (userName conflicts, unknown departments, throttling, app
errors, a few expired tokens). Shapes are those of a real portal download: Graph-shaped JSON
(array, or one object per line), or the three portal CSV files joined on change ID.

    python benchmarks/make_tenant.py --events 1000000 -o data/tenant-1m.json
    python benchmarks/make_tenant.py --events 5000000 --format ndjson -o data/tenant-5m.ndjson
    python benchmarks/make_tenant.py --events 100000 --format csv -o data/tenant-100k-csv
    python benchmarks/make_tenant.py --events 1000000 --format csv --per-download 100000 \
        -o data/tenant-1M-csv                      # ten downloads of 100,000 events
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import itertools
import json
import random
import uuid
from collections import Counter
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

TENANT = "7d1c4e2a-9b3f-4a61-8c5d-2e7f9a0b1c3d"
JOB = "scim.7d1c4e2a9b3f4a618c5d2e7f9a0b1c3d.5b8e1f20-3c4d-4e6f-a7b8-9c0d1e2f3a4b"
APP = {"id": "c8e2f4a6-1b3d-4c5e-9f70-8a2b4c6d8e0f", "displayName": "Flowcase SCIM"}
FIRST = ("ingrid", "ola", "sara", "jonas", "emma", "lars", "nora", "erik", "maja", "henrik",
         "sofie", "anders", "ida", "magnus", "thea", "kristian", "julie", "mats", "hanna", "per")
LAST = ("hansen", "johansen", "olsen", "larsen", "andersen", "pedersen", "nilsen", "kristiansen",
        "jensen", "karlsen", "berg", "haugen", "hagen", "lie", "dahl", "moen", "lund", "strand")
DEPARTMENTS = ("Consulting", "Data & Analytics", "Finance", "Sales", "People", "Cloud")
RETRY = ("This operation was retried {n} times. It will be retried again after this date: "
         "{when}Z UTC")
WRAPPER = ("StatusCode: {code}\r\nMessage: Processing of the HTTP request resulted in an "
           "exception. Please see the HTTP response returned by the 'Response' property of "
           "this exception for details.\r\nWeb Response: \r\n{body}. ")
# (weight, error code, HTTP words, SCIM status, detail); weights sum to 5 (% of events)
FAILURES = (
    (1.6, "SystemForCrossDomainIdentityManagementServiceUniquenessConflict", "Conflict", 409,
     "userName '{upn}' is already in use"),
    (1.2, "SystemForCrossDomainIdentityManagementServiceIncompatible", "BadRequest", 400,
     "department 'Dept {n}' does not exist in Flowcase"),
    (1.0, "SystemForCrossDomainIdentityManagementServiceTooManyRequests", "TooManyRequests",
     429, "rate limit exceeded, retry later"),
    (0.9, "SystemForCrossDomainIdentityManagementServiceInternalServerError",
     "InternalServerError", 500, "an unexpected error occurred"),
    (0.3, "SystemForCrossDomainIdentityManagementCredentialValidationUnavailable",
     "Unauthorized", 401, "the bearer token is invalid or expired"),
)


class Tenant:
    """Users, cycles and outcomes of one generated tenant (deterministic for a seed)."""

    def __init__(self, events: int, seed: int = 2026) -> None:
        self.events = events
        self.users = max(2000, events // 100)
        self.per_cycle = max(500, self.users // 4)
        self.rng = random.Random(seed)
        self.start = datetime(2026, 10, 1)

    def user(self, n: int) -> dict[str, str]:
        first, last = FIRST[n % len(FIRST)], LAST[(n // len(FIRST)) % len(LAST)]
        upn = f"{first}.{last}{n}@contoso-big.example"
        return {
            "object_id": str(uuid.UUID(int=(n + 1) * 0x9E3779B97F4A7C15 & ((1 << 128) - 1))),
            "upn": upn, "display": f"{first.title()} {last.title()} {n}",
            "employee": f"E{100000 + n}", "department": DEPARTMENTS[n % len(DEPARTMENTS)],
            "target_id": f"{(n * 2654435761) & 0xFFFFFFFFFFFF:012x}{n:012x}",
        }

    def records(self) -> Iterator[dict]:
        rng = self.rng
        for i in range(self.events):
            cycle = i // self.per_cycle
            who = (cycle * self.per_cycle // 3 + (i % self.per_cycle)) % self.users
            step = timedelta(minutes=40 * cycle, milliseconds=100 * (i % self.per_cycle))
            when = self.start + step
            roll = rng.random() * 100
            yield self._event(i, cycle, self.user(who), when, roll)

    def _event(self, i: int, cycle: int, u: dict[str, str], when: datetime, roll: float) -> dict:
        created = 28 <= roll < 31
        status, error, skip = "success", None, None
        if roll < 5:
            status = "failure"
            error = self._failure(roll, u, when)
        elif roll < 17:
            status, skip = "skipped", "NotEffectivelyEntitled"
        elif roll < 28:
            status, skip = "skipped", "RedundantExport"
        action = "create" if created else "update"
        if skip == "NotEffectivelyEntitled":
            action = "other"
        steps = self._steps(u, status, skip, action)
        sent = [] if skip else [
            {"displayName": "userName", "oldValue": None, "newValue": u["upn"]},
            {"displayName": 'emails[type eq "work"].value', "oldValue": None,
             "newValue": u["upn"]},
            {"displayName": "externalId", "oldValue": None, "newValue": u["employee"]},
            {"displayName": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:"
             "department", "oldValue": None, "newValue": u["department"]},
            {"displayName": "active", "oldValue": None, "newValue": "True"},
        ]
        return {
            "id": str(uuid.UUID(int=(i + 7) * 0xD1B54A32D192ED03 & ((1 << 128) - 1))),
            "activityDateTime": when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond:06d}Z",
            "tenantId": TENANT, "jobId": JOB,
            "cycleId": str(uuid.UUID(int=(cycle + 11) * 0xA0761D6478BD642F & ((1 << 128) - 1))),
            "changeId": str(uuid.UUID(int=(i + 3) * 0xE7037ED1A0B428DB & ((1 << 128) - 1))),
            "provisioningAction": action, "durationInMilliseconds": 200 + i % 1800,
            "provisioningStatusInfo": {"status": status, "errorInformation": error},
            "provisioningSteps": steps, "modifiedProperties": sent,
            "servicePrincipal": APP,
            "sourceSystem": {"id": "05040880-a6d8-4899-bed4-b8056957edd0",
                             "displayName": "Microsoft Entra ID", "details": {}},
            "targetSystem": {"id": "9d7b5f31-2e4c-4a68-b0d2-6f8a1c3e5b79",
                             "displayName": "customappsso",
                             "details": {"ServicePrincipalId": APP["id"],
                                         "ServicePrincipalDisplayName": APP["displayName"]}},
            "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service",
                            "initiatorType": "system"},
            "sourceIdentity": {"id": u["object_id"], "displayName": u["display"],
                               "identityType": "User",
                               "details": {"UserPrincipalName": u["upn"], "id": u["object_id"]}},
            "targetIdentity": {"id": "" if created else u["target_id"], "displayName": "",
                               "identityType": "urn:ietf:params:scim:schemas:extension:"
                               "enterprise:2.0:User", "details": {}},
        }

    def _failure(self, roll: float, u: dict[str, str], when: datetime) -> dict:
        kind = FAILURES[-1]
        for kind in FAILURES:
            if roll < kind[0]:
                break
            roll -= kind[0]
        _, code, words, http, detail = kind
        body = json.dumps({"schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
                           "detail": detail.format(upn=u["upn"], n=len(u["upn"]) % 7),
                           "status": http})
        retry = RETRY.format(n=int(roll * 10) % 4,
                             when=(when + timedelta(minutes=30)).isoformat())
        return {"errorCode": code, "reason": WRAPPER.format(code=words, body=body) + retry,
                "additionalDetails": None, "errorCategory": "nonServiceFailure",
                "recommendedAction": None}

    @staticmethod
    def _steps(u: dict[str, str], status: str, skip: str | None, action: str) -> list[dict]:
        steps = [
            {"name": "EntryImport", "provisioningStepType": "import", "status": "success",
             "description": f"Retrieved User '{u['upn']}' from Microsoft Entra ID",
             "details": {"objectId": u["object_id"], "userPrincipalName": u["upn"],
                         "mail": u["upn"], "displayName": u["display"],
                         "department": u["department"], "employeeId": u["employee"],
                         "accountEnabled": "True"}},
            {"name": "EntrySynchronizationScoping", "provisioningStepType": "scoping",
             "status": "success",
             "description": "Determine if User in scope by evaluating against each scoping "
                            "filter",
             "details": {"Active in the source system": "True",
                         "Assigned to the application": str(skip is None)}},
        ]
        if skip:
            steps.append({"name": "EntrySynchronizationSkipped", "provisioningStepType": "export",
                          "status": "skipped",
                          "description": f"User '{u['upn']}' was skipped",
                          "details": {"ReportableIdentifier": u["upn"], "SkipReason": skip}})
            return steps
        steps.append({"name": "EntryImport", "provisioningStepType": "matching",
                      "status": "success",
                      "description": f"Retrieved '{u['upn']}' from customappsso",
                      "details": {"id": u["target_id"], "userName": u["upn"],
                                  "externalId": u["employee"], "active": "True"}})
        verb = "Add" if action == "create" else "Update"
        steps.append({"name": f"EntryExport{verb}", "provisioningStepType": "export",
                      "status": status,
                      "description": f"{'Failed to' if status == 'failure' else 'Did'} "
                                     f"{verb.lower()} User '{u['upn']}' in customappsso",
                      "details": {"ReportableIdentifier": u["upn"], "userName": u["upn"],
                                  "department": u["department"]}})
        return steps


def write_json(records: Iterator[dict], path: Path, lines: bool) -> None:
    with open(path, "w", encoding="utf-8") as out:
        out.write("" if lines else "[")
        for n, event in enumerate(records):
            if n and not lines:
                out.write(",")
            out.write(json.dumps(event, separators=(",", ":")))
            if lines:
                out.write("\n")
        out.write("" if lines else "]")


MAIN = ("Date (UTC)", "ID", "Job ID", "Cycle ID", "Change ID", "Action", "Status",
        "Source System", "Target System", "Source Identity Display Name", "Source Identity ID",
        "Source Identity Type", "Target Identity ID", "Target Identity Type", "Error Code",
        "Failure Reason", "Error Category", "Duration (ms)", "Initiated By", "Application",
        "Service Principal ID", "Tenant ID", "User Principal Name")


PORTAL_FILE_LIMIT = 100_000  # records per file of a portal download


def write_csv(records: Iterator[dict], folder: Path, per_download: int | None = None) -> None:
    """The three files of the portal CSV download (BOM, CRLF reasons, JSON details).

    With ``per_download``, the events are split into several downloads of at most that many
    events, as a month larger than the portal's 100,000-record limit arrives (one download per
    date range); each triple is named after its first event's time, as a user saving them
    side by side would: ``ProvisioningLogs_2026-10-01T0000.csv``,
    ``ProvisioningLogs_ProvisioningSteps_2026-10-01T0000.csv``, ...; a second download starting
    in the same minute gets ``-2`` (and so on), never the first one's files.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if per_download is None:
        _write_download(records, folder, "")
        return
    used: Counter[str] = Counter()
    while True:
        chunk = itertools.islice(records, per_download)
        first = next(chunk, None)
        if first is None:
            return
        when = first["activityDateTime"][:16].replace(":", "")
        used[when] += 1
        suffix = f"_{when}" if used[when] == 1 else f"_{when}-{used[when]}"
        _write_download(itertools.chain([first], chunk), folder, suffix)


def _write_download(records: Iterator[dict], folder: Path, suffix: str) -> None:
    names = (f"ProvisioningLogs{suffix}.csv", f"ProvisioningLogs_ProvisioningSteps{suffix}.csv",
             f"ProvisioningLogs_ModifiedProperties{suffix}.csv")
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(open(folder / n, "w", encoding="utf-8-sig", newline=""))
                 for n in names]
        main, steps, props = (csv.writer(f) for f in files)
        main.writerow(MAIN)
        steps.writerow(("Change ID", "Step", "Name", "Type", "Status", "Description", "Details"))
        props.writerow(("Change ID", "Attribute", "Old Value", "New Value"))
        for e in records:
            err = e["provisioningStatusInfo"]["errorInformation"] or {}
            src, tgt = e["sourceIdentity"], e["targetIdentity"]
            main.writerow((
                e["activityDateTime"], e["id"], e["jobId"], e["cycleId"], e["changeId"],
                e["provisioningAction"].title(), e["provisioningStatusInfo"]["status"].title(),
                "Microsoft Entra ID", "customappsso", src["displayName"], src["id"], "User",
                tgt["id"], tgt["identityType"], err.get("errorCode", ""),
                err.get("reason", ""), err.get("errorCategory", ""),
                e["durationInMilliseconds"], "Azure AD Provisioning Service",
                APP["displayName"], APP["id"], TENANT, src["details"]["UserPrincipalName"],
            ))
            for n, s in enumerate(e["provisioningSteps"], start=1):
                steps.writerow((e["changeId"], n, s["name"], s["provisioningStepType"].title(),
                                s["status"].title(), s["description"],
                                json.dumps(s["details"], indent=2)))
            for p in e["modifiedProperties"]:
                props.writerow((e["changeId"], p["displayName"], "", p["newValue"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--format", choices=("json", "ndjson", "csv"), default="json")
    parser.add_argument("-o", "--output", type=Path, required=True)
    parser.add_argument("--per-download", type=int, metavar="N",
                        help=f"csv: several downloads of at most N events (the portal writes "
                             f"at most {PORTAL_FILE_LIMIT:,} records per file)")
    args = parser.parse_args()
    args.output.parent.mkdir(parents=True, exist_ok=True)
    records = Tenant(args.events).records()
    if args.format == "csv":
        write_csv(records, args.output, args.per_download)
    else:
        write_json(records, args.output, lines=args.format == "ndjson")
    print(f"wrote {args.output}: {args.events:,} events ({args.format})")


if __name__ == "__main__":
    main()
