"""Inbound mail, step two: a stored raw message becomes a ticket message, or a row that says why not.

``process_inbound(inbound_id)`` runs in its own transaction with the ``InboundEmail`` row locked,
does nothing for a row that is no longer ``received`` (so a job that runs twice is harmless), and
never raises: a message that cannot be parsed (``MailParseError``: too large, too deep, ...) or any
unexpected error ends as ``quarantined`` with the error in ``reason``, the raw bytes untouched, for
an admin to look at and reprocess (``check_reprocess``). A failure rolls back everything the
attempt wrote; only the quarantine mark remains. Transient database errors (a lock timeout, a
deadlock, a lost connection) leave the row ``received`` for the periodic sweep, up to
``MAX_ATTEMPTS`` tries, before it is quarantined too.

What happens to a message (docs/email-channel.md has the reasoning):

* our own mail coming back (our Message-ID, one of our addresses as sender): ``ignored``;
* a delivery-status report: a system note on the ticket of the mail that bounced, and the failed
  address of that ticket's requester or follower is marked bounced; ``ignored`` when it matches
  no ticket;
* other automatic mail (auto-replies, lists, no-reply senders): a system note on the ticket it
  threads into (no status change, no follow-up, no acknowledgement); ``ignored`` when it threads
  nowhere, so two robots never open tickets for each other;
* a person's reply: a customer message on its ticket (a closed ticket gets a linked follow-up);
* anything else: a new email ticket for the sender, acknowledged when the mailbox says so.

Threading, strongest first: our signed Message-IDs in In-Reply-To/References, our signed
``+t{id}.{token}`` reply addresses, any other referenced Message-ID we stored (inbound or
outbound), then an unsigned ``[#1234]`` subject token, honoured only when the sender is that
ticket's requester or a follower.
"""

from __future__ import annotations

import hashlib
import html
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from relaydesk.accounts.models import User
from relaydesk.core.errors import NotFound, PermissionDenied, RelaydeskError, ValidationFailed
from relaydesk.customers.actions import clean_email, find_or_create_contact_by_email
from relaydesk.customers.models import Contact, ContactEmail
from relaydesk.mail.intake import header_summary
from relaydesk.mail.loops import is_automatic
from relaydesk.mail.models import (
    Follower,
    InboundEmail,
    InboundStatus,
    Mailbox,
    MessageHeader,
    OutboundEmail,
)
from relaydesk.mail.parsing import Limits, MailParseError, ParsedMail, normalize_address, parse_message
from relaydesk.mail.thread_refs import ThreadHints, candidate_ticket_ids, own_address_matched
from relaydesk.tickets.actions import (
    MAX_BODY_LENGTH,
    MAX_SUBJECT_LENGTH,
    EmailRequester,
    NewAttachment,
    NewTicket,
    do_add_customer_message,
    do_add_system_message,
    do_create_tickets,
)
from relaydesk.tickets.models import Channel, Message, Ticket

logger = logging.getLogger(__name__)

# A merged ticket points at the one it went into; chains are short, a cycle must not hang us.
MAX_MERGE_HOPS = 10
# Cc lists of hundreds (a mail to a whole department) must not flood a ticket with followers.
MAX_FOLLOWERS_PER_TICKET = 50
# How much of an automatic mail or a bounce report is copied into its system note.
MAX_NOTE_EXCERPT = 4000
# Messages processed together in one transaction (``process_inbound_many``), at most: enough to
# write new tickets in bulk, few enough that a group holds its locks briefly; and their raw size.
MAX_GROUP = 20
MAX_GROUP_BYTES = 8 * 1024 * 1024
# Reasons from ``is_automatic`` that mean the mail is our own, already on its ticket.
_OWN_MAIL_REASONS = {"our own Message-ID", "sent from our own address"}


@dataclass(frozen=True)
class Outcome:
    """What processing did with one inbound row (for the ingest command, the logs and tests)."""

    inbound_id: int
    status: str
    reason: str = ""
    ticket_id: int | None = None
    message_id: int | None = None
    created_ticket: bool = False
    matched_by: str = ""  # how a reply found its ticket: message-id, reply-address, references, subject

    def describe(self) -> str:
        if self.status == InboundStatus.PROCESSED:
            if self.created_ticket:
                return f"new ticket #{self.ticket_id}"
            return f"added to ticket #{self.ticket_id}"
        if self.status == "missing":
            return self.reason
        return f"{self.status}: {self.reason}" if self.reason else str(self.status)


def _outcome(row: InboundEmail, *, created_ticket: bool = False, matched_by: str = "") -> Outcome:
    return Outcome(
        inbound_id=row.pk,
        status=row.status,
        reason=row.reason,
        ticket_id=row.ticket_id,
        message_id=row.message_id,
        created_ticket=created_ticket,
        matched_by=matched_by,
    )


def limits() -> Limits:
    return Limits(max_bytes=settings.MAIL_MAX_BYTES, max_parts=settings.MAIL_MAX_PARTS)


def _secret() -> bytes:
    return settings.SECRET_KEY.encode()


# --- the job --------------------------------------------------------------------------------------


class Groups:
    """Cuts stored rows, as they come, into groups for ``process_inbound_many``.

    A group holds at most ``MAX_GROUP`` messages and ``MAX_GROUP_BYTES`` of raw mail (a bigger
    message goes alone); each full group is handed to ``hand_over``, the last one by ``close``.
    A row added twice is handed over once.
    """

    def __init__(self, hand_over: Callable[[list[int]], object]) -> None:
        self.hand_over = hand_over
        self.ids: list[int] = []
        self.size = 0
        self.seen: set[int] = set()

    def add(self, inbound_id: int, size: int) -> None:
        if inbound_id in self.seen:
            return
        self.seen.add(inbound_id)
        if self.ids and self.size + size > MAX_GROUP_BYTES:
            self.close()
        self.ids.append(inbound_id)
        self.size += size
        if len(self.ids) >= MAX_GROUP:
            self.close()

    def close(self) -> None:
        ids, self.ids, self.size = self.ids, [], 0
        if ids:
            self.hand_over(ids)


def process_inbound(inbound_id: int) -> Outcome:
    """Process the stored message ``inbound_id`` once. Never raises (see the module docstring)."""
    return process_inbound_many([inbound_id])[0]


def process_inbound_many(inbound_ids: Sequence[int]) -> list[Outcome]:
    """Process stored messages: an outcome for each id, in order (a repeated id is processed once).
    Never raises.

    Each message is parsed before any transaction opens: parsing is pure work (milliseconds, tens
    of them for a big attachment) that needs no lock, and on SQLite every write transaction holds
    the one database write lock. The rows are then locked and their status checked again, so a
    second job for the same row that got there first leaves this one a no-op.

    Several messages are processed in one transaction, the new tickets among them opened together
    (``do_create_tickets``: one ticket costs about the statements of many). If anything in that
    transaction fails, all of it is rolled back and each message is processed again on its own, so
    a message that cannot be processed is quarantined alone. On its own, a failure rolls back what
    the attempt wrote (ticket, message, new contact: nothing stays) and is recorded on the row.
    """
    ids = list(dict.fromkeys(inbound_ids))
    outcomes: dict[int, Outcome] = {}
    parsed: dict[int, ParsedMail] = {}
    snapshots = (
        InboundEmail.objects.filter(pk__in=ids)
        .order_by()
        .values_list("pk", "status", "reason", "ticket_id", "message_id", "raw")
    )
    for pk, status, reason, ticket_id, message_id, raw in snapshots:
        if status != InboundStatus.RECEIVED:  # done already: nothing to lock
            outcomes[pk] = Outcome(pk, status, reason, ticket_id=ticket_id, message_id=message_id)
            continue
        try:
            parsed[pk] = parse_message(bytes(raw), limits=limits())
        except MailParseError as error:
            reason = f"{error.message} ({error.reason})"
            outcomes[pk] = _record_failure(pk, reason, None, unparsed_head=bytes(raw[:262_144]))
        except Exception as error:
            outcomes[pk] = _unexpected_failure(pk, error, None)
    if len(parsed) > 1:
        try:
            outcomes.update(_process(parsed))
            parsed = {}
        except Exception as error:  # one of them (or the database) failed: take them one at a time
            logger.warning(
                "Inbound emails %s failed together (%s: %s); processing them one at a time",
                list(parsed),
                type(error).__name__,
                error,
            )
    for pk, mail in parsed.items():
        outcomes[pk] = _process_alone(pk, mail)
    missing = "No such inbound email."
    return [
        outcomes.get(pk) or Outcome(inbound_id=pk, status="missing", reason=missing) for pk in inbound_ids
    ]


def _process_alone(inbound_id: int, parsed: ParsedMail) -> Outcome:
    try:
        return _process({inbound_id: parsed})[inbound_id]
    except MailParseError as error:  # found while processing, such as no usable sender
        return _record_failure(inbound_id, f"{error.message} ({error.reason})", parsed)
    except OperationalError as error:  # locked, deadlock, connection lost: worth another try
        logger.warning("Inbound email %s: %s; to be retried", inbound_id, error)
        return _record_failure(inbound_id, f"{type(error).__name__}: {error}", parsed, transient=True)
    except Exception as error:
        return _unexpected_failure(inbound_id, error, parsed)


def _unexpected_failure(inbound_id: int, error: Exception, parsed: ParsedMail | None) -> Outcome:
    logger.exception("Inbound email %s could not be processed; quarantined", inbound_id)
    reason = f"Unexpected error while processing: {type(error).__name__}: {error}"
    return _record_failure(inbound_id, reason, parsed)


def _process(parsed: dict[int, ParsedMail]) -> dict[int, Outcome]:
    """Process the parsed messages (by row id) in one transaction; raises whatever fails."""
    with transaction.atomic():
        rows = list(
            InboundEmail.objects.select_for_update(of=("self",))
            .select_related("mailbox__team")
            .defer("raw")
            .filter(pk__in=list(parsed))
            .order_by("pk")
        )
        outcomes = {row.pk: _outcome(row) for row in rows if row.status != InboundStatus.RECEIVED}
        rows = [row for row in rows if row.status == InboundStatus.RECEIVED]  # others got there first
        group = _Group(rows, parsed)
        works = []
        for row in rows:
            row.attempts += 1
            work = _Processing(row, group)
            work.run(parsed[row.pk])
            works.append(work)
        group.open_tickets()
        now = timezone.now()
        for row in rows:  # one UPDATE each: cheaper to build than Django's bulk_update of 10 fields
            row.processed_at = now
            row.save(update_fields=[*_ROW_FIELDS, "mailbox", "ticket", "message"])
    for work in works:
        outcomes[work.row.pk] = _outcome(
            work.row, created_ticket=work.created_ticket, matched_by=work.matched_by
        )
    return outcomes


_ROW_FIELDS = ["status", "reason", "attempts", "from_address", "reply_to", "subject", "processed_at"]
# Transient database errors (a lock timeout, a deadlock) leave the row for the sweep this many times.
MAX_ATTEMPTS = 3


def _describe_sender(row: InboundEmail, parsed: ParsedMail) -> None:
    row.from_address = (parsed.from_address or "")[:255]
    row.subject = parsed.subject[:255]
    row.reply_to = ((parsed.reply_to or [parsed.from_address or ""])[0] or "")[:255]


def _record_failure(
    inbound_id: int,
    reason: str,
    parsed: ParsedMail | None,
    *,
    transient: bool = False,
    unparsed_head: bytes = b"",
) -> Outcome:
    """Quarantine the row with ``reason`` (or leave a transient failure for another try).

    Runs after the processing transaction was rolled back, in one of its own; if the row is no
    longer ``received`` (another job finished it meanwhile) that result stands. If even this fails,
    the database is gone: the row stays ``received`` and the periodic sweep tries it again.
    """
    try:
        with transaction.atomic():
            row = InboundEmail.objects.select_for_update().defer("raw").filter(pk=inbound_id).first()
            if row is None:
                return Outcome(inbound_id=inbound_id, status="missing", reason="No such inbound email.")
            if row.status != InboundStatus.RECEIVED:
                return _outcome(row)
            row.attempts += 1
            retry = transient and row.attempts < MAX_ATTEMPTS
            row.status = InboundStatus.RECEIVED if retry else InboundStatus.QUARANTINED
            row.reason = (f"Attempt {row.attempts} failed, to be retried: {reason}" if retry else reason)[
                :2000
            ]
            if parsed is not None:
                _describe_sender(row, parsed)
            elif unparsed_head:  # too big or too broken to parse: who sent what, from the headers
                row.from_address, row.subject = header_summary(unparsed_head)
            row.processed_at = timezone.now()
            row.save(update_fields=_ROW_FIELDS)
            return _outcome(row)
    except Exception:
        logger.exception("Inbound email %s: could not record the failure (%s)", inbound_id, reason)
        return Outcome(inbound_id=inbound_id, status=InboundStatus.RECEIVED, reason=reason[:2000])


def check_reprocess(user: User, inbound_id: int) -> Outcome:
    """An admin sends a quarantined message through processing again (after fixing its cause)."""
    if not user.is_active or not user.is_admin:
        raise PermissionDenied("Only admins can reprocess quarantined email.")
    with transaction.atomic():
        row = InboundEmail.objects.select_for_update().filter(pk=inbound_id).first()
        if row is None:
            raise NotFound(f"Inbound email {inbound_id} does not exist.")
        if row.status != InboundStatus.QUARANTINED:
            raise ValidationFailed(
                f"Only quarantined email can be reprocessed; this one is {row.get_status_display()}."
            )
        row.status = InboundStatus.RECEIVED
        row.reason = ""
        row.save(update_fields=["status", "reason"])
    return process_inbound(inbound_id)


def pending_inbound(*, older_than_seconds: int = 120, limit: int = 500) -> list[tuple[int, int]]:
    """(id, size) of rows still ``received`` a while after arriving: their job was lost (a crash,
    a full queue)."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    return list(
        InboundEmail.objects.filter(status=InboundStatus.RECEIVED, received_at__lt=cutoff)
        .order_by("received_at", "id")
        .values_list("id", "size")[:limit]
    )


# --- one message ----------------------------------------------------------------------------------


class _Group:
    """What the messages processed in one transaction share.

    Our own addresses, read once; the copies of their Message-IDs already processed (a message
    Cc'd to two of our mailboxes is added once); and the new tickets they open, written together
    by ``open_tickets``. A message that refers to the Message-ID of one of those makes them be
    opened first, so that it threads into its ticket.
    """

    def __init__(self, rows: Sequence[InboundEmail], parsed: dict[int, ParsedMail]) -> None:
        self.own_addresses = _mailbox_addresses()
        message_ids = sorted({parsed[row.pk].message_id or "" for row in rows} - {""})
        self.delivered = _processed_copies(message_ids, exclude=[row.pk for row in rows])
        self.pending: list[tuple[_Processing, ParsedMail, NewTicket]] = []

    def earlier_copy(self, message_id: str) -> tuple[int, int] | None:
        """(inbound row, ticket) of a processed copy of ``message_id``, this group's included."""
        if message_id in self._pending_message_ids():
            self.open_tickets()
        return self.delivered.get(message_id)

    def before_threading(self, parsed: ParsedMail, hints: ThreadHints) -> None:
        """Open the pending tickets if the message refers to one of their Message-IDs.

        Only a Message-ID can: signed ids, reply addresses and ``[#number]`` name tickets that
        exist already, and the mail a bounce reports on was sent from an existing ticket.
        """
        referenced = {*hints.referenced_message_ids}
        if parsed.bounce is not None and parsed.bounce.original_message_id:
            referenced.add(parsed.bounce.original_message_id)
        if referenced & self._pending_message_ids():
            self.open_tickets()

    def _pending_message_ids(self) -> set[str]:
        return {parsed.message_id for _, parsed, _ in self.pending if parsed.message_id}

    def open_ticket(self, work: _Processing, parsed: ParsedMail, new: NewTicket) -> None:
        self.pending.append((work, parsed, new))

    def open_tickets(self) -> None:
        pending, self.pending = self.pending, []
        if not pending:
            return
        opened = do_create_tickets([new for _, _, new in pending])
        MessageHeader.objects.bulk_create(
            [
                _header(each.first_message, parsed)
                for (_, parsed, _), each in zip(pending, opened, strict=True)
            ]
        )
        for (work, parsed, _), each in zip(pending, opened, strict=True):
            work.created_ticket = True
            work.received(each.first_message, parsed)


def _processed_copies(message_ids: Sequence[str], *, exclude: Sequence[int]) -> dict[str, tuple[int, int]]:
    """Message-ID → (inbound row, ticket) of the copies of ``message_ids`` already processed."""
    if not message_ids:
        return {}
    if connection.vendor == "postgresql":
        # Two copies processed at the same instant would both find nothing: take turns per id,
        # in one order, so two groups never wait for each other (a function scan of unnest
        # yields the sorted keys in array order).
        digests = (hashlib.sha256(mid.encode()).digest()[:8] for mid in message_ids)
        keys = sorted({int.from_bytes(digest, "big", signed=True) for digest in digests})
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(key) FROM unnest(%s::bigint[]) AS key", [keys])
    # Filtered on the Message-ID alone: given the status too, SQLite picks the status index and
    # walks every processed row. Copies of one message are few; the rest is checked here.
    copies = (
        InboundEmail.objects.filter(header_message_id__in=message_ids)
        .exclude(pk__in=exclude)
        .order_by("pk")
        .values_list("header_message_id", "pk", "ticket_id", "status", "message_id")
    )
    found: dict[str, tuple[int, int]] = {}
    for mid, pk, ticket_id, status, message in copies:
        if status == InboundStatus.PROCESSED and message is not None:
            found.setdefault(mid, (pk, ticket_id))
    return found


def _lock_key(message_id: str) -> int:
    return int.from_bytes(hashlib.sha256(message_id.encode()).digest()[:8], "big", signed=True)


class _Processing:
    """The work on one locked row, inside the transaction of ``_process``."""

    def __init__(self, row: InboundEmail, group: _Group) -> None:
        self.row = row
        self.group = group
        self.created_ticket = False
        self.matched_by = ""
        self.message_id = ""
        self.notes: list[str] = []

    def run(self, parsed: ParsedMail) -> None:
        row = self.row
        _describe_sender(row, parsed)
        own_addresses = self.group.own_addresses
        if row.mailbox is None:
            row.mailbox = _mailbox_for(parsed, own_addresses)
        self.message_id = parsed.message_id or ""
        if self.message_id and self._already_delivered(self.message_id):
            return
        automatic = is_automatic(
            parsed, own_message_id_domain=settings.MAIL_ID_DOMAIN, own_addresses=own_addresses
        )
        if automatic in _OWN_MAIL_REASONS:
            self.ignore(f"Our own mail came back ({automatic}).")
            return
        hints = candidate_ticket_ids(parsed, domain=settings.MAIL_ID_DOMAIN, secret=_secret())
        self.group.before_threading(parsed, hints)
        if parsed.is_bounce:
            self.bounce(parsed, hints)
            return
        ticket = self.thread(parsed, hints)
        if automatic is not None:
            self.automatic(parsed, ticket, automatic)
            return
        self.customer_message(parsed, ticket)

    def ignore(self, reason: str, *, ticket_id: int | None = None) -> None:
        self.row.status = InboundStatus.IGNORED
        self.row.reason = reason
        self.row.ticket_id = ticket_id

    def processed(self, message: Message) -> None:
        self.row.status = InboundStatus.PROCESSED
        self.row.reason = " ".join(self.notes)[:2000]
        self.row.ticket_id = message.ticket_id
        self.row.message = message
        if self.message_id:
            self.group.delivered.setdefault(self.message_id, (self.row.pk, message.ticket_id))

    def _already_delivered(self, message_id: str) -> bool:
        """The same message reached us before through another mailbox (a Cc to two of ours)."""
        earlier = self.group.earlier_copy(message_id)
        if earlier is None:
            return False
        earlier_id, ticket_id = earlier
        self.ignore(
            f"The same message (Message-ID {message_id}) was already added to ticket "
            f"#{ticket_id} from inbound email {earlier_id}.",
            ticket_id=ticket_id,
        )
        return True

    # --- threading ------------------------------------------------------------------------------

    def thread(self, parsed: ParsedMail, hints: ThreadHints, *, use_subject: bool = True) -> Ticket | None:
        """The locked ticket this message belongs to (merges followed), or None."""
        ticket = _lock_first(hints.own_ticket_ids)
        matched_by = "message-id"
        if ticket is None:
            ticket, matched_by = _lock_first(hints.reply_address_ticket_ids), "reply-address"
        if ticket is None:
            ticket_id = _ticket_of_message_ids(hints.referenced_message_ids)
            ticket, matched_by = _lock_first([ticket_id] if ticket_id else []), "references"
        if ticket is None and use_subject and hints.subject_ticket_id is not None:
            ticket_id = _subject_ticket(hints.subject_ticket_id, parsed.from_address)
            ticket, matched_by = _lock_first([ticket_id] if ticket_id else []), "subject"
        if ticket is not None:
            self.matched_by = matched_by
        return ticket

    # --- the kinds of message -------------------------------------------------------------------

    def bounce(self, parsed: ParsedMail, hints: ThreadHints) -> None:
        """A delivery-status report: a note on the ticket whose mail bounced, the address marked."""
        info = parsed.bounce
        ticket = _lock_first([hints.bounced_ticket_id] if hints.bounced_ticket_id else [])
        if ticket is None and info is not None and info.original_message_id:
            ticket_id = _ticket_of_message_ids([info.original_message_id])
            ticket = _lock_first([ticket_id] if ticket_id else [])
        if ticket is not None:
            self.matched_by = "bounced-message-id"
        else:  # a report that also quotes our id in its own headers
            ticket = self.thread(parsed, hints, use_subject=False)
        failed = info.failed_recipients if info else []
        if ticket is None:
            listed = f" (failed: {', '.join(failed)})" if failed else ""
            self.ignore(f"Delivery status report for a message that is on no ticket{listed}.")
            return
        status = info.status if info and info.status else "failed"
        marked = _mark_bounced(ticket, failed, reason=f"{status} {parsed.subject}".strip())
        who = ", ".join(failed) if failed else "an unknown recipient"
        text = f"Email to {who} could not be delivered (status {status})."
        if marked:
            text += f" Marked as bouncing: {', '.join(marked)}."
        excerpt = _excerpt(parsed.new_text or parsed.text)
        if excerpt:
            source = parsed.from_address or "the mail server"
            text += f"\n\nThe delivery report from {source} says:\n\n{excerpt}"
        message = do_add_system_message(ticket, text)
        _header(message, parsed).save()
        self.processed(message)

    def automatic(self, parsed: ParsedMail, ticket: Ticket | None, reason: str) -> None:
        if ticket is None:
            self.ignore(f"Automatic mail ({reason}) that belongs to no ticket: no ticket was created.")
            return
        sender = _sender_label(parsed)
        text = f"Automatic mail from {sender} ({reason}), not answered automatically."
        excerpt = _excerpt(parsed.new_text or parsed.text)
        if parsed.subject:
            text += f"\nSubject: {parsed.subject}"
        if excerpt:
            text += f"\n\n{excerpt}"
        message = do_add_system_message(ticket, text)
        _header(message, parsed).save()
        self.notes.append(
            f"Automatic mail ({reason}): added as a system note; the ticket's status is unchanged."
        )
        self.processed(message)

    def customer_message(self, parsed: ParsedMail, ticket: Ticket | None) -> None:
        attachments, dropped = _attachments(parsed)
        body_text, body_html = _body(parsed, dropped)
        if dropped:
            self.notes.append(f"Attachments over the size limit were not added: {', '.join(dropped)}.")
        if ticket is None:
            mailbox = self.row.mailbox
            new = NewTicket(
                subject=_subject(parsed.subject),
                requester=EmailRequester(_sender_address(parsed), parsed.from_name),
                body_text=body_text,
                body_html=body_html,
                channel=Channel.EMAIL,
                team=mailbox.team if mailbox else None,
                language=mailbox.language if mailbox else None,
                attachments=attachments,
            )
            self.group.open_ticket(self, parsed, new)  # the rest when the group opens it
            return
        message = do_add_customer_message(
            ticket,
            body_text=body_text,
            body_html=body_html,
            author=_sender_contact(parsed),
            attachments=attachments,
            channel=Channel.EMAIL,
        )
        # A closed ticket answers with a linked follow-up: a new ticket for the customer.
        self.created_ticket = message.ticket_id != ticket.pk
        _header(message, parsed).save()
        self.received(message, parsed)

    def received(self, message: Message, parsed: ParsedMail) -> None:
        """The customer's message is written: Cc'd people follow its ticket; a new one is acknowledged."""
        _add_followers(message.ticket, parsed, own_addresses=self.group.own_addresses)
        self.processed(message)
        mailbox = self.row.mailbox
        if self.created_ticket and mailbox is not None and mailbox.send_acknowledgement:
            self._acknowledge(message.ticket, parsed)

    def _acknowledge(self, ticket: Ticket, parsed: ParsedMail) -> None:
        # Imported here: the outbox is its own module, written and replaced independently.
        from relaydesk.mail import outbox

        try:
            with transaction.atomic():
                outbox.do_queue_acknowledgement(ticket, inbound=self.row, parsed=parsed)
        except Exception as error:
            # The ticket matters more than the automatic answer: keep it, say what went wrong.
            logger.exception("Inbound email %s: the acknowledgement could not be queued", self.row.pk)
            self.notes.append(f"The acknowledgement could not be queued: {type(error).__name__}: {error}")
            self.row.reason = " ".join(self.notes)[:2000]


# --- helpers --------------------------------------------------------------------------------------


def _mailbox_addresses() -> list[str]:
    return [address.lower() for address in Mailbox.objects.values_list("address", flat=True)]


def _is_own_address(address: str, own_addresses: Iterable[str]) -> bool:
    return own_address_matched(address, own_addresses) is not None


def _mailbox_for(parsed: ParsedMail, own_addresses: Sequence[str]) -> Mailbox | None:
    """The mailbox a message without one (``ingest-mail`` with no ``--mailbox``) was sent to."""
    recipients = [*parsed.delivered_to, *(a for _, a in parsed.to), *(a for _, a in parsed.cc)]
    for recipient in recipients:
        own = own_address_matched(recipient, own_addresses)
        if own is not None:
            return Mailbox.objects.filter(address__lower=own).first()
    return None


def _with_brackets(message_ids: Sequence[str]) -> list[str]:
    # Stored ids are normalised (no angle brackets); accept the bracketed form as well.
    return [*message_ids, *(f"<{mid}>" for mid in message_ids)]


def _ticket_of_message_ids(message_ids: Sequence[str]) -> int | None:
    """The ticket of the first of ``message_ids`` (in order) that we stored, inbound or outbound.

    Message headers hold every message on a ticket (inbound and sent); inbound rows and the outbox
    cover mail written before its header row, such as an acknowledgement.
    """
    wanted = [mid for mid in message_ids if mid][:100]
    if not wanted:
        return None
    candidates = _with_brackets(wanted)
    lookups = (
        lambda: MessageHeader.objects.filter(header_message_id__in=candidates),
        lambda: InboundEmail.objects.filter(header_message_id__in=candidates).exclude(ticket=None).order_by(),
        lambda: OutboundEmail.objects.filter(header_message_id__in=candidates).order_by(),
    )
    for lookup in lookups:
        found: dict[str, int] = {}
        for mid, ticket_id in lookup().values_list("header_message_id", "ticket_id"):
            if ticket_id is not None:
                found.setdefault(mid.strip("<>"), ticket_id)
        if found:
            return next(found[mid] for mid in wanted if mid in found)
    return None


def _subject_ticket(ticket_id: int, sender: str | None) -> int | None:
    """``[#ticket_id]`` counts only when the sender is that ticket's requester or a follower."""
    requester_id = Ticket.objects.filter(pk=ticket_id).values_list("requester_id", flat=True).first()
    if requester_id is None or not sender:
        return None
    lowered = sender.lower()
    if ContactEmail.objects.filter(contact_id=requester_id, address__lower=lowered).exists():
        return ticket_id
    if Follower.objects.filter(ticket_id=ticket_id, address__lower=lowered).exists():
        return ticket_id
    return None


def _lock_first(ticket_ids: Sequence[int]) -> Ticket | None:
    """Lock the first of ``ticket_ids`` that exists (following merges); one query in the usual case.

    Tried one at a time, so only the ticket that is used gets locked.
    """
    for ticket_id in ticket_ids[:10]:
        ticket = _lock_following_merges(ticket_id)
        if ticket is not None:
            return ticket
    return None


def _lock_following_merges(ticket_id: int) -> Ticket | None:
    """Lock the ticket, or the ticket it was merged into (and so on)."""
    queryset = Ticket.objects.select_for_update(of=("self",)).select_related("requester", "assignee", "team")
    ticket = queryset.filter(pk=ticket_id).first()
    hops = 0
    while ticket is not None and ticket.merged_into_id is not None and hops < MAX_MERGE_HOPS:
        ticket = queryset.filter(pk=ticket.merged_into_id).first()
        hops += 1
    return ticket


def _header(message: Message, parsed: ParsedMail) -> MessageHeader:
    return MessageHeader(
        message=message,
        ticket_id=message.ticket_id,
        header_message_id=parsed.message_id or "",
        quoted_text=parsed.quoted_text,
        quoted_html=parsed.quoted_html or "",
        original_html=parsed.html or "",
        has_remote_images=parsed.has_remote_images,
    )


def _sender_address(parsed: ParsedMail) -> str:
    """The sender's address (From, else Reply-To), cleaned; never a user, whatever it says."""
    tried = []
    for address in [parsed.from_address, *parsed.reply_to]:
        if not address:
            continue
        tried.append(address)
        try:
            return clean_email(address, field="email")
        except ValidationFailed:
            continue
    detail = f" ({', '.join(tried)} is not a valid address)" if tried else ""
    raise MailParseError("no_sender", f"The message has no usable sender address{detail}.")


def _sender_contact(parsed: ParsedMail) -> Contact:
    return find_or_create_contact_by_email(_sender_address(parsed), name=parsed.from_name)


def _subject(subject: str) -> str:
    cleaned = " ".join(subject.split())[:MAX_SUBJECT_LENGTH]
    return cleaned or "(no subject)"


def _attachments(parsed: ParsedMail) -> tuple[list[NewAttachment], list[str]]:
    """The parts to keep, and the names of those over MAX_ATTACHMENT_BYTES (dropped, noted)."""
    kept: list[NewAttachment] = []
    dropped: list[str] = []
    for part in parsed.attachments:
        if part.size > settings.MAX_ATTACHMENT_BYTES:
            dropped.append(f"{part.filename} ({_megabytes(part.size)})")
            continue
        kept.append(
            NewAttachment(
                filename=part.filename,
                content_type=part.content_type,
                content=part.content,
                content_id=part.content_id or "",
                is_inline=part.is_inline,
            )
        )
    return kept, dropped


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f} MB"


def _body(parsed: ParsedMail, dropped: Sequence[str]) -> tuple[str, str]:
    """What the customer newly wrote, as (text, sanitised HTML), with notes about what was left out."""
    text = parsed.new_text.strip()
    body_html = (parsed.new_html or "").strip()
    notes = []
    if len(text) > MAX_BODY_LENGTH - 1000:
        text = text[: MAX_BODY_LENGTH - 1000].rstrip()
        body_html = ""  # cut HTML could end inside a tag; the text version is shown instead
        notes.append(
            f"[The message was cut at {MAX_BODY_LENGTH - 1000:,} characters; the original email is kept.]"
        )
    if len(body_html) > 2 * MAX_BODY_LENGTH:
        body_html = ""
    if dropped:
        limit = _megabytes(settings.MAX_ATTACHMENT_BYTES)
        notes.append(
            f"[Not attached, larger than the {limit} limit: {', '.join(dropped)}. "
            "The original email, with them, is kept.]"
        )
    if not text:
        text = "(This email has no text.)" if not parsed.attachments else "(This email has only attachments.)"
        body_html = ""
    if notes:
        text = "\n\n".join([text, *notes])
        if body_html:
            body_html += "".join(f"<p><em>{html.escape(note)}</em></p>" for note in notes)
    return text, body_html


def _excerpt(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_NOTE_EXCERPT else text[:MAX_NOTE_EXCERPT].rstrip() + " …"


def _sender_label(parsed: ParsedMail) -> str:
    address = parsed.from_address or "an unknown sender"
    return f"{parsed.from_name} <{address}>" if parsed.from_name else address


def _add_followers(ticket: Ticket, parsed: ParsedMail, *, own_addresses: Sequence[str]) -> list[str]:
    """Cc'd people become followers: not us, not the sender, not the requester; capped per ticket."""
    from relaydesk.mail.followers import clean_follower, do_add_follower

    sender = (parsed.from_address or "").lower()
    candidates = [
        (name, address)
        for name, address in parsed.cc
        if address.lower() != sender and not _is_own_address(address, own_addresses)
    ]
    if not candidates:
        return []
    room = MAX_FOLLOWERS_PER_TICKET - Follower.objects.filter(ticket=ticket).count()
    added: list[str] = []
    for name, address in candidates:
        if room <= 0:
            break
        try:
            address, name = clean_follower(address, name)
        except RelaydeskError:
            continue
        if do_add_follower(ticket, address=address, name=name, acting_user=None) is not None:
            added.append(address)
            room -= 1
    return added


def _mark_bounced(ticket: Ticket, failed: Sequence[str], *, reason: str) -> list[str]:
    """Mark the failed addresses that belong to ``ticket`` (its requester's, its followers')."""
    wanted = {normalize_address(address) or "" for address in failed} - {""}
    wanted = {address.lower() for address in wanted}
    if not wanted:
        return []
    followers = {
        address.lower()
        for address in Follower.objects.filter(ticket=ticket).values_list("address", flat=True)
    }
    rows = [
        row
        for row in ContactEmail.objects.filter(address__lower__in=wanted)
        if row.contact_id == ticket.requester_id or row.address.lower() in followers
    ]
    if rows:
        ContactEmail.objects.filter(pk__in=[row.pk for row in rows]).update(
            bounced_at=timezone.now(), bounce_reason=reason[:255]
        )
    return sorted(row.address for row in rows)
