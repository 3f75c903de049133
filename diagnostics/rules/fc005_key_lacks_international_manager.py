"""The API key lacks International Manager access.

What it detects:
    Requests failing with HTTP 403 / ``StatusCode: Forbidden``, and error codes ending in
    ``InsufficientRights``, ``NotPermitted`` or ``Forbidden`` (any connector prefix), or a
    permission text when no HTTP status was logged. Reports cycles in which every request was
    refused. A 403 whose own text says the key is invalid, expired or revoked is the token's
    (FC004).
Why provisioning fails:
    The token authenticates, but the API key belongs to a user without the International
    Manager role, so Flowcase refuses to create or change users outside that user's reach.
Evidence:
    403 responses, ``InsufficientRights`` / ``NotPermitted``; typically on every create and
    update of the cycle.
Fix:
    Step 3: create the API key as (or grant) an International Manager in Flowcase, put it in
    the Secret Token as ``token="API_KEY"``, Test Connection, restart provisioning.
Known false positives:
    A Flowcase rule that forbids changing one particular user (for example a protected
    account) would also answer 403; then only that user fails, which the message shows.
"""

from __future__ import annotations

from diagnostics.facts.vocabulary import FORBIDDEN, INVALID_KEY
from diagnostics.rulekit import (
    Context,
    Hit,
    describe,
    failures_where,
    http_in,
    ids,
    mentions,
    plural,
    whole_cycles,
)

ID = "FC005"
TITLE = "The API key lacks International Manager access"
SEVERITY = "critical"
GUIDE_STEPS = ("3",)
PATTERNS = (5,)
REMEDIATION = (
    '"The API key must have International Manager access" (guide step 3): create the key for a '
    "Flowcase user with the International Manager role, enter it as token=\"API_KEY\" in the "
    "Secret Token, click \"Test Connection\" and restart provisioning."
)


def evaluate(ctx: Context) -> list[Hit]:
    refused = ctx.failures.filter(
        failures_where(
            http=(403,), codes=r"(insufficientrights|notpermitted|forbidden)$", text=FORBIDDEN
        )
        & ~(http_in(403) & mentions(INVALID_KEY))  # the key itself is wrong: FC004's
    )
    if refused.height == 0:
        return []
    full = whole_cycles(ctx, refused)
    message = (
        f"Flowcase refused {plural(refused.height, 'request')} for {describe(refused, 'object')}"
        f" with 403 Forbidden in {plural(refused['cycle_id'].n_unique(), 'cycle')}"
    )
    if full:
        message += f" (every request of {plural(len(full), 'cycle')})"
    severity = None if full or refused["person"].n_unique() > 1 else "high"
    return [Hit(ids(refused), message + ".", severity=severity, details={"whole_cycles": full})]
