"""Running many calls at once, bounded: threads for the sync client, tasks for the async one.

Both runners keep results in input order, report each finished job, and stop
early on the first failure they do not capture: jobs not yet started never
start, and (async) running ones are cancelled. A sync job already sending
finishes its one request in the background, bounded by the client's timeout.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from typing import TypeVar

import anyio
from anyio.abc import TaskGroup

__all__ = ["run_tasks", "run_threads"]

T = TypeVar("T")

Capture = type[BaseException] | tuple[type[BaseException], ...]


def run_threads(
    jobs: Sequence[Callable[[], T]],
    *,
    max_workers: int,
    capture: Capture = (),
    on_done: Callable[[], None] | None = None,
) -> list[T | BaseException]:
    """Run `jobs` on at most `max_workers` threads; results (or captured errors) in order."""
    if len(jobs) <= 1 or max_workers == 1:
        results: list[T | BaseException] = []
        for job in jobs:
            try:
                results.append(job())
            except capture as exc:
                results.append(exc)
            if on_done is not None:
                on_done()
        return results

    def run(job: Callable[[], T]) -> T | BaseException:
        try:
            return job()
        except capture as exc:
            return exc

    pool = ThreadPoolExecutor(
        max_workers=min(max_workers, len(jobs)), thread_name_prefix="together-rerank"
    )
    try:
        futures: list[Future[T | BaseException]] = [pool.submit(run, job) for job in jobs]
        pending: set[Future[T | BaseException]] = set(futures)
        while pending:
            # A bounded wait keeps Ctrl-C prompt on every platform.
            done, pending = wait(pending, timeout=0.5, return_when=FIRST_EXCEPTION)
            for future in done:
                future.result()  # an uncaptured failure raises here, and the pool is cancelled
                if on_done is not None:
                    on_done()
        return [future.result() for future in futures]
    finally:
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
