"""Every change to a ticket goes through here.

``do_*`` functions are trusted writes: they change rows, write the TicketEvent for each
change and schedule side effects on commit. They expect to run inside
``transaction.atomic`` with the ticket locked (``access_ticket(..., for_update=True)``).
``check_*`` functions validate input and permission, then call a ``do_*`` function.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from relaydesk.accounts.models import Level, Team, User
from relaydesk.core.errors import Conflict, PermissionDenied, ValidationFailed
from relaydesk.core.parsing import without_nul
from relaydesk.core.sanitize import html_to_text, sanitize_html, text_to_html
from relaydesk.customers.actions import clean_email, clean_language, find_or_create_contacts_by_email
from relaydesk.customers.models import Contact
from relaydesk.notifications.actions import do_notify
from relaydesk.notifications.models import NotificationKind
from relaydesk.sla.actions import SLA_FIELDS, do_start_clocks, do_sync_clocks
from relaydesk.tickets import events, lifecycle
from relaydesk.tickets.access import access_ticket, visible_tickets
from relaydesk.tickets.models import (
    Attachment,
    Category,
    Channel,
    Direction,
    Message,
    MessageKind,
    Priority,
    Product,
    Status,
    Tag,
    Ticket,
)

MAX_SUBJECT_LENGTH = 255
MAX_BODY_LENGTH = 200_000
MENTION_RE = re.compile(r"(?<![\w.])@([A-Za-z0-9._%+-]+(?:@[A-Za-z0-9.-]+\.[A-Za-z]{2,})?)")


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Any = _Unset()


@dataclass(frozen=True)
class NewAttachment:
    filename: str
    content_type: str
    content: bytes
    # An email's inline part (``cid:`` in its HTML), resolved only within its own message.
    content_id: str = ""
    is_inline: bool = False


# --- validation helpers -------------------------------------------------------------------


def clean_subject(subject: str) -> str:
    # Subjects end up in email headers later: collapse all whitespace, CR/LF included.
    cleaned = " ".join(without_nul(subject).split())
    if not cleaned:
        raise ValidationFailed("The subject cannot be empty.", field="subject")
    if len(cleaned) > MAX_SUBJECT_LENGTH:
        raise ValidationFailed(
            f"The subject is longer than {MAX_SUBJECT_LENGTH} characters.", field="subject"
        )
    return cleaned


def clean_body(body_text: str, body_html: str = "") -> tuple[str, str]:
    """Return (text, sanitised html) for a message body given as text or HTML."""
    body_text, body_html = without_nul(body_text), without_nul(body_html)
    if body_html.strip():
        safe_html = sanitize_html(body_html)
        text = body_text.strip() or html_to_text(safe_html)
    else:
        text = (body_text or "").strip()
        safe_html = text_to_html(text)
    if not text:
        raise ValidationFailed("The message cannot be empty.", field="body")
    if len(text) > MAX_BODY_LENGTH or len(safe_html) > 2 * MAX_BODY_LENGTH:
        raise ValidationFailed("The message is too long.", field="body")
    return text, safe_html


def _check_attachments(attachments: Sequence[NewAttachment]) -> None:
    for attachment in attachments:
        if len(attachment.content) > settings.MAX_ATTACHMENT_BYTES:
            limit_mb = settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)
            raise ValidationFailed(
                f"{attachment.filename} is larger than the {limit_mb} MB limit.", field="attachments"
            )


def _safe_filename(name: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = re.sub(r"[^\w.\- ]", "_", base).strip(" .") or "attachment"
    return base[:200]


def _check_assignable(user: User | None) -> None:
    if user is not None and not user.is_active:
        raise ValidationFailed(f"{user} is deactivated and cannot be assigned.", field="assignee")


def _bump(ticket: Ticket, fields: list[str]) -> None:
    """Save a change: the SLA clocks follow it in the same transaction, and the version moves on."""
    if SLA_FIELDS.intersection(fields):
        fields += do_sync_clocks(ticket, pending_events=events.pending_for(ticket))
    ticket.version += 1
    ticket.updated_at = timezone.now()
    ticket.save(update_fields=[*fields, "version", "updated_at"])


# --- creating -----------------------------------------------------------------------------


@dataclass(frozen=True)
class EmailRequester:
    """A requester known by a (cleaned) address: found, or created with ``name``, when the ticket is."""

    address: str
    name: str = ""


@dataclass
class NewTicket:
    """A ticket to open with its first message; ``body_*`` already cleaned (``clean_body``)."""

    subject: str
    requester: Contact | EmailRequester
    body_text: str
    body_html: str = ""
    channel: str = Channel.EMAIL
    acting_user: User | None = None
    priority: int = Priority.P3
    team: Team | None = None
    assignee: User | None = None
    level: str = Level.L1
    tags: Iterable[str] = ()
    language: str | None = None
    category: Category | None = None
    product: Product | None = None
    call_duration_seconds: int | None = None
    first_message_kind: str = MessageKind.CUSTOMER
    follow_up_of: Ticket | None = None
    attachments: Sequence[NewAttachment] = ()


class OpenedTicket(NamedTuple):
    """A ticket ``do_create_tickets`` opened, with its first message."""

    ticket: Ticket
    first_message: Message


def do_create_ticket(
    *,
    subject: str,
    requester: Contact,
    body_text: str,
    body_html: str = "",
    channel: str = Channel.EMAIL,
    acting_user: User | None = None,
    priority: int = Priority.P3,
    team: Team | None = None,
    assignee: User | None = None,
    level: str = Level.L1,
    tags: Iterable[str] = (),
    language: str | None = None,
    category: Category | None = None,
    product: Product | None = None,
    call_duration_seconds: int | None = None,
    first_message_kind: str = MessageKind.CUSTOMER,
    follow_up_of: Ticket | None = None,
    attachments: Sequence[NewAttachment] = (),
) -> Ticket:
    """Create a ticket with its first message. ``body_*`` must already be cleaned."""
    new = NewTicket(
        subject=subject,
        requester=requester,
        body_text=body_text,
        body_html=body_html,
        channel=channel,
        acting_user=acting_user,
        priority=priority,
        team=team,
        assignee=assignee,
        level=level,
        tags=tags,
        language=language,
        category=category,
        product=product,
        call_duration_seconds=call_duration_seconds,
        first_message_kind=first_message_kind,
        follow_up_of=follow_up_of,
        attachments=attachments,
    )
    return do_create_tickets([new])[0].ticket


def do_create_tickets(new_tickets: Sequence[NewTicket]) -> list[OpenedTicket]:
    """Open tickets, each with its first message, events, tags and SLA clocks, in bulk statements.

    The one way tickets are created: one ticket costs the same statements as many, so callers
    that receive many at once (``tickets.api.create_batches``) write them together.
    """
    if not new_tickets:
        return []
    requesters = _requesters(new_tickets)
    with events.batched():
        now = timezone.now()
        tickets = [
            _new_ticket(new, requester, now) for new, requester in zip(new_tickets, requesters, strict=True)
        ]
        tag_names = [_normalise_tags(new.tags) for new in new_tickets]
        for ticket, new, names in zip(tickets, new_tickets, tag_names, strict=True):
            events.ticket_created_event(ticket=ticket, actor=new.acting_user)
            if names:  # a new ticket has none to compare with
                events.tags_changed_event(
                    ticket=ticket, actor=new.acting_user, added=sorted(names), removed=[]
                )
        Ticket.objects.bulk_create(tickets)
        _link_new_tags(tickets, tag_names)
        messages = _write_first_messages(tickets, new_tickets)
        for ticket, new in zip(tickets, new_tickets, strict=True):
            if new.assignee is not None:
                events.assignee_changed_event(
                    ticket=ticket, actor=new.acting_user, old=None, new=new.assignee
                )
                do_notify(
                    recipient=new.assignee,
                    kind=NotificationKind.ASSIGNED,
                    actor=new.acting_user,
                    ticket_id=ticket.pk,
                    text=f"#{ticket.pk} {ticket.subject} was assigned to you",
                )
        do_start_clocks([(ticket, events.pending_for(ticket)) for ticket in tickets])
    return [OpenedTicket(ticket, message) for ticket, message in zip(tickets, messages, strict=True)]


def _requesters(new_tickets: Sequence[NewTicket]) -> list[Contact]:
    by_address = [new.requester for new in new_tickets if isinstance(new.requester, EmailRequester)]
    found = find_or_create_contacts_by_email([(each.address, each.name) for each in by_address])
    return [
        found[each.address.lower()] if isinstance(each := new.requester, EmailRequester) else each
        for new in new_tickets
    ]


def _new_ticket(new: NewTicket, requester: Contact, now: datetime) -> Ticket:
    ticket = Ticket(
        subject=new.subject,
        requester=requester,
        organization_id=requester.organization_id,
        channel=new.channel,
        priority=new.priority,
        status=lifecycle.status_after_assignment(Status.NEW, has_assignee=new.assignee is not None),
        team=new.team,
        assignee=new.assignee,
        level=new.level,
        language=new.language or requester.language,
        category=new.category,
        product=new.product,
        call_duration_seconds=new.call_duration_seconds,
        follow_up_of=new.follow_up_of,
        created_at=now,
        updated_at=now,
        waiting_since=now,
    )
    if Contact.organization.is_cached(requester):  # loaded: the SLA table reads its tier from it
        ticket.organization = requester.organization
    return ticket


def _link_new_tags(tickets: Sequence[Ticket], tag_names: Sequence[set[str]]) -> None:
    wanted = set().union(*tag_names)
    if not wanted:
        return
    tags = {tag.name: tag for tag in _get_or_create_tags(wanted)}
    link = Ticket.tags.through
    link.objects.bulk_create(
        [
            link(ticket_id=ticket.pk, tag_id=tags[name].pk)
            for ticket, names in zip(tickets, tag_names, strict=True)
            for name in sorted(names)
        ]
    )


def _write_first_messages(tickets: Sequence[Ticket], new_tickets: Sequence[NewTicket]) -> list[Message]:
    messages = []
    for ticket, new in zip(tickets, new_tickets, strict=True):
        from_customer = new.first_message_kind == MessageKind.CUSTOMER
        messages.append(
            _new_message(
                ticket,
                kind=MessageKind.CUSTOMER if from_customer else MessageKind.NOTE,
                body_text=new.body_text,
                body_html=new.body_html,
                author_contact=ticket.requester if from_customer else None,
                author_user=None if from_customer else new.acting_user,
            )
        )
    Message.objects.bulk_create(messages)
    for message, new in zip(messages, new_tickets, strict=True):
        _store_attachments(message, new.attachments)
        events.message_added_event(ticket=message.ticket, actor=new.acting_user, message=message)
    return messages


def check_new_ticket(
    user: User,
    *,
    subject: str,
    requester: Contact | EmailRequester,
    body_text: str = "",
    body_html: str = "",
    channel: str = Channel.PHONE,
    priority: int = Priority.P3,
    team: Team | None = None,
    assignee: User | None = None,
    tags: Iterable[str] = (),
    language: str | None = None,
    category: Category | None = None,
    product: Product | None = None,
    call_duration_seconds: int | None = None,
    description_is_note: bool = False,
    attachments: Sequence[NewAttachment] = (),
) -> NewTicket:
    """Validate a ticket an agent opens on a customer's behalf (a phone call, a walk-in, the API)."""
    if not user.is_active:
        raise PermissionDenied("Your account is deactivated.")
    clean = clean_subject(subject)
    text, safe_html = clean_body(body_text, body_html)
    if channel not in Channel.values:
        raise ValidationFailed(f"Unknown channel {channel!r}.", field="channel")
    if priority not in Priority.values:
        raise ValidationFailed("Priority must be 1, 2, 3 or 4.", field="priority")
    if call_duration_seconds is not None and not 0 <= call_duration_seconds <= 24 * 3600:
        raise ValidationFailed(
            "The call duration must be between 0 seconds and 24 hours.", field="call_duration"
        )
    if team is not None and not user.sees_all_tickets and team.pk not in user.team_ids:
        raise PermissionDenied("You can only create tickets for your own teams.", field="team")
    if team is None and not user.sees_all_tickets:
        team = user.first_team
    _check_assignable(assignee)
    _check_attachments(attachments)
    if isinstance(requester, EmailRequester):
        requester = EmailRequester(clean_email(requester.address, field="requester_email"), requester.name)
    return NewTicket(
        subject=clean,
        requester=requester,
        body_text=text,
        body_html=safe_html,
        channel=channel,
        acting_user=user,
        priority=priority,
        team=team,
        assignee=assignee,
        tags=tags,
        language=language,
        category=category,
        product=product,
        call_duration_seconds=call_duration_seconds,
        first_message_kind=MessageKind.NOTE if description_is_note else MessageKind.CUSTOMER,
        attachments=attachments,
    )


def check_create_ticket(user: User, **fields: Any) -> Ticket:
    """``check_new_ticket``, then open it at once (the API opens tickets in groups: ``create_batches``)."""
    new = check_new_ticket(user, **fields)
    # No savepoint: nothing here recovers from a failed statement; if one fails, the whole
    # (possibly enclosing) transaction is rolled back anyway.
    with transaction.atomic(savepoint=False):
        return do_create_tickets([new])[0].ticket


# --- messages -----------------------------------------------------------------------------


def _new_message(
    ticket: Ticket,
    *,
    kind: str,
    body_text: str,
    body_html: str,
    author_user: User | None = None,
    author_contact: Contact | None = None,
) -> Message:
    directions: dict[str, str] = {
        MessageKind.CUSTOMER: Direction.INBOUND,
        MessageKind.REPLY: Direction.OUTBOUND,
    }
    return Message(
        ticket=ticket,
        kind=kind,
        direction=directions.get(kind, Direction.INTERNAL),
        author_user=author_user,
        author_contact=author_contact,
        body_text=body_text,
        body_html=body_html or text_to_html(body_text),
        created_at=timezone.now(),
    )


def _store_attachments(message: Message, attachments: Sequence[NewAttachment]) -> None:
    for attachment in attachments:
        filename = _safe_filename(attachment.filename)
        stored = Attachment(
            ticket=message.ticket,
            message=message,
            filename=filename,
            content_type=attachment.content_type[:150] or "application/octet-stream",
            size=len(attachment.content),
            content_id=attachment.content_id[:255],
            is_inline=attachment.is_inline,
        )
        stored.file.save(filename, ContentFile(attachment.content), save=False)
        stored.save()


def _write_message(
    ticket: Ticket,
    *,
    kind: str,
    body_text: str,
    body_html: str,
    acting_user: User | None,
    author_user: User | None = None,
    author_contact: Contact | None = None,
    attachments: Sequence[NewAttachment] = (),
) -> Message:
    message = _new_message(
        ticket,
        kind=kind,
        body_text=body_text,
        body_html=body_html,
        author_user=author_user,
        author_contact=author_contact,
    )
    message.save()
    _store_attachments(message, attachments)
    events.message_added_event(ticket=ticket, actor=acting_user, message=message)
    return message


def do_add_customer_message(
    ticket: Ticket,
    *,
    body_text: str,
    body_html: str = "",
    author: Contact | None = None,
    attachments: Sequence[NewAttachment] = (),
    channel: str | None = None,
) -> Message:
    """A customer wrote on ``ticket`` (locked). Reopens a resolved ticket; a closed one gets a follow-up.

    ``channel`` is where this message arrived; a follow-up ticket takes it (a reply by email to
    a phone ticket is an email ticket).
    """
    author = author or ticket.requester
    if ticket.status == Status.CLOSED:
        opened = do_create_tickets(
            [
                NewTicket(
                    subject=ticket.subject,
                    requester=ticket.requester,
                    body_text=body_text,
                    body_html=body_html,
                    channel=channel or ticket.channel,
                    priority=ticket.priority,
                    team=ticket.team,
                    assignee=ticket.assignee if ticket.assignee and ticket.assignee.is_active else None,
                    level=ticket.level,
                    language=ticket.language,
                    category=ticket.category,
                    product=ticket.product,
                    follow_up_of=ticket,
                    attachments=attachments,
                )
            ]
        )[0]
        events.follow_up_event(ticket=ticket, actor=None, follow_up=opened.ticket)
        return opened.first_message

    message = _write_message(
        ticket,
        kind=MessageKind.CUSTOMER,
        body_text=body_text,
        body_html=body_html,
        author_contact=author,
        acting_user=None,
        attachments=attachments,
    )
    old_status = ticket.status
    new_status, reopened = lifecycle.status_after_customer_reply(
        old_status, has_assignee=ticket.assignee_id is not None
    )
    fields = []
    if new_status != old_status:
        ticket.status = new_status
        fields.append("status")
        if reopened:
            ticket.reopen_count += 1
            ticket.resolved_at = None
            fields += ["reopen_count", "resolved_at"]
            events.reopened_event(ticket=ticket, actor=None, old=old_status, new=new_status)
        else:
            events.status_changed_event(
                ticket=ticket, actor=None, old=old_status, new=new_status, reason="customer replied"
            )
    if not _is_waiting_on_us(ticket):
        ticket.waiting_since = message.created_at
        fields.append("waiting_since")
    _bump(ticket, fields)
    if ticket.assignee is not None:
        do_notify(
            recipient=ticket.assignee,
            kind=NotificationKind.CUSTOMER_REPLY,
            ticket_id=ticket.pk,
            text=f"{author} replied on #{ticket.pk} {ticket.subject}",
        )
    return message


def do_add_system_message(ticket: Ticket, text: str) -> Message:
    """Relaydesk itself notes something on ``ticket`` (locked): an automatic reply, a bounce.

    Internal like every system message; the status, the SLA clocks and the waiting time stay as
    they are, and a closed ticket takes it too (an out-of-office answer must not reopen anything).
    """
    body = without_nul(text).strip()[:MAX_BODY_LENGTH] or "(empty)"
    message = _write_message(ticket, kind=MessageKind.SYSTEM, body_text=body, body_html="", acting_user=None)
    _bump(ticket, [])
    return message


def _is_waiting_on_us(ticket: Ticket) -> bool:
    """True when the latest message before now is an unanswered customer message."""
    last = (
        ticket.messages.filter(kind__in=(MessageKind.CUSTOMER, MessageKind.REPLY))
        .order_by("-created_at", "-id")
        .values_list("kind", flat=True)[1:2]
    )
    return bool(last) and last[0] == MessageKind.CUSTOMER


def do_add_agent_message(
    ticket: Ticket,
    *,
    acting_user: User,
    kind: str,
    body_text: str,
    body_html: str = "",
    attachments: Sequence[NewAttachment] = (),
    new_status: str | None = None,
) -> Message:
    """An agent adds a public reply or an internal note to ``ticket`` (locked)."""
    message = _write_message(
        ticket,
        kind=kind,
        body_text=body_text,
        body_html=body_html,
        author_user=acting_user,
        acting_user=acting_user,
        attachments=attachments,
    )
    fields: list[str] = []
    if kind == MessageKind.REPLY:
        if ticket.first_response_at is None:
            ticket.first_response_at = message.created_at
            fields.append("first_response_at")
        ticket.waiting_since = message.created_at
        fields.append("waiting_since")
        if ticket.assignee_id is None:
            # Whoever answers an unowned ticket takes it.
            _set_assignee(ticket, acting_user, acting_user=acting_user, fields=fields)
        target = new_status or lifecycle.status_after_agent_reply(ticket.status)
        _set_status(ticket, target, acting_user=acting_user, fields=fields)
    else:
        if new_status:
            _set_status(ticket, new_status, acting_user=acting_user, fields=fields)
        _notify_mentions(ticket, message, acting_user)
    _bump(ticket, fields)
    if kind == MessageKind.REPLY:
        # Imported here: the outbox imports this module. Same transaction: the reply and its
        # outbox row commit together or not at all.
        from relaydesk.mail.outbox import do_queue_reply

        do_queue_reply(ticket, message)
    return message


def _notify_mentions(ticket: Ticket, message: Message, acting_user: User) -> None:
    handles = {handle.lower().rstrip(".") for handle in MENTION_RE.findall(message.body_text)}
    if not handles:
        return
    query = Q()
    for handle in handles:
        query |= Q(email__iexact=handle) if "@" in handle else Q(email__istartswith=f"{handle}@")
    for person in User.objects.filter(query, is_active=True):
        # A mention must not tell someone about a ticket they may not open.
        if not visible_tickets(person).filter(pk=ticket.pk).exists():
            continue
        do_notify(
            recipient=person,
            kind=NotificationKind.MENTION,
            actor=acting_user,
            ticket_id=ticket.pk,
            text=f"{acting_user} mentioned you on #{ticket.pk} {ticket.subject}",
        )


def mention_handle(user: User) -> str:
    """What to type after @ to mention ``user``: the local part of their email."""
    return user.email.split("@", 1)[0]


def check_add_message(
    user: User,
    ticket_id: int,
    *,
    kind: str,
    body_text: str = "",
    body_html: str = "",
    attachments: Sequence[NewAttachment] = (),
    new_status: str | None = None,
) -> Message:
    if kind not in (MessageKind.REPLY, MessageKind.NOTE):
        raise ValidationFailed("An agent can add a public reply or an internal note.", field="kind")
    text, safe_html = clean_body(body_text, body_html)
    _check_attachments(attachments)
    if new_status is not None and new_status not in Status.values:
        raise ValidationFailed(f"Unknown status {new_status!r}.", field="status")
    with transaction.atomic():
        ticket = access_ticket(user, ticket_id, for_update=True)
        if ticket.status == Status.CLOSED and kind == MessageKind.REPLY:
            raise ValidationFailed(
                "This ticket is closed. Create a follow-up ticket to write to the customer."
            )
        if ticket.merged_into_id:
            raise ValidationFailed(f"This ticket was merged into #{ticket.merged_into_id}; write there.")
        if new_status:
            has_assignee = ticket.assignee_id is not None or kind == MessageKind.REPLY
            start = ticket.status
            if kind == MessageKind.REPLY:
                start = lifecycle.status_after_agent_reply(
                    lifecycle.status_after_assignment(start, has_assignee=has_assignee)
                )
            lifecycle.check_transition(start, new_status, has_assignee=has_assignee)
        return do_add_agent_message(
            ticket,
            acting_user=user,
            kind=kind,
            body_text=text,
            body_html=safe_html,
            attachments=attachments,
            new_status=new_status,
        )


# --- changing fields ----------------------------------------------------------------------


def _set_status(ticket: Ticket, target: str, *, acting_user: User | None, fields: list[str]) -> None:
    old = ticket.status
    if old == target:
        return
    lifecycle.check_transition(old, target, has_assignee=ticket.assignee_id is not None)
    now = timezone.now()
    ticket.status = target
    fields.append("status")
    if target == Status.RESOLVED:
        ticket.resolved_at = now
        fields.append("resolved_at")
    elif target == Status.CLOSED:
        ticket.closed_at = now
        fields.append("closed_at")
        if ticket.resolved_at is None:
            ticket.resolved_at = now
            fields.append("resolved_at")
    elif old == Status.RESOLVED:
        ticket.resolved_at = None
        ticket.reopen_count += 1
        fields += ["resolved_at", "reopen_count"]
        events.reopened_event(ticket=ticket, actor=acting_user, old=old, new=target)
        return
    events.status_changed_event(ticket=ticket, actor=acting_user, old=old, new=target)


def _set_assignee(
    ticket: Ticket, assignee: User | None, *, acting_user: User | None, fields: list[str]
) -> None:
    old = ticket.assignee
    if (old.pk if old else None) == (assignee.pk if assignee else None):
        return
    ticket.assignee = assignee
    fields.append("assignee")
    events.assignee_changed_event(ticket=ticket, actor=acting_user, old=old, new=assignee)
    new_status = lifecycle.status_after_assignment(ticket.status, has_assignee=assignee is not None)
    if new_status != ticket.status:
        events.status_changed_event(
            ticket=ticket, actor=acting_user, old=ticket.status, new=new_status, reason="assignment"
        )
        ticket.status = new_status
        fields.append("status")
    if assignee is not None:
        do_notify(
            recipient=assignee,
            kind=NotificationKind.ASSIGNED,
            actor=acting_user,
            ticket_id=ticket.pk,
            text=f"#{ticket.pk} {ticket.subject} was assigned to you",
        )


def _normalise_tags(names: Iterable[str]) -> set[str]:
    cleaned = set()
    for name in names:
        slug = re.sub(r"[^\w-]+", "-", name.strip().lower()).strip("-")[:50]
        if slug:
            cleaned.add(slug)
    return cleaned


def _get_or_create_tags(names: set[str]) -> list[Tag]:
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    for name in names - existing.keys():
        existing[name], _ = Tag.objects.get_or_create(name=name)
    return list(existing.values())


def do_change_ticket(
    ticket: Ticket,
    *,
    acting_user: User | None,
    status: str = UNSET,
    priority: int = UNSET,
    assignee: User | None = UNSET,
    team: Team | None = UNSET,
    level: str = UNSET,
    tags: Iterable[str] = UNSET,
    add_tags: Iterable[str] = UNSET,
    remove_tags: Iterable[str] = UNSET,
    subject: str = UNSET,
    channel: str = UNSET,
    language: str = UNSET,
    category: Category | None = UNSET,
    product: Product | None = UNSET,
) -> list[str]:
    """Apply field changes to ``ticket`` (locked), one event each; returns the changed fields.

    Assignment is applied before status so "assign and set In progress" works in one save.
    A closed ticket is final: any change to it is refused (a customer reply opens a follow-up).
    """
    was_closed = ticket.status == Status.CLOSED
    fields: list[str] = []
    if team is not UNSET and team != ticket.team:
        events.team_changed_event(ticket=ticket, actor=acting_user, old=ticket.team, new=team)
        ticket.team = team
        fields.append("team")
    if assignee is not UNSET:
        _set_assignee(ticket, assignee, acting_user=acting_user, fields=fields)
    if status is not UNSET:
        _set_status(ticket, status, acting_user=acting_user, fields=fields)
    if priority is not UNSET and priority != ticket.priority:
        events.priority_changed_event(ticket=ticket, actor=acting_user, old=ticket.priority, new=priority)
        ticket.priority = priority
        fields.append("priority")
    if level is not UNSET and level != ticket.level:
        events.level_changed_event(ticket=ticket, actor=acting_user, old=ticket.level, new=level)
        ticket.level = level
        fields.append("level")
    simple_changes: tuple[tuple[str, Any], ...] = (
        ("subject", subject),
        ("channel", channel),
        ("language", language),
        ("category", category),
        ("product", product),
    )
    for name, value in simple_changes:
        if value is not UNSET and value != getattr(ticket, name):
            events.field_changed_event(
                ticket=ticket, actor=acting_user, field=name, old=getattr(ticket, name), new=value
            )
            setattr(ticket, name, value)
            fields.append(name)
    if tags is not UNSET or add_tags is not UNSET or remove_tags is not UNSET:
        current = set(ticket.tags.values_list("name", flat=True))
        wanted = _normalise_tags(tags) if tags is not UNSET else set(current)
        if add_tags is not UNSET:
            wanted |= _normalise_tags(add_tags)
        if remove_tags is not UNSET:
            wanted -= _normalise_tags(remove_tags)
        if wanted != current:
            ticket.tags.set(_get_or_create_tags(wanted))
            events.tags_changed_event(
                ticket=ticket,
                actor=acting_user,
                added=sorted(wanted - current),
                removed=sorted(current - wanted),
            )
            fields.append("tags")
    if fields and was_closed:
        # Raised after the events were written: the caller's transaction rolls them back.
        raise ValidationFailed(
            "A closed ticket cannot be changed. If the customer writes again, a follow-up opens."
        )
    model_fields = [f for f in fields if f != "tags"]
    if fields:
        _bump(ticket, model_fields)
    return fields


def _validate_changes(changes: dict[str, Any]) -> dict[str, Any]:
    if "subject" in changes:
        changes["subject"] = clean_subject(changes["subject"])
    if "status" in changes and changes["status"] not in Status.values:
        raise ValidationFailed(f"Unknown status {changes['status']!r}.", field="status")
    if "channel" in changes and changes["channel"] not in Channel.values:
        raise ValidationFailed(f"Unknown channel {changes['channel']!r}.", field="channel")
    if "priority" in changes and changes["priority"] not in Priority.values:
        raise ValidationFailed("Priority must be 1, 2, 3 or 4.", field="priority")
    if "language" in changes:
        changes["language"] = clean_language(changes["language"])
    if "level" in changes and changes["level"] not in Level.values:
        raise ValidationFailed(f"Unknown level {changes['level']!r}.", field="level")
    if "assignee" in changes:
        _check_assignable(changes["assignee"])
    return changes


def check_change_ticket(
    user: User, ticket_id: int, *, expected_version: int | None, **changes: Any
) -> tuple[Ticket, list[str]]:
    """Change fields of a ticket the user may see, refusing if it changed since ``expected_version``."""
    changes = _validate_changes({k: v for k, v in changes.items() if v is not UNSET})
    with transaction.atomic():
        ticket = access_ticket(user, ticket_id, for_update=True)
        if expected_version is not None and ticket.version != expected_version:
            raise Conflict(
                "Someone else changed this ticket while you were editing it. "
                "Your changes were not saved: reload to see theirs, then try again."
            )
        if ticket.merged_into_id and changes:
            raise ValidationFailed(f"This ticket was merged into #{ticket.merged_into_id}.")
        changed = do_change_ticket(ticket, acting_user=user, **changes)
    return ticket, changed


@dataclass
class BulkResult:
    changed: list[int]
    failed: dict[int, str]


def check_bulk_change(user: User, ticket_ids: Sequence[int], **changes: Any) -> BulkResult:
    """Apply the same change to many tickets; each ticket in its own transaction, errors collected."""
    from relaydesk.core.errors import RelaydeskError

    if len(ticket_ids) > 500:
        raise ValidationFailed("Select at most 500 tickets at a time.", field="tickets")
    result = BulkResult(changed=[], failed={})
    for ticket_id in ticket_ids:
        try:
            _, changed = check_change_ticket(user, ticket_id, expected_version=None, **changes)
        except RelaydeskError as exc:
            result.failed[ticket_id] = exc.message
        else:
            if changed:
                result.changed.append(ticket_id)
    return result


def check_merge_ticket(user: User, source_id: int, target_id: int) -> Ticket:
    """Merge ``source`` into ``target``: its messages move over, the source is closed and points there."""
    if source_id == target_id:
        raise ValidationFailed("A ticket cannot be merged into itself.", field="target")
    with transaction.atomic():
        # Lock in id order so two opposite merges cannot deadlock.
        first, second = sorted((source_id, target_id))
        locked = {
            first: access_ticket(user, first, for_update=True),
            second: access_ticket(user, second, for_update=True),
        }
        source, target = locked[source_id], locked[target_id]
        if source.merged_into_id or target.merged_into_id:
            raise ValidationFailed("One of these tickets is already merged.")
        if target.status == Status.CLOSED:
            raise ValidationFailed("A ticket cannot be merged into a closed ticket.", field="target")
        moved = source.messages.update(ticket=target)
        Attachment.objects.filter(ticket=source).update(ticket=target)
        _write_message(
            target,
            kind=MessageKind.SYSTEM,
            body_text=f"Ticket #{source.pk} was merged into this ticket ({moved} messages moved).",
            body_html="",
            acting_user=user,
        )
        # The source keeps a trace, so it never reads as an empty ticket.
        _write_message(
            source,
            kind=MessageKind.SYSTEM,
            body_text=f"This ticket was merged into #{target.pk}; its {moved} messages are there now.",
            body_html="",
            acting_user=user,
        )
        source.merged_into = target
        fields = ["merged_into"]
        old_status = source.status
        if old_status != Status.CLOSED:
            source.status = Status.CLOSED
            source.closed_at = timezone.now()
            fields += ["status", "closed_at"]
            events.status_changed_event(
                ticket=source, actor=user, old=old_status, new=Status.CLOSED, reason="merged"
            )
        events.merged_event(ticket=source, actor=user, into=target)
        _bump(source, fields)
        _bump(target, [])
    return target
