"""Inbound mail jobs: process stored messages, and pick up messages whose job was lost.

Both only call ``processing``; processing a row twice is a no-op and never raises, so neither job
needs retries: a message that cannot be processed ends quarantined, not in the job queue.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from relaydesk.mail.processing import Groups, pending_inbound, process_inbound, process_inbound_many

logger = logging.getLogger(__name__)


@db_task()
def process_inbound_email(inbound_id: int) -> None:
    outcome = process_inbound(inbound_id)
    logger.info("Inbound email %s: %s", inbound_id, outcome.describe())


@db_task()
def process_inbound_emails(inbound_ids: list[int]) -> None:
    """Messages stored together (an IMAP poll) are processed together: see ``process_inbound_many``."""
    for outcome in process_inbound_many(inbound_ids):
        logger.info("Inbound email %s: %s", outcome.inbound_id, outcome.describe())


@db_periodic_task(crontab(minute="*/5"))
def process_stalled_inbound_email() -> None:
    """Rows still ``received`` minutes after they arrived: the worker died or the queue lost the job.

    No huey lock on purpose: one left behind by a killed consumer would stop the sweep for good,
    while two sweeps at once are harmless (each row is locked and checked before it is processed).
    """

    def process(inbound_ids: list[int]) -> None:
        for outcome in process_inbound_many(inbound_ids):
            logger.warning("Inbound email %s was waiting; now %s", outcome.inbound_id, outcome.describe())

    groups = Groups(process)
    for inbound_id, size in pending_inbound():
        groups.add(inbound_id, size)
    groups.close()
