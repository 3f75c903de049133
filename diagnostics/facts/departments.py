"""Department evidence shared by the department rules, so they split failures the same way.

A user's failure is about the department when the app answered 400/404/422 (or no HTTP status
was logged) and its text mentions a department/office in any wording (not inside a value it
quotes: "Value 'Head of Division' for attribute title" is not), or quotes the department value
this very request sent. Role errors about ``departmentmanager`` values are not, nor are other
role errors unless they also name the department and quote the one sent (every error of the
request at once), nor are group events (a group named "Oslo Office" that is not found is
FC001's), nor a request that sent both country attributes and is refused in words about the
country ("Only one of countryCode and countryName may be given to resolve the department"):
"Using both will cause an HTTP 400 error" (guide step 7a), FC010's. A 409 is about the user
(FC007's) unless its text says the department is ambiguous ("Duplicate department name",
"matches several departments") and not that the user exists: then it is FC009's, and FC007
leaves it alone.
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.vocabulary import AMBIGUOUS, COUNTRY, DEPARTMENT, ROLE, USER_EXISTS
from diagnostics.rulekit import (
    Context,
    http_in,
    mentions,
    mentions_outside_names,
    no_http_status,
    plural,
)

DEPARTMENT_KEY = r"department$"
COUNTRY_KEY = r"country(code|name)$"
_QUOTED_AFTER_DEPARTMENT = r"(?i)department[^'\"]{0,40}['\"]([^'\"]{1,80})['\"]"
# unquoted, after a colon: a name (capital or digit first) up to the sentence's end or a
# bracket: "Unknown department: Marketing Nordics.", "department: Sales EMEA (not found)";
# never wording ("department: expected the name of an existing department")
_NAMED_AFTER_DEPARTMENT = (
    r"(?i:department): ([\p{Lu}\d][^'\"(),;:]{0,79}?)(?:\.\s|\.?\"|\.?$|\s*[(,;])"
)
# quotes around a value in a message, also escaped inside a JSON body
_QUOTES = ("'", '"', '\\"')
_ASKS_FOR_COUNTRY = (
    r"(specify|provide|send|add|map|include|select|requires?|needs?|missing) "
    r"(a |the |one |either )?country"
)


def sent_departments(ctx: Context, event_ids: pl.Series) -> pl.DataFrame:
    """event_id -> the department value the request sent (first one), for these events."""
    wanted = pl.col("event_id").is_in(event_ids.implode()) & (
        pl.col("value").str.strip_chars().str.len_chars() > 0
    )
    # the values alone (``sent_values``): a month's failures need no event facts here
    return (
        ctx.sent_values(DEPARTMENT_KEY, where=wanted)
        .collect(engine="streaming")
        .group_by("event_id", maintain_order=True)
        .agg(pl.col("value").first().alias("department"))
    )


def department_failures(ctx: Context) -> pl.DataFrame:
    """Failures about the department, with a ``department`` column (sent, else quoted)."""
    return ctx.memo("department_failures", lambda: _department_failures(ctx))


def _department_failures(ctx: Context) -> pl.DataFrame:
    # the failures that can be about it, before their sent departments are joined: joined
    # to all of a month's failures, they copied them all (10M events: the rule peaked 0.9 GB
    # above where it started, now 0.2 GB)
    both = both_countries_sent(ctx)
    possible = ctx.failures.filter(
        (pl.col("object_type") != "Group").fill_null(True)  # a group's 404 is FC001's
        & (http_in(400, 404, 422) | no_http_status() | _ambiguous_conflict())
        & ~mentions("departmentmanager")
        & ~(pl.col("event_id").is_in(both.implode()) & mentions(COUNTRY))  # FC010's
    )
    sent = sent_departments(ctx, possible["event_id"])
    quoted = _quotes_sent_value().fill_null(False)
    about = possible.join(sent, on="event_id", how="left", maintain_order="left").filter(
        (mentions_outside_names(DEPARTMENT) | quoted)
        & (~mentions(ROLE) | _named_beside_a_role(quoted))
    )
    # the reasons of only these failures: ``ctx.failures`` leaves the long texts out
    reasons = ctx.events_where(
        pl.col("event_id").is_in(about["event_id"].implode()),
        ("event_id", "response_body", "error_reason"),
    )
    said = pl.coalesce("scim_detail", "response_body", "error_reason")
    named = (
        about.select("event_id", "scim_detail")
        .join(reasons, on="event_id", how="left", maintain_order="left")
        .select(pl.coalesce(said.str.extract(_QUOTED_AFTER_DEPARTMENT, 1),
                            said.str.extract(_NAMED_AFTER_DEPARTMENT, 1)))
        .to_series()
    )
    return about.with_columns(pl.coalesce(pl.col("department"), named).alias("department"))


def _quotes_sent_value() -> pl.Expr:
    """The text quotes the department sent ("'Customer Success' is not a valid value").
    Unquoted, a name is too often a word of other text: a department called Management
    or Service is in Entra's own code ``SystemForCrossDomainIdentityManagementService…``,
    and Support in "Value not supported for attribute emails"."""
    value = pl.col("department").str.to_lowercase()
    return pl.any_horizontal(
        pl.col("text").str.contains(pl.concat_str(pl.lit(quote), value, pl.lit(quote)),
                                    literal=True)
        for quote in _QUOTES
    )


def _named_beside_a_role(quoted: pl.Expr) -> pl.Expr:
    """A text about a role is the department's too when it names the department and quotes
    the one this request sent: an app that lists every error of a request at once ("role
    'Consultant' is not a valid role; department 'Sales EMEA' does not exist") would else have
    it fixed only after the role, one failed round trip later. A role named like the
    department ("Role 'Sales' is not a valid role") names no department."""
    return quoted & mentions_outside_names(DEPARTMENT)


def _ambiguous_conflict() -> pl.Expr:
    """A 409 whose text says a department is ambiguous, outside the names it quotes, and not
    that the user already exists: Flowcase answers "Duplicate department name" with a
    conflict, which is not a duplicate user."""
    return (http_in(409) & mentions_outside_names(DEPARTMENT) & is_ambiguous()
            & ~mentions(USER_EXISTS))


def ambiguous_department_failures(ctx: Context) -> pl.Series:
    """Ids of the failures FC009 takes (a department that exists in several countries):
    FC007 leaves them alone, so a 409 about the department is not also a duplicate user."""
    return department_failures(ctx).filter(is_ambiguous())["event_id"]


def is_ambiguous() -> pl.Expr:
    """The department exists more than once (in several countries)."""
    return mentions(AMBIGUOUS) | mentions(_ASKS_FOR_COUNTRY)


def both_countries_sent(ctx: Context) -> pl.Series:
    """Ids of the requests that sent both a countryCode and a countryName attribute (FC010's
    evidence, which the department rules leave to it)."""
    return ctx.memo("both_countries_sent", lambda: _both_countries_sent(ctx))


def _both_countries_sent(ctx: Context) -> pl.Series:
    codes = ctx.sent_values(r"countrycode$").select("event_id").collect()["event_id"]
    names = ctx.sent_values(r"countryname$").select("event_id").collect()["event_id"]
    return codes.filter(codes.is_in(names.implode()))


def country_sent(ctx: Context, event_ids: pl.Series) -> pl.DataFrame:
    """Sent countryCode/countryName attributes of these events."""
    return ctx.sent_where(COUNTRY_KEY, where=pl.col("event_id").is_in(event_ids.implode()))


def grouped(frame: pl.DataFrame, lead: str, unnamed: str) -> str:
    """``lead`` and the departments, most users first ("Flowcase has no department 'Sales
    EMEA' (4 users), 'R&D' (1 user)"), then the users whose department the log does not name
    as a clause of their own ("the log does not name the <unnamed> of 2 users")."""
    counts = frame.group_by("department").agg(pl.col("person").n_unique().alias("n"))
    named = counts.filter(pl.col("department").is_not_null()).sort(
        ["n", "department"], descending=[True, False]
    )
    clauses = []
    if named.height:
        departments = ", ".join(f"'{name}' ({plural(n, 'user')}{_spaced(name)})"
                                for name, n in named.iter_rows())
        clauses.append(f"{lead} {departments}")
    for n in counts.filter(pl.col("department").is_null())["n"]:
        clauses.append(f"the log does not name the {unnamed} of {plural(n, 'user')}")
    text = "; ".join(clauses)
    return text[0].upper() + text[1:]


def _spaced(name: str) -> str:
    """A space at either end of a department name, which the quotes hardly show ('Consulting '
    is not Flowcase's 'Consulting'): said, so that the Entra value is trimmed, not the
    department created again."""
    ends = [end for end, kept in (("starts", name.lstrip()), ("ends", name.rstrip()))
            if kept != name]
    return f"; the name {' and '.join(ends)} with a space" if ends else ""

