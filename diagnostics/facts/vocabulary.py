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

DEPARTMENT = (
    rf"depart|{_EDGE}depts?{_END}|{_EDGE}offices?{_END}|{_EDGE}org(ani[sz]ation)?al? unit"
    r"|division|business ?unit"
)
AMBIGUOUS = (
    r"ambiguous|multiple|more than one|several|not unique|non-unique|uniquely|duplicat"
    r"|match(es|ed)? \d+|\d+ match|which one|can ?not (be )?determine|could not determine"
)
DUPLICATE = (
    r"already[ _](exi\w*|in[ _]use|taken|registered|provisioned|been|claimed|present|in "
    r"|used|assigned to another|associated|linked)|(used|owned) by another|belongs to another"
    r"|exists already|(user|email|username|account)[ _]?(exists|taken)|duplicat|conflict"
    r"|not unique|must be unique|uniqueness|unique (constraint|key|index|violation)"
    rf"|{_EDGE}taken{_END}|in use by|exists? with (the )?same"
    r"|same (email|username|user name|e-mail)"
)
# the user (or one of its identifiers) said to exist already, as the subject: a 409 that says
# so is about the user, whatever else it names ("A user with this email address already
# exists", "userName 'x' is taken"); "cannot create user, department 'Sales' exists in NO and
# SE" is not; the user may be named by an address unquoted ("a user with email
# kari.berg@contoso.no already exists"), dots and all
USER_EXISTS = (
    r"(user|username|user name|e-?mail( address)?|account|login)s?"
    r"( '[^']*'| \\?\"[^\"]*\"| (with (\w+ ){0,3})?[^\s;:'\"@]+@[^\s;:'\"]+"
    r"| with [^.;:]{0,40})? (already|exists|is taken|in use)"
)
MISSING = (
    r"required|missing|mandatory|must (be provided|be present|be specified|be set|have a value"
    r"|not be (empty|null|blank))|can(no|')?t be (empty|null|blank)|is (empty|blank|null)"
    r"|no value|not provided|was not supplied|not specified"
)
ROLE = rf"{_EDGE}roles?{_END}|app ?roles?|approle|{_EDGE}permission ?set"
MANAGER = rf"{_EDGE}manager(s|id|\.value)?{_END}"
# role names and titles that contain "manager" but are not the manager attribute
MANAGER_ROLE = (
    r"(international|country|reference|department|project|account|line|office|engineering"
    r"|product|programme?|general|sales|marketing|team|senior|store|finance|operations"
    r"|hiring) ?manager"
)
COUNTRY = r"countr(y|ies)"
BOOLEAN = (
    rf"boolean|{_EDGE}bool{_END}|true or false|true/false|expected (a )?(true|false)"
    r"|not a valid (bool|true|false)"
)
# an app rejecting the *value or type* of an attribute (not its meaning, "must be Active")
VALUE_REJECTED = (
    r"invalid|not (a )?valid|(wrong|unexpected|incorrect) type|type mismatch|pars(e|ing)"
    r"|expected|deseriali[sz]|format|unrecognized|cannot convert|could not convert"
)
ACTIVE_ATTRIBUTE = rf"{_EDGE}active{_END}"
ACTIVE = (
    rf"{_EDGE}(in)?active{_END}|deactivat|soft.?delet|issoftdeleted|{_EDGE}disabled{_END}"
    r"|suspended"
)
PATCH_SHAPE = (
    r"(invalid|unsupported|malformed|unknown|unable to parse|could not parse|bad) (the )?"
    r"(scim )?patch"
    r"|patch (operation|request|body|op)s? (is |are )?(invalid|malformed|not supported|unsupported)"
    r"|(invalid|unsupported|unknown) ['\"]?op(eration)?['\"]?([^a-z]|$)"
    rf"|{_EDGE}op(eration)?s? ('?\w+'? )?(value |field )?(must|should|is invalid|is not supported"
    r"|not supported)"
    rf"|{_EDGE}['\"]?op(eration)?s?(\\?['\"])? (field |member |property )?(is )?"
    r"(required|missing)"
)
AUTH = (
    r"invalid[ _](api[ _])?(token|key|credential|auth)|token (is )?(invalid|expired|missing)"
    r"|unauthori[sz]ed|authentication (failed|required)|not[ _]auth(enticat)?ed|bearer"
    r"|api[ -]?key|bad credentials|invalid[ _]authentication"
)
# tokens that are not the Secret Token: Graph's and Entra's own paging and sync state ("Invalid
# Skip Token", "The continuation token is invalid"), which an Entra-side failure may word
PAGING_TOKEN = r"(continuation|skip|delta|paging|page|sync|watermark|cursor)[ _-]?token"
# the app saying the key itself is wrong, whatever status it answered with (a 403 "Invalid API
# key" is the token of step 3, not the key's missing role); never a role or access wording
INVALID_KEY = (
    r"invalid[ _](api[ _])?(token|key|credentials?)|(token|api[ -]?key) (is )?(invalid|expired"
    r"|revoked|not valid|unknown)|(unknown|expired|revoked) (api[ -]?key|token)|bad credentials"
)
FORBIDDEN = (
    r"forbidden|insufficient[ _](rights|privileges|permissions?|scope)|not permitted"
    r"|access denied|permission denied|not authori[sz]ed to|missing (the )?(scope|permission)"
)
TRANSIENT = (
    r"timed? ?out|time-?out|too many requests|rate.?limit|throttl|service unavailable"
    r"|temporarily unavailable|bad gateway|internal server error"
)
# error codes of failures Entra retries by itself (formats reference 4.1: "retried in 40
# minutes"), whatever their text
TRANSIENT_CODE = (
    r"(toomanyrequests|internalservererror|serviceunavailable|timeout|gatewaytimeout"
    r"|badgateway|webexceptionprotocolerror|internalerror)$"
)
