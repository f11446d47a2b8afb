"""Outbound mail throughput: agent replies queued, then the outbox drained to a local SMTP socket.

    python -m bench.mail_send                          # PostgreSQL database relaydesk_mailbench
    python -m bench.mail_send --replies 2000 --workers 1 2 4
    python -m bench.mail_send --database-url=sqlite:////tmp/mailbench.sqlite3

The database is created afresh (PostgreSQL: dropped and created; SQLite: the file replaced) and
migrated. Then ``--replies`` phone tickets, each from its own customer, get one public reply
through ``check_add_message`` — the agents' real write path, which writes the reply and its
outbox row in one transaction (timed: the cost of queueing). The after-commit send job is
switched off, so the outbox fills up; then, for each ``--workers`` count, that many processes
drain it at once with the production code (``outbox.send_due`` until nothing is due: claim,
build the MIME, SMTP to the socket, record), timed per send. Between runs every row is put back
to queued. The SMTP server is aiosmtpd in this process, on 127.0.0.1, accepting everything.

Figures: sends per second (wall time of the whole drain), per-send p50/p95/p99 in the workers,
claims lost to a racing worker (an UPDATE that changed nothing), rows passed over without a
claim (the drain's re-read saw another worker had them), peak RSS of each worker process.
Everything shares this machine's cores: this process (the SMTP server), the workers, the database.
"""

from __future__ import annotations

import os
import sys
import tempfile

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/relaydesk_mailbench"
if __name__ == "__main__":
    os.environ["DATABASE_URL"] = next(
        (arg.split("=", 1)[1] for arg in sys.argv if arg.startswith("--database-url=")), DEFAULT_URL
    )
    os.environ.setdefault("RELAYDESK_VAR_DIR", tempfile.mkdtemp(prefix="relaydesk-mailbench-"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "relaydesk.config.settings"
    os.environ.setdefault("LOG_LEVEL", "WARNING")

import argparse  # noqa: E402
import multiprocessing  # noqa: E402
import resource  # noqa: E402
import threading  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlsplit  # noqa: E402

import django  # noqa: E402

django.setup()

import psycopg  # noqa: E402
from aiosmtpd.controller import Controller  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.common import free_port, latency_summary, machine_info, print_table, write_results  # noqa: E402
from relaydesk.accounts.models import Role, Team, User  # noqa: E402
from relaydesk.customers.models import Contact, ContactEmail  # noqa: E402
from relaydesk.mail import outbox  # noqa: E402
from relaydesk.mail.models import Mailbox, OutboundEmail, OutboundStatus, Security  # noqa: E402
from relaydesk.tickets.actions import NewAttachment, check_add_message, do_create_ticket  # noqa: E402
from relaydesk.tickets.models import Channel, MessageKind  # noqa: E402

REPLY = (
    "Hello,\n\nthank you for the details. We reset the print queue on our side; please switch the "
    "printer off and on again and send a test page. If it still does not print, reply with the "
    "error shown on its display.\n\nKind regards,\nAlice"
)


class CountingHandler:
    """Accepts every message and counts them (and their bytes)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.messages = 0
        self.bytes = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.lock:
            self.messages += 1
            self.bytes += len(envelope.original_content or envelope.content or b"")
        return "250 2.0.0 OK: queued"


def fresh_database(url: str) -> None:
    if url.startswith("postgres"):
        parts = urlsplit(url)
        name = parts.path.strip("/")
        admin = parts._replace(path="/postgres").geturl()
        connection.close()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
    else:
        path = Path(urlsplit(url).path)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    call_command("migrate", verbosity=0)


def queue_replies(count: int, smtp_port: int, attachment_kb: int) -> list[float]:
    """``count`` tickets with one reply each, queued in the outbox; returns each reply's seconds."""
    Mailbox.objects.create(
        name="Support",
        address="support@northwind.example",
        display_name="Northwind Support",
        smtp_host="127.0.0.1",
        smtp_port=smtp_port,
        smtp_security=Security.NONE,
    )
    team = Team.objects.create(name="Front line")
    agent = User.objects.create_user(
        "alice@northwind.example", None, full_name="Alice Agent", role=Role.AGENT
    )
    agent.teams.set([team])
    attachments = (
        [NewAttachment("log.txt", "text/plain", b"x" * (attachment_kb * 1024))] if attachment_kb else []
    )
    seconds = []
    for number in range(count):
        contact = Contact.objects.create(name=f"Customer {number}")
        ContactEmail.objects.create(contact=contact, address=f"customer{number}@example.com", is_primary=True)
        ticket = do_create_ticket(
            subject=f"Printer {number} is down",
            requester=contact,
            body_text="It stopped printing this morning.",
            channel=Channel.PHONE,
            team=team,
        )
        began = time.perf_counter()
        check_add_message(agent, ticket.pk, kind=MessageKind.REPLY, body_text=REPLY, attachments=attachments)
        seconds.append(time.perf_counter() - began)
    return seconds


def requeue() -> int:
    return OutboundEmail.objects.update(
        status=OutboundStatus.QUEUED, attempts=0, next_attempt_at=timezone.now(), sent_at=None, last_error=""
    )


def _worker(start: Any, results: Any) -> None:
    connection.close()  # a fresh connection in this process
    latencies: list[float] = []
    lost_claims = 0
    send_outbound = outbox.send_outbound

    def timed(outbound_id: int, **kwargs: Any) -> str | None:
        nonlocal lost_claims
        began = time.perf_counter()
        status = send_outbound(outbound_id, **kwargs)
        if status == OutboundStatus.SENT:
            latencies.append(time.perf_counter() - began)
        elif status is None:
            lost_claims += 1  # the re-read said due, another worker claimed it first
        return status

    outbox.send_outbound = timed  # send_due looks it up at each call: the production drain, timed
    start.wait()
    sent = passed_over = other = 0
    while True:
        result = outbox.send_due(max_seconds=3600)
        sent, other = sent + result.sent, other + result.retrying + result.failed
        passed_over += result.skipped
        if not result.statuses:
            break
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    results.put((sent, lost_claims, other, latencies, peak_mb, passed_over - lost_claims))


def drain(workers: int) -> dict[str, Any]:
    # Spawned, not forked: a forked child would share this process's database connection.
    spawn = multiprocessing.get_context("spawn")
    start = spawn.Event()
    results = spawn.Queue()
    processes = [spawn.Process(target=_worker, args=(start, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    time.sleep(3.0)  # every worker has imported Django and is waiting at the start line
    began = time.perf_counter()
    start.set()
    rows = [results.get() for _ in processes]
    wall = time.perf_counter() - began
    for process in processes:
        process.join()
    sent = sum(row[0] for row in rows)
    latencies = [value for row in rows for value in row[3]]
    return {
        "workers": workers,
        "sent": sent,
        "lost_claims": sum(row[1] for row in rows),
        "passed_over": sum(row[5] for row in rows),
        "not_sent": sum(row[2] for row in rows),
        "wall_s": round(wall, 2),
        "sends_per_s": round(sent / wall, 1) if wall else 0.0,
        "per_send": latency_summary(latencies),
        "peak_rss_mb": [round(row[4], 1) for row in rows],
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--replies", type=int, default=1000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument(
        "--attachment-kb", type=int, default=0, help="attach a file of this size to each reply"
    )
    args = parser.parse_args()

    handler = CountingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, server_hostname="smtp.bench.test")
    controller.start()
    # The after-commit send job is off: the outbox fills up and the drain below is what is timed.
    outbox._send_after_commit = lambda outbound_id: None
    try:
        print(f"fresh database {os.environ['DATABASE_URL']} …", flush=True)
        fresh_database(os.environ["DATABASE_URL"])
        print(f"queueing {args.replies:,} replies …", flush=True)
        began = time.perf_counter()
        queue_seconds = queue_replies(args.replies, port, args.attachment_kb)
        queue_wall = time.perf_counter() - began
        queued = OutboundEmail.objects.filter(status=OutboundStatus.QUEUED).count()
        assert queued == args.replies, f"{queued} of {args.replies} replies were queued"
        queue_cost = latency_summary(queue_seconds)
        print(
            f"  {args.replies:,} replies with their outbox rows: reply p50 {queue_cost['p50_ms']} ms, "
            f"p95 {queue_cost['p95_ms']} ms (setup incl. tickets {queue_wall:.1f} s)"
        )
        runs = []
        for workers in args.workers:
            requeue()
            before = handler.messages
            run = drain(workers)
            run["delivered"] = handler.messages - before
            assert run["delivered"] == args.replies == run["sent"], run
            runs.append(run)
            print(f"  {workers} worker(s): {run['sends_per_s']} sends/s", flush=True)
    finally:
        controller.stop()
    print()
    print_table(
        [
            "workers",
            "sends/s",
            "p50 ms",
            "p95 ms",
            "p99 ms",
            "lost claims",
            "passed over",
            "peak RSS MB each",
        ],
        [
            [
                run["workers"],
                run["sends_per_s"],
                run["per_send"]["p50_ms"],
                run["per_send"]["p95_ms"],
                run["per_send"]["p99_ms"],
                run["lost_claims"],
                run["passed_over"],
                ", ".join(str(mb) for mb in run["peak_rss_mb"]),
            ]
            for run in runs
        ],
    )
    size = handler.bytes / max(1, handler.messages)
    print(
        f"\n{args.replies:,} mails per run, {size / 1024:.1f} KiB each on the wire, every one delivered once "
        f"per run. Database: {connection.vendor}. Per send: claim + build + SMTP + record."
    )
    path = write_results(
        f"mail_send_{connection.vendor}.json",
        {
            "benchmark": "mail_send",
            "database": connection.vendor,
            "replies": args.replies,
            "attachment_kb": args.attachment_kb,
            "queue_reply": queue_cost,
            "runs": runs,
            "bytes_per_mail": round(size),
            "machine": machine_info(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
