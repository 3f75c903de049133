"""Required attributes are missing from the attribute list.

What it detects:
    In the target attribute list of the user object (``Edit attribute list for customappsso``):
    ``id`` missing, not the primary key or not required (the guide asks for both),
    ``userName`` or ``emails[type eq "work"].value`` missing or not required, ``roles`` missing
    or not multi-valued.
Why provisioning fails:
    Entra sends only attributes in the list. Without ``userName`` or the work email a create is
    refused; without a multi-valued ``roles`` a user gets one role at most.
Evidence:
    Each attribute's current definition against the guide's table (step 6).
Fix:
    Step 6: add or correct the attributes: id (Primary Key, Required), userName (Required),
    roles (Multi-Value), ``emails[type eq "work"].value`` (Required).
Known false positives:
    None known for the ``scim`` template, whose list starts with these attributes.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import WORK_EMAIL, attribute_key, schemas, target_attributes
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC009"
TITLE = "Required attributes are missing from the attribute list"
SEVERITY = "high"
GUIDE_STEPS = ("6",)
NEEDS = (SCHEMA,)
LOG_RULES = ("FC015",)
REMEDIATION = (
    'Under "Show advanced options" > "Edit attribute list for customappsso" add id (Primary Key '
    "and Required), userName (Required), roles (Multi-Value) and emails[type eq \"work\"].value "
    '(Required), then "Save" (guide step 6, "Required Attributes").'
)
# name -> (the flags that must be set, how the guide's step 6 table says it)
REQUIRED = {"id": (("anchor", "required"), "Primary Key and Required"),
            "userName": (("required",), "Required"),
            "roles": (("multivalued",), "Multi-Value"),
            WORK_EMAIL: (("required",), "Required")}


def _state(attribute) -> str:
    flags = [text for flag, text in (("anchor", "Primary Key"), ("required", "Required"),
                                     ("multivalued", "Multi-Value")) if getattr(attribute, flag)]
    return "listed" + (f" ({', '.join(flags)})" if flags else ", no flags")


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    hits = []
    for label, schema in schemas(config):
        listed = {attribute_key(a.name): a for a in target_attributes(schema)}
        evidence = []
        for name, (flags, wanted) in REQUIRED.items():
            attribute = listed.get(attribute_key(name))
            if attribute is None or not all(getattr(attribute, flag) for flag in flags):
                evidence.append(Mismatch(f"{label}attribute {name}",
                                         "not listed" if attribute is None else _state(attribute),
                                         f"listed ({wanted})"))
        if evidence:
            names = ", ".join(e.subject.removeprefix(f"{label}attribute ") for e in evidence)
            hits.append(ConfigHit(f"{label}The attribute list does not define {names} as the "
                                  "guide requires.", evidence))
    return hits
