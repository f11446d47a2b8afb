"""Input a browser or script can send that must give a clear answer, never a 500 or a redirect away."""

import pytest
from django.urls import reverse

from relaydesk.core.errors import ValidationFailed
from relaydesk.notifications.models import Notification
from relaydesk.tickets.actions import check_add_message, check_change_ticket
from relaydesk.tickets.models import MessageKind, SavedView, Status

HUGE = "9" * 30


@pytest.fixture
def alice_client(client, world):
    client.force_login(world.alice)
    return client


@pytest.mark.parametrize(
    "params",
    [{"q": "²"}, {"q": "a\x00b"}, {"tag": "a\x00b"}, {"team": HUGE}, {"requester": HUGE}, {"assignee": "٣"}],
)
def test_queue_filters_never_500(alice_client, world, params):
    world.ticket()
    response = alice_client.get(reverse("tickets:search"), params)
    assert response.status_code == 200


def test_huge_filter_id_is_named_in_the_error(alice_client, world):
    response = alice_client.get(reverse("tickets:unassigned"), {"team": HUGE})
    assert "team must be a number" in response.content.decode()


@pytest.mark.parametrize(
    ("url_name", "data"),
    [
        ("tickets:bulk", {"ticket": "²", "priority": "1"}),
        ("tickets:bulk", {"ticket": "1", "priority": "²"}),
        ("tickets:bulk", {"ticket": "1", "assignee": "²"}),
        ("tickets:merge", {"target": "²"}),
        ("tickets:resolve", {"version": "²"}),
        ("tickets:assign_to_me", {"version": HUGE}),
    ],
)
def test_odd_digits_in_forms_never_500(alice_client, world, url_name, data):
    ticket = world.ticket(priority=3)
    args = [] if url_name == "tickets:bulk" else [ticket.pk]
    response = alice_client.post(reverse(url_name, args=args), data)
    assert response.status_code < 500
    ticket.refresh_from_db()
    assert ticket.priority == 3


def test_notifications_cursor_with_odd_digits(alice_client):
    assert alice_client.get(reverse("notifications:list"), {"before": "²"}).status_code == 200


def test_save_view_never_redirects_off_site(alice_client, world):
    response = alice_client.post(reverse("tickets:save_view"), {"name": "", "back": "//evil.example/x"})
    assert response["Location"] == "/"
    response = alice_client.post(reverse("tickets:bulk"), {"back": "https://evil.example/"})
    assert response["Location"] == "/"


def test_saved_view_drops_nul(alice_client, world):
    alice_client.post(reverse("tickets:save_view"), {"name": "mine\x00", "query": "q=a\x00b"})
    view = SavedView.objects.get(owner=world.alice)
    assert view.name == "mine"
    assert "\x00" not in view.query


def test_mention_of_someone_who_cannot_see_the_ticket_notifies_nobody(world):
    ticket = world.ticket(team=world.americas)
    check_add_message(world.alice, ticket.pk, kind=MessageKind.NOTE, body_text="ping @bob and @sam")
    assert not Notification.objects.filter(recipient=world.bob).exists()  # EMEA only: may not see it
    assert Notification.objects.filter(recipient=world.sam).exists()  # supervisor: sees everything


def test_closed_ticket_is_final(world):
    ticket = world.ticket(assignee=world.alice)
    check_change_ticket(world.alice, ticket.pk, expected_version=None, status=Status.RESOLVED)
    # Closing and tagging in one save is fine...
    check_change_ticket(
        world.alice, ticket.pk, expected_version=None, status=Status.CLOSED, add_tags=["done"]
    )
    ticket.refresh_from_db()
    events = ticket.events.count()
    # ...but nothing changes a closed ticket afterwards.
    with pytest.raises(ValidationFailed, match="closed ticket cannot be changed"):
        check_change_ticket(world.sam, ticket.pk, expected_version=None, priority=1, assignee=world.bob)
    ticket.refresh_from_db()
    assert (ticket.priority, ticket.assignee, ticket.events.count()) == (3, world.alice, events)
    # Saving the form unchanged is not a change.
    check_change_ticket(world.alice, ticket.pk, expected_version=None, priority=3)
