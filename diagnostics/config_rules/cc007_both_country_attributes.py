"""Both countryCode and countryName are mapped.

What it detects:
    User mappings to a target ending in ``:countryCode`` and to one ending in ``:countryName``
    (the Flowcase extension attributes) at the same time.
Why provisioning fails:
    Flowcase accepts a country as a code or as a name, never both: every create or update that
    carries both is refused with HTTP 400.
Evidence:
    Both mappings with their sources; expected: only one of them.
Fix:
    Step 7a: delete one of the two mappings (keep ``countryCode``, ISO 3166, or
    ``countryName``).
Known false positives:
    None known: both attributes in the attribute list is fine; only mapping both is reported.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import describe, schemas, user_mappings
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC007"
TITLE = "countryCode and countryName are both mapped"
SEVERITY = "high"
GUIDE_STEPS = ("7a", "1")
NEEDS = (SCHEMA,)
LOG_RULES = ("FC010",)
REMEDIATION = (
    "Delete the mapping to either countryCode or countryName (guide step 7a: \"Use either "
    'countryCode (ISO 3166-2) or countryName, but never both. Using both will cause an HTTP 400 '
    'error.").'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    hits = []
    for label, schema in schemas(config):
        found = {suffix: [m for m in user_mappings(schema)
                          if (m.target_attribute_name or "").lower().endswith(suffix.lower())]
                 for suffix in (":countryCode", ":countryName")}
        if all(found.values()):
            evidence = [Mismatch(f"{label}{m.target_attribute_name} mapping", describe(m),
                                 "only one of countryCode and countryName mapped")
                        for mappings in found.values() for m in mappings]
            hits.append(ConfigHit(f"{label}countryCode and countryName are both mapped: every "
                                  "create and update carrying both fails with HTTP 400.",
                                  evidence))
    return hits
