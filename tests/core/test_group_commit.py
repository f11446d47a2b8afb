"""GroupCommit: callers arriving together share one run; a failing batch fails only its bad item."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest

from relaydesk.core.group_commit import GroupCommit


def test_one_caller_at_a_time_runs_batches_of_one() -> None:
    seen: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        seen.append(list(items))
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(run)
    assert [group.submit(n) for n in range(3)] == [0, 10, 20]
    assert seen == [[0], [1], [2]]


def _submit_behind_first(
    group: GroupCommit[int, int],
    items: Sequence[int],
    first_running: threading.Event,
    release_first: threading.Event,
) -> dict[int, object]:
    """Submit ``items[0]``; once its batch runs (``first_running``), submit the rest from their
    own threads, wait until they are all queued behind it, release it, and return each item's
    result or exception."""
    outcomes: dict[int, object] = {}

    def call(item: int) -> None:
        try:
            outcomes[item] = group.submit(item)
        except Exception as exc:
            outcomes[item] = exc

    leader, *others = [threading.Thread(target=call, args=(item,)) for item in items]
    leader.start()
    assert first_running.wait(10)
    for thread in others:
        thread.start()
    while len(group._queue) < len(others):  # everyone queued behind the running batch
        threading.Event().wait(0.01)
    release_first.set()
    for thread in [leader, *others]:
        thread.join(10)
    return outcomes


def test_callers_arriving_while_a_batch_runs_share_the_next_one() -> None:
    first_running, release_first = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        seen.append(list(items))
        if items[0] == 0:
            first_running.set()
            assert release_first.wait(10)
        return [item * 10 for item in items]

    group: GroupCommit[int, int] = GroupCommit(run)
    outcomes = _submit_behind_first(group, range(9), first_running, release_first)
    assert outcomes == {n: n * 10 for n in range(9)}
    assert seen[0] == [0]
    assert sorted(seen[1]) == list(range(1, 9))
    assert len(seen) == 2
    assert (group.batches, group.items) == (2, 9)


def test_a_failing_batch_is_rerun_item_by_item_and_fails_only_the_bad_one() -> None:
    first_running, release_first = threading.Event(), threading.Event()
    seen: list[list[int]] = []

    def run(items: Sequence[int]) -> list[int]:
        seen.append(list(items))
        if items == [0]:
            first_running.set()
            assert release_first.wait(10)
        if 13 in items:
            raise ValueError(f"bad item in {items}")
        return [item + 1 for item in items]

    group: GroupCommit[int, int] = GroupCommit(run)
    outcomes = _submit_behind_first(group, [0, 11, 12, 13, 14], first_running, release_first)
    assert {k: v for k, v in outcomes.items() if k != 13} == {0: 1, 11: 12, 12: 13, 14: 15}
    assert isinstance(outcomes[13], ValueError)
    assert str(outcomes[13]) == "bad item in [13]"
    # The batch of four failed as a whole, then each ran alone.
    assert sorted(seen[1]) == [11, 12, 13, 14]
    assert sorted(map(tuple, seen[2:])) == [(11,), (12,), (13,), (14,)]


def test_a_batch_of_one_raises_its_own_error() -> None:
    def run(items: Sequence[int]) -> list[int]:
        raise KeyError(items[0])

    group: GroupCommit[int, int] = GroupCommit(run)
    with pytest.raises(KeyError):
        group.submit(7)
    # The group is free again afterwards.
    group._run = lambda items: list(items)
    assert group.submit(8) == 8


def test_batches_are_capped() -> None:
    first_running, release_first = threading.Event(), threading.Event()
    sizes: list[int] = []

    def run(items: Sequence[int]) -> list[int]:
        sizes.append(len(items))
        if items[0] == 0:
            first_running.set()
            assert release_first.wait(10)
        return list(items)

    group: GroupCommit[int, int] = GroupCommit(run, max_batch=3)
    outcomes = _submit_behind_first(group, range(8), first_running, release_first)
    assert outcomes == {n: n for n in range(8)}
    assert sizes == [1, 3, 3, 1]
