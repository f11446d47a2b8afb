"""The SLA administration screens: business calendars, the SLA table and its tester, team calendars.

Admins only: everyone else gets 403 (anonymous people the sign-in page) and nothing changes.
Every write re-applies the table to open tickets after commit (huey runs inline in tests).
"""

from __future__ import annotations

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relaydesk.accounts.models import Team
from relaydesk.sla.models import BusinessCalendarConfig, EscalationAction, SLAPolicy
from relaydesk.tickets.actions import check_change_ticket
from relaydesk.tickets.models import Status, Ticket
from tests.conftest import World
from tests.sla.conftest import WEEKDAYS_9_TO_5, SLATable, ny

pytestmark = pytest.mark.django_db

CLOSED_WEEK = {f"hours_{day}": "" for day in range(7)}


def calendar_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Berlin office",
        "time_zone": "Europe/Berlin",
        **CLOSED_WEEK,
        **{f"hours_{day}": "09:00-12:00, 13:00-17:00" for day in range(5)},
        "holidays": "",
        "yearly_holidays": "",
    }
    data.update(overrides)
    return data


def policy_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Chat, any priority",
        "is_active": "on",
        "channel": "chat",
        "priority": "",
        "organization_tier": "",
        "team": "",
        "first_response_minutes": "15m",
        "next_response_minutes": "1h30m",
        "resolution_minutes": "2d",
        "business_hours": "business",
        "calendar": "",
        "warning_percent": "75",
        "pause_statuses": ["pending_customer"],
        "warning_actions": ["notify_assignee"],
        "breach_actions": ["notify_assignee", "notify_supervisors"],
    }
    data.update(overrides)
    return data


# --- who may enter ------------------------------------------------------------------------


def admin_pages(sla_table: SLATable) -> list[str]:
    return [
        reverse("sla:calendars"),
        reverse("sla:calendar_new"),
        reverse("sla:calendar", args=[sla_table.office.pk]),
        reverse("sla:policies"),
        reverse("sla:policy_new"),
        reverse("sla:policy", args=[sla_table.urgent.pk]),
        reverse("sla:vision_edit"),
    ]


def test_agents_and_supervisors_get_403_on_every_admin_page(
    client, world: World, sla_table: SLATable
) -> None:
    for person in (world.alice, world.sam):
        client.force_login(person)
        for url in admin_pages(sla_table):
            assert client.get(url).status_code == 403, url


def test_anonymous_people_are_sent_to_sign_in(client, world: World, sla_table: SLATable) -> None:
    for url in [*admin_pages(sla_table), reverse("sla:vision")]:
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith(reverse("account_login")), url


def test_an_agent_changes_nothing_by_posting(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.alice)
    before_calendars = list(BusinessCalendarConfig.objects.values_list("name", "weekly_hours"))
    before_policies = list(
        SLAPolicy.objects.order_by("pk").values_list("name", "position", "first_response_minutes")
    )
    posts = [
        (reverse("sla:calendar_new"), calendar_post()),
        (reverse("sla:calendar", args=[sla_table.office.pk]), calendar_post(name="Hijacked")),
        (reverse("sla:calendar_delete", args=[sla_table.office.pk]), {}),
        (reverse("sla:calendar_preview"), calendar_post()),
        (reverse("sla:policy_new"), policy_post()),
        (reverse("sla:policy", args=[sla_table.urgent.pk]), policy_post(name="Hijacked")),
        (reverse("sla:policy_move", args=[sla_table.standard.pk]), {"direction": "up"}),
        (reverse("sla:policy_delete", args=[sla_table.chat.pk]), {}),
        (reverse("sla:vision_edit"), {"statement": "Hijacked"}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 403, url
    assert list(BusinessCalendarConfig.objects.values_list("name", "weekly_hours")) == before_calendars
    assert (
        list(SLAPolicy.objects.order_by("pk").values_list("name", "position", "first_response_minutes"))
        == before_policies
    )
    world.americas.refresh_from_db()
    assert world.americas.calendar == sla_table.office


# --- business calendars -------------------------------------------------------------------


def test_calendar_list_summarises_each_week(client, world: World, sla_table: SLATable) -> None:
    BusinessCalendarConfig.objects.create(
        name="Around the clock",
        time_zone="UTC",
        weekly_hours={str(day): [["00:00", "00:00"]] for day in range(7)},
    )
    BusinessCalendarConfig.objects.create(
        name="Weekend desk",
        time_zone="Asia/Singapore",
        weekly_hours={
            **{str(day): [["08:00", "20:00"]] for day in range(5)},
            "5": [["10:00", "14:00"]],
            "6": [["10:00", "14:00"]],
        },
        holidays=["2025-12-24"],
        yearly_holidays=["01-01"],
    )
    client.force_login(world.ada)
    response = client.get(reverse("sla:calendars"))
    assert response.status_code == 200
    weeks = {row.calendar.name: " · ".join(row.week) for row in response.context["rows"]}
    assert weeks == {
        "Around the clock": "24/7",
        "New York office": "Mon–Fri 09:00–17:00",
        "Weekend desk": "Mon–Fri 08:00–20:00 · Sat, Sun 10:00–14:00",
    }
    office = next(row for row in response.context["rows"] if row.calendar == sla_table.office)
    assert [team.name for team in office.teams] == ["Americas"]
    assert office.policy_count == 0
    assert "Mon–Fri 09:00–17:00" in response.content.decode()


def test_calendar_list_queries_do_not_grow_with_rows(client, world: World) -> None:
    client.force_login(world.ada)
    BusinessCalendarConfig.objects.create(name="One", time_zone="UTC", weekly_hours=WEEKDAYS_9_TO_5)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sla:calendars"))
    for n in range(5):
        calendar = BusinessCalendarConfig.objects.create(name=f"More {n}", time_zone="UTC")
        Team.objects.create(name=f"Team {n}", calendar=calendar)
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("sla:calendars"))
    assert len(many) == len(few)


def test_create_calendar_with_hours_holidays_and_teams(
    client, world: World, sla_table: SLATable, django_capture_on_commit_callbacks
) -> None:
    client.force_login(world.ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sla:calendar_new"),
            calendar_post(
                hours_4="9-15",  # short form: whole hours
                hours_5="24h",
                hours_6="22:00-06:00",
                holidays="2025-12-24 Christmas Eve\n\n2025-12-31\n2025-12-24",
                yearly_holidays="1-1\n12-25",
                teams=[world.emea.pk, world.americas.pk],
            ),
        )
    assert response.status_code == 302
    assert response["Location"] == reverse("sla:calendars")
    berlin = BusinessCalendarConfig.objects.get(name="Berlin office")
    assert berlin.time_zone == "Europe/Berlin"
    assert berlin.weekly_hours == {
        "0": [["09:00", "12:00"], ["13:00", "17:00"]],
        "1": [["09:00", "12:00"], ["13:00", "17:00"]],
        "2": [["09:00", "12:00"], ["13:00", "17:00"]],
        "3": [["09:00", "12:00"], ["13:00", "17:00"]],
        "4": [["09:00", "15:00"]],
        "5": [["00:00", "00:00"]],
        "6": [["22:00", "06:00"]],
    }
    assert berlin.holidays == ["2025-12-24", "2025-12-31"]
    assert berlin.yearly_holidays == ["01-01", "12-25"]
    berlin.full_clean()  # the model agrees with what the screen stored
    assert set(berlin.teams.values_list("name", flat=True)) == {"Americas", "EMEA"}


def test_an_end_of_24_00_means_midnight(client, world: World) -> None:
    client.force_login(world.ada)
    response = client.post(reverse("sla:calendar_new"), calendar_post(hours_0="18:00-24:00"))
    assert response.status_code == 302
    assert BusinessCalendarConfig.objects.get().weekly_hours["0"] == [["18:00", "00:00"]]


def test_edit_calendar_shows_its_week_and_moves_teams(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.ada)
    url = reverse("sla:calendar", args=[sla_table.office.pk])
    with time_machine.travel(ny(2, 10), tick=False):  # Monday 10:00 in New York
        page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="09:00-17:00"' in html
    assert "Open now" in html
    assert "Mon 2 Jun" in html
    assert "40 h of business time in these 7 days" in html

    response = client.post(
        url,
        calendar_post(
            name="New York office",
            time_zone="America/New_York",
            teams=[world.emea.pk],
            holidays="2025-06-03",
        ),
    )
    assert response.status_code == 302
    world.americas.refresh_from_db()
    world.emea.refresh_from_db()
    assert world.americas.calendar is None
    assert world.emea.calendar == sla_table.office
    with time_machine.travel(ny(2, 10), tick=False):
        html = client.get(url).content.decode()
    assert "Holiday" in html


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "time_zone", "Select a valid choice"),
        ({"hours_0": "25:00-26:00"}, "hours_0", "25:00 is not a time such as 09:00."),
        ({"hours_2": "09:00-12:00, 11:00-13:00"}, "hours_2", "Overlapping opening intervals: Wednesday"),
        ({"hours_0": "22:00-06:00", "hours_1": "05:00-09:00"}, "hours_1", "Overlapping opening intervals"),
        ({"hours_6": "22:00-06:00", "hours_0": "05:00-09:00"}, "hours_0", "Sunday 22:00–06:00 and Monday"),
        ({"hours_3": "nine to five"}, "hours_3", "nine is not a time"),
        ({"hours_3": "from nine"}, "hours_3", "Write each interval as start-end"),
        ({"holidays": "2025-13-01"}, "holidays", "2025-13-01: Month must be in 1..12."),
        ({"holidays": "2025-02-30"}, "holidays", "2025-02-30: Day is out of range for month."),
        ({"holidays": "next friday"}, "holidays", "is not a date"),
        ({"yearly_holidays": "02-30"}, "yearly_holidays", "02-30: Day is out of range for month."),
        ({"yearly_holidays": "12/25"}, "yearly_holidays", "write MM-DD"),
        ({"name": "   "}, "name", "This field is required."),
        ({"name": "new york OFFICE"}, "name", "There is already a calendar called"),
    ],
)
def test_bad_calendar_input_is_a_field_error_and_saves_nothing(
    client, world: World, sla_table: SLATable, overrides: dict[str, str], field: str, message: str
) -> None:
    client.force_login(world.ada)
    response = client.post(reverse("sla:calendar_new"), calendar_post(**overrides))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert message in response.content.decode().replace("&#x27;", "'")
    assert BusinessCalendarConfig.objects.count() == 1


def test_all_problems_are_shown_at_once(client, world: World) -> None:
    client.force_login(world.ada)
    response = client.post(
        reverse("sla:calendar_new"),
        calendar_post(hours_0="25:00-26:00", hours_4="08:00-10:00, 09:00-11:00", holidays="2025-13-01"),
    )
    assert response.status_code == 422
    assert set(response.context["form"].errors) == {"hours_0", "hours_4", "holidays"}


def test_a_bad_edit_keeps_the_stored_calendar(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.ada)
    response = client.post(
        reverse("sla:calendar", args=[sla_table.office.pk]),
        calendar_post(name="Renamed", hours_1="17:00-18:00, 17:30-19:00", teams=[world.emea.pk]),
    )
    assert response.status_code == 422
    sla_table.office.refresh_from_db()
    assert sla_table.office.name == "New York office"
    assert sla_table.office.weekly_hours == WEEKDAYS_9_TO_5
    world.americas.refresh_from_db()
    assert world.americas.calendar == sla_table.office


def test_a_calendar_a_policy_uses_cannot_be_deleted(client, world: World, sla_table: SLATable) -> None:
    sla_table.standard.calendar = sla_table.office
    sla_table.standard.save()
    client.force_login(world.ada)
    response = client.post(reverse("sla:calendar_delete", args=[sla_table.office.pk]))
    assert response.status_code == 409
    assert "is still used by the SLA policy “Standard”" in response.content.decode()
    assert BusinessCalendarConfig.objects.filter(pk=sla_table.office.pk).exists()
    world.americas.refresh_from_db()
    assert world.americas.calendar == sla_table.office


def test_deleting_a_calendar_leaves_its_teams_without_one(
    client, world: World, sla_table: SLATable, django_capture_on_commit_callbacks
) -> None:
    client.force_login(world.ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("sla:calendar_delete", args=[sla_table.office.pk]))
    assert response.status_code == 302
    assert not BusinessCalendarConfig.objects.exists()
    world.americas.refresh_from_db()
    assert world.americas.calendar is None


def test_preview_shows_the_hours_being_typed_without_saving(client, world: World) -> None:
    client.force_login(world.ada)
    with time_machine.travel(ny(7, 12), tick=False):  # Saturday noon in New York
        response = client.post(
            reverse("sla:calendar_preview"),
            calendar_post(name="", time_zone="America/New_York", hours_5="10-14", yearly_holidays="06-09"),
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Open now" in html
    assert "Sat 7 Jun · today" in html
    assert "10:00–14:00" in html
    assert "Holiday" in html  # Monday 9 June, every year
    assert not BusinessCalendarConfig.objects.exists()

    response = client.post(reverse("sla:calendar_preview"), calendar_post(hours_0="25:00-26:00"))
    assert response.status_code == 200
    assert "Fix these to see the preview" in response.content.decode()


# --- the SLA table ------------------------------------------------------------------------


def test_policy_table_shows_rows_in_order_with_human_targets(
    client, world: World, sla_table: SLATable
) -> None:
    client.force_login(world.ada)
    response = client.get(reverse("sla:policies"))
    assert response.status_code == 200
    rows = response.context["rows"]
    assert [row.policy.name for row in rows] == ["Urgent", "Chat", "Standard"]
    urgent, chat, standard = rows
    assert urgent.conditions == ["P1 · Urgent outage"]
    assert (urgent.first_response, urgent.resolution) == ("1 business h", "8 business h")
    assert urgent.breach_actions == ["Notify supervisors", "Next level's team"]
    assert (chat.conditions, chat.first_response, chat.resolution, chat.calendar) == (
        ["Chat"],
        "30 min",
        "4 h",
        ["24/7"],
    )
    assert standard.conditions == []
    assert standard.calendar == ["Team's calendar"]
    assert standard.pause_statuses == ["Pending – customer"]
    html = response.content.decode()
    assert "Any ticket" in html
    assert "40 business h" in html


def test_policy_table_queries_do_not_grow_with_rows(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.ada)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sla:policies"))
    for n in range(5):
        SLAPolicy.objects.create(
            name=f"Extra {n}", position=10 + n, team=world.emea, calendar=sla_table.office
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("sla:policies"))
    assert len(many) == len(few)


def test_create_policy_parses_durations_and_goes_last(
    client, world: World, sla_table: SLATable, django_capture_on_commit_callbacks
) -> None:
    client.force_login(world.ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sla:policy_new"),
            policy_post(
                priority="2", organization_tier="enterprise", team=world.emea.pk, calendar=sla_table.office.pk
            ),
        )
    assert response.status_code == 302
    policy = SLAPolicy.objects.get(name="Chat, any priority")
    assert response["Location"] == reverse("sla:policies") + f"#policy-{policy.pk}"
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes) == (
        15,
        90,
        2 * 24 * 60,
    )
    assert (policy.channel, policy.priority, policy.organization_tier, policy.team) == (
        "chat",
        2,
        "enterprise",
        world.emea,
    )
    assert (policy.business_hours, policy.calendar, policy.warning_percent) == (True, sla_table.office, 75)
    assert policy.breach_actions == [EscalationAction.NOTIFY_ASSIGNEE, EscalationAction.NOTIFY_SUPERVISORS]
    assert policy.position > sla_table.standard.position
    assert list(SLAPolicy.objects.order_by("position", "id"))[-1] == policy


def test_plain_minutes_and_calendar_time(client, world: World) -> None:
    client.force_login(world.ada)
    response = client.post(
        reverse("sla:policy_new"),
        policy_post(
            first_response_minutes="45",
            next_response_minutes="",
            resolution_minutes="3d",
            business_hours="calendar",
        ),
    )
    assert response.status_code == 302
    policy = SLAPolicy.objects.get()
    assert (policy.first_response_minutes, policy.next_response_minutes, policy.resolution_minutes) == (
        45,
        None,
        3 * 24 * 60,
    )
    assert policy.business_hours is False
    rows = client.get(reverse("sla:policies")).context["rows"]
    assert (rows[0].first_response, rows[0].next_response, rows[0].resolution) == ("45 min", "—", "3 d")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"first_response_minutes": "soon"}, "first_response_minutes", "Write a duration such as 30m"),
        ({"first_response_minutes": "0m"}, "first_response_minutes", "between 1 minute and 366 days"),
        ({"resolution_minutes": "9999999999"}, "resolution_minutes", "far too long"),
        ({"resolution_minutes": "400d"}, "resolution_minutes", "between 1 minute and 366 days"),
        ({"resolution_minutes": "٣h"}, "resolution_minutes", "Write a duration"),
        ({"warning_percent": "0"}, "warning_percent", "greater than or equal to 1"),
        ({"warning_percent": "101"}, "warning_percent", "less than or equal to 100"),
        ({"channel": "pigeon"}, "channel", "Select a valid choice"),
        ({"priority": "9"}, "priority", "Select a valid choice"),
        ({"team": "999999"}, "team", "Select a valid choice"),
        ({"team": "99999999999999999999999"}, "team", "Select a valid choice"),
        ({"breach_actions": ["call the police"]}, "breach_actions", "Select a valid choice"),
        ({"pause_statuses": ["resolved"]}, "pause_statuses", "Select a valid choice"),
        ({"name": ""}, "name", "This field is required."),
    ],
)
def test_bad_policy_input_is_a_field_error_and_saves_nothing(
    client, world: World, sla_table: SLATable, overrides: dict[str, object], field: str, message: str
) -> None:
    client.force_login(world.ada)
    response = client.post(reverse("sla:policy_new"), policy_post(**overrides))
    assert response.status_code == 422
    errors = response.context["form"].errors
    assert any(message in error for error in errors[field]), errors
    assert SLAPolicy.objects.count() == 3


def test_edit_policy(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.ada)
    url = reverse("sla:policy", args=[sla_table.urgent.pk])
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'value="1h"' in html
    assert 'value="8h"' in html
    assert "Row 1" in html
    response = client.post(
        url,
        policy_post(
            name="Urgent outage", channel="", priority="1", first_response_minutes="30m", is_active=""
        ),
    )
    assert response.status_code == 302
    sla_table.urgent.refresh_from_db()
    assert (sla_table.urgent.name, sla_table.urgent.first_response_minutes, sla_table.urgent.is_active) == (
        "Urgent outage",
        30,
        False,
    )
    assert sla_table.urgent.position == 1


def test_move_rows_up_and_down(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.ada)

    def order() -> list[str]:
        return list(SLAPolicy.objects.order_by("position", "id").values_list("name", flat=True))

    response = client.post(reverse("sla:policy_move", args=[sla_table.standard.pk]), {"direction": "up"})
    assert response.status_code == 302
    assert response["Location"] == reverse("sla:policies") + f"#policy-{sla_table.standard.pk}"
    assert order() == ["Urgent", "Standard", "Chat"]
    client.post(reverse("sla:policy_move", args=[sla_table.urgent.pk]), {"direction": "down"})
    assert order() == ["Standard", "Urgent", "Chat"]
    client.post(
        reverse("sla:policy_move", args=[sla_table.standard.pk]), {"direction": "up"}
    )  # already first
    assert order() == ["Standard", "Urgent", "Chat"]
    response = client.post(
        reverse("sla:policy_move", args=[sla_table.chat.pk]), {"direction": "up"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.templates[0].name == "sla/_policy_table.html"
    assert [row.policy.name for row in response.context["rows"]] == ["Standard", "Chat", "Urgent"]
    assert order() == ["Standard", "Chat", "Urgent"]
    assert (
        client.post(
            reverse("sla:policy_move", args=[sla_table.chat.pk]), {"direction": "sideways"}
        ).status_code
        == 302
    )
    assert order() == ["Standard", "Chat", "Urgent"]


def test_delete_policy(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.ada)
    response = client.post(reverse("sla:policy_delete", args=[sla_table.chat.pk]))
    assert response.status_code == 302
    assert list(SLAPolicy.objects.values_list("name", flat=True)) == ["Urgent", "Standard"]


def test_which_policy_applies(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.ada)
    url = reverse("sla:policies")
    response = client.get(
        url, {"channel": "chat", "priority": "1", "tier": "standard", "team": world.americas.pk}
    )
    result = response.context["test_result"]
    assert result.row.policy == sla_table.urgent  # P1 comes before chat
    assert result.row.number == 1
    # The row has no calendar of its own: the chosen team's calendar applies.
    assert result.promises[0] == "First reply within 1 business hour (Mon–Fri 09:00–17:00 New York)"
    response = client.get(url, {"channel": "chat", "priority": "1", "tier": "standard", "team": ""})
    assert response.context["test_result"].promises[0] == (
        "First reply within 1 business hour (the handling team's business hours)"
    )

    response = client.get(
        url,
        {"channel": "chat", "priority": "3", "tier": "standard", "team": world.emea.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.templates[0].name == "sla/_policy_test_result.html"
    assert "Row 2, “Chat”, applies." in response.content.decode()

    sla_table.standard.delete()
    response = client.get(url, {"channel": "email", "priority": "3", "tier": "enterprise"})
    assert response.context["test_result"].row is None
    assert "No row matches." in response.content.decode()

    response = client.get(url, {"channel": "pigeon", "priority": "x", "team": "\x00"})
    assert response.status_code == 200
    assert response.context["test_result"] is None


# --- the table moves open tickets ---------------------------------------------------------


def test_saving_a_policy_moves_open_tickets_only(
    client, world: World, sla_table: SLATable, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(ny(2, 9), tick=False):  # Monday 09:00 New York
        open_ticket = world.ticket()
        done = world.ticket(subject="Already sorted")
        check_change_ticket(world.ada, done.pk, expected_version=None, status=Status.RESOLVED)
    open_ticket.refresh_from_db()
    done.refresh_from_db()
    assert open_ticket.sla_due_at == ny(2, 13)  # standard: first response in 4 business hours
    done_clocks = list(done.sla_clocks.values_list("due_at", "stopped_at"))

    client.force_login(world.ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sla:policy", args=[sla_table.standard.pk]),
            policy_post(name="Standard", channel="", first_response_minutes="1h", resolution_minutes="40h"),
        )
    assert response.status_code == 302
    open_ticket.refresh_from_db()
    assert open_ticket.sla_due_at == ny(2, 10)
    done.refresh_from_db()
    assert list(done.sla_clocks.values_list("due_at", "stopped_at")) == done_clocks


def test_changing_a_calendar_moves_open_tickets(
    client, world: World, sla_table: SLATable, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket()
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ny(2, 13)
    client.force_login(world.ada)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("sla:calendar", args=[sla_table.office.pk]),
            calendar_post(
                name="New York office",
                time_zone="America/New_York",
                hours_0="09:00-10:00",  # Mondays are short now
                teams=[world.americas.pk],
            ),
        )
    assert response.status_code == 302
    ticket.refresh_from_db()
    # 1 hour on Monday, 3 more from Tuesday 09:00 (Tuesday is 09:00–12:00, 13:00–17:00).
    assert ticket.sla_due_at == ny(3, 12)


def test_moving_a_row_moves_open_tickets(
    client, world: World, sla_table: SLATable, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket(channel="chat")
    ticket.refresh_from_db()
    assert ticket.sla_policy == sla_table.chat
    client.force_login(world.ada)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("sla:policy_move", args=[sla_table.standard.pk]), {"direction": "up"})
    ticket.refresh_from_db()
    assert ticket.sla_policy == sla_table.standard
    assert ticket.sla_due_at == ny(2, 13)


def test_rebuild_goes_through_every_open_ticket_in_batches(world: World, sla_table: SLATable) -> None:
    from relaydesk.sla.rebuild_tasks import rebuild_open_ticket_clocks_now

    with time_machine.travel(ny(2, 9), tick=False):
        tickets = [world.ticket(subject=f"Ticket {n}") for n in range(5)]
    SLAPolicy.objects.filter(pk=sla_table.standard.pk).update(first_response_minutes=60)
    assert rebuild_open_ticket_clocks_now(batch_size=2) == 5
    assert {t.sla_due_at for t in Ticket.objects.filter(pk__in=[t.pk for t in tickets])} == {ny(2, 10)}
    assert rebuild_open_ticket_clocks_now(batch_size=2) == 0  # idempotent


# --- teams: calendar and escalation -------------------------------------------------------


def team_post(team: Team, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": team.name,
        "region": team.region,
        "time_zone": team.time_zone,
        "description": team.description,
        "is_active": "on",
        "calendar": "",
        "escalation_team": "",
    }
    data.update(overrides)
    return data


def test_team_form_sets_calendar_and_escalation(
    client, world: World, sla_table: SLATable, django_capture_on_commit_callbacks
) -> None:
    with time_machine.travel(ny(2, 9), tick=False):
        ticket = world.ticket(team=world.emea)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ny(2, 13)  # EMEA has no calendar: 4 hours around the clock
    client.force_login(world.ada)
    page = client.get(reverse("staff:team", args=[world.emea.pk]))
    assert page.status_code == 200
    assert "Escalates to" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("staff:team", args=[world.emea.pk]),
            team_post(world.emea, calendar=sla_table.office.pk, escalation_team=world.americas.pk),
        )
    assert response.status_code == 302
    world.emea.refresh_from_db()
    assert (world.emea.calendar, world.emea.escalation_team) == (sla_table.office, world.americas)
    ticket.refresh_from_db()
    assert ticket.sla_due_at == ny(2, 13)  # 09:00 + 4 business hours on the New York calendar, too

    response = client.post(
        reverse("staff:teams"),
        team_post(Team(name="APAC", time_zone="Asia/Singapore"), calendar=sla_table.office.pk),
    )
    assert response.status_code == 302
    assert Team.objects.get(name="APAC").calendar == sla_table.office


def test_a_team_cannot_escalate_to_itself(client, world: World) -> None:
    client.force_login(world.ada)
    response = client.post(
        reverse("staff:team", args=[world.emea.pk]), team_post(world.emea, escalation_team=world.emea.pk)
    )
    assert response.status_code == 422
    world.emea.refresh_from_db()
    assert world.emea.escalation_team is None


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Night\x00shift"},
        {"hours_0": "09:00\x00-17:00"},
        {"holidays": "2025-12-24\x00"},
        {"teams": ["\x00"]},
        {"teams": ["99999999999999999999999"]},
        {"time_zone": "\x00"},
        {"name": "x" * 1_000_000},
        {"hours_0": "09:00-10:00, " * 5_000},
        {"hours_0": ", ".join(f"{h:02d}:00-{h:02d}:30" for h in range(13))},
        {"holidays": "2025-01-01\n" * 5_000},
        {"yearly_holidays": "99999999999999999999-1"},
    ],
)
def test_hostile_calendar_input_is_refused_without_a_500(
    client, world: World, overrides: dict[str, object]
) -> None:
    client.force_login(world.ada)
    response = client.post(reverse("sla:calendar_new"), calendar_post(**overrides))
    assert response.status_code == 422
    assert not BusinessCalendarConfig.objects.exists()
    response = client.post(reverse("sla:calendar_preview"), calendar_post(**overrides))
    assert response.status_code == 200


@pytest.mark.parametrize(
    "overrides",
    [
        {"name": "Chat\x00"},
        {"first_response_minutes": "1h\x00"},
        {"calendar": "\x00"},
        {"warning_percent": "9" * 500},
        {"name": "x" * 1_000_000},
        {"first_response_minutes": "1h" * 10_000},
    ],
)
def test_hostile_policy_input_is_refused_without_a_500(
    client, world: World, overrides: dict[str, object]
) -> None:
    client.force_login(world.ada)
    response = client.post(reverse("sla:policy_new"), policy_post(**overrides))
    assert response.status_code == 422
    assert not SLAPolicy.objects.exists()


def test_unknown_and_huge_ids_are_404(client, world: World) -> None:
    client.force_login(world.ada)
    huge = 2**70
    for url in (
        reverse("sla:calendar", args=[123456]),
        reverse("sla:calendar", args=[huge]),
        reverse("sla:policy", args=[huge]),
    ):
        assert client.get(url).status_code == 404
    assert client.post(reverse("sla:calendar_delete", args=[huge])).status_code == 404
    assert client.post(reverse("sla:policy_delete", args=[huge])).status_code == 404
    response = client.post(reverse("sla:policy_move", args=[huge]), {"direction": "up"})
    assert response.status_code == 302
