"""department is not mapped Direct to the enterprise department.

What it detects:
    No user mapping to ``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``,
    or one whose source is not ``[department]``; and Entra's ``department`` mapped to some other
    target instead.
Why provisioning fails:
    Flowcase places users in a department by the enterprise ``department`` attribute. Sent
    elsewhere, or from another Entra attribute, the department is ignored or does not match a
    Flowcase department, and users land in the wrong place or are refused.
Evidence:
    Each mapping found against "Direct [department] to …:User:department".
Fix:
    Step 7a: map ``department`` Direct to
    ``urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department``.
Known false positives:
    A tenant that keeps departments in another Entra attribute on purpose (``extensionAttribute3``)
    is reported; the evidence shows the source.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import (
    DEPARTMENT,
    accepted,
    describe,
    expression,
    mapping_to,
    schemas,
    user_mappings,
)
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC008"
TITLE = "department is not mapped to the enterprise department"
SEVERITY = "medium"
GUIDE_STEPS = ("7a",)
NEEDS = (SCHEMA,)
LOG_RULES = ()
REMEDIATION = (
    "Map department Direct to "
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department "
    '(guide step 7a, "Required Attribute Mappings"); "Department names sent via SCIM must '
    'already exist in Flowcase".'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    hits = []
    expected = f"Direct [department] to {DEPARTMENT}"
    for label, schema in schemas(config):
        mapping = mapping_to(schema, DEPARTMENT)
        if mapping is not None and accepted(expression(mapping.source), "[department]"):
            continue
        elsewhere = [m for m in user_mappings(schema)
                     if accepted(expression(m.source), "[department]") and m is not mapping]
        evidence = [Mismatch(f"{label}{DEPARTMENT} mapping", describe(mapping), expected)]
        evidence += [Mismatch(f"{label}department mapping", f"to {m.target_attribute_name}",
                              f"to {DEPARTMENT}") for m in elsewhere]
        where = (f" (it goes to {', '.join(m.target_attribute_name for m in elsewhere)})"
                 if elsewhere else "")
        hits.append(ConfigHit(f"{label}department is not mapped Direct to the enterprise "
                              f"department{where}: Flowcase cannot place users.", evidence))
    return hits
