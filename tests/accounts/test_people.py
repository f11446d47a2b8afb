"""Administration of people: the table, editing, deactivation with hand-over, reactivation."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from relaydesk.accounts.actions import (
    check_deactivate_person,
    check_reassign_open_tickets,
    check_update_person,
)
from relaydesk.accounts.models import Level, Role, User
from relaydesk.core.errors import PermissionDenied, ValidationFailed
from relaydesk.notifications.models import Notification, NotificationKind
from relaydesk.tickets.models import EventKind, Status, TicketEvent
from tests.conftest import make_user


def test_people_page_lists_everyone_with_open_ticket_counts(client, world):
    world.ticket(assignee=world.alice)
    world.ticket(assignee=world.alice)
    resolved = world.ticket(assignee=world.alice)
    resolved.status = Status.RESOLVED
    resolved.save()
    client.force_login(world.ada)
    response = client.get(reverse("staff:people"))
    assert response.status_code == 200
    people = {person.email: person for person in response.context["people"]}
    assert set(people) == {
        "alice@relaydesk.test",
        "bob@relaydesk.test",
        "sam@relaydesk.test",
        "ada@relaydesk.test",
    }
    assert people["alice@relaydesk.test"].open_tickets == 2
    assert people["bob@relaydesk.test"].open_tickets == 0
    assert b"Americas" in response.content


def test_people_page_query_count_does_not_grow_with_people(client, world):
    client.force_login(world.ada)
    client.get(reverse("staff:people"))  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("staff:people"))
    for i in range(15):
        person = make_user(f"p{i}@relaydesk.test", f"Person {i}", Role.AGENT, [world.americas, world.emea])
        world.ticket(assignee=person)
    with CaptureQueriesContext(connection) as many:
        response = client.get(reverse("staff:people"))
    assert len(response.context["people"]) == 19
    assert len(many) == len(few)


def test_people_filters(client, world):
    client.force_login(world.ada)
    url = reverse("staff:people")
    emails = lambda response: sorted(p.email for p in response.context["people"])  # noqa: E731
    assert emails(client.get(url, {"role": Role.AGENT})) == ["alice@relaydesk.test", "bob@relaydesk.test"]
    assert emails(client.get(url, {"team": world.emea.pk})) == ["bob@relaydesk.test"]
    assert emails(client.get(url, {"q": "sam"})) == ["sam@relaydesk.test"]
    world.bob.is_active = False
    world.bob.save()
    assert emails(client.get(url, {"active": "inactive"})) == ["bob@relaydesk.test"]
    assert "bob@relaydesk.test" not in emails(client.get(url))
    assert len(emails(client.get(url, {"active": "all"}))) == 4
    # Garbage filters are ignored with a note, never a 500.
    response = client.get(url, {"role": "emperor", "team": "abc", "active": "maybe", "after": "x"})
    assert response.status_code == 200
    assert len(response.context["people"]) == 3


def test_people_keyset_pages(client, world):
    for i in range(105):
        make_user(f"p{i:03}@relaydesk.test", f"Person {i:03}", Role.AGENT, [])
    client.force_login(world.ada)
    first = client.get(reverse("staff:people"))
    assert len(first.context["people"]) == 100
    assert first.context["next_query"]
    second = client.get(reverse("staff:people") + "?" + first.context["next_query"])
    assert len(second.context["people"]) == 9
    assert not {p.pk for p in first.context["people"]} & {p.pk for p in second.context["people"]}


def test_person_page_edits_role_level_teams_and_routing_profile(client, world):
    client.force_login(world.ada)
    url = reverse("staff:person", args=[world.alice.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "role": Role.SUPERVISOR,
            "level": Level.SPECIALIST,
            "teams": [world.emea.pk],
            "capacity": "12",
            "languages": "EN, pt_BR, en",
            "skills": "billing, API , billing",
        },
    )
    assert response.status_code == 302
    alice = User.objects.get(pk=world.alice.pk)
    assert alice.role == Role.SUPERVISOR
    assert alice.level == Level.SPECIALIST
    assert list(alice.teams.all()) == [world.emea]
    assert alice.capacity == 12
    assert alice.languages == ["en", "pt-br"]
    assert alice.skills == ["billing", "API"]


@pytest.mark.parametrize(
    "data",
    [
        {"role": "emperor", "level": "l1", "capacity": "5"},
        {"role": "agent", "level": "l1", "capacity": "-1"},
        {"role": "agent", "level": "l1", "capacity": "lots"},
        {"role": "agent", "level": "l1", "capacity": "5", "teams": ["nope"]},
        {"role": "agent", "level": "l1", "capacity": "5", "languages": "english please"},
        {"role": "agent", "level": "l1", "capacity": "5", "skills": "x" * 60},
        {},
    ],
)
def test_garbage_person_post_is_a_form_error(client, world, data):
    client.force_login(world.ada)
    response = client.post(reverse("staff:person", args=[world.alice.pk]), data)
    assert response.status_code == 422
    alice = User.objects.get(pk=world.alice.pk)
    assert (alice.role, alice.level, alice.capacity, alice.languages) == (Role.AGENT, Level.L1, 8, [])


def test_admin_cannot_demote_themself(world):
    with pytest.raises(ValidationFailed, match="your own admin role"):
        check_update_person(
            world.ada,
            world.ada.pk,
            role=Role.AGENT,
            level=Level.L1,
            teams=[],
            capacity=8,
            languages=[],
            skills=[],
        )
    assert User.objects.get(pk=world.ada.pk).role == Role.ADMIN
    # Another admin may demote her.
    root = make_user("root@relaydesk.test", "Root", Role.ADMIN, [])
    check_update_person(
        root, world.ada.pk, role=Role.AGENT, level=Level.L1, teams=[], capacity=8, languages=[], skills=[]
    )
    assert User.objects.get(pk=world.ada.pk).role == Role.AGENT


def test_deactivation_reassigns_open_tickets_with_events(client, world):
    open_one = world.ticket(assignee=world.alice, subject="One")
    open_two = world.ticket(assignee=world.alice, subject="Two")
    closed = world.ticket(assignee=world.alice, subject="Done")
    closed.status = Status.CLOSED
    closed.save()
    client.force_login(world.ada)
    page = client.get(reverse("staff:deactivate", args=[world.alice.pk]))
    assert page.status_code == 200
    assert b"One" in page.content
    assert b"Two" in page.content
    response = client.post(reverse("staff:deactivate", args=[world.alice.pk]), {"reassign_to": world.sam.pk})
    assert response.status_code == 302

    alice = User.objects.get(pk=world.alice.pk)
    assert not alice.is_active
    assert alice.deactivated_at is not None
    for ticket in (open_one, open_two):
        ticket.refresh_from_db()
        assert ticket.assignee == world.sam
        event = TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNEE).latest("id")
        assert event.actor == world.ada
        assert event.data == {"old_id": world.alice.pk, "new_id": world.sam.pk}
    closed.refresh_from_db()
    assert closed.assignee == world.alice
    assert Notification.objects.filter(recipient=world.sam, kind=NotificationKind.ASSIGNED).count() == 2

    # The deactivated person can no longer use their session.
    client.force_login(alice)
    assert client.get(reverse("accounts:profile")).status_code in (302, 403)


def test_deactivation_can_leave_tickets_unassigned(world):
    ticket = world.ticket(assignee=world.alice)
    result = check_deactivate_person(world.ada, world.alice.pk, reassign_to_id=None)
    assert result.reassigned == [ticket.pk]
    ticket.refresh_from_db()
    assert ticket.assignee is None
    assert ticket.status == Status.NEW
    assert TicketEvent.objects.filter(ticket=ticket, kind=EventKind.ASSIGNEE, new_value="").exists()


def test_reassign_after_deactivation(client, world):
    ticket = world.ticket(assignee=world.alice)
    check_deactivate_person(world.ada, world.alice.pk, reassign_to_id=world.sam.pk)
    # A ticket that still points at her (e.g. assigned in a race) shows up on her page.
    ticket.refresh_from_db()
    late = world.ticket(assignee=world.bob)
    late.assignee = world.alice
    late.save()
    client.force_login(world.ada)
    page = client.get(reverse("staff:person", args=[world.alice.pk]))
    assert b"still has 1 open ticket" in page.content
    response = client.post(reverse("staff:reassign", args=[world.alice.pk]), {"reassign_to": world.bob.pk})
    assert response.status_code == 302
    late.refresh_from_db()
    assert late.assignee == world.bob


def test_deactivation_refusals(client, world):
    with pytest.raises(ValidationFailed, match="yourself"):
        check_deactivate_person(world.ada, world.ada.pk, reassign_to_id=None)
    with pytest.raises(ValidationFailed, match="active person"):
        check_deactivate_person(world.ada, world.alice.pk, reassign_to_id=987654)
    with pytest.raises(ValidationFailed, match="someone else"):
        check_deactivate_person(world.ada, world.alice.pk, reassign_to_id=world.alice.pk)
    with pytest.raises(PermissionDenied):
        check_deactivate_person(world.sam, world.alice.pk, reassign_to_id=None)
    assert User.objects.get(pk=world.alice.pk).is_active

    # Through the web: garbage gives a form error and changes nothing.
    client.force_login(world.ada)
    for data in ({"reassign_to": "abc"}, {"reassign_to": "987654"}, {"reassign_to": str(world.alice.pk)}):
        response = client.post(reverse("staff:deactivate", args=[world.alice.pk]), data)
        assert response.status_code == 422
    assert User.objects.get(pk=world.alice.pk).is_active
    response = client.post(reverse("staff:deactivate", args=[world.ada.pk]), {"reassign_to": ""})
    assert response.status_code == 422
    assert b"cannot deactivate yourself" in response.content
    assert User.objects.get(pk=world.ada.pk).is_active


def test_two_admins_cannot_remove_each_other(world):
    """The second of two crossing deactivations finds its actor deactivated (the rows are locked)."""
    root = make_user("root@relaydesk.test", "Root", Role.ADMIN, [])
    stale_ada = User.objects.get(pk=world.ada.pk)  # loaded before root acts, still says active
    check_deactivate_person(root, world.ada.pk, reassign_to_id=None)
    with pytest.raises(PermissionDenied):
        check_deactivate_person(stale_ada, root.pk, reassign_to_id=None)
    with pytest.raises(PermissionDenied):
        check_update_person(
            stale_ada, root.pk, role=Role.AGENT, level=Level.L1, teams=[], capacity=8, languages=[], skills=[]
        )
    root.refresh_from_db()
    assert root.is_active
    assert root.role == Role.ADMIN
    assert User.objects.filter(role=Role.ADMIN, is_active=True).count() == 1


def test_reactivate(client, world):
    check_deactivate_person(world.ada, world.bob.pk, reassign_to_id=None)
    client.force_login(world.ada)
    response = client.post(reverse("staff:reactivate", args=[world.bob.pk]))
    assert response.status_code == 302
    bob = User.objects.get(pk=world.bob.pk)
    assert bob.is_active
    assert bob.deactivated_at is None


def test_reassign_open_tickets_needs_an_admin(world):
    ticket = world.ticket(assignee=world.alice)
    with pytest.raises(PermissionDenied):
        check_reassign_open_tickets(world.alice, world.alice.pk, reassign_to_id=world.bob.pk)
    ticket.refresh_from_db()
    assert ticket.assignee == world.alice
