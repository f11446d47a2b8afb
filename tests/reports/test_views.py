"""The SLA attainment screen: figures, definitions, CSV, presets, permissions, bad input, query budget."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from typing import Any

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from relaydesk.accounts.models import Team
from relaydesk.reports import queries
from relaydesk.reports.forms import ReportPeriod
from relaydesk.reports.templatetags.report_format import human_duration, percent_text
from relaydesk.reports.views import sla_attainment as sla_attainment_view
from tests.conftest import World
from tests.reports.conftest import NOW, RANGE, Week
from tests.sla.conftest import ny

pytestmark = pytest.mark.django_db

URL = "/reports/sla/"
H = timedelta(hours=1)
M = timedelta(minutes=1)


def get(client: Client, params: dict[str, str] | None = None, **extra: str) -> Any:
    with time_machine.travel(NOW, tick=False):
        return client.get(URL, {**(params if params is not None else RANGE), **extra})


def chart_data(content: str) -> Any:
    found = re.search(r'<script id="attainment-chart-data" type="application/json">(.*?)</script>', content)
    assert found is not None
    return json.loads(found.group(1))


def test_url_name() -> None:
    assert reverse("reports:sla_attainment") == URL


def test_page_shows_totals_table_chart_and_definitions(client: Client, world: World, week: Week) -> None:
    client.force_login(world.sam)
    response = get(client, group="team")
    assert response.status_code == 200
    context = response.context
    assert context["nav_active"] == "reports_sla"
    assert [row.label for row in context["report"].rows] == ["Americas", "EMEA"]
    content = response.content.decode()
    tiles = re.findall(r'<span class="kpi-value">(.*?)</span>', content)
    assert tiles == ["75 %", "100 %", "2", "45 m", "7 h"]
    assert "45 m in calendar time" in content
    assert "23 h in calendar time" in content
    # Table: met share with counts, medians with p90, humanly.
    assert '<span class="met-value">66.6 %</span><span class="sub">2/3</span>' in content
    # EMEA resolution: median and p90 3 h 30 m both ways; Americas resolution p90 9 h / 66 h.
    assert '<td class="num"><span>3 h 30 m</span><span class="sub">3 h 30 m</span></td>' in content
    assert '<td class="num"><span>9 h</span><span class="sub">2 d 18 h</span></td>' in content
    # The definitions are next to the figures.
    assert (
        "The first public reply came within the policy's first-response target, counted in business "
        "hours of the policy's calendar, excluding time paused in pending statuses."
    ) in content
    assert "Pending time is not subtracted" in content
    assert "grouped by the ticket&#x27;s current team" in content
    assert chart_data(content) == {
        "type": "attainment",
        "labels": ["Americas", "EMEA"],
        "axis": "Met %",
        "series": [
            {
                "label": "First response met",
                "color": "--chart-first-response",
                "data": [66.6, 100.0],
                "counts": [[2, 3], [1, 1]],
            },
            {
                "label": "Resolution met",
                "color": "--chart-resolution",
                "data": [100.0, 100.0],
                "counts": [[4, 4], [1, 1]],
            },
        ],
        "of": "%(met)s of %(total)s",
    }
    assert "chart-4.6.1.umd.min.js" in content
    assert "relaydesk/js/charts.js" in content
    assert (
        'href="?from=2025-06-02&amp;to=2025-06-03&amp;tz=America%2FNew_York&amp;group=team&amp;format=csv"'
        in content
    )


def test_a_chart_of_many_groups_keeps_the_biggest(
    client: Client, world: World, week: Week, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sla_attainment_view, "CHART_MAX_GROUPS", 1)
    client.force_login(world.sam)
    content = get(client, group="agent").content.decode()
    assert chart_data(content)["labels"] == ["Alice Agent"]  # 7 stopped clocks; Bob 2; Unassigned none
    assert "The 1 group with the most stopped clocks; 1 more in the table." in content
    assert content.count('<th scope="row" class="group-name">') == 4  # every group and "All"


def test_groups_with_only_open_breaches_have_no_chart(client: Client, world: World, week: Week) -> None:
    client.force_login(world.sam)
    content = get(
        client, {"from": "2025-06-05", "to": "2025-06-05", "tz": "America/New_York"}
    ).content.decode()
    assert "attainment-chart-data" not in content
    assert "No clock stopped in this range; the table below shows the open breaches." in content
    tiles = re.findall(r'<span class="kpi-value">(.*?)</span>', content)
    assert tiles == ["—", "—", "2", "—", "—"]


def test_each_grouping_renders(client: Client, world: World, week: Week) -> None:
    client.force_login(world.sam)
    expected = {
        "policy": ["Chat", "Standard", "Urgent"],
        "channel": ["Chat", "Email"],
        "priority": ["P1", "P3"],
        "team": ["Americas", "EMEA"],
        "agent": ["Alice Agent", "Bob Berger", "Unassigned"],
    }
    for group, labels in expected.items():
        response = get(client, group=group)
        assert response.status_code == 200
        assert [row.label for row in response.context["report"].rows] == labels


CSV = (
    "group,tickets,first_response_met,first_response_total,first_response_met_percent,"
    "first_response_open_breached,first_response_times_counted,first_response_median_business_seconds,"
    "first_response_p90_business_seconds,first_response_median_calendar_seconds,"
    "first_response_p90_calendar_seconds,resolution_met,resolution_total,resolution_met_percent,"
    "resolution_open_breached,resolution_times_counted,resolution_median_business_seconds,"
    "resolution_p90_business_seconds,resolution_median_calendar_seconds,resolution_p90_calendar_seconds\r\n"
    "Americas,4,2,3,66.6,0,3,3600,7200,3600,7200,4,4,100.0,0,4,25200,32400,86400,237600\r\n"
    "EMEA,1,1,1,100.0,1,1,600,600,600,600,1,1,100.0,1,1,12600,12600,12600,12600\r\n"
    "All,5,3,4,75.0,1,4,2700,7200,2700,7200,5,5,100.0,1,5,25200,32400,82800,237600\r\n"
)


def test_csv_download_is_exact(client: Client, world: World, week: Week) -> None:
    client.force_login(world.sam)
    response = get(client, group="team", format="csv")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"]
        == 'attachment; filename="sla-attainment-20250602-20250603-by-team.csv"'
    )
    assert response.content.decode() == CSV


def test_csv_keeps_names_from_running_as_formulas(client: Client, world: World, week: Week) -> None:
    Team.objects.filter(pk=world.emea.pk).update(name='=HYPERLINK("http://evil.example","x")')
    client.force_login(world.sam)
    lines = get(client, group="team", format="csv").content.decode().splitlines()
    assert lines[1].startswith('"\'=HYPERLINK(""http://evil.example"",""x"")",1,')


def test_csv_of_an_agent_is_scoped_too(client: Client, world: World, week: Week) -> None:
    client.force_login(world.bob)
    lines = get(client, group="team", format="csv").content.decode().splitlines()
    assert [line.split(",")[0] for line in lines[1:]] == ["EMEA", "All"]


def test_presets_and_the_default_range_use_the_viewers_time_zone(
    client: Client, world: World, week: Week
) -> None:
    client.force_login(world.alice)  # New York
    cases = {
        "": (date(2025, 5, 6), date(2025, 6, 4)),  # last 30 days, today included
        "last_7_days": (date(2025, 5, 29), date(2025, 6, 4)),
        "last_30_days": (date(2025, 5, 6), date(2025, 6, 4)),
        "this_month": (date(2025, 6, 1), date(2025, 6, 4)),
    }
    for preset, (first, last) in cases.items():
        response = get(client, {"range": preset} if preset else {})
        period: ReportPeriod = response.context["period"]
        assert (period.first, period.last, period.zone.key) == (first, last, "America/New_York")
        if preset == "this_month":
            assert (period.start, period.end) == (ny(1, 0), ny(5, 0))
    # Wednesday 4 June 12:00 in New York is already Thursday in Tokyo.
    response = get(client, {"range": "last_7_days", "tz": "Asia/Tokyo"})
    assert response.context["period"].last == date(2025, 6, 5)
    content = response.content.decode()
    assert '<a href="?range=last_7_days&amp;tz=Asia%2FTokyo" aria-current="page">Last 7 days</a>' in content


def test_typed_dates_win_over_a_preset(client: Client, world: World, week: Week) -> None:
    client.force_login(world.sam)
    response = get(client, {**RANGE, "range": "this_month"})
    period = response.context["period"]
    assert (period.first, period.last, period.preset) == (date(2025, 6, 2), date(2025, 6, 3), "")


def test_empty_state(client: Client, world: World) -> None:
    client.force_login(world.sam)
    response = get(client)
    assert response.status_code == 200
    content = response.content.decode()
    assert "No SLA clocks stopped in this range" in content
    assert "Download CSV" not in content
    assert "attainment-chart" not in content


def test_capped_times_are_announced(
    client: Client, world: World, week: Week, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "KPI_TICKET_CAP", 2)
    client.force_login(world.sam)
    content = get(client).content.decode()
    assert "Times (medians and p90) are computed from the newest 2 of the 5 tickets" in content


# --- permissions ----------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in(client: Client, world: World, week: Week) -> None:
    response = get(client)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    csv = get(client, format="csv")
    assert csv.status_code == 302


def test_agents_see_their_own_teams_only(client: Client, world: World, week: Week) -> None:
    client.force_login(world.alice)
    response = get(client, group="agent")
    assert response.status_code == 200
    report = response.context["report"]
    assert [row.label for row in report.rows] == ["Alice Agent"]
    assert "Bob Berger" not in response.content.decode()
    assert report.total.tickets == 4


def test_a_deactivated_person_is_signed_out(client: Client, world: World, week: Week) -> None:
    client.force_login(world.sam)
    world.sam.is_active = False
    world.sam.save()
    assert get(client).status_code == 302


def test_only_get(client: Client, world: World) -> None:
    client.force_login(world.sam)
    assert client.post(URL, RANGE).status_code == 405


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"from": "yesterday", "to": "2025-06-03"}, "Enter a date as YYYY-MM-DD."),
        ({"from": "2025-06-01", "to": "2025-02-30"}, "Enter a date as YYYY-MM-DD."),
        (
            {"from": "2025-06-10", "to": "2025-06-01"},
            "The start date (2025-06-10) is after the end date (2025-06-01).",
        ),
        ({"from": "2025-06-01"}, "Give both a start and an end date, or choose a preset."),
        ({"from": "0001-01-01", "to": "2025-06-01"}, "Choose a date between 1970 and 9998."),
        ({"from": "2025-06-01", "to": "9999-12-31"}, "Choose a date between 1970 and 9998."),
        ({"from": "2025-06-01\x00", "to": "2025-06-03"}, "Enter a date as YYYY-MM-DD."),
        ({"group": "customer"}, "Group by policy, channel, priority, team or agent."),
        ({"group": "team\x00"}, "Group by policy, channel, priority, team or agent."),
        ({"tz": "Mars/Olympus_Mons"}, "Choose a time zone from the list, such as Europe/Berlin."),
        ({"tz": "../../../etc/passwd"}, "Choose a time zone from the list, such as Europe/Berlin."),
        ({"tz": "localtime"}, "Choose a time zone from the list, such as Europe/Berlin."),
        ({"range": "yesterday"}, "Choose last 7 days, last 30 days or this month."),
        ({"format": "xlsx"}, "The report can be shown as a web page or downloaded as CSV."),
    ],
)
def test_bad_query_strings_get_a_clear_message_and_400(
    client: Client, world: World, week: Week, params: dict[str, str], message: str
) -> None:
    client.force_login(world.sam)
    response = get(client, params)
    assert response.status_code == 400
    content = response.content.decode()
    assert message.replace("'", "&#x27;") in content
    assert "The report could not be made" in content
    assert response.context["report"] is None
    assert "\x00" not in content
    if "format" not in params:
        csv = get(client, {**params, "format": "csv"})
        assert csv.status_code == 400
        assert csv["Content-Type"] == "text/plain; charset=utf-8"
        assert message in csv.content.decode()


def test_a_refused_date_is_shown_as_typed_and_marked(client: Client, world: World) -> None:
    client.force_login(world.sam)
    content = get(client, {"from": "2025-13-01", "to": "2025-06-03"}).content.decode()
    assert 'value="2025-13-01" aria-invalid="true" aria-describedby="report-from-error"' in content


# --- speed ------------------------------------------------------------------------------------


def test_query_budget_does_not_grow_with_tickets(
    client: Client, world: World, week: Week, django_assert_max_num_queries: object
) -> None:
    """Session, user, five report queries, five for the workspace chrome (bell, two queue counts,
    teams, saved views), plus the agent's own teams for an agent; none of it grows with tickets."""
    client.force_login(world.sam)
    get(client)  # warm caches (content types, calendars)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert get(client, group="agent").status_code == 200
    for hour in range(10, 16):
        with time_machine.travel(ny(3, hour), tick=False):
            world.ticket(subject=f"More {hour}", priority=1)
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert get(client, group="agent").status_code == 200
    client.force_login(world.alice)
    with django_assert_max_num_queries(13):  # type: ignore[operator]
        assert get(client, group="team").status_code == 200
    with django_assert_max_num_queries(7):  # type: ignore[operator]
        assert get(client, group="team", format="csv").status_code == 200


# --- formatting -------------------------------------------------------------------------------


def test_durations_read_humanly_and_are_truncated() -> None:
    assert human_duration(None) == "—"
    assert human_duration("") == "—"  # what a template passes for a missing value
    assert human_duration(timedelta(seconds=42)) == "42 s"
    assert human_duration(59 * M + timedelta(seconds=59)) == "59 m"
    assert human_duration(80 * M) == "1 h 20 m"
    assert human_duration(2 * H) == "2 h"
    assert human_duration(40 * H) == "40 h"
    assert human_duration(47 * H + 59 * M) == "47 h 59 m"
    assert human_duration(66 * H) == "2 d 18 h"
    assert human_duration(72 * H + 30 * M) == "3 d"


def test_percentages_never_round_up_to_a_promise_kept() -> None:
    assert percent_text(1999, 2000) == "99.9 %"
    assert percent_text(2, 3) == "66.6 %"
    assert percent_text(3, 4) == "75 %"
    assert percent_text(0, 5) == "0 %"
    assert percent_text(5, 5) == "100 %"
    assert percent_text(0, 0) == "—"
