"""Parse the error ``reason`` text Entra writes for failed requests to a SCIM app.

Shape (CRLF separated, often collapsed to spaces by portals and tickets)::

    StatusCode: Conflict
    Message: Processing of the HTTP request resulted in an exception. ...
    Web Response: {"schemas": [...], "detail": "...", "status": 409, "scimType": "uniqueness"}.
    This operation was retried 1 times. It will be retried again after this date: <ISO> UTC

Other shapes carry the status as "HTTP status code 409", "HTTP/404 Not Found" or
"Response Status Code: BadRequest". These are Polars expressions so they run vectorised.
"""

from __future__ import annotations

from http import HTTPStatus

import polars as pl

from loganalyzer.timeparse import parse_iso

# "BadRequest" -> 400, "NotFound" -> 404, ... (.NET HttpStatusCode names, as Entra writes them)
HTTP_STATUS_BY_NAME: dict[str, int] = {
    status.phrase.replace(" ", "").replace("-", "").lower(): status.value for status in HTTPStatus
}
HTTP_STATUS_BY_NAME.update(
    {
        "unprocessableentity": 422,
        "requestentitytoolarge": 413,
        "requesturitoolong": 414,
        "internalservererror": 500,
    }
)

_STATUS_NAME = r"(?i)(?:Response )?Status ?Code:\s*([A-Za-z]+|\d{3})"
_STATUS_NUMBER = r"(?i)(?:HTTP status code\s*|HTTP/(?:\d\.\d\s+)?)(\d{3})"
_SCIM_STATUS = r'"status"\s*:\s*"?(\d{3})'
_DETAIL = r'"detail"\s*:\s*"((?:[^"\\]|\\.)*)"'
_SCIM_TYPE = r'"scimType"\s*:\s*"([^"]*)"'
_RETRIES = r"retried (\d+|zero) times"
_NEXT_RETRY = r"retried again after this date:\s*(\S+?)\s*(?:UTC)?\s*$"


def http_status_expr(reason: pl.Expr, body: pl.Expr) -> pl.Expr:
    """HTTP status as a number, from the status name, a number in the text, or the SCIM body."""
    named = reason.str.extract(_STATUS_NAME, 1)
    from_name = (
        pl.when(named.str.contains(r"^\d{3}$"))
        .then(named)
        .otherwise(
            named.str.to_lowercase().replace_strict(
                {k: str(v) for k, v in HTTP_STATUS_BY_NAME.items()}, default=None
            )
        )
    )
    return (
        pl.coalesce(
            from_name,
            reason.str.extract(_STATUS_NUMBER, 1),
            body.str.extract(_SCIM_STATUS, 1),
        )
        .cast(pl.Int16, strict=False)
        .alias("http_status")
    )


def _after(text: pl.Expr, marker: str) -> pl.Expr:
    """The text after ``marker`` (null when absent); str.find is far cheaper than a regex."""
    start = text.str.find(marker, literal=True)
    return pl.when(start.is_not_null()).then(text.str.slice(start + len(marker)))


def response_body_expr(reason: pl.Expr) -> pl.Expr:
    """The app's response body: after 'Web Response:' up to the retry sentence."""
    after = pl.coalesce(_after(reason, "Web Response:"), _after(reason, "Response Content:"))
    end = after.str.find("This operation was retried", literal=True)
    body = (
        pl.when(end.is_not_null()).then(after.str.slice(0, end)).otherwise(after)
        .str.strip_chars()
        .str.strip_chars_end(".")
        .str.strip_chars()
    )
    return pl.when(body.str.len_chars() > 0).then(body).otherwise(None).alias("response_body")


_WRAPPER_SENTENCE = (
    r"(?i)Processing of the HTTP request resulted in an exception\.? Please see the HTTP "
    r"response returned by the 'Response' property of this exception for details\.?"
    r"|Message:|Web Response:"
)
_RETRY_SENTENCE = "This operation was retried"


def reason_text_expr(reason: pl.Expr) -> pl.Expr:
    """The reason without Entra's fixed wrapper (its exception sentence, the ``Message:`` and
    ``Web Response:`` labels, the retry sentence), on one line; null when nothing is left.

    What is left is what the app or Entra actually said, for keyword rules and for display.
    """
    end = reason.str.find(_RETRY_SENTENCE, literal=True)
    kept = pl.when(end.is_not_null()).then(reason.str.slice(0, end)).otherwise(reason)
    text = (
        kept.str.replace_all(_WRAPPER_SENTENCE, " ")
        .str.replace_all(r"\s{2,}|[\r\n\t]", " ")
        .str.replace(r" \.? ?$", "")  # the period an empty 'Web Response:' leaves behind
        .str.strip_chars()
    )
    return pl.when(text.str.len_chars() > 0).then(text).otherwise(None)


# Entra's own words around what the app said: directory and connector names, the exception
# sentence. Keyword rules must never match them ("Azure Active Directory" is not about
# ``active``), so they are blanked out of the text rules search.
_ENTRA_WORDS = (
    r"(?i)azure active directory( \(target tenant\))?|microsoft entra( id)?|\bazure ad\b"
    r"|\bcustomappsso\b|\bactive directory\b"
    r"|please see the http response returned by the 'response' property of this exception for "
    r"details\.?|processing of the http request resulted in an exception\.?"
)


def without_entra_words(text: pl.Expr) -> pl.Expr:
    """``text`` with Entra's directory/connector names and exception sentences blanked."""
    return text.str.replace_all(_ENTRA_WORDS, " ")


def short_reason_expr(limit: int) -> pl.Expr:
    """One line per event from canonical event columns: the SCIM detail, else the reason
    without Entra's wrapper, else the skip reason or the failed step's description; cut to
    ``limit`` characters. Reads only ``scim_detail``, ``error_reason``, ``skip_reason`` and
    ``failed_step_description``, so callers can compute it once per distinct combination."""
    reason = pl.coalesce(
        pl.col("scim_detail"),
        reason_text_expr(pl.col("error_reason")),
        pl.col("skip_reason"),
        pl.col("failed_step_description"),
    )
    return clipped_expr(reason, limit)


def clipped_expr(text: pl.Expr, limit: int) -> pl.Expr:
    """``text`` cut to ``limit`` characters, the last one an ellipsis when cut."""
    return (
        pl.when(text.str.len_chars() > limit)
        .then(text.str.slice(0, limit - 1) + "…")
        .otherwise(text)
    )


# The content of a JSON string that decodes exactly: plain characters, the short escapes and
# ``\\uXXXX`` (a surrogate only as a pair: Polars' decoder makes a lone one NUL), no raw
# control character.
_JSON_STRING_CONTENT = (
    r'^(?:[^"\\\x00-\x1f]|\\["\\/bfnrt]'
    r"|\\u(?:[0-9a-cA-Ce-fE-F][0-9a-fA-F]{3}|[dD][0-7][0-9a-fA-F]{2})"
    r"|\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F][0-9a-fA-F]{2})*$"
)


def _unescape_json_string(expr: pl.Expr) -> pl.Expr:
    """Undo JSON string escapes for display (line breaks become spaces).

    A body serialised with non-ASCII escaped (System.Text.Json's and Python's default) says
    ``S\\u00f8r``: decoded, the detail names the department ``Sør`` as Entra sent it. Text
    that is not a valid JSON string gets the simple escapes undone instead.
    """
    decodable = pl.when(expr.str.contains(_JSON_STRING_CONTENT)).then(
        pl.concat_str(pl.lit('"'), expr, pl.lit('"'))
    )
    decoded = decodable.str.json_decode(pl.String).str.replace_all(r"\r\n|[\r\n\t]", " ")
    simple = (
        expr.str.replace_all(r"\\r\\n|\\n|\\r|\\t", " ")
        .str.replace_all('\\"', '"', literal=True)
        .str.replace_all("\\/", "/", literal=True)
        .str.replace_all("\\\\", "\\", literal=True)
    )
    return pl.coalesce(decoded, simple)


_HTML = r"(?i)^\s*<(!doctype html|html)"
HTML_PAGE_NOTE = " (an HTML page, not a SCIM response)"  # after the page's title
_HTML_HEADINGS = (r"(?is)<title[^>]*>(.*?)</title>", r"(?is)<h1[^>]*>(.*?)</h1>")


def is_html_page(body: pl.Expr) -> pl.Expr:
    """A response that is a web page, not a SCIM response: what a URL that does not lead
    to the SCIM API answers (FC022), or a gateway in front of it."""
    return body.str.contains(_HTML).fill_null(False)


def _html_detail(body: pl.Expr) -> pl.Expr:
    """An HTML page (a gateway's 502, a web app's 404 for a wrong Tenant URL) said by its
    title, else its first heading: its markup, a dozen lines in every output, says less."""
    heading = pl.coalesce(
        *(body.str.extract(pattern, 1).str.replace_all(r"<[^>]*>|\s+", " ").str.strip_chars()
          for pattern in _HTML_HEADINGS)
    )
    return pl.when(is_html_page(body) & (heading.str.len_chars() > 0)).then(
        heading + pl.lit(HTML_PAGE_NOTE)
    )


def scim_detail_expr(body: pl.Expr) -> pl.Expr:
    """SCIM ``detail`` from a JSON body; an HTML page its title; a plain-text body is its own
    detail."""
    from_json = _unescape_json_string(body.str.extract(_DETAIL, 1))
    looks_like_json = body.str.contains(r"^\s*[\[{]")
    plain = pl.when(looks_like_json).then(None).otherwise(body.str.strip_chars())
    return pl.coalesce(from_json, _html_detail(body), plain).alias("scim_detail")


def scim_type_expr(body: pl.Expr) -> pl.Expr:
    return body.str.extract(_SCIM_TYPE, 1).alias("scim_type")


def retry_count_expr(reason: pl.Expr) -> pl.Expr:
    """'retried 3 times' -> 3; doc paraphrases say 'retried zero times'."""
    raw = reason.str.extract(_RETRIES, 1)
    return (
        pl.when(raw == "zero").then(pl.lit("0")).otherwise(raw).cast(pl.Int32, strict=False)
    ).alias("retry_count")


def next_retry_expr(reason: pl.Expr) -> pl.Expr:
    return parse_iso(reason.str.extract(_NEXT_RETRY, 1)).alias("next_retry_time")
