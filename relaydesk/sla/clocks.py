"""SLA clocks replayed from what happened on a ticket (pure: no ORM).

A ticket's history, reduced to ``Fact`` values (created, a customer message, an agent's public
reply, a status change), is replayed against the targets of its SLA policy and gives the state of
every clock: when it started, how much business time it has used, when it is (or was) due, when it
warns, and whether it was met.  The write path, the rebuild command and the KPI reports all call
``replay``, so a due time on a ticket and a figure in a report can never disagree.

The rules (also in docs/sla.md):

* **First response** starts when the ticket is created and stops at the first public reply.
* **Next response** starts at a customer message that arrives after a first response, when no
  next-response clock is already open, and stops at the next public reply.
* **Resolution** starts when the ticket is created and stops when it is resolved or closed; a
  reopen resumes it with the time it had already used.
* While the ticket is in one of the policy's pause statuses (by default Pending on customer) every
  open clock is paused; it resumes, with the business time it had left, when the ticket leaves it.
* Resolving or closing a ticket stops the response clocks too.
* A clock is met when the business time it used is at most its target.

Business time is measured on the policy's calendar (``BusinessCalendar.always_open()`` for targets
in calendar time).  ``due_at`` of a running clock is the instant the target is used up if nothing
pauses it; once a clock has used up its target, ``due_at`` keeps the instant it breached.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from relaydesk.sla.engine import BusinessCalendar, add_business_time, business_time_between

CLOSED_STATUSES = frozenset({"resolved", "closed"})


class ClockKind(StrEnum):
    FIRST_RESPONSE = "first_response"
    NEXT_RESPONSE = "next_response"
    RESOLUTION = "resolution"


class FactKind(StrEnum):
    CREATED = "created"
    CUSTOMER_MESSAGE = "customer_message"
    AGENT_REPLY = "agent_reply"
    STATUS = "status"


@dataclass(frozen=True)
class Fact:
    """One thing that moves clocks. ``status`` is the new status (the first one for CREATED)."""

    at: datetime
    kind: FactKind
    status: str = ""


@dataclass(frozen=True)
class Targets:
    """What a policy promises, on which clock."""

    calendar: BusinessCalendar
    first_response: timedelta | None = None
    next_response: timedelta | None = None
    resolution: timedelta | None = None
    warning_percent: int = 80
    pause_statuses: frozenset[str] = frozenset({"pending_customer"})

    def target(self, kind: ClockKind) -> timedelta | None:
        return {
            ClockKind.FIRST_RESPONSE: self.first_response,
            ClockKind.NEXT_RESPONSE: self.next_response,
            ClockKind.RESOLUTION: self.resolution,
        }[kind]


@dataclass
class Clock:
    kind: ClockKind
    started_at: datetime
    target: timedelta
    warning: timedelta
    due_at: datetime
    warn_at: datetime
    # Business time used in segments that have ended; the current segment runs from ``running_since``.
    elapsed: timedelta = timedelta(0)
    running_since: datetime | None = None
    paused_at: datetime | None = None
    stopped_at: datetime | None = None

    @property
    def is_running(self) -> bool:
        return self.running_since is not None

    @property
    def is_open(self) -> bool:
        """Not stopped: running or paused."""
        return self.stopped_at is None

    def used(self, calendar: BusinessCalendar, now: datetime) -> timedelta:
        """Business time used up to ``now`` (or up to where it stopped or paused)."""
        if self.running_since is None:
            return self.elapsed
        return self.elapsed + business_time_between(calendar, self.running_since, now)

    @property
    def met(self) -> bool | None:
        """None while open; else whether it stopped within its target."""
        if self.stopped_at is None:
            return None
        return self.elapsed <= self.target


class _Replay:
    def __init__(self, targets: Targets) -> None:
        self.targets = targets
        self.calendar = targets.calendar
        self.clocks: list[Clock] = []
        self.open: dict[ClockKind, Clock] = {}
        # A resolved ticket's resolution clock waits here for a reopen.
        self.resumable: Clock | None = None
        self.status = ""
        self.first_response_given = False

    @property
    def paused(self) -> bool:
        return self.status in self.targets.pause_statuses or self.status in CLOSED_STATUSES

    def _schedule(self, clock: Clock, since: datetime) -> None:
        """Start a running segment at ``since``: due and warning instants from what is left."""
        clock.running_since = since
        clock.paused_at = None
        left = clock.target - clock.elapsed
        if left > timedelta(0):
            clock.due_at = add_business_time(self.calendar, since, left)
        warn_left = clock.warning - clock.elapsed
        if warn_left > timedelta(0):
            clock.warn_at = add_business_time(self.calendar, since, warn_left)

    def _halt(self, clock: Clock, at: datetime) -> None:
        if clock.running_since is not None:
            clock.elapsed += business_time_between(self.calendar, clock.running_since, at)
            clock.running_since = None

    def start(self, kind: ClockKind, at: datetime) -> None:
        target = self.targets.target(kind)
        if target is None:
            return
        warning = target * self.targets.warning_percent / 100
        clock = Clock(kind=kind, started_at=at, target=target, warning=warning, due_at=at, warn_at=at)
        self._schedule(clock, at)
        if self.paused:
            self._halt(clock, at)
            clock.paused_at = at
        self.clocks.append(clock)
        self.open[kind] = clock

    def stop(self, kind: ClockKind, at: datetime) -> Clock | None:
        clock = self.open.pop(kind, None)
        if clock is not None:
            self._halt(clock, at)
            clock.paused_at = None
            clock.stopped_at = at
        return clock

    def apply(self, fact: Fact) -> None:
        at = fact.at
        if fact.kind == FactKind.CREATED:
            self.status = fact.status
            self.start(ClockKind.FIRST_RESPONSE, at)
            self.start(ClockKind.RESOLUTION, at)
        elif fact.kind == FactKind.CUSTOMER_MESSAGE:
            if self.first_response_given and ClockKind.NEXT_RESPONSE not in self.open:
                self.start(ClockKind.NEXT_RESPONSE, at)
        elif fact.kind == FactKind.AGENT_REPLY:
            self.first_response_given = True
            self.stop(ClockKind.FIRST_RESPONSE, at)
            self.stop(ClockKind.NEXT_RESPONSE, at)
        elif fact.kind == FactKind.STATUS:
            self._change_status(fact.status, at)

    def _change_status(self, new: str, at: datetime) -> None:
        was_paused = self.paused
        self.status = new
        if new in CLOSED_STATUSES:
            self.stop(ClockKind.FIRST_RESPONSE, at)
            self.stop(ClockKind.NEXT_RESPONSE, at)
            resolution = self.stop(ClockKind.RESOLUTION, at)
            if resolution is not None:
                self.resumable = resolution
            return
        if self.resumable is not None:  # reopened: the resolution clock goes on where it stopped
            clock, self.resumable = self.resumable, None
            clock.stopped_at = None
            self.open[ClockKind.RESOLUTION] = clock
            clock.paused_at = at
        if self.paused and not was_paused:
            for clock in self.open.values():
                self._halt(clock, at)
                clock.paused_at = at
        elif not self.paused:
            for clock in self.open.values():
                if clock.running_since is None:
                    self._schedule(clock, at)

    def finish(self) -> list[Clock]:
        if self.status == "closed":
            self.resumable = None
        return self.clocks


def replay(facts: Iterable[Fact], targets: Targets) -> list[Clock]:
    """Every clock of a ticket, in the order they started. ``facts`` must be in the order they happened."""
    run = _Replay(targets)
    for fact in facts:
        run.apply(fact)
    return run.finish()


@dataclass(frozen=True)
class TicketSummary:
    """What a ticket row keeps for queues: the soonest due and warning instants of running clocks."""

    due_at: datetime | None
    warn_at: datetime | None


def summarise(clocks: Iterable[Clock]) -> TicketSummary:
    running = [clock for clock in clocks if clock.is_running]
    if not running:
        return TicketSummary(None, None)
    return TicketSummary(min(c.due_at for c in running), min(c.warn_at for c in running))
