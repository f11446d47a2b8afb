"""The email channel's jobs, gathered here because huey's Django integration imports each app's
``tasks`` module at start-up: importing the modules registers their tasks and schedules.

- intake_tasks: process a stored inbound message; every 5 minutes, process any left unprocessed.
- imap_tasks: every minute, poll each IMAP mailbox (one poll at a time per mailbox).
- outbox_tasks: send a queued mail; every minute, send what is due (retries, expired leases).
"""

from relaydesk.mail import imap_tasks, intake_tasks, outbox_tasks

__all__ = ["imap_tasks", "intake_tasks", "outbox_tasks"]
