"""The "Service vision & SLA" page every staff member reads, and the admin's form behind it."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relaydesk.sla.admin_actions import check_update_vision
from relaydesk.sla.models import ServiceVision, SLAPolicy
from tests.conftest import World
from tests.sla.conftest import SLATable

pytestmark = pytest.mark.django_db


def vision_post(**overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "statement": "Every customer leaves the conversation with a fix or a clear next step.",
        "brand_tone": "Warm, plain words, first names.",
        "channels": ["email", "chat", "phone"],
        "languages": "en, DE, pt_BR",
        "coverage": "Email and chat 24/5 from New York and Berlin.",
    }
    data.update(overrides)
    return data


def test_every_staff_member_reads_the_vision_and_the_table(client, world: World, sla_table: SLATable) -> None:
    check_update_vision(
        world.ada,
        statement="Fix it the first time.",
        brand_tone="Warm and plain.",
        channels=["chat", "email"],
        languages=["en", "de"],
        coverage="Weekdays, New York hours.",
    )
    SLAPolicy.objects.filter(pk=sla_table.chat.pk).update(is_active=False)
    for person in (world.alice, world.bob, world.sam, world.ada):
        client.force_login(person)
        response = client.get(reverse("sla:vision"))
        assert response.status_code == 200
    html = response.content.decode()
    assert "Fix it the first time." in html
    assert "Warm and plain." in html
    assert response.context["channels"] == ["Email", "Chat"]
    assert response.context["languages"] == ["English (en)", "German (de)"]
    assert "Weekdays, New York hours." in html
    # Active rows only, in order, in plain words.
    promises = response.context["promises"]
    assert [row.policy.name for row in promises] == ["Urgent", "Standard"]
    assert promises[0].conditions == ["P1 · Urgent outage"]
    assert promises[0].lines == [
        "First reply within 1 business hour (the handling team's business hours)",
        "Each following reply within 1 business hour (the handling team's business hours)",
        "Resolved within 8 business hours (the handling team's business hours)",
    ]
    assert "First reply within 4 business hours" in html
    # Each team's calendar and zone.
    teams = {
        row.team.name: (row.calendar_name, row.hours, row.time_zone) for row in response.context["teams"]
    }
    assert teams == {
        "Americas": ("New York office", ["Mon–Fri 09:00–17:00 New York"], "America/New_York"),
        "EMEA": ("", [], "Europe/Berlin"),
    }
    assert "No calendar: around the clock" in html


def test_a_row_with_its_own_calendar_names_it(client, world: World, sla_table: SLATable) -> None:
    SLAPolicy.objects.filter(pk=sla_table.urgent.pk).update(calendar=sla_table.office)
    client.force_login(world.alice)
    response = client.get(reverse("sla:vision"))
    assert response.context["promises"][0].lines[0] == (
        "First reply within 1 business hour (Mon–Fri 09:00–17:00 New York)"
    )
    chat = response.context["promises"][1]
    assert chat.lines == [
        "First reply within 30 minutes (around the clock)",
        "Resolved within 4 hours (around the clock)",
    ]


def test_empty_page_tells_an_admin_what_to_fill_in(client, world: World) -> None:
    client.force_login(world.ada)
    html = client.get(reverse("sla:vision")).content.decode()
    assert "Nothing written here yet" in html
    assert reverse("sla:vision_edit") in html
    assert reverse("sla:policy_new") in html
    client.force_login(world.alice)
    html = client.get(reverse("sla:vision")).content.decode()
    assert "Your admins haven't written the service vision" in html.replace("&#x27;", "'")
    assert reverse("sla:vision_edit") not in html


def test_anonymous_people_are_sent_to_sign_in(client, world: World) -> None:
    response = client.get(reverse("sla:vision"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_vision_page_queries_do_not_grow_with_rows(client, world: World, sla_table: SLATable) -> None:
    client.force_login(world.alice)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("sla:vision"))
    for n in range(5):
        SLAPolicy.objects.create(
            name=f"Extra {n}",
            position=10 + n,
            team=world.emea,
            calendar=sla_table.office,
            first_response_minutes=60,
        )
    with CaptureQueriesContext(connection) as many:
        client.get(reverse("sla:vision"))
    assert len(many) == len(few)


def test_admin_edits_the_vision(client, world: World) -> None:
    client.force_login(world.ada)
    assert client.get(reverse("sla:vision_edit")).status_code == 200
    response = client.post(reverse("sla:vision_edit"), vision_post())
    assert response.status_code == 302
    assert response["Location"] == reverse("sla:vision")
    vision = ServiceVision.objects.get()
    assert vision.statement.startswith("Every customer leaves")
    assert vision.channels == ["email", "chat", "phone"]
    assert vision.languages == ["en", "de", "pt-br"]
    assert vision.updated_by == world.ada
    # Editing again updates the one row.
    response = client.post(reverse("sla:vision_edit"), vision_post(channels=["in_app"], languages=""))
    assert response.status_code == 302
    vision = ServiceVision.objects.get()
    assert (vision.channels, vision.languages) == (["in_app"], [])
    assert client.get(reverse("sla:vision_edit")).context["form"].initial["channels"] == ["in_app"]


def test_agents_cannot_edit_the_vision(client, world: World) -> None:
    client.force_login(world.alice)
    assert client.get(reverse("sla:vision_edit")).status_code == 403
    assert client.post(reverse("sla:vision_edit"), vision_post()).status_code == 403
    assert not ServiceVision.objects.exists()


def test_nul_bytes_in_a_list_are_dropped(client, world: World) -> None:
    client.force_login(world.ada)
    response = client.post(reverse("sla:vision_edit"), vision_post(languages="en\x00, d\x00e"))
    assert response.status_code == 302
    assert ServiceVision.objects.get().languages == ["en", "de"]


def test_html_in_the_vision_is_shown_as_text(client, world: World) -> None:
    client.force_login(world.ada)
    client.post(
        reverse("sla:vision_edit"),
        vision_post(statement='<script>alert("x")</script>\nSecond line', brand_tone="<b>bold</b>"),
    )
    client.force_login(world.alice)
    html = client.get(reverse("sla:vision")).content.decode()
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;<br>Second line" in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"statement": "Nul\x00byte"}, "statement"),
        ({"statement": "x" * 1_000_000}, "statement"),
        ({"coverage": "y" * 5_001}, "coverage"),
        ({"languages": "klingon language"}, "languages"),
        ({"languages": ", ".join(f"l{n:02d}" for n in range(30))}, "languages"),
        ({"channels": ["pigeon"]}, "channels"),
    ],
)
def test_bad_vision_input_is_a_field_error(
    client, world: World, overrides: dict[str, object], field: str
) -> None:
    client.force_login(world.ada)
    response = client.post(reverse("sla:vision_edit"), vision_post(**overrides))
    assert response.status_code == 422
    assert field in response.context["form"].errors
    assert not ServiceVision.objects.exists()
