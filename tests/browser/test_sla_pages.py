"""The SLA screens in a real browser: an admin sets up a calendar, a policy and the vision;
an agent reads them on "Service vision & SLA". Screenshots at 1440×900 and 390×844."""

from __future__ import annotations

import re

import pytest

from relaydesk.sla.models import BusinessCalendarConfig, SLAPolicy
from tests.browser.test_agent_flow import sign_in

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1440, "height": 900}
PHONE = {"width": 390, "height": 844}


def shoot(page, screenshot_dir, name: str) -> None:
    page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_admin_sets_up_the_sla_and_an_agent_reads_it(browser, live_server, world, screenshot_dir):
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    sign_in(page, live_server, world.ada.email)

    # Nothing set up yet: the page says what to fill in.
    page.goto(f"{live_server.url}/sla/")
    page.get_by_role("link", name="Write the service vision").wait_for()
    shoot(page, screenshot_dir, "sla-vision-empty-desktop")
    page.goto(f"{live_server.url}/sla/admin/policies/")
    page.get_by_text("No SLA policies yet").wait_for()
    shoot(page, screenshot_dir, "sla-policies-empty-desktop")

    # A business calendar, typed like a person would, with the live preview.
    page.goto(f"{live_server.url}/sla/admin/calendars/")
    page.get_by_role("link", name="New calendar").first.click()
    page.get_by_label("Name", exact=True).fill("New York office")
    page.get_by_label("Time zone", exact=True).select_option("America/New_York")
    page.get_by_label("Friday", exact=True).fill("09:00-12:00, 13:00-15:00")
    page.get_by_label("Saturday", exact=True).fill("10-14")
    page.get_by_label("Every year", exact=True).fill("01-01\n12-25")
    page.locator("#calendar-preview").get_by_text("10:00–14:00").wait_for()  # htmx preview while typing
    page.get_by_label("Americas", exact=True).check()
    shoot(page, screenshot_dir, "sla-calendar-form-desktop")
    page.get_by_role("button", name="Create calendar").click()
    page.wait_for_url("**/sla/admin/calendars/")
    page.get_by_text("Mon–Thu 09:00–17:00").wait_for()
    shoot(page, screenshot_dir, "sla-calendars-desktop")
    calendar = BusinessCalendarConfig.objects.get(name="New York office")
    assert calendar.weekly_hours["4"] == [["09:00", "12:00"], ["13:00", "15:00"]]
    assert list(calendar.teams.values_list("name", flat=True)) == ["Americas"]

    # The team form shows it, with where the team escalates to.
    page.goto(f"{live_server.url}/admin/teams/{world.americas.pk}/")
    assert page.get_by_label("Business calendar", exact=True).input_value() == str(calendar.pk)
    page.get_by_label("Escalates to", exact=True).select_option(label="EMEA")
    shoot(page, screenshot_dir, "sla-team-form-desktop")
    page.get_by_role("button", name="Save team").click()
    page.wait_for_url("**/admin/teams/")
    world.americas.refresh_from_db()
    assert (world.americas.calendar, world.americas.escalation_team) == (calendar, world.emea)

    # A typo is shown next to its day, and nothing is saved.
    page.goto(f"{live_server.url}/sla/admin/calendars/")
    page.get_by_role("link", name="New York office").click()
    page.get_by_label("Tuesday", exact=True).fill("25:00-26:00")
    page.get_by_role("button", name="Save calendar").click()
    page.get_by_text("25:00 is not a time such as 09:00.").first.wait_for()
    shoot(page, screenshot_dir, "sla-calendar-error-desktop")

    # Two rows of the SLA table; the new one goes last, then moves up.
    for name, priority, first in (
        ("Everything else", None, "4h"),
        ("Urgent outage", "P1 · Urgent outage", "1h"),
    ):
        page.goto(f"{live_server.url}/sla/admin/policies/new/")
        page.get_by_label("Name", exact=True).fill(name)
        if priority:
            page.get_by_label("Priority", exact=True).select_option(label=priority)
        page.get_by_label("First response", exact=True).fill(first)
        page.get_by_label("Resolution", exact=True).fill("2d" if priority else "40h")
        page.get_by_label("Business calendar", exact=True).select_option(label="New York office")
        if name == "Urgent outage":
            shoot(page, screenshot_dir, "sla-policy-form-desktop")
        page.get_by_role("button", name="Add to the table").click()
        page.wait_for_url(re.compile(r".*/sla/admin/policies/#policy-\d+$"))
    rows = page.locator(".policy-table tbody tr")
    assert "Everything else" in rows.nth(0).inner_text()
    page.get_by_role("button", name="Move Urgent outage up").click()
    page.locator(".policy-table tbody tr").first.filter(has_text="Urgent outage").wait_for()
    assert page.evaluate("document.activeElement.id").endswith("-up")  # focus stays on the button
    assert list(SLAPolicy.objects.order_by("position").values_list("name", flat=True)) == [
        "Urgent outage",
        "Everything else",
    ]
    page.get_by_label("Priority", exact=True).select_option(label="P1 · Urgent outage")
    page.locator("#policy-test-result").get_by_text("Row 1, “Urgent outage”, applies.").wait_for()
    shoot(page, screenshot_dir, "sla-policies-desktop")

    # The vision, in the admin's words.
    page.goto(f"{live_server.url}/sla/admin/vision/")
    page.get_by_label("Service vision", exact=True).fill(
        "Every customer leaves with a fix or a clear next step."
    )
    page.get_by_label("Brand tone", exact=True).fill("Warm, plain words, first names.")
    page.get_by_label("Email", exact=True).check()
    page.get_by_label("Chat", exact=True).check()
    page.get_by_label("Languages we support", exact=True).fill("en, de")
    page.get_by_label("Hours and time zones", exact=True).fill("Weekdays 09:00–17:00 New York.")
    shoot(page, screenshot_dir, "sla-vision-edit-desktop")
    page.get_by_role("button", name="Save vision").click()
    page.wait_for_url("**/sla/")
    context.close()

    # An agent reads it all, on a laptop and on a phone.
    for viewport, suffix in ((DESKTOP, "desktop"), (PHONE, "phone")):
        context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE)
        page = context.new_page()
        sign_in(page, live_server, world.alice.email)
        page.goto(f"{live_server.url}/sla/")
        page.get_by_role("heading", name="Service vision & SLA").wait_for()
        text = page.locator("main").inner_text()
        assert "Every customer leaves with a fix or a clear next step." in text
        assert "First reply within 1 business hour (Mon–Thu 09:00–17:00" in text
        assert "Resolved within 2 days" not in text  # business time is said in business hours
        assert "Resolved within 48 business hours" in text
        assert "New York office" in text
        assert "English (en)" in text
        assert page.get_by_role("link", name="Edit vision").count() == 0
        shoot(page, screenshot_dir, f"sla-vision-{suffix}")
        if viewport is PHONE:
            assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        context.close()

    # Dark theme (prefers-color-scheme): the same page stays readable.
    context = browser.new_context(viewport=DESKTOP, color_scheme="dark")
    page = context.new_page()
    sign_in(page, live_server, world.ada.email)
    page.goto(f"{live_server.url}/sla/admin/policies/")
    shoot(page, screenshot_dir, "sla-policies-dark-desktop")
    context.close()

    # The admin screens on a phone.
    context = browser.new_context(viewport=PHONE, is_mobile=True)
    page = context.new_page()
    sign_in(page, live_server, world.ada.email)
    for path, name in (
        ("/sla/admin/policies/", "sla-policies-phone"),
        (f"/sla/admin/calendars/{calendar.pk}/", "sla-calendar-form-phone"),
        ("/sla/admin/calendars/", "sla-calendars-phone"),
    ):
        page.goto(f"{live_server.url}{path}")
        shoot(page, screenshot_dir, name)
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    context.close()
