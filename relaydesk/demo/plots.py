"""What happens to a ticket: who picks it up, how fast, what is said, how it ends.

``Plotter.play`` chooses an outcome that fits the ticket's age (a ticket from this morning
is likely still open, one from last month is closed), writes the conversation from the
templates in ``conversations`` and replays it through ``story.Recorder`` so that every
row agrees with the lifecycle. Timings follow the channel: seconds in a chat, hours by
email, days while engineering works on a bug. Shared by the demo seed and the benchmark
generator; pure Python, no ORM.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Any

from relaydesk.demo.cast import DAY, HOUR, MINUTE, SAFETY_MARGIN, Agent, Cast, Customer, Incident
from relaydesk.demo.conversations import (
    CHURN_NOTE,
    ISSUES,
    MENTION_NOTES,
    NEXT_STEP_NOTES,
    OUTAGE_ISSUES,
    SOCIAL_HANDLE,
    Issue,
)
from relaydesk.demo.phrases import PHRASES, LocalIssue, Phrases
from relaydesk.demo.story import Recorder, TicketRow
from relaydesk.tickets.models import Channel, MessageKind, Status

S = Status
AUTO_CLOSE_AFTER = 4 * DAY

CHANNEL_WEIGHTS: dict[str, int] = {
    Channel.EMAIL: 38,
    Channel.CHAT: 24,
    Channel.WEB_FORM: 12,
    Channel.IN_APP: 10,
    Channel.PHONE: 9,
    Channel.SOCIAL: 6,
    Channel.WALK_IN: 1,
}
LETTER_CHANNELS = frozenset({Channel.EMAIL, Channel.WEB_FORM, Channel.PHONE, Channel.WALK_IN})
LIVE_CHANNELS = frozenset({Channel.CHAT})
AGENT_LOGGED_CHANNELS = frozenset({Channel.PHONE, Channel.WALK_IN})

# Outcome by age: (age below, in hours, the statuses a ticket may have now, their cumulative weights).
TargetTable = Sequence[tuple[float, tuple[str, ...], list[float]]]
_TARGET_COLUMNS = (
    S.NEW,
    S.ASSIGNED,
    S.IN_PROGRESS,
    S.PENDING_CUSTOMER,
    S.PENDING_INTERNAL,
    S.RESOLVED,
    S.CLOSED,
)


def _targets(*rows: tuple[float, tuple[float, ...]]) -> TargetTable:
    return tuple((below, _TARGET_COLUMNS, list(accumulate(weights))) for below, weights in rows)


# Resolved tickets close automatically after four days, hence no "resolved" beyond 96 hours.
# fmt: off
DEMO_TARGETS: TargetTable = _targets(
    #           new  assigned  in progress  pending cust.  pending int.  resolved  closed
    (3,        (45,  25,       20,          8,             0,            2,        0)),
    (24,       (15,  12,       22,          20,            6,            20,       5)),
    (96,       (8,   6,        17,          19,            12,           22,       20)),
    (24 * 14,  (2,   1,        5,           6,             8,            0,        78)),
    (math.inf, (0,   0,        0.1,         0.2,           0.4,          0,        99.3)),
)

# The benchmark wants a far larger open backlog than a healthy center has (5–10 % of two
# years of tickets), so that open queues are big enough to measure.
BENCH_TARGETS: TargetTable = _targets(
    (24,       (25,  20,       25,          15,            0,            15,       0)),
    (96,       (5,   8,        15,          12,            10,           30,       20)),
    (24 * 30,  (0,   0,        5,           6,             9,            0,        80)),
    (24 * 120, (0.5, 0,        2,           2,             4,            0,        91.5)),
    (math.inf, (0.5, 0.5,      1,           1,             2,            0,        95)),
)
# fmt: on

BROWSERS = ("Chrome 124", "Firefox 125", "Safari 17.4", "Edge 124")
DEVICES = ("iPhone 14", "iPhone 15 Pro", "iPad Air", "Pixel 8", "Galaxy S23")
ANDROID_DEVICES = frozenset({"Pixel 8", "Galaxy S23"})
REPORTS = ("Weekly activity", "Open projects by owner", "Time tracked per client", "Monthly usage")
ENDPOINTS = ("orders", "contacts", "projects", "invoices", "events")
AMOUNTS = (49, 99, 149, 299, 490, 1188, 2390)
PLANS = {"standard": "Starter", "business": "Business", "enterprise": "Enterprise"}
CURRENCIES = {"Americas": "$", "EMEA": "€", "APAC": "S$"}
MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(sigma * rng.gauss(0.0, 1.0))


def pick_target(rng: random.Random, age_hours: float, table: TargetTable) -> str:
    for below, statuses, cumulative_weights in table:
        if age_hours < below:
            return rng.choices(statuses, cum_weights=cumulative_weights)[0]
    raise AssertionError("the last row of a target table must cover every age")


class _Script:
    """Steps at offsets from the ticket's creation, squeezed to fit before "now" if needed."""

    def __init__(self) -> None:
        self.steps: list[tuple[float, Callable[[datetime], Any]]] = []
        self.elapsed = 0.0

    def then(self, delay: float, action: Callable[[datetime], Any]) -> None:
        # At least a second between steps, except the first, which is the creation itself.
        self.elapsed += max(delay, 1.0 if self.steps else 0.0)
        self.steps.append((self.elapsed, action))

    def run(self, start: datetime, latest: datetime) -> None:
        room = (latest - start).total_seconds()
        factor = min(1.0, room / self.elapsed) if self.elapsed > 0 else 1.0
        for offset, action in self.steps:
            action(start + timedelta(seconds=offset * factor))


# Template values drawn at random, only when a template of the ticket uses them.
_DRAWS: dict[str, Callable[[random.Random, Customer, datetime], str]] = {
    "invoice": lambda rng, _, at: f"INV-{at.year}-{rng.randint(10000, 99999)}",
    "amount": lambda rng, customer, _: f"{CURRENCIES.get(customer.region, '$')}{rng.choice(AMOUNTS)}.00",
    "card_last4": lambda rng, _, __: f"{rng.randint(0, 9999):04d}",
    "seats": lambda rng, _, __: str(rng.choice((25, 40, 60, 120, 250, 400))),
    "browser": lambda rng, _, __: rng.choice(BROWSERS),
    "device": lambda rng, _, __: rng.choice(DEVICES),
    "app_version": lambda rng, _, __: f"5.{rng.randint(10, 16)}.0",
    "error_id": lambda rng, _, __: f"{rng.getrandbits(48):012x}",
    "eng_ticket": lambda rng, _, __: f"ENG-{rng.randint(2000, 4999)}",
    "endpoint": lambda rng, _, __: rng.choice(ENDPOINTS),
    "report": lambda rng, _, __: rng.choice(REPORTS),
    "count": lambda rng, _, __: str(rng.randint(12, 480)),
}


class _Variables(dict[str, str]):
    """The values of one ticket's templates: ``str.format_map`` asks for them by name.

    Drawing every random value for every ticket costs more than the rest of a short story,
    so a value is drawn the first time a template needs it, then kept for the conversation.
    """

    def __init__(self, rng: random.Random, customer: Customer, at: datetime) -> None:
        super().__init__(
            first=customer.first,
            last=customer.last,
            org=customer.org_name or f"{customer.first} {customer.last}",
            month=MONTHS[at.month - 1],
            weekday=WEEKDAYS[(at - timedelta(days=1)).weekday()],
            plan=PLANS.get(customer.tier, "Business"),
        )
        self._draw = (rng, customer, at)

    def __missing__(self, key: str) -> str:
        value = self[key] = _DRAWS[key](*self._draw)
        return value


@dataclass
class _Words:
    """The texts of one ticket's conversation, in the customer's language where we have it."""

    issue: Issue
    phrases: Phrases
    local: LocalIssue | None
    variables: _Variables
    channel: str

    def fill(self, template: str) -> str:
        return template.format_map(self.variables)

    def subject(self, rng: random.Random) -> str:
        subjects = self.local.subjects if self.local else self.issue.subjects
        return self.fill(rng.choice(subjects))

    def opening(self) -> str:
        if self.channel in (Channel.CHAT, Channel.IN_APP, Channel.SOCIAL):
            text = self.fill(self.local.short if self.local else self.issue.short)
            return f"{SOCIAL_HANDLE} {text}" if self.channel == Channel.SOCIAL else text
        return self.fill(self.local.opening if self.local else self.issue.opening)

    def customer(self, text: str) -> str:
        text = self.fill(text)
        if self.channel in LETTER_CHANNELS:
            return f"{text}\n\n{self.fill(self.phrases.customer_signature)}"
        return text

    def answer(self) -> str:
        return self.customer(self.local.answer if self.local else self.issue.answer)

    def agent(self, body: str, agent: Agent) -> str:
        text = self.fill(body)
        if self.channel in LETTER_CHANNELS:
            greeting = self.fill(self.phrases.greeting)
            signoff = self.phrases.signoff.format_map({**self.variables, "agent": agent.name})
            return f"{greeting}\n\n{text}\n\n{signoff}"
        return text

    def ask(self) -> str:
        return self.local.ask if self.local else self.issue.ask

    def fix(self) -> str:
        return self.local.fix if self.local else self.issue.fix


class Plotter:
    """Plays ticket stories into a ``Recorder``; every ticket it makes is appended to ``tickets``."""

    def __init__(
        self,
        recorder: Recorder,
        cast: Cast,
        rng: random.Random,
        *,
        now: datetime,
        targets: TargetTable = DEMO_TARGETS,
    ) -> None:
        self.recorder = recorder
        self.cast = cast
        self.rng = rng
        self.now = now
        self.latest = now - SAFETY_MARGIN
        self.targets = targets
        self.tickets: list[TicketRow] = []
        # What each ticket is about (by object identity), so a follow-up talks about the same thing.
        self.issue_of: dict[int, Issue] = {}
        # Cumulative weights once, not per ticket: random.choices would redo the sums each call.
        self._issue_weights = list(accumulate(issue.weight for issue in ISSUES))
        self._channels = list(CHANNEL_WEIGHTS)
        self._channel_weights = list(accumulate(CHANNEL_WEIGHTS.values()))
        self._local_issues: dict[str, list[Issue]] = {
            language: [issue for issue in ISSUES if issue.key in phrases.issues]
            for language, phrases in PHRASES.items()
            if language != "en"
        }

    # --- choices -----------------------------------------------------------------------

    def _choose_issue(self, language: str, target: str) -> Issue:
        rng = self.rng
        if language != "en":
            candidates = self._local_issues[language]
            if target == S.PENDING_INTERNAL:
                candidates = [issue for issue in candidates if issue.escalation_rate > 0]
            return rng.choices(candidates, weights=[issue.weight for issue in candidates])[0]
        while True:
            issue = rng.choices(ISSUES, cum_weights=self._issue_weights)[0]
            if target != S.PENDING_INTERNAL or issue.escalation_rate > 0:
                return issue

    def _variables(self, customer: Customer, created_at: datetime) -> _Variables:
        return _Variables(self.rng, customer, created_at)

    def _team_for(self, customer: Customer, channel: str, language: str, created_at: datetime) -> int:
        # Live channels follow the sun: English calls and chats go to whoever is on shift now.
        if channel in (Channel.CHAT, Channel.PHONE) and language == "en":
            hour = created_at.hour
            region = "APAC" if hour >= 22 or hour < 6 else "EMEA" if hour < 14 else "Americas"
            return self.cast.front_team_ids[region]
        return self.cast.front_team_ids[customer.region]

    def _agent_for(self, team_id: int, language: str) -> Agent:
        agents = self.cast.agents_by_team[team_id]
        speakers = [agent for agent in agents if language in agent.languages]
        return self.rng.choice(speakers or agents)

    def _escalation_agent(self, issue: Issue, language: str) -> Agent:
        pool = self.cast.specialists if issue.escalation_level == "specialist" else self.cast.l2_agents
        speakers = [agent for agent in pool if language in agent.languages]
        return self.rng.choice(speakers if speakers and self.rng.random() < 0.7 else pool)

    def _tag_ids(self, issue: Issue, customer: Customer, variables: dict[str, str]) -> list[int]:
        names = list(issue.tags)
        if "ios" in names and variables["device"] in ANDROID_DEVICES:
            names[names.index("ios")] = "android"
        if customer.tier == "enterprise" and self.rng.random() < 0.35:
            names.append("vip")
        return [self.cast.tag_ids[name] for name in names]

    # --- the stories -------------------------------------------------------------------

    def play(
        self,
        customer: Customer,
        created_at: datetime,
        *,
        issue: Issue | None = None,
        channel: str | None = None,
        incident: Incident | None = None,
        duplicate: bool = False,
    ) -> TicketRow:
        """One ticket from ``customer`` created at ``created_at``, up to where it is now.

        ``duplicate``: the customer also writes through the web form and the agent merges
        that second ticket into this one (email and other asynchronous channels only).
        """
        rng = self.rng
        age_hours = (self.now - created_at).total_seconds() / HOUR
        target = S.CLOSED if incident else pick_target(rng, age_hours, self.targets)
        language = customer.language
        if language != "en" and rng.random() < 0.2:
            language = "en"  # plenty of customers write to support in English anyway
        if issue is None:
            issue = self._choose_issue(language, target)
        phrases = PHRASES[language]
        local = phrases.issues.get(issue.key)
        if local is None:
            language, phrases = "en", PHRASES["en"]
        channel = channel or rng.choices(self._channels, cum_weights=self._channel_weights)[0]
        if channel == Channel.CHAT and target == S.NEW and age_hours > 1:
            channel = Channel.EMAIL  # nobody waits hours in a chat queue
        variables = self._variables(customer, created_at)
        words = _Words(issue=issue, phrases=phrases, local=local, variables=variables, channel=channel)
        team_id = self._team_for(customer, channel, language, created_at)
        agent = self._agent_for(team_id, language)
        variables["agent"] = agent.name
        priority = rng.choices((1, 2, 3, 4), weights=issue.priorities)[0]
        call_seconds = None
        if channel == Channel.PHONE:
            call_seconds = int(min(max(lognormal(rng, 420, 0.6), 45), 3600))
        plot = _Plot(
            plotter=self,
            customer=customer,
            issue=issue,
            words=words,
            language=language,
            team_id=team_id,
            agent=agent,
            priority=priority,
            tag_ids=self._tag_ids(issue, customer, variables),
            subject=words.subject(rng),
            call_seconds=call_seconds,
        )
        script = _Script()
        if incident is not None:
            plot.incident_story(script, incident, created_at)
        elif channel in AGENT_LOGGED_CHANNELS:
            plot.logged_story(script, target)
        elif channel in LIVE_CHANNELS:
            plot.chat_story(script, target)
        else:
            plot.inbound_story(script, target, duplicate=duplicate)
        script.run(created_at, self.latest)
        assert plot.ticket is not None
        self.issue_of[id(plot.ticket)] = issue
        return plot.ticket

    def play_follow_up(self, closed: TicketRow, customer: Customer, at: datetime) -> TicketRow:
        """The customer writes again on a closed ticket: a follow-up, then its own story."""
        rng = self.rng
        language = closed.language if closed.language in PHRASES else "en"
        issue = self.issue_of[id(closed)]
        variables = self._variables(customer, at)
        words = _Words(
            issue=issue,
            phrases=PHRASES[language],
            local=PHRASES[language].issues.get(issue.key),
            variables=variables,
            channel=closed.channel if closed.channel not in AGENT_LOGGED_CHANNELS else Channel.EMAIL,
        )
        if words.local is None:
            words.phrases = PHRASES["en"]
        team_id = closed.team_id or self.cast.front_team_ids[customer.region]
        previous = self.cast.agent(closed.assignee_id) if closed.assignee_id else None
        agent = previous or self._agent_for(self.cast.front_team_ids[customer.region], language)
        variables["agent"] = agent.name
        plot = _Plot(
            plotter=self,
            customer=customer,
            issue=issue,
            words=words,
            language=language,
            team_id=team_id,
            agent=agent,
            priority=closed.priority,
            tag_ids=[],
            subject=closed.subject,
        )
        target = pick_target(rng, (self.now - at).total_seconds() / HOUR, self.targets)
        script = _Script()
        script.then(0, lambda when: plot.open_follow_up(closed, when))
        plot.inbound_story(script, target, duplicate=False, created=True)
        script.run(at, self.latest)
        assert plot.ticket is not None
        return plot.ticket


@dataclass
class _Plot:
    plotter: Plotter
    customer: Customer
    issue: Issue
    words: _Words
    language: str
    team_id: int
    agent: Agent
    priority: int
    tag_ids: list[int]
    subject: str
    call_seconds: int | None = None
    ticket: TicketRow | None = None
    duplicate: TicketRow | None = None
    escalated_to: Agent | None = field(default=None)

    @property
    def rng(self) -> random.Random:
        return self.plotter.rng

    @property
    def rec(self) -> Recorder:
        return self.plotter.recorder

    @property
    def owner(self) -> Agent:
        return self.escalated_to or self.agent

    def _t(self) -> TicketRow:
        assert self.ticket is not None
        return self.ticket

    # --- single steps ------------------------------------------------------------------

    def _create(self, at: datetime, *, channel: str | None = None, body: str | None = None) -> TicketRow:
        cast = self.plotter.cast
        channel = channel or self.words.channel
        logged = channel in AGENT_LOGGED_CHANNELS
        duration = self.call_seconds if channel == Channel.PHONE else None
        ticket = self.rec.create(
            at=at,
            subject=self.subject,
            requester_id=self.customer.id,
            organization_id=self.customer.organization_id,
            body_text=body or (self._call_note(duration) if logged else self.words.opening()),
            channel=channel,
            priority=self.priority,
            team_id=self.team_id,
            level="l1",
            language=self.language,
            category_id=cast.category_ids[self.issue.category],
            product_id=cast.product_ids[self.issue.product],
            tag_ids=self.tag_ids,
            acting_user_id=self.agent.id if logged else None,
            assignee_id=self.agent.id if logged else None,
            call_duration_seconds=duration,
            first_message_kind=MessageKind.NOTE if logged else MessageKind.CUSTOMER,
        )
        self.plotter.tickets.append(ticket)
        return ticket

    def _call_note(self, duration: int | None) -> str:
        customer = self.customer
        who = f"{customer.first} {customer.last}" + (f" ({customer.org_name})" if customer.org_name else "")
        summary = self.words.fill(self.issue.summary)
        if duration is None:
            return f"Raised in person by {who} during our quarterly review meeting: the customer {summary}."
        return f"Inbound call from {who}, {max(duration // 60, 1)} min. The caller {summary}."

    def open(self, at: datetime) -> None:
        self.ticket = self._create(at)

    def open_follow_up(self, closed: TicketRow, at: datetime) -> None:
        self.ticket = self.rec.follow_up(
            closed, at, body_text=self.words.customer(self.words.phrases.follow_up)
        )
        self.plotter.tickets.append(self.ticket)

    def assign(self, at: datetime) -> None:
        ticket = self._t()
        actor_id = None
        supervisor = self.plotter.cast.supervisors_by_team.get(self.team_id)
        if ticket.priority == 1 and supervisor is not None:
            # Urgent tickets are handed out by the supervisor watching the queue, not by routing.
            actor_id = supervisor.id
        self.rec.change(ticket, at, actor_id=actor_id, assignee_id=self.agent.id)

    def customer_says(self, text: str) -> Callable[[datetime], Any]:
        return lambda at: self.rec.customer_message(self._t(), at, body_text=text)

    def reply(self, body: str, *, new_status: str | None = None) -> Callable[[datetime], Any]:
        def step(at: datetime) -> None:
            owner = self.owner
            self.rec.agent_message(
                self._t(),
                at,
                agent_id=owner.id,
                kind=MessageKind.REPLY,
                body_text=self.words.agent(body, owner),
                new_status=new_status,
            )

        return step

    def note(
        self, text: str, *, new_status: str | None = None, mention: Agent | None = None
    ) -> Callable[[datetime], Any]:
        def step(at: datetime) -> None:
            self.rec.agent_message(
                self._t(),
                at,
                agent_id=self.owner.id,
                kind=MessageKind.NOTE,
                body_text=text,
                new_status=new_status,
                mentions=[mention.id] if mention else (),
            )

        return step

    def resolve(self, at: datetime) -> None:
        self.rec.change(self._t(), at, actor_id=self.owner.id, status=S.RESOLVED)

    def escalate(self, at: datetime) -> None:
        ticket = self._t()
        l2 = self.plotter._escalation_agent(self.issue, self.language)
        summary = self.words.fill(self.issue.summary)
        self.rec.agent_message(
            ticket,
            at,
            agent_id=self.agent.id,
            kind=MessageKind.NOTE,
            body_text=f"Escalating to Tier 2: the customer {summary}. {self.words.fill(self.issue.note)}",
        )
        self.rec.change(
            ticket,
            at,
            actor_id=self.agent.id,
            team_id=self.plotter.cast.l2_team_id,
            assignee_id=l2.id,
            level=self.issue.escalation_level,
        )
        self.escalated_to = l2

    def wait_internally(self, at: datetime) -> None:
        waiting_on = self.issue.waiting_on
        if "{eng_ticket}" in self.issue.l2_note:
            text = f"{self.words.fill(self.issue.l2_note)} Pending until engineering ships the fix."
        else:
            text = f"Reproduced. Passed to {waiting_on}; pending until they confirm."
        self.note(text, new_status=S.PENDING_INTERNAL)(at)

    def close(self, at: datetime, *, by_agent: bool) -> None:
        self.rec.change(self._t(), at, actor_id=self.owner.id if by_agent else None, status=S.CLOSED)

    # --- stories -----------------------------------------------------------------------

    def _delay(self, median: float, sigma: float = 0.8) -> float:
        return lognormal(self.rng, median, sigma)

    def _first_response_delay(self) -> float:
        channel = self.words.channel
        medians = {1: 8 * MINUTE, 2: 40 * MINUTE, 3: 2.5 * HOUR, 4: 6 * HOUR}
        median = medians[self.priority]
        if channel == Channel.SOCIAL:
            median = min(median, 45 * MINUTE)
        elif channel == Channel.IN_APP:
            median *= 0.7
        return self._delay(median, 0.7)

    def _customer_delay(self) -> float:
        return self._delay(70.0, 0.5) if self.words.channel in LIVE_CHANNELS else self._delay(3 * HOUR, 1.0)

    def _work_delay(self) -> float:
        return (
            self._delay(3 * MINUTE, 0.5)
            if self.words.channel in LIVE_CHANNELS
            else self._delay(2 * HOUR, 0.9)
        )

    def _maybe_side_notes(self, script: _Script) -> None:
        rng = self.rng
        if rng.random() < 0.25:
            script.then(self._delay(20 * MINUTE), self.note(rng.choice(NEXT_STEP_NOTES)))
        supervisor = self.plotter.cast.supervisors_by_team.get(self.team_id)
        if supervisor is not None and rng.random() < 0.06:
            text = rng.choice(MENTION_NOTES).format(handle=supervisor.handle)
            script.then(self._delay(15 * MINUTE), self.note(text, mention=supervisor))
        if rng.random() < 0.02:
            churn = self.plotter.cast.tag_ids["churn-risk"]
            script.then(self._delay(10 * MINUTE), self.note(CHURN_NOTE))
            script.then(
                30.0, lambda at: self.rec.change(self._t(), at, actor_id=self.owner.id, add_tag_ids=[churn])
            )
        if self.priority > 1 and rng.random() < 0.05:
            bumped = self.priority - 1
            script.then(
                self._delay(30 * MINUTE),
                lambda at: self.rec.change(self._t(), at, actor_id=self.owner.id, priority=bumped),
            )

    def _ending(self, script: _Script, target: str) -> None:
        """After the fix went out: maybe a relapse, then closing (automatically or by the agent)."""
        rng = self.rng
        if target == S.RESOLVED:
            return
        if rng.random() < 0.07:
            reopen = self.words.customer(rng.choice(self.words.phrases.reopen))
            script.then(self._delay(1.5 * DAY, 0.8), self.customer_says(reopen))
            script.then(self._work_delay(), self.reply(self.words.phrases.second_fix, new_status=S.RESOLVED))
        if rng.random() < 0.75:
            script.then(
                AUTO_CLOSE_AFTER + rng.uniform(60, 15 * MINUTE), lambda at: self.close(at, by_agent=False)
            )
        else:
            script.then(self._delay(3 * HOUR), lambda at: self.close(at, by_agent=True))

    def _escalation(self, script: _Script, target: str, *, first_delay: float | None = None) -> bool:
        """Tell the customer, hand over to Tier 2; True when the story stops there (pending internal)."""
        delay = self._work_delay() if first_delay is None else first_delay
        script.then(delay, self.reply(self.words.phrases.escalated))
        script.then(self._delay(5 * MINUTE, 0.5), self.escalate)
        if target == S.PENDING_INTERNAL or self.rng.random() < 0.5:
            script.then(self._delay(4 * HOUR), self.wait_internally)
            if target == S.PENDING_INTERNAL:
                return True
            if self.rng.random() < 0.4:
                nudge = self.words.customer(self.rng.choice(self.words.phrases.nudge))
                script.then(self._delay(1.5 * DAY), self.customer_says(nudge))
            script.then(self._delay(2.5 * DAY, 0.7), self.reply(self.words.fix(), new_status=S.RESOLVED))
        else:
            script.then(self._delay(6 * HOUR), self.note(self.words.fill(self.issue.l2_note)))
            script.then(self._delay(2 * HOUR), self.reply(self.words.fix(), new_status=S.RESOLVED))
        return False

    def inbound_story(self, script: _Script, target: str, *, duplicate: bool, created: bool = False) -> None:
        """Email, web form, in-app and social: asynchronous, hours between turns."""
        rng = self.rng
        if not created:
            script.then(0, self.open)
        if target == S.NEW:
            if rng.random() < 0.3:
                nudge = self.words.customer(rng.choice(self.words.phrases.nudge))
                script.then(self._delay(5 * HOUR), self.customer_says(nudge))
            return
        script.then(rng.uniform(10, 12 * MINUTE), self._assign_unless_assigned)
        if target == S.ASSIGNED:
            return
        if duplicate:
            script.then(rng.uniform(5 * MINUTE, 30 * MINUTE), self.open_duplicate)
            script.then(rng.uniform(5 * MINUTE, 30 * MINUTE), self.merge_duplicate)
        self._maybe_side_notes(script)
        if target == S.IN_PROGRESS:
            script.then(self._first_response_delay(), self.reply(self.words.phrases.ack))
            if rng.random() < 0.4:
                script.then(self._customer_delay(), self.customer_says(self.words.answer()))
            return
        asks = target == S.PENDING_CUSTOMER or rng.random() < 0.5
        if asks:
            script.then(
                self._first_response_delay(), self.reply(self.words.ask(), new_status=S.PENDING_CUSTOMER)
            )
            if target == S.PENDING_CUSTOMER:
                return
            script.then(self._customer_delay(), self.customer_says(self.words.answer()))
            if rng.random() < 0.3:
                script.then(self._delay(20 * MINUTE), self.note(self.words.fill(self.issue.note)))
            next_delay = self._work_delay()
        else:
            next_delay = self._first_response_delay()
        if target == S.PENDING_INTERNAL or rng.random() < self.issue.escalation_rate:
            if self._escalation(script, target, first_delay=next_delay):
                return
        elif rng.random() < 0.2:
            # "Does this fix it?" first; the customer confirms before the agent resolves.
            script.then(next_delay, self.reply(self.words.fix(), new_status=S.PENDING_CUSTOMER))
            thanks = self.words.customer(rng.choice(self.words.phrases.thanks))
            script.then(self._customer_delay(), self.customer_says(thanks))
            script.then(self._delay(30 * MINUTE), self.resolve)
        else:
            script.then(next_delay, self.reply(self.words.fix(), new_status=S.RESOLVED))
        self._ending(script, target)

    def _assign_unless_assigned(self, at: datetime) -> None:
        if self._t().assignee_id is None:
            self.assign(at)

    def chat_story(self, script: _Script, target: str) -> None:
        """A live chat: seconds between turns, usually solved before the customer leaves."""
        rng = self.rng
        script.then(0, self.open)
        if target == S.NEW:
            return
        script.then(rng.uniform(15, 120), self.assign)
        if target == S.ASSIGNED:
            return
        script.then(self._delay(50, 0.6), self.reply(self.words.phrases.chat_greeting))
        script.then(self._customer_delay(), self.customer_says(self.words.answer()))
        if target == S.IN_PROGRESS:
            return
        if target == S.PENDING_CUSTOMER:
            script.then(self._work_delay(), self.reply(self.words.ask(), new_status=S.PENDING_CUSTOMER))
            return
        if target == S.PENDING_INTERNAL or rng.random() < self.issue.escalation_rate * 0.6:
            if self._escalation(script, target):
                return
        else:
            script.then(self._work_delay(), self.reply(self.words.fix()))
            thanks = self.words.customer(rng.choice(self.words.phrases.thanks))
            script.then(self._customer_delay(), self.customer_says(thanks))
            script.then(self._delay(40, 0.5), self.resolve)
        self._ending(script, target)

    def logged_story(self, script: _Script, target: str) -> None:
        """Phone and walk-in: the agent logs it while talking, often solved on the spot."""
        rng = self.rng
        script.then(0, self.open)
        if target in (S.NEW, S.ASSIGNED):
            return
        # Steps after the call start at hang-up.
        call = float(self.call_seconds or 0)
        if target == S.IN_PROGRESS:
            script.then(call + self._delay(20 * MINUTE), self.reply(self.words.phrases.ack))
            return
        if target == S.PENDING_CUSTOMER:
            script.then(
                call + self._delay(10 * MINUTE), self.reply(self.words.ask(), new_status=S.PENDING_CUSTOMER)
            )
            return
        if target == S.PENDING_INTERNAL or rng.random() < self.issue.escalation_rate * 0.7:
            if self._escalation(script, target):
                return
        elif rng.random() < 0.6:
            # Solved during the call; a written summary follows for the customer's records.
            script.then(call, self.resolve)
        else:
            script.then(call + self._delay(15 * MINUTE), self.reply(self.words.fix(), new_status=S.RESOLVED))
        self._ending(script, target)

    def incident_story(self, script: _Script, incident: Incident, created_at: datetime) -> None:
        """A ticket about an ongoing outage: linked to the incident, solved when the incident is."""
        rng = self.rng
        script.then(0, self.open)
        script.then(rng.uniform(60, 8 * MINUTE), self.assign)
        script.then(rng.uniform(2 * MINUTE, 10 * MINUTE), self.reply(self.words.phrases.ack))
        link = f"Linked to incident {incident.code}: {incident.title}. Updates on https://status.northwind.example."
        script.then(
            rng.uniform(30, 5 * MINUTE), lambda at: self.rec.system_message(self._t(), at, body_text=link)
        )
        until_fixed = (incident.resolved_at - created_at).total_seconds() - script.elapsed
        script.then(
            until_fixed + rng.uniform(3 * MINUTE, 25 * MINUTE),
            self.reply(self.words.fix(), new_status=S.RESOLVED),
        )
        script.then(
            AUTO_CLOSE_AFTER + rng.uniform(60, 15 * MINUTE), lambda at: self.close(at, by_agent=False)
        )

    def open_duplicate(self, at: datetime) -> None:
        """The customer also writes through the web form, which opens a second ticket."""
        short = self.words.fill(self.issue.short)
        body = f"I already emailed about this but wanted to make sure it's seen: {short}"
        self.duplicate = self._create(at, channel=Channel.WEB_FORM, body=body)

    def merge_duplicate(self, at: datetime) -> None:
        assert self.duplicate is not None
        self.rec.merge(self.duplicate, self._t(), at, actor_id=self.owner.id)


def outage_issue(rng: random.Random) -> Issue:
    return rng.choice(OUTAGE_ISSUES)
