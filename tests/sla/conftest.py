from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from relaydesk.sla.models import BusinessCalendarConfig, EscalationAction, SLAPolicy
from tests.api.conftest import api_as  # noqa: F401  (the API client fixture, for SLA API tests)
from tests.conftest import World

NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS_9_TO_5 = {str(day): [["09:00", "17:00"]] for day in range(5)}


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in New York in June 2025 (Monday the 2nd … Friday the 6th, Monday the 9th)."""
    return datetime(2025, 6, day, hour, minute, tzinfo=NEW_YORK)


@dataclass
class SLATable:
    office: BusinessCalendarConfig
    urgent: SLAPolicy
    chat: SLAPolicy
    standard: SLAPolicy


@pytest.fixture
def sla_table(world: World) -> SLATable:
    """Americas works 9–5 New York time on weekdays; urgent tickets get an hour, chat 30 calendar minutes."""
    office = BusinessCalendarConfig.objects.create(
        name="New York office", time_zone="America/New_York", weekly_hours=WEEKDAYS_9_TO_5
    )
    world.americas.calendar = office
    world.americas.escalation_team = world.emea
    world.americas.save()
    urgent = SLAPolicy.objects.create(
        name="Urgent",
        position=1,
        priority=1,
        first_response_minutes=60,
        next_response_minutes=60,
        resolution_minutes=8 * 60,
        warning_percent=50,
        warning_actions=[EscalationAction.NOTIFY_ASSIGNEE],
        breach_actions=[EscalationAction.NOTIFY_SUPERVISORS, EscalationAction.ESCALATE_LEVEL],
    )
    chat = SLAPolicy.objects.create(
        name="Chat",
        position=2,
        channel="chat",
        first_response_minutes=30,
        resolution_minutes=4 * 60,
        business_hours=False,
    )
    standard = SLAPolicy.objects.create(
        name="Standard",
        position=3,
        first_response_minutes=4 * 60,
        next_response_minutes=8 * 60,
        resolution_minutes=40 * 60,
        breach_actions=[EscalationAction.NOTIFY_ASSIGNEE, EscalationAction.RAISE_PRIORITY],
    )
    return SLATable(office=office, urgent=urgent, chat=chat, standard=standard)
