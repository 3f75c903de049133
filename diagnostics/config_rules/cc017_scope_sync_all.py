"""Scope is "Sync all users and groups".

What it detects:
    The provisioning scope setting (synchronization secret ``SyncAll``) set to true. Graph
    documents the secrets only for writing: when a read does not return the scope the check
    says it could not run, and the log rule FC019 looks for its effects instead.
Why provisioning fails:
    With "Sync all users and groups" every user of the tenant is provisioned, assigned or not,
    and app role assignments no longer decide who gets a Flowcase account.
Evidence:
    The scope setting against "Sync only assigned users and groups".
Fix:
    Step 3: under Settings set Scope to "Sync only assigned users and groups" and save.
Known false positives:
    A tenant that provisions everyone on purpose (with scoping filters) is reported.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch, NotCheckable
from loganalyzer.config.model import SECRETS, ConfigSnapshot

ID = "CC017"
TITLE = "Scope is Sync all users and groups"
SEVERITY = "medium"
GUIDE_STEPS = ("3",)
NEEDS = (SECRETS,)
LOG_RULES = ("FC019",)  # FC020 is a scoping filter an admin added, not this setting
REMEDIATION = (
    'Under Provisioning > Settings set Scope to "Sync only assigned users and groups" and save '
    "(guide step 3)."
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    value = config.secret("SyncAll")
    if value is None:
        raise NotCheckable(config.unavailable.get(SECRETS,
                                                  "Graph did not return the scope setting"))
    if value.strip().lower() != "true":
        return []
    return [ConfigHit("Scope is \"Sync all users and groups\": every user of the tenant is "
                      "provisioned, assigned or not.",
                      [Mismatch("Scope", "Sync all users and groups (SyncAll true)",
                                "Sync only assigned users and groups")])]
