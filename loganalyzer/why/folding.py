"""How a name a person typed and a name Entra logged are compared: composed (NFC), typed
apostrophes as the ASCII one, the Turkish ı and İ as i, lower-cased; and an address pasted with
its wrapping taken alone. The lookups of people and of groups share it. Last, when nothing
else matched, a display name is also compared with its ø, æ, å (ä, ö, ü) spelt out."""

from __future__ import annotations

import re
import unicodedata

import polars as pl

# Apostrophes typed for "'": Outlook and Word turn O'Brien into O’Brien, so a name pasted from
# a ticket may carry one while Entra logs the other.
_TYPED_APOSTROPHES = "‘’ʼ"
_ANY_APOSTROPHE = "['‘’ʼ]"
_TO_ASCII_APOSTROPHE = str.maketrans(dict.fromkeys(_TYPED_APOSTROPHES, "'"))
# The Turkish i's: "Yılmaz" written in capitals is "YILMAZ", which lower-cases (and
# casefolds) to "yilmaz", while "Yılmaz" keeps its ı; "İlkay" lower-cases to i plus a
# combining dot, which "ilkay" typed on another keyboard lacks. So ı and İ count as i and I
# on both sides.
_DOTLESS_I, _DOTTED_CAPITAL_I = "ı", "İ"
_I_WITH_DOT = "i\u0307"  # how İ lower-cases: i and a combining dot above
_ANY_I = "[iıİ]"
_FOLDED = str.maketrans({**dict.fromkeys(_TYPED_APOSTROPHES, "'"), _DOTLESS_I: "i",
                         _DOTTED_CAPITAL_I: "I"})
_IN_REGEX = str.maketrans({"'": _ANY_APOSTROPHE, "i": _ANY_I, "I": _ANY_I, _DOTLESS_I: _ANY_I,
                           _DOTTED_CAPITAL_I: _ANY_I})


def folded(text: str) -> str:
    """``text`` (composed) as every comparison takes it: lower-cased, its typed apostrophes
    the ASCII one and ı, İ as i, as ``composed`` writes the logged side."""
    return text.translate(_FOLDED).lower().replace(_I_WITH_DOT, "i")


def composed(text: pl.Expr) -> pl.Expr:
    """Text in Unicode's composed form (NFC), as the query is: a name written decomposed
    (å as a plus a ring, as macOS may store it) then matches the name typed; its typed
    apostrophes are the ASCII one and its ı and İ are i and I, as ``folded`` makes the
    query's."""
    return (text.str.normalize("NFC").str.replace_all(f"[{_TYPED_APOSTROPHES}]", "'")
            .str.replace_all(_DOTLESS_I, "i", literal=True)
            .str.replace_all(_DOTTED_CAPITAL_I, "I", literal=True)
            .str.replace_all(_I_WITH_DOT, "i", literal=True))


def escaped(q: str) -> str:
    """``q`` escaped for a regex whose apostrophe matches any apostrophe people type and
    whose i (in any case) matches ı too: the logged side as it is, without ``composed``."""
    return re.escape(q).translate(_IN_REGEX)


# what a support engineer pastes from a mail or from `why`'s own header: "Name <address>",
# a mailto: link, an address in quotes or angle brackets
_PASTED_ADDRESS = re.compile(r"""^(?:.*<\s*)?(?:mailto:)?["'‹<]?\s*"""  # an apostrophe
                             r"""([^\s<>"'‹›][^\s<>"‹›]*@[^\s<>"'‹›]+)"""  # inside: o'brien@
                             r"""[\s"'›>]*$""", re.IGNORECASE)  # '>"': a quoted From line


def as_typed(query: str) -> str:
    """The identifier in ``query`` as it would be logged: stripped, composed (macOS may type
    it decomposed), with ASCII apostrophes (a mail client types O’Brien), and the address
    alone when an address was pasted with its wrapping ("Erik Dahl <erik.dahl@northwind.no>",
    "mailto:…", "<…>")."""
    text = unicodedata.normalize("NFC", query.strip()).translate(_TO_ASCII_APOSTROPHE)
    pasted = _PASTED_ADDRESS.match(text)
    return pasted.group(1) if pasted else text


def folded_query(query: str) -> str:
    """A query as typed, folded for comparing with ``folded_name``."""
    return folded(as_typed(query))


def folded_name(column: str) -> pl.Expr:
    """A logged name, folded as ``folded_query`` folds what was typed."""
    return composed(pl.col(column)).str.to_lowercase()


# What the letters of Nordic and German names are typed as on a keyboard without them:
# Flowcase's customers are largely Nordic, and a ticket says "jorgen saether" (or "joergen")
# for Jørgen Sæther.
SPELLINGS = {"ø": ("o", "oe"), "ö": ("o", "oe"), "æ": ("ae",), "ä": ("a", "ae"),
             "å": ("a", "aa"), "ü": ("u", "ue")}
# the other way round: each spelling and the letters it may stand for ("oe": "øö")
_STANDS_FOR = {typed: "".join(sorted(letter for letter, ways in SPELLINGS.items()
                                     if typed in ways))
               for typed in {way for ways in SPELLINGS.values() for way in ways}}


def _letter(c: str) -> str:
    """A regex of what one letter of a query may be logged as: ``o`` also ø or ö, ``ø``
    also o or oe (Entra may log a name without the letter the admin typed)."""
    if c in _STANDS_FOR:
        return f"[{c}{_STANDS_FOR[c]}]"
    if c in SPELLINGS:
        return f"(?:{'|'.join([c, *SPELLINGS[c]])})"
    return re.escape(c)


def spelt_out(q: str) -> str:
    """A regex (with ``(?i)``, over ``composed`` text) of the names ``q`` (folded) is typed
    for when its ø, æ, å, ä, ö and ü are written as ``SPELLINGS``: ``joergen saether`` is
    Jørgen Sæther. Two letters standing for one (``oe``) may be that one letter or each
    letter as itself ("Joe" is still Joe); read left to right, so ``aae`` is ``aa`` and
    ``e``."""
    parts, i = [], 0
    while i < len(q):
        pair = q[i:i + 2]
        if len(pair) == 2 and pair in _STANDS_FOR:
            parts.append(f"(?:[{_STANDS_FOR[pair]}]|{_letter(pair[0])}{_letter(pair[1])})")
            i += 2
        else:
            parts.append(_letter(q[i]))
            i += 1
    return "".join(parts)


def spelt_out_name(column: str, q: str, *, whole: bool) -> pl.Expr:
    """A logged name that is ``q`` (``whole``) or holds it once the Nordic letters of either
    are typed as ``SPELLINGS``."""
    pattern = f"^{spelt_out(q)}$" if whole else spelt_out(q)
    return composed(pl.col(column)).str.contains(f"(?i){pattern}").fill_null(False)
