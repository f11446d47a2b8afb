"""Typed writers for TicketEvent rows, one per kind of change (keyword-only).

The timeline, the audit trail and the KPIs all read these rows, so every write to a
ticket goes through exactly one of these functions (called from ``tickets.actions``).
"""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from relaydesk.accounts.models import User
from relaydesk.tickets.models import EventKind, Message, Ticket, TicketEvent


def _event(
    ticket: Ticket,
    kind: str,
    *,
    actor: User | None,
    field: str = "",
    old: Any = "",
    new: Any = "",
    data: dict[str, Any] | None = None,
) -> TicketEvent:
    return TicketEvent.objects.create(
        ticket=ticket,
        kind=kind,
        actor=actor,
        field=field,
        old_value="" if old is None else str(old)[:255],
        new_value="" if new is None else str(new)[:255],
        data=data or {},
        created_at=timezone.now(),
    )


def ticket_created_event(*, ticket: Ticket, actor: User | None) -> TicketEvent:
    return _event(
        ticket,
        EventKind.CREATED,
        actor=actor,
        data={"channel": ticket.channel, "priority": ticket.priority, "status": ticket.status},
    )


def status_changed_event(
    *, ticket: Ticket, actor: User | None, old: str, new: str, reason: str = ""
) -> TicketEvent:
    return _event(
        ticket, EventKind.STATUS, actor=actor, field="status", old=old, new=new, data={"reason": reason}
    )


def priority_changed_event(*, ticket: Ticket, actor: User | None, old: int, new: int) -> TicketEvent:
    return _event(ticket, EventKind.PRIORITY, actor=actor, field="priority", old=old, new=new)


def assignee_changed_event(
    *, ticket: Ticket, actor: User | None, old: User | None, new: User | None
) -> TicketEvent:
    return _event(
        ticket,
        EventKind.ASSIGNEE,
        actor=actor,
        field="assignee",
        old=old or "",
        new=new or "",
        data={"old_id": old.pk if old else None, "new_id": new.pk if new else None},
    )


def team_changed_event(*, ticket: Ticket, actor: User | None, old: Any, new: Any) -> TicketEvent:
    return _event(
        ticket,
        EventKind.TEAM,
        actor=actor,
        field="team",
        old=old or "",
        new=new or "",
        data={"old_id": old.pk if old else None, "new_id": new.pk if new else None},
    )


def level_changed_event(*, ticket: Ticket, actor: User | None, old: str, new: str) -> TicketEvent:
    return _event(ticket, EventKind.LEVEL, actor=actor, field="level", old=old, new=new)


def tags_changed_event(
    *, ticket: Ticket, actor: User | None, added: list[str], removed: list[str]
) -> TicketEvent:
    return _event(
        ticket,
        EventKind.TAGS,
        actor=actor,
        field="tags",
        old=", ".join(removed),
        new=", ".join(added),
        data={"added": added, "removed": removed},
    )


def field_changed_event(*, ticket: Ticket, actor: User | None, field: str, old: Any, new: Any) -> TicketEvent:
    return _event(ticket, EventKind.FIELD, actor=actor, field=field, old=old or "", new=new or "")


def message_added_event(*, ticket: Ticket, actor: User | None, message: Message) -> TicketEvent:
    return _event(
        ticket,
        EventKind.MESSAGE,
        actor=actor,
        field="message",
        new=message.kind,
        data={"message_id": message.pk, "kind": message.kind, "channel": ticket.channel},
    )


def reopened_event(*, ticket: Ticket, actor: User | None, old: str, new: str) -> TicketEvent:
    return _event(ticket, EventKind.REOPENED, actor=actor, field="status", old=old, new=new)


def merged_event(*, ticket: Ticket, actor: User | None, into: Ticket) -> TicketEvent:
    return _event(
        ticket, EventKind.MERGED, actor=actor, field="merged_into", new=into.pk, data={"into": into.pk}
    )


def follow_up_event(*, ticket: Ticket, actor: User | None, follow_up: Ticket) -> TicketEvent:
    return _event(
        ticket,
        EventKind.FOLLOW_UP,
        actor=actor,
        field="follow_up",
        new=follow_up.pk,
        data={"follow_up": follow_up.pk},
    )
