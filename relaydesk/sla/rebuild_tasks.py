"""The job that re-applies the SLA table to open tickets after an admin changes it.

A policy, a calendar or a team's calendar moves the due instants of tickets that are already
open; closed tickets keep the clocks they finished with (reports read those). Enqueued by
``relaydesk.sla.admin_actions`` and ``accounts.actions.check_update_team`` after commit.
"""

from __future__ import annotations

import logging

from django.db import transaction
from huey.contrib.djhuey import db_task

from relaydesk.sla.actions import rebuild_clocks
from relaydesk.tickets.models import OPEN_STATUSES, Ticket

logger = logging.getLogger(__name__)

BATCH_SIZE = 500


def rebuild_open_ticket_clocks_now(*, batch_size: int = BATCH_SIZE) -> int:
    """Recompute the clocks of every open ticket, a batch per transaction; returns how many changed.

    Each batch locks its tickets (in id order, like every ticket action) so an agent's change and
    the rebuild never interleave on one ticket, and keeps the transaction short. Safe to run twice
    or concurrently with itself: every run replays the same events against the current table.
    """
    changed = 0
    last_id = 0
    while True:
        ids = list(
            Ticket.objects.filter(status__in=OPEN_STATUSES, pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            return changed
        with transaction.atomic():
            tickets = (
                Ticket.objects.select_for_update().filter(pk__in=ids, status__in=OPEN_STATUSES).order_by("pk")
            )
            changed += rebuild_clocks(tickets)
        last_id = ids[-1]


@db_task(retries=2, retry_delay=60)
def rebuild_open_ticket_clocks() -> None:
    changed = rebuild_open_ticket_clocks_now()
    if changed:
        logger.info("SLA table changed: clocks of %s open tickets moved", changed)
