"""One person's story: order, plain-word reasons, and what a skip really means."""

from __future__ import annotations

import json

import pytest
from eventfactory import Export, held_reversed
from why_records import (
    Person,
    create,
    failed_create,
    in_sync,
    not_entitled,
    scim_error,
    write_export,
)

from loganalyzer.ingest import ingest_to_store, load
from loganalyzer.why import query
from loganalyzer.why.frame_source import FrameSource
from loganalyzer.why.indexed import IndexedStore
from loganalyzer.why.timeline import build

KARI = Person("2c9d7e4f-6b58-4a10-8e1a-5d92b3e1a7c4", "kari.nilsen@northwind.no", "Kari Nilsen",
              "a1b2c3d4e5f60718293a4b5c")
C1, C2, C3 = ("5f0e2d4c-6b8a-4c1e-9d3f-7a5b3c1e9f02", "7a5b3c1e-9f02-4c1e-9d3f-5f0e2d4c6b8a",
              "9d3f7a5b-3c1e-4f02-8c1e-5f0e2d4c6b8a")


def _answer(tmp_path, records, user="KARI.NILSEN@NORTHWIND.NO"):
    return query.why(load([write_export(tmp_path / "export.json", records)]), user)


def test_timeline_is_oldest_first_with_the_scim_detail_as_reason(tmp_path):
    records = [  # a portal download lists newest first
        in_sync(KARI, "2026-03-10T10:40:00Z", C3),
        create(KARI, "2026-03-10T10:00:00Z", C2),
        failed_create(KARI, "2026-03-10T09:20:00Z", C1, "BadRequest",
                      scim_error(400, "Department 'Sales EMEA' does not exist")),
    ]
    answer = _answer(tmp_path, records)
    assert [e.status for e in answer.timeline] == ["failure", "success", "skipped"]
    first = answer.timeline[0]
    assert first.http_status == 400
    assert first.failed_step == "EntryExportAdd"
    assert first.reason == "Department 'Sales EMEA' does not exist"  # not the whole wrapper
    assert answer.timeline[1].reason == "created in Flowcase"
    assert answer.timeline[2].skip == "already_in_sync"
    assert answer.verdict.state == "provisioned"
    assert answer.verdict.reason == "already_in_sync"


def test_latest_failure_makes_the_user_failing(tmp_path):
    records = [
        create(KARI, "2026-03-10T09:00:00Z", C1),
        failed_create(KARI, "2026-03-10T10:00:00Z", C2, "Conflict",
                      scim_error(409, "A user with this email already exists", "uniqueness")),
    ]
    verdict = _answer(tmp_path, records).verdict
    assert verdict.state == "failing"
    assert "409" in verdict.message
    assert "A user with this email already exists" in verdict.message


def test_unassigned_user_is_skipped_with_guide_step_5_and_the_nested_group_caveat(tmp_path):
    verdict = _answer(tmp_path, [not_entitled(KARI, "2026-03-10T09:00:00Z", C1)]).verdict
    assert verdict.state == "skipped"
    assert verdict.reason == "not_assigned"
    assert verdict.guide_steps[0] == "5"
    assert "nested group" in verdict.note


def test_scoping_filter_skip_names_the_failing_clause(tmp_path):
    scope = json.dumps({"Nordics filter.country EQUALS 'NO'": False})
    record = not_entitled(KARI, "2026-03-10T09:00:00Z", C1, assigned=True,
                          filter_passed=False, scope=scope)
    answer = _answer(tmp_path, [record])
    assert answer.timeline[0].skip == "scoping_filter"
    assert "Nordics filter.country EQUALS 'NO'" in answer.timeline[0].reason
    assert answer.verdict.state == "skipped"
    assert answer.verdict.reason == "scoping_filter"
    assert "Source Object Scope" in answer.verdict.fix


def test_skip_classes_from_on_demand_detail_spellings():
    # provision-on-demand writes IsActive / Assigned instead of the portal's long keys
    export = Export()
    for upn, active, assigned, reason in [
        ("ida@contoso.no", "True", "False", "NotEffectivelyEntitled"),
        ("jon@contoso.no", "False", "True", "NotEffectivelyEntitled"),
        ("liv@contoso.no", "True", "True", "NotEffectivelyEntitled"),
        ("ola@contoso.no", "True", "True", "RedundantExport"),
    ]:
        export.user(upn, status="skipped", skip_reason=reason,
                    scoping={"IsActive": active, "Assigned": assigned})
    frames = export.frames()
    skips = [e.skip for e in build(frames.events, [])]
    assert skips == ["not_assigned", "inactive_in_entra", "not_entitled", "already_in_sync"]


def test_events_of_the_same_second_give_the_same_answer_however_they_are_held(tmp_path):
    """Graph logs whole seconds. Kari fails in two cycles in the same second, one of them
    halted by a bad token: which event is her latest (and so what explains her) follows the
    file, never the order a join or a store happens to hold the rows in."""
    at = "2026-03-10T10:00:00Z"
    others = [Person(f"0b7e4a21-5c3d-4f60-8e1a-2b3c4d5e6f7{n}", f"user{n}@northwind.no",
                     f"User {n}") for n in range(3)]
    records = [
        failed_create(KARI, at, C1, "BadRequest",
                      scim_error(400, "Department 'Sales EMEA' does not exist")),
        failed_create(KARI, at, C2, "Unauthorized", ""),
        *(failed_create(p, at, C2, "Unauthorized", "") for p in others),
        in_sync(others[0], "2026-03-10T11:00:00Z", C3),  # the job's newest cycle: a later one
    ]
    frames = load([write_export(tmp_path / "export.json", records)]).frames
    answers = [query.to_json(query.why(FrameSource.from_frames(f), "kari.nilsen@northwind.no"))
               for f in (frames, held_reversed(frames))]
    assert answers[0] == answers[1]
    assert [e["status"] for e in answers[0]["timeline"]] == ["failure", "failure"]
    assert answers[0]["verdict"]["rule_id"] == "FC004"  # her latest: the 401, listed last


def test_a_latest_failure_no_rule_explains_is_not_blamed_on_an_earlier_finding(tmp_path):
    """An earlier create sent an upper-case userName (FC006's); the latest failure, about a
    phone number, is no rule's: the verdict says so instead of citing FC006 (docs/why.md:
    the rule explains the latest event, or it is job-wide)."""
    latest = failed_create(KARI, "2026-03-10T10:00:00Z", C2, "BadRequest",
                           scim_error(400, "phoneNumbers: value is not a valid phone number"))
    error = latest["provisioningStatusInfo"]["errorInformation"]  # a first attempt: no escrow
    error["reason"] = error["reason"].replace("retried 1 times", "retried 0 times")
    records = [create(KARI, "2026-03-10T09:00:00Z", C1, user_name="Kari.Nilsen@northwind.no"),
               latest]
    answer = _answer(tmp_path, records)
    assert "FC006" in {e.rule_id for e in answer.explanations}  # listed for the create
    assert answer.verdict.state == "failing"
    assert answer.verdict.rule_id is None
    assert "No rule explains it" in answer.verdict.message


def test_a_status_graph_added_later_is_unknown_never_provisioned(tmp_path):
    record = create(KARI, "2026-03-10T10:00:00Z", C1)
    record["provisioningStatusInfo"]["status"] = "unknownFutureValue"
    verdict = _answer(tmp_path, [record]).verdict
    assert verdict.state == "unknown"


def test_a_person_in_two_flowcase_apps_is_told_the_answer_mixes_them(tmp_path):
    """A test instance beside production: both apps are named Flowcase, so both are read."""
    production = failed_create(KARI, "2026-03-10T09:00:00Z", C1, "Conflict",
                               scim_error(409, "A user with this email already exists",
                                          "uniqueness"))
    test_instance = create(KARI, "2026-03-10T10:00:00Z", C2)
    test_instance["servicePrincipal"] = {"id": "0f1e2d3c-4b5a-4968-8776-a5b4c3d2e1f0",
                                         "displayName": "Flowcase SCIM (test)"}
    test_instance["jobId"] = test_instance["jobId"][:-4] + "beef"
    answer = _answer(tmp_path, [production, test_instance])
    [note] = [n for n in answer.notes if "Flowcase apps" in n]
    assert "Flowcase SCIM: 1" in note and "Flowcase SCIM (test): 1" in note and "--app" in note
    alone = _answer(tmp_path, [production])
    assert not [n for n in alone.notes if "Flowcase apps" in n]


@pytest.mark.parametrize("newest_first", [True, False], ids=["portal-newest-first",
                                                             "storage-oldest-first"])
@pytest.mark.parametrize("read_from", ["export", "store"])
def test_events_of_the_same_second_are_ordered_as_their_file_runs(tmp_path, newest_first,
                                                                    read_from):
    """Kari's create fails on a department at 10:00:00 and succeeds, after the fix, in the
    same second. A portal or Graph download lists the newest event first, a storage export
    the oldest first: either way her latest event is the create that worked."""
    at = "2026-03-10T10:00:00Z"
    other = Person("0b7e4a21-5c3d-4f60-8e1a-2b3c4d5e6f70", "ola.berg@northwind.no", "Ola Berg")
    oldest_first = [
        in_sync(other, "2026-03-10T09:00:00Z", C1),
        failed_create(KARI, at, C2, "BadRequest",
                      scim_error(400, "Department 'Sales EMEA' does not exist")),
        create(KARI, at, C3),
    ]
    path = tmp_path / "export.json"
    if newest_first:
        write_export(path, oldest_first[::-1])
    else:  # one object per line, as a storage account writes them
        path = tmp_path / "export.ndjson"
        path.write_text("".join(json.dumps(r) + "\n" for r in oldest_first))
    if read_from == "store":
        ingest_to_store([path], tmp_path / "store")
        source = IndexedStore.open([tmp_path / "store"])
    else:
        source = FrameSource.from_frames(load([path]).frames)
    answer = query.to_json(query.why(source, "kari.nilsen@northwind.no"))
    assert [e["status"] for e in answer["timeline"]] == ["failure", "success"]
    assert answer["verdict"]["state"] == "provisioned"


def test_the_verdict_speaks_of_this_user_not_of_everyone_the_finding_names():
    """FC007's message lists five other users and Henrik's duplicate address: Ole's verdict
    names the rule and counts the others, and says nothing about them."""
    from conftest import SAMPLES

    ole = "OLE.JOHANSEN@northwind.no"
    verdict = query.why(load([SAMPLES / "failing-initial.json"]), ole).verdict
    assert verdict.rule_id == "FC007"
    assert verdict.message == (
        "Failing: the latest create failed with HTTP 409: A user with this email address "
        "already exists. FC007 (Duplicate users or identifiers that do not match pre-existing "
        "Flowcase data) explains it, for 5 other users too."
    )


def test_a_skip_a_finding_explains_is_told_with_this_users_reason_only():
    export = Export()
    for upn in ("ida@contoso.no", "jon@contoso.no"):
        export.user(upn, status="skipped", skip_reason="AttributeValidationFailed")
    verdict = query.why(export.frames(), "ida@contoso.no").verdict
    assert verdict.state == "skipped" and verdict.rule_id == "FC021"
    assert verdict.message == (
        "Skipped (AttributeValidationFailed): FC021 (A value the mapping needs is empty or "
        "invalid in Entra (user skipped)) explains it, for 1 other user too."
    )
