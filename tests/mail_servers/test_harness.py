"""Self-tests of tests/mailservers.py: a real dovecot and a real SMTP socket, driven by the stdlib.

These prove the harness that the email-channel tests will stand on: what imaplib and smtplib see
is what a real server would say, and the inspection helpers report it faithfully.
"""

from __future__ import annotations

import imaplib
import smtplib
import ssl
import threading
from collections.abc import Callable
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:  # imported by pytest_plugins below, so that pytest can rewrite its asserts
    from tests.mailservers import ImapServer, SmtpServer

pytest_plugins = ["tests.mailservers"]  # the imap_server, smtp_server and smtp_server_factory fixtures

RAW = (
    b"From: Carol Customer <carol@acme.example>\r\n"
    b"To: support@relaydesk.test\r\n"
    b"Subject: Printer is down\r\n"
    b"Message-ID: <printer-1@acme.example>\r\n"
    b"Date: Mon, 03 Jun 2024 09:00:00 +0000\r\n"
    b"\r\n"
    b"It stopped printing this morning.\r\n"
)


def raw_message(n: int) -> bytes:
    return RAW.replace(b"printer-1@", f"printer-{n}@".encode()).replace(b"is down", f"is down #{n}".encode())


def uids(imap: imaplib.IMAP4, *criteria: str) -> list[int]:
    typ, data = imap.uid("SEARCH", *criteria)
    assert typ == "OK"
    return [int(uid) for uid in data[0].split()]


# --- IMAP -------------------------------------------------------------------------------------


def test_imap_login_select_search_unseen_and_fetch(imap_server: ImapServer):
    first = imap_server.deliver(raw_message(1))
    read = imap_server.deliver(raw_message(2), flags=[r"\Seen"])
    third = imap_server.deliver(raw_message(3))

    with imaplib.IMAP4(imap_server.host, imap_server.port, timeout=5) as imap:
        assert imap.login(imap_server.user, imap_server.password)[0] == "OK"
        typ, data = imap.select("INBOX")
        assert (typ, data) == ("OK", [b"3"])
        assert uids(imap, "UNSEEN") == [first, third]
        assert read not in uids(imap, "UNSEEN")
        typ, data = imap.uid("FETCH", str(first), "(RFC822)")
        assert typ == "OK"
        assert isinstance(data[0], tuple)
        assert data[0][1] == raw_message(1)
        # Fetching RFC822 (not BODY.PEEK) marks the message read, as on any real server.
        assert uids(imap, "UNSEEN") == [third]

    stored = imap_server.list_messages()
    assert [m.uid for m in stored] == [first, read, third]
    assert [m.seen for m in stored] == [True, True, False]
    assert stored[2].message["Subject"] == "Printer is down #3"
    assert stored[2].message["Message-ID"] == "<printer-3@acme.example>"


def test_imap_store_seen_copy_and_move_to_folders(imap_server: ImapServer):
    uid = imap_server.deliver(raw_message(1))
    other = imap_server.deliver(raw_message(2))
    imap_server.create_folder("Relaydesk/Processed")

    with imap_server.connect() as imap:
        imap.select("INBOX")
        assert imap.uid("STORE", str(uid), "+FLAGS", r"(\Seen)")[0] == "OK"
        assert imap.uid("COPY", str(other), "Archive")[0] == "NO"  # no such folder: TRYCREATE
        assert imap.create("Archive")[0] == "OK"
        assert imap.uid("COPY", str(other), "Archive")[0] == "OK"
        assert imap.uid("MOVE", str(uid), '"Relaydesk/Processed"')[0] == "OK"

    inbox = imap_server.list_messages("INBOX")
    assert [m.uid for m in inbox] == [other]
    assert not inbox[0].seen
    processed = imap_server.list_messages("Relaydesk/Processed")
    assert [m.raw for m in processed] == [raw_message(1)]
    assert r"\Seen" in processed[0].flags
    assert [m.raw for m in imap_server.list_messages("Archive")] == [raw_message(2)]
    assert {"INBOX", "Archive", "Relaydesk/Processed", "Sent", "Trash"} <= set(imap_server.folders())
    # Reading through the helpers changed nothing, and dovecot logged no error along the way.
    assert not imap_server.list_messages("INBOX")[0].seen
    log = imap_server.log_text()
    assert "Error" not in log
    assert "Fatal" not in log


def test_imap_deliver_makes_the_folder_and_accepts_email_messages(imap_server: ImapServer):
    message = EmailMessage()
    message["From"] = "dave@globex.example"
    message["To"] = "support@relaydesk.test"
    message["Subject"] = "Rechnung fehlt – bitte prüfen"
    message.set_content("Grüße aus Berlin\n")

    uid = imap_server.deliver(message, "Spam check", flags=[r"\Flagged"])

    [stored] = imap_server.list_messages("Spam check")
    assert stored.uid == uid
    assert stored.flags == {r"\Flagged", r"\Recent"}
    assert stored.message["Subject"] == "Rechnung fehlt – bitte prüfen"
    assert stored.message.get_content() == "Grüße aus Berlin\n"
    assert imap_server.list_messages("INBOX") == []


def test_imap_wrong_password_is_refused_and_does_not_slow_the_next_login(imap_server: ImapServer):
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap_server.connect(password="not-the-password")
    with pytest.raises(imaplib.IMAP4.error, match="AUTHENTICATIONFAILED"):
        imap_server.connect(user="nobody@relaydesk.test", password=imap_server.password)
    # No anvil penalty: this login is answered at once instead of after 2 s.
    with imap_server.connect(password=imap_server.password) as imap:
        assert imap.select("INBOX")[0] == "OK"


def test_imap_users_have_separate_mailboxes(imap_server: ImapServer):
    imap_server.add_user("billing@relaydesk.test", "billing-password")
    imap_server.deliver(raw_message(1), user="billing@relaydesk.test")

    with imap_server.connect(user="billing@relaydesk.test", password="billing-password") as imap:
        assert imap.select("INBOX") == ("OK", [b"1"])
    assert imap_server.list_messages() == []


def test_imap_implicit_tls_and_starttls_verify_the_test_certificate(imap_server: ImapServer):
    uid = imap_server.deliver(raw_message(1))
    context = imap_server.tls.client_context()

    with imaplib.IMAP4_SSL(imap_server.host, imap_server.tls_port, ssl_context=context, timeout=5) as imap:
        imap.login(imap_server.user, imap_server.password)
        imap.select("INBOX", readonly=True)
        assert uids(imap, "ALL") == [uid]
    with imaplib.IMAP4(imap_server.host, imap_server.port, timeout=5) as imap:
        assert "STARTTLS" in imap.capabilities
        imap.starttls(context)
        imap.login(imap_server.user, imap_server.password)

    # A client that trusts only the system CAs refuses the throwaway certificate.
    with pytest.raises(ssl.SSLCertVerificationError):
        imaplib.IMAP4_SSL(imap_server.host, imap_server.tls_port, ssl_context=ssl.create_default_context())
    assert "TLS" in imap_server.log_text()


# --- SMTP -------------------------------------------------------------------------------------


def test_smtp_captures_the_exact_bytes_and_envelope_without_auth(smtp_server: SmtpServer):
    raw = RAW + b".a line that starts with a dot survives dot-stuffing\r\n"
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        refused = client.sendmail(
            "support@relaydesk.test", ["carol@acme.example", "audit@relaydesk.test"], raw
        )
    assert refused == {}

    [mail] = smtp_server.messages
    assert mail.raw == raw
    assert mail.mail_from == "support@relaydesk.test"
    assert mail.rcpt_tos == ("carol@acme.example", "audit@relaydesk.test")
    assert mail.auth_login is None
    assert mail.tls is False
    assert mail.message["Subject"] == "Printer is down"
    assert mail.message.get_content().startswith("It stopped printing this morning.\n")


def test_smtp_send_message_with_auth_over_starttls(smtp_server: SmtpServer):
    message = EmailMessage()
    message["From"] = "Relaydesk Support <support@relaydesk.test>"
    message["To"] = "Dave Doe <dave@globex.example>"
    message["Subject"] = "Re: Rechnung fehlt [#1042]"
    message["In-Reply-To"] = "<printer-1@acme.example>"
    message.set_content("Hallo Dave,\n\ndie Rechnung ist unterwegs.\n")

    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.starttls(context=smtp_server.tls.client_context())
        client.login(smtp_server.user, smtp_server.password)
        client.send_message(message)

    [mail] = smtp_server.messages
    assert mail.auth_login == smtp_server.user
    assert mail.tls is True
    assert mail.rcpt_tos == ("dave@globex.example",)
    assert mail.message["Subject"] == "Re: Rechnung fehlt [#1042]"
    assert mail.message["In-Reply-To"] == "<printer-1@acme.example>"
    assert mail.message.get_content() == "Hallo Dave,\n\ndie Rechnung ist unterwegs.\n"


def test_smtp_auth_without_tls_and_a_wrong_password(smtp_server: SmtpServer):
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as refused:
            client.login(smtp_server.user, "wrong")
        assert refused.value.smtp_code == 535
        client.login(smtp_server.user, smtp_server.password)
        client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
    assert smtp_server.messages[0].auth_login == smtp_server.user
    assert smtp_server.messages[0].tls is False


def test_smtp_required_auth_refuses_anonymous_senders(smtp_server_factory: Callable[..., SmtpServer]):
    server = smtp_server_factory(auth_required=True)
    with smtplib.SMTP(server.host, server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
        assert refused.value.smtp_code == 530
        client.login(server.user, server.password)
        client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
    assert len(server.messages) == 1


def test_smtp_temporary_failure_then_success(smtp_server: SmtpServer):
    smtp_server.fail_next(1, code=451)
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPDataError) as failed:
            client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
        assert failed.value.smtp_code == 451
        client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)  # the retry

    assert [m.raw for m in smtp_server.messages] == [RAW]
    [rejection] = smtp_server.rejections
    assert (rejection.stage, rejection.code, rejection.rcpt_tos) == ("data", 451, ("carol@acme.example",))


def test_smtp_permanent_failures_at_each_stage(smtp_server: SmtpServer):
    smtp_server.fail_next(code=550, stage="data")
    smtp_server.fail_next(code=550, stage="rcpt", message="5.1.1 No such user")
    smtp_server.fail_next(code=553, stage="mail")
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as sender:
            client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
        assert sender.value.smtp_code == 553
        with pytest.raises(smtplib.SMTPRecipientsRefused) as recipients:
            client.sendmail("support@relaydesk.test", ["gone@acme.example"], RAW)
        assert recipients.value.recipients == {"gone@acme.example": (550, b"5.1.1 No such user")}
        with pytest.raises(smtplib.SMTPDataError) as data:
            client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
        assert data.value.smtp_code == 550
        client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)

    stages = [(r.stage, r.code) for r in smtp_server.rejections]
    assert stages == [("mail", 553), ("rcpt", 550), ("data", 550)]
    assert len(smtp_server.messages) == 1


def test_smtp_failing_until_cleared(smtp_server: SmtpServer):
    smtp_server.fail_next(None, code=451)
    for _ in range(3):
        with (
            smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client,
            pytest.raises(smtplib.SMTPDataError),
        ):
            client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
    smtp_server.clear_failures()
    with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
        client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
    assert len(smtp_server.rejections) == 3
    assert len(smtp_server.messages) == 1


def test_smtp_implicit_tls(smtp_server_factory: Callable[..., SmtpServer]):
    server = smtp_server_factory(implicit_tls=True)
    with smtplib.SMTP_SSL(server.host, server.port, context=server.tls.client_context(), timeout=5) as client:
        client.login(server.user, server.password)
        client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)
    assert server.messages[0].tls is True


def test_smtp_wait_for_mail_sent_from_another_thread(smtp_server: SmtpServer):
    def send() -> None:
        with smtplib.SMTP(smtp_server.host, smtp_server.port, timeout=5) as client:
            client.sendmail("support@relaydesk.test", ["carol@acme.example"], RAW)

    sender = threading.Thread(target=send)
    sender.start()
    [mail] = smtp_server.wait_for(1)
    sender.join()
    assert mail.raw == RAW
    with pytest.raises(AssertionError, match="expected 2 message"):
        smtp_server.wait_for(2, timeout=0.05)
