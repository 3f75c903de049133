"""The engine: ordering, the leading finding, isolation of a crashing rule, unexplained, summary."""

from __future__ import annotations

import dataclasses
import json
import tempfile
from datetime import UTC, datetime

import pytest
from eventfactory import (
    DEPARTMENT,
    EMAIL,
    Export,
    held_reversed,
    ignored_attribute_warning,
    status_only_warning,
    unresolved_manager_warning,
)

from diagnostics import RULES
from diagnostics.facts.job_status import JobStatusError, parse_job_status
from loganalyzer import engine
from loganalyzer.engine import (
    EVIDENCE_LIMIT,
    diagnose,
    findings_for_events,
    findings_of,
    lead_order,
    leading_finding_for,
)
from loganalyzer.findings import severity_rank
from loganalyzer.ingest import ingest_to_store, load
from loganalyzer.normalize import Frames
from loganalyzer.schema import empty_frame


def dept_failure(x: Export, upn: str, department: str = "Sales EMEA", **kw) -> dict:
    return x.user(
        upn, status="failure", http=400, detail=f"Department '{department}' does not exist",
        sent={"userName": upn.lower(), EMAIL: upn.lower(), DEPARTMENT: department}, **kw,
    )


def mixed_export() -> Export:
    """A token problem, unknown departments, throttling and a user skipped as unassigned."""
    x = Export()
    dept_failure(x, "silje.bakken@contoso.no", cycle="c1")
    dept_failure(x, "oskar.nystrom@contoso.se", cycle="c1")
    x.user("anna.berg@contoso.no", cycle="c1", status="failure", http=429, body="Too many")
    x.user("kari.nilsen@contoso.no", cycle="c2", status="failure", http=401, body="")
    x.user("per.olsen@contoso.no", cycle="c2", status="failure", http=401, body="")
    x.user("tuva.aas@contoso.no", cycle="c2", status="skipped", assigned=False)
    return x


def test_findings_are_ordered_causes_first_then_by_severity_then_guide_step() -> None:
    diagnosis = diagnose(mixed_export().frames())
    # the info-level noise (FC018, step 5) comes after the low cause without a step (FC017)
    assert [f.rule_id for f in diagnosis.findings] == ["FC004", "FC008", "FC017", "FC018"]
    x = mixed_export()
    for cycle in ("c3", "c4", "c5"):
        x.user("kari.nilsen@contoso.no", cycle=cycle, status="failure", http=401, body="")
    steps3 = [f for f in diagnose(x.frames()).findings if f.guide_steps[:1] == ["3"]]
    assert [f.rule_id for f in steps3] == ["FC004", "FC016"]
    assert severity_rank(steps3[0].severity) < severity_rank(steps3[1].severity)


def test_event_ids_hold_every_event_a_finding_explains() -> None:
    x = Export()
    failing = [dept_failure(x, f"user{i}@contoso.no", cycle=f"c{i % 3}")["id"] for i in range(9)]
    x.user("fine@contoso.no")
    finding = next(f for f in diagnose(x.frames()).findings if f.rule_id == "FC008")
    assert sorted(finding.event_ids) == sorted(failing)
    assert finding.events == 9 and len(finding.affected) == 9
    assert len(finding.evidence) == EVIDENCE_LIMIT
    assert len({e.event_id for e in finding.evidence}) == EVIDENCE_LIMIT
    assert finding.cycles == ["c0", "c1", "c2"]  # in order of first appearance


def test_evidence_shows_different_users_before_repeats() -> None:
    x = Export()
    for cycle in ("c1", "c2", "c3", "c4", "c5", "c6"):
        dept_failure(x, "ingrid.holm@contoso.no", cycle=cycle)
    last = dept_failure(x, "line.skov@contoso.dk", cycle="c6")
    finding = next(f for f in diagnose(x.frames()).findings if f.rule_id == "FC008")
    shown = [e.event_id for e in finding.evidence]
    assert len(shown) == EVIDENCE_LIMIT and last["id"] in shown


def test_the_earliest_guide_step_leads_for_a_user() -> None:
    """A department that does not exist (step 1) leads over a required attribute left empty
    (step 7a) for the user both explain."""
    x = Export()
    x.user("nora.strand@contoso.no", status="failure", http=400,
           detail="Department 'Sales EMEA' does not exist", sent={"department": "Sales EMEA"},
           cycle="c1")
    x.user("nora.strand@contoso.no", status="failure", http=400,
           detail="Attribute 'name.familyName' is required", cycle="c2")
    diagnosis = diagnose(x.frames())
    steps = {f.rule_id: f.guide_steps[0] for f in diagnosis.findings}
    assert steps.get("FC008") == "1" and len(steps) >= 2, steps
    assert leading_finding_for(diagnosis, "nora.strand@contoso.no").rule_id == "FC008"


def test_upper_case_identifiers_lead_over_the_conflict_they_cause() -> None:
    """Catalog pattern 6: the 409 after an upper-case userName is its consequence, so FC006
    (step 7a, ToLower) leads over FC007 (step 1) for that user, and the finding says so."""
    x = Export()
    x.user(
        "Erik.Dahl@contoso.no", status="failure", http=409, detail="User already exists",
        sent={"userName": "Erik.Dahl@contoso.no", EMAIL: "erik.dahl@contoso.no"},
    )
    diagnosis = diagnose(x.frames())
    found = {f.rule_id: f for f in diagnosis.findings}
    assert {"FC006", "FC007"} <= set(found)
    assert leading_finding_for(diagnosis, "ERIK.DAHL@contoso.no").rule_id == "FC006"
    assert "1 request of theirs failed as a conflict" in found["FC006"].message


def test_a_cause_leads_over_escrow_whatever_its_guide_step() -> None:
    x = Export()
    for cycle in ("c1", "c2", "c3"):
        x.user(
            "niels.juhl@contoso.dk", cycle=cycle, action="update", status="failure", http=500,
            detail="An unexpected error occurred", escrow=cycle != "c1", matched_id="9",
        )
    diagnosis = diagnose(x.frames())
    escrow = next(f for f in diagnosis.findings if f.rule_id == "FC016")
    assert escrow.kind == "consequence" and escrow.guide_steps[0] == "3"
    assert leading_finding_for(diagnosis, "niels.juhl@contoso.dk").rule_id == "FC017"
    ids = [r["id"] for r in x.records]
    assert [f.rule_id for f in findings_for_events(diagnosis, ids)] == ["FC017", "FC016"]
    assert lead_order(reversed(diagnosis.findings))[0].rule_id == "FC017"


def test_a_group_is_found_by_its_name() -> None:
    x = Export()
    x.group("Flowcase Users", http=404)
    x.group("Flowcase Users", http=404, cycle="c2")
    x.group("Flowcase Users", http=404, cycle="c3")
    diagnosis = diagnose(x.frames())
    assert leading_finding_for(diagnosis, "flowcase users").rule_id == "FC001"


def test_two_groups_of_the_same_name_are_two_groups() -> None:
    """Entra allows two groups of one display name (one re-created beside the old): the
    message counts the groups the affected list shows, each named with its object id."""
    x = Export()
    x.user("kari.nilsen@contoso.no")
    x.group("Flowcase Users", http=404)
    x.object_ids["group:Flowcase Users"] = "99999999-4a4c-4b2e-9c1d-5e6f7a8b9c0d"
    x.group("Flowcase Users", http=404)
    [finding] = [f for f in diagnose(x.frames()).findings if f.rule_id == "FC001"]
    assert len(finding.affected) == 2
    assert finding.message.startswith("2 groups (Flowcase Users <00000002-"), finding.message
    assert "Flowcase Users <99999999-4a4c-4b2e-9c1d-5e6f7a8b9c0d>) failed 2 times" in \
        finding.message


def test_nobody_leads_for_an_unknown_user() -> None:
    assert leading_finding_for(diagnose(mixed_export().frames()), "ghost@contoso.no") is None


def test_a_crashing_rule_is_reported_and_the_run_goes_on(monkeypatch) -> None:
    def boom(ctx):
        raise ValueError("column 'x' not found")

    broken = tuple(
        dataclasses.replace(r, evaluate=boom) if r.id == "FC004" else r for r in RULES
    )
    monkeypatch.setattr(engine, "RULES", broken)
    diagnosis = diagnose(mixed_export().frames())
    assert len(diagnosis.rule_errors) == 1
    assert "FC004" in diagnosis.rule_errors[0]
    assert "column 'x' not found" in diagnosis.rule_errors[0]
    error = next(f for f in diagnosis.findings if f.rule_id == "FC004")
    assert error.kind == "error" and error.severity == "info" and error.events == 0
    assert {"FC008", "FC017"} <= {f.rule_id for f in diagnosis.findings}
    assert diagnosis.summary["unexplained_failures"] == 2  # the 401s nobody explained


def test_unexplained_failures_are_grouped_by_code_and_status() -> None:
    x = Export()
    for upn in ("a@contoso.no", "b@contoso.no", "a@contoso.no"):
        x.user(upn, status="failure", http=418, detail="I'm a teapot", error_code="Teapot")
    x.user("c@contoso.no", status="failure", http=400, detail="Something odd happened")
    dept_failure(x, "d@contoso.no")
    diagnosis = diagnose(x.frames())
    groups = [(u.error_code, u.http_status, u.count, u.affected) for u in diagnosis.unexplained]
    assert groups == [
        ("Teapot", 418, 3, 2),
        ("SystemForCrossDomainIdentityManagementServiceIncompatible", 400, 1, 1),
    ]
    assert diagnosis.unexplained[0].sample_reason == "I'm a teapot"
    assert diagnosis.summary["failures"] == 5
    assert diagnosis.summary["explained_failures"] == 1
    assert diagnosis.summary["unexplained_failures"] == 4


def warning_export() -> Export:
    """Two users whose costCenter Flowcase ignored (HTTP 400), one an hour later whose
    manager Entra could not resolve (a referenceResolution step: FC002's evidence), one
    warning that says nothing, and a failure no rule knows."""
    x = Export()
    ignored_attribute_warning(x, "silje.bakken@contoso.no")
    ignored_attribute_warning(x, "oskar.nystrom@contoso.se")
    unresolved_manager_warning(x, "anna.berg@contoso.no", "6c258881-67cc-427b-a052-7828e024b3ee")
    x.user("tuva.aas@contoso.no", action="update", status="warning")
    x.user("per.olsen@contoso.no", status="failure", http=418, detail="I'm a teapot",
           error_code="Teapot")
    return x


def test_warnings_no_finding_explains_are_listed_by_reason() -> None:
    """A warning's reason (an attribute Flowcase ignored) must reach the diagnosis, grouped
    as the unexplained failures are; one a rule explains (the manager, FC002) is not listed,
    and warnings are never counted as failures."""
    diagnosis = diagnose(warning_export().frames())
    assert "FC002" in {f.rule_id for f in diagnosis.findings}
    groups = [(u.error_code, u.http_status, u.count, u.affected, u.sample_reason, u.examples)
              for u in diagnosis.unexplained_warnings]
    assert groups == [
        ("SystemForCrossDomainIdentityManagementServiceIncompatible", 400, 2, 2,
         "Attribute 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:costCenter' "
         "is not supported and was ignored",
         ["silje.bakken@contoso.no", "oskar.nystrom@contoso.se"]),
        (None, None, 1, 1, "User 'tuva.aas@contoso.no' was updated in customappsso",
         ["tuva.aas@contoso.no"]),
    ]
    assert [(u.error_code, u.count) for u in diagnosis.unexplained] == [("Teapot", 1)]
    assert diagnosis.summary["warnings"] == 4
    assert diagnosis.summary["unexplained_failures"] == 1


TITLE_KEPT = ("User 'tuva.aas@contoso.no' was updated in customappsso, but the value of "
              "'jobTitle' was not accepted & was left unchanged")


def test_a_warning_without_error_information_is_sampled_by_its_step() -> None:
    """A warning that logged only its status (errorInformation null) said what it warned
    of in its step: the group of such warnings samples the step's description (the first
    event's, whatever order the events are held in), else its details, never '(no reason
    logged)'; and says it has no code or HTTP status in words."""
    x = Export()
    x.user("kari.nilsen@contoso.no")
    status_only_warning(x, "tuva.aas@contoso.no", TITLE_KEPT)
    status_only_warning(x, "ola.dahl@contoso.no", "Another warning, later")
    for frames in (x.frames(), held_reversed(x.frames())):
        [group] = diagnose(frames).unexplained_warnings
        assert (group.error_code, group.http_status, group.count, group.affected) == (
            None, None, 2, 2)
        assert group.sample_reason == TITLE_KEPT
        assert group.label() == "no error code or HTTP status"
    y = Export()
    status_only_warning(y, "tuva.aas@contoso.no", "Attribute 'jobTitle' was\r\nleft unchanged",
                        in_details=True)
    [group] = diagnose(y.frames()).unexplained_warnings
    assert group.sample_reason == ("ReportableIdentifier: tuva.aas@contoso.no; Warning: "
                                   "Attribute 'jobTitle' was left unchanged")


def test_a_warning_step_sample_is_cut_as_other_reasons_are() -> None:
    x = Export()
    status_only_warning(x, "tuva.aas@contoso.no", "word " * 100)
    [group] = diagnose(x.frames()).unexplained_warnings
    assert len(group.sample_reason) == engine.REASON_LIMIT
    assert group.sample_reason.endswith("…")


def test_unexplained_groups_name_a_missing_code_or_status_in_words() -> None:
    from loganalyzer.findings import UnexplainedGroup

    assert UnexplainedGroup("Teapot", 418, 1, None, 1).label() == "Teapot / HTTP 418"
    assert UnexplainedGroup(None, 400, 1, None, 1).label() == "no error code / HTTP 400"
    assert UnexplainedGroup("Teapot", None, 1, None, 1).label() == "Teapot / no HTTP status"


def test_warnings_leave_the_verdict_as_it_was() -> None:
    """A warning did not fail: listing it must not make a healthy run degraded."""
    from loganalyzer.verdict import verdict

    x = Export()
    for n in range(4):
        x.user(f"user{n}@contoso.no")
    ignored_attribute_warning(x, "silje.bakken@contoso.no")
    diagnosis = diagnose(x.frames())
    assert [u.count for u in diagnosis.unexplained_warnings] == [1]
    assert verdict(diagnosis).state == "healthy"
    assert "warning" not in verdict(diagnosis).reason


def test_escrow_alone_does_not_explain_a_failure() -> None:
    x = Export()
    for cycle in ("c1", "c2", "c3"):
        x.user("odd@contoso.no", cycle=cycle, status="failure", http=400, detail="Unexpected")
    diagnosis = diagnose(x.frames())
    assert [f.rule_id for f in diagnosis.findings] == ["FC016"]
    assert diagnosis.unexplained[0].count == 3


def test_summary_counts_and_time_range() -> None:
    diagnosis = diagnose(mixed_export().frames())
    s = diagnosis.summary
    assert (s["events"], s["failures"], s["skipped"], s["cycles"]) == (6, 5, 1, 2)
    assert s["time_range"]["start"] < s["time_range"]["end"]
    assert s["expected_skips"]["not_effectively_entitled"] == 1
    assert s["users"] == 6 and s["groups"] == 0


def test_a_healthy_export_has_nothing_above_low() -> None:
    x = Export()
    roles = '[{"primary":false,"type":"WindowsAzureActiveDirectoryRole","value":"consultant"}]'
    for i in range(5):
        x.user(
            f"user{i}@contoso.no",
            sent={"userName": f"user{i}@contoso.no", EMAIL: f"user{i}@contoso.no",
                  "active": "True", "roles": roles, DEPARTMENT: "Consulting",
                  "urn:ietf:params:scim:schemas:extension:flowcase:2.0:User:countryCode": "NO"},
            source={"appRoleAssignments": "consultant"},
        )
        x.user(f"user{i}@contoso.no", cycle="cycle-2", status="skipped",
               skip_reason="RedundantExport")
    x.user("leaver@contoso.no", action="disable", sent={"active": "False"}, matched_id="7")
    x.user("gone@contoso.no", action="delete", sent={}, matched_id="8")
    x.user("outsider@contoso.no", status="skipped", assigned=False)
    diagnosis = diagnose(x.frames())
    loud = [f for f in diagnosis.findings if severity_rank(f.severity) < severity_rank("low")]
    assert loud == []
    assert [f.rule_id for f in diagnosis.findings] == ["FC018"]
    assert diagnosis.summary["expected_skips"] == {
        "not_effectively_entitled": 1, "redundant_export": 5,
    }


def test_an_empty_export_gives_an_empty_diagnosis() -> None:
    frames = Frames(*(empty_frame(n) for n in ("events", "steps", "modified_properties")))
    diagnosis = diagnose(frames)
    assert diagnosis.findings == [] and diagnosis.unexplained == []
    assert diagnosis.summary["events"] == 0 and not diagnosis.rule_errors


def test_job_status_can_be_given_as_dict_or_parsed() -> None:
    quarantine = {"reason": "EncounteredQuarantineException"}
    job = {"status": {"code": "Quarantine", "quarantine": quarantine}}
    frames = mixed_export().frames()
    as_dict = diagnose(frames, job)
    parsed = diagnose(frames, parse_job_status(job))
    assert as_dict.summary["job_status"]["quarantined"] is True
    assert [f.message for f in as_dict.findings] == [f.message for f in parsed.findings]
    with pytest.raises(JobStatusError):
        diagnose(frames, {"value": []})


def test_rules_lists_every_rule_in_id_order() -> None:
    infos = engine.rules()
    assert [i.rule_id for i in infos] == sorted(r.id for r in RULES)
    assert all(i.patterns for i in infos)


def test_person_joins_a_skip_with_only_an_object_id_to_the_users_upn() -> None:
    x = Export()
    x.user("nora.strand@contoso.no", action="update", matched_id="1")
    skip = x.user("nora.strand@contoso.no", cycle="c2", status="skipped", assigned=False)
    object_id = skip["sourceIdentity"]["id"]
    skip["sourceIdentity"]["details"] = {}
    skip["provisioningSteps"][0]["details"] = {"objectId": object_id}
    skip["provisioningSteps"][-1]["details"]["ReportableIdentifier"] = object_id
    finding = next(f for f in diagnose(x.frames()).findings if f.rule_id == "FC013")
    assert [a.id for a in finding.affected] == ["nora.strand@contoso.no"]
    assert finding.event_ids.to_list() == [skip["id"]]


def test_the_same_export_gives_the_same_messages_every_time():
    """Hash joins may reorder rows; messages list values in the order they were sent."""
    from conftest import SAMPLES

    from loganalyzer.ingest import load

    frames = load([SAMPLES / "pattern-12-departmentmanager-format.json"]).frames
    runs = {
        tuple((f.rule_id, f.message) for f in diagnose(frames).findings) for _ in range(8)
    }
    assert len(runs) == 1


def test_findings_of_are_the_diagnosis_findings_without_evidence_or_times() -> None:
    """What `why` asks of the engine: the same findings in the same order, mended ones
    marked, with every field `why` reads; only evidence, times and failure counts left out."""
    frames = _tied_export().frames()
    full = diagnose(frames).findings
    brief = findings_of(frames)
    assert full and any(f.evidence for f in full)
    assert len(brief) == len(full)
    for whole, short in zip(full, brief, strict=True):
        assert short.evidence == [] and short.first_seen is None and short.last_seen is None
        assert dataclasses.replace(whole, evidence=[], first_seen=None, last_seen=None,
                                   failures=0) == short
        assert whole.event_ids.equals(short.event_ids)
    assert [f.rule_id for f in findings_for_events(brief, frames.events["event_id"])] == [
        f.rule_id for f in findings_for_events(diagnose(frames), frames.events["event_id"])]


def _tied_export() -> Export:
    """Graph logs whole seconds: a burst of failures, skips and upper-case identifiers in
    two cycles of the same second, several people, several reasons."""
    x = Export()
    at = datetime(2026, 3, 24, 7, 0, tzinfo=UTC)
    for n in range(6):
        cycle = f"cycle-{n % 2 + 1}"
        dept_failure(x, f"user{n}@contoso.no", department=f"Dept {n % 3}", cycle=cycle, at=at)
        x.user(f"dup{n}@contoso.no", status="failure", http=409, cycle=cycle, at=at,
               detail="User already exists", scim_type="uniqueness")
        x.user(f"odd{n}@contoso.no", status="failure", http=400, cycle=cycle, at=at,
               detail=f"Something odd happened ({n})")
        x.user(f"Upper{n}@Contoso.no", cycle=cycle, at=at,
               sent={"userName": f"Upper{n}@Contoso.no", EMAIL: f"Upper{n}@Contoso.no"})
        x.user(f"gone{n}@contoso.no", status="skipped", cycle=cycle, at=at,
               skip_reason=f"SomeOtherReason{n % 2}")
    return x


def test_events_of_the_same_second_give_the_same_diagnosis_in_any_order() -> None:
    """Which evidence, which reason and which cycle come first must not depend on the order
    events were read in (an export, its store, a scan of the store) when they tie on time."""
    from loganalyzer.findings import to_json

    frames = _tied_export().frames()
    first = to_json(diagnose(frames))
    assert to_json(diagnose(held_reversed(frames))) == first
    assert {f["rule_id"] for f in first["findings"]} >= {"FC006", "FC007", "FC008"}
    assert first["unexplained"] and first["unexplained_skips"]


def test_an_export_listed_newest_first_gives_the_same_diagnosis() -> None:
    """Log Analytics lists the newest rows first and storage blobs are read folder by folder:
    the same events in another order (none tied on time) must say the same, word for word."""
    from loganalyzer.findings import to_json

    x = Export()
    roles = ["departmentmanager:office:DK:Design Team", "departmentmanager:Consulting",
             "departmentmanager:office:SWE:Consulting", "Consultant", "admin"]
    for n, role in enumerate(roles):
        x.user(f"manager{n}@contoso.no", status="failure", http=400, cycle=f"cycle-{n % 2}",
               detail="Invalid role", sent={"userName": f"manager{n}@contoso.no",
                                            "roles": f'[{{"primary":false,"value":"{role}"}}]'})
    frames = x.frames()
    first = to_json(diagnose(frames))
    assert {"FC011", "FC012"} <= {f["rule_id"] for f in first["findings"]}
    assert to_json(diagnose(held_reversed(frames))) == first


def test_a_rule_handing_its_rows_over_gives_the_finding_read_from_the_events(
        tmp_path, monkeypatch) -> None:
    """The assignment rules give the engine the skips they read (``Hit.of_rows``; a lazy
    frame over a temporary file when the events are scanned): the finding must be the one
    the engine makes by reading those events itself, held or scanned."""
    export = Export()
    clause = {"Marketing department filter.department EQUALS 'Marketing'": False}
    for n, upn in enumerate(("ola.lost@contoso.no", "eva.lost@contoso.no",
                             "per.filtered@contoso.no", "liv.filtered@contoso.no")):
        export.user(upn, cycle="c1", matched_id=f"fc{n}")
    for upn in ("ola.lost@contoso.no", "kari.never@contoso.no", "eva.lost@contoso.no",
                "jon.never@contoso.no"):
        export.user(upn, status="skipped", cycle="c2", assigned=False)
    for upn in ("per.filtered@contoso.no", "liv.filtered@contoso.no"):
        export.user(upn, status="skipped", cycle="c2", scope_filter=clause)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export.records), encoding="utf-8")
    ingest_to_store([path], tmp_path / "store")
    handed: list[tuple[str, bool]] = []  # asserted outside: the engine keeps a rule's error
    make = engine._finding

    def both_ways(rule, hit, ctx):
        made = make(rule, hit, ctx)
        if hit.rows is not None:
            handed_ids = hit.rows.lazy().select("event_id").collect()["event_id"]
            read = make(rule, dataclasses.replace(hit, event_ids=handed_ids, rows=None), ctx)
            same = made == read and made.event_ids.equals(read.event_ids)
            handed.append((rule.id, same and len(made.event_ids) == 2))
        return made

    monkeypatch.setattr(engine, "_finding", both_ways)
    for frames in (load([path]).frames,
                   load([tmp_path / "store"], analysis_only=True, eager_events=0).frames):
        assert diagnose(frames).rule_errors == []
    assert sorted(handed) == [(rule, True) for rule in ("FC013", "FC013", "FC018", "FC018",
                                                        "FC020", "FC020")]


def test_a_scanned_diagnosis_removes_the_rows_it_wrote_to_disk(tmp_path, monkeypatch) -> None:
    """A store's not-assigned skips are read through a temporary Parquet file (a month's
    are millions of rows): the findings are made from it, and nothing is left behind."""
    export = Export()
    for upn in ("ola.lost@contoso.no", "eva.lost@contoso.no"):
        export.user(upn, cycle="c1", matched_id="fc1")
    for upn in ("ola.lost@contoso.no", "kari.never@contoso.no", "eva.lost@contoso.no"):
        export.user(upn, status="skipped", cycle="c2", assigned=False)
    path = tmp_path / "export.json"
    path.write_text(json.dumps(export.records), encoding="utf-8")
    ingest_to_store([path], tmp_path / "store")
    spill = tmp_path / "tmp"
    spill.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(spill))
    written: list[str] = []
    make = engine._finding

    def watching(rule, hit, ctx):
        written.extend(p.name for p in spill.glob("loganalyzer-rows-*/*.parquet"))
        return make(rule, hit, ctx)

    monkeypatch.setattr(engine, "_finding", watching)
    frames = load([tmp_path / "store"], analysis_only=True, eager_events=0).frames
    findings = {f.rule_id: f for f in diagnose(frames).findings}
    assert written  # the skips did go through a file
    assert sorted(a.id for a in findings["FC013"].affected) == ["eva.lost@contoso.no",
                                                                "ola.lost@contoso.no"]
    assert [a.id for a in findings["FC018"].affected] == ["kari.never@contoso.no"]
    assert list(spill.iterdir()) == []


def test_a_failure_whose_people_all_succeeded_since_is_mended_and_leaves_the_verdict(
) -> None:
    """A department created and the user retried: history, not what to fix now; --fail-on
    agrees with the verdict. One user still failing keeps it current. A finding of what was
    sent (upper case) is never mended: a later update that does not send the attribute, or an
    in-sync skip, fixes nothing."""
    from loganalyzer.verdict import fails_at, verdict

    def export(upper_case: bool = False, still_failing: bool = False) -> Export:
        x = Export()
        dept_failure(x, "anna.berg@northwind.no", cycle="cycle-1")
        x.user("anna.berg@northwind.no", cycle="cycle-2")
        if upper_case:
            x.user("ola.nordmann@northwind.no", cycle="cycle-1", sent={
                "userName": "Ola.Nordmann@northwind.no", EMAIL: "Ola.Nordmann@northwind.no"})
            x.user("ola.nordmann@northwind.no", action="update", cycle="cycle-2",
                   sent={"title": "Lead"})
            x.user("ola.nordmann@northwind.no", status="skipped", skip_reason="RedundantExport",
                   cycle="cycle-3")
        if still_failing:
            dept_failure(x, "per.olsen@northwind.no", cycle="cycle-2")
        return x

    diagnosis = engine.diagnose(export().frames())
    [departments] = diagnosis.findings
    assert departments.mended and departments.message.endswith(engine.MENDED)
    health = verdict(diagnosis)
    assert (health.state, health.fix_first) == ("healthy", None)
    assert health.reason == (
        "No current finding above low severity and 50.0% of events failed; 1 finding of the "
        "period was mended since (FC008): its users all succeeded in a later request")
    assert not fails_at(diagnosis, "high")

    diagnosis = engine.diagnose(export(upper_case=True).frames())
    assert {f.rule_id: f.mended for f in diagnosis.findings} == {"FC008": True, "FC006": False}
    # listed as fixed first: what is still to fix before what was mended (step 1 before 7a)
    assert [f.rule_id for f in diagnosis.findings] == ["FC006", "FC008"]
    assert verdict(diagnosis).fix_first.rule_id == "FC006" and fails_at(diagnosis, "high")

    diagnosis = engine.diagnose(export(still_failing=True).frames())
    assert [(f.rule_id, f.mended) for f in diagnosis.findings] == [("FC008", False)]
    assert verdict(diagnosis).fix_first.rule_id == "FC008"


def test_a_period_where_no_event_reached_flowcase_says_so_in_a_note() -> None:
    """Every event a not-assigned skip, none in sync: nobody was provisioned. Normal in a
    quiet week; after an initial cycle, nobody is assigned (step 5). A note, not a verdict:
    the quiet week is the common case."""
    from loganalyzer.verdict import verdict

    def unassigned(also: str | None = None) -> Export:
        x = Export()
        for n, cycle in enumerate(("cycle-1", "cycle-2", "cycle-3")):
            x.user(f"user{n}@northwind.no", status="skipped", assigned=False, cycle=cycle)
        if also:
            x.user("anna.berg@northwind.no", status="skipped", skip_reason=also, cycle="cycle-3")
        return x

    diagnosis = engine.diagnose(unassigned().frames())
    assert diagnosis.notes == [
        "No event reached Flowcase: all 3 events were skipped as out of scope "
        "(NotEffectivelyEntitled), none was in sync. Normal when no assigned user changed; if "
        "people should have been provisioned, check that they are assigned to the app (guide "
        "step 5) and the scope (step 3)"]
    assert verdict(diagnosis).state == "healthy"
    # an in-sync skip, or a skip a rule explains (a value missing in Entra): no such advice
    for reason in ("RedundantExport", "AttributeValidationFailed"):
        diagnosis = engine.diagnose(unassigned(also=reason).frames())
        assert diagnosis.summary["events"] == 4 and diagnosis.notes == [], reason


@pytest.mark.parametrize("later", ["same second", "another object", "another app"])
def test_a_success_of_the_same_second_another_object_or_another_app_mends_nothing(later):
    """Events of the same second have no known order (Graph logs whole seconds); a rehire's
    new object shares the old one's UPN; a sandbox app is not the production app."""
    x = Export()
    failed = dept_failure(x, "anna.berg@northwind.no", object_id="0000000b-new-object")
    success = x.user("anna.berg@northwind.no", cycle="cycle-2", action="update",
                     object_id="0000000a-old-object" if later == "another object" else None,
                     at=datetime.fromisoformat(failed["activityDateTime"].replace("Z", "+00:00"))
                     if later == "same second" else None)
    if later == "same second":
        assert success["activityDateTime"] == failed["activityDateTime"]
    if later == "another app":
        success["servicePrincipal"] = dict(success["servicePrincipal"],
                                           displayName="Flowcase SCIM (test)")
    [finding] = engine.diagnose(x.frames()).findings
    assert finding.rule_id == "FC008" and not finding.mended
