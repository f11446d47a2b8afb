"""Which SLA policy applies to a ticket: the first active row, in order, whose conditions match.

Pure (works on any objects with the policy's attributes), so the rule is tested without a
database and the same function serves the write path and previews in the admin screen.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class PolicyConditions(Protocol):
    is_active: bool
    channel: str
    priority: int | None
    organization_tier: str
    team_id: int | None


def matches(policy: PolicyConditions, *, channel: str, priority: int, tier: str, team_id: int | None) -> bool:
    return (
        policy.is_active
        and (not policy.channel or policy.channel == channel)
        and (policy.priority is None or policy.priority == priority)
        and (not policy.organization_tier or policy.organization_tier == tier)
        and (policy.team_id is None or policy.team_id == team_id)
    )


P = TypeVar("P", bound=PolicyConditions)


def first_matching(
    policies: Iterable[P], *, channel: str, priority: int, tier: str, team_id: int | None
) -> P | None:
    """``policies`` must already be in table order (``position``, then id)."""
    for policy in policies:
        if matches(policy, channel=channel, priority=priority, tier=tier, team_id=team_id):
            return policy
    return None
