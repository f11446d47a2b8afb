"""Jobs through real huey storage (Redis when REDIS_URL is set, else SQLite), not only inline."""

from collections.abc import Iterator

import pytest
from django.conf import settings
from django.core import mail
from django.db import transaction
from huey.contrib.djhuey import HUEY

from relaydesk.notifications.actions import do_notify
from relaydesk.notifications.models import NotificationKind


@pytest.fixture
def real_queue() -> Iterator[None]:
    HUEY.immediate = False
    HUEY.flush()
    try:
        yield
    finally:
        HUEY.flush()
        HUEY.immediate = True


def test_storage_matches_configuration(real_queue):
    expected = "RedisStorage" if settings.REDIS_URL else "SqliteStorage"
    assert type(HUEY.storage).__name__.endswith(expected)


def test_job_waits_for_commit_then_runs_from_the_queue(transactional_db, world, real_queue):
    world.sam.email_notifications = {NotificationKind.MENTION: True}
    world.sam.save()
    with transaction.atomic():
        do_notify(recipient=world.sam, kind=NotificationKind.MENTION, actor=world.alice, text="Ping")
        assert HUEY.pending_count() == 0  # nothing is visible to a worker before the commit
    assert HUEY.pending_count() == 1
    HUEY.execute(HUEY.dequeue())
    assert [m.to for m in mail.outbox] == [["sam@relaydesk.test"]]


def test_rolled_back_change_enqueues_nothing(transactional_db, world, real_queue):
    world.sam.email_notifications = {NotificationKind.MENTION: True}
    world.sam.save()

    def notify_then_fail() -> None:
        with transaction.atomic():
            do_notify(recipient=world.sam, kind=NotificationKind.MENTION, actor=world.alice, text="Ping")
            raise RuntimeError("the change fails after the notification was written")

    with pytest.raises(RuntimeError):
        notify_then_fail()
    assert HUEY.pending_count() == 0
    assert not world.sam.notifications.exists()
