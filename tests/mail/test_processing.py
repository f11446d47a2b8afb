"""process_inbound: new tickets, threading, loops, bounces, followers, attachments, quarantine, reprocess;
process_inbound_many: messages stored together processed together, with the outcomes of one at a time."""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any, cast

import pytest
from django.conf import settings
from django.db import DatabaseError, InterfaceError, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from huey.contrib.djhuey import HUEY
from pytest_django.fixtures import Settings as SettingsWrapper

from relaydesk.accounts.models import User
from relaydesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from relaydesk.customers.models import Contact, ContactEmail
from relaydesk.mail import outbox, processing
from relaydesk.mail.intake import store_raw
from relaydesk.mail.intake_tasks import (
    process_inbound_email,
    process_inbound_emails,
    process_stalled_inbound_email,
)
from relaydesk.mail.models import Follower, InboundEmail, InboundStatus, Mailbox, MessageHeader
from relaydesk.mail.parsing import ParsedMail
from relaydesk.mail.processing import (
    Outcome,
    check_reprocess,
    pending_inbound,
    process_inbound,
    process_inbound_many,
)
from relaydesk.mail.thread_refs import make_message_id, make_reply_address
from relaydesk.tickets.actions import check_merge_ticket, do_change_ticket
from relaydesk.tickets.models import Channel, EventKind, Message, MessageKind, Status, Ticket, TicketEvent
from tests.conftest import World

pytestmark = pytest.mark.django_db

QUOTE = "\n\nOn Mon, 1 Jan 2024 at 10:00, Support <support@example.com> wrote:\n"
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)


def mail(
    *,
    sender: str = "Carol Customer <carol@acme.example>",
    to: str = "Support <support@example.com>",
    subject: str = "Printer is down",
    message_id: str | None = "<m1@acme.example>",
    text: str = "It stopped printing this morning.",
    html: str | None = None,
    headers: dict[str, str] | None = None,
    attachments: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    inline: list[tuple[str, bytes]] = (),  # type: ignore[assignment]  # (content id, png bytes)
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    if message_id:
        msg["Message-ID"] = message_id
    for name, value in (headers or {}).items():
        msg[name] = value
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
        for content_id, data in inline:
            html_part = cast(EmailMessage, msg.get_payload()[1])  # type: ignore[index]
            html_part.add_related(data, "image", "png", cid=f"<{content_id}>")
    for filename, content_type, data in attachments:
        maintype, subtype = content_type.split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
    return msg.as_bytes()


@dataclass
class Acks:
    calls: list[tuple[Ticket, InboundEmail, ParsedMail]]


@pytest.fixture
def acks(monkeypatch: pytest.MonkeyPatch) -> Acks:
    """The outbox is another engineer's module: record the acknowledgements asked of it."""
    recorded = Acks(calls=[])

    def record(ticket: Ticket, *, inbound: InboundEmail, parsed: ParsedMail) -> None:
        recorded.calls.append((ticket, inbound, parsed))

    monkeypatch.setattr(outbox, "do_queue_acknowledgement", record)
    return recorded


@pytest.fixture
def mailbox(world: World) -> Mailbox:
    return Mailbox.objects.create(
        name="Support", address="support@example.com", team=world.emea, language="de"
    )


def deliver(raw: bytes, mailbox: Mailbox | None) -> tuple[Outcome, InboundEmail]:
    row, created = store_raw(raw, mailbox=mailbox, source="webhook")
    assert created
    outcome = process_inbound(row.pk)
    row.refresh_from_db()
    return outcome, row


def our_message_id(message: Message) -> str:
    return make_message_id(
        message.ticket_id, message.pk, settings.MAIL_ID_DOMAIN, settings.SECRET_KEY.encode()
    )


def message_of(outcome: Outcome) -> Message:
    assert outcome.message_id is not None, outcome
    return Message.objects.get(pk=outcome.message_id)


def ticket_of(outcome: Outcome) -> Ticket:
    assert outcome.ticket_id is not None, outcome
    return Ticket.objects.get(pk=outcome.ticket_id)


def first_message(ticket: Ticket) -> Message:
    return ticket.messages.order_by("id").first()  # type: ignore[return-value]


# --- new tickets ----------------------------------------------------------------------------------


def test_a_new_email_becomes_an_email_ticket_with_team_and_language_of_the_mailbox(
    world: World, mailbox: Mailbox, acks: Acks
) -> None:
    raw = mail(
        sender="Erin Example <erin@newcustomer.example>",
        text=f"The printer is down.{QUOTE}> old",
        headers={"Reply-To": "tickets@newcustomer.example"},
    )
    outcome, row = deliver(raw, mailbox)

    assert outcome.status == InboundStatus.PROCESSED
    assert outcome.created_ticket
    ticket = ticket_of(outcome)
    assert (ticket.channel, ticket.team, ticket.language) == (Channel.EMAIL, world.emea, "de")
    assert ticket.subject == "Printer is down"
    requester = ticket.requester
    assert requester.name == "Erin Example"
    assert list(requester.emails.values_list("address", flat=True)) == ["erin@newcustomer.example"]
    [message] = ticket.messages.all()
    assert message.kind == MessageKind.CUSTOMER
    assert message.author_contact == requester
    assert message.body_text == "The printer is down."
    header = MessageHeader.objects.get(message=message)
    assert header.ticket == ticket
    assert header.header_message_id == "m1@acme.example"
    assert header.quoted_text.startswith("On Mon, 1 Jan 2024")
    assert (row.status, row.ticket, row.message, row.reason) == (InboundStatus.PROCESSED, ticket, message, "")
    assert row.reply_to == "tickets@newcustomer.example"
    assert row.from_address == "erin@newcustomer.example"
    assert row.attempts == 1
    assert [(t.pk, inbound.pk) for t, inbound, _ in acks.calls] == [(ticket.pk, row.pk)]
    assert acks.calls[0][2].message_id == "m1@acme.example"


def test_a_known_sender_is_the_existing_contact(world: World, mailbox: Mailbox, acks: Acks) -> None:
    outcome, _ = deliver(mail(sender="CAROL@ACME.EXAMPLE"), mailbox)
    assert ticket_of(outcome).requester == world.carol
    assert Contact.objects.count() == 2


def test_no_acknowledgement_when_the_mailbox_does_not_send_them(mailbox: Mailbox, acks: Acks) -> None:
    mailbox.send_acknowledgement = False
    mailbox.save()
    outcome, _ = deliver(mail(), mailbox)
    assert outcome.created_ticket
    assert acks.calls == []


def test_html_mail_stores_the_new_part_and_the_sanitised_original(mailbox: Mailbox, acks: Acks) -> None:
    html = (
        '<p onclick="steal()">The printer is down.</p><script>alert(1)</script>'
        '<img src="https://tracker.example/p.gif">'
        '<div class="gmail_quote">On Mon, 1 Jan 2024 Support wrote:<blockquote>old answer</blockquote></div>'
    )
    outcome, _ = deliver(mail(html=html), mailbox)

    message = message_of(outcome)
    assert "The printer is down." in message.body_html
    assert "old answer" not in message.body_html
    assert "<script" not in message.body_html
    assert "onclick" not in message.body_html
    header = message.email_header
    assert "old answer" in header.quoted_html
    assert "The printer is down." in header.original_html
    assert "old answer" in header.original_html
    assert "<script" not in header.original_html
    assert "onclick" not in header.original_html
    assert header.has_remote_images


def test_attachments_and_inline_images_become_ticket_attachments(mailbox: Mailbox, acks: Acks) -> None:
    raw = mail(
        html='<p>See the picture:</p><img src="cid:shot@acme.example">',
        inline=[("shot@acme.example", PIXEL)],
        attachments=[("invoice.pdf", "application/pdf", b"%PDF-1.4 invoice")],
    )
    outcome, _ = deliver(raw, mailbox)

    rows = message_of(outcome).attachments.order_by("id")
    assert [(a.filename, a.content_type, a.content_id, a.is_inline, a.size) for a in rows] == [
        ("attachment.png", "image/png", "shot@acme.example", True, len(PIXEL)),
        ("invoice.pdf", "application/pdf", "", False, 16),
    ]
    assert rows[1].file.read() == b"%PDF-1.4 invoice"
    assert 'src="cid:shot@acme.example"' in message_of(outcome).body_html


def test_an_attachment_over_the_limit_is_left_out_with_a_note_and_the_message_kept(
    settings: SettingsWrapper, mailbox: Mailbox, acks: Acks
) -> None:
    settings.MAX_ATTACHMENT_BYTES = 1024
    raw = mail(
        attachments=[
            ("small.txt.pdf", "application/pdf", b"x" * 1000),
            ("huge.zip", "application/zip", b"y" * 5000),
        ]
    )
    outcome, row = deliver(raw, mailbox)

    assert outcome.status == InboundStatus.PROCESSED
    message = message_of(outcome)
    assert list(message.attachments.values_list("filename", flat=True)) == ["small.txt.pdf"]
    assert message.body_text.startswith("It stopped printing this morning.")
    assert "huge.zip (0.0 MB)" in message.body_text
    assert "The original email, with them, is kept." in message.body_text
    assert "huge.zip" in row.reason
    assert bytes(row.raw) == raw


def test_cc_becomes_followers_but_not_us_the_sender_or_the_requester(
    world: World, mailbox: Mailbox, acks: Acks
) -> None:
    ContactEmail.objects.create(contact=world.carol, address="carol.private@home.example")
    raw = mail(
        headers={
            "Cc": "Jane Doe <jane@acme.example>, support@example.com, SUPPORT+t9.abc@example.com, "
            "carol.private@home.example, carol@acme.example, not-an-address, Jane <JANE@acme.example>"
        }
    )
    outcome, _ = deliver(raw, mailbox)

    followers = ticket_of(outcome).followers.all()
    assert [(f.address, f.name, f.added_by) for f in followers] == [("jane@acme.example", "Jane Doe", None)]
    assert TicketEvent.objects.filter(ticket=ticket_of(outcome), field="followers").count() == 1


def test_a_spoofed_agent_sender_is_a_contact_never_the_agent(
    world: World, mailbox: Mailbox, acks: Acks
) -> None:
    outcome, _ = deliver(mail(sender="Alice Agent <alice@relaydesk.test>", subject="Refund #1 now"), mailbox)

    message = message_of(outcome)
    assert message.kind == MessageKind.CUSTOMER
    assert message.author_user is None
    assert message.author_contact is not None
    assert message.author_contact.emails.get().address == "alice@relaydesk.test"
    assert not TicketEvent.objects.filter(ticket=ticket_of(outcome), actor=world.alice).exists()


def test_a_message_without_a_mailbox_takes_the_mailbox_it_was_sent_to(
    world: World, mailbox: Mailbox, acks: Acks
) -> None:
    outcome, row = deliver(mail(to="someone@else.example, Support <SUPPORT@example.com>"), None)
    assert row.mailbox == mailbox
    assert ticket_of(outcome).team == world.emea


def test_an_empty_body_gets_a_placeholder_and_a_blank_subject_a_default(mailbox: Mailbox, acks: Acks) -> None:
    outcome, _ = deliver(mail(subject="   ", text="\n"), mailbox)
    ticket = ticket_of(outcome)
    assert ticket.subject == "(no subject)"
    assert first_message(ticket).body_text == "(This email has no text.)"


# --- threading ------------------------------------------------------------------------------------


@pytest.fixture
def ticket(world: World) -> Ticket:
    return world.ticket(team=world.emea)


def test_a_reply_to_our_message_id_is_added_to_its_ticket(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    ours = our_message_id(first_message(ticket))
    raw = mail(
        subject="Re: Printer is down",
        message_id="<reply-1@acme.example>",
        text=f"Still broken.{QUOTE}> Try again",
        headers={"In-Reply-To": ours, "References": f"<elsewhere@x.example> {ours}"},
    )
    outcome, _row = deliver(raw, mailbox)

    assert (outcome.status, outcome.ticket_id, outcome.created_ticket) == ("processed", ticket.pk, False)
    assert outcome.matched_by == "message-id"
    message = ticket.messages.order_by("id").last()
    assert message is not None
    assert message.pk == outcome.message_id
    assert (message.kind, message.author_contact, message.body_text) == (
        MessageKind.CUSTOMER,
        world.carol,
        "Still broken.",
    )
    assert message.email_header.quoted_text.endswith("> Try again")
    assert acks.calls == []
    assert Ticket.objects.count() == 1


def test_a_reply_from_someone_else_with_our_signed_id_is_added_as_that_person(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    raw = mail(
        sender="Lena <lena@colleague.example>", headers={"In-Reply-To": our_message_id(first_message(ticket))}
    )
    outcome, _ = deliver(raw, mailbox)
    assert outcome.ticket_id == ticket.pk
    author = message_of(outcome).author_contact
    assert author is not None
    assert author.emails.get().address == "lena@colleague.example"


def test_a_forged_token_does_not_thread(world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket) -> None:
    genuine = our_message_id(first_message(ticket))
    forged = genuine.replace(f"rd.{ticket.pk}.", f"rd.{ticket.pk + 1}.")
    other = world.ticket(subject="Someone else's ticket", requester=world.dave)
    assert other.pk == ticket.pk + 1
    raw = mail(sender="mallory@evil.example", headers={"In-Reply-To": forged, "References": forged})
    outcome, _ = deliver(raw, mailbox)

    assert outcome.created_ticket
    assert outcome.ticket_id not in (ticket.pk, other.pk)
    assert other.messages.count() == 1


def test_a_signed_reply_address_threads(mailbox: Mailbox, acks: Acks, ticket: Ticket) -> None:
    address = make_reply_address("support@example.com", ticket.pk, settings.SECRET_KEY.encode())
    outcome, _ = deliver(mail(to=address, message_id="<plus@acme.example>"), mailbox)
    assert (outcome.ticket_id, outcome.matched_by) == (ticket.pk, "reply-address")


def test_references_to_a_stored_customer_message_thread(mailbox: Mailbox, acks: Acks) -> None:
    first, _ = deliver(mail(message_id="<first@acme.example>"), mailbox)
    raw = mail(
        sender="Jane <jane@acme.example>",
        message_id="<second@acme.example>",
        headers={"References": "<unknown@nowhere.example> <first@ACME.Example>"},
    )
    outcome, _ = deliver(raw, mailbox)
    assert (outcome.ticket_id, outcome.matched_by, outcome.created_ticket) == (
        first.ticket_id,
        "references",
        False,
    )


def test_references_to_a_sent_message_with_brackets_thread(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    MessageHeader.objects.create(
        message=first_message(ticket), ticket=ticket, header_message_id="<sent-by-an-old-system@example.com>"
    )
    raw = mail(headers={"In-Reply-To": "<sent-by-an-old-system@example.com>"}, message_id="<r@acme.example>")
    outcome, _ = deliver(raw, mailbox)
    assert outcome.ticket_id == ticket.pk


def test_a_subject_token_threads_for_the_requester(mailbox: Mailbox, acks: Acks, ticket: Ticket) -> None:
    outcome, _ = deliver(mail(subject=f"Re: [#{ticket.pk}] Printer is down"), mailbox)
    assert (outcome.ticket_id, outcome.matched_by) == (ticket.pk, "subject")


def test_a_subject_token_threads_for_a_follower(mailbox: Mailbox, acks: Acks, ticket: Ticket) -> None:
    Follower.objects.create(ticket=ticket, address="Jane@Acme.example")
    raw = mail(sender="jane@acme.example", subject=f"Re: [#{ticket.pk}] Printer is down")
    outcome, _ = deliver(raw, mailbox)
    assert outcome.ticket_id == ticket.pk


def test_a_subject_token_from_a_stranger_opens_a_new_ticket(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    raw = mail(sender="mallory@evil.example", subject=f"Re: [#{ticket.pk}] Change my payout account")
    outcome, _ = deliver(raw, mailbox)

    assert outcome.created_ticket
    assert outcome.ticket_id != ticket.pk
    assert ticket.messages.count() == 1
    assert len(acks.calls) == 1


def test_a_reply_to_a_closed_ticket_opens_a_linked_follow_up(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    do_change_ticket(ticket, acting_user=world.bob, status=Status.CLOSED)
    outcome, row = deliver(mail(headers={"In-Reply-To": our_message_id(first_message(ticket))}), mailbox)

    follow_up = ticket_of(outcome)
    assert follow_up.follow_up_of == ticket
    assert follow_up.channel == Channel.EMAIL
    assert outcome.created_ticket
    assert row.ticket == follow_up
    assert message_of(outcome).email_header.ticket == follow_up
    assert [t.pk for t, _, _ in acks.calls] == [follow_up.pk]
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED


def test_a_reply_to_a_merged_ticket_goes_to_the_ticket_it_was_merged_into(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    target = world.ticket(team=world.emea, subject="The same printer")
    check_merge_ticket(world.sam, ticket.pk, target.pk)
    outcome, _ = deliver(mail(headers={"In-Reply-To": our_message_id(first_message(ticket))}), mailbox)
    assert (outcome.ticket_id, outcome.created_ticket) == (target.pk, False)


def test_the_same_message_through_a_second_mailbox_is_added_once(
    world: World, mailbox: Mailbox, acks: Acks
) -> None:
    billing = Mailbox.objects.create(name="Billing", address="billing@example.com")
    raw = mail(to="support@example.com", headers={"Cc": "billing@example.com"})
    first, _ = deliver(raw, mailbox)
    second, row = deliver(raw, billing)

    assert second.status == InboundStatus.IGNORED
    assert second.ticket_id == first.ticket_id
    assert f"already added to ticket #{first.ticket_id}" in row.reason
    assert Message.objects.count() == 1
    assert Follower.objects.count() == 0  # our own billing address is not a follower
    assert len(acks.calls) == 1


# --- loops ----------------------------------------------------------------------------------------


def test_automatic_mail_that_threads_is_a_system_note_without_reopening(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    do_change_ticket(ticket, acting_user=world.bob, assignee=world.bob, status=Status.RESOLVED)
    version = Ticket.objects.get(pk=ticket.pk).version
    raw = mail(
        sender="Carol Customer <carol@acme.example>",
        subject="Automatic reply: Printer is down",
        text="I am out of the office until Monday.",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": our_message_id(first_message(ticket))},
    )
    outcome, row = deliver(raw, mailbox)

    assert (outcome.status, outcome.ticket_id, outcome.created_ticket) == ("processed", ticket.pk, False)
    message = message_of(outcome)
    assert message.kind == MessageKind.SYSTEM
    assert message.author_contact is None
    assert message.author_user is None
    assert "Auto-Submitted: auto-replied" in message.body_text
    assert "I am out of the office until Monday." in message.body_text
    assert message.email_header.header_message_id == "m1@acme.example"
    ticket.refresh_from_db()
    assert (ticket.status, ticket.reopen_count) == (Status.RESOLVED, 0)
    assert ticket.version == version + 1
    assert "status is unchanged" in row.reason
    assert acks.calls == []


def test_automatic_mail_on_a_closed_ticket_opens_no_follow_up(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    do_change_ticket(ticket, acting_user=world.bob, status=Status.CLOSED)
    raw = mail(headers={"X-Autoreply": "yes", "In-Reply-To": our_message_id(first_message(ticket))})
    outcome, _ = deliver(raw, mailbox)
    assert outcome.ticket_id == ticket.pk
    assert Ticket.objects.count() == 1
    assert message_of(outcome).kind == MessageKind.SYSTEM


@pytest.mark.parametrize(
    ("headers", "sender", "reason"),
    [
        ({"Auto-Submitted": "auto-replied"}, "carol@acme.example", "Auto-Submitted: auto-replied"),
        ({"Precedence": "bulk"}, "news@shop.example", "Precedence: bulk"),
        ({"List-Id": "<list.example>"}, "list@lists.example", "List-Id"),
        ({}, "noreply@shop.example", "no-reply sender"),
    ],
)
def test_automatic_mail_that_threads_nowhere_is_ignored_without_a_ticket(
    mailbox: Mailbox, acks: Acks, headers: dict[str, str], sender: str, reason: str
) -> None:
    outcome, row = deliver(mail(sender=sender, headers=headers), mailbox)

    assert outcome.status == row.status == InboundStatus.IGNORED
    assert row.reason == f"Automatic mail ({reason}) that belongs to no ticket: no ticket was created."
    assert (row.ticket, row.message) == (None, None)
    assert Ticket.objects.count() == 0
    assert acks.calls == []


def test_our_own_mail_coming_back_is_ignored_even_when_it_threads(
    mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    ours = our_message_id(first_message(ticket))
    raw = mail(sender="support@example.com", headers={"In-Reply-To": ours}, message_id="<x@acme.example>")
    outcome, row = deliver(raw, mailbox)
    assert outcome.status == InboundStatus.IGNORED
    assert row.reason == "Our own mail came back (sent from our own address)."
    assert ticket.messages.count() == 1


# --- bounces --------------------------------------------------------------------------------------


def dsn(*, original_id: str, failed: str, status: str = "5.1.1") -> bytes:
    return (
        "Return-Path: <>\r\n"
        "From: Mail Delivery System <MAILER-DAEMON@mx.example.com>\r\n"
        "To: support@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "Message-ID: <bounce-1@mx.example.com>\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\n"
        f"<{failed}>: host mx said: 550 {status} User unknown\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.com\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nAction: failed\r\nStatus: {status}\r\n"
        "--b\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: support@example.com\r\nTo: {failed}\r\nMessage-ID: {original_id}\r\n"
        "--b--\r\n"
    ).encode()


def test_a_bounce_is_a_system_note_on_its_ticket_and_marks_the_address(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    ContactEmail.objects.create(contact=world.dave, address="someone@else.example")
    outcome, _row = deliver(
        dsn(original_id=our_message_id(first_message(ticket)), failed="carol@acme.example"), mailbox
    )

    assert (outcome.status, outcome.ticket_id, outcome.matched_by) == (
        "processed",
        ticket.pk,
        "bounced-message-id",
    )
    message = message_of(outcome)
    assert message.kind == MessageKind.SYSTEM
    assert message.body_text.startswith(
        "Email to carol@acme.example could not be delivered (status 5.1.1). "
        "Marked as bouncing: carol@acme.example."
    )
    carol = ContactEmail.objects.get(address="carol@acme.example")
    assert carol.bounced_at is not None
    assert carol.bounce_reason == "5.1.1 Undelivered Mail Returned to Sender"
    assert not ContactEmail.objects.exclude(pk=carol.pk).exclude(bounced_at=None).exists()
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert acks.calls == []


def test_a_bounce_marks_only_addresses_of_that_ticket(
    world: World, mailbox: Mailbox, acks: Acks, ticket: Ticket
) -> None:
    # dave is not on carol's ticket: a report naming him proves nothing about his address.
    raw = dsn(original_id=our_message_id(first_message(ticket)), failed="dave@globex.example")
    outcome, _ = deliver(raw, mailbox)
    assert outcome.ticket_id == ticket.pk
    assert not ContactEmail.objects.exclude(bounced_at=None).exists()


def test_a_bounce_of_mail_we_never_sent_is_ignored_and_marks_nothing(mailbox: Mailbox, acks: Acks) -> None:
    outcome, row = deliver(
        dsn(original_id="<someone-elses@example.org>", failed="carol@acme.example"), mailbox
    )
    assert outcome.status == InboundStatus.IGNORED
    assert row.reason == (
        "Delivery status report for a message that is on no ticket (failed: carol@acme.example)."
    )
    assert not ContactEmail.objects.exclude(bounced_at=None).exists()
    assert Ticket.objects.count() == 0


# --- never lose a message -------------------------------------------------------------------------


def test_processing_twice_is_a_no_op(
    mailbox: Mailbox, acks: Acks, django_assert_num_queries: Callable[..., Any]
) -> None:
    outcome, row = deliver(mail(), mailbox)
    with django_assert_num_queries(1):  # the status read; nothing is locked
        again = process_inbound(row.pk)
    assert again == Outcome(
        inbound_id=row.pk, status="processed", ticket_id=outcome.ticket_id, message_id=outcome.message_id
    )
    assert Message.objects.count() == 1
    assert len(acks.calls) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_a_job_that_loses_the_race_to_another_is_a_no_op(
    monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox, acks: Acks
) -> None:
    row, _ = store_raw(mail(), mailbox=mailbox, source="imap")
    parse = processing.parse_message

    def parse_while_another_job_runs(raw: bytes, **kwargs: Any) -> ParsedMail:
        # This job parses without a lock; meanwhile another one processes the row.
        monkeypatch.setattr(processing, "parse_message", parse)
        assert process_inbound(row.pk).status == InboundStatus.PROCESSED
        return parse(raw, **kwargs)

    monkeypatch.setattr(processing, "parse_message", parse_while_another_job_runs)
    outcome = process_inbound(row.pk)

    assert outcome.status == InboundStatus.PROCESSED
    assert Message.objects.count() == 1
    assert len(acks.calls) == 1
    row.refresh_from_db()
    assert row.attempts == 1


def test_an_oversized_message_is_quarantined_with_the_size_reason(
    settings: SettingsWrapper, mailbox: Mailbox, acks: Acks
) -> None:
    settings.MAIL_MAX_BYTES = 2000
    raw = mail(text="x" * 3000)
    outcome, row = deliver(raw, mailbox)

    assert outcome.status == row.status == InboundStatus.QUARANTINED
    assert row.reason == f"The message is {len(raw)} bytes; the limit is 2000 bytes. (too_large)"
    assert Ticket.objects.count() == 0
    assert bytes(row.raw) == raw
    # The quarantine still says who sent what, read from the headers alone.
    assert (row.from_address, row.subject) == ("carol@acme.example", "Printer is down")


def test_a_message_without_a_usable_sender_is_quarantined(mailbox: Mailbox, acks: Acks) -> None:
    raw = b"To: support@example.com\r\nSubject: who am I\r\nMessage-ID: <anon@x.example>\r\n\r\nHello\r\n"
    _outcome, row = deliver(raw, mailbox)
    assert row.status == InboundStatus.QUARANTINED
    assert row.reason == "The message has no usable sender address. (no_sender)"


def test_an_unexpected_error_is_quarantined_and_everything_it_wrote_rolled_back(
    monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox, acks: Acks
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the disk is on fire")

    monkeypatch.setattr(processing._Processing, "received", broken)
    outcome, row = deliver(mail(sender="new@person.example"), mailbox)

    assert outcome.status == row.status == InboundStatus.QUARANTINED
    assert row.reason == "Unexpected error while processing: RuntimeError: the disk is on fire"
    assert (row.ticket, row.message, row.attempts) == (None, None, 1)
    # The ticket, its message and the new contact were written before the failure: all rolled back.
    assert (Ticket.objects.count(), Message.objects.count()) == (0, 0)
    assert not ContactEmail.objects.filter(address="new@person.example").exists()
    assert acks.calls == []


def test_a_database_error_at_commit_time_still_ends_quarantined(
    monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox, acks: Acks
) -> None:
    row, _ = store_raw(mail(), mailbox=mailbox, source="webhook")
    original_save = InboundEmail.save
    failures: list[int] = []

    def failing_once(self: InboundEmail, *args: Any, **kwargs: Any) -> None:
        if not failures:
            failures.append(1)
            raise DatabaseError("value too long for type character varying(255)")
        original_save(self, *args, **kwargs)

    monkeypatch.setattr(InboundEmail, "save", failing_once)
    outcome = process_inbound(row.pk)

    assert outcome.status == InboundStatus.QUARANTINED
    assert outcome.reason == (
        "Unexpected error while processing: DatabaseError: value too long for type character varying(255)"
    )
    row.refresh_from_db()
    assert (row.status, row.reason, row.attempts) == (InboundStatus.QUARANTINED, outcome.reason, 1)
    assert (row.subject, row.from_address) == ("Printer is down", "carol@acme.example")
    assert (Ticket.objects.count(), Message.objects.count()) == (0, 0)


def test_a_transient_database_error_is_retried_then_quarantined(
    monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox, acks: Acks
) -> None:
    row, _ = store_raw(mail(), mailbox=mailbox, source="webhook")

    def locked(*args: object, **kwargs: object) -> None:
        raise OperationalError("database is locked")

    monkeypatch.setattr(processing, "do_create_tickets", locked)
    first = process_inbound(row.pk)
    assert (first.status, first.reason) == (
        InboundStatus.RECEIVED,
        "Attempt 1 failed, to be retried: OperationalError: database is locked",
    )
    assert process_inbound(row.pk).status == InboundStatus.RECEIVED
    third = process_inbound(row.pk)
    assert (third.status, third.reason) == (InboundStatus.QUARANTINED, "OperationalError: database is locked")
    row.refresh_from_db()
    assert row.attempts == 3
    assert Ticket.objects.count() == 0


def test_a_transient_error_then_success(
    monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox, acks: Acks
) -> None:
    row, _ = store_raw(mail(), mailbox=mailbox, source="webhook")
    create = processing.do_create_tickets

    def locked_once(*args: Any) -> Ticket:
        monkeypatch.setattr(processing, "do_create_tickets", create)
        raise OperationalError("deadlock detected")

    monkeypatch.setattr(processing, "do_create_tickets", locked_once)
    assert process_inbound(row.pk).status == InboundStatus.RECEIVED
    outcome = process_inbound(row.pk)  # what the sweep does a few minutes later
    assert (outcome.status, outcome.created_ticket, outcome.reason) == (InboundStatus.PROCESSED, True, "")
    row.refresh_from_db()
    assert row.attempts == 2
    assert len(acks.calls) == 1


def test_when_the_database_is_gone_the_row_stays_for_the_sweep(
    monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox, acks: Acks
) -> None:
    row, _ = store_raw(mail(), mailbox=mailbox, source="webhook")

    def gone(*args: object, **kwargs: object) -> None:
        raise InterfaceError("connection already closed")

    monkeypatch.setattr(InboundEmail, "save", gone)
    outcome = process_inbound(row.pk)  # processing fails, and so does recording the failure
    assert outcome.status == InboundStatus.RECEIVED
    assert outcome.reason == "Unexpected error while processing: InterfaceError: connection already closed"
    assert InboundEmail.objects.get(pk=row.pk).status == InboundStatus.RECEIVED
    assert Ticket.objects.count() == 0


def test_a_failing_acknowledgement_keeps_the_ticket(
    monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox
) -> None:
    def not_ready(ticket: Ticket, *, inbound: InboundEmail, parsed: ParsedMail) -> None:
        raise NotImplementedError("the outbox is not there yet")

    monkeypatch.setattr(outbox, "do_queue_acknowledgement", not_ready)
    outcome, row = deliver(mail(), mailbox)
    assert outcome.status == InboundStatus.PROCESSED
    assert outcome.created_ticket
    assert row.reason == (
        "The acknowledgement could not be queued: NotImplementedError: the outbox is not there yet"
    )


def test_a_missing_row_is_reported_not_raised() -> None:
    assert process_inbound(987654).status == "missing"


def test_reprocess_is_for_admins_only_and_only_for_quarantined_mail(
    world: World, settings: SettingsWrapper, mailbox: Mailbox, acks: Acks
) -> None:
    settings.MAIL_MAX_BYTES = 1000
    _, row = deliver(mail(text="y" * 2000), mailbox)
    assert row.status == InboundStatus.QUARANTINED
    for user in (world.alice, world.sam):
        with pytest.raises(PermissionDenied):
            check_reprocess(user, row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (InboundStatus.QUARANTINED, 1)
    with pytest.raises(NotFound):
        check_reprocess(world.ada, 987654)

    settings.MAIL_MAX_BYTES = 100_000  # the admin raised the limit
    outcome = check_reprocess(world.ada, row.pk)

    assert outcome.status == InboundStatus.PROCESSED
    assert outcome.created_ticket
    row.refresh_from_db()
    assert (row.status, row.reason, row.attempts) == (InboundStatus.PROCESSED, "", 2)
    with pytest.raises(ValidationFailed, match="Only quarantined email"):
        check_reprocess(world.ada, row.pk)
    assert Ticket.objects.count() == 1


def test_a_deactivated_admin_cannot_reprocess(world: World, mailbox: Mailbox, acks: Acks) -> None:
    row, _ = store_raw(b"garbage", mailbox=mailbox, source="webhook")
    InboundEmail.objects.filter(pk=row.pk).update(status=InboundStatus.QUARANTINED)
    User.objects.filter(pk=world.ada.pk).update(is_active=False)
    world.ada.refresh_from_db()
    with pytest.raises(PermissionDenied):
        check_reprocess(world.ada, row.pk)
    assert InboundEmail.objects.get(pk=row.pk).status == InboundStatus.QUARANTINED


# --- jobs -----------------------------------------------------------------------------------------


def test_the_job_processes_the_row(mailbox: Mailbox, acks: Acks) -> None:
    row, _ = store_raw(mail(), mailbox=mailbox, source="imap")
    process_inbound_email(row.pk)  # huey runs inline in tests
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED


def test_the_sweep_is_a_periodic_task_every_five_minutes() -> None:
    def due(minute: int) -> bool:
        tasks = HUEY.read_periodic(datetime(2025, 6, 2, 9, minute))
        return any(isinstance(task, process_stalled_inbound_email.task_class) for task in tasks)

    assert [minute for minute in range(12) if due(minute)] == [0, 5, 10]


def test_the_sweep_processes_rows_whose_job_was_lost(mailbox: Mailbox, acks: Acks) -> None:
    stalled, _ = store_raw(mail(message_id="<old@acme.example>"), mailbox=mailbox, source="imap")
    fresh, _ = store_raw(mail(message_id="<new@acme.example>"), mailbox=mailbox, source="imap")
    InboundEmail.objects.filter(pk=stalled.pk).update(received_at=timezone.now() - timedelta(minutes=10))
    assert pending_inbound() == [(stalled.pk, stalled.size)]

    process_stalled_inbound_email.call_local()

    assert InboundEmail.objects.get(pk=stalled.pk).status == InboundStatus.PROCESSED
    assert InboundEmail.objects.get(pk=fresh.pk).status == InboundStatus.RECEIVED


def test_groups_are_cut_by_count_and_by_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(processing, "MAX_GROUP", 3)
    monkeypatch.setattr(processing, "MAX_GROUP_BYTES", 1000)
    handed: list[list[int]] = []
    groups = processing.Groups(handed.append)
    for inbound_id, size in [(1, 100), (2, 100), (2, 100), (3, 100), (4, 100), (5, 700), (6, 300), (7, 5000)]:
        groups.add(inbound_id, size)
    assert handed == [[1, 2, 3], [4, 5], [6]]  # full at three; 4 + 5 + 6 would pass 1,000 bytes
    groups.close()
    assert handed[-1] == [7]  # bigger than a group: alone
    groups.close()
    assert len(handed) == 4  # nothing left to hand over


# --- query budgets --------------------------------------------------------------------------------


def test_query_budget_of_a_new_ticket_and_a_reply(
    mailbox: Mailbox, acks: Acks, ticket: Ticket, django_assert_max_num_queries: Callable[..., Any]
) -> None:
    new_row, _ = store_raw(mail(sender="new@person.example"), mailbox=mailbox, source="webhook")
    with django_assert_max_num_queries(23):  # a new contact, its ticket, events, SLA, header, row
        assert process_inbound(new_row.pk).created_ticket
    reply = mail(
        message_id="<reply@acme.example>", headers={"In-Reply-To": our_message_id(first_message(ticket))}
    )
    reply_row, _ = store_raw(reply, mailbox=mailbox, source="webhook")
    with django_assert_max_num_queries(16):
        assert process_inbound(reply_row.pk).ticket_id == ticket.pk


# --- groups: process_inbound_many ---------------------------------------------------------------


def store_all(raws: list[bytes], mailbox: Mailbox) -> list[int]:
    ids = []
    for raw in raws:
        row, created = store_raw(raw, mailbox=mailbox, source="imap")
        assert created
        ids.append(row.pk)
    return ids


def new_mails(count: int, *, start: int = 0) -> list[bytes]:
    return [
        mail(
            sender=f"Customer {n} <customer{n}@acme.example>",
            subject=f"Problem number {n}",
            message_id=f"<new-{n}@acme.example>",
            text=f"Problem {n} in detail.",
        )
        for n in range(start, start + count)
    ]


def test_a_group_of_new_mail_opens_the_same_tickets_as_one_at_a_time(mailbox: Mailbox, acks: Acks) -> None:
    ids = store_all(new_mails(5), mailbox)
    outcomes = process_inbound_many(ids)

    assert [o.inbound_id for o in outcomes] == ids
    assert all(o.status == InboundStatus.PROCESSED and o.created_ticket for o in outcomes)
    tickets = Ticket.objects.filter(pk__in=[o.ticket_id for o in outcomes]).order_by("pk")
    assert [t.subject for t in tickets] == [f"Problem number {n}" for n in range(5)]
    for n, (outcome, ticket) in enumerate(zip(outcomes, tickets, strict=True)):
        assert (ticket.team, ticket.language, ticket.requester.name) == (mailbox.team, "de", f"Customer {n}")
        message = message_of(outcome)
        assert (message.ticket_id, message.kind, message.body_text) == (
            ticket.pk,
            MessageKind.CUSTOMER,
            f"Problem {n} in detail.",
        )
        assert MessageHeader.objects.get(message=message).header_message_id == f"new-{n}@acme.example"
        kinds = list(ticket.events.order_by("pk").values_list("kind", flat=True))
        assert kinds == [EventKind.CREATED, EventKind.MESSAGE]
    rows = InboundEmail.objects.filter(pk__in=ids).order_by("pk")
    assert [(r.status, r.ticket_id, r.message_id, r.attempts) for r in rows] == [
        (InboundStatus.PROCESSED, o.ticket_id, o.message_id, 1) for o in outcomes
    ]
    assert all(r.processed_at is not None for r in rows)
    assert [call[0].pk for call in acks.calls] == [o.ticket_id for o in outcomes]  # each acknowledged


def test_new_tickets_in_a_group_cost_the_statements_of_one(mailbox: Mailbox, acks: Acks) -> None:
    counts = []
    for start, size in ((0, 4), (100, 12)):
        ids = store_all(new_mails(size, start=start), mailbox)
        with CaptureQueriesContext(connection) as queries:
            outcomes = process_inbound_many(ids)
        assert all(o.created_ticket for o in outcomes)
        counts.append(len(queries))
    # Per message: its row's UPDATE and the savepoint around its acknowledgement; the contacts,
    # tickets, messages, events and headers are written in one statement each for the group.
    assert counts[1] <= counts[0] + 3 * (12 - 4), counts
    assert counts[1] < 12 * 5, counts  # one message alone takes about 17


def test_a_reply_in_the_same_group_threads_into_the_ticket_its_original_opens(
    mailbox: Mailbox, acks: Acks
) -> None:
    first = mail(message_id="<first@acme.example>", text="The printer is down.")
    follow_up = mail(
        message_id="<second@acme.example>",
        subject="Re: Printer is down",
        text="It is on fire now.",
        headers={"In-Reply-To": "<first@acme.example>", "References": "<first@acme.example>"},
    )
    ids = store_all([*new_mails(2), first, follow_up], mailbox)
    outcomes = process_inbound_many(ids)

    assert [o.created_ticket for o in outcomes] == [True, True, True, False]
    assert outcomes[3].ticket_id == outcomes[2].ticket_id
    assert outcomes[3].matched_by == "references"
    ticket = ticket_of(outcomes[2])
    assert list(ticket.messages.values_list("body_text", flat=True).order_by("pk")) == [
        "The printer is down.",
        "It is on fire now.",
    ]


def test_a_reply_to_an_existing_ticket_between_new_mail_keeps_every_outcome(
    mailbox: Mailbox, acks: Acks
) -> None:
    [earlier] = process_inbound_many(store_all(new_mails(1, start=50), mailbox))
    reply = mail(
        sender="customer50@acme.example",
        message_id="<reply-50@acme.example>",
        subject="Re: Problem number 50",
        text="Any news?",
        headers={"In-Reply-To": our_message_id(message_of(earlier))},
    )
    ids = store_all([*new_mails(2), reply, *new_mails(2, start=2)], mailbox)
    outcomes = process_inbound_many(ids)

    assert [o.created_ticket for o in outcomes] == [True, True, False, True, True]
    assert (outcomes[2].ticket_id, outcomes[2].matched_by) == (earlier.ticket_id, "message-id")
    assert Ticket.objects.count() == 5


def test_the_same_message_twice_in_a_group_is_added_once(world, mailbox: Mailbox, acks: Acks) -> None:
    billing = Mailbox.objects.create(name="Billing", address="billing@example.com", team=world.emea)
    copy = mail(to="support@example.com, billing@example.com", message_id="<both@acme.example>")
    first, _ = store_raw(copy, mailbox=mailbox, source="imap")
    second, _ = store_raw(copy, mailbox=billing, source="imap")
    outcomes = process_inbound_many([first.pk, second.pk])

    assert outcomes[0].status == InboundStatus.PROCESSED
    assert outcomes[1].status == InboundStatus.IGNORED
    assert outcomes[1].ticket_id == outcomes[0].ticket_id
    assert f"from inbound email {first.pk}" in outcomes[1].reason
    assert Ticket.objects.count() == 1


def test_two_new_mails_from_a_new_address_share_one_contact(mailbox: Mailbox, acks: Acks) -> None:
    raws = [
        mail(sender="Dora <dora@new.example>", message_id=f"<dora-{n}@new.example>", subject=f"Issue {n}")
        for n in range(2)
    ]
    outcomes = process_inbound_many(store_all(raws, mailbox))
    requesters = set(
        Ticket.objects.filter(pk__in=[o.ticket_id for o in outcomes]).values_list("requester", flat=True)
    )
    assert len(requesters) == 1
    assert Contact.objects.get(pk=requesters.pop()).name == "Dora"


def test_a_message_that_fails_is_quarantined_alone(
    monkeypatch: pytest.MonkeyPatch, mailbox: Mailbox, acks: Acks
) -> None:
    real_received = processing._Processing.received

    def fails_for_one(self: processing._Processing, message: Message, parsed: object) -> None:
        if message.body_text == "Problem 1 in detail.":
            raise RuntimeError("the disk is on fire")
        real_received(self, message, parsed)  # type: ignore[arg-type]

    monkeypatch.setattr(processing._Processing, "received", fails_for_one)
    nameless = (
        b"To: support@example.com\r\nSubject: who am I\r\nMessage-ID: <anon@x.example>\r\n\r\nHello\r\n"
    )
    broken = b"From: eve@acme.example\r\nContent-Type: multipart/mixed\r\n\r\n" + b"x" * 10
    ids = store_all([*new_mails(3), nameless, broken], mailbox)
    outcomes = process_inbound_many(ids)

    statuses = [o.status for o in outcomes]
    assert statuses[:3] == [InboundStatus.PROCESSED, InboundStatus.QUARANTINED, InboundStatus.PROCESSED]
    assert outcomes[1].reason == "Unexpected error while processing: RuntimeError: the disk is on fire"
    assert (outcomes[3].status, outcomes[3].reason) == (
        InboundStatus.QUARANTINED,
        "The message has no usable sender address. (no_sender)",
    )
    assert outcomes[4].status in (
        InboundStatus.PROCESSED,
        InboundStatus.QUARANTINED,
    )  # parsed or not, decided
    # Nothing of the failed message stays; the others are whole.
    assert not Ticket.objects.filter(subject="Problem number 1").exists()
    assert Ticket.objects.filter(subject__in=["Problem number 0", "Problem number 2"]).count() == 2
    rows = {row.pk: row for row in InboundEmail.objects.filter(pk__in=ids)}
    assert (rows[ids[1]].attempts, rows[ids[1]].ticket) == (1, None)


def test_rows_already_done_or_missing_are_reported_not_touched(mailbox: Mailbox, acks: Acks) -> None:
    ids = store_all(new_mails(2), mailbox)
    [done] = process_inbound_many(ids[:1])
    events_before = TicketEvent.objects.count()
    outcomes = process_inbound_many([ids[0], ids[1], 999_999, ids[1]])

    assert outcomes[0] == Outcome(
        ids[0], InboundStatus.PROCESSED, "", ticket_id=done.ticket_id, message_id=done.message_id
    )
    assert outcomes[1].created_ticket
    assert (outcomes[2].status, outcomes[2].reason) == ("missing", "No such inbound email.")
    assert outcomes[3] == outcomes[1]  # the same row, processed once
    assert Ticket.objects.count() == 2
    assert TicketEvent.objects.count() > events_before


def test_the_job_processes_its_group(mailbox: Mailbox, acks: Acks) -> None:
    ids = store_all(new_mails(3), mailbox)
    process_inbound_emails(ids)  # huey runs it at once under the test settings
    assert set(InboundEmail.objects.filter(pk__in=ids).values_list("status", flat=True)) == {
        InboundStatus.PROCESSED
    }
