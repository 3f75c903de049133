"""active is not the guide's Switch([IsSoftDeleted], …).

What it detects:
    The user mapping to ``active``: missing, or an expression other than
    ``Switch([IsSoftDeleted], , "False", "True", "True", "False")`` (compared without spaces or
    case, so the guide's ``Switch([isSoftDeleted],, "False","True","True","False")`` matches).
Why provisioning fails:
    The Switch sends active=false when a user is soft-deleted in Entra, which deactivates the
    Flowcase user; 30 days later Entra deletes it. Any other expression deactivates the wrong
    users or sends values Flowcase refuses, and the mistake shows only when someone leaves.
Evidence:
    The mapping as the portal shows it against the guide's expression.
Fix:
    Step 7a: map ``IsSoftDeleted`` with the guide's Switch expression to ``active``.
Known false positives:
    ``Not([IsSoftDeleted])`` gives the same values; it is reported because the guide asks for
    the Switch, and the finding's evidence shows the expression so a reviewer can accept it.
"""

from __future__ import annotations

from diagnostics.facts.config import GUIDE_ACTIVE, expected_mapping
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC005"
TITLE = "active is not the guide's soft-delete Switch"
SEVERITY = "high"
GUIDE_STEPS = ("7a", "delete")
NEEDS = (SCHEMA,)
LOG_RULES = ("FC014",)
REMEDIATION = (
    'Map isSoftDeleted with the Expression Switch([isSoftDeleted],, "False","True","True","False") '
    'to active (guide step 7a); "When a user is soft-deleted in Microsoft Entra ... Entra will '
    'send a DELETE request to the SCIM API" 30 days later.'
)


def evaluate(config: ConfigSnapshot) -> list:
    return expected_mapping(config, "active", (GUIDE_ACTIVE,), None,
                            "soft-deleted users are not deactivated the way Flowcase expects.")
