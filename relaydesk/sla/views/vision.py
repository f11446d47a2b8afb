""" "Service vision & SLA": what the center promises, readable by every signed-in staff member.

The statement and tone in the admins' words, the channels and languages offered, the active
rows of the SLA table as promised to customers, and which hours each team's clocks run on.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language_info
from django.views.decorators.http import require_GET

from relaydesk.accounts.models import Team
from relaydesk.sla.admin_actions import current_vision
from relaydesk.sla.models import SLAPolicy
from relaydesk.sla.views.describe import calendar_parts, conditions, promises
from relaydesk.tickets.models import Channel
from relaydesk.web.htmx import staff_required


@dataclass(frozen=True)
class Promise:
    policy: SLAPolicy
    conditions: list[str]
    lines: list[str]


@dataclass(frozen=True)
class TeamHours:
    team: Team
    calendar_name: str
    hours: list[str]
    time_zone: str


def language_name(code: str) -> str:
    """ "de" → "German (de)"; an unknown code is shown as it is."""
    try:
        info = get_language_info(code)
    except KeyError:
        return code
    return f"{info['name_translated']} ({code})"


def _promises() -> list[Promise]:
    policies = (
        SLAPolicy.objects.filter(is_active=True).select_related("team", "calendar").order_by("position", "id")
    )
    return [
        Promise(policy=policy, conditions=conditions(policy), lines=promises(policy)) for policy in policies
    ]


def _team_hours() -> list[TeamHours]:
    teams = Team.objects.filter(is_active=True).select_related("calendar").order_by("name")
    rows = []
    for team in teams:
        calendar = team.calendar
        if calendar is None:
            rows.append(TeamHours(team=team, calendar_name="", hours=[], time_zone=team.time_zone))
        else:
            rows.append(
                TeamHours(
                    team=team,
                    calendar_name=calendar.name,
                    hours=calendar_parts(calendar),
                    time_zone=calendar.time_zone,
                )
            )
    return rows


@require_GET
@staff_required
def vision(request: HttpRequest) -> HttpResponse:
    service = current_vision()
    channel_labels = dict(Channel.choices)
    channels = [str(channel_labels[c]) for c in (service.channels if service else []) if c in channel_labels]
    languages = [language_name(code) for code in (service.languages if service else [])]
    promise_rows = _promises()
    has_vision = bool(
        service and (service.statement or service.brand_tone or service.coverage or channels or languages)
    )
    return render(
        request,
        "sla/vision.html",
        {
            "nav_active": "sla_vision",
            "service": service,
            "has_vision": has_vision,
            "channels": channels,
            "languages": languages,
            "promises": promise_rows,
            "teams": _team_hours(),
        },
    )
