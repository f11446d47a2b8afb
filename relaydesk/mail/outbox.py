"""Outbound mail through the transactional outbox: agent replies and acknowledgements.

Queueing (``do_queue_reply``, ``do_queue_acknowledgement``) writes an ``OutboundEmail`` row in the
caller's transaction, with everything that identifies the mail fixed there: recipients, subject,
our Message-ID, In-Reply-To and References. A rolled-back reply sends nothing; a committed one
is sent by a job enqueued on commit (``outbox_tasks.send_outbound_email``), and, should that job
never run, by the once-a-minute drain (``outbox_tasks.send_due_outbound_email``).

Sending (``send_outbound``) claims the row with a conditional UPDATE (queued → sending, or an
expired sending lease → sending; the lease is ``next_attempt_at`` = now + ``LEASE``), builds the
MIME from the rows (``outbound_mime``), talks SMTP outside any transaction, then records the
result. A worker killed mid-send leaves the lease to expire and the drain sends the row again:
delivery is at-least-once, and a second copy carries the same Message-ID so the receiving side
can drop it. Temporary failures (4xx, connection errors, timeouts, configuration errors that an
admin can fix) retry after 1, 2, 4 … minutes up to ``MAIL_SEND_ATTEMPTS``; permanent ones (5xx)
fail at once. A mail that fails or is held is reported on its ticket as a system message.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.utils import formats, timezone, translation
from django.utils.translation import gettext

from relaydesk.accounts.models import User
from relaydesk.core.errors import NotFound, PermissionDenied, ValidationFailed
from relaydesk.core.sanitize import text_to_html
from relaydesk.mail import delivery, outbound_mime
from relaydesk.mail.loops import is_automatic
from relaydesk.mail.models import (
    AcknowledgementTemplate,
    Follower,
    InboundEmail,
    InboundStatus,
    Mailbox,
    MessageHeader,
    OutboundEmail,
    OutboundKind,
    OutboundStatus,
)
from relaydesk.mail.outbound_mime import HeaderValueError, MailAddress, MailContent, Quote
from relaydesk.mail.parsing import normalize_message_id
from relaydesk.mail.thread_refs import make_message_id, own_address_matched
from relaydesk.tickets.actions import do_add_system_message
from relaydesk.tickets.models import Channel, Message, MessageKind, Ticket

if TYPE_CHECKING:
    from relaydesk.mail.parsing import ParsedMail

logger = logging.getLogger(__name__)

# How long a claimed row belongs to the worker that claimed it. Far longer than one send can
# take (each SMTP step times out after delivery.SMTP_TIMEOUT): a live worker keeps its row.
LEASE = timedelta(minutes=5)
MAX_REFERENCES = 20
# One drain sends at most this many rows or runs this long, so drains started a minute apart
# never pile up behind each other in the consumer's threads.
DRAIN_BATCH = 500
DRAIN_SECONDS = 50.0
DRAIN_CHUNK = 20

# Channels whose replies reach the customer only by email. Chat, social and in-app tickets are
# answered in their own channel; they get email only once the customer wrote to us by email.
EMAIL_ANSWERED_CHANNELS = {Channel.EMAIL, Channel.PHONE, Channel.WEB_FORM, Channel.WALK_IN}

_COUNTED = (OutboundStatus.QUEUED, OutboundStatus.SENDING, OutboundStatus.SENT)

DEFAULT_ACK_SUBJECT = "We received your request: {subject}"
DEFAULT_ACK_BODY = (
    "Hello {name},\n\n"
    "Thank you for writing to us. We have received your message and opened request #{number} "
    "({subject}).\n\n"
    "Someone from our team will answer you soon. To add anything, reply to this email and keep "
    "the request number in the subject.\n\n"
    "This is an automatic reply."
)


def _secret() -> bytes:
    return settings.SECRET_KEY.encode()


def _own_id(ticket_id: int, message_id: int) -> str:
    """Our Message-ID for a message of a ticket, bare and normalised (as every id is stored)."""
    made = make_message_id(ticket_id, message_id, settings.MAIL_ID_DOMAIN, _secret())
    normalized = normalize_message_id(made)
    assert normalized is not None  # make_message_id only makes well-formed ids
    return normalized


# --- who gets it, from which mailbox ---------------------------------------------------------


def _own_addresses() -> set[str]:
    return {address.lower() for address in Mailbox.objects.values_list("address", flat=True)}


def _is_own(address: str, own: set[str]) -> bool:
    return own_address_matched(address, own) is not None


@dataclass(frozen=True)
class Route:
    """Where a reply on a ticket goes: from ``mailbox``, to ``to``, copied to ``cc``."""

    mailbox: Mailbox
    to: list[MailAddress]
    cc: list[MailAddress]

    @property
    def addresses(self) -> list[str]:
        return [recipient.address for recipient in (*self.to, *self.cc)]


def _requester_primary(ticket: Ticket) -> MailAddress | None:
    address = ticket.requester.primary_email
    if not address:
        return None
    try:
        return outbound_mime.parse_address(address, ticket.requester.name)
    except HeaderValueError:
        raise ValidationFailed(
            f"The customer's email address {outbound_mime.one_line(address)!r} cannot receive mail: "
            "correct it on the contact, then send the reply again."
        ) from None


def reply_route(ticket: Ticket) -> Route | None:
    """Where a reply on ``ticket`` goes; None when it has no email route.

    Mailbox: the one the customer first wrote to, if still active; else, for tickets answered by
    email (EMAIL_ANSWERED_CHANNELS), the first active mailbox with an SMTP server.
    To: where the latest processed inbound mail asked answers to go (its Reply-To, else its
    From), else the requester's primary address. Cc: the ticket's followers, and the requester
    when the latest mail came from someone else (a colleague on Cc wrote), minus To and minus
    our own mailboxes.
    """
    mailboxes = list(Mailbox.objects.order_by("id"))  # a handful of rows: one read for all uses
    inbound = list(
        InboundEmail.objects.filter(ticket=ticket)
        .order_by("received_at", "id")
        .values_list(
            "mailbox_id", "status", "reply_to", "message__author_contact_id", "message__author_contact__name"
        )
    )
    by_id = {mailbox.pk: mailbox for mailbox in mailboxes}
    first = next((by_id[row[0]] for row in inbound if row[0] in by_id), None)
    mailbox: Mailbox | None
    if first is not None and first.is_active:
        mailbox = first
    elif not inbound and ticket.channel not in EMAIL_ANSWERED_CHANNELS:
        return None
    else:
        mailbox = next((m for m in mailboxes if m.is_active and m.smtp_host), None)
    if mailbox is None:
        return None
    own = {m.address.lower() for m in mailboxes}

    latest = next((row for row in reversed(inbound) if row[1] == InboundStatus.PROCESSED and row[2]), None)
    to: MailAddress | None = None
    requester_is_to = True
    if latest is not None:
        _mailbox_id, _status, reply_to, author_id, author_name = latest
        requester_is_to = author_id is None or author_id == ticket.requester_id
        try:
            to = outbound_mime.parse_address(reply_to, author_name or "")
        except HeaderValueError:
            logger.warning(
                "Ticket %s: the latest inbound reply address is unusable; using the requester's", ticket.pk
            )
            requester_is_to = True
    if to is None:
        to = _requester_primary(ticket)
    if to is None or _is_own(to.address, own):
        return None
    seen = {to.address.lower()}
    cc: list[MailAddress] = []
    if not requester_is_to:
        requester = _requester_primary(ticket)
        if requester is not None and requester.address.lower() not in seen:
            cc.append(requester)
            seen.add(requester.address.lower())
    for follower in Follower.objects.filter(ticket=ticket).order_by("address"):
        try:
            copy = outbound_mime.parse_address(follower.address, follower.name)
        except HeaderValueError:
            # Followers are validated when added; a bad row (older data) must not block the reply.
            logger.warning(
                "Follower %s of ticket %s has an unusable address; skipped", follower.pk, ticket.pk
            )
            continue
        if copy.address.lower() in seen or _is_own(copy.address, own):
            continue
        seen.add(copy.address.lower())
        cc.append(copy)
    return Route(mailbox=mailbox, to=[to], cc=cc)


@dataclass(frozen=True)
class Thread:
    """The email identities of a ticket so far, oldest first (its messages' Message-IDs, the
    customer's and our replies', and our acknowledgements'), and the one a reply answers: the
    latest customer message's, else the latest of all."""

    ids: list[str]
    answering: str


def thread_of(ticket: Ticket, *, exclude_message: Message | None = None) -> Thread:
    headers = MessageHeader.objects.filter(message__ticket=ticket).exclude(header_message_id="")
    if exclude_message is not None:
        headers = headers.exclude(message=exclude_message)
    found: list[tuple[datetime, int, str, bool]] = [
        (created_at, message_id, mid, kind == MessageKind.CUSTOMER)
        for mid, created_at, message_id, kind in headers.values_list(
            "header_message_id", "message__created_at", "message_id", "message__kind"
        )
    ]
    acks = OutboundEmail.objects.filter(
        ticket=ticket, kind=OutboundKind.ACKNOWLEDGEMENT, status__in=_COUNTED
    ).values_list("header_message_id", "created_at")
    found += [(created_at, 0, mid, False) for mid, created_at in acks]
    found.sort()
    ids = list(dict.fromkeys(mid for _, _, mid, _ in found))
    from_customer = [mid for _, _, mid, is_customer in found if is_customer]
    return Thread(ids=ids, answering=from_customer[-1] if from_customer else (ids[-1] if ids else ""))


# --- the circuit breaker ---------------------------------------------------------------------


def breaker_reason(*, ticket_id: int, recipients: Sequence[str], now: datetime) -> str | None:
    """Why a new mail must be held: too many mails on this ticket, or to one recipient, in the
    last hour (mails queued, being sent or sent; failed and held ones do not count). A loop with
    an auto-responder that the loop detector missed stops here. Two reads."""
    since = now - timedelta(hours=1)
    recent = OutboundEmail.objects.filter(created_at__gt=since, status__in=_COUNTED)
    # No index on created_at alone: the newest row older than the window is found by walking
    # the primary key backwards (ids grow with created_at), so the count below reads only the
    # last hour's rows (a range of the primary key) instead of the whole outbox history.
    boundary = (
        OutboundEmail.objects.filter(created_at__lte=since)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    if boundary is not None:
        recent = recent.filter(pk__gt=boundary)
    addresses = list(dict.fromkeys(address.lower() for address in recipients))
    # Stored entries always write the address in angle brackets (MailAddress.formatted), so
    # "<address>" matches that recipient only.
    counts = recent.aggregate(
        on_ticket=Count("pk", filter=Q(ticket_id=ticket_id)),
        **{
            f"r{index}": Count("pk", filter=Q(to__icontains=f"<{address}>") | Q(cc__icontains=f"<{address}>"))
            for index, address in enumerate(addresses)
        },
    )
    ticket_limit = settings.MAIL_MAX_PER_TICKET_HOUR
    if counts["on_ticket"] >= ticket_limit:
        return (
            f"{counts['on_ticket']} emails were sent on this ticket in the last hour "
            f"(the limit is {ticket_limit} an hour)"
        )
    recipient_limit = settings.MAIL_MAX_PER_RECIPIENT_HOUR
    for index, address in enumerate(addresses):
        if counts[f"r{index}"] >= recipient_limit:
            return (
                f"{counts[f'r{index}']} emails were sent to {address} in the last hour "
                f"(the limit is {recipient_limit} an hour)"
            )
    return None


# --- queueing --------------------------------------------------------------------------------


def _send_after_commit(outbound_id: int) -> None:
    # Imported here: the task module imports this one.
    from relaydesk.core.jobs import enqueue_on_commit
    from relaydesk.mail.outbox_tasks import send_outbound_email

    enqueue_on_commit(send_outbound_email, outbound_id)


def _save_and_dispatch(ticket: Ticket, row: OutboundEmail, recipients: list[str]) -> OutboundEmail:
    reason = breaker_reason(ticket_id=ticket.pk, recipients=recipients, now=row.created_at)
    if reason is not None:
        row.status = OutboundStatus.HELD
        row.last_error = f"Held by the circuit breaker: {reason}."
    row.save()
    if reason is None:
        _send_after_commit(row.pk)
        return row
    what = "reply" if row.kind == OutboundKind.REPLY else "acknowledgement"
    do_add_system_message(
        ticket,
        f"The email {what} to {', '.join(recipients)} was not sent: {reason}. "
        "It is held; an admin can release it from the outbox.",
    )
    logger.warning("Outbound email %s on ticket %s held: %s", row.pk, ticket.pk, reason)
    return row


def do_queue_reply(ticket: Ticket, message: Message) -> OutboundEmail | None:
    """Queue ``message`` (an agent's public reply on ``ticket``, locked) as email, in the caller's
    transaction; None when the ticket has no email route (no mailbox, nobody to write to, a
    channel that answers elsewhere). Internal notes and system messages never leave.

    Raises ValidationFailed when the customer's own address cannot take mail (the agent can fix
    the contact); the caller's transaction, and with it the reply, is rolled back.
    """
    if message.kind != MessageKind.REPLY or message.ticket_id != ticket.pk:
        return None
    route = reply_route(ticket)
    if route is None:
        return None
    message_id = _own_id(ticket.pk, message.pk)
    thread = thread_of(ticket, exclude_message=message)
    MessageHeader.objects.create(message=message, ticket=ticket, header_message_id=message_id)
    now = timezone.now()
    row = OutboundEmail(
        ticket=ticket,
        message=message,
        mailbox=route.mailbox,
        kind=OutboundKind.REPLY,
        to=[recipient.formatted() for recipient in route.to],
        cc=[recipient.formatted() for recipient in route.cc],
        subject=outbound_mime.reply_subject(ticket.subject, ticket.pk),
        header_message_id=message_id,
        in_reply_to=thread.answering,
        references=" ".join(outbound_mime.cap_references(thread.ids, MAX_REFERENCES)),
        created_at=now,
        next_attempt_at=now,
    )
    return _save_and_dispatch(ticket, row, route.addresses)


def _acknowledgement_template(language: str) -> tuple[str, str]:
    """(subject, body) for ``language``: its template, its base language's ("pt" for "pt-br"),
    English, else the built-in English text."""
    wanted = [language, language.split("-", 1)[0], "en"]
    templates = {t.language: t for t in AcknowledgementTemplate.objects.filter(language__in=wanted)}
    for code in wanted:
        if code in templates:
            return templates[code].subject, templates[code].body
    return DEFAULT_ACK_SUBJECT, DEFAULT_ACK_BODY


def _ack_values(ticket: Ticket, name: str) -> dict[str, str]:
    return {"number": str(ticket.pk), "subject": ticket.subject, "name": name or ticket.requester.name}


def render_acknowledgement(ticket: Ticket, *, name: str) -> tuple[str, str]:
    """(subject, text) of the acknowledgement of ``ticket``; the subject carries ``[#number]``."""
    subject_template, body_template = _acknowledgement_template(ticket.language)
    values = _ack_values(ticket, name)
    subject = outbound_mime.fill_placeholders(subject_template, values)
    body = outbound_mime.fill_placeholders(body_template, values)
    return outbound_mime.with_ticket_token(subject, ticket.pk), body


def do_queue_acknowledgement(
    ticket: Ticket, *, inbound: InboundEmail, parsed: ParsedMail
) -> OutboundEmail | None:
    """Queue the acknowledgement of a new email ticket, in the caller's transaction.

    Only to a person (never to automatic mail, our own mailboxes or an unusable address), only
    from an active mailbox that acknowledges; once per ticket (the Message-ID is derived from
    the ticket's first message, and a second call returns the first row).
    """
    mailbox = inbound.mailbox
    if mailbox is None or not mailbox.is_active or not mailbox.send_acknowledgement:
        return None
    own = _own_addresses()
    if is_automatic(parsed, own_message_id_domain=settings.MAIL_ID_DOMAIN, own_addresses=own):
        return None
    address = inbound.reply_to or next(iter(parsed.reply_to), "") or parsed.from_address or ""
    same_as_from = parsed.from_address is not None and address.lower() == parsed.from_address.lower()
    try:
        to = outbound_mime.parse_address(address, parsed.from_name if same_as_from else "")
    except HeaderValueError:
        logger.info("Ticket %s: no acknowledgement, %r is not a usable address", ticket.pk, address)
        return None
    if _is_own(to.address, own):
        return None
    first_message_id = inbound.message_id or (
        ticket.messages.order_by("created_at", "id").values_list("pk", flat=True).first()
    )
    if first_message_id is None:
        return None
    message_id = _own_id(ticket.pk, first_message_id)
    existing = OutboundEmail.objects.filter(header_message_id=message_id).first()
    if existing is not None:
        return existing
    subject, _body = render_acknowledgement(ticket, name=to.name)
    customer_id = parsed.message_id or ""
    references = outbound_mime.cap_references([*parsed.references, customer_id], MAX_REFERENCES)
    now = timezone.now()
    row = OutboundEmail(
        ticket=ticket,
        message=None,
        mailbox=mailbox,
        kind=OutboundKind.ACKNOWLEDGEMENT,
        to=[to.formatted()],
        cc=[],
        subject=subject,
        header_message_id=message_id,
        in_reply_to=customer_id,
        references=" ".join(references),
        created_at=now,
        next_attempt_at=now,
    )
    return _save_and_dispatch(ticket, row, [to.address])


def check_release_held(user: User, outbound_id: int) -> OutboundEmail:
    """An admin releases a mail the circuit breaker held: it is queued again and sent now,
    without a second breaker check (the admin decided). Noted on the ticket."""
    if not user.is_active or not user.is_admin:
        raise PermissionDenied("Only admins can release held emails.")
    with transaction.atomic():
        row = OutboundEmail.objects.filter(pk=outbound_id).first()
        if row is None:
            raise NotFound("There is no such email in the outbox.")
        ticket = Ticket.objects.select_for_update().get(pk=row.ticket_id)
        now = timezone.now()
        released = OutboundEmail.objects.filter(pk=row.pk, status=OutboundStatus.HELD).update(
            status=OutboundStatus.QUEUED, next_attempt_at=now, last_error=""
        )
        if not released:
            raise ValidationFailed("This email is not held (it was released already, or never held).")
        do_add_system_message(ticket, f"{user} released the held email “{row.subject}”; it is being sent.")
        _send_after_commit(row.pk)
        row.refresh_from_db()
    return row


# --- building the message --------------------------------------------------------------------


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _quote_for(reply: Message) -> Quote | None:
    """The customer message this reply answers (the latest before it), to quote under it."""
    quoted = (
        Message.objects.filter(ticket_id=reply.ticket_id, kind=MessageKind.CUSTOMER)
        .filter(Q(created_at__lt=reply.created_at) | Q(created_at=reply.created_at, pk__lt=reply.pk))
        .select_related("author_contact", "ticket__requester")
        .order_by("-created_at", "-id")
        .first()
    )
    if quoted is None:
        return None
    contact = quoted.author_contact or quoted.ticket.requester
    when = timezone.localtime(quoted.created_at, _zone(contact.time_zone))
    attribution = gettext("On %(date)s, %(name)s wrote:") % {
        "date": formats.date_format(when, "DATETIME_FORMAT"),
        "name": quoted.author_name,
    }
    return Quote(attribution=attribution, text=quoted.body_text, html=quoted.body_html)


def _attachments_of(message: Message) -> list[outbound_mime.OutboundAttachment]:
    files = []
    for attachment in message.attachments.order_by("id"):
        with attachment.file.open("rb") as handle:
            content = handle.read()
        files.append(outbound_mime.OutboundAttachment(attachment.filename, attachment.content_type, content))
    return files


def build_outbound(row: OutboundEmail) -> delivery.BuiltMail:
    """The wire bytes of ``row`` (with its mailbox, ticket and message loaded).

    Built from the rows each time it is sent (no body is stored twice): everything that makes
    the mail the same mail — Message-ID, Date (the queueing instant), recipients, subject,
    threading — comes from the row, so a resend is the same message to the receiving side.
    Raises HeaderValueError on data that cannot make a valid message (a permanent failure).
    """
    mailbox = row.mailbox
    if mailbox is None:
        raise HeaderValueError("the email has no mailbox to send from")
    sender = outbound_mime.parse_address(mailbox.address, mailbox.display_name)
    to = [outbound_mime.parse_formatted(entry) for entry in row.to]
    cc = [outbound_mime.parse_formatted(entry) for entry in row.cc]
    ticket = row.ticket
    headers: list[tuple[str, str]] = [("X-Loop", sender.address)]
    attachments: list[outbound_mime.OutboundAttachment] = []
    with translation.override(ticket.language or "en"):
        if row.kind == OutboundKind.ACKNOWLEDGEMENT:
            _subject, text = render_acknowledgement(ticket, name=to[0].name if to else "")
            body_text, body_html = text.strip() + "\n", text_to_html(text)
            # RFC 3834: an automatic answer says so, and asks other robots not to answer it.
            headers += [
                ("Auto-Submitted", "auto-replied"),
                ("X-Auto-Response-Suppress", "All"),
                ("Precedence", "auto_reply"),
            ]
        else:
            message = row.message
            if message is None:
                raise HeaderValueError("the reply's message was deleted")
            quote = _quote_for(message)
            body_text = outbound_mime.reply_text(message.body_text, quote)
            body_html = outbound_mime.reply_html(message.body_html, quote)
            attachments = _attachments_of(message)
            # A person wrote this: no Auto-Submitted (RFC 3834 keeps that for machine-made mail,
            # and receivers would suppress their own legitimate answers). Exchange is only asked
            # not to send its out-of-office and auto-replies back to the ticket.
            headers.append(("X-Auto-Response-Suppress", "OOF, AutoReply"))
    content = MailContent(
        sender=sender,
        to=to,
        cc=cc,
        subject=row.subject,
        message_id=row.header_message_id,
        in_reply_to=row.in_reply_to,
        references=row.references.split(),
        date=row.created_at,
        text=body_text,
        html=body_html,
        attachments=attachments,
        headers=headers,
        language=ticket.language,
    )
    return delivery.BuiltMail(
        envelope_from=sender.address,
        recipients=[recipient.address for recipient in (*to, *cc)],
        raw=outbound_mime.render(content),
        subject=row.subject,
    )


# --- the send step ---------------------------------------------------------------------------


def claim(outbound_id: int, *, now: datetime) -> bool:
    """Take ``outbound_id`` for sending: queued and due, or sending with an expired lease.

    One conditional UPDATE: of two workers racing, exactly one changes the row. The attempt is
    counted here, so a worker that dies mid-send has used one attempt.
    """
    claimed = OutboundEmail.objects.filter(
        pk=outbound_id,
        status__in=(OutboundStatus.QUEUED, OutboundStatus.SENDING),
        next_attempt_at__lte=now,
    ).update(status=OutboundStatus.SENDING, next_attempt_at=now + LEASE, attempts=F("attempts") + 1)
    return claimed == 1


def backoff(attempts: int) -> timedelta:
    """The wait after the ``attempts``-th failed attempt: 1, 2, 4, 8 … minutes."""
    return timedelta(minutes=2 ** max(0, min(attempts - 1, 16)))


def _tell_ticket(row: OutboundEmail, text: str, *, status: str, error: str, now: datetime) -> None:
    """Finish ``row`` as ``status`` and note ``text`` on its ticket, once (only the worker
    that still holds the row writes)."""
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=row.ticket_id)
        changed = OutboundEmail.objects.filter(pk=row.pk, status=OutboundStatus.SENDING).update(
            status=status, last_error=error[:2000], next_attempt_at=now
        )
        if changed:
            do_add_system_message(ticket, text)


def _recipients_text(row: OutboundEmail) -> str:
    return ", ".join(outbound_mime.one_line(entry) for entry in [*row.to, *row.cc])


def _failed(row: OutboundEmail, failure: delivery.SendFailure, *, now: datetime, attempts: int) -> str:
    what = "reply" if row.kind == OutboundKind.REPLY else "acknowledgement"
    if failure.permanent:
        text = f"The email {what} to {_recipients_text(row)} could not be delivered: {failure.text}"
    else:
        text = (
            f"The email {what} to {_recipients_text(row)} could not be sent after {attempts} attempts; "
            f"the last error was: {failure.text}"
        )
    _tell_ticket(row, text, status=OutboundStatus.FAILED, error=failure.text, now=now)
    logger.warning("Outbound email %s failed for good: %s", row.pk, failure.text)
    return OutboundStatus.FAILED


def send_outbound(outbound_id: int, *, now: datetime | None = None) -> str | None:
    """Claim, build, send and record one outbox row; returns its new status, or None when the
    row was not ours to send (sent already, another worker holds it, not due yet).

    Never raises for a mail problem (a bad address, a refusing server): those end in the row.
    Database errors do raise; the row then keeps its lease and the drain retries it later.
    """
    now = now or timezone.now()
    if not claim(outbound_id, now=now):
        return None
    row = OutboundEmail.objects.select_related("mailbox", "ticket", "message").filter(pk=outbound_id).first()
    if row is None:  # deleted with its ticket since the claim
        return None
    limit = settings.MAIL_SEND_ATTEMPTS
    if row.attempts > limit:
        # Only a worker that died mid-send (after claiming) gets here: stop trying for ever.
        return _failed(
            row,
            delivery.SendFailure(row.last_error or "the worker stopped while sending", permanent=False),
            now=now,
            attempts=row.attempts - 1,
        )
    try:
        mail = build_outbound(row)
    except Exception as error:  # any data problem fails this mail, never the worker
        if isinstance(error, OSError):  # the attachment storage is unreachable: try again later
            failure = delivery.SendFailure(f"An attachment could not be read: {error}", permanent=False)
        else:
            if not isinstance(error, HeaderValueError):
                logger.exception("Outbound email %s could not be built", row.pk)
            failure = delivery.SendFailure(f"The email could not be built: {error}", permanent=True)
        return _record_failure(row, failure, now=now)
    assert row.mailbox is not None  # build_outbound refuses a row without one
    refused: dict[str, tuple[int, bytes]] = {}
    try:
        if row.mailbox.smtp_host:
            refused = delivery.deliver_smtp(row.mailbox, mail)
        else:
            delivery.deliver_django(mail)
    except Exception as error:  # classified: temporary ones retry, permanent ones fail
        return _record_failure(row, delivery.classify(error), now=now)
    return _record_sent(row, refused, now=timezone.now())


def _record_sent(row: OutboundEmail, refused: dict[str, tuple[int, bytes]], *, now: datetime) -> str:
    if not refused:
        OutboundEmail.objects.filter(pk=row.pk, status=OutboundStatus.SENDING).update(
            status=OutboundStatus.SENT, sent_at=now, last_error=""
        )
        return OutboundStatus.SENT
    # Some recipients were refused, the others got it: the mail is sent, the ticket is told.
    texts = "; ".join(
        f"{rcpt}: {delivery.smtp_reply_text(code, reply)}" for rcpt, (code, reply) in refused.items()
    )
    with transaction.atomic():
        ticket = Ticket.objects.select_for_update().get(pk=row.ticket_id)
        changed = OutboundEmail.objects.filter(pk=row.pk, status=OutboundStatus.SENDING).update(
            status=OutboundStatus.SENT, sent_at=now, last_error=f"Refused: {texts}"[:2000]
        )
        if changed:
            do_add_system_message(ticket, f"The email was sent, but these recipients were refused: {texts}")
    return OutboundStatus.SENT


def _record_failure(row: OutboundEmail, failure: delivery.SendFailure, *, now: datetime) -> str:
    attempts = row.attempts
    if failure.permanent or attempts >= settings.MAIL_SEND_ATTEMPTS:
        return _failed(row, failure, now=now, attempts=attempts)
    retry_at = now + backoff(attempts)
    OutboundEmail.objects.filter(pk=row.pk, status=OutboundStatus.SENDING).update(
        status=OutboundStatus.QUEUED, next_attempt_at=retry_at, last_error=failure.text[:2000]
    )
    logger.info(
        "Outbound email %s: attempt %s failed (%s); retrying at %s", row.pk, attempts, failure.text, retry_at
    )
    return OutboundStatus.QUEUED


@dataclass
class DrainResult:
    sent: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0  # claimed by another worker first
    statuses: dict[int, str | None] = field(default_factory=dict)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed


def _due(now: datetime) -> QuerySet[OutboundEmail]:
    """Rows to send now: queued and due, or sending with an expired lease (a worker died)."""
    return OutboundEmail.objects.filter(
        status__in=(OutboundStatus.QUEUED, OutboundStatus.SENDING), next_attempt_at__lte=now
    )


def due_ids(*, now: datetime, limit: int) -> list[int]:
    """The ids of due rows, the longest-waiting first (the partial index ``outbound_due``)."""
    return list(_due(now).order_by("next_attempt_at", "id").values_list("pk", flat=True)[:limit])


def send_due(
    *, now: datetime | None = None, batch: int = DRAIN_BATCH, max_seconds: float = DRAIN_SECONDS
) -> DrainResult:
    """Send every due row, one by one, until none is left, ``batch`` rows were looked at, or
    ``max_seconds`` passed. Safe to run in many workers at once: each row is claimed first.

    Drains running at once would walk the same list and try to claim every row the other one
    already sent (a lost claim is a write, and on SQLite a wait for the write lock). So the list
    is shuffled, and re-read in chunks of ``DRAIN_CHUNK``: only rows still due are claimed.
    """
    result = DrainResult()
    started = time.monotonic()
    ids = due_ids(now=now or timezone.now(), limit=batch)
    random.shuffle(ids)
    for first in range(0, len(ids), DRAIN_CHUNK):
        chunk = ids[first : first + DRAIN_CHUNK]
        still_due = set(_due(now or timezone.now()).filter(pk__in=chunk).values_list("pk", flat=True))
        for outbound_id in chunk:
            if time.monotonic() - started > max_seconds:
                return result
            status = send_outbound(outbound_id, now=now) if outbound_id in still_due else None
            result.statuses[outbound_id] = status
            if status is None:
                result.skipped += 1
            elif status == OutboundStatus.SENT:
                result.sent += 1
            elif status == OutboundStatus.QUEUED:
                result.retrying += 1
            else:
                result.failed += 1
    return result
