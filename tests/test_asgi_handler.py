"""The ASGI entry point: the synchronous stack runs once per request, on kept threads."""

from __future__ import annotations

import asyncio
import threading

import pytest
from django.http import HttpRequest, HttpResponse

from relaydesk.config.asgi import SyncStackASGIHandler


async def _get(app: SyncStackASGIHandler, path: str) -> tuple[int, bytes]:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8000),
    }
    sent: list[dict] = []
    bodies = [{"type": "http.request", "body": b"", "more_body": False}]

    async def receive() -> dict:
        if bodies:
            return bodies.pop()
        await asyncio.Future()  # the client stays connected
        raise AssertionError("unreachable")

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


@pytest.mark.django_db(transaction=True)
def test_requests_run_the_whole_stack_on_kept_threads(settings, monkeypatch) -> None:
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    settings.WEB_THREADS = 2
    threads_seen: list[str] = []

    def where(request: HttpRequest) -> HttpResponse:
        threads_seen.append(threading.current_thread().name)
        return HttpResponse("here")

    monkeypatch.setattr(SyncStackASGIHandler, "_get_response", lambda self, request: where(request))
    app = SyncStackASGIHandler()

    async def many() -> list[tuple[int, bytes]]:
        return await asyncio.gather(*(_get(app, "/anything/") for _ in range(6)))

    results = asyncio.run(many())
    assert results == [(200, b"here")] * 6
    # Six requests, two kept threads (not one new thread per request).
    assert len(threads_seen) == 6
    assert len(set(threads_seen)) <= 2
    assert all(name.startswith("request-") for name in threads_seen)
