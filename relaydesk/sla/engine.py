"""Business-hours arithmetic: add business time to an instant, measure business time between two.

Pure module (stdlib ``datetime``/``zoneinfo`` only, no Django) so SLA deadlines can be computed
anywhere — views, jobs, benchmarks — and property-tested without a database.

Semantics (also in docs/sla-engine.md):

* A calendar lists opening intervals per weekday in local wall-clock time.  An interval whose end is
  at or before its start runs overnight into the next day; 00:00–00:00 is the whole day.
* Each local date's intervals are turned into UTC instants with the calendar's zone.  Ambiguous wall
  times (autumn fall-back) take the first occurrence (``fold=0``); wall times that do not exist
  (spring-forward gap) map to the instant the gap ends.  So 01:00–04:00 lasts 2 real hours on a
  spring-forward night around a 02:00→03:00 gap and 4 real hours on a 03:00→02:00 fall-back night.
* Business intervals are half-open ``[opening, closing)``: the closing instant itself is not a
  business instant.  Adding a duration that exactly fills the day returns the closing instant
  (17:00, not the next morning's 09:00).
* Holidays close a whole local date: intervals starting on it are dropped and an overnight interval
  from the day before is cut at the holiday's local midnight.
* ``add_business_time`` with a start outside business hours starts the clock at the next opening;
  a zero duration returns the first business instant at or after the start.

Speed: every computation works on integer microseconds since the Unix epoch, and each local date's
UTC intervals are built once per calendar and kept in a dict on the calendar (a per-instance dict
lookup keyed by day ordinal is cheaper than hashing the whole calendar for ``functools.lru_cache``
on every day visited).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

Interval = tuple[time, time]

_US = timedelta(microseconds=1)
_DAY_US = 86_400_000_000
_WEEK_US = 7 * _DAY_US
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# A calendar whose every date is a holiday (or that has no hours) would loop for ever; a year and a
# bit of consecutive closed dates can only mean that, since weekly hours repeat every 7 days.
_MAX_CLOSED_DAYS = 400
# Bounds memory for long-running processes that visit many dates (≈ 270 years of dates).
_MAX_CACHED_DAYS = 100_000


def _time_us(t: time) -> int:
    return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond


@dataclass(frozen=True)
class BusinessCalendar:
    """Opening hours in a time zone.

    ``weekly`` maps a weekday (0 = Monday … 6 = Sunday) to its opening intervals in local time; a
    missing weekday is closed.  ``holidays`` are single closed dates, ``yearly_holidays`` are
    ``(month, day)`` pairs closed every year.
    """

    time_zone: str
    weekly: Mapping[int, tuple[Interval, ...]] = field(compare=False, hash=False)
    holidays: frozenset[date] = frozenset()
    yearly_holidays: frozenset[tuple[int, int]] = frozenset()
    # Normalised, hashable form of ``weekly``: equality and hashing go through it.
    _weekly_key: tuple[tuple[Interval, ...], ...] = field(init=False, repr=False)
    _zone: ZoneInfo = field(init=False, repr=False, compare=False, hash=False)
    # Per weekday: (start offset, end offset, overnight) in microseconds from local midnight.
    _spans: tuple[tuple[tuple[int, int, bool], ...], ...] = field(
        init=False, repr=False, compare=False, hash=False
    )
    _days: dict[int, tuple[tuple[int, int], ...]] = field(
        default_factory=dict, init=False, repr=False, compare=False, hash=False
    )

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.time_zone!r}") from exc
        unknown = set(self.weekly) - set(range(7))
        if unknown:
            raise ValueError(f"weekly keys must be weekdays 0 (Monday) to 6 (Sunday), got {sorted(unknown)}")
        key: list[tuple[Interval, ...]] = []
        spans: list[tuple[tuple[int, int, bool], ...]] = []
        week: list[tuple[int, int, int, Interval]] = []  # (start, end, weekday, interval) on a week line
        for weekday in range(7):
            raw = list(self.weekly.get(weekday, ()))
            if any(len(iv) != 2 or not all(isinstance(t, time) for t in iv) for iv in raw):
                raise ValueError(f"{_WEEKDAYS[weekday]}: intervals are (start, end) pairs of datetime.time")
            intervals: tuple[Interval, ...] = tuple(
                sorted(((iv[0], iv[1]) for iv in raw), key=lambda iv: iv[0])
            )
            day_spans = []
            for start, end in intervals:
                if start.tzinfo is not None or end.tzinfo is not None:
                    raise ValueError(f"{_WEEKDAYS[weekday]}: interval times are local wall-clock (naive)")
                s, e = _time_us(start), _time_us(end)
                overnight = e <= s
                day_spans.append((s, e, overnight))
                a = weekday * _DAY_US + s
                b = weekday * _DAY_US + e + (_DAY_US if overnight else 0)
                if b > _WEEK_US:  # Sunday overnight spills into Monday: wrap the week line
                    week.append((a, _WEEK_US, weekday, (start, end)))
                    week.append((0, b - _WEEK_US, weekday, (start, end)))
                else:
                    week.append((a, b, weekday, (start, end)))
            key.append(intervals)
            spans.append(tuple(day_spans))
        week.sort()
        for (_, prev_end, prev_day, prev_iv), (next_start, _, day, iv) in itertools.pairwise(week):
            if next_start < prev_end:
                raise ValueError(
                    f"overlapping opening intervals: {_WEEKDAYS[prev_day]} {_fmt(prev_iv)} "
                    f"and {_WEEKDAYS[day]} {_fmt(iv)}"
                )
        for month, day in self.yearly_holidays:
            date(2000, month, day)  # leap year: rejects impossible dates such as (2, 30) with ValueError
        object.__setattr__(self, "weekly", MappingProxyType({d: key[d] for d in range(7) if key[d]}))
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "yearly_holidays", frozenset(self.yearly_holidays))
        object.__setattr__(self, "_weekly_key", tuple(key))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_spans", tuple(spans))

    @classmethod
    def always_open(cls, time_zone: str = "UTC") -> BusinessCalendar:
        """24/7: every day 00:00–00:00 (the zone only matters for holidays added later)."""
        whole_day = ((time(0), time(0)),)
        return cls(time_zone, dict.fromkeys(range(7), whole_day))

    def _is_holiday(self, day: date) -> bool:
        return day in self.holidays or (day.month, day.day) in self.yearly_holidays

    def _local_us(self, day: date, offset_us: int) -> int:
        """UTC microseconds of a local wall time: fold=0 when ambiguous, end of the gap when missing."""
        wall = datetime.combine(day, time()) + timedelta(microseconds=offset_us)
        aware = wall.replace(tzinfo=self._zone)
        after = (aware - _EPOCH) // _US
        if (_EPOCH + timedelta(microseconds=after)).astimezone(self._zone).replace(tzinfo=None) == wall:
            return after
        # Nonexistent wall time: fold=0 read it with the offset before the jump (landing after the
        # transition), fold=1 with the offset after it (landing before).  The transition instant lies
        # between; bisect for the first instant that already has the post-jump offset.
        before = (aware.replace(fold=1) - _EPOCH) // _US
        target = self._offset(after)
        while after - before > 1:
            mid = (before + after) // 2
            if self._offset(mid) == target:
                after = mid
            else:
                before = mid
        return after

    def _offset(self, us: int) -> timedelta | None:
        return (_EPOCH + timedelta(microseconds=us)).astimezone(self._zone).utcoffset()

    def _build_day(self, ordinal: int) -> tuple[tuple[int, int], ...]:
        day = date.fromordinal(ordinal)
        if self._is_holiday(day):
            intervals: tuple[tuple[int, int], ...] = ()
        else:
            built = []
            for s, e, overnight in self._spans[day.weekday()]:
                start = self._local_us(day, s)
                if overnight:
                    following = day + timedelta(days=1)
                    end = self._local_us(following, 0 if self._is_holiday(following) else e)
                else:
                    end = self._local_us(day, e)
                if end > start:  # an interval wholly inside a DST gap has no real time
                    built.append((start, end))
            intervals = tuple(built)
        if len(self._days) >= _MAX_CACHED_DAYS:
            self._days.clear()
        self._days[ordinal] = intervals
        return intervals


def _fmt(interval: Interval) -> str:
    return f"{interval[0].isoformat('minutes')}–{interval[1].isoformat('minutes')}"


def _instant_us(value: datetime, name: str) -> int:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware datetime")
    return (value - _EPOCH) // _US


def add_business_time(calendar: BusinessCalendar, start: datetime, duration: timedelta) -> datetime:
    """The instant (UTC) at which ``duration`` of business time has elapsed since ``start``.

    Outside business hours the clock starts at the next opening.  A zero duration gives the first
    business instant at or after ``start``; a positive one that exactly fills an interval gives its
    closing instant.  Negative durations raise ``ValueError``.
    """
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    t = _instant_us(start, "start")
    remaining = duration // _US
    days = calendar._days
    # Two dates before the UTC date: the local date is at most one day behind (UTC−12), and the day
    # before that may own an overnight interval still running at ``t``.
    ordinal = t // _DAY_US + _EPOCH_ORDINAL - 2
    closed = 0
    while True:
        intervals = days.get(ordinal)
        if intervals is None:
            intervals = calendar._build_day(ordinal)
        if intervals:
            closed = 0
            for s, e in intervals:
                if e <= t:
                    continue
                if s > t:
                    t = s
                available = e - t
                if remaining <= available:
                    return _EPOCH + timedelta(microseconds=t + remaining)
                remaining -= available
                t = e
        else:
            closed += 1
            if closed > _MAX_CLOSED_DAYS:
                raise ValueError(f"calendar has no business hours for over {_MAX_CLOSED_DAYS} days")
        ordinal += 1


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """Business time inside ``[start, end)``; zero when ``end <= start``."""
    t0 = _instant_us(start, "start")
    t1 = _instant_us(end, "end")
    if t1 <= t0:
        return timedelta(0)
    days = calendar._days
    total = 0
    # Local dates run from at most one day behind UTC (plus an overnight spill from the day before)
    # to at most one day ahead; later dates open after ``end``.
    for ordinal in range(t0 // _DAY_US + _EPOCH_ORDINAL - 2, t1 // _DAY_US + _EPOCH_ORDINAL + 2):
        intervals = days.get(ordinal)
        if intervals is None:
            intervals = calendar._build_day(ordinal)
        for s, e in intervals:
            lo = s if s > t0 else t0
            hi = e if e < t1 else t1
            if hi > lo:
                total += hi - lo
    return timedelta(microseconds=total)
