"""Administration: the list of business calendars (zone, week at a glance, teams, policies)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from relaydesk.accounts.models import Team
from relaydesk.sla.models import BusinessCalendarConfig
from relaydesk.sla.views.describe import week_parts, zone_city
from relaydesk.web.htmx import admin_required


@dataclass(frozen=True)
class CalendarRow:
    calendar: BusinessCalendarConfig
    week: list[str]
    city: str
    holiday_count: int
    teams: list[Team]
    policy_count: int


@require_GET
@admin_required
def calendars(request: HttpRequest) -> HttpResponse:
    calendars = (
        BusinessCalendarConfig.objects.annotate(policy_count=Count("slapolicy"))
        .prefetch_related(
            Prefetch(
                "teams", queryset=Team.objects.order_by("name").only("id", "name", "is_active", "calendar")
            )
        )
        .order_by("name")
    )
    rows = [
        CalendarRow(
            calendar=calendar,
            week=week_parts(calendar.weekly_hours),
            city=zone_city(calendar.time_zone),
            holiday_count=len(calendar.holidays or []) + len(calendar.yearly_holidays or []),
            teams=list(calendar.teams.all()),
            policy_count=calendar.policy_count,
        )
        for calendar in calendars
    ]
    return render(request, "sla/calendars.html", {"nav_active": "admin_sla_calendars", "rows": rows})
