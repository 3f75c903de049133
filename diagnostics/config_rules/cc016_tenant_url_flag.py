"""The Tenant URL lacks ?aadOptscim062020.

What it detects:
    The job's Tenant URL (synchronization secret ``BaseAddress``) without the
    ``aadOptscim062020`` query flag. Graph documents the secrets only for writing: when a read
    does not return the Tenant URL the check says it could not run, and the log rule FC003
    looks for the flag's absence in the logs instead.
Why provisioning fails:
    Without the flag Entra runs its pre-2020 SCIM client: PATCH requests carry booleans as
    strings, and app role assignments (roles) do not reach Flowcase.
Evidence:
    The Tenant URL against the same URL with ``?aadOptscim062020`` (a flowcase.com URL with
    the guide's path ``/api/scim/v2`` too, which CC019 checks); a credential embedded in it
    (``?token=…``, ``https://user:secret@…``) is shown as ``[REDACTED]``.
Fix:
    Step 3: set the Tenant URL to ``https://<company>.flowcase.com/api/scim/v2?aadOptscim062020``,
    Test Connection, save, and restart provisioning.
Known false positives:
    None known: the flag is a query parameter of the URL and is compared without case.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from diagnostics.config_rule import ConfigHit, Mismatch, NotCheckable
from diagnostics.facts.config import guide_tenant_url
from loganalyzer.config.model import SECRETS, ConfigSnapshot

ID = "CC016"
TITLE = "The Tenant URL lacks ?aadOptscim062020"
SEVERITY = "high"
GUIDE_STEPS = ("3", "1")
NEEDS = (SECRETS,)
LOG_RULES = ("FC003",)
REMEDIATION = (
    "Set the Tenant URL to https://<company>.flowcase.com/api/scim/v2?aadOptscim062020 (guide "
    'step 3: "Do not forget the ?aadOptscim062020 flag ... Without it, features such as '
    'AppRoleAssignments will not work.").'
)
FLAG = "aadoptscim062020"


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    url = config.secret("BaseAddress")
    if url is None:
        raise NotCheckable(config.unavailable.get(SECRETS, "Graph did not return the Tenant URL"))
    if not url.strip():
        return [ConfigHit("The Tenant URL is empty: enter the Flowcase SCIM URL with "
                          "?aadOptscim062020 (guide step 3).",
                          [Mismatch("Tenant URL", "", "https://your-company.flowcase.com/api/"
                                    "scim/v2?aadOptscim062020")])]
    query = urlsplit(url.strip()).query.lower()
    if FLAG in [part.split("=")[0] for part in query.split("&")]:
        return []
    fixed = guide_tenant_url(url)
    return [ConfigHit(f"The Tenant URL {url} lacks ?aadOptscim062020: roles do not reach "
                      "Flowcase and PATCH requests use the old SCIM shapes.",
                      [Mismatch("Tenant URL", url, fixed)])]
