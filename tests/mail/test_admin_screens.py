"""The email admin screens: mailboxes (passwords encrypted, "Test connection" against a real
dovecot and aiosmtpd), the webhook secret, quarantine and the mail log, the outbox, the
acknowledgement templates.

Admins only: agents and supervisors get 403 and nothing changes; anonymous people are sent to
the sign-in page. Hostile input is a field error, never a 500.
"""

from __future__ import annotations

import hashlib
import socket
from datetime import timedelta
from email.message import EmailMessage
from typing import TYPE_CHECKING, Any

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from relaydesk.mail import imap
from relaydesk.mail.credentials import decrypt, encrypt
from relaydesk.mail.models import (
    AcknowledgementTemplate,
    InboundEmail,
    InboundStatus,
    Mailbox,
    OutboundEmail,
    OutboundStatus,
)
from relaydesk.mail.views import quarantine as quarantine_views
from tests.conftest import World

if TYPE_CHECKING:
    from tests.mailservers import ImapServer, SmtpServer

pytest_plugins = ["tests.mailservers"]

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def mailbox_post(**overrides: object) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Support",
        "address": "support@relaydesk.test",
        "display_name": "Relaydesk Support",
        "team": "",
        "language": "en",
        "is_active": "on",
        "send_acknowledgement": "on",
        "imap_host": "",
        "imap_port": "993",
        "imap_security": "tls",
        "imap_username": "",
        "imap_password": "",
        "imap_folder": "INBOX",
        "imap_done_folder": "",
        "smtp_host": "",
        "smtp_port": "587",
        "smtp_security": "starttls",
        "smtp_username": "",
        "smtp_password": "",
    }
    data.update(overrides)
    return data


def servers_post(imap_server: ImapServer, smtp_server: SmtpServer, **overrides: object) -> dict[str, Any]:
    """The form filled for the test servers: plain connections (their certificate is self-signed)."""
    servers = {
        "imap_host": imap_server.host,
        "imap_port": str(imap_server.port),
        "imap_security": "none",
        "imap_username": imap_server.user,
        "imap_password": imap_server.password,
        "smtp_host": smtp_server.host,
        "smtp_port": str(smtp_server.port),
        "smtp_security": "none",
        "smtp_username": smtp_server.user,
        "smtp_password": smtp_server.password,
    }
    return mailbox_post(**{**servers, **overrides})


def make_mailbox(**fields: object) -> Mailbox:
    values: dict[str, object] = {
        "name": "Support",
        "address": "support@relaydesk.test",
        "imap_host": "imap.relaydesk.test",
        "imap_port": 993,
        "imap_username": "support@relaydesk.test",
        "imap_password_encrypted": encrypt("stored-imap-password"),
        "smtp_host": "smtp.relaydesk.test",
        "smtp_username": "relaydesk",
        "smtp_password_encrypted": encrypt("stored-smtp-password"),
        **fields,
    }
    return Mailbox.objects.create(**values)


def raw_mail(
    number: int = 1, *, sender: str = "carol@acme.example", subject: str = "Printer is down"
) -> bytes:
    message = EmailMessage()
    message["From"] = f"Carol Customer <{sender}>"
    message["To"] = "support@relaydesk.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<mail-{number}@acme.example>"
    message.set_content("It stopped printing this morning.")
    return bytes(message)


def inbound(mailbox: Mailbox | None, number: int, *, status: str, **fields: object) -> InboundEmail:
    raw = raw_mail(number)
    values: dict[str, object] = {
        "mailbox": mailbox,
        "source": "imap",
        "dedupe_key": f"test:{number}",
        "raw": raw,
        "size": len(raw),
        "header_message_id": f"mail-{number}@acme.example",
        "from_address": "carol@acme.example",
        "subject": "Printer is down",
        "status": status,
        **fields,
    }
    return InboundEmail.objects.create(**values)


def as_admin(world: World) -> Client:
    client = Client()
    client.force_login(world.ada)
    return client


def result_lines(response: Any) -> list[tuple[str, str]]:
    return [(line.protocol, line.text) for line in response.context["test_lines"]]


# --- permissions --------------------------------------------------------------------------


def _urls(mailbox: Mailbox, row: InboundEmail, outbound: OutboundEmail, template: AcknowledgementTemplate):
    return [
        ("get", reverse("mail:mailboxes"), {}),
        ("get", reverse("mail:mailbox_new"), {}),
        ("post", reverse("mail:mailbox_new"), mailbox_post(address="new@relaydesk.test")),
        ("get", reverse("mail:mailbox", args=[mailbox.pk]), {}),
        ("post", reverse("mail:mailbox", args=[mailbox.pk]), mailbox_post(name="Renamed")),
        ("post", reverse("mail:mailbox_test"), mailbox_post(imap_host="127.0.0.1")),
        ("post", reverse("mail:mailbox_webhook_secret", args=[mailbox.pk]), {}),
        ("get", reverse("mail:quarantine"), {}),
        ("post", reverse("mail:quarantine_reprocess", args=[row.pk]), {}),
        ("get", reverse("mail:inbound_raw", args=[row.pk]), {}),
        ("get", reverse("mail:log"), {}),
        ("get", reverse("mail:outbox"), {}),
        ("post", reverse("mail:outbound_release", args=[outbound.pk]), {}),
        ("get", reverse("mail:ack_templates"), {}),
        ("post", reverse("mail:ack_templates"), {"language": "fr", "subject": "Reçu", "body": "Merci"}),
        ("get", reverse("mail:ack_template", args=[template.pk]), {}),
        (
            "post",
            reverse("mail:ack_template", args=[template.pk]),
            {"language": "de", "subject": "X", "body": "Y"},
        ),
        ("post", reverse("mail:ack_template_delete", args=[template.pk]), {}),
        ("post", reverse("mail:ack_template_preview"), {"language": "de", "subject": "X", "body": "Y"}),
    ]


@pytest.fixture
def admin_world(world: World) -> dict[str, Any]:
    mailbox = make_mailbox()
    row = inbound(mailbox, 1, status=InboundStatus.QUARANTINED, reason="The message is too big.")
    ticket = world.ticket()
    outbound = OutboundEmail.objects.create(
        ticket=ticket,
        mailbox=mailbox,
        to=["Carol Customer <carol@acme.example>"],
        subject="Re: Printer is down [#1]",
        header_message_id="<rd.held.1@relaydesk.invalid>",
        status=OutboundStatus.HELD,
        last_error="Held: 21 emails to this ticket within an hour.",
    )
    template = AcknowledgementTemplate.objects.create(language="de", subject="Eingang", body="Danke, {name}.")
    return {"mailbox": mailbox, "row": row, "outbound": outbound, "template": template}


def _snapshot() -> list[object]:
    return [
        list(Mailbox.objects.order_by("pk").values()),
        list(InboundEmail.objects.order_by("pk").values("status", "reason", "ticket_id")),
        list(OutboundEmail.objects.order_by("pk").values("status", "last_error")),
        list(AcknowledgementTemplate.objects.order_by("pk").values()),
    ]


@pytest.mark.parametrize("who", ["alice", "sam"])
def test_agents_and_supervisors_get_403_and_nothing_changes(world, admin_world, who):
    client = Client()
    client.force_login(getattr(world, who))
    before = _snapshot()
    for method, url, data in _urls(**admin_world):
        response = getattr(client, method)(url, data)
        assert response.status_code == 403, (method, url)
        assert b"It stopped printing" not in response.content  # no raw mail leaks in an error page
    assert _snapshot() == before


def test_anonymous_people_are_sent_to_sign_in(admin_world):
    client = Client()
    before = _snapshot()
    for method, url, data in _urls(**admin_world):
        response = getattr(client, method)(url, data)
        assert response.status_code == 302, (method, url)
        assert response["Location"].startswith("/accounts/login/")
    assert _snapshot() == before


def test_admin_pages_render(world, admin_world):
    client = as_admin(world)
    for method, url, _data in _urls(**admin_world):
        if method == "get":
            assert client.get(url).status_code == 200, url


# --- mailboxes ----------------------------------------------------------------------------


def test_admin_connects_a_mailbox_with_its_passwords_encrypted(world):
    client = as_admin(world)
    response = client.post(
        reverse("mail:mailbox_new"),
        mailbox_post(
            address="Support@Relaydesk.TEST",
            team=str(world.emea.pk),
            language="DE",
            imap_host="imap.relaydesk.test",
            imap_username="support@relaydesk.test",
            imap_password=" imap secret ",
            imap_done_folder="Relaydesk/Processed",
            smtp_host="smtp.relaydesk.test",
            smtp_username="relaydesk",
            smtp_password="smtp secret",
            send_acknowledgement="",
        ),
    )
    mailbox = Mailbox.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("mail:mailbox", args=[mailbox.pk])
    assert (mailbox.address, mailbox.team, mailbox.language) == ("Support@relaydesk.test", world.emea, "de")
    assert (mailbox.send_acknowledgement, mailbox.imap_done_folder) == (False, "Relaydesk/Processed")
    # Encrypted at rest: the column is not the password, and decrypts to it (spaces kept).
    assert "imap secret" not in mailbox.imap_password_encrypted
    assert decrypt(mailbox.imap_password_encrypted) == " imap secret "
    assert "smtp secret" not in mailbox.smtp_password_encrypted
    assert decrypt(mailbox.smtp_password_encrypted) == "smtp secret"
    # Never shown back: the edit form says "unchanged" instead.
    page = client.get(reverse("mail:mailbox", args=[mailbox.pk])).content.decode()
    assert "imap secret" not in page
    assert "smtp secret" not in page
    assert mailbox.imap_password_encrypted not in page
    assert 'placeholder="unchanged"' in page
    assert "Leave empty to keep it." in page


def test_a_blank_password_on_edit_keeps_the_stored_one_and_a_typed_one_replaces_it(world):
    mailbox = make_mailbox()
    client = as_admin(world)
    stored_smtp = mailbox.smtp_password_encrypted
    post = mailbox_post(
        name="Support EU",
        imap_host="imap.relaydesk.test",
        imap_username="support@relaydesk.test",
        smtp_host="smtp.relaydesk.test",
        smtp_username="relaydesk",
    )
    response = client.post(reverse("mail:mailbox", args=[mailbox.pk]), post)
    assert response.status_code == 302
    mailbox.refresh_from_db()
    assert mailbox.name == "Support EU"
    assert decrypt(mailbox.imap_password_encrypted) == "stored-imap-password"
    assert mailbox.smtp_password_encrypted == stored_smtp

    client.post(reverse("mail:mailbox", args=[mailbox.pk]), {**post, "imap_password": "new-imap-password"})
    mailbox.refresh_from_db()
    assert decrypt(mailbox.imap_password_encrypted) == "new-imap-password"
    assert mailbox.smtp_password_encrypted == stored_smtp

    # No SMTP user any more: no login, so no password is kept around.
    client.post(reverse("mail:mailbox", args=[mailbox.pk]), {**post, "smtp_username": ""})
    mailbox.refresh_from_db()
    assert mailbox.smtp_password_encrypted == ""
    assert decrypt(mailbox.imap_password_encrypted) == "new-imap-password"


def test_imap_needs_a_user_and_a_password(world):
    response = as_admin(world).post(
        reverse("mail:mailbox_new"), mailbox_post(imap_host="imap.relaydesk.test")
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "imap_username": ["Enter the user name to log in to the IMAP server."],
        "imap_password": ["Enter the IMAP password."],
    }
    assert not Mailbox.objects.exists()


def test_two_mailboxes_cannot_share_an_address(world):
    make_mailbox()
    response = as_admin(world).post(
        reverse("mail:mailbox_new"), mailbox_post(address="SUPPORT@relaydesk.test")
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {
        "address": ["Another mailbox already uses SUPPORT@relaydesk.test."]
    }
    assert Mailbox.objects.count() == 1


def test_list_shows_each_mailbox_with_its_polling_state(world, django_assert_max_num_queries):
    make_mailbox(last_polled_at=timezone.now(), last_error="")
    make_mailbox(
        name="Billing",
        address="billing@relaydesk.test",
        team=world.americas,
        last_polled_at=timezone.now(),
        last_error="IMAP: login refused for billing@relaydesk.test: [AUTHENTICATIONFAILED] Auth failed.",
    )
    make_mailbox(name="Sales", address="sales@relaydesk.test", imap_host="", webhook_secret_hash="ab" * 32)
    client = as_admin(world)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("mail:mailboxes"))
    page = response.content.decode()
    assert [m.name for m in response.context["mailboxes"]] == ["Billing", "Sales", "Support"]
    assert "IMAP: login refused for billing@relaydesk.test" in page
    assert "Webhook" in page
    assert "Failing" in page


# --- hostile input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Support\x00", "Null characters are not allowed."),
        ("name", "x" * 10_000, "Ensure this value has at most 100 characters (it has 10000)."),
        ("address", "support@relaydesk.test\r\nBcc: all@example.com", "Line breaks are not allowed here."),
        ("address", "not an address", "Enter the address customers write to, e.g. support@example.com."),
        ("display_name", "Support\nBcc: x@example.com", "Line breaks are not allowed here."),
        ("display_name", "Support\tTeam", "Control characters (like tabs) are not allowed here."),
        ("language", "english", "Use a language code such as en, de or pt-br."),
        ("imap_host", "imap.example.com\r\nX", "Line breaks are not allowed here."),
        (
            "imap_host",
            "imap example.com",
            "“imap example.com” is not a host name such as imap.example.com or an IP address.",
        ),
        (
            "imap_host",
            "-bad-.example.com",
            "“-bad-.example.com” is not a host name such as imap.example.com or an IP address.",
        ),
        ("imap_host", "256.1.1.1", "“256.1.1.1” is not a valid IP address."),
        ("imap_host", "a" * 300, "Ensure this value has at most 253 characters (it has 300)."),
        ("imap_port", "0", "A port is a number from 1 to 65535."),
        ("imap_port", "65536", "A port is a number from 1 to 65535."),
        ("imap_port", "-1", "A port is a number from 1 to 65535."),
        ("imap_port", "imap", "A port is a number from 1 to 65535."),
        ("imap_port", "9" * 5000, "A port is a number from 1 to 65535."),
        ("smtp_port", "99999999999999999999999", "A port is a number from 1 to 65535."),
        ("imap_security", "ssl3", "Select a valid choice. ssl3 is not one of the available choices."),
        ("imap_username", "user\r\nA1 LOGOUT", "Line breaks are not allowed here."),
        ("imap_password", "secret\r\nA1 LOGOUT", "Line breaks are not allowed here."),
        ("imap_password", "x" * 2000, "Ensure this value has at most 1024 characters (it has 2000)."),
        ("imap_folder", "INBOX\r\nA1 DELETE INBOX", "Line breaks are not allowed here."),
        (
            "imap_done_folder",
            "INBOX",
            "Choose another folder than the one mail is read from, or leave it empty.",
        ),
        ("smtp_host", "smtp.example.com\r\nRCPT TO:<x@example.com>", "Line breaks are not allowed here."),
        (
            "team",
            "99999999999999999999999",
            "Select a valid choice. That choice is not one of the available choices.",
        ),
    ],
)
def test_hostile_input_is_a_field_error_and_nothing_is_saved(world, field, value, message):
    post = mailbox_post(
        imap_host="imap.relaydesk.test", imap_username="support@relaydesk.test", imap_password="secret"
    )
    post[field] = value
    client = as_admin(world)
    response = client.post(reverse("mail:mailbox_new"), post)
    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert not Mailbox.objects.exists()
    # The connection test refuses the same input before touching any network.
    response = client.post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert response.status_code == 200
    assert any(message in problem for problem in response.context["problems"])


def test_a_request_body_over_the_upload_limit_is_a_400_not_a_500(world, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    response = as_admin(world).post(reverse("mail:mailbox_new"), mailbox_post(name="x" * 200_000))
    assert response.status_code == 400
    assert not Mailbox.objects.exists()


def test_an_inactive_team_cannot_be_chosen_but_a_mailbox_keeps_its_own(world):
    world.emea.is_active = False
    world.emea.save()
    client = as_admin(world)
    response = client.post(reverse("mail:mailbox_new"), mailbox_post(team=str(world.emea.pk)))
    assert response.status_code == 422
    assert "team" in response.context["form"].errors
    mailbox = make_mailbox(team=world.emea)
    response = client.post(
        reverse("mail:mailbox", args=[mailbox.pk]),
        mailbox_post(
            team=str(world.emea.pk),
            imap_host="imap.relaydesk.test",
            imap_username="support@relaydesk.test",
            smtp_host="smtp.relaydesk.test",
            smtp_username="relaydesk",
        ),
    )
    assert response.status_code == 302


# --- "Test connection" against real servers -----------------------------------------------


def test_connection_test_against_dovecot_and_aiosmtpd_succeeds(world, imap_server, smtp_server):
    imap_server.deliver(raw_mail(1))
    imap_server.deliver(raw_mail(2))
    response = as_admin(world).post(
        reverse("mail:mailbox_test"), servers_post(imap_server, smtp_server), headers=HTMX
    )
    assert response.status_code == 200
    assert result_lines(response) == [
        ("IMAP", "IMAP: connected, folder INBOX has 2 messages"),
        ("SMTP", "SMTP: connected, sender support@relaydesk.test accepted"),
    ]
    assert [line.ok for line in response.context["test_lines"]] == [True, True]
    assert not Mailbox.objects.exists()  # a test saves nothing
    assert smtp_server.messages == []  # and sends nothing (MAIL FROM, then RSET)
    assert [m.seen for m in imap_server.list_messages()] == [False, False]  # and marks nothing


def test_connection_test_with_wrong_passwords(world, imap_server, smtp_server):
    post = servers_post(imap_server, smtp_server, imap_password="wrong", smtp_password="wrong")
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert result_lines(response) == [
        (
            "IMAP",
            "IMAP: login refused for support@relaydesk.test: [AUTHENTICATIONFAILED] Authentication failed.",
        ),
        ("SMTP", "SMTP: login refused for relaydesk: 535 5.7.8 Authentication credentials invalid"),
    ]
    html = response.content.decode()
    assert html.count('class="failed"') == 2


def test_connection_test_with_non_ascii_smtp_credentials(world, imap_server, smtp_server_factory):
    smtp_server = smtp_server_factory(user="müller", password="pässwörd", auth_required=True)
    post = servers_post(imap_server, smtp_server, smtp_username="müller", smtp_password="pässwörd")
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert result_lines(response)[1] == ("SMTP", "SMTP: connected, sender support@relaydesk.test accepted")
    post["smtp_password"] = "passwörd"
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert result_lines(response)[1] == (
        "SMTP",
        "SMTP: login refused for müller: 535 5.7.8 Authentication credentials invalid",
    )


def test_connection_test_with_closed_ports(world, imap_server, smtp_server):
    from tests.mailservers import free_port

    imap_port, smtp_port = free_port(), free_port()
    post = servers_post(imap_server, smtp_server, imap_port=str(imap_port), smtp_port=str(smtp_port))
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert result_lines(response) == [
        ("IMAP", f"IMAP: connection refused by 127.0.0.1:{imap_port} (nothing listens on that port)"),
        ("SMTP", f"SMTP: connection refused by 127.0.0.1:{smtp_port} (nothing listens on that port)"),
    ]


def test_connection_test_with_a_missing_folder_and_a_refused_sender(world, imap_server, smtp_server):
    smtp_server.fail_next(stage="mail", code=550, message="5.7.1 Sender not allowed")
    post = servers_post(imap_server, smtp_server, imap_folder="Support/Billing")
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert result_lines(response) == [
        (
            "IMAP",
            "IMAP: folder “Support/Billing” does not exist "
            "(the server says: Mailbox doesn't exist: Support/Billing)",
        ),
        ("SMTP", "SMTP: sender support@relaydesk.test refused: 550 5.7.1 Sender not allowed"),
    ]


def test_connection_test_names_certificate_and_handshake_problems(world, imap_server, smtp_server):
    post = servers_post(
        imap_server,
        smtp_server,
        imap_security="tls",
        imap_port=str(imap_server.tls_port),
        smtp_security="tls",
    )
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert result_lines(response) == [
        ("IMAP", "IMAP: the server's TLS certificate was refused: self-signed certificate"),
        (
            "SMTP",
            f"SMTP: TLS handshake with 127.0.0.1:{smtp_server.port} failed (wrong version number); "
            "check the security setting and the port",
        ),
    ]


def test_connection_test_over_starttls_with_a_trusted_certificate(
    world, imap_server, smtp_server, monkeypatch
):
    monkeypatch.setattr(imap, "tls_context", imap_server.tls.client_context)
    post = servers_post(imap_server, smtp_server, imap_security="starttls", smtp_security="starttls")
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert [line.ok for line in response.context["test_lines"]] == [True, True]


def test_connection_test_gives_up_on_a_silent_server(world, monkeypatch):
    monkeypatch.setattr(imap, "TEST_TIMEOUT", 0.5)
    with socket.socket() as silent:  # accepts connections, never says a word
        silent.bind(("127.0.0.1", 0))
        silent.listen(4)
        port = silent.getsockname()[1]
        post = mailbox_post(
            imap_host="127.0.0.1",
            imap_port=str(port),
            imap_username="support",
            imap_password="x",
            imap_security="none",
            smtp_host="127.0.0.1",
            smtp_port=str(port),
            smtp_security="none",
        )
        response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert result_lines(response) == [
        (
            "IMAP",
            f"IMAP: 127.0.0.1:{port} accepted the connection but sent no greeting within 0.5 s; "
            "a TLS port (993) needs the security “TLS”",
        ),
        (
            "SMTP",
            f"SMTP: 127.0.0.1:{port} accepted the connection but sent no greeting within 0.5 s; "
            "a TLS port (465) needs the security “TLS”",
        ),
    ]


def test_connection_test_of_an_unknown_host_name(world):
    post = mailbox_post(
        imap_host="imap.relaydesk.invalid", imap_username="support", imap_password="x", smtp_host=""
    )
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert result_lines(response) == [
        ("IMAP", "IMAP: the server name imap.relaydesk.invalid was not found (DNS)"),
        ("SMTP", "SMTP: no server set; nothing to test"),
    ]


def test_connection_test_on_the_edit_form_uses_the_stored_passwords(world, imap_server, smtp_server):
    mailbox = make_mailbox(
        imap_host=imap_server.host,
        imap_port=imap_server.port,
        imap_security="none",
        imap_username=imap_server.user,
        imap_password_encrypted=encrypt(imap_server.password),
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_security="none",
        smtp_username=smtp_server.user,
        smtp_password_encrypted=encrypt(smtp_server.password),
    )
    post = servers_post(
        imap_server, smtp_server, imap_password="", smtp_password="", mailbox_id=str(mailbox.pk)
    )
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert [line.ok for line in response.context["test_lines"]] == [True, True]
    # Without the mailbox id, nothing lends them a password.
    del post["mailbox_id"]
    response = as_admin(world).post(reverse("mail:mailbox_test"), post, headers=HTMX)
    assert response.context["problems"] == [
        "Password: Enter the IMAP password.",
        "Password: Enter the SMTP password (or leave the user empty).",
    ]


def test_connection_test_without_javascript_shows_the_whole_page(world, imap_server, smtp_server):
    response = as_admin(world).post(reverse("mail:mailbox_test"), servers_post(imap_server, smtp_server))
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Connect a mailbox</h1>" in html
    assert "IMAP: connected, folder INBOX has 0 messages" in html
    assert imap_server.password not in html  # a password is never sent back, not even after a test


# --- the webhook secret -------------------------------------------------------------------


def test_webhook_secret_is_shown_once_and_stored_hashed(world):
    mailbox = make_mailbox()
    client = as_admin(world)
    url = reverse("mail:mailbox_webhook_secret", args=[mailbox.pk])
    response = client.post(url, headers=HTMX)
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    secret = response.context["new_secret"]
    assert len(secret) >= 40
    mailbox.refresh_from_db()
    assert mailbox.webhook_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    html = response.content.decode()
    assert html.count(secret) == 2  # the copy field and the curl example
    webhook_url = f"http://testserver/mail/inbound/{mailbox.pk}/"
    assert (
        "curl -X POST \\\n"
        f"  -H 'Authorization: Bearer {secret}' \\\n"
        "  -H 'Content-Type: message/rfc822' \\\n"
        "  --data-binary @message.eml \\\n"
        f"  '{webhook_url}'"
    ) in html
    # Never again: the mailbox page only says that a secret is set.
    page = client.get(reverse("mail:mailbox", args=[mailbox.pk])).content.decode()
    assert secret not in page
    assert "Secret set" in page
    # A new one replaces it.
    second = client.post(url, headers=HTMX).context["new_secret"]
    mailbox.refresh_from_db()
    assert second != secret
    assert mailbox.webhook_secret_hash == hashlib.sha256(second.encode()).hexdigest()


def test_the_generated_secret_opens_the_webhook(world, monkeypatch):
    from relaydesk.mail import intake_tasks

    monkeypatch.setattr(intake_tasks, "process_inbound_email", lambda inbound_id: None)
    mailbox = make_mailbox()
    client = as_admin(world)
    secret = client.post(reverse("mail:mailbox_webhook_secret", args=[mailbox.pk]), headers=HTMX).context[
        "new_secret"
    ]
    webhook = reverse("mail:inbound_webhook", args=[mailbox.pk])
    refused = Client().post(
        webhook, raw_mail(7), content_type="message/rfc822", HTTP_AUTHORIZATION="Bearer nope"
    )
    assert refused.status_code == 401
    accepted = Client().post(
        webhook, raw_mail(7), content_type="message/rfc822", HTTP_AUTHORIZATION=f"Bearer {secret}"
    )
    assert accepted.status_code == 202
    assert InboundEmail.objects.get().header_message_id == "mail-7@acme.example"


def test_webhook_secret_without_javascript(world):
    mailbox = make_mailbox()
    response = as_admin(world).post(reverse("mail:mailbox_webhook_secret", args=[mailbox.pk]))
    assert response.status_code == 200
    assert response.context["new_secret"] in response.content.decode()
    assert "<h1>Support</h1>" in response.content.decode()


# --- quarantine and the mail log ----------------------------------------------------------


def test_quarantine_lists_quarantined_and_ignored_mail_with_filters(world, django_assert_max_num_queries):
    support = make_mailbox()
    billing = make_mailbox(name="Billing", address="billing@relaydesk.test")
    now = timezone.now()
    too_big = inbound(
        support, 1, status=InboundStatus.QUARANTINED, reason="The message is 31 MB; the limit is 25 MB."
    )
    auto = inbound(
        billing,
        2,
        status=InboundStatus.IGNORED,
        reason="Automatic reply (Auto-Submitted: auto-replied).",
        from_address="mailer-daemon@globex.example",
        subject="Out of office",
        received_at=now - timedelta(days=3),
    )
    inbound(support, 3, status=InboundStatus.PROCESSED)
    inbound(support, 4, status=InboundStatus.RECEIVED)
    client = as_admin(world)

    def listed(**query: str) -> list[int]:
        response = client.get(reverse("mail:quarantine"), query)
        assert response.status_code == 200
        return [row.pk for row in response.context["page"].rows]

    # The page layout's own queries, the list, the mailbox filter's choices: however many rows.
    with django_assert_max_num_queries(9):
        assert listed() == [auto.pk, too_big.pk]
    assert listed(status="quarantined") == [too_big.pk]
    assert listed(status="ignored") == [auto.pk]
    assert listed(mailbox=str(billing.pk)) == [auto.pk]
    assert listed(sender="DAEMON") == [auto.pk]
    assert listed(subject="office") == [auto.pk]
    assert listed(reason="31 MB") == [too_big.pk]
    today = timezone.localdate()
    assert listed(received_from=today.isoformat()) == [too_big.pk]
    assert listed(received_to=(today - timedelta(days=1)).isoformat()) == [auto.pk]
    # Filters that make no sense are dropped, never an error page.
    assert listed(status="processed", mailbox="x", received_from="yesterday", before="-1") == [
        auto.pk,
        too_big.pk,
    ]
    html = client.get(reverse("mail:quarantine")).content.decode()
    assert "The message is 31 MB; the limit is 25 MB." in html
    assert html.count(">Reprocess<") == 1  # only quarantined mail can be reprocessed


def test_quarantine_pages_by_keyset(world, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr(quarantine_views, "PAGE_SIZE", 3)
    mailbox = make_mailbox()
    rows = [inbound(mailbox, n, status=InboundStatus.QUARANTINED, reason=f"reason {n}") for n in range(1, 8)]
    client = as_admin(world)
    first = client.get(reverse("mail:quarantine"), {"reason": "reason"}).context["page"]
    assert [r.pk for r in first.rows] == [rows[6].pk, rows[5].pk, rows[4].pk]
    with django_assert_max_num_queries(3):  # session, user, the rows (no layout for an htmx page)
        response = client.get(
            reverse("mail:quarantine"), {"reason": "reason", "before": first.next_before}, headers=HTMX
        )
    second = response.context["page"]
    assert [r.pk for r in second.rows] == [rows[3].pk, rows[2].pk, rows[1].pk]
    html = response.content.decode()
    assert "<h1>" not in html  # the rows only, for htmx to append
    assert f"reason=reason&amp;before={second.next_before}" in html
    third = client.get(reverse("mail:quarantine"), {"before": second.next_before}).context["page"]
    assert ([r.pk for r in third.rows], third.next_before) == ([rows[0].pk], None)


def test_mail_log_lists_every_status(world):
    mailbox = make_mailbox()
    rows = [
        inbound(mailbox, n, status=status)
        for n, status in enumerate(["received", "processed", "ignored", "quarantined"], start=1)
    ]
    client = as_admin(world)
    response = client.get(reverse("mail:log"))
    assert [r.pk for r in response.context["page"].rows] == [r.pk for r in reversed(rows)]
    response = client.get(reverse("mail:log"), {"status": "processed"})
    assert [r.pk for r in response.context["page"].rows] == [rows[1].pk]


def test_admin_downloads_the_raw_message_as_an_attachment(world):
    row = inbound(make_mailbox(), 1, status=InboundStatus.QUARANTINED)
    response = as_admin(world).get(reverse("mail:inbound_raw", args=[row.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="inbound-{row.pk}.eml"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == raw_mail(1)
    assert as_admin(world).get(reverse("mail:inbound_raw", args=[row.pk + 1])).status_code == 404


def test_reprocess_sends_a_quarantined_message_through_processing_again(world):
    mailbox = make_mailbox(team=world.americas)
    row = inbound(mailbox, 1, status=InboundStatus.QUARANTINED, reason="The database was unreachable.")
    client = as_admin(world)
    response = client.post(
        reverse("mail:quarantine_reprocess", args=[row.pk]), {"filters": "status=quarantined&evil=%0d%0a"}
    )
    assert response.status_code == 302
    assert response["Location"] == "/mail/admin/quarantine/?status=quarantined"
    row.refresh_from_db()
    assert row.status == InboundStatus.PROCESSED
    assert row.ticket is not None
    assert row.ticket.subject == "Printer is down"
    # Only quarantined mail: a second press says so and changes nothing.
    response = client.post(reverse("mail:quarantine_reprocess", args=[row.pk]), follow=True)
    assert "Only quarantined email can be reprocessed" in response.content.decode()
    assert InboundEmail.objects.get(pk=row.pk).ticket_id == row.ticket_id


# --- the outbox ---------------------------------------------------------------------------


def test_outbox_lists_held_and_failed_mail_and_releases_held_mail(world, monkeypatch):
    from relaydesk.mail import outbox as outbox_module

    sent: list[int] = []
    monkeypatch.setattr(outbox_module, "_send_after_commit", sent.append)
    ticket = world.ticket()
    common = {"ticket": ticket, "to": ["Carol Customer <carol@acme.example>"]}
    held = OutboundEmail.objects.create(
        **common,
        subject="Re: Printer [#1]",
        header_message_id="<rd.1@relaydesk.invalid>",
        status=OutboundStatus.HELD,
        last_error="Held: 21 emails to this ticket within an hour.",
    )
    failed = OutboundEmail.objects.create(
        **common,
        subject="Re: Printer again [#1]",
        header_message_id="<rd.2@relaydesk.invalid>",
        status=OutboundStatus.FAILED,
        attempts=8,
        last_error="550 5.1.1 The email account does not exist",
    )
    OutboundEmail.objects.create(
        **common, subject="Sent", header_message_id="<rd.3@relaydesk.invalid>", status="sent"
    )
    client = as_admin(world)
    response = client.get(reverse("mail:outbox"))
    assert [r.pk for r in response.context["rows"]] == [failed.pk, held.pk]
    html = response.content.decode()
    assert "550 5.1.1 The email account does not exist" in html
    assert html.count(">Release<") == 1
    assert [r.pk for r in client.get(reverse("mail:outbox"), {"status": "failed"}).context["rows"]] == [
        failed.pk
    ]

    response = client.post(reverse("mail:outbound_release", args=[held.pk]), {"filters": "status=held"})
    assert response["Location"] == "/mail/admin/outbox/?status=held"
    held.refresh_from_db()
    assert held.status == OutboundStatus.QUEUED
    assert sent == [held.pk]
    # Failed mail cannot be released.
    response = client.post(reverse("mail:outbound_release", args=[failed.pk]), follow=True)
    assert "This email is not held" in response.content.decode()
    assert OutboundEmail.objects.get(pk=failed.pk).status == OutboundStatus.FAILED


# --- acknowledgement templates ------------------------------------------------------------


def test_admin_writes_an_acknowledgement_template_with_a_preview(world):
    client = as_admin(world)
    post = {
        "language": "DE",
        "subject": "Eingang: {subject}",
        "body": "Hallo {name},\r\ndanke! Nummer {number}.",
    }
    preview = client.post(reverse("mail:ack_template_preview"), post, headers=HTMX)
    assert preview.context["preview"] == {
        "subject": "Eingang: Printer is down [#1042]",
        "body": "Hallo Carol Customer,\ndanke! Nummer 1042.",
    }
    response = client.post(reverse("mail:ack_templates"), post)
    assert response.status_code == 302
    template = AcknowledgementTemplate.objects.get()
    assert (template.language, template.subject, template.body) == (
        "de",
        "Eingang: {subject}",
        "Hallo {name},\ndanke! Nummer {number}.",
    )
    response = client.post(
        reverse("mail:ack_template", args=[template.pk]), {**post, "subject": "Wir haben es: {subject}"}
    )
    assert response.status_code == 302
    template.refresh_from_db()
    assert template.subject == "Wir haben es: {subject}"
    client.post(reverse("mail:ack_template_delete", args=[template.pk]))
    assert not AcknowledgementTemplate.objects.exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("subject", "Received\r\nBcc: everyone@example.com", "Line breaks are not allowed here."),
        ("subject", "x" * 500, "Ensure this value has at most 200 characters (it has 500)."),
        ("body", "Hello {customer}", "Unknown placeholder {customer}: use {number}, {subject} or {name}."),
        ("body", "Hello\x00", "Null characters are not allowed."),
        ("language", "german", "Use a language code such as en, de or pt-br."),
        ("body", "  \n ", "Write the text customers receive."),
    ],
)
def test_acknowledgement_template_errors(world, field, value, message):
    post = {"language": "en", "subject": "Received: {subject}", "body": "Hello {name}", field: value}
    client = as_admin(world)
    response = client.post(reverse("mail:ack_templates"), post)
    assert response.status_code == 422
    assert response.context["form"].errors[field] == [message]
    assert not AcknowledgementTemplate.objects.exists()
    preview = client.post(reverse("mail:ack_template_preview"), post, headers=HTMX)
    assert preview.context["preview"] is None
    assert message in preview.context["problems"]


def test_one_template_per_language(world):
    AcknowledgementTemplate.objects.create(language="en", subject="Received", body="Thanks")
    response = as_admin(world).post(
        reverse("mail:ack_templates"), {"language": "EN", "subject": "Got it", "body": "Thanks"}
    )
    assert response.status_code == 422
    assert response.context["form"].errors == {"language": ["There is already a template for en."]}
    assert AcknowledgementTemplate.objects.get().subject == "Received"
