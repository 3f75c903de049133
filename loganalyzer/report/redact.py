"""``--redact``: replace personal data in a report with stable pseudonyms before it is shared.

Reports get attached to tickets. Every identifier of a user or group seen in the events (UPN,
mail, the userName and email sent, externalId, display names, Entra and Flowcase object ids)
is replaced wherever it appears in the report's text, as a whole word and ignoring case; any
other email address left in free text (a response body naming a manager) is replaced too.

One person gets one pseudonym for all their identifiers (``user-1a2b3c4d@redacted`` for
addresses, ``user-1a2b3c4d`` for names and ids), derived from their Entra object id, so the
same user reads the same across findings and across weekly reports. The derivation is keyed
(HMAC-SHA-256 with ``redaction_key``), so a staff list cannot reverse it.
"""

from __future__ import annotations

import bisect
import hashlib
import hmac
import json
import re
import unicodedata
from dataclasses import fields, is_dataclass, replace
from typing import Any
from urllib.parse import quote, quote_plus

import polars as pl

from diagnostics import RULES
from diagnostics.guide_steps import STEPS
from loganalyzer.normalize import Frames, step_details
from loganalyzer.report.model import AffectedRow, Report
from loganalyzer.report.redaction_key import redaction_key
from loganalyzer.store_index import DETAIL_KEYS  # the step details that name an object
from loganalyzer.textsafe import CUT

PERSONAL_COLUMNS = (
    "upn",
    "mail",
    "user_name_sent",
    "email_sent",
    "external_id",
    "identity_key",
    "source_display_name",
    "target_display_name",
    "source_id",
    "target_id",
)
# Attributes that name the person an event is about, by ``attribute_key``: their values in
# step details and modified properties, old and new (a former UPN or name, the displayName
# sent when Entra's reads "Berg, Tom"), are that person's identifiers too. A given or family
# name alone is left out, as one word ("Will", "May") would be replaced in every sentence
# that uses it; so is a manager's attribute, which names someone else.
PERSONAL_ATTRIBUTES = (
    *DETAIL_KEYS, "displayname", "nameformatted", "userprincipalname", "mail",
    "emailstypeeqworkvalue", "employeeid", "objectid", "phonenumberstypeeqworkvalue",
    "phonenumberstypeeqmobilevalue", "telephonenumber", "mobile",
)
_NAME_ATTRIBUTES = ("displayname", "nameformatted")
# a name of one word: a shared account's ("Sales", "Reception") and a word of other texts
# ("Sales EMEA"), left to the affected tables (``_named``); a name in a script written without
# spaces ("王小明") is a person's full name
_ONE_WORD = r"^\s*[^\W\d_]+\s*$"
_UNSPACED_SCRIPT = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}]"
# an address in free text: RFC 5322's characters in the local part ("a!b#c@x.no" is one),
# its @ also URL- or JSON-escaped ("boss%40x.no", "boss\u0040x.no")
_EMAIL = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+(?:@|%40|\\u0040)[\w-]+(?:\.[\w-]+)+")
_ESCAPED_AT = re.compile(r"%40|\\u0040", re.IGNORECASE)
# where an identifier may start: not inside a word, but right after an escape that a SCIM
# response or a URL wraps it in (``\u0027Kari``, ``%22kari``), whose last character is one
_START = r"(?:(?<=\\u[0-9a-fA-F]{4})|(?<=%[0-9a-fA-F]{2})|(?<=\\[nrt])|(?<!\w))"
# what a field holds when it holds nobody: never an identifier to replace in every sentence
PLACEHOLDERS = ("none", "null", "unknown", "undefined", "empty", "true", "false", "n/a")
_WORD = r"[^\s'\"(<\[=/:?&]"  # a character of a word an identifier may begin with
_CUT_WORDS = [re.compile(rf"(?<!{_WORD})(?:%[0-9A-Fa-f]{{2}})*((?:{_WORD}+\s){{{n - 1}}}"
                         rf"{_WORD}{{2,}})\s?{CUT}$")
              for n in (3, 2, 1)]  # the last three, two, one words of a cut text
_CUT_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w.-]*" + CUT + "$")
_URL_SAFE = re.compile(r"[\w.~-]*", re.ASCII)  # what no URL or JSON escape changes
# what .NET's JSON writer escapes besides what Python's does ("O\\u0027Brien", "a\\u002Bb")
_DOTNET_ESCAPED = re.compile(r"[^\x20-\x7e]|['+&<>`]")


def _digest(text: str) -> str:
    return hmac.new(redaction_key(), text.lower().encode("utf-8"), hashlib.sha256).hexdigest()[:8]


def _address_pseudonym(match: re.Match[str]) -> str:
    """An address of someone not in the events, however its @ was escaped, the same each time."""
    return f"email-{_digest(_ESCAPED_AT.sub('@', match.group(0)))}@redacted"


def _pseudonym(kind: str, key: str, value: str) -> str:
    suffix = "@redacted" if "@" in value else ""
    return f"{kind}-{_digest(key)}{suffix}"


# a name beyond ASCII with an i may be Turkish ("Emine Çelik"), and is then also written with
# Turkish casing of i (i/İ, ı/I); .NET's invariant lower case makes İ a plain i
_TURKISH = "iIİı"


def _escaped(text: str) -> set[str]:
    """``text`` and how a log may write it: in upper or lower case and either Unicode
    normalization (an escape keeps the case: ``\\u00d8`` is Ø), URL-encoded (``%40``, ``+``
    for a space), JSON-escaped as Python and .NET write it, with HTML's ``&#39;``."""
    cased = {text, text.lower()}
    if not text.isascii():
        cased |= {text.upper(), text.casefold()}  # casefold: "Groß" is also written "Gross"
        if any(letter in text for letter in _TURKISH):  # as a Turkish locale or .NET cases it
            cased |= {text.replace("i", "İ").upper(), text.replace("İ", "i").lower(),
                      text.replace("I", "ı").replace("İ", "i").lower()}
        cased |= {unicodedata.normalize(form, t) for t in set(cased) for form in ("NFC", "NFD")}
    found = set(cased)
    for t in cased:
        if _URL_SAFE.fullmatch(t):  # most ids: nothing escapes them
            continue
        found |= {quote(t, safe=""), quote_plus(t, safe="")}
        if _DOTNET_ESCAPED.search(t) or '"' in t or "\\" in t:
            found |= {json.dumps(t)[1:-1], t.replace("'", "&#39;"),
                      _DOTNET_ESCAPED.sub(lambda m: f"\\u{ord(m.group()):04X}", t)}
    return found


def _folded(text: str) -> str:
    """How identifiers are compared: lower-cased, whitespace runs as one space (reasons in a
    report are collapsed so; the identifier may be logged with two spaces or a no-break one)."""
    return " ".join(text.split()).lower()


def pseudonyms(events: pl.DataFrame | pl.LazyFrame,
               attributes: pl.LazyFrame | None = None) -> dict[str, str]:
    """Folded identifier (``_folded``) -> pseudonym, for every user and group in the events,
    and what their attributes name them (``PERSONAL_ATTRIBUTES``: a ReportableIdentifier
    without a domain, a former UPN; ``attributes`` as ``identity_attributes`` gives them).

    The key of a person is their Entra object id (else their identity key), so the UPN, mail,
    display name and ids of one object share one pseudonym. The local part of an address is
    theirs too when it has a dot, dash, underscore or digit ("kari.nilsen" in "userName
    'kari.nilsen' already exists"); a bare word ("support") would replace that word everywhere.
    """
    return _mapping(_identities(events, attributes))


def _one_word_name(is_name: pl.Expr) -> pl.Expr:
    """A name (``is_name``) of one word, in a script that puts spaces between words."""
    value = pl.col("value")
    return (is_name & value.str.contains(_ONE_WORD)
            & ~value.str.contains(_UNSPACED_SCRIPT)).fill_null(False)


def _identities(events: pl.DataFrame | pl.LazyFrame,
                attributes: pl.LazyFrame | None) -> pl.DataFrame:
    """Every identifier as logged (``value``), with its object's ``kind`` and ``key``;
    ``attributes`` as ``identity_attributes`` gives them."""
    owners = events.lazy().select(
        "event_id",
        pl.when(pl.col("object_type") == "Group").then(pl.lit("group")).otherwise(pl.lit("user"))
        .alias("kind"),
        # an event naming nobody by id still has its names replaced, under its own key
        pl.coalesce("source_id", "identity_key", pl.col("target_id").str.to_lowercase(),
                    "source_display_name", "target_display_name", "event_id")
        .str.to_lowercase().alias("key"),
        *PERSONAL_COLUMNS,
    ).drop_nulls("key")
    logged = owners.drop("event_id").unique().unpivot(index=["kind", "key"],
                                                     on=list(PERSONAL_COLUMNS))
    parts = [logged.filter(~_one_word_name(pl.col("variable").str.ends_with("display_name")))
             .select("kind", "key", "value")]
    if attributes is not None:
        named = attributes.join(owners.select("event_id", "kind", "key"), on="event_id")
        parts.append(named.filter(~_one_word_name(pl.col("attribute_key").is_in(_NAME_ATTRIBUTES)))
                     .select("kind", "key", "value"))
    found = pl.concat(parts).select("kind", "key", pl.col("value").str.strip_chars())
    # a name with a remark in brackets ("Henrik Lie (admin)") is also written without it
    bare = pl.col("value").str.replace(r"\s*\([^()]*\)$", "")
    unmarked = found.filter(bare != pl.col("value"), bare.str.contains(r"\S\s+\S")).select(
        "kind", "key", bare.alias("value"))
    return (
        pl.concat([found, unmarked])
        .drop_nulls()
        .filter(
            # two letters of a script without spaces make a full name ("李娜")
            ((pl.col("value").str.len_chars() >= 3)
             | ((pl.col("value").str.len_chars() == 2)
                & pl.col("value").str.contains(_UNSPACED_SCRIPT)))
            & ~pl.col("value").str.contains(r"^\d{1,5}$")  # a short number is not a person
            & ~pl.col("value").str.to_lowercase().is_in(PLACEHOLDERS)
        )
        .unique()
        .sort("key", "value")  # a value two objects share: the same owner in every run
        # streamed: the attributes are millions of step details (1M events: 1.3 GB peak
        # instead of 2.8 GB)
        .collect(engine="streaming")
    )


def _mapping(people: pl.DataFrame) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for kind, key, value in people.iter_rows():
        mapping.setdefault(_folded(value), _pseudonym(kind, key, value))
    for kind, key, value in people.iter_rows():
        local = value.partition("@")[0] if "@" in value else ""
        if len(local) >= 3 and re.search(r"[._\d-]", local) and re.search(r"[^\W\d_]", local):
            mapping.setdefault(_folded(local), _pseudonym(kind, key, ""))
    return mapping


class _Replacer:
    """Whole-word, case-insensitive replacement of many identifiers in many strings at once,
    in every spelling ``_escaped`` gives; then what a cut text ends in, and any address."""

    def __init__(self, mapping: dict[str, str], spellings: dict[str, set[str]]) -> None:
        self.mapping = dict(mapping)
        self.spellings: dict[str, set[str]] = {}  # a folded pattern -> how it may be written
        for folded in mapping:
            written = set().union(*(_escaped(t) for t in spellings.get(folded, set()) | {folded}))
            for text in written:
                self.mapping.setdefault(_folded(text), mapping[folded])
                self.spellings.setdefault(_folded(text), set()).add(text)
        self.patterns = sorted(self.spellings, key=len, reverse=True)
        self.ordered = sorted(self.mapping)  # for the identifiers a cut text ends in
        self._compiled: dict[frozenset[str], re.Pattern[str]] = {}

    def __call__(self, texts: list[str]) -> list[str]:
        if not texts:
            return texts
        if self.patterns:
            # find candidates in the folded text (every overlapping one: a name may begin
            # another), then replace them in the original with a case-insensitive pattern
            found = pl.Series([_folded(t) for t in texts], dtype=pl.Utf8).str.extract_many(
                self.patterns, overlapping=True
            )
            texts = [
                self._replace_known(text, hits) if hits else text
                for text, hits in zip(texts, found.to_list(), strict=True)
            ]
        texts = [self._cut_end(t) if t.endswith(CUT) else t for t in texts]
        return [_EMAIL.sub(_address_pseudonym, t) for t in texts]

    def _replace_known(self, text: str, hits: list[str]) -> str:
        return self._pattern(frozenset(hits)).sub(
            lambda m: self.mapping.get(_folded(m.group(0)), m.group(0)), text)

    def _pattern(self, hits: frozenset[str]) -> re.Pattern[str]:
        """The pattern of these identifiers' spellings, compiled once: a person named in many
        texts (evidence, affected rows) shares it (1M-event report: 91,508 texts with a hit,
        20,005 different sets; compiling each text's cost most of the redaction)."""
        if hits not in self._compiled:
            written = sorted({w for h in hits for w in self.spellings[h]}, key=len, reverse=True)
            alternatives = (r"\s+".join(re.escape(part) for part in w.split()) for w in written)
            self._compiled[hits] = re.compile(f"{_START}({'|'.join(alternatives)})(?!\\w)",
                                              re.IGNORECASE)
        return self._compiled[hits]

    def _cut_end(self, text: str) -> str:
        """A text cut inside an identifier ends in its first characters ("… reg Kari Nor…",
        "… kari.nil…"): the last one to three words are replaced when they begin exactly one
        known identifier; the start of an address nobody in the events has ("boss@contoso.c…")
        as an unknown address."""
        for last_words in _CUT_WORDS:
            match = last_words.search(text)
            if match is None:
                continue
            # a URL's last parameter: what follows its last escape ("%20eq%20%22kari.nil…")
            escapes = list(re.finditer(r"%[0-9A-Fa-f]{2}", match.group(1)))
            at = match.start(1) + (escapes[-1].end() if escapes else 0)
            pseudonym = self._begun(_folded(text[at:match.end(1)]))
            if pseudonym is not None:
                return text[:at] + pseudonym + text[match.end(1):]
        return _CUT_ADDRESS.sub(lambda m: f"email-{_digest(m.group(0))}@redacted{CUT}", text)

    def _begun(self, start: str) -> str | None:
        """The pseudonym of the one identifier that ``start`` begins (not is), else None."""
        if len(start) < 3 or start in self.mapping:
            return None
        at = bisect.bisect_left(self.ordered, start)
        begun = {self.mapping[k].removesuffix("@redacted")  # "kari.nil…": no address left
                 for k in self.ordered[at:at + 50] if k.startswith(start)}
        return begun.pop() if len(begun) == 1 else None


def _strings(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(value)
    elif is_dataclass(value):
        for f in fields(value):
            _strings(getattr(value, f.name), out)
    elif isinstance(value, list):
        for item in value:
            _strings(item, out)


def _rebuilt(value: Any, replaced: Any) -> Any:
    if isinstance(value, str):
        return next(replaced)
    if is_dataclass(value):
        return replace(
            value,
            **{f.name: _rebuilt(getattr(value, f.name), replaced) for f in fields(value)},
        )
    if isinstance(value, list):
        return [_rebuilt(item, replaced) for item in value]
    return value


def redact_report(report: Report, events: pl.DataFrame | pl.LazyFrame,
                  attributes: pl.LazyFrame | None = None) -> Report:
    """The same report with every personal identifier replaced by its pseudonym. A name in
    the affected tables that no identifier matched (two letters, say) takes the pseudonym of
    its row's id: those tables always name someone."""
    people = _identities(events, attributes)
    own = _own_text(report)
    words = set(re.findall(r"[^\W\d_]+", own))
    mapping = {k: v for k, v in _mapping(people).items() if not _is_own_wording(k, words, own)}
    spellings = _spellings(people["value"])
    for finding in report.findings + report.notices:
        for row in finding.affected:  # ids a rule derived, e.g. from a step's details
            kind = "group" if row.type == "Group" else "user"
            mapping.setdefault(_folded(row.id), _pseudonym(kind, row.id, row.id))
    texts: list[str] = []
    _strings(report, texts)
    replaced = iter(_Replacer(mapping, spellings)(texts))
    redacted = _rebuilt(report, replaced)
    for before, after in zip(report.findings + report.notices,
                             redacted.findings + redacted.notices, strict=True):
        after.affected = [_named(old, new, mapping) for old, new in
                          zip(before.affected, after.affected, strict=True)]
    return replace(redacted, redacted=True)


def _own_text(report: Report) -> str:
    """The tool's own texts, lower-cased: rule titles and fixes, the guide's step titles, the
    apps' names. A group called "Users" or "All Users" is wording of the report, not a person:
    replacing it would garble every sentence that says users (a table still shows its
    pseudonym, ``_named``)."""
    texts = [*(r.title for r in RULES), *(r.remediation for r in RULES), *STEPS.values(),
             *report.apps]
    return " ".join(texts).lower()


def _is_own_wording(folded: str, words: set[str], own: str) -> bool:
    """A word of the tool's texts, or a phrase of them ("all users"); not "flowcase users no"."""
    if not all(w in words for w in folded.split()):
        return False
    return " " not in folded or re.search(rf"(?<!\w){re.escape(folded)}(?!\w)", own) is not None


def identity_attributes(frames: Frames) -> pl.LazyFrame:
    """The values of ``PERSONAL_ATTRIBUTES`` in the step details (a store keeps them one per
    row; an export's are picked from its steps) and the modified properties, old and new,
    with the full names their given and family names make: event_id, attribute_key, value,
    one row per value; for ``redact_report``."""
    wanted = (*PERSONAL_ATTRIBUTES, *_GIVEN, *_FAMILY)
    details = (frames.details if frames.details is not None
               else step_details(frames.steps.lazy(), wanted))
    columns = ["event_id", "attribute_key", "value"]
    sent = frames.modified_properties.lazy().filter(
        pl.col("attribute_key").is_in(wanted)
    ).unpivot(index=["event_id", "attribute_key"], on=["old_value", "new_value"])
    found = pl.concat([details.filter(pl.col("attribute_key").is_in(wanted)).select(columns),
                       sent.select(columns)]).filter(pl.col("value").str.strip_chars() != "")
    named = pl.concat([found.filter(pl.col("attribute_key").is_in(PERSONAL_ATTRIBUTES)),
                       _full_names(found)])
    # a month holds millions of these rows, nearly all the same few values per person again:
    # each value once, with the first event holding it (by id, so every run picks the same)
    return named.group_by("attribute_key", "value").agg(pl.col("event_id").min()).select(
        columns)


# given and family names: alone they are left out (``PERSONAL_ATTRIBUTES``), but a text may
# name the person by them in another order than the display name ("Berg, Tom", "Tom Berg")
_GIVEN = ("givenname", "namegivenname")
_FAMILY = ("surname", "namefamilyname")


def _full_names(found: pl.LazyFrame) -> pl.LazyFrame:
    """"Given Family", "Family, Given" and "Family Given" of each event's given and family
    names (every pair: a renamed person has two), as ``nameformatted`` rows."""
    key, value = pl.col("attribute_key"), pl.col("value").str.strip_chars()

    def names(keys: tuple[str, ...], alias: str) -> pl.LazyFrame:
        return found.filter(key.is_in(keys)).select("event_id", value.alias(alias)).unique()

    pairs = names(_GIVEN, "given").join(names(_FAMILY, "family"), on="event_id")
    given, family = pl.col("given"), pl.col("family")
    return pairs.select(
        "event_id", pl.lit("nameformatted").alias("attribute_key"),
        pl.concat_list(pl.format("{} {}", given, family), pl.format("{}, {}", family, given),
                       pl.format("{} {}", family, given)).alias("value"),
    ).explode("value")


def _named(before: AffectedRow, after: AffectedRow, mapping: dict[str, str]) -> AffectedRow:
    if not after.display_name or after.display_name != before.display_name:
        return after
    return replace(after, display_name=mapping[_folded(before.id)].removesuffix("@redacted"))


def _spellings(values: pl.Series) -> dict[str, set[str]]:
    """Folded identifier -> its spellings as logged, for those beyond ASCII: Turkish İ
    lower-cases to two characters, so no case-insensitive match finds it, and a JSON escape
    keeps the case (``\\u00d8`` is Ø, ``\\u00f8`` ø)."""
    found: dict[str, set[str]] = {}
    for value in values.filter(values.str.contains(r"[^\x00-\x7f]")).to_list():
        found.setdefault(_folded(value), set()).add(" ".join(value.split()))
    return found
