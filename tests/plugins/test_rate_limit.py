"""`RateLimitPlugin`: one budget shared by every thread and task of a client, in real time.

These tests sleep for real (the suite's instant sleeps would make the limiter
spin); each asserts a lower bound on spacing, which load cannot break.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

from together_rerank import (
    AsyncTogether,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    RateLimitPlugin,
    Together,
)
from together_rerank.plugins.rate_limit import _reported_tokens

from ..client.helpers import error, rank_body

DOCUMENTS = ["alpha beta", "beta gamma"]


@pytest.fixture(autouse=True)
def sleeps() -> None:
    """Real sleeps here (overrides the suite's instant ones)."""


class Arrivals:
    """A transport handler that answers validly and records when each request arrived."""

    def __init__(self, reply: Callable[[httpx.Request, int], httpx.Response] | None = None) -> None:
        self.times: list[float] = []
        self._lock = threading.Lock()
        self._reply = reply

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.times.append(time.monotonic())
            n = len(self.times)
        if self._reply is not None:
            return self._reply(request, n)
        return httpx.Response(200, json=rank_body(request))

    def sync_client(self, **kwargs: Any) -> Together:
        return Together(
            api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(self)), **kwargs
        )

    def async_client(self, **kwargs: Any) -> AsyncTogether:
        http = httpx.AsyncClient(transport=httpx.MockTransport(self))
        return AsyncTogether(api_key="k", http_client=http, **kwargs)


def assert_paced(times: list[float], per_second: float, burst: int) -> None:
    """No prefix of the arrivals came faster than a token bucket of this rate and burst allows."""
    times = sorted(times)
    for k, at in enumerate(times):
        allowed = burst + per_second * (at - times[0]) + 1  # +1: clock granularity
        assert k + 1 <= allowed, f"request {k + 1} arrived {at - times[0]:.3f}s in"


def test_threads_share_one_budget() -> None:
    arrivals = Arrivals()
    limiter = RateLimitPlugin(requests_per_minute=1200)  # 20/s, burst 20
    with arrivals.sync_client(plugins=[limiter]) as client, ThreadPoolExecutor(8) as pool:
        list(
            pool.map(
                lambda _: client.rerank.create(model="m", query="q", documents=DOCUMENTS), range(40)
            )
        )
    assert len(arrivals.times) == 40
    assert_paced(arrivals.times, per_second=20, burst=20)
    assert max(arrivals.times) - min(arrivals.times) >= (40 - 21) / 20


async def test_tasks_share_one_budget_also_across_with_options_copies() -> None:
    arrivals = Arrivals()
    limiter = RateLimitPlugin(requests_per_minute=1200)
    async with arrivals.async_client(plugins=[limiter]) as client:
        copy = client.with_options(max_retries=0)
        await asyncio.gather(
            *(
                (client if i % 2 else copy).rerank.create(model="m", query="q", documents=DOCUMENTS)
                for i in range(40)
            )
        )
    assert_paced(arrivals.times, per_second=20, burst=20)
    assert max(arrivals.times) - min(arrivals.times) >= (40 - 21) / 20


def test_a_429_retry_after_holds_back_every_call() -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            return error(429, "slow down", headers={"retry-after": "0.6"})
        return httpx.Response(200, json=rank_body(request))

    arrivals = Arrivals(reply)
    with arrivals.sync_client(
        plugins=[RateLimitPlugin(requests_per_minute=60_000)], max_retries=0
    ) as client:
        with pytest.raises(Exception, match="slow down"):
            client.rerank.create(model="m", query="q", documents=DOCUMENTS)
        limited_at = arrivals.times[0]
        with ThreadPoolExecutor(4) as pool:
            list(
                pool.map(
                    lambda _: client.rerank.create(model="m", query="q", documents=DOCUMENTS),
                    range(4),
                )
            )
    assert all(at >= limited_at + 0.55 for at in arrivals.times[1:])


async def test_a_429_seen_by_one_task_holds_back_the_others_and_the_retry() -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        if n == 1:
            return error(429, "slow down", headers={"retry-after-ms": "500"})
        return httpx.Response(200, json=rank_body(request))

    arrivals = Arrivals(reply)
    async with arrivals.async_client(
        plugins=[RateLimitPlugin(requests_per_minute=60_000)]
    ) as client:
        first = asyncio.create_task(client.rerank.create(model="m", query="q", documents=DOCUMENTS))
        while not arrivals.times:
            await asyncio.sleep(0.005)
        await asyncio.sleep(0.05)
        others = [client.rerank.create(model="m", query="q", documents=DOCUMENTS) for _ in range(3)]
        await asyncio.gather(first, *others)
    limited_at = arrivals.times[0]
    # The retry of the first call, and the three others: none before the server said.
    assert len(arrivals.times) == 5
    assert all(at >= limited_at + 0.45 for at in arrivals.times[1:])


def test_every_attempt_counts_retries_included() -> None:
    def reply(request: httpx.Request, n: int) -> httpx.Response:
        return error(503) if n % 2 else httpx.Response(200, json=rank_body(request))

    arrivals = Arrivals(reply)
    # 120/min = 2/s with a burst of 2: four attempts need at least one second.
    with arrivals.sync_client(plugins=[RateLimitPlugin(requests_per_minute=120)]) as client:
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    assert len(arrivals.times) == 4
    assert_paced(arrivals.times, per_second=2, burst=2)


def test_tokens_are_estimated_from_the_body_and_corrected_from_usage() -> None:
    """The server reports far more tokens than the body suggests: later calls pay the difference."""

    def reply(request: httpx.Request, n: int) -> httpx.Response:
        body = rank_body(request)
        body["usage"] = {"prompt_tokens": 100, "completion_tokens": 0, "total_tokens": 100}
        return httpx.Response(200, json=body)

    arrivals = Arrivals(reply)
    # 6000 tokens/min = 100/s, bucket of 6000: 60 calls of 100 fill it, the rest wait.
    plugin = RateLimitPlugin(requests_per_minute=60_000, tokens_per_minute=6000)
    with arrivals.sync_client(plugins=[plugin]) as client:
        for _ in range(62):
            client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    # The estimate alone (~15 tokens a call, 930 in all) would never have waited;
    # the reported 6200 exceed the bucket by about 200 tokens: 2 s at 100 tokens/s.
    assert arrivals.times[-1] - arrivals.times[0] >= 1.0


def test_reported_tokens_come_from_the_last_usage_key() -> None:
    body = (
        b'{"results":[{"document":{"text":"\\"total_tokens\\": 99"}}],"usage":{"total_tokens": 42}}'
    )
    assert _reported_tokens(httpx.Response(200, content=body)) == 42
    assert _reported_tokens(httpx.Response(200, content=b'{"results":[]}')) is None


@pytest.mark.parametrize(
    ("kwargs", "param", "error_type"),
    [
        ({"requests_per_minute": 0}, "requests_per_minute", InvalidArgumentError),
        ({"requests_per_minute": "60"}, "requests_per_minute", InvalidArgumentTypeError),
        ({"requests_per_minute": float("nan")}, "requests_per_minute", InvalidArgumentError),
        (
            {"requests_per_minute": 60, "tokens_per_minute": 0.5},
            "tokens_per_minute",
            InvalidArgumentError,
        ),
    ],
)
def test_bad_rates_are_named(
    kwargs: dict[str, Any], param: str, error_type: type[Exception]
) -> None:
    with pytest.raises(error_type) as caught:
        RateLimitPlugin(**kwargs)
    assert isinstance(caught.value, InvalidArgumentError)
    assert caught.value.param == param
