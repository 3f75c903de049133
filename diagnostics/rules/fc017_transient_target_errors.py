"""Transient trouble at Flowcase: throttling, server errors, time-outs.

What it detects:
    Failures of users with HTTP 429 or 5xx (not 501 Not Implemented, which no retry
    mends: it is left unexplained), error codes ending in ``TooManyRequests``,
    ``InternalServerError``, ``ServiceUnavailable``, ``Timeout``, ``WebExceptionProtocolError``
    or ``InternalError``, and time-out texts when no HTTP status was logged. Objects whose
    last event is still such a failure after several cycles raise the severity from low to
    medium (listed as medium: a rule is listed at the highest severity it reports).
Why provisioning fails:
    It usually does not: Entra retries these requests on its own (40 minutes, then on the
    escrow back-off). An object that keeps getting 5xx, however, points at data Flowcase
    cannot process and needs a support case.
Evidence:
    The HTTP status and error code of each failure; per object, the cycles it failed in and
    whether a later request succeeded.
Fix:
    Nothing for one-off throttling or 5xx. For objects that keep failing, open a Flowcase
    support case with the listed requests (time, user, response).
Known false positives:
    A 500 caused by bad data (for example an unexpected attribute) is reported here until a
    rule for that data exists. Group requests are left to FC001: Flowcase has no groups.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.vocabulary import TRANSIENT, TRANSIENT_CODE
from diagnostics.rulekit import (
    OBJECT,
    Context,
    Hit,
    code_like,
    describe_objects,
    http_at_least,
    http_in,
    mentions,
    no_http_status,
    object_names,
    plural,
    quote_list,
    still_failing,
    verb,
)

ID = "FC017"
TITLE = "Transient trouble at Flowcase (throttling, server errors, time-outs)"
SEVERITY = "medium"
GUIDE_STEPS = ()
PATTERNS = (17,)
REMEDIATION = (
    "Nothing for occasional 429/5xx/time-outs: Entra retries them. For an object that keeps "
    "failing across cycles, open a Flowcase support case with its failing requests (time, "
    "user, response), and restart provisioning once it is fixed."
)


def keeps_failing(ctx: Context, failures: pl.DataFrame) -> list[str]:
    """The names of the objects (``OBJECT``) with these failures in two or more cycles whose
    latest event is still one: a rehire with the departed user's UPN neither adds to nor
    mends the departed object's failures."""
    spread = failures.group_by("object").agg(pl.col("cycle_id").n_unique().alias("cycles"))
    repeated = spread.filter(pl.col("cycles") >= 2)["object"]
    stuck = still_failing(ctx, repeated, failures)
    return object_names(failures.filter(pl.col("object").is_in(stuck.implode())))


def evaluate(ctx: Context) -> list[Hit]:
    failures = ctx.failures.filter(
        (pl.col("object_type") != "Group").fill_null(True)
        & (
            http_in(429)
            # 501: Flowcase does not implement the request; retrying it never helps
            | (http_at_least(500) & ~http_in(501))
            | code_like(TRANSIENT_CODE)
            | (no_http_status() & mentions(TRANSIENT))
        )
    ).with_columns(OBJECT)
    if failures.height == 0:
        return []
    statuses = sorted(
        {str(s) for s in failures["http_status"].drop_nulls().to_list()}
        | {c for c in failures.filter(no_http_status())["error_code"].drop_nulls().to_list()}
    )
    message = (
        f"{plural(failures.height, 'request')} for {describe_objects(failures)} failed "
        f"transiently ({', '.join(statuses)})"
    )
    stuck = keeps_failing(ctx, failures)
    if stuck:
        message += (f"; {plural(len(stuck), 'object')} {verb(len(stuck), 'keeps', 'keep')} "
                    f"failing: {quote_list(stuck)}")
    else:
        message += f"; Entra retries {verb(failures.height, 'it', 'them')}"
    return [
        Hit.of_rows(failures, message + ".", severity=None if stuck else "low",
                    details={"keeps_failing": stuck})
    ]
