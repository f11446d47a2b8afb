"""``relaydesk manage rebuild_sla_clocks``: re-apply the SLA table to every open ticket.

For operators after a bulk import or a restore; admins' changes to the table do this by themselves
(a job). Safe to run at any time and more than once.
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from relaydesk.sla.rebuild_tasks import rebuild_open_ticket_clocks_now


class Command(BaseCommand):
    help = "Recompute the SLA clocks of every open ticket from its history and the current SLA table."

    def handle(self, *args: Any, **options: Any) -> None:
        began = time.perf_counter()
        changed = rebuild_open_ticket_clocks_now()
        self.stdout.write(
            f"SLA clocks moved on {changed} open tickets in {time.perf_counter() - began:.1f} s"
        )
