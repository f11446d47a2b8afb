"""Outbound mail end to end: replies and acknowledgements through the outbox to a real SMTP socket."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.core import mail as django_mail
from django.db import transaction
from django.utils import timezone

from relaydesk.core.errors import PermissionDenied, ValidationFailed
from relaydesk.customers.models import Contact, ContactEmail
from relaydesk.mail import delivery, outbox
from relaydesk.mail.credentials import encrypt
from relaydesk.mail.models import (
    AcknowledgementTemplate,
    Follower,
    InboundEmail,
    InboundSource,
    InboundStatus,
    Mailbox,
    MessageHeader,
    OutboundEmail,
    OutboundKind,
    OutboundStatus,
    Security,
)
from relaydesk.mail.parsing import parse_message
from relaydesk.mail.thread_refs import parse_own_message_id
from relaydesk.tickets.actions import NewAttachment, check_add_message
from relaydesk.tickets.models import Channel, Message, MessageKind, Ticket

if TYPE_CHECKING:
    from tests.conftest import World
    from tests.mailservers import CapturedMail, SmtpServer

pytest_plugins = ["tests.mailservers"]

CUSTOMER_ID = "printer-1@mail.acme.example"


# --- the world of these tests ----------------------------------------------------------------


def make_mailbox(server: SmtpServer | None, **fields: object) -> Mailbox:
    values: dict[str, object] = {
        "name": "Support",
        "address": "support@northwind.example",
        "display_name": "Northwind Support",
        "smtp_security": Security.NONE,
    }
    if server is not None:
        values.update(smtp_host=server.host, smtp_port=server.port)
    values.update(fields)
    return Mailbox.objects.create(**values)


def inbound_mail(
    *,
    subject: str = "Printer is down",
    sender: str = "Carol Customer <carol@acme.example>",
    message_id: str = CUSTOMER_ID,
    extra: str = "",
) -> bytes:
    return (
        f"From: {sender}\r\nTo: Northwind Support <support@northwind.example>\r\n"
        f"Subject: {subject}\r\nMessage-ID: <{message_id}>\r\n"
        "Date: Tue, 04 Mar 2025 09:12:00 -0600\r\n"
        f"{extra}Content-Type: text/plain; charset=utf-8\r\n\r\nIt stopped printing this morning.\r\n"
    ).encode()


def email_ticket(
    world: World, mailbox: Mailbox, *, reply_to: str = "carol@acme.example", message_id: str = CUSTOMER_ID
) -> Ticket:
    """A ticket as the inbound side leaves it: the customer's message with its Message-ID, the
    processed inbound row (where answers go)."""
    ticket = world.ticket(channel=Channel.EMAIL)
    first = ticket.messages.get()
    raw = inbound_mail(message_id=message_id)
    InboundEmail.objects.create(
        mailbox=mailbox,
        source=InboundSource.IMAP,
        dedupe_key=f"mb{mailbox.pk}:id:{message_id}",
        raw=raw,
        size=len(raw),
        header_message_id=message_id,
        from_address="carol@acme.example",
        reply_to=reply_to,
        subject=ticket.subject,
        status=InboundStatus.PROCESSED,
        ticket=ticket,
        message=first,
    )
    MessageHeader.objects.create(message=first, ticket=ticket, header_message_id=message_id)
    return ticket


def reply(
    world: World, ticket: Ticket, text: str = "We are sending a technician.", **kwargs: object
) -> Message:
    return check_add_message(world.alice, ticket.pk, kind=MessageKind.REPLY, body_text=text, **kwargs)  # type: ignore[arg-type]


def system_messages(ticket: Ticket) -> list[str]:
    return list(ticket.messages.filter(kind=MessageKind.SYSTEM).values_list("body_text", flat=True))


def parts(sent: CapturedMail) -> tuple[EmailMessage, str, str]:
    message = sent.message
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None
    assert html is not None
    return message, text.get_content(), html.get_content()


# --- agent replies ---------------------------------------------------------------------------


def test_reply_goes_out_as_one_threaded_mail_with_both_parts_attachment_and_quote(
    world, smtp_server, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(smtp_server)
    ticket = email_ticket(world, mailbox)
    Follower.objects.create(ticket=ticket, address="dan@acme.example", name="Dan Dev")
    Follower.objects.create(ticket=ticket, address="CAROL@acme.example")  # the To already: no copy
    Follower.objects.create(ticket=ticket, address="support@northwind.example")  # ours: no copy
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(
            world,
            ticket,
            attachments=[NewAttachment("driver.pdf", "application/pdf", b"%PDF-1.4 driver")],
        )

    [sent] = smtp_server.messages
    row = OutboundEmail.objects.get()
    own_id = MessageHeader.objects.get(message=message).header_message_id
    assert (row.status, row.attempts, row.kind, row.message_id) == (
        OutboundStatus.SENT,
        1,
        "reply",
        message.pk,
    )
    assert row.header_message_id == own_id
    assert sent.mail_from == "support@northwind.example"
    assert sent.rcpt_tos == ("carol@acme.example", "dan@acme.example")
    email, text, html = parts(sent)
    assert email["From"] == "Northwind Support <support@northwind.example>"
    assert email["To"] == "Carol Customer <carol@acme.example>"
    assert email["Cc"] == "Dan Dev <dan@acme.example>"
    assert email["Subject"] == f"Re: Printer is down [#{ticket.pk}]"
    assert email["Message-ID"] == f"<{own_id}>"
    assert email["In-Reply-To"] == f"<{CUSTOMER_ID}>"
    assert email["References"] == f"<{CUSTOMER_ID}>"
    assert email["X-Loop"] == "support@northwind.example"
    assert email["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert email["Auto-Submitted"] is None  # a person wrote it (RFC 3834)
    assert email.get_content_type() == "multipart/mixed"
    assert text.startswith("We are sending a technician.\n\nOn ")
    assert "Carol Customer wrote:\n> It stopped printing this morning.\n" in text
    assert "<p>We are sending a technician.</p>" in html
    assert '<blockquote type="cite"' in html
    assert "It stopped printing this morning." in html
    [attachment] = list(email.iter_attachments())
    assert (attachment.get_filename(), attachment.get_content()) == ("driver.pdf", b"%PDF-1.4 driver")
    # Our id is signed for this ticket and message: the customer's answer threads back.
    own = parse_own_message_id(own_id, settings.MAIL_ID_DOMAIN, settings.SECRET_KEY.encode())
    assert own is not None
    assert (own.ticket_id, own.message_id) == (ticket.pk, message.pk)


def test_second_reply_references_the_whole_thread_newest_last(
    world, smtp_server, django_capture_on_commit_callbacks
):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    with django_capture_on_commit_callbacks(execute=True):
        first = reply(world, ticket, "First answer.")
    first_id = MessageHeader.objects.get(message=first).header_message_id
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket, "Second answer.")
    second = smtp_server.messages[1].message
    assert second["In-Reply-To"] == f"<{CUSTOMER_ID}>"  # the customer message it answers
    # Folded onto the next line when long (legal FWS): compare the ids.
    assert second["References"].split() == [f"<{CUSTOMER_ID}>", f"<{first_id}>"]
    _email, text, _html = parts(smtp_server.messages[1])
    assert "> It stopped printing this morning." in text  # still the customer's message


def test_reply_goes_to_reply_to_and_copies_the_requester_when_someone_else_wrote(
    world, smtp_server, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(smtp_server)
    ticket = email_ticket(world, mailbox, reply_to="carol.home@acme.example")
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    assert smtp_server.messages[0].rcpt_tos == ("carol.home@acme.example",)  # Reply-To respected

    colleague = Contact.objects.create(name="Erin Colleague")
    ContactEmail.objects.create(contact=colleague, address="erin@acme.example", is_primary=True)
    later = Message.objects.create(
        ticket=ticket,
        kind=MessageKind.CUSTOMER,
        direction="in",
        author_contact=colleague,
        body_text="Me too.",
    )
    InboundEmail.objects.create(
        mailbox=mailbox,
        source=InboundSource.IMAP,
        dedupe_key="second",
        raw=b"x",
        size=1,
        reply_to="erin@acme.example",
        status=InboundStatus.PROCESSED,
        ticket=ticket,
        message=later,
    )
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    latest = smtp_server.messages[1]
    assert latest.message["To"] == "Erin Colleague <erin@acme.example>"
    assert latest.message["Cc"] == "Carol Customer <carol@acme.example>"


def test_internal_note_never_leaves(world, smtp_server, django_capture_on_commit_callbacks):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    with django_capture_on_commit_callbacks(execute=True):
        note = check_add_message(
            world.alice, ticket.pk, kind=MessageKind.NOTE, body_text="Driver bug, see KB-12."
        )
    assert not OutboundEmail.objects.exists()
    assert not MessageHeader.objects.filter(message=note).exists()
    assert smtp_server.messages == []
    assert outbox.do_queue_reply(ticket, note) is None


def test_no_email_route_queues_nothing(world, smtp_server, django_capture_on_commit_callbacks):
    phone_only = Contact.objects.create(name="Frank Phone")
    ticket = world.ticket(channel=Channel.PHONE, requester=phone_only)
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(world, ticket, "Called back.")  # no mailbox at all
    make_mailbox(smtp_server)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket, "Called back again.")  # a mailbox, but no address for Frank
    chat = world.ticket(channel=Channel.CHAT)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, chat, "Answered in the chat.")  # chat answers in its own channel
    assert not OutboundEmail.objects.exists()
    assert not MessageHeader.objects.filter(message=message).exists()
    assert smtp_server.messages == []


def test_phone_ticket_with_an_email_uses_the_first_active_smtp_mailbox(
    world, smtp_server, django_capture_on_commit_callbacks
):
    make_mailbox(None, name="No SMTP", address="nosmtp@northwind.example")
    make_mailbox(smtp_server, name="Off", address="off@northwind.example", is_active=False)
    make_mailbox(smtp_server, name="Billing", address="billing@northwind.example", display_name="")
    ticket = world.ticket(channel=Channel.PHONE)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket, "As discussed on the phone.")
    [sent] = smtp_server.messages
    assert sent.message["From"] == "billing@northwind.example"
    assert sent.rcpt_tos == ("carol@acme.example",)
    assert sent.message["In-Reply-To"] is None  # nothing to thread under
    assert sent.message["References"] is None
    _email, text, _html = parts(sent)
    assert "> It stopped printing this morning." in text  # the first message is still quoted


def test_mailbox_without_smtp_uses_the_configured_email_backend_and_keeps_headers(
    world, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(None)
    ticket = email_ticket(world, mailbox)
    django_mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(world, ticket)
    [sent] = django_mail.outbox
    assert isinstance(sent, delivery.PrebuiltEmailMessage)
    parsed = sent.parsed
    own_id = MessageHeader.objects.get(message=message).header_message_id
    assert parsed["Message-ID"] == f"<{own_id}>"
    assert parsed["In-Reply-To"] == f"<{CUSTOMER_ID}>"
    assert parsed["X-Loop"] == "support@northwind.example"
    assert sent.recipients() == ["carol@acme.example"]
    assert OutboundEmail.objects.get().status == OutboundStatus.SENT


def test_django_smtp_backend_sends_our_bytes_unchanged(
    world, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    ticket = email_ticket(world, make_mailbox(None))
    with django_capture_on_commit_callbacks(execute=True):
        message = reply(world, ticket)
    [sent] = smtp_server.messages
    own_id = MessageHeader.objects.get(message=message).header_message_id
    assert sent.message["Message-ID"] == f"<{own_id}>"  # not one Django made up
    assert sent.message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
    assert sent.mail_from == "support@northwind.example"


@pytest.mark.parametrize("security", [Security.STARTTLS, Security.TLS])
def test_tls_and_login_with_the_encrypted_password(
    world, smtp_server_factory, monkeypatch, security, django_capture_on_commit_callbacks
):
    server = smtp_server_factory(auth_required=True, implicit_tls=security == Security.TLS)
    monkeypatch.setattr(delivery, "tls_context", server.tls.client_context)
    mailbox = make_mailbox(
        server,
        smtp_host="localhost",  # the certificate's name: hostname checks stay on
        smtp_security=security,
        smtp_username=server.user,
        smtp_password_encrypted=encrypt(server.password),
    )
    ticket = email_ticket(world, mailbox)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    [sent] = server.messages
    assert (sent.tls, sent.auth_login) == (True, server.user)


def test_wrong_smtp_password_retries_instead_of_failing(
    world, smtp_server_factory, django_capture_on_commit_callbacks
):
    server = smtp_server_factory(auth_required=True)
    mailbox = make_mailbox(server, smtp_username=server.user, smtp_password_encrypted=encrypt("wrong"))
    ticket = email_ticket(world, mailbox)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    row = OutboundEmail.objects.get()
    assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 1)
    assert "refused the mailbox's login (535" in row.last_error
    assert server.messages == []


# --- acknowledgements ------------------------------------------------------------------------


def acknowledge(
    world: World, mailbox: Mailbox, raw: bytes, *, requester: Contact | None = None
) -> OutboundEmail | None:
    parsed = parse_message(raw)
    ticket = world.ticket(channel=Channel.EMAIL, requester=requester or world.carol, language=None)
    inbound = InboundEmail.objects.create(
        mailbox=mailbox,
        source=InboundSource.WEBHOOK,
        dedupe_key=f"ack-{ticket.pk}",
        raw=raw,
        size=len(raw),
        header_message_id=parsed.message_id or "",
        reply_to=(parsed.reply_to or [parsed.from_address or ""])[0],
        status=InboundStatus.PROCESSED,
        ticket=ticket,
        message=ticket.messages.get(),
    )
    with transaction.atomic():
        return outbox.do_queue_acknowledgement(ticket, inbound=inbound, parsed=parsed)


def test_acknowledgement_uses_the_language_template_and_says_it_is_automatic(
    world, smtp_server, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(smtp_server)
    AcknowledgementTemplate.objects.create(
        language="de",
        subject="Wir haben Ihre Anfrage: {subject}",
        body="Hallo {name},\nIhre Nummer ist {number}.",
    )
    AcknowledgementTemplate.objects.create(language="en", subject="Got it", body="Hi {name}")
    raw = inbound_mail(sender="Dave Doe <dave@globex.example>", subject="Drucker\r\n kaputt")
    with django_capture_on_commit_callbacks(execute=True):
        row = acknowledge(world, mailbox, raw, requester=world.dave)
    assert row is not None
    assert row.kind == OutboundKind.ACKNOWLEDGEMENT
    [sent] = smtp_server.messages
    email, text, html = parts(sent)
    ticket = row.ticket
    assert email["Subject"] == f"Wir haben Ihre Anfrage: {ticket.subject} [#{ticket.pk}]"
    assert text == f"Hallo Dave Doe,\nIhre Nummer ist {ticket.pk}.\n"
    assert f"Ihre Nummer ist {ticket.pk}." in html
    assert email["To"] == "Dave Doe <dave@globex.example>"
    assert email["Auto-Submitted"] == "auto-replied"
    assert email["X-Auto-Response-Suppress"] == "All"
    assert email["Precedence"] == "auto_reply"
    assert email["X-Loop"] == "support@northwind.example"
    assert email["In-Reply-To"] == f"<{CUSTOMER_ID}>"
    assert email["Message-ID"] == f"<{row.header_message_id}>"
    assert parse_own_message_id(row.header_message_id, settings.MAIL_ID_DOMAIN, settings.SECRET_KEY.encode())
    # A second call (a retried inbound job) queues nothing new.
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        again = outbox.do_queue_acknowledgement(
            ticket, inbound=ticket.inbound_emails.get(), parsed=parse_message(raw)
        )
    assert again == row
    assert OutboundEmail.objects.count() == 1
    assert len(smtp_server.messages) == 1


def test_acknowledgement_falls_back_to_english_then_to_the_built_in_text(
    world, smtp_server, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(smtp_server)
    AcknowledgementTemplate.objects.create(
        language="en", subject="Got it: {subject}", body="Hi {name}, #{number}"
    )
    with django_capture_on_commit_callbacks(execute=True):
        german = acknowledge(world, mailbox, inbound_mail(sender="dave@globex.example"), requester=world.dave)
    AcknowledgementTemplate.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        built_in = acknowledge(world, mailbox, inbound_mail(message_id="second@mail.acme.example"))
    assert german is not None
    assert built_in is not None
    first, second = smtp_server.messages
    assert first.message["Subject"] == f"Got it: Printer is down [#{german.ticket_id}]"
    assert parts(first)[1] == f"Hi Dave Doe, #{german.ticket_id}\n"
    assert second.message["Subject"] == f"We received your request: Printer is down [#{built_in.ticket_id}]"
    assert f"opened request #{built_in.ticket_id} (Printer is down)" in parts(second)[1]


def test_template_values_with_line_breaks_are_collapsed(
    world, smtp_server, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(smtp_server)
    AcknowledgementTemplate.objects.create(language="en", subject="{name}: {subject}", body="Hello {name}")
    Contact.objects.filter(pk=world.carol.pk).update(name="Carol\r\nBcc: evil@example.com")
    world.carol.refresh_from_db()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        row = acknowledge(world, mailbox, inbound_mail(sender="carol@acme.example"))  # no display name
    assert row is not None
    Ticket.objects.filter(pk=row.ticket_id).update(subject="Printer\nX-Evil: 1")
    row.subject = outbox.render_acknowledgement(Ticket.objects.get(pk=row.ticket_id), name="")[0]
    row.save(update_fields=["subject"])
    for callback in callbacks:
        callback()
    [sent] = smtp_server.messages
    assert sent.rcpt_tos == ("carol@acme.example",)
    assert sent.message["Bcc"] is None
    assert sent.message["X-Evil"] is None
    assert sent.message["Subject"] == f"Carol Bcc: evil@example.com: Printer X-Evil: 1 [#{row.ticket_id}]"
    assert parts(sent)[1] == "Hello Carol Bcc: evil@example.com\n"


@pytest.mark.parametrize(
    ("raw_extra", "mailbox_fields"),
    [
        ("Auto-Submitted: auto-replied\r\n", {}),
        ("Precedence: bulk\r\n", {}),
        ("", {"send_acknowledgement": False}),
        ("", {"is_active": False}),
    ],
)
def test_no_acknowledgement_to_machines_or_from_quiet_mailboxes(
    world, smtp_server, raw_extra, mailbox_fields
):
    mailbox = make_mailbox(smtp_server, **mailbox_fields)
    assert acknowledge(world, mailbox, inbound_mail(extra=raw_extra)) is None
    assert not OutboundEmail.objects.exists()


def test_no_acknowledgement_to_our_own_address(world, smtp_server):
    mailbox = make_mailbox(smtp_server)
    raw = inbound_mail(sender="Support <support+t1.abc@northwind.example>")
    assert acknowledge(world, mailbox, raw) is None


# --- retries and failures --------------------------------------------------------------------


def test_temporary_failure_retries_with_backoff_then_sends(
    world, smtp_server, django_capture_on_commit_callbacks
):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    smtp_server.fail_next(code=451)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    row = OutboundEmail.objects.get()
    assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 1)
    assert row.last_error.startswith("451 4.3.0 Temporary failure")
    assert row.next_attempt_at - row.created_at >= timedelta(minutes=1)
    assert smtp_server.messages == []

    assert outbox.send_due(now=row.next_attempt_at - timedelta(seconds=1)).handled == 0  # not due yet
    result = outbox.send_due(now=row.next_attempt_at)
    assert (result.sent, result.retrying, result.failed) == (1, 0, 0)
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (OutboundStatus.SENT, 2, "")
    [sent] = smtp_server.messages
    assert sent.message["Message-ID"] == f"<{row.header_message_id}>"
    assert [r.code for r in smtp_server.rejections] == [451]
    assert system_messages(ticket) == []


def test_backoff_doubles_until_the_attempts_run_out(
    world, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_SEND_ATTEMPTS = 4
    ticket = email_ticket(world, make_mailbox(smtp_server))
    smtp_server.fail_next(None, code=421, stage="mail")
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)  # attempt 1
    row = OutboundEmail.objects.get()
    waits = []
    for _attempt in (2, 3):
        attempted_at = row.next_attempt_at
        assert outbox.send_due(now=attempted_at).retrying == 1
        row.refresh_from_db()
        waits.append(row.next_attempt_at - attempted_at)
    assert waits == [timedelta(minutes=2), timedelta(minutes=4)]
    assert outbox.send_due(now=row.next_attempt_at).failed == 1  # attempt 4: the last one
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.FAILED, 4)
    assert [r.code for r in smtp_server.rejections] == [421] * 4
    [note] = system_messages(ticket)
    assert note.startswith(
        "The email reply to Carol Customer <carol@acme.example> could not be sent after 4 attempts"
    )
    assert "421" in note


def test_first_retry_waits_one_minute(world, smtp_server, django_capture_on_commit_callbacks):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    smtp_server.fail_next(code=451)
    now = timezone.now()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reply(world, ticket)
    assert len(callbacks) == 1
    row = OutboundEmail.objects.get()
    assert outbox.send_outbound(row.pk, now=now + timedelta(seconds=5)) == OutboundStatus.QUEUED
    row.refresh_from_db()
    assert row.next_attempt_at == now + timedelta(seconds=5) + timedelta(minutes=1)
    assert [outbox.backoff(n) for n in (1, 2, 3, 4)] == [timedelta(minutes=m) for m in (1, 2, 4, 8)]


def test_permanent_failure_fails_at_once_and_tells_the_ticket(
    world, smtp_server, django_capture_on_commit_callbacks
):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    smtp_server.fail_next(code=550, message="5.1.1 No such user")
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    row = OutboundEmail.objects.get()
    assert (row.status, row.attempts) == (OutboundStatus.FAILED, 1)
    assert row.last_error == "550 5.1.1 No such user"
    assert smtp_server.messages == []
    assert system_messages(ticket) == [
        "The email reply to Carol Customer <carol@acme.example> could not be delivered: "
        "550 5.1.1 No such user"
    ]
    assert outbox.send_due(now=timezone.now() + timedelta(days=1)).handled == 0  # never again


def test_refused_copy_recipient_is_reported_but_the_mail_is_sent(
    world, smtp_server, django_capture_on_commit_callbacks
):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    Follower.objects.create(ticket=ticket, address="gone@acme.example")
    smtp_server.fail_next(code=550, stage="rcpt")  # the first RCPT is carol's; the second gets through
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    row = OutboundEmail.objects.get()
    assert row.status == OutboundStatus.SENT
    assert smtp_server.messages[0].rcpt_tos == ("gone@acme.example",)
    [note] = system_messages(ticket)
    assert note.startswith("The email was sent, but these recipients were refused: carol@acme.example: 550")


def test_connection_refused_is_temporary(world, django_capture_on_commit_callbacks):
    from tests.mailservers import free_port

    ticket = email_ticket(world, make_mailbox(None, smtp_host="127.0.0.1", smtp_port=free_port()))
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    row = OutboundEmail.objects.get()
    assert (row.status, row.attempts) == (OutboundStatus.QUEUED, 1)
    assert row.last_error.startswith("ConnectionRefusedError")


def test_claim_is_exclusive_and_an_expired_lease_is_reclaimed(world, smtp_server):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    with transaction.atomic():
        message = reply(world, ticket)  # no on-commit capture: nothing sends it
    row = OutboundEmail.objects.get(message=message)
    now = timezone.now()
    assert outbox.claim(row.pk, now=now) is True
    assert outbox.claim(row.pk, now=now) is False  # another worker holds it
    assert outbox.claim(row.pk, now=now + outbox.LEASE - timedelta(seconds=1)) is False
    assert outbox.send_due(now=now + timedelta(minutes=1)).handled == 0
    assert outbox.send_outbound(row.pk, now=now + outbox.LEASE) == OutboundStatus.SENT  # lease over
    row.refresh_from_db()
    assert (row.status, row.attempts) == (OutboundStatus.SENT, 2)
    assert outbox.send_outbound(row.pk, now=now + timedelta(days=1)) is None  # sent is final
    assert len(smtp_server.messages) == 1


def test_a_row_a_dying_worker_left_too_often_fails_instead_of_looping(world, smtp_server, settings):
    settings.MAIL_SEND_ATTEMPTS = 2
    ticket = email_ticket(world, make_mailbox(smtp_server))
    with transaction.atomic():
        reply(world, ticket)
    row = OutboundEmail.objects.get()
    now = timezone.now()
    OutboundEmail.objects.filter(pk=row.pk).update(
        status=OutboundStatus.SENDING, attempts=2, next_attempt_at=now
    )
    assert outbox.send_outbound(row.pk, now=now) == OutboundStatus.FAILED
    assert smtp_server.messages == []
    [note] = system_messages(ticket)
    assert "could not be sent after 2 attempts" in note


# --- the circuit breaker ---------------------------------------------------------------------


def test_circuit_breaker_holds_mail_on_a_busy_ticket_until_an_admin_releases_it(
    world, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_MAX_PER_TICKET_HOUR = 2
    ticket = email_ticket(world, make_mailbox(smtp_server))
    for number in range(3):
        with django_capture_on_commit_callbacks(execute=True):
            reply(world, ticket, f"Answer {number}.")
    assert len(smtp_server.messages) == 2
    held = OutboundEmail.objects.get(status=OutboundStatus.HELD)
    assert held.last_error == (
        "Held by the circuit breaker: 2 emails were sent on this ticket in the last hour "
        "(the limit is 2 an hour)."
    )
    [note] = system_messages(ticket)
    assert note.startswith(
        "The email reply to carol@acme.example was not sent: 2 emails were sent on this ticket"
    )
    assert outbox.send_due(now=timezone.now() + timedelta(days=1)).handled == 0  # held is not due

    with pytest.raises(PermissionDenied):
        outbox.check_release_held(world.sam, held.pk)
    held.refresh_from_db()
    assert held.status == OutboundStatus.HELD
    with django_capture_on_commit_callbacks(execute=True):
        released = outbox.check_release_held(world.ada, held.pk)
    assert released.status == OutboundStatus.QUEUED  # as it was at commit; then sent
    held.refresh_from_db()
    assert held.status == OutboundStatus.SENT
    assert [m.message["Message-ID"] for m in smtp_server.messages][-1] == f"<{held.header_message_id}>"
    assert (
        system_messages(ticket)[-1]
        == f"Ada Admin released the held email “{held.subject}”; it is being sent."
    )
    with pytest.raises(ValidationFailed):
        outbox.check_release_held(world.ada, held.pk)


def test_circuit_breaker_holds_mail_to_a_flooded_recipient_across_tickets(
    world, smtp_server, settings, django_capture_on_commit_callbacks
):
    settings.MAIL_MAX_PER_RECIPIENT_HOUR = 2
    mailbox = make_mailbox(smtp_server)
    tickets = [email_ticket(world, mailbox, message_id=f"m{n}@mail.acme.example") for n in range(3)]
    for ticket in tickets:
        with django_capture_on_commit_callbacks(execute=True):
            reply(world, ticket)
    assert len(smtp_server.messages) == 2
    held = OutboundEmail.objects.get(status=OutboundStatus.HELD)
    assert held.ticket_id == tickets[2].pk
    assert "2 emails were sent to carol@acme.example in the last hour" in held.last_error
    # Another recipient is not affected (the address is matched whole, not as a substring).
    other = Contact.objects.create(name="Lol")
    ContactEmail.objects.create(contact=other, address="ol@acme.example", is_primary=True)
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, world.ticket(channel=Channel.PHONE, requester=other))
    assert smtp_server.messages[-1].rcpt_tos == ("ol@acme.example",)


def test_only_the_last_hour_counts_towards_the_breaker(world, smtp_server, settings):
    settings.MAIL_MAX_PER_RECIPIENT_HOUR = 2
    mailbox = make_mailbox(smtp_server)
    tickets = [email_ticket(world, mailbox, message_id=f"m{n}@mail.acme.example") for n in range(5)]
    for ticket in tickets[:2]:
        with transaction.atomic():
            reply(world, ticket)
    OutboundEmail.objects.update(created_at=timezone.now() - timedelta(hours=1, seconds=1))
    for ticket in tickets[2:]:
        with transaction.atomic():
            reply(world, ticket)
    statuses = list(OutboundEmail.objects.order_by("id").values_list("status", flat=True))
    assert statuses == ["queued", "queued", "queued", "queued", "held"]


def test_failed_and_held_mail_do_not_count_towards_the_breaker(world, smtp_server, settings):
    settings.MAIL_MAX_PER_TICKET_HOUR = 1
    ticket = email_ticket(world, make_mailbox(smtp_server))
    with transaction.atomic():
        reply(world, ticket)
    OutboundEmail.objects.update(status=OutboundStatus.FAILED)
    with transaction.atomic():
        reply(world, ticket)
    assert list(OutboundEmail.objects.values_list("status", flat=True)) == ["failed", "queued"]


# --- header injection ------------------------------------------------------------------------


def test_line_breaks_in_subject_display_name_and_follower_never_make_headers(
    world, smtp_server, django_capture_on_commit_callbacks
):
    mailbox = make_mailbox(smtp_server, display_name="Northwind\r\nBcc: evil@example.com")
    ticket = email_ticket(world, mailbox)
    Ticket.objects.filter(pk=ticket.pk).update(subject="Printer\r\nBcc: evil@example.com")
    Follower.objects.create(ticket=ticket, address="dan@acme.example\r\nBcc: evil@example.com")
    Contact.objects.filter(pk=world.carol.pk).update(name="Carol\nBcc: evil@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    [sent] = smtp_server.messages
    assert sent.rcpt_tos == ("carol@acme.example",)
    assert sent.message["Bcc"] is None
    assert sent.message["Cc"] is None
    assert sent.message["Subject"] == f"Re: Printer Bcc: evil@example.com [#{ticket.pk}]"
    assert sent.message["From"].addresses[0].display_name == "Northwind Bcc: evil@example.com"
    assert b"\r\nBcc:" not in sent.raw


def test_a_customer_address_that_cannot_take_mail_is_a_clear_error_and_nothing_is_written(world, smtp_server):
    make_mailbox(smtp_server)
    ticket = world.ticket(channel=Channel.PHONE)
    ContactEmail.objects.filter(contact=world.carol).update(
        address="carol@acme.example\r\nBcc: evil@example.com"
    )
    with pytest.raises(ValidationFailed, match="cannot receive mail"):
        reply(world, ticket)
    assert ticket.messages.count() == 1
    assert not OutboundEmail.objects.exists()


def test_the_api_answers_422_not_500_for_an_unusable_customer_address(world, smtp_server):
    from tests.api.conftest import ApiClient, token_for

    make_mailbox(smtp_server)
    ticket = world.ticket(channel=Channel.PHONE)
    ContactEmail.objects.filter(contact=world.carol).update(address="carol@acme.example\nBcc: x@y.example")
    response = ApiClient(token_for(world.alice)).post(
        f"/tickets/{ticket.pk}/messages", {"kind": "reply", "body": "Hello"}
    )
    assert response.status_code == 422
    assert "cannot receive mail" in response.content.decode()
    assert ticket.messages.count() == 1


def test_a_row_that_cannot_be_built_fails_permanently_without_crashing(world, smtp_server):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    with transaction.atomic():
        reply(world, ticket)
    row = OutboundEmail.objects.get()
    OutboundEmail.objects.filter(pk=row.pk).update(to=["carol@acme.example\r\nBcc: evil@example.com"])
    assert outbox.send_outbound(row.pk) == OutboundStatus.FAILED
    row.refresh_from_db()
    assert row.last_error.startswith("The email could not be built:")
    assert smtp_server.messages == []


def test_smtp_errors_are_classified(world):
    assert delivery.classify(smtplib.SMTPDataError(451, b"later")).permanent is False
    assert delivery.classify(smtplib.SMTPDataError(554, b"no")).permanent is True
    assert delivery.classify(smtplib.SMTPSenderRefused(553, b"no", "a@b")).permanent is True
    assert delivery.classify(smtplib.SMTPServerDisconnected("gone")).permanent is False
    assert delivery.classify(TimeoutError("timed out")).permanent is False
    mixed = smtplib.SMTPRecipientsRefused({"a@x": (550, b"no"), "b@x": (451, b"later")})
    assert delivery.classify(mixed).permanent is False


# --- jobs and loops --------------------------------------------------------------------------


def test_the_drain_is_a_periodic_task_every_minute_and_sends_what_is_due(world, smtp_server):
    from datetime import datetime

    from huey.contrib.djhuey import HUEY

    from relaydesk.mail.outbox_tasks import send_due_outbound_email

    for minute in (0, 17, 59):
        due = HUEY.read_periodic(datetime(2025, 6, 2, 9, minute))
        assert any(isinstance(task, send_due_outbound_email.task_class) for task in due)
    ticket = email_ticket(world, make_mailbox(smtp_server))
    with transaction.atomic():
        reply(world, ticket)  # its after-commit job never runs here
    send_due_outbound_email.call_local()
    assert OutboundEmail.objects.get().status == OutboundStatus.SENT
    assert len(smtp_server.messages) == 1


def test_our_reply_coming_back_is_recognised_as_our_own_mail(
    world, smtp_server, django_capture_on_commit_callbacks
):
    from relaydesk.mail.loops import is_automatic

    ticket = email_ticket(world, make_mailbox(smtp_server))
    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    bounced_back = parse_message(smtp_server.messages[0].raw)
    assert is_automatic(bounced_back, own_message_id_domain=settings.MAIL_ID_DOMAIN) == "our own Message-ID"


def test_query_budget_of_queueing_a_reply(world, smtp_server, django_assert_num_queries):
    ticket = email_ticket(world, make_mailbox(smtp_server))
    Follower.objects.create(ticket=ticket, address="dan@acme.example")
    message = Message.objects.create(
        ticket=ticket, kind=MessageKind.REPLY, direction="out", author_user=world.alice, body_text="Hi"
    )
    ticket = Ticket.objects.get(pk=ticket.pk)
    # mailboxes, the ticket's inbound rows, followers; thread ids (headers, acks); the header;
    # the breaker (boundary, counts); the row.
    with django_assert_num_queries(9):
        assert outbox.do_queue_reply(ticket, message) is not None
    phone = world.ticket(channel=Channel.PHONE, requester=Contact.objects.create(name="No Email"))
    phone_reply = Message.objects.create(
        ticket=phone, kind=MessageKind.REPLY, direction="out", author_user=world.alice, body_text="Hi"
    )
    phone = Ticket.objects.get(pk=phone.pk)
    # No email route: mailboxes, inbound rows, then the requester and their addresses.
    with django_assert_num_queries(4):
        assert outbox.do_queue_reply(phone, phone_reply) is None


# --- with the inbound side -------------------------------------------------------------------


def test_a_whole_conversation_by_email_threads_both_ways(
    world, smtp_server, django_capture_on_commit_callbacks
):
    from relaydesk.mail.intake import store_raw
    from relaydesk.mail.processing import process_inbound

    mailbox = make_mailbox(smtp_server, team=world.americas)
    first_row, _ = store_raw(inbound_mail(), mailbox=mailbox, source=InboundSource.WEBHOOK)
    with django_capture_on_commit_callbacks(execute=True):
        outcome = process_inbound(first_row.pk)
    assert outcome.created_ticket
    assert outcome.ticket_id is not None
    ticket = Ticket.objects.get(pk=outcome.ticket_id)
    [ack] = smtp_server.messages
    assert ack.message["Auto-Submitted"] == "auto-replied"
    assert ack.message["In-Reply-To"] == f"<{CUSTOMER_ID}>"

    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket)
    ours = smtp_server.messages[1].message
    assert ours["In-Reply-To"] == f"<{CUSTOMER_ID}>"
    assert ours["References"].split() == [f"<{CUSTOMER_ID}>", ack.message["Message-ID"]]

    # The customer answers our reply (their client cites our Message-ID): same ticket, no new ack.
    answer = inbound_mail(
        subject="Re: Printer is down",
        message_id="printer-2@mail.acme.example",
        extra=f"In-Reply-To: {ours['Message-ID']}\r\nReferences: <{CUSTOMER_ID}> {ours['Message-ID']}\r\n",
    )
    answer_row, _ = store_raw(answer, mailbox=mailbox, source=InboundSource.WEBHOOK)
    with django_capture_on_commit_callbacks(execute=True):
        threaded = process_inbound(answer_row.pk)
    assert (threaded.ticket_id, threaded.created_ticket) == (ticket.pk, False)
    assert len(smtp_server.messages) == 2

    with django_capture_on_commit_callbacks(execute=True):
        reply(world, ticket, "Good to hear.")
    last = smtp_server.messages[2].message
    assert last["In-Reply-To"] == "<printer-2@mail.acme.example>"
    assert last["References"].split() == [
        f"<{CUSTOMER_ID}>",
        ack.message["Message-ID"],
        ours["Message-ID"],
        "<printer-2@mail.acme.example>",
    ]
    assert last["To"] == "Carol Customer <carol@acme.example>"
