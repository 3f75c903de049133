"""Both countryCode and countryName are mapped.

What it detects:
    Requests that sent both a ``...:countryCode`` and a ``...:countryName`` attribute
    (modified properties or export details, any spelling), and failures that logged no
    attribute sent whose text names both country attributes without being about a department.
Why provisioning fails:
    Flowcase accepts one country attribute to pick a department's country; "Using both will
    cause an HTTP 400 error", so every create or update carrying both is refused.
Evidence:
    Both attribute paths among the sent attributes of failing (400) requests; bodies such as
    "countryCode and countryName are mutually exclusive".
Fix:
    Step 7a: delete one of the two mappings; keep countryCode (ISO 3166) or countryName.
Known false positives:
    If Flowcase ever accepted both, successful requests carrying both are still reported, at
    medium severity, because the guide forbids the combination. A failure whose text names
    both ("Invalid countryCode 'UK': expected an ISO code or a countryName") is reported only
    when the log lacks the attributes sent; when they are logged, they decide.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.departments import both_countries_sent
from diagnostics.facts.vocabulary import DEPARTMENT
from diagnostics.rulekit import NAMED, Context, Hit, describe, ids, is_failure, mentions

ID = "FC010"
TITLE = "Both countryCode and countryName are mapped"
SEVERITY = "high"
GUIDE_STEPS = ("7a",)
PATTERNS = (10,)
REMEDIATION = (
    '"Use either countryCode (ISO 3166-2) or countryName, but never both. Using both will '
    'cause an HTTP 400 error." (guide step 7a): in the attribute mappings delete either the '
    "mapping to urn:...:flowcase:2.0:User:countryCode or the one to ...:countryName, save, "
    "and restart provisioning."
)


def evaluate(ctx: Context) -> list[Hit]:
    both = both_countries_sent(ctx)
    said = ctx.failures.filter(
        mentions(r"country ?code") & mentions(r"country ?name") & ~mentions(DEPARTMENT)
    )["event_id"]
    # the text stands in for the attributes sent only where none were logged: "Invalid
    # countryCode 'UK' ... or a countryName" after only countryCode was sent is not both
    unlogged = said.filter(~said.is_in(ctx.exporting(said).implode()))
    events = ctx.events_where(
        pl.col("event_id").is_in(pl.concat([both, unlogged]).implode()),
        (*NAMED, "status"),
    )
    if events.height == 0:
        return []
    failures = events.filter(is_failure())
    message = f"Both countryCode and countryName were sent for {describe(events)}"
    if failures.height:
        message += f"; {failures.height} of those requests failed"
    return [
        Hit(ids(events), message + ".", severity=None if failures.height else "medium",
            details={"failures": failures.height})
    ]
