"""The one seam to the job queue.

Jobs are enqueued only after the surrounding transaction commits, so a worker never
sees an id whose row isn't there yet, and a rolled-back change never sends anything.
Under test settings huey runs tasks immediately (inline), after commit as well.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

from django.db import transaction


def enqueue_on_commit(task: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
    """Enqueue a huey task once the current transaction commits (at once outside one)."""
    transaction.on_commit(partial(task, *args, **kwargs), robust=True)
