"""`why` for someone only in other apps' events says which apps, and what `--app` to give.

A tenant-wide export holds every app's events: a person assigned by mistake to a sandbox
"Flowcase Test" app beside production, or only to another SCIM app, is in the export, and
"never seen" alone would send the support engineer looking for a typo.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import realworld as rw
from typer.testing import CliRunner
from why_records import APP, Person, create, in_app, in_sync, not_entitled, write_export

from loganalyzer.cli import app
from loganalyzer.store_index import CYCLES_FILE, IDENTITIES_FILE, ROWS_FILE
from loganalyzer.why import elsewhere

ANNA = Person("6f1c2a9e-3b7d-4e15-9a0c-1d2e3f405161", "anna.berg@northwind.no", "Anna Berg",
              "3e223d8131124723b8fabaea")
# Entra logs the ASCII apostrophe; the ticket, pasted from Outlook, has the typed one
SIOBHAN = Person("2b8e5f1a-7c3d-4e9b-a1f0-6d4c8b2e9a73", "siobhan.obrien@northwind.no",
                 "Siobhán O'Brien")
# only in the sandbox; a ticket types him without his Nordic letters
JORGEN = Person("8d2f6b3c-1e4a-4f7d-b9c2-5a6e7f809132", "jorgen.saether@northwind.no",
                "Jørgen Sæther")
TYPED = "SIOBHÁN O’BRIEN"
SAID = ("'SIOBHÁN O’BRIEN' is in 3 events of 2 other apps in this export (Flowcase Test: 2, "
        "Dropbox Business: 1); if one of them is the Flowcase app you mean, name it with "
        "--app 'Flowcase Test'.")


def _dropbox(p: Person) -> dict:
    """A Dropbox Business event of this person, as the tenant-wide export has it."""
    event = rw.dropbox_events(1)[0]
    event["id"], event["changeId"] = "dropbox-siobhan", "c-dropbox-siobhan"
    event["sourceIdentity"] = {
        "details": {"DisplayName": p.display_name, "UserPrincipalName": p.upn,
                    "id": p.object_id, "odatatype": "User"},
        "displayName": p.display_name, "id": p.object_id, "identityType": "User"}
    return event


def _tenant() -> list[dict]:
    """Production Flowcase (Anna), the sandbox beside it (Siobhán, assigned there by mistake,
    on 5 March), Siobhán in Dropbox too, and the rest of the tenant's apps."""
    return [
        create(ANNA, "2026-03-10T09:00:00Z", "c-prod-1"),
        in_sync(ANNA, "2026-03-20T09:00:00Z", "c-prod-2"),
        in_app(not_entitled(SIOBHAN, "2026-03-05T09:00:00Z", "c-test-1", assigned=True)),
        in_app(create(SIOBHAN, "2026-03-05T09:40:00Z", "c-test-2")),
        _dropbox(SIOBHAN),
        in_app(create(JORGEN, "2026-03-06T09:40:00Z", "c-test-3")),
        # Grafana's event (verbatim from the formats reference) has the job and service
        # principal ids these records copy: left out, it would be taken for Flowcase's job
        *(e for e in rw.other_apps() if e["servicePrincipal"]["displayName"] != "Grafana PS"),
    ]


@pytest.fixture(scope="module")
def inputs(tmp_path_factory) -> dict[str, Path]:
    """The same tenant as a Graph JSON download, a Log Analytics CSV, a store and a store
    written before the identity index (read whole)."""
    folder = tmp_path_factory.mktemp("tenant")
    export = write_export(folder / "tenant.json", _tenant())
    store, old = folder / "store", folder / "old"
    assert CliRunner().invoke(app, ["ingest", "-q", str(export), "-o", str(store)]).exit_code == 0
    shutil.copytree(store, old)
    for name in (IDENTITIES_FILE, CYCLES_FILE, ROWS_FILE):
        (old / name).unlink()
    return {"export": export,
            "csv": rw.write_log_analytics_csv(folder / "AADProvisioningLogs.csv", _tenant()),
            "store": store, "store without index": old}


def run(user: str, source: Path, *options: str):
    return CliRunner().invoke(app, ["why", user, str(source), "-q", *options])


def words(result) -> str:
    return " ".join(result.stdout.split())


@pytest.mark.parametrize("kind", ["export", "csv", "store", "store without index"])
def test_someone_only_in_the_sandbox_and_another_app_is_told_where(inputs, kind):
    result = run(TYPED, inputs[kind], "--app", APP, "--format", "json")
    assert result.exit_code == 2, result.output
    answer = json.loads(result.stdout)
    assert answer["verdict"]["state"] == "never_seen"
    message = answer["verdict"]["message"]
    assert message.startswith(f"Never seen: no event of the Flowcase app in this export is "
                              f"about '{TYPED}'.")
    assert SAID in message
    assert [(a["app"], a["app_value"], a["events"]) for a in answer["in_other_apps"]] == [
        ("Flowcase Test", "Flowcase Test", 2), ("Dropbox Business", "Dropbox Business", 1)]
    # and the --app it names tells her story
    found = run(TYPED, inputs[kind], "--app", "Flowcase Test", "--format", "json")
    assert found.exit_code == 0, found.output
    assert json.loads(found.stdout)["user"]["events"] == 2


@pytest.mark.parametrize("fmt", ["terminal", "md"])
def test_terminal_and_markdown_say_it_too(inputs, fmt):
    assert SAID in words(run(TYPED, inputs["export"], "--app", APP, "--format", fmt))


@pytest.mark.parametrize("kind", ["export", "store"])
def test_a_upn_in_any_case_is_found_in_the_other_apps(inputs, kind):
    said = words(run("SIOBHAN.OBRIEN@Northwind.no", inputs[kind], "--app", APP))
    assert "is in 3 events of 2 other apps in this export (Flowcase Test: 2" in said


@pytest.mark.parametrize("kind", ["export", "csv", "store", "store without index"])
def test_a_name_typed_without_its_nordic_letters_is_found_in_the_other_apps(inputs, kind):
    """'joergen saether' is Jørgen Sæther of the sandbox, as the lookup would find him there."""
    said = words(run("joergen saether", inputs[kind], "--app", APP))
    assert ("'joergen saether' is in 1 event of another app in this export, Flowcase Test; if "
            "it is the Flowcase app you mean, name it with --app 'Flowcase Test'.") in said


@pytest.mark.parametrize("kind", ["export", "store"])
def test_nobody_anywhere_and_a_prefix_are_never_seen_as_before(inputs, kind):
    """Only whole identifiers count: a prefix matching someone of Dropbox is no person of it."""
    for asked in ("nobody@northwind.no", "siobhan"):
        answer = json.loads(run(asked, inputs[kind], "--app", APP, "--format", "json").stdout)
        assert answer["in_other_apps"] == []
        assert f"no event in this export is about '{asked}'" in answer["verdict"]["message"]


def test_a_period_counts_the_other_apps_events_of_that_period_only(inputs):
    """The sandbox events of 5 March are outside the second half of March; Dropbox's, of 24
    March, inside."""
    said = words(run(TYPED, inputs["export"], "--app", APP, "--from", "2026-03-15",
                     "--to", "2026-03-31"))
    assert ("is in 1 event of another app in this export, Dropbox Business; if it is the "
            "Flowcase app you mean, name it with --app 'Dropbox Business'.") in said


def test_the_app_chosen_automatically_leaves_out_other_apps_said_likewise(tmp_path):
    """Without --app both apps named Flowcase are judged, so Siobhán is found; someone only in
    an app provisioning into Active Directory is not told to choose it."""
    export = write_export(tmp_path / "tenant.json", _tenant())
    assert run(TYPED, export).exit_code == 0
    said = words(run("worker 1", export))
    assert ("'worker 1' is in 1 event of another app in this export, Workday to Active "
            "Directory User Provisioning: inbound provisioning into Entra ID or Active "
            "Directory, never Flowcase's.") in said


def test_an_indexed_store_reads_no_event_for_someone_in_no_other_app(inputs, monkeypatch):
    """The index says nobody of the other apps logs the name: the store is not scanned."""
    def scanned(*_):
        raise AssertionError("scanned the store")

    monkeypatch.setattr(elsewhere.OtherApps, "counted", scanned)
    assert run("nobody@northwind.no", inputs["store"]).exit_code == 2
