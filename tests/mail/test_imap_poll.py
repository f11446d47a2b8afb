"""IMAP polling against a real dovecot: every message stored once, acknowledged only after commit.

"Killed" steps raise ``Killed`` (a BaseException, like the SystemExit of a dying worker), which
``poll_mailbox`` does not catch: whatever had not run by then never runs, as in a real crash.
"""

from __future__ import annotations

import contextlib
import threading
import time
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest
from django.db import close_old_connections, connection

from relaydesk.mail import imap, imap_tasks, processing
from relaydesk.mail.credentials import encrypt
from relaydesk.mail.imap import ImapSession, encode_folder, poll_mailbox
from relaydesk.mail.intake import store_raw
from relaydesk.mail.models import InboundEmail, InboundStatus, Mailbox

if TYPE_CHECKING:
    from tests.mailservers import ImapServer

pytest_plugins = ["tests.mailservers"]

pytestmark = pytest.mark.django_db


class Killed(BaseException):
    """The worker dies here (not an Exception: nothing in the poller may swallow it)."""


def mail(number: int, *, message_id: str | None = None, body: str = "It stopped printing.") -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Customer {number} <customer{number}@acme.example>"
    message["To"] = "support@relaydesk.test"
    message["Subject"] = f"Printer {number} is down"
    message["Message-ID"] = message_id or f"<printer-{number}@acme.example>"
    message.set_content(body)
    return message


def make_mailbox(server: ImapServer, **fields: object) -> Mailbox:
    values: dict[str, object] = {
        "name": "Support",
        "address": "support@relaydesk.test",
        "imap_host": server.host,
        "imap_port": server.port,
        "imap_security": "none",
        "imap_username": server.user,
        "imap_password_encrypted": encrypt(server.password),
        **fields,
    }
    return Mailbox.objects.create(**values)


@pytest.fixture(autouse=True)
def enqueued(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The inbound ids the poller handed to processing (processing itself is another test's)."""
    ids: list[int] = []
    lock = threading.Lock()

    def record(inbound_ids: list[int]) -> None:
        with lock:
            ids.extend(inbound_ids)

    monkeypatch.setattr(imap, "enqueue_processing", record)
    return ids


def seen_flags(server: ImapServer, folder: str = "INBOX") -> list[bool]:
    return [message.seen for message in server.list_messages(folder)]


def stored_message_ids() -> list[str]:
    return sorted(InboundEmail.objects.values_list("header_message_id", flat=True))


def test_delivered_mail_becomes_one_row_per_message_id_and_is_marked_seen(imap_server, enqueued):
    for number in (1, 2, 3):
        imap_server.deliver(mail(number))
    imap_server.deliver(mail(4, message_id="<printer-1@acme.example>"))  # the same mail, delivered twice
    mailbox = make_mailbox(imap_server)

    result = poll_mailbox(mailbox)

    assert (result.stored, result.duplicates, result.acknowledged, result.error) == (3, 1, 4, "")
    assert stored_message_ids() == [
        "printer-1@acme.example",
        "printer-2@acme.example",
        "printer-3@acme.example",
    ]
    rows = list(InboundEmail.objects.order_by("pk"))
    assert {row.source for row in rows} == {"imap"}
    assert {row.mailbox_id for row in rows} == {mailbox.pk}
    [first] = [m for m in imap_server.list_messages() if m.message["Subject"] == "Printer 1 is down"]
    assert rows[0].raw == first.raw  # the exact bytes the server holds
    assert seen_flags(imap_server) == [True, True, True, True]
    # Processing is enqueued once per new row; the duplicate's row was already enqueued.
    assert enqueued == [row.pk for row in rows]
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""
    assert mailbox.last_polled_at is not None

    # Nothing new: the next poll stores nothing and says nothing went wrong.
    again = poll_mailbox(mailbox)
    assert (again.stored, again.duplicates, again.acknowledged, again.error) == (0, 0, 0, "")
    assert InboundEmail.objects.count() == 3


def test_stored_rows_are_handed_to_processing_in_groups(imap_server, monkeypatch):
    groups: list[list[int]] = []
    monkeypatch.setattr(imap, "enqueue_processing", groups.append)
    monkeypatch.setattr(processing, "MAX_GROUP", 2)
    monkeypatch.setattr(processing, "MAX_GROUP_BYTES", 3 * 900)  # three of these mails fit, four do not
    for number in range(1, 6):
        imap_server.deliver(mail(number, body=f"Printer {number} stopped." + "x" * 400))

    assert poll_mailbox(make_mailbox(imap_server)).stored == 5
    rows = list(InboundEmail.objects.order_by("pk").values_list("pk", "size"))
    assert all(675 < size < 900 for _, size in rows), rows  # so three fit in 2,700 bytes, four do not
    ids = [pk for pk, _ in rows]
    assert groups == [ids[0:2], ids[2:4], ids[4:5]]  # the last one when the poll ends

    monkeypatch.setattr(processing, "MAX_GROUP", 20)
    groups.clear()
    for number in range(6, 11):
        imap_server.deliver(mail(number, body=f"Printer {number} stopped." + "x" * 400))
    poll_mailbox(make_mailbox(imap_server, address="other@relaydesk.test"))
    ids = list(InboundEmail.objects.order_by("pk").values_list("pk", flat=True))[5:]
    assert groups == [ids[0:3], ids[3:5]]  # cut by size: a fourth would pass MAX_GROUP_BYTES


def test_messages_already_seen_in_the_mailbox_are_left_alone(imap_server):
    imap_server.deliver(mail(1), flags=("\\Seen",))
    imap_server.deliver(mail(2))
    result = poll_mailbox(make_mailbox(imap_server))
    assert result.stored == 1
    assert stored_message_ids() == ["printer-2@acme.example"]


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_poll_over_starttls_and_implicit_tls(imap_server, monkeypatch, security):
    monkeypatch.setattr(imap, "tls_context", imap_server.tls.client_context)
    imap_server.deliver(mail(1))
    port = imap_server.tls_port if security == "tls" else imap_server.port
    mailbox = make_mailbox(imap_server, imap_security=security, imap_port=port)
    result = poll_mailbox(mailbox)
    assert (result.stored, result.error) == (1, "")
    assert seen_flags(imap_server) == [True]


def test_tls_against_an_untrusted_certificate_is_refused_and_nothing_is_fetched(imap_server):
    imap_server.deliver(mail(1))
    mailbox = make_mailbox(imap_server, imap_security="tls", imap_port=imap_server.tls_port)
    result = poll_mailbox(mailbox)
    assert result.error == ("IMAP: the server's TLS certificate was refused: self-signed certificate")
    assert InboundEmail.objects.count() == 0
    assert seen_flags(imap_server) == [False]


def test_killed_after_fetch_before_commit_leaves_the_message_unseen(imap_server, monkeypatch):
    imap_server.deliver(mail(1))
    mailbox = make_mailbox(imap_server)
    fetched: list[bytes] = []

    def die_before_commit(raw: bytes, **kwargs: object) -> object:
        fetched.append(raw)
        raise Killed

    monkeypatch.setattr(imap, "store_raw", die_before_commit)
    with pytest.raises(Killed):
        poll_mailbox(mailbox)
    assert len(fetched) == 1  # it was fetched…
    assert InboundEmail.objects.count() == 0  # …never stored…
    assert seen_flags(imap_server) == [False]  # …and so never acknowledged: still new on the server

    monkeypatch.setattr(imap, "store_raw", store_raw)
    result = poll_mailbox(mailbox)
    assert (result.stored, result.duplicates, result.error) == (1, 0, "")
    assert stored_message_ids() == ["printer-1@acme.example"]
    assert seen_flags(imap_server) == [True]


def test_a_failing_database_is_recorded_and_the_message_stays_unseen(imap_server, monkeypatch):
    imap_server.deliver(mail(1))
    mailbox = make_mailbox(imap_server)

    def database_down(raw: bytes, **kwargs: object) -> object:
        raise ConnectionError("database unreachable")

    monkeypatch.setattr(imap, "store_raw", database_down)
    result = poll_mailbox(mailbox)  # never raises
    assert result.error == "IMAP: polling failed unexpectedly (ConnectionError: database unreachable)"
    assert seen_flags(imap_server) == [False]
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error


def test_killed_after_commit_before_seen_is_stored_once_and_marked_by_the_next_poll(
    imap_server, monkeypatch, enqueued
):
    imap_server.deliver(mail(1))
    imap_server.deliver(mail(2))
    mailbox = make_mailbox(imap_server)

    def die_before_flagging(self: ImapSession, uid: int) -> None:
        raise Killed

    monkeypatch.setattr(ImapSession, "mark_seen", die_before_flagging)
    with pytest.raises(Killed):
        poll_mailbox(mailbox)
    [row] = InboundEmail.objects.all()  # the first message was committed…
    assert row.header_message_id == "printer-1@acme.example"
    assert seen_flags(imap_server) == [False, False]  # …but never acknowledged
    assert enqueued == [row.pk]

    monkeypatch.undo()
    monkeypatch.setattr(imap, "enqueue_processing", enqueued.extend)
    result = poll_mailbox(mailbox)
    assert (result.stored, result.duplicates, result.acknowledged, result.error) == (1, 1, 2, "")
    assert stored_message_ids() == ["printer-1@acme.example", "printer-2@acme.example"]
    assert seen_flags(imap_server) == [True, True]
    # The first row was still "received" (its processing may never have been queued): queued again.
    second = InboundEmail.objects.get(header_message_id="printer-2@acme.example")
    assert enqueued == [row.pk, row.pk, second.pk]


def test_an_already_processed_duplicate_is_not_processed_again(imap_server, monkeypatch, enqueued):
    imap_server.deliver(mail(1))
    mailbox = make_mailbox(imap_server)
    row, _ = store_raw(imap_server.list_messages()[0].raw, mailbox=mailbox, source="imap")
    InboundEmail.objects.filter(pk=row.pk).update(status=InboundStatus.PROCESSED)
    result = poll_mailbox(mailbox)
    assert (result.stored, result.duplicates) == (0, 1)
    assert enqueued == []
    assert seen_flags(imap_server) == [True]


@pytest.mark.django_db(transaction=True)
def test_two_pollers_at_once_store_each_message_once(imap_server, monkeypatch):
    for number in range(1, 13):
        imap_server.deliver(mail(number))
    mailbox = make_mailbox(imap_server)
    # Both pollers fetch the first message before either stores it, so they really race.
    both_fetched = threading.Barrier(2, timeout=20)
    first_call: set[int] = set()
    # The in-memory SQLite test database refuses concurrent writers outright ("table is locked",
    # no busy wait): there the writes take turns, and the race is in IMAP and the dedupe lookup.
    # On PostgreSQL both inserts really race into the unique key.
    in_memory_sqlite = connection.vendor == "sqlite" and "memory" in str(connection.settings_dict["NAME"])
    write_turn = threading.Lock() if in_memory_sqlite else contextlib.nullcontext()

    def store_in_step(raw: bytes, **kwargs: object) -> object:
        if threading.get_ident() not in first_call:
            first_call.add(threading.get_ident())
            both_fetched.wait()
        with write_turn:
            return store_raw(raw, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(imap, "store_raw", store_in_step)
    results: list[imap.PollResult] = []
    failures: list[BaseException] = []

    def poller() -> None:
        try:
            results.append(poll_mailbox(Mailbox.objects.get(pk=mailbox.pk)))
        except BaseException as exc:
            failures.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=poller) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert [r.error for r in results] == ["", ""]
    assert InboundEmail.objects.count() == 12
    assert sum(r.stored for r in results) == 12
    assert sum(r.duplicates for r in results) >= 1  # the first message, at least, was fetched twice
    assert seen_flags(imap_server) == [True] * 12


def test_the_poll_lock_keeps_a_second_consumer_out(imap_server):
    imap_server.deliver(mail(1))
    mailbox = make_mailbox(imap_server)
    with imap_tasks.mailbox_poll_lock(mailbox.pk) as held:
        assert held
        assert imap_tasks.poll_mailbox_now(mailbox.pk) is None  # another consumer is at it
        assert InboundEmail.objects.count() == 0
        with imap_tasks.mailbox_poll_lock(mailbox.pk) as second:
            assert not second
    result = imap_tasks.poll_mailbox_now(mailbox.pk)  # the lock was released
    assert result is not None
    assert result.stored == 1


def test_a_stale_poll_lock_is_taken_over(imap_server):
    from huey.contrib.djhuey import HUEY

    imap_server.deliver(mail(1))
    mailbox = make_mailbox(imap_server)
    key = HUEY.lock_task(imap_tasks.poll_lock_name(mailbox.pk))._key
    HUEY.put_if_empty(key, time.time() - imap_tasks.STALE_LOCK_SECONDS - 1)  # a consumer died holding it
    try:
        result = imap_tasks.poll_mailbox_now(mailbox.pk)
    finally:
        HUEY.delete(key)
    assert result is not None
    assert result.stored == 1


def test_wrong_password_is_recorded_and_nothing_is_lost(imap_server):
    imap_server.deliver(mail(1))
    mailbox = make_mailbox(imap_server, imap_password_encrypted=encrypt("not-the-password"))
    result = poll_mailbox(mailbox)
    assert result.error == (
        "IMAP: login refused for support@relaydesk.test: [AUTHENTICATIONFAILED] Authentication failed."
    )
    mailbox.refresh_from_db()
    assert mailbox.last_error == result.error
    assert InboundEmail.objects.count() == 0
    assert seen_flags(imap_server) == [False]

    # The admin types the right password: the next poll fetches it, and the error is cleared.
    mailbox.imap_password_encrypted = encrypt(imap_server.password)
    mailbox.save()
    assert poll_mailbox(mailbox).stored == 1
    mailbox.refresh_from_db()
    assert mailbox.last_error == ""


def test_a_login_with_non_ascii_credentials(imap_server):
    imap_server.add_user("mueller@relaydesk.test", "pässwörd")
    mailbox = make_mailbox(
        imap_server, imap_username="mueller@relaydesk.test", imap_password_encrypted=encrypt("pässwörd")
    )
    # AUTHENTICATE PLAIN (UTF-8): imaplib's LOGIN only sends ASCII.
    assert poll_mailbox(mailbox).error == ""
    mailbox.imap_password_encrypted = encrypt("passwörd")
    assert poll_mailbox(mailbox).error == (
        "IMAP: login refused for mueller@relaydesk.test: [AUTHENTICATIONFAILED] Authentication failed."
    )


def test_unreachable_server_and_missing_folder_are_recorded(imap_server):
    from tests.mailservers import free_port

    closed = make_mailbox(imap_server, imap_port=free_port())
    assert poll_mailbox(closed).error == (
        f"IMAP: connection refused by 127.0.0.1:{closed.imap_port} (nothing listens on that port)"
    )
    missing = make_mailbox(imap_server, address="billing@relaydesk.test", imap_folder="Billing")
    assert poll_mailbox(missing).error == (
        "IMAP: folder “Billing” does not exist (the server says: Mailbox doesn't exist: Billing)"
    )


def test_undecryptable_password_is_recorded(imap_server):
    mailbox = make_mailbox(imap_server, imap_password_encrypted="not-a-fernet-token")
    assert poll_mailbox(mailbox).error == (
        "IMAP: The stored password cannot be decrypted (the encryption key changed): enter it again."
    )


@pytest.mark.parametrize("server_moves", [True, False], ids=["MOVE", "COPY+EXPUNGE"])
def test_read_mail_is_moved_to_the_done_folder(imap_server, monkeypatch, server_moves):
    if not server_moves:
        monkeypatch.setattr(ImapSession, "can_move", property(lambda self: False))
    imap_server.deliver(mail(1))
    imap_server.deliver(mail(2))
    mailbox = make_mailbox(imap_server, imap_done_folder="Relaydesk/Processed")  # created on first use
    result = poll_mailbox(mailbox)
    assert (result.stored, result.acknowledged, result.error) == (2, 2, "")
    assert imap_server.list_messages("INBOX") == []
    moved = imap_server.list_messages("Relaydesk/Processed")
    assert [m.message["Message-ID"] for m in moved] == [
        "<printer-1@acme.example>",
        "<printer-2@acme.example>",
    ]
    assert all(m.seen for m in moved)


def test_done_folder_with_a_non_ascii_name(imap_server):
    imap_server.deliver(mail(1))
    mailbox = make_mailbox(imap_server, imap_done_folder="Erledigt ä & co")
    assert poll_mailbox(mailbox).error == ""
    with imap_server.connect() as client:
        typ, data = client.select(encode_folder("Erledigt ä & co"), readonly=True)
    assert (typ, data) == ("OK", [b"1"])
    assert encode_folder("Erledigt ä & co") == '"Erledigt &AOQ- &- co"'


def test_a_message_bigger_than_the_limit_is_still_stored(imap_server, settings):
    settings.MAIL_MAX_BYTES = 64 * 1024
    imap_server.deliver(mail(1, body="x" * 70 + "\n" + ("y" * 76 + "\n") * 3000))  # ~230 KB
    result = poll_mailbox(make_mailbox(imap_server))
    assert (result.stored, result.error) == (1, "")
    row = InboundEmail.objects.get()
    assert row.size > settings.MAIL_MAX_BYTES
    assert row.raw == imap_server.list_messages()[0].raw
    assert seen_flags(imap_server) == [True]


def test_one_poll_takes_at_most_the_cap_and_the_rest_waits(imap_server):
    for number in (1, 2, 3):
        imap_server.deliver(mail(number))
    mailbox = make_mailbox(imap_server)
    result = poll_mailbox(mailbox, limit=2)
    assert (result.stored, result.more_waiting) == (2, True)
    assert stored_message_ids() == ["printer-1@acme.example", "printer-2@acme.example"]  # oldest first
    assert seen_flags(imap_server) == [True, True, False]
    assert poll_mailbox(mailbox, limit=2).stored == 1


def test_the_periodic_task_polls_every_active_imap_mailbox(imap_server, monkeypatch):
    monkeypatch.setattr(imap_tasks, "poll_mailbox", lambda mb: poll_mailbox(mb, limit=1))
    imap_server.add_user("billing@relaydesk.test", "billing-password")
    imap_server.deliver(mail(1))
    imap_server.deliver(mail(2))
    imap_server.deliver(mail(3), user="billing@relaydesk.test")
    imap_server.deliver(mail(4), user="billing@relaydesk.test")
    support = make_mailbox(imap_server)
    billing = make_mailbox(
        imap_server,
        name="Billing",
        address="billing@relaydesk.test",
        imap_username="billing@relaydesk.test",
        imap_password_encrypted=encrypt("billing-password"),
    )
    make_mailbox(imap_server, name="Old", address="old@relaydesk.test", is_active=False)
    make_mailbox(imap_server, name="Webhook only", address="hook@relaydesk.test", imap_host="")

    imap_tasks.poll_imap_mailboxes.call_local()  # huey runs the per-mailbox tasks inline in tests

    # With one message per poll, the backlog was worked through by follow-up tasks.
    assert sorted(InboundEmail.objects.values_list("mailbox_id", "header_message_id")) == sorted(
        [
            (support.pk, "printer-1@acme.example"),
            (support.pk, "printer-2@acme.example"),
            (billing.pk, "printer-3@acme.example"),
            (billing.pk, "printer-4@acme.example"),
        ]
    )
    assert Mailbox.objects.filter(last_polled_at__isnull=False).count() == 2
