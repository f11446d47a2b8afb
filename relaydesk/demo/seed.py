"""Demo data: a 24/7 center with three regional teams. Filled in by the demo-data work."""

from __future__ import annotations

from collections.abc import Callable

DEMO_PASSWORD = "relaydesk-demo"  # noqa: S105 -- published demo sign-in, demo data only
DEMO_LOGINS: list[tuple[str, str]] = [("admin", "admin@relaydesk.example")]


def seed_demo(progress: Callable[[str], None] = print) -> None:
    raise NotImplementedError
