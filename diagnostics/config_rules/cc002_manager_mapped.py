"""The unsupported manager attribute is mapped or in the attribute list.

What it detects:
    A user attribute mapping whose target is the enterprise ``manager``
    (``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager``, the name Entra
    uses, or the guide's spelling
    ``urn:ietf:params:scim:schemas:extension:scim:2.0:EnterpriseUser:manager``), and that
    attribute in the target attribute list.
Why provisioning fails:
    Flowcase does not support the manager attribute because of bugs in Entra's SCIM
    implementation of it: requests carrying it fail, and the failures show only once someone's
    manager changes.
Evidence:
    The mapping (its source) and the attribute list entry, against "not mapped" / "not in the
    list".
Fix:
    Step 7a: delete the manager mapping; step 6: remove the attribute from the attribute list.
Known false positives:
    The template's default mappings (stored as schema metadata) map the manager; they are not
    in force and are not read.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import (
    describe,
    is_manager,
    schemas,
    target_attributes,
    user_mappings,
)
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC002"
TITLE = "The unsupported manager attribute is mapped or listed"
SEVERITY = "high"
GUIDE_STEPS = ("1", "6", "7a")
NEEDS = (SCHEMA,)
LOG_RULES = ("FC002",)
REMEDIATION = (
    'Delete the mapping to the manager attribute (Provisioning > Mappings > "Provision Azure '
    'Active Directory Users") and remove it under "Show advanced options" > "Edit attribute '
    'list for customappsso" (guide steps 1 and 6: "Do not map any attribute against it", "Do '
    'not add urn:ietf:params:scim:schemas:extension:scim:2.0:EnterpriseUser:manager").'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    hits = []
    for label, schema in schemas(config):
        mapped = [Mismatch(f"{label}mapping to {m.target_attribute_name}", describe(m),
                           "not mapped")
                  for m in user_mappings(schema) if is_manager(m.target_attribute_name)]
        listed = [Mismatch(f"{label}attribute list", f"has {a.name}", "no manager attribute")
                  for a in target_attributes(schema) if is_manager(a.name)]
        where = " and ".join(w for w, found in (("mapped", mapped),
                                                 ("in the attribute list", listed)) if found)
        if where:
            hits.append(ConfigHit(f"{label}The manager attribute is {where}: Flowcase does not "
                                  "support it.", mapped + listed))
    return hits
