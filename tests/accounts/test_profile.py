"""Your profile: details, email notification choices and personal API tokens."""

import re

import pytest
from django.urls import reverse

from relaydesk.accounts.models import ApiToken, User
from relaydesk.accounts.tokens import authenticate_token
from relaydesk.notifications.actions import wants_email
from relaydesk.notifications.models import NotificationKind


def test_profile_renders_for_every_role(client, world):
    for user in (world.alice, world.bob, world.sam, world.ada):
        client.force_login(user)
        response = client.get(reverse("accounts:profile"))
        assert response.status_code == 200
        assert user.email.encode() in response.content
        assert reverse("account_change_password").encode() in response.content


def test_profile_needs_sign_in(client, db):
    response = client.get(reverse("accounts:profile"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_update_details(client, world):
    client.force_login(world.alice)
    response = client.post(
        reverse("accounts:profile_details"),
        {"full_name": " Alice  Anders ", "time_zone": "Asia/Tokyo", "languages": "en, JA"},
    )
    assert response.status_code == 302
    alice = User.objects.get(pk=world.alice.pk)
    assert (alice.full_name, alice.time_zone, alice.languages) == ("Alice Anders", "Asia/Tokyo", ["en", "ja"])


@pytest.mark.parametrize(
    "data",
    [
        {"full_name": "", "time_zone": "UTC"},
        {"full_name": "A", "time_zone": "Mars/Olympus"},
        {"full_name": "A", "time_zone": "UTC", "languages": "klingon!!"},
        {"full_name": "A" * 300, "time_zone": "UTC"},
        {},
    ],
)
def test_garbage_details_are_form_errors(client, world, data):
    client.force_login(world.alice)
    response = client.post(reverse("accounts:profile_details"), data)
    assert response.status_code == 422
    alice = User.objects.get(pk=world.alice.pk)
    assert (alice.full_name, alice.time_zone, alice.languages) == ("Alice Agent", "America/New_York", [])


def test_notification_preferences_are_saved(client, world):
    client.force_login(world.alice)
    assert wants_email(world.alice, NotificationKind.ASSIGNED)
    # Only "customer replies" ticked: the unticked kinds are switched off; unknown keys ignored.
    response = client.post(
        reverse("accounts:profile_notifications"),
        {NotificationKind.CUSTOMER_REPLY: "on", "evil": "on", "email_notifications": "x"},
    )
    assert response.status_code == 302
    alice = User.objects.get(pk=world.alice.pk)
    assert alice.email_notifications == {
        NotificationKind.ASSIGNED: False,
        NotificationKind.CUSTOMER_REPLY: True,
        NotificationKind.MENTION: False,
        NotificationKind.SLA_WARNING: False,
        NotificationKind.SLA_BREACH: False,
    }
    page = client.get(reverse("accounts:profile"))
    form = page.context["notifications_form"]
    assert form[NotificationKind.CUSTOMER_REPLY].initial is True
    assert form[NotificationKind.ASSIGNED].initial is False


def test_create_token_shows_it_once_and_it_works(client, world):
    client.force_login(world.alice)
    response = client.post(reverse("accounts:token_create"), {"name": "Reporting script", "scope": "read"})
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    match = re.search(rb'value="(rd_[A-Za-z0-9_-]+)"', response.content)
    assert match
    raw = match.group(1).decode()
    token = ApiToken.objects.get(user=world.alice)
    assert token.name == "Reporting script"
    assert token.scope == "read"
    assert raw not in token.secret_hash
    authenticated = authenticate_token(raw)
    assert authenticated is not None
    assert authenticated.pk == token.pk

    page = client.get(reverse("accounts:profile"))
    assert raw.encode() not in page.content  # never shown again
    assert token.prefix.encode() in page.content
    assert b"Reporting script" in page.content


def test_create_token_with_htmx_returns_the_card(client, world):
    client.force_login(world.alice)
    response = client.post(
        reverse("accounts:token_create"),
        {"name": "CI", "scope": "read_write"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert b'id="api-tokens"' in response.content
    assert b"<html" not in response.content
    assert ApiToken.objects.get(user=world.alice).scope == "read_write"


@pytest.mark.parametrize("data", [{"name": "", "scope": "read"}, {"name": "x", "scope": "root"}, {}])
def test_garbage_token_post_is_a_form_error(client, world, data):
    client.force_login(world.alice)
    response = client.post(reverse("accounts:token_create"), data)
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_revoke_token(client, world):
    client.force_login(world.alice)
    client.post(reverse("accounts:token_create"), {"name": "Old", "scope": "read"})
    token = ApiToken.objects.get()
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert b"Revoked" in client.get(reverse("accounts:profile")).content


def test_cannot_revoke_someone_elses_token(client, world):
    client.force_login(world.bob)
    client.post(reverse("accounts:token_create"), {"name": "Bob's", "scope": "read"})
    token = ApiToken.objects.get()
    client.force_login(world.alice)
    response = client.post(reverse("accounts:token_revoke", args=[token.pk]))
    assert response.status_code == 200
    assert b"does not exist" in response.content
    token.refresh_from_db()
    assert token.revoked_at is None
