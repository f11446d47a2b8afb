import asyncio
import gc
import os
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import django
from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.conf import settings
from django.core.handlers.asgi import ASGIHandler

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relaydesk.config.settings")


class _RequestThreads:
    """Single-thread executors that requests borrow: threads outlive a request.

    Django gives every request a new thread for its synchronous code (a fresh
    ``ThreadSensitiveContext``); starting and handing over to it cost ~0.6 ms of CPU per
    request. Borrowing a kept thread keeps Django's rule (all of a request's synchronous code
    on one thread) without the cost. A request waits for a free thread when all are busy.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._free: asyncio.Queue[ThreadPoolExecutor] | None = None

    async def take(self) -> ThreadPoolExecutor:
        if self._free is None:  # made in the serving event loop, on the first request
            self._free = asyncio.Queue()
            for number in range(self.size):
                self._free.put_nowait(ThreadPoolExecutor(1, thread_name_prefix=f"request-{number}"))
        return await self._free.get()

    def give(self, executor: ThreadPoolExecutor) -> None:
        assert self._free is not None
        self._free.put_nowait(executor)


class SyncStackASGIHandler(ASGIHandler):
    """Django's ASGI handler for a synchronous app: the stack runs in one call, on a kept thread.

    Relaydesk's middleware and views are synchronous. Django's ASGI handler starts the stack from
    an asynchronous core, so a request crossed between the event loop and its thread four times
    (into the middleware, out to resolve the view, in to run it, out again); here the stack runs
    as under WSGI, entered once. And the thread is borrowed from ``_RequestThreads`` instead of
    started per request. Together: see bench/README.md ("Serving"). An async view, should one
    appear, still works: Django's synchronous path runs it with ``async_to_sync``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.threads = _RequestThreads(settings.WEB_THREADS)

    def load_middleware(self, is_async: bool = False) -> None:
        super().load_middleware(is_async=False)
        chain: Any = self._middleware_chain  # type: ignore[has-type]
        self._middleware_chain = sync_to_async(chain, thread_sensitive=True)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        executor = await self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=executor):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give(executor)


django.setup(set_prefix=False)
application = SyncStackASGIHandler()

# Load the URLconf (and with it every view, form and API schema) now, then move everything
# loaded so far out of the garbage collector's view: with ~130k long-lived objects tracked,
# each full collection took ~100 ms and showed up as the p95 of ordinary requests.
from django.urls import get_resolver  # noqa: E402

get_resolver().url_patterns  # noqa: B018
gc.collect()
gc.freeze()
# Then make full collections rare. With the start-up objects frozen, the collector's rule of
# thumb (a full collection once the objects promoted since the last one exceed a quarter of the
# long-lived ones) fired every ~18 requests, each a pause of tens of milliseconds: most of the
# p95 of the API list and the ticket page (bench/README.md, session 4). Young collections keep
# Python's defaults; a full one now comes after 1,000 middle-generation collections (about
# 1,500 requests) and takes back what cycles were left behind meanwhile.
gc.set_threshold(700, 10, 100)
