"""--redact: no name, UPN, email or object id from the input survives into a shared report."""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
from pathlib import Path

import polars as pl
import pytest
from conftest import SAMPLES
from report_support import run_report
from typer.testing import CliRunner

from loganalyzer.cli import app
from loganalyzer.engine import diagnose
from loganalyzer.ingest import load
from loganalyzer.report.model import Analysis, Report, RuleRow, build_report
from loganalyzer.report.redact import pseudonyms, redact_report
from loganalyzer.report.render import render_html, render_markdown

EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
PERSONAL_PROPERTIES = {"userName", 'emails[type eq "work"].value', "displayName", "externalId"}


def _identifiers(name: str) -> set[str]:
    """Every personal identifier in the raw export, read straight from the JSON."""
    found: set[str] = set()
    for record in json.loads((SAMPLES / name).read_text()):
        for side in ("sourceIdentity", "targetIdentity"):
            identity = record.get(side) or {}
            found.update([identity.get("id") or "", identity.get("displayName") or ""])
            details = identity.get("details") or {}
            found.update(str(v) for k, v in details.items() if k in (
                "UserPrincipalName", "userPrincipalName", "Mail", "mail", "DisplayName"))
        for prop in record.get("modifiedProperties") or []:
            if prop["displayName"] in PERSONAL_PROPERTIES:
                found.add(prop["newValue"] or "")
        reason = ((record["provisioningStatusInfo"] or {}).get("errorInformation") or {})
        found.update(EMAIL.findall(reason.get("reason") or ""))
    return {v for v in found if len(v) >= 3 and not re.fullmatch(r"\d{1,5}", v)}


def _leaks(identifiers: set[str], text: str) -> list[str]:
    """Identifiers found in the text as a whole word (HTML-escaped spellings too)."""
    escaped = {i.replace("&", "&amp;").replace("'", "&#39;") for i in identifiers}
    text = text.lower()
    return sorted(i for i in identifiers | escaped if re.search(
        rf"(?<![\w-]){re.escape(i.lower())}(?![\w-])", text))


@pytest.mark.parametrize("sample", ["failing-initial.json", "group-404-halt.json"])
def test_redacted_reports_hold_no_personal_identifier(sample: str) -> None:
    identifiers = _identifiers(sample)
    dataset = load([SAMPLES / sample])
    report = build_report(Analysis(dataset, diagnose(dataset.frames)))
    # the plain report names people, so the checks below can fail
    assert len(_leaks(identifiers, render_markdown(report))) >= 5
    redacted = redact_report(report, dataset.frames.events)
    for text in (render_markdown(redacted), render_html(redacted)):
        assert _leaks(identifiers, text) == []
        assert "@redacted" in text and "Personal data" in text


def test_redact_option_writes_a_redacted_report(tmp_path: Path) -> None:
    target = tmp_path / "ticket.md"
    result = run_report(SAMPLES / "pattern-06-uppercase-identifiers.json", "--redact", "-o", target)
    assert result.exit_code == 0
    text = target.read_text(encoding="utf-8")
    assert _leaks(_identifiers("pattern-06-uppercase-identifiers.json"), text) == []
    assert re.search(r"user-[0-9a-f]{8}@redacted", text)


def test_one_person_has_one_stable_pseudonym() -> None:
    events = load([SAMPLES / "failing-initial.json"]).frames.events
    names = pseudonyms(events)
    upn, display = "lars.hansen@northwind.no", "lars hansen"
    assert names[upn].endswith("@redacted")
    assert names[upn].removesuffix("@redacted") == names[display]
    assert pseudonyms(events) == names  # same input, same pseudonyms (weekly reports line up)


def test_unknown_emails_in_free_text_are_replaced_and_the_rest_is_kept() -> None:
    report = Report(
        title="t", tenants=[], apps=["Flowcase SCIM"], jobs=[], period="", generated_at="",
        tool_version="", verdict="failing",
        verdict_reason="Manager boss.person@contoso.com not found; HTTP 404 for Lars Hansen.",
        figures=[], findings=[], notices=[], charts=[], cycles=[],
        unexplained=[], unexplained_failures=0,
        rules=[RuleRow("FC001", "SCIM group provisioning is still enabled", "critical", "7b",
                       "cause")],
        rule_errors=[],
    )
    redacted = redact_report(report, load([SAMPLES / "failing-initial.json"]).frames.events)
    assert "contoso" not in redacted.verdict_reason
    assert "Lars Hansen" not in redacted.verdict_reason
    assert re.fullmatch(
        r"Manager email-[0-9a-f]{8}@redacted not found; HTTP 404 for user-[0-9a-f]{8}\.",
        redacted.verdict_reason,
    )
    assert redacted.rules == report.rules and redacted.apps == report.apps
    assert redacted.redacted


def _as(record: dict, **values: str) -> dict:
    """A copy of the sample's conflict record for someone else: each of its values named in
    ``_KEYS`` replaced by the one given, in every string."""
    text = json.dumps(record, ensure_ascii=False)
    for old, new in values.items():
        text = text.replace(_KEYS[old], json.dumps(new, ensure_ascii=False)[1:-1])
    return json.loads(text)


_KEYS = {"display": "Linnea Björk", "upn": "linnea.bjork@northwind.se",
         "oid": "d0c79cdf-243b-46b2-971a-ffb11fd8f624",
         "detail": "A user with this email address already exists"}


def _awkward_people() -> list[tuple[list[dict], list[str]]]:
    """Exports of the sample's 409 conflict for people whose identifiers a plain whole-word
    match misses, each with Flowcase's answer naming them, and what must not survive
    redaction; three people an export, so every reason is among a finding's evidence."""
    records = json.loads((SAMPLES / "failing-initial.json").read_text(encoding="utf-8"))
    conflict, skip = records[24], records[4]
    people = [  # display name, UPN, what Flowcase answers, what must not be left
        ("Ann Lindberg", "ann.lindberg@northwind.se", "User 'Ann Lindberg' already exists",
         ["Lindberg"]),
        ("Ann Li", "ann.li@northwind.se", "User 'Ann Li' already exists",  # begins the above
         ["Ann Li "]),
        ("İpek Yılmaz", "ipek.yilmaz@northwind.se", "A user with this email address exists",
         ["Yılmaz", "İpek"]),
        ("Kari Nilsen", "kari.nilsen@northwind.se", "userName 'kari.nilsen' already exists",
         ["kari.nilsen"]),
        ("Per Olsen", "per.olsen@northwind.se",
         "Cannot GET /scim/Users?filter=userName%20eq%20%22per.olsen%40northwind.se%22",
         ["per.olsen"]),
        ("Søren Øst", "soren.ost@northwind.se",
         "User \\u0027S\\u00f8ren \\u00d8st\\u0027 already exists", ["Søren"]),
        ("Tove  Lie", "tove.lie@northwind.se", "User 'Tove Lie' already exists",  # two spaces
         ["Tove"]),
        ("Xq", "xq@northwind.se", "A user with this email address exists", ["| Xq |"]),
        ("Mona Trunc", "mona.truncated@northwind.se",
         "The address is already registered to another account; ask the administrator of "
         "the tenant to merge the accounts or remove the old one. It is held by "
         + "x" * 43 + " mona.truncated@northwind.se",  # cut at 200 inside the address
         ["mona.t…"]),
        ("Odd Mail", "odd.mail@northwind.se", "Contact odd!mail#x@northwind.se to merge",
         ["odd!mail"]),
        # .NET's JSON writer escapes the apostrophe, and an echo in upper case its letters
        # (the report shows the SCIM detail decoded); a query string writes a space as '+';
        # a name echoed decomposed (NFD)
        ("Siobhan O'Brien", "siobhan.obrien@northwind.se",
         "User \\u0027Siobhan O\\u0027Brien\\u0027 already exists", ["O'Brien"]),
        ("Søren Ås", "soren.as@northwind.se",
         "User \\u0027S\\u00D8REN \\u00C5S\\u0027 already exists", ["SØREN"]),
        ("Kari Plus", "kari.plus@northwind.se",
         "Cannot GET /scim/Users?filter=displayName+eq+%22Kari+Plus%22", ["Kari+Plus"]),
        ("Zoë Åberg", "zoe.aberg@northwind.se", "User 'Zoe\u0308 A\u030aberg' already exists",
         ["Zoe\u0308"]),
        ("Tora Nordmann", "tora.nordmann@northwind.se",
         "The address is already registered to another account; ask the administrator of "
         "the tenant to merge the accounts or remove the old one. It is held by "
         + "x" * 38 + " Tora Nordmann", ["Nordma…"]),  # cut inside the second word
        ("Cut Boss", "cut.boss@northwind.se",
         "The address is already registered to another account; ask the administrator of "
         "the tenant to merge the accounts or remove the old one. It is held by "
         + "x" * 33 + " boss.person@contoso.com", ["boss.person@"]),  # nobody we know
        ("Url Cut", "url.cutperson@northwind.se",
         "The address is already registered to another account; ask the administrator of "
         "the tenant to merge the accounts or remove the old one. It is held by "
         + "x" * 14 + " filter=userName%20eq%20%22url.cutperson%40northwind.se%22",
         ["url.cutp"]),  # cut inside a URL's last parameter
        ("Sales", "sales.desk@northwind.se",  # a shared account named like a department
         "The department 'Sales EMEA' does not exist", ["| Sales |"]),
        # a name right after a JSON line break; addresses with their @ escaped
        ("Ingrid Holm", "ingrid.holm@northwind.se",
         "Validation failed for user:\\nIngrid Holm\\nobject", ["Ingrid Holm"]),
        ("Esc Boss", "esc.boss@northwind.se",
         "Manager boss.person%40contoso.com and boss2\\u0040contoso.com not found",
         ["boss.person%40", "boss2@contoso"]),
        # a name in a script without spaces is one word and still a person's full name
        ("王小明", "wang.xiaoming@northwind.se", "User 王小明 already exists", ["王小明"]),
        # Turkish İ as a Turkish locale upper-cases it and as .NET lower-cases it
        ("İlker Çelik", "ilker.celik@northwind.se", "User İLKER ÇELİK and ilker çelik exist",
         ["İLKER ÇELİK", "ilker çelik"]),
        ("Jürgen Groß", "juergen.gross@northwind.se", "User Jürgen Gross already exists",
         ["Jürgen Gross"]),  # ß case-folded to ss
        ("李娜", "li.na@northwind.se", "User 李娜 already exists", ["李娜"]),  # two letters
        ("Emine Çelik", "emine.celik@northwind.se", "User EMİNE ÇELİK already exists",
         ["EMİNE"]),  # no Turkish letter in the name as logged
        ("Henrik Lie (admin)", "adm.henrik.lie@northwind.se",
         "Name Henrik Lie is already used by another account", ["Henrik Lie"]),
    ]
    exports = []
    for first in range(0, len(people), 3):
        built, secrets = [], []
        for n, (display, upn, detail, left) in enumerate(people[first:first + 3], first):
            record = _as(conflict, display=display, upn=upn,
                         oid=f"0b7e4a21-5c3d-4f60-8e1a-2b3c4d5e6f{n:02d}")
            error = record["provisioningStatusInfo"]["errorInformation"]
            body = json.dumps(detail, ensure_ascii=False)[1:-1] if "\\u" not in detail else detail
            error["reason"] = error["reason"].replace(_KEYS["detail"], body)
            record["id"], record["changeId"] = f"redact-{n}", f"change-{n}"
            built.append(record)
            secrets += left
        exports.append((built, secrets))
    # a skip naming its user only in the step's ReportableIdentifier and description
    unnamed = json.loads(json.dumps(skip).replace("isak.berglund@northwind.se", "isak-berglund"))
    unnamed["sourceIdentity"]["details"] = {}
    for step in unnamed["provisioningSteps"]:
        step["details"].pop("userPrincipalName", None)
        step["details"].pop("mail", None)
        if "SkipReason" in step["details"]:
            step["details"]["SkipReason"] = "SomeFutureSkip"
    exports[-1][0].append(unnamed)
    exports[-1][1].append("isak-berglund")
    return exports


@pytest.mark.parametrize("part", range(len(_awkward_people())))
def test_identifiers_that_a_plain_whole_word_match_misses_are_redacted(tmp_path: Path,
                                                                         part: int) -> None:
    """A name that begins another, Turkish İ (two characters lower-cased), a userName
    without its domain, an address URL-encoded or JSON-escaped, two spaces in a name, a
    two-letter name in the affected table, an address cut at the reason's limit, an
    address with '!' and '#', a ReportableIdentifier only the skip step names."""
    records, secrets = _awkward_people()[part]
    shown, redacted = _plain_and_redacted(tmp_path, records)
    assert [s for s in secrets if s not in shown] == []  # the plain report names them all
    for text in redacted:
        assert [s for s in secrets if s.lower() in text.lower()] == []
        assert "@redacted" in text
        assert "Sales EMEA" in text or "Sales EMEA" not in shown  # no department is a person


def _plain_and_redacted(tmp_path: Path, records: list[dict]) -> tuple[str, list[str]]:
    """The plain Markdown report of these records, and the redacted Markdown and HTML, as
    text a reader sees (escapes undone)."""
    path = tmp_path / "export.json"
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    plain, redacted = tmp_path / "plain.md", tmp_path / "redacted.md"
    assert run_report(path, "-o", plain).exit_code == 0
    assert run_report(path, "--redact", "-o", redacted, "-o", tmp_path / "r.html").exit_code == 0
    return _unescaped_md(plain.read_text(encoding="utf-8")), [
        _unescaped_md(redacted.read_text(encoding="utf-8")),
        html.unescape((tmp_path / "r.html").read_text(encoding="utf-8"))]


def _unescaped_md(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_a_group_named_like_words_of_the_report_does_not_garble_it(tmp_path: Path) -> None:
    """A group called "Users" is wording, not a person: replacing it as a word would turn
    every rule title that says users into a pseudonym. Its row still gets one."""
    records = json.loads((SAMPLES / "group-404-halt.json").read_text(encoding="utf-8"))
    renamed = json.loads(json.dumps(records).replace("Flowcase Users NO", "Users"))
    path = tmp_path / "users.json"
    path.write_text(json.dumps(renamed), encoding="utf-8")
    dataset = load([path])
    report = build_report(Analysis(dataset, diagnose(dataset.frames)))
    redacted = redact_report(report, dataset.frames.events)
    assert any("users" in r.title.lower() for r in report.rules)
    assert redacted.rules == report.rules
    rows = [row for f in redacted.findings for row in f.affected if row.type == "Group"]
    assert rows and all(row.display_name.startswith("group-") for row in rows)


def test_what_the_attributes_name_a_person_is_redacted_too(tmp_path: Path) -> None:
    """Names and identifiers that only the steps and modified properties hold: the display
    name sent ("Tom Berg", where Entra's reads "Berg, Tom"), a former UPN (old value), the
    given and family names in another order, a phone number; and an event that names its
    person by no id at all."""
    records = json.loads((SAMPLES / "failing-initial.json").read_text(encoding="utf-8"))
    sent = _as(records[24], display="Tom Berg", upn="tom.berg@northwind.se",
               oid="0b7e4a21-5c3d-4f60-8e1a-2b3c4d5e6f90")
    sent["sourceIdentity"]["displayName"] = "Berg, Tom"
    sent["sourceIdentity"]["details"]["DisplayName"] = "Berg, Tom"
    sent["provisioningSteps"][0]["details"].update(displayName="Berg, Tom", givenName="Tom",
                                                   surname="Berg")
    sent["modifiedProperties"].append({"displayName": "userName",
                                       "oldValue": "tom.berg.old@northwind.se",
                                       "newValue": "tom.berg@northwind.se"})
    phone = sent["provisioningSteps"][-1]["details"]['phoneNumbers[type eq "work"]value']
    texts = {
        sent["id"]: "User 'Tom Berg' already exists; renamed from tom.berg.old, phone " + phone,
    }
    reordered = _as(records[24], display="Ingrid Holm", upn="ingrid.holm@northwind.se",
                    oid="0b7e4a21-5c3d-4f60-8e1a-2b3c4d5e6f91")
    reordered["provisioningSteps"][0]["details"].update(givenName="Ingrid", surname="Holm")
    texts[reordered["id"] + "-2"] = "Holm, Ingrid (employee) is not allowed"
    nobody = _as(records[24], display="Hanne Solberg", upn="hanne.solberg@northwind.se",
                 oid="0b7e4a21-5c3d-4f60-8e1a-2b3c4d5e6f92")
    nobody["sourceIdentity"] = {"id": "", "displayName": "Hanne Solberg", "identityType": "User",
                                "details": {}}
    nobody["targetIdentity"] = {"id": "", "displayName": "", "identityType": "User",
                                "details": {}}
    for step in nobody["provisioningSteps"]:
        step["details"] = {}
        step["description"] = "Failed to create the user"
    nobody["modifiedProperties"] = []
    texts[nobody["id"] + "-3"] = "Hanne Solberg could not be processed"
    built = []
    for n, (record, key) in enumerate(zip((sent, reordered, nobody), texts, strict=True)):
        record["id"], record["changeId"] = f"attr-{n}", f"attr-change-{n}"
        error = record["provisioningStatusInfo"]["errorInformation"]
        error["reason"] = error["reason"].replace(_KEYS["detail"], texts[key])
        built.append(record)
    left = ["Tom Berg", "tom.berg.old", phone, "Holm, Ingrid", "Hanne Solberg"]
    shown, redacted = _plain_and_redacted(tmp_path, built)
    assert [s for s in left if s not in shown] == []  # the plain report names them all
    for text in redacted:
        assert [s for s in left if s.lower() in text.lower()] == []


def test_pseudonyms_are_keyed_so_a_staff_list_cannot_reverse_them(monkeypatch) -> None:
    from loganalyzer.report.redaction_key import KEY_ENV, redaction_key

    events = load([SAMPLES / "failing-initial.json"]).frames.events
    upn = "lars.hansen@northwind.no"
    names = pseudonyms(events)
    # a plain hash of the address (or of the object id) would give the pseudonym away
    plain = {hashlib.sha256(v.encode()).hexdigest()[:8] for v in
             (upn, "lars hansen", *events.filter(pl.col("upn") == upn)["source_id"].to_list())}
    assert names[upn].removesuffix("@redacted").removeprefix("user-") not in plain
    monkeypatch.setenv(KEY_ENV, "another-secret-of-another-tenant")
    redaction_key.cache_clear()
    assert pseudonyms(events)[upn] != names[upn]


def test_without_a_key_given_one_is_made_once_and_kept_private(monkeypatch, tmp_path) -> None:
    from loganalyzer.report.redaction_key import KEY_ENV, key_file, redaction_key

    monkeypatch.delenv(KEY_ENV)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.setenv("APPDATA", str(tmp_path / "config"))
    redaction_key.cache_clear()
    report = tmp_path / "ticket.md"
    result = CliRunner().invoke(app, ["report", str(SAMPLES / "failing-initial.json"),
                                      "--redact", "-o", str(report)])
    assert result.exit_code == 0
    path = key_file()
    assert path.parent == tmp_path / "config" / "loganalyzer"
    assert f"note: made a new redaction key in {path}" in result.stderr
    assert re.fullmatch(r"[0-9a-f]{64}\n", path.read_text(encoding="ascii"))
    if os.name != "nt":
        assert path.stat().st_mode & 0o777 == 0o600
    assert sorted(p.name for p in path.parent.iterdir()) == ["redaction.key"]
    events = load([SAMPLES / "failing-initial.json"]).frames.events
    first = pseudonyms(events)
    redaction_key.cache_clear()
    assert pseudonyms(events) == first  # next week's report: the same key, the same names
    again = CliRunner().invoke(app, ["report", str(SAMPLES / "failing-initial.json"),
                                     "--redact", "-o", str(tmp_path / "b.md")])
    assert "made a new redaction key" not in again.stderr
    assert report.read_text(encoding="utf-8") == (tmp_path / "b.md").read_text(encoding="utf-8")


def test_runs_that_start_at_once_share_the_one_key_they_make(monkeypatch, tmp_path) -> None:
    """Scheduled jobs of several tenants starting on a new machine at the same minute."""
    import subprocess
    import sys

    from loganalyzer.report.redaction_key import KEY_ENV

    env = {k: v for k, v in os.environ.items() if k != KEY_ENV}
    env["XDG_CONFIG_HOME"] = env["APPDATA"] = str(tmp_path / "config")
    code = ("from loganalyzer.report.redaction_key import redaction_key; "
            "print(redaction_key().decode())")
    runs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True) for _ in range(6)]
    keys = [run.communicate(timeout=60) for run in runs]
    assert all(run.returncode == 0 for run in runs), keys
    assert len({out.strip() for out, _ in keys}) == 1


@pytest.mark.parametrize(("value", "said"), [
    ("short", "holds fewer than 16 characters"),
    ("   ", "holds fewer than 16 characters"),
])
def test_a_redaction_key_too_short_to_be_secret_is_refused(monkeypatch, tmp_path, value, said):
    from loganalyzer.report.redaction_key import KEY_ENV, redaction_key

    monkeypatch.setenv(KEY_ENV, value)
    redaction_key.cache_clear()
    result = run_report(SAMPLES / "failing-initial.json", "--redact", "-o", tmp_path / "r.md")
    assert result.exit_code == 2
    assert f"error: {KEY_ENV}: is set but {said}" in result.stderr
    assert not (tmp_path / "r.md").exists()
