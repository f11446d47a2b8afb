"""How SLA clocks read to an agent: states, time left or overdue, due times in their own zone."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from relaydesk.sla.actions import clock_calendar
from relaydesk.sla.clocks import ClockKind
from relaydesk.sla.engine import BusinessCalendar, business_time_between
from relaydesk.sla.models import SLAClock
from relaydesk.tickets.models import Ticket

_ALWAYS_OPEN = BusinessCalendar.always_open()

OK = "ok"
AT_RISK = "at_risk"
BREACHED = "breached"
PAUSED = "paused"
MET = "met"
MISSED = "missed"

CLOCK_LABELS = {
    ClockKind.FIRST_RESPONSE: gettext_lazy("First response"),
    ClockKind.NEXT_RESPONSE: gettext_lazy("Next response"),
    ClockKind.RESOLUTION: gettext_lazy("Resolution"),
}


def format_duration(value: timedelta) -> str:
    """ "45m", "3h 20m", "2d 4h": two units at most, never seconds."""
    minutes = max(0, int(value.total_seconds() // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {mins}m" if mins else f"{hours}h"
    return f"{mins}m"


def row_state(ticket: Ticket, now: datetime) -> tuple[str, str]:
    """(state, short label) for a queue row, from the two instants kept on the ticket (no maths)."""
    if ticket.sla_due_at is None:
        if ticket.sla_policy_id is not None and ticket.status in ("pending_customer", "pending_internal"):
            return PAUSED, _("paused")
        return "", ""
    if ticket.sla_due_at <= now:
        return BREACHED, _("%(time)s over") % {"time": format_duration(now - ticket.sla_due_at)}
    left = format_duration(ticket.sla_due_at - now)
    if ticket.sla_warn_at is not None and ticket.sla_warn_at <= now:
        return AT_RISK, left
    return OK, left


@dataclass
class ClockView:
    kind: str
    label: str
    state: str
    due_at: datetime
    due_local: str
    summary: str  # "2h 10m left", "overdue by 35m", "met in 1h 5m", "paused — 3h left"
    used_percent: int
    business: bool


def _local(value: datetime, zone: str) -> str:
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    return value.astimezone(tz).strftime("%a %d %b, %H:%M")


def clock_views(ticket: Ticket, *, now: datetime, viewer_time_zone: str) -> list[ClockView]:
    """The clocks worth showing on the ticket page: every open one and the latest stopped per kind."""
    rows = list(SLAClock.objects.filter(ticket=ticket).select_related("policy__calendar"))
    if not rows:
        return []
    open_rows = [row for row in rows if row.stopped_at is None]
    open_kinds = {row.kind for row in open_rows}
    latest_stopped: dict[str, SLAClock] = {}
    for row in rows:
        if row.stopped_at is None or row.kind in open_kinds:
            continue
        if row.kind not in latest_stopped or row.started_at > latest_stopped[row.kind].started_at:
            latest_stopped[row.kind] = row
    shown = open_rows + list(latest_stopped.values())
    views = []
    for row in sorted(shown, key=lambda r: (r.stopped_at is not None, r.due_at)):
        policy = row.policy
        business = bool(policy and policy.business_hours)
        team_calendar = ticket.team.calendar if ticket.team is not None else None
        calendar = clock_calendar(policy, team_calendar) if policy is not None else _ALWAYS_OPEN
        used = row.elapsed
        if row.running_since is not None:
            used += business_time_between(calendar, row.running_since, now)
        target = row.target or timedelta(minutes=1)
        percent = int(100 * used / target)
        if row.stopped_at is not None:
            state = MET if row.met else MISSED
            summary = (_("met in %(time)s") if row.met else _("missed: took %(time)s")) % {
                "time": format_duration(used)
            }
        elif used >= target:
            state = BREACHED if row.running_since is not None else PAUSED
            summary = _("overdue by %(time)s") % {"time": format_duration(used - target)}
            if row.running_since is None:
                summary = _("paused, %(summary)s") % {"summary": summary}
        else:
            left = format_duration(target - used)
            if row.running_since is None:
                state, summary = PAUSED, _("paused, %(time)s left") % {"time": left}
            else:
                warn_reached = used >= target * (policy.warning_percent if policy else 80) / 100
                state = AT_RISK if warn_reached else OK
                summary = _("%(time)s left") % {"time": left}
        views.append(
            ClockView(
                kind=row.kind,
                label=str(CLOCK_LABELS.get(ClockKind(row.kind), row.kind)),
                state=state,
                due_at=row.due_at,
                due_local=_local(row.due_at, viewer_time_zone),
                summary=summary,
                used_percent=max(0, min(percent, 100)),
                business=business,
            )
        )
    return views
