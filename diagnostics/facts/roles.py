"""Flowcase role values: parse what Entra sent as ``roles`` and say what is wrong with a value.

Entra's ``AppRoleAssignmentsComplex`` sends a JSON list such as
``[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","value":"Consultant"}]``; exports and
tickets also show plain values, comma-separated lists or one JSON object, so parsing is
tolerant. Valid values (guide step 4, case-sensitive) are the six simple roles and three
``departmentmanager:`` forms.
"""

from __future__ import annotations

import json
import re
from typing import Any

import polars as pl

from diagnostics.facts.departments import department_failures
from diagnostics.facts.vocabulary import ROLE
from diagnostics.rulekit import NAMED, Context, http_in, is_transient, mentions, no_http_status

SIMPLE_ROLES = frozenset(
    {
        "external",
        "limited_access",
        "consultant",
        "internationalmanager",
        "referencemanager",
        "countrymanager",
    }
)
DEPARTMENT_MANAGER = "departmentmanager"

# ISO 3166-1 alpha-2 (the guide's "ISO 3166-2 country code" examples are alpha-2: NO).
_ISO_3166_ALPHA2 = (
    "AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN "
    "BO BQ BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ "
    "DE DJ DK DM DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL "
    "GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM "
    "JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME "
    "MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP "
    "NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD "
    "SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO "
    "TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM ZW"
)
COUNTRY_CODES = frozenset(_ISO_3166_ALPHA2.split())

_VALUE = re.compile(r'"value"\s*:\s*"((?:[^"\\]|\\.)*)"', re.IGNORECASE)


def _values(item: Any) -> list[str]:
    if isinstance(item, str):
        return [item]
    if isinstance(item, dict):
        for key in ("value", "Value", "roleValue", "displayName"):
            if isinstance(item.get(key), str):
                return [item[key]]
        return []
    if isinstance(item, list):
        return [v for sub in item for v in _values(sub)]
    return []


def parse_roles(raw: str | None) -> list[str]:
    """Role values in a sent ``roles`` attribute, whatever shape it was logged in."""
    if raw is None or not raw.strip():
        return []
    text = raw.strip()
    try:
        values = _values(json.loads(text))
    except ValueError:
        found = _VALUE.findall(text)
        values = found if found else re.split(r"[,;]", text.strip("[]"))
    cleaned = (v.strip().strip("'\"").strip() for v in values)
    return [v for v in cleaned if v]


_FORMS = (
    "departmentmanager:office:<CC>:<name>, departmentmanager:dept:<CC>:<NameWithoutSpaces> or "
    "departmentmanager:custom_tag:<category>:<tag>"
)


def is_department_manager(role: str) -> bool:
    return role.lower().startswith(DEPARTMENT_MANAGER)


def department_manager_role() -> pl.Expr:
    """The ``role`` column holds a departmentmanager value (any case)."""
    return pl.col("role").str.to_lowercase().str.starts_with(DEPARTMENT_MANAGER)


def _department_manager_problem(role: str) -> str | None:
    parts = role.split(":")
    if parts[0].lower() != DEPARTMENT_MANAGER:
        return f"'{DEPARTMENT_MANAGER}' must be followed by ':' and the department: {_FORMS}"
    if parts[0] != DEPARTMENT_MANAGER:
        return f"starts with '{parts[0]}'; values are case-sensitive: '{DEPARTMENT_MANAGER}'"
    if not ":".join(parts[1:]).strip():  # a bare 'departmentmanager' manages nothing
        return f"names no department or custom tag: {_FORMS}"
    if len(parts) == 2:
        return (
            "old form departmentmanager:<Name>; use departmentmanager:office:<CC>:<name> or "
            "departmentmanager:dept:<CC>:<NameWithoutSpaces>"
        )
    form = parts[1]
    if form == "custom_tag":
        if len(parts) == 4 and all(p and not re.search(r"\s", p) for p in parts[2:]):
            return None
        return "custom-tag form is departmentmanager:custom_tag:<category>:<tag>"
    if form not in ("office", "dept"):
        return f"unknown form '{form}'; use office, dept or custom_tag"
    if len(parts) < 4 or not ":".join(parts[3:]).strip():
        return f"missing the country code or department: departmentmanager:{form}:<CC>:<name>"
    country, name = parts[2], ":".join(parts[3:])
    if country not in COUNTRY_CODES:
        if country.upper() in COUNTRY_CODES:
            return f"country code '{country}' must be upper case ('{country.upper()}')"
        return f"'{country}' is not an ISO 3166 country code"
    if re.search(r"\s", name):
        stripped = re.sub(r"\s", "", name)
        return (
            f"department name '{name}' has spaces, which Entra cannot push; use "
            f"departmentmanager:dept:{country}:{stripped}"
        )
    return None


def role_problem(role: str) -> str | None:
    """None for a valid Flowcase role value, else what is wrong with it."""
    if role in SIMPLE_ROLES:
        return None
    if is_department_manager(role):
        return _department_manager_problem(role)
    if role.lower() in SIMPLE_ROLES:
        return f"wrong case; role values are case-sensitive: '{role.lower()}'"
    return "not a Flowcase role"


def sent_roles(ctx: Context) -> pl.DataFrame:
    """One row per (event, role value) sent in a ``roles`` attribute, with its problem."""
    return ctx.memo("sent_roles", lambda: _sent_roles(ctx))


def _sent_roles(ctx: Context) -> pl.DataFrame:
    sent = ctx.sent_where(r"^roles", where=pl.col("value").is_not_null())
    raw = sent["value"].unique(maintain_order=True).to_list()
    parsed = pl.DataFrame(
        {"value": raw, "role": [parse_roles(v) for v in raw]},
        schema={"value": pl.Utf8, "role": pl.List(pl.Utf8)},
    ).explode("role")
    problems = parsed["role"].drop_nulls().unique(maintain_order=True).to_list()
    verdicts = pl.DataFrame(
        {"role": problems, "problem": [role_problem(r) for r in problems]},
        schema={"role": pl.Utf8, "problem": pl.Utf8},
    )
    return (
        # joins keep the sent order, so messages list roles the same way on every run
        sent.join(parsed, on="value", maintain_order="left")
        .filter(pl.col("role").is_not_null())
        .join(verdicts, on="role", how="left", maintain_order="left")
        .select("event_id", "person", "status", "action", "activity_time", "role", "problem")
        .unique(["event_id", "role"], maintain_order=True)
    )


SIMPLE_FORM = "simple"
MANAGER_FORM = DEPARTMENT_MANAGER


def invalid_roles(ctx: Context) -> pl.DataFrame:
    """Sent role values with a problem, and whether they are a departmentmanager form."""
    return ctx.memo("invalid_roles", lambda: _invalid_roles(ctx))


def _invalid_roles(ctx: Context) -> pl.DataFrame:
    return (
        sent_roles(ctx)
        .filter(pl.col("problem").is_not_null())
        .with_columns(
            pl.when(department_manager_role())
            .then(pl.lit(MANAGER_FORM))
            .otherwise(pl.lit(SIMPLE_FORM))
            .alias("form")
        )
    )


def role_failures(ctx: Context) -> pl.DataFrame:
    """Client-error failures about roles, each given to one form (``form`` column): the form
    of the invalid value the request sent, else of any departmentmanager value it sent, else
    what the text names (a concrete ``departmentmanager:<x>`` value), else the simple roles."""
    return ctx.memo("role_failures", lambda: _role_failures(ctx))


def _role_failures(ctx: Context) -> pl.DataFrame:
    sent = sent_roles(ctx)
    invalid = invalid_roles(ctx)
    simple_bad = invalid.filter(pl.col("form") == SIMPLE_FORM)["event_id"].implode()
    manager_sent = sent.filter(department_manager_role())["event_id"].implode()
    text_names_manager = mentions(r"departmentmanager:\w|invalid departmentmanager")
    # a department failure of a request that sent no roles is the department's, whatever else
    # its text says ("Departments and roles must exist before provisioning")
    department_only = department_failures(ctx).filter(
        ~pl.col("event_id").is_in(sent["event_id"].implode()))["event_id"].implode()
    return ctx.failures.filter(
        (http_in(400, 422) | (no_http_status() & ~is_transient()))
        & (mentions(ROLE) | mentions(DEPARTMENT_MANAGER))
        & ~pl.col("event_id").is_in(department_only)
    ).with_columns(
        pl.when(pl.col("event_id").is_in(simple_bad))
        .then(pl.lit(SIMPLE_FORM))
        .when(pl.col("event_id").is_in(manager_sent) | text_names_manager)
        .then(pl.lit(MANAGER_FORM))
        .otherwise(pl.lit(SIMPLE_FORM))
        .alias("form")
    )


def role_evidence(ctx: Context, form: str) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """For one form (simple roles or departmentmanager): the invalid values sent, the role
    failures, and every event either explains."""
    invalid = invalid_roles(ctx).filter(pl.col("form") == form)
    failures = role_failures(ctx).filter(pl.col("form") == form)
    events = ctx.events_where(
        pl.col("event_id").is_in(invalid["event_id"].implode())
        | pl.col("event_id").is_in(failures["event_id"].implode()),
        NAMED,
    )
    return invalid, failures, events
