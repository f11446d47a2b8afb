"""Demo data: Northwind Cloud, a SaaS company whose support center runs 24/7 in three regions.

``seed_demo`` creates the team (admin, a supervisor per region, L1 and L2 agents, a
specialist, a QA reviewer, a knowledge owner), the taxonomy, ~200 customer contacts in 30
organizations and ~1,000 tickets over the last 90 days with their conversations and
timelines, plus a few unread notifications. It is idempotent (a second run finds the demo
admin and does nothing) and deterministic for a given start time.

The tickets are fixtures, not user input, so they are bulk-inserted from histories that
``story.Recorder`` builds by the same rules as ``tickets.actions``: going through the real
actions would take minutes and could not write past timestamps.
"""

from __future__ import annotations

import random
import time
import unicodedata
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.db.models import F
from django.utils import timezone

from relaydesk.accounts.models import Role, Team, User
from relaydesk.core.sanitize import text_to_html
from relaydesk.customers.models import Contact, ContactEmail, Organization
from relaydesk.demo import content
from relaydesk.demo.cast import (
    Agent,
    Cast,
    Customer,
    Incident,
    as_datetime,
    creation_times,
    customer_weights,
    region_of,
    utc_offset_hours,
)
from relaydesk.demo.content import DEMO_LOGIN_HANDLES, STAFF_DOMAIN
from relaydesk.demo.plots import Plotter, outage_issue
from relaydesk.demo.story import MessageRow, Person, Recorder, TicketRow, number_rows
from relaydesk.mail.models import AcknowledgementTemplate, Mailbox
from relaydesk.notifications.models import Notification
from relaydesk.sla import table as sla_table
from relaydesk.sla.actions import next_check, rebuild_clocks
from relaydesk.sla.models import BusinessCalendarConfig, ServiceVision, SLAClock, SLAPolicy
from relaydesk.tickets.models import Category, Channel, Message, Product, Status, Tag, Ticket, TicketEvent

DEMO_PASSWORD = "relaydesk-demo"  # noqa: S105 -- published demo sign-in, demo data only
DEMO_LOGINS: list[tuple[str, str]] = [
    (label, f"{handle}@{STAFF_DOMAIN}") for label, handle in DEMO_LOGIN_HANDLES
]

SEED = 20_250_611
DEMO_DAYS = 90
DEMO_TICKETS = 960  # plus incident tickets, follow-ups and merged duplicates: ~1,000 in all
FOLLOW_UPS = 14
MERGED_DUPLICATES = 3
# Notifications older than NOTIFICATIONS_WITHIN are left out; see _write_notifications.
NOTIFICATIONS_WITHIN = timedelta(days=10)
UNREAD_WITHIN = timedelta(hours=30)
UNREAD_OPEN_WITHIN = timedelta(days=4)
BATCH = 500

Progress = Callable[[str], None]


def seed_demo(progress: Progress = print) -> None:
    """Load the demo center unless it is already there (see the module docstring)."""
    started = time.perf_counter()
    rng = random.Random(SEED)
    now = timezone.now().replace(microsecond=0)
    # The check is inside the transaction: on SQLite (IMMEDIATE) a second seeder waits for the
    # first and then finds its rows; on PostgreSQL it fails on the unique email instead.
    with transaction.atomic():
        if User.objects.filter(email__iexact=DEMO_LOGINS[0][1]).exists():
            progress("demo data is already loaded: nothing to do")
            return
        cast, people = _seed_people(now)
        progress(f"people: {len(people)} in {len(content.TEAMS)} teams")
        _seed_taxonomy(cast)
        _seed_sla()
        _seed_mail()
        customers = _seed_customers(rng, now)
        progress(f"customers: {len(customers)} contacts in {len(content.ORGANIZATIONS)} organizations")
        recorder = Recorder(
            people=people,
            team_names=dict(Team.objects.values_list("id", "name")),
            tag_names={tag_id: name for name, tag_id in cast.tag_ids.items()},
        )
        tickets = _play_tickets(rng, recorder, cast, customers, now)
        progress(f"tickets: {len(tickets)} histories built")
        _write_tickets(tickets, progress)
        progress(f"SLA clocks: started on {_start_sla_clocks(now)} tickets")
        unread = _write_notifications(rng, recorder, customers, now)
        _reset_sequences([Ticket, Message])
    progress(f"notifications: {unread} unread")
    progress(f"demo data loaded in {time.perf_counter() - started:.1f} s")


# --- people and reference data ------------------------------------------------------------


def _seed_sla() -> None:
    """Each team's business calendar and the center's SLA table (business hours)."""
    for team_name, spec in content.CALENDARS.items():
        calendar = BusinessCalendarConfig(**spec)
        calendar.full_clean()
        calendar.save()
        Team.objects.filter(name=team_name).update(calendar=calendar)
    Team.objects.exclude(name=content.L2_TEAM).update(escalation_team=Team.objects.get(name=content.L2_TEAM))
    sla_table.changed()  # the teams' calendars changed through update()
    default = SLAPolicy()
    SLAPolicy.objects.bulk_create(
        SLAPolicy(
            warning_actions=list(content.SLA_ESCALATIONS.get(name, (default.warning_actions, ()))[0]),
            breach_actions=list(content.SLA_ESCALATIONS.get(name, ((), default.breach_actions))[1]),
            name=name,
            position=position,
            channel=channel,
            priority=priority,
            organization_tier=tier,
            first_response_minutes=first,
            next_response_minutes=following,
            resolution_minutes=resolution,
        )
        for position, (name, channel, priority, tier, first, following, resolution) in enumerate(
            content.SLA_TABLE
        )
    )
    ServiceVision.objects.create(**content.SERVICE_VISION)


def _seed_mail() -> None:
    teams = dict(Team.objects.values_list("name", "pk"))
    for name, address, display_name, team, language in content.MAILBOXES:
        Mailbox.objects.create(
            name=name, address=address, display_name=display_name, team_id=teams[team], language=language
        )
    for language, (subject, body) in content.ACKNOWLEDGEMENTS.items():
        AcknowledgementTemplate.objects.create(language=language, subject=subject, body=body)


def _start_sla_clocks(now: datetime) -> int:
    """Clocks for every demo ticket, replayed from its history like any ticket's.

    Thresholds already behind us count as escalated then (the history has no scanner): the
    first scan after start-up escalates only what crosses from now on, as in a running center.
    """
    changed = rebuild_clocks(Ticket.objects.order_by("pk"))
    SLAClock.objects.filter(warned_at__isnull=True, warn_at__lte=now).update(warned_at=F("warn_at"))
    SLAClock.objects.filter(breached_at__isnull=True, due_at__lte=now).update(breached_at=F("due_at"))
    stale = list(SLAClock.objects.filter(next_check_at__lte=now))
    for clock in stale:
        clock.next_check_at = next_check(clock)
    SLAClock.objects.bulk_update(stale, ["next_check_at"], batch_size=BATCH)
    return changed


def _seed_people(now: datetime) -> tuple[Cast, dict[int, Person]]:
    teams: dict[str, Team] = {}
    for team_spec in content.TEAMS:
        teams[team_spec.name], _ = Team.objects.get_or_create(
            name=team_spec.name,
            defaults={
                "region": team_spec.region,
                "time_zone": team_spec.time_zone,
                "description": team_spec.description,
                "created_at": now - timedelta(days=700),
            },
        )
    cast = Cast(
        front_team_ids={
            spec.region: teams[spec.name].pk for spec in content.TEAMS if spec.name != content.L2_TEAM
        },
        l2_team_id=teams[content.L2_TEAM].pk,
        agents_by_team={},
        supervisors_by_team={},
        l2_agents=[],
        specialists=[],
        category_ids={},
        product_ids={},
        tag_ids={},
    )
    people: dict[int, Person] = {}
    for index, spec in enumerate(content.PEOPLE):
        user = User.objects.create_user(
            f"{spec.handle}@{STAFF_DOMAIN}",
            DEMO_PASSWORD,
            full_name=spec.full_name,
            role=spec.role,
            level=spec.level,
            time_zone=spec.time_zone,
            languages=list(spec.languages),
            skills=list(spec.skills),
            capacity=spec.capacity,
            is_staff=spec.role == Role.ADMIN,
            is_superuser=spec.role == Role.ADMIN,
            date_joined=now - timedelta(days=650 - 25 * index),
        )
        user.teams.set([teams[name] for name in spec.teams])
        people[user.pk] = Person(id=user.pk, name=user.full_name)
        agent = Agent(id=user.pk, name=user.full_name, handle=spec.handle, languages=spec.languages)
        team_ids = [teams[name].pk for name in spec.teams]
        if spec.role == Role.SUPERVISOR:
            cast.supervisors_by_team[team_ids[0]] = agent
        elif spec.role == Role.AGENT and spec.level == "specialist":
            cast.specialists.append(agent)
        elif spec.role == Role.AGENT and cast.l2_team_id in team_ids:
            cast.l2_agents.append(agent)
        elif spec.role == Role.AGENT:
            for team_id in team_ids:
                cast.agents_by_team.setdefault(team_id, []).append(agent)
    return cast, people


def _seed_taxonomy(cast: Cast) -> None:
    for name in content.CATEGORIES:
        cast.category_ids[name] = Category.objects.get_or_create(name=name)[0].pk
    for name in content.PRODUCTS:
        cast.product_ids[name] = Product.objects.get_or_create(name=name)[0].pk
    for name, color in content.TAGS:
        cast.tag_ids[name] = Tag.objects.get_or_create(name=name, defaults={"color": color})[0].pk


def _ascii(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isascii() and (c.isalnum() or c == "-")).lower()


def _seed_customers(rng: random.Random, now: datetime) -> list[Customer]:
    """Organizations, their contacts with one or two email addresses, and a few individuals."""
    organizations = Organization.objects.bulk_create(
        [
            Organization(
                name=spec.name,
                domain=spec.domain,
                tier=spec.tier,
                notes=f"Looked after by the {spec.region} team.",
                created_at=now - timedelta(days=rng.randint(120, 1100)),
            )
            for spec in content.ORGANIZATIONS
        ]
    )
    # (contact, addresses, first name, last name, region, tier, organization)
    people: list[tuple[Contact, list[str], str, str, str, str, Organization | None]] = []
    used: set[str] = set()

    def address(first: str, last: str, domain: str) -> str:
        local = f"{_ascii(first)}.{_ascii(last)}"
        candidate, n = f"{local}@{domain}", 2
        while candidate in used:
            candidate, n = f"{local}{n}@{domain}", n + 1
        used.add(candidate)
        return candidate

    for organization, spec in zip(organizations, content.ORGANIZATIONS, strict=True):
        for index in range(spec.size):
            culture = spec.cultures[0] if index % 3 != 2 else rng.choice(spec.cultures)
            first, last = rng.choice(content.FIRST_NAMES[culture]), rng.choice(content.LAST_NAMES[culture])
            language = spec.language if spec.language == "en" or rng.random() < 0.8 else "en"
            time_zone = rng.choice(spec.time_zones)
            contact = Contact(
                name=f"{first} {last}",
                organization=organization,
                phone=f"{spec.phone_prefix}{rng.randint(10, 99)}" if rng.random() < 0.7 else "",
                language=language,
                time_zone=time_zone,
                created_at=organization.created_at + timedelta(days=rng.randint(0, 100)),
            )
            emails = [address(first, last, spec.domain)]
            if rng.random() < 0.12:
                emails.append(address(first[0], last, spec.domain))
            if rng.random() < 0.05:
                emails.append(address(first, last, content.INDIVIDUALS_DOMAIN))
            people.append((contact, emails, first, last, spec.region, spec.tier, organization))
    for _ in range(content.INDIVIDUAL_COUNT):
        culture = rng.choice(["us", "uk", "au", "in", "de", "es", "nigeria", "china"])
        first, last = rng.choice(content.FIRST_NAMES[culture]), rng.choice(content.LAST_NAMES[culture])
        time_zone = rng.choice(content.INDIVIDUAL_TIME_ZONES)
        contact = Contact(
            name=f"{first} {last}",
            language="en",
            time_zone=time_zone,
            notes="Self-serve Starter plan, signed up with a personal address.",
            created_at=now - timedelta(days=rng.randint(100, 600)),
        )
        emails = [address(first, last, content.INDIVIDUALS_DOMAIN)]
        people.append((contact, emails, first, last, region_of(time_zone), "standard", None))

    contacts = Contact.objects.bulk_create([entry[0] for entry in people])
    ContactEmail.objects.bulk_create(
        ContactEmail(contact=contact, address=email, is_primary=index == 0)
        for contact, (_, emails, *_rest) in zip(contacts, people, strict=True)
        for index, email in enumerate(emails)
    )
    return [
        Customer(
            id=contact.pk,
            organization_id=organization.pk if organization else None,
            first=first,
            last=last,
            language=contact.language,
            region=region,
            org_name=organization.name if organization else "",
            tier=tier,
            utc_offset_hours=utc_offset_hours(contact.time_zone, now),
        )
        for contact, (_, _, first, last, region, tier, organization) in zip(contacts, people, strict=True)
    ]


# --- tickets ------------------------------------------------------------------------------


def _play_tickets(
    rng: random.Random, recorder: Recorder, cast: Cast, customers: list[Customer], now: datetime
) -> list[TicketRow]:
    plotter = Plotter(recorder, cast, rng, now=now)
    weights = customer_weights(customers, rng)
    planned = creation_times(rng, customers, weights, count=DEMO_TICKETS, now=now, days=DEMO_DAYS)
    # A few email tickets between one and eight weeks old get a duplicate that is merged in.
    eligible = [
        i
        for i, (ts, _) in enumerate(planned)
        if timedelta(days=7) < now - as_datetime(ts) < timedelta(days=56)
    ]
    with_duplicate = set(rng.sample(eligible, MERGED_DUPLICATES))
    for index, (ts, customer_index) in enumerate(planned):
        duplicate = index in with_duplicate
        plotter.play(
            customers[customer_index],
            as_datetime(ts),
            channel=Channel.EMAIL if duplicate else None,
            duplicate=duplicate,
        )
    for incident in _incidents(now):
        _play_incident(rng, plotter, customers, weights, incident)
    _play_follow_ups(rng, plotter, customers, now)
    return plotter.tickets


def _incidents(now: datetime) -> list[Incident]:
    day = now.replace(hour=0, minute=0, second=0)
    return [
        Incident(
            code="INC-2041",
            title="Web app unavailable (502) in EU and US regions",
            started_at=day - timedelta(days=61) + timedelta(hours=14, minutes=10),
            resolved_at=day - timedelta(days=61) + timedelta(hours=15, minutes=45),
        ),
        Incident(
            code="INC-2077",
            title="API errors (503) for all regions",
            started_at=day - timedelta(days=23) + timedelta(hours=3, minutes=40),
            resolved_at=day - timedelta(days=23) + timedelta(hours=4, minutes=30),
        ),
    ]


def _play_incident(
    rng: random.Random, plotter: Plotter, customers: list[Customer], weights: list[float], incident: Incident
) -> None:
    """A burst of urgent tickets while the incident lasts, from customers all over the world."""
    window = (incident.resolved_at - incident.started_at).total_seconds() * 0.7
    affected = rng.choices(customers, weights=weights, k=rng.randint(14, 20))
    issue = outage_issue(rng)
    for customer in sorted(affected, key=lambda _: rng.random()):
        created_at = incident.started_at + timedelta(seconds=rng.uniform(120, window))
        channel = rng.choice([Channel.EMAIL, Channel.CHAT, Channel.SOCIAL, Channel.WEB_FORM, Channel.IN_APP])
        plotter.play(customer, created_at, issue=issue, channel=channel, incident=incident)


def _play_follow_ups(rng: random.Random, plotter: Plotter, customers: list[Customer], now: datetime) -> None:
    by_id = {customer.id: customer for customer in customers}
    latest = now - timedelta(hours=2)
    closed = [
        ticket
        for ticket in plotter.tickets
        if ticket.status == Status.CLOSED
        and ticket.merged_into is None
        and ticket.closed_at is not None
        and ticket.closed_at < now - timedelta(days=2)
    ]
    for ticket in rng.sample(closed, min(FOLLOW_UPS, len(closed))):
        assert ticket.closed_at is not None
        at = ticket.closed_at + timedelta(hours=rng.uniform(6, 9 * 24))
        if at < latest:
            plotter.play_follow_up(ticket, by_id[ticket.requester_id], at)


def _max_id(model: type[models.Model]) -> int:
    return model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0


def _write_tickets(tickets: list[TicketRow], progress: Progress) -> None:
    messages, events = number_rows(
        tickets, first_ticket_id=_max_id(Ticket) + 1, first_message_id=_max_id(Message) + 1
    )
    for start in range(0, len(tickets), BATCH):
        Ticket.objects.bulk_create([_ticket(row) for row in tickets[start : start + BATCH]])
        progress(f"tickets {min(start + BATCH, len(tickets))}/{len(tickets)}")
    # Tickets point at each other (follow-ups, merges) only backwards in time, but set the
    # links after every row exists so the insert order never matters.
    linked = [
        Ticket(
            pk=row.id,
            follow_up_of_id=row.follow_up_of.id if row.follow_up_of else None,
            merged_into_id=row.merged_into.id if row.merged_into else None,
        )
        for row in tickets
        if row.follow_up_of or row.merged_into
    ]
    Ticket.objects.bulk_update(linked, ["follow_up_of", "merged_into"])
    Ticket.tags.through.objects.bulk_create(
        Ticket.tags.through(ticket_id=row.id, tag_id=tag_id) for row in tickets for tag_id in row.tag_ids
    )
    Message.objects.bulk_create((_message(row) for row in messages), batch_size=BATCH)
    progress(f"messages: {len(messages)}")
    TicketEvent.objects.bulk_create(
        (
            TicketEvent(
                ticket_id=ticket.id,
                kind=event.kind,
                actor_id=event.actor_id,
                field=event.field,
                old_value=event.old_value,
                new_value=event.new_value,
                data=event.data,
                created_at=event.created_at,
            )
            for ticket, event in events
        ),
        batch_size=BATCH,
    )
    progress(f"events: {len(events)}")


def _ticket(row: TicketRow) -> Ticket:
    return Ticket(
        pk=row.id,
        subject=row.subject,
        status=row.status,
        priority=row.priority,
        channel=row.channel,
        requester_id=row.requester_id,
        organization_id=row.organization_id,
        team_id=row.team_id,
        assignee_id=row.assignee_id,
        level=row.level,
        language=row.language,
        category_id=row.category_id,
        product_id=row.product_id,
        created_at=row.created_at,
        updated_at=row.updated_at,
        waiting_since=row.waiting_since,
        first_response_at=row.first_response_at,
        resolved_at=row.resolved_at,
        closed_at=row.closed_at,
        reopen_count=row.reopen_count,
        call_duration_seconds=row.call_duration_seconds,
        version=row.version,
    )


def _message(row: MessageRow) -> Message:
    return Message(
        pk=row.id,
        ticket_id=row.ticket.id,
        kind=row.kind,
        direction=row.direction,
        author_user_id=row.author_user_id,
        author_contact_id=row.author_contact_id,
        body_text=row.body_text,
        body_html=text_to_html(row.body_text),
        created_at=row.created_at,
    )


def _write_notifications(
    rng: random.Random, recorder: Recorder, customers: list[Customer], now: datetime
) -> int:
    """What the bell would hold: the last days' notifications, recent ones on open tickets unread.

    Every agent among the demo sign-ins gets at least two unread, so the bell shows something.
    """
    names = {customer.id: f"{customer.first} {customer.last}" for customer in customers}
    recent = sorted(
        (note for note in recorder.notifications if note.created_at >= now - NOTIFICATIONS_WITHIN),
        key=lambda note: note.created_at,
    )
    unread: set[int] = set()
    for index, note in enumerate(recent):
        fresh = note.created_at >= now - UNREAD_WITHIN
        if fresh or (
            note.ticket.is_open and note.created_at >= now - UNREAD_OPEN_WITHIN and rng.random() < 0.6
        ):
            unread.add(index)
    login_ids = set(
        User.objects.filter(email__in=[email for _, email in DEMO_LOGINS]).values_list("pk", flat=True)
    )
    for user_id in login_ids:
        mine = [index for index, note in enumerate(recent) if note.recipient_id == user_id]
        unread.update(mine[-2:])
    rows = []
    for index, note in enumerate(recent):
        read_at = None
        if index not in unread:
            read_at = min(note.created_at + timedelta(minutes=rng.uniform(2, 240)), now)
        rows.append(
            Notification(
                recipient_id=note.recipient_id,
                kind=note.kind,
                actor_id=note.actor_id,
                ticket_id=note.ticket.id,
                text=note.render(names[note.ticket.requester_id]),
                created_at=note.created_at,
                read_at=read_at,
            )
        )
    Notification.objects.bulk_create(rows, batch_size=BATCH)
    return len(unread)


def _reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """After inserting explicit ids, move PostgreSQL's id sequences past them (no-op on SQLite)."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(model_list))
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
