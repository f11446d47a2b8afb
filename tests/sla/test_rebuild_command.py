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


@pytest.mark.django_db(transaction=True)
def test_rebuild_command_refreshes_the_planner_statistics_on_postgresql(world: World) -> None:
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("ANALYZE is PostgreSQL's (the PostgreSQL leg runs this)")

    def last_analyzed() -> object:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT last_analyze FROM pg_stat_user_tables WHERE relname = %s", [Ticket._meta.db_table]
            )
            return cursor.fetchone()[0]

    before = last_analyzed()
    call_command("rebuild_sla_clocks", stdout=io.StringIO())
    after = last_analyzed()
    assert after is not None
    assert after != before
