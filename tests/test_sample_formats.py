"""The bundled failing-initial export, in every JSON form, reads to the same canonical events."""

from __future__ import annotations

import polars as pl
import pytest
from conftest import SAMPLES

from loganalyzer.ingest import load

FORMATS = SAMPLES / "formats"
COMPARED = [
    "event_id", "status", "action", "error_code", "http_status", "scim_detail", "retry_count",
    "object_type", "upn", "user_name_sent", "email_sent", "external_id", "source_id",
    "target_id", "skip_reason", "failed_step", "is_escrow_retry", "cycle_id", "app_name",
]


def comparable(frame: pl.DataFrame) -> pl.DataFrame:
    # storage exports carry 7-digit fractions where Graph and the portal write whole seconds
    return frame.sort("event_id").select(
        *COMPARED, pl.col("activity_time").dt.truncate("1s").alias("second")
    )


@pytest.fixture(scope="module")
def reference() -> pl.DataFrame:
    return comparable(load([SAMPLES / "failing-initial.json"]).frames.events)


@pytest.mark.parametrize(
    "inputs",
    [
        ["graph-v1"],
        ["graph-v1/page-001.json", "graph-v1/page-002.json", "graph-v1/page-003.json"],
        ["graph-beta-page.json"],
        ["portal-pretty.json"],
        ["storage"],
        ["storage/PT1H.json", "storage/PT1H.json.gz"],
    ],
    ids=lambda i: "+".join(i),
)
def test_json_forms_agree_with_the_portal_download(reference, inputs):
    dataset = load([FORMATS / name for name in inputs])
    assert dataset.problems == []
    assert comparable(dataset.frames.events).equals(reference)


def test_mixed_kinds_in_one_call_count_each_event_once(reference):
    dataset = load([SAMPLES / "failing-initial.json", FORMATS / "graph-v1", FORMATS / "storage"])
    assert dataset.frames.events.height == reference.height
    assert dataset.duplicates == 2 * reference.height


def test_every_sample_export_loads_cleanly():
    for path in sorted(SAMPLES.glob("*.json")):
        if path.name == "manifest.json":
            continue
        dataset = load([path])
        assert dataset.problems == [], path
        events = dataset.frames.events
        assert events["activity_time"].null_count() == 0, path
        failures = events.filter(pl.col("status") == "failure")
        # every failure carries an error code; its reason parses to an HTTP status or is one
        # of the documented reasons without a status line
        assert failures["error_code"].null_count() == 0, path
        assert (failures["http_status"].is_not_null() | failures["error_code"].is_in(
            ["DuplicateTargetEntries", "MandatoryFieldsMissing", "Timeout"]
        ) | failures["error_reason"].str.contains("(?i)not found|timed? ?out")).all(), path
