"""A breached ticket in a browser: flagged red in the queue, first in SLA order, escalated on its page."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from relaydesk.sla.escalation import scan
from relaydesk.tickets.models import Channel, Priority
from tests.browser.test_agent_flow import sign_in

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_breached_ticket_is_flagged_sorted_first_and_escalated(
    browser, live_server, world, sla_table, screenshot_dir
):
    now = timezone.now()
    # The chat policy counts 30 calendar minutes, so these states hold whatever the day.
    with time_machine.travel(now - timedelta(hours=2), tick=False):
        late = world.ticket(subject="Card declined at checkout", channel=Channel.CHAT, assignee=world.alice)
    with time_machine.travel(now - timedelta(minutes=26), tick=False):
        risky = world.ticket(subject="Cannot change my plan", channel=Channel.CHAT, assignee=world.alice)
    with time_machine.travel(now - timedelta(minutes=2), tick=False):
        fresh = world.ticket(subject="Question about invoices", channel=Channel.CHAT, assignee=world.alice)
    world.ticket(subject="Low priority idea", priority=Priority.P4, assignee=world.alice)
    result = scan()
    assert result.breaches == 1  # the chat policy's breach rules: notify assignee and supervisors

    viewports = (({"width": 1440, "height": 900}, "desktop"), ({"width": 390, "height": 844}, "phone"))
    for viewport, suffix in viewports:
        context = browser.new_context(viewport=viewport)
        page = context.new_page()
        sign_in(page, live_server, world.alice.email)
        page.goto(f"{live_server.url}/?sort=sla")
        rows = page.locator(".queue-row[data-href]")
        rows.first.wait_for()
        assert "Card declined" in rows.nth(0).inner_text()
        assert "Cannot change my plan" in rows.nth(1).inner_text()
        breached_chip = rows.nth(0).locator(".sla-chip.breached")
        assert re.search(r"1h 3\dm over", breached_chip.inner_text())
        assert rows.nth(1).locator(".sla-chip.at_risk").is_visible()
        assert rows.nth(2).locator(".sla-chip.ok").is_visible()
        page.screenshot(path=str(screenshot_dir / f"sla-queue-{suffix}.png"), full_page=True)
        context.close()

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, world.alice.email)
    page.goto(f"{live_server.url}/?sla=breached")
    rows = page.locator(".queue-row[data-href]")
    rows.first.wait_for()
    assert rows.count() == 1
    page.get_by_role("link", name="Card declined at checkout").click()
    page.wait_for_url(f"**/tickets/{late.pk}/")
    clock = page.locator('.sla-clock[data-clock="first_response"]')
    assert "breached" in (clock.get_attribute("class") or "")
    assert "overdue by" in clock.inner_text()
    assert page.locator(".timeline").get_by_text(re.compile("SLA first response breached")).is_visible()
    page.screenshot(path=str(screenshot_dir / "sla-ticket-breached-desktop.png"), full_page=True)
    # The bell has the breach notification.
    assert page.locator(".bell").inner_text().strip() != ""
    context.close()
    assert risky.pk != fresh.pk
