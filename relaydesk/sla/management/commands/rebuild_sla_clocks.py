"""``relaydesk manage rebuild_sla_clocks``: re-apply the SLA table to every open ticket.

For operators after a bulk import or a restore; admins' changes to the table do this by themselves
(a job). Safe to run at any time and more than once. On PostgreSQL it ends with ANALYZE of the
tickets and clocks: after rewriting the SLA fields of many tickets, the planner's statistics
would describe the old values until autovacuum (if it runs) refreshes them, and the queues
filtered by SLA state would be planned for the wrong number of rows.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import connection

from relaydesk.sla.models import SLAClock
from relaydesk.sla.rebuild_tasks import rebuild_open_ticket_clocks_now
from relaydesk.tickets.models import Ticket


class Command(BaseCommand):
    help = "Recompute the SLA clocks of every open ticket from its history and the current SLA table."

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        changed = rebuild_open_ticket_clocks_now()
        if connection.vendor == "postgresql" and not connection.in_atomic_block:
            tables = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in (Ticket, SLAClock))
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {tables}")
        self.stdout.write(
            f"SLA clocks moved on {changed} open tickets in {time.perf_counter() - began:.1f} s"
        )
