"""IMAP jobs: every minute, one poll task per mailbox that reads mail over IMAP.

The periodic task only enqueues; each mailbox is then polled by its own task, so a slow or
broken server delays nobody else's mail and several consumers share the work. A per-mailbox lock
in huey's storage keeps two consumers from polling one mailbox at once (a poll that outlasts a
minute, a manual run); should they overlap anyway (a stale lock taken over), the dedupe key of
``store_raw`` makes the second copy of every message a no-op.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

from huey import crontab
from huey.contrib.djhuey import HUEY, db_periodic_task, db_task

from relaydesk.mail.imap import PollResult, poll_mailbox
from relaydesk.mail.models import Mailbox

logger = logging.getLogger(__name__)

# A lock older than this belongs to a consumer that died mid-poll (huey's own locks never
# expire on SQLite storage): the next poll takes it over. Well above the longest sane poll.
STALE_LOCK_SECONDS = 15 * 60


def poll_lock_name(mailbox_id: int) -> str:
    return f"mail-imap-poll-{mailbox_id}"


@contextmanager
def mailbox_poll_lock(mailbox_id: int) -> Iterator[bool]:
    """Yield True while this process holds the mailbox's poll lock, False if someone else does.

    The lock is a key in huey's storage (Redis or SQLite, shared by every consumer), registered
    with huey so ``run_huey --flush-locks`` clears it too; its value is when it was taken.
    """
    key = HUEY.lock_task(poll_lock_name(mailbox_id))._key
    now = time.time()
    acquired = HUEY.put_if_empty(key, now)
    if not acquired:
        taken_at = HUEY.get(key, peek=True)
        if isinstance(taken_at, int | float) and now - taken_at > STALE_LOCK_SECONDS:
            logger.warning("mailbox %s: taking over a poll lock held since %s", mailbox_id, taken_at)
            HUEY.delete(key)
            acquired = HUEY.put_if_empty(key, now)
    try:
        yield acquired
    finally:
        if acquired:
            HUEY.delete(key)


def poll_mailbox_now(mailbox_id: int) -> PollResult | None:
    """Poll one mailbox unless another consumer is at it; None when skipped or not an IMAP mailbox."""
    mailbox = Mailbox.objects.filter(pk=mailbox_id).first()
    if mailbox is None or not mailbox.polls_imap:
        return None
    with mailbox_poll_lock(mailbox_id) as acquired:
        if not acquired:
            logger.info("mailbox %s is being polled by another consumer; skipped", mailbox_id)
            return None
        result = poll_mailbox(mailbox)
    if result.stored or result.duplicates:
        logger.info(
            "mailbox %s: %s new, %s already stored%s",
            mailbox_id,
            result.stored,
            result.duplicates,
            ", more waiting" if result.more_waiting else "",
        )
    return result


def mailboxes_to_poll() -> list[int]:
    return [
        mailbox.pk
        for mailbox in Mailbox.objects.filter(is_active=True).exclude(imap_host="").exclude(imap_username="")
        if mailbox.polls_imap
    ]


@db_task()
def poll_imap_mailbox(mailbox_id: int) -> None:
    result = poll_mailbox_now(mailbox_id)
    if result is not None and result.more_waiting and result.acknowledged and not result.error:
        # A backlog (a new mailbox, an outage): keep going now instead of 200 a minute.
        poll_imap_mailbox(mailbox_id)


@db_periodic_task(crontab(minute="*"))
def poll_imap_mailboxes() -> None:
    for mailbox_id in mailboxes_to_poll():
        poll_imap_mailbox(mailbox_id)
