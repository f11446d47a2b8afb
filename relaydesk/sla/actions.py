"""Keeping a ticket's SLA clocks true: the policy that applies, the clocks replayed from its events.

``do_sync_clocks`` runs inside the transaction of every ticket change that can move a clock (see
``tickets.actions._bump``), so ``Ticket.sla_due_at`` and the ``SLAClock`` rows are never stale.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from relaydesk.customers.models import Organization, Tier
from relaydesk.sla import table as sla_table
from relaydesk.sla.clocks import Clock, Fact, FactKind, Targets, replay, summarise
from relaydesk.sla.engine import BusinessCalendar
from relaydesk.sla.models import BusinessCalendarConfig, SLAClock, SLAPolicy
from relaydesk.sla.policies import first_matching
from relaydesk.sla.table import SLATable
from relaydesk.tickets.models import EventKind, MessageKind, Ticket, TicketEvent

# Ticket fields whose change can start, stop, pause or re-target a clock.
SLA_FIELDS = frozenset(
    {"status", "priority", "channel", "team", "organization", "first_response_at", "waiting_since"}
)
_ALWAYS_OPEN = BusinessCalendar.always_open()
# Engine calendars by their settings: each keeps its own cache of built days, which is most of
# the speed of the business-hours maths, so the same settings reuse one instance per process.
_engine_calendars: dict[str, BusinessCalendar] = {}


def engine_calendar(config: BusinessCalendarConfig) -> BusinessCalendar:
    key = json.dumps(
        [config.time_zone, config.weekly_hours, config.holidays, config.yearly_holidays], sort_keys=True
    )
    calendar = _engine_calendars.get(key)
    if calendar is None:
        if len(_engine_calendars) > 256:
            _engine_calendars.clear()
        calendar = _engine_calendars[key] = config.to_engine()
    return calendar


@dataclass(frozen=True)
class AppliedPolicy:
    policy: SLAPolicy
    targets: Targets


def _minutes(value: int | None) -> timedelta | None:
    return None if value is None else timedelta(minutes=value)


def targets_of(policy: SLAPolicy, calendar: BusinessCalendar) -> Targets:
    return Targets(
        calendar=calendar,
        first_response=_minutes(policy.first_response_minutes),
        next_response=_minutes(policy.next_response_minutes),
        resolution=_minutes(policy.resolution_minutes),
        warning_percent=policy.warning_percent,
        pause_statuses=frozenset(policy.pause_statuses),
    )


def policy_for(ticket: Ticket, table: SLATable | None = None) -> AppliedPolicy | None:
    """The first matching policy and its targets on the right calendar, or None."""
    if table is None:
        table = sla_table.current()
    if not table.policies:
        return None
    policy = first_matching(
        table.policies,
        channel=ticket.channel,
        priority=ticket.priority,
        tier=_organization_tier(ticket),
        team_id=ticket.team_id,
    )
    if policy is None:
        return None
    team_calendar = table.team_calendar(ticket.team_id) if policy.calendar_id is None else None
    return AppliedPolicy(policy, targets_of(policy, clock_calendar(policy, team_calendar)))


def _organization_tier(ticket: Ticket) -> str:
    if ticket.organization_id is None:
        return Tier.STANDARD
    if Ticket.organization.is_cached(ticket):
        return ticket.organization.tier if ticket.organization is not None else Tier.STANDARD
    tier = Organization.objects.filter(pk=ticket.organization_id).values_list("tier", flat=True).first()
    return tier or Tier.STANDARD


def clock_calendar(policy: SLAPolicy, team_calendar: BusinessCalendarConfig | None) -> BusinessCalendar:
    """The calendar ``policy``'s clocks run on: 24/7 for targets in calendar time; else the policy's
    own calendar, else the ticket team's; 24/7 when neither exists (business hours nobody defined)."""
    if not policy.business_hours:
        return _ALWAYS_OPEN
    config = policy.calendar or team_calendar
    return engine_calendar(config) if config is not None else _ALWAYS_OPEN


def facts_from_events(events: Iterable[TicketEvent]) -> list[Fact]:
    """The clock-moving facts in a ticket's events (which must be in the order they were written)."""
    facts = []
    for event in events:
        if event.kind == EventKind.CREATED:
            facts.append(Fact(event.created_at, FactKind.CREATED, str(event.data.get("status", ""))))
        elif event.kind == EventKind.MESSAGE:
            kind = event.data.get("kind") or event.new_value
            if kind == MessageKind.CUSTOMER:
                facts.append(Fact(event.created_at, FactKind.CUSTOMER_MESSAGE))
            elif kind == MessageKind.REPLY:
                facts.append(Fact(event.created_at, FactKind.AGENT_REPLY))
        elif event.kind in (EventKind.STATUS, EventKind.REOPENED):
            facts.append(Fact(event.created_at, FactKind.STATUS, event.new_value))
    return facts


_CLOCK_EVENT_KINDS = (EventKind.CREATED, EventKind.MESSAGE, EventKind.STATUS, EventKind.REOPENED)


def ticket_facts(ticket: Ticket, pending: Sequence[TicketEvent] = ()) -> list[Fact]:
    stored = (
        TicketEvent.objects.filter(
            ticket=ticket,
            kind__in=(EventKind.CREATED, EventKind.MESSAGE, EventKind.STATUS, EventKind.REOPENED),
        )
        .only("kind", "new_value", "data", "created_at")
        .order_by("created_at", "id")
    )
    return facts_from_events([*stored, *pending])


def next_check(row: SLAClock) -> datetime | None:
    """When the scanner must next look at ``row``: its warning, then its breach; None when done."""
    if row.running_since is None:
        return None
    if row.warned_at is None and row.breached_at is None and row.warn_at < row.due_at:
        return row.warn_at
    if row.breached_at is None:
        return row.due_at
    return None


_REPLAY_FIELDS = (
    "policy",
    "target",
    "elapsed",
    "due_at",
    "warn_at",
    "running_since",
    "paused_at",
    "stopped_at",
    "met",
    "next_check_at",
)


def _fill(row: SLAClock, clock: Clock, policy: SLAPolicy) -> None:
    row.policy = policy
    row.target = clock.target
    row.elapsed = clock.elapsed
    row.due_at = clock.due_at
    row.warn_at = clock.warn_at
    row.running_since = clock.running_since
    row.paused_at = clock.paused_at
    row.stopped_at = clock.stopped_at
    row.met = clock.met
    row.next_check_at = next_check(row)


def _new_row(ticket: Ticket, clock: Clock, policy: SLAPolicy) -> SLAClock:
    row = SLAClock(ticket=ticket, kind=clock.kind.value, started_at=clock.started_at)
    _fill(row, clock, policy)
    return row


def _changed(row: SLAClock, before: tuple[object, ...]) -> bool:
    return before != tuple(getattr(row, name) for name in _REPLAY_FIELDS)


def do_start_clocks(new_tickets: Sequence[tuple[Ticket, Sequence[TicketEvent]]]) -> None:
    """Start the clocks of tickets created (and saved) in this transaction, from their pending events.

    One table read, one INSERT for all clock rows, and an UPDATE of each ticket's SLA fields
    (cheaper to build than Django's ``bulk_update``, whose CASE expressions cost more CPU than
    the statements they save).
    """
    table = sla_table.current()
    rows: list[SLAClock] = []
    changed: list[Ticket] = []
    for ticket, pending in new_tickets:
        applied = policy_for(ticket, table)
        clocks = replay(facts_from_events(pending), applied.targets) if applied is not None else []
        for clock in clocks:
            assert applied is not None
            rows.append(_new_row(ticket, clock, applied.policy))
        if _summarise_onto(ticket, clocks, applied):
            changed.append(ticket)
    if rows:
        SLAClock.objects.bulk_create(rows)
    for ticket in changed:
        Ticket.objects.filter(pk=ticket.pk).update(
            sla_policy=ticket.sla_policy_id, sla_due_at=ticket.sla_due_at, sla_warn_at=ticket.sla_warn_at
        )


def _summarise_onto(ticket: Ticket, clocks: Sequence[Clock], applied: AppliedPolicy | None) -> list[str]:
    """Set the ticket's SLA fields from its clocks; returns the names of those that changed."""
    summary = summarise(clocks)
    values = (applied.policy.pk if applied else None, summary.due_at, summary.warn_at)
    changed = []
    for name, value in zip(("sla_policy_id", "sla_due_at", "sla_warn_at"), values, strict=True):
        if getattr(ticket, name) != value:
            setattr(ticket, name, value)
            changed.append(name.removesuffix("_id"))
    return changed


def do_sync_clocks(
    ticket: Ticket, *, pending_events: Sequence[TicketEvent] = (), table: SLATable | None = None
) -> list[str]:
    """Re-apply the policy to ``ticket`` (locked) and rewrite its clocks; returns changed ticket fields.

    The caller saves the ticket with those fields.
    """
    applied = policy_for(ticket, table)
    clocks: list[Clock] = []
    if applied is not None:
        clocks = replay(ticket_facts(ticket, pending_events), applied.targets)
    existing = {(row.kind, row.started_at): row for row in ticket.sla_clocks.all()}
    to_create, to_update = [], []
    for clock in clocks:
        row = existing.pop((clock.kind.value, clock.started_at), None)
        assert applied is not None
        if row is None:
            to_create.append(_new_row(ticket, clock, applied.policy))
        else:
            before = tuple(getattr(row, name) for name in _REPLAY_FIELDS)
            _fill(row, clock, applied.policy)
            if _changed(row, before):
                to_update.append(row)
    if to_create:
        SLAClock.objects.bulk_create(to_create)
    for row in to_update:  # a few rows: one UPDATE each costs less CPU than a bulk_update
        row.save(update_fields=_REPLAY_FIELDS)
    if existing:  # clocks the current policy no longer has (its targets were removed)
        SLAClock.objects.filter(pk__in=[row.pk for row in existing.values()]).delete()
    return _summarise_onto(ticket, clocks, applied)


def rebuild_clocks(tickets: Iterable[Ticket]) -> int:
    """Recompute clocks for ``tickets`` (after a policy or calendar change); returns how many changed."""
    table = sla_table.load()  # read afresh: this runs because the table changed
    changed = 0
    for ticket in tickets:
        fields = do_sync_clocks(ticket, table=table)
        if fields:
            ticket.save(update_fields=fields)
            changed += 1
    return changed
