"""Flowcase rejects the secret token (wrong format or wrong key).

What it detects:
    Requests failing with HTTP 401 / ``StatusCode: Unauthorized``, error codes ending in
    ``InvalidCredentials`` or ``CredentialValidation...`` (any connector prefix), and failures
    without an HTTP status whose code or text says the credentials were refused, and 403s
    whose own text says the key or token is invalid, expired or revoked. Reports the
    cycles in which every request failed this way, and joins a job status that is quarantined
    with ``EncounteredQuarantineException`` or a credentials error (not one whose error is a
    SCIM compliance error, ``...ServiceIncompatible``, or says ``/Groups`` answered 404 under
    any code: that is the group mapping, FC001). When every such failure is
    ``CredentialValidationUnavailable`` (Entra could not reach Flowcase or could not read its
    answer), it says so and points at the Tenant URL before the token.
Why provisioning fails:
    Flowcase expects the Secret Token as ``token="API_KEY"`` including the double quotes. A
    bare key, a key without quotes, a revoked key or a typo makes every request fail with 401,
    so nothing is provisioned and Entra quarantines the job.
Evidence:
    401 responses, credential error codes, whole cycles of 401s, the job's quarantine reason
    and ``lastExecution.error`` (``SystemForCrossDomainIdentityManagementInvalidCredentials``).
Fix:
    Step 3: set the Secret Token to ``token="YOUR_API_KEY_HERE"`` with the quotes, click Test
    Connection, then restart provisioning to leave quarantine.
Known false positives:
    A generic ``Unauthorized`` error code with an HTTP 403 is a permission problem (FC005), not
    a token problem, and is left to that rule, unless the app's text says the key itself is
    invalid ("Invalid API key"). A text about a paging or sync token ("The continuation token
    is invalid") without an HTTP status is Entra's own state, not the Secret Token.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.vocabulary import AUTH, FORBIDDEN, INVALID_KEY, PAGING_TOKEN
from diagnostics.rulekit import (
    Context,
    Hit,
    code_like,
    describe,
    failures_where,
    http_in,
    ids,
    mentions,
    plural,
    whole_cycles,
)

ID = "FC004"
TITLE = "Flowcase rejects the secret token"
SEVERITY = "critical"
GUIDE_STEPS = ("3",)
PATTERNS = (4,)
REMEDIATION = (
    'Set the Secret Token to your API key in this exact format: token="YOUR_API_KEY_HERE" — '
    '"The token must be wrapped as token="API_KEY" including the double quotes." Check that the '
    "key is current and the Tenant URL is right, click \"Test Connection\", then restart "
    "provisioning to lift the quarantine (guide step 3)."
)
CREDENTIAL_CODE = r"(invalidcredentials|credentials?validation\w*)$"
# Entra could not check the credentials at all: Flowcase unreachable or answering unexpectedly
# (formats reference 4.2), more often a wrong Tenant URL than a wrong token
UNAVAILABLE_CODE = r"credentials?validationunavailable$"


def auth_failures(ctx: Context) -> pl.DataFrame:
    """401s and credential errors; with no status, the auth wording (not about a paging or sync
    token: Entra's own state); and a 403 whose own text says the key or token is invalid
    (FC005 leaves it)."""
    return ctx.failures.filter(
        failures_where(
            http=(401,),
            codes=CREDENTIAL_CODE,
            text=(code_like(r"unauthori[sz]ed$") | mentions(AUTH)) & ~mentions(FORBIDDEN)
            & ~mentions(PAGING_TOKEN),
        )
        | (http_in(403) & mentions(INVALID_KEY))
    )


def job_says_credentials(ctx: Context) -> bool:
    return ctx.job is not None and ctx.job.blames_credentials


def evaluate(ctx: Context) -> list[Hit]:
    failures = auth_failures(ctx)
    from_job = job_says_credentials(ctx)
    if failures.height == 0 and not from_job:
        return []
    full = whole_cycles(ctx, failures) if failures.height else []
    parts = []
    if failures.height:
        cycles = failures["cycle_id"].n_unique()
        unreachable = failures.filter(code_like(UNAVAILABLE_CODE) & ~http_in(401))
        if unreachable.height == failures.height:
            part = (
                f"Entra could not check the credentials: Flowcase could not be reached or "
                f"answered unexpectedly (CredentialValidationUnavailable) for "
                f"{plural(failures.height, 'request')} of {describe(failures, 'object')} in "
                f"{plural(cycles, 'cycle')}; check the Tenant URL first, then the token"
            )
        else:
            part = (
                f"Flowcase refused the credentials: {plural(failures.height, 'request')} for "
                f"{describe(failures, 'object')} failed with 401 or a credentials error in "
                f"{plural(cycles, 'cycle')}"
            )
        if full:
            part += f" (every request of {plural(len(full), 'cycle')})"
        parts.append(part)
    if from_job:
        job = ctx.job
        parts.append(
            f"the sync job is {'in quarantine' if job.quarantined else job.code or 'failing'}"
            f" ({job.quarantine_reason or job.last_execution_state or 'no reason given'}"
            f"{': ' + job.error_code if job.error_code else ''}"
            f"{' “' + job.error_message + '”' if job.error_message else ''})"
        )
    details = {"whole_cycles": full}
    message = "; ".join(parts)
    return [Hit(ids(failures), message[0].upper() + message[1:] + ".", details=details)]
