"""Clocks on real tickets: kept in the same transaction as every change, through the normal actions."""

from __future__ import annotations

import pytest
import time_machine

from relaydesk.sla.actions import rebuild_clocks
from relaydesk.sla.models import SLAClock
from relaydesk.tickets.actions import check_add_message, check_change_ticket, do_add_customer_message
from relaydesk.tickets.models import Channel, MessageKind, Status, Ticket
from tests.conftest import World
from tests.sla.conftest import SLATable, ny

pytestmark = pytest.mark.django_db


def clocks(ticket: Ticket) -> dict[str, SLAClock]:
    return {f"{c.kind}@{c.started_at:%d %H:%M}": c for c in SLAClock.objects.filter(ticket=ticket)}


def test_new_ticket_gets_policy_and_due_instants_in_business_hours(world: World, sla_table: SLATable) -> None:
    with time_machine.travel(ny(6, 16), tick=False):  # Friday 16:00
        ticket = world.ticket()
    ticket.refresh_from_db()
    assert ticket.sla_policy == sla_table.standard
    # 4 business hours from Friday 16:00: one hour on Friday, three on Monday → Monday 12:00.
    assert ticket.sla_due_at == ny(9, 12)
    assert ticket.sla_warn_at == ny(9, 11, 12)  # 80 % of 4 h = 3 h 12 min
    assert set(clocks(ticket)) == {"first_response@06 20:00", "resolution@06 20:00"}


def test_reply_stops_first_response_and_customer_message_starts_next_response(
    world: World, sla_table: SLATable
) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket()
    with time_machine.travel(ny(2, 10), tick=False):
        check_add_message(world.alice, ticket.pk, kind=MessageKind.REPLY, body_text="On it.")
    first = SLAClock.objects.get(ticket=ticket, kind="first_response")
    assert first.stopped_at == ny(2, 10)
    assert first.met is True
    assert first.next_check_at is None
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ny(6, 17)  # only resolution runs: 40 business hours = Mon–Fri
    with time_machine.travel(ny(2, 16), tick=False):
        do_add_customer_message(Ticket.objects.get(pk=ticket.pk), body_text="Still broken")
    ticket.refresh_from_db()
    next_response = SLAClock.objects.get(ticket=ticket, kind="next_response")
    assert next_response.due_at == ny(3, 16)  # 8 business hours from Monday 16:00
    assert ticket.sla_due_at == ny(3, 16)


def test_pending_on_customer_pauses_clocks_and_the_queue_order(world: World, sla_table: SLATable) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket()
    with time_machine.travel(ny(2, 10), tick=False):
        check_add_message(
            world.alice,
            ticket.pk,
            kind=MessageKind.REPLY,
            body_text="Which model?",
            new_status="pending_customer",
        )
    ticket.refresh_from_db()
    assert ticket.status == Status.PENDING_CUSTOMER
    assert ticket.sla_due_at is None
    resolution = SLAClock.objects.get(ticket=ticket, kind="resolution")
    assert resolution.paused_at == ny(2, 10)
    assert resolution.next_check_at is None
    with time_machine.travel(ny(4, 9), tick=False):  # Wednesday: the customer answers
        do_add_customer_message(Ticket.objects.get(pk=ticket.pk), body_text="Model X")
    resolution.refresh_from_db()
    assert resolution.running_since == ny(4, 9)
    # 39 business hours left from Wednesday 09:00 → the next Tuesday 16:00.
    assert resolution.due_at == ny(10, 16)


def test_priority_and_channel_changes_reapply_the_table(world: World, sla_table: SLATable) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket()
    with time_machine.travel(ny(2, 9, 10), tick=False):
        check_change_ticket(world.alice, ticket.pk, expected_version=None, priority=1)
    ticket.refresh_from_db()
    assert ticket.sla_policy == sla_table.urgent
    assert ticket.sla_due_at == ny(2, 10)  # the urgent first-response target, from creation
    with time_machine.travel(ny(2, 9, 20), tick=False):
        check_change_ticket(world.alice, ticket.pk, expected_version=None, priority=3, channel=Channel.CHAT)
    ticket.refresh_from_db()
    assert ticket.sla_policy == sla_table.chat
    assert ticket.sla_due_at == ny(2, 9, 30)  # 30 calendar minutes
    assert not SLAClock.objects.filter(ticket=ticket, kind="next_response").exists()


def test_no_matching_policy_means_no_clocks(world: World) -> None:
    ticket = world.ticket()
    ticket.refresh_from_db()
    assert ticket.sla_policy is None
    assert ticket.sla_due_at is None
    assert not SLAClock.objects.filter(ticket=ticket).exists()


def test_rebuild_applies_a_new_table_to_existing_tickets(world: World, sla_table: SLATable) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket()
    sla_table.standard.first_response_minutes = 120
    sla_table.standard.save()
    assert rebuild_clocks(Ticket.objects.all()) == 1
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ny(2, 11)
    assert rebuild_clocks(Ticket.objects.all()) == 0  # nothing left to change


def test_creating_a_ticket_with_a_policy_costs_few_queries(
    world: World, sla_table: SLATable, django_assert_max_num_queries: object
) -> None:
    world.ticket()  # warm caches (content types, calendars)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        world.ticket()
