"""Provision on demand (guide step 8a) for users whose cause was fixed, through the typed SDK.

Graph answers one result per call (one ``stringKeyStringValuePair``), so each user is one
``provisionOnDemand`` call with one subject, and calls are paced to Graph's documented limit
for this API (5 requests per 10 seconds). Needs Synchronization.ReadWrite.All; reading the
user's object id needs User.Read.All. ``plan`` reads everything first, so the command can show
what it will provision and ask before anything is written to Flowcase.
"""

from __future__ import annotations

import asyncio
import functools
import re
from dataclasses import dataclass

from msgraph.generated.models.synchronization_job_application_parameters import (
    SynchronizationJobApplicationParameters,
)
from msgraph.generated.models.synchronization_job_subject import SynchronizationJobSubject
from msgraph.generated.service_principals.item.synchronization.jobs.item.provision_on_demand.provision_on_demand_post_request_body import (  # noqa: E501
    ProvisionOnDemandPostRequestBody,
)

from loganalyzer.graph.client import GraphConnection, GraphRequestError
from loganalyzer.graph.config_fetch import SYNC_READ, AppTarget, find_service_principal
from loganalyzer.graph.sdk import GraphClient, with_client
from loganalyzer.on_demand import OnDemandResult, read_on_demand

SYNC_WRITE = "Synchronization.ReadWrite.All"
USER_READ = "User.Read.All"
PACE_SECONDS = 2.0  # 5 requests per 10 seconds
_OBJECT_ID = re.compile(r"^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$", re.IGNORECASE)


@dataclass
class Subject:
    given: str  # as typed on the command line
    object_id: str
    display: str


@dataclass
class Plan:
    service_principal_id: str
    job_id: str
    rule_id: str
    subjects: list[Subject]


async def _job_and_rule(client: GraphClient, sp_id: str, job_id: str | None) -> tuple[str, str]:
    sp = client.sdk.service_principals.by_service_principal_id(sp_id)
    if job_id is None:
        jobs = await client.collect("the synchronization jobs", SYNC_READ,
                                    sp.synchronization.jobs)
        if len(jobs) != 1:
            listing = ", ".join(str(j.id) for j in jobs) or "none"
            raise GraphRequestError(f"service principal {sp_id} has {len(jobs)} synchronization "
                                    f"jobs ({listing}); pass --job-id")
        job_id = str(jobs[0].id)
    schema = await client.call(f"the schema of job {job_id}", SYNC_READ,
                               sp.synchronization.jobs.by_synchronization_job_id(job_id)
                               .schema.get)
    rules = [rule for rule in (schema.synchronization_rules if schema else None) or []
             if any((m.source_object_name or "").lower() == "user"
                    for m in rule.object_mappings or [])]
    if not rules:
        raise GraphRequestError(f"job {job_id} has no synchronization rule for users")
    return job_id, str(rules[0].id)


async def _plan(client: GraphClient, target: AppTarget, users: list[str]) -> Plan:
    sp_id = target.service_principal_id or await find_service_principal(
        client, target.app_name or "")
    job_id, rule_id = await _job_and_rule(client, sp_id, target.job_id)
    subjects = []
    for given in users:
        if _OBJECT_ID.match(given):  # an object id needs no lookup (nor User.Read.All)
            subjects.append(Subject(given, given, given))
            continue
        user = await client.call(f"user {given}", USER_READ,
                                 client.sdk.users.by_user_id(given).get)
        subjects.append(Subject(given, str(user.id), user.user_principal_name or given))
    return Plan(sp_id, job_id, rule_id, subjects)


async def _provision(client: GraphClient, plan: Plan, pace: float) -> list[OnDemandResult]:
    job = (client.sdk.service_principals.by_service_principal_id(plan.service_principal_id)
           .synchronization.jobs.by_synchronization_job_id(plan.job_id))
    results = []
    for n, subject in enumerate(plan.subjects):
        if n and pace:
            await asyncio.sleep(pace)
        body = ProvisionOnDemandPostRequestBody(parameters=[SynchronizationJobApplicationParameters(
            rule_id=plan.rule_id,
            subjects=[SynchronizationJobSubject(object_id=subject.object_id,
                                                object_type_name="User")])])
        pair = await client.call(f"Provision on demand for {subject.display}", SYNC_WRITE,
                                 functools.partial(job.provision_on_demand.post, body), write=True)
        results.append(read_on_demand(subject.display, pair.key if pair else None,
                                      pair.value if pair else None,
                                      plan.service_principal_id, plan.job_id))
    return results


def plan_retest(connection: GraphConnection, target: AppTarget, users: list[str]) -> Plan:
    """Resolve the app, its job and user rule, and each user's object id (reads only)."""
    return asyncio.run(with_client(connection, lambda c: _plan(c, target, users)))


def run_retest(connection: GraphConnection, plan: Plan, pace: float = PACE_SECONDS
               ) -> list[OnDemandResult]:
    """Provision each planned user on demand (writes to Flowcase) and diagnose each result."""
    return asyncio.run(with_client(connection, lambda c: _provision(c, plan, pace)))
