"""The ``relaydesk`` console command.

relaydesk run          migrate, seed demo data on first start, serve web + job consumer
relaydesk web          serve the web app (uvicorn)
relaydesk worker       run the job consumer (huey)
relaydesk migrate      apply database migrations
relaydesk demo         load the demo data (idempotent)
relaydesk createadmin  create an admin account interactively
relaydesk ingest-mail  store and process one email from a file or stdin (an MTA pipe)
relaydesk manage ...   any Django management command
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from typing import NoReturn


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.config.settings")
    import django

    django.setup()


def _manage(*args: str) -> None:
    from django.core.management import call_command

    call_command(*args)


def _serve(host: str, port: int, workers: int) -> None:
    import uvicorn

    uvicorn.run(
        "relaydesk.config.asgi:application",
        host=host,
        port=port,
        workers=workers if workers > 1 else None,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )


def _start_worker() -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "relaydesk.cli", "worker"])


def cmd_run(args: argparse.Namespace) -> int:
    _setup()
    from relaydesk.accounts.models import User

    _manage("migrate", "--no-input", "-v", "0")
    first_start = not User.objects.exists()
    if first_start:
        print("First start: loading demo data …", flush=True)
        from relaydesk.demo.seed import seed_demo

        seed_demo(progress=lambda line: print("  " + line, flush=True))
    worker = _start_worker()
    url = f"http://{args.host}:{args.port}"
    print(f"\nRelaydesk is running at {url}\n", flush=True)
    from relaydesk.demo.seed import DEMO_LOGINS, DEMO_PASSWORD

    if User.objects.filter(email=DEMO_LOGINS[0][1]).exists():
        print(f"Demo sign-ins (password for all: {DEMO_PASSWORD}):")
        for role, email in DEMO_LOGINS:
            print(f"  {role:<16} {email}")
    print("\nPress Ctrl-C to stop.\n", flush=True)
    try:
        _serve(args.host, args.port, 1)
    finally:
        if worker.poll() is None:
            worker.send_signal(signal.SIGINT)
            try:
                worker.wait(timeout=10)
            except subprocess.TimeoutExpired:
                worker.kill()
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    _setup()
    _serve(args.host, args.port, args.workers)
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    _setup()
    # --flush-locks: a worker killed while holding a task lock (the SLA scan, a mailbox poll)
    # would otherwise leave it set and that periodic task would never run again.
    _manage("run_huey", "--quiet", "--flush-locks")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup()
    _manage("migrate", "--no-input")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup()
    from relaydesk.demo.seed import seed_demo

    seed_demo(progress=lambda line: print(line, flush=True))
    return 0


def cmd_createadmin(args: argparse.Namespace) -> int:
    _setup()
    _manage("createsuperuser")
    return 0


def cmd_manage(args: argparse.Namespace) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.config.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["relaydesk manage", *args.rest])
    return 0


# sysexits.h: what an MTA's pipe transport understands (75: keep the message and retry later).
EX_USAGE, EX_DATAERR, EX_TEMPFAIL = 64, 65, 75


class _SysexitsParser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(EX_USAGE, f"{self.prog}: error: {message}\n")


def _ingest_parser() -> argparse.ArgumentParser:
    parser = _SysexitsParser(
        prog="relaydesk ingest-mail",
        description="Store one raw email and process it now. Exit status: 0 stored (even when "
        "quarantined), 64 usage error, 65 empty or too large (refused for good), 75 could not be "
        "stored (retry later).",
    )
    parser.add_argument(
        "--mailbox", metavar="ADDRESS", help="the mailbox it was sent to (default: from its recipients)"
    )
    parser.add_argument("file", metavar="FILE|-", help="the message (RFC 5322), - for stdin")
    return parser


def cmd_ingest_mail(argv: list[str]) -> int:
    args = _ingest_parser().parse_args(argv)
    try:
        _setup()
        from django.conf import settings

        from relaydesk.mail.intake import store_raw
        from relaydesk.mail.models import InboundSource, Mailbox
        from relaydesk.mail.processing import process_inbound

        limit = 2 * settings.MAIL_MAX_BYTES
        try:
            if args.file == "-":
                raw = sys.stdin.buffer.read(limit + 1)
            else:
                with open(args.file, "rb") as handle:
                    raw = handle.read(limit + 1)
        except OSError as error:
            print(f"relaydesk ingest-mail: cannot read {args.file}: {error.strerror}", file=sys.stderr)
            return EX_USAGE
        if not raw.strip() or len(raw) > limit:
            problem = "is empty" if not raw.strip() else f"is larger than {limit} bytes"
            print(f"relaydesk ingest-mail: the message {problem}; refused", file=sys.stderr)
            return EX_DATAERR
        mailbox = None
        if args.mailbox:
            mailbox = Mailbox.objects.filter(address__lower=args.mailbox.strip().lower()).first()
            if mailbox is None:
                print(f"relaydesk ingest-mail: no mailbox with the address {args.mailbox}", file=sys.stderr)
                return EX_USAGE
        row, created = store_raw(raw, mailbox=mailbox, source=InboundSource.COMMAND)
    except Exception as error:  # the database is down, the disk is full, the settings are broken
        print(f"relaydesk ingest-mail: could not store the message: {error}", file=sys.stderr)
        return EX_TEMPFAIL
    # Stored: from here on the message is safe, whatever processing makes of it. A duplicate whose
    # first delivery is done is not processed again (process_inbound returns its outcome).
    outcome = process_inbound(row.pk)
    label = "stored as" if created else "duplicate of"
    print(f"{label} inbound email {row.pk}: {outcome.describe()}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["ingest-mail"]:  # its own parser: usage errors exit 64, as an MTA expects
        return cmd_ingest_mail(argv[1:])
    parser = argparse.ArgumentParser(prog="relaydesk", description="Relaydesk: the remote service center")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func, help_text in (
        ("run", cmd_run, "migrate, seed demo data on first start, serve web and jobs"),
        ("web", cmd_web, "serve the web app"),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        p.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        if name == "web":
            p.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "1")))
        p.set_defaults(func=func)
    sub.add_parser("worker", help="run the job consumer").set_defaults(func=cmd_worker)
    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=cmd_migrate)
    sub.add_parser("demo", help="load the demo data (idempotent)").set_defaults(func=cmd_demo)
    sub.add_parser("createadmin", help="create an admin account").set_defaults(func=cmd_createadmin)
    sub.add_parser("ingest-mail", help="store and process one email: ingest-mail [--mailbox ADDRESS] FILE|-")
    manage = sub.add_parser("manage", help="run a Django management command")
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 0


if __name__ == "__main__":
    sys.exit(main())
