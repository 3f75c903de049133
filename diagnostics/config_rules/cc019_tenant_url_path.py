"""The Tenant URL does not lead to the SCIM API path.

What it detects:
    A Tenant URL (synchronization secret ``BaseAddress``) on a flowcase.com host whose path is
    not the guide's ``/api/scim/v2``: the company's Flowcase address alone, ``/api/scim``
    without ``/v2``, ``/scim/v2`` without ``/api``, or the path with ``/Users`` added. Graph
    documents the secrets only for writing: when a read does not return the Tenant URL the
    check says it could not run, and the log rule FC022 looks for the 404s instead. A URL on
    another host (a proxy in front of Flowcase) is not judged by its path: the check says so.
Why provisioning fails:
    Entra sends every request to the Tenant URL followed by ``/Users``: with another path they
    reach a web page, not the SCIM API, and no user is created or changed (HTTP 404, often an
    HTML page; a path ending in ``/Users`` becomes ``/Users/Users``).
Evidence:
    The Tenant URL against ``https://<company>.flowcase.com/api/scim/v2?aadOptscim062020`` on
    its own host; a credential embedded in it is shown as ``[REDACTED]``.
Fix:
    Step 3: set the Tenant URL to ``https://<company>.flowcase.com/api/scim/v2?aadOptscim062020``,
    Test Connection, save, and restart provisioning.
Known false positives:
    None known: the path is compared without case and a trailing ``/`` is accepted (a server
    that refuses those is not reported here; FC022 sees its 404s). An empty Tenant URL is
    CC016's.
"""

from __future__ import annotations

from diagnostics.config_rule import ConfigHit, Mismatch, NotCheckable
from diagnostics.facts.config import (
    FLOWCASE_DOMAIN,
    SCIM_PATH,
    guide_tenant_url,
    is_flowcase_host,
    tenant_url_parts,
)
from loganalyzer.config.model import SECRETS, ConfigSnapshot

ID = "CC019"
TITLE = "The Tenant URL does not lead to the SCIM API path /api/scim/v2"
SEVERITY = "critical"
GUIDE_STEPS = ("3",)
NEEDS = (SECRETS,)
LOG_RULES = ("FC022",)
REMEDIATION = (
    "Set the Tenant URL to the SCIM API URL (guide step 3: "
    '"https://your-company.flowcase.com/api/scim/v2?aadOptscim062020 ... Set the Tenant URL to '
    'the URL generated above."), Test Connection, save, and restart provisioning.'
)


def evaluate(config: ConfigSnapshot) -> list[ConfigHit]:
    url = config.secret("BaseAddress")
    if url is None:
        raise NotCheckable(config.unavailable.get(SECRETS, "Graph did not return the Tenant URL"))
    if not url.strip():
        return []  # CC016 says it is empty
    host, path, _query = tenant_url_parts(url)
    if not is_flowcase_host(host):
        raise NotCheckable(f"the Tenant URL's host {host or '(none)'} is not a {FLOWCASE_DOMAIN} "
                           "address (a proxy?): its path cannot be judged")
    kept = path.rstrip("/")
    if kept.lower() == SCIM_PATH:
        return []
    return [ConfigHit(f"The Tenant URL {url} {_what_is_wrong(kept)}: Entra sends its "
                      f"requests to that path followed by /Users, which is not the SCIM API.",
                      [Mismatch("Tenant URL", url, guide_tenant_url(url))])]


def _what_is_wrong(path: str) -> str:
    if not path:
        return f"has no path (the SCIM API is at {SCIM_PATH})"
    last = path.rsplit("/", 1)[-1].lower()
    if last in ("users", "groups"):
        return f"ends in /{path.rsplit('/', 1)[-1]}, which Entra adds itself"
    return f"has the path {path}, not {SCIM_PATH}"
