"""The email admin screens in a real browser, against a real dovecot and aiosmtpd: an admin
connects a mailbox, tests the connection (a wrong password first), saves it, generates the
webhook secret; polled mail shows up in the mail log and the quarantine; held mail in the outbox;
an acknowledgement template is written with its live preview. Screenshots at 1440×900 and 390×844.
"""

from __future__ import annotations

import re
from email.message import EmailMessage
from typing import TYPE_CHECKING

import pytest

from relaydesk.mail import imap_tasks
from relaydesk.mail.credentials import decrypt
from relaydesk.mail.models import AcknowledgementTemplate, InboundEmail, Mailbox, OutboundEmail
from tests.browser.test_agent_flow import sign_in

if TYPE_CHECKING:
    from tests.mailservers import ImapServer, SmtpServer

pytest_plugins = ["tests.mailservers"]

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def shoot(page, screenshot_dir, name: str) -> None:
    page.evaluate("window.scrollTo(0, 0)")  # a scrolled page puts the sticky header mid-shot
    page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)


def mail(
    number: int, *, subject: str, body: str = "It stopped printing this morning.", **headers: str
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Carol Customer <carol@acme.example>"
    message["To"] = "support@relaydesk.test"
    message["Subject"] = subject
    message["Message-ID"] = f"<browser-{number}@acme.example>"
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content(body)
    return message


def fill_mailbox_form(page, imap_server: ImapServer, smtp_server: SmtpServer, *, imap_password: str) -> None:
    page.get_by_label("Name", exact=True).fill("Support")
    page.get_by_label("Address", exact=True).fill("support@relaydesk.test")
    page.get_by_label("Sender name", exact=True).fill("Relaydesk Support")
    page.get_by_label("Default team", exact=True).select_option(label="Americas")
    page.get_by_label("Acknowledge new tickets", exact=True).uncheck()
    page.get_by_label("IMAP server", exact=True).fill(imap_server.host)
    page.locator("#id_imap_security").select_option("starttls")
    assert page.locator("#id_imap_port").input_value() == "143"  # the usual port follows the choice
    page.locator("#id_imap_port").fill(str(imap_server.port))
    page.locator("#id_imap_security").select_option("none")
    assert page.locator("#id_imap_port").input_value() == str(imap_server.port)  # a typed port stays
    page.locator("#id_imap_username").fill(imap_server.user)
    page.locator("#id_imap_password").fill(imap_password)
    page.get_by_label("SMTP server", exact=True).fill(smtp_server.host)
    page.locator("#id_smtp_port").fill(str(smtp_server.port))
    page.locator("#id_smtp_security").select_option("none")
    page.locator("#id_smtp_username").fill(smtp_server.user)
    page.locator("#id_smtp_password").fill(smtp_server.password)


@pytest.mark.django_db(transaction=True)
def test_admin_connects_a_mailbox_and_works_the_mail_screens(
    browser, live_server, world, screenshot_dir, imap_server, smtp_server, settings
):
    settings.MAIL_MAX_BYTES = 64 * 1024
    imap_server.deliver(mail(1, subject="Printer is down"))
    imap_server.deliver(mail(2, subject="Invoice question"))
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, live_server, world.ada.email)

    page.goto(f"{live_server.url}/mail/admin/mailboxes/")
    page.get_by_text("No mailbox connected yet").wait_for()
    shoot(page, screenshot_dir, "mail-mailboxes-empty-desktop")

    # Connect: a mistyped password first. The test says exactly what failed, inline.
    page.get_by_role("link", name="Connect a mailbox").first.click()
    fill_mailbox_form(page, imap_server, smtp_server, imap_password="not-the-password")
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text(
        "IMAP: login refused for support@relaydesk.test: [AUTHENTICATIONFAILED] Authentication failed."
    ).wait_for()
    page.locator("#connection-test").get_by_text("SMTP: connected").wait_for()
    shoot(page, screenshot_dir, "mail-mailbox-test-failed-desktop")

    page.locator("#id_imap_password").fill(imap_server.password)
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text("IMAP: connected, folder INBOX has 2 messages").wait_for()
    page.locator("#connection-test").get_by_text("SMTP: connected").wait_for()
    assert not Mailbox.objects.exists()  # testing saves nothing
    shoot(page, screenshot_dir, "mail-mailbox-test-ok-desktop")

    page.get_by_role("button", name="Connect mailbox").click()
    page.wait_for_url(re.compile(r".*/mail/admin/mailboxes/\d+/$"))
    mailbox = Mailbox.objects.get()
    assert (mailbox.team, mailbox.send_acknowledgement) == (world.americas, False)
    assert decrypt(mailbox.imap_password_encrypted) == imap_server.password
    assert page.locator("#id_imap_password").get_attribute("placeholder") == "unchanged"
    assert page.locator("#id_imap_password").input_value() == ""

    # The edit form tests with the stored passwords.
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text("IMAP: connected, folder INBOX has 2 messages").wait_for()

    # The webhook secret, shown once.
    page.get_by_role("button", name="Generate secret").click()
    secret_box = page.locator("#webhook-secret")
    secret_box.wait_for()
    secret = secret_box.inner_text()
    assert len(secret) >= 40
    assert f"Authorization: Bearer {secret}" in page.locator("pre.curl").inner_text()
    shoot(page, screenshot_dir, "mail-mailbox-desktop")
    page.reload()
    assert secret not in page.content()
    page.get_by_text("Secret set").wait_for()

    # The worker polls: two tickets, one automatic reply ignored, one oversized mail quarantined.
    imap_server.deliver(mail(3, subject="Out of office", Auto_Submitted="auto-replied"))
    imap_server.deliver(mail(4, subject="Scans of every page", body=("scan " * 15 + "\n") * 1200))
    result = imap_tasks.poll_mailbox_now(mailbox.pk)
    assert result is not None
    assert (result.stored, result.error) == (4, "")
    statuses = dict(InboundEmail.objects.values_list("header_message_id", "status"))
    assert statuses == {
        "browser-1@acme.example": "processed",
        "browser-2@acme.example": "processed",
        "browser-3@acme.example": "ignored",
        "browser-4@acme.example": "quarantined",  # too big to parse: sender and subject from its headers
    }

    page.goto(f"{live_server.url}/mail/admin/mailboxes/")
    page.get_by_role("link", name="Support").wait_for()
    shoot(page, screenshot_dir, "mail-mailboxes-desktop")

    page.goto(f"{live_server.url}/mail/admin/log/")
    page.get_by_text("Invoice question").wait_for()
    shoot(page, screenshot_dir, "mail-log-desktop")

    page.goto(f"{live_server.url}/mail/admin/quarantine/")
    page.get_by_text("Scans of every page").wait_for()
    page.get_by_text("the limit is 65536 bytes").wait_for()
    page.get_by_text("Out of office").wait_for()
    assert "Printer is down" not in page.locator("main").inner_text()
    shoot(page, screenshot_dir, "mail-quarantine-desktop")
    page.get_by_label("Status", exact=True).select_option("quarantined")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile(r".*status=quarantined.*"))
    assert "Out of office" not in page.locator("main").inner_text()
    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download message")).first.click()
    assert download.value.suggested_filename.endswith(".eml")

    # Held and failed outbound mail, with the release button.
    ticket = InboundEmail.objects.get(subject="Printer is down").ticket
    assert ticket is not None
    OutboundEmail.objects.create(
        ticket=ticket,
        mailbox=mailbox,
        to=["Carol Customer <carol@acme.example>"],
        subject=f"Re: Printer is down [#{ticket.pk}]",
        header_message_id="<rd.browser.1@relaydesk.invalid>",
        status="held",
        last_error="Held by the circuit breaker: 21 emails to this ticket within an hour.",
    )
    OutboundEmail.objects.create(
        ticket=ticket,
        mailbox=mailbox,
        to=["Nobody <nobody@globex.example>"],
        subject=f"Re: Printer is down [#{ticket.pk}]",
        header_message_id="<rd.browser.2@relaydesk.invalid>",
        status="failed",
        attempts=8,
        last_error="550 5.1.1 <nobody@globex.example>: Recipient address rejected: User unknown",
    )
    page.goto(f"{live_server.url}/mail/admin/outbox/")
    page.get_by_text("Recipient address rejected").wait_for()
    shoot(page, screenshot_dir, "mail-outbox-desktop")

    # An acknowledgement template, with the preview following the typing.
    page.goto(f"{live_server.url}/mail/admin/acknowledgements/")
    page.get_by_label("Language", exact=True).fill("de")
    page.get_by_label("Subject", exact=True).fill("Wir haben Ihre Anfrage erhalten: {subject}")
    page.get_by_label("Text", exact=True).fill(
        "Hallo {name},\n\ndanke für Ihre Nachricht. Ihre Nummer: {number}."
    )
    page.locator("#ack-preview").get_by_text("Hallo Carol Customer,").wait_for()
    page.locator("#ack-preview").get_by_text(
        "Wir haben Ihre Anfrage erhalten: Printer is down [#1042]"
    ).wait_for()
    shoot(page, screenshot_dir, "mail-acknowledgements-form-desktop")
    page.get_by_role("button", name="Add template").click()
    page.wait_for_url("**/mail/admin/acknowledgements/")
    page.get_by_role("link", name="de", exact=True).wait_for()
    assert AcknowledgementTemplate.objects.get().language == "de"
    shoot(page, screenshot_dir, "mail-acknowledgements-desktop")
    context.close()

    # Every screen on a phone: readable, nothing wider than the screen.
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server, world.ada.email)
    for path, name in (
        ("/mail/admin/mailboxes/", "mail-mailboxes-phone"),
        (f"/mail/admin/mailboxes/{mailbox.pk}/", "mail-mailbox-phone"),
        ("/mail/admin/quarantine/", "mail-quarantine-phone"),
        ("/mail/admin/outbox/", "mail-outbox-phone"),
        ("/mail/admin/acknowledgements/", "mail-acknowledgements-phone"),
        ("/mail/admin/log/", "mail-log-phone"),
    ):
        page.goto(f"{live_server.url}{path}")
        if name == "mail-mailbox-phone":
            page.get_by_role("button", name="Test connection").click()
            page.locator("#connection-test").get_by_text("SMTP: connected").wait_for()
        shoot(page, screenshot_dir, name)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    context.close()

    # Dark theme: the mailbox form stays readable.
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    page = context.new_page()
    sign_in(page, live_server, world.ada.email)
    page.goto(f"{live_server.url}/mail/admin/mailboxes/{mailbox.pk}/")
    page.get_by_role("button", name="Test connection").click()
    page.locator("#connection-test").get_by_text("SMTP: connected").wait_for()
    shoot(page, screenshot_dir, "mail-mailbox-dark-desktop")
    context.close()
