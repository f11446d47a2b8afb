"""The breach scanner: warnings and breaches escalate once, through the normal actions."""

from __future__ import annotations

import threading
from datetime import datetime

import pytest
import time_machine
from django.db import close_old_connections, connection

from relaydesk.accounts.models import Level
from relaydesk.notifications.models import Notification, NotificationKind
from relaydesk.sla.escalation import scan
from relaydesk.sla.models import SLAClock
from relaydesk.tickets.actions import check_add_message, check_change_ticket
from relaydesk.tickets.models import EventKind, MessageKind, Priority, Ticket, TicketEvent
from tests.conftest import World
from tests.sla.conftest import SLATable, ny


def sla_events(ticket: Ticket) -> list[tuple[str, str]]:
    return list(
        TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA)
        .order_by("id")
        .values_list("field", "new_value")
    )


def urgent_ticket(world: World, at: datetime) -> Ticket:
    with time_machine.travel(at, tick=False):
        ticket = world.ticket(priority=Priority.P1)
        check_change_ticket(world.sam, ticket.pk, expected_version=None, assignee=world.alice)
    return Ticket.objects.get(pk=ticket.pk)


@pytest.mark.django_db
def test_warning_then_breach_escalate_once_each(world: World, sla_table: SLATable) -> None:
    ticket = urgent_ticket(world, ny(2, 9))  # urgent: first response 60 min, warning at 50 %
    assert scan(now=ny(2, 9, 29)).escalated == 0

    result = scan(now=ny(2, 9, 31))
    assert (result.warnings, result.breaches) == (1, 0)
    assert sla_events(ticket) == [("first_response", "warning")]
    warning = Notification.objects.get(kind=NotificationKind.SLA_WARNING)
    assert warning.recipient == world.alice
    assert warning.ticket_id == ticket.pk
    assert scan(now=ny(2, 9, 40)).escalated == 0  # nothing new: no second warning

    result = scan(now=ny(2, 10, 1))
    assert (result.warnings, result.breaches) == (0, 1)
    ticket.refresh_from_db()
    # Breach rules of "Urgent": supervisors told, moved to the next level's team.
    assert Notification.objects.filter(kind=NotificationKind.SLA_BREACH, recipient=world.sam).count() == 1
    assert ticket.level == Level.L2
    assert ticket.team == world.emea
    assert ticket.assignee is None  # alice is not in EMEA: it waits in EMEA's unassigned queue
    event = TicketEvent.objects.get(ticket=ticket, kind=EventKind.SLA, new_value="breach")
    assert event.data["actions"] == ["notified Sam Supervisor", "moved to EMEA (L2)"]
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.TEAM, actor=None).exists()
    clock = SLAClock.objects.get(ticket=ticket, kind="first_response")
    assert clock.breached_at == ny(2, 10, 1)
    assert clock.next_check_at is None
    assert scan(now=ny(2, 12)).breaches == 0


@pytest.mark.django_db
def test_breach_raises_priority_and_the_new_policy_applies(world: World, sla_table: SLATable) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket(assignee=world.alice)  # standard: 4 business hours
    result = scan(now=ny(2, 13, 1))
    assert result.breaches == 1
    ticket.refresh_from_db()
    assert ticket.priority == Priority.P2
    assert Notification.objects.filter(kind=NotificationKind.SLA_BREACH, recipient=world.alice).count() == 1
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.PRIORITY, actor=None).count() == 1


@pytest.mark.django_db
def test_answered_or_paused_tickets_do_not_escalate(world: World, sla_table: SLATable) -> None:
    answered = urgent_ticket(world, ny(2, 9))
    with time_machine.travel(ny(2, 9, 10), tick=False):
        check_add_message(world.alice, answered.pk, kind=MessageKind.REPLY, body_text="Looking now")
    paused = urgent_ticket(world, ny(2, 9))
    with time_machine.travel(ny(2, 9, 10), tick=False):
        check_add_message(
            world.alice, paused.pk, kind=MessageKind.REPLY, body_text="Logs?", new_status="pending_customer"
        )
    assert scan(now=ny(2, 11)).escalated == 0
    assert not TicketEvent.objects.filter(kind=EventKind.SLA).exists()


@pytest.mark.django_db
def test_a_failing_escalation_is_retried_later_and_does_not_stop_the_scan(
    world: World, sla_table: SLATable, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = urgent_ticket(world, ny(2, 9))
    second = urgent_ticket(world, ny(2, 9))
    import relaydesk.sla.escalation as escalation

    real = escalation._escalate

    def flaky(ticket: Ticket, *args: object) -> list[str]:
        if ticket.pk == first.pk:
            raise RuntimeError("boom")
        return real(ticket, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(escalation, "_escalate", flaky)
    result = scan(now=ny(2, 9, 31))
    assert (result.failed, result.warnings) == (1, 1)
    assert sla_events(first) == []
    assert sla_events(second) == [("first_response", "warning")]
    retry = SLAClock.objects.get(ticket=first, kind="first_response")
    assert retry.warned_at is None
    assert retry.next_check_at == ny(2, 9, 36)
    monkeypatch.setattr(escalation, "_escalate", real)
    assert scan(now=ny(2, 9, 37)).warnings == 1
    assert sla_events(first) == [("first_response", "warning")]


@pytest.mark.django_db(transaction=True)
def test_two_consumers_racing_escalate_each_threshold_once(world: World, sla_table: SLATable) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:", ":memory")):
        pytest.skip("threads need a shared database file (the PostgreSQL leg runs this)")
    tickets = [urgent_ticket(world, ny(2, 9)) for _ in range(12)]
    barrier = threading.Barrier(2)
    results = []
    errors: list[BaseException] = []

    def consumer() -> None:
        try:
            barrier.wait()
            results.append(scan(now=ny(2, 10, 5), batch_size=5))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=consumer) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    # Every first-response clock breached exactly once between the two consumers.
    assert sum(r.breaches for r in results) == 12
    assert sum(r.failed for r in results) == 0
    for ticket in tickets:
        assert sla_events(ticket) == [("first_response", "breach")]
    assert Notification.objects.filter(kind=NotificationKind.SLA_BREACH).count() == 12
