"""Ticket histories built in memory the way ``tickets.actions`` would have written them.

Demo data and the benchmark generator need thousands to millions of tickets whose rows
agree with each other: statuses reached only through legal transitions, one TicketEvent per
change, ``first_response_at`` equal to the first public reply, ``waiting_since`` and
``version`` moved as the actions move them. The real actions are far too slow for that
volume and always write "now", so ``Recorder`` replays the same rules (every transition
goes through ``tickets.lifecycle``) at given past times on plain objects, which the callers
bulk-insert. Keep it in step with ``tickets.actions`` and ``tickets.events``: the demo
tests compare the two on the same script.

No ORM here. Ids are given out later (``number_rows``) so that ticket numbers follow
creation time even when a follow-up or a merge is added to the history afterwards.
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from relaydesk.core.sanitize import text_to_html
from relaydesk.notifications.models import NotificationKind
from relaydesk.tickets import lifecycle
from relaydesk.tickets.models import Direction, EventKind, MessageKind, Status

ONE_MICROSECOND = timedelta(microseconds=1)
_DIRECTIONS: dict[str, str] = {MessageKind.CUSTOMER: Direction.INBOUND, MessageKind.REPLY: Direction.OUTBOUND}
_NEEDS_SANITIZER = re.compile("https?://|\xa0")


@dataclass(slots=True, eq=False)
class MessageRow:
    ticket: TicketRow
    kind: str
    author_user_id: int | None
    author_contact_id: int | None
    body_text: str
    created_at: datetime
    id: int = 0
    # A ticket whose number replaces "{number}" in the body once numbers are given out.
    refers_to: TicketRow | None = None

    @property
    def direction(self) -> str:
        return _DIRECTIONS.get(self.kind, Direction.INTERNAL)


@dataclass(slots=True, eq=False)
class EventRow:
    kind: str
    actor_id: int | None
    created_at: datetime
    field: str = ""
    old_value: str = ""
    new_value: str = ""
    # Spelled out because the attribute ``field`` above shadows dataclasses.field in this class.
    data: dict[str, Any] = dataclasses.field(default_factory=dict)
    message: MessageRow | None = None  # its id goes into data["message_id"]
    other_ticket: TicketRow | None = None  # its number goes into new_value and data[data_key]
    data_key: str = ""


@dataclass(slots=True, eq=False)
class NotificationRow:
    recipient_id: int
    kind: str
    actor_id: int | None
    ticket: TicketRow
    created_at: datetime
    text: str  # with {number}, {subject} and {requester} placeholders

    def render(self, requester_name: str) -> str:
        """The text ``do_notify`` would have stored, once the ticket has its number."""
        text = (
            self.text.replace("{requester}", requester_name)
            .replace("{number}", str(self.ticket.id))
            .replace("{subject}", self.ticket.subject)
        )
        return text[:500]


@dataclass(slots=True, eq=False)
class TicketRow:
    subject: str
    status: str
    priority: int
    channel: str
    requester_id: int
    organization_id: int | None
    team_id: int | None
    assignee_id: int | None
    level: str
    language: str
    category_id: int | None
    product_id: int | None
    created_at: datetime
    updated_at: datetime
    waiting_since: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    call_duration_seconds: int | None = None
    version: int = 1
    merged_into: TicketRow | None = None
    follow_up_of: TicketRow | None = None
    tag_ids: list[int] = field(default_factory=list)
    messages: list[MessageRow] = field(default_factory=list)
    events: list[EventRow] = field(default_factory=list)
    id: int = 0
    # The kind of the latest customer message or public reply ("" before any).
    last_public_kind: str = ""
    # The latest timestamp written for this ticket: every new row is strictly later.
    clock: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.status not in (Status.RESOLVED, Status.CLOSED)


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    is_active: bool = True


class Recorder:
    """Applies the rules of ``tickets.actions`` to ``TicketRow`` objects at given times.

    ``people`` names users for assignee events, ``team_names`` teams for team events and
    ``tag_names`` tags for tag events. ``notifications`` collects what ``do_notify`` would
    have created; pass ``keep_notifications=False`` when nobody reads them (the benchmark).
    """

    def __init__(
        self,
        *,
        people: Mapping[int, Person],
        team_names: Mapping[int, str],
        tag_names: Mapping[int, str],
        keep_notifications: bool = True,
    ) -> None:
        self.people = people
        self.team_names = team_names
        self.tag_names = tag_names
        self.keep_notifications = keep_notifications
        self.notifications: list[NotificationRow] = []

    # --- time --------------------------------------------------------------------------

    @staticmethod
    def _tick(ticket: TicketRow, at: datetime) -> datetime:
        """``at``, or just after the ticket's latest row, so (created_at, id) order is the story order."""
        if ticket.clock is not None and at <= ticket.clock:
            at = ticket.clock + ONE_MICROSECOND
        ticket.clock = at
        return at

    @staticmethod
    def _bump(ticket: TicketRow, at: datetime) -> None:
        ticket.version += 1
        ticket.updated_at = at

    # --- rows ----------------------------------------------------------------------------

    def _event(
        self,
        ticket: TicketRow,
        kind: str,
        at: datetime,
        *,
        actor_id: int | None,
        field: str = "",
        old: Any = "",
        new: Any = "",
        data: dict[str, Any] | None = None,
    ) -> EventRow:
        event = EventRow(
            kind=kind,
            actor_id=actor_id,
            created_at=self._tick(ticket, at),
            field=field,
            old_value=_text(old),
            new_value=_text(new),
            data=data or {},
        )
        ticket.events.append(event)
        return event

    def _notify(
        self,
        *,
        recipient_id: int,
        kind: str,
        actor_id: int | None,
        ticket: TicketRow,
        at: datetime,
        text: str,
    ) -> None:
        if not self.keep_notifications or recipient_id == actor_id:
            return
        if not self.people[recipient_id].is_active:
            return
        self.notifications.append(
            NotificationRow(
                recipient_id=recipient_id,
                kind=kind,
                actor_id=actor_id,
                ticket=ticket,
                created_at=at,
                text=text,
            )
        )

    def _name(self, user_id: int | None) -> str:
        return self.people[user_id].name if user_id is not None else ""

    def _write_message(
        self,
        ticket: TicketRow,
        at: datetime,
        *,
        kind: str,
        body_text: str,
        actor_id: int | None,
        author_user_id: int | None = None,
        author_contact_id: int | None = None,
        refers_to: TicketRow | None = None,
    ) -> MessageRow:
        message = MessageRow(
            ticket=ticket,
            kind=kind,
            author_user_id=author_user_id,
            author_contact_id=author_contact_id,
            body_text=body_text,
            created_at=self._tick(ticket, at),
            refers_to=refers_to,
        )
        ticket.messages.append(message)
        event = self._event(
            ticket,
            EventKind.MESSAGE,
            at,
            actor_id=actor_id,
            field="message",
            new=kind,
            data={"kind": kind, "channel": ticket.channel},
        )
        event.message = message
        if kind in (MessageKind.CUSTOMER, MessageKind.REPLY):
            ticket.last_public_kind = kind
        return message

    # --- what the actions do -----------------------------------------------------------

    def create(
        self,
        *,
        at: datetime,
        subject: str,
        requester_id: int,
        organization_id: int | None,
        body_text: str,
        channel: str,
        priority: int,
        team_id: int | None,
        level: str,
        language: str,
        category_id: int | None,
        product_id: int | None,
        tag_ids: Iterable[int] = (),
        acting_user_id: int | None = None,
        assignee_id: int | None = None,
        call_duration_seconds: int | None = None,
        first_message_kind: str = MessageKind.CUSTOMER,
        follow_up_of: TicketRow | None = None,
    ) -> TicketRow:
        """``do_create_ticket``: the ticket, its first message, tags and assignment."""
        status = lifecycle.status_after_assignment(Status.NEW, has_assignee=assignee_id is not None)
        ticket = TicketRow(
            subject=subject,
            status=status,
            priority=priority,
            channel=channel,
            requester_id=requester_id,
            organization_id=organization_id,
            team_id=team_id,
            assignee_id=assignee_id,
            level=level,
            language=language,
            category_id=category_id,
            product_id=product_id,
            created_at=at,
            updated_at=at,
            waiting_since=at,
            call_duration_seconds=call_duration_seconds,
            follow_up_of=follow_up_of,
            clock=None,
        )
        self._event(
            ticket,
            EventKind.CREATED,
            at,
            actor_id=acting_user_id,
            data={"channel": channel, "priority": priority, "status": status},
        )
        tag_ids = sorted(set(tag_ids), key=lambda tag_id: self.tag_names[tag_id])
        if tag_ids:
            ticket.tag_ids = list(tag_ids)
            added = [self.tag_names[tag_id] for tag_id in tag_ids]
            self._event(
                ticket,
                EventKind.TAGS,
                at,
                actor_id=acting_user_id,
                field="tags",
                old="",
                new=", ".join(added),
                data={"added": added, "removed": []},
            )
        if first_message_kind == MessageKind.CUSTOMER:
            self._write_message(
                ticket,
                at,
                kind=MessageKind.CUSTOMER,
                body_text=body_text,
                author_contact_id=requester_id,
                actor_id=acting_user_id,
            )
        else:
            self._write_message(
                ticket,
                at,
                kind=MessageKind.NOTE,
                body_text=body_text,
                author_user_id=acting_user_id,
                actor_id=acting_user_id,
            )
        if assignee_id is not None:
            self._assignee_event(ticket, at, actor_id=acting_user_id, old=None, new=assignee_id)
            self._notify_assigned(ticket, at, assignee_id=assignee_id, actor_id=acting_user_id)
        return ticket

    def customer_message(self, ticket: TicketRow, at: datetime, *, body_text: str) -> MessageRow:
        """``do_add_customer_message`` on a ticket that is not closed."""
        was_waiting_on_us = ticket.last_public_kind == MessageKind.CUSTOMER
        message = self._write_message(
            ticket,
            at,
            kind=MessageKind.CUSTOMER,
            body_text=body_text,
            author_contact_id=ticket.requester_id,
            actor_id=None,
        )
        old_status = ticket.status
        new_status, reopened = lifecycle.status_after_customer_reply(
            old_status, has_assignee=ticket.assignee_id is not None
        )
        if new_status != old_status:
            ticket.status = new_status
            if reopened:
                ticket.reopen_count += 1
                ticket.resolved_at = None
                self._event(
                    ticket,
                    EventKind.REOPENED,
                    at,
                    actor_id=None,
                    field="status",
                    old=old_status,
                    new=new_status,
                )
            else:
                self._status_event(
                    ticket, at, actor_id=None, old=old_status, new=new_status, reason="customer replied"
                )
        if not was_waiting_on_us:
            ticket.waiting_since = message.created_at
        self._bump(ticket, ticket.clock or at)
        if ticket.assignee_id is not None:
            self._notify(
                recipient_id=ticket.assignee_id,
                kind=NotificationKind.CUSTOMER_REPLY,
                actor_id=None,
                ticket=ticket,
                at=ticket.clock or at,
                text="{requester} replied on #{number} {subject}",
            )
        return message

    def agent_message(
        self,
        ticket: TicketRow,
        at: datetime,
        *,
        agent_id: int,
        kind: str,
        body_text: str,
        new_status: str | None = None,
        mentions: Iterable[int] = (),
    ) -> MessageRow:
        """``do_add_agent_message``: a public reply or an internal note (``mentions`` as parsed)."""
        message = self._write_message(
            ticket, at, kind=kind, body_text=body_text, author_user_id=agent_id, actor_id=agent_id
        )
        if kind == MessageKind.REPLY:
            if ticket.first_response_at is None:
                ticket.first_response_at = message.created_at
            ticket.waiting_since = message.created_at
            if ticket.assignee_id is None:
                self._set_assignee(ticket, at, agent_id, actor_id=agent_id)
            target = new_status or lifecycle.status_after_agent_reply(ticket.status)
            self._set_status(ticket, at, target, actor_id=agent_id)
        else:
            if new_status:
                self._set_status(ticket, at, new_status, actor_id=agent_id)
            for person_id in mentions:
                self._notify(
                    recipient_id=person_id,
                    kind=NotificationKind.MENTION,
                    actor_id=agent_id,
                    ticket=ticket,
                    at=message.created_at,
                    text=f"{self._name(agent_id)} mentioned you on #{{number}} {{subject}}",
                )
        self._bump(ticket, ticket.clock or at)
        return message

    def change(
        self,
        ticket: TicketRow,
        at: datetime,
        *,
        actor_id: int | None,
        status: str | None = None,
        priority: int | None = None,
        assignee_id: int | None = None,
        team_id: int | None = None,
        level: str | None = None,
        add_tag_ids: Iterable[int] = (),
    ) -> None:
        """``do_change_ticket`` for the fields the demo changes (``None`` means unchanged)."""
        changed = False
        if team_id is not None and team_id != ticket.team_id:
            self._event(
                ticket,
                EventKind.TEAM,
                at,
                actor_id=actor_id,
                field="team",
                old=self.team_names.get(ticket.team_id, "") if ticket.team_id else "",
                new=self.team_names[team_id],
                data={"old_id": ticket.team_id, "new_id": team_id},
            )
            ticket.team_id = team_id
            changed = True
        if assignee_id is not None and assignee_id != ticket.assignee_id:
            self._set_assignee(ticket, at, assignee_id, actor_id=actor_id)
            changed = True
        if status is not None and status != ticket.status:
            self._set_status(ticket, at, status, actor_id=actor_id)
            changed = True
        if priority is not None and priority != ticket.priority:
            self._event(
                ticket,
                EventKind.PRIORITY,
                at,
                actor_id=actor_id,
                field="priority",
                old=ticket.priority,
                new=priority,
            )
            ticket.priority = priority
            changed = True
        if level is not None and level != ticket.level:
            self._event(
                ticket, EventKind.LEVEL, at, actor_id=actor_id, field="level", old=ticket.level, new=level
            )
            ticket.level = level
            changed = True
        added = sorted(
            {self.tag_names[tag_id] for tag_id in add_tag_ids} - {self.tag_names[t] for t in ticket.tag_ids}
        )
        if added:
            by_name = {self.tag_names[tag_id]: tag_id for tag_id in add_tag_ids}
            ticket.tag_ids += [by_name[name] for name in added]
            self._event(
                ticket,
                EventKind.TAGS,
                at,
                actor_id=actor_id,
                field="tags",
                old="",
                new=", ".join(added),
                data={"added": added, "removed": []},
            )
            changed = True
        if changed:
            self._bump(ticket, ticket.clock or at)

    def system_message(self, ticket: TicketRow, at: datetime, *, body_text: str) -> MessageRow:
        """A message written by Relaydesk itself (automations), timeline only."""
        message = self._write_message(ticket, at, kind=MessageKind.SYSTEM, body_text=body_text, actor_id=None)
        self._bump(ticket, message.created_at)
        return message

    def merge(self, source: TicketRow, target: TicketRow, at: datetime, *, actor_id: int) -> None:
        """``check_merge_ticket``: the source's messages move to the target; the source is closed."""
        if source.merged_into is not None or target.merged_into is not None:
            raise ValueError("one of these tickets is already merged")
        if target.status == Status.CLOSED:
            raise ValueError("a ticket cannot be merged into a closed ticket")
        moved = source.messages
        source.messages = []
        for message in moved:
            message.ticket = target
        target.messages = sorted([*target.messages, *moved], key=lambda m: m.created_at)
        public = [m.kind for m in target.messages if m.kind in (MessageKind.CUSTOMER, MessageKind.REPLY)]
        target.last_public_kind = public[-1] if public else ""
        text = f"Ticket #{{number}} was merged into this ticket ({len(moved)} messages moved)."
        self._write_message(
            target, at, kind=MessageKind.SYSTEM, body_text=text, actor_id=actor_id, refers_to=source
        )
        trace = f"This ticket was merged into #{{number}}; its {len(moved)} messages are there now."
        self._write_message(
            source, at, kind=MessageKind.SYSTEM, body_text=trace, actor_id=actor_id, refers_to=target
        )
        source.merged_into = target
        old_status = source.status
        if old_status != Status.CLOSED:
            source.status = Status.CLOSED
            source.closed_at = self._tick(source, at)
            self._status_event(
                source, at, actor_id=actor_id, old=old_status, new=Status.CLOSED, reason="merged"
            )
        merged = self._event(source, EventKind.MERGED, at, actor_id=actor_id, field="merged_into")
        merged.other_ticket, merged.data_key = target, "into"
        self._bump(source, source.clock or at)
        self._bump(target, target.clock or at)

    def follow_up(self, closed: TicketRow, at: datetime, *, body_text: str) -> TicketRow:
        """``do_add_customer_message`` on a closed ticket: a linked follow-up ticket."""
        if closed.status != Status.CLOSED:
            raise ValueError("only a closed ticket gets a follow-up")
        assignee_id = closed.assignee_id
        if assignee_id is not None and not self.people[assignee_id].is_active:
            assignee_id = None
        follow_up = self.create(
            at=at,
            subject=closed.subject,
            requester_id=closed.requester_id,
            organization_id=closed.organization_id,
            body_text=body_text,
            channel=closed.channel,
            priority=closed.priority,
            team_id=closed.team_id,
            assignee_id=assignee_id,
            level=closed.level,
            language=closed.language,
            category_id=closed.category_id,
            product_id=closed.product_id,
            follow_up_of=closed,
        )
        event = self._event(closed, EventKind.FOLLOW_UP, at, actor_id=None, field="follow_up")
        event.other_ticket, event.data_key = follow_up, "follow_up"
        return follow_up

    # --- helpers mirroring the private ones in tickets.actions ---------------------------

    def _status_event(
        self, ticket: TicketRow, at: datetime, *, actor_id: int | None, old: str, new: str, reason: str = ""
    ) -> None:
        self._event(
            ticket,
            EventKind.STATUS,
            at,
            actor_id=actor_id,
            field="status",
            old=old,
            new=new,
            data={"reason": reason},
        )

    def _assignee_event(
        self, ticket: TicketRow, at: datetime, *, actor_id: int | None, old: int | None, new: int | None
    ) -> None:
        self._event(
            ticket,
            EventKind.ASSIGNEE,
            at,
            actor_id=actor_id,
            field="assignee",
            old=self._name(old),
            new=self._name(new),
            data={"old_id": old, "new_id": new},
        )

    def _notify_assigned(
        self, ticket: TicketRow, at: datetime, *, assignee_id: int, actor_id: int | None
    ) -> None:
        self._notify(
            recipient_id=assignee_id,
            kind=NotificationKind.ASSIGNED,
            actor_id=actor_id,
            ticket=ticket,
            at=ticket.clock or at,
            text="#{number} {subject} was assigned to you",
        )

    def _set_status(self, ticket: TicketRow, at: datetime, target: str, *, actor_id: int | None) -> None:
        old = ticket.status
        if old == target:
            return
        lifecycle.check_transition(old, target, has_assignee=ticket.assignee_id is not None)
        now = self._tick(ticket, at)
        ticket.status = target
        if target == Status.RESOLVED:
            ticket.resolved_at = now
        elif target == Status.CLOSED:
            ticket.closed_at = now
            if ticket.resolved_at is None:
                ticket.resolved_at = now
        elif old == Status.RESOLVED:
            ticket.resolved_at = None
            ticket.reopen_count += 1
            self._event(
                ticket, EventKind.REOPENED, at, actor_id=actor_id, field="status", old=old, new=target
            )
            return
        self._status_event(ticket, at, actor_id=actor_id, old=old, new=target)

    def _set_assignee(
        self, ticket: TicketRow, at: datetime, assignee_id: int | None, *, actor_id: int | None
    ) -> None:
        old = ticket.assignee_id
        if old == assignee_id:
            return
        ticket.assignee_id = assignee_id
        self._assignee_event(ticket, at, actor_id=actor_id, old=old, new=assignee_id)
        new_status = lifecycle.status_after_assignment(ticket.status, has_assignee=assignee_id is not None)
        if new_status != ticket.status:
            self._status_event(
                ticket, at, actor_id=actor_id, old=ticket.status, new=new_status, reason="assignment"
            )
            ticket.status = new_status
        if assignee_id is not None:
            self._notify_assigned(ticket, at, assignee_id=assignee_id, actor_id=actor_id)


def _text(value: Any) -> str:
    """An event's old or new value as TicketEvent stores it (``events._event``)."""
    if value is None:
        return ""
    # Choices members are str already: slicing makes them plain str without calling __str__.
    return value[:255] if isinstance(value, str) else str(value)[:255]


def plain_text_html(text: str) -> str:
    """What ``core.sanitize.text_to_html`` returns, without the sanitiser round trip when it can.

    The sanitiser costs ~20 µs a message, minutes over millions of generated messages. For our
    own template text without links or quote characters its output is just the escaped
    paragraphs, so build that directly; anything else still goes through ``text_to_html``.
    """
    if _NEEDS_SANITIZER.search(text):
        return text_to_html(text)
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    return "".join(
        "<p>" + html.escape(paragraph, quote=False).replace("\n", "<br>") + "</p>" for paragraph in paragraphs
    )


def number_rows(
    tickets: list[TicketRow], *, first_ticket_id: int, first_message_id: int, interleave: bool = True
) -> tuple[list[MessageRow], list[tuple[TicketRow, EventRow]]]:
    """Give out ticket and message ids in creation order and fill in the cross-references.

    Returns every message and every (ticket, event) pair, ready to insert. ``tickets`` is
    sorted in place by creation time. With ``interleave`` messages and events of all the
    tickets are put in time order, as a live system would have numbered them; without it
    they stay grouped by ticket (in order within each ticket), which is cheaper for millions.
    """
    tickets.sort(key=lambda t: t.created_at)
    for offset, ticket in enumerate(tickets):
        ticket.id = first_ticket_id + offset
    messages = [m for t in tickets for m in t.messages]
    if interleave:
        messages.sort(key=lambda m: m.created_at)
    for offset, message in enumerate(messages):
        message.id = first_message_id + offset
        if message.refers_to is not None:
            message.body_text = message.body_text.replace("{number}", str(message.refers_to.id))
    events: list[tuple[TicketRow, EventRow]] = []
    for ticket in tickets:
        for event in ticket.events:
            if event.message is not None:
                event.data = {"message_id": event.message.id, **event.data}
            if event.other_ticket is not None:
                event.new_value = str(event.other_ticket.id)
                event.data = {event.data_key: event.other_ticket.id}
            events.append((ticket, event))
    if interleave:
        events.sort(key=lambda pair: pair[1].created_at)
    return messages, events
