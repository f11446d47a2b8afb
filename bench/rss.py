"""Peak memory of the embedded mode: ``relaydesk run`` (web + huey consumer on SQLite).

    .venv/bin/python -m bench.rss [--duration 60] [--clients 4] [--sign-ins N]

Starts ``relaydesk run`` with RELAYDESK_VAR_DIR set to a fresh temporary directory (no
DATABASE_URL, no REDIS_URL), so it migrates and seeds the demo data on first start, exactly
what a new user sees. When it serves, --sign-ins clients (default: all --clients) sign in
through the sign-in form at the same moment, as the demo agents ``relaydesk run`` prints,
like a shift starting; then --clients clients drive traffic for --duration seconds: queue
pages (mine, unassigned, team queues, filters, load-more), ticket pages, the API list and
search, plus an internal note now and then so the job consumer has work.

Meanwhile it samples, 50 times a second, the resident set size (RSS) of the web process and
of the worker (huey consumer) process, each with its children, and reports the peaks of
each phase (idle, sign-ins, traffic) and the peak of their sum at the same instant. USS at
the end shows how much is private (RSS counts shared library pages in both processes).

Target: web + worker peak RSS under 512 MB. Results: stdout and bench/results/rss.json.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psutil

from bench.common import Server, free_port, machine_info, new_var_dir, print_table, write_results

TARGET_MB = 512
MB = 1024 * 1024
TICKET_LINK = re.compile(r'href="/tickets/(\d+)/"')
TEAM_LINK = re.compile(r'href="(/tickets/team/\d+/)"')
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
SIGN_IN_HEADER = re.compile(r"Demo sign-ins \(password for all: (\S+)\):")
SIGN_IN_LINE = re.compile(r"^\s+(\S[^@\n]*?)\s+(\S+@\S+)\s*$", re.MULTILINE)


def run_env(var_dir: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "REDIS_URL", "DJANGO_SETTINGS_MODULE"}
    }
    env.update(RELAYDESK_VAR_DIR=str(var_dir), DEBUG="false", LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1")
    return env


def demo_sign_ins(log: str) -> tuple[list[str], str]:
    """The demo logins ``relaydesk run`` printed (agents first) and their shared password."""
    header = SIGN_IN_HEADER.search(log)
    if header is None:
        raise SystemExit("relaydesk run printed no demo sign-ins: pass --email and --password")
    logins = SIGN_IN_LINE.findall(log[header.end() :])
    if not logins:
        raise SystemExit("no demo sign-in lines found: pass --email and --password")
    agents = [email for role, email in logins if "agent" in role.lower()]
    return agents or [logins[0][1]], header.group(1)


# --- memory sampling ---------------------------------------------------------------------


def _tree(proc: psutil.Process) -> list[psutil.Process]:
    try:
        return [proc, *proc.children(recursive=True)]
    except psutil.NoSuchProcess:
        return []


def split_processes(root_pid: int) -> tuple[list[psutil.Process], list[psutil.Process]]:
    """(web, worker): the run process serves the web app itself and spawns the consumer."""
    root = psutil.Process(root_pid)
    worker_roots = []
    for child in root.children(recursive=False):
        try:
            if "worker" in child.cmdline():
                worker_roots.append(child)
        except psutil.NoSuchProcess:
            continue
    worker = [p for w in worker_roots for p in _tree(w)]
    worker_pids = {p.pid for p in worker}
    web = [p for p in _tree(root) if p.pid not in worker_pids]
    return web, worker


def _rss(procs: list[psutil.Process]) -> int:
    total = 0
    for proc in procs:
        try:
            total += proc.memory_info().rss
        except psutil.NoSuchProcess:
            continue
    return total


PHASES = ("serving", "sign-in", "traffic")


@dataclass
class Sampler:
    """Samples web and worker RSS in a thread; keeps the peaks of each phase of the run."""

    root_pid: int
    interval: float = 0.02
    phase: str = PHASES[0]
    peaks: dict[str, dict[str, int]] = field(
        default_factory=lambda: {p: {"web": 0, "worker": 0, "total": 0} for p in PHASES}
    )
    samples: int = 0
    timeline: list[tuple[float, str, int, int]] = field(default_factory=list)
    _processes: tuple[list[psutil.Process], list[psutil.Process]] = field(default_factory=lambda: ([], []))
    _started: float = field(default_factory=time.monotonic)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def sample(self) -> None:
        # Finding the processes reads all of /proc: once a second; RSS itself is cheap to read.
        if self.samples % 50 == 0 or not self._processes[0]:
            self._processes = split_processes(self.root_pid)
        web, worker = self._processes
        web_rss, worker_rss = _rss(web), _rss(worker)
        peaks = self.peaks[self.phase]
        peaks["web"] = max(peaks["web"], web_rss)
        peaks["worker"] = max(peaks["worker"], worker_rss)
        peaks["total"] = max(peaks["total"], web_rss + worker_rss)
        self.samples += 1
        if self.samples % 25 == 1:
            elapsed = round(time.monotonic() - self._started, 1)
            self.timeline.append((elapsed, self.phase, web_rss // MB, worker_rss // MB))

    def overall(self) -> dict[str, int]:
        return {key: max(p[key] for p in self.peaks.values()) for key in ("web", "worker", "total")}

    def _loop(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.sample()
            except psutil.NoSuchProcess:
                return

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()


def private_memory(procs: list[psutil.Process]) -> dict[str, int]:
    uss = pss = 0
    for proc in procs:
        try:
            info = proc.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        uss += info.uss
        pss += getattr(info, "pss", 0)
    return {"uss_mb": uss // MB, "pss_mb": pss // MB}


# --- traffic -----------------------------------------------------------------------------


@dataclass
class Traffic:
    requests: int = 0
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, key: str) -> None:
        self.errors[key] = self.errors.get(key, 0) + 1


QUEUES = [
    "/",
    "/tickets/unassigned/",
    "/tickets/unassigned/?priority=1,2",
    "/tickets/search/?q=invoice",
    "/?status=pending_customer",
]


@dataclass
class Browsing:
    """What one signed-in client has seen: the queues it can open and the tickets listed in them."""

    queues: list[str] = field(default_factory=lambda: list(QUEUES))
    ticket_ids: list[int] = field(default_factory=list)

    def learn(self, path: str, html: str, rng: random.Random) -> None:
        self.queues.extend(link for link in dict.fromkeys(TEAM_LINK.findall(html)) if link not in self.queues)
        known = set(self.ticket_ids)
        self.ticket_ids.extend(
            n for n in dict.fromkeys(map(int, TICKET_LINK.findall(html))) if n not in known
        )
        del self.ticket_ids[:-2000]
        cursor = re.search(r"cursor=([A-Za-z0-9_-]+)", html)
        if cursor and rng.random() < 0.3:
            self.queues.append(f"{path}{'&' if '?' in path else '?'}cursor={cursor.group(1)}")
            del self.queues[len(QUEUES) + 5 : -20]


async def sign_in_all(base_url: str, emails: list[str], password: str) -> list[httpx.Cookies]:
    """Every client signs in through the form at the same moment, like a shift starting."""

    async def one(email: str) -> httpx.Cookies:
        async with httpx.AsyncClient(base_url=base_url, timeout=60.0) as client:
            await client.get("/accounts/login/")
            csrf = client.cookies.get("csrftoken") or ""
            response = await client.post(
                "/accounts/login/",
                data={"login": email, "password": password, "csrfmiddlewaretoken": csrf},
                headers={"Referer": f"{base_url}/accounts/login/"},
            )
            if response.status_code != 302 or "sessionid" not in client.cookies:
                raise RuntimeError(f"signing in as {email} failed (HTTP {response.status_code})")
            return client.cookies

    return list(await asyncio.gather(*(one(email) for email in emails)))


async def drive(
    base_url: str, sessions: list[httpx.Cookies], traffic: Traffic, *, duration: float, seed: int
) -> None:
    """Each signed-in client works its queues and tickets until the time is up."""
    stop_at = time.monotonic() + duration

    async def one_client(number: int, cookies: httpx.Cookies) -> None:
        rng = random.Random(seed + number)
        csrf = cookies.get("csrftoken") or ""
        seen = Browsing()
        async with httpx.AsyncClient(base_url=base_url, cookies=cookies, timeout=60.0) as client:
            while time.monotonic() < stop_at:
                await one_request(client, rng, seen, number, csrf)

    async def one_request(
        client: httpx.AsyncClient, rng: random.Random, seen: Browsing, number: int, csrf: str
    ) -> None:
        roll = rng.random()
        method, data, is_queue = "GET", None, False
        if roll < 0.35 or not seen.ticket_ids:
            path, is_queue = rng.choice(seen.queues), True
        elif roll < 0.80:
            path = f"/tickets/{rng.choice(seen.ticket_ids)}/"
        elif roll < 0.90:
            path = "/api/v1/tickets?limit=50&closed=true"
        else:
            method = "POST"
            path = f"/tickets/{rng.choice(seen.ticket_ids)}/messages/"
            data = {
                "kind": "note",
                "body": f"Checked the logs, looks related (bench {number}).",
                "then_status": "",
            }
        try:
            if method == "GET":
                response = await client.get(path)
            else:
                response = await client.post(path, data=data, headers={"X-CSRFToken": csrf})
        except httpx.HTTPError as exc:
            traffic.error(type(exc).__name__)
            return
        traffic.requests += 1
        if response.status_code >= 400:
            traffic.error(f"{method} {response.status_code}")
        elif is_queue:
            seen.learn(path, response.text, rng)

    await asyncio.gather(*(one_client(i, cookies) for i, cookies in enumerate(sessions)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.rss", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", "-t", type=float, default=60.0, help="seconds of traffic")
    parser.add_argument("--clients", "-c", type=int, default=4, help="concurrent clients")
    parser.add_argument(
        "--sign-ins", type=int, help="how many clients sign in at the same moment (default: --clients)"
    )
    parser.add_argument("--var-dir", help="use this RELAYDESK_VAR_DIR instead of a fresh one (no seeding)")
    parser.add_argument("--email", help="sign in as this user (default: a demo agent)")
    parser.add_argument("--password", help="password for --email")
    parser.add_argument(
        "--start-timeout", type=float, default=900.0, help="seconds to wait for migrate + seed"
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    var_dir = Path(args.var_dir) if args.var_dir else new_var_dir("rss")
    port = free_port()
    server = Server(
        ["run", "--host", "127.0.0.1", "--port", str(port)],
        env=run_env(var_dir),
        port=port,
        log_path=var_dir / "run.log",
        ready_timeout=args.start_timeout,
    )
    print(f"relaydesk run with RELAYDESK_VAR_DIR={var_dir} on {server.base_url} …", flush=True)
    traffic = Traffic()
    started = time.monotonic()
    try:
        server.start()
        startup_s = time.monotonic() - started
        print(f"serving after {startup_s:.1f} s (migrate + demo seed on first start)", flush=True)
        sampler = Sampler(server.pid)
        sampler.start()
        time.sleep(3.0)  # the consumer finishes starting; this is the idle figure
        if args.email and args.password:
            emails, password = [args.email], args.password
        else:
            emails, password = demo_sign_ins(server.log_tail(200))
        sign_ins = max(1, min(args.sign_ins or args.clients, args.clients))
        logins = [emails[i % len(emails)] for i in range(sign_ins)]
        sampler.phase = "sign-in"
        signed_in = asyncio.run(sign_in_all(server.base_url, logins, password))
        sessions = [signed_in[i % sign_ins] for i in range(args.clients)]
        print(
            f"{sign_ins} clients signed in at once ({', '.join(sorted(set(logins)))}); "
            f"traffic for {args.duration:.0f} s",
            flush=True,
        )
        sampler.phase = "traffic"
        asyncio.run(drive(server.base_url, sessions, traffic, duration=args.duration, seed=args.seed))
        time.sleep(2.0)  # let the consumer finish the jobs the last requests enqueued
        sampler.stop()
        sampler.sample()
        web, worker = split_processes(server.pid)
        end_rss = {"web": _rss(web) // MB, "worker": _rss(worker) // MB}
        private = {"web": private_memory(web), "worker": private_memory(worker)}
        process_count = {"web": len(web), "worker": len(worker)}
    finally:
        server.stop()

    def mb(values: dict[str, int]) -> dict[str, float]:
        return {k: round(v / MB, 1) for k, v in values.items()}

    phases = {phase: mb(peaks) for phase, peaks in sampler.peaks.items()}
    overall = mb(sampler.overall())
    print()
    rows = []
    for key, label in (
        ("web", "web (relaydesk run: uvicorn + Django)"),
        ("worker", "worker (huey consumer)"),
        ("total", "web + worker (same instant)"),
    ):
        rows.append(
            [
                label,
                phases["serving"][key],
                phases["sign-in"][key],
                phases["traffic"][key],
                overall[key],
                end_rss["web"] + end_rss["worker"] if key == "total" else end_rss[key],
                private["web"]["uss_mb"] + private["worker"]["uss_mb"]
                if key == "total"
                else private[key]["uss_mb"],
            ]
        )
    print_table(
        ["process", "idle MB", f"peak, {sign_ins} sign-ins MB", "peak, traffic MB", "peak MB",
         "RSS at end MB", "USS at end MB"],
        rows,
    )  # fmt: skip
    verdict = "meets" if overall["total"] < TARGET_MB else "misses"
    rate = traffic.requests / args.duration
    print(
        f"\nRSS of each process with its children, sampled every 0.02 s ({sampler.samples} samples). "
        f"{traffic.requests} requests in {args.duration:.0f} s ({rate:.1f}/s) from {args.clients} clients, "
        f"errors: {traffic.errors or 'none'}.\n"
        f"Target: web + worker peak RSS < {TARGET_MB} MB: {verdict} it ({overall['total']} MB)."
    )
    path = write_results(
        "rss.json",
        {
            "benchmark": "rss",
            "startup_seconds": round(startup_s, 1),
            "peak_rss_mb": overall,
            "peak_rss_mb_by_phase": phases,
            "rss_at_end_mb": end_rss,
            "private_at_end_mb": private,
            "processes": process_count,
            "requests": traffic.requests,
            "duration_s": args.duration,
            "clients": args.clients,
            "simultaneous_sign_ins": sign_ins,
            "errors": traffic.errors,
            "target_mb": TARGET_MB,
            "timeline_mb": sampler.timeline,
            "machine": machine_info(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        },
    )
    print(f"\nwrote {path}")
    if not args.var_dir:
        shutil.rmtree(var_dir, ignore_errors=True)  # kept when the run fails: run.log is there
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
