from django.urls import reverse

from relaydesk.accounts.models import Availability

HX = {"HTTP_HX_REQUEST": "true"}


def test_signing_in_makes_available_and_signing_out_offline(client, world):
    assert world.alice.availability == Availability.OFFLINE
    response = client.post(
        reverse("account_login"), {"login": world.alice.email, "password": "correct-horse-battery"}
    )
    assert response.status_code == 302
    world.alice.refresh_from_db()
    assert world.alice.availability == Availability.AVAILABLE
    client.post(reverse("account_logout"))
    world.alice.refresh_from_db()
    assert world.alice.availability == Availability.OFFLINE


def test_switch_to_break_from_the_header(client, world):
    client.force_login(world.alice)
    response = client.post(reverse("accounts:availability"), {"availability": "break"}, **HX)
    assert response.status_code == 200
    assert "On a break" in response.content.decode()
    world.alice.refresh_from_db()
    assert world.alice.availability == Availability.BREAK
    assert world.alice.availability_changed_at is not None


def test_unknown_availability_is_refused_and_changes_nothing(client, world):
    client.force_login(world.alice)
    response = client.post(reverse("accounts:availability"), {"availability": "napping"})
    assert response.status_code == 422
    world.alice.refresh_from_db()
    assert world.alice.availability == Availability.OFFLINE


def test_redirect_after_switch_stays_on_this_site(client, world):
    client.force_login(world.alice)
    response = client.post(
        reverse("accounts:availability"), {"availability": "available", "next": "//evil.example/"}
    )
    assert response["Location"] == "/"
