"""Fill the configured database with many realistic tickets, fast enough for a million.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relaydesk_bench \\
        python -m bench.generate --tickets 1000000

Tickets come from the same story engine as the demo (``relaydesk.demo.plots`` and
``story.Recorder``), so statuses, timestamps, messages and TicketEvents agree with each
other as if ``tickets.actions`` had written them, but the rows go in with COPY on
PostgreSQL (executemany on SQLite) instead of the ORM: the difference between hours and
minutes. The people and teams are the demo's (loaded first if absent) plus ``--agents``
extra agents, and ``--contacts`` customers in organizations of about 25, so that
per-agent, per-team and per-customer queries see realistic selectivity. It adds to what
is there: ids continue after the highest existing ones, and the id sequences are moved
past them at the end. One transaction: a failed run leaves nothing behind.
"""

from __future__ import annotations

import os

import django
from django.apps import apps

# Run as a script, Django has to be set up before the models below are imported.
if not apps.ready:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.config.settings")
    django.setup()

import argparse
import json
import queue
import random
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.color import no_style
from django.db import connection, models, transaction
from django.utils import timezone

from relaydesk.accounts.models import Level, Role, Team, User
from relaydesk.customers.models import Contact, ContactEmail, Organization
from relaydesk.demo import content
from relaydesk.demo.cast import (
    Agent,
    Cast,
    Customer,
    as_datetime,
    creation_times,
    customer_weights,
    region_of,
    utc_offset_hours,
)
from relaydesk.demo.plots import BENCH_TARGETS, Plotter
from relaydesk.demo.seed import DEMO_LOGINS, seed_demo
from relaydesk.demo.story import Person, Recorder, TicketRow, number_rows, plain_text_html
from relaydesk.tickets.models import Category, Message, Product, Tag, Ticket, TicketEvent

Progress = Callable[[str], None]
Row = tuple[Any, ...]

BENCH_AGENT_EMAIL = "bench.agent.{:04d}@" + content.STAFF_DOMAIN
CONTACTS_PER_ORGANIZATION = 25
ORG_WORDS = (
    "Acorn", "Aurora", "Basalt", "Beacon", "Birch", "Cobalt", "Copper", "Crescent", "Delta", "Ember",
    "Falcon", "Fjord", "Granite", "Harbor", "Horizon", "Indigo", "Juniper", "Kestrel", "Lumen", "Maple",
    "Meridian", "Nimbus", "Oak", "Onyx", "Orbit", "Pioneer", "Quartz", "Raven", "Sable", "Sierra",
    "Solstice", "Summit", "Tidal", "Timber", "Vertex", "Willow", "Zenith", "Atlas", "Cedar", "Harvest",
)  # fmt: skip
ORG_TRADES = (
    "Analytics", "Logistics", "Health", "Foods", "Energy", "Media", "Robotics", "Retail", "Legal",
    "Labs", "Travel", "Finance", "Studios", "Systems", "Telecom", "Learning", "Freight", "Insurance",
)  # fmt: skip
ORG_FORMS = {
    "Americas": ("Inc.", "LLC", "Corp.", "S.A. de C.V.", "Ltda."),
    "EMEA": ("Ltd", "GmbH", "SAS", "S.L.", "B.V.", "AB", "plc"),
    "APAC": ("Pte Ltd", "Pty Ltd", "K.K.", "Pvt Ltd", "Ltd"),
}
REGION_CULTURES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # region -> (name pools, time zones)
    "Americas": (
        ("us", "us", "us", "es", "pt", "in", "china"),
        ("America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles", "America/Sao_Paulo"),
    ),
    "EMEA": (
        ("uk", "uk", "de", "fr", "es", "nordic", "dutch", "arabic", "nigeria"),
        (
            "Europe/London",
            "Europe/Berlin",
            "Europe/Paris",
            "Europe/Madrid",
            "Europe/Stockholm",
            "Africa/Lagos",
        ),
    ),
    "APAC": (
        ("au", "in", "china", "ja", "malay", "filipino", "korean"),
        ("Asia/Singapore", "Australia/Sydney", "Asia/Tokyo", "Asia/Kolkata", "Asia/Manila", "Asia/Seoul"),
    ),
}


@dataclass
class Result:
    tickets: int = 0
    rows: int = 0  # every row written: tickets, tag links, messages, events, contacts...
    seconds: float = 0.0
    by_table: dict[str, int] = field(default_factory=dict)

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


# --- writing rows -----------------------------------------------------------------------


class Sink:
    """Appends rows to tables: binary COPY on PostgreSQL, executemany on SQLite.

    On PostgreSQL the COPYs run in a writer thread, so that the server files one batch into
    its indexes while this process builds the next: the two halves of the work overlap on
    two cores. ``write`` may therefore return before the rows are in; call ``flush`` before
    reading from the database. Use it as a context manager so the thread always stops.
    """

    def __init__(self, result: Result) -> None:
        self.result = result
        self.postgres = connection.vendor == "postgresql"
        connection.ensure_connection()
        # Django's connection object is per thread: the writer thread uses the driver's
        # connection directly, inside the transaction the caller opened.
        self._raw = connection.connection
        self._jobs: queue.Queue[tuple[str, Sequence[str], Iterable[Row]] | None] = queue.Queue(maxsize=2)
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._types: dict[str, dict[str, str]] = {}

    def __enter__(self) -> Sink:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop()
        if exc_info[0] is None:
            self._raise_if_failed()

    def write(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Row]) -> None:
        table = model._meta.db_table
        if not self.postgres:
            self._count(table, self._insert(table, columns, rows))
            return
        self._raise_if_failed()
        if self._thread is None:
            self._thread = threading.Thread(target=self._copy_jobs, name="bench-copy", daemon=True)
            self._thread.start()
        self._jobs.put((table, columns, rows))

    def flush(self) -> None:
        self._stop()
        self._raise_if_failed()

    def _stop(self) -> None:
        if self._thread is not None:
            self._jobs.put(None)
            self._thread.join()
            self._thread = None

    def _raise_if_failed(self) -> None:
        if self._error is not None:
            raise RuntimeError("writing rows failed") from self._error

    def _count(self, table: str, count: int) -> None:
        self.result.rows += count
        self.result.by_table[table] = self.result.by_table.get(table, 0) + count

    def _copy_jobs(self) -> None:
        while (job := self._jobs.get()) is not None:
            if self._error is None:  # after a failure, only drain the queue
                try:
                    self._count(job[0], self._copy(*job))
                except BaseException as exc:
                    self._error = exc

    def _copy(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        quoted = ", ".join(f'"{column}"' for column in columns)
        count = 0
        with self._raw.cursor() as cursor:
            if table not in self._types:
                cursor.execute(
                    "SELECT attname, format_type(atttypid, NULL) FROM pg_attribute "
                    "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
                    [table],
                )
                self._types[table] = dict(cursor.fetchall())
            # Binary: the server does not parse timestamps and numbers from text.
            with cursor.copy(f"COPY {table} ({quoted}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types([self._types[table][column] for column in columns])
                for row in rows:
                    copy.write_row(row)
                    count += 1
        return count

    def _insert(self, table: str, columns: Sequence[str], rows: Iterable[Row]) -> int:
        # SQLite keeps datetimes as text in the format Django writes, JSON as text.
        adapt = connection.ops.adapt_datetimefield_value
        values = [
            tuple(
                adapt(v) if isinstance(v, datetime) else json.dumps(v) if isinstance(v, dict | list) else v
                for v in row
            )
            for row in rows
        ]
        quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
        placeholders = ", ".join(["%s"] * len(columns))
        with connection.cursor() as cursor:
            cursor.executemany(f"INSERT INTO {table} ({quoted}) VALUES ({placeholders})", values)
        return len(values)


def _columns(model: type[models.Model], names: Sequence[str]) -> list[str]:
    columns = []
    for name in names:
        model_field = model._meta.get_field(name)
        assert isinstance(model_field, models.Field)
        columns.append(model_field.get_attname_column()[1])
    return columns


TICKET_FIELDS = (
    "id", "subject", "status", "priority", "channel", "requester", "organization", "team", "assignee",
    "level", "language", "category", "product", "created_at", "updated_at", "waiting_since",
    "first_response_at", "resolved_at", "closed_at", "reopen_count", "call_duration_seconds", "version",
    "merged_into", "follow_up_of",
)  # fmt: skip
MESSAGE_FIELDS = (
    "id", "ticket", "kind", "direction", "author_user", "author_contact", "body_text", "body_html",
    "created_at",
)  # fmt: skip
EVENT_FIELDS = ("ticket", "kind", "actor", "field", "old_value", "new_value", "data", "created_at")


def write_tickets(
    sink: Sink, tickets: list[TicketRow], *, first_ticket_id: int, first_message_id: int
) -> None:
    """Number ``tickets`` from the given ids and write them with their tags, messages and events."""
    messages, events = number_rows(
        tickets, first_ticket_id=first_ticket_id, first_message_id=first_message_id, interleave=False
    )
    sink.write(
        Ticket,
        _columns(Ticket, TICKET_FIELDS),
        (
            (
                t.id, t.subject, t.status, t.priority, t.channel, t.requester_id, t.organization_id,
                t.team_id, t.assignee_id, t.level, t.language, t.category_id, t.product_id, t.created_at,
                t.updated_at, t.waiting_since, t.first_response_at, t.resolved_at, t.closed_at,
                t.reopen_count, t.call_duration_seconds, t.version,
                t.merged_into.id if t.merged_into else None,
                t.follow_up_of.id if t.follow_up_of else None,
            )
            for t in tickets
        ),
    )  # fmt: skip
    through = Ticket.tags.through
    sink.write(
        through,
        _columns(through, ("ticket", "tag")),
        ((t.id, tag_id) for t in tickets for tag_id in t.tag_ids),
    )
    sink.write(
        Message,
        _columns(Message, MESSAGE_FIELDS),
        (
            (
                m.id, m.ticket.id, m.kind, m.direction, m.author_user_id, m.author_contact_id,
                m.body_text, plain_text_html(m.body_text), m.created_at,
            )
            for m in messages
        ),
    )  # fmt: skip
    sink.write(
        TicketEvent,
        _columns(TicketEvent, EVENT_FIELDS),
        (
            (t.id, e.kind, e.actor_id, e.field, e.old_value, e.new_value, e.data, e.created_at)
            for t, e in events
        ),
    )


# --- the people and customers tickets are about ------------------------------------------


def _max_id(model: type[models.Model]) -> int:
    return model._default_manager.aggregate(top=models.Max("pk"))["top"] or 0


def ensure_agents(count: int, rng: random.Random, *, joined: datetime, progress: Progress) -> None:
    """Bench agents beyond the demo's, spread over the teams, until there are ``count`` of them."""
    existing = User.objects.filter(email__startswith="bench.agent.").count()
    if existing >= count:
        return
    teams = {team.name: team for team in Team.objects.all()}
    front = [teams[spec.name] for spec in content.TEAMS if spec.name != content.L2_TEAM]
    languages = {"Americas": ("en", "es", "pt"), "EMEA": ("en", "de", "fr", "es"), "APAC": ("en", "ja", "zh")}
    skills = ("billing", "account-access", "how-to", "integrations", "api", "mobile", "sso")
    # No usable password: these accounts exist for queries, nobody signs in with them.
    unusable = make_password(None)
    users, memberships = [], []
    for number in range(existing + 1, count + 1):
        escalations = number % 6 == 0
        team = teams[content.L2_TEAM] if escalations else front[number % len(front)]
        culture = rng.choice(REGION_CULTURES.get(team.region, REGION_CULTURES["EMEA"])[0])
        first, last = rng.choice(content.FIRST_NAMES[culture]), rng.choice(content.LAST_NAMES[culture])
        second_languages = languages.get(team.region, ("en",))[1:]
        spoken = ["en", rng.choice(second_languages)] if second_languages else ["en"]
        users.append(
            User(
                email=BENCH_AGENT_EMAIL.format(number),
                full_name=f"{first} {last}",
                password=unusable,
                role=Role.AGENT,
                level=(Level.SPECIALIST if number % 18 == 0 else Level.L2) if escalations else Level.L1,
                time_zone=team.time_zone,
                languages=spoken,
                skills=rng.sample(skills, k=3),
                capacity=10,
                date_joined=joined,
            )
        )
        memberships.append(team)
    created = User.objects.bulk_create(users)
    User.teams.through.objects.bulk_create(
        User.teams.through(user_id=user.pk, team_id=team.pk)
        for user, team in zip(created, memberships, strict=True)
    )
    progress(f"agents: {len(created)} bench agents added")


def _ascii(value: str) -> str:
    decomposed = unicodedata.normalize("NFKD", value)
    return "".join(c for c in decomposed if c.isascii() and c.isalnum())


def ensure_contacts(
    sink: Sink, count: int, rng: random.Random, *, customers_since: datetime, progress: Progress
) -> None:
    """Customers in organizations of about 25 until there are ``count`` contacts in all."""
    missing = count - Contact.objects.count()
    if missing <= 0:
        return
    org_count = max(1, missing // CONTACTS_PER_ORGANIZATION)
    first_org, first_contact = _max_id(Organization) + 1, _max_id(Contact) + 1
    taken = set(Organization.objects.values_list("name", flat=True))
    regions = ("Americas", "Americas", "EMEA", "EMEA", "APAC")
    organizations = []
    for offset in range(org_count):
        region = regions[offset % len(regions)]
        word, trade, form = rng.choice(ORG_WORDS), rng.choice(ORG_TRADES), rng.choice(ORG_FORMS[region])
        name = f"{word} {trade} {form}"
        while name in taken:
            name = f"{word} {trade} {rng.randint(2, 999)} {form}"
        taken.add(name)
        domain = f"{word}-{trade}-{first_org + offset}.example".lower()
        tier = rng.choices(("standard", "business", "enterprise"), weights=(6, 3, 1))[0]
        organizations.append((first_org + offset, name, domain, tier, region))
    sink.write(
        Organization,
        _columns(Organization, ("id", "name", "domain", "tier", "notes", "created_at")),
        (
            (id_, name, domain, tier, f"Benchmark customer ({region}).", customers_since)
            for id_, name, domain, tier, region in organizations
        ),
    )
    contacts, emails = [], []
    for offset in range(missing):
        org_id, _, domain, _, region = organizations[offset % org_count]
        cultures, zones = REGION_CULTURES[region]
        culture = rng.choice(cultures)
        first, last = rng.choice(content.FIRST_NAMES[culture]), rng.choice(content.LAST_NAMES[culture])
        language = content.CULTURE_LANGUAGE.get(culture, "en") if rng.random() < 0.7 else "en"
        contact_id = first_contact + offset
        created_at = customers_since + timedelta(days=rng.uniform(1, 200))
        contacts.append(
            (contact_id, f"{first} {last}", org_id, "", language, rng.choice(zones), "", created_at)
        )
        local = f"{_ascii(first)}.{_ascii(last)}.{contact_id}".lower()
        emails.append((contact_id, f"{local}@{domain}", True, ""))
        if rng.random() < 0.05:
            emails.append((contact_id, f"{local}@{content.INDIVIDUALS_DOMAIN}", False, ""))
    sink.write(
        Contact,
        _columns(
            Contact, ("id", "name", "organization", "phone", "language", "time_zone", "notes", "created_at")
        ),
        contacts,
    )
    sink.write(
        ContactEmail, _columns(ContactEmail, ("contact", "address", "is_primary", "bounce_reason")), emails
    )
    progress(f"contacts: {missing:,} added in {org_count:,} organizations")


def load_cast() -> Cast:
    """Who can work tickets, as the story engine needs them, from the users and teams in the database."""
    teams = {team.pk: team for team in Team.objects.all()}
    by_name = {team.name: team.pk for team in teams.values()}
    cast = Cast(
        front_team_ids={
            spec.region: by_name[spec.name] for spec in content.TEAMS if spec.name != content.L2_TEAM
        },
        l2_team_id=by_name[content.L2_TEAM],
        agents_by_team={},
        supervisors_by_team={},
        l2_agents=[],
        specialists=[],
        category_ids=dict(Category.objects.values_list("name", "pk")),
        product_ids=dict(Product.objects.values_list("name", "pk")),
        tag_ids=dict(Tag.objects.values_list("name", "pk")),
    )
    members = User.teams.through.objects.values_list("user_id", "team_id")
    team_of: dict[int, list[int]] = {}
    for user_id, team_id in members:
        team_of.setdefault(user_id, []).append(team_id)
    for user in User.objects.filter(is_active=True, role__in=(Role.AGENT, Role.SUPERVISOR)).order_by("pk"):
        agent = Agent(
            id=user.pk, name=user.full_name, handle=user.email.split("@")[0], languages=tuple(user.languages)
        )
        for team_id in team_of.get(user.pk, []):
            if user.role == Role.SUPERVISOR:
                cast.supervisors_by_team.setdefault(team_id, agent)
            elif team_id == cast.l2_team_id:
                (cast.specialists if user.level == Level.SPECIALIST else cast.l2_agents).append(agent)
            else:
                cast.agents_by_team.setdefault(team_id, []).append(agent)
    return cast


def load_customers(now: datetime) -> list[Customer]:
    offsets: dict[str, float] = {}
    customers = []
    rows = Contact.objects.values_list(
        "pk", "organization_id", "name", "language", "time_zone", "organization__name", "organization__tier"
    )
    for pk, org_id, name, language, time_zone, org_name, tier in rows.order_by("pk").iterator(
        chunk_size=5000
    ):
        first, _, last = name.partition(" ")
        if time_zone not in offsets:
            offsets[time_zone] = utc_offset_hours(time_zone, now)
        customers.append(
            Customer(
                id=pk,
                organization_id=org_id,
                first=first,
                last=last or first,
                language=language,
                region=region_of(time_zone),
                org_name=org_name or "",
                tier=tier or "standard",
                utc_offset_hours=offsets[time_zone],
            )
        )
    return customers


# --- the generator --------------------------------------------------------------------------


def _batches(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def generate(
    *,
    tickets: int,
    contacts: int = 50_000,
    agents: int = 150,
    days: float = 730,
    seed: int = 1,
    batch_size: int = 5_000,
    progress: Progress = print,
) -> Result:
    """Add ``tickets`` tickets spread over the last ``days`` days; see the module docstring."""
    started = time.perf_counter()
    rng = random.Random(seed)
    result = Result()
    if not User.objects.filter(email__iexact=DEMO_LOGINS[0][1]).exists():
        seed_demo(progress=lambda line: progress(f"demo: {line}"))
    written = (
        Organization,
        Contact,
        ContactEmail,
        User,
        User.teams.through,
        Ticket,
        Ticket.tags.through,
        Message,
    )
    checked = (*written, TicketEvent)
    with transaction.atomic(), Sink(result) as sink:
        highest_before: dict[type[models.Model], int] = {model: _max_id(model) for model in checked}
        if sink.postgres:
            _skip_row_by_row_reference_checks()
        # People exist before the oldest ticket they could be part of.
        since = timezone.now() - timedelta(days=days + 365)
        ensure_agents(agents, rng, joined=since, progress=progress)
        ensure_contacts(sink, contacts, rng, customers_since=since, progress=progress)
        sink.flush()
        _write_all_tickets(sink, rng, count=tickets, days=days, batch_size=batch_size, progress=progress)
        sink.flush()
        _reset_sequences(written)
        check_started = time.perf_counter()
        check_references(highest_before)
        progress(f"references checked: {time.perf_counter() - check_started:.1f} s")
        if sink.postgres:
            _restore_row_by_row_reference_checks()
    analyze_started = time.perf_counter()
    # On PostgreSQL, VACUUM too, as autovacuum does in a live database: it sets the visibility
    # map, without which a count over an open-ticket index reads the table (one agent's "My
    # tickets" count: 10.5 ms instead of 0.9). VACUUM cannot run in a transaction (tests).
    vacuum = connection.vendor == "postgresql" and not connection.in_atomic_block
    with connection.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)" if vacuum else "ANALYZE")
    progress(
        f"{'vacuum and analyze' if vacuum else 'analyze'}: {time.perf_counter() - analyze_started:.1f} s"
    )
    result.seconds = time.perf_counter() - started
    return result


def _write_all_tickets(
    sink: Sink, rng: random.Random, *, count: int, days: float, batch_size: int, progress: Progress
) -> None:
    now = timezone.now()
    cast = load_cast()
    customers = load_customers(now)
    people = {
        user.pk: Person(id=user.pk, name=user.full_name, is_active=user.is_active)
        for user in User.objects.all()
    }
    recorder = Recorder(
        people=people,
        team_names=dict(Team.objects.values_list("pk", "name")),
        tag_names={pk: name for name, pk in cast.tag_ids.items()},
        keep_notifications=False,
    )
    plotter = Plotter(recorder, cast, rng, now=now, targets=BENCH_TARGETS)
    planned = creation_times(
        rng, customers, customer_weights(customers, rng), count=count, now=now, days=days
    )
    next_ticket, next_message = _max_id(Ticket) + 1, _max_id(Message) + 1
    result = sink.result
    rows_before, writing_started = result.rows, time.perf_counter()
    report_every = max(batch_size, count // 20)
    for batch in _batches(planned, batch_size):
        plotter.tickets = []
        plotter.issue_of.clear()  # only follow-ups need it, and the generator makes none
        for ts, index in batch:
            plotter.play(customers[index], as_datetime(ts))
        made = plotter.tickets
        message_count = sum(len(t.messages) for t in made)
        write_tickets(sink, made, first_ticket_id=next_ticket, first_message_id=next_message)
        next_ticket += len(made)
        next_message += message_count
        result.tickets += len(made)
        if result.tickets % report_every < batch_size or result.tickets == count:
            elapsed = time.perf_counter() - writing_started
            rate = (result.rows - rows_before) / elapsed if elapsed else 0.0
            progress(f"tickets {result.tickets:,}/{count:,} · {result.rows:,} rows · {rate:,.0f} rows/s")


def _skip_row_by_row_reference_checks() -> None:
    """Turn off PostgreSQL's per-row foreign key triggers for this transaction, when allowed.

    They queue a check for every inserted row and run them all at commit, which more than
    doubles the server's work for a big load. ``check_references`` does the same checks
    afterwards, set-based, in seconds. Needs a superuser (the bench's postgres role);
    otherwise the triggers simply stay on.
    """
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        row = cursor.fetchone()
        if row and row[0]:
            cursor.execute("SET LOCAL session_replication_role = replica")
        # Enough memory for the hash joins of check_references.
        cursor.execute("SET LOCAL work_mem = '256MB'")


def _restore_row_by_row_reference_checks() -> None:
    # SET LOCAL would last until the outermost transaction ends, beyond this function
    # when a caller (a test) holds one open.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = DEFAULT")
        cursor.execute("SET LOCAL work_mem TO DEFAULT")


def check_references(highest_before: dict[type[models.Model], int]) -> None:
    """Fail unless every foreign key in the rows added since ``highest_before`` points at a row."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for model, highest in highest_before.items():
            table = quote(model._meta.db_table)
            for model_field in model._meta.concrete_fields:
                if not isinstance(model_field, models.ForeignKey):
                    continue
                target = model_field.related_model
                assert not isinstance(target, str)
                column, target_column = quote(model_field.column), quote(model_field.target_field.column)
                cursor.execute(
                    f"SELECT count(*) FROM {table} r LEFT JOIN {quote(target._meta.db_table)} t "
                    f"ON t.{target_column} = r.{column} "
                    f"WHERE r.{quote(model._meta.pk.column)} > %s AND r.{column} IS NOT NULL "
                    f"AND t.{target_column} IS NULL",
                    [highest],
                )
                row = cursor.fetchone()
                if row and row[0]:
                    raise RuntimeError(f"{row[0]} rows of {table} point at no {target._meta.db_table} row")


def _reset_sequences(model_list: Sequence[type[models.Model]]) -> None:
    """Move PostgreSQL's id sequences past the ids written here (nothing to do on SQLite)."""
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), list(model_list)):
            cursor.execute(statement)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000, help="tickets to add (default 100,000)")
    parser.add_argument(
        "--contacts", type=int, default=50_000, help="contacts to have in all (default 50,000)"
    )
    parser.add_argument(
        "--agents", type=int, default=150, help="bench agents to have besides the demo's (150)"
    )
    parser.add_argument(
        "--days", type=float, default=730, help="spread the tickets over this many days (730)"
    )
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument("--batch-size", type=int, default=5_000, help="tickets per COPY batch (5,000)")
    args = parser.parse_args(argv)
    database = connection.settings_dict["NAME"]
    print(f"generating {args.tickets:,} tickets into {connection.vendor} database {database}", flush=True)
    result = generate(
        tickets=args.tickets,
        contacts=args.contacts,
        agents=args.agents,
        days=args.days,
        seed=args.seed,
        batch_size=args.batch_size,
        progress=lambda line: print(line, flush=True),
    )
    for table, count in sorted(result.by_table.items()):
        print(f"  {table:<32} {count:>12,}")
    print(
        f"done: {result.tickets:,} tickets, {result.rows:,} rows in {result.seconds:,.1f} s "
        f"({result.rows_per_second:,.0f} rows/s, {result.tickets / result.seconds:,.0f} tickets/s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
