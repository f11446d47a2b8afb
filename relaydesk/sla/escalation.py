"""The breach scanner: clocks that reached their warning or breach run their policy's escalation rules.

Shaped like Healthchecks' ``sendalerts``: the database is the queue. ``SLAClock.next_check_at`` is
the next threshold of every running clock (indexed, nulls excluded), so a scan reads only the clocks
due now, oldest first. Each one is claimed with a conditional UPDATE (``… WHERE next_check_at =
<what we read>``) inside a transaction that first locks the ticket, so of two consumers scanning at
once exactly one escalates a given threshold; the other's UPDATE matches no row and it moves on.
Escalations go through the normal ticket actions, so every change has its timeline event.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from relaydesk.accounts.models import Level, Role, User
from relaydesk.notifications.actions import do_notify
from relaydesk.notifications.models import NotificationKind
from relaydesk.sla.actions import next_check
from relaydesk.sla.models import EscalationAction, SLAClock
from relaydesk.tickets import events
from relaydesk.tickets.actions import do_change_ticket
from relaydesk.tickets.models import OPEN_STATUSES, Ticket

logger = logging.getLogger(__name__)

WARNING = "warning"
BREACH = "breach"
CLOCK_NAMES = {
    "first_response": "first response",
    "next_response": "next response",
    "resolution": "resolution",
}
NEXT_LEVEL: dict[str, Level] = {Level.L1: Level.L2, Level.L2: Level.SPECIALIST}
# A clock whose escalation failed is looked at again after this long (the worker never stops).
RETRY_AFTER = timedelta(minutes=5)


@dataclass
class ScanResult:
    warnings: int = 0
    breaches: int = 0
    skipped: int = 0  # claimed by another consumer first, or no longer due
    failed: int = 0

    @property
    def escalated(self) -> int:
        return self.warnings + self.breaches


def supervisors_of(team_id: int | None) -> list[User]:
    supervisors = User.objects.filter(role=Role.SUPERVISOR, is_active=True)
    if team_id is not None:
        supervisors = supervisors.filter(teams=team_id)
    return list(supervisors.order_by("pk"))


class _Supervisors(dict[int | None, list[User]]):
    """Supervisors per team, read once per scan (a burst of breaches is mostly a few teams)."""

    def __missing__(self, team_id: int | None) -> list[User]:
        self[team_id] = supervisors_of(team_id)
        return self[team_id]


def _escalate(ticket: Ticket, clock: SLAClock, stage: str, supervisors: _Supervisors) -> list[str]:
    """Run the policy's actions for ``stage`` on ``ticket`` (locked); returns what was done, in words."""
    policy = clock.policy
    actions = (policy.breach_actions if stage == BREACH else policy.warning_actions) if policy else []
    name = CLOCK_NAMES.get(clock.kind, clock.kind)
    kind = NotificationKind.SLA_BREACH if stage == BREACH else NotificationKind.SLA_WARNING
    sentence = (
        _("#%(number)s %(subject)s: the %(clock)s SLA breached")
        if stage == BREACH
        else _("#%(number)s %(subject)s: the %(clock)s SLA is at risk")
    )
    text = sentence % {"number": ticket.pk, "subject": ticket.subject, "clock": name}
    done: list[str] = []
    notified: set[int] = set()
    assignee = ticket.assignee
    if (
        EscalationAction.NOTIFY_ASSIGNEE in actions
        and assignee is not None
        and do_notify(recipient=assignee, kind=kind, ticket_id=ticket.pk, text=text)
    ):
        notified.add(assignee.pk)
        done.append(_("notified %(name)s") % {"name": assignee})
    if EscalationAction.NOTIFY_SUPERVISORS in actions:
        for supervisor in supervisors[ticket.team_id]:
            if supervisor.pk not in notified and do_notify(
                recipient=supervisor, kind=kind, ticket_id=ticket.pk, text=text
            ):
                notified.add(supervisor.pk)
                done.append(_("notified %(name)s") % {"name": supervisor})
    changes: dict[str, object] = {}
    if EscalationAction.RAISE_PRIORITY in actions and ticket.priority > 1:
        changes["priority"] = ticket.priority - 1
        done.append(_("priority raised to P%(priority)s") % {"priority": ticket.priority - 1})
    if EscalationAction.ESCALATE_LEVEL in actions and ticket.level in NEXT_LEVEL:
        next_level = NEXT_LEVEL[ticket.level]
        changes["level"] = next_level
        target_team = ticket.team.escalation_team if ticket.team is not None else None
        if target_team is not None and target_team.is_active:
            changes["team"] = target_team
            if ticket.assignee is not None and not ticket.assignee.teams.filter(pk=target_team.pk).exists():
                changes["assignee"] = None
            done.append(_("moved to %(team)s (%(level)s)") % {"team": target_team, "level": next_level.label})
        else:
            done.append(_("level raised to %(level)s") % {"level": next_level.label})
    events.sla_event(
        ticket=ticket,
        clock=clock.kind,
        stage=stage,
        due_at=clock.due_at,
        actions=done,
        policy=policy.name if policy else "",
    )
    if changes:
        do_change_ticket(ticket, acting_user=None, **changes)  # type: ignore[arg-type]
    return done


def escalate_clock(
    clock_id: int,
    ticket_id: int,
    seen_check_at: datetime,
    *,
    now: datetime,
    supervisors: _Supervisors | None = None,
) -> str | None:
    """Claim one clock's threshold and escalate it; returns the stage, or None if not ours to do."""
    with transaction.atomic():
        # Ticket first, like every ticket action, so the scanner and an agent cannot deadlock.
        # SKIP LOCKED: a ticket locked right now (another consumer escalating it, an agent saving
        # it) is left for the next scan instead of making this one wait; its clock is unchanged.
        locked = Ticket.objects.select_for_update(of=("self",), skip_locked=True).select_related(
            "assignee", "team__escalation_team"
        )
        try:
            ticket = locked.get(pk=ticket_id)
            clock = SLAClock.objects.select_related("policy").get(pk=clock_id, ticket_id=ticket_id)
        except (Ticket.DoesNotExist, SLAClock.DoesNotExist):
            return None
        if clock.next_check_at != seen_check_at:
            return None
        if clock.due_at <= now and clock.breached_at is None:
            stage = BREACH
            clock.breached_at = now
            clock.warned_at = clock.warned_at or now
        elif clock.warn_at <= now and clock.warned_at is None:
            stage = WARNING
            clock.warned_at = now
        else:
            stage = ""
        clock.next_check_at = next_check(clock)
        claimed = SLAClock.objects.filter(pk=clock_id, next_check_at=seen_check_at).update(
            warned_at=clock.warned_at, breached_at=clock.breached_at, next_check_at=clock.next_check_at
        )
        if not claimed or not stage:
            return None
        if ticket.status in OPEN_STATUSES:
            _escalate(ticket, clock, stage, supervisors if supervisors is not None else _Supervisors())
        return stage


def scan(*, now: datetime | None = None, batch_size: int = 500) -> ScanResult:
    """Escalate every clock whose warning or breach instant is at or before ``now``."""
    now = now or timezone.now()
    result = ScanResult()
    supervisors = _Supervisors()
    last_seen: tuple[datetime, int] | None = None
    while True:
        due = SLAClock.objects.filter(next_check_at__lte=now)
        if last_seen is not None:  # keyset: never re-read a clock this scan already looked at
            seen_at, seen_id = last_seen
            due = due.filter(next_check_at__gte=seen_at).exclude(next_check_at=seen_at, pk__lte=seen_id)
        rows: list[tuple[int, datetime, int]] = list(
            due.order_by("next_check_at", "pk").values_list("pk", "next_check_at", "ticket_id")[:batch_size]  # type: ignore[arg-type]
        )
        for clock_id, check_at, ticket_id in rows:
            try:
                stage = escalate_clock(clock_id, ticket_id, check_at, now=now, supervisors=supervisors)
            except Exception:
                logger.exception("SLA escalation of clock %s failed; retrying in %s", clock_id, RETRY_AFTER)
                SLAClock.objects.filter(pk=clock_id, next_check_at=check_at).update(
                    next_check_at=now + RETRY_AFTER
                )
                result.failed += 1
                continue
            if stage == BREACH:
                result.breaches += 1
            elif stage == WARNING:
                result.warnings += 1
            else:
                result.skipped += 1
        if len(rows) < batch_size:
            return result
        last_id, last_check_at, _ = rows[-1]
        last_seen = (last_check_at, last_id)
