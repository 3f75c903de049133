"""Keyword patterns that *support* structural evidence in error texts.

Flowcase's error wording is not published and the rulebook must work on other SCIM apps'
texts, so each pattern accepts the common phrasings (and misspellings, such as Entra's own
"already exisits"). Patterns match ``Context.events["text"]``, which is lower-case and has
Entra's fixed wrapper sentences removed. Several rules share one pattern so that they agree on
which events belong to whom (a department error that says "duplicate" is not a duplicate user).
Polars regexes have no look-around, so word edges are spelled ``(^|[^a-z])``.
"""

from __future__ import annotations

_EDGE = r"(^|[^a-z_])"
_END = r"([^a-z_]|$)"

DEPARTMENT = rf"depart|{_EDGE}depts?{_END}|{_EDGE}offices?{_END}|{_EDGE}org(anization)?al? unit"
AMBIGUOUS = (
    r"ambiguous|multiple|more than one|several|not unique|non-unique|duplicat"
    r"|match(es|ed)? \d+|\d+ match|which one|cannot (be )?determine|could not determine"
)
DUPLICATE = (
    r"already (exi\w*|in use|taken|registered|provisioned|been|claimed|present)|duplicat"
    r"|conflict|not unique|must be unique|uniqueness|unique (constraint|key|index|violation)"
    r"|is taken|in use by|exists? with (the )?same|same (email|username|user name|e-mail)"
)
MISSING = (
    r"required|missing|mandatory|must (be provided|be present|be specified|be set|not be "
    r"(empty|null|blank))|can ?not be (empty|null|blank)|is (empty|blank|null)|no value"
    r"|not provided|was not supplied|not specified"
)
ROLE = rf"{_EDGE}roles?{_END}|app ?roles?|approle|{_EDGE}permission ?set"
MANAGER = rf"{_EDGE}manager(s|id|\.value)?{_END}"
COUNTRY = r"countr(y|ies)"
BOOLEAN = (
    rf"boolean|{_EDGE}bool{_END}|true or false|true/false|expected (a )?(true|false)"
    r"|not a valid (bool|true|false)"
)
ACTIVE = rf"{_EDGE}(in)?active{_END}|deactivat|soft.?delet|issoftdeleted|{_EDGE}disabled{_END}"
PATCH_SHAPE = (
    rf"{_EDGE}patch{_END}|{_EDGE}op{_END}|operations?\b.*\b(invalid|unsupported|not supported)"
    r"|invalid (path|operation)|unsupported (path|operation|op)"
)
AUTH = (
    r"invalid (api )?(token|key|credential)|token (is )?(invalid|expired|missing)"
    r"|unauthori[sz]ed|authentication (failed|required)|not authenticated|bearer|api[ -]?key"
)
FORBIDDEN = r"forbidden|insufficient (rights|privileges|permissions?)|not permitted|access denied"
TRANSIENT = (
    r"timed? ?out|timeout|too many requests|rate limit|throttl|service unavailable"
    r"|temporarily unavailable|bad gateway|gateway timeout|internal server error"
)
