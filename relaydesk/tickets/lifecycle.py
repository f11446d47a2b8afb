"""The ticket lifecycle as one state machine (pure: no ORM).

    New → Assigned → In progress → Pending (customer | internal) → Resolved → Closed

Agents may move a ticket only along ``AGENT_TRANSITIONS``; everything else is an
``IllegalTransition``. The automatic moves (a customer reply, an assignment) are
functions here too, so the rules live in one place.
"""

from __future__ import annotations

from relaydesk.core.errors import IllegalTransition
from relaydesk.tickets.models import Status

S = Status

AGENT_TRANSITIONS: dict[str, frozenset[str]] = {
    S.NEW: frozenset(
        {S.ASSIGNED, S.IN_PROGRESS, S.PENDING_CUSTOMER, S.PENDING_INTERNAL, S.RESOLVED, S.CLOSED}
    ),
    S.ASSIGNED: frozenset({S.NEW, S.IN_PROGRESS, S.PENDING_CUSTOMER, S.PENDING_INTERNAL, S.RESOLVED}),
    S.IN_PROGRESS: frozenset({S.ASSIGNED, S.PENDING_CUSTOMER, S.PENDING_INTERNAL, S.RESOLVED}),
    S.PENDING_CUSTOMER: frozenset({S.IN_PROGRESS, S.PENDING_INTERNAL, S.RESOLVED}),
    S.PENDING_INTERNAL: frozenset({S.IN_PROGRESS, S.PENDING_CUSTOMER, S.RESOLVED}),
    S.RESOLVED: frozenset({S.IN_PROGRESS, S.CLOSED}),
    # Closed is final: a customer reply to a closed ticket opens a linked follow-up.
    S.CLOSED: frozenset(),
}

# Statuses that need someone to own the ticket.
NEEDS_ASSIGNEE = frozenset({S.ASSIGNED, S.IN_PROGRESS, S.PENDING_CUSTOMER, S.PENDING_INTERNAL})


def check_transition(current: str, target: str, *, has_assignee: bool) -> None:
    """Raise IllegalTransition unless an agent may move a ticket from ``current`` to ``target``."""
    if current == target:
        return
    if target not in AGENT_TRANSITIONS.get(current, frozenset()):
        raise IllegalTransition(
            f"A ticket cannot go from {S(current).label} to {S(target).label}.", field="status"
        )
    if target in NEEDS_ASSIGNEE and not has_assignee:
        raise IllegalTransition(f"Assign the ticket before setting it to {S(target).label}.", field="status")


def status_after_assignment(current: str, *, has_assignee: bool) -> str:
    """Assigning a new ticket makes it Assigned; unassigning an active one puts it back to New."""
    if has_assignee and current == S.NEW:
        return S.ASSIGNED
    if not has_assignee and current in NEEDS_ASSIGNEE:
        return S.NEW
    return current


def status_after_agent_reply(current: str) -> str:
    """A public reply means someone is working on it."""
    if current in (S.NEW, S.ASSIGNED):
        return S.IN_PROGRESS
    return current


def status_after_customer_reply(current: str, *, has_assignee: bool) -> tuple[str, bool]:
    """The status after a customer writes on an open or resolved ticket, and whether it reopened.

    Closed tickets never get here: their replies open a follow-up ticket instead.
    """
    if current == S.CLOSED:
        raise IllegalTransition("A reply to a closed ticket opens a follow-up instead.")
    active = S.IN_PROGRESS if has_assignee else S.NEW
    if current == S.RESOLVED:
        return active, True
    if current == S.PENDING_CUSTOMER:
        return active, False
    return current, False
