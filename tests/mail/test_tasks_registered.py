"""The consumer finds every email job: huey imports ``relaydesk.mail.tasks`` at start-up."""

from __future__ import annotations

import importlib
from datetime import datetime

from huey.contrib.djhuey import HUEY


def test_mail_periodic_tasks_are_scheduled_through_the_tasks_module() -> None:
    importlib.import_module("relaydesk.mail.tasks")
    due = {type(task).__name__ for task in HUEY.read_periodic(datetime(2025, 6, 2, 9, 5))}
    assert {"poll_imap_mailboxes", "send_due_outbound_email", "process_stalled_inbound_email"} <= due
    quiet_minute = {type(task).__name__ for task in HUEY.read_periodic(datetime(2025, 6, 2, 9, 7))}
    assert "process_stalled_inbound_email" not in quiet_minute  # every 5 minutes only
    assert "poll_imap_mailboxes" in quiet_minute
