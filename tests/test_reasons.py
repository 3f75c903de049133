"""Parsing of the error reason texts Entra writes (shapes from the formats reference)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from loganalyzer import reasons
from loganalyzer.masking import mask_expr

SUMO = (
    "StatusCode: Conflict\r\nMessage: Processing of the HTTP request resulted in an exception. "
    "Please see the HTTP response returned by the 'Response' property of this exception for "
    "details.\r\nWeb Response: \r\n{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
    "\"detail\":\"unclaimed user already exists for that email address.  Please claim user "
    "instead of provisioning them.\",\"status\":409,\"scimType\":\"uniqueness\"}. This operation "
    "was retried 1 times. It will be retried again after this date: "
    "2026-03-24T13:23:44.9198514Z UTC"
)
COLLAPSED = (
    "StatusCode: BadRequest Message: Processing of the HTTP request resulted in an exception. "
    "Please see the HTTP response returned by the 'Response' property of this exception for "
    "details. Web Response: {\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
    "\"status\":\"400\",\"detail\":\"User must be Active.\"}. This operation was retried zero "
    "times. It will be retried again after this date: 2026-11-03T10:00:00Z UTC"
)
PLAIN_BODY = (
    "StatusCode: BadRequest\r\nMessage: Processing of the HTTP request resulted in an exception. "
    "Please see the HTTP response returned by the 'Response' property of this exception for "
    "details.\r\nWeb Response: Value not supported for attribute department. This operation was "
    "retried 3 times. It will be retried again after this date: 2026-11-04T07:00:00.1234567Z UTC"
)
CONNECTOR = (
    "Message: Contoso returned an error response with the HTTP status code 409.  This response "
    "indicates that a user or a group already exisits with the same name."
)
TEST_CONNECTION = (
    "An HTTP/404 Not Found response was returned rather than the expected HTTP/200 OK response"
)
CREDENTIALS = "Response Status Code: BadRequest\nResponse Content: {\"error\":\"invalid token\"}"


def parse(reason: str | None) -> dict:
    frame = pl.DataFrame({"reason": [reason]}, schema={"reason": pl.Utf8})
    body = reasons.response_body_expr(pl.col("reason"))
    out = frame.with_columns(body).with_columns(
        reasons.http_status_expr(pl.col("reason"), pl.col("response_body")),
        reasons.scim_detail_expr(pl.col("response_body")),
        reasons.scim_type_expr(pl.col("response_body")),
        reasons.retry_count_expr(pl.col("reason")),
        reasons.next_retry_expr(pl.col("reason")),
    )
    return out.row(0, named=True)


def test_full_scim_reason_with_crlf():
    got = parse(SUMO)
    assert got["http_status"] == 409
    assert got["scim_type"] == "uniqueness"
    assert got["scim_detail"].startswith("unclaimed user already exists")
    assert got["response_body"].startswith('{"schemas"')
    assert got["response_body"].endswith('"scimType":"uniqueness"}')
    assert got["retry_count"] == 1
    assert got["next_retry_time"] == datetime(2026, 3, 24, 13, 23, 44, 919851, tzinfo=UTC)


def test_collapsed_line_breaks_status_as_string_and_retried_zero_times():
    got = parse(COLLAPSED)
    assert got["http_status"] == 400
    assert got["scim_detail"] == "User must be Active."
    assert got["retry_count"] == 0
    assert got["next_retry_time"] == datetime(2026, 11, 3, 10, 0, tzinfo=UTC)


def test_plain_text_body_is_its_own_detail():
    got = parse(PLAIN_BODY)
    assert got["http_status"] == 400
    assert got["scim_detail"] == "Value not supported for attribute department"
    assert got["scim_type"] is None
    assert got["retry_count"] == 3


WRAPPER = (
    "Message: Processing of the HTTP request resulted in an exception. Please see the HTTP "
    "response returned by the 'Response' property of this exception for details.\r\n"
)


@pytest.mark.parametrize(
    ("status_name", "page", "said"),
    [
        ("BadGateway", "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
         "<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
         "</body>\r\n</html>", "502 Bad Gateway (an HTML page, not a SCIM response)"),
        ("NotFound", "<!DOCTYPE html>\r\n<html lang=\"en\">\r\n<head><meta charset=\"utf-8\">"
         "<title>The page you were looking for doesn't exist\r\n (404)</title></head>\r\n"
         "<body><h1>Not here</h1></body>\r\n</html>",
         "The page you were looking for doesn't exist (404) (an HTML page, not a SCIM "
         "response)"),
        ("ServiceUnavailable", "<HTML><BODY><H1>Service Unavailable</H1></BODY></HTML>",
         "Service Unavailable (an HTML page, not a SCIM response)"),
    ],
    ids=["nginx-502", "web-app-404", "no-title"],
)
def test_an_html_error_page_is_said_by_its_title_not_shown_as_markup(status_name, page, said):
    """A gateway or a wrong Tenant URL answers with a web page: its markup, a dozen lines
    in the verdict, evidence and timeline, says less than its title."""
    got = parse(f"StatusCode: {status_name}\r\n{WRAPPER}Web Response: \r\n{page}. This "
                "operation was retried 0 times. It will be retried again after this date: "
                "2026-03-24T13:23:44.9198514Z UTC")
    assert got["scim_detail"] == said
    assert got["response_body"].startswith("<")  # the body itself is kept as it came


@pytest.mark.parametrize(
    ("reason", "status"),
    [(CONNECTOR, 409), (TEST_CONNECTION, 404), (CREDENTIALS, 400), ("StatusCode: 503", 503)],
)
def test_status_from_other_shapes(reason, status):
    assert parse(reason)["http_status"] == status


def test_no_reason_gives_nulls():
    got = parse(None)
    assert all(got[k] is None for k in ("http_status", "scim_detail", "retry_count"))


def test_every_dotnet_status_name_maps():
    for name, code in [("Unauthorized", 401), ("Forbidden", 403), ("NotFound", 404),
                       ("TooManyRequests", 429), ("InternalServerError", 500),
                       ("UnprocessableEntity", 422), ("ServiceUnavailable", 503)]:
        assert parse(f"StatusCode: {name}\r\nMessage: x")["http_status"] == code
    # other apps' connectors and hand-made exports spell the label in other cases
    assert parse("Status code: BadRequest\r\nMessage: x")["http_status"] == 400
    assert parse("STATUSCODE: 409 Message: x")["http_status"] == 409


def test_json_escapes_in_detail_are_undone():
    reason = (
        'StatusCode: NotFound\r\nMessage: x\r\nWeb Response: {"detail":"No department named '
        '\\"Sales EMEA\\" was found.\\nSee https:\\/\\/docs","status":404}. This operation was '
        "retried 0 times."
    )
    assert parse(reason)["scim_detail"] == (
        'No department named "Sales EMEA" was found. See https://docs'
    )


def test_unicode_escapes_in_detail_are_decoded():
    """A body serialised with non-ASCII escaped names the department as Entra sent it."""
    reason = (
        'StatusCode: BadRequest\r\nMessage: x\r\nWeb Response: {"detail":"Department '
        "'Salg S\\u00f8r' (\\u041f\\u0440\\u043e\\u0434\\u0430\\u0436\\u0438) does not exist "
        '\\ud83d\\ude00\\nnext","status":400}. This operation was retried 0 times.'
    )
    assert parse(reason)["scim_detail"] == (
        "Department 'Salg Sør' (Продажи) does not exist 😀 next"
    )


def test_invalid_json_escapes_in_detail_still_read():
    """A lone surrogate or an unknown escape is not decoded, and does not stop the others."""
    reason = 'Web Response: {"detail":"cut \\ud83d here \\x and \\"q\\"","status":400}'
    assert parse(reason)["scim_detail"] == 'cut \\ud83d here \\x and "q"'


@pytest.mark.parametrize(
    "secret_text",
    [
        "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJl",
        'the token was token="3f9a8b7c6d5e4f30a1b2"',
        '{"detail":"bad api_key: 3f9a8b7c6d5e4f30a1b2","status":401}',
        "Authorization: Basic dXNlcjpwYXNzd29yZDEyMw==",
        "secret_token=3f9a8b7c6d5e4f30a1b2&x=1",
    ],
)
def test_secrets_in_reasons_are_masked(secret_text):
    frame = pl.DataFrame({"t": [f"StatusCode: Unauthorized\r\nWeb Response: {secret_text}"]})
    masked = frame.select(mask_expr(pl.col("t"))).item()
    for secret in ("3f9a8b7c6d5e4f30a1b2", "c2lnbmF0dXJl", "eyJzdWIi", "dXNlcjpwYXNzd29yZDEyMw"):
        assert secret not in masked
    assert "[REDACTED]" in masked
    assert masked.startswith("StatusCode: Unauthorized")
