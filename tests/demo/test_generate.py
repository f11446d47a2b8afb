"""The benchmark generator, at small scale, on whichever database the suite runs on."""

from __future__ import annotations

import pytest
from django.db import connection, models

from bench.generate import check_references, generate
from relaydesk.accounts.models import User
from relaydesk.customers.models import Contact, ContactEmail, Organization
from relaydesk.demo.seed import seed_demo
from relaydesk.tickets.actions import do_create_ticket
from relaydesk.tickets.lifecycle import NEEDS_ASSIGNEE
from relaydesk.tickets.models import OPEN_STATUSES, EventKind, Message, MessageKind, Ticket, TicketEvent


def highest(model: type[models.Model]) -> int:
    return model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0


def test_generated_tickets_are_as_consistent_as_the_demo(db):
    seed_demo(progress=lambda line: None)
    first_new = highest(Ticket) + 1
    tickets_before, messages_before = Ticket.objects.count(), Message.objects.count()
    events_before, tags_before = TicketEvent.objects.count(), Ticket.tags.through.objects.count()
    lines: list[str] = []

    result = generate(
        tickets=200, contacts=400, agents=8, days=120, seed=5, batch_size=64, progress=lines.append
    )

    assert result.tickets == 200
    assert lines[-1].startswith(("analyze:", "vacuum and analyze:"))
    assert any(line.startswith("tickets 200/200") for line in lines)
    assert Ticket.objects.count() - tickets_before == result.by_table["tickets_ticket"] == 200
    assert Message.objects.count() - messages_before == result.by_table["tickets_message"]
    assert TicketEvent.objects.count() - events_before == result.by_table["tickets_ticketevent"]
    assert Ticket.tags.through.objects.count() - tags_before == result.by_table["tickets_ticket_tags"] > 0
    assert Contact.objects.count() == 400
    assert ContactEmail.objects.filter(contact__organization__notes__startswith="Benchmark").exists()
    bench_agents = User.objects.filter(email__startswith="bench.agent.")
    assert bench_agents.count() == 8
    assert not any(agent.has_usable_password() for agent in bench_agents)

    new = Ticket.objects.filter(pk__gte=first_new)
    assert list(new.values_list("pk", flat=True).order_by("pk")) == list(range(first_new, first_new + 200))
    created = list(new.order_by("pk").values_list("created_at", flat=True))
    assert created == sorted(created)  # numbers follow creation time
    assert not new.filter(messages__isnull=True).exists()
    assert not new.filter(status__in=NEEDS_ASSIGNEE, assignee__isnull=True).exists()
    assert 0 < new.filter(status__in=OPEN_STATUSES).count() < 100
    first_reply = dict(
        Message.objects.filter(ticket__in=new, kind=MessageKind.REPLY)
        .values("ticket_id")
        .annotate(first=models.Min("created_at"))
        .values_list("ticket_id", "first")
    )
    last_status: dict[int, str] = {}
    for event in TicketEvent.objects.filter(ticket__in=new).order_by("created_at", "pk"):
        if event.kind == EventKind.CREATED:
            assert event.ticket_id not in last_status
            last_status[event.ticket_id] = event.data["status"]
        elif event.kind in (EventKind.STATUS, EventKind.REOPENED):
            assert last_status[event.ticket_id] == event.old_value
            last_status[event.ticket_id] = event.new_value
        elif event.kind == EventKind.MESSAGE:
            assert Message.objects.filter(pk=event.data["message_id"], ticket_id=event.ticket_id).exists()
    for ticket in new:
        assert last_status[ticket.pk] == ticket.status
        assert ticket.first_response_at == first_reply.get(ticket.pk)

    # The id sequences were moved past the generated ids.
    contact = Contact.objects.create(name="After the benchmark")
    assert contact.pk > highest(Contact) - 1
    ticket = do_create_ticket(subject="After the benchmark", requester=contact, body_text="Hello")
    assert ticket.pk == first_new + 200
    assert Organization.objects.create(name="After the benchmark Ltd").pk == highest(Organization)


def test_a_second_run_adds_tickets_but_not_people(db):
    generate(tickets=30, contacts=300, agents=4, days=30, progress=lambda line: None)
    contacts, users, tickets = Contact.objects.count(), User.objects.count(), Ticket.objects.count()
    result = generate(tickets=20, contacts=300, agents=4, days=30, progress=lambda line: None)
    assert result.tickets == 20
    assert (Contact.objects.count(), User.objects.count()) == (contacts, users)
    assert Ticket.objects.count() == tickets + 20


def test_dangling_references_are_refused(db):
    seed_demo(progress=lambda line: None)
    before: dict[type[models.Model], int] = {Message: highest(Message)}
    check_references(before)
    with connection.cursor() as cursor:
        # Foreign keys are checked at commit, which a test never reaches: the row goes in.
        cursor.execute(
            "INSERT INTO tickets_message (ticket_id, kind, direction, body_text, body_html, created_at) "
            "VALUES (%s, 'customer', 'in', 'x', '', %s)",
            [10**9, "2025-01-01 00:00:00+00:00"],
        )
    with pytest.raises(RuntimeError, match="point at no tickets_ticket row"):
        check_references(before)
    Message.objects.filter(ticket_id=10**9).delete()  # the test database checks at teardown
