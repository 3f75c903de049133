"""The canonical model: the one place that spells column names and dtypes.

Every reader produces *raw* records shaped like Microsoft Graph's
``provisioningObjectSummary`` (see ``RAW_SCHEMA``); ``normalize`` turns them into the
three canonical frames below. Rules, queries and reports read canonical columns only.
"""

from __future__ import annotations

from typing import TypeVar

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")

# Open property bags (``details``) are kept as key/value lists: their keys vary per step.
DETAILS = pl.List(pl.Struct({"key": pl.Utf8, "value": pl.Utf8}))

_IDENTITY = pl.Struct(
    {"id": pl.Utf8, "displayName": pl.Utf8, "identityType": pl.Utf8, "details": DETAILS}
)
_SYSTEM = pl.Struct({"id": pl.Utf8, "displayName": pl.Utf8, "details": DETAILS})
_ERROR_FIELDS = {
    "errorCode": pl.Utf8,
    "reason": pl.Utf8,
    "additionalDetails": pl.Utf8,
    "errorCategory": pl.Utf8,
    "recommendedAction": pl.Utf8,
}

# Graph's provisioningObjectSummary (v1.0 plus beta's deprecated ``action``/``statusInfo``),
# with the position of the record in its file for error messages.
RAW_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Utf8,
    "activityDateTime": pl.Utf8,
    "tenantId": pl.Utf8,
    "jobId": pl.Utf8,
    "cycleId": pl.Utf8,
    "changeId": pl.Utf8,
    "provisioningAction": pl.Utf8,
    "action": pl.Utf8,
    "durationInMilliseconds": pl.Int64,
    "initiatedBy": pl.Struct(
        {"id": pl.Utf8, "displayName": pl.Utf8, "initiatorType": pl.Utf8}
    ),
    "servicePrincipal": pl.Struct({"id": pl.Utf8, "displayName": pl.Utf8}),
    "sourceSystem": _SYSTEM,
    "targetSystem": _SYSTEM,
    "sourceIdentity": _IDENTITY,
    "targetIdentity": _IDENTITY,
    "provisioningStatusInfo": pl.Struct(
        {"status": pl.Utf8, "errorInformation": pl.Struct(_ERROR_FIELDS)}
    ),
    "statusInfo": pl.Struct({"status": pl.Utf8, **_ERROR_FIELDS}),
    "provisioningSteps": pl.List(
        pl.Struct(
            {
                "name": pl.Utf8,
                "provisioningStepType": pl.Utf8,
                "status": pl.Utf8,
                "description": pl.Utf8,
                "details": DETAILS,
            }
        )
    ),
    "modifiedProperties": pl.List(
        pl.Struct({"displayName": pl.Utf8, "oldValue": pl.Utf8, "newValue": pl.Utf8})
    ),
    "source_file": pl.Utf8,
    "source_record": pl.Int64,
}

# The one key of each identity's and system's ``details`` bag that ``normalize`` reads (None:
# it reads none). Readers may hand on only that pair: the fast JSON reader does, since DuckDB
# builds whole bags slowly. Steps' details are always kept whole (rules and the store use them).
DETAIL_KEY_READ: dict[str, str | None] = {
    "sourceIdentity": "UserPrincipalName",
    "targetSystem": "ServicePrincipalDisplayName",
    "sourceSystem": None,
    "targetIdentity": None,
}

EVENTS_SCHEMA: dict[str, pl.DataType] = {
    # identity of the event
    "event_id": pl.Utf8,
    "activity_time": UTC_TIME,
    "tenant_id": pl.Utf8,
    "job_id": pl.Utf8,
    "cycle_id": pl.Utf8,
    "change_id": pl.Utf8,
    "app_name": pl.Utf8,  # servicePrincipal.displayName
    "service_principal_id": pl.Utf8,
    "source_system": pl.Utf8,
    "target_system": pl.Utf8,
    "initiated_by": pl.Utf8,
    # what happened (enum values lower-cased; unknown values kept verbatim, lower-cased)
    "action": pl.Utf8,
    "status": pl.Utf8,
    "duration_ms": pl.Int64,
    "error_code": pl.Utf8,
    "error_category": pl.Utf8,
    "error_reason": pl.Utf8,
    "error_additional_details": pl.Utf8,
    "error_recommended_action": pl.Utf8,
    # parsed from error_reason
    "http_status": pl.Int16,
    "response_body": pl.Utf8,
    "scim_detail": pl.Utf8,
    "scim_type": pl.Utf8,
    "retry_count": pl.Int32,
    "next_retry_time": UTC_TIME,
    # derived from the steps
    "failed_step": pl.Utf8,  # name of the first step that failed (else the one skipped)
    "failed_step_description": pl.Utf8,
    "skip_reason": pl.Utf8,
    "is_escrow_retry": pl.Boolean,
    # a skip's class from its scoping details (``skip_classes``): not_assigned,
    # scoping_filter, inactive_in_entra or null; and the scoping-filter clauses that failed
    "skip_class": pl.Utf8,
    "scope_clauses": pl.List(pl.Utf8),
    # the object
    "object_type": pl.Utf8,  # "User", "Group" or the raw identityType
    "source_id": pl.Utf8,  # Entra object id
    "source_display_name": pl.Utf8,
    "source_identity_type": pl.Utf8,
    "target_id": pl.Utf8,  # Flowcase id
    "target_display_name": pl.Utf8,
    "target_identity_type": pl.Utf8,
    # the user's identifiers as logged, and lower-cased keys for lookup
    "upn": pl.Utf8,
    "mail": pl.Utf8,
    "user_name_sent": pl.Utf8,
    "email_sent": pl.Utf8,
    "external_id": pl.Utf8,
    "identity_key": pl.Utf8,  # lower-cased UPN, else mail, else sent userName, else object id
    # where the record came from
    "source_file": pl.Utf8,
    "source_record": pl.Int64,
}

# Event columns neither diagnose nor report reads: they stay in the store (why, summary, a new
# ingest) and out of memory when a month is analysed (a quarter of the events' size). The
# change id stays in: evidence carries it for a support case.
UNANALYSED_COLUMNS = (
    "source_system", "initiated_by", "duration_ms", "error_category",
    "error_recommended_action", "source_identity_type", "target_identity_type", "source_file",
    "source_record", "failed_step",
)

STEPS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.Utf8,
    "step_index": pl.Int16,
    "name": pl.Utf8,
    "step_type": pl.Utf8,  # lower-cased provisioningStepType
    "status": pl.Utf8,
    "description": pl.Utf8,
    "details": DETAILS,
}

MODIFIED_PROPERTIES_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.Utf8,
    "property_index": pl.Int16,
    "name": pl.Utf8,
    "attribute_key": pl.Utf8,  # see attribute_key(): comparable across spellings
    "old_value": pl.Utf8,
    "new_value": pl.Utf8,
}

# ``normalize.step_details``: one row per step detail, written by ingest beside the steps so
# a rule asking for a few keys scans one small column instead of exploding every step
DETAIL_ROWS_SCHEMA: dict[str, pl.DataType] = {
    "event_id": pl.Utf8,
    "step_index": pl.Int16,
    "name": pl.Utf8,
    "step_type": pl.Utf8,
    "status": pl.Utf8,
    "key": pl.Utf8,
    "value": pl.Utf8,
    "attribute_key": pl.Utf8,
}

# Free text of any length (``details``: the detail values). Nothing filters a store on it, so
# stores keep no Parquet statistics for it: their min/max cost a quarter of ingest's writes.
FREE_TEXT: dict[str, tuple[str, ...]] = {
    "events": ("error_reason", "error_additional_details", "error_recommended_action",
               "response_body", "scim_detail", "failed_step_description"),
    "steps": ("description", "details"),
    "modified_properties": ("old_value", "new_value"),
    "step_details": ("value",),
}

FRAME_SCHEMAS = {
    "events": EVENTS_SCHEMA,
    "steps": STEPS_SCHEMA,
    "modified_properties": MODIFIED_PROPERTIES_SCHEMA,
}


Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def conformed(frame: Frame, schema: dict[str, pl.DataType]) -> Frame:
    """The schema's columns, in its order and of its types: what every reader yields and every
    store file holds, whatever order or width a source gave them in."""
    return frame.select(list(schema)).cast(schema)


def empty_frame(name: str) -> pl.DataFrame:
    """An empty canonical frame, so code never has to special-case 'no rows'."""
    return pl.DataFrame(schema=FRAME_SCHEMAS[name])
