"""The shared helpers rules, evidence and timelines read: the reason without Entra's wrapper,
the one-line short reason, and step details picked by folded key before exploding."""

from __future__ import annotations

import polars as pl
import pytest

from loganalyzer import reasons
from loganalyzer.normalize import sent_attributes, step_details
from loganalyzer.schema import STEPS_SCHEMA, empty_frame

WRAPPER = (
    "Processing of the HTTP request resulted in an exception. Please see the HTTP response "
    "returned by the 'Response' property of this exception for details."
)
EMPTY_BODY_CRLF = (
    f"StatusCode: Unauthorized\r\nMessage: {WRAPPER}\r\nWeb Response: \r\n. This operation was "
    "retried zero times. It will be retried again after this date: 2026-10-01T00:40:00Z UTC"
)
EMPTY_BODY_COLLAPSED = (
    f"StatusCode: NotFound Message: {WRAPPER} Web Response:  . This operation was retried 0 "
    "times. It will be retried again after this date: 2026-10-01T00:40:00Z UTC"
)
ENTRA_OWN = (
    "Message: The User 'sander.myhre@northwind.no' could not be created in customappsso "
    "because the required attribute 'emails[type eq \"work\"].value' has no value. This "
    "operation was retried 0 times. It will be retried again after this date: "
    "2026-10-01T00:40:00Z UTC"
)


def reason_text(reason: str | None) -> str | None:
    frame = pl.DataFrame({"r": [reason]}, schema={"r": pl.Utf8})
    return frame.select(reasons.reason_text_expr(pl.col("r"))).item()


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (EMPTY_BODY_CRLF, "StatusCode: Unauthorized"),
        (EMPTY_BODY_COLLAPSED, "StatusCode: NotFound"),
        (
            ENTRA_OWN,
            "The User 'sander.myhre@northwind.no' could not be created in customappsso because "
            "the required attribute 'emails[type eq \"work\"].value' has no value.",
        ),
        (WRAPPER.lower(), None),  # case differs in pasted tickets: still only wrapper
        (None, None),
    ],
)
def test_reason_text_drops_only_the_wrapper(reason, expected):
    assert reason_text(reason) == expected


def test_short_reason_prefers_the_scim_detail_then_the_reason_then_the_skip():
    rows = pl.DataFrame(
        {
            "scim_detail": ["Department 'Sales' does not exist", None, None],
            "error_reason": [EMPTY_BODY_CRLF, EMPTY_BODY_CRLF, None],
            "skip_reason": [None, None, "NotEffectivelyEntitled"],
            "failed_step_description": [None, None, "User is not assigned"],
        }
    )
    got = rows.select(reasons.short_reason_expr(24).alias("r"))["r"].to_list()
    assert got == ["Department 'Sales' does…", "StatusCode: Unauthorized", "NotEffectivelyEntitled"]


def _steps() -> pl.DataFrame:
    """Two export steps spelling the same keys differently, and an import step."""
    def pairs(**kv: str) -> list[dict[str, str]]:
        return [{"key": k, "value": v} for k, v in kv.items()]

    return pl.DataFrame(
        {
            "event_id": ["e1", "e1", "e2"],
            "step_index": [0, 1, 0],
            "name": ["EntryImport", "EntryExportAdd", "EntryExportUpdate"],
            "step_type": ["import", "export", "export"],
            "status": ["success", "failure", "success"],
            "description": ["", "", ""],
            "details": [
                pairs(userPrincipalName="Ola@x.no", mail="ola@x.no"),
                pairs(userName="Ola@x.no", ReportableIdentifier="Ola@x.no"),
                pairs(UserName="kari@x.no", skipReason="RedundantExport",
                      **{'emails[type eq "work"]value': "kari@x.no"}),
            ],
        },
        schema=STEPS_SCHEMA,
    )


def test_picking_keys_first_gives_the_same_rows_as_exploding_everything():
    steps = _steps()
    everything = step_details(steps)
    for keys in (("username",), ("username", "mail"), ("emailstypeeqworkvalue",), ("nope",)):
        picked = step_details(steps, keys)
        assert picked.to_dicts() == everything.filter(
            pl.col("attribute_key").is_in(keys)
        ).to_dicts()
    assert set(step_details(steps, ("username",))["key"]) == {"userName", "UserName"}


def test_sent_attributes_leave_out_bookkeeping_details_in_any_spelling():
    details = step_details(_steps())
    sent = sent_attributes(details, empty_frame("modified_properties"))
    assert sorted(sent["attribute_key"]) == ["emailstypeeqworkvalue", "username", "username"]
    only = sent_attributes(details, empty_frame("modified_properties"), ("username",))
    assert sorted(only["value"]) == ["Ola@x.no", "kari@x.no"]
