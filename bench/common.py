"""Shared pieces of the HTTP benchmarks: a server started and stopped by the script, the
environment it runs in, in-process Django for setup (agent, session, token), statistics,
tables and CPU accounting.

Everything here runs on the benchmark machine itself: client, server and database share
its cores, so figures are for loopback and include the client's own CPU cost.
"""

from __future__ import annotations

import json
import logging
import math
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import psutil

if TYPE_CHECKING:
    from relaydesk.accounts.models import User

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
RESULTS_DIR = BENCH_DIR / "results"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/relaydesk_bench"


# --- environment ------------------------------------------------------------------------


def database_url_from(arg: str | None) -> str:
    return arg or os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL


def db_label(database_url: str) -> str:
    """A short name for result files: the PostgreSQL database name or the SQLite file's stem."""
    parts = urlsplit(database_url)
    name = Path(parts.path).stem if parts.scheme.startswith("sqlite") else parts.path.strip("/")
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name) or "db"


def is_postgres(database_url: str) -> bool:
    return database_url.startswith(("postgres://", "postgresql://"))


def bench_env(database_url: str, var_dir: Path, *, redis_url: str | None = None) -> dict[str, str]:
    """The environment of the server under test and of the in-process setup code.

    Both must share ``RELAYDESK_VAR_DIR`` (the secret key lives there), or the session the
    script creates would not be valid for the server.
    """
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    env.update(
        DATABASE_URL=database_url,
        RELAYDESK_VAR_DIR=str(var_dir),
        DEBUG="false",
        LOG_LEVEL="WARNING",
        DJANGO_SETTINGS_MODULE="relaydesk.config.settings",
        PYTHONUNBUFFERED="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    return env


def setup_django(env: Mapping[str, str]) -> None:
    """Configure Django in this process with the same settings the server gets."""
    keys = ("DATABASE_URL", "RELAYDESK_VAR_DIR", "DEBUG", "DJANGO_SETTINGS_MODULE", "REDIS_URL", "LOG_LEVEL")
    for key in keys:
        if key in env:
            os.environ[key] = env[key]
        else:
            os.environ.pop(key, None)
    import django

    django.setup()
    # The settings log at INFO by default; a benchmark's own HTTP client should not.
    for name in ("httpx", "httpcore", "django.request"):
        logging.getLogger(name).setLevel(logging.ERROR)


def new_var_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=f"relaydesk-{prefix}-"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the server under test ------------------------------------------------------------------


class Server:
    """A ``relaydesk`` command (``web`` or ``run``) in its own process group, stopped on exit."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: Mapping[str, str],
        port: int,
        log_path: Path,
        ready_path: str = "/accounts/login/",
        ready_timeout: float = 120.0,
    ) -> None:
        self.args = list(args)
        self.env = dict(env)
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.ready_path = ready_path
        self.ready_timeout = ready_timeout
        self.proc: subprocess.Popen[bytes] | None = None

    @classmethod
    def web(cls, *, env: Mapping[str, str], port: int, workers: int, log_path: Path) -> Server:
        args = ["web", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
        return cls(args, env=env, port=port, log_path=log_path)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> None:
        command = [sys.executable, "-m", "relaydesk.cli", *self.args]
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.proc = subprocess.Popen(
                command,
                env=self.env,
                cwd=REPO_DIR,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + self.ready_timeout
        with httpx.Client(timeout=5.0) as client:
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited with {self.proc.returncode}:\n{self.log_tail()}")
                try:
                    if client.get(self.base_url + self.ready_path).status_code < 500:
                        return
                except httpx.TransportError:
                    pass
                time.sleep(0.25)
        self.stop()
        raise RuntimeError(f"the server did not answer within {self.ready_timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def processes(self) -> list[psutil.Process]:
        """The server process and all its descendants (uvicorn workers, the huey consumer)."""
        if self.proc is None or self.proc.poll() is not None:
            return []
        try:
            root = psutil.Process(self.proc.pid)
            return [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # Our own process group (start_new_session): the server and the workers it spawned.
        for sig, wait in ((signal.SIGINT, 15.0), (signal.SIGTERM, 5.0), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(timeout=wait)
                return
            except subprocess.TimeoutExpired:
                continue

    def __enter__(self) -> Server:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


# --- in-process setup (needs setup_django first) ----------------------------------------


def pick_agent(email: str | None = None) -> User:
    """The agent to act as: ``email`` if given, else the active agent in a team with the most
    open tickets assigned (so "My tickets" is a full page, the worst case for it)."""
    from django.db.models import Count

    from relaydesk.accounts.models import Role, User
    from relaydesk.tickets.models import OPEN_STATUSES, Ticket

    if email:
        return User.objects.get(email__iexact=email)
    agents = User.objects.filter(role=Role.AGENT, is_active=True, teams__isnull=False).distinct()
    busiest = (
        Ticket.objects.filter(status__in=OPEN_STATUSES, assignee__in=agents)
        .values("assignee")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    if busiest is not None:
        return User.objects.get(pk=busiest["assignee"])
    agent = agents.order_by("pk").first()
    if agent is None:
        raise SystemExit("No active agent in a team in this database: seed it first (relaydesk demo).")
    return agent


def session_cookie(user: User) -> tuple[str, str]:
    """A signed-in session for ``user`` created directly in the session store (no password needed)."""
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store[SESSION_KEY] = str(user.pk)
    store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
    store[HASH_SESSION_KEY] = user.get_session_auth_hash()
    store.create()
    assert store.session_key is not None
    return settings.SESSION_COOKIE_NAME, store.session_key


def delete_session(session_key: str) -> None:
    from importlib import import_module

    from django.conf import settings

    import_module(settings.SESSION_ENGINE).SessionStore(session_key).delete()


def form_login(client: httpx.Client, email: str, password: str) -> None:
    """Sign in through the allauth form, with its CSRF token, as a browser does."""
    client.get("/accounts/login/")
    csrf = client.cookies.get("csrftoken")
    if not csrf:
        raise RuntimeError("the sign-in page set no csrftoken cookie")
    response = client.post(
        "/accounts/login/",
        data={"login": email, "password": password, "csrfmiddlewaretoken": csrf},
        headers={"Referer": f"{client.base_url}/accounts/login/"},
    )
    if response.status_code != 302 or "sessionid" not in client.cookies:
        raise RuntimeError(f"signing in as {email} failed (HTTP {response.status_code})")


@dataclass
class ApiToken:
    token_id: int
    user: User
    value: str


def create_token(user: User, name: str) -> ApiToken:
    from relaydesk.accounts.tokens import do_create_token

    token, value = do_create_token(user=user, name=name, scope="read_write")
    return ApiToken(token_id=token.pk, user=user, value=value)


def revoke_token(token: ApiToken) -> None:
    from relaydesk.accounts.tokens import do_revoke_token

    do_revoke_token(user=token.user, token_id=token.token_id)


# --- statistics and output ---------------------------------------------------------------


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (0 ≤ q ≤ 100) of already sorted values."""
    if not sorted_values:
        return math.nan
    position = (len(sorted_values) - 1) * q / 100
    low, high = math.floor(position), math.ceil(position)
    if low == high:
        return sorted_values[low]
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (position - low)


def latency_summary(seconds: Iterable[float]) -> dict[str, float]:
    values = sorted(seconds)
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "p50_ms": round(percentile(values, 50) * 1000, 2),
        "p95_ms": round(percentile(values, 95) * 1000, 2),
        "p99_ms": round(percentile(values, 99) * 1000, 2),
        "mean_ms": round(sum(values) / len(values) * 1000, 2),
        "max_ms": round(values[-1] * 1000, 2),
    }


def print_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> None:
    """A Markdown table (pastes straight into README files)."""
    cells = [[str(h) for h in headers], *[[_cell(v) for v in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return "| " + " | ".join(v.ljust(w) for v, w in zip(row, widths, strict=True)) + " |"

    print(line(cells[0]))
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for row in cells[1:]:
        print(line(row))


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.1f}" if value >= 100 else f"{value:.2f}"
    return str(value)


def write_results(name: str, data: Mapping[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / name
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def machine_info() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "python": sys.version.split()[0],
        "note": "client, server and database on the same machine, over loopback",
    }


# --- CPU accounting ----------------------------------------------------------------------


def _cpu_seconds(proc: psutil.Process) -> float:
    """CPU of the process and of its children that have exited (PostgreSQL's parallel workers
    and closed connections end up in the postmaster's children times)."""
    try:
        times = proc.cpu_times()
        return float(times.user + times.system + times.children_user + times.children_system)
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return 0.0


def postgres_processes() -> list[psutil.Process]:
    found = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in {"postgres", "postmaster"}:
            found.append(proc)
    return found


@dataclass
class CpuMeter:
    """CPU seconds used by groups of processes between start() and stop(), as % of one core.

    Read only: it looks at the server tree, this client process and the PostgreSQL backends.
    """

    groups: dict[str, Any] = field(default_factory=dict)
    _start: dict[str, dict[int, float]] = field(default_factory=dict)
    _wall: float = 0.0
    _system_start: Any = None

    def start(self) -> None:
        self._wall = time.monotonic()
        self._system_start = psutil.cpu_times()
        self._start = {name: self._snapshot(fetch()) for name, fetch in self.groups.items()}

    @staticmethod
    def _snapshot(procs: Iterable[psutil.Process]) -> dict[int, float]:
        return {proc.pid: _cpu_seconds(proc) for proc in procs}

    def stop(self) -> dict[str, float]:
        wall = time.monotonic() - self._wall
        result: dict[str, float] = {}
        for name, fetch in self.groups.items():
            before = self._start.get(name, {})
            now = self._snapshot(fetch())
            # A process that exited took its CPU into its parent's children times: subtract
            # what it had at the start even though it is gone now.
            used = sum(now.values()) - sum(before.values())
            result[f"{name}_cpu_pct"] = round(100 * used / wall, 1) if wall > 0 else 0.0
        end = psutil.cpu_times()
        busy = sum(
            getattr(end, f) - getattr(self._system_start, f)
            for f in ("user", "system", "nice", "irq", "softirq")
            if hasattr(end, f)
        )
        result["machine_busy_pct"] = (
            round(100 * busy / (wall * (os.cpu_count() or 1)), 1) if wall > 0 else 0.0
        )
        return result
