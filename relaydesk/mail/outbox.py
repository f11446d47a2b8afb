"""Outbound mail through the transactional outbox (being written: see the email-channel issue)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from relaydesk.mail.models import InboundEmail, OutboundEmail
    from relaydesk.mail.parsing import ParsedMail
    from relaydesk.tickets.models import Message, Ticket


def do_queue_reply(ticket: Ticket, message: Message) -> OutboundEmail | None:
    """Queue ``message`` (an agent's public reply on ``ticket``, locked) as email, in the caller's
    transaction; None when the ticket has no email route."""
    raise NotImplementedError


def do_queue_acknowledgement(
    ticket: Ticket, *, inbound: InboundEmail, parsed: ParsedMail
) -> OutboundEmail | None:
    """Queue the acknowledgement of a new email ticket, in the caller's transaction."""
    raise NotImplementedError
