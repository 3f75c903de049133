"""A required attribute is missing from the attribute list or empty.

What it detects:
    Error codes ``MandatoryFieldsMissing``/``MissingValues``/``SchemaAttributeNotFound``,
    ``ImportSkipped`` (the matching attribute, mail or UPN, is empty), 400/422 failures whose
    text says something is required or missing (not about a department, role, manager or
    country), and failed creates that sent attributes but no ``userName`` or no work email
    when the error text does not point at another attribute.
Why provisioning fails:
    Flowcase needs ``userName`` and ``emails[type eq "work"].value`` on every user. If the
    attribute is missing from the attribute list (step 6) or the Entra source is empty, the
    create is refused; a user without the matching attribute is not even imported.
Evidence:
    The error code or SCIM detail ("emails is required"); the attributes the request sent;
    ``SkipReason`` ``ImportSkipped`` with the empty matching attribute.
Fix:
    Step 6: make sure id, userName, roles and ``emails[type eq "work"].value`` are in the
    attribute list and mapped (step 7a); fill in mail/UPN in Entra for the listed users.
    ``SchemaAttributeNotFound`` is the reverse (a mapped attribute missing from the list, such
    as manager removed from the list with its mapping kept) and is said so: delete the mapping.
Known false positives:
    Users without a mailbox on purpose (service accounts) are listed too; leave them
    unassigned. A PATCH refused for its shape ("'op' field is required") is not a missing
    attribute: it is the request format of the missing ``?aadOptscim062020`` flag (FC003).
"""

from __future__ import annotations

import polars as pl

from diagnostics.facts.vocabulary import (
    ACTIVE,
    BOOLEAN,
    COUNTRY,
    DEPARTMENT,
    DUPLICATE,
    MANAGER,
    MISSING,
    PATCH_SHAPE,
    ROLE,
)
from diagnostics.rulekit import (
    NAMED,
    Context,
    Hit,
    code_like,
    describe,
    failures_where,
    ids,
    mentions,
    verb,
)

ID = "FC015"
TITLE = "A required attribute is missing from the attribute list or empty"
SEVERITY = "high"
GUIDE_STEPS = ("6", "7a")
PATTERNS = (15,)
REMEDIATION = (
    "Add the required attributes in \"Edit attribute list for customappsso\" (guide step 6): "
    'id (Primary Key and Required), userName (Required), roles, emails[type eq "work"].value '
    "(Required); map them as in step 7a (ToLower([mail], ) for the email), and fill in the "
    "empty mail or userPrincipalName of the listed users in Entra."
)
MISSING_CODE = r"(mandatoryfieldsmissing|missingvalues|schemaattributenotfound)$"
# the reverse of a missing attribute: a mapping whose target is not in the attribute list
# (formats reference 4.1), such as manager taken off the list with its mapping kept
NOT_IN_LIST_CODE = r"schemaattributenotfound$"


def evaluate(ctx: Context) -> list[Hit]:
    client_failure = failures_where(http=(400, 422), text=True)
    import_skipped = (pl.col("skip_reason").str.to_lowercase() == "importskipped").fill_null(
        False
    ) | code_like(r"importskipped$")
    other_subject = (
        mentions(DEPARTMENT) | mentions(ROLE) | mentions(MANAGER) | mentions(COUNTRY)
        | mentions(PATCH_SHAPE)  # "'op' field is required": the PATCH's shape (FC003)
    )
    says_missing = client_failure & mentions(MISSING) & ~other_subject
    creates_without_identifier = ctx.failures.filter(
        client_failure
        & (pl.col("action") == "create")
        & (pl.col("object_type") != "Group").fill_null(True)  # a group sends neither: FC001's
        & (pl.col("user_name_sent").is_null() | pl.col("email_sent").is_null())
        & ~other_subject
        & ~mentions(DUPLICATE)
        & ~mentions(BOOLEAN)
        & ~mentions(ACTIVE)
    )["event_id"]
    without_identifier = pl.col("event_id").is_in(
        ctx.exporting(creates_without_identifier).implode()
    )
    events = ctx.events_where(
        code_like(MISSING_CODE) | import_skipped | says_missing | without_identifier,
        (*NAMED, *import_skipped.meta.root_names()),
    )
    if events.height == 0:
        return []
    skipped = events.filter(import_skipped)
    not_in_list = events.filter(code_like(NOT_IN_LIST_CODE))
    missing = events.filter(~code_like(NOT_IN_LIST_CODE))
    parts = []
    if missing.height:
        parts.append(f"Required attributes were missing or empty for {describe(missing)}")
    if not_in_list.height:
        parts.append(
            f"a mapping targets an attribute that is not in the attribute list "
            f"(SchemaAttributeNotFound) for {describe(not_in_list)}: delete that mapping "
            "(step 7a), or add the attribute to the list if Flowcase needs it (step 6)"
        )
    message = "; ".join(parts)
    message = message[0].upper() + message[1:]
    if skipped.height:
        not_imported = skipped["person"].n_unique()
        message += (
            f"; {not_imported} of them {verb(not_imported, 'was', 'were')} not even imported "
            "because the "
            "matching attribute is empty"
        )
    return [Hit(ids(events), message + ".", details={"import_skipped": skipped.height,
                                                    "not_in_attribute_list": not_in_list.height})]
