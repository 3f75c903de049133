"""Finding one person from whatever identifier an admin types, in any case."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest
from why_records import (
    Person,
    create,
    failed_create,
    in_sync,
    not_entitled,
    scim_error,
    write_export,
)

from loganalyzer.ingest import load
from loganalyzer.why.frame_source import FrameSource
from loganalyzer.why.lookup import lookup

ANNA = Person("6f1c2a9e-3b7d-4e15-9a0c-1d2e3f405161", "Anna.Berg@contoso.com", "Anna Berg",
              "3e223d8131124723b8fabaea", employee_id="104125")
ANNA_LOWER = Person(ANNA.object_id, "anna.berg@contoso.com", "Anna Berg", ANNA.flowcase_id)
BOB = Person("0b7e4a21-5c3d-4f60-8e1a-2b3c4d5e6f70", "bob@contoso.com", "Bob Stone",
             "62ccaf26825e8d254081d7c6")
BOB2 = Person("9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d", "bob.stone@contoso.com", "Bob Stone",
              "8c2d1e0f9a8b7c6d5e4f4a3b")
ADMIN = Person("4d3c2b1a-0f9e-4d8c-b7a6-958473625140", "adm.anna.berg@contoso.com",
               "Admin Anna Berg", "", mail="anna.berg@contoso.com")
C1, C2 = "b5584f93-0fa5-4962-a60a-64675c42a46d", "d63b8c72-743e-460e-b64a-ab0f617d0d43"


@pytest.fixture(scope="module")
def source(tmp_path_factory) -> FrameSource:
    records = [
        # Anna: a 409 logged without her object id (only the UPN), then created, then in sync
        failed_create(ANNA, "2026-03-01T09:00:00Z", C1, "Conflict",
                      scim_error(409, "User already exists", "uniqueness"),
                      user_name="Anna.Berg@contoso.com", source_id=False),
        create(ANNA, "2026-03-01T10:00:00Z", C1),
        in_sync(ANNA, "2026-03-01T11:00:00Z", C2),
        # the same object later logged with a differently cased UPN
        in_sync(ANNA_LOWER, "2026-03-01T11:40:00Z", C2),
        not_entitled(BOB, "2026-03-01T10:01:00Z", C1),
        create(BOB2, "2026-03-01T10:05:00Z", C1),
        # an admin account that exports Anna's mail address
        failed_create(ADMIN, "2026-03-01T10:07:00Z", C1, "Conflict",
                      scim_error(409, "email already in use", "uniqueness"),
                      email="anna.berg@contoso.com"),
    ]
    path = write_export(tmp_path_factory.mktemp("lookup") / "export.json", records)
    return FrameSource.from_frames(load([Path(path)]).frames)


@pytest.mark.parametrize(
    "typed",
    [
        "ANNA.BERG@CONTOSO.COM",  # UPN, other case
        "anna.berg@contoso.com",  # the sent userName, lower-cased by ToLower
        "6F1C2A9E-3B7D-4E15-9A0C-1D2E3F405161",  # Entra object id, upper-case
        "3E223D8131124723B8FABAEA",  # Flowcase id
        "104125",  # externalId (employeeId)
        "anna berg",  # display name
    ],
)
def test_every_identifier_finds_the_same_person_with_all_events(source, typed):
    found = lookup(source, typed)
    assert found.person is not None, found
    assert found.person.object_id == ANNA.object_id
    # the 409 logged without an object id is hers too: it shares her UPN and nobody else's
    assert found.person.events == 4
    assert found.person.last_status == "skipped"
    assert sorted(found.person.upns) == ["Anna.Berg@contoso.com", "anna.berg@contoso.com"]


def test_upn_beats_another_account_that_only_sent_the_same_email(source):
    # adm.anna.berg exported anna.berg@contoso.com as its email: that must not make her
    # ambiguous, because her UPN is an exact match on a stronger identifier
    found = lookup(source, "Anna.Berg@contoso.com")
    assert [p.object_id for p in found.people] == [ANNA.object_id]


def test_shared_display_name_lists_both_people_with_what_tells_them_apart(source):
    found = lookup(source, "BOB STONE")
    assert found.person is None
    by_id = {p.object_id: p for p in found.people}
    assert set(by_id) == {BOB.object_id, BOB2.object_id}
    assert by_id[BOB.object_id].upns == ["bob@contoso.com"]
    assert by_id[BOB.object_id].last_status == "skipped"
    assert by_id[BOB2.object_id].last_status == "success"


def test_prefix_matching_several_people_is_ambiguous(source):
    found = lookup(source, "Bob")
    assert found.matched_on == "partial identifier"
    assert len(found.people) == 2


def test_unique_prefix_resolves(source):
    found = lookup(source, "bob.st")
    assert found.person is not None and found.person.object_id == BOB2.object_id


def test_nobody_matches_suggests_the_closest_identifiers(source):
    found = lookup(source, "Anna.Berg@contoso.con")
    assert found.people == []
    assert "anna.berg@contoso.com" in found.suggestions
    assert found.coverage.events == 7
    assert found.coverage.apps == ["Flowcase SCIM"]
    assert found.coverage.start.isoformat().startswith("2026-03-01T09:00")


def test_groups_are_not_people(tmp_path):
    records = [create(ANNA, "2026-03-01T10:00:00Z", C1)]
    group = create(BOB, "2026-03-01T10:02:00Z", C1)
    group["sourceIdentity"]["identityType"] = "Group"
    group["targetIdentity"]["identityType"] = "urn:ietf:params:scim:schemas:core:2.0:Group"
    records.append(group)
    source = FrameSource.from_frames(load([write_export(tmp_path / "g.json", records)]).frames)
    assert lookup(source, "bob stone").people == []


def test_an_identifier_only_in_step_details_is_found(tmp_path):
    # a skip that carries neither UPN nor object id: only ReportableIdentifier names the user
    record = not_entitled(BOB, "2026-03-01T10:01:00Z", C1)
    record["sourceIdentity"] = {"details": {}, "displayName": "", "id": "",
                                "identityType": "User"}
    record["provisioningSteps"][0]["details"] = {}
    record["provisioningSteps"][-1]["details"]["ReportableIdentifier"] = "Robert.Stone@contoso.com"
    source = FrameSource.from_frames(load([write_export(tmp_path / "d.json", [record])]).frames)
    found = lookup(source, "robert.stone@CONTOSO.com")
    assert found.person is not None
    assert found.person.events == 1


@pytest.mark.parametrize("typed", ["İlkay Şahin", "i̇lkay şahin", "İLKAY ŞAHIN"])
def test_a_name_with_a_dotted_capital_i_is_found_however_it_is_typed(tmp_path, typed):
    """Python lower-cases İ to i plus a combining dot, which a case-insensitive regex does not
    match against the log's İ; a name typed decomposed (as macOS may) is the same name."""
    ilkay = Person("5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d", "ilkay.sahin@contoso.com",
                   "İlkay Şahin", "7d6c5b4a3f2e1d0c9b8a7f6e")
    path = write_export(tmp_path / "i.json", [create(ilkay, "2026-03-01T10:00:00Z", C1),
                                               create(BOB, "2026-03-01T10:02:00Z", C1)])
    source = FrameSource.from_frames(load([path]).frames)
    found = lookup(source, typed)
    assert found.person is not None and found.person.events == 1
    assert lookup(source, unicodedata.normalize("NFD", "İlkay Şahin")).person is not None
