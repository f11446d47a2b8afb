"""The scanner runs as a huey periodic task in the same consumer as every other job."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from huey.contrib.djhuey import HUEY

from relaydesk.sla.tasks import scan_sla_clocks
from relaydesk.tickets.models import EventKind, Priority, TicketEvent
from tests.conftest import World
from tests.sla.conftest import SLATable, ny


def test_scanner_is_a_periodic_task_every_minute() -> None:
    # What the consumer runs: huey.read_periodic(now) lists the periodic tasks due at ``now``.
    for minute in (0, 17, 59):
        due = HUEY.read_periodic(datetime(2025, 6, 2, 9, minute))
        assert any(isinstance(task, scan_sla_clocks.task_class) for task in due)


@pytest.mark.django_db
def test_the_task_escalates(world: World, sla_table: SLATable) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket(priority=Priority.P1, assignee=world.alice)
    with time_machine.travel(ny(2, 10, 5), tick=False):
        scan_sla_clocks.call_local()
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.SLA, new_value="breach").count() == 1
