"""Group commit: work that arrives at the same moment from several threads runs as one batch.

Each web request runs in its own thread. When many of them create tickets at once, writing
each in its own transaction repeats the same statements, commits and ORM work per ticket;
writing them together costs about the same as writing one. ``GroupCommit.submit`` gives
that without making anyone wait on purpose:

- the first caller to arrive *leads*: it takes everything waiting (its own item first) and
  runs it with ``run`` in its own thread, hence its own database connection;
- callers arriving meanwhile queue and sleep until their result is ready;
- when a batch is done and others are queued, the first of them leads the next batch.

With one caller at a time every batch has one item, so there is no added latency when the
server is quiet. If a batch of several items raises, each item is run again alone, so one bad
item fails only its own caller, with its own exception.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class _Slot(Generic[T, R]):
    __slots__ = ("error", "item", "leads", "ready", "result")

    def __init__(self, item: T) -> None:
        self.item = item
        self.ready = threading.Event()
        self.leads = False
        self.result: R | None = None
        self.error: BaseException | None = None

    def outcome(self) -> R:
        if self.error is not None:
            raise self.error
        return self.result  # type: ignore[return-value]


class GroupCommit(Generic[T, R]):
    """``run(items)`` must return one result per item, in order, and do all of them or none."""

    def __init__(self, run: Callable[[Sequence[T]], Sequence[R]], *, max_batch: int = 64) -> None:
        self._run = run
        self._max_batch = max_batch
        self._lock = threading.Lock()
        self._queue: list[_Slot[T, R]] = []
        self._leading = False
        self.batches = 0  # counters for benchmarks and tests
        self.items = 0

    def submit(self, item: T) -> R:
        slot: _Slot[T, R] = _Slot(item)
        with self._lock:
            self._queue.append(slot)
            slot.leads = not self._leading
            self._leading = True
        if not slot.leads:
            slot.ready.wait()
            if not slot.leads:  # a leader ran it
                return slot.outcome()
        # Leading: this slot is first in the queue (nobody else leads, the queue keeps order).
        with self._lock:
            batch, self._queue = self._queue[: self._max_batch], self._queue[self._max_batch :]
        try:
            self._execute(batch)
        finally:
            with self._lock:
                if self._queue:
                    successor = self._queue[0]
                    successor.leads = True
                    successor.ready.set()
                else:
                    self._leading = False
        return slot.outcome()

    def _execute(self, batch: list[_Slot[T, R]]) -> None:
        try:
            self.batches += 1
            self.items += len(batch)
            try:
                results = self._run([slot.item for slot in batch])
            except Exception as exc:
                if len(batch) == 1:
                    batch[0].error = exc
                else:
                    for slot in batch:
                        self._execute_alone(slot)
            else:
                for slot, result in zip(batch, results, strict=True):
                    slot.result = result
        except BaseException as exc:  # interrupted: nobody may wait forever
            for slot in batch:
                if slot.result is None and slot.error is None:
                    slot.error = exc
            raise
        finally:
            for slot in batch:
                if not slot.leads:
                    slot.ready.set()

    def _execute_alone(self, slot: _Slot[T, R]) -> None:
        try:
            slot.result = self._run([slot.item])[0]
        except Exception as exc:
            slot.error = exc
