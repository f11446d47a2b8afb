"""Calendars and SLA policies in words, for the screens: "Mon–Fri 09:00–17:00", "8 business h",
"First reply within 1 business hour (Mon–Fri 09:00–17:00 New York)", a week of opening hours.

Presentation only: reads stored settings (strings, minutes), asks the engine where time matters
(the preview's "open now" and "business hours this week"), never writes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.dates import WEEKDAYS_ABBR
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from relaydesk.customers.models import Tier
from relaydesk.sla.engine import BusinessCalendar, add_business_time, business_time_between
from relaydesk.sla.models import BusinessCalendarConfig, EscalationAction, SLAPolicy, calendar_from_config
from relaydesk.tickets.models import Channel, Priority, Status

WHOLE_DAY = ("00:00", "00:00")


# --- calendars ----------------------------------------------------------------------------


def _intervals(weekly_hours: Any, day: int) -> tuple[tuple[str, str], ...]:
    if not isinstance(weekly_hours, Mapping):
        return ()
    return tuple((str(start), str(end)) for start, end in weekly_hours.get(str(day), ()) or ())


def intervals_text(intervals: Iterable[tuple[str, str]]) -> str:
    """``(("09:00", "12:00"), ("13:00", "17:00"))`` → "09:00–12:00, 13:00–17:00"; a whole day is "24 h"."""
    parts = []
    for start, end in intervals:
        parts.append(_("24 h") if (start, end) == WHOLE_DAY else f"{start}–{end}")
    return ", ".join(parts)


def _day_span(days: list[int]) -> str:
    if len(days) == 1:
        return str(WEEKDAYS_ABBR[days[0]])
    if len(days) == 2:
        return f"{WEEKDAYS_ABBR[days[0]]}, {WEEKDAYS_ABBR[days[1]]}"
    return f"{WEEKDAYS_ABBR[days[0]]}–{WEEKDAYS_ABBR[days[-1]]}"


def week_summary(weekly_hours: Any) -> str:
    """A compact week: "Mon–Fri 09:00–17:00 · Sat 10:00–14:00", "24/7", or "Closed every day"."""
    return " · ".join(week_parts(weekly_hours))


def week_parts(weekly_hours: Any) -> list[str]:
    """The week summary's parts, one per run of days with the same hours (kept whole when wrapping)."""
    week = [_intervals(weekly_hours, day) for day in range(7)]
    if all(day == (WHOLE_DAY,) for day in week):
        return [_("24/7")]
    groups: list[tuple[list[int], tuple[tuple[str, str], ...]]] = []
    for day, intervals in enumerate(week):
        if not intervals:
            continue
        if groups and groups[-1][1] == intervals and groups[-1][0][-1] == day - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], intervals))
    if not groups:
        return [_("Closed every day")]
    return [f"{_day_span(days)} {intervals_text(intervals)}" for days, intervals in groups]


def zone_city(time_zone: str) -> str:
    """ "America/New_York" → "New York"; "UTC" stays "UTC"."""
    return time_zone.rsplit("/", 1)[-1].replace("_", " ")


def calendar_summary(calendar: BusinessCalendarConfig) -> str:
    """ "Mon–Fri 09:00–17:00 New York": the hours and where they are read."""
    return " · ".join(calendar_parts(calendar))


def calendar_parts(calendar: BusinessCalendarConfig) -> list[str]:
    parts = week_parts(calendar.weekly_hours)
    parts[-1] = f"{parts[-1]} {zone_city(calendar.time_zone)}"
    return parts


@dataclass(frozen=True)
class PreviewDay:
    day: date
    label: str
    hours: str
    is_holiday: bool
    is_closed: bool
    is_today: bool


@dataclass(frozen=True)
class Preview:
    days: list[PreviewDay]
    open_now: bool
    next_opening: datetime | None  # in the calendar's zone; None when open now or never
    week_total: timedelta  # business time in the 7 days shown
    time_zone: str

    @property
    def week_total_text(self) -> str:
        return hours_text(self.week_total)

    @property
    def next_opening_text(self) -> str:
        """In the calendar's own zone (a template's date filter would move it to the viewer's)."""
        return date_format(self.next_opening, "D j M, H:i") if self.next_opening else ""


def opening_preview(
    *, time_zone: str, weekly_hours: Any, holidays: Any, yearly_holidays: Any, now: datetime
) -> Preview:
    """The next 7 local days of a calendar's hours, as the engine will count them."""
    calendar: BusinessCalendar = calendar_from_config(
        time_zone=time_zone, weekly_hours=weekly_hours, holidays=holidays, yearly_holidays=yearly_holidays
    )
    zone = ZoneInfo(time_zone)
    local_now = now.astimezone(zone)
    today = local_now.date()
    closed_dates = {str(day) for day in holidays or []}
    closed_yearly = {str(day) for day in yearly_holidays or []}
    days = []
    for offset in range(7):
        day = today + timedelta(days=offset)
        holiday = day.isoformat() in closed_dates or f"{day.month:02d}-{day.day:02d}" in closed_yearly
        open_hours = intervals_text(_intervals(weekly_hours, day.weekday()))
        days.append(
            PreviewDay(
                day=day,
                label=date_format(day, "D j M"),
                hours=_("Holiday") if holiday else open_hours or _("Closed"),
                is_holiday=holiday,
                is_closed=not holiday and not open_hours,
                is_today=offset == 0,
            )
        )
    start = datetime.combine(today, datetime.min.time(), tzinfo=zone)
    week_total = business_time_between(calendar, start, start + timedelta(days=7))
    next_opening: datetime | None
    try:
        next_opening = add_business_time(calendar, now, timedelta(0)).astimezone(zone)
    except ValueError:  # no hours at all within a year: the engine refuses to look further
        next_opening = None
    open_now = next_opening is not None and next_opening <= now
    return Preview(
        days=days,
        open_now=open_now,
        next_opening=None if open_now else next_opening,
        week_total=week_total,
        time_zone=time_zone,
    )


def hours_text(duration: timedelta) -> str:
    minutes = int(duration.total_seconds() // 60)
    hours, rest = divmod(minutes, 60)
    if rest:
        return _("%(hours)s h %(minutes)s min") % {"hours": hours, "minutes": rest}
    return _("%(hours)s h") % {"hours": hours}


# --- targets ------------------------------------------------------------------------------


def target_short(minutes: int | None, *, business: bool) -> str:
    """For the admin table: "30 min", "1 h 30 min", "3 d", "8 business h"; "—" for no target."""
    if minutes is None:
        return "—"
    if business:
        hours, rest = divmod(minutes, 60)
        if not hours:
            return _("%(minutes)s business min") % {"minutes": rest}
        if not rest:
            return _("%(hours)s business h") % {"hours": hours}
        return _("%(hours)s business h %(minutes)s min") % {"hours": hours, "minutes": rest}
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = []
    if days:
        parts.append(_("%(days)s d") % {"days": days})
    if hours:
        parts.append(_("%(hours)s h") % {"hours": hours})
    if mins or not parts:
        parts.append(_("%(minutes)s min") % {"minutes": mins})
    return " ".join(parts)


def target_words(minutes: int, *, business: bool) -> str:
    """In plain words: "1 business hour", "8 business hours", "3 days", "2 hours and 30 minutes"."""
    parts = []
    if business:
        hours, mins = divmod(minutes, 60)
        if hours:
            parts.append(ngettext("%(n)s business hour", "%(n)s business hours", hours) % {"n": hours})
        if mins:
            if parts:
                parts.append(ngettext("%(n)s minute", "%(n)s minutes", mins) % {"n": mins})
            else:
                parts.append(ngettext("%(n)s business minute", "%(n)s business minutes", mins) % {"n": mins})
    else:
        days, rest = divmod(minutes, 24 * 60)
        hours, mins = divmod(rest, 60)
        if days:
            parts.append(ngettext("%(n)s day", "%(n)s days", days) % {"n": days})
        if hours:
            parts.append(ngettext("%(n)s hour", "%(n)s hours", hours) % {"n": hours})
        if mins:
            parts.append(ngettext("%(n)s minute", "%(n)s minutes", mins) % {"n": mins})
    if len(parts) == 1:
        return parts[0]
    return _("%(first)s and %(last)s") % {"first": ", ".join(parts[:-1]), "last": parts[-1]}


def clock_note(policy: SLAPolicy, *, team_calendar: BusinessCalendarConfig | None = None) -> str:
    """Which clock a policy's targets run on, in brackets after each promise.

    ``team_calendar``: the calendar of the ticket's team when it is known (the tester), used
    when the row has none of its own, as ``sla.actions.policy_for`` does.
    """
    if not policy.business_hours:
        return _("around the clock")
    calendar = policy.calendar or team_calendar
    if calendar is not None:
        return calendar_summary(calendar)
    return _("the handling team's business hours")


def promises(policy: SLAPolicy, *, team_calendar: BusinessCalendarConfig | None = None) -> list[str]:
    """The row as promised to customers: "First reply within 1 business hour (Mon–Fri … New York)"."""
    note = clock_note(policy, team_calendar=team_calendar)
    lines = []
    for minutes, text in (
        (policy.first_response_minutes, _("First reply within %(target)s (%(clock)s)")),
        (policy.next_response_minutes, _("Each following reply within %(target)s (%(clock)s)")),
        (policy.resolution_minutes, _("Resolved within %(target)s (%(clock)s)")),
    ):
        if minutes is not None:
            lines.append(
                text % {"target": target_words(minutes, business=policy.business_hours), "clock": note}
            )
    return lines


# --- conditions and escalation ------------------------------------------------------------


def conditions(policy: SLAPolicy) -> list[str]:
    """The conditions a row sets, as labels; [] when it matches every ticket."""
    labels = []
    if policy.priority is not None:
        labels.append(str(Priority(policy.priority).label))
    if policy.channel:
        labels.append(
            str(Channel(policy.channel).label) if policy.channel in Channel.values else policy.channel
        )
    if policy.organization_tier:
        tier = Tier(policy.organization_tier).label if policy.organization_tier in Tier.values else ""
        labels.append(_("%(tier)s customers") % {"tier": tier or policy.organization_tier})
    if policy.team_id is not None and policy.team is not None:
        labels.append(_("Team %(name)s") % {"name": policy.team.name})
    return labels


SHORT_ACTIONS = {
    EscalationAction.NOTIFY_ASSIGNEE: gettext_lazy("Notify assignee"),
    EscalationAction.NOTIFY_SUPERVISORS: gettext_lazy("Notify supervisors"),
    EscalationAction.RAISE_PRIORITY: gettext_lazy("Raise priority"),
    EscalationAction.ESCALATE_LEVEL: gettext_lazy("Next level's team"),
}


def action_labels(actions: Any) -> list[str]:
    return [str(SHORT_ACTIONS.get(action, action)) for action in actions or []]


def status_labels(statuses: Any) -> list[str]:
    return [
        str(Status(status).label) if status in Status.values else str(status) for status in statuses or []
    ]
