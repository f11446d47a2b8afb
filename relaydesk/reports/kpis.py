"""First response time and resolution time of one ticket, from its facts (pure: no ORM).

The input is the ticket's history as ``sla.clocks.Fact`` values, in the order they happened (the
same facts the SLA clocks are replayed from), and the ``BusinessCalendar`` business time is
counted on.  Each time is given twice: in calendar time (wall-clock time, nights and weekends
included) and in business time (only the calendar's opening hours count).

Definitions (also in docs/kpis.md):

* **First response time (FRT)** runs from the ticket's creation to its first public reply by an
  agent.  Internal notes and system messages are not replies.  A ticket with no public reply has
  no FRT and is left out of FRT figures (it is not counted as zero, nor as "infinite").
* **Resolution time** runs from the ticket's creation to the last time it became resolved or
  closed: the moment it entered the resolved/closed stretch it is in at the end.  A reopen means
  the earlier resolution does not count: the ticket's resolution time is measured to its final
  resolution, and while it is open again it has none.  Closing a ticket that is already resolved
  does not move that moment (it is still the resolution).
* **Pending time is not subtracted** from either KPI: they measure how long the customer waited,
  whatever the reason.  The SLA clocks (``sla.clocks``) measure something else — whether *we*
  kept a promise — so they pause in the policy's pause statuses (by default Pending on customer),
  and the resolution clock does not count the time a ticket sat resolved before a reopen.  For a
  ticket that was never paused before its first reply, FRT in business time equals the business
  time the SLA first-response clock used; with pauses or reopens the KPI is the longer of the two.
* Business time is ``engine.business_time_between(calendar, created, end)``: the opening hours of
  the calendar inside ``[created, end)``.  It is never more than the calendar time.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from relaydesk.sla.clocks import CLOSED_STATUSES, Fact, FactKind
from relaydesk.sla.engine import BusinessCalendar, business_time_between


@dataclass(frozen=True)
class Span:
    """One duration measured both ways."""

    calendar: timedelta
    business: timedelta


@dataclass(frozen=True)
class TicketTimes:
    """The KPI times of one ticket; None where the ticket has none (no reply yet, not resolved)."""

    created_at: datetime | None
    first_response_at: datetime | None
    resolved_at: datetime | None
    first_response: Span | None
    resolution: Span | None


def _span(calendar: BusinessCalendar, start: datetime, end: datetime) -> Span:
    # In UTC: Python subtracts two datetimes that share a tzinfo as wall-clock times, which is an
    # hour off across a DST change.
    elapsed = end.astimezone(UTC) - start.astimezone(UTC)
    return Span(calendar=max(elapsed, timedelta(0)), business=business_time_between(calendar, start, end))


def ticket_times(facts: Iterable[Fact], calendar: BusinessCalendar) -> TicketTimes:
    """FRT and resolution time of a ticket; ``facts`` must be in the order they happened.

    Facts before the CREATED fact are ignored (there are none in a real history); with no CREATED
    fact there is nothing to measure from and both times are None.
    """
    created_at: datetime | None = None
    first_reply: datetime | None = None
    # Start of the current resolved/closed stretch; None while the ticket is open.
    closed_since: datetime | None = None
    for fact in facts:
        if fact.kind == FactKind.CREATED:
            if created_at is None:
                created_at = fact.at
                closed_since = fact.at if fact.status in CLOSED_STATUSES else None
            continue
        if created_at is None:
            continue
        if fact.kind == FactKind.AGENT_REPLY:
            if first_reply is None:
                first_reply = fact.at
        elif fact.kind == FactKind.STATUS:
            if fact.status in CLOSED_STATUSES:
                if closed_since is None:
                    closed_since = fact.at
            else:  # open again: an earlier resolution no longer counts
                closed_since = None
    if created_at is None:
        return TicketTimes(None, None, None, None, None)
    return TicketTimes(
        created_at=created_at,
        first_response_at=first_reply,
        resolved_at=closed_since,
        first_response=None if first_reply is None else _span(calendar, created_at, first_reply),
        resolution=None if closed_since is None else _span(calendar, created_at, closed_since),
    )


def median(values: list[timedelta]) -> timedelta | None:
    """The middle value; for an even count the mean of the two middle values. None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    if len(ordered) % 2:
        return ordered[middle]
    return (ordered[middle - 1] + ordered[middle]) / 2


def percentile(values: list[timedelta], percent: int) -> timedelta | None:
    """Nearest-rank percentile: the smallest value with at least ``percent`` % of values at or below it."""
    if not values:
        return None
    if not 0 < percent <= 100:
        raise ValueError("percent must be in 1..100")
    ordered = sorted(values)
    rank = -(-len(ordered) * percent // 100)  # ceil(n * p / 100), in integers
    return ordered[rank - 1]
