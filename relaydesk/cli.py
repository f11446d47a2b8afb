"""The ``relaydesk`` console command.

relaydesk run          migrate, seed demo data on first start, serve web + job consumer
relaydesk web          serve the web app (uvicorn)
relaydesk worker       run the job consumer (huey)
relaydesk migrate      apply database migrations
relaydesk demo         load the demo data (idempotent)
relaydesk createadmin  create an admin account interactively
relaydesk manage ...   any Django management command
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys


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
    _manage("run_huey", "--quiet")
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


def main(argv: list[str] | None = None) -> int:
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
