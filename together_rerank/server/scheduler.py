"""Dynamic batching for the model engines: requests become items, items share forward passes.

A model engine turns a request into a `Plan`: the items its model must read
(token windows, or query-window pairs), the model tokens each costs, and how
to turn the items' results into the answer. `Scheduler.run` queues a plan's
items and awaits them; one worker thread per scheduler runs the forward passes,
so the event loop never runs the model.

How a micro-batch is formed (`Scheduler._select`):

* **Lanes.** Items of one `Lane` (one model and one kind of pass) can share a
  pass; ``minilm``'s rerank and embeddings items share one lane. Lanes with
  waiting items take turns, the one served longest ago first.
* **Fair and short-first.** A pass holds at most ``max_batch_tokens``
  *padded* tokens (items x the longest item), so a request of 10,000
  documents is cut into many passes. Each pass takes one item of the oldest
  waiting request (so every request progresses), then fills up with the
  items of the requests with the fewest tokens left: a request arriving while
  a large one runs is done in the very next pass (its wait is bounded by the
  pass under way, not by the large request), and equal requests finish one
  after another rather than all at the end. Once a pass finishes a request,
  it only takes requests it can finish too, so a small request's own pass
  stays short.
* **Length order.** Each request's items are taken shortest first, and the
  chosen items are run sorted by length in passes split where lengths jump,
  so padding stays small.
* **Short wait.** The worker waits up to ``max_wait`` for more items, but only
  while another request is still being tokenized (`Scheduler.incoming`) and
  the pass is not full: a lone request never waits.
* **Bounded queue.** A request whose tokens would take the queue over
  ``max_queue_tokens`` while other work waits is refused with `Overloaded`
  (the app answers 429 with ``Retry-After``), so waiting time cannot grow
  without bound; a request alone is always admitted.
* **Cancellation.** When the awaiting task is cancelled (its client went
  away), its items still queued are dropped; a pass already running finishes.

`Scheduler.stats` and `Scheduler.trace` count what happened (passes, items,
requests per pass, drops, refusals), for tests and diagnostics.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

T = TypeVar("T")

DEFAULT_MAX_BATCH_TOKENS = 1024
"""Padded tokens per forward pass: MiniLM on 2 CPU cores reads 5% fewer tokens/s than at
2,048, and a small request arriving behind a pass waits half as long."""
DEFAULT_MAX_WAIT = 0.002
"""Seconds the worker waits for requests still being tokenized before it starts a pass."""
DEFAULT_MAX_QUEUE_TOKENS = 1_000_000
"""Model tokens that may wait in the queue before new requests get 429."""
IDLE_EXIT = 10.0
"""Seconds the worker thread stays idle before it exits (it restarts on the next request)."""
TRACE_LENGTH = 4096
"""Forward passes `Scheduler.trace` remembers."""
_INITIAL_RATE = 1000.0
"""Model tokens per second assumed for `Retry-After` before any pass was measured."""


class Lane:
    """One model's kind of forward pass: items of a lane may share a pass.

    `run` maps a list of items to one result per item, in order. `lock` is held
    around every pass, so that direct (unscheduled) calls of the same model and
    the scheduler's worker never run it at the same time.
    """

    def __init__(self, name: str, run: Callable[[Sequence[Any]], Sequence[Any]]) -> None:
        self.name = name
        self._run = run
        self.lock = threading.Lock()

    def run(self, items: Sequence[Any]) -> list[Any]:
        """Run one pass over `items` now, in the calling thread."""
        with self.lock:
            results = list(self._run(items))
        if len(results) != len(items):
            raise RuntimeError(f"lane {self.name}: {len(items)} items gave {len(results)} results")
        return results

    def __repr__(self) -> str:
        return f"Lane({self.name!r})"


@dataclass(frozen=True)
class Plan(Generic[T]):
    """A request's items for one lane, what each costs and how their results become the answer."""

    lane: Lane
    items: Sequence[Any]
    costs: Sequence[int]
    """Model tokens of each item (its length once padded to itself)."""
    finish: Callable[[list[Any]], T]
    """Combines the items' results (in item order) into the engine's answer."""
    usage_tokens: int
    """The tokens the request's ``usage`` reports."""

    @property
    def work_tokens(self) -> int:
        """Model tokens the request makes the model read (window overlap included)."""
        return sum(self.costs)

    def run_now(self) -> T:
        """Compute the plan in the calling thread, without any scheduler (direct engine calls)."""
        results: list[Any] = []
        for chunk in _length_passes(self.items, self.costs, DEFAULT_MAX_BATCH_TOKENS):
            outputs = self.lane.run([self.items[i] for i in chunk])
            results.extend(zip(chunk, outputs, strict=True))
        results.sort(key=lambda pair: pair[0])
        return self.finish([r for _, r in results])


class Overloaded(Exception):
    """The queue is full: try again after `retry_after` seconds."""

    def __init__(self, retry_after: int, queued_tokens: int) -> None:
        super().__init__(f"{queued_tokens:,} model tokens are queued")
        self.retry_after = retry_after
        self.queued_tokens = queued_tokens


@dataclass(frozen=True)
class BatchLimits:
    """How the scheduler forms micro-batches and how much may wait."""

    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    max_wait: float = DEFAULT_MAX_WAIT
    max_queue_tokens: int = DEFAULT_MAX_QUEUE_TOKENS

    def __post_init__(self) -> None:
        if self.max_batch_tokens < 1 or self.max_queue_tokens < 1:
            raise ValueError("max_batch_tokens and max_queue_tokens must be at least 1")
        if not math.isfinite(self.max_wait) or self.max_wait < 0:
            raise ValueError("max_wait must be a finite number of seconds, 0 or more")


@dataclass
class SchedulerStats:
    """Counters of one scheduler, for tests and diagnostics."""

    requests: int = 0
    """Plans admitted."""
    passes: int = 0
    """Forward passes run."""
    items: int = 0
    """Items computed."""
    shared_passes: int = 0
    """Passes holding items of two or more requests."""
    most_requests_in_a_pass: int = 0
    dropped_items: int = 0
    """Queued items dropped because their request was cancelled."""
    rejected: int = 0
    """Requests refused because the queue was full."""


@dataclass(frozen=True)
class PassRecord:
    """One forward pass: its sequence number, lane and how many items each request had in it."""

    seq: int
    lane: str
    requests: tuple[tuple[int, int], ...]
    """(request id, items) pairs."""
    padded_tokens: int


@dataclass(eq=False)
class _Job:
    id: int
    plan: Plan[Any]
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[list[Any]]
    order: deque[int]
    results: list[Any]
    remaining: int
    queued_tokens: int
    cancelled: bool = False


@dataclass
class _Selection:
    lane: Lane
    picks: list[tuple[_Job, int]] = field(default_factory=list)


class Scheduler:
    """Queues `Plan` items and runs them in fair, length-sorted micro-batches on one thread."""

    def __init__(self, limits: BatchLimits | None = None) -> None:
        self.limits = limits or BatchLimits()
        self.stats = SchedulerStats()
        self.trace: deque[PassRecord] = deque(maxlen=TRACE_LENGTH)
        """The latest forward passes, oldest first."""
        self._cond = threading.Condition()
        self._jobs: list[_Job] = []
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._queued_tokens = 0
        self._incoming = 0
        self._rate = _INITIAL_RATE
        self._thread: threading.Thread | None = None
        self._served: dict[Lane, int] = {}
        self._turns = itertools.count(1)

    @property
    def queued_tokens(self) -> int:
        """Model tokens admitted and not yet taken into a pass."""
        with self._cond:
            return self._queued_tokens

    @contextlib.contextmanager
    def incoming(self) -> Iterator[None]:
        """Mark a request as about to submit (being tokenized), so the worker may wait for it."""
        with self._cond:
            self._incoming += 1
        try:
            yield
        finally:
            with self._cond:
                self._incoming -= 1
                self._cond.notify_all()

    async def run(self, plan: Plan[T]) -> T:
        """Queue `plan`'s items, await their results and return the plan's answer (`results`)."""
        return plan.finish(await self.results(plan))

    async def results(self, plan: Plan[Any]) -> list[Any]:
        """Queue `plan`'s items and await one result per item, in item order.

        Raises `Overloaded` when the queue is full. If the awaiting task is
        cancelled, the plan's items still waiting are dropped.
        """
        if not plan.items:
            return []
        job = self._admit(plan, asyncio.get_running_loop())
        try:
            return await job.future
        except asyncio.CancelledError:
            self._cancel(job)
            raise

    def _admit(self, plan: Plan[Any], loop: asyncio.AbstractEventLoop) -> _Job:
        tokens = plan.work_tokens
        with self._cond:
            if self._queued_tokens and self._queued_tokens + tokens > self.limits.max_queue_tokens:
                self.stats.rejected += 1
                retry = min(60, max(1, math.ceil(self._queued_tokens / self._rate)))
                raise Overloaded(retry, self._queued_tokens)
            order = deque(sorted(range(len(plan.items)), key=lambda i: (plan.costs[i], i)))
            job = _Job(
                id=next(self._ids),
                plan=plan,
                loop=loop,
                future=loop.create_future(),
                order=order,
                results=[None] * len(plan.items),
                remaining=len(plan.items),
                queued_tokens=tokens,
            )
            self._jobs.append(job)
            self._queued_tokens += tokens
            self.stats.requests += 1
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._work, name="together-rerank-batcher", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()
        return job

    def _cancel(self, job: _Job) -> None:
        with self._cond:
            if job.cancelled or job.remaining == 0:
                return
            job.cancelled = True
            self.stats.dropped_items += len(job.order)
            self._queued_tokens -= job.queued_tokens
            job.queued_tokens = 0
            job.order.clear()
            if job in self._jobs:
                self._jobs.remove(job)

    def _work(self) -> None:
        while True:
            with self._cond:
                selection = self._next_selection()
                if selection is None:
                    self._thread = None
                    return
            self._run(selection)

    def _next_selection(self) -> _Selection | None:
        """Wait for items (holding the condition's lock), then pick the next micro-batch."""
        idle_until = time.monotonic() + IDLE_EXIT
        while not self._jobs:
            left = idle_until - time.monotonic()
            if left <= 0:
                return None
            self._cond.wait(left)
        deadline = time.monotonic() + self.limits.max_wait
        while self._incoming and self._queued_tokens < self.limits.max_batch_tokens:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            self._cond.wait(left)
        return self._select()

    def _select(self) -> _Selection:
        """Take the next pass's items: one of the oldest request's, then shortest requests first."""
        budget = self.limits.max_batch_tokens
        # Lanes (models) take turns: the one served longest ago goes next.
        waiting: dict[Lane, int] = {}
        for job in self._jobs:
            waiting.setdefault(job.plan.lane, job.id)
        lane = min(waiting, key=lambda ln: (self._served.get(ln, 0), waiting[ln]))
        self._served[lane] = next(self._turns)
        selection = _Selection(lane)
        jobs = [job for job in self._jobs if job.plan.lane is lane]
        oldest = jobs[0]
        longest = 0

        def take(job: _Job) -> bool:
            """Add `job`'s next item if the pass has room for it."""
            nonlocal longest
            index = job.order[0]
            cost = job.plan.costs[index]
            count = len(selection.picks)
            if count and (count + 1) * max(longest, cost) > budget:
                return False
            job.order.popleft()
            selection.picks.append((job, index))
            longest = max(longest, cost)
            job.queued_tokens -= cost
            self._queued_tokens -= cost
            return True

        def fits_whole(job: _Job) -> bool:
            # Items are taken shortest first: the last one left is the longest.
            count = len(selection.picks) + len(job.order)
            return count * max(longest, job.plan.costs[job.order[-1]]) <= budget

        # The oldest request always progresses, so no request waits forever behind
        # a stream of smaller ones; the rest of the pass goes to the requests
        # with the least work left. Once the pass finishes some request, it takes
        # only requests it can finish too: a small request that came while a large
        # one ran gets a short pass of its own, not a full one shared with it.
        take(oldest)
        finishing = not oldest.order
        for job in sorted(jobs, key=lambda j: (j.queued_tokens, j.id)):
            if not job.order:
                continue
            if fits_whole(job):
                while job.order:
                    take(job)
                finishing = True
            elif not finishing:
                while job.order and take(job):
                    pass
        for job in jobs:
            if not job.order:
                self._jobs.remove(job)
        return selection

    def _run(self, selection: _Selection) -> None:
        items = [job.plan.items[i] for job, i in selection.picks]
        costs = [job.plan.costs[i] for job, i in selection.picks]
        for chunk in _length_passes(items, costs, self.limits.max_batch_tokens):
            picks = [selection.picks[i] for i in chunk]
            started = time.perf_counter()
            try:
                outputs = selection.lane.run([items[i] for i in chunk])
            except Exception as exc:  # a model failure fails the requests in the pass
                self._fail({job for job, _ in picks}, exc)
                continue
            elapsed = time.perf_counter() - started
            padded = len(chunk) * max(costs[i] for i in chunk)
            self._record(selection.lane, picks, padded, elapsed)
            for (job, index), output in zip(picks, outputs, strict=True):
                job.results[index] = output
                job.remaining -= 1
                if job.remaining == 0 and not job.cancelled:
                    _resolve(job, job.results)

    def _record(
        self, lane: Lane, picks: list[tuple[_Job, int]], padded: int, elapsed: float
    ) -> None:
        counts: dict[int, int] = {}
        for job, _ in picks:
            counts[job.id] = counts.get(job.id, 0) + 1
        with self._cond:
            self.stats.passes += 1
            self.stats.items += len(picks)
            if len(counts) > 1:
                self.stats.shared_passes += 1
            self.stats.most_requests_in_a_pass = max(
                self.stats.most_requests_in_a_pass, len(counts)
            )
            self.trace.append(PassRecord(next(self._seq), lane.name, tuple(counts.items()), padded))
            if elapsed > 0:
                self._rate = 0.8 * self._rate + 0.2 * (padded / elapsed)

    def _fail(self, jobs: set[_Job], exc: Exception) -> None:
        with self._cond:
            for job in jobs:
                if job in self._jobs:
                    self._jobs.remove(job)
                self._queued_tokens -= job.queued_tokens
                job.queued_tokens = 0
                job.order.clear()
                job.remaining = 0
        for job in jobs:
            if not job.cancelled:
                _resolve(job, exc)


def _resolve(job: _Job, outcome: list[Any] | Exception) -> None:
    """Hand a job's results (or failure) to its event loop."""

    def settle() -> None:
        if job.future.done():
            return
        if isinstance(outcome, Exception):
            job.future.set_exception(outcome)
        else:
            job.future.set_result(outcome)

    # The loop is gone when its request was abandoned with it (a test's loop closing).
    with contextlib.suppress(RuntimeError):
        job.loop.call_soon_threadsafe(settle)


def _length_passes(items: Sequence[Any], costs: Sequence[int], budget: int) -> list[list[int]]:
    """Indices of `items` in length order, cut into passes of at most `budget` padded tokens.

    A pass is also cut where the length more than doubles, so that short items
    are not padded to a long one's length.
    """
    order = sorted(range(len(items)), key=lambda i: (costs[i], i))
    passes: list[list[int]] = []
    current: list[int] = []
    for index in order:
        cost = costs[index]
        if current and ((len(current) + 1) * cost > budget or cost > 2 * costs[current[0]] + 8):
            passes.append(current)
            current = []
        current.append(index)
    if current:
        passes.append(current)
    return passes
