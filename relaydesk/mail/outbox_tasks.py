"""Outbox jobs: send one mail after its reply commits, and drain whatever is due every minute.

Both only call ``relaydesk.mail.outbox``; retries are not huey's: a failed send puts its row back
in the outbox with the next attempt's time, and the drain picks it up then. The drain also
sends rows whose worker died mid-send (an expired lease), so nothing is lost with a worker.
Safe to run twice and in several consumers at once: every row is claimed before it is sent.
"""

from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from relaydesk.mail.outbox import send_due, send_outbound

logger = logging.getLogger(__name__)


@db_task()
def send_outbound_email(outbound_id: int) -> None:
    send_outbound(outbound_id)


@db_periodic_task(crontab(minute="*"))
def send_due_outbound_email() -> None:
    # No lock_task: a lock left by a killed consumer would stop the drain for good, while
    # concurrent drains are harmless (each row is claimed) and each one is bounded in time.
    result = send_due()
    if result.handled:
        logger.info(
            "Outbox: %s sent, %s to retry, %s failed, %s taken by another worker",
            result.sent,
            result.retrying,
            result.failed,
            result.skipped,
        )
