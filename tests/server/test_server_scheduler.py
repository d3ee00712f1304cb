"""The batching scheduler on a pure-Python lane: fairness, budgets, the queue bound, cancellation.

The lane here is a real function (it doubles numbers and records each pass),
with a gate that holds the first pass so that a test can arrange what is
queued while the model is busy; the scheduler's own counters and trace say
what happened. The same rules on the real model: tests/server/engines/test_batching.py.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from typing import Any

import pytest

from together_rerank.server.scheduler import BatchLimits, Lane, Overloaded, Plan, Scheduler

BOUND = 10.0  # seconds any wait in these tests may take


class GatedLane:
    """Doubles its items; the first pass waits for `gate` so that work can queue up behind it."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.passes: list[list[int]] = []
        self.lane = Lane("doubler", self._run)

    def _run(self, items: Sequence[Any]) -> list[int]:
        self.passes.append(list(items))
        self.entered.set()
        if not self.gate.wait(BOUND):
            raise TimeoutError("the test never opened the gate")
        return [2 * item for item in items]


def plan(lane: Lane, items: Sequence[int], cost: int = 10) -> Plan[list[int]]:
    return Plan(lane, list(items), [cost] * len(items), finish=list, usage_tokens=0)


async def until(condition: Any) -> None:
    for _ in range(int(BOUND / 0.005)):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition not reached in time")


async def test_a_small_request_is_served_before_the_rest_of_a_large_one() -> None:
    gated = GatedLane()
    scheduler = Scheduler(BatchLimits(max_batch_tokens=100, max_wait=0))
    large = asyncio.create_task(scheduler.results(plan(gated.lane, range(100))))
    await until(gated.entered.is_set)  # the large request's first pass is running
    small = asyncio.create_task(scheduler.results(plan(gated.lane, [1000, 1001])))
    await until(lambda: scheduler.stats.requests == 2)
    gated.gate.set()

    assert await small == [2000, 2002]
    assert await large == [2 * i for i in range(100)]
    trace = list(scheduler.trace)
    small_pass = next(p.seq for p in trace if any(job == 2 for job, _ in p.requests))
    large_passes = [p.seq for p in trace if any(job == 1 for job, _ in p.requests)]
    # Served in the pass right after the one running when it came, not after the large one,
    # in a short pass: its own items and the one item the oldest request always gets.
    assert small_pass == 2
    assert trace[1].requests == ((1, 1), (2, 2))
    assert max(large_passes) > small_pass
    assert len(large_passes) == 11  # 10, 1, then 89 in passes of 10


async def test_passes_respect_the_token_budget_and_run_items_sorted_by_length() -> None:
    passes: list[list[int]] = []

    def lengths(items: Sequence[Any]) -> list[int]:
        passes.append(list(items))
        return list(items)

    lane = Lane("lengths", lengths)
    scheduler = Scheduler(BatchLimits(max_batch_tokens=64, max_wait=0))
    costs = [5, 30, 7, 6, 31, 8, 5, 29]
    work = Plan(lane, costs, costs, finish=list, usage_tokens=0)
    assert await scheduler.run(work) == costs  # results come back in item order
    for items in passes:
        assert items == sorted(items)
        assert len(items) * max(items) <= 64
    # Short items are not padded to the long ones' length.
    assert [5, 5, 6, 7, 8] in passes


async def test_a_full_queue_refuses_with_a_retry_time_and_a_lone_request_is_always_admitted() -> (
    None
):
    gated = GatedLane()
    scheduler = Scheduler(BatchLimits(max_batch_tokens=20, max_wait=0, max_queue_tokens=50))
    # 80 tokens, over the queue bound, but alone: admitted.
    first = asyncio.create_task(scheduler.results(plan(gated.lane, range(8))))
    await until(gated.entered.is_set)
    assert scheduler.queued_tokens == 60
    with pytest.raises(Overloaded) as refused:
        await scheduler.results(plan(gated.lane, [1]))
    assert refused.value.retry_after >= 1
    assert refused.value.queued_tokens == 60
    assert scheduler.stats.rejected == 1
    gated.gate.set()
    assert await first == [2 * i for i in range(8)]
    assert scheduler.queued_tokens == 0
    assert await scheduler.results(plan(gated.lane, [1])) == [2]


async def test_cancelling_a_request_drops_its_queued_items() -> None:
    gated = GatedLane()
    scheduler = Scheduler(BatchLimits(max_batch_tokens=100, max_wait=0))
    task = asyncio.create_task(scheduler.results(plan(gated.lane, range(50))))
    await until(gated.entered.is_set)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert scheduler.stats.dropped_items == 40  # 10 were in the running pass
    assert scheduler.queued_tokens == 0
    gated.gate.set()
    assert await scheduler.results(plan(gated.lane, [7])) == [14]
    assert scheduler.stats.items == 11  # the running pass, then the new request: nothing else


async def test_a_failing_pass_fails_its_requests_instead_of_hanging() -> None:
    def broken(items: Sequence[Any]) -> list[int]:
        raise ValueError("the model broke")

    scheduler = Scheduler(BatchLimits(max_wait=0))
    with pytest.raises(ValueError, match="the model broke"):
        await scheduler.results(plan(Lane("broken", broken), [1, 2]))
    assert scheduler.queued_tokens == 0


async def test_requests_still_being_prepared_join_the_next_pass() -> None:
    gated = GatedLane()
    gated.gate.set()
    scheduler = Scheduler(BatchLimits(max_batch_tokens=1000, max_wait=BOUND))
    with scheduler.incoming():
        first = asyncio.create_task(scheduler.results(plan(gated.lane, [1, 2])))
        second = asyncio.create_task(scheduler.results(plan(gated.lane, [3])))
        await until(lambda: scheduler.stats.requests == 2)
    assert (await first, await second) == ([2, 4], [6])
    assert scheduler.stats.passes == 1
    assert scheduler.stats.shared_passes == 1
    assert [sorted(items) for items in gated.passes] == [[1, 2, 3]]


async def test_equal_requests_finish_one_after_another_not_all_at_the_end() -> None:
    gated = GatedLane()
    scheduler = Scheduler(BatchLimits(max_batch_tokens=100, max_wait=0))
    holder = asyncio.create_task(scheduler.results(plan(gated.lane, [0])))
    await until(gated.entered.is_set)
    tasks = [asyncio.create_task(scheduler.results(plan(gated.lane, range(10)))) for _ in range(3)]
    await until(lambda: scheduler.stats.requests == 4)
    gated.gate.set()
    await asyncio.gather(holder, *tasks)
    # Request 2 whole in pass 2, then request 3, then request 4: each done as early as can be.
    assert [p.requests for p in scheduler.trace][1:] == [((2, 10),), ((3, 10),), ((4, 10),)]


async def test_the_oldest_request_progresses_in_every_pass_however_many_smaller_ones_come() -> None:
    gated = GatedLane()
    scheduler = Scheduler(BatchLimits(max_batch_tokens=100, max_wait=0))
    large = asyncio.create_task(scheduler.results(plan(gated.lane, range(30))))
    await until(gated.entered.is_set)
    smaller = [
        asyncio.create_task(scheduler.results(plan(gated.lane, range(10)))) for _ in range(5)
    ]
    await until(lambda: scheduler.stats.requests == 6)
    gated.gate.set()
    await asyncio.gather(large, *smaller)
    trace = list(scheduler.trace)
    last_large = max(p.seq for p in trace if any(job == 1 for job, _ in p.requests))
    for record in trace:
        if record.seq <= last_large:
            assert any(job == 1 for job, _ in record.requests), record


async def test_models_take_turns_so_one_models_large_request_does_not_hold_up_another() -> None:
    gated = GatedLane()
    other = Lane("other", lambda items: [-item for item in items])
    scheduler = Scheduler(BatchLimits(max_batch_tokens=100, max_wait=0))
    large = asyncio.create_task(scheduler.results(plan(gated.lane, range(50))))
    await until(gated.entered.is_set)
    small = asyncio.create_task(scheduler.results(plan(other, [5])))
    await until(lambda: scheduler.stats.requests == 2)
    gated.gate.set()
    assert await small == [-5]
    await large
    lanes = [p.lane for p in scheduler.trace]
    assert lanes[:3] == ["doubler", "other", "doubler"]
