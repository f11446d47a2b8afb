"""Inviting a person: the invitation, its email, accepting it once, and every broken link."""

import hashlib
import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from relaydesk.accounts.actions import (
    check_invite_person,
    check_resend_invitation,
    check_revoke_invitation,
    do_accept_invitation,
)
from relaydesk.accounts.models import Invitation, Level, Role, User
from relaydesk.core.errors import PermissionDenied, ValidationFailed

GOOD_PASSWORD = "velvet-orbit-kettle-42"


def invite_link_from(message: mail.EmailMessage) -> str:
    match = re.search(r"https?://\S+/invite/(\S+)/", str(message.body))
    assert match, message.body
    return reverse("accounts:accept_invitation", args=[match.group(1)])


def invite_erin(client, world, django_capture_on_commit_callbacks, **overrides):
    client.force_login(world.ada)
    data = {
        "email": "Erin@Relaydesk.test",
        "full_name": "  Erin   Example ",
        "role": Role.SUPERVISOR,
        "level": Level.L2,
        "teams": [world.americas.pk, world.emea.pk],
        "time_zone": "Europe/Lisbon",
        **overrides,
    }
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:invite"), data)
    return response


def test_invitation_end_to_end(client, world, django_capture_on_commit_callbacks, settings):
    settings.SITE_URL = "https://desk.example.com"
    response = invite_erin(client, world, django_capture_on_commit_callbacks)
    assert response.status_code == 200
    assert b"Invitation sent" in response.content

    invitation = Invitation.objects.get()
    assert invitation.email == "erin@relaydesk.test"
    assert invitation.full_name == "Erin Example"
    assert invitation.invited_by == world.ada
    assert invitation.expires_at - invitation.created_at == timedelta(days=7)
    # Only a SHA-256 of the token is stored.
    assert len(invitation.token_hash) == 64

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["erin@relaydesk.test"]
    assert "https://desk.example.com/invite/" in message.body
    link = invite_link_from(message)
    raw_token = link.rstrip("/").rsplit("/", 1)[1]
    assert hashlib.sha256(raw_token.encode()).hexdigest() == invitation.token_hash
    assert raw_token not in invitation.token_hash

    # The invitee (a fresh browser) opens the link and chooses a password.
    client.logout()
    page = client.get(link)
    assert page.status_code == 200
    assert b"Erin Example" in page.content
    response = client.post(link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
    assert response.status_code == 302
    # Onboarding starts with the service vision and the SLA table.
    assert response["Location"] == reverse("sla:vision")

    erin = User.objects.get(email="erin@relaydesk.test")
    assert erin.full_name == "Erin Example"
    assert erin.role == Role.SUPERVISOR
    assert erin.level == Level.L2
    assert erin.time_zone == "Europe/Lisbon"
    assert set(erin.teams.all()) == {world.americas, world.emea}
    assert erin.check_password(GOOD_PASSWORD)
    assert int(client.session["_auth_user_id"]) == erin.pk
    invitation.refresh_from_db()
    assert invitation.accepted_at is not None

    # The link cannot be used again, by anyone.
    client.logout()
    again = client.get(link)
    assert again.status_code == 410
    assert b"already been used" in again.content
    again = client.post(link, {"password1": "another-pass-77x", "password2": "another-pass-77x"})
    assert again.status_code == 410
    erin.refresh_from_db()
    assert erin.check_password(GOOD_PASSWORD)
    assert User.objects.filter(email__iexact="erin@relaydesk.test").count() == 1


def test_weak_or_mismatched_password_is_a_form_error(client, world, django_capture_on_commit_callbacks):
    invite_erin(client, world, django_capture_on_commit_callbacks)
    link = invite_link_from(mail.outbox[0])
    client.logout()
    response = client.post(link, {"password1": "12345678901", "password2": "12345678901"})
    assert response.status_code == 422
    assert b"entirely numeric" in response.content
    response = client.post(link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD + "x"})
    assert response.status_code == 422
    assert b"not the same" in response.content
    response = client.post(link, {"password1": "password1234", "password2": "password1234"})
    assert response.status_code == 422
    assert b"too common" in response.content
    assert not User.objects.filter(email="erin@relaydesk.test").exists()
    assert Invitation.objects.get().accepted_at is None


def test_expired_invitation_gives_a_clear_page(client, world, django_capture_on_commit_callbacks):
    invite_erin(client, world, django_capture_on_commit_callbacks)
    link = invite_link_from(mail.outbox[0])
    client.logout()
    with time_machine.travel(timezone.now() + timedelta(days=7, minutes=1)):
        response = client.get(link)
        assert response.status_code == 410
        assert b"expired" in response.content
        response = client.post(link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
        assert response.status_code == 410
    assert not User.objects.filter(email="erin@relaydesk.test").exists()


def test_revoked_invitation_gives_a_clear_page(client, world, django_capture_on_commit_callbacks):
    invite_erin(client, world, django_capture_on_commit_callbacks)
    link = invite_link_from(mail.outbox[0])
    invitation = Invitation.objects.get()
    response = client.post(reverse("staff:invitation_revoke", args=[invitation.pk]))
    assert response.status_code == 302
    client.logout()
    response = client.get(link)
    assert response.status_code == 410
    assert b"withdrawn" in response.content
    response = client.post(link, {"password1": GOOD_PASSWORD, "password2": GOOD_PASSWORD})
    assert response.status_code == 410
    assert not User.objects.filter(email="erin@relaydesk.test").exists()


@pytest.mark.parametrize("token", ["garbage", "x" * 500, "%00", "../../etc"])
def test_unknown_token_gives_a_clear_page(client, db, token):
    response = client.get(f"/invite/{token}/")
    assert response.status_code in (404, 410)
    assert b"not valid" in response.content or response.status_code == 404


def test_resend_replaces_the_link(client, world, django_capture_on_commit_callbacks):
    invite_erin(client, world, django_capture_on_commit_callbacks)
    old_link = invite_link_from(mail.outbox[0])
    invitation = Invitation.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("staff:invitation_resend", args=[invitation.pk]))
    assert response.status_code == 200
    assert len(mail.outbox) == 2
    new_link = invite_link_from(mail.outbox[1])
    assert new_link != old_link
    client.logout()
    assert client.get(old_link).status_code == 404
    assert client.get(new_link).status_code == 200


def test_invite_refuses_existing_people_and_duplicates(world, django_capture_on_commit_callbacks):
    with pytest.raises(ValidationFailed, match="already has an account") as exc:
        check_invite_person(
            world.ada,
            email="ALICE@relaydesk.test",
            full_name="Alice again",
            role=Role.AGENT,
            level=Level.L1,
            teams=[],
            time_zone="UTC",
        )
    assert exc.value.field == "email"
    with django_capture_on_commit_callbacks(execute=True):
        check_invite_person(
            world.ada,
            email="erin@relaydesk.test",
            full_name="Erin",
            role=Role.AGENT,
            level=Level.L1,
            teams=[],
            time_zone="UTC",
        )
    with pytest.raises(ValidationFailed, match="pending invitation"):
        check_invite_person(
            world.ada,
            email="erin@relaydesk.test",
            full_name="Erin",
            role=Role.AGENT,
            level=Level.L1,
            teams=[],
            time_zone="UTC",
        )
    assert Invitation.objects.count() == 1


def test_only_admins_invite(world):
    for user in (world.alice, world.sam):
        with pytest.raises(PermissionDenied):
            check_invite_person(
                user,
                email="x@relaydesk.test",
                full_name="X",
                role=Role.ADMIN,
                level=Level.L1,
                teams=[],
                time_zone="UTC",
            )
    assert not Invitation.objects.exists()


def test_invite_form_errors_not_500(client, world, django_capture_on_commit_callbacks):
    response = invite_erin(
        client,
        world,
        django_capture_on_commit_callbacks,
        email="not-an-email",
        role="emperor",
        level="l9",
        teams=["999999", "abc"],
        time_zone="Mars/Olympus",
    )
    assert response.status_code == 422
    assert b"Enter a valid email address" in response.content
    assert b"Select a valid choice" in response.content
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_accept_twice_at_once_creates_one_account(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        _invitation, raw = check_invite_person(
            world.ada,
            email="erin@relaydesk.test",
            full_name="Erin",
            role=Role.AGENT,
            level=Level.L1,
            teams=[world.emea],
            time_zone="UTC",
        )
    do_accept_invitation(raw_token=raw, password=GOOD_PASSWORD)
    with pytest.raises(ValidationFailed, match="already been used"):
        do_accept_invitation(raw_token=raw, password=GOOD_PASSWORD)
    assert User.objects.filter(email="erin@relaydesk.test").count() == 1


def test_revoking_an_accepted_invitation_is_refused(world, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        invitation, raw = check_invite_person(
            world.ada,
            email="erin@relaydesk.test",
            full_name="Erin",
            role=Role.AGENT,
            level=Level.L1,
            teams=[],
            time_zone="UTC",
        )
    do_accept_invitation(raw_token=raw, password=GOOD_PASSWORD)
    with pytest.raises(ValidationFailed, match="already accepted"):
        check_revoke_invitation(world.ada, invitation_id=invitation.pk)
    with pytest.raises(ValidationFailed, match="already accepted"):
        check_resend_invitation(world.ada, invitation_id=invitation.pk)
