"""POST /mail/inbound/<mailbox_id>/: bearer secret per mailbox, raw body or a form file, 202 after commit."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.handlers.asgi import ASGIRequest
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings as SettingsWrapper

from relaydesk.mail import outbox
from relaydesk.mail.intake import hash_webhook_secret, new_webhook_secret, webhook_secret_matches
from relaydesk.mail.models import InboundEmail, InboundSource, InboundStatus, Mailbox
from relaydesk.mail.views import webhook
from relaydesk.tickets.models import Ticket
from tests.conftest import World

pytestmark = pytest.mark.django_db

SECRET = "s3cret-for-the-inbound-webhook"
RAW = (
    b"From: Carol Customer <carol@acme.example>\r\nTo: support@example.com\r\n"
    b"Subject: Printer is down\r\nMessage-ID: <hook-1@acme.example>\r\n\r\nIt stopped.\r\n"
)
UNAUTHORIZED = {"error": "unauthorized", "message": "Unknown mailbox or wrong secret."}


@pytest.fixture(autouse=True)
def _no_acknowledgements(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(outbox, "do_queue_acknowledgement", lambda ticket, **kwargs: None)


@pytest.fixture
def mailbox(world: World) -> Mailbox:
    return Mailbox.objects.create(
        name="Support",
        address="support@example.com",
        team=world.americas,
        webhook_secret_hash=hash_webhook_secret(SECRET),
    )


def url(mailbox_id: int) -> str:
    return reverse("mail:inbound_webhook", args=[mailbox_id])


def post(
    client: Client, mailbox_id: int, body: bytes = RAW, *, secret: str | None = SECRET, **extra: Any
) -> Any:
    headers = extra.pop("headers", {"Authorization": f"Bearer {secret}"} if secret is not None else {})
    content_type = extra.pop("content_type", "message/rfc822")
    return client.post(url(mailbox_id), data=body, content_type=content_type, headers=headers, **extra)


def test_a_message_is_stored_then_processed_after_commit(
    client: Client, mailbox: Mailbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post(client, mailbox.pk)

    assert response.status_code == 202
    row = InboundEmail.objects.get()
    assert response.json() == {"id": row.pk, "duplicate": False}
    assert (row.mailbox, row.source, bytes(row.raw)) == (mailbox, InboundSource.WEBHOOK, RAW)
    assert len(callbacks) == 1
    assert row.status == InboundStatus.PROCESSED
    assert row.ticket is not None
    assert row.ticket.subject == "Printer is down"


def test_a_second_delivery_is_a_duplicate_of_the_first(
    client: Client, mailbox: Mailbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        first = post(client, mailbox.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = post(client, mailbox.pk)

    assert second.status_code == 202
    assert second.json() == {"id": first.json()["id"], "duplicate": True}
    assert callbacks == []  # already processed: nothing to enqueue
    assert InboundEmail.objects.count() == 1
    assert Ticket.objects.count() == 1


def test_a_duplicate_still_waiting_is_enqueued_again(
    client: Client, mailbox: Mailbox, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    with django_capture_on_commit_callbacks(execute=False):  # the first job was lost
        first = post(client, mailbox.pk)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        second = post(client, mailbox.pk)
    assert second.json() == {"id": first.json()["id"], "duplicate": True}
    assert len(callbacks) == 1
    assert InboundEmail.objects.get().status == InboundStatus.PROCESSED


@pytest.mark.parametrize(
    "case", ["wrong secret", "no header", "basic auth", "unknown mailbox", "inactive", "no secret set"]
)
def test_the_wrong_secret_and_an_unknown_mailbox_get_the_same_401(
    client: Client, world: World, mailbox: Mailbox, case: str
) -> None:
    other = Mailbox.objects.create(name="Billing", address="billing@example.com")  # no webhook secret
    target: int = mailbox.pk
    secret: str | None = SECRET
    extra: dict[str, Any] = {}
    if case == "wrong secret":
        secret = SECRET + "x"
    elif case == "no header":
        secret = None
    elif case == "basic auth":
        secret, extra = None, {"headers": {"Authorization": f"Basic {SECRET}"}}
    elif case == "unknown mailbox":
        target = mailbox.pk + 100
    elif case == "inactive":
        Mailbox.objects.filter(pk=mailbox.pk).update(is_active=False)
    elif case == "no secret set":
        target, secret = other.pk, ""
    response = post(client, target, secret=secret, **extra)

    assert response.status_code == 401
    assert response.json() == UNAUTHORIZED
    assert response["WWW-Authenticate"] == 'Bearer realm="relaydesk-mail"'
    assert InboundEmail.objects.count() == 0


def test_csrf_does_not_apply(mailbox: Mailbox) -> None:
    response = post(Client(enforce_csrf_checks=True), mailbox.pk)
    assert response.status_code == 202


def test_only_post(client: Client, mailbox: Mailbox) -> None:
    response = client.get(url(mailbox.pk), headers={"Authorization": f"Bearer {SECRET}"})
    assert response.status_code == 405
    assert InboundEmail.objects.count() == 0


def test_an_empty_body_is_refused(client: Client, mailbox: Mailbox) -> None:
    response = post(client, mailbox.pk, b"  \r\n")
    assert response.status_code == 400
    assert response.json()["error"] == "empty"
    assert InboundEmail.objects.count() == 0


def test_above_twice_the_limit_is_refused_and_between_once_and_twice_quarantined(
    client: Client,
    mailbox: Mailbox,
    settings: SettingsWrapper,
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> None:
    settings.MAIL_MAX_BYTES = 1000
    too_big = RAW + b"x" * 2000
    response = post(client, mailbox.pk, too_big)
    assert response.status_code == 413
    assert response.json() == {"error": "too_large", "message": "The message is larger than 2000 bytes."}
    assert InboundEmail.objects.count() == 0

    big = RAW + b"x" * 1500
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, mailbox.pk, big)
    assert response.status_code == 202
    row = InboundEmail.objects.get()
    assert row.status == InboundStatus.QUARANTINED
    assert row.reason == f"The message is {len(big)} bytes; the limit is 1000 bytes. (too_large)"


def test_a_body_without_content_length_is_cut_off_at_the_limit(
    mailbox: Mailbox, settings: SettingsWrapper
) -> None:
    """A chunked upload (ASGI, no Content-Length) is read up to the limit and refused, not stored."""
    settings.MAIL_MAX_BYTES = 1000
    scope = {
        "type": "http",
        "method": "POST",
        "path": url(mailbox.pk),
        "query_string": b"",
        "headers": [(b"authorization", f"Bearer {SECRET}".encode()), (b"content-type", b"message/rfc822")],
    }
    request = ASGIRequest(scope, io.BytesIO(RAW + b"x" * 5000))
    assert "Content-Length" not in request.headers
    response = webhook.inbound(request, mailbox.pk)
    assert response.status_code == 413
    assert InboundEmail.objects.count() == 0

    request = ASGIRequest(scope, io.BytesIO(RAW))
    assert webhook.inbound(request, mailbox.pk).status_code == 202
    assert bytes(InboundEmail.objects.get().raw) == RAW


@pytest.mark.parametrize("field", ["message", "email"])
def test_a_form_upload_with_the_message_as_a_file(
    client: Client, mailbox: Mailbox, field: str, django_capture_on_commit_callbacks: Callable[..., Any]
) -> None:
    upload = SimpleUploadedFile("mail.eml", RAW, content_type="message/rfc822")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url(mailbox.pk),
            data={field: upload, "recipient": "support@example.com"},
            headers={"Authorization": f"Bearer {SECRET}"},
        )
    assert response.status_code == 202
    row = InboundEmail.objects.get()
    assert bytes(row.raw) == RAW
    assert row.status == InboundStatus.PROCESSED


def test_a_form_without_the_file_is_refused(client: Client, mailbox: Mailbox) -> None:
    response = client.post(
        url(mailbox.pk), data={"body-plain": "hello"}, headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 400
    assert response.json()["message"] == 'The form has no file field "message" or "email".'
    assert InboundEmail.objects.count() == 0


def test_an_oversized_form_file_is_refused(
    client: Client, mailbox: Mailbox, settings: SettingsWrapper
) -> None:
    settings.MAIL_MAX_BYTES = 1000
    upload = SimpleUploadedFile("mail.eml", RAW + b"x" * 2500)
    response = client.post(
        url(mailbox.pk), data={"message": upload}, headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 413
    assert InboundEmail.objects.count() == 0


def test_secret_helpers(mailbox: Mailbox) -> None:
    secret, hashed = new_webhook_secret()
    assert len(secret) >= 40
    assert hashed == hash_webhook_secret(secret) != secret
    assert len(hashed) == 64
    assert webhook_secret_matches(mailbox, SECRET)
    assert not webhook_secret_matches(mailbox, secret)
    assert not webhook_secret_matches(None, SECRET)
    mailbox.webhook_secret_hash = ""
    assert not webhook_secret_matches(mailbox, "")


def test_the_response_body_is_json(client: Client, mailbox: Mailbox) -> None:
    response = post(client, mailbox.pk)
    assert response["Content-Type"] == "application/json"
    assert set(json.loads(response.content)) == {"id", "duplicate"}
