"""Running many calls at once, bounded: threads for the sync client, tasks for the async one.

Both runners keep results in input order, report each finished job, and stop
early on the first failure they do not capture, and on an interrupt (Ctrl-C):
once a call has failed or been interrupted, nothing more is sent for it.

Async, running jobs are cancelled. Sync, a thread cannot be cancelled, so each
run of `run_threads` is a `_Scope` the plugin driver consults (`check_stopped`
before every request, `pause` for every wait): when the run stops, jobs not
yet started never start, waits (retry backoff, rate limits) end at once, and a
job in the middle of a request sends nothing after it. That request is the
only thing left, bounded by the client's timeout. Scopes nest (`create_many`
over batched calls): stopping one stops those inside it, not its siblings.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from contextvars import ContextVar
from typing import TypeVar

import anyio
from anyio.abc import TaskGroup

__all__ = ["Cancelled", "check_stopped", "pause", "run_tasks", "run_threads"]

T = TypeVar("T")

Capture = type[BaseException] | tuple[type[BaseException], ...]


class Cancelled(Exception):
    """A job of a run that failed or was interrupted, stopped before it sent anything more."""


class _Scope:
    """One `run_threads` run: stopped once it fails or is left, and with it every scope inside."""

    def __init__(self, parent: _Scope | None) -> None:
        self.stopped = threading.Event()
        self.failure: BaseException | None = None
        self._children: set[_Scope] = set()
        self._lock = threading.Lock()
        self._parent = parent
        if parent is not None:
            parent._adopt(self)

    def _adopt(self, child: _Scope) -> None:
        with self._lock:
            self._children.add(child)
            stopped = self.stopped.is_set()
        if stopped:
            child.stop()

    def fail(self, exc: BaseException) -> None:
        """Record the run's first failure, and stop it."""
        with self._lock:
            if self.failure is None:
                self.failure = exc
        self.stop()

    def stop(self) -> None:
        with self._lock:
            self.stopped.set()
            children = list(self._children)
        for child in children:
            child.stop()

    def close(self) -> None:
        """Stop, and leave the parent (a long `create_many` would otherwise keep every scope)."""
        self.stop()
        if self._parent is not None:
            with self._parent._lock:
                self._parent._children.discard(self)


# The run the current thread works for; None outside `run_threads` (nothing stops).
_SCOPE: ContextVar[_Scope | None] = ContextVar("together_rerank_scope", default=None)


def check_stopped() -> None:
    """Raise `Cancelled` if the run this thread works for has stopped (called before a send)."""
    scope = _SCOPE.get()
    if scope is not None and scope.stopped.is_set():
        raise Cancelled("the call this request belonged to failed or was interrupted")


def pause(seconds: float, sleep: Callable[[float], None]) -> None:
    """Wait `seconds` with `sleep`; within a run, end the wait (`Cancelled`) once it stops."""
    scope = _SCOPE.get()
    if scope is None:
        sleep(seconds)
    elif scope.stopped.wait(seconds):
        raise Cancelled("the call this wait belonged to failed or was interrupted")


def run_threads(
    jobs: Sequence[Callable[[], T]],
    *,
    max_workers: int,
    capture: Capture = (),
    on_done: Callable[[], None] | None = None,
) -> list[T | BaseException]:
    """Run `jobs` on at most `max_workers` threads; results (or captured errors) in order."""
    parent = _SCOPE.get()
    if len(jobs) <= 1 or max_workers == 1:
        results: list[T | BaseException] = []
        for job in jobs:
            check_stopped()  # the run around this one may have stopped
            try:
                results.append(job())
            except capture as exc:
                results.append(exc)
            if on_done is not None:
                on_done()
        return results

    scope = _Scope(parent)

    def run(job: Callable[[], T]) -> T | BaseException:
        token = _SCOPE.set(scope)
        try:
            if scope.stopped.is_set():
                raise Cancelled("an earlier job of this call failed or it was interrupted")
            return job()
        except capture as exc:
            return exc
        except BaseException as exc:
            # Stop the run here, in the worker, before this thread (or any
            # other) can take the next queued job.
            scope.fail(exc)
            raise
        finally:
            _SCOPE.reset(token)

    pool = ThreadPoolExecutor(
        max_workers=min(max_workers, len(jobs)), thread_name_prefix="together-rerank"
    )
    try:
        futures: list[Future[T | BaseException]] = [pool.submit(run, job) for job in jobs]
        pending: set[Future[T | BaseException]] = set(futures)
        while pending:
            # A bounded wait keeps Ctrl-C prompt on every platform.
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            if scope.failure is not None:
                raise scope.failure  # the first failure, not a job it cancelled
            check_stopped()  # the run around this one stopped
            for future in done:
                future.result()
                if on_done is not None:
                    on_done()
        return [future.result() for future in futures]
    finally:
        # On any way out (a failure, Ctrl-C, a stopped outer run): nothing more is sent.
        scope.close()
        pool.shutdown(wait=False, cancel_futures=True)


async def run_tasks(
    jobs: Sequence[Callable[[], Awaitable[T]]],
    *,
    max_concurrency: int,
    capture: Capture = (),
    on_done: Callable[[], None] | None = None,
) -> list[T | BaseException]:
    """`run_threads` for coroutines: at most `max_concurrency` at once, on any anyio backend."""
    results: list[T | BaseException | None] = [None] * len(jobs)
    failures: list[Exception] = []
    queue = iter(enumerate(jobs))

    async def worker(group: TaskGroup) -> None:
        # A few workers pulling from one queue cost less than a task per job.
        for i, job in queue:
            try:
                results[i] = await job()
            except capture as exc:
                results[i] = exc
            except Exception as exc:
                failures.append(exc)
                group.cancel_scope.cancel()
                return
            if on_done is not None:
                on_done()

    if len(jobs) == 1:
        await _run_one(jobs[0], results, capture, on_done)
    else:
        async with anyio.create_task_group() as group:
            for _ in range(min(max_concurrency, len(jobs))):
                group.start_soon(worker, group)
        if failures:
            raise failures[0]
    return results  # type: ignore[return-value]  # every slot is filled once no failure escaped


async def _run_one(
    job: Callable[[], Awaitable[T]],
    results: list[T | BaseException | None],
    capture: Capture,
    on_done: Callable[[], None] | None,
) -> None:
    """Run a single job in the caller's task: no task group needed for one."""
    try:
        results[0] = await job()
    except capture as exc:
        results[0] = exc
    if on_done is not None:
        on_done()
