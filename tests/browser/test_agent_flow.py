"""An agent's day in a real browser: sign in → queue → open ticket → reply → internal note → resolve."""

from __future__ import annotations

import re

import pytest

from relaydesk.notifications.models import Notification, NotificationKind
from relaydesk.tickets.models import MessageKind, Status, Ticket

pytestmark = pytest.mark.browser


def sign_in(page, live_server, email: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill("correct-horse-battery")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/$"))


@pytest.mark.django_db(transaction=True)
def test_sign_in_queue_reply_note_resolve(browser, live_server, world, screenshot_dir):
    urgent = world.ticket(subject="Checkout fails for every customer", priority=1, tags=["outage"])
    world.ticket(subject="How do I export invoices?", priority=4)
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, world.alice.email)

    # The queue: Unassigned, P1 first.
    page.get_by_role("link", name=re.compile("Unassigned")).first.click()
    rows = page.locator(".queue-row[data-href]")
    rows.first.wait_for()
    assert "Checkout fails" in rows.nth(0).inner_text()
    assert "export invoices" in rows.nth(1).inner_text()
    # The navigation's counts arrive just after the page (htmx, out of band).
    page.wait_for_function("document.querySelector('#nav-count-unassigned').textContent.trim() === '2'")
    assert page.locator("#nav-count-mine").inner_text() == "0"
    page.screenshot(path=str(screenshot_dir / "queue-desktop.png"), full_page=True)

    # Open the ticket, reply to the customer.
    page.get_by_role("link", name="Checkout fails for every customer").click()
    page.wait_for_url(f"**/tickets/{urgent.pk}/")
    page.locator("#composer-body").fill("We are investigating and will update you within 30 minutes.")
    page.get_by_role("button", name="Send reply").click()
    page.locator(".msg.reply").wait_for()

    # Switch to an internal note: the composer turns yellow and the button says so.
    page.get_by_role("tab", name=re.compile("Internal note")).click()
    assert "note-mode" in (page.locator(".composer").get_attribute("class") or "")
    assert page.get_by_role("button", name="Send reply").is_hidden()
    page.locator("#composer-body").fill("Payments provider confirms an incident on their side.")
    page.get_by_label("Mention a colleague").select_option(label="Sam Supervisor")
    assert page.locator("#composer-body").input_value().endswith("side. @sam ")
    page.get_by_role("button", name="Add internal note").click()
    page.locator(".msg.note").wait_for()
    page.screenshot(path=str(screenshot_dir / "ticket-desktop.png"), full_page=True)

    # Resolve.
    page.get_by_role("button", name=re.compile("Resolve")).click()
    page.locator(".ticket-sub .status.resolved").wait_for()

    urgent.refresh_from_db()
    assert urgent.status == Status.RESOLVED
    assert urgent.assignee == world.alice
    assert list(urgent.messages.values_list("kind", flat=True)) == [
        MessageKind.CUSTOMER,
        MessageKind.REPLY,
        MessageKind.NOTE,
    ]
    assert Notification.objects.filter(recipient=world.sam, kind=NotificationKind.MENTION).count() == 1
    context.close()


@pytest.mark.django_db(transaction=True)
def test_phone_layout_and_create_ticket(browser, live_server, world, screenshot_dir):
    world.ticket(subject="Refund for a double charge", priority=2)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server, world.alice.email)
    page.goto(f"{live_server.url}/tickets/unassigned/")
    page.locator(".queue-row[data-href]").first.wait_for()
    page.screenshot(path=str(screenshot_dir / "queue-phone.png"), full_page=True)

    page.goto(f"{live_server.url}/tickets/new/")
    page.get_by_label("Find an existing customer").fill("carol")
    page.get_by_role("radio").first.check()
    page.get_by_label("Subject").fill("Called about an invoice")
    page.get_by_label("Description", exact=True).fill("Wants a copy of the March invoice.")
    page.get_by_label("Call duration").fill("4:05")
    page.screenshot(path=str(screenshot_dir / "create-phone.png"), full_page=True)
    page.get_by_role("button", name="Create ticket").click()
    page.wait_for_url(re.compile(r".*/tickets/\d+/$"))
    page.screenshot(path=str(screenshot_dir / "ticket-phone.png"), full_page=True)
    ticket = Ticket.objects.get(subject="Called about an invoice")
    assert ticket.requester == world.carol
    assert ticket.call_duration_seconds == 245
    context.close()
