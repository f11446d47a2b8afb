"""A week of tickets with SLA clocks, made through the real actions under a frozen clock.

The SLA table is ``tests.sla.conftest.sla_table``: Americas works 9–5 New York time on weekdays;
EMEA has no calendar (24/7).  Urgent (P1): first response 1 h, resolution 8 h; Chat: 30 min and
4 h in calendar time; Standard: 4 h and 40 h.  June 2025: Monday the 2nd … Wednesday the 4th.

The report in these tests covers Monday 2 and Tuesday 3 (New York) and is read on Wednesday 4
at 12:00:

=====  =======================  ==================================================================
name   ticket                   what happens (New York times)
=====  =======================  ==================================================================
a1     Americas, email, P3      Mon 09:00 created · 10:00 alice replies · Tue 10:00 resolved
a2     Americas, email, P1      Mon 09:00 created · 11:00 alice replies (late) · 16:00 resolved
a3     Americas, email, P3      Mon 13:00 created · 13:30 reply · 14:00 resolved · Tue 09:00 the
                                customer writes (reopen) · Tue 12:00 resolved again
before Americas, email, P3      Fri 30 May 16:00 created · 16:30 reply · Mon 10:00 resolved
e1     EMEA, chat, P3           Mon 20:00 created · 20:10 bob replies · 23:30 resolved
e2     EMEA, email, P3          Mon 09:00 created, never answered: both clocks breached, open
after  Americas, email, P3      Wed 09:00 created · 09:15 reply (after the range)
=====  =======================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
import time_machine

from relaydesk.tickets.actions import check_add_message, check_change_ticket, do_add_customer_message
from relaydesk.tickets.models import Channel, MessageKind, Ticket
from tests.conftest import World
from tests.sla.conftest import NEW_YORK, SLATable, ny, sla_table  # noqa: F401  (the fixture, re-exported)

RANGE = {"from": "2025-06-02", "to": "2025-06-03", "tz": "America/New_York"}
NOW = ny(4, 12)


@dataclass
class Week:
    a1: Ticket
    a2: Ticket
    a3: Ticket
    before: Ticket
    e1: Ticket
    e2: Ticket
    after: Ticket


def at(when: datetime) -> time_machine.travel:
    return time_machine.travel(when, tick=False)


def reply(user: object, ticket: Ticket, when: datetime) -> None:
    with at(when):
        check_add_message(user, ticket.pk, kind=MessageKind.REPLY, body_text="On it.")  # type: ignore[arg-type]


def resolve(user: object, ticket: Ticket, when: datetime) -> None:
    with at(when):
        check_change_ticket(user, ticket.pk, expected_version=None, status="resolved")  # type: ignore[arg-type]


def customer_writes(ticket: Ticket, when: datetime) -> None:
    with at(when):
        do_add_customer_message(Ticket.objects.get(pk=ticket.pk), body_text="Still broken")


@pytest.fixture
def week(world: World, sla_table: SLATable) -> Week:  # noqa: F811
    def create(when: datetime, **kwargs: Any) -> Ticket:
        with at(when):
            return world.ticket(**kwargs)

    alice, bob = world.alice, world.bob
    before = create(datetime(2025, 5, 30, 16, tzinfo=NEW_YORK), subject="Before")
    reply(alice, before, datetime(2025, 5, 30, 16, 30, tzinfo=NEW_YORK))
    a1 = create(ny(2, 9), subject="A1")
    a2 = create(ny(2, 9), subject="A2 urgent", priority=1)
    e2 = create(ny(2, 9), subject="E2 unanswered", team=world.emea, requester=world.dave)
    reply(alice, a1, ny(2, 10))
    resolve(alice, before, ny(2, 10))
    reply(alice, a2, ny(2, 11))
    a3 = create(ny(2, 13), subject="A3 reopened")
    reply(alice, a3, ny(2, 13, 30))
    resolve(alice, a3, ny(2, 14))
    resolve(alice, a2, ny(2, 16))
    e1 = create(ny(2, 20), subject="E1 chat", team=world.emea, channel=Channel.CHAT, requester=world.dave)
    reply(bob, e1, ny(2, 20, 10))
    resolve(bob, e1, ny(2, 23, 30))
    customer_writes(a3, ny(3, 9))
    resolve(alice, a1, ny(3, 10))
    resolve(alice, a3, ny(3, 12))
    after = create(ny(4, 9), subject="After")
    reply(alice, after, ny(4, 9, 15))
    return Week(a1=a1, a2=a2, a3=a3, before=before, e1=e1, e2=e2, after=after)
