"""The SLA breach scanner at scale: 1,000,000 open tickets with running clocks, 1 % of them crossing.

    python -m bench.sla_scan                      # PostgreSQL database relaydesk_scanbench
    python -m bench.sla_scan --consumers 2        # two scanners racing, as with two workers

The first run creates the database (if missing), migrates it and loads ``--tickets`` open tickets
with one running first-response clock each, by COPY (about a minute). Every run then makes
``--crossing`` of those clocks cross a threshold just now (half warnings, half breaches, on
random tickets) and times:

* the scan that finds and escalates them (each escalation: lock the ticket, claim the clock,
  notify the assignee and the team's supervisor, write the timeline event), and
* the scan right after it, which has nothing to do: what the once-a-minute scan costs on a
  quiet minute, whatever the number of open tickets.

It checks that every crossing clock was escalated exactly once (one SLA event each), also with
several consumers racing, and reports the peak RSS of each scanner process.
"""

from __future__ import annotations

import os
import sys

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/relaydesk_scanbench"
if __name__ == "__main__":
    os.environ["DATABASE_URL"] = next(
        (arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--database-url=")), DEFAULT_URL
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.config.settings")

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import random  # noqa: E402
import resource  # noqa: E402
import time  # noqa: E402
from datetime import timedelta  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.utils import timezone  # noqa: E402

from relaydesk.accounts.models import Role, Team, User  # noqa: E402
from relaydesk.customers.models import Contact  # noqa: E402
from relaydesk.notifications.models import Notification  # noqa: E402
from relaydesk.sla.escalation import scan  # noqa: E402
from relaydesk.sla.models import EscalationAction, SLAClock, SLAPolicy  # noqa: E402
from relaydesk.tickets.models import EventKind, Ticket, TicketEvent  # noqa: E402

CHUNK = 100_000


def ensure_database(url: str) -> None:
    parts = urlsplit(url)
    name = parts.path.strip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def load(tickets: int) -> None:
    """Open tickets, each with a running first-response clock due some time in the next 30 days."""
    have = Ticket.objects.count()
    if have >= tickets:
        print(f"{have:,} tickets already loaded")
        return
    began = time.perf_counter()
    with transaction.atomic():
        tier2 = Team.objects.create(name="Tier 2")
        team = Team.objects.create(name="Front line", escalation_team=tier2)
        agent = User.objects.create_user("agent@scan.bench", None, full_name="Agent", role=Role.AGENT)
        agent.teams.set([team])
        lead = User.objects.create_user("lead@scan.bench", None, full_name="Lead", role=Role.SUPERVISOR)
        lead.teams.set([team])
        contact = Contact.objects.create(name="Customer")
        policy = SLAPolicy.objects.create(
            name="Everything",
            first_response_minutes=8 * 60,
            business_hours=False,
            warning_actions=[EscalationAction.NOTIFY_ASSIGNEE],
            breach_actions=[EscalationAction.NOTIFY_ASSIGNEE, EscalationAction.NOTIFY_SUPERVISORS],
        )
    now = timezone.now()
    rng = random.Random(7)
    raw = connection.connection
    assert raw is not None
    first_id = 1
    with transaction.atomic():
        cursor = connection.cursor()
        for start in range(first_id, tickets + 1, CHUNK):
            ids = range(start, min(start + CHUNK, tickets + 1))
            dues = {i: now + timedelta(seconds=rng.randint(3 * 3600, 30 * 86400)) for i in ids}
            with cursor.cursor.copy(
                "COPY tickets_ticket (id, subject, status, priority, channel, requester_id, team_id,"
                " assignee_id, level, language, created_at, updated_at, waiting_since, reopen_count,"
                " version, sla_policy_id, sla_due_at, sla_warn_at) FROM STDIN"
            ) as copy:
                for i in ids:
                    due = dues[i]
                    started = due - timedelta(hours=8)
                    copy.write_row(
                        (i, f"Bench ticket {i}", "assigned", 3, "email", contact.pk, team.pk, agent.pk,
                         "l1", "en", started, started, started, 0, 1, policy.pk, due,
                         due - timedelta(minutes=96))
                    )  # fmt: skip
            with cursor.cursor.copy(
                "COPY sla_slaclock (ticket_id, policy_id, kind, started_at, target, elapsed, due_at,"
                " warn_at, running_since, next_check_at) FROM STDIN"
            ) as copy:
                for i in ids:
                    due = dues[i]
                    started = due - timedelta(hours=8)
                    warn = due - timedelta(minutes=96)
                    copy.write_row(
                        (i, policy.pk, "first_response", started, timedelta(hours=8), timedelta(0), due,
                         warn, started, warn)
                    )  # fmt: skip
            print(f"  {ids[-1]:,} tickets")
        cursor.execute("SELECT setval('tickets_ticket_id_seq', %s)", [tickets])
    cursor.execute("ANALYZE tickets_ticket")
    cursor.execute("ANALYZE sla_slaclock")
    print(f"loaded {tickets:,} open tickets with clocks in {time.perf_counter() - began:.0f} s")


def make_crossing(count: int, seed: int) -> list[int]:
    """``count`` random clocks cross a threshold now: half reach their warning, half breach."""
    now = timezone.now()
    highest = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    chosen = random.Random(seed).sample(range(1, highest + 1), count)
    clocks = list(SLAClock.objects.filter(ticket_id__in=chosen).only("pk", "ticket_id"))
    for index, clock in enumerate(clocks):
        crossed = now - timedelta(seconds=1 + index % 50)
        clock.warned_at = clock.breached_at = None
        if index % 2:
            clock.warn_at, clock.due_at = crossed, crossed + timedelta(hours=6)
        else:
            clock.warn_at, clock.due_at = crossed - timedelta(hours=1), crossed
        clock.next_check_at = clock.warn_at if index % 2 else clock.due_at
    SLAClock.objects.bulk_update(
        clocks, ["warned_at", "breached_at", "warn_at", "due_at", "next_check_at"], batch_size=5000
    )
    return [clock.ticket_id for clock in clocks]


def _consumer(result_queue: multiprocessing.Queue) -> None:
    connection.close()  # a fresh connection per process
    began = time.perf_counter()
    result = scan()
    elapsed = time.perf_counter() - began
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result_queue.put((result.warnings, result.breaches, result.skipped, result.failed, elapsed, peak_mb))


def run(consumers: int, crossing: int, seed: int) -> None:
    tickets = make_crossing(crossing, seed)
    last_event_before = TicketEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    notifications_before = Notification.objects.count()
    # Spawned, not forked: a forked child would share the parent's pooled database connections.
    spawn = multiprocessing.get_context("spawn")
    results: multiprocessing.Queue = spawn.Queue()
    processes = [spawn.Process(target=_consumer, args=(results,)) for _ in range(consumers)]
    began = time.perf_counter()
    for process in processes:
        process.start()
    rows = [results.get() for _ in processes]
    for process in processes:
        process.join()
    wall = time.perf_counter() - began
    warnings = sum(r[0] for r in rows)
    breaches = sum(r[1] for r in rows)
    print(f"{consumers} consumer(s): {warnings:,} warnings + {breaches:,} breaches in {wall:.1f} s wall")
    for index, (w, b, skipped, failed, elapsed, peak) in enumerate(rows, 1):
        print(
            f"  consumer {index}: {w + b:,} escalated, {skipped:,} lost the claim, {failed} failed, "
            f"{elapsed:.1f} s, peak RSS {peak:.0f} MB"
        )
    print(
        f"  {(warnings + breaches) / wall:,.0f} escalations/s; {1000 * wall / max(1, crossing):.2f} ms each"
    )
    this_run = TicketEvent.objects.filter(kind=EventKind.SLA, pk__gt=last_event_before)
    events = this_run.count()
    duplicated = (
        this_run.filter(ticket_id__in=tickets)
        .values("ticket_id", "new_value")
        .order_by()
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .count()
    )
    print(
        f"  SLA events written: {events:,} for {crossing:,} crossing clocks; "
        f"tickets escalated twice for one threshold: {duplicated}; "
        f"notifications: {Notification.objects.count() - notifications_before:,}"
    )
    # Clocks loaded due within the hour can cross on their own between runs: at least the
    # crossing ones escalate, and every escalation is exactly one event.
    assert events == warnings + breaches >= crossing, "every crossing threshold escalates exactly once"
    assert duplicated == 0
    quiet = []
    for _ in range(5):
        began = time.perf_counter()
        late = scan().escalated  # only what crossed while the scan above ran
        quiet.append(time.perf_counter() - began)
        if late:
            print(f"  ({late} clocks crossed during the measured scan and were escalated after it)")
    quiet.sort()
    print(f"  a quiet minute's scan (nothing crossed): median {1000 * quiet[2]:.1f} ms of 5")


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--crossing", type=int, default=10_000)
    parser.add_argument("--consumers", type=int, default=1)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if not args.database_url.startswith("postgres"):
        parser.error("this benchmark needs PostgreSQL")
    ensure_database(args.database_url)
    call_command("migrate", verbosity=0)
    load(args.tickets)
    run(args.consumers, args.crossing, args.seed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
