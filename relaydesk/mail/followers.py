"""Followers: people copied on a ticket's emails. Agents add and remove them; inbound Cc adds them."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from relaydesk.accounts.models import User
from relaydesk.core.errors import NotFound, ValidationFailed
from relaydesk.core.parsing import without_nul
from relaydesk.mail.models import Follower, Mailbox
from relaydesk.mail.thread_refs import own_address_matched
from relaydesk.tickets import events
from relaydesk.tickets.access import access_ticket
from relaydesk.tickets.models import Status, Ticket


def clean_follower(address: str, name: str = "") -> tuple[str, str]:
    address = without_nul(address).strip()
    name = " ".join(without_nul(name).split())[:255]
    if not address or len(address) > 254 or any(c in address for c in "\r\n<>,;\"'"):
        raise ValidationFailed("Enter one email address, such as name@example.com.", field="address")
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationFailed(f"{address} is not a valid email address.", field="address") from None
    return address, name


def do_add_follower(
    ticket: Ticket, *, address: str, name: str = "", acting_user: User | None
) -> Follower | None:
    """Copy ``address`` on ``ticket``'s emails; None if it already is, is the requester, or is ours."""
    lowered = address.lower()
    ours = [own.lower() for own in Mailbox.objects.values_list("address", flat=True)]
    if own_address_matched(address, ours) is not None:  # our mailboxes, reply-address forms too
        return None
    if ticket.requester.emails.filter(address__lower=lowered).exists():
        return None
    if Follower.objects.filter(ticket=ticket, address__lower=lowered).exists():
        return None
    try:
        with transaction.atomic():
            follower = Follower.objects.create(
                ticket=ticket, address=address, name=name, added_by=acting_user
            )
    except IntegrityError:  # added concurrently
        return None
    events.field_changed_event(
        ticket=ticket, actor=acting_user, field="followers", old="", new=f"+ {address}"
    )
    return follower


def check_add_follower(user: User, ticket_id: int, *, address: str, name: str = "") -> Follower | None:
    address, name = clean_follower(address, name)
    with transaction.atomic():
        ticket = access_ticket(user, ticket_id, for_update=True)
        if ticket.status == Status.CLOSED:
            raise ValidationFailed("A closed ticket cannot be changed.")
        return do_add_follower(ticket, address=address, name=name, acting_user=user)


def check_remove_follower(user: User, ticket_id: int, follower_id: int) -> None:
    with transaction.atomic():
        ticket = access_ticket(user, ticket_id, for_update=True)
        follower = Follower.objects.filter(ticket=ticket, pk=follower_id).first()
        if follower is None:
            raise NotFound("That person is not copied on this ticket.")
        follower.delete()
        events.field_changed_event(
            ticket=ticket, actor=user, field="followers", old=f"- {follower.address}", new=""
        )
