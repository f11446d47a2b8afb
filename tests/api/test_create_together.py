"""Tickets POSTed at the same moment are written together (one group commit), each correctly."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import close_old_connections, connection

from relaydesk.customers.models import Contact
from relaydesk.tickets import api as tickets_api
from relaydesk.tickets.actions import OpenedTicket
from relaydesk.tickets.models import EventKind, Message, Ticket, TicketEvent
from tests.api.conftest import ApiClient, token_for


@pytest.mark.django_db(transaction=True)
def test_concurrent_creates_share_a_group_commit(world, monkeypatch: pytest.MonkeyPatch) -> None:
    if connection.vendor == "sqlite" and connection.settings_dict["NAME"].startswith(("file:", ":memory")):
        pytest.skip("threads need a shared database file (the PostgreSQL leg runs this)")
    real_create = tickets_api.do_create_tickets
    first = threading.Event()

    def slow_first_batch(batch: Any) -> list[OpenedTicket]:
        if not first.is_set():  # hold the first batch so that the others queue behind it
            first.set()
            time.sleep(0.5)
        return real_create(batch)

    monkeypatch.setattr(tickets_api, "do_create_tickets", slow_first_batch)
    batches_before = tickets_api.create_batches.batches
    token = token_for(world.alice)
    count = 10
    responses: dict[int, Any] = {}
    errors: list[BaseException] = []

    def post(n: int) -> None:
        try:
            if n:
                first.wait(10)
                time.sleep(0.05)
            body = {
                "subject": f"Together {n}",
                "body": f"Message number {n}",
                # Two callers name the same new customer: one contact for both.
                "requester_email": "shared-new@example.com" if n in (3, 4) else f"new{n}@example.com",
                "tags": ["together", f"n{n}"],
                "priority": 2,
            }
            responses[n] = ApiClient(token).post("/tickets", body)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=post, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == []
    assert {n: r.status_code for n, r in responses.items()} == dict.fromkeys(range(count), 201)
    numbers = {n: r.json()["number"] for n, r in responses.items()}
    assert len(set(numbers.values())) == count
    # Fewer commits than tickets: the nine that arrived during the first one went together.
    assert tickets_api.create_batches.batches - batches_before < count
    for n, number in numbers.items():
        ticket = Ticket.objects.get(pk=number)
        out = responses[n].json()
        assert ticket.subject == out["subject"] == f"Together {n}"
        assert sorted(out["tags"]) == sorted(["together", f"n{n}"])
        assert sorted(ticket.tags.values_list("name", flat=True)) == sorted(["together", f"n{n}"])
        assert list(Message.objects.filter(ticket=ticket).values_list("body_text", flat=True)) == [
            f"Message number {n}"
        ]
        kinds = list(TicketEvent.objects.filter(ticket=ticket).order_by("id").values_list("kind", flat=True))
        assert kinds == [EventKind.CREATED, EventKind.TAGS, EventKind.MESSAGE]
        assert out["requester"]["email"] == ticket.requester.emails.get().address
    assert Contact.objects.filter(emails__address="shared-new@example.com").count() == 1
    assert Ticket.objects.get(pk=numbers[3]).requester_id == Ticket.objects.get(pk=numbers[4]).requester_id
