"""The Tenant URL does not lead to Flowcase's SCIM API.

What it detects:
    Requests about users failing with HTTP 404 that a SCIM API would not answer so: with a
    web page (HTML, a web app's "page not found") instead of a SCIM error, or on a create
    (``POST /Users`` is not found only where there is no ``/Users``). A 404 about a group is
    FC001's (also one whose object type the export lost, when its text names groups); a
    create's 404 whose text names a department, manager, role or country is that attribute's
    rule's, and one answered by a SCIM error with a ``detail`` reached a SCIM API. So did
    every request of a cycle in which a create, update, delete or disable succeeded: the URL
    led to the API then.
Why provisioning fails:
    Entra sends every request to the Tenant URL followed by ``/Users``. A Tenant URL without
    the SCIM path (the company's Flowcase address alone, ``/api/scim`` without ``/v2``), with
    a typo in the company's name, or pointing at another server reaches a web server with no
    such page, so no user is created or changed.
Evidence:
    404 / ``StatusCode: NotFound`` on creates (without a SCIM error saying what was not found),
    or with an HTML body (``<!DOCTYPE html>``, "The page you were looking for doesn't exist"),
    often with ``SystemForCrossDomainIdentityManagementServiceIncompatible``.
Fix:
    Step 3: set the Tenant URL to the SCIM API URL, ``https://<company>.flowcase.com/api/
    scim/v2?aadOptscim062020``, click Test Connection, then restart provisioning.
Known false positives:
    An app in front of Flowcase (a proxy) that answers one user's missing record with a web
    page, in a cycle where nothing else was sent successfully.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.vocabulary import COUNTRY, DEPARTMENT, MANAGER, ROLE
from diagnostics.rulekit import (
    NAMED,
    Context,
    Hit,
    describe,
    http_in,
    ids,
    is_failure,
    mentions,
    plural,
    verb,
    whole_cycles,
)
from loganalyzer.reasons import HTML_PAGE_NOTE, is_html_page
from loganalyzer.textsafe import clipped

ID = "FC022"
TITLE = "The Tenant URL does not lead to Flowcase's SCIM API"
SEVERITY = "critical"
GUIDE_STEPS = ("3",)
PATTERNS = (3,)
REMEDIATION = (
    "Set the Tenant URL (guide step 3) to the SCIM API URL, "
    "https://your-company.flowcase.com/api/scim/v2?aadOptscim062020, with your company's "
    'Flowcase address; click "Test Connection", save, and restart provisioning.'
)
_GROUPS = r"(^|[^a-z])groups?([^a-z]|$)"
# a create's 404 naming one of these is about a value sent, not the URL
_ATTRIBUTES = "|".join((DEPARTMENT, MANAGER, ROLE, COUNTRY, _GROUPS))
_SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"
_SAID = r'"detail"\s*:\s*"[^"]'  # a detail that is not empty
# requests that reach the app: one of these succeeding proves the Tenant URL leads to it
_SENT = ("create", "update", "delete", "disable")


def is_user() -> pl.Expr:
    """Not a group, nor (FC001's too) a 404 naming groups whose object type the export lost:
    a web page saying "Cannot PATCH /scim/v2/Groups/..." answered a group request."""
    untyped_group = pl.col("object_type").is_null() & mentions(_GROUPS)
    return (pl.col("object_type").fill_null("User") != "Group") & ~untyped_group


def is_scim_error(body: pl.Expr) -> pl.Expr:
    """A SCIM error body saying what was not found: a SCIM API answered, so the URL leads to
    one, and its 404 on a create is about something the request names (a manager sent by an
    id Flowcase no longer has). A bare ``{"schemas": [...], "status": 404}`` says nothing."""
    said = body.str.contains(_SCIM_ERROR, literal=True) & body.str.contains(_SAID)
    return said.fill_null(False)


def reached(ctx: Context, cycles: pl.Series) -> pl.Series:
    """Of ``cycles``, those in which a request to the app succeeded: the Tenant URL led to
    Flowcase's SCIM API then, so their 404s are about what was asked (a proxy's web page for
    one unknown user), not the URL."""
    return (ctx.frames.events.lazy()
            .filter(pl.col("cycle_id").is_in(cycles.implode()) & (pl.col("status") == "success")
                    & pl.col("action").is_in(_SENT))
            .select(pl.col("cycle_id").unique()).collect()["cycle_id"])


def evaluate(ctx: Context) -> list[Hit]:
    user = is_user()
    page = is_html_page(pl.col("response_body"))
    create = ((pl.col("action") == "create") & ~mentions(_ATTRIBUTES)
              & ~is_scim_error(pl.col("response_body")))
    not_found = ctx.events_where(
        is_failure() & http_in(404) & user & (page | create),
        (*NAMED, "cycle_id", "scim_detail", "response_body"))
    if not_found.height:  # a month of events is scanned only for the cycles of these 404s
        ok = reached(ctx, not_found["cycle_id"].unique()).implode()
        not_found = not_found.filter(~pl.col("cycle_id").is_in(ok).fill_null(False))  # null id
    if not_found.height == 0:
        return []
    pages = not_found.filter(is_html_page(pl.col("response_body")))
    message = (f"{plural(not_found.height, 'request')} for {describe(not_found)} "
               f"{verb(not_found.height, 'was', 'were')} answered 404 Not Found")
    if pages.height:
        title = (pages["scim_detail"].drop_nulls().first() or "").removesuffix(HTML_PAGE_NOTE)
        which = "" if pages.height == not_found.height else f", {pages.height} of them"
        message += f"{which} by a web page" + (f" ('{clipped(title, 100)}')" if title else "")
    message += ", not by Flowcase's SCIM API: the Tenant URL does not lead to it"
    full = whole_cycles(ctx, not_found)
    if full:
        message += f" (every request of {plural(len(full), 'cycle')})"
    severity = None if full or not_found["person"].n_unique() > 1 else "high"
    return [Hit(ids(not_found), message + ".", severity=severity,
                details={"whole_cycles": full, "web_pages": pages.height})]
