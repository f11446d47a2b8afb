"""Every file of tests/mail/corpus through store_raw + process_inbound, delivered twice, with its outcome.

The corpus was written with the secret ``relaydesk-corpus-secret`` and the Message-ID domain
``support.example.com``, and refers to tickets #42, #77, #555, #1234 and #1235; those tickets are
made here with exactly those numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.db import connection
from django.db.models import Count
from pytest_django.fixtures import Settings as SettingsWrapper

from relaydesk.customers.models import Contact, ContactEmail
from relaydesk.mail import outbox
from relaydesk.mail.intake import store_raw
from relaydesk.mail.models import Follower, InboundEmail, InboundStatus, Mailbox, MessageHeader
from relaydesk.mail.parsing import ParsedMail
from relaydesk.mail.processing import Outcome, process_inbound
from relaydesk.tickets.actions import do_create_ticket
from relaydesk.tickets.models import Message, MessageKind, Status, Ticket
from tests.conftest import World
from tests.mail.test_properties import assert_safe_html

pytestmark = pytest.mark.django_db

CORPUS = Path(__file__).parent / "corpus"
KNOWN_TICKETS = (42, 77, 555, 1234, 1235)


@dataclass(frozen=True)
class Expect:
    kind: str  # new | reply | note | bounce | ignored | quarantined
    ticket: int | None = None  # for reply, note, bounce
    matched_by: str = ""
    reason: str = ""  # ignored / quarantined: the row's reason, exactly
    followers: tuple[str, ...] = ()
    attachments: int = 0
    bounced: tuple[str, ...] = ()
    body: str | None = None  # the message's text, exactly
    quoted: str | None = None  # the start of the folded quote


def new(**kwargs: object) -> Expect:
    return Expect("new", **kwargs)  # type: ignore[arg-type]


def reply(ticket: int, matched_by: str, **kwargs: object) -> Expect:
    return Expect("reply", ticket, matched_by, **kwargs)  # type: ignore[arg-type]


def ignored(reason: str) -> Expect:
    return Expect("ignored", reason=reason)


def automatic(reason: str) -> Expect:
    return ignored(f"Automatic mail ({reason}) that belongs to no ticket: no ticket was created.")


EXPECTED: dict[str, Expect] = {
    "8bit-headers-latin1.eml": new(body="¿Dónde está mi pedido?"),
    "8bit-headers.eml": new(body="Wann kommt die Lieferung? Viele Grüße"),
    "apple-mail-reply-fr.eml": reply(1234, "message-id"),
    "ascii-but-utf8.eml": new(body="こんにちは、注文について質問があります。"),
    "auto-reply-ooo.eml": Expect("note", 1234, "message-id"),
    "bounce-dsn.eml": Expect("bounce", 555, "bounced-message-id", bounced=("gone@customer.example",)),
    "bounce-headers-only.eml": Expect("bounce", 77, "bounced-message-id", bounced=("nobody@old.example",)),
    "broken-base64.eml": new(),
    "calendar-invite.eml": new(attachments=1),
    "crlf-windows-1252.eml": new(body="It’s “broken” – again.\nSecond line."),
    # A signed id edited to point at #1235 verifies for no ticket: a new ticket for the sender.
    "forged-token.eml": new(body="Please send the payout to my new account."),
    "forwarded-rfc822.eml": new(attachments=1),
    "garbage-message-id.eml": new(),
    "gmail-reply-de.eml": reply(
        1234,
        "message-id",
        body="Vielen Dank, jetzt funktioniert es wieder!",
        quoted="Am Fr., 19. Jan. 2024 um 16:00 Uhr schrieb Support",
    ),
    "groups-and-undisclosed.eml": new(followers=("ann@agency.example", "bo@agency.example")),
    "header-injection-subject.eml": new(),
    "html-only-newsletter.eml": automatic("Precedence: bulk"),
    "iphone-signature.eml": new(quoted="Sent from my iPhone"),
    "lying-charset.eml": new(body="Très cher service, la pièce est cassée. Voilà."),
    "mailer-daemon-plain.eml": automatic("mailer-daemon sender"),
    "mailing-list.eml": automatic("Precedence: list"),
    "missing-boundary.eml": new(attachments=1),
    "nested-related-inline-image.eml": new(attachments=2),
    "no-message-id.eml": new(body="Job finished with 0 errors."),
    "our-own-message.eml": ignored("Our own mail came back (our own Message-ID)."),
    "outlook-reply.eml": reply(
        1234, "message-id", body="Restarting the spooler fixed it, thank you!\n\nOlivia"
    ),
    "path-traversal-filename.eml": new(attachments=4),
    "pgp-encrypted.eml": new(attachments=2),
    "plain-utf8.eml": new(followers=("bob@acme.example", "jane.doe@acme.example")),
    "plus-address-reply.eml": reply(42, "reply-address", body="It arrived today, all good."),
    "quoted-printable-latin1.eml": new(),
    # A read receipt from the requester, with the ticket's [#1234] in its subject.
    "read-receipt-mdn.eml": Expect("note", 1234, "subject"),
    # From someone who is not on #1234: the unsigned subject token does not count.
    "reply-pt-nl.eml": new(),
    "reply-with-our-token.eml": reply(1234, "message-id", body="Got the refund, thanks."),
    "rfc2047-filename.eml": new(attachments=1),
    "rfc2231-filename.eml": new(attachments=2),
    "script-in-html.eml": new(attachments=1),
    "signature-delimiter.eml": new(),
    "smime-encrypted.eml": new(attachments=1),
    "smime-signed.eml": new(attachments=1),
    "subject-token.eml": reply(1234, "subject", body="Writing from my phone, the printer is fine now."),
    "thunderbird-reply-es.eml": new(),
    "tnef-winmail.eml": new(attachments=1),
    "unknown-charset.eml": new(body="Success – the naïve café order arrived."),
    "utf16-base64.eml": new(),
    "wrong-boundary.eml": new(),
    "x-loop.eml": automatic("X-Loop"),
}


def test_every_corpus_file_has_an_expectation() -> None:
    assert sorted(EXPECTED) == sorted(path.name for path in CORPUS.glob("*.eml"))


def numbered_ticket(number: int, requester: Contact) -> Ticket:
    """A ticket with exactly this number: the id sequence is moved on first (tests only)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT setval(pg_get_serial_sequence('tickets_ticket', 'id'), %s)", [number - 1])
        else:
            cursor.execute("UPDATE sqlite_sequence SET seq = %s WHERE name = 'tickets_ticket'", [number - 1])
            if cursor.rowcount == 0:
                cursor.execute(
                    "INSERT INTO sqlite_sequence (name, seq) VALUES ('tickets_ticket', %s)", [number - 1]
                )
    ticket = do_create_ticket(subject=f"Ticket {number}", requester=requester, body_text="The first message.")
    assert ticket.pk == number
    return ticket


def contact(address: str) -> Contact:
    person = Contact.objects.create(name=address.split("@")[0])
    ContactEmail.objects.create(contact=person, address=address, is_primary=True)
    return person


@dataclass
class Setup:
    mailbox: Mailbox
    billing: Mailbox
    acks: list[int] = field(default_factory=list)


@pytest.fixture
def corpus_world(world: World, settings: SettingsWrapper, monkeypatch: pytest.MonkeyPatch) -> Setup:
    settings.SECRET_KEY = "relaydesk-corpus-secret"
    settings.MAIL_ID_DOMAIN = "support.example.com"
    setup = Setup(
        mailbox=Mailbox.objects.create(name="Support", address="support@example.com", team=world.americas),
        billing=Mailbox.objects.create(name="Billing", address="billing@example.com"),
    )

    def acknowledge(ticket: Ticket, *, inbound: InboundEmail, parsed: ParsedMail) -> None:
        setup.acks.append(ticket.pk)

    monkeypatch.setattr(outbox, "do_queue_acknowledgement", acknowledge)
    requesters = {
        42: contact("sam@retail.example"),
        77: contact("nobody@old.example"),
        555: contact("gone@customer.example"),
        1234: world.carol,
        1235: world.dave,
    }
    for number in KNOWN_TICKETS:
        numbered_ticket(number, requesters[number])
    return setup


def deliver_twice(raw: bytes, mailbox: Mailbox) -> tuple[Outcome, Outcome]:
    first_row, created = store_raw(raw, mailbox=mailbox, source="imap")
    second_row, created_again = store_raw(raw, mailbox=mailbox, source="imap")
    assert (created, created_again, second_row.pk) == (True, False, first_row.pk)
    return process_inbound(first_row.pk), process_inbound(second_row.pk)


def stored(outcome: Outcome) -> tuple[object, ...]:
    return (outcome.inbound_id, outcome.status, outcome.reason, outcome.ticket_id, outcome.message_id)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file_end_to_end(name: str, corpus_world: Setup) -> None:
    expect = EXPECTED[name]
    raw = (CORPUS / name).read_bytes()
    messages_before = Message.objects.count()

    outcome, again = deliver_twice(raw, corpus_world.mailbox)

    # The second run is a no-op that reports what the first one stored.
    assert stored(again) == stored(outcome)
    row = InboundEmail.objects.get(pk=outcome.inbound_id)
    assert row.attempts == 1
    if expect.kind in ("ignored", "quarantined"):
        assert (row.status, row.reason, row.message) == (expect.kind, expect.reason, None)
        assert Message.objects.count() == messages_before
        assert corpus_world.acks == []
        return

    assert row.status == InboundStatus.PROCESSED
    assert Message.objects.count() == messages_before + 1
    message = row.message
    assert message is not None
    assert (outcome.message_id, row.ticket_id) == (message.pk, message.ticket_id)
    header = MessageHeader.objects.get(message=message)
    assert header.ticket_id == message.ticket_id
    for html in (message.body_html, header.original_html, header.quoted_html):
        assert_safe_html(html)
    assert message.attachments.count() == expect.attachments
    followers = list(Follower.objects.filter(ticket_id=message.ticket_id).values_list("address", flat=True))
    assert followers == list(expect.followers)
    bounced = ContactEmail.objects.exclude(bounced_at=None).values_list("address", flat=True)
    assert sorted(bounced) == list(expect.bounced)
    if expect.body is not None:
        assert message.body_text == expect.body
    if expect.quoted is not None:
        assert expect.quoted in header.quoted_text

    if expect.kind == "new":
        assert outcome.created_ticket
        assert message.ticket_id not in KNOWN_TICKETS
        assert (message.kind, message.ticket.channel) == (MessageKind.CUSTOMER, "email")
        assert message.author_contact == message.ticket.requester
        assert corpus_world.acks == [message.ticket_id]
        return
    assert (outcome.created_ticket, message.ticket_id, outcome.matched_by) == (
        False,
        expect.ticket,
        expect.matched_by,
    )
    assert corpus_world.acks == []
    expected_kind = MessageKind.CUSTOMER if expect.kind == "reply" else MessageKind.SYSTEM
    assert message.kind == expected_kind
    if expect.kind != "reply":  # automatic mail and bounces never reopen or move a ticket
        assert message.ticket.status == Status.NEW


def test_the_whole_corpus_twice_and_through_a_second_mailbox(corpus_world: Setup) -> None:
    """One ticket message per Message-ID, whichever way and however often a file arrives."""
    paths = sorted(CORPUS.glob("*.eml"))
    for path in paths:
        deliver_twice(path.read_bytes(), corpus_world.mailbox)
    for path in paths:  # the same mail Cc'd to our second address
        row, created = store_raw(path.read_bytes(), mailbox=corpus_world.billing, source="imap")
        assert created
        process_inbound(row.pk)

    rows = InboundEmail.objects.all()
    assert rows.count() == 2 * len(paths)
    assert set(rows.values_list("status", flat=True)) <= {InboundStatus.PROCESSED, InboundStatus.IGNORED}
    repeated = (
        MessageHeader.objects.exclude(header_message_id="")
        .values("header_message_id")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
    )
    assert list(repeated) == []
    processed = rows.filter(status=InboundStatus.PROCESSED)
    assert Message.objects.count() == len(KNOWN_TICKETS) + processed.count()
    # Only the two files without a usable Message-ID cannot be recognised when they come again.
    second_copies = processed.filter(mailbox=corpus_world.billing).order_by("subject")
    assert [row.subject for row in second_copies] == ["Hello", "Nightly job report"]
    without_id = {"no-message-id.eml", "garbage-message-id.eml"}
    added_once = [
        name for name, expect in EXPECTED.items() if expect.kind != "ignored" and name not in without_id
    ]
    duplicates = rows.filter(mailbox=corpus_world.billing, reason__contains="was already added to ticket")
    assert duplicates.count() == len(added_once)


def test_a_corpus_file_over_the_size_limit_is_quarantined(
    corpus_world: Setup, settings: SettingsWrapper
) -> None:
    raw = (CORPUS / "nested-related-inline-image.eml").read_bytes()
    settings.MAIL_MAX_BYTES = len(raw) - 1
    outcome, again = deliver_twice(raw, corpus_world.mailbox)
    assert stored(outcome) == stored(again)
    assert outcome.status == InboundStatus.QUARANTINED
    assert (
        outcome.reason == f"The message is {len(raw)} bytes; the limit is {len(raw) - 1} bytes. (too_large)"
    )
    assert Ticket.objects.count() == len(KNOWN_TICKETS)
