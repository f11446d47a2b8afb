"""Time the SLA attainment report on a big database, and show the plans of its two counting queries.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/relaydesk_reportbench \\
        python -m bench.report_attainment --build-clocks --days 30

``bench.generate`` writes tickets and events but no SLA clocks (it bypasses the actions), so
``--build-clocks`` first gives every ticket without clocks its first-response and resolution
clocks: the demo's SLA table applied with ``sla.policies.first_matching`` and replayed with
``sla.clocks.replay`` from the ticket's events, in batches, with bulk inserts (next-response
clocks are left out: the report does not read them).  Then it renders the report page for a
supervisor over the last ``--days`` days, per grouping, and prints wall time, queries and sizes;
on PostgreSQL also ``EXPLAIN ANALYZE`` of the stopped-clock count.
"""

from __future__ import annotations

import os

import django
from django.apps import apps

if not apps.ready:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.config.settings")
    django.setup()

import argparse
import statistics
import sys
import time
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import Count, Q
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from relaydesk.accounts.models import Role, User
from relaydesk.customers.models import Organization, Tier
from relaydesk.reports import queries
from relaydesk.reports.views.sla_attainment import sla_attainment as attainment_view
from relaydesk.sla import table as sla_table
from relaydesk.sla.actions import (
    _ALWAYS_OPEN,
    engine_calendar,
    facts_from_events,
    next_check,
    targets_of,
)
from relaydesk.sla.clocks import ClockKind, Fact, replay
from relaydesk.sla.models import BusinessCalendarConfig, SLAClock
from relaydesk.sla.policies import first_matching
from relaydesk.tickets.models import Ticket, TicketEvent


def build_clocks(batch: int) -> int:
    """First-response and resolution clocks for every ticket that has none; returns how many tickets."""
    policies = sla_table.load().policies
    tiers = dict(Organization.objects.values_list("id", "tier"))
    team_calendars = {
        team_id: engine_calendar(config)
        for config in BusinessCalendarConfig.objects.all()
        for team_id in config.teams.values_list("id", flat=True)
    }
    kinds = {ClockKind.FIRST_RESPONSE, ClockKind.RESOLUTION}
    done = 0
    last_id = 0
    while True:
        tickets = list(
            Ticket.objects.filter(pk__gt=last_id, sla_clocks__isnull=True)
            .order_by("pk")
            .values_list("pk", "channel", "priority", "organization_id", "team_id")[:batch]
        )
        if not tickets:
            return done
        last_id = tickets[-1][0]
        facts: dict[int, list[Fact]] = {}
        events = TicketEvent.objects.filter(ticket_id__in=[t[0] for t in tickets]).order_by(
            "ticket_id", "created_at", "id"
        )
        for event in events.only("ticket_id", "kind", "new_value", "data", "created_at"):
            facts.setdefault(event.ticket_id, []).extend(facts_from_events([event]))
        rows = []
        policy_of: dict[int, int] = {}
        for pk, channel, priority, organization_id, team_id in tickets:
            tier = tiers.get(organization_id, Tier.STANDARD)
            policy = first_matching(policies, channel=channel, priority=priority, tier=tier, team_id=team_id)
            if policy is None:
                continue
            if policy.calendar_id is not None and policy.calendar is not None:
                calendar = engine_calendar(policy.calendar)
            else:
                calendar = team_calendars.get(team_id, _ALWAYS_OPEN)
            policy_of[pk] = policy.pk
            for clock in replay(facts.get(pk, ()), targets_of(policy, calendar)):
                if clock.kind not in kinds:
                    continue
                row = SLAClock(
                    ticket_id=pk,
                    policy=policy,
                    kind=clock.kind.value,
                    started_at=clock.started_at,
                    target=clock.target,
                    elapsed=clock.elapsed,
                    due_at=clock.due_at,
                    warn_at=clock.warn_at,
                    running_since=clock.running_since,
                    paused_at=clock.paused_at,
                    stopped_at=clock.stopped_at,
                    met=clock.met,
                )
                row.next_check_at = next_check(row)
                rows.append(row)
        with transaction.atomic():
            SLAClock.objects.bulk_create(rows, batch_size=2000)
            for policy_id in set(policy_of.values()):
                Ticket.objects.filter(pk__in=[pk for pk, p in policy_of.items() if p == policy_id]).update(
                    sla_policy_id=policy_id
                )
        done += len(tickets)
        print(f"  clocks for {done:,} tickets", file=sys.stderr)


def explain(user: User, days: int) -> None:
    now = timezone.now()
    stopped = queries.scoped_clocks(user).filter(
        stopped_at__gte=now - timedelta(days=days), stopped_at__lt=now, met__isnull=False
    )
    print(f"\nEXPLAIN ANALYZE, stopped clocks of the last {days} days grouped by team:")
    counted = stopped.values("ticket__team_id", "ticket__team__name").annotate(
        n=Count("id"), met=Count("id", filter=Q(met=True))
    )
    print(counted.order_by().explain(analyze=True))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.report_attainment", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument(
        "--build-clocks", action="store_true", help="give tickets without clocks their clocks"
    )
    parser.add_argument("--days", type=int, default=30, help="the report's range, ending now (30)")
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per grouping (5)")
    parser.add_argument("--batch", type=int, default=5000, help="tickets per clock-building batch (5,000)")
    args = parser.parse_args(argv)

    if args.build_clocks:
        started = time.perf_counter()
        built = build_clocks(args.batch)
        print(f"clocks built for {built:,} tickets in {time.perf_counter() - started:.1f} s")
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:  # fresh statistics, or the planner guesses
                cursor.execute("ANALYZE sla_slaclock, tickets_ticket")
    print(f"{Ticket.objects.count():,} tickets, {SLAClock.objects.count():,} clocks")
    user = User.objects.filter(role=Role.SUPERVISOR, is_active=True).first()
    if user is None:
        print("no supervisor in this database: run bench.generate first", file=sys.stderr)
        return 1
    today = timezone.now().astimezone(user.tz()).date()
    params = {"from": (today - timedelta(days=args.days - 1)).isoformat(), "to": today.isoformat()}
    factory = RequestFactory()
    print(f"\nreport page for {user} ({user.time_zone}), {params['from']} – {params['to']}:")
    heading = ("group by", "median ms", "min ms", "queries", "groups", "tickets", "timed")
    print("{:<10} {:>10} {:>8} {:>8} {:>7} {:>8} {:>7}".format(*heading))
    for group in queries.DIMENSIONS:
        times = []
        for _ in range(args.repeat):
            request = factory.get("/reports/sla/", {**params, "group": group})
            request.user = user
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                response = attainment_view(request)
                times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        report = queries.sla_attainment(
            user,
            start=timezone.now() - timedelta(days=args.days),
            end=timezone.now(),
            group_by=group,
            now=timezone.now(),
        )
        print(
            f"{group:<10} {statistics.median(times):>10.0f} {min(times):>8.0f} {len(captured):>8} "
            f"{len(report.rows):>7} {report.total.tickets:>8,} {report.timed_tickets:>7,}"
        )
    if connection.vendor == "postgresql":
        explain(user, args.days)
    return 0


if __name__ == "__main__":
    sys.exit(main())
