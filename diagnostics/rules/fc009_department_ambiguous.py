"""A department name exists in several countries and no country attribute decides.

What it detects:
    Department failures (400/404/422 or no HTTP status, text mentions the department or
    quotes the value sent) that say the name is ambiguous, matches several departments, or
    ask for a country; also a 409 that says so ("Duplicate department name") and not that
    the user exists, which FC007 then leaves alone; reports whether the requests carried a
    country attribute.
Why provisioning fails:
    Flowcase department names are unique per country only. With duplicate names across
    countries, the department alone cannot be resolved and the user is refused.
Evidence:
    "ambiguous", "multiple departments match", "found 2 departments", "specify a country",
    "Duplicate department name";
    no ``countryCode``/``countryName`` among the attributes sent.
Fix:
    Map one country attribute (step 7a): ``country`` -> ``urn:...:flowcase:2.0:User:countryCode``
    (ISO 3166) or ``...:countryName`` — never both.
Known false positives:
    An app that words "department not found" as "no unique department" would be reported here;
    the fix named (add a country) is then still the first thing to check. A request that sent
    both country attributes and is refused in words about the country ("cannot determine the
    office: both country code and country name were given") is FC010's, not an ambiguity.
"""

from __future__ import annotations

from diagnostics.facts.departments import country_sent, department_failures, grouped, is_ambiguous
from diagnostics.rulekit import Context, Hit, describe, ids

ID = "FC009"
TITLE = "Department name is ambiguous across countries and no country attribute is mapped"
SEVERITY = "high"
GUIDE_STEPS = ("1", "7a")
PATTERNS = (9,)
REMEDIATION = (
    '"If you have duplicate department names across countries, you must also map a country '
    'attribute (countryCode OR countryName, but never both)" (guide steps 1 and 7a): add a '
    "Direct mapping from country to urn:...:flowcase:2.0:User:countryCode (ISO 3166 code) or "
    "to ...:countryName, save, and restart provisioning."
)


def evaluate(ctx: Context) -> list[Hit]:
    failures = department_failures(ctx).filter(is_ambiguous())
    if failures.height == 0:
        return []
    with_country = country_sent(ctx, failures["event_id"])
    country_note = (
        "no country attribute was sent"
        if with_country.height == 0
        else "even though a country attribute was sent for some of them"
    )
    said = grouped(failures, "Department names exist in several countries:", "ambiguous department")
    message = f"{said}; {describe(failures)} failed and {country_note}."
    departments = sorted(failures["department"].drop_nulls().unique().to_list())
    details = {"departments": departments, "country_sent": with_country.height > 0}
    return [Hit(ids(failures), message, details=details)]
