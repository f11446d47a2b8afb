"""SLA attainment per group for a date range, scoped to what the viewer may see (reads only).

Two kinds of figures, from two sources:

* **Met %** and **open, breached** come from the ``SLAClock`` rows, counted by the database
  (``Count(..., filter=Q(met=True))`` grouped by one dimension, joined through the ticket): one
  query for the stopped clocks, one for the open ones, however many tickets there are.
* **Median and p90 first response / resolution time** are computed in Python from the tickets'
  events (``kpis.ticket_times``), because business time needs the calendar maths.  The tickets are
  the same ones the met % counts; their events are read with one query of four columns, for at
  most ``KPI_TICKET_CAP`` tickets (the newest), and the report says when it was capped.

The population: SLA clocks of kind first response and resolution whose ``stopped_at`` falls in
``[start, end)`` (``met`` is set once a clock stops).  A resolution clock that was stopped and then
reopened is open again (its row has no ``stopped_at``), so it counts when it stops for good.
Tickets are grouped by the clock's policy, or by the ticket's *current* channel, priority, team or
assignee.  "Open, breached" is as of ``now``, whatever the range: clocks not stopped whose target
is already used up (running and past ``due_at``, or paused after using more than the target).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from relaydesk.accounts.models import User
from relaydesk.reports.kpis import Span, median, percentile, ticket_times
from relaydesk.sla.actions import engine_calendar
from relaydesk.sla.clocks import CLOSED_STATUSES, ClockKind, Fact, FactKind
from relaydesk.sla.engine import BusinessCalendar
from relaydesk.sla.models import BusinessCalendarConfig, SLAClock
from relaydesk.tickets.access import visible_tickets
from relaydesk.tickets.models import Channel, EventKind, MessageKind, Priority, TicketEvent

FIRST_RESPONSE = ClockKind.FIRST_RESPONSE.value
RESOLUTION = ClockKind.RESOLUTION.value
KINDS = (FIRST_RESPONSE, RESOLUTION)
# Past this many tickets the times are computed from the newest ones only (the met % never is).
KPI_TICKET_CAP = 20_000
_ALWAYS_OPEN = BusinessCalendar.always_open()


@dataclass(frozen=True)
class Dimension:
    """How one "group by" choice reads its group from an ``SLAClock`` row."""

    name: str
    title: Any  # lazy translation, as a column heading: "SLA policy"
    in_sentence: Any  # "by SLA policy", "grouped by the ticket's current team"
    grouped_by: Any
    key: str  # values() path of the group's id
    label: str | None  # values() path of its name; None: named by the model's choices
    none_label: Any = ""

    def fields(self) -> list[str]:
        return [self.key] if self.label is None else [self.key, self.label]


DIMENSIONS: dict[str, Dimension] = {
    d.name: d
    for d in (
        Dimension(
            "policy",
            _("SLA policy"),
            _("by SLA policy"),
            _("grouped by the SLA policy the clocks ran under"),
            "policy_id",
            "policy__name",
            _("No policy"),
        ),
        Dimension(
            "channel",
            _("Channel"),
            _("by channel"),
            _("grouped by the ticket's current channel"),
            "ticket__channel",
            None,
        ),
        Dimension(
            "priority",
            _("Priority"),
            _("by priority"),
            _("grouped by the ticket's current priority"),
            "ticket__priority",
            None,
        ),
        Dimension(
            "team",
            _("Team"),
            _("by team"),
            _("grouped by the ticket's current team"),
            "ticket__team_id",
            "ticket__team__name",
            _("No team"),
        ),
        Dimension(
            "agent",
            _("Agent"),
            _("by agent"),
            _("grouped by the ticket's current assignee"),
            "ticket__assignee_id",
            "ticket__assignee__full_name",
            _("Unassigned"),
        ),
    )
}


@dataclass(frozen=True)
class TimeFigures:
    """Median and 90th percentile of one KPI time over ``count`` tickets, both ways."""

    count: int
    business_median: timedelta
    business_p90: timedelta
    calendar_median: timedelta
    calendar_p90: timedelta


def time_figures(spans: Sequence[Span]) -> TimeFigures | None:
    if not spans:
        return None
    business = [s.business for s in spans]
    calendar = [s.calendar for s in spans]
    return TimeFigures(
        count=len(spans),
        business_median=median(business),  # type: ignore[arg-type]  # not None: spans is not empty
        business_p90=percentile(business, 90),  # type: ignore[arg-type]
        calendar_median=median(calendar),  # type: ignore[arg-type]
        calendar_p90=percentile(calendar, 90),  # type: ignore[arg-type]
    )


@dataclass(frozen=True)
class ClockFigures:
    met: int
    total: int
    open_breached: int
    times: TimeFigures | None


def met_percent(met: int, total: int) -> float | None:
    return None if total == 0 else 100 * met / total


@dataclass
class AttainmentRow:
    key: str
    label: str
    tickets: int = 0
    first_response_total: int = 0
    first_response_met: int = 0
    resolution_total: int = 0
    resolution_met: int = 0
    first_response_open_breached: int = 0
    resolution_open_breached: int = 0
    first_response_time: TimeFigures | None = None
    resolution_time: TimeFigures | None = None
    sort_key: tuple[Any, ...] = ()
    # Collected while reading events; turned into the two figures above.
    first_response_spans: list[Span] = field(default_factory=list, repr=False)
    resolution_spans: list[Span] = field(default_factory=list, repr=False)

    @property
    def clocks(self) -> list[ClockFigures]:
        """First response, then resolution: what a table row shows for each."""
        return [
            ClockFigures(
                self.first_response_met,
                self.first_response_total,
                self.first_response_open_breached,
                self.first_response_time,
            ),
            ClockFigures(
                self.resolution_met,
                self.resolution_total,
                self.resolution_open_breached,
                self.resolution_time,
            ),
        ]

    @property
    def first_response_percent(self) -> float | None:
        return met_percent(self.first_response_met, self.first_response_total)

    @property
    def resolution_percent(self) -> float | None:
        return met_percent(self.resolution_met, self.resolution_total)


@dataclass
class AttainmentReport:
    dimension: Dimension
    start: datetime
    end: datetime
    now: datetime
    rows: list[AttainmentRow]
    total: AttainmentRow
    # Tickets whose times were computed, and whether that is fewer than the report's tickets.
    timed_tickets: int
    capped: bool

    @property
    def is_empty(self) -> bool:
        return not self.rows


def scoped_clocks(user: User) -> QuerySet[SLAClock]:
    """First-response and resolution clocks of the tickets ``user`` may see.

    Admins, supervisors and QA reviewers see every ticket; everyone else the tickets of their
    teams and those assigned to them — the same rule as the ticket screens.
    """
    clocks = SLAClock.objects.filter(kind__in=KINDS)
    if not user.sees_all_tickets:
        clocks = clocks.filter(ticket_id__in=visible_tickets(user).values("id"))
    return clocks


def _group_label(dimension: Dimension, key: Any, label: Any) -> str:
    if dimension.name == "channel":
        return str(Channel(key).label) if key in Channel.values else str(key)
    if dimension.name == "priority":
        return f"P{key}" if key in Priority.values else str(key)
    if key is None:
        return str(dimension.none_label)
    return str(label)


def _sort_key(dimension: Dimension, key: Any, label: str) -> tuple[Any, ...]:
    """Priorities in order, the rest by name; the "no policy / no team / unassigned" group last."""
    if dimension.name == "priority":
        return (0, key if isinstance(key, int) else 99, "")
    return (1 if key is None else 0, 0, label.casefold())


def sla_attainment(
    user: User,
    *,
    start: datetime,
    end: datetime,
    group_by: str,
    now: datetime,
    ticket_cap: int | None = None,
) -> AttainmentReport:
    """Attainment of the clocks that stopped in ``[start, end)``, per group of ``group_by``.

    Five queries whatever the data: stopped-clock counts, open-breached counts, the clocks'
    tickets (capped), their events, and the calendars those tickets' times are counted on.
    """
    dimension = DIMENSIONS[group_by]
    clocks = scoped_clocks(user)
    stopped = clocks.filter(stopped_at__gte=start, stopped_at__lt=end, met__isnull=False)
    rows: dict[Any, AttainmentRow] = {}

    def row_for(values: dict[str, Any]) -> AttainmentRow:
        key = values[dimension.key]
        row = rows.get(key)
        if row is None:
            label = _group_label(dimension, key, values.get(dimension.label) if dimension.label else None)
            row = rows[key] = AttainmentRow(
                key="" if key is None else str(key), label=label, sort_key=_sort_key(dimension, key, label)
            )
        return row

    first = Q(kind=FIRST_RESPONSE)
    resolution = Q(kind=RESOLUTION)
    counted = (
        stopped.values(*dimension.fields())
        .annotate(
            tickets=Count("ticket_id", distinct=True),
            first_response_total=Count("id", filter=first),
            first_response_met=Count("id", filter=first & Q(met=True)),
            resolution_total=Count("id", filter=resolution),
            resolution_met=Count("id", filter=resolution & Q(met=True)),
        )
        .order_by()
    )
    for values in counted:
        row = row_for(values)
        row.tickets = values["tickets"]
        row.first_response_total = values["first_response_total"]
        row.first_response_met = values["first_response_met"]
        row.resolution_total = values["resolution_total"]
        row.resolution_met = values["resolution_met"]

    breached_now = Q(running_since__isnull=False, due_at__lt=now) | Q(
        running_since__isnull=True, elapsed__gt=F("target")
    )
    open_breached = (
        clocks.filter(breached_now, stopped_at__isnull=True)
        .values(*dimension.fields())
        .annotate(
            first_response_open_breached=Count("id", filter=first),
            resolution_open_breached=Count("id", filter=resolution),
        )
        .order_by()
    )
    for values in open_breached:
        row = row_for(values)
        row.first_response_open_breached = values["first_response_open_breached"]
        row.resolution_open_breached = values["resolution_open_breached"]

    timed, capped = _add_times(stopped, dimension, rows, ticket_cap or KPI_TICKET_CAP)
    ordered = sorted(rows.values(), key=lambda r: r.sort_key)
    total = AttainmentRow(key="", label=str(_("All")))
    for row in ordered:
        for name in (
            "tickets",
            "first_response_total",
            "first_response_met",
            "resolution_total",
            "resolution_met",
            "first_response_open_breached",
            "resolution_open_breached",
        ):
            setattr(total, name, getattr(total, name) + getattr(row, name))
        total.first_response_spans += row.first_response_spans
        total.resolution_spans += row.resolution_spans
    for row in [*ordered, total]:
        row.first_response_time = time_figures(row.first_response_spans)
        row.resolution_time = time_figures(row.resolution_spans)
    return AttainmentReport(
        dimension=dimension,
        start=start,
        end=end,
        now=now,
        rows=ordered,
        total=total,
        timed_tickets=timed,
        capped=capped,
    )


@dataclass
class _TimedTicket:
    group: Any
    kinds: set[str]
    policy_id: int | None
    business_hours: bool | None
    policy_calendar_id: int | None
    team_calendar_id: int | None


def _add_times(
    stopped: QuerySet[SLAClock], dimension: Dimension, rows: dict[Any, AttainmentRow], cap: int
) -> tuple[int, bool]:
    """Collect each group's FRT and resolution spans; returns (tickets timed, capped)."""
    # At most two rows per ticket (its first-response and resolution clocks), newest tickets first.
    limit = 2 * cap + 1
    clock_rows = list(
        stopped.values_list(
            "ticket_id",
            "kind",
            dimension.key,
            "policy_id",
            "policy__business_hours",
            "policy__calendar_id",
            "ticket__team__calendar_id",
        ).order_by("-ticket_id")[:limit]
    )
    if not clock_rows:
        return 0, False
    tickets: dict[int, _TimedTicket] = {}
    for ticket_id, kind, group, policy_id, business_hours, policy_calendar, team_calendar in clock_rows:
        entry = tickets.get(ticket_id)
        if entry is None:
            entry = tickets[ticket_id] = _TimedTicket(
                group, set(), policy_id, business_hours, policy_calendar, team_calendar
            )
        entry.kinds.add(kind)
    ids = list(tickets)
    hit_limit = len(clock_rows) == limit
    if hit_limit:  # the last ticket's rows may be cut short: leave it out
        ids.pop()
    capped = hit_limit or len(ids) > cap
    ids = ids[:cap]
    lowest = ids[-1]

    calendars = _calendars(tickets[i] for i in ids)
    facts = _facts_by_ticket(stopped.filter(ticket_id__gte=lowest).values("ticket_id"))
    for ticket_id in ids:
        entry = tickets[ticket_id]
        times = ticket_times(facts.get(ticket_id, ()), _calendar_of(entry, calendars))
        row = rows.get(entry.group)
        if row is None:  # cannot happen: every stopped clock's group was counted
            continue
        if FIRST_RESPONSE in entry.kinds and times.first_response is not None:
            row.first_response_spans.append(times.first_response)
        if RESOLUTION in entry.kinds and times.resolution is not None:
            row.resolution_spans.append(times.resolution)
    return len(ids), capped


def _calendars(entries: Iterable[_TimedTicket]) -> dict[int, BusinessCalendar]:
    ids = set()
    for entry in entries:
        ids.add(entry.policy_calendar_id)
        ids.add(entry.team_calendar_id)
    ids.discard(None)
    if not ids:
        return {}
    return {
        config.pk: engine_calendar(config) for config in BusinessCalendarConfig.objects.filter(pk__in=ids)
    }


def _calendar_of(entry: _TimedTicket, calendars: dict[int, BusinessCalendar]) -> BusinessCalendar:
    """The calendar the ticket's SLA clocks run on (as ``sla.actions.policy_for`` chooses it).

    A policy in calendar time runs 24/7; one in business hours uses its own calendar, else the
    team's; a ticket whose policy was deleted since uses its team's calendar.  No calendar: 24/7.
    """
    if entry.policy_id is not None and not entry.business_hours:
        return _ALWAYS_OPEN
    calendar_id = entry.policy_calendar_id or entry.team_calendar_id
    if calendar_id is None:
        return _ALWAYS_OPEN
    return calendars.get(calendar_id, _ALWAYS_OPEN)


_CLOSED = tuple(sorted(CLOSED_STATUSES))
# The events a KPI time depends on: creation, public replies, and status changes into or out of
# resolved/closed.  A change between two open statuses moves neither time (kpis.ticket_times only
# looks for the start of the final resolved/closed stretch), and skipping those is a third fewer rows.
_KPI_EVENTS = (
    Q(kind=EventKind.CREATED)
    | Q(kind=EventKind.MESSAGE, new_value=MessageKind.REPLY)
    | (
        Q(kind__in=(EventKind.STATUS, EventKind.REOPENED))
        & (Q(new_value__in=_CLOSED) | Q(old_value__in=_CLOSED))
    )
)


def _facts_by_ticket(ticket_ids: QuerySet[Any]) -> dict[int, list[Fact]]:
    """The KPI-relevant facts of every ticket in ``ticket_ids`` (a subquery), in one query.

    The facts ``sla.actions.facts_from_events`` gives, less what moves no KPI time: customer
    messages, the first status on CREATED (a new ticket is never resolved) and changes between
    open statuses; so no JSON is read and far fewer rows come back.
    """
    events = (
        TicketEvent.objects.filter(_KPI_EVENTS, ticket_id__in=ticket_ids)
        .values_list("ticket_id", "kind", "new_value", "created_at")
        .order_by("ticket_id", "created_at", "id")
    )
    facts: dict[int, list[Fact]] = {}
    for ticket_id, kind, new_value, created_at in events:
        if kind == EventKind.CREATED:
            fact = Fact(created_at, FactKind.CREATED)
        elif kind == EventKind.MESSAGE:
            fact = Fact(created_at, FactKind.AGENT_REPLY)
        else:
            fact = Fact(created_at, FactKind.STATUS, new_value)
        facts.setdefault(ticket_id, []).append(fact)
    return facts
