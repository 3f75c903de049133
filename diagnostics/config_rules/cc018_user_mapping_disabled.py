"""The user object mapping is disabled.

What it detects:
    Every object mapping of the schema whose source object is ``User`` (found by its source,
    not by its name) has ``enabled`` false.
Why provisioning fails:
    Entra then provisions no user at all: cycles run, nobody reaches Flowcase, and the
    provisioning logs hold no user event to say why. It is the switch next to the one step 7b
    turns off ("Provision Azure Active Directory Groups"), and easily flipped instead of it.
Evidence:
    The mapping's name and its Enabled switch: current "No", expected "Yes". The checks of
    the user attributes (CC002-CC008) are then listed as not checked, since nothing is sent.
Fix:
    Step 7a: Provisioning > Mappings > "Provision Azure Active Directory Users", set
    "Enabled" to "Yes" and save.
Known false positives:
    None: a schema without any user mapping is not reported here (the attribute checks say
    what is missing).
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch
from diagnostics.facts.config import schemas, users_switched_off
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC018"
TITLE = "The user object mapping is disabled"
SEVERITY = "critical"
GUIDE_STEPS = ("7a",)
NEEDS = (SCHEMA,)
LOG_RULES = ()
REMEDIATION = (
    'Enable the user mapping (guide step 7a): Provisioning > Mappings > "Provision Azure '
    'Active Directory Users", set "Enabled" to "Yes" and "Save". Only the group mapping is '
    "turned off (step 7b)."
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    return [ConfigHit(f"{label}'{name}' is disabled: Entra provisions no user to Flowcase.",
                      [Mismatch(f"{label}{name}", "Enabled = No", "Enabled = Yes")])
            for label, schema in schemas(config) if (name := users_switched_off(schema))]
