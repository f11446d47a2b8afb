"""Server latency of the agent workspace and the API, one client, keep-alive, after warm-up.

    .venv/bin/python -m bench.latency [--database-url URL] [--requests 300] [--warmup 30]

Starts ``relaydesk web --workers 1`` (DEBUG=false) on a free port against the database,
signs in as a busy agent (a session created directly; ``--password`` signs in through
the allauth form instead), creates an API token, and times N sequential requests per
endpoint from this process over loopback: wall time from sending the request to reading
the whole body. req/s is N divided by the time the N requests took (one client, so it is
1 / mean latency, not the server's capacity). Then each endpoint is requested once more
in-process under ``CaptureQueriesContext`` to count its SQL queries (``--explain`` also
prints EXPLAIN ANALYZE of the slowest one on PostgreSQL).

Results: a table on stdout and bench/results/latency-<db>.json.
"""

from __future__ import annotations

import argparse
import random
import shutil
import time
from dataclasses import dataclass
from typing import Any

import httpx

from bench.common import (
    CpuMeter,
    Server,
    bench_env,
    create_token,
    database_url_from,
    db_label,
    delete_session,
    form_login,
    free_port,
    is_postgres,
    latency_summary,
    machine_info,
    new_var_dir,
    pick_agent,
    postgres_processes,
    print_table,
    revoke_token,
    session_cookie,
    setup_django,
    write_results,
)


@dataclass
class Endpoint:
    name: str
    paths: list[str]  # cycled through; one path for fixed URLs, many for "random ticket"
    api: bool = False


def sample_visible_ticket_ids(user: Any, count: int, rng: random.Random) -> list[int]:
    """Random tickets ``user`` may open, open or closed, drawn uniformly over the id range."""
    from django.db.models import Max, Min

    from relaydesk.tickets.access import visible_tickets
    from relaydesk.tickets.models import Ticket

    bounds = Ticket.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        raise SystemExit("The database has no tickets.")
    found: list[int] = []
    seen: set[int] = set()
    for _attempt in range(200):
        candidates = {rng.randint(bounds["low"], bounds["high"]) for _ in range(2000)} - seen
        seen |= candidates
        found.extend(visible_tickets(user).filter(pk__in=candidates).values_list("pk", flat=True))
        if len(found) >= count:
            break
    if not found:
        raise SystemExit(f"{user.email} can see no ticket.")
    rng.shuffle(found)
    return found[:count]


def build_endpoints(user: Any, args: argparse.Namespace, rng: random.Random) -> tuple[list[Endpoint], dict]:
    from django.db.models import Count

    from relaydesk.tickets.models import Tag, Ticket

    team = user.teams.annotate(n=Count("tickets")).order_by("-n").first() if args.team is None else None
    team_id = args.team if args.team is not None else (team.pk if team else None)
    tag = args.tag
    if tag is None and team_id is not None:
        top = (
            Ticket.tags.through.objects.filter(ticket__team_id=team_id)
            .values("tag__name")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        tag = top["tag__name"] if top else None
    if tag is None:
        first_tag = Tag.objects.order_by("pk").first()
        tag = first_tag.name if first_tag else None
    endpoints = [
        Endpoint("queue: My tickets", ["/"]),
        Endpoint("queue: Unassigned", ["/tickets/unassigned/"]),
        Endpoint(
            "queue: Unassigned ?priority=1&channel=email", ["/tickets/unassigned/?priority=1&channel=email"]
        ),
    ]
    endpoints.append(Endpoint("queue: My tickets ?sort=sla", ["/?sort=sla"]))
    endpoints.append(Endpoint("queue: Unassigned ?sla=breached", ["/tickets/unassigned/?sla=breached"]))
    if team_id is not None:
        endpoints.append(Endpoint("queue: team", [f"/tickets/team/{team_id}/"]))
        endpoints.append(Endpoint("queue: team ?sort=sla", [f"/tickets/team/{team_id}/?sort=sla"]))
        if tag:
            endpoints.append(Endpoint(f"queue: team ?tag={tag}", [f"/tickets/team/{team_id}/?tag={tag}"]))
    endpoints.append(Endpoint("API GET /api/v1/tickets?limit=50", ["/api/v1/tickets?limit=50"], api=True))
    endpoints.append(
        Endpoint("API GET /api/v1/tickets?sort=sla&limit=50", ["/api/v1/tickets?sort=sla&limit=50"], api=True)
    )
    ids = sample_visible_ticket_ids(user, args.requests + args.warmup, rng)
    endpoints.append(Endpoint("ticket page /tickets/<id>/ (random)", [f"/tickets/{pk}/" for pk in ids]))
    # Every page then asks for the navigation's counts (htmx, after load).
    endpoints.append(Endpoint("navigation counts (after each page)", ["/tickets/nav-counts/"]))
    for extra in args.path:
        endpoints.append(Endpoint(f"extra {extra}", [extra], api=extra.startswith("/api/")))
    return endpoints, {"team_id": team_id, "tag": tag}


def time_endpoint(client: httpx.Client, endpoint: Endpoint, *, requests: int, warmup: int) -> dict[str, Any]:
    """Warm up, then time ``requests`` sequential requests; every answer must be a 200."""
    paths = endpoint.paths
    # Warm-up uses paths the timed loop does not (for random tickets), so the figures
    # include what a first visit costs in the database, not only a repeated one.
    offset = warmup if len(paths) > 1 else 0
    for i in range(warmup):
        response = client.get(paths[i % len(paths)])
        if response.status_code != 200:
            raise RuntimeError(f"{endpoint.name}: {paths[i % len(paths)]} answered {response.status_code}")
    latencies: list[float] = []
    errors = 0
    size = 0
    started = time.perf_counter()
    for i in range(requests):
        path = paths[(offset + i) % len(paths)]
        t0 = time.perf_counter()
        response = client.get(path)
        body = response.content
        latencies.append(time.perf_counter() - t0)
        size += len(body)
        if response.status_code != 200:
            errors += 1
    elapsed = time.perf_counter() - started
    return {
        **latency_summary(latencies),
        "req_per_s": round(requests / elapsed, 1),
        "errors": errors,
        "avg_kb": round(size / requests / 1024, 1),
    }


def count_queries(user: Any, token: str, endpoint: Endpoint, *, explain: bool) -> dict[str, Any]:
    """One request in-process (Django test client) with every SQL query timed.

    ``inprocess_ms`` is that request's wall time without HTTP; what it spends outside
    ``sql_ms`` is Python (views, ORM, templates, serialisation). Median of five runs.
    """
    from django.db import connection
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    if endpoint.api:
        client.defaults["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    else:
        client.force_login(user)
    path = endpoint.paths[0]
    client.get(path)  # warm (first-use imports, template loading)
    runs: list[tuple[float, list[tuple[float, str]], Any]] = []
    queries: list[tuple[float, str]] = []

    def timed(execute: Any, sql: str, params: Any, many: bool, context: dict[str, Any]) -> Any:
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            elapsed = time.perf_counter() - t0
            queries.append((elapsed, connection.ops.last_executed_query(context["cursor"], sql, params)))

    for _run in range(5):
        queries.clear()
        t0 = time.perf_counter()
        with connection.execute_wrapper(timed):
            response = client.get(path)
        runs.append((time.perf_counter() - t0, list(queries), response))
    # The median of five runs: one request alone is at the mercy of a GC pause.
    inprocess, queries, response = sorted(runs, key=lambda run: run[0])[len(runs) // 2]
    client.logout()
    slowest_time, slowest_sql = max(queries) if queries else (0.0, "")
    result: dict[str, Any] = {
        "status": response.status_code,
        "queries": len(queries),
        "inprocess_ms": round(inprocess * 1000, 1),
        "sql_ms": round(sum(t for t, _ in queries) * 1000, 1),
        "slowest_ms": round(slowest_time * 1000, 1),
        "slowest_sql": slowest_sql,
        "top_queries": [
            {"ms": round(t * 1000, 2), "sql": q[:300]} for t, q in sorted(queries, reverse=True)[:5]
        ],
    }
    if explain and slowest_sql and connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest_sql)
            result["slowest_plan"] = "\n".join(row[0] for row in cursor.fetchall())
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.latency", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--database-url", help="default: $DATABASE_URL, else the relaydesk_bench PostgreSQL DB"
    )
    parser.add_argument("--requests", "-n", type=int, default=300, help="timed requests per endpoint")
    parser.add_argument("--warmup", type=int, default=30, help="untimed requests per endpoint first")
    parser.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    parser.add_argument("--agent", help="email of the agent to act as (default: the busiest agent in a team)")
    parser.add_argument("--password", help="sign in through the allauth form with this password")
    parser.add_argument("--team", type=int, help="team id for the team queue (default: the agent's largest)")
    parser.add_argument("--tag", help="tag for the filtered team queue (default: the team's most used)")
    parser.add_argument("--path", action="append", default=[], help="an extra path to time (repeatable)")
    parser.add_argument("--redis-url", help="give the server this REDIS_URL (default: none)")
    parser.add_argument("--no-queries", action="store_true", help="skip counting SQL queries in-process")
    parser.add_argument(
        "--explain", action="store_true", help="EXPLAIN ANALYZE each endpoint's slowest query"
    )
    parser.add_argument("--label", help="added to the result file name: latency-<db>-<label>.json")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    database_url = database_url_from(args.database_url)
    var_dir = new_var_dir("latency")
    env = bench_env(database_url, var_dir, redis_url=args.redis_url)
    setup_django(env)
    rng = random.Random(args.seed)

    from relaydesk.tickets.access import visible_tickets
    from relaydesk.tickets.models import Ticket

    print(f"database: {db_label(database_url)} ({Ticket.objects.count():,} tickets)", flush=True)
    user = pick_agent(args.agent)
    print(
        f"agent: {user.email} (teams: {', '.join(t.name for t in user.teams.all())}; "
        f"{visible_tickets(user).count():,} visible tickets)",
        flush=True,
    )
    endpoints, chosen = build_endpoints(user, args, rng)
    token = create_token(user, "bench.latency")
    session_key: str | None = None
    port = free_port()
    server = Server.web(env=env, port=port, workers=args.workers, log_path=var_dir / "server.log")
    results: list[dict[str, Any]] = []
    try:
        server.start()
        print(f"server: relaydesk web --workers {args.workers} on {server.base_url} (pid {server.pid})\n")
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        web = httpx.Client(base_url=server.base_url, timeout=60.0, limits=limits)
        api = httpx.Client(
            base_url=server.base_url,
            timeout=60.0,
            limits=limits,
            headers={"Authorization": f"Bearer {token.value}"},
        )
        if args.password:
            form_login(web, user.email, args.password)
            session_key = web.cookies.get("sessionid")
        else:
            name, session_key = session_cookie(user)
            web.cookies.set(name, session_key, domain="127.0.0.1")
        meter = CpuMeter(
            groups={"server": server.processes, "postgres": postgres_processes}
            if is_postgres(database_url)
            else {"server": server.processes}
        )
        with web, api:
            for endpoint in endpoints:
                meter.start()
                figures = time_endpoint(
                    api if endpoint.api else web, endpoint, requests=args.requests, warmup=args.warmup
                )
                figures.update(meter.stop())
                results.append({"endpoint": endpoint.name, "path": endpoint.paths[0], **figures})
                print(
                    f"  {endpoint.name}: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
                    f"{figures['req_per_s']} req/s",
                    flush=True,
                )
        server.stop()
        if not args.no_queries:
            for endpoint, row in zip(endpoints, results, strict=True):
                row.update(count_queries(user, token.value, endpoint, explain=args.explain))
    finally:
        server.stop()
        revoke_token(token)
        if session_key:
            delete_session(session_key)

    print()
    headers = ["endpoint", "p50 ms", "p95 ms", "p99 ms", "req/s", "errors"]
    if not args.no_queries:
        headers += ["SQL queries", "in-process ms", "of which SQL ms", "slowest SQL ms"]
    table = []
    for row in results:
        line = [row["endpoint"], row["p50_ms"], row["p95_ms"], row["p99_ms"], row["req_per_s"], row["errors"]]
        if not args.no_queries:
            line += [row["queries"], row["inprocess_ms"], row["sql_ms"], row["slowest_ms"]]
        table.append(line)
    print_table(headers, table)
    print(
        f"\n{args.requests} requests per endpoint after {args.warmup} warm-up, one client with keep-alive, "
        "client-side wall time over loopback (client, server and database on this machine)."
    )
    if not args.no_queries:
        print(
            "SQL queries / in-process ms / SQL ms: the median of 5 more requests per endpoint, "
            "run in this process (Django test client, no HTTP) with every query timed."
        )
    if args.explain:
        for row in results:
            if row.get("slowest_plan"):
                print(f"\n== {row['endpoint']}: slowest query ({row['slowest_ms']} ms)\n{row['slowest_sql']}")
                print(row["slowest_plan"])
    path = write_results(
        f"latency-{db_label(database_url)}{'-' + args.label if args.label else ''}.json",
        {
            "benchmark": "latency",
            "database": db_label(database_url),
            "tickets": Ticket.objects.count(),
            "agent": user.email,
            "chosen": chosen,
            "requests": args.requests,
            "warmup": args.warmup,
            "workers": args.workers,
            "machine": machine_info(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "results": results,
        },
    )
    print(f"\nwrote {path}")
    shutil.rmtree(var_dir, ignore_errors=True)  # kept when the run fails: server.log is there
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
