"""The setup guide's step ids (``failure-catalog.md``), in the order an admin walks them.

Machine output cites these ids; they never change. Findings are ordered by the position of
their first step here, and a finding without a step (transient trouble) sorts last.
"""

from __future__ import annotations

from collections.abc import Sequence

STEPS: dict[str, str] = {
    "1": "Prerequisites & Important Notes",
    "2": "Create Enterprise Application",
    "3": "Connect to SCIM API",
    "4": "Create App Roles",
    "5": "Assign Users & Groups",
    "6": "Configure Attribute List",
    "7a": "Map Entra User Attributes",
    "7b": "Disable SCIM Group Support",
    "8a": "Test with Provision On-Demand",
    "8b": "Start Bulk Provisioning",
    "delete": "Deleting Users",
}

STEP_ORDER: tuple[str, ...] = tuple(STEPS)


def step_rank(guide_steps: Sequence[str]) -> int:
    """Position of the first cited step; no step sorts after every step."""
    if not guide_steps:
        return len(STEP_ORDER)
    return STEP_ORDER.index(guide_steps[0])


def step_label(step: str) -> str:
    """'7a Map Entra User Attributes' for humans."""
    return f"{step} {STEPS[step]}"
