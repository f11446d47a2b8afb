import pytest

from relaydesk.core.errors import IllegalTransition
from relaydesk.tickets import lifecycle
from relaydesk.tickets.models import Status as S


def test_every_status_has_its_transitions_listed():
    assert set(lifecycle.AGENT_TRANSITIONS) == set(S.values)


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (S.CLOSED, S.IN_PROGRESS),
        (S.CLOSED, S.NEW),
        (S.RESOLVED, S.PENDING_CUSTOMER),
        (S.PENDING_CUSTOMER, S.NEW),
    ],
)
def test_illegal_transitions_are_refused(current, target):
    with pytest.raises(IllegalTransition):
        lifecycle.check_transition(current, target, has_assignee=True)


def test_active_statuses_need_an_assignee():
    with pytest.raises(IllegalTransition, match="Assign the ticket"):
        lifecycle.check_transition(S.NEW, S.IN_PROGRESS, has_assignee=False)
    lifecycle.check_transition(S.NEW, S.IN_PROGRESS, has_assignee=True)


def test_assignment_moves_new_to_assigned_and_back():
    assert lifecycle.status_after_assignment(S.NEW, has_assignee=True) == S.ASSIGNED
    assert lifecycle.status_after_assignment(S.IN_PROGRESS, has_assignee=False) == S.NEW
    assert lifecycle.status_after_assignment(S.RESOLVED, has_assignee=False) == S.RESOLVED


def test_customer_reply_reopens_resolved_and_wakes_pending_customer():
    assert lifecycle.status_after_customer_reply(S.RESOLVED, has_assignee=True) == (S.IN_PROGRESS, True)
    assert lifecycle.status_after_customer_reply(S.RESOLVED, has_assignee=False) == (S.NEW, True)
    assert lifecycle.status_after_customer_reply(S.PENDING_CUSTOMER, has_assignee=True) == (
        S.IN_PROGRESS,
        False,
    )
    assert lifecycle.status_after_customer_reply(S.PENDING_INTERNAL, has_assignee=True) == (
        S.PENDING_INTERNAL,
        False,
    )
    with pytest.raises(IllegalTransition):
        lifecycle.status_after_customer_reply(S.CLOSED, has_assignee=True)
