from __future__ import annotations

import io

import pytest
import time_machine
from django.core.management import call_command

from relaydesk.sla.models import SLAClock
from relaydesk.tickets.models import Ticket
from tests.conftest import World
from tests.sla.conftest import SLATable, ny


@pytest.mark.django_db
def test_rebuild_command_starts_clocks_on_tickets_imported_without_them(
    world: World, sla_table: SLATable
) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket()
    # As if loaded by a bulk import: no clocks, no due instant.
    SLAClock.objects.all().delete()
    Ticket.objects.update(sla_due_at=None, sla_warn_at=None, sla_policy=None)
    out = io.StringIO()
    call_command("rebuild_sla_clocks", stdout=out)
    assert "SLA clocks moved on 1 open tickets" in out.getvalue()
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ny(2, 13)
    assert SLAClock.objects.filter(ticket=ticket).count() == 2
