"""Reads for queues and lists: filters, scopes and keyset pagination, shared by the web UI and the API.

Queues sort P1 → P4, then oldest waiting first, then id; or, with ``sort=sla``, by the soonest SLA
due instant (tickets with no running clock last), then id. Pagination is by keyset over the sort
key, so page 1,000 costs what page 1 costs; every sorted or filtered column is covered by an index
on ``Ticket``.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import F, Q, QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from relaydesk.accounts.models import User
from relaydesk.core.errors import ValidationFailed
from relaydesk.core.parsing import parse_id, without_nul
from relaydesk.tickets.access import visible_tickets
from relaydesk.tickets.models import OPEN_STATUSES, Channel, Priority, Status, Ticket

MAX_PAGE_SIZE = 100


class Sort:
    QUEUE = ""  # P1 → P4, then oldest waiting
    SLA = "sla"  # SLA due soonest

    VALUES = (QUEUE, SLA)


class SLAState:
    AT_RISK = "at_risk"  # past a clock's warning threshold, not yet due
    BREACHED = "breached"  # a running clock is past its due instant

    VALUES = (AT_RISK, BREACHED)


class Scope:
    MINE = "mine"
    UNASSIGNED = "unassigned"
    TEAM = "team"
    ALL = "all"


@dataclass
class TicketFilters:
    """Validated queue filters. Empty lists mean "any"."""

    scope: str = Scope.ALL
    team_id: int | None = None
    statuses: list[str] = field(default_factory=list)
    priorities: list[int] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    team_ids: list[int] = field(default_factory=list)
    assignee_ids: list[int] = field(default_factory=list)
    unassigned: bool = False
    tags: list[str] = field(default_factory=list)
    languages: list[str] = field(default_factory=list)
    requester_id: int | None = None
    organization_id: int | None = None
    text: str = ""
    include_closed: bool = False
    sla_state: str = ""
    sort: str = Sort.QUEUE

    @property
    def is_filtered(self) -> bool:
        return bool(
            self.statuses
            or self.priorities
            or self.channels
            or self.team_ids
            or self.assignee_ids
            or self.unassigned
            or self.tags
            or self.languages
            or self.text
            or self.requester_id
            or self.organization_id
            or self.sla_state
        )


def _ints(values: list[str], name: str, allowed: set[int] | None = None) -> list[int]:
    result = []
    for value in values:
        if value == "":
            continue
        number = parse_id(value)
        if number is None:
            raise ValidationFailed(f"{name} must be a number, got {value!r}.", field=name)
        if allowed is not None and number not in allowed:
            raise ValidationFailed(f"{value!r} is not a valid {name}.", field=name)
        result.append(number)
    return result


def _choices(values: list[str], name: str, allowed: list[str]) -> list[str]:
    result = [v for v in values if v]
    for value in result:
        if value not in allowed:
            raise ValidationFailed(f"{value!r} is not a valid {name}.", field=name)
    return result


def _first(values: list[int]) -> int | None:
    return values[0] if values else None


def parse_filters(params: Any, *, scope: str = Scope.ALL, team_id: int | None = None) -> TicketFilters:
    """Build filters from a QueryDict-like object (``getlist``); bad values are a ValidationFailed."""

    def getlist(name: str) -> list[str]:
        values = params.getlist(name) if hasattr(params, "getlist") else params.get(name, [])
        if isinstance(values, str):
            values = [values]
        # Accept both ?status=a&status=b and ?status=a,b
        return [part.strip() for value in values for part in str(value).split(",")]

    assignees = getlist("assignee")
    unassigned = "none" in assignees
    return TicketFilters(
        scope=scope,
        team_id=team_id,
        statuses=_choices(getlist("status"), "status", Status.values),
        priorities=_ints(getlist("priority"), "priority", set(Priority.values)),
        channels=_choices(getlist("channel"), "channel", Channel.values),
        team_ids=_ints(getlist("team"), "team"),
        assignee_ids=_ints([a for a in assignees if a != "none"], "assignee"),
        unassigned=unassigned,
        tags=[without_nul(t).lower() for t in getlist("tag") if t][:10],
        languages=[without_nul(lang) for lang in getlist("language") if lang][:10],
        requester_id=_first(_ints(getlist("requester"), "requester")),
        organization_id=_first(_ints(getlist("organization"), "organization")),
        text=" ".join(without_nul(str(params.get("q", "") or "")).split())[:200],
        include_closed=str(params.get("closed", "")).lower() in {"1", "true", "yes", "on"},
        sla_state=(_choices(getlist("sla"), "sla", list(SLAState.VALUES)) or [""])[0],
        sort=(_choices(getlist("sort"), "sort", [v for v in Sort.VALUES if v]) or [Sort.QUEUE])[0],
    )


def _scoped_tickets(user: User, filters: TicketFilters) -> QuerySet[Ticket]:
    """The scope's tickets, restricted to what ``user`` may see.

    Each scope states visibility in the simplest form it allows (my own tickets need no team
    check; a team queue of one of my teams needs no assignee check), so the planner can walk
    one of the partial queue indexes instead of evaluating an OR over the whole table.
    """
    if not user.is_active:
        return Ticket.objects.none()
    sees_all = user.sees_all_tickets
    team_ids = frozenset() if sees_all else user.team_ids
    tickets = Ticket.objects.all()
    if filters.scope == Scope.MINE:
        return tickets.filter(assignee=user)
    if filters.scope == Scope.UNASSIGNED:
        tickets = tickets.filter(assignee__isnull=True)
        return tickets if sees_all else tickets.filter(team_id__in=team_ids)
    if filters.scope == Scope.TEAM and filters.team_id is not None:
        tickets = tickets.filter(team_id=filters.team_id)
        return tickets if sees_all or filters.team_id in team_ids else tickets.filter(assignee=user)
    return tickets if sees_all else tickets.filter(Q(team_id__in=team_ids) | Q(assignee=user))


def filter_tickets(user: User, filters: TicketFilters) -> QuerySet[Ticket]:
    """The tickets ``user`` may see that match ``filters``, in queue order."""
    queryset = _scoped_tickets(user, filters)

    if filters.statuses:
        queryset = queryset.filter(status__in=filters.statuses)
    elif not filters.include_closed:
        queryset = queryset.filter(status__in=OPEN_STATUSES)
    if filters.priorities:
        queryset = queryset.filter(priority__in=filters.priorities)
    if filters.channels:
        queryset = queryset.filter(channel__in=filters.channels)
    if filters.team_ids:
        queryset = queryset.filter(team_id__in=filters.team_ids)
    if filters.assignee_ids or filters.unassigned:
        condition = Q(assignee_id__in=filters.assignee_ids)
        if filters.unassigned:
            condition |= Q(assignee__isnull=True)
        queryset = queryset.filter(condition)
    for tag in filters.tags:
        queryset = queryset.filter(tags__name=tag)
    if filters.languages:
        queryset = queryset.filter(language__in=filters.languages)
    if filters.requester_id:
        queryset = queryset.filter(requester_id=filters.requester_id)
    if filters.organization_id:
        queryset = queryset.filter(organization_id=filters.organization_id)
    if filters.text:
        text = filters.text.lstrip("#")
        number = parse_id(text)
        if number is not None:
            queryset = queryset.filter(Q(pk=number) | Q(subject__icontains=filters.text))
        else:
            queryset = queryset.filter(subject__icontains=filters.text)
    if filters.sla_state:
        now = timezone.now()
        if filters.sla_state == SLAState.BREACHED:
            queryset = queryset.filter(sla_due_at__lte=now)
        else:
            queryset = queryset.filter(sla_warn_at__lte=now, sla_due_at__gt=now)
    if filters.sort == Sort.SLA:
        return queryset.order_by(F("sla_due_at").asc(nulls_last=True), "id")
    return queryset.order_by("priority", "waiting_since", "id")


# --- keyset pagination --------------------------------------------------------------------


def encode_cursor(ticket: Ticket, sort: str = Sort.QUEUE) -> str:
    if sort == Sort.SLA:
        due = ticket.sla_due_at.isoformat() if ticket.sla_due_at else None
        key: list[Any] = [Sort.SLA, due, ticket.pk]
    else:
        key = [ticket.priority, ticket.waiting_since.isoformat(), ticket.pk]
    raw = json.dumps(key).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _bad_cursor() -> ValidationFailed:
    return ValidationFailed("The cursor is not valid; start again from the first page.", field="cursor")


def _aware(value: Any) -> datetime:
    when = parse_datetime(value) if isinstance(value, str) else None
    if when is None or when.tzinfo is None:
        raise ValueError
    return when


def decode_cursor(cursor: str, sort: str = Sort.QUEUE) -> Q:
    """The keyset condition for the rows after ``cursor`` in ``sort`` order."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded))
        if not isinstance(key, list) or len(key) != 3 or not isinstance(key[2], int):
            raise ValueError
        first, second, ticket_id = key
        if sort == Sort.SLA:
            if first != Sort.SLA:
                raise ValueError
            if second is None:  # in the tail of tickets with no running clock
                return Q(sla_due_at__isnull=True, id__gt=ticket_id)
            due = _aware(second)
            return Q(sla_due_at__gt=due) | Q(sla_due_at=due, id__gt=ticket_id) | Q(sla_due_at__isnull=True)
        if not isinstance(first, int):
            raise ValueError
        waiting_since = _aware(second)
    except (ValueError, TypeError, binascii.Error, json.JSONDecodeError, UnicodeDecodeError):
        raise _bad_cursor() from None
    return (
        Q(priority__gt=first)
        | Q(priority=first, waiting_since__gt=waiting_since)
        | Q(priority=first, waiting_since=waiting_since, id__gt=ticket_id)
    )


@dataclass
class Page:
    tickets: list[Ticket]
    next_cursor: str | None


def paginate(queryset: QuerySet[Ticket], *, cursor: str | None, limit: int, sort: str = Sort.QUEUE) -> Page:
    """One page after ``cursor``; ``queryset`` must be ordered by filter_tickets with the same ``sort``."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    if cursor:
        queryset = queryset.filter(decode_cursor(cursor, sort))
    rows = list(queryset[: limit + 1])
    has_more = len(rows) > limit
    rows = rows[:limit]
    return Page(tickets=rows, next_cursor=encode_cursor(rows[-1], sort) if has_more and rows else None)


def queue_page(user: User, filters: TicketFilters, *, cursor: str | None = None, limit: int = 50) -> Page:
    """A page of a queue with what list rows show loaded in the same query (no N+1)."""
    queryset = filter_tickets(user, filters).select_related("requester", "assignee", "team", "organization")
    return paginate(queryset, cursor=cursor, limit=limit, sort=filters.sort)


def requester_other_tickets(user: User, ticket: Ticket, limit: int = 10) -> list[Ticket]:
    return list(
        visible_tickets(user)
        .filter(requester_id=ticket.requester_id)
        .exclude(pk=ticket.pk)
        .order_by("-created_at")[:limit]
    )


def queue_counts(user: User) -> dict[str, int]:
    """Counts for the navigation: my open tickets and unassigned in my teams."""
    mine = filter_tickets(user, TicketFilters(scope=Scope.MINE)).count()
    unassigned = filter_tickets(user, TicketFilters(scope=Scope.UNASSIGNED)).count()
    return {"mine": mine, "unassigned": unassigned}
