"""roles is not AppRoleAssignmentsComplex([appRoleAssignments]).

What it detects:
    The user mapping to ``roles``: missing, or an expression other than
    ``AppRoleAssignmentsComplex([appRoleAssignments])`` (for example
    ``SingleAppRoleAssignment``, which sends one role only and in another shape).
Why provisioning fails:
    Flowcase reads a user's roles from the complex app-role list. Without this mapping users
    arrive without roles; with another function they arrive with one role or are refused.
Evidence:
    The mapping as the portal shows it against the guide's expression.
Fix:
    Step 7a: map ``appRoleAssignments`` with the Expression
    ``AppRoleAssignmentsComplex([appRoleAssignments])`` to ``roles``.
Known false positives:
    None known; the Tenant URL flag ``?aadOptscim062020`` (CC016) is needed as well for the
    roles to arrive. In the logs a missing roles mapping looks like a missing flag (FC003
    says so), so this check confirms no log finding: it is the other cause to rule out.
"""

from __future__ import annotations

from diagnostics.facts.config import GUIDE_ROLES, expected_mapping
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC006"
TITLE = "roles is not AppRoleAssignmentsComplex"
SEVERITY = "high"
GUIDE_STEPS = ("7a",)
NEEDS = (SCHEMA,)
# FC003 blames the Tenant URL flag (CC016) and FC011 a role value (CC010): a wrong roles
# mapping confirms neither, so it is linked to no log rule.
LOG_RULES = ()
REMEDIATION = (
    "Map appRoleAssignments with the Expression AppRoleAssignmentsComplex([appRoleAssignments]) "
    'to roles (guide step 7a, "Required Attribute Mappings ... must be configured exactly as '
    'shown").'
)


def evaluate(config: ConfigSnapshot) -> list:
    return expected_mapping(config, "roles", (GUIDE_ROLES,), None,
                            "users do not get their Flowcase roles.")
