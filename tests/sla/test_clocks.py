"""SLA clock replay (pure): start, stop, pause, resume, reopen, re-targeting, on business hours."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from relaydesk.sla.clocks import Clock, ClockKind, Fact, FactKind, Targets, replay, summarise
from relaydesk.sla.engine import BusinessCalendar, business_time_between

H = timedelta(hours=1)
M = timedelta(minutes=1)
BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = BusinessCalendar("Europe/Berlin", dict.fromkeys(range(5), ((time(9), time(17)),)))
ALWAYS = BusinessCalendar.always_open()


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in January 2024 in Berlin (Monday the 8th, Friday the 12th, Monday the 15th)."""
    return datetime(2024, 1, day, hour, minute, tzinfo=BERLIN)


def created(when: datetime, status: str = "new") -> Fact:
    return Fact(when, FactKind.CREATED, status)


def customer(when: datetime) -> Fact:
    return Fact(when, FactKind.CUSTOMER_MESSAGE)


def reply(when: datetime) -> Fact:
    return Fact(when, FactKind.AGENT_REPLY)


def status(when: datetime, new: str) -> Fact:
    return Fact(when, FactKind.STATUS, new)


def targets(**kwargs: object) -> Targets:
    values: dict[str, object] = {
        "calendar": OFFICE,
        "first_response": 4 * H,
        "next_response": 2 * H,
        "resolution": 16 * H,
        "warning_percent": 75,
    }
    values.update(kwargs)
    return Targets(**values)  # type: ignore[arg-type]


def by_kind(clocks: list[Clock], kind: ClockKind) -> list[Clock]:
    return [clock for clock in clocks if clock.kind == kind]


def test_first_response_due_in_business_hours_and_met_by_reply() -> None:
    # Friday 15:00 + 4 business hours = Monday 11:00; warning at 75 % = 3 h = Monday 10:00.
    clocks = replay([created(at(12, 15)), customer(at(12, 15))], targets())
    first = by_kind(clocks, ClockKind.FIRST_RESPONSE)[0]
    assert first.due_at == at(15, 11)
    assert first.warn_at == at(15, 10)
    assert first.is_running
    assert first.met is None

    clocks = replay([created(at(12, 15)), customer(at(12, 15)), reply(at(15, 10, 30))], targets())
    first = by_kind(clocks, ClockKind.FIRST_RESPONSE)[0]
    assert first.stopped_at == at(15, 10, 30)
    assert first.elapsed == 3 * H + 30 * M
    assert first.met is True


def test_late_first_response_is_not_met_and_keeps_its_breach_instant() -> None:
    clocks = replay([created(at(8, 9)), reply(at(8, 14))], targets())
    first = by_kind(clocks, ClockKind.FIRST_RESPONSE)[0]
    assert first.met is False
    assert first.due_at == at(8, 13)
    assert first.elapsed == 5 * H


def test_next_response_starts_at_each_customer_message_after_a_reply() -> None:
    facts = [
        created(at(8, 9)),
        customer(at(8, 9)),
        customer(at(8, 9, 30)),  # before any reply: the first-response clock covers it
        reply(at(8, 10)),
        customer(at(8, 11)),
        customer(at(8, 11, 15)),  # the next-response clock is already running
        reply(at(8, 12)),
        customer(at(8, 16)),
    ]
    clocks = replay(facts, targets())
    nexts = by_kind(clocks, ClockKind.NEXT_RESPONSE)
    assert [c.started_at for c in nexts] == [at(8, 11), at(8, 16)]
    assert nexts[0].met is True
    assert nexts[0].elapsed == H
    # 16:00 + 2 business hours: one hour today, one tomorrow morning.
    assert nexts[1].due_at == at(9, 10)
    assert nexts[1].is_running


def test_pending_on_customer_pauses_and_resumes_with_the_time_left() -> None:
    facts = [
        created(at(8, 9)),
        reply(at(8, 10)),
        status(at(8, 10), "pending_customer"),  # resolution clock has used 1 h
        customer(at(10, 9)),  # two days later: paused time does not count
        status(at(10, 9), "in_progress"),
    ]
    clocks = replay(facts, targets())
    resolution = by_kind(clocks, ClockKind.RESOLUTION)[0]
    assert resolution.is_running
    assert resolution.elapsed == H
    # 15 business hours left from Wednesday 09:00: Wednesday 8 h + Thursday 7 h → Thursday 16:00.
    assert resolution.due_at == at(11, 16)
    # The next-response clock started paused and runs from the resume.
    next_response = by_kind(clocks, ClockKind.NEXT_RESPONSE)[0]
    assert next_response.started_at == at(10, 9)
    assert next_response.due_at == at(10, 11)


def test_paused_clock_is_not_running_and_not_summarised() -> None:
    facts = [created(at(8, 9)), reply(at(8, 10)), status(at(8, 10), "pending_customer")]
    clocks = replay(facts, targets())
    resolution = by_kind(clocks, ClockKind.RESOLUTION)[0]
    assert not resolution.is_running
    assert resolution.is_open
    assert resolution.paused_at == at(8, 10)
    assert summarise(clocks).due_at is None


def test_pause_statuses_are_configurable() -> None:
    facts = [created(at(8, 9)), status(at(8, 10), "pending_internal")]
    paused = replay(facts, targets(pause_statuses=frozenset({"pending_internal"})))
    running = replay(facts, targets())
    assert not by_kind(paused, ClockKind.FIRST_RESPONSE)[0].is_running
    assert by_kind(running, ClockKind.FIRST_RESPONSE)[0].is_running


def test_resolve_stops_everything_and_a_reopen_resumes_resolution_only() -> None:
    facts = [
        created(at(8, 9)),
        reply(at(8, 10)),
        status(at(8, 11), "resolved"),
        customer(at(9, 9)),
        status(at(9, 9), "in_progress"),
    ]
    clocks = replay(facts, targets())
    resolution = by_kind(clocks, ClockKind.RESOLUTION)
    assert len(resolution) == 1
    assert resolution[0].is_running
    assert resolution[0].elapsed == 2 * H
    assert resolution[0].due_at == at(10, 15)  # 14 h left from Tuesday 09:00
    assert by_kind(clocks, ClockKind.NEXT_RESPONSE)[0].due_at == at(9, 11)

    closed = replay([*facts, reply(at(9, 10)), status(at(9, 12), "closed")], targets())
    [resolution_clock] = by_kind(closed, ClockKind.RESOLUTION)
    assert resolution_clock.stopped_at == at(9, 12)
    assert resolution_clock.elapsed == 5 * H
    assert resolution_clock.met is True
    assert summarise(closed).due_at is None


def test_resolving_without_a_reply_stops_the_first_response_clock() -> None:
    clocks = replay([created(at(8, 9)), status(at(8, 9, 30), "resolved")], targets())
    first = by_kind(clocks, ClockKind.FIRST_RESPONSE)[0]
    assert first.stopped_at == at(8, 9, 30)
    assert first.met is True


def test_missing_targets_have_no_clock_and_calendar_time_ignores_hours() -> None:
    clocks = replay([created(at(12, 16))], targets(resolution=None, next_response=None, calendar=ALWAYS))
    assert [c.kind for c in clocks] == [ClockKind.FIRST_RESPONSE]
    assert clocks[0].due_at == at(12, 20)


def test_breached_clock_keeps_due_instant_across_pauses() -> None:
    facts = [
        created(at(8, 9)),
        status(at(8, 15), "pending_customer"),  # 6 h used of 4: breached at 13:00
        status(at(9, 9), "in_progress"),
    ]
    first = by_kind(replay(facts, targets()), ClockKind.FIRST_RESPONSE)[0]
    assert first.due_at == at(8, 13)
    assert first.is_running


def test_summary_is_the_soonest_running_clock() -> None:
    clocks = replay([created(at(8, 9))], targets())
    summary = summarise(clocks)
    assert summary.due_at == at(8, 13)  # first response before resolution
    assert summary.warn_at == at(8, 12)


steps = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=48 * 60),
        st.sampled_from(["customer", "reply", "pending_customer", "in_progress", "resolved"]),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(steps=steps, pct=st.integers(min_value=1, max_value=100))
def test_replay_invariants(steps: list[tuple[int, str]], pct: int) -> None:
    """Whatever happens: business time used never exceeds wall time, due follows start, met is
    exactly "used within target", and a running clock's due instant is where its target runs out."""
    when = at(8, 8)
    facts = [created(when)]
    for minutes, step in steps:
        when += timedelta(minutes=minutes)
        if step == "customer":
            facts.append(customer(when))
        elif step == "reply":
            facts.append(reply(when))
        else:
            facts.append(status(when, step))
    tgt = targets(warning_percent=pct)
    clocks = replay(facts, tgt)
    assert {c.kind for c in clocks} >= {ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION}
    for clock in clocks:
        end = clock.stopped_at or when
        assert clock.elapsed <= business_time_between(OFFICE, clock.started_at, end) + timedelta(0)
        assert clock.due_at >= clock.started_at
        assert clock.warn_at <= clock.due_at
        if clock.stopped_at is not None:
            assert clock.met == (clock.elapsed <= clock.target)
        if clock.is_running and clock.elapsed < clock.target:
            assert clock.running_since is not None
            left = business_time_between(OFFICE, clock.running_since, clock.due_at)
            assert left == clock.target - clock.elapsed
