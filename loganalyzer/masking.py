"""Mask credentials that log texts carry, before anything is written (outputs and the store).

Error bodies and step details sometimes echo what was sent or configured: an
``Authorization: Bearer`` header, the setup guide's ``token="API_KEY"``, an Azure SAS URL.
Reports and terminal output are pasted into tickets, so every such value is replaced by
``[REDACTED]`` in ``normalize`` — reasons, response bodies, step descriptions and details,
modified-property values — so no rule, report, ``why`` answer or store ever holds it.

``PATTERNS`` is the one table: each entry names the kind of secret, the regular expression
(valid both for Python's ``re`` and for Polars' Rust engine, so text and columns are masked
the same way) and an example the tests mask. A group 1, when present, is the label that is
kept in front of the masked value.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

MASK = "[REDACTED]"


@dataclass(frozen=True)
class SecretPattern:
    name: str
    regex: str
    example: str  # a text the pattern must mask (the tests check every entry)
    keeps_label: bool = True  # group 1 is a label kept before the mask
    suffix: str = ""  # text the pattern consumes after the value and puts back


# A value ends at a quote, whitespace, or a delimiter of URLs, headers and JSON.
_VALUE_CHARACTER = r"""[^"'\\\s,;&}<>]"""
_VALUE = _VALUE_CHARACTER + "{4,}"
_LONG_VALUE = _VALUE_CHARACTER + "{8,}"  # after a word that also starts prose ("Bearer token")
# a quote around a label or value, also escaped in JSON (\") or as .NET writes it (\u0022)
_QUOTE = r"""(?:\\?["']|\\u0022)"""
_KEY_NAMES = (
    r"ocp-apim-subscription-key|subscription[-_]?key|x-api-key|x-functions-key|api[-_ ]?key"
    r"|apikey|access[-_]?token|refresh[-_]?token|id[-_]?token|client[-_ ]?secret|token|secret"
    r"|password|passwd"
)
# a label's ``:`` or ``=``, also URL-encoded (%3A, %3D) or JSON-escaped as .NET writes it
_SEPARATOR = r"(?:[:=]|%3[AaDd]|\\u003[AaDd])"
# a value written after a label with only a space (``secret token S3cr3t…``): a credential,
# not the next word of prose, when it is 8 or more characters long and holds a digit
# (no lookahead: the regular expression must also run in Polars' engine)
_UNLABELLED_VALUE = (f"(?:{_VALUE_CHARACTER}{{7,}}[0-9]{_VALUE_CHARACTER}*"
                     f"|{_VALUE_CHARACTER}*[0-9]{_VALUE_CHARACTER}{{7,}})")
PATTERNS: tuple[SecretPattern, ...] = (
    SecretPattern(
        "PEM private key",
        r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----(?s:.*?)(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)",
        "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x\n-----END RSA PRIVATE KEY-----",
        keeps_label=False,
    ),
    SecretPattern(
        "JSON Web Token",
        r"eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
        "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0In0.c2lnbmF0dXJl",
        keeps_label=False,
    ),
    SecretPattern(
        "Authorization: Bearer",
        rf"(?i)(bearer(?:\s*:\s*|\s+|%20){_QUOTE}?){_LONG_VALUE}",
        "Authorization: Bearer 0123456789abcdefSECRET",
    ),
    SecretPattern(
        "Authorization header, any scheme (Token …, a bare value, URL-encoded)",
        rf"(?i)(\bauthorization{_QUOTE}?\s*(?::|=|%3A|%3D)\s*{_QUOTE}?"
        rf"(?:[A-Za-z]+(?:\s+|%20))?){_LONG_VALUE}",
        '{"Authorization": "Token 0123456789abcdefSECRET2"}',
    ),
    SecretPattern(
        "Authorization: Basic",
        # a credential, not prose: a capital, digit or +/= after its first letter
        # ("Basic authentication failed" is left alone)
        r"(?i)(basic\s+)(?-i:[A-Za-z0-9+/=][a-z]*[A-Z0-9+/=][A-Za-z0-9+/=]{4,})",
        "Authorization: Basic dXNlcjpwYXNzd29yZA==",
    ),
    SecretPattern(
        "GitHub token",
        r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{30,})",
        "ghp_0123456789abcdefghijABCDEFGHIJ0123456789",
        keeps_label=False,
    ),
    SecretPattern(
        "AWS access key id",
        r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b",
        "aws key AKIAIOSFODNN7EXAMPLE used",
        keeps_label=False,
    ),
    SecretPattern(
        "Slack token",
        r"\bxox[abposr]-[A-Za-z0-9-]{10,}",
        "xoxb-123456789012-abcdefghijkl",
        keeps_label=False,
    ),
    SecretPattern(
        "Azure SAS signature (sig=)",
        r"(?i)(\bsig(?:=|%3D))[^&\s\"'<>;,]+",
        "https://acct.blob.core.windows.net/c/b?sv=2022-11-02&sig=AbC%2Bdef%3D&se=2026",
    ),
    SecretPattern(
        "SharedAccessSignature token",
        r"(?i)(SharedAccessSignature\s+)[^\s\"'<>,;]+",
        "Authorization: SharedAccessSignature sr=ns.servicebus.windows.net&sig=AbC%3D&se=1&skn=k",
    ),
    SecretPattern(
        "Azure connection-string key (AccountKey=, SharedAccessKey=)",
        r"(?i)(\b(?:AccountKey|SharedAccessKey|SharedSecretValue)\s*=\s*)[^;\s\"'<>,]+",
        "DefaultEndpointsProtocol=https;AccountName=a;AccountKey=bXlzZWNyZXRrZXk=;Endpoint",
    ),
    SecretPattern(
        "password in a URL",
        r"(?i)(\b[a-z][a-z0-9+.-]*://[^/\s:@\"']+:)[^@\s/\"']+@",
        "https://admin:hunter2secret@scim.example.com/scim",
        suffix="@",
    ),
    SecretPattern(
        "key or code in a URL's query (Azure Functions ?code=, ?key=)",
        # the value ends at & or its escape %26, and keeps its other escapes (%2B, %3D)
        r"(?i)((?:[?&]|%3F|%26)(?:code|key)(?:=|%3D))"
        r"(?:[^&%\s\"'<>#]|%(?:[013-9A-F][0-9A-F]|2[0-57-9A-F])){4,}",
        "https://fn.azurewebsites.net/api/scim/v2/Users?code=AzFnKeyS3cr3tVALUE0001&x=1",
    ),
    SecretPattern(
        "quoted value of a key, token, secret or password label (token=\"a,b\")",
        rf"(?i)((?:{_KEY_NAMES}){_QUOTE}?\s*{_SEPARATOR}\s*\\?\")[^\"\\]{{4,}}",
        'token="S3CRET,with,commas0123"',
    ),
    SecretPattern(
        "single-quoted value of such a label (password='two words')",
        rf"(?i)((?:{_KEY_NAMES})(?:'|\\u0027)?\s*{_SEPARATOR}\s*(?:'|\\u0027))[^'\\]{{4,}}",
        "password='correct horse battery'",
    ),
    SecretPattern(
        "key, token, secret or password label (token=\"…\", api_key: …, "
        "Ocp-Apim-Subscription-Key: …)",
        rf"(?i)((?:{_KEY_NAMES}){_QUOTE}?\s*{_SEPARATOR}\s*{_QUOTE}?){_VALUE}",
        'Ocp-Apim-Subscription-Key: 0123456789abcdef0123456789abcdef; token="API_KEY_123"',
    ),
    SecretPattern(
        "such a label and a value after a space (secret token S3cr3t0001, api_key X)",
        rf"(?i)(\b(?:{_KEY_NAMES})(?:\s+|%20){_QUOTE}?){_UNLABELLED_VALUE}",
        "the app uses secret token SCIMTOKENs3cr3tVALUE0005 for Flowcase",
    ),
)


# A detail key or property name whose value is a credential whatever the value looks like (a
# step detail ``password``, a property ``SecretToken``, a SCIM ``…:User:password``): the whole
# name, or its last part after ``:`` or ``.``, so ``passwordPolicies`` is not one
SECRET_NAME = rf"(?i)(?:^|[:.])\W*(?:{_KEY_NAMES}|secret[-_ ]?token|pwd)\W*$"

# A word every pattern needs: text without one is left alone at once (70 times cheaper than
# running the table over every step detail; the tests check each example has one).
TRIGGER = (
    r"(?i)private key|eyj|bearer|basic|gh[pousr]_|github_pat_|akia|asia|xox|sig=|sig%3d"
    r"|sharedaccess|accountkey|://|key|token|secret|password|passwd|authorization|code="
    r"|code%3d"
)
_TRIGGER = re.compile(TRIGGER)


def _replacement(pattern: SecretPattern, python: bool) -> str:
    if not pattern.keeps_label:
        return MASK
    return (r"\g<1>" if python else "${1}") + MASK + pattern.suffix


_COMPILED = tuple((re.compile(p.regex), _replacement(p, python=True)) for p in PATTERNS)


def mask(text: str | None) -> str | None:
    """``text`` with every credential the table knows replaced by ``[REDACTED]``."""
    if not text or not _TRIGGER.search(text):
        return text
    for regex, replacement in _COMPILED:
        text = regex.sub(replacement, text)
    return text


def mask_expr(text: pl.Expr) -> pl.Expr:
    """The same masking as ``mask``, for a Polars string expression (every row)."""
    for pattern in PATTERNS:
        text = text.str.replace_all(pattern.regex, _replacement(pattern, python=False))
    return text


def mask_columns(frame: pl.DataFrame, names: list[str]) -> pl.DataFrame:
    """``frame`` with these string columns masked; only rows holding a trigger word are run
    through the table."""
    for name in names:
        column = frame[name]
        hits = column.str.contains(TRIGGER).fill_null(False).arg_true()
        if len(hits):
            masked = column.gather(hits).to_frame().select(mask_expr(pl.col(name))).to_series()
            frame = frame.with_columns(column.scatter(hits, masked))
    return frame


def mask_details(frame: pl.DataFrame, name: str) -> pl.DataFrame:
    """``frame`` with the values of a key/value list column masked (step details); the whole
    value of a key that names a credential (``SECRET_NAME``)."""
    key, values = pl.element().struct.field("key"), pl.element().struct.field("value")
    secret = key.str.contains(SECRET_NAME) & values.is_not_null()
    hits = frame[name].list.eval((values.str.contains(TRIGGER) | secret).fill_null(False))
    hits = hits.list.any().fill_null(False)
    if not hits.any():
        return frame
    indexed = frame.with_row_index("_row")
    masked = indexed.filter(hits).with_columns(
        pl.col(name).list.eval(
            pl.struct(key, pl.when(secret).then(pl.lit(MASK)).otherwise(mask_expr(values))
                      .alias("value"))
        ).cast(frame.schema[name])
    )
    return pl.concat([indexed.filter(~hits), masked]).sort("_row").drop("_row")


def mask_named(frame: pl.DataFrame, name: str, values: list[str]) -> pl.DataFrame:
    """``frame`` with ``values`` masked whole in the rows whose ``name`` names a credential
    (``SECRET_NAME``: a modified property ``password``)."""
    secret = pl.col(name).str.contains(SECRET_NAME).fill_null(False)
    return frame.with_columns(
        pl.when(secret & pl.col(v).is_not_null()).then(pl.lit(MASK)).otherwise(pl.col(v))
        .alias(v) for v in values
    )
