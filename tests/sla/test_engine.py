"""Business-hours maths: hand-written cases (zones, DST, holidays) and hypothesis properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from relaydesk.sla.engine import BusinessCalendar, add_business_time, business_time_between

H = timedelta(hours=1)
NINE_TO_FIVE = ((time(9), time(17)),)


def weekdays(intervals: tuple[tuple[time, time], ...], tz: str, **kwargs: object) -> BusinessCalendar:
    return BusinessCalendar(tz, dict.fromkeys(range(5), intervals), **kwargs)  # type: ignore[arg-type]


def at(tz: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(tz))  # type: ignore[arg-type,misc]


# --- hand-written cases -------------------------------------------------------------------------


def test_always_open_is_wall_clock_time() -> None:
    cal = BusinessCalendar.always_open("Europe/Berlin")
    start = datetime(2024, 3, 30, 12, tzinfo=UTC)  # spans the spring-forward night
    assert add_business_time(cal, start, 36 * H) == start + 36 * H
    assert business_time_between(cal, start, start + 36 * H) == 36 * H


def test_result_is_utc() -> None:
    cal = weekdays(NINE_TO_FIVE, "Europe/Berlin")
    result = add_business_time(cal, at("Europe/Berlin", 2024, 1, 8, 10), H)
    assert result.tzinfo is UTC
    assert result == at("Europe/Berlin", 2024, 1, 8, 11)


def test_across_weekend_berlin() -> None:
    cal = weekdays(NINE_TO_FIVE, "Europe/Berlin")
    friday_4pm = at("Europe/Berlin", 2024, 1, 12, 16)
    assert add_business_time(cal, friday_4pm, 3 * H) == at("Europe/Berlin", 2024, 1, 15, 11)
    assert business_time_between(cal, friday_4pm, at("Europe/Berlin", 2024, 1, 15, 11)) == 3 * H


def test_exactly_filling_a_day_ends_at_closing() -> None:
    cal = weekdays(NINE_TO_FIVE, "Europe/Berlin")
    assert add_business_time(cal, at("Europe/Berlin", 2024, 1, 8, 9), 8 * H) == at(
        "Europe/Berlin", 2024, 1, 8, 17
    )


def test_berlin_spring_forward_and_fall_back_keep_business_hours_in_local_time() -> None:
    cal = weekdays(NINE_TO_FIVE, "Europe/Berlin")
    # Friday 29 March 2024 16:00 CET; DST starts Sunday 31 March.
    friday = at("Europe/Berlin", 2024, 3, 29, 16)
    assert add_business_time(cal, friday, 2 * H) == at("Europe/Berlin", 2024, 4, 1, 10)
    assert add_business_time(cal, friday, 2 * H) == datetime(2024, 4, 1, 8, tzinfo=UTC)
    # Friday 25 October 2024 16:00 CEST; DST ends Sunday 27 October.
    friday = at("Europe/Berlin", 2024, 10, 25, 16)
    assert add_business_time(cal, friday, 2 * H) == datetime(2024, 10, 28, 9, tzinfo=UTC)


def test_interval_on_spring_forward_night_is_two_real_hours() -> None:
    cal = BusinessCalendar("Europe/Berlin", {6: ((time(1), time(4)),)})
    sunday = datetime(2024, 3, 30, 12, tzinfo=UTC)
    week = sunday + timedelta(days=1)
    assert business_time_between(cal, sunday, week) == 2 * H
    assert add_business_time(cal, sunday, 2 * H) == at("Europe/Berlin", 2024, 3, 31, 4)


def test_interval_on_fall_back_night_is_four_real_hours() -> None:
    cal = BusinessCalendar("Europe/Berlin", {6: ((time(1), time(4)),)})
    saturday = datetime(2024, 10, 26, 12, tzinfo=UTC)
    assert business_time_between(cal, saturday, saturday + timedelta(days=2)) == 4 * H
    # 02:30 happens twice; three hours after 01:00 CEST is the second 02:30... plus one = 03:00 CET.
    assert add_business_time(cal, saturday, 3 * H) == at("Europe/Berlin", 2024, 10, 27, 3)


def test_opening_inside_the_gap_opens_when_the_gap_ends() -> None:
    cal = BusinessCalendar("Europe/Berlin", {6: ((time(2, 30), time(4)),)})
    start = datetime(2024, 3, 30, tzinfo=UTC)
    # 02:30 does not exist on 31 March 2024: the clock starts at 03:00 CEST (01:00 UTC).
    assert add_business_time(cal, start, timedelta(0)) == datetime(2024, 3, 31, 1, tzinfo=UTC)
    assert business_time_between(cal, start, start + timedelta(days=2)) == H


def test_interval_wholly_inside_the_gap_has_no_time() -> None:
    cal = BusinessCalendar("America/New_York", {6: ((time(2, 10), time(2, 50)),)})
    start = datetime(2024, 3, 9, tzinfo=UTC)  # DST starts Sunday 10 March 2024 at 02:00
    assert business_time_between(cal, start, start + timedelta(days=3)) == timedelta(0)
    # Next Sunday the interval exists again.
    assert add_business_time(cal, start, timedelta(minutes=10)) == at("America/New_York", 2024, 3, 17, 2, 20)


def test_ambiguous_opening_takes_first_occurrence() -> None:
    cal = BusinessCalendar("America/New_York", {6: ((time(1, 30), time(3)),)})
    start = datetime(2024, 11, 2, tzinfo=UTC)  # DST ends Sunday 3 November 2024 at 02:00
    # 01:30 EDT (fold=0); compared in UTC because Python never equates a repeated wall time with an
    # instant in another zone (PEP 495).
    assert add_business_time(cal, start, timedelta(0)) == datetime(2024, 11, 3, 5, 30, tzinfo=UTC)
    assert business_time_between(cal, start, start + timedelta(days=2)) == timedelta(hours=2, minutes=30)


def test_overnight_interval() -> None:
    cal = weekdays(((time(22), time(6)),), "Europe/London")
    friday_11pm = at("Europe/London", 2024, 1, 12, 23)
    # Friday's shift runs to Saturday 06:00 (7 h fill it exactly), then the next is Monday 22:00.
    assert add_business_time(cal, friday_11pm, 7 * H) == at("Europe/London", 2024, 1, 13, 6)
    assert add_business_time(cal, friday_11pm, 8 * H) == at("Europe/London", 2024, 1, 15, 23)
    # Start at Saturday 03:00, inside Friday's overnight shift.
    assert add_business_time(cal, at("Europe/London", 2024, 1, 13, 3), H) == at(
        "Europe/London", 2024, 1, 13, 4
    )


def test_lunch_break() -> None:
    cal = weekdays(((time(9), time(12)), (time(13), time(17))), "Europe/Paris")
    assert add_business_time(cal, at("Europe/Paris", 2024, 1, 8, 11), 2 * H) == at(
        "Europe/Paris", 2024, 1, 8, 14
    )
    assert add_business_time(cal, at("Europe/Paris", 2024, 1, 8, 12, 30), H) == at(
        "Europe/Paris", 2024, 1, 8, 14
    )
    assert business_time_between(cal, at("Europe/Paris", 2024, 1, 8), at("Europe/Paris", 2024, 1, 9)) == 7 * H


def test_single_and_yearly_holidays() -> None:
    cal = weekdays(
        NINE_TO_FIVE,
        "Europe/Berlin",
        holidays=frozenset({date(2024, 1, 9)}),
        yearly_holidays=frozenset({(1, 1)}),
    )
    # Monday 1 January (yearly) and Tuesday 9 January (single) are closed.
    assert add_business_time(cal, at("Europe/Berlin", 2023, 12, 29, 16), 2 * H) == at(
        "Europe/Berlin", 2024, 1, 2, 10
    )
    assert add_business_time(cal, at("Europe/Berlin", 2024, 1, 8, 16), 2 * H) == at(
        "Europe/Berlin", 2024, 1, 10, 10
    )
    assert add_business_time(cal, at("Europe/Berlin", 2025, 1, 1, 8), H) == at(
        "Europe/Berlin", 2025, 1, 2, 10
    )


def test_holiday_cuts_overnight_interval_at_midnight() -> None:
    cal = BusinessCalendar("UTC", {0: ((time(22), time(6)),)}, holidays=frozenset({date(2024, 1, 9)}))
    monday = datetime(2024, 1, 8, 12, tzinfo=UTC)
    assert business_time_between(cal, monday, monday + timedelta(days=2)) == 2 * H


@pytest.mark.parametrize(
    ("tz", "start", "expected_utc"),
    [
        # India, UTC+05:30, no DST: Friday 16:00 IST + 2 h → Monday 10:00 IST = 04:30 UTC.
        ("Asia/Kolkata", (2024, 1, 12, 16), datetime(2024, 1, 15, 4, 30, tzinfo=UTC)),
        # Adelaide, UTC+10:30 in summer, +09:30 in winter; DST ends Sunday 7 April 2024:
        # Monday 10:00 ACST = 00:30 UTC.
        ("Australia/Adelaide", (2024, 4, 5, 16), datetime(2024, 4, 8, 0, 30, tzinfo=UTC)),
        # Adelaide DST starts Sunday 6 October 2024: Monday 10:00 ACDT = Sunday 23:30 UTC.
        ("Australia/Adelaide", (2024, 10, 4, 16), datetime(2024, 10, 6, 23, 30, tzinfo=UTC)),
        # St John's, UTC−03:30 in winter, −02:30 in summer; DST starts Sunday 10 March 2024.
        ("America/St_Johns", (2024, 3, 8, 16), datetime(2024, 3, 11, 12, 30, tzinfo=UTC)),
        ("America/St_Johns", (2024, 1, 12, 16), datetime(2024, 1, 15, 13, 30, tzinfo=UTC)),
    ],
)
def test_half_hour_zones(tz: str, start: tuple[int, ...], expected_utc: datetime) -> None:
    cal = weekdays(NINE_TO_FIVE, tz)
    begin = at(tz, *start)
    assert add_business_time(cal, begin, 2 * H) == expected_utc
    assert business_time_between(cal, begin, expected_utc) == 2 * H


def test_adelaide_spring_forward_night_interval() -> None:
    # Adelaide jumps 02:00 → 03:00 on Sunday 6 October 2024.
    cal = BusinessCalendar("Australia/Adelaide", {6: ((time(1), time(4)),)})
    start = datetime(2024, 10, 5, tzinfo=UTC)
    assert business_time_between(cal, start, start + timedelta(days=2)) == 2 * H


def test_start_inside_and_outside_hours() -> None:
    cal = weekdays(NINE_TO_FIVE, "Europe/Berlin")
    assert add_business_time(cal, at("Europe/Berlin", 2024, 1, 8, 7), H) == at(
        "Europe/Berlin", 2024, 1, 8, 10
    )
    assert add_business_time(cal, at("Europe/Berlin", 2024, 1, 8, 9, 30), H) == at(
        "Europe/Berlin", 2024, 1, 8, 10, 30
    )
    assert add_business_time(cal, at("Europe/Berlin", 2024, 1, 8, 18), H) == at(
        "Europe/Berlin", 2024, 1, 9, 10
    )


def test_zero_duration() -> None:
    cal = weekdays(NINE_TO_FIVE, "Europe/Berlin")
    inside = at("Europe/Berlin", 2024, 1, 8, 10)
    assert add_business_time(cal, inside, timedelta(0)) == inside
    # The closing instant is not a business instant: zero from 17:00 is the next opening.
    assert add_business_time(cal, at("Europe/Berlin", 2024, 1, 8, 17), timedelta(0)) == at(
        "Europe/Berlin", 2024, 1, 9, 9
    )


def test_between_is_zero_when_end_not_after_start() -> None:
    cal = BusinessCalendar.always_open()
    t = datetime(2024, 1, 1, tzinfo=UTC)
    assert business_time_between(cal, t, t) == timedelta(0)
    assert business_time_between(cal, t, t - H) == timedelta(0)


def test_rejects_bad_input() -> None:
    cal = weekdays(NINE_TO_FIVE, "UTC")
    with pytest.raises(ValueError, match="negative"):
        add_business_time(cal, datetime(2024, 1, 1, tzinfo=UTC), -H)
    with pytest.raises(ValueError, match="aware"):
        add_business_time(cal, datetime(2024, 1, 1), H)
    with pytest.raises(ValueError, match="unknown time zone"):
        BusinessCalendar("Mars/Olympus_Mons", {})
    with pytest.raises(ValueError, match="overlapping"):
        BusinessCalendar("UTC", {0: ((time(9), time(12)), (time(11), time(17)))})
    with pytest.raises(ValueError, match="overlapping"):  # Sunday's night shift runs into Monday
        BusinessCalendar("UTC", {6: ((time(22), time(6)),), 0: ((time(5), time(9)),)})
    with pytest.raises(ValueError, match="no business hours"):
        add_business_time(BusinessCalendar("UTC", {}), datetime(2024, 1, 1, tzinfo=UTC), H)


def test_calendar_is_hashable_and_compares_by_value() -> None:
    a = weekdays(NINE_TO_FIVE, "UTC")
    b = BusinessCalendar("UTC", {d: [(time(9), time(17))] for d in range(5)})  # type: ignore[misc]
    assert a == b
    assert hash(a) == hash(b)
    assert BusinessCalendar.always_open("UTC") != a


# --- properties ---------------------------------------------------------------------------------

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Kolkata", "Australia/Adelaide", "UTC"]
SHAPES: list[dict[int, tuple[tuple[time, time], ...]]] = [
    dict.fromkeys(range(5), NINE_TO_FIVE),
    {d: ((time(9), time(12)), (time(13), time(17))) for d in range(5)},
    {d: ((time(22), time(6)),) for d in range(5)},
    {d: ((time(0), time(0)),) for d in range(7)},
    {6: ((time(1), time(4)),), 2: ((time(2, 15), time(2, 45)),)},  # DST-night intervals
]


@st.composite
def generated_weekly(draw: st.DrawFn) -> dict[int, tuple[tuple[time, time], ...]]:
    """Same-day intervals cut from sorted quarter-hour points, at least one somewhere."""
    weekly = {}
    for day in range(7):
        points = sorted(draw(st.sets(st.integers(0, 95), max_size=4)))
        pairs = list(zip(points[::2], points[1::2], strict=False))
        weekly[day] = tuple((time(a // 4, a % 4 * 15), time(b // 4, b % 4 * 15)) for a, b in pairs)
    if not any(weekly.values()):
        weekly[draw(st.integers(0, 6))] = NINE_TO_FIVE
    return weekly


calendars = st.builds(
    BusinessCalendar,
    time_zone=st.sampled_from(ZONES),
    weekly=st.one_of(st.sampled_from(SHAPES), generated_weekly()),
    holidays=st.frozensets(st.dates(date(2020, 1, 1), date(2030, 12, 31)), max_size=20),
    yearly_holidays=st.frozensets(
        st.sampled_from([(1, 1), (12, 25), (3, 31), (10, 27), (11, 3)]), max_size=3
    ),
)
instants = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)).map(lambda d: d.replace(tzinfo=UTC))
durations = st.timedeltas(timedelta(0), timedelta(days=10))
PROPS = settings(max_examples=200, deadline=None)


@PROPS
@given(calendars, instants, durations)
def test_measuring_what_was_added_gives_it_back(cal: BusinessCalendar, start: datetime, d: timedelta) -> None:
    end = add_business_time(cal, start, d)
    assert end >= start
    assert business_time_between(cal, start, end) == d


@PROPS
@given(calendars, instants, durations)
def test_adding_what_was_measured_gives_back_the_end(
    cal: BusinessCalendar, start: datetime, span: timedelta
) -> None:
    """add(s, between(s, e)) is e when business time runs right up to e (e is inside an interval or
    its closing instant); otherwise it is the last closing before e, or — when nothing was measured —
    the first opening at or after s.  In every case nothing is measured between it and e."""
    end = start + span
    measured = business_time_between(cal, start, end)
    back = add_business_time(cal, start, measured)
    tick = timedelta(microseconds=1)
    if measured > timedelta(0):
        assert back <= end
        assert business_time_between(cal, back, end) == timedelta(0)
        assert (back == end) == (business_time_between(cal, end - tick, end) == tick)
    else:
        assert back >= end or span == timedelta(0)
        assert business_time_between(cal, back, back + tick) == tick


@PROPS
@given(calendars, instants, durations, durations)
def test_add_is_monotonic_in_duration(
    cal: BusinessCalendar, start: datetime, a: timedelta, b: timedelta
) -> None:
    small, large = sorted((a, b))
    assert add_business_time(cal, start, small) <= add_business_time(cal, start, large)
    if large > small:
        assert add_business_time(cal, start, small) < add_business_time(cal, start, large)


def _open_by_wall_clock(cal: BusinessCalendar, instant: datetime) -> bool:
    """Independent oracle: read the instant's local wall time and check it against the hours of its
    local date and the overnight spill of the date before (both subject to holidays)."""
    local = instant.astimezone(ZoneInfo(cal.time_zone))
    today, wall = local.date(), local.time().replace(tzinfo=None)

    def closed(day: date) -> bool:
        return day in cal.holidays or (day.month, day.day) in cal.yearly_holidays

    if closed(today):
        return False
    for start, end in cal.weekly.get(today.weekday(), ()):
        if start <= wall and (end <= start or wall < end):
            return True
    yesterday = today - timedelta(days=1)
    if closed(yesterday):
        return False
    return any(end <= start and wall < end for start, end in cal.weekly.get(yesterday.weekday(), ()))


@settings(max_examples=60, deadline=None)
@given(calendars, st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31)))
def test_between_matches_a_minute_by_minute_wall_clock_oracle(cal: BusinessCalendar, naive: datetime) -> None:
    """Away from DST switches (where the fold/gap rule applies) business time is simply the minutes
    whose local wall time falls in the hours; all generated hours are on quarter hours."""
    start = naive.replace(second=0, microsecond=0, tzinfo=UTC)
    end = start + timedelta(days=3)
    zone = ZoneInfo(cal.time_zone)
    offsets = {(start + timedelta(hours=h)).astimezone(zone).utcoffset() for h in range(-30, 3 * 24 + 31)}
    assume(len(offsets) == 1)
    minute = timedelta(minutes=1)
    expected = sum(_open_by_wall_clock(cal, start + i * minute) for i in range(3 * 24 * 60)) * minute
    assert business_time_between(cal, start, end) == expected


@pytest.mark.parametrize(
    "tz",
    # Santiago and Havana switch at local midnight, Lord Howe by 30 minutes, Apia skipped 30 Dec 2011.
    ["America/Santiago", "America/Havana", "Australia/Lord_Howe", "Pacific/Apia", "America/St_Johns"],
)
def test_always_open_is_elapsed_time_through_awkward_transitions(tz: str) -> None:
    cal = BusinessCalendar.always_open(tz)
    start, end = datetime(2010, 1, 1, tzinfo=UTC), datetime(2026, 1, 1, tzinfo=UTC)
    assert business_time_between(cal, start, end) == end - start
    assert add_business_time(cal, start, end - start) == end
