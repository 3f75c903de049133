"""Identifier evidence shared by FC006 and FC007, so both judge a conflict alike.

The catalog (pattern 6) names a 409 after an upper-case userName or work email a
consequence of that casing: Flowcase holds the lower-case value, Entra's match by the sent
value missed it and the create collided. FC007 reports every conflict; FC006 names those
its casing caused, and leads for those users (``CAUSES``).
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.departments import ambiguous_department_failures
from diagnostics.facts.vocabulary import ACTIVE, COUNTRY, DEPARTMENT, DUPLICATE, ROLE
from diagnostics.rulekit import Context, code_like, http_in, mentions
from loganalyzer.normalize import EMAIL_KEY, USERNAME_KEY

# the two identifiers the guide wants lower-case (folded keys); another email (type "other",
# "home") is not matched on and may keep its casing
ATTRIBUTE_NAMES = {USERNAME_KEY: "userName", EMAIL_KEY: "the work email"}
IDENTIFIER_KEYS = f"^({USERNAME_KEY}|{EMAIL_KEY})$"


def uppercase_identifiers(ctx: Context) -> pl.DataFrame:
    """Sent userName / work-email values with upper-case letters (event, person, value)."""
    upper = pl.col("value").is_not_null() & (pl.col("value") != pl.col("value").str.to_lowercase())
    return ctx.sent_where(IDENTIFIER_KEYS, where=upper)

CONFLICT_CODE = (
    r"(entryconflict|conflict|duplicatetargetentries|duplicatesourceentries"
    r"|multipleentriesinresponse)$"  # a GET for one user answered with several (4.1)
)
# a user Flowcase no longer has: "not found; it has already been deleted"
GONE = r"not found|deleted|does not exist|no longer exists"
# a 409 for a stale version (an ETag, a concurrent change): the same user changed twice, not
# two users
VERSION_CONFLICT = (
    r"etag|if-match|precondition|version (mismatch|conflict)|(stale|outdated) version"
    r"|concurrent(ly)? (modif|update|change)|modified by another request"
)


def conflict_failures(ctx: Context) -> pl.DataFrame:
    structural = (
        http_in(409)
        | (pl.col("scim_type").str.to_lowercase() == "uniqueness").fill_null(False)
        | code_like(CONFLICT_CODE)
    )
    about_something_else = (
        mentions(DEPARTMENT) | mentions(ROLE) | mentions(COUNTRY) | mentions(ACTIVE)
        | mentions(VERSION_CONFLICT)
    )
    # the user is gone, not there twice: a 404, or a delete or disable told so without a status
    gone = http_in(404) | (pl.col("action").is_in(["delete", "disable"]) & mentions(GONE))
    # a 409 that says "User must be Active." is about the user's state, not a duplicate; one
    # that says "Duplicate department name" is FC009's department
    departments = ambiguous_department_failures(ctx)
    return ctx.failures.filter(
        (pl.col("object_type") != "Group").fill_null(True)
        & ~gone
        & ~pl.col("event_id").is_in(departments.implode())
        & (
            (structural & (mentions(DUPLICATE) | ~about_something_else))
            | (mentions(DUPLICATE) & ~about_something_else)
        )
    )
