"""Read one app's provisioning configuration from Graph with the typed SDK.

Each part needs its own permission; a part Graph refuses (403) is recorded in the snapshot's
``unavailable`` with the permission it needs, and the rest is still read, so ``check --graph``
runs every check it can and says which it could not. A 401, or a service principal Graph does
not know, stops the run.

The job's settings (Tenant URL, scope) are ``synchronization.secrets``; Graph documents them
only for writing. The SDK models them on ``GET .../synchronization``, so they are asked for
there; when Graph returns none, the checks that need them say so and name the log rule that
covers them. Only ``BaseAddress`` and ``SyncAll`` are kept; the token is dropped on arrival.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph.generated.groups.item.members.members_request_builder import MembersRequestBuilder
from msgraph.generated.groups.item.transitive_members.transitive_members_request_builder import (
    TransitiveMembersRequestBuilder,
)
from msgraph.generated.service_principals.service_principals_request_builder import (
    ServicePrincipalsRequestBuilder,
)

from loganalyzer.config.files import public_settings
from loganalyzer.config.model import (
    APP_ROLES,
    ASSIGNMENTS,
    JOBS,
    MEMBERS,
    SCHEMA,
    SECRETS,
    ConfigSnapshot,
    GroupMembers,
    JobConfig,
)
from loganalyzer.graph.client import GraphConnection, GraphRequestError
from loganalyzer.graph.sdk import GraphClient, PermissionMissing, with_client

APP_READ = "Application.Read.All"
SYNC_READ = "Synchronization.Read.All"
MEMBERS_READ = "GroupMember.Read.All"
NO_SECRETS = ("Graph returned neither the Tenant URL nor the scope on GET "
              "/servicePrincipals/{id}/synchronization (it documents them for writing only)")
_MEMBER_FIELDS = ["id", "displayName", "userPrincipalName", "mail"]


@dataclass(frozen=True)
class AppTarget:
    """Which app to read: its service principal (object) id, or its display name."""

    service_principal_id: str | None = None
    app_name: str | None = None
    job_id: str | None = None


async def _part(snap: ConfigSnapshot, parts: tuple[str, ...], request: Awaitable[Any]) -> Any:
    """Await a read; on 403 record why under each of ``parts`` and return None."""
    try:
        return await request
    except PermissionMissing as exc:
        for part in parts:
            snap.unavailable[part] = str(exc)
        return None


async def find_service_principal(client: GraphClient, name: str) -> str:
    """The object id of the one enterprise app called ``name`` (Graph compares exactly)."""
    escaped = name.replace("'", "''")
    query = ServicePrincipalsRequestBuilder.ServicePrincipalsRequestBuilderGetQueryParameters(
        filter=f"displayName eq '{escaped}'", select=["id", "displayName", "appId"])
    found = await client.collect(f"the enterprise application '{name}'", APP_READ,
                                 client.sdk.service_principals,
                                 RequestConfiguration(query_parameters=query))
    if not found:
        raise GraphRequestError(f"no enterprise application is named '{name}' (Graph compares "
                                "display names exactly, case included)")
    if len(found) > 1:
        ids = ", ".join(str(sp.id) for sp in found)
        raise GraphRequestError(f"{len(found)} enterprise applications are named '{name}' "
                                f"({ids}); pass --service-principal-id")
    return str(found[0].id)


def service_principal_id(connection: GraphConnection, target: AppTarget) -> str:
    """``target``'s service principal (object) id: the one given, else found by its name."""
    if target.service_principal_id:
        return target.service_principal_id
    return asyncio.run(with_client(
        connection, lambda client: find_service_principal(client, target.app_name or "")))


async def _members(client: GraphClient, snap: ConfigSnapshot, group_id: str) -> None:
    group = client.sdk.groups.by_group_id(group_id)
    direct_query = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(
        select=_MEMBER_FIELDS)
    nested = TransitiveMembersRequestBuilder
    nested_query = nested.TransitiveMembersRequestBuilderGetQueryParameters(select=_MEMBER_FIELDS)
    entry = GroupMembers(group_id)
    entry.direct = await _part(snap, (MEMBERS,), client.collect(
        f"the members of group {group_id}", MEMBERS_READ,
        group.members, RequestConfiguration(query_parameters=direct_query)))
    entry.transitive = await _part(snap, (MEMBERS,), client.collect(
        f"the nested members of group {group_id}", MEMBERS_READ,
        group.transitive_members, RequestConfiguration(query_parameters=nested_query)))
    snap.members[group_id] = entry


async def read_config(client: GraphClient, target: AppTarget) -> tuple[str, ConfigSnapshot]:
    """(service principal id, snapshot) of the app ``target`` names."""
    sp_id = target.service_principal_id or await find_service_principal(
        client, target.app_name or "")
    sp = client.sdk.service_principals.by_service_principal_id(sp_id)
    snap = ConfigSnapshot(source=f"Microsoft Graph: service principal {sp_id}")
    snap.service_principal = await _part(snap, (APP_ROLES,), client.call(
        f"service principal {sp_id}", APP_READ, sp.get))
    jobs = await _part(snap, (JOBS, SCHEMA), client.collect(
        "the synchronization jobs", SYNC_READ, sp.synchronization.jobs))
    for job in jobs or []:
        if target.job_id and job.id != target.job_id:
            continue
        schema = await _part(snap, (SCHEMA,), client.call(
            f"the schema of job {job.id}", SYNC_READ,
            sp.synchronization.jobs.by_synchronization_job_id(job.id).schema.get))
        snap.jobs.append(JobConfig(job.id, job, schema))
    if jobs is not None and not snap.jobs:
        wanted = f"job {target.job_id}" if target.job_id else "a synchronization job"
        snap.unavailable[JOBS] = snap.unavailable[SCHEMA] = (
            f"service principal {sp_id} has no {wanted} (is provisioning set up?)")
    sync = await _part(snap, (SECRETS,), client.call(
        "the provisioning settings", SYNC_READ, sp.synchronization.get))
    snap.synchronization = public_settings(sync) if sync is not None else None
    if sync is not None and not snap.has(SECRETS):
        snap.unavailable[SECRETS] = NO_SECRETS
    snap.assignments = await _part(snap, (ASSIGNMENTS, MEMBERS), client.collect(
        "the app's assignments (appRoleAssignedTo)", APP_READ, sp.app_role_assigned_to))
    for assignment in snap.assignments or []:
        if (assignment.principal_type or "").lower() == "group":
            await _members(client, snap, str(assignment.principal_id))
    return sp_id, snap


def fetch_config(connection: GraphConnection, target: AppTarget) -> tuple[str, ConfigSnapshot]:
    """``read_config`` in a fresh event loop."""
    return asyncio.run(with_client(connection, lambda client: read_config(client, target)))
