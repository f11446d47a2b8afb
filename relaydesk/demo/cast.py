"""Who the stories are about and when they happen: agents, customers, incidents, and the
shape of ticket volume over time (weekdays, working hours, a growing center).

Plain data for ``plots``; the demo seed and the benchmark generator fill it from the
database. No ORM here.
"""

from __future__ import annotations

import random
import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0
# Nothing is written closer to "now" than this, so a freshly seeded demo has no future rows.
SAFETY_MARGIN = timedelta(minutes=2)


@dataclass(frozen=True)
class Agent:
    id: int
    name: str
    handle: str
    languages: tuple[str, ...]


@dataclass(frozen=True)
class Customer:
    id: int
    organization_id: int | None
    first: str
    last: str
    language: str
    region: str  # Americas, EMEA or APAC: the front-line team that looks after them
    org_name: str
    tier: str
    utc_offset_hours: float  # for the time of day they write (DST ignored: it only shapes volume)


@dataclass
class Cast:
    """The people and reference rows a plot may use, by id."""

    front_team_ids: dict[str, int]  # region -> team
    l2_team_id: int
    agents_by_team: dict[int, list[Agent]]  # front-line agents
    supervisors_by_team: dict[int, Agent]
    l2_agents: list[Agent]
    specialists: list[Agent]
    category_ids: dict[str, int]
    product_ids: dict[str, int]
    tag_ids: dict[str, int]

    def agent(self, agent_id: int) -> Agent | None:
        everyone = [*self.l2_agents, *self.specialists, *self.supervisors_by_team.values()]
        everyone += [agent for agents in self.agents_by_team.values() for agent in agents]
        return next((agent for agent in everyone if agent.id == agent_id), None)


@dataclass(frozen=True)
class Incident:
    code: str
    title: str
    started_at: datetime
    resolved_at: datetime


def creation_times(
    rng: random.Random,
    customers: Sequence[Customer],
    weights: Sequence[float],
    *,
    count: int,
    now: datetime,
    days: float,
) -> list[tuple[float, int]]:
    """``count`` (UTC timestamp, customer index) pairs, oldest first, shaped like real volume.

    More tickets on weekdays and in the writer's working hours, and a center that grows:
    the last weeks are busier than three months ago. Rejection sampling on plain
    arithmetic, fast enough for a million draws.
    """
    end = now.timestamp() - SAFETY_MARGIN.total_seconds() - 5 * MINUTE
    span = days * DAY
    picks = rng.choices(range(len(customers)), weights=weights, k=count)
    result: list[tuple[float, int]] = []
    random_ = rng.random
    for index in picks:
        offset = customers[index].utc_offset_hours * HOUR
        while True:
            age = span * random_()
            ts = end - age
            local = ts + offset
            hour = (local % DAY) / HOUR
            weekday = (int(local // DAY) + 3) % 7  # 1970-01-01 was a Thursday
            weight = 0.4 + 0.6 * (1 - age / span)
            if weekday >= 5:
                weight *= 0.3
            if 8 <= hour < 18:
                pass
            elif 6 <= hour < 8 or 18 <= hour < 22:
                weight *= 0.4
            else:
                weight *= 0.07
            if random_() < weight:
                break
        result.append((ts, index))
    result.sort()
    return result


def customer_weights(customers: Sequence[Customer], rng: random.Random) -> list[float]:
    """How often each customer writes: enterprise accounts more, and a few heavy writers."""
    tier_factor = {"enterprise": 1.6, "business": 1.1, "standard": 0.8}
    return [tier_factor.get(c.tier, 1.0) * rng.paretovariate(2.5) for c in customers]


def region_of(time_zone: str) -> str:
    """The front-line region that looks after someone living in ``time_zone``."""
    if time_zone.startswith("America/"):
        return "Americas"
    if time_zone.startswith(("Europe/", "Africa/")):
        return "EMEA"
    return "APAC"


def utc_offset_hours(time_zone: str, at: datetime) -> float:
    offset = zoneinfo.ZoneInfo(time_zone).utcoffset(at)
    return offset.total_seconds() / 3600 if offset else 0.0


def as_datetime(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, tz=UTC)
