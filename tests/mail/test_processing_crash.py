"""A worker killed while processing a group of inbound mail leaves nothing half-written.

The group runs in a real child process against this test's database (see ``ChildDatabase``). It
is killed (SIGKILL) after it has written the group's new tickets, inside the transaction, before
the commit. Afterwards every row is still ``received`` and nothing of the group exists; the next
run (the periodic sweep) processes each message exactly once.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from email.message import EmailMessage

import pytest

from relaydesk.customers.models import Contact
from relaydesk.mail.intake import store_raw
from relaydesk.mail.models import InboundEmail, InboundStatus, Mailbox, MessageHeader
from relaydesk.mail.processing import process_inbound_many
from relaydesk.tickets.models import Message, Ticket
from tests.mail.test_outbox_crash import REPO, ChildDatabase

CHILD = """
import os, sys, time
import django
django.setup()
from relaydesk.mail import processing

real_open_tickets = processing._Group.open_tickets

def open_then_hang(self):
    real_open_tickets(self)  # the tickets are written, the transaction is still open
    open(os.environ["MARKER"], "w").close()
    time.sleep(600)

processing._Group.open_tickets = open_then_hang
processing.process_inbound_many([int(arg) for arg in sys.argv[1:]])
"""


def mail(number: int, *, replying_to: int | None = None) -> bytes:
    message = EmailMessage()
    sender = replying_to or number  # a reply comes from the one who wrote the first mail
    message["From"] = f"Customer {sender} <crash{sender}@acme.example>"
    message["To"] = "support@northwind.example"
    message["Subject"] = f"Problem {number}"
    message["Message-ID"] = f"<crash-{number}@acme.example>"
    if replying_to is not None:
        message["In-Reply-To"] = f"<crash-{replying_to}@acme.example>"
    message.set_content(f"Text of message {number}.")
    return message.as_bytes()


@pytest.mark.django_db(transaction=True)
def test_worker_killed_mid_group_leaves_every_message_for_the_sweep(world, tmp_path):
    mailbox = Mailbox.objects.create(
        name="Support", address="support@northwind.example", team=world.emea, send_acknowledgement=False
    )
    raws = [mail(1), mail(2), mail(3), mail(4, replying_to=2), mail(5)]
    ids = [store_raw(raw, mailbox=mailbox, source="imap")[0].pk for raw in raws]
    contacts_before = Contact.objects.count()

    database = ChildDatabase(tmp_path)
    marker = tmp_path / "tickets-written"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "relaydesk.config.test_settings",
        "DATABASE_URL": database.url,
        "MARKER": str(marker),
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, *map(str, ids)],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            if child.poll() is not None or time.monotonic() > deadline:
                child.kill()
                output = child.communicate()[0].decode(errors="replace")
                pytest.fail(f"the child never wrote the group's tickets; it said:\n{output}")
            time.sleep(0.02)
        child.kill()  # SIGKILL inside the transaction: no rollback code runs, no commit
        assert child.wait(10) == -9
    finally:
        if child.poll() is None:
            child.kill()
    database.read_back()

    rows = InboundEmail.objects.filter(pk__in=ids)
    assert set(rows.values_list("status", "attempts")) == {(InboundStatus.RECEIVED, 0)}
    assert (Ticket.objects.count(), Message.objects.count(), MessageHeader.objects.count()) == (0, 0, 0)
    assert Contact.objects.count() == contacts_before

    # What the sweep does next: every message once, the reply on the ticket of the mail it answers.
    outcomes = process_inbound_many(ids)
    assert [o.status for o in outcomes] == [InboundStatus.PROCESSED] * 5
    assert [o.created_ticket for o in outcomes] == [True, True, True, False, True]
    assert outcomes[3].ticket_id == outcomes[1].ticket_id
    headers = sorted(MessageHeader.objects.values_list("header_message_id", flat=True))
    assert headers == [f"crash-{n}@acme.example" for n in range(1, 6)]
    assert Message.objects.count() == 5
    # And once more (a second sweep, a late job): nothing new.
    again = process_inbound_many(ids)
    assert [(o.status, o.ticket_id, o.message_id) for o in again] == [
        (o.status, o.ticket_id, o.message_id) for o in outcomes
    ]
    assert Message.objects.count() == 5
