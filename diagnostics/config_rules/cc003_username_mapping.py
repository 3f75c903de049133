"""userName is not ToLower([userPrincipalName], ) with matching precedence 1.

What it detects:
    The user mapping to ``userName``: missing, an expression other than the guide's
    ``ToLower([userPrincipalName], )`` (compared without spaces or case; ``ToLower`` without the
    empty culture argument is accepted), or a matching precedence other than 1.
Why provisioning fails:
    Flowcase needs lower-case identifiers. A Direct mapping sends ``Anna.Berg@…`` as it is
    typed in Entra; the user is created with capitals, or refused, and a later match on the
    lower-case form creates a duplicate. Matching on another attribute first makes Entra miss
    existing Flowcase users.
Evidence:
    The mapping as the portal shows it (type, source, precedence) against the guide's row.
Fix:
    Step 7a: edit the userName mapping to Mapping type Expression,
    ``ToLower([userPrincipalName], )``, Match objects using this attribute Yes, precedence 1.
Known false positives:
    A tenant whose UPNs are all lower case gets no failures from a Direct mapping today; the
    next user created with capitals will.
"""

from __future__ import annotations

from diagnostics.facts.config import GUIDE_USERNAME, expected_mapping
from loganalyzer.config.model import SCHEMA, ConfigSnapshot

ID = "CC003"
TITLE = "userName is not lower-cased or not matched first"
SEVERITY = "high"
GUIDE_STEPS = ("7a", "1")
NEEDS = (SCHEMA,)
LOG_RULES = ("FC006", "FC007")
# Upper-case userNames reach the logs as FC006; a wrong matching precedence as FC007's
# duplicates. A missing mapping is neither, so such a hit confirms no log finding.
SEEN_BY = {"expression": ("FC006",), "precedence": ("FC007",)}
REMEDIATION = (
    "Map userName with the Expression ToLower([userPrincipalName], ), Match objects using this "
    'attribute "Yes", Matching precedence 1 (guide step 7a: "The userPrincipalName and mail '
    'mappings must use the ToLower() expression. Flowcase requires lowercase emails and UPNs.").'
)


def evaluate(config: ConfigSnapshot) -> list:
    return expected_mapping(
        config, "userName", (GUIDE_USERNAME, "ToLower([userPrincipalName])"), 1,
        "Flowcase needs lower-case user names, matched first.", SEEN_BY)
