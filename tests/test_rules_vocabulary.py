"""Keyword support patterns against error texts real SCIM apps return (and near misses).

Texts are lower-cased as the ``text`` column of ``Context.events_where`` is. Sources: public
issue trackers and Q&A threads of SCIM servers behind Entra (Sentry, WSO2, FusionAuth, scimmy,
Claude, Slack-style error codes, Salesforce, Entra's own connector messages).
"""

from __future__ import annotations

import polars as pl
import pytest

from diagnostics.facts import vocabulary as v

MATCHES = {
    "DUPLICATE": [
        "user already exists in the database.",
        "the value of the claim email is already used by another user",
        "email_taken",
        "user with given username already exists",
        "[duplicate]user.username",
        "duplicate_username:duplicate username.",
        "conflict: email already in use",
        "this response indicates that a user or a group already exisits with the same name.",
        "external id 'abc' already exists",
    ],
    "DEPARTMENT": [
        "department 'sales emea' does not exist",
        "value not supported for attribute department. please maintain the value first.",
        "no office named \"r&d\" was found",
        "unknown organizational unit",
        "unknown organisational unit 'r&d'",
        "invalid value for urn:ietf:params:scim:schemas:extension:enterprise:2.0:user:department",
    ],
    "AMBIGUOUS": [
        "department 'consulting' is ambiguous",
        "multiple departments match 'sales'",
        "found 2 departments named \"sales\"; cannot determine which one to use",
        "department could not be resolved uniquely",
        "duplicate department name 'consulting': it exists in no and se",
        "conflict: department 'sales' matches several departments",
    ],
    "USER_EXISTS": [
        "a user with this email address already exists",
        "user with email 'ole.johansen@northwind.no' already exists",
        "unclaimed user already exists for that email address.",
        "conflict: email already in use",
        '{"detail":"user with username \\"per.olsen@contoso.no\\" already exists"}',
        "username 'per.olsen' is taken",
    ],
    "BOOLEAN": [
        "attribute 'active' expected value type 'boolean' but found type 'string' for 'replace' op",
        "cannot deserialize value of type `java.lang.boolean` from string \"true\"",
        "active must be a boolean",
    ],
    "PATCH_SHAPE": [
        "invalid scim patch: impossible to search on a mono valued attribute.",
        "unsupported operation: replace",
        "op must be one of add, remove, replace",
        "operation 'add' is not supported",
    ],
    "MANAGER": [
        "attribute 'manager' is not supported",
        "unable to resolve manager reference",
        "unsupported patch path: urn:ietf:params:scim:schemas:extension:enterprise:2.0:"
        "user:manager",
    ],
    "ROLE": ["invalid role 'consultant'", "roles[0].value: 'admin' is not a supported role"],
    "MISSING": ["emails is required", "email can't be blank", "missing required attribute: emails"],
    "ACTIVE": ["user must be active.", "cannot update a deactivated user", "user is suspended"],
    "AUTH": ["invalid_token", "bad credentials", "invalid api token", "not_authed"],
    "FORBIDDEN": ["forbidden", "insufficient privileges to modify users", "permission denied"],
    "TRANSIENT": ["the operation has timed out.", "rate limit exceeded", "504 gateway time-out"],
}
MISSES = {
    "DUPLICATE": ["user already inactive", "user must be active."],
    "MANAGER": ["invalid role 'departmentmanager:office:no:sales'", "countrymanager"],
    "ACTIVE": ["interactive sessions are not allowed"],
    "DEPARTMENT": ["please contact support"],
    "BOOLEAN": ["user must be active."],
    "USER_EXISTS": [
        "duplicate department name 'consulting': it exists in no and se",
        "cannot create user, department 'sales' exists in several countries",
        # Entra's own sentence for any 409 of a connector: not the app saying the user exists
        "this response indicates that a user or a group already exisits with the same name.",
    ],
}


def _matches(pattern: str, text: str) -> bool:
    return pl.Series([text]).str.contains(pattern).item()


@pytest.mark.parametrize(
    ("name", "text"), [(n, t) for n, texts in MATCHES.items() for t in texts]
)
def test_pattern_matches_real_wordings(name: str, text: str) -> None:
    assert _matches(getattr(v, name), text)


@pytest.mark.parametrize(("name", "text"), [(n, t) for n, texts in MISSES.items() for t in texts])
def test_pattern_ignores_near_misses(name: str, text: str) -> None:
    assert not _matches(getattr(v, name), text)


def test_manager_roles_are_excluded_by_their_own_pattern() -> None:
    text = "the api key does not have international manager access"
    assert _matches(v.MANAGER, text) and _matches(v.MANAGER_ROLE, text)
