"""SLA attainment per group over real tickets (see the week in conftest.py for what happened)."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine

from relaydesk.reports.kpis import ticket_times
from relaydesk.reports.queries import AttainmentReport, AttainmentRow, TimeFigures, sla_attainment
from relaydesk.reports.queries import _facts_by_ticket as facts_by_ticket
from relaydesk.sla.actions import facts_from_events, policy_for
from relaydesk.sla.engine import BusinessCalendar
from relaydesk.sla.models import SLAClock
from relaydesk.tickets.actions import check_add_message, check_change_ticket, do_add_customer_message
from relaydesk.tickets.models import MessageKind, Ticket, TicketEvent
from tests.conftest import World
from tests.reports.conftest import NOW, Week
from tests.sla.conftest import ny

pytestmark = pytest.mark.django_db

H = timedelta(hours=1)
M = timedelta(minutes=1)
ALWAYS = BusinessCalendar.always_open()


def report(
    world: World, group_by: str, user: object = None, now: datetime = NOW, **kwargs: object
) -> AttainmentReport:
    """The report for Monday 2 and Tuesday 3 June in New York, read on Wednesday at noon."""
    return sla_attainment(
        user or world.sam,  # type: ignore[arg-type]
        start=ny(2, 0),
        end=ny(4, 0),
        group_by=group_by,
        now=now,
        **kwargs,  # type: ignore[arg-type]
    )


def counts(row: AttainmentRow) -> tuple[str, int, int, int, int, int, int, int]:
    """(label, tickets, FR met, FR n, resolution met, resolution n, FR open breached, res. open breached)"""
    return (
        row.label,
        row.tickets,
        row.first_response_met,
        row.first_response_total,
        row.resolution_met,
        row.resolution_total,
        row.first_response_open_breached,
        row.resolution_open_breached,
    )


def table(result: AttainmentReport) -> list[tuple[str, int, int, int, int, int, int, int]]:
    return [counts(row) for row in [*result.rows, result.total]]


ALL = ("All", 5, 3, 4, 5, 5, 1, 1)


def test_by_team(world: World, week: Week) -> None:
    result = report(world, "team")
    assert table(result) == [
        # a1, a2, a3 and "before" (its first response was in May: only its resolution counts).
        ("Americas", 4, 2, 3, 4, 4, 0, 0),
        # e1 stopped both clocks; e2 is open and past both targets.
        ("EMEA", 1, 1, 1, 1, 1, 1, 1),
        ALL,
    ]
    americas, emea = result.rows
    # FRT: a1 1 h, a2 2 h, a3 30 m (all within Monday's opening hours).
    assert americas.first_response_time == TimeFigures(3, 1 * H, 2 * H, 1 * H, 2 * H)
    # Resolution, business: before 2 h, a2 7 h, a3 7 h (Mon 13–17 + Tue 09–12), a1 9 h.
    # Calendar: a2 7 h, a3 23 h, a1 25 h, before 66 h (Friday 16:00 to Monday 10:00).
    assert americas.resolution_time == TimeFigures(4, 7 * H, 9 * H, 24 * H, 66 * H)
    assert emea.first_response_time == TimeFigures(1, 10 * M, 10 * M, 10 * M, 10 * M)
    assert emea.resolution_time == TimeFigures(1, 210 * M, 210 * M, 210 * M, 210 * M)
    assert result.total.first_response_time == TimeFigures(4, 45 * M, 2 * H, 45 * M, 2 * H)
    assert result.total.resolution_time == TimeFigures(5, 7 * H, 9 * H, 23 * H, 66 * H)
    assert (result.timed_tickets, result.capped) == (5, False)


def test_by_agent_counts_the_current_assignee_and_shows_unassigned_breaches(world: World, week: Week) -> None:
    assert table(report(world, "agent")) == [
        ("Alice Agent", 4, 2, 3, 4, 4, 0, 0),
        ("Bob Berger", 1, 1, 1, 1, 1, 0, 0),
        ("Unassigned", 0, 0, 0, 0, 0, 1, 1),  # e2: nobody answered it
        ALL,
    ]


def test_by_policy(world: World, week: Week) -> None:
    result = report(world, "policy")
    assert table(result) == [
        ("Chat", 1, 1, 1, 1, 1, 0, 0),
        ("Standard", 3, 2, 2, 3, 3, 1, 1),  # a1, a3, before; e2 open
        ("Urgent", 1, 0, 1, 1, 1, 0, 0),  # a2 answered after 2 h of a 1 h target
        ALL,
    ]
    _chat, standard, urgent = result.rows
    assert urgent.first_response_time == TimeFigures(1, 2 * H, 2 * H, 2 * H, 2 * H)
    # Standard resolutions: before 2 h / 66 h, a3 7 h / 23 h, a1 9 h / 25 h.
    assert standard.resolution_time == TimeFigures(3, 7 * H, 9 * H, 25 * H, 66 * H)


def test_by_channel(world: World, week: Week) -> None:
    assert table(report(world, "channel")) == [
        ("Chat", 1, 1, 1, 1, 1, 0, 0),
        ("Email", 4, 2, 3, 4, 4, 1, 1),
        ALL,
    ]


def test_by_priority(world: World, week: Week) -> None:
    result = report(world, "priority")
    assert table(result) == [
        ("P1", 1, 0, 1, 1, 1, 0, 0),
        ("P3", 4, 3, 3, 4, 4, 1, 1),
        ALL,
    ]
    # P3 first responses: e1 10 m, a3 30 m, a1 1 h.
    assert result.rows[1].first_response_time == TimeFigures(3, 30 * M, 1 * H, 30 * M, 1 * H)


def test_the_range_is_read_in_the_chosen_time_zone(world: World, week: Week) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    # Monday 2 June in Berlin ends at 18:00 in New York: e1 (20:00–23:30 New York) falls out,
    # and so do a1's and a3's Tuesday resolutions.
    result = sla_attainment(
        world.sam,
        start=datetime(2025, 6, 2, tzinfo=berlin),
        end=datetime(2025, 6, 3, tzinfo=berlin),
        group_by="team",
        now=NOW,
    )
    assert table(result) == [
        ("Americas", 4, 2, 3, 2, 2, 0, 0),  # FR a1, a2, a3; resolution a2 and before
        ("EMEA", 0, 0, 0, 0, 0, 1, 1),
        ("All", 4, 2, 3, 2, 2, 1, 1),
    ]


def test_a_reopened_ticket_counts_once_when_resolved_for_good(world: World, week: Week) -> None:
    clock = SLAClock.objects.get(ticket=week.a3, kind="resolution")
    assert clock.stopped_at == ny(3, 12)
    assert clock.elapsed == 4 * H  # the SLA clock skipped the night it sat resolved
    only_monday = sla_attainment(world.sam, start=ny(2, 0), end=ny(3, 0), group_by="team", now=NOW)
    americas = only_monday.rows[0]
    assert (americas.resolution_met, americas.resolution_total) == (2, 2)  # a2 and before; not a3


def test_agents_see_only_their_teams(world: World, week: Week) -> None:
    assert table(report(world, "team", user=world.alice)) == [
        ("Americas", 4, 2, 3, 4, 4, 0, 0),
        ("All", 4, 2, 3, 4, 4, 0, 0),
    ]
    assert table(report(world, "team", user=world.bob)) == [
        ("EMEA", 1, 1, 1, 1, 1, 1, 1),
        ("All", 1, 1, 1, 1, 1, 1, 1),
    ]
    world.bob.is_active = False
    assert report(world, "team", user=world.bob).is_empty


def test_open_breaches_are_as_of_now_whatever_the_range(world: World, week: Week) -> None:
    friday = sla_attainment(
        world.sam,
        start=ny(2, 0) - timedelta(days=3),
        end=ny(2, 0) - timedelta(days=2),
        group_by="team",
        now=NOW,
    )
    assert table(friday) == [
        ("Americas", 1, 1, 1, 0, 0, 0, 0),  # "before" was answered on Friday 30 May
        ("EMEA", 0, 0, 0, 0, 0, 1, 1),  # e2, created on the Monday after, is breached now
        ("All", 1, 1, 1, 0, 0, 1, 1),
    ]
    # Monday 13:01: e2's first response (due 13:00) has breached, its resolution (Wednesday 01:00) not.
    assert [counts(r)[-2:] for r in report(world, "team", now=ny(2, 13, 1)).rows] == [(0, 0), (1, 0)]
    assert [counts(r)[-2:] for r in report(world, "team", now=ny(2, 13)).rows] == [(0, 0), (0, 0)]


def test_a_paused_clock_past_its_target_is_an_open_breach(world: World, week: Week) -> None:
    with time_machine.travel(ny(4, 12, 30), tick=False):
        check_change_ticket(
            world.bob, week.e2.pk, expected_version=None, assignee=world.bob, status="pending_customer"
        )
    paused = SLAClock.objects.get(ticket=week.e2, kind="first_response")
    assert paused.running_since is None
    assert paused.elapsed > paused.target
    result = report(world, "agent", now=ny(4, 13))
    assert counts(result.rows[1]) == ("Bob Berger", 1, 1, 1, 1, 1, 1, 1)


def test_times_are_capped_to_the_newest_tickets_and_say_so(world: World, week: Week) -> None:
    result = report(world, "team", ticket_cap=2)
    assert (result.timed_tickets, result.capped) == (2, True)
    assert table(result) == table(report(world, "team"))  # the met % is never capped
    # The two newest tickets with a stopped clock are a3 and e1.
    americas, emea = result.rows
    assert americas.first_response_time == TimeFigures(1, 30 * M, 30 * M, 30 * M, 30 * M)
    assert emea.first_response_time == TimeFigures(1, 10 * M, 10 * M, 10 * M, 10 * M)
    assert report(world, "team", ticket_cap=5).capped is False


def test_report_facts_give_the_same_times_as_the_sla_facts(world: World, week: Week) -> None:
    """The report reads four columns of fewer events instead of whole events; the times must not change."""
    with time_machine.travel(ny(3, 9), tick=False):
        winding = world.ticket(subject="Pending, resolved, reopened, closed")
    with time_machine.travel(ny(3, 9, 30), tick=False):
        check_add_message(
            world.alice,
            winding.pk,
            kind=MessageKind.REPLY,
            body_text="Which model?",
            new_status="pending_customer",
        )
    with time_machine.travel(ny(3, 11), tick=False):
        do_add_customer_message(Ticket.objects.get(pk=winding.pk), body_text="Model X")
    for hour, new_status in (
        (12, "pending_internal"),
        (13, "resolved"),
        (14, "in_progress"),
        (15, "resolved"),
    ):
        with time_machine.travel(ny(3, hour), tick=False):
            check_change_ticket(world.alice, winding.pk, expected_version=None, status=new_status)
    with time_machine.travel(ny(3, 16), tick=False):
        check_change_ticket(world.alice, winding.pk, expected_version=None, status="closed")
    assert ticket_times(
        facts_by_ticket(Ticket.objects.filter(pk=winding.pk).values("id"))[winding.pk], ALWAYS
    ) == (
        ticket_times(
            facts_from_events(TicketEvent.objects.filter(ticket=winding).order_by("created_at", "id")), ALWAYS
        )
    )
    tickets = Ticket.objects.all()
    light = facts_by_ticket(Ticket.objects.values("id"))
    for ticket in tickets:
        calendar = policy_for(ticket).targets.calendar  # type: ignore[union-attr]
        full = facts_from_events(TicketEvent.objects.filter(ticket=ticket).order_by("created_at", "id"))
        assert ticket_times(light[ticket.pk], calendar) == ticket_times(full, calendar)


def test_frt_without_pauses_matches_the_first_response_clock(world: World, week: Week) -> None:
    """What the definitions on the page promise, on real tickets: no pauses → KPI = SLA clock."""
    result = report(world, "policy")
    for ticket in (week.a1, week.a2, week.a3, week.e1):
        clock = SLAClock.objects.get(ticket=ticket, kind="first_response")
        row = next(r for r in result.rows if r.key == str(clock.policy_id))
        assert clock.elapsed in [span.business for span in row.first_response_spans]


def test_no_clocks_is_an_empty_report(world: World) -> None:
    result = report(world, "team")
    assert result.is_empty
    assert table(result) == [("All", 0, 0, 0, 0, 0, 0, 0)]
    assert result.total.first_response_time is None
