"""The group object mapping is enabled.

What it detects:
    An object mapping of the schema whose source object is ``Group`` (found by its source, not
    by its name, which differs between template versions) with ``enabled`` true.
Why provisioning fails:
    Entra enables the group mapping by default. Flowcase has no SCIM group endpoint and answers
    every group request with HTTP 404, which halts the provisioning cycle and escrows the users
    behind it.
Evidence:
    The mapping's name and its Enabled switch: current "Yes", expected "No".
Fix:
    Step 7b: Provisioning > Mappings > "Provision Azure Active Directory Groups", set "Enabled"
    to "No" and save.
Known false positives:
    None: the template's own default (stored in the schema's metadata, enabled) is not read;
    only the mapping in force is.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import object_mappings, schemas
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC001"
TITLE = "The group object mapping is enabled"
SEVERITY = "critical"
GUIDE_STEPS = ("7b", "1")
NEEDS = (SCHEMA,)
LOG_RULES = ("FC001",)
REMEDIATION = (
    'Disable SCIM group support (guide step 7b): Provisioning > Mappings > "Provision Azure '
    'Active Directory Groups", set "Enabled" to "No" and "Save". The guide: "The Flowcase SCIM '
    'API does not support SCIM Groups and will return HTTP 404 Not Found errors that halt your '
    'entire provisioning cycle."'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    hits = []
    for label, schema in schemas(config):
        for _rule, mapping in object_mappings(schema, "Group"):
            if mapping.enabled:
                name = mapping.name or "the group mapping"
                hits.append(ConfigHit(
                    f"{label}'{name}' is enabled: every group is sent to Flowcase, which "
                    "answers 404 and halts the cycle.",
                    [Mismatch(f"{label}{name}", "Enabled = Yes", "Enabled = No")]))
    return hits
