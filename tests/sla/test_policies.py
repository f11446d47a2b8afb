from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError

from relaydesk.sla.engine import add_business_time
from relaydesk.sla.models import BusinessCalendarConfig, SLAPolicy
from relaydesk.sla.policies import first_matching


@dataclass
class Row:
    name: str
    is_active: bool = True
    channel: str = ""
    priority: int | None = None
    organization_tier: str = ""
    team_id: int | None = None


TABLE = [
    Row("inactive chat P1", is_active=False, channel="chat", priority=1),
    Row("enterprise P1", priority=1, organization_tier="enterprise"),
    Row("chat", channel="chat"),
    Row("email P1", channel="email", priority=1),
    Row("team 7", team_id=7),
    Row("default"),
]


@pytest.mark.parametrize(
    ("ticket", "expected"),
    [
        ({"channel": "chat", "priority": 1, "tier": "standard", "team_id": None}, "chat"),
        ({"channel": "chat", "priority": 1, "tier": "enterprise", "team_id": None}, "enterprise P1"),
        ({"channel": "email", "priority": 1, "tier": "standard", "team_id": 7}, "email P1"),
        ({"channel": "email", "priority": 3, "tier": "standard", "team_id": 7}, "team 7"),
        ({"channel": "phone", "priority": 4, "tier": "business", "team_id": 2}, "default"),
    ],
)
def test_first_matching_row_wins(ticket, expected):
    match = first_matching(TABLE, **ticket)
    assert match is not None
    assert match.name == expected


def test_no_row_matches():
    assert (
        first_matching([Row("chat", channel="chat")], channel="email", priority=3, tier="", team_id=None)
        is None
    )


def test_stored_calendar_becomes_an_engine_calendar():
    config = BusinessCalendarConfig(
        name="EMEA",
        time_zone="Europe/Berlin",
        weekly_hours={str(day): [["09:00", "17:00"]] for day in range(5)},
        holidays=["2026-12-24"],
        yearly_holidays=["12-25"],
    )
    config.clean()
    calendar = config.to_engine()
    # Wednesday 23 Dec 2026, 16:00 Berlin + 2 business hours: the 24th and 25th are closed,
    # the 26th and 27th are a weekend, so the clock resumes on Monday 28th at 09:00.
    start = datetime(2026, 12, 23, 15, 0, tzinfo=UTC)
    assert add_business_time(calendar, start, timedelta(hours=2)) == datetime(2026, 12, 28, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"time_zone": "Mars/Base"}, "time zone"),
        ({"weekly_hours": {"0": [["09:00", "17:00"], ["16:00", "18:00"]]}}, "overlapping"),
        ({"weekly_hours": {"0": [["nine", "17:00"]]}}, "not a time"),
        ({"weekly_hours": {"9": [["09:00", "17:00"]]}}, "weekday"),
        ({"holidays": ["2026-02-30"]}, "day is out of range"),
        ({"yearly_holidays": ["02-30"]}, "day is out of range"),
        ({"weekly_hours": [["09:00", "17:00"]]}, "map weekdays"),
    ],
)
def test_bad_calendars_are_clear_validation_errors(fields, message):
    values = {"name": "x", "time_zone": "UTC", "weekly_hours": {"0": [["09:00", "17:00"]]}, **fields}
    with pytest.raises(ValidationError, match=message):
        BusinessCalendarConfig(**values).clean()


def test_policies_are_stored_in_table_order(db):
    SLAPolicy.objects.create(name="default", position=2, resolution_minutes=2880)
    SLAPolicy.objects.create(name="chat", position=1, channel="chat", first_response_minutes=60)
    rows = list(SLAPolicy.objects.all())
    chat = first_matching(rows, channel="chat", priority=3, tier="", team_id=None)
    email = first_matching(rows, channel="email", priority=3, tier="", team_id=None)
    assert (chat and chat.name, email and email.name) == ("chat", "default")
