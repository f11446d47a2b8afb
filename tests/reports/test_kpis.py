"""KPI times of one ticket (pure): hand-written cases across a weekend and DST, and properties."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from relaydesk.reports.kpis import Span, TicketTimes, median, percentile, ticket_times
from relaydesk.sla.clocks import ClockKind, Fact, FactKind, Targets, replay
from relaydesk.sla.engine import BusinessCalendar

H = timedelta(hours=1)
M = timedelta(minutes=1)
NEW_YORK = ZoneInfo("America/New_York")
OFFICE = BusinessCalendar("America/New_York", dict.fromkeys(range(5), ((time(9), time(17)),)))
ALWAYS = BusinessCalendar.always_open("America/New_York")


def ny(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2025, month, day, hour, minute, tzinfo=NEW_YORK)


def created(when: datetime) -> Fact:
    return Fact(when, FactKind.CREATED, "new")


def reply(when: datetime) -> Fact:
    return Fact(when, FactKind.AGENT_REPLY)


def customer(when: datetime) -> Fact:
    return Fact(when, FactKind.CUSTOMER_MESSAGE)


def status(when: datetime, new: str) -> Fact:
    return Fact(when, FactKind.STATUS, new)


# --- hand-written cases ---------------------------------------------------------------------


def test_same_day_reply_and_next_day_resolution() -> None:
    # Monday 2 June 09:00 → reply 10:30 → resolved Tuesday 11:00.
    times = ticket_times(
        [
            created(ny(6, 2, 9)),
            customer(ny(6, 2, 9)),
            reply(ny(6, 2, 10, 30)),
            status(ny(6, 3, 11), "resolved"),
        ],
        OFFICE,
    )
    assert times.first_response == Span(calendar=90 * M, business=90 * M)
    # Calendar: 26 h. Business: Monday 09–17 (8 h) + Tuesday 09–11 (2 h).
    assert times.resolution == Span(calendar=26 * H, business=10 * H)
    assert times.first_response_at == ny(6, 2, 10, 30)
    assert times.resolved_at == ny(6, 3, 11)


def test_across_a_weekend_only_opening_hours_count() -> None:
    # Friday 6 June 16:00 → first reply Monday 9 June 10:00.
    times = ticket_times([created(ny(6, 6, 16)), reply(ny(6, 9, 10))], OFFICE)
    assert times.first_response == Span(calendar=66 * H, business=2 * H)  # Fri 16–17 + Mon 09–10
    assert times.resolution is None


def test_across_spring_forward_the_calendar_day_is_23_hours() -> None:
    # Friday 7 March 16:00 EST → Monday 10 March 10:00 EDT: the clocks sprang forward on Sunday.
    facts = [created(ny(3, 7, 16)), reply(ny(3, 10, 10)), status(ny(3, 10, 12), "resolved")]
    office = ticket_times(facts, OFFICE)
    assert office.first_response == Span(calendar=65 * H, business=2 * H)
    assert office.resolution == Span(calendar=67 * H, business=4 * H)
    always = ticket_times(facts, ALWAYS)
    assert always.first_response == Span(calendar=65 * H, business=65 * H)


def test_across_fall_back_the_night_has_an_extra_hour() -> None:
    # Saturday 1 November 12:00 EDT → Sunday 2 November 12:00 EST is 25 real hours.
    night_shift = BusinessCalendar("America/New_York", {6: ((time(0), time(6)),)})  # Sundays 00–06
    facts = [created(ny(11, 1, 12)), reply(ny(11, 2, 12))]
    assert ticket_times(facts, ALWAYS).first_response == Span(calendar=25 * H, business=25 * H)
    # 00:00–06:00 on the fall-back night lasts 7 real hours.
    assert ticket_times(facts, night_shift).first_response == Span(calendar=25 * H, business=7 * H)


def test_no_public_reply_means_no_first_response_time() -> None:
    times = ticket_times(
        [created(ny(6, 2, 9)), customer(ny(6, 2, 11)), status(ny(6, 2, 12), "resolved")], OFFICE
    )
    assert times.first_response is None
    assert times.resolution == Span(calendar=3 * H, business=3 * H)


def test_a_reply_after_an_early_resolution_is_still_the_first_response() -> None:
    facts = [
        created(ny(6, 2, 9)),
        status(ny(6, 2, 9, 30), "resolved"),  # resolved without a word
        status(ny(6, 2, 10), "in_progress"),  # the customer came back
        reply(ny(6, 2, 11)),
        status(ny(6, 2, 12), "resolved"),
    ]
    times = ticket_times(facts, OFFICE)
    assert times.first_response == Span(calendar=2 * H, business=2 * H)
    # The SLA first-response clock stopped at the first resolution, 30 minutes in.
    clock = next(
        c for c in replay(facts, Targets(OFFICE, first_response=4 * H)) if c.kind == "first_response"
    )
    assert clock.elapsed == 30 * M


def test_a_reopen_cancels_the_earlier_resolution() -> None:
    facts = [
        created(ny(6, 2, 9)),
        reply(ny(6, 2, 9, 30)),
        status(ny(6, 2, 10), "resolved"),
        status(ny(6, 3, 9), "in_progress"),  # reopened Tuesday morning
        status(ny(6, 3, 12), "resolved"),
    ]
    times = ticket_times(facts, OFFICE)
    assert times.resolved_at == ny(6, 3, 12)
    assert times.resolution == Span(calendar=27 * H, business=11 * H)
    # The SLA resolution clock skips the night it sat resolved: 1 h Monday + 3 h Tuesday.
    clock = next(c for c in replay(facts, Targets(OFFICE, resolution=40 * H)) if c.kind == "resolution")
    assert clock.elapsed == 4 * H
    # Reopened and still open: no resolution time at all.
    assert ticket_times(facts[:4], OFFICE).resolution is None


def test_closing_a_resolved_ticket_does_not_move_its_resolution() -> None:
    facts = [created(ny(6, 2, 9)), status(ny(6, 2, 10), "resolved"), status(ny(6, 5, 10), "closed")]
    assert ticket_times(facts, OFFICE).resolved_at == ny(6, 2, 10)
    closed_directly = [created(ny(6, 2, 9)), status(ny(6, 2, 15), "closed")]
    assert ticket_times(closed_directly, OFFICE).resolution == Span(calendar=6 * H, business=6 * H)


def test_pending_time_is_not_subtracted_but_the_sla_clock_pauses() -> None:
    facts = [
        created(ny(6, 2, 9)),
        reply(ny(6, 2, 10)),
        status(ny(6, 2, 10), "pending_customer"),
        status(ny(6, 3, 9), "in_progress"),  # the customer answered Tuesday 09:00
        status(ny(6, 3, 10), "resolved"),
    ]
    times = ticket_times(facts, OFFICE)
    assert times.resolution == Span(calendar=25 * H, business=9 * H)
    clock = next(c for c in replay(facts, Targets(OFFICE, resolution=40 * H)) if c.kind == "resolution")
    assert clock.elapsed == 2 * H  # Monday 09–10 and Tuesday 09–10; the pending night is paused


def test_facts_before_creation_and_no_creation_are_ignored() -> None:
    assert ticket_times([reply(ny(6, 2, 9))], OFFICE) == TicketTimes(None, None, None, None, None)
    times = ticket_times([reply(ny(6, 2, 8)), created(ny(6, 2, 9)), reply(ny(6, 2, 9, 5))], OFFICE)
    assert times.first_response == Span(calendar=5 * M, business=5 * M)


def test_median_and_percentile() -> None:
    values = [3 * H, 1 * H, 2 * H, 10 * H]
    assert median(values) == 150 * M  # mean of the two middle values
    assert median([5 * M]) == 5 * M
    assert median([]) is None
    assert percentile(values, 90) == 10 * H  # nearest rank: the 4th of 4
    assert percentile(values, 50) == 2 * H
    assert percentile([1 * H] * 9 + [9 * H], 90) == 1 * H  # 9 of 10 at most 1 h
    assert percentile([], 90) is None
    with pytest.raises(ValueError, match="percent"):
        percentile(values, 0)


# --- properties -------------------------------------------------------------------------------

CALENDARS = [
    OFFICE,
    ALWAYS,
    BusinessCalendar("Europe/Berlin", {d: ((time(22), time(6)),) for d in range(5)}),  # nights
    BusinessCalendar("Australia/Adelaide", {0: ((time(1), time(4)),), 6: ((time(1), time(4)),)}),
]
STEPS = ["customer", "reply", "in_progress", "pending_internal", "pending_customer", "resolved", "closed"]
# Around the 2025 transitions in New York (9 March, 2 November) and Adelaide (6 April, 5 October).
STARTS = st.sampled_from(
    [
        datetime(2025, 3, 7, 20, tzinfo=UTC),
        datetime(2025, 4, 4, 10, tzinfo=UTC),
        datetime(2025, 10, 31, 22, tzinfo=UTC),
    ]
)


def step_lists(
    choices: list[str], min_size: int = 0, max_size: int = 10
) -> st.SearchStrategy[list[tuple[int, str]]]:
    """(minutes after the previous step, step) pairs; steps are STEPS names."""
    return st.lists(
        st.tuples(st.integers(min_value=0, max_value=36 * 60), st.sampled_from(choices)),
        min_size=min_size,
        max_size=max_size,
    )


# Anything at all, pauses and reopens included.
steps = step_lists(STEPS, min_size=1, max_size=20)
# Steps that neither pause (default pause status: pending_customer) nor stop any clock.
QUIET = ["customer", "in_progress", "pending_internal"]
# Up to the first reply nothing pauses or resolves; anything after it.
answered_without_pause = st.builds(
    lambda before, after: [*before, (after[0], "reply"), *after[1]],
    step_lists(QUIET),
    st.tuples(st.integers(min_value=0, max_value=36 * 60), step_lists(STEPS)),
)
# Never paused, resolved or closed once and for good (replies and messages may follow).
resolved_once_without_pause = st.builds(
    lambda before, closing, after: [*before, closing, *after],
    step_lists([*QUIET, "reply"]),
    st.tuples(st.integers(min_value=0, max_value=36 * 60), st.sampled_from(["resolved", "closed"])),
    step_lists(["customer", "reply", "resolved", "closed"]),
)


def build(start: datetime, drawn: list[tuple[int, str]]) -> list[Fact]:
    when = start
    facts = [created(when)]
    for minutes, step in drawn:
        when += timedelta(minutes=minutes)
        if step == "customer":
            facts.append(customer(when))
        elif step == "reply":
            facts.append(reply(when))
        else:
            facts.append(status(when, step))
    return facts


PROPS = settings(max_examples=300, deadline=None)


@PROPS
@given(start=STARTS, drawn=steps, calendar=st.sampled_from(CALENDARS))
def test_business_time_is_never_more_than_calendar_time(
    start: datetime, drawn: list[tuple[int, str]], calendar: BusinessCalendar
) -> None:
    times = ticket_times(build(start, drawn), calendar)
    for span in (times.first_response, times.resolution):
        if span is not None:
            assert timedelta(0) <= span.business <= span.calendar
    if calendar is ALWAYS:
        for span in (times.first_response, times.resolution):
            assert span is None or span.business == span.calendar


@PROPS
@given(start=STARTS, drawn=answered_without_pause, calendar=st.sampled_from(CALENDARS))
def test_without_pauses_frt_in_business_time_is_the_sla_first_response_clock(
    start: datetime, drawn: list[tuple[int, str]], calendar: BusinessCalendar
) -> None:
    """The figure in the report and the SLA clock agree, as the definitions shown say."""
    facts = build(start, drawn)
    targets = Targets(calendar, first_response=4 * H, resolution=40 * H)
    times = ticket_times(facts, calendar)
    clock = next(c for c in replay(facts, targets) if c.kind == ClockKind.FIRST_RESPONSE)
    assert times.first_response is not None
    assert times.first_response.business == clock.elapsed
    assert clock.stopped_at == times.first_response_at
    in_calendar_time = next(
        c for c in replay(facts, Targets(ALWAYS, first_response=4 * H)) if c.kind == "first_response"
    )
    assert times.first_response.calendar == in_calendar_time.elapsed


@PROPS
@given(start=STARTS, drawn=resolved_once_without_pause, calendar=st.sampled_from(CALENDARS))
def test_without_pauses_or_reopens_resolution_time_is_the_sla_resolution_clock(
    start: datetime, drawn: list[tuple[int, str]], calendar: BusinessCalendar
) -> None:
    facts = build(start, drawn)
    targets = Targets(calendar, resolution=40 * H)
    times = ticket_times(facts, calendar)
    clock = next(c for c in replay(facts, targets) if c.kind == ClockKind.RESOLUTION)
    assert times.resolution is not None
    assert times.resolution.business == clock.elapsed
    assert times.resolved_at == clock.stopped_at


@PROPS
@given(start=STARTS, drawn=steps, calendar=st.sampled_from(CALENDARS))
def test_with_pauses_and_reopens_the_kpi_is_at_least_the_sla_clock(
    start: datetime, drawn: list[tuple[int, str]], calendar: BusinessCalendar
) -> None:
    """KPI times subtract nothing; SLA clocks subtract pauses and resolved stretches."""
    facts = build(start, drawn)
    targets = Targets(calendar, first_response=4 * H, resolution=40 * H)
    times = ticket_times(facts, calendar)
    clocks = {c.kind: c for c in replay(facts, targets)}
    resolution = clocks[ClockKind.RESOLUTION]
    if times.resolution is not None and resolution.stopped_at is not None:
        assert times.resolution.business >= resolution.elapsed
    first = clocks[ClockKind.FIRST_RESPONSE]
    if times.first_response is not None and first.stopped_at == times.first_response_at:
        assert times.first_response.business >= first.elapsed
