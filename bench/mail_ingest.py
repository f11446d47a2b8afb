"""Inbound mail ingest rate: store + parse + sanitise + thread + write, one message after another.

    .venv/bin/python -m bench.mail_ingest                         # SQLite (temp file), then PostgreSQL
    .venv/bin/python -m bench.mail_ingest --database sqlite --messages 3000
    .venv/bin/python -m bench.mail_ingest --database postgres --database-url postgres://…/relaydesk_mailingest

Each database is measured in a child process of its own (Django's settings are per process):

* SQLite: a fresh file in a temporary directory, migrated, in WAL mode as the embedded install.
* PostgreSQL: a dedicated database (default ``relaydesk_mailingest`` on 127.0.0.1), created when
  missing, migrated and emptied (``flush``) at every run, so runs compare.

What one message costs is what the worker does per message: ``intake.store_raw`` (the raw row
committed) then ``processing.process_inbound`` (lock the row, parse, fold quotes, sanitise the
HTML with nh3, detect loops, thread, find or create the contact, write the ticket or the reply
with its events, SLA clocks, attachments on the local file system and the message header,
followers). Mail is generated before the clock starts. The mix:

* 40 % new tickets, plain text, from a known customer (70 %) or a new address, some with a Cc;
* 35 % replies that thread by our own signed Message-ID (In-Reply-To + References) to a ticket
  made earlier in the run, from its requester, with a quoted history to fold;
* 25 % new tickets as HTML mail (text + HTML alternatives, a Gmail-style quote, an inline cid
  image of 4 KB) with a PDF attachment of 40–160 KB.

A warm-up of ``--warmup`` messages (not counted) fills the ticket pool the replies answer.
Acknowledgements are off (``--acknowledge`` turns them on once the outbox is there): this
measures intake. It prints messages/s, per-message p50/p95/p99 (all and per kind) and the peak
RSS of the measuring process; results also go to bench/results/mail_ingest-<db>.json.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

DEFAULT_POSTGRES_URL = "postgres://postgres@127.0.0.1:5432/relaydesk_mailingest"
TARGET_PER_SECOND = 200
MAILBOX = "support@mailbench.example"
SUBJECTS = [
    "Cannot sign in since the last update",
    "Invoice {n} charged twice",
    "Export to CSV times out",
    "Order {n} has not arrived",
    "Password reset email never arrives",
    "Wrong VAT number on invoice {n}",
    "App crashes when I upload a photo",
    "Two-factor codes rejected",
]
SENTENCES = [
    "Since this morning nothing works the way it did yesterday.",
    "I have already tried restarting the app and clearing the cache.",
    "Our whole team is blocked until this is fixed, so please treat it as urgent.",
    "The error message says something about a timeout, then the page goes blank.",
    "We changed nothing on our side as far as I know.",
    "Could you also check whether the invoice address is right?",
    "Thanks in advance for looking into it.",
]
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489") + b"\0" * 4000


# --- mail generation (before the clock starts) ----------------------------------------------------


def paragraphs(rng: random.Random, count: int) -> str:
    return "\n\n".join(" ".join(rng.sample(SENTENCES, 3)) for _ in range(count))


def plain_new(rng: random.Random, n: int, sender: str, *, cc: str | None) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <{sender}>"
    msg["To"] = f"Support <{MAILBOX}>"
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = rng.choice(SUBJECTS).format(n=n)
    msg["Message-ID"] = f"<new-{n}-{uuid.uuid4().hex}@customer.example>"
    msg["Date"] = "Mon, 12 Feb 2024 09:30:00 +0100"
    msg.set_content(paragraphs(rng, 3) + "\n\nBest regards,\nA customer\n-- \nACME Corp, Main Street 1")
    return msg.as_bytes()


REPLY_TO_PLACEHOLDER = b"<in-reply-to-placeholder@mailbench.invalid>"
FROM_PLACEHOLDER = b"from-placeholder@mailbench.invalid"


def reply(rng: random.Random, n: int) -> bytes:
    msg = EmailMessage()
    msg["From"] = FROM_PLACEHOLDER.decode()
    msg["To"] = f"Support <{MAILBOX}>"
    msg["Subject"] = "Re: " + rng.choice(SUBJECTS).format(n=n)
    msg["Message-ID"] = f"<reply-{n}-{uuid.uuid4().hex}@customer.example>"
    msg["In-Reply-To"] = REPLY_TO_PLACEHOLDER.decode()
    msg["References"] = f"<older-{n}@customer.example> {REPLY_TO_PLACEHOLDER.decode()}"
    quoted = "\n".join(f"> {line}" for line in paragraphs(rng, 2).splitlines())
    msg.set_content(
        f"{paragraphs(rng, 1)}\n\nOn Mon, 12 Feb 2024 at 10:00, Support <{MAILBOX}> wrote:\n{quoted}\n"
    )
    return msg.as_bytes()


# The PDFs are the bulk of the bytes: a few shared ones are spliced into each HTML mail just before
# it is ingested, so the pre-generated mail does not inflate the peak RSS being measured.
PDF_PLACEHOLDER = b"%PDF-placeholder"
PDF_PLACEHOLDER_BASE64 = base64.b64encode(PDF_PLACEHOLDER)


def shared_pdfs(rng: random.Random, count: int = 8) -> list[bytes]:
    pdfs = [b"%PDF-1.4\n" + rng.randbytes(rng.randint(40_000, 160_000)) for _ in range(count)]
    return [base64.encodebytes(pdf).replace(b"\n", b"\r\n").rstrip() for pdf in pdfs]


def html_new(rng: random.Random, n: int, sender: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = f"Customer {n} <{sender}>"
    msg["To"] = f"Support <{MAILBOX}>"
    msg["Subject"] = rng.choice(SUBJECTS).format(n=n) + " (screenshot attached)"
    msg["Message-ID"] = f"<html-{n}-{uuid.uuid4().hex}@customer.example>"
    text = paragraphs(rng, 2)
    msg.set_content(text)
    body = "".join(f"<p>{p}</p>" for p in text.split("\n\n"))
    html = (
        f'<div dir="ltr">{body}<p>See the screenshot:</p><img src="cid:shot{n}@customer.example"></div>'
        '<div class="gmail_quote"><div class="gmail_attr">On Fri, 9 Feb 2024 at 16:00, Support wrote:</div>'
        f'<blockquote class="gmail_quote" style="margin:0 0 0 .8ex">{paragraphs(rng, 2)}</blockquote></div>'
    )
    msg.add_alternative(html, subtype="html")
    html_part = cast(EmailMessage, msg.get_payload()[1])  # type: ignore[index]
    html_part.add_related(PNG, "image", "png", cid=f"<shot{n}@customer.example>", filename="shot.png")
    msg.add_attachment(PDF_PLACEHOLDER, maintype="application", subtype="pdf", filename=f"invoice-{n}.pdf")
    raw = msg.as_bytes()
    assert PDF_PLACEHOLDER_BASE64 in raw
    return raw


def generate(rng: random.Random, count: int, known: list[str], offset: int) -> list[tuple[str, bytes]]:
    mails: list[tuple[str, bytes]] = []
    for i in range(count):
        n = offset + i
        roll = rng.random()
        sender = rng.choice(known) if rng.random() < 0.7 else f"new{n}-{uuid.uuid4().hex[:6]}@new.example"
        if roll < 0.40:
            cc = f"Colleague <colleague{n % 50}@customer.example>" if rng.random() < 0.2 else None
            mails.append(("new", plain_new(rng, n, sender, cc=cc)))
        elif roll < 0.75:
            mails.append(("reply", reply(rng, n)))
        else:
            mails.append(("html", html_new(rng, n, sender)))
    return mails


# --- the measured run (child process) -------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    k = (len(ordered) - 1) * p / 100
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def summary(seconds: list[float]) -> dict[str, float]:
    return {
        "n": len(seconds),
        "p50_ms": round(percentile(seconds, 50) * 1000, 2),
        "p95_ms": round(percentile(seconds, 95) * 1000, 2),
        "p99_ms": round(percentile(seconds, 99) * 1000, 2),
        "mean_ms": round(sum(seconds) / max(len(seconds), 1) * 1000, 2),
    }


def ensure_postgres_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.strip("/")
    admin = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


def child(args: argparse.Namespace) -> dict[str, Any]:
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, connections

    from relaydesk.accounts.models import Team
    from relaydesk.customers.models import Contact, ContactEmail
    from relaydesk.mail import outbox
    from relaydesk.mail.intake import store_raw
    from relaydesk.mail.models import InboundStatus, Mailbox
    from relaydesk.mail.processing import process_inbound_many
    from relaydesk.mail.thread_refs import make_message_id

    call_command("migrate", "--no-input", verbosity=0)
    if connection.vendor == "postgresql":
        call_command("flush", "--no-input", verbosity=0)
    if not args.acknowledge:
        outbox.do_queue_acknowledgement = lambda ticket, **kwargs: None

    rng = random.Random(args.seed)
    team = Team.objects.create(name="Mail bench", region="EMEA", time_zone="Europe/Berlin")
    Mailbox.objects.create(name="Support", address=MAILBOX, team=team, send_acknowledgement=args.acknowledge)
    known = [f"customer{i}@acme{i % 40}.example" for i in range(500)]
    for address in known:
        contact = Contact.objects.create(name=address.split("@")[0])
        ContactEmail.objects.create(contact=contact, address=address, is_primary=True)
    mailbox = Mailbox.objects.get(address=MAILBOX)
    secret = settings.SECRET_KEY.encode()

    warmup = [("new", plain_new(rng, i, rng.choice(known), cc=None)) for i in range(args.warmup)]
    pdfs = shared_pdfs(rng)
    mails = generate(rng, args.messages, known, offset=args.warmup)
    tickets: list[tuple[bytes, bytes]] = []  # (our Message-ID, requester address) to answer

    def prepare(kind: str, raw: bytes) -> bytes:
        """The message as it arrives (not timed): a reply to a ticket we have, the PDF spliced in."""
        if kind == "reply":
            our_id, requester = rng.choice(tickets)
            return raw.replace(REPLY_TO_PLACEHOLDER, our_id).replace(FROM_PLACEHOLDER, requester)
        if kind == "html":
            return raw.replace(PDF_PLACEHOLDER_BASE64, rng.choice(pdfs))
        return raw

    def store(raw: bytes) -> int:
        """What the poller does per message: the raw row stored and committed."""
        row, _ = store_raw(raw, mailbox=mailbox, source="imap")
        return row.pk

    def ingest(raws: list[bytes]) -> list[Any]:
        """What is measured: the rows stored one by one, then processed as one group."""
        return process_inbound_many([store(raw) for raw in raws])

    def remember(outcome: Any, raw: bytes) -> None:
        if outcome.created_ticket:
            our_id = make_message_id(outcome.ticket_id, outcome.message_id, settings.MAIL_ID_DOMAIN, secret)
            head = raw.split(b"\n\n", 1)[0].decode("ascii", "replace")
            sender = next(line for line in head.splitlines() if line.startswith("From:"))
            address = sender.rsplit("<", 1)[-1].rstrip(">").strip()
            tickets.append((our_id.encode(), address.encode()))

    for _, raw in warmup:
        remember(ingest([raw])[0], raw)

    def measure(share: list[tuple[str, bytes]]) -> dict[str, Any]:
        """Ingest ``share`` one message after another: per-kind timings and what went wrong."""
        cpu_began = time.process_time()
        timings: dict[str, list[float]] = {"new": [], "reply": [], "html": []}
        problems: list[str] = []
        clock: Callable[[], float] = time.perf_counter
        profiler = None
        if args.profile:  # the measured loop only, not the set-up
            import cProfile

            profiler = cProfile.Profile(time.process_time)  # CPU, not waits
            profiler.enable()
        sql_times: dict[str, list[float]] = {}

        def time_sql(execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any) -> Any:
            began = clock()
            try:
                return execute(sql, params, many, context)
            finally:
                shape = " ".join(sql.split()[:6])[:90]
                sql_times.setdefault(shape, []).append(clock() - began)

        wrapper = connection.execute_wrapper(time_sql) if args.sql else contextlib.nullcontext()
        wrapper.__enter__()
        for start in range(0, len(share), args.group):
            kinds = [kind for kind, _ in share[start : start + args.group]]
            raws = [prepare(kind, template) for kind, template in share[start : start + args.group]]
            began = clock()
            outcomes = ingest(raws)
            # A message's time is its group's: stored, then processed with the others.
            elapsed = clock() - began
            for kind, raw, outcome in zip(kinds, raws, outcomes, strict=True):
                timings[kind].append(elapsed)
                if outcome.status != InboundStatus.PROCESSED:
                    problems.append(f"{kind}: {outcome.describe()}")
                elif kind == "reply" and outcome.matched_by != "message-id":
                    problems.append(f"reply not threaded by our Message-ID: {outcome}")
                elif kind != "reply" and not outcome.created_ticket:
                    problems.append(f"{kind} did not create a ticket: {outcome}")
                remember(outcome, raw)
        wrapper.__exit__(None, None, None)
        if args.sql:
            ranked = sorted(sql_times.items(), key=lambda item: -sum(item[1]))
            for shape, times in ranked[:25]:
                total = sum(times)
                print(
                    f"{total:8.3f} s {len(times):6} × {total / len(times) * 1000:6.2f} ms  {shape}",
                    file=sys.stderr,
                )
        if profiler is not None:
            import pstats

            profiler.disable()
            stats = pstats.Stats(profiler, stream=sys.stderr)
            stats.sort_stats("cumulative").print_stats(60)
            stats.sort_stats("tottime").print_stats(30)
            if os.environ.get("MAIL_INGEST_CALLEES"):
                stats.sort_stats("cumulative").print_callees(os.environ["MAIL_INGEST_CALLEES"])
        rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        cpu = time.process_time() - cpu_began
        return {"timings": timings, "problems": problems, "peak_rss_mb": rss_mb, "cpu_seconds": cpu}

    started = time.perf_counter()
    if args.workers == 1:
        results = [measure(mails)]
    else:
        # Worker processes as huey runs them at scale: forked after the set-up, each with its own
        # connection, each taking every n-th message.
        import multiprocessing

        connections.close_all()
        context = multiprocessing.get_context("fork")
        receivers = []
        for index in range(args.workers):
            receiver, sender = context.Pipe(duplex=False)

            def work(
                share: list[tuple[str, bytes]] = mails[index :: args.workers], out: Any = sender
            ) -> None:
                out.send(measure(share))

            process = context.Process(target=work)
            process.start()
            receivers.append((receiver, process))
        results = []
        for receiver, process in receivers:
            if not receiver.poll(3600):
                raise SystemExit(f"worker {process.pid} sent nothing within an hour")
            results.append(receiver.recv())
            process.join()
    elapsed = time.perf_counter() - started
    cpu_seconds = sum(r["cpu_seconds"] for r in results)

    # The share of the pure parser (mail/parsing.py on the stdlib email package) in that CPU.
    from relaydesk.mail.parsing import parse_message
    from relaydesk.mail.processing import limits

    sample = [prepare(kind, raw) for kind, raw in mails[:600]]
    parse_began = time.process_time()
    for raw in sample:
        parse_message(raw, limits=limits())
    parse_ms = (time.process_time() - parse_began) / len(sample) * 1000

    timings = {kind: [t for r in results for t in r["timings"][kind]] for kind in ("new", "reply", "html")}
    problems = [problem for r in results for problem in r["problems"]]
    everything = [t for values in timings.values() for t in values]
    return {
        "database": connection.vendor,
        "workers": args.workers,
        "group": args.group,
        "messages": len(mails),
        "seconds": round(elapsed, 2),
        "per_second": round(len(mails) / elapsed, 1),
        # CPU of the Python side only (the database server's is not counted): on a shared machine
        # this is the steadier figure; 1000 / it is the rate one free core would reach.
        "python_cpu_ms_per_message": round(cpu_seconds / len(mails) * 1000, 2),
        "of_which_parse_ms": round(parse_ms, 2),
        "all": summary(everything),
        **{kind: summary(values) for kind, values in timings.items()},
        "bytes_generated": sum(len(raw) for _, raw in mails),
        "peak_rss_mb": round(max(r["peak_rss_mb"] for r in results), 1),
        "problems": problems[:20],
        "problem_count": len(problems),
    }


# --- the parent: one child per database, a table at the end ---------------------------------------


def run_child(database_url: str, args: argparse.Namespace, var_dir: Path) -> dict[str, Any]:
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url,
        RELAYDESK_VAR_DIR=str(var_dir),
        MEDIA_ROOT=str(var_dir / "media"),
        DJANGO_SETTINGS_MODULE="relaydesk.config.settings",
        DEBUG="false",
        # One persistent connection per process: the pool's background threads must not exist
        # when the worker processes are forked (a lock held by one would hang the child).
        DATABASE_POOL="false",
    )
    command = [
        sys.executable, "-m", "bench.mail_ingest", "--child",
        "--messages", str(args.messages), "--warmup", str(args.warmup), "--seed", str(args.seed),
        "--workers", str(args.workers), "--group", str(args.group),
    ]  # fmt: skip
    if args.acknowledge:
        command.append("--acknowledge")
    if args.profile:
        command.append("--profile")
    if args.sql:
        command.append("--sql")
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or args.profile or args.sql:
        sys.stderr.write(result.stderr)
    if result.returncode != 0:
        raise SystemExit(f"the {database_url.split(':')[0]} run failed")
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--database", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--database-url", default=DEFAULT_POSTGRES_URL, help="the PostgreSQL database")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument("--warmup", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workers", type=int, default=1, help="processes ingesting at the same time")
    parser.add_argument(
        "--group", type=int, default=20, help="messages processed together, as an IMAP poll hands them over"
    )
    parser.add_argument("--acknowledge", action="store_true", help="queue acknowledgements (outbox)")
    parser.add_argument("--profile", action="store_true", help="print the hottest functions (cProfile)")
    parser.add_argument("--sql", action="store_true", help="print the statements that took the most time")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return

    results = []
    with tempfile.TemporaryDirectory(prefix="relaydesk-mailbench-") as tmp:
        if args.database in ("sqlite", "both"):
            var_dir = Path(tmp) / "sqlite"
            var_dir.mkdir()
            results.append(run_child(f"sqlite:///{var_dir / 'bench.sqlite3'}", args, var_dir))
        if args.database in ("postgres", "both"):
            name = urlsplit(args.database_url).path.strip("/")
            if "ingest" not in name and "bench" not in name:  # every run empties it (flush)
                raise SystemExit(f"refusing to empty {name!r}: use a database named *ingest* or *bench*")
            ensure_postgres_database(args.database_url)
            var_dir = Path(tmp) / "postgres"
            var_dir.mkdir()
            results.append(run_child(args.database_url, args, var_dir))

    print(f"\nInbound mail ingest, {args.messages} messages after {args.warmup} warm-up")
    print(f"(target ≥ {TARGET_PER_SECOND}/s)\n")
    print(
        "| database | workers | group | msgs/s | p50 ms | p95 ms | p99 ms | new p50/p95 | reply p50/p95 "
        "| html+att p50/p95 | Python CPU ms/msg (parse) | peak RSS MB |"
    )
    print("|" + " --- |" * 12)
    for r in results:
        print(
            f"| {r['database']} | {r['workers']} | {r['group']} | {r['per_second']} | {r['all']['p50_ms']} | "
            f"{r['all']['p95_ms']} | {r['all']['p99_ms']} | {r['new']['p50_ms']}/{r['new']['p95_ms']} | "
            f"{r['reply']['p50_ms']}/{r['reply']['p95_ms']} | {r['html']['p50_ms']}/{r['html']['p95_ms']} | "
            f"{r['python_cpu_ms_per_message']} ({r['of_which_parse_ms']}) | {r['peak_rss_mb']} |"
        )
        if r["problem_count"]:
            print(f"  {r['problem_count']} problems, e.g. {r['problems'][:3]}")
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    for r in results:
        (out / f"mail_ingest-{r['database']}.json").write_text(json.dumps(r, indent=2) + "\n")


if __name__ == "__main__":
    main()
