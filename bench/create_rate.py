"""Ticket creation rate through the HTTP API, beside the raw INSERT rate of the same database.

    .venv/bin/python -m bench.create_rate [--database-url URL] [--concurrency 16] [--duration 30]

Starts ``relaydesk web --workers 2`` (DEBUG=false) on a free port, creates an API token for
an agent in a team, and runs C concurrent clients with keep-alive that POST realistic tickets
to /api/v1/tickets for T seconds after a short warm-up: mostly existing customers by email,
some new ones, a body of a few paragraphs, a mix of channels, priorities and tags. It prints
tickets/s and latency percentiles. ``--bulk N`` sends N tickets a request to
/api/v1/tickets/bulk instead (an import, a batch from another system).

The clients are wrk (Debian's ``wrk``, with ``bench/create_rate.lua``) when it is installed:
it costs ~0.1 ms of CPU per request where the Python client (httpx, asyncio; ``--client
httpx``, the fallback) costs ~2 ms, on the same two cores as the server it measures.

Then, on PostgreSQL, it measures the raw single-row INSERT rate of the same server with the
same concurrency: C psycopg connections in autocommit, one INSERT per statement, into a
scratch table created ``LIKE tickets_ticket INCLUDING ALL`` (same columns, defaults and
indexes; no foreign keys), filled with the values of a real ticket row. The table is dropped
afterwards. Everything runs on this one machine: the load generator competes with the
server and PostgreSQL for the same cores.

The tickets created are deleted at the end (with their contacts that were new) unless
--keep is given, so the benchmark database keeps its size.

Results: a table on stdout and bench/results/create_rate-<db>[-bulkN].json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import string
import subprocess
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import (
    CpuMeter,
    Server,
    bench_env,
    create_token,
    database_url_from,
    db_label,
    free_port,
    is_postgres,
    latency_summary,
    machine_info,
    new_var_dir,
    pick_agent,
    postgres_processes,
    print_table,
    revoke_token,
    setup_django,
    write_results,
)

NEW_CONTACT_DOMAIN = "create-rate.bench.example"
TARGET_TICKETS_PER_S = 400

SUBJECTS = [
    "Cannot sign in since the last update",
    "Invoice {n} charged twice",
    "Export to CSV times out",
    "Order {n} has not arrived",
    "How do I add a second admin?",
    "App crashes when I upload a photo",
    "Refund for order {n}",
    "Password reset email never arrives",
    "Feature request: dark mode on mobile",
    "Sync between phone and laptop stopped",
    "Wrong VAT number on invoice {n}",
    "Two-factor codes rejected",
]
SENTENCES = [
    "Since this morning nothing works the way it did yesterday.",
    "I have already tried restarting the app and clearing the cache.",
    "Our whole team is blocked until this is fixed, so please treat it as urgent.",
    "The error message says something about a timeout, then the page goes blank.",
    "I attached nothing because the upload fails as well.",
    "Could you also tell me whether this affects our other workspace?",
    "My account number is in the signature below.",
    "We are on the business plan and renewed last month.",
    "This happened once before and your colleague fixed it within the hour.",
    "Thanks in advance for looking into it.",
]
CHANNELS = ["email"] * 5 + ["phone"] * 2 + ["chat"] * 2 + ["web_form", "in_app", "social"]
PRIORITIES = [1] + [2] * 3 + [3] * 10 + [4] * 4


@dataclass
class Payloads:
    emails: list[str]
    tags: list[str]
    new_share: float
    rng: random.Random
    counter: int = 0

    def next(self) -> dict[str, Any]:
        rng = self.rng
        self.counter += 1
        n = rng.randint(10_000, 99_999)
        if not self.emails or rng.random() < self.new_share:
            local = "".join(rng.choices(string.ascii_lowercase, k=8)) + str(self.counter)
            email, name = f"{local}@{NEW_CONTACT_DOMAIN}", f"New Customer {self.counter}"
        else:
            email, name = rng.choice(self.emails), ""
        paragraphs = [" ".join(rng.sample(SENTENCES, rng.randint(2, 5))) for _ in range(rng.randint(1, 3))]
        payload: dict[str, Any] = {
            "subject": rng.choice(SUBJECTS).format(n=n),
            "body": "Hello,\n\n" + "\n\n".join(paragraphs) + "\n\nBest regards",
            "requester_email": email,
            "channel": rng.choice(CHANNELS),
            "priority": rng.choice(PRIORITIES),
        }
        if name:
            payload["requester_name"] = name
        if self.tags and rng.random() < 0.6:
            payload["tags"] = rng.sample(self.tags, min(len(self.tags), rng.randint(1, 2)))
        return payload


@dataclass
class RunStats:
    latencies: list[float] = field(default_factory=list)
    created: list[int] = field(default_factory=list)
    errors: dict[str, int] = field(default_factory=dict)
    first_error: str = ""


async def http_load(
    base_url: str, token: str, payloads: Payloads, *, concurrency: int, warmup: float, duration: float
) -> tuple[RunStats, float]:
    """C clients POST back to back; only requests started after the warm-up are counted."""
    stats = RunStats()
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    loop = asyncio.get_running_loop()
    start = loop.time()
    measure_from = start + warmup
    stop_at = measure_from + duration

    async def client_task(client: httpx.AsyncClient) -> None:
        while (now := loop.time()) < stop_at:
            counted = now >= measure_from
            t0 = time.perf_counter()
            try:
                response = await client.post("/api/v1/tickets", json=payloads.next())
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                response, status = None, type(exc).__name__
            elapsed = time.perf_counter() - t0
            if response is not None and response.status_code == 201:
                stats.created.append(int(response.json()["number"]))
                if counted:
                    stats.latencies.append(elapsed)
            else:
                if counted:
                    stats.errors[status] = stats.errors.get(status, 0) + 1
                if not stats.first_error:
                    stats.first_error = f"{status}: {response.text[:300] if response is not None else ''}"

    async with httpx.AsyncClient(base_url=base_url, headers=headers, timeout=60.0, limits=limits) as client:
        await asyncio.gather(*(client_task(client) for _ in range(concurrency)))
    # Requests started before stop_at finish after it: count them over the time they took.
    measured = max(duration, loop.time() - measure_from)
    return stats, measured


WRK_SCRIPT = Path(__file__).with_name("create_rate.lua")


def wrk_load(
    base_url: str,
    token: str,
    payloads: Payloads,
    *,
    concurrency: int,
    warmup: float,
    duration: float,
    on_measure: Callable[[], None],
    bulk: int = 1,
) -> dict[str, Any]:
    """wrk with bench/create_rate.lua: a warm-up run, then ``on_measure()`` and the measured run;
    returns its WRK_RESULT line."""
    with tempfile.TemporaryDirectory() as folder:
        emails, tags = Path(folder, "emails.txt"), Path(folder, "tags.txt")
        emails.write_text("\n".join(payloads.emails) + "\n")
        tags.write_text("\n".join(payloads.tags) + "\n")
        seed = str(payloads.rng.randint(1, 10_000))

        def run(seconds: float) -> str:
            command = [
                "wrk", "-t", "2", "-c", str(concurrency), "-d", f"{max(1, round(seconds))}s", "--latency",
                "--timeout", "30s", "-H", f"Authorization: Bearer {token}", "-s", str(WRK_SCRIPT),
                f"{base_url}/api/v1/tickets", "--", str(emails), str(tags), str(payloads.new_share), seed,
                str(bulk),
            ]  # fmt: skip
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            return done.stdout

        if warmup > 0:
            run(warmup)
        on_measure()
        output = run(duration)
    line = next(line for line in output.splitlines() if line.startswith("WRK_RESULT "))
    result: dict[str, Any] = json.loads(line.removeprefix("WRK_RESULT "))
    return result


def template_row(columns: list[str]) -> list[Any]:
    """Column values of a real ticket (the newest), so the scratch rows are as wide as real ones."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {', '.join(columns)} FROM tickets_ticket ORDER BY id DESC LIMIT 1")
        row = cursor.fetchone()
    if row is None:
        raise SystemExit("The database has no tickets to copy a row from.")
    return list(row)


async def insert_load(
    database_url: str,
    columns: list[str],
    values: list[Any],
    *,
    concurrency: int,
    duration: float,
    warmup: float,
) -> tuple[list[float], float, dict[str, Any]]:
    import psycopg

    table = f"bench_insert_scratch_{int(time.time())}"
    subject_index = columns.index("subject")
    placeholders = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})"
    latencies: list[float] = []
    admin = await psycopg.AsyncConnection.connect(database_url, autocommit=True)
    try:
        await admin.execute(f"CREATE TABLE {table} (LIKE tickets_ticket INCLUDING ALL)")
        loop = asyncio.get_running_loop()
        measure_from = loop.time() + warmup
        stop_at = measure_from + duration

        async def writer(number: int) -> None:
            rng = random.Random(number)
            async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
                row = list(values)
                while (now := loop.time()) < stop_at:
                    row[subject_index] = f"{rng.choice(SUBJECTS).format(n=rng.randint(10_000, 99_999))}"
                    t0 = time.perf_counter()
                    await conn.execute(sql, row)
                    if now >= measure_from:
                        latencies.append(time.perf_counter() - t0)

        await asyncio.gather(*(writer(i) for i in range(concurrency)))
        measured = max(duration, loop.time() - measure_from)
        cursor = await admin.execute(
            "SELECT current_setting('synchronous_commit'), current_setting('fsync'), "
            "current_setting('wal_sync_method'), version()"
        )
        sync_commit, fsync, wal_sync, version = await cursor.fetchone() or ("?", "?", "?", "?")
    finally:
        await admin.execute(f"DROP TABLE IF EXISTS {table}")
        await admin.close()
    server = {
        "synchronous_commit": sync_commit,
        "fsync": fsync,
        "wal_sync_method": wal_sync,
        "version": version.split(" on ")[0],
        "table": "LIKE tickets_ticket INCLUDING ALL",
    }
    return latencies, measured, server


def delete_created(ticket_ids: list[int]) -> tuple[int, int]:
    """Remove what the run created: its tickets (cascading to messages, events, tags) and the
    contacts it made up that have no ticket left."""
    from relaydesk.customers.models import Contact
    from relaydesk.tickets.models import Ticket

    tickets = 0
    for i in range(0, len(ticket_ids), 1000):
        _deleted, per_model = Ticket.objects.filter(pk__in=ticket_ids[i : i + 1000]).delete()
        tickets += per_model.get("tickets.Ticket", 0)
    _contacts, per_model = Contact.objects.filter(
        emails__address__endswith="@" + NEW_CONTACT_DOMAIN, tickets__isnull=True
    ).delete()
    return tickets, per_model.get("customers.Contact", 0)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.create_rate", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help="default: $DATABASE_URL, else the relaydesk_bench PostgreSQL DB"
    )
    parser.add_argument("--concurrency", "-c", type=int, default=16, help="concurrent clients")
    parser.add_argument("--duration", "-t", type=float, default=30.0, help="seconds of measured load")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of load before measuring")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument(
        "--insert-duration", type=float, default=10.0, help="seconds of raw INSERTs (0: skip)"
    )
    parser.add_argument("--new-contacts", type=float, default=0.2, help="share of tickets from new addresses")
    parser.add_argument("--agent", help="email of the agent creating tickets (default: a busy agent)")
    parser.add_argument("--redis-url", help="give the server this REDIS_URL (default: none)")
    parser.add_argument("--keep", action="store_true", help="keep the created tickets")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--bulk", type=int, default=1, help="tickets per request: >1 posts them to /api/v1/tickets/bulk (wrk)"
    )
    parser.add_argument(
        "--client", choices=["wrk", "httpx"], help="load generator (default: wrk when installed, else httpx)"
    )
    args = parser.parse_args(argv)

    database_url = database_url_from(args.database_url)
    var_dir = new_var_dir("create-rate")
    env = bench_env(database_url, var_dir, redis_url=args.redis_url)
    setup_django(env)

    from relaydesk.customers.models import ContactEmail
    from relaydesk.tickets.models import Tag, Ticket

    rng = random.Random(args.seed)
    user = pick_agent(args.agent)
    emails = list(
        ContactEmail.objects.filter(is_primary=True).order_by("?").values_list("address", flat=True)[:5000]
    )
    tags = list(Tag.objects.values_list("name", flat=True)[:50])
    payloads = Payloads(emails=emails, tags=tags, new_share=args.new_contacts, rng=rng)
    print(
        f"database: {db_label(database_url)} ({Ticket.objects.count():,} tickets); agent {user.email}; "
        f"{len(emails)} customer addresses, {len(tags)} tags",
        flush=True,
    )
    token = create_token(user, "bench.create_rate")
    port = free_port()
    server = Server.web(env=env, port=port, workers=args.workers, log_path=var_dir / "server.log")
    stats = RunStats()
    result: dict[str, Any] = {}
    try:
        server.start()
        print(
            f"server: relaydesk web --workers {args.workers} on {server.base_url}; "
            f"{args.concurrency} clients for {args.duration:.0f} s (+{args.warmup:.0f} s warm-up)",
            flush=True,
        )
        client = args.client or ("wrk" if shutil.which("wrk") else "httpx")
        if args.bulk > 1 and client != "wrk":
            raise SystemExit("--bulk needs wrk (apt-get install wrk)")
        me = psutil.Process()
        groups: dict[str, Any] = {
            "server": server.processes,
            # This process and wrk (not the server, also a child of this process).
            "client": lambda: [me, *(p for p in me.children() if p.name() == "wrk")],
        }
        if is_postgres(database_url):
            groups["postgres"] = postgres_processes
        highest_before = Ticket.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        meter = CpuMeter(groups=groups)
        if client == "wrk":
            # The meter runs from the end of wrk's warm-up run; each wrk run, once it has exited,
            # counts in this process's children CPU time.
            outcome = wrk_load(
                server.base_url,
                token.value,
                payloads,
                concurrency=args.concurrency,
                warmup=args.warmup,
                duration=args.duration,
                on_measure=meter.start,
                bulk=args.bulk,
            )
            cpu = meter.stop()
            ok, measured = int(outcome["created"]), float(outcome["seconds"])
            stats.created = list(Ticket.objects.filter(pk__gt=highest_before).values_list("pk", flat=True))
            stats.errors = {str(k): v for k, v in outcome["statuses"].items()}
            if outcome["socket_errors"]:
                stats.errors["socket"] = int(outcome["socket_errors"])
            stats.first_error = outcome["first_error"]
            latency = {k: outcome[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")}
        else:
            meter.start()
            stats, measured = asyncio.run(
                http_load(
                    server.base_url,
                    token.value,
                    payloads,
                    concurrency=args.concurrency,
                    warmup=args.warmup,
                    duration=args.duration,
                )
            )
            cpu = meter.stop()
            ok = len(stats.latencies)
            latency = latency_summary(stats.latencies)
        server.stop()
        # Tickets written in one group commit share their created_at: the mean group size.
        created = Ticket.objects.filter(pk__gt=highest_before)
        groups_written = created.values("created_at").distinct().count()
        result["api"] = {
            "client": client,
            "tickets_per_s": round(ok / measured, 1),
            "created": ok,
            "seconds": round(measured, 1),
            "errors": stats.errors,
            "first_error": stats.first_error,
            "mean_group_commit": round(created.count() / groups_written, 2) if groups_written else None,
            **latency,
            **cpu,
        }
        print(
            f"  API ({client}): {result['api']['tickets_per_s']} tickets/s, errors {stats.errors or 'none'}, "
            f"{result['api']['mean_group_commit']} tickets per group commit",
            flush=True,
        )
        if stats.first_error:
            print(f"  first error: {stats.first_error}")

        if args.insert_duration > 0 and is_postgres(database_url):
            meter = CpuMeter(groups={"client": lambda: [psutil.Process()], "postgres": postgres_processes})
            meter.start()
            columns = [f.column for f in Ticket._meta.concrete_fields if f.column != "id"]
            latencies, seconds, pg = asyncio.run(
                insert_load(
                    database_url,
                    columns,
                    template_row(columns),
                    concurrency=args.concurrency,
                    duration=args.insert_duration,
                    warmup=1.0,
                )
            )
            cpu = meter.stop()
            result["insert"] = {
                "rows_per_s": round(len(latencies) / seconds, 1),
                "rows": len(latencies),
                "seconds": round(seconds, 1),
                **latency_summary(latencies),
                **cpu,
                "postgres": pg,
            }
            print(f"  raw INSERT: {result['insert']['rows_per_s']} rows/s", flush=True)
    finally:
        server.stop()
        revoke_token(token)
        if not args.keep and stats.created:
            tickets, contacts = delete_created(stats.created)
            print(f"  cleaned up: {tickets} tickets and {contacts} new contacts deleted (--keep keeps them)")

    print()
    rows = []
    api = result["api"]
    rows.append(
        [
            f"POST /api/v1/tickets/bulk ({args.bulk} a request, {args.workers} workers)"
            if args.bulk > 1
            else f"POST /api/v1/tickets ({args.workers} workers)",
            api["tickets_per_s"],
            api.get("p50_ms", "-"),
            api.get("p95_ms", "-"),
            api.get("p99_ms", "-"),
            sum(api["errors"].values()),
        ]
    )
    if "insert" in result:
        ins = result["insert"]
        rows.append(
            ["raw single-row INSERT (psycopg, autocommit)", ins["rows_per_s"], ins.get("p50_ms", "-"),
             ins.get("p95_ms", "-"), ins.get("p99_ms", "-"), 0]
        )  # fmt: skip
    print_table(["what", "per second", "p50 ms", "p95 ms", "p99 ms", "errors"], rows)
    verdict = "meets" if api["tickets_per_s"] >= TARGET_TICKETS_PER_S else "misses"
    cores = machine_info()["cpus"]
    print(
        f"\n{args.concurrency} concurrent clients, {api['seconds']} s measured; "
        f"target ≥ {TARGET_TICKETS_PER_S} tickets/s: {verdict} it.\n"
        f"CPU during the API run (100% = one core): server {api.get('server_cpu_pct')}%, "
        f"postgres {api.get('postgres_cpu_pct', '-')}%, load generator {api.get('client_cpu_pct')}%; "
        f"machine busy {api.get('machine_busy_pct')}% of {cores} cores."
    )
    if "insert" in result:
        ins = result["insert"]
        print(
            f"CPU during the INSERT run: postgres {ins.get('postgres_cpu_pct')}%, "
            f"load generator {ins.get('client_cpu_pct')}%; machine busy {ins.get('machine_busy_pct')}%."
        )
    path = write_results(
        f"create_rate-{db_label(database_url)}{f'-bulk{args.bulk}' if args.bulk > 1 else ''}.json",
        {
            "benchmark": "create_rate",
            "database": db_label(database_url),
            "agent": user.email,
            "concurrency": args.concurrency,
            "tickets_per_request": args.bulk,
            "workers": args.workers,
            "target_tickets_per_s": TARGET_TICKETS_PER_S,
            "machine": machine_info(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            **result,
        },
    )
    print(f"\nwrote {path}")
    shutil.rmtree(var_dir, ignore_errors=True)  # kept when the run fails: server.log is there
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
