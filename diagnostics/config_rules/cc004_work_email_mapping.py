"""The work email is not ToLower([mail], ) with matching precedence 2.

What it detects:
    The user mapping to ``emails[type eq "work"].value``: missing, an expression other than the
    guide's ``ToLower([mail], )`` (compared without spaces or case), or a matching precedence
    other than 2.
Why provisioning fails:
    Flowcase needs lower-case emails. Without ``ToLower`` a mixed-case mail is sent as typed;
    without matching precedence 2 a user whose UPN changed is not found by email and is created
    a second time.
Evidence:
    The mapping as the portal shows it (type, source, precedence) against the guide's row.
Fix:
    Step 7a: map ``mail`` with the Expression ``ToLower([mail], )`` to
    ``emails[type eq "work"].value``, Match objects using this attribute Yes, precedence 2.
Known false positives:
    A tenant whose mails are all lower case gets no failures from a Direct mapping today.
"""

from __future__ import annotations

from diagnostics.facts.config import GUIDE_EMAIL, WORK_EMAIL, expected_mapping
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC004"
TITLE = "The work email is not lower-cased or not matched second"
SEVERITY = "high"
GUIDE_STEPS = ("7a", "1")
NEEDS = (SCHEMA,)
LOG_RULES = ("FC006", "FC007")
# Upper-case emails reach the logs as FC006; a wrong matching precedence as FC007's
# duplicates. A missing mapping is neither, so such a hit confirms no log finding.
SEEN_BY = {"expression": ("FC006",), "precedence": ("FC007",)}
REMEDIATION = (
    'Map emails[type eq "work"].value with the Expression ToLower([mail], ), Match objects '
    'using this attribute "Yes", Matching precedence 2 (guide step 7a: "The userPrincipalName '
    'and mail mappings must use the ToLower() expression.").'
)


def evaluate(config: ConfigSnapshot) -> list:
    return expected_mapping(
        config, WORK_EMAIL, (GUIDE_EMAIL, "ToLower([mail])"), 2,
        "Flowcase needs lower-case emails, matched second.", SEEN_BY)
