"""The scale rows of `make bench` (issue 12), each a ratio to a baseline measured in the same run.

1. auto-batching: 10,000 documents with ``max_documents_per_request=1000`` vs the
   same documents in one request, against ``together-rerank serve --workers 2``
   (its own processes, as a multi-worker hosted API would answer) with the
   pointwise ``term-overlap`` engine;
2. ``create_many`` of 1,000 queries (async) vs a hand-written ``asyncio.gather``
   of ``create`` calls under a semaphore of the same size;
3. a second pass of those queries through ``CachePlugin``: time vs the first
   pass, and the requests it sent (target 0).

`rows(quick)` returns plain dicts with the fields of `bench.Row`.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import httpx

from together_rerank import AsyncTogether, CachePlugin, Together

MODEL = "bench/pointwise"
WORKERS = 2
WORDS = [
    "rerank",
    "search",
    "result",
    "document",
    "query",
    "model",
    "score",
    "batch",
    "merge",
    "cache",
    "limit",
    "token",
]


@contextlib.contextmanager
def pointwise_server() -> Iterator[str]:
    """`together-rerank serve --workers 2 --model bench/pointwise=term-overlap`, own processes."""
    from benchmarks.bench import server_process

    args = ("--model", f"{MODEL}=term-overlap", "--workers", str(WORKERS))
    with server_process(*args, startup_seconds=30) as base_url:
        yield base_url


def _documents(count: int) -> list[str]:
    return [
        " ".join(WORDS[(i * 7 + k) % len(WORDS)] for k in range(12 + i % 9)) for i in range(count)
    ]


def _row(
    *, name: str, unit: str, ours: float, baseline: float, target: str, met: bool, notes: str
) -> dict[str, Any]:
    return {
        "name": name,
        "unit": unit,
        "ours": ours,
        "baseline": baseline,
        "target": target,
        "met": met,
        "notes": notes,
    }


def batching_row(base_url: str, documents: int, per_request: int, rounds: int) -> dict[str, Any]:
    docs = _documents(documents)
    args: dict[str, Any] = {
        "model": MODEL,
        "query": "merge batch score",
        "documents": docs,
        "top_n": 10,
    }
    timeout = httpx.Timeout(300.0, connect=5.0)
    with Together(base_url=base_url, timeout=timeout, max_concurrency=8) as client:
        client.rerank.create(**args)  # warm up: connections, first-use imports
        single: list[float] = []
        batched: list[float] = []
        for _ in range(rounds):
            start = time.perf_counter()
            whole = client.rerank.create(**args)
            single.append(time.perf_counter() - start)
            start = time.perf_counter()
            split = client.rerank.create(**args, max_documents_per_request=per_request)
            batched.append(time.perf_counter() - start)
            if split.results != whole.results:
                raise AssertionError("the batched ranking differs from the single request's")
    ours, base = statistics.median(batched) * 1000, statistics.median(single) * 1000
    return _row(
        name=f"batched rerank ({documents:,} docs, {per_request:,}/request, {WORKERS} workers)",
        unit="ms",
        ours=ours,
        baseline=base,
        target="<= 0.6x",
        met=ours / base <= 0.6,
        notes="baseline: the same documents in one request; results identical",
    )


async def _passes(
    base_url: str, queries: list[str], docs: list[str], concurrency: int, rounds: int
) -> dict[str, float]:
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    async with AsyncTogether(
        base_url=base_url, http_client=httpx.AsyncClient(limits=limits, timeout=60)
    ) as client:

        async def many() -> object:
            return await client.rerank.create_many(
                model=MODEL, queries=queries, documents=docs, top_n=3, max_concurrency=concurrency
            )

        async def gathered() -> object:
            gate = asyncio.Semaphore(concurrency)

            async def one(query: str) -> object:
                async with gate:
                    return await client.rerank.create(
                        model=MODEL, query=query, documents=docs, top_n=3
                    )

            return await asyncio.gather(*(one(q) for q in queries))

        timings: dict[str, list[float]] = {"create_many": [], "gather": []}
        runs: dict[str, Callable[[], Awaitable[object]]] = {"create_many": many, "gather": gathered}
        await gathered()  # warm up
        for _ in range(rounds):
            for name, run in runs.items():
                start = time.perf_counter()
                await run()
                timings[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in timings.items()}


class _Counting(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sent = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent += 1
        return await super().handle_async_request(request)


async def _cache_passes(
    base_url: str, queries: list[str], docs: list[str], concurrency: int
) -> tuple[float, float, int, int]:
    transport = _Counting()
    cache = CachePlugin(maxsize=len(queries) * 2)
    async with AsyncTogether(
        base_url=base_url,
        plugins=[cache],
        http_client=httpx.AsyncClient(transport=transport, timeout=60),
    ) as client:
        times: list[float] = []
        sent: list[int] = []
        for _ in range(2):
            before = transport.sent
            start = time.perf_counter()
            await client.rerank.create_many(
                model=MODEL, queries=queries, documents=docs, top_n=3, max_concurrency=concurrency
            )
            times.append(time.perf_counter() - start)
            sent.append(transport.sent - before)
    return times[0], times[1], sent[0], sent[1]


def rows(quick: bool) -> list[dict[str, Any]]:
    """Every scale row; `quick` makes each small enough for a smoke test."""
    documents, per_request, batch_rounds = (200, 20, 1) if quick else (10_000, 1000, 5)
    query_count, many_rounds = (20, 1) if quick else (1000, 3)
    queries = [
        f"{WORDS[i % len(WORDS)]} {WORDS[(i * 5) % len(WORDS)]} q{i}" for i in range(query_count)
    ]
    docs = _documents(5)
    result: list[dict[str, Any]] = []
    with pointwise_server() as base_url:
        result.append(batching_row(base_url, documents, per_request, batch_rounds))
        passes = asyncio.run(_passes(base_url, queries, docs, 16, many_rounds))
        ours, base = passes["create_many"], passes["gather"]
        result.append(
            _row(
                name=f"create_many ({query_count:,} queries, async)",
                unit="ms",
                ours=ours * 1000,
                baseline=base * 1000,
                target="<= 1.05x",
                met=ours / base <= 1.05,
                notes="baseline: asyncio.gather of create under a semaphore of 16",
            )
        )
        first, second, sent_first, sent_second = asyncio.run(
            _cache_passes(base_url, queries, docs, 16)
        )
        result.append(
            _row(
                name=f"cached second pass ({query_count:,} queries)",
                unit="ms",
                ours=second * 1000,
                baseline=first * 1000,
                target="0 requests",
                met=sent_second == 0,
                notes=f"baseline: the first pass; requests sent {sent_first} then {sent_second}",
            )
        )
    return result
