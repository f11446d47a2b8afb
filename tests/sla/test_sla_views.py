"""SLA in the workspace: queue order and flags, the ticket page's clocks, the API's sort."""

from __future__ import annotations

import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from relaydesk.tickets.actions import check_add_message
from relaydesk.tickets.models import Channel, MessageKind, Priority, Ticket
from relaydesk.tickets.queries import Scope, TicketFilters, parse_filters, queue_page
from tests.conftest import World
from tests.sla.conftest import SLATable, ny

pytestmark = pytest.mark.django_db


def row_numbers(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'name="ticket" value="(\d+)"', html)]


@pytest.fixture
def mixed(world: World, sla_table: SLATable) -> dict[str, Ticket]:
    """Monday 2 June, New York: tickets whose clocks are due at different times."""
    tickets = {}
    with time_machine.travel(ny(2, 9), tick=False):
        tickets["standard"] = world.ticket(subject="Standard, due 13:00")  # 4 business hours
        tickets["urgent"] = world.ticket(subject="Urgent, due 10:00", priority=Priority.P1)
        tickets["paused"] = world.ticket(subject="Waiting on the customer")
        check_add_message(
            world.sam,
            tickets["paused"].pk,
            kind=MessageKind.REPLY,
            body_text="Logs?",
            new_status="pending_customer",
        )
    with time_machine.travel(ny(2, 9, 50), tick=False):
        tickets["chat"] = world.ticket(subject="Chat, due 10:20", channel=Channel.CHAT)
    return {name: Ticket.objects.get(pk=t.pk) for name, t in tickets.items()}


def test_queue_sorts_by_sla_due_soonest_with_unclocked_tickets_last(
    client: Client, world: World, mixed: dict[str, Ticket]
) -> None:
    client.force_login(world.alice)
    with time_machine.travel(ny(2, 9, 55), tick=False):
        html = client.get(reverse("tickets:unassigned"), {"sort": "sla"}).content.decode()
    expected = [mixed[name].pk for name in ("urgent", "chat", "standard")]
    assert row_numbers(html)[:3] == expected
    # The paused ticket is assigned (a reply takes it), so it is in sam's queue, not here.
    assert mixed["paused"].pk not in row_numbers(html)


def test_keyset_pages_in_sla_order_cross_into_the_null_tail(world: World, mixed: dict[str, Ticket]) -> None:
    filters = parse_filters({"sort": "sla"}, scope=Scope.ALL)
    seen, cursor = [], None
    for _ in range(10):
        page = queue_page(world.sam, filters, cursor=cursor, limit=1)
        seen += [t.pk for t in page.tickets]
        cursor = page.next_cursor
        if cursor is None:
            break
    order = ("urgent", "chat", "standard", "paused")  # paused: no running clock, so last
    assert seen == [mixed[name].pk for name in order]


def test_at_risk_and_breached_filters_and_row_flags(
    client: Client, world: World, mixed: dict[str, Ticket]
) -> None:
    client.force_login(world.sam)
    # 10:05: urgent (due 10:00) breached; chat (warn at 80 % = 10:14) fine; standard fine.
    with time_machine.travel(ny(2, 10, 5), tick=False):
        breached = client.get(reverse("tickets:all"), {"sla": "breached"}).content.decode()
        html = client.get(reverse("tickets:all"), {"sort": "sla"}).content.decode()
    assert row_numbers(breached) == [mixed["urgent"].pk]
    assert 'class="sla-chip breached"' in html
    assert "5m over" in html
    with time_machine.travel(ny(2, 10, 15), tick=False):
        at_risk = client.get(reverse("tickets:all"), {"sla": "at_risk"}).content.decode()
    assert row_numbers(at_risk) == [mixed["chat"].pk]
    assert 'class="sla-chip at_risk"' in at_risk
    assert 'class="sla-chip paused"' in html


def test_bad_sort_or_sla_values_are_a_message_not_an_error(client: Client, world: World) -> None:
    client.force_login(world.alice)
    response = client.get(reverse("tickets:queue"), {"sort": "banana"})
    assert response.status_code == 200
    assert "is not a valid sort" in response.content.decode()
    response = client.get(reverse("tickets:queue"), {"sla": "late\x00"})
    assert response.status_code == 200
    assert "is not a valid sla" in response.content.decode()


def test_ticket_page_shows_clocks_in_the_agents_time_zone(
    client: Client, world: World, mixed: dict[str, Ticket]
) -> None:
    world.sam.time_zone = "Europe/Berlin"
    world.sam.save()
    client.force_login(world.sam)
    with time_machine.travel(ny(2, 9, 45), tick=False):
        html = client.get(reverse("tickets:detail", args=[mixed["urgent"].pk])).content.decode()
    section = html[html.index('id="sla-clocks"') :]
    assert "Urgent" in section
    # Due 10:00 New York = 16:00 Berlin; 15 of 60 minutes left, past the 50 % warning.
    assert 'class="sla-clock at_risk" data-clock="first_response"' in section
    assert "15m left" in section
    assert "Mon 02 Jun, 16:00" in section
    with time_machine.travel(ny(2, 10, 30), tick=False):
        html = client.get(reverse("tickets:detail", args=[mixed["urgent"].pk])).content.decode()
    assert 'class="sla-clock breached" data-clock="first_response"' in html
    assert "overdue by 30m" in html
    with time_machine.travel(ny(2, 9, 55), tick=False):
        html = client.get(reverse("tickets:detail", args=[mixed["paused"].pk])).content.decode()
    assert 'class="sla-clock paused" data-clock="resolution"' in html
    assert 'class="sla-clock met" data-clock="first_response"' in html


def test_api_lists_in_sla_order(world: World, mixed: dict[str, Ticket], api_as: object) -> None:
    client = api_as(world.sam)  # type: ignore[operator]
    body = client.get("/tickets", sort="sla").json()
    assert [item["number"] for item in body["items"]] == [
        mixed[name].pk for name in ("urgent", "chat", "standard", "paused")
    ]
    assert body["items"][0]["sla_due_at"].startswith("2025-06-02T14:00:00")
    assert client.get("/tickets", sort="soon").status_code == 422


def test_filters_keep_sort_and_state(world: World) -> None:
    filters = parse_filters({"sort": "sla", "sla": "breached"})
    assert (filters.sort, filters.sla_state, filters.is_filtered) == ("sla", "breached", True)
    assert TicketFilters().sort == ""


def test_changing_the_channel_on_the_page_or_by_api_reapplies_the_table(
    client: Client, world: World, mixed: dict[str, Ticket], api_as: object
) -> None:
    ticket = mixed["standard"]
    client.force_login(world.sam)
    form = {
        "version": ticket.version,
        "status": ticket.status,
        "priority": ticket.priority,
        "channel": "chat",
        "assignee": "",
        "team": world.americas.pk,
        "level": ticket.level,
        "tags": "",
        "category": "",
        "product": "",
    }
    with time_machine.travel(ny(2, 9, 10), tick=False):
        assert client.post(reverse("tickets:update", args=[ticket.pk]), form).status_code == 200
    ticket.refresh_from_db()
    assert ticket.channel == "chat"
    assert ticket.sla_due_at == ny(2, 9, 30)  # the chat row: 30 calendar minutes from creation
    api = api_as(world.sam)  # type: ignore[operator]
    response = api.patch(f"/tickets/{ticket.pk}", {"channel": "email"})
    assert response.status_code == 200
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ny(2, 13)  # back to the standard row
    assert api.patch(f"/tickets/{ticket.pk}", {"channel": "pigeon"}).status_code == 422
