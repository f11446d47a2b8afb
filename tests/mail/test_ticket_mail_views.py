"""The email parts of the ticket page: folded quotes, the sandboxed original, raw mail, followers."""

from __future__ import annotations

import base64
import html
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from relaydesk.mail.display import frame_document, resolve_cids
from relaydesk.mail.models import Follower, InboundEmail, InboundSource, InboundStatus, Mailbox, MessageHeader
from relaydesk.tickets.actions import NewAttachment, do_create_ticket
from relaydesk.tickets.models import Channel, EventKind, Ticket, TicketEvent
from tests.conftest import World

pytestmark = pytest.mark.django_db

PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII="
)
RAW = b"From: carol@acme.example\r\nMessage-ID: <abc@acme.example>\r\nSubject: Printer\r\n\r\nIt broke.\r\n"


@pytest.fixture
def emailed(world: World) -> Ticket:
    """A ticket that arrived by email: new text, folded quote, original HTML with cid and remote images."""
    ticket = do_create_ticket(
        subject="Printer",
        requester=world.carol,
        body_text="It broke again.",
        channel=Channel.EMAIL,
        team=world.americas,
        attachments=[
            NewAttachment("logo.png", "image/png", PIXEL, content_id="<logo@acme>", is_inline=True),
            NewAttachment("report.pdf", "application/pdf", b"%PDF-1.4"),
        ],
    )
    message = ticket.messages.get()
    MessageHeader.objects.create(
        message=message,
        ticket=ticket,
        header_message_id="abc@acme.example",
        quoted_text="> On Monday you wrote:\n> Try turning it off and on.",
        original_html=(
            '<p>It broke again.</p><img src="cid:logo@acme" alt="logo">'
            '<img src="cid:someone-elses@other" alt="x"><img src="https://tracker.example/p.gif">'
        ),
        has_remote_images=True,
    )
    mailbox = Mailbox.objects.create(name="Support", address="support@northwind.example")
    InboundEmail.objects.create(
        mailbox=mailbox,
        source=InboundSource.WEBHOOK,
        dedupe_key="k1",
        raw=RAW,
        size=len(RAW),
        status=InboundStatus.PROCESSED,
        ticket=ticket,
        message=message,
    )
    return ticket


def test_ticket_page_folds_the_quote_and_offers_the_original_and_raw(
    client: Client, world: World, emailed: Ticket
) -> None:
    client.force_login(world.alice)
    page = client.get(reverse("tickets:detail", args=[emailed.pk])).content.decode()
    assert "<summary>Show quoted text</summary>" in page
    assert "Try turning it off and on." in page
    message = emailed.messages.get()
    assert reverse("mail:original", args=[emailed.pk, message.pk]) in page
    assert reverse("mail:raw", args=[emailed.pk, message.pk]) in page
    assert "has remote images" in page
    # The inline logo is shown inside the original, not listed as a file; the PDF is listed.
    assert "report.pdf" in page
    assert "logo.png" not in page


def test_original_is_sandboxed_with_remote_images_blocked_until_asked(
    client: Client, world: World, emailed: Ticket
) -> None:
    client.force_login(world.alice)
    message = emailed.messages.get()
    url = reverse("mail:original", args=[emailed.pk, message.pk])
    body = client.get(url).content.decode()
    frame = re.search(r"<iframe[^>]*>", body)
    assert frame is not None
    assert 'sandbox="allow-popups allow-popups-to-escape-sandbox"' in frame.group(0)
    assert "allow-scripts" not in frame.group(0)
    assert "allow-same-origin" not in frame.group(0)
    srcdoc = html.unescape(re.search(r'srcdoc="([^"]*)"', body).group(1))  # type: ignore[union-attr]
    assert "img-src data:;" in srcdoc  # remote images blocked by the frame's own policy
    assert f"data:image/png;base64,{base64.b64encode(PIXEL).decode()}" in srcdoc  # our cid resolved
    assert 'src="about:blank" alt="x"' in srcdoc  # another message's cid resolves to nothing
    assert "Load remote images" in body
    loaded = client.get(url, {"images": "1"}).content.decode()
    assert "img-src data: https: http:" in html.unescape(loaded)


def test_raw_download_is_an_attachment_only_for_those_who_see_the_ticket(
    client: Client, world: World, emailed: Ticket
) -> None:
    message = emailed.messages.get()
    url = reverse("mail:raw", args=[emailed.pk, message.pk])
    client.force_login(world.bob)  # EMEA agent: cannot see an Americas ticket
    assert client.get(url).status_code == 404
    client.force_login(world.alice)
    response = client.get(url)
    assert response.status_code == 200
    assert response.content == RAW
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["Content-Type"] == "application/octet-stream"


def test_cid_resolution_and_frame_document_are_pure() -> None:
    body = resolve_cids('<img src="cid:A@B"><img src=cid:unknown>', {"a@b": "data:image/png;base64,xx"})
    assert body == '<img src="data:image/png;base64,xx"><img src=about:blank>'
    doc = frame_document("<p>hi</p>", remote_images=False)
    assert "default-src &#x27;none&#x27;; img-src data:;" in doc


def test_agents_add_and_remove_followers_on_the_timeline(
    client: Client, world: World, emailed: Ticket
) -> None:
    client.force_login(world.alice)
    add = reverse("mail:follower_add", args=[emailed.pk])
    response = client.post(add, {"address": "Dan@Acme.example", "name": "Dan"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "Dan@Acme.example" in response.content.decode()
    assert client.post(add, {"address": "dan@acme.example"}, HTTP_HX_REQUEST="true").status_code == 200
    assert Follower.objects.filter(ticket=emailed).count() == 1  # case-insensitive duplicate ignored
    client.post(add, {"address": "carol@acme.example"})  # the requester is not a follower
    client.post(add, {"address": "support@northwind.example"})  # nor our own mailbox
    assert Follower.objects.filter(ticket=emailed).count() == 1
    follower = Follower.objects.get(ticket=emailed)
    client.post(reverse("mail:follower_remove", args=[emailed.pk]), {"follower": follower.pk})
    assert not Follower.objects.filter(ticket=emailed).exists()
    changes = TicketEvent.objects.filter(ticket=emailed, kind=EventKind.FIELD, field="followers")
    assert list(changes.values_list("old_value", "new_value")) == [
        ("", "+ Dan@Acme.example"),
        ("- Dan@Acme.example", ""),
    ]


@pytest.mark.parametrize(
    "address",
    [
        "not-an-address",
        "a@b.example\r\nBcc: evil@x.example",
        "x" * 300 + "@example.com",
        "a@b.example, c@d.example",
        "\x00",
    ],
)
def test_bad_follower_addresses_are_field_errors(
    client: Client, world: World, emailed: Ticket, address: str
) -> None:
    client.force_login(world.alice)
    response = client.post(
        reverse("mail:follower_add", args=[emailed.pk]), {"address": address}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert not Follower.objects.filter(ticket=emailed).exists()


def test_followers_of_a_ticket_one_cannot_see_are_404(client: Client, world: World, emailed: Ticket) -> None:
    client.force_login(world.bob)
    response = client.post(reverse("mail:follower_add", args=[emailed.pk]), {"address": "x@y.example"})
    assert response.status_code == 404
    assert not Follower.objects.exists()


def test_a_reply_shows_how_its_email_went(
    client: Client, world: World, emailed: Ticket, django_capture_on_commit_callbacks: Any
) -> None:
    from django.core import mail

    from relaydesk.mail.models import OutboundEmail, OutboundStatus
    from relaydesk.tickets.actions import check_add_message
    from relaydesk.tickets.models import MessageKind

    with django_capture_on_commit_callbacks(execute=True):  # the send job runs after commit
        reply = check_add_message(world.alice, emailed.pk, kind=MessageKind.REPLY, body_text="Fixed it.")
    note = check_add_message(world.alice, emailed.pk, kind=MessageKind.NOTE, body_text="Internal only.")
    out = OutboundEmail.objects.get(message=reply)
    assert out.status == OutboundStatus.SENT  # the mailbox has no SMTP: Django's backend sent it
    assert len(mail.outbox) == 1
    assert not OutboundEmail.objects.filter(message=note).exists()  # notes never leave
    client.force_login(world.alice)
    page = client.get(reverse("tickets:detail", args=[emailed.pk])).content.decode()
    assert 'class="mail-delivery sent"' in page
    assert "Emailed to" in page
    OutboundEmail.objects.filter(pk=out.pk).update(
        status=OutboundStatus.FAILED, last_error="550 no such user"
    )
    page = client.get(reverse("tickets:detail", args=[emailed.pk])).content.decode()
    assert "Not delivered to" in page
    assert "550 no such user" in page
