"""The SLA attainment report in a real browser: figures, the chart drawn, CSV link; desktop and phone."""

from __future__ import annotations

import pytest

from tests.browser.test_agent_flow import sign_in
from tests.reports.conftest import RANGE, week  # noqa: F401  (fixture)
from tests.sla.conftest import sla_table  # noqa: F401  (fixture)

pytestmark = pytest.mark.browser


@pytest.mark.django_db(transaction=True)
def test_attainment_report_with_data(browser, live_server, world, week, screenshot_dir):  # noqa: F811
    query = "&".join(f"{name}={value}" for name, value in RANGE.items())
    shots = (
        ({"width": 1440, "height": 900}, "light", "desktop"),
        ({"width": 390, "height": 844}, "light", "phone"),
        ({"width": 1440, "height": 900}, "dark", "desktop-dark"),
    )
    for viewport, scheme, suffix in shots:
        context = browser.new_context(viewport=viewport, color_scheme=scheme)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))  # noqa: B023
        sign_in(page, live_server, world.sam.email)
        page.goto(f"{live_server.url}/reports/sla/?{query}&group=policy")
        rows = page.locator(".report-table tbody tr")
        assert rows.count() == 3
        assert rows.nth(2).locator("th").inner_text() == "Urgent"
        assert page.locator(".kpi-value").first.inner_text() == "75 %"
        # Chart.js drew into the canvas (it sizes the canvas to its box when it runs).
        page.wait_for_function("document.getElementById('attainment-chart').width > 0")
        assert page.evaluate("!!window.Chart && Object.keys(Chart.instances).length") == 1
        assert errors == []
        page.screenshot(path=str(screenshot_dir / f"sla-attainment-{suffix}.png"), full_page=True)
        context.close()


@pytest.mark.django_db(transaction=True)
def test_attainment_report_bad_dates_and_empty_state(browser, live_server, world, screenshot_dir):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    sign_in(page, live_server, world.sam.email)
    response = page.goto(f"{live_server.url}/reports/sla/?from=2025-06-10&to=2025-06-01")
    assert response is not None
    assert response.status == 400
    assert "is after the end date" in page.locator(".report-filters").inner_text()
    page.screenshot(path=str(screenshot_dir / "sla-attainment-error.png"), full_page=True)
    page.goto(f"{live_server.url}/reports/sla/")
    assert "No SLA clocks stopped in this range" in page.locator("main").inner_text()
    page.screenshot(path=str(screenshot_dir / "sla-attainment-empty.png"), full_page=True)
    context.close()
