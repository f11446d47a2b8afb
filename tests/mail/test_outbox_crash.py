"""A sending worker killed mid-send (SIGKILL during SMTP DATA) loses no mail.

The sender runs in a real child process against this test's database (on PostgreSQL the test
database itself, committed; on SQLite a file copy of the in-memory test database, read back after
the kill). The SMTP server holds the first DATA until the child is dead, so the child dies after
claiming the row and handing the message over, before it could record anything. The drain then
finds the expired lease and sends the mail again with the same Message-ID: at-least-once, and a
receiver can drop the second copy by its id.
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.utils import timezone

from relaydesk.mail import outbox
from relaydesk.mail.models import Mailbox, OutboundEmail, OutboundStatus, Security
from relaydesk.tickets.actions import check_add_message
from relaydesk.tickets.models import Channel, MessageKind

if TYPE_CHECKING:
    from tests.mailservers import SmtpServer

pytest_plugins = ["tests.mailservers"]

REPO = Path(__file__).resolve().parents[2]
CHILD = "import django; django.setup(); from relaydesk.mail.outbox import send_due; send_due()"


def stall_first_data(
    server: SmtpServer, *, accept_after_release: bool
) -> tuple[threading.Event, threading.Event]:
    """Make ``server`` hold the first DATA until released; returns (data_started, release).

    ``accept_after_release``: the held message is then accepted (the server got it, the dead
    client never heard the 250) or refused with a 451 (it never got through).
    """
    from tests.mailservers import _Handler  # here, not at import: pytest rewrites the plugin's asserts

    data_started, release = threading.Event(), threading.Event()

    class StallingHandler(_Handler):
        stalled = False

        async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
            if StallingHandler.stalled:
                return await super().handle_DATA(smtp, session, envelope)
            StallingHandler.stalled = True
            # Accepted: captured now, before the client dies (its 250 is what gets lost).
            accepted = accept_after_release
            reply = (
                await super().handle_DATA(smtp, session, envelope) if accepted else "451 4.3.0 Lost (test)"
            )
            data_started.set()
            await asyncio.get_running_loop().run_in_executor(None, release.wait, 60)
            return reply

    controller = server._controller
    assert controller is not None
    controller.handler = StallingHandler(server)  # new connections get it (Controller.factory)
    return data_started, release


class ChildDatabase:
    """The database a child process can open: this test database (PostgreSQL, committed rows)
    or a file copy of the in-memory SQLite one, copied back with ``read_back``."""

    def __init__(self, directory: Path) -> None:
        settings = connection.settings_dict
        self.sqlite_file: Path | None = None
        if connection.vendor == "postgresql":
            credentials = quote(settings["USER"] or "", safe="")
            if settings["PASSWORD"]:
                credentials += ":" + quote(settings["PASSWORD"], safe="")
            self.url = (
                f"postgres://{credentials}@{settings['HOST'] or '127.0.0.1'}:{settings['PORT'] or 5432}"
                f"/{settings['NAME']}"
            )
        else:
            self.sqlite_file = directory / "child.sqlite3"
            connection.ensure_connection()
            with sqlite3.connect(self.sqlite_file) as target:
                connection.connection.backup(target)
            self.url = f"sqlite:///{self.sqlite_file}"

    def read_back(self) -> None:
        if self.sqlite_file is not None:
            with sqlite3.connect(self.sqlite_file) as source:
                source.backup(connection.connection)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("server_got_it", [True, False], ids=["accepted-before-the-kill", "never-accepted"])
def test_worker_killed_mid_send_loses_no_mail(world, smtp_server, monkeypatch, tmp_path, server_got_it):
    mailbox = Mailbox.objects.create(
        name="Support",
        address="support@northwind.example",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security=Security.NONE,
    )
    # The after-commit job never runs here (as if the web process's job was lost): the drain
    # is what must deliver every mail.
    monkeypatch.setattr(outbox, "_send_after_commit", lambda outbound_id: None)
    ticket = world.ticket(channel=Channel.PHONE)
    for number in range(3):
        check_add_message(world.alice, ticket.pk, kind=MessageKind.REPLY, body_text=f"Answer {number}.")
    rows = list(OutboundEmail.objects.order_by("id"))
    assert [row.mailbox_id for row in rows] == [mailbox.pk] * 3

    data_started, release = stall_first_data(smtp_server, accept_after_release=server_got_it)
    database = ChildDatabase(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "relaydesk.config.test_settings",
        "DATABASE_URL": database.url,
    }
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD], env=env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        if not data_started.wait(60):
            child.kill()
            output = child.communicate()[0].decode(errors="replace")
            pytest.fail(f"the child never reached DATA; it said:\n{output}")
        killed_at = timezone.now()
        child.kill()  # SIGKILL: no cleanup, no except block, no QUIT
        assert child.wait(10) == -9
    finally:
        release.set()
        if child.poll() is None:
            child.kill()
    assert len(smtp_server.messages) == (1 if server_got_it else 0)
    database.read_back()

    # The child claimed one row (the drain picks in random order), counted the attempt and died
    # holding the lease; it never got to the others.
    [first] = OutboundEmail.objects.filter(status=OutboundStatus.SENDING)
    assert first.attempts == 1
    lease_end = first.next_attempt_at
    assert killed_at < lease_end <= killed_at + outbox.LEASE
    others = OutboundEmail.objects.exclude(pk=first.pk)
    assert list(others.values_list("status", "attempts")) == [(OutboundStatus.QUEUED, 0)] * 2
    if server_got_it:
        assert smtp_server.messages[0].message["Message-ID"] == f"<{first.header_message_id}>"

    # A drain while the lease runs leaves the claimed row alone and sends the others.
    early = outbox.send_due()
    assert (early.sent, early.skipped) == (2, 0)
    first.refresh_from_db()
    assert first.status == OutboundStatus.SENDING

    # Once the lease is over, the drain sends it again.
    late = outbox.send_due(now=lease_end + timedelta(seconds=1))
    assert late.sent == 1
    first.refresh_from_db()
    assert (first.status, first.attempts) == (OutboundStatus.SENT, 2)
    assert set(OutboundEmail.objects.values_list("status", flat=True)) == {OutboundStatus.SENT}

    ids = [mail.message["Message-ID"] for mail in smtp_server.messages]
    expected_first = f"<{first.header_message_id}>"
    assert sorted(set(ids)) == sorted(f"<{row.header_message_id}>" for row in rows)  # every mail arrived
    assert ids.count(expected_first) == (2 if server_got_it else 1)  # a second copy: the same id
    if server_got_it:  # the resend is the same message: same headers, only MIME boundaries differ
        before, after = (
            mail.message for mail in smtp_server.messages if mail.message["Message-ID"] == expected_first
        )
        assert [(k, str(v)) for k, v in before.items() if k != "Content-Type"] == [
            (k, str(v)) for k, v in after.items() if k != "Content-Type"
        ]
