"""Records of other Entra logs beside provisioning ones: skipped and counted, never events.

A diagnostic setting sends every category it is given (to one event hub, or to a storage
account as one container per category), a Graph folder can hold pages of other endpoints,
and the portal downloads audit logs in the same JSON array shape. An audit record has an
``activityDateTime``, so read as an event it became one of unknown status.
"""

from __future__ import annotations

import gzip
import json
import shutil
import uuid

import pytest
from conftest import SAMPLES
from test_sample_formats import comparable

from loganalyzer.ingest import load
from loganalyzer.problems import InputError

FORMATS = SAMPLES / "formats"
TENANT = "b3e1a7c4-5d92-4f6e-8a10-2c9d7e4f6b58"


def directory_audit(n: int) -> dict:
    """A Graph directoryAudit, as GET /auditLogs/directoryAudits and the portal send it."""
    return {
        "id": f"Directory_{uuid.UUID(int=n)}", "category": "ProvisioningManagement",
        "correlationId": str(uuid.UUID(int=n + 1000)), "result": "success", "resultReason": "",
        "activityDisplayName": "Update synchronization job",
        "activityDateTime": "2026-03-24T07:40:00.1234567Z",
        "loggedByService": "Account Provisioning", "operationType": "Update",
        "initiatedBy": {"app": {"displayName": "Azure AD Provisioning"}},
        "targetResources": [{"id": str(uuid.UUID(int=n + 2000)), "type": "ServicePrincipal",
                             "modifiedProperties": []}],
        "additionalDetails": [],
    }


def sign_in(n: int) -> dict:
    """A Graph signIn: no activityDateTime, a createdDateTime."""
    return {
        "id": str(uuid.UUID(int=n + 3000)), "createdDateTime": "2026-03-24T07:41:00Z",
        "userDisplayName": "Kari Nilsen", "userPrincipalName": "kari.nilsen@northwind.no",
        "userId": str(uuid.UUID(int=n + 4000)), "appId": str(uuid.UUID(int=n + 5000)),
        "appDisplayName": "Flowcase", "ipAddress": "203.0.113.5", "clientAppUsed": "Browser",
        "status": {"errorCode": 0, "failureReason": "Other."},
        "conditionalAccessStatus": "notApplied", "isInteractive": True,
    }


def envelope(category: str, properties: dict) -> dict:
    """An Azure resource-log envelope (formats reference 3.1) of ``category``."""
    return {"time": "2026-03-24T07:41:00.0000000Z",
            "resourceId": f"/tenants/{TENANT}/providers/Microsoft.aadiam",
            "operationName": "Sign-in activity" if category == "SignInLogs" else "Update user",
            "category": category, "tenantId": TENANT, "resultType": "0",
            "correlationId": properties.get("correlationId", str(uuid.uuid4())),
            "Level": 4, "properties": properties}


def provisioning_envelopes() -> list[dict]:
    """The sample storage export's envelopes: its hour is in two blobs, one gzip'd."""
    text = ((FORMATS / "storage" / "PT1H.json").read_text()
            + gzip.decompress((FORMATS / "storage" / "PT1H.json.gz").read_bytes()).decode())
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def others() -> list[dict]:
    return ([envelope("AuditLogs", directory_audit(n)) for n in range(20)]
            + [envelope("SignInLogs", sign_in(n)) for n in range(30)])


@pytest.fixture(scope="module")
def reference():
    return comparable(load([SAMPLES / "failing-initial.json"]).frames.events)


def test_a_storage_download_of_every_category_reads_only_provisioning(tmp_path, reference):
    """One container per category, each PT1H.json one envelope per line."""
    hour = f"tenantId={TENANT}/y=2026/m=03/d=24/h=07/m=00"
    provisioning = tmp_path / "insights-logs-provisioninglogs" / hour
    provisioning.mkdir(parents=True)
    for blob in (FORMATS / "storage").iterdir():
        shutil.copy(blob, provisioning / blob.name)
    for category, records in (("auditlogs", others()[:20]), ("signinlogs", others()[20:])):
        folder = tmp_path / f"insights-logs-{category}" / hour
        folder.mkdir(parents=True)
        (folder / "PT1H.json").write_text("".join(json.dumps(r) + "\n" for r in records))
    dataset = load([tmp_path])
    assert dataset.problems == []
    assert comparable(dataset.frames.events).equals(reference)
    assert ("50 records of other Entra logs (SignInLogs 30, AuditLogs 20) were skipped: not "
            "provisioning events") in dataset.notes


def test_an_event_hub_body_mixing_categories(tmp_path, reference):
    provisioning = provisioning_envelopes()
    bodies = [{"records": provisioning[i:i + 10] + others()[i // 10::6][:2]}
              for i in range(0, len(provisioning), 10)]
    path = tmp_path / "eventhub.json"
    path.write_text("\n".join(json.dumps(b) for b in bodies))
    dataset = load([path])
    assert comparable(dataset.frames.events).equals(reference) and dataset.problems == []
    assert any(n.startswith(f"{2 * len(bodies)} records of other Entra logs")
               for n in dataset.notes)


def test_a_graph_folder_with_a_directory_audits_page(tmp_path, reference):
    folder = tmp_path / "graph"
    shutil.copytree(FORMATS / "graph-v1", folder)
    audits = {"@odata.context":
              "https://graph.microsoft.com/v1.0/$metadata#auditLogs/directoryAudits",
              "value": [directory_audit(n) for n in range(25)]}
    (folder / "directoryAudits-page-001.json").write_text(json.dumps(audits, indent=2))
    dataset = load([folder])
    assert comparable(dataset.frames.events).equals(reference) and dataset.problems == []
    assert ("25 records of other Entra logs (AuditLogs 25) were skipped: not provisioning "
            "events") in dataset.notes
    with pytest.raises(InputError, match=r"holds no provisioning events, only other Entra logs "
                       r"\(AuditLogs 25\); export the provisioning logs"):
        load([folder / "directoryAudits-page-001.json"])


def test_the_portals_audit_log_download_is_not_a_provisioning_log(tmp_path):
    """The same array shape as the provisioning download, with activityDateTime in it."""
    path = tmp_path / "AuditLogs_2026-03-24.json"
    path.write_text(json.dumps([directory_audit(n) for n in range(12)], indent=2))
    with pytest.raises(InputError, match=r"only other Entra logs \(AuditLogs 12\)"):
        load([path])


def test_sign_ins_alone_are_refused_as_other_logs_not_unreadable_records(tmp_path):
    path = tmp_path / "PT1H.json"
    path.write_text("".join(json.dumps(envelope("SignInLogs", sign_in(n))) + "\n"
                            for n in range(7)))
    with pytest.raises(InputError, match=r"only other Entra logs \(SignInLogs 7\)"):
        load([path])


def test_the_provisioning_category_is_compared_without_case(tmp_path, reference):
    records = provisioning_envelopes()
    for record in records:
        record["category"] = "provisioningLogs"
    path = tmp_path / "PT1H.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    dataset = load([path])
    assert comparable(dataset.frames.events).equals(reference)
    assert not any("other Entra logs" in n for n in dataset.notes)


def graph_pages() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted((FORMATS / "graph-v1").glob("*.json"))]


def selected_audits(count: int) -> dict:
    """A directoryAudits page read with $select=id,activityDateTime,result: its records have
    no audit-only key, so only the page's @odata.context says what they are."""
    return {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/"
                              "directoryAudits(id,activityDateTime,result)",
            "value": [{k: directory_audit(n)[k] for k in ("id", "activityDateTime", "result")}
                      for n in range(count)]}


def test_a_pages_array_refused_after_some_batches_keeps_every_event(tmp_path, monkeypatch,
                                                                      reference):
    """The fast reader gives two batches, then meets the audit page and hands over: the
    careful reader, which numbers a pages array by page, passes the events given, not pages."""
    monkeypatch.setattr("loganalyzer.readers.BATCH_ROWS", 20)
    path = tmp_path / "pages.json"
    path.write_text(json.dumps([*graph_pages(), selected_audits(3)]))
    dataset = load([path])
    assert comparable(dataset.frames.events).equals(reference) and dataset.problems == []
    assert ("3 records of other Entra logs (AuditLogs 3) were skipped: not provisioning "
            "events") in dataset.notes


def test_the_historic_beta_endpoint_name_is_provisioning(tmp_path, reference):
    """Early beta pages name the endpoint auditLogs/directoryProvisioning (reference 1.1)."""
    folder = tmp_path / "beta"
    folder.mkdir()
    for n, page in enumerate(graph_pages(), start=1):
        page["@odata.context"] = ("https://graph.microsoft.com/beta/$metadata#auditLogs/"
                                  "directoryProvisioning")
        (folder / f"page-{n}.json").write_text(json.dumps(page))
    dataset = load([folder])
    assert comparable(dataset.frames.events).equals(reference)
    assert not any("other Entra logs" in n for n in dataset.notes)


def test_pages_one_per_line_are_judged_page_by_page(tmp_path, reference):
    """An audit page first does not make the provisioning pages after it audit records."""
    audits = {"@odata.context": "https://graph.microsoft.com/v1.0/$metadata#auditLogs/"
                                "directoryAudits", "value": [directory_audit(n) for n in range(3)]}
    path = tmp_path / "pages.json"
    path.write_text("\n".join(json.dumps(p) for p in [audits, *graph_pages()]))
    dataset = load([path])
    assert comparable(dataset.frames.events).equals(reference)
    assert ("3 records of other Entra logs (AuditLogs 3) were skipped: not provisioning "
            "events") in dataset.notes


def test_envelopes_without_their_category_read_alike_on_both_paths(tmp_path, reference):
    """The fast reader takes properties whatever the envelope says; when an audit envelope
    sends the file to the careful reader, it must too."""
    records = provisioning_envelopes()
    for record in records[5:]:
        del record["category"]
    path = tmp_path / "PT1H.json"
    path.write_text("".join(json.dumps(r) + "\n" for r in [*records, others()[0]]))
    dataset = load([path])
    assert comparable(dataset.frames.events).equals(reference) and dataset.problems == []


def test_a_log_analytics_query_that_unions_other_tables(tmp_path, reference):
    """Its rows carry their table in Type; rows of SigninLogs or AuditLogs are other logs."""
    import csv

    rows = list(csv.reader((FORMATS / "log-analytics" / "AADProvisioningLogs.csv").open(
        newline="", encoding="utf-8-sig")))
    header = rows[0]

    def other(table: str, n: int) -> list[str]:
        cells = dict.fromkeys(header, "") | {
            "TenantId": rows[1][header.index("TenantId")], "Type": table, "Id": f"x-{n}",
            "TimeGenerated [UTC]": "3/24/2026, 8:06:11.000 AM", "OperationName": "Update user",
            "Category": "UserManagement", "ResultType": "0", "CorrelationId": f"c-{n}"}
        return [cells[h] for h in header]

    path = tmp_path / "query_data.csv"
    with path.open("w", newline="", encoding="utf-8") as out:
        csv.writer(out).writerows(
            [*rows, *(other("SigninLogs", n) for n in range(5)), other("AuditLogs", 9)])
    dataset = load([path])
    assert comparable(dataset.frames.events).equals(reference) and dataset.problems == []
    assert ("6 records of other Entra logs (SigninLogs 5, AuditLogs 1) were skipped: not "
            "provisioning events") in dataset.notes
