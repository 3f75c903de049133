#!/usr/bin/env python3
"""Generate deterministic Microsoft Entra ID provisioning-log samples for loganalyzer.

Run ``python sample_logs/generate.py`` from anywhere: every generated file under
``sample_logs/`` is rewritten (README.md and this script are left alone). Two runs give
byte-identical output: every random choice comes from a ``random.Random`` seeded with a
CRC32 of the scenario name, every date is fixed, and gzip/zip members carry fixed timestamps.

Why synthetic data: real provisioning logs hold personal data and cannot be committed. The
record shapes follow ``../shared/reference/provisioning-log-formats.md`` (real wire captures
and Microsoft docs), the failure evidence follows ``../shared/reference/failure-catalog.md``.
Flowcase's own error bodies are not published, so each failure draws on several plausible
bodies (SCIM error JSON with number or string ``status``, optional ``scimType``, plain text,
empty) so that rules written against these files key on status, attributes and keywords
rather than on one sentence.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import random
import shutil
import urllib.parse
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

OUT = Path(__file__).resolve().parent

# --------------------------------------------------------------------------------------------
# Fixed identities of the fictitious Northwind tenant and its Flowcase enterprise application
# --------------------------------------------------------------------------------------------

TENANT_ID = "b3e1a7c4-5d92-4f6e-8a10-2c9d7e4f6b58"
JOB_ID = f"scim.{TENANT_ID.replace('-', '')}.4c7e2a91-0b3d-4e58-a6f2-9d1c8b7e5a30"
SERVICE_PRINCIPAL_ID = "e2c4a6f8-1b3d-4c5e-9f7a-0d2b4c6e8f10"
APPLICATION_ID = "7a9c1e3f-5b7d-4f9a-8c2e-4a6c8e0f2b47"
SOURCE_SYSTEM_ID = "05040880-a6d8-4899-bed4-b8056957edd0"
TARGET_SYSTEM_ID = "9d7b5f31-2e4c-4a68-b0d2-6f8a1c3e5b79"
LA_WORKSPACE_ID = "5f0e2d4c-6b8a-4c1e-9d3f-7a5b3c1e9f02"
APP_NAME = "Flowcase SCIM"
SOURCE_NAME = "Microsoft Entra ID"
TARGET_NAME = "customappsso"
FLOWCASE_URL = "https://northwind.flowcase.com/api/scim/v2"

ENTERPRISE = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
# The guide abbreviates Flowcase's extension as "urn:...:flowcase:2.0:User"; the full form
# below follows the enterprise-extension naming pattern (an assumption, see README.md).
FLOWCASE_EXT = "urn:ietf:params:scim:schemas:extension:flowcase:2.0:User"
DEPARTMENT = f"{ENTERPRISE}:department"
MANAGER = f"{ENTERPRISE}:manager"
COUNTRY_CODE = f"{FLOWCASE_EXT}:countryCode"
COUNTRY_NAME = f"{FLOWCASE_EXT}:countryName"
WORK_EMAIL = 'emails[type eq "work"].value'
HOME_CITY = 'addresses[type eq "home"].locality'
WORK_PHONE = 'phoneNumbers[type eq "work"].value'
USER_TARGET_TYPE = ENTERPRISE
GROUP_TARGET_TYPE = "urn:ietf:params:scim:schemas:core:2.0:Group"
SCIM_ERROR = "urn:ietf:params:scim:api:messages:2.0:Error"

HTTP_MESSAGE = (
    "Message: Processing of the HTTP request resulted in an exception. Please see the HTTP "
    "response returned by the 'Response' property of this exception for details."
)
NOT_ENTITLED_TEXT = (
    "The {kind} '{who}' will be skipped due to the following reasons: 1) This object is not "
    "assigned to the application. If you did not expect the object to be skipped, assign the "
    "object to the application or change your scoping filter to allow all users and groups to "
    "be in scope for provisioning. 2) This object does not have required entitlement for "
    "provisioning. If you did not expect the object to be skipped, update provisioning scope to "
    "'Sync all users and groups' or assign the object to the application with entitlement of "
    "provisioning category"
)
REDUNDANT_TEXT = (
    "The state of the entry in both the source and target systems already match. No change to "
    "the {kind} '{who}' currently needs to be made."
)

# Escrow back-off: the first retry comes with the next cycle, later ones after 6 h, 12 h, 24 h.
BACKOFF = [timedelta(minutes=30), timedelta(hours=6), timedelta(hours=12), timedelta(hours=24)]

# --------------------------------------------------------------------------------------------
# Randomness and time formatting
# --------------------------------------------------------------------------------------------


class Gen(random.Random):
    """Seeded random source; one per scenario so that editing one scenario leaves the others."""

    def __init__(self, label: str) -> None:
        super().__init__(zlib.crc32(label.encode()))

    def guid(self) -> str:
        """A version-4 GUID (changeId, cycleId, object ids)."""
        return str(uuid.UUID(int=self.getrandbits(128), version=4))

    def loose_guid(self) -> str:
        """GUID-shaped hex without version bits: provisioning event ids look like this."""
        h = f"{self.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def flowcase_id(self) -> str:
        """Flowcase (ex CV Partner) object ids are 24 hex characters."""
        return f"{self.getrandbits(96):024x}"

    def chance(self, p: float) -> bool:
        return self.random() < p


def at(text: str) -> datetime:
    """A fixed UTC instant from an ISO string without zone."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def iso_z(dt: datetime) -> str:
    """Graph style: whole seconds, ``Z``."""
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def iso7(dt: datetime) -> str:
    """Diagnostic-settings style: 7 fractional digits (the 7th derived, Python has 6)."""
    seventh = (dt.microsecond // 7 + dt.second) % 10 if dt.microsecond else 0
    return f"{dt:%Y-%m-%dT%H:%M:%S}.{dt.microsecond:06d}{seventh}Z"


def _h12(dt: datetime) -> tuple[int, str]:
    return (dt.hour % 12 or 12), ("AM" if dt.hour < 12 else "PM")


def us_time(dt: datetime) -> str:
    """``3/24/2026 7:17:42 AM`` as in EntryEscrowRetry ``NextAttempt``."""
    hour, half = _h12(dt)
    return f"{dt.month}/{dt.day}/{dt.year} {hour}:{dt:%M:%S} {half}"


def la_time(dt: datetime) -> str:
    """``3/24/2026, 7:17:42.123 AM`` as Log Analytics' Export to CSV writes it (en-US)."""
    hour, half = _h12(dt)
    return f"{dt.month}/{dt.day}/{dt.year}, {hour}:{dt:%M:%S}.{dt.microsecond // 1000:03d} {half}"


# --------------------------------------------------------------------------------------------
# The Northwind directory: realistic Nordic people, departments and roles
# --------------------------------------------------------------------------------------------

NAMES = {
    "NO": [
        ("Anna", "Berg"), ("Lars", "Hansen"), ("Ingrid", "Holm"), ("Ole", "Johansen"),
        ("Kari", "Nilsen"), ("Erik", "Dahl"), ("Silje", "Bakken"), ("Jonas", "Lie"),
        ("Marte", "Solberg"), ("Henrik", "Lie"), ("Nora", "Strand"), ("Per", "Olsen"),
        ("Sofie", "Moen"), ("Thomas", "Haugen"), ("Ida", "Eriksen"), ("Magnus", "Berntsen"),
        ("Hanne", "Røed"), ("Jørgen", "Sæther"), ("Åse", "Fjeld"), ("Knut", "Ødegård"),
        ("Eirik", "Kvåle"), ("Tuva", "Aas"), ("Sander", "Myhre"), ("Live", "Tangen"),
        ("Håkon", "Vik"), ("Maren", "Lunde"), ("Vegard", "Rønning"), ("Julie", "Brekke"),
        ("Andreas", "Moe"), ("Ragnhild", "Sunde"),
    ],
    "SE": [
        ("Emma", "Lindqvist"), ("Oskar", "Nyström"), ("Maja", "Sjöberg"), ("Elias", "Åkesson"),
        ("Linnea", "Björk"), ("Viktor", "Holmberg"), ("Elsa", "Engström"), ("Axel", "Lundgren"),
        ("Ebba", "Wallin"), ("Hugo", "Ekström"), ("Klara", "Sundberg"), ("Filip", "Öberg"),
        ("Alva", "Nordin"), ("Ludvig", "Forsberg"), ("Wilma", "Hedlund"), ("Isak", "Berglund"),
        ("Saga", "Lindholm"), ("Gustav", "Blom"),
    ],
    "DK": [
        ("Mette", "Kjær"), ("Rasmus", "Nørgaard"), ("Freja", "Andersen"), ("Mads", "Østergaard"),
        ("Line", "Skov"), ("Jakob", "Møller"), ("Anders", "Bech"), ("Camilla", "Dam"),
        ("Niels", "Juhl"), ("Ida", "Vestergaard"), ("Frederik", "Lund"), ("Signe", "Holst"),
        ("Emil", "Kragh"), ("Astrid", "Bruun"), ("Kasper", "Lauridsen"), ("Laura", "Friis"),
    ],
}
DOMAINS = {"NO": "northwind.no", "SE": "northwind.se", "DK": "northwind.dk"}
COUNTRY_NAMES = {"NO": "Norway", "SE": "Sweden", "DK": "Denmark"}
CITIES = {
    "NO": ["Oslo", "Bergen", "Trondheim", "Stavanger"],
    "SE": ["Stockholm", "Göteborg", "Malmö"],
    "DK": ["København", "Aarhus", "Odense"],
}
# Departments that exist in Flowcase. "Consulting", "Software Engineering" and "Sales" exist
# in more than one country, which is why the healthy mapping sends countryCode (guide step 1).
DEPARTMENTS = {
    "NO": ["Software Engineering", "Consulting", "Data & Analytics", "Finance", "People & Culture"],
    "SE": ["Software Engineering", "Consulting", "Sales"],
    "DK": ["Consulting", "Design", "Sales"],
}
TITLES = {
    "Software Engineering": ["Software Engineer", "Senior Developer", "Tech Lead", "Architect"],
    "Consulting": ["Consultant", "Senior Consultant", "Principal Consultant", "Manager"],
    "Data & Analytics": ["Data Engineer", "Data Scientist", "Analytics Lead"],
    "Finance": ["Controller", "Financial Analyst"],
    "People & Culture": ["HR Business Partner", "Talent Acquisition Partner"],
    "Sales": ["Account Manager", "Sales Director", "Bid Manager"],
    "Design": ["Service Designer", "UX Designer"],
}
ROLE_DISPLAY = {
    "consultant": "Consultant",
    "referencemanager": "Reference Manager",
    "countrymanager": "Country Manager",
    "internationalmanager": "International Manager",
    "limited_access": "Limited Access",
    "external": "External",
}
FOLD = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "ö": "o", "ä": "a", "é": "e", "ü": "u"})


def fold(name: str) -> str:
    """ASCII-fold a Nordic name for the UPN local part (Jørgen Sæther -> jorgen.saether)."""
    return name.lower().translate(FOLD)


@dataclass(frozen=True)
class Person:
    """One Entra user as the provisioning service sees it, plus their Flowcase id."""

    key: str
    given: str
    surname: str
    country: str
    object_id: str
    upn: str
    mail: str | None
    employee_id: str
    department: str
    title: str
    city: str
    phone: str
    roles: tuple[str, ...]
    flowcase_id: str
    manager: str | None = None

    @property
    def display(self) -> str:
        return f"{self.given} {self.surname}"

    @property
    def identity(self) -> str:
        """The id the manifest uses: the lower-cased UPN."""
        return self.upn.lower()


@dataclass(frozen=True)
class Group:
    """An Entra group that the (wrongly enabled) group mapping tries to provision."""

    name: str
    object_id: str
    assigned: bool = True

    @property
    def identity(self) -> str:
        return self.name


def _phone(rng: Gen, country: str) -> str:
    d = [rng.randint(0, 9) for _ in range(8)]
    if country == "NO":
        return f"+47 9{d[0]}{d[1]} {d[2]}{d[3]} {d[4]}{d[5]}{d[6]}"
    if country == "SE":
        return f"+46 70 {d[0]}{d[1]}{d[2]} {d[3]}{d[4]} {d[5]}{d[6]}"
    return f"+45 {d[0]}{d[1]} {d[2]}{d[3]} {d[4]}{d[5]} {d[6]}{d[7]}"


def _roles(rng: Gen, country: str, department: str) -> tuple[str, ...]:
    """Mostly consultants; a few managers, externals and department managers."""
    roll = rng.random()
    if roll < 0.66:
        return ("consultant",)
    if roll < 0.76:
        return ("consultant", "referencemanager")
    if roll < 0.82:
        return ("countrymanager",)
    if roll < 0.87:
        return ("limited_access",)
    if roll < 0.91:
        return ("external",)
    if "&" in department:
        return ("consultant", "referencemanager")
    return ("consultant", f"departmentmanager:dept:{country}:{department.replace(' ', '')}")


def build_directory() -> dict[str, Person]:
    """The fixed population every scenario draws from (same people, same ids everywhere)."""
    rng = Gen("northwind-directory")
    people: dict[str, Person] = {}
    serial = 104120
    for country, names in NAMES.items():
        heads: dict[str, str] = {}
        for given, surname in names:
            key = f"{fold(given)}.{fold(surname)}"
            department = rng.choice(DEPARTMENTS[country])
            serial += rng.randint(3, 57)
            head = heads.setdefault(department, key)
            people[key] = Person(
                key=key,
                given=given,
                surname=surname,
                country=country,
                object_id=rng.guid(),
                upn=f"{key}@{DOMAINS[country]}",
                mail=f"{key}@{DOMAINS[country]}",
                employee_id=str(serial),
                department=department,
                title=rng.choice(TITLES[department]),
                city=rng.choice(CITIES[country]),
                phone=_phone(rng, country),
                roles=_roles(rng, country, department),
                flowcase_id=rng.flowcase_id(),
                manager=None if head == key else head,
            )
    return people


P = build_directory()


def cased(p: Person, style: str) -> Person:
    """The same person with a mixed-case UPN and mail, as Entra stores them for some tenants."""
    local, domain = p.upn.split("@")
    parts = local.split(".")
    if style == "title":
        local = ".".join(x.capitalize() for x in parts)
    elif style == "title-domain":
        local = ".".join(x.capitalize() for x in parts)
        domain = domain.capitalize()
    elif style == "upper":
        local = local.upper()
    elif style == "first":
        local = parts[0].capitalize() + "." + ".".join(parts[1:])
    return replace(p, upn=f"{local}@{domain}", mail=f"{local}@{domain}")


def role_display(role: str) -> str:
    if role in ROLE_DISPLAY:
        return ROLE_DISPLAY[role]
    if role.startswith("departmentmanager"):
        return "Department Manager " + role.split(":")[-1]
    return role


# --------------------------------------------------------------------------------------------
# Mapping configuration and failures
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mapping:
    """The admin's attribute-mapping choices that decide what Entra exports."""

    lower: bool = True  # ToLower() on userName and the work email (guide 7a)
    roles: bool = True  # roles reach Flowcase (needs ?aadOptscim062020 + AppRoleAssignmentsComplex)
    country_code: bool = True
    country_name: bool = False
    manager: bool = False


@dataclass(frozen=True)
class Failure:
    """What went wrong for one request. ``status`` None means the reason is not HTTP-wrapped."""

    code: str
    status: str | None
    body: str
    step: str = "export"


@dataclass
class Escrow:
    """Entra's retry bookkeeping for one object (EntryEscrowRetry step details)."""

    created: datetime
    retries: int
    next_attempt: datetime
    modification: str


def scim_body(rng: Gen, detail: str, status: int, scim_type: str | None = None) -> str:
    """A SCIM error response; key order, number-vs-string status and spacing vary by call."""
    fields: list[tuple[str, object]] = [
        ("schemas", [SCIM_ERROR]),
        ("detail", detail),
        ("status", str(status) if rng.chance(0.4) else status),
    ]
    if scim_type:
        fields.append(("scimType", scim_type))
    if rng.chance(0.3):
        fields = [fields[0], *fields[2:], fields[1]]
    separators = (",", ":") if rng.chance(0.75) else (", ", ": ")
    return json.dumps(dict(fields), separators=separators, ensure_ascii=False)


def _one_of(rng: Gen, options: list[Callable[[], Failure]]) -> Failure:
    return rng.choice(options)()


INCOMPATIBLE = "SystemForCrossDomainIdentityManagementServiceIncompatible"


def fail_department(rng: Gen, department: str) -> Failure:
    """Pattern 8: Flowcase refuses a department it does not know (400/404/422)."""
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Department '{department}' does not exist", 400, "invalidValue")),
        lambda: Failure(INCOMPATIBLE, "BadRequest",
                        f"Value not supported for attribute department: {department}"),
        lambda: Failure(INCOMPATIBLE, "NotFound", scim_body(
            rng, f'No department named "{department}" was found in Flowcase', 404)),
        lambda: Failure("UnprocessableEntity", "UnprocessableEntity", scim_body(
            rng, f"Unknown department: {department}. Departments must be created in Flowcase "
                 "before users can be added to them.", 422, "invalidValue")),
    ])


def fail_ambiguous_department(rng: Gen, department: str, countries: list[str]) -> Failure:
    """Pattern 9: the department name exists in several countries and no country was sent."""
    where = ", ".join(countries)
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Department '{department}' is ambiguous: it exists in {where}. Send countryCode "
                 "or countryName to select one.", 400, "invalidValue")),
        lambda: Failure(INCOMPATIBLE, "BadRequest",
                        f"Multiple departments match '{department}' ({where}); specify a country"),
        lambda: Failure("UnprocessableEntity", "UnprocessableEntity", scim_body(
            rng, f"Found {len(countries)} departments named \"{department}\"; cannot determine "
                 "which one to use", 422)),
    ])


def fail_both_countries(rng: Gen) -> Failure:
    """Pattern 10: countryCode and countryName both sent."""
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, "countryCode and countryName are mutually exclusive", 400, "invalidValue")),
        lambda: Failure(INCOMPATIBLE, "BadRequest",
                        "Bad Request: only one of 'countryCode' and 'countryName' may be provided"),
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Invalid request: both {COUNTRY_CODE} and {COUNTRY_NAME} were set", 400)),
    ])


def fail_role(rng: Gen, role: str) -> Failure:
    """Pattern 11: Flowcase does not know the app role value (case-sensitive)."""
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Invalid role '{role}'. Valid roles are: external, limited_access, consultant, "
                 "internationalmanager, referencemanager, countrymanager, departmentmanager:...",
            400, "invalidValue")),
        lambda: Failure(INCOMPATIBLE, "BadRequest", f"Unknown role: {role}"),
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"roles[0].value: '{role}' is not a supported role", 400)),
    ])


def fail_departmentmanager(rng: Gen, role: str) -> Failure:
    """Pattern 12: a departmentmanager role in an unusable format."""
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Invalid departmentmanager role '{role}'. Expected departmentmanager:office:"
                 "<country-code>:<department> or departmentmanager:dept:<country-code>:"
                 "<department-without-spaces>", 400, "invalidValue")),
        lambda: Failure(INCOMPATIBLE, "BadRequest", f"Invalid role value: {role}"),
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Could not resolve role {role}", 400, "invalidValue")),
    ])


def fail_manager(rng: Gen) -> Failure:
    """Pattern 2: Flowcase rejects the enterprise manager attribute."""
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, "Attribute 'manager' is not supported", 400, "invalidPath")),
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Unsupported PATCH path: {MANAGER}", 400, "invalidPath")),
        lambda: Failure(INCOMPATIBLE, "BadRequest",
                        "manager: value must be an object with a 'value' property"),
    ])


def fail_string_boolean(rng: Gen, value: str) -> Failure:
    """Pattern 3: without ?aadOptscim062020 Entra PATCHes active as a string."""
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Invalid value for attribute 'active': expected a boolean but got the string "
                 f"\"{value}\"", 400, "invalidValue")),
        lambda: Failure(INCOMPATIBLE, "BadRequest", "active must be a boolean"),
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, "Unable to parse PATCH operation: value for path 'active' must be of type "
                 "boolean", 400, "invalidSyntax")),
    ])


def fail_unauthorized(rng: Gen) -> Failure:
    """Pattern 4: the secret token is not ``token="KEY"``."""
    code = rng.choice([
        "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
        "SystemForCrossDomainIdentityManagementCredentialValidationFailure",
        "SystemForCrossDomainIdentityManagementInvalidCredentials",
        "SystemForCrossDomainIdentityManagementInvalidCredentials",
        "Unauthorized",
    ])
    body = rng.choice([
        "",
        "Unauthorized",
        scim_body(rng, "Invalid API token", 401),
        '{"error":"unauthorized","message":"Authorization header must be token=\\"<api key>\\""}',
    ])
    return Failure(code, "Unauthorized", body, step=rng.choice(["export", "matching"]))


def fail_forbidden(rng: Gen) -> Failure:
    """Pattern 5: the API key lacks International Manager access."""
    return _one_of(rng, [
        lambda: Failure("InsufficientRights", "Forbidden", scim_body(
            rng, "The API key does not have International Manager access", 403)),
        lambda: Failure("NotPermitted", "Forbidden", "Forbidden"),
        lambda: Failure("InsufficientRights", "Forbidden", scim_body(
            rng, "Insufficient privileges to modify users", 403)),
    ])


def fail_conflict(rng: Gen, value: str) -> Failure:
    """Patterns 6/7: the user already exists in Flowcase."""
    code = rng.choice([
        "SystemForCrossDomainIdentityManagementServiceIncompatibleFiltering",
        "EntryConflict",
        "Conflict",
    ])
    return _one_of(rng, [
        lambda: Failure(code, "Conflict", scim_body(
            rng, f"User with email '{value.lower()}' already exists", 409, "uniqueness")),
        lambda: Failure(code, "Conflict", scim_body(
            rng, "A user with this email address already exists", 409, "uniqueness")),
        lambda: Failure(code, "Conflict", "Conflict: email already in use"),
    ])


def fail_duplicate_target(value: str, count: int) -> Failure:
    """Pattern 7: Entra's matching query returned several Flowcase users."""
    return Failure("DuplicateTargetEntries", None, (
        f"Message: More than one User was found in customappsso matching '{value}' "
        f"({count} entries were returned for the matching attribute "
        f"{WORK_EMAIL}). Remove the duplicate User from customappsso, or change the matching "
        "attributes in the attribute mappings."
    ), step="matching")


def fail_active_value(rng: Gen, value: str) -> Failure:
    """Pattern 14: active is not a boolean."""
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, f"Invalid value '{value}' for attribute 'active'", 400, "invalidValue")),
        lambda: Failure(INCOMPATIBLE, "BadRequest", f"active: '{value}' is not a valid boolean"),
    ])


def fail_inactive_user(rng: Gen) -> Failure:
    """Pattern 14: Flowcase refuses changes to a deactivated user."""
    return Failure(INCOMPATIBLE, "BadRequest", json.dumps(
        {"schemas": [SCIM_ERROR], "status": "409", "detail": "User must be Active."},
        separators=(",", ":")))


def fail_missing_email(rng: Gen) -> Failure:
    """Pattern 15: the required work email never arrived."""
    return _one_of(rng, [
        lambda: Failure(INCOMPATIBLE, "BadRequest", scim_body(
            rng, "Missing required attribute: emails", 400, "invalidValue")),
        lambda: Failure(INCOMPATIBLE, "BadRequest", "emails is required"),
    ])


def fail_mandatory_missing(upn: str) -> Failure:
    """Pattern 15: Entra itself refuses the create because a required value is empty."""
    return Failure("MandatoryFieldsMissing", None, (
        f"Message: The User '{upn}' could not be created in customappsso because the required "
        f"attribute '{WORK_EMAIL}' has no value. Populate the source attribute 'mail' or change "
        "the attribute mapping."
    ))


def fail_transient(rng: Gen, kind: str, fid: str) -> Failure:
    """Pattern 17: throttling, server errors and time-outs."""
    if kind == "429":
        return Failure("TooManyRequests", "TooManyRequests", rng.choice([
            "Rate limit exceeded. Try again in 30 seconds.",
            scim_body(rng, "Too many requests", 429),
        ]))
    if kind == "500":
        return Failure("InternalServerError", "InternalServerError", rng.choice([
            scim_body(rng, "An unexpected error occurred", 500),
            "Internal Server Error",
        ]))
    if kind == "502":
        return Failure("WebExceptionProtocolError", "BadGateway",
                       "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 "
                       "Bad Gateway</h1></center></body></html>")
    if kind == "503":
        return Failure("InternalServerError", "ServiceUnavailable", "Service Unavailable")
    return Failure("Timeout", None, (
        f"Message: The HTTP request to customappsso timed out. Resource: {FLOWCASE_URL}/Users/"
        f"{fid} Operation: PATCH. The operation has timed out."
    ))


def fail_group_404(rng: Gen, group: Group, via: str) -> Failure:
    """Pattern 1: Flowcase has no /Groups endpoint."""
    if via == "matching":
        query = urllib.parse.quote_plus(f'displayName eq "{group.name}"')
        return Failure(INCOMPATIBLE, None, (
            "We received this unexpected response from your application: An HTTP/404 Not Found "
            "response was returned rather than the expected HTTP/200 OK response. Resource: "
            f"{FLOWCASE_URL}/Groups?filter={query} Operation: GET."
        ), step="matching")
    return Failure(INCOMPATIBLE, "NotFound", rng.choice([
        "",
        "Not Found",
        scim_body(rng, "Resource type 'Group' is not supported", 404),
        '{"message":"No route matches POST /api/scim/v2/Groups","status":404}',
    ]))


def failure_reason(f: Failure, retries: int, next_attempt: datetime, *, collapse: bool,
                   zero_word: bool) -> str:
    """The ``errorInformation.reason`` text in Entra's format (formats reference 4.5)."""
    n = "zero" if retries == 0 and zero_word else str(retries)
    tail = (f"This operation was retried {n} times. It will be retried again after this date: "
            f"{iso7(next_attempt)} UTC")
    if f.status is None:
        text = f"{f.body} {tail}"
    else:
        text = f"StatusCode: {f.status}\r\n{HTTP_MESSAGE}\r\nWeb Response: \r\n{f.body}. {tail}"
    return text.replace("\r\n", " ") if collapse else text


# --------------------------------------------------------------------------------------------
# Scenario, cycle and record bookkeeping
# --------------------------------------------------------------------------------------------


@dataclass
class Record:
    """One provisioning event plus what writers and the manifest need beside it."""

    event: dict
    when: datetime
    identity: str
    correlation_id: str


@dataclass
class Finding:
    """Ground truth: one catalog pattern the scenario was built to show."""

    pattern: int
    affected: list[str]
    note: str = ""
    period: str | None = None
    period_only: bool = False  # true of that period's end only, not of the whole file


GUIDE_STEPS = {
    1: ["7b", "1"], 2: ["1", "6"], 3: ["3", "1"], 4: ["3"], 5: ["3"], 6: ["7a", "1"],
    7: ["1", "7a", "8a"], 8: ["1", "7a"], 9: ["1", "7a"], 10: ["7a"], 11: ["4"], 12: ["4"],
    13: ["5", "3"], 14: ["7a", "delete"], 15: ["6"], 16: ["3", "8b"], 17: [],
}


class Scenario:
    """A set of cycles of one job, the events they produced and the designed ground truth."""

    def __init__(self, name: str, summary: str, mapping: Mapping | None = None) -> None:
        self.name = name
        self.summary = summary
        self.rng = Gen(name)
        self.mapping = mapping or Mapping()
        self.records: list[Record] = []
        self.escrow: dict[str, Escrow] = {}
        self.findings: list[Finding] = []
        self.cycles: list[Cycle] = []
        self.periods: list[dict] = []

    def cycle(self, start: datetime, *, initial: bool = False, mapping: Mapping | None = None,
              pace: tuple[float, float] | None = None) -> Cycle:
        cy = Cycle(self, start, initial, mapping or self.mapping,
                   pace or ((8.0, 40.0) if initial else (3.0, 25.0)))
        self.cycles.append(cy)
        return cy

    def expect(self, pattern: int, people: Iterable[Person | Group | str], note: str = "",
               period: str | None = None) -> None:
        names = sorted({x if isinstance(x, str) else x.identity for x in people})
        self.findings.append(Finding(pattern, names, note, period))

    def people(self, n: int, *, exclude: Iterable[str] = (),
               where: Callable[[Person], bool] | None = None) -> list[Person]:
        """A deterministic sample of directory people (sorted pool, scenario rng)."""
        skip = set(exclude)
        pool = [p for k, p in sorted(P.items()) if k not in skip and (where is None or where(p))]
        return self.rng.sample(pool, n)


class Cycle:
    """One provisioning cycle: a shared cycleId and a clock spreading events over the cycle."""

    def __init__(self, sc: Scenario, start: datetime, initial: bool, mapping: Mapping,
                 pace: tuple[float, float]) -> None:
        self.sc = sc
        self.id = sc.rng.guid()
        self.start = start
        self.clock = start
        self.initial = initial
        self.mapping = mapping
        self.pace = pace

    def tick(self) -> datetime:
        lo, hi = self.pace
        self.clock += timedelta(seconds=self.sc.rng.uniform(lo, hi))
        return self.clock

    def run(self, actions: list[Callable[[], object]]) -> None:
        """Run the cycle's events in a shuffled (but seeded) order, as Entra interleaves them."""
        actions = list(actions)
        self.sc.rng.shuffle(actions)
        for action in actions:
            action()


# --------------------------------------------------------------------------------------------
# Step builders (one per step kind in the formats reference step catalog)
# --------------------------------------------------------------------------------------------


def step(name: str, kind: str, status: str, description: str, details: dict | None = None) -> dict:
    return {
        "name": name,
        "provisioningStepType": kind,
        "status": status,
        "description": description,
        "details": details or {},
    }


def flatten(path: str) -> str:
    """Export-step detail keys are attribute paths with ':' and '.' removed."""
    return path.replace(":", "").replace(".", "")


def source_details(p: Person, keys: Iterable[str] | None = None, **overrides: str) -> dict:
    """Entra-side attributes as import steps list them (all values are strings)."""
    full = {
        "objectId": p.object_id,
        "userPrincipalName": p.upn,
        "mail": p.mail,
        "displayName": p.display,
        "givenName": p.given,
        "surname": p.surname,
        "department": p.department,
        "employeeId": p.employee_id,
        "jobTitle": p.title,
        "country": p.country,
        "city": p.city,
        "accountEnabled": "True",
        "IsSoftDeleted": "False",
        "appRoleAssignments": ", ".join(p.roles) if p.roles else None,
        "manager": P[p.manager].object_id if p.manager else None,
    }
    full.update(overrides)
    wanted = list(keys) if keys is not None else [k for k in full if k != "manager"]
    return {k: full[k] for k in wanted if full.get(k) is not None}


def import_step(p: Person, change: str | None, keys: Iterable[str] | None = None,
                **overrides: str) -> dict:
    """Initial cycles read the object (EntryImport); incremental cycles receive a change.

    ``keys`` None lists the full attribute set; otherwise objectId plus the given keys (the
    changed attributes of an incremental change).
    """
    details = source_details(p, None if keys is None else ["objectId", *keys], **overrides)
    if change is None:
        return step("EntryImport", "import", "success",
                    f"Retrieved User '{p.upn}' from {SOURCE_NAME}", details)
    return step(f"EntryImport{change}", "import", "success",
                f"Received User '{p.upn}' change of type ({change}) from {SOURCE_NAME}", details)


def retrieved_step(p: Person, user_name: str | None = None, active: str = "True") -> dict:
    """The matching step that found the Flowcase user (note the double space)."""
    name = user_name or p.identity
    return step("EntryImport", "matching", "success", f"Retrieved  '{name}' from {TARGET_NAME}", {
        "active": active,
        "displayName": p.display,
        flatten(WORK_EMAIL): (p.mail or name).lower() if user_name is None else user_name,
        "externalId": p.employee_id,
        "id": p.flowcase_id,
        "userName": name,
    })


def scoping_step(kind: str = "User", *, assigned: bool = True, active: bool = True) -> dict:
    return step("EntrySynchronizationScoping", "scoping", "success",
                f"Determine if {kind} in scope by evaluating against each scoping filter", {
                    "Active in the source system": str(active),
                    "Assigned to the application": str(assigned),
                    f"{kind} has the required role": str(assigned),
                    "ScopeEvaluationResult": "{}",
                    "Scoping filter evaluation passed": "True",
                })


def will_create_step(kind: str, who: str) -> dict:
    return step("EntrySynchronizationAdd", "matching", "success",
                f"{kind} '{who}' will be created in {TARGET_NAME} ({kind} is active and assigned "
                f"in {SOURCE_NAME}, but no matching {kind} was found in {TARGET_NAME})")


EXPORT_VERBS = {
    "Add": ("EntryExportAdd", "created", "create"),
    "Update": ("EntryExportUpdate", "updated", "update"),
    "SoftDelete": ("EntryExportUpdateSoftDelete", "disabled", "disable"),
    "Delete": ("EntryExportDelete", "deleted", "delete"),
}


def export_step(op: str, kind: str, who: str, attrs: list[tuple[str, str]], failed: bool) -> dict:
    """Export step; details carry ReportableIdentifier and the flattened exported attributes."""
    name, done, verb = EXPORT_VERBS[op]
    details = {"ReportableIdentifier": who, **{flatten(k): v for k, v in attrs}}
    details = dict(sorted(details.items()))
    if failed:
        return step(name, "export", "failure", f"Failed to {verb} {kind} '{who}' in {TARGET_NAME}",
                    details)
    return step(name, "export", "success", f"{kind} '{who}' was {done} in {TARGET_NAME}", details)


def skip_step(kind: str, who: str, reason: str, **extra: str) -> dict:
    """EntrySynchronizationSkip with the real RedundantExport / NotEffectivelyEntitled texts."""
    text = REDUNDANT_TEXT if reason == "RedundantExport" else NOT_ENTITLED_TEXT
    details = {"ReportableIdentifier": who, "SkipReason": reason, **extra}
    return step("EntrySynchronizationSkip", "export", "skipped",
                text.format(kind=kind, who=who), details)


def escrow_step(esc: Escrow, who: str, kind: str, object_id: str) -> dict:
    return step("EntryEscrowRetry", "import", "success",
                f"We are retrying an operation that previously failed.\r\nIdentifier: {who}\r\n"
                f"Object type: {kind}\r\nDirectory: {SOURCE_NAME}", {
                    "CountProcessed": "0",
                    "CreationTime": iso7(esc.created),
                    "Identifier": object_id,
                    "ModificationType": esc.modification,
                    "NextAttempt": us_time(esc.next_attempt),
                    "Origin": "Source",
                    "TypeName": "EscrowedEntryDefault",
                })


# --------------------------------------------------------------------------------------------
# Event assembly
# --------------------------------------------------------------------------------------------


def user_source(p: Person) -> dict:
    return {
        "id": p.object_id,
        "displayName": p.display,
        "identityType": "User",
        "details": {"DisplayName": p.display, "UserPrincipalName": p.upn, "id": p.object_id,
                    "odatatype": "User"},
    }


def group_source(g: Group) -> dict:
    return {
        "id": g.object_id,
        "displayName": g.name,
        "identityType": "Group",
        "details": {"DisplayName": g.name, "id": g.object_id, "odatatype": "Group"},
    }


def target(identity_type: str, target_id: str = "") -> dict:
    return {"id": target_id, "displayName": "", "identityType": identity_type, "details": {}}


ACTION_LABEL = {"create": "Create", "update": "Update", "disable": "Disable", "delete": "Delete",
                "other": "Other", "stagedDelete": "StagedDelete"}


def finish(cy: Cycle, *, action: str, source: dict, target_identity: dict, steps: list[dict],
           modified: list[tuple[str, str | None]], identity: str, who: str, kind: str = "User",
           failure: Failure | None = None, skipped: bool = False, modification: str = "Add",
           slow: bool = False) -> dict:
    """Stamp ids and time, apply escrow retry bookkeeping, build the reason, record the event."""
    sc, rng = cy.sc, cy.sc.rng
    when = cy.tick()
    object_id = source["id"]
    esc = sc.escrow.get(object_id)
    if esc is not None:
        steps.insert(0, escrow_step(esc, who, kind, object_id))
    error = None
    if failure is not None:
        retries = esc.retries if esc else 0
        wait = BACKOFF[min(retries, len(BACKOFF) - 1)]
        next_attempt = when + wait + timedelta(milliseconds=rng.randint(0, 59999))
        error = {
            "errorCode": failure.code,
            "reason": failure_reason(failure, retries, next_attempt, collapse=rng.chance(0.2),
                                     zero_word=rng.chance(0.3)),
            "additionalDetails": None,
            "errorCategory": "nonServiceFailure",
            "recommendedAction": None,
        }
        if esc is None:
            sc.escrow[object_id] = Escrow(when, 1, next_attempt, modification)
        else:
            esc.retries += 1
            esc.next_attempt = next_attempt
        status = "failure"
        duration = rng.randint(100000, 100600) if failure.code == "Timeout" else rng.randint(
            350, 2600)
    else:
        sc.escrow.pop(object_id, None)
        status = "skipped" if skipped else "success"
        duration = rng.randint(120, 1100) if skipped else rng.randint(450, 3400)
    if slow:
        duration += rng.randint(2000, 9000)
    event = {
        "id": rng.loose_guid(),
        "activityDateTime": iso_z(when),
        "tenantId": TENANT_ID,
        "jobId": JOB_ID,
        "cycleId": cy.id,
        "changeId": rng.guid(),
        "provisioningAction": action,
        "action": ACTION_LABEL[action],
        "durationInMilliseconds": duration,
        "provisioningStatusInfo": {"status": status, "errorInformation": error},
        "provisioningSteps": steps,
        "modifiedProperties": [
            {"displayName": k, "oldValue": None, "newValue": v} for k, v in modified
        ],
        "servicePrincipal": {"id": SERVICE_PRINCIPAL_ID, "displayName": APP_NAME},
        "sourceSystem": {"id": SOURCE_SYSTEM_ID, "displayName": SOURCE_NAME, "details": {}},
        "targetSystem": {
            "id": TARGET_SYSTEM_ID,
            "displayName": TARGET_NAME,
            "details": {"ApplicationId": APPLICATION_ID, "ServicePrincipalId": SERVICE_PRINCIPAL_ID,
                        "ServicePrincipalDisplayName": APP_NAME},
        },
        "initiatedBy": {"id": "", "displayName": "Azure AD Provisioning Service",
                        "initiatorType": "system"},
        "sourceIdentity": source,
        "targetIdentity": target_identity,
    }
    sc.records.append(Record(event, when, identity, rng.guid()))
    return event


# --------------------------------------------------------------------------------------------
# User and group event builders
# --------------------------------------------------------------------------------------------


def ident(value: str | None, m: Mapping) -> str | None:
    """userName / work email as exported: ToLower() applied or not (guide 7a)."""
    if value is None:
        return None
    return value.lower() if m.lower else value


def roles_json(roles: Iterable[str]) -> str:
    """AppRoleAssignmentsComplex output: display is the app role name, value the role value."""
    return json.dumps([
        {"primary": False, "type": "WindowsAzureActiveDirectoryRole", "display": role_display(r),
         "value": r} for r in roles
    ], separators=(",", ":"))


def attr_value(p: Person, m: Mapping, path: str) -> str | None:
    values = {
        "userName": ident(p.upn, m),
        "active": "True",
        "displayName": p.display,
        WORK_EMAIL: ident(p.mail, m),
        "externalId": p.employee_id,
        "name.givenName": p.given,
        "name.familyName": p.surname,
        "title": p.title,
        HOME_CITY: p.city,
        WORK_PHONE: p.phone,
        DEPARTMENT: p.department,
        COUNTRY_CODE: p.country,
        COUNTRY_NAME: COUNTRY_NAMES[p.country],
        "roles": roles_json(p.roles) if p.roles else None,
        MANAGER: P[p.manager].flowcase_id if p.manager else None,
    }
    return values[path]


def create_attributes(p: Person, m: Mapping) -> list[tuple[str, str]]:
    """Everything the mapping sends on a create, in mapping order."""
    paths = ["userName", "active", "displayName", WORK_EMAIL, "externalId", "name.givenName",
             "name.familyName", "title", HOME_CITY, WORK_PHONE, DEPARTMENT]
    if m.country_code:
        paths.append(COUNTRY_CODE)
    if m.country_name:
        paths.append(COUNTRY_NAME)
    if m.roles:
        paths.append("roles")
    if m.manager:
        paths.append(MANAGER)
    pairs = [(path, attr_value(p, m, path)) for path in paths]
    return [(k, v) for k, v in pairs if v is not None]


def user_create(cy: Cycle, p: Person, failure: Failure | None = None,
                import_keys: Iterable[str] | None = None) -> dict:
    """Create: no matching Flowcase user, POST /Users."""
    m = cy.mapping
    who = ident(p.upn, m)
    attrs = create_attributes(p, m)
    change = None if cy.initial else "Add"
    steps = [import_step(p, change, import_keys),
             scoping_step(),
             will_create_step("User", who),
             export_step("Add", "User", who, attrs, failure is not None)]
    tid = "" if failure else p.flowcase_id
    return finish(cy, action="create", source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE, tid), steps=steps, modified=attrs,
                  identity=p.identity, who=who, failure=failure)


def user_update(cy: Cycle, p: Person, changes: list[tuple[str, str]],
                failure: Failure | None = None, *, flowcase_name: str | None = None,
                import_keys: Iterable[str] = ("department",), active: str = "True") -> dict:
    """Update of a matched user: PATCH /Users/{id} with the changed attributes only."""
    m = cy.mapping
    who = ident(p.upn, m)
    change = None if cy.initial else "Update"
    steps = [import_step(p, change, None if change is None else list(import_keys)),
             retrieved_step(p, flowcase_name, active),
             scoping_step(),
             export_step("Update", "User", who, changes, failure is not None)]
    return finish(cy, action="update", source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE, p.flowcase_id), steps=steps,
                  modified=changes, identity=p.identity, who=who, failure=failure,
                  modification="Update")


def user_disable(cy: Cycle, p: Person, value: str = "False",
                 failure: Failure | None = None) -> dict:
    """Soft delete in Entra: the isSoftDeleted Switch sends active=<value>."""
    who = ident(p.upn, cy.mapping)
    steps = [import_step(p, "Update", ["accountEnabled", "IsSoftDeleted"], accountEnabled="False",
                         IsSoftDeleted="True"),
             retrieved_step(p),
             scoping_step(active=False),
             export_step("SoftDelete", "User", who, [("active", value)], failure is not None)]
    return finish(cy, action="disable", source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE, p.flowcase_id), steps=steps,
                  modified=[("active", value)], identity=p.identity, who=who, failure=failure,
                  modification="Update")


def user_delete(cy: Cycle, p: Person) -> dict:
    """Hard delete 30 days after the soft delete: DELETE /Users/{id}."""
    who = ident(p.upn, cy.mapping)
    steps = [import_step(p, "Delete", []),
             retrieved_step(p, active="False"),
             export_step("Delete", "User", who, [], False)]
    return finish(cy, action="delete", source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE, p.flowcase_id), steps=steps,
                  modified=[], identity=p.identity, who=who)


def skip_redundant(cy: Cycle, p: Person) -> dict:
    """Nothing to change: the everyday noise of incremental cycles."""
    who = ident(p.upn, cy.mapping)
    change = None if cy.initial else "Update"
    steps = [import_step(p, change, None if change is None else ["jobTitle"]),
             retrieved_step(p),
             scoping_step(),
             skip_step("User", who, "RedundantExport")]
    return finish(cy, action="other", source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE, p.flowcase_id), steps=steps,
                  modified=[], identity=p.identity, who=who, skipped=True)


def skip_unentitled(cy: Cycle, p: Person, *, previously: bool = False) -> dict:
    """Not assigned (or only via a nested group): NotEffectivelyEntitled."""
    who = p.upn
    steps = [import_step(p, None if cy.initial else "Update", ["department"]),
             scoping_step(assigned=False),
             skip_step("User", who, "NotEffectivelyEntitled", IsActive="True",
                       **{"Assigned to the application": "False",
                          "IsInProvisioningScope": "False"})]
    tid = p.flowcase_id if previously else ""
    return finish(cy, action="other", source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE, tid), steps=steps, modified=[],
                  identity=p.identity, who=who, skipped=True)


def import_skipped(cy: Cycle, p: Person, attribute: str = "mail") -> dict:
    """The matching attribute has no value: Entra cannot even evaluate scoping."""
    who = p.upn
    steps = [import_step(p, None if cy.initial else "Add", ["userPrincipalName", "department"]),
             step("EntryImportSkipped", "import", "skipped",
                  f"The User '{who}' was skipped because it has no value for the matching "
                  f"attribute '{attribute}'. Scoping and matching were not evaluated.",
                  {"ReportableIdentifier": who, "SkipReason": "ImportSkipped",
                   "MatchingAttribute": attribute})]
    return finish(cy, action="other", source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE), steps=steps, modified=[],
                  identity=p.identity, who=who, skipped=True)


def matching_failure(cy: Cycle, p: Person, failure: Failure, action: str = "other") -> dict:
    """The GET /Users?filter=... itself failed (401, several matches, ...)."""
    who = ident(p.upn, cy.mapping)
    name = "EntryImportByMatchingProperty" if failure.code == "DuplicateTargetEntries" else (
        "EntryImport")
    steps = [import_step(p, None if cy.initial else "Update", ["department"]),
             scoping_step(),
             step(name, "matching", "failure",
                  f"Failed to retrieve  '{who}' from {TARGET_NAME}", {"ReportableIdentifier": who})]
    return finish(cy, action=action, source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE), steps=steps, modified=[],
                  identity=p.identity, who=who, failure=failure,
                  modification="Add" if action == "create" else "Update")


def manager_update(cy: Cycle, p: Person, failure: Failure | None, *, resolved: bool) -> dict:
    """Reference pass: Entra resolves the manager's Flowcase id and PATCHes it."""
    m = cy.mapping
    who = ident(p.upn, m)
    boss = P[p.manager]
    if resolved:
        ref = step("EntryReferenceResolution", "referenceResolution", "success",
                   f"Resolved reference attribute 'manager' of User '{who}' to "
                   f"'{boss.flowcase_id}' in {TARGET_NAME}",
                   {"ReferenceAttribute": "manager", "ReferencedObjectId": boss.object_id,
                    "ReferencedTargetId": boss.flowcase_id})
    else:
        ref = step("EntryReferenceResolution", "referenceResolution", "warning",
                   f"We were unable to assign {boss.object_id} as the manager of {who}. The "
                   f"referenced User is not provisioned in {TARGET_NAME}.",
                   {"ReferenceAttribute": "manager", "ReferencedObjectId": boss.object_id,
                    "Reason": "UnableToResolveReferenceAttributeValue"})
    value = boss.flowcase_id if resolved else boss.object_id
    changes = [(MANAGER, value)]
    steps = [import_step(p, "Update", ["manager"]), retrieved_step(p), scoping_step(), ref,
             export_step("Update", "User", who, changes, failure is not None)]
    return finish(cy, action="update", source=user_source(p),
                  target_identity=target(USER_TARGET_TYPE, p.flowcase_id), steps=steps,
                  modified=changes, identity=p.identity, who=who, failure=failure,
                  modification="Update")


def group_create(cy: Cycle, g: Group, failure: Failure | None) -> dict:
    """Group mapping still enabled: Entra tries POST /Groups (or its matching GET)."""
    import_ = step("EntryImportAdd", "import", "success",
                   f"Received Group '{g.name}' change of type (Add) from {SOURCE_NAME}",
                   {"objectId": g.object_id, "displayName": g.name,
                    "mailNickname": g.name.replace(" ", "")})
    attrs = [("displayName", g.name), ("externalId", g.object_id)]
    steps = [import_, scoping_step("Group")]
    if failure is not None and failure.step == "matching":
        steps.append(step("EntryImport", "matching", "failure",
                          f"Failed to retrieve  '{g.name}' from {TARGET_NAME}",
                          {"ReportableIdentifier": g.name}))
    else:
        steps += [will_create_step("Group", g.name),
                  export_step("Add", "Group", g.name, attrs, failure is not None)]
    return finish(cy, action="create", source=group_source(g),
                  target_identity=target(GROUP_TARGET_TYPE), steps=steps, modified=attrs,
                  identity=g.identity, who=g.name, kind="Group", failure=failure)


def group_update(cy: Cycle, g: Group, member: Person, failure: Failure) -> dict:
    """A membership change of a group Entra believes it manages; GET /Groups fails with 404."""
    steps = [step("EntryImportUpdate", "import", "success",
                  f"Received Group '{g.object_id}' change of type (Update) from {SOURCE_NAME}",
                  {"objectId": g.object_id, "members": member.object_id}),
             scoping_step("Group"),
             step("EntryImport", "matching", "failure",
                  f"Failed to retrieve  '{g.name}' from {TARGET_NAME}",
                  {"ReportableIdentifier": g.name})]
    return finish(cy, action="update", source=group_source(g),
                  target_identity=target(GROUP_TARGET_TYPE), steps=steps,
                  modified=[("members", member.object_id)], identity=g.identity, who=g.name,
                  kind="Group", failure=failure, modification="Update")


def group_skip(cy: Cycle, g: Group) -> dict:
    """An unassigned group: skipped, yet proof that group provisioning is on."""
    steps = [step("EntryImportUpdate", "import", "success",
                  f"Received Group '{g.object_id}' change of type (Update) from {SOURCE_NAME}",
                  {"objectId": g.object_id}),
             scoping_step("Group", assigned=False),
             skip_step("Group", g.object_id, "NotEffectivelyEntitled", IsActive="True",
                       **{"Assigned to the application": "False"})]
    return finish(cy, action="other", source=group_source(g),
                  target_identity=target(GROUP_TARGET_TYPE), steps=steps, modified=[],
                  identity=g.identity, who=g.object_id, kind="Group", skipped=True)


def title_change(rng: Gen, p: Person) -> tuple[Person, list[tuple[str, str]]]:
    """A harmless HR change used as background activity."""
    titles = [t for t in TITLES.get(p.department, ["Consultant"]) if t != p.title] or [p.title]
    q = replace(p, title=rng.choice(titles))
    return q, [("title", q.title)]


def phone_change(rng: Gen, p: Person) -> tuple[Person, list[tuple[str, str]]]:
    q = replace(p, phone=_phone(rng, p.country))
    return q, [(WORK_PHONE, q.phone)]


def background(cy: Cycle, staff: list[Person], n: int,
               unassigned: Sequence[Person] = ()) -> list[Callable[[], object]]:
    """Typical incremental noise: redundant exports, small updates, unassigned skips."""
    rng = cy.sc.rng
    actions: list[Callable[[], object]] = []
    for p in rng.sample(staff, min(n, len(staff))):
        roll = rng.random()
        if roll < 0.7:
            actions.append(lambda p=p: skip_redundant(cy, p))
        else:
            q, changes = (title_change if roll < 0.85 else phone_change)(rng, p)
            actions.append(lambda q=q, c=changes: user_update(cy, q, c, import_keys=["jobTitle"]))
    if unassigned and rng.chance(0.5):
        u = rng.choice(unassigned)
        actions.append(lambda u=u: skip_unentitled(cy, u))
    return actions


# --------------------------------------------------------------------------------------------
# Scenarios
# --------------------------------------------------------------------------------------------

UNASSIGNED = ["tuva.aas", "sander.myhre", "alva.nordin", "laura.friis", "gustav.blom"]


def unassigned_people() -> list[Person]:
    return [P[k] for k in UNASSIGNED]


def scenario_healthy() -> Scenario:
    """Correct configuration: only skips, updates, one disable and one lower-case create."""
    sc = Scenario("healthy-incremental", "Three incremental cycles of a correctly set-up job.")
    rng = sc.rng
    new_hire = replace(P["live.tangen"], roles=("consultant", "referencemanager"),
                       department="Software Engineering", title="Software Engineer")
    leaver = P["magnus.berntsen"]
    mover = replace(P["klara.sundberg"], department="Consulting", title="Senior Consultant")
    staff = sc.people(30, exclude=[*UNASSIGNED, new_hire.key, leaver.key, mover.key])
    start = at("2026-03-10T09:14:03")
    for i in range(3):
        cy = sc.cycle(start + timedelta(minutes=40 * i, seconds=rng.randint(0, 90)))
        actions = background(cy, staff, 9, unassigned_people())
        actions.append(lambda cy=cy: skip_unentitled(cy, rng.choice(unassigned_people())))
        if i == 0:
            actions.append(lambda cy=cy: user_update(cy, mover, [
                (DEPARTMENT, mover.department), ("title", mover.title)]))
        if i == 1:
            actions.append(lambda cy=cy: user_create(cy, new_hire))
            actions.append(lambda cy=cy: user_disable(cy, leaver))
        cy.run(actions)
    return sc


def scenario_failing_initial() -> Scenario:
    """First (initial) cycle of a job with several setup mistakes at once (6, 7, 8, 11)."""
    sc = Scenario("failing-initial", "Initial cycle of ~60 users: a realistic mix of mistakes.",
                  Mapping(lower=False))
    rng = sc.rng
    upper_ok = [cased(P["anna.berg"], "title"), cased(P["lars.hansen"], "title-domain"),
                cased(P["emma.lindqvist"], "first"), cased(P["mads.ostergaard"], "title")]
    upper_409 = [cased(P["erik.dahl"], "upper"), cased(P["freja.andersen"], "title")]
    preexisting = [P["ole.johansen"], P["linnea.bjork"]]
    dup_target = P["kari.nilsen"]
    twin = P["henrik.lie"]
    twin_admin = replace(P["jonas.lie"], key="adm.henrik.lie", given="Henrik",
                         surname="Lie (admin)", upn="adm.henrik.lie@northwind.no", mail=twin.mail,
                         object_id=rng.guid(), employee_id="A" + twin.employee_id,
                         department=twin.department)
    unknown = [("silje.bakken", "Sales EMEA"), ("oskar.nystrom", "Sales EMEA"),
               ("camilla.dam", "Sales EMEA"), ("viktor.holmberg", "Sales EMEA"),
               ("nora.strand", "Marketing Nordics"), ("jakob.moller", "Marketing Nordics"),
               ("thomas.haugen", "R&D")]
    dept_people = [replace(P[k], department=d) for k, d in unknown]
    bad_roles = [("marte.solberg", ("Consultant",)), ("hugo.ekstrom", ("consultant", "admin")),
                 ("line.skov", ("projectmanager",)), ("ida.eriksen", ("Consultant",)),
                 ("elsa.engstrom", ("international_manager",))]
    role_people = [replace(P[k], roles=r) for k, r in bad_roles]
    special = {p.key for p in [*upper_ok, *upper_409, *preexisting, dup_target, twin,
                               *dept_people, *role_people]} | {"jonas.lie"}
    healthy = sc.people(29, exclude=[*special, *UNASSIGNED])
    matched = healthy[:6]
    redundant = healthy[6:10]
    created = healthy[10:]
    cy = sc.cycle(at("2026-03-24T07:38:12"), initial=True, pace=(14.0, 44.0))
    actions: list[Callable[[], object]] = []
    actions += [lambda p=p: user_create(cy, p) for p in created + upper_ok]
    for p in matched:
        q, changes = title_change(rng, p)
        actions.append(lambda q=q, c=changes: user_update(cy, q, c))
    actions += [lambda p=p: skip_redundant(cy, p) for p in redundant]
    actions += [lambda p=p: user_create(cy, p, fail_conflict(rng, p.mail)) for p in upper_409]
    actions += [lambda p=p: user_create(cy, p, fail_conflict(rng, p.mail)) for p in preexisting]
    actions.append(lambda: matching_failure(cy, dup_target, fail_duplicate_target(
        dup_target.mail, 2)))
    actions.append(lambda: user_create(cy, twin))
    actions += [lambda p=p: user_create(cy, p, fail_department(rng, p.department))
                for p in dept_people]
    actions += [lambda p=p: user_create(cy, p, fail_role(rng, p.roles[-1])) for p in role_people]
    actions += [lambda p=p: skip_unentitled(cy, p) for p in unassigned_people()]
    cy.run(actions)
    # The admin account shares Henrik's mailbox: processed last, after Henrik was created.
    user_create(cy, twin_admin, fail_conflict(rng, twin_admin.mail))
    sc.expect(6, upper_ok + upper_409, "userName/emails exported with upper-case letters (no "
              "ToLower); two of them then hit a 409 against the existing lower-case user")
    sc.expect(7, [*upper_409, *preexisting, dup_target, twin_admin],
              "409 after 'no matching User was found'; one DuplicateTargetEntries; an admin "
              "account exporting the same mail as Henrik Lie")
    sc.expect(8, dept_people, "'Sales EMEA' (4), 'Marketing Nordics' (2), 'R&D' (1)")
    sc.expect(11, role_people, "role values Consultant, admin, projectmanager, "
              "international_manager")
    return sc


def scenario_group_404_halt() -> Scenario:
    """Group mapping on: 404s on /Groups halt the cycle; escrow retries over three cycles."""
    sc = Scenario("group-404-halt", "Group provisioning left on; 404s halt the cycles.")
    rng = sc.rng
    groups = [Group("Flowcase Users NO", rng.guid()), Group("Flowcase Users SE", rng.guid()),
              Group("Flowcase Consultants DK", rng.guid()), Group("Flowcase Managers", rng.guid())]
    unassigned = [Group("All Employees Nordics", rng.guid(), False),
                  Group("Oslo Office", rng.guid(), False)]
    staff = sc.people(40, exclude=UNASSIGNED)
    c1 = sc.cycle(at("2026-03-17T09:02:41"), initial=True)
    first = [lambda p=p: user_create(c1, p) for p in staff[:18]]
    first += [lambda p=p: skip_unentitled(c1, p) for p in unassigned_people()[:2]]
    first.append(lambda: group_skip(c1, unassigned[0]))
    c1.run(first)
    # The same request fails the same way every cycle: one failure per group.
    fails = [fail_group_404(rng, g, "matching" if i == 1 else "export")
             for i, g in enumerate(groups)]
    for g, f in zip(groups, fails, strict=True):
        group_create(c1, g, f)
    # Halted: staff[18:] never appear in c1.
    c2 = sc.cycle(c1.clock + timedelta(minutes=40))
    second = [lambda p=p: user_create(c2, p) for p in staff[18:26]]
    second.append(lambda: group_skip(c2, unassigned[1]))
    c2.run(second)
    for i, (g, f) in enumerate(zip(groups, fails, strict=True)):
        if i == 3:
            group_update(c2, g, staff[3], fail_group_404(rng, g, "matching"))
        else:
            group_create(c2, g, f)
    c3 = sc.cycle(c1.start + timedelta(hours=7, minutes=5))
    third = [lambda p=p: user_create(c3, p) for p in staff[26:30]]
    third.append(lambda: group_skip(c3, unassigned[0]))
    c3.run(third)
    for g, f in zip(groups, fails, strict=True):
        group_create(c3, g, f)
    sc.expect(1, groups + unassigned, "4 groups fail with 404 every cycle (one via an update, "
              "one via the matching GET); 2 unassigned groups are skipped")
    return sc


def scenario_p01() -> Scenario:
    sc = Scenario("pattern-01-group-mapping", "Group mapping left on: POST /Groups -> 404.")
    rng = sc.rng
    groups = [Group("Flowcase Users", rng.guid()), Group("Flowcase Consultants", rng.guid()),
              Group("Flowcase Reference Managers", rng.guid())]
    skipped = [Group("All Employees Nordics", rng.guid(), False),
               Group("Stockholm Office", rng.guid(), False)]
    staff = sc.people(15, exclude=UNASSIGNED)
    cy = sc.cycle(at("2026-03-02T08:05:10"), initial=True)
    actions = [lambda p=p: user_create(cy, p) for p in staff]
    actions += [lambda g=g: group_skip(cy, g) for g in skipped]
    cy.run(actions)
    for i, g in enumerate(groups):
        group_create(cy, g, fail_group_404(rng, g, "matching" if i == 2 else "export"))
    sc.expect(1, groups + skipped, "3 group creates fail with 404; 2 unassigned groups skipped")
    return sc


def scenario_p02() -> Scenario:
    sc = Scenario("pattern-02-manager-mapped", "Enterprise manager attribute mapped.",
                  Mapping(manager=True))
    rng = sc.rng
    with_manager = sc.people(6, exclude=UNASSIGNED, where=lambda p: p.manager is not None)
    heads = [P[k] for k in sorted({p.manager for p in with_manager})]
    others = sc.people(8, exclude=[*UNASSIGNED, *(p.key for p in with_manager + heads)],
                       where=lambda p: p.manager is None or p.manager in {h.key for h in heads})
    cy = sc.cycle(at("2026-03-03T10:12:00"), initial=True)
    cy.run([lambda p=p: user_create(cy, p) for p in heads + others + with_manager])
    c2 = sc.cycle(cy.clock + timedelta(minutes=40))
    refs = [lambda p=p, i=i: manager_update(c2, p, fail_manager(rng), resolved=i != 2)
            for i, p in enumerate(with_manager)]
    c2.run(refs + background(c2, heads + others, 5))
    affected = [p for p in with_manager] + [p for p in others if p.manager]
    sc.expect(2, affected, "manager exported on create and in the reference pass; the reference "
              "PATCHes fail with 400 naming manager")
    return sc


def scenario_p03() -> Scenario:
    sc = Scenario("pattern-03-missing-aadoptscim-flag",
                  "Tenant URL without ?aadOptscim062020: roles never sent, active as a string.",
                  Mapping(roles=False))
    rng = sc.rng
    staff = sc.people(12, exclude=UNASSIGNED)
    no_roles = [replace(p, roles=()) for p in staff[:3]]
    with_roles = staff[3:]
    cy = sc.cycle(at("2026-03-05T13:20:30"), initial=True)
    cy.run([lambda p=p: user_create(cy, p) for p in no_roles + with_roles[:6]])
    c2 = sc.cycle(cy.clock + timedelta(minutes=40))
    patched = with_roles[6:]
    actions = [lambda p=p: user_update(c2, p, [("active", "True"), ("title", p.title)],
                                       fail_string_boolean(rng, "True"),
                                       import_keys=["accountEnabled", "jobTitle",
                                                    "appRoleAssignments"])
               for p in patched]
    actions += [lambda p=p: skip_redundant(c2, p) for p in no_roles]
    c2.run(actions)
    sc.expect(3, with_roles, "app role assignments visible in import steps but no 'roles' "
              "exported; PATCHes with active \"True\" fail with a boolean-expected 400")
    return sc


def scenario_p04() -> tuple[Scenario, dict]:
    sc = Scenario("pattern-04-bad-token", "Secret token re-entered without token=\"...\".")
    rng = sc.rng
    staff = sc.people(16, exclude=UNASSIGNED)
    c1 = sc.cycle(at("2026-03-09T07:41:05"))
    c1.run(background(c1, staff, 8, unassigned_people()))
    c2 = sc.cycle(c1.start + timedelta(minutes=40, seconds=17))
    failing = staff[8:]
    actions = []
    for p in failing:
        f = fail_unauthorized(rng)
        if f.step == "matching":
            actions.append(lambda p=p, f=f: matching_failure(c2, p, f, "update"))
        else:
            q, changes = title_change(rng, p)
            actions.append(lambda q=q, c=changes, f=f: user_update(c2, q, c, f,
                                                                  import_keys=["jobTitle"]))
    c2.run(actions)
    sc.expect(4, failing, "every request of the second cycle fails with 401")
    job = job_status(sc, "Quarantine", quarantine_reason="EncounteredQuarantineException",
                     error_code="SystemForCrossDomainIdentityManagementInvalidCredentials",
                     error_message="We could not authenticate to your application with the "
                     "credentials provided: the application returned HTTP 401 Unauthorized. "
                     "Check the Secret Token.",
                     successful=c1, last=c2)
    return sc, job


def scenario_p05() -> Scenario:
    sc = Scenario("pattern-05-no-international-manager",
                  "API key of a user without International Manager access.")
    rng = sc.rng
    staff = sc.people(14, exclude=UNASSIGNED)
    cy = sc.cycle(at("2026-03-06T11:03:44"), initial=True)
    creates, updates, redundant = staff[:6], staff[6:10], staff[10:]
    actions = [lambda p=p: user_create(cy, p, fail_forbidden(rng)) for p in creates]
    for p in updates:
        q, changes = title_change(rng, p)
        actions.append(lambda q=q, c=changes: user_update(cy, q, c, fail_forbidden(rng)))
    actions += [lambda p=p: skip_redundant(cy, p) for p in redundant]
    cy.run(actions)
    sc.expect(5, creates + updates, "POST and PATCH fail with 403; reads work")
    return sc


def scenario_p06() -> Scenario:
    sc = Scenario("pattern-06-uppercase-identifiers", "userName/mail mapped without ToLower().",
                  Mapping(lower=False))
    rng = sc.rng
    keys = ["ingrid.holm", "per.olsen", "maja.sjoberg", "rasmus.norgaard", "sofie.moen",
            "axel.lundgren", "niels.juhl", "wilma.hedlund"]
    styles = ["title", "title-domain", "first", "upper"]
    mixed = [cased(P[k], styles[i % 4]) for i, k in enumerate(keys)]
    lower = sc.people(10, exclude=[*keys, *UNASSIGNED])
    cy = sc.cycle(at("2026-03-04T08:30:00"), initial=True)
    conflicts = mixed[:2]
    actions = [lambda p=p: user_create(cy, p, fail_conflict(rng, p.mail)) for p in conflicts]
    actions += [lambda p=p: user_create(cy, p) for p in mixed[2:] + lower]
    cy.run(actions)
    sc.expect(6, mixed, "upper-case letters in exported userName and work email")
    sc.expect(7, conflicts, "consequence of pattern 6: no match for the mixed-case userName, "
              "create fails with 409")
    return sc


def scenario_p07() -> Scenario:
    sc = Scenario("pattern-07-duplicates",
                  "Identifiers that do not match pre-existing Flowcase users; duplicates.",
                  Mapping(lower=False))
    rng = sc.rng
    twice = [cased(P["mette.kjaer"], "title"), cased(P["isak.berglund"], "title-domain")]
    preexisting = [P["ebba.wallin"], P["hakon.vik"], P["signe.holst"]]
    dup_target = P["julie.brekke"]
    owner = P["andreas.moe"]
    alias = replace(P["vegard.ronning"], mail=owner.mail)
    special = {p.key for p in [*twice, *preexisting, dup_target, owner, alias]}
    staff = sc.people(10, exclude=[*special, *UNASSIGNED])
    ca = sc.cycle(at("2026-03-02T08:00:07"), initial=True)
    ca.run([lambda p=p: user_create(ca, p) for p in staff[:6] + twice])
    # The admin adds ToLower() and restarts provisioning: a new initial cycle.
    fixed = Mapping(lower=True)
    cb = sc.cycle(at("2026-03-02T13:31:40"), initial=True, mapping=fixed)
    actions = [lambda p=p: skip_redundant(cb, p) for p in staff[:6]]
    actions += [lambda p=p: user_create(cb, p) for p in staff[6:] + [owner]]
    actions += [lambda p=p: user_create(cb, replace(p, flowcase_id=rng.flowcase_id()))
                for p in twice]
    actions += [lambda p=p: user_create(cb, p, fail_conflict(rng, p.mail)) for p in preexisting]
    actions.append(lambda: matching_failure(cb, dup_target, fail_duplicate_target(
        dup_target.mail, 2)))
    cb.run(actions)
    user_create(cb, alias, fail_conflict(rng, alias.mail))
    sc.expect(7, [*twice, *preexisting, dup_target, alias],
              "created twice with differently cased userName; 409 after no match; "
              "DuplicateTargetEntries; two source users with the same mail")
    sc.expect(6, twice, "first cycle exported mixed-case userName before ToLower() was added")
    return sc


def scenario_p08() -> Scenario:
    sc = Scenario("pattern-08-unknown-department", "Departments that do not exist in Flowcase.")
    rng = sc.rng
    unknown = [("erik.dahl", "Sales EMEA"), ("emil.kragh", "Sales EMEA"),
               ("filip.oberg", "Sales EMEA"), ("hanne.roed", "Marketing Nordics"),
               ("ludvig.forsberg", "Customer Success")]
    affected = [replace(P[k], department=d) for k, d in unknown]
    staff = sc.people(14, exclude=[*(k for k, _ in unknown), *UNASSIGNED])
    cy = sc.cycle(at("2026-03-11T06:55:19"), initial=True)
    actions = [lambda p=p: user_create(cy, p, fail_department(rng, p.department))
               for p in affected]
    actions += [lambda p=p: user_create(cy, p) for p in staff]
    cy.run(actions)
    sc.expect(8, affected, "'Sales EMEA' (3), 'Marketing Nordics' (1), 'Customer Success' (1)")
    return sc


AMBIGUOUS = {"Consulting": ["NO", "SE", "DK"], "Software Engineering": ["NO", "SE"],
             "Sales": ["SE", "DK"]}


def scenario_p09() -> Scenario:
    sc = Scenario("pattern-09-ambiguous-department",
                  "Duplicate department names across countries, no country attribute mapped.",
                  Mapping(country_code=False))
    rng = sc.rng
    affected = sc.people(6, exclude=UNASSIGNED, where=lambda p: p.department in AMBIGUOUS)
    unique = sc.people(8, exclude=UNASSIGNED, where=lambda p: p.department not in AMBIGUOUS)
    cy = sc.cycle(at("2026-03-12T12:10:02"), initial=True)
    actions = [lambda p=p: user_create(cy, p, fail_ambiguous_department(
        rng, p.department, AMBIGUOUS[p.department])) for p in affected]
    actions += [lambda p=p: user_create(cy, p) for p in unique]
    cy.run(actions)
    sc.expect(9, affected, "departments Consulting / Software Engineering / Sales exist in "
              "several countries; no countryCode or countryName exported")
    return sc


def scenario_p10() -> Scenario:
    sc = Scenario("pattern-10-both-country-attributes", "countryCode and countryName both mapped.",
                  Mapping(country_name=True))
    rng = sc.rng
    staff = sc.people(12, exclude=UNASSIGNED)
    cy = sc.cycle(at("2026-03-13T09:45:51"), initial=True)
    failing, redundant, titles = staff[:7], staff[7:10], staff[10:]
    actions = [lambda p=p: user_create(cy, p, fail_both_countries(rng)) for p in failing]
    actions += [lambda p=p: skip_redundant(cy, p) for p in redundant]
    for p in titles:
        q, changes = title_change(rng, p)
        actions.append(lambda q=q, c=changes: user_update(cy, q, c))
    cy.run(actions)
    sc.expect(10, failing, "both countryCode and countryName exported; creates fail with 400")
    return sc


def scenario_p11() -> Scenario:
    sc = Scenario("pattern-11-invalid-role", "App role values that are not Flowcase roles.")
    rng = sc.rng
    bad = [("oskar.nystrom", ("Consultant",)), ("astrid.bruun", ("consultant", "admin")),
           ("eirik.kvale", ("projectmanager",)), ("saga.lindholm", ("Reference Manager",)),
           ("kasper.lauridsen", ("international_manager",))]
    affected = [replace(P[k], roles=r) for k, r in bad]
    staff = sc.people(12, exclude=[*(k for k, _ in bad), *UNASSIGNED])
    cy = sc.cycle(at("2026-03-16T10:20:33"))
    actions = [lambda p=p: user_create(cy, p, fail_role(rng, p.roles[-1])) for p in affected[:2]]
    actions += [lambda p=p: user_update(cy, p, [("roles", roles_json(p.roles))],
                                        fail_role(rng, p.roles[-1]),
                                        import_keys=["appRoleAssignments"])
                for p in affected[2:]]
    actions += background(cy, staff, 10, unassigned_people())
    cy.run(actions)
    sc.expect(11, affected, "role values Consultant, admin, projectmanager, Reference Manager, "
              "international_manager")
    return sc


def scenario_p12() -> Scenario:
    sc = Scenario("pattern-12-departmentmanager-format", "departmentmanager roles in bad formats.")
    rng = sc.rng
    bad = [("ole.johansen", "departmentmanager:Consulting"),
           ("viktor.holmberg", "departmentmanager:office:SWE:Consulting"),
           ("marte.solberg", "departmentmanager:office:NO:Software Engineering"),
           ("camilla.dam", "departmentmanager:office:DK:Design Team")]
    affected = [replace(P[k], roles=("consultant", r)) for k, r in bad]
    ok = replace(P["kari.nilsen"], roles=("consultant",
                                          "departmentmanager:dept:NO:SoftwareEngineering"))
    staff = sc.people(10, exclude=[*(k for k, _ in bad), ok.key, *UNASSIGNED])
    cy = sc.cycle(at("2026-03-18T14:02:09"))
    actions = [lambda p=p: user_update(cy, p, [("roles", roles_json(p.roles))],
                                       fail_departmentmanager(rng, p.roles[-1]),
                                       import_keys=["appRoleAssignments"]) for p in affected]
    actions.append(lambda: user_update(cy, ok, [("roles", roles_json(ok.roles))],
                                       import_keys=["appRoleAssignments"]))
    actions += background(cy, staff, 9)
    cy.run(actions)
    sc.expect(12, affected, "old departmentmanager:Name form, alpha-3 country code, department "
              "names with spaces in the office form")
    return sc


def scenario_p13() -> Scenario:
    sc = Scenario("pattern-13-not-assigned",
                  "Users moved to a nested group lose their assignment; unassigned noise.")
    rng = sc.rng
    moved = [P["nora.strand"], P["per.olsen"], P["elias.akesson"], P["frederik.lund"]]
    never = [P["maren.lunde"], P["knut.odegard"]]
    staff = sc.people(14, exclude=[*(p.key for p in moved + never), *UNASSIGNED])
    c1 = sc.cycle(at("2026-03-19T08:14:55"))
    acts = []
    for p in moved:
        q, changes = title_change(rng, p)
        acts.append(lambda q=q, c=changes: user_update(c1, q, c, import_keys=["jobTitle"]))
    c1.run(acts + background(c1, staff, 6, unassigned_people()))
    c2 = sc.cycle(c1.start + timedelta(minutes=40, seconds=31))
    acts = [lambda p=p: user_disable(c2, p) for p in moved[:2]]
    acts += [lambda p=p: skip_unentitled(c2, p, previously=True) for p in moved[2:]]
    acts += [lambda p=p: skip_unentitled(c2, p) for p in never]
    c2.run(acts + background(c2, staff, 5, unassigned_people()))
    c3 = sc.cycle(c2.start + timedelta(minutes=40, seconds=12))
    acts = [lambda p=p: skip_unentitled(c3, p, previously=True) for p in moved]
    acts += [lambda p=p: skip_unentitled(c3, p) for p in unassigned_people()[:3]]
    c3.run(acts + background(c3, staff, 5))
    sc.expect(13, moved, "provisioned in the first cycle, now NotEffectivelyEntitled (moved into "
              "a nested group); two of them were disabled first")
    return sc


def scenario_p14() -> Scenario:
    sc = Scenario("pattern-14-soft-delete",
                  "active mapped with a Switch that yields 'Disabled' instead of False.")
    rng = sc.rng
    leavers = [P["thomas.haugen"], P["klara.sundberg"], P["anders.bech"]]
    inactive = P["ragnhild.sunde"]
    deleted = P["jorgen.saether"]
    staff = sc.people(12, exclude=[*(p.key for p in leavers), inactive.key, deleted.key,
                                   *UNASSIGNED])
    fails = {p.key: fail_active_value(rng, "Disabled") for p in leavers}
    c1 = sc.cycle(at("2026-03-20T15:40:12"))
    acts = [lambda p=p: user_disable(c1, p, "Disabled", fails[p.key]) for p in leavers]
    q, changes = title_change(rng, inactive)
    acts.append(lambda: user_update(c1, q, changes, fail_inactive_user(rng),
                                    import_keys=["jobTitle"], active="False"))
    acts.append(lambda: user_delete(c1, deleted))
    c1.run(acts + background(c1, staff, 8))
    c2 = sc.cycle(c1.start + timedelta(minutes=41, seconds=7))
    acts = [lambda p=p: user_disable(c2, p, "Disabled", fails[p.key]) for p in leavers[:2]]
    c2.run(acts + background(c2, staff, 6))
    sc.expect(14, [*leavers, inactive], "disable sends active='Disabled'; an update to a "
              "deactivated user fails with 'User must be Active.'")
    return sc


def scenario_p15() -> Scenario:
    sc = Scenario("pattern-15-required-attribute-missing",
                  "Users without mail: required work email missing / matching attribute empty.")
    no_mail = [replace(P[k], mail=None) for k in ("sander.myhre", "ebba.wallin", "niels.juhl",
                                                   "live.tangen")]
    staff = sc.people(12, exclude=[*(p.key for p in no_mail), *UNASSIGNED])
    cy = sc.cycle(at("2026-03-23T09:05:44"), initial=True)
    rng = sc.rng
    actions = [lambda: user_create(cy, no_mail[0], fail_mandatory_missing(no_mail[0].upn)),
               lambda: user_create(cy, no_mail[1], fail_missing_email(rng)),
               lambda: import_skipped(cy, no_mail[2]),
               lambda: import_skipped(cy, no_mail[3])]
    actions += [lambda p=p: user_create(cy, p) for p in staff]
    cy.run(actions)
    sc.expect(15, no_mail, "mail empty in Entra: MandatoryFieldsMissing, a 400 naming emails, "
              "and ImportSkipped (mail is the first matching attribute here)")
    return sc


def scenario_p16() -> tuple[Scenario, dict]:
    sc = Scenario("pattern-16-quarantine-escrow",
                  "The same users fail every cycle; escrow grows until quarantine.")
    rng = sc.rng
    unknown = [("ingrid.holm", "Sales EMEA"), ("maja.sjoberg", "Sales EMEA"),
               ("jakob.moller", "Sales EMEA"), ("wilma.hedlund", "Marketing Nordics"),
               ("line.skov", "Marketing Nordics"), ("hakon.vik", "Sales EMEA")]
    failing = [replace(P[k], department=d) for k, d in unknown]
    staff = sc.people(8, exclude=[*(k for k, _ in unknown), *UNASSIGNED])
    fails = {p.key: fail_department(rng, p.department) for p in failing}
    c1 = sc.cycle(at("2026-03-25T08:00:21"), initial=True)
    c1.run([lambda p=p: user_create(c1, p, fails[p.key]) for p in failing]
           + [lambda p=p: user_create(c1, p) for p in staff])
    last = c1
    for start in (c1.start + timedelta(minutes=44), c1.start + timedelta(hours=6, minutes=51),
                  c1.start + timedelta(hours=19, minutes=3)):
        cy = sc.cycle(start)
        cy.run([lambda p=p, cy=cy: user_create(cy, p, fails[p.key]) for p in failing]
               + background(cy, staff, 2))
        last = cy
    sc.expect(8, failing, "the cause: 'Sales EMEA' (4) and 'Marketing Nordics' (2) unknown")
    job = job_status(sc, "Quarantine", quarantine_reason="EncounteredEscrowProportionThreshold",
                     error_code=INCOMPATIBLE,
                     error_message="More than 40% of the provisioning operations in the last "
                     "cycles failed. Review the provisioning logs for the failing requests.",
                     successful=None, last=last, escrowed=len(failing))
    return sc, job


def scenario_p17() -> Scenario:
    sc = Scenario("pattern-17-transient", "Throttling, 5xx and time-outs; one user keeps failing.")
    rng = sc.rng
    staff = sc.people(16, exclude=UNASSIGNED)
    flaky = staff[:5]
    stuck = staff[5]
    kinds = ["429", "429", "502", "503", "timeout"]
    changed = {}
    c1 = sc.cycle(at("2026-03-26T16:12:37"))
    acts = []
    for p, kind in zip(flaky, kinds, strict=True):
        q, changes = title_change(rng, p)
        changed[p.key] = (q, changes)
        acts.append(lambda q=q, c=changes, k=kind: user_update(
            c1, q, c, fail_transient(rng, k, q.flowcase_id), import_keys=["jobTitle"]))
    q_stuck, c_stuck = title_change(rng, stuck)
    f_stuck = fail_transient(rng, "500", stuck.flowcase_id)
    acts.append(lambda: user_update(c1, q_stuck, c_stuck, f_stuck, import_keys=["jobTitle"]))
    c1.run(acts + background(c1, staff[6:], 6))
    for n, start in enumerate((c1.start + timedelta(minutes=40, seconds=40),
                               c1.start + timedelta(hours=7, minutes=9))):
        cy = sc.cycle(start)
        acts = [lambda cy=cy: user_update(cy, q_stuck, c_stuck, f_stuck,
                                          import_keys=["jobTitle"])]
        if n == 0:
            acts += [lambda q=q, c=c, cy=cy: user_update(cy, q, c, import_keys=["jobTitle"])
                     for q, c in changed.values()]
        cy.run(acts + background(cy, staff[6:], 4))
    sc.expect(17, [*flaky, stuck], "429/502/503/time-out retried and then succeeded; "
              f"{stuck.identity} gets HTTP 500 in all three cycles")
    return sc


def scenario_weekly() -> Scenario:
    """Two weeks: week 1 department + upper-case problems, week 2 only a new invalid role."""
    sc = Scenario("weekly-two-periods", "14 days of incremental cycles; problems change mid-way.",
                  Mapping(lower=False))
    rng = sc.rng
    upper_hires = [cased(P["rasmus.norgaard"], "title"), cased(P["maja.sjoberg"], "title-domain"),
                   cased(P["ida.vestergaard"], "title")]
    renamed = cased(replace(P["julie.brekke"], surname="Aas-Brekke",
                            upn="julie.aas-brekke@northwind.no",
                            mail="julie.aas-brekke@northwind.no"), "title")
    dept_hires = [replace(P["signe.holst"], department="Sales EMEA"),
                  replace(P["isak.berglund"], department="Sales EMEA"),
                  replace(P["emil.kragh"], department="Sales EMEA"),
                  replace(P["sofie.moen"], department="Marketing Nordics")]
    late = dept_hires[3]  # 'Marketing Nordics' is forgotten at the restart, made on 03-03
    late_failure = fail_department(rng, late.department)
    role_people = [replace(P[k], roles=("consultant", "projectmanager"))
                   for k in ("anna.berg", "lars.hansen", "axel.lundgren")]
    role_hire = replace(P["magnus.berntsen"], roles=("projectmanager",))
    special = {p.key for p in [*upper_hires, *dept_hires, *role_people, role_hire]}
    special |= {"julie.brekke"}
    staff = sc.people(30, exclude=[*special, *UNASSIGNED])
    staff_all = staff + [P[k] for k in ("anna.berg", "lars.hansen", "axel.lundgren")]
    first_day = at("2026-02-23T00:00:00")
    week2 = first_day + timedelta(days=7)
    sc.periods = [
        {"name": "week1", "start": iso_z(first_day), "end": iso_z(week2)},
        {"name": "week2", "start": iso_z(week2), "end": iso_z(week2 + timedelta(days=7))},
    ]
    lower = Mapping(lower=True)
    restart = at("2026-03-01T10:05:12")
    due: dict[str, tuple[Person, Callable[[Cycle], object]]] = {}

    def retry_due(cy: Cycle) -> list[Callable[[], object]]:
        """Escrowed objects whose NextAttempt has passed are retried in this cycle."""
        out: list[Callable[[], object]] = []
        for p, redo in due.values():
            esc = sc.escrow.get(p.object_id)
            if esc is not None and esc.next_attempt <= cy.start:
                out.append(lambda redo=redo, cy=cy: redo(cy))
        return out

    def track(p: Person, redo: Callable[[Cycle], object]) -> None:
        due[p.key] = (p, redo)

    for day in range(14):
        date = first_day + timedelta(days=day)
        hours = [1, 9, 17] + ([22] if day == 13 else [])
        for hour in hours:
            start = date + timedelta(hours=hour, minutes=rng.randint(0, 25),
                                     seconds=rng.randint(0, 59))
            label = (day, hour)
            if date.date() == restart.date() and hour == 9:
                weekly_restart(sc, restart, lower, staff_all, upper_hires, renamed, dept_hires,
                               late_failure)
                due.clear()
                track(late, lambda c: user_create(c, late, late_failure))
                continue
            if label == (8, 17):  # the admin creates the forgotten department
                track(late, lambda c: user_create(c, late))
            mapping = lower if start >= restart else sc.mapping
            cy = sc.cycle(start, mapping=mapping)
            acts = background(cy, staff, rng.randint(4, 8), unassigned_people())
            if start.date() != restart.date():
                acts += retry_due(cy)
            if label == (1, 9):
                for p in upper_hires[:2]:
                    acts.append(lambda p=p, cy=cy: user_create(cy, p))
                h, f = upper_hires[2], fail_conflict(rng, upper_hires[2].mail)
                acts.append(lambda h=h, f=f, cy=cy: user_create(cy, h, f))
                track(h, lambda c, h=h, f=f: user_create(c, h, f))
            if label in ((1, 17), (2, 9)):
                for p in dept_hires[:2] if label == (1, 17) else dept_hires[2:]:
                    f = fail_department(rng, p.department)
                    acts.append(lambda p=p, f=f, cy=cy: user_create(cy, p, f))
                    track(p, lambda c, p=p, f=f: user_create(c, p, f))
            if label == (2, 17):
                acts.append(lambda cy=cy: user_update(
                    cy, renamed, [("userName", renamed.upn), (WORK_EMAIL, renamed.mail),
                                  ("name.familyName", renamed.surname),
                                  ("displayName", renamed.display)],
                    import_keys=["userPrincipalName", "mail", "surname"]))
            if label == (8, 9):
                for p in role_people:
                    changes = [("roles", roles_json(p.roles))]
                    f = fail_role(rng, "projectmanager")
                    acts.append(lambda p=p, c=changes, f=f, cy=cy: user_update(
                        cy, p, c, f, import_keys=["appRoleAssignments"]))
                    track(p, lambda cy2, p=p, c=changes, f=f: user_update(
                        cy2, p, c, f, import_keys=["appRoleAssignments"]))
            if label == (9, 17):
                f = fail_role(rng, "projectmanager")
                acts.append(lambda f=f, cy=cy: user_create(cy, role_hire, f))
                track(role_hire, lambda c, f=f: user_create(c, role_hire, f))
            cy.run(acts)
    sc.expect(8, dept_hires, "'Sales EMEA' (3) and 'Marketing Nordics' (1); 'Sales EMEA' "
              "resolved by the restart on 2026-03-01", period="week1")
    sc.expect(8, [late], "'Marketing Nordics', forgotten at the restart, created on 2026-03-03",
              period="week2")
    sc.expect(6, [*upper_hires, renamed], "mixed-case userName/work email exported until "
              "ToLower() was added on 2026-03-01", period="week1")
    sc.expect(7, upper_hires[2:], "409 for the mixed-case userName of an existing Flowcase user",
              period="week1")
    sc.expect(11, [*role_people, role_hire], "new app role value 'projectmanager' from "
              "2026-03-03", period="week2")
    return sc


def weekly_restart(sc: Scenario, start: datetime, mapping: Mapping, staff: list[Person],
                   upper_hires: list[Person], renamed: Person, dept_hires: list[Person],
                   late_failure: Failure) -> None:
    """2026-03-01: ToLower() added, departments created but the last one of ``dept_hires``
    (it fails with ``late_failure``), provisioning restarted (initial cycle).

    A restart clears escrows, so the first attempts succeed without EntryEscrowRetry steps.
    """
    sc.escrow.clear()
    cy = sc.cycle(start, initial=True, mapping=mapping, pace=(6.0, 22.0))
    acts = [lambda p=p: skip_redundant(cy, p) for p in staff]
    for p in [*upper_hires[:2], renamed]:
        acts.append(lambda p=p: user_update(cy, p, [("userName", p.upn.lower()),
                                                   (WORK_EMAIL, p.mail.lower())],
                                            flowcase_name=p.upn))
    existing = upper_hires[2]
    acts.append(lambda: user_update(cy, existing, [("title", existing.title)]))
    acts += [lambda p=p: user_create(cy, p) for p in dept_hires[:-1]]
    acts.append(lambda: user_create(cy, dept_hires[-1], late_failure))
    acts += [lambda p=p: skip_unentitled(cy, p) for p in unassigned_people()]
    cy.run(acts)


# --------------------------------------------------------------------------------------------
# Sync job status (GET /servicePrincipals/{id}/synchronization/jobs/{jobId})
# --------------------------------------------------------------------------------------------


def _execution(sc: Scenario, cy: Cycle, state: str, error: dict, escrowed: int = 0) -> dict:
    events = [r.event for r in sc.records if r.event["cycleId"] == cy.id]
    exported = sum(1 for e in events if e["provisioningStatusInfo"]["status"] == "success")
    return {
        "activityIdentifier": cy.id,
        "countEntitled": len(events),
        "countEntitledForProvisioning": len(events),
        "countEscrowed": escrowed,
        "countEscrowedRaw": escrowed,
        "countExported": exported,
        "countExports": exported,
        "countImported": len(events),
        "countImportedDeltas": 0 if cy.initial else len(events),
        "countImportedReferenceDeltas": 0,
        "error": error,
        "state": state,
        "timeBegan": iso7(cy.start),
        "timeEnded": iso7(cy.clock + timedelta(seconds=3, microseconds=412733)),
    }


NO_ERROR = {"code": "None", "message": "", "tenantActionable": False}


def job_status(sc: Scenario, code: str, *, quarantine_reason: str | None = None,
               error_code: str = "", error_message: str = "", successful: Cycle | None,
               last: Cycle, escrowed: int = 0) -> dict:
    """The job object as Graph returns it, consistent with the scenario's cycles."""
    error = {"code": error_code, "message": error_message, "tenantActionable": True}
    quarantined = quarantine_reason is not None
    state = "Failed" if quarantined else "Succeeded"
    ended = last.clock + timedelta(seconds=3, microseconds=412733)
    quarantine = None
    if quarantined:
        quarantine = {
            "currentBegan": iso7(ended + timedelta(seconds=2, microseconds=90211)),
            "nextAttempt": iso7(ended + timedelta(hours=24, seconds=2, microseconds=90211)),
            "reason": quarantine_reason,
            "seriesBegan": iso7(ended + timedelta(seconds=2, microseconds=90211)),
            "seriesCount": 1,
            "error": error,
        }
    ok = _execution(sc, successful, "Succeeded", NO_ERROR) if successful else None
    total = len({r.identity for r in sc.records if r.event["provisioningStatusInfo"]["status"]
                 != "failure"})
    return {
        "@odata.context": "https://graph.microsoft.com/v1.0/$metadata#servicePrincipals('"
                          f"{SERVICE_PRINCIPAL_ID}')/synchronization/jobs/$entity",
        "id": JOB_ID,
        "templateId": "scim",
        "schedule": {"expiration": None, "interval": "PT40M", "state": "Active"},
        "status": {
            "code": code,
            "countSuccessiveCompleteFailures": 2 if quarantined else 0,
            "escrowsPruned": False,
            "lastExecution": _execution(sc, last, state, error if quarantined else NO_ERROR,
                                        escrowed),
            "lastSuccessfulExecution": ok,
            "lastSuccessfulExecutionWithExports": ok,
            "progress": [],
            "quarantine": quarantine,
            "steadyStateFirstAchievedTime": "0001-01-01T00:00:00Z" if quarantined else iso7(
                sc.cycles[0].clock),
            "steadyStateLastAchievedTime": "0001-01-01T00:00:00Z" if quarantined else iso7(
                ended),
            "synchronizedEntryCountByType": [{"key": "User to User", "value": total}],
            "troubleshootingUrl": "",
        },
        "synchronizationJobSettings": [
            {"name": "AzureIngestionAttributeOptimization", "value": "False"},
            {"name": "LookaheadQueryEnabled", "value": "False"},
            {"name": "QuarantineTooManyDeletesThreshold", "value": "500"},
        ],
    }


# --------------------------------------------------------------------------------------------
# Writers: one per source format
# --------------------------------------------------------------------------------------------


def newest_first(records: list[Record]) -> list[Record]:
    """Portal and Graph list the newest event first."""
    return sorted(records, key=lambda r: r.when, reverse=True)


def v1(event: dict) -> dict:
    """Graph v1.0 has no deprecated ``action``."""
    return {k: v for k, v in event.items() if k != "action"}


def status_info(event: dict) -> dict:
    """Deprecated beta ``statusInfo`` derived from provisioningStatusInfo."""
    info = event["provisioningStatusInfo"]
    err = info["errorInformation"]
    if err is None:
        return {"status": info["status"]}
    return {"@odata.type": "#microsoft.graph.statusDetails", "status": info["status"],
            "errorCode": err["errorCode"], "reason": err["reason"], "additionalDetails": None,
            "errorCategory": "NonServiceFailure", "recommendedAction": None}


def with_status_info(event: dict) -> dict:
    out: dict = {}
    for k, v in event.items():
        out[k] = v
        if k == "provisioningStatusInfo":
            out["statusInfo"] = status_info(event)
    return out


def write_text(path: Path, text: str, *, bom: bool = False) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8")
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)


def dump(obj: object, pretty: bool) -> str:
    if pretty:
        return json.dumps(obj, indent=2, ensure_ascii=False) + "\n"
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def write_portal_json(path: Path, records: list[Record], pretty: bool = False) -> None:
    """Portal 'Download JSON': a top-level array, compact unless prettified."""
    write_text(path, dump([r.event for r in newest_first(records)], pretty))


def write_graph_pages(folder: Path, records: list[Record], rng: Gen, top: int = 25) -> list[int]:
    """GET /v1.0/auditLogs/provisioning?$top=25 followed through @odata.nextLink."""
    events = [v1(r.event) for r in newest_first(records)]
    pages = [events[i:i + top] for i in range(0, len(events), top)]
    for n, page in enumerate(pages, start=1):
        body: dict = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/"
                      "provisioning", "value": page}
        if n < len(pages):
            token = f"{rng.getrandbits(256):064x}"
            body["@odata.nextLink"] = ("https://graph.microsoft.com/v1.0/auditLogs/provisioning"
                                       f"?$top={top}&$skiptoken={token}")
        write_text(folder / f"page-{n:03d}.json", dump(body, True))
    return [len(page) for page in pages]


def beta_event(event: dict, rng: Gen) -> dict:
    """Beta shape: deprecated action/statusInfo; some step types capitalised as in docs."""
    out = with_status_info(event)
    if rng.chance(0.5):
        out["provisioningSteps"] = [
            {**s, "provisioningStepType": s["provisioningStepType"].capitalize()}
            if s["provisioningStepType"] in ("import", "export") else s
            for s in out["provisioningSteps"]
        ]
    return out


def write_graph_beta(path: Path, records: list[Record], rng: Gen) -> None:
    body = {"@odata.context": "https://graph.microsoft.com/beta/$metadata#auditLogs/provisioning",
            "value": [beta_event(r.event, rng) for r in newest_first(records)]}
    write_text(path, dump(body, True))


RESULT_TYPE = {"success": "Success", "failure": "Failure", "skipped": "Skipped",
               "warning": "Warning"}


def storage_envelope(r: Record) -> dict:
    """Diagnostic settings -> storage account: one Azure resource-log record per line."""
    e = r.event
    props = with_status_info(e)
    props["activityDateTime"] = iso7(r.when)
    err = e["provisioningStatusInfo"]["errorInformation"]
    status = e["provisioningStatusInfo"]["status"]
    return {
        "time": iso7(r.when),
        "resourceId": f"/tenants/{TENANT_ID}/providers/Microsoft.aadiam",
        "operationName": "Provisioning activity",
        "operationVersion": "1.0",
        "category": "ProvisioningLogs",
        "tenantId": TENANT_ID,
        "resultType": RESULT_TYPE[status],
        "resultSignature": err["errorCode"] if err else "None",
        "durationMs": e["durationInMilliseconds"],
        "callerIpAddress": None,
        "correlationId": r.correlation_id,
        "identity": e["initiatedBy"]["displayName"],
        "level": "Error" if status == "failure" else "Informational",
        "properties": props,
    }


def write_storage(folder: Path, records: list[Record]) -> tuple[int, int]:
    """Split by hour: the first hour as PT1H.json, the next hour gzipped (fixed mtime)."""
    ordered = sorted(records, key=lambda r: r.when)
    first_hour = ordered[0].when.replace(minute=0, second=0, microsecond=0)
    one = [r for r in ordered if r.when < first_hour + timedelta(hours=1)]
    two = [r for r in ordered if r.when >= first_hour + timedelta(hours=1)]

    def lines(rs: list[Record]) -> str:
        return "".join(json.dumps(storage_envelope(r), separators=(",", ":"),
                                  ensure_ascii=False) + "\n" for r in rs)

    write_text(folder / "PT1H.json", lines(one))
    data = gzip.compress(lines(two).encode("utf-8"), compresslevel=9, mtime=0)
    (folder / "PT1H.json.gz").write_bytes(data)
    return len(one), len(two)


def details_text(details: dict) -> str:
    """Step details as the portal CSV shows them: indented JSON with CRLF line breaks."""
    return json.dumps(details, indent=2, ensure_ascii=False).replace("\n", "\r\n")


PORTAL_EVENT_COLUMNS: list[tuple[str, Callable[[dict], object]]] = [
    ("Date (UTC)", lambda e: e["activityDateTime"]),
    ("ID", lambda e: e["id"]),
    ("Job ID", lambda e: e["jobId"]),
    ("Cycle ID", lambda e: e["cycleId"]),
    ("Change ID", lambda e: e["changeId"]),
    ("Action", lambda e: ACTION_LABEL[e["provisioningAction"]]),
    ("Status", lambda e: RESULT_TYPE[e["provisioningStatusInfo"]["status"]]),
    ("Source System", lambda e: e["sourceSystem"]["displayName"]),
    ("Target System", lambda e: e["targetSystem"]["displayName"]),
    ("Source Identity Display Name", lambda e: e["sourceIdentity"]["displayName"]),
    ("Source Identity ID", lambda e: e["sourceIdentity"]["id"]),
    ("Source Identity Type", lambda e: e["sourceIdentity"]["identityType"]),
    ("Target Identity Display Name", lambda e: e["targetIdentity"]["displayName"]),
    ("Target Identity ID", lambda e: e["targetIdentity"]["id"]),
    ("Target Identity Type", lambda e: e["targetIdentity"]["identityType"]),
    ("Error Code", lambda e: _err(e, "errorCode")),
    ("Failure Reason", lambda e: _err(e, "reason")),
    ("Error Category", lambda e: _err(e, "errorCategory")),
    ("Recommended Action", lambda e: _err(e, "recommendedAction")),
    ("Additional Details", lambda e: _err(e, "additionalDetails")),
    ("Duration (ms)", lambda e: e["durationInMilliseconds"]),
    ("Initiated By", lambda e: e["initiatedBy"]["displayName"]),
    ("Application", lambda e: e["servicePrincipal"]["displayName"]),
    ("Service Principal ID ", lambda e: e["servicePrincipal"]["id"]),
    ("Tenant ID", lambda e: e["tenantId"]),
]


def _err(e: dict, key: str) -> object:
    err = e["provisioningStatusInfo"]["errorInformation"]
    return (err or {}).get(key)


def _csv(rows: list[list[object]], *, lineterminator: str, quote_all: bool = False) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator=lineterminator,
                        quoting=csv.QUOTE_ALL if quote_all else csv.QUOTE_MINIMAL)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buf.getvalue()


def portal_csv_tables(records: list[Record]) -> dict[str, str]:
    """The three files of the portal CSV download (display-name headers, capitalised values)."""
    events = [r.event for r in newest_first(records)]
    main = [[name for name, _ in PORTAL_EVENT_COLUMNS]]
    main += [[get(e) for _, get in PORTAL_EVENT_COLUMNS] for e in events]
    steps = [["Change ID", "Step", "Name", "Type", "Status", "Description", "Details"]]
    mods = [["Change ID", "Attribute", "Old Value", "New Value"]]
    for e in events:
        for i, s in enumerate(e["provisioningSteps"], start=1):
            kind = s["provisioningStepType"]
            steps.append([e["changeId"], i, s["name"], kind[0].upper() + kind[1:],
                          RESULT_TYPE[s["status"]], s["description"], details_text(s["details"])])
        for mp in e["modifiedProperties"]:
            mods.append([e["changeId"], mp["displayName"], mp["oldValue"], mp["newValue"]])
    return {
        "ProvisioningLogs.csv": _csv(main, lineterminator="\r\n"),
        "ProvisioningLogs_ProvisioningSteps.csv": _csv(steps, lineterminator="\r\n"),
        "ProvisioningLogs_ModifiedProperties.csv": _csv(mods, lineterminator="\r\n"),
    }


def fixed_zip(members: dict[str, bytes]) -> bytes:
    """A zip with fixed member timestamps so that reruns are byte-identical."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 3, 24, 9, 12, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return buf.getvalue()


def write_portal_csv(folder: Path, records: list[Record]) -> None:
    members = {}
    for name, text in portal_csv_tables(records).items():
        write_text(folder / name, text, bom=True)
        members[name] = (folder / name).read_bytes()
    (folder / "ProvisioningLogs.zip").write_bytes(fixed_zip(members))


VARIANT_COLUMNS = [
    "id", "activityDateTime", "jobId", "cycleId", "changeId", "provisioningAction",
    "provisioningStatusInfo.status", "provisioningStatusInfo.errorInformation.errorCode",
    "provisioningStatusInfo.errorInformation.reason",
    "provisioningStatusInfo.errorInformation.errorCategory",
    "provisioningStatusInfo.errorInformation.recommendedAction",
    "provisioningStatusInfo.errorInformation.additionalDetails", "durationInMilliseconds",
    "sourceSystem.displayName", "targetSystem.displayName", "sourceIdentity.id",
    "sourceIdentity.displayName", "sourceIdentity.identityType",
    "sourceIdentity.details.UserPrincipalName", "targetIdentity.id",
    "targetIdentity.displayName", "targetIdentity.identityType", "servicePrincipal.id",
    "servicePrincipal.displayName", "initiatedBy.displayName", "tenantId",
]


def dotted(obj: dict, path: str) -> object:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


def write_csv_variant(folder: Path, records: list[Record]) -> None:
    """Same data with API-style headers, quoted everywhere, LF records, no BOM."""
    events = [r.event for r in newest_first(records)]
    main = [VARIANT_COLUMNS] + [[dotted(e, c) for c in VARIANT_COLUMNS] for e in events]
    steps = [["changeId", "index", "name", "provisioningStepType", "status", "description",
              "details"]]
    mods = [["changeId", "displayName", "oldValue", "newValue"]]
    for e in events:
        for i, s in enumerate(e["provisioningSteps"]):
            steps.append([e["changeId"], i, s["name"], s["provisioningStepType"], s["status"],
                          s["description"], json.dumps(s["details"], ensure_ascii=False)])
        for mp in e["modifiedProperties"]:
            mods.append([e["changeId"], mp["displayName"], mp["oldValue"], mp["newValue"]])
    for name, rows in (("ProvisioningLogs.csv", main),
                       ("ProvisioningLogs_ProvisioningSteps.csv", steps),
                       ("ProvisioningLogs_ModifiedProperties.csv", mods)):
        write_text(folder / name, _csv(rows, lineterminator="\n", quote_all=True))


LA_COLUMNS = ["TenantId", "AADTenantId", "TimeGenerated", "OperationName", "OperationVersion",
              "Category", "ResultType", "ResultSignature", "ResultDescription", "DurationMs",
              "CorrelationId", "Action", "ChangeId", "CycleId", "Id", "InitiatedBy", "JobId",
              "ModifiedProperties", "ProvisioningSteps", "ServicePrincipal", "SourceIdentity",
              "SourceSystem", "StatusInfo", "TargetIdentity", "TargetSystem",
              "ProvisioningAction", "ProvisioningStatusInfo", "Type"]


def _j(obj: object) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def _la_identity(i: dict) -> str:
    """Inner keys mixed Pascal/camel case, as Microsoft's sample KQL reads them."""
    return _j({"Id": i["id"], "DisplayName": i["displayName"], "identityType": i["identityType"],
               "details": i["details"]})


def la_row(r: Record) -> dict:
    """One AADProvisioningLogs row; dynamic columns hold JSON text."""
    e = r.event
    err = e["provisioningStatusInfo"]["errorInformation"]
    status = e["provisioningStatusInfo"]["status"]
    return {
        "TenantId": LA_WORKSPACE_ID,
        "AADTenantId": TENANT_ID,
        "TimeGenerated": r.when,
        "OperationName": "Provisioning activity",
        "OperationVersion": "1.0",
        "Category": "ProvisioningLogs",
        "ResultType": RESULT_TYPE[status],
        "ResultSignature": err["errorCode"] if err else "None",
        "ResultDescription": err["reason"] if err else "",
        "DurationMs": e["durationInMilliseconds"],
        "CorrelationId": r.correlation_id,
        "Action": ACTION_LABEL[e["provisioningAction"]],
        "ChangeId": e["changeId"],
        "CycleId": e["cycleId"],
        "Id": e["id"],
        "InitiatedBy": _j({"Id": "", "Name": e["initiatedBy"]["displayName"],
                           "initiatorType": "system"}),
        "JobId": e["jobId"],
        "ModifiedProperties": _j(e["modifiedProperties"]),
        "ProvisioningSteps": _j(e["provisioningSteps"]),
        "ServicePrincipal": _j({"Id": SERVICE_PRINCIPAL_ID, "Name": APP_NAME}),
        "SourceIdentity": _la_identity(e["sourceIdentity"]),
        "SourceSystem": _j({"Id": SOURCE_SYSTEM_ID, "Name": SOURCE_NAME, "Details": {}}),
        "StatusInfo": _j(status_info(e)),
        "TargetIdentity": _la_identity(e["targetIdentity"]),
        "TargetSystem": _j({"Id": TARGET_SYSTEM_ID, "Name": TARGET_NAME,
                            "Details": e["targetSystem"]["details"]}),
        "ProvisioningAction": e["provisioningAction"],
        "ProvisioningStatusInfo": _j(e["provisioningStatusInfo"]),
        "Type": "AADProvisioningLogs",
    }


def write_log_analytics(folder: Path, records: list[Record]) -> None:
    """Export to CSV (locale dates, 'TimeGenerated [UTC]') and a JSON array of the same rows."""
    rows = [la_row(r) for r in newest_first(records)]
    header = ["TimeGenerated [UTC]" if c == "TimeGenerated" else c for c in LA_COLUMNS]
    table = [header] + [[la_time(row[c]) if c == "TimeGenerated" else row[c]
                         for c in LA_COLUMNS] for row in rows]
    write_text(folder / "AADProvisioningLogs.csv", _csv(table, lineterminator="\r\n"))
    as_json = [{**row, "TimeGenerated": iso7(row["TimeGenerated"])} for row in rows]
    write_text(folder / "AADProvisioningLogs.json", dump(as_json, True))


# --------------------------------------------------------------------------------------------
# Manifest and main
# --------------------------------------------------------------------------------------------


def escrow_findings(sc: Scenario) -> list[Finding]:
    """Pattern 16 ground truth, derived: objects that failed again on an escrow retry and
    whose latest event is still a failure (a restart that mended them ends it)."""
    def retried_failures(records: list[Record]) -> list[str]:
        latest = {r.identity: r for r in sorted(records, key=lambda r: r.when)}
        return sorted({r.identity for r in records
                       if r.event["provisioningStatusInfo"]["status"] == "failure"
                       and r.event["provisioningSteps"][0]["name"] == "EntryEscrowRetry"
                       and latest[r.identity].event["provisioningStatusInfo"]["status"]
                       == "failure"})

    note = "same object failing cycle after cycle with EntryEscrowRetry steps"
    names = retried_failures(sc.records)
    out = [Finding(16, names, note)] if names else []
    for period in sc.periods:  # whoever is still failing at each period's end
        inside = [r for r in sc.records if period["start"] <= iso_z(r.when) < period["end"]]
        names = retried_failures(inside)
        if names:
            out.append(Finding(16, names, note, period["name"], period_only=True))
    return out


def noise(sc: Scenario) -> list[str]:
    """NotEffectivelyEntitled skips that are expected noise (not listed under pattern 13)."""
    flagged = {n for f in sc.findings if f.pattern == 13 for n in f.affected}
    return sorted({r.identity for r in sc.records
                   if r.event["sourceIdentity"]["identityType"] == "User"
                   and r.event["provisioningSteps"][-1]["details"].get("SkipReason")
                   == "NotEffectivelyEntitled" and r.identity not in flagged})


def finding_json(f: Finding) -> dict:
    out = {"pattern": f.pattern, "guide_steps": GUIDE_STEPS[f.pattern], "affected": f.affected}
    if f.period:
        out["period"] = f.period
    if f.period_only:
        out["period_only"] = True
    if f.note:
        out["note"] = f.note
    return out


def scenario_manifest(sc: Scenario) -> dict:
    findings = sorted(sc.findings + escrow_findings(sc), key=lambda f: (f.period or "",
                                                                         f.pattern))
    counts: dict[str, int] = {}
    for r in sc.records:
        status = r.event["provisioningStatusInfo"]["status"]
        counts[status] = counts.get(status, 0) + 1
    entry = {
        "summary": sc.summary,
        "events": len(sc.records),
        "status_counts": dict(sorted(counts.items())),
        "cycles": len(sc.cycles),
        "first_event": iso_z(min(r.when for r in sc.records)),
        "last_event": iso_z(max(r.when for r in sc.records)),
        "findings": [finding_json(f) for f in findings],
        "noise_not_effectively_entitled": noise(sc),
    }
    if sc.periods:
        entry["periods"] = sc.periods
    return entry


def write_formats(sc: Scenario, manifest: dict) -> None:
    """The failing-initial events in every source format."""
    base = OUT / "formats"
    rng = Gen("formats")
    same = {"same_events_as": f"{sc.name}.json"}
    sizes = write_graph_pages(base / "graph-v1", sc.records, rng)
    for n, size in enumerate(sizes, start=1):
        manifest[f"formats/graph-v1/page-{n:03d}.json"] = {**same, "events": size}
    write_graph_beta(base / "graph-beta-page.json", sc.records, rng)
    write_portal_json(base / "portal-pretty.json", sc.records, pretty=True)
    one, two = write_storage(base / "storage", sc.records)
    write_portal_csv(base / "csv", sc.records)
    write_csv_variant(base / "csv-variant", sc.records)
    write_log_analytics(base / "log-analytics", sc.records)
    for name in ("graph-beta-page.json", "portal-pretty.json", "storage/PT1H.json",
                 "storage/PT1H.json.gz", "csv/ProvisioningLogs.csv",
                 "csv/ProvisioningLogs_ProvisioningSteps.csv",
                 "csv/ProvisioningLogs_ModifiedProperties.csv", "csv/ProvisioningLogs.zip",
                 "csv-variant/ProvisioningLogs.csv",
                 "csv-variant/ProvisioningLogs_ProvisioningSteps.csv",
                 "csv-variant/ProvisioningLogs_ModifiedProperties.csv",
                 "log-analytics/AADProvisioningLogs.csv", "log-analytics/AADProvisioningLogs.json"):
        manifest[f"formats/{name}"] = same
    manifest["formats/storage/PT1H.json"] = {**same, "events": one}
    manifest["formats/storage/PT1H.json.gz"] = {**same, "events": two}


JOB_FINDINGS = {
    "pattern-04-bad-token": [4, 16],
    "pattern-16-quarantine-escrow": [16],
}


def clean_outputs() -> None:
    """Remove previously generated files so renamed scenarios leave nothing behind
    (``config/`` has its own generator)."""
    for path in OUT.iterdir():
        if path.name in ("README.md", "generate.py", "config"):
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def main() -> None:
    clean_outputs()
    builders: list[Callable[[], Scenario | tuple[Scenario, dict]]] = [
        scenario_healthy, scenario_failing_initial, scenario_group_404_halt, scenario_p01,
        scenario_p02, scenario_p03, scenario_p04, scenario_p05, scenario_p06, scenario_p07,
        scenario_p08, scenario_p09, scenario_p10, scenario_p11, scenario_p12, scenario_p13,
        scenario_p14, scenario_p15, scenario_p16, scenario_p17, scenario_weekly,
    ]
    manifest: dict = {
        "generator": "sample_logs/generate.py",
        "tenant_id": TENANT_ID,
        "job_id": JOB_ID,
        "service_principal": {"id": SERVICE_PRINCIPAL_ID, "displayName": APP_NAME},
        "identity_rule": "users: lower-cased userPrincipalName; groups: displayName",
        "files": {},
    }
    files = manifest["files"]
    jobs: dict[str, dict] = {}
    for build in builders:
        result = build()
        sc, job = result if isinstance(result, tuple) else (result, None)
        write_portal_json(OUT / f"{sc.name}.json", sc.records)
        files[f"{sc.name}.json"] = scenario_manifest(sc)
        if job is not None:
            jobs[sc.name] = job
        if sc.name == "failing-initial":
            write_formats(sc, files)
        if sc.name == "healthy-incremental":
            jobs["healthy"] = job_status(sc, "Active", successful=sc.cycles[-1],
                                         last=sc.cycles[-1])
    for name, job in jobs.items():
        rel = f"job-status/{name}.job.json"
        write_text(OUT / rel, dump(job, True))
        files[rel] = {
            "status_code": job["status"]["code"],
            "quarantine_reason": (job["status"]["quarantine"] or {}).get("reason"),
            "findings": [{"pattern": n, "guide_steps": GUIDE_STEPS[n], "affected": []}
                         for n in JOB_FINDINGS.get(name, [])],
            "logs": f"{name}.json" if name != "healthy" else "healthy-incremental.json",
        }
    manifest["files"] = dict(sorted(files.items()))
    write_text(OUT / "manifest.json", dump(manifest, True))


if __name__ == "__main__":
    main()
