"""The notifications screen and the header bell."""

from datetime import timedelta

from django.urls import reverse
from django.utils import timezone

from relaydesk.notifications.actions import do_notify
from relaydesk.notifications.models import Notification, NotificationKind


def notify(world, recipient, text, **kwargs):
    return do_notify(recipient=recipient, kind=NotificationKind.MENTION, actor=world.sam, text=text, **kwargs)


def test_list_newest_first_with_unread_highlighted(client, world):
    ticket = world.ticket()
    old = notify(world, world.alice, "Older one", ticket_id=ticket.pk)
    Notification.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(hours=2), read_at=timezone.now()
    )
    notify(world, world.alice, "Newer one", ticket_id=ticket.pk)
    notify(world, world.bob, "Not for Alice")
    client.force_login(world.alice)
    response = client.get(reverse("notifications:list"))
    assert response.status_code == 200
    texts = [n.text for n in response.context["notifications"]]
    assert texts == ["Newer one", "Older one"]
    content = response.content.decode()
    assert content.index("Newer one") < content.index("Older one")
    assert content.count('class="unread"') == 1
    assert "Not for Alice" not in content
    assert response.context["nav_active"] == "notifications"


def test_empty_states(client, world):
    client.force_login(world.alice)
    assert b"No notifications yet" in client.get(reverse("notifications:list")).content
    assert b"all caught up" in client.get(reverse("notifications:list") + "?unread=1").content


def test_opening_a_notification_marks_it_read_and_goes_to_the_ticket(client, world):
    ticket = world.ticket()
    notification = notify(world, world.alice, "Look at this", ticket_id=ticket.pk)
    client.force_login(world.alice)
    response = client.get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("tickets:detail", args=[ticket.pk])
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_cannot_open_someone_elses_notification(client, world):
    notification = notify(world, world.bob, "Bob's")
    client.force_login(world.alice)
    response = client.get(reverse("notifications:open", args=[notification.pk]))
    assert response.status_code == 302
    assert response["Location"] == reverse("notifications:list")
    notification.refresh_from_db()
    assert notification.read_at is None


def test_mark_all_read_only_touches_mine(client, world):
    for i in range(3):
        notify(world, world.alice, f"A{i}")
    notify(world, world.bob, "B")
    client.force_login(world.alice)
    response = client.post(reverse("notifications:mark_all_read"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=world.alice, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=world.bob, read_at__isnull=True).count() == 1
    assert client.get(reverse("notifications:mark_all_read")).status_code == 405


def test_bell_shows_the_unread_count(client, world):
    client.force_login(world.alice)
    response = client.get(reverse("notifications:bell"), headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode().strip()
    assert body.startswith('<a class="bell"')
    assert body.endswith("</a>")
    assert 'hx-trigger="every 30s"' in body
    assert 'class="badge count"' not in body
    for i in range(4):
        notify(world, world.alice, f"N{i}")
    body = client.get(reverse("notifications:bell")).content.decode()
    assert '<span class="badge count">4</span>' in body
    assert "4 unread" in body


def test_bell_and_list_need_sign_in(client, db):
    for name in ("notifications:list", "notifications:bell"):
        response = client.get(reverse(name))
        assert response.status_code == 302


def test_older_page_and_garbage_cursor(client, world):
    for i in range(35):
        notify(world, world.alice, f"N{i:02}")
    client.force_login(world.alice)
    first = client.get(reverse("notifications:list"))
    assert len(first.context["notifications"]) == 30
    second = client.get(reverse("notifications:list") + "?" + first.context["older_query"])
    assert len(second.context["notifications"]) == 5
    seen = {n.pk for n in first.context["notifications"]} | {n.pk for n in second.context["notifications"]}
    assert len(seen) == 35
    assert client.get(reverse("notifications:list") + "?before=abc&unread=zzz").status_code == 200
