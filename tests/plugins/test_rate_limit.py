"""`RateLimitPlugin`: one budget shared by every thread and task of a client, in real time.

These tests sleep for real (the suite's instant sleeps would make the limiter
spin); each asserts a lower bound on spacing, which load cannot break.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest

import together_rerank._plugins as plugins_module
import together_rerank.plugins.rate_limit as rate_limit_module
from together_rerank import (
    AsyncTogether,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    RateLimitError,
    RateLimitPlugin,
    Together,
)
from together_rerank.plugins.rate_limit import _reported_tokens

from ..client.conftest import _ModuleWith
from ..client.helpers import MockAPI, error, rank_body

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


# -- on a virtual clock: exact rates and long server holds (issue 24, items 4 and 5) --


class VirtualTime:
    """A clock that only moves when the SDK sleeps: minutes of waiting cost nothing."""

    def __init__(self) -> None:
        self.now = 1000.0

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def virtual(monkeypatch: pytest.MonkeyPatch) -> VirtualTime:
    clock = VirtualTime()
    monkeypatch.setattr(rate_limit_module, "_now", lambda: clock.now, raising=False)
    monkeypatch.setattr(plugins_module, "time", _ModuleWith(time, sleep=clock.sleep))
    return clock


class VirtualArrivals(MockAPI):
    """`MockAPI`, noting each request's arrival on the virtual clock."""

    def __init__(self, clock: VirtualTime, *replies: Any) -> None:
        super().__init__(*replies)
        self.clock = clock
        self.times: list[float] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.times.append(self.clock.now)
        return super().__call__(request)


def without_usage(request: httpx.Request) -> httpx.Response:
    body = rank_body(request)
    del body["usage"]  # the estimates alone are what the limiter spends
    return httpx.Response(200, json=body)


@pytest.mark.parametrize("rpm", [1.5, 59.5, 90.5, 1.15])
def test_a_fractional_request_rate_is_never_exceeded(virtual: VirtualTime, rpm: float) -> None:
    api = VirtualArrivals(virtual)
    with api.client(plugins=[RateLimitPlugin(requests_per_minute=rpm)]) as client:
        for _ in range(30):
            client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    burst = max(1, math.floor(rpm / 60))  # a second's worth, rounded down
    start = api.times[0]
    for k, at in enumerate(api.times):
        assert k + 1 <= burst + rpm * (at - start) / 60, f"request {k + 1} at {at - start:.3f}s"
    # And not much slower either: the last one came when the rate allowed it.
    assert api.times[-1] - start <= (30 - burst) * 60 / rpm + 1


def test_a_fractional_token_rate_is_never_exceeded(virtual: VirtualTime) -> None:
    tpm = 1000.5
    api = VirtualArrivals(virtual, *[without_usage] * 80)
    plugin = RateLimitPlugin(requests_per_minute=60_000, tokens_per_minute=tpm)
    with api.client(plugins=[plugin]) as client:
        for i in range(80):
            client.rerank.create(model="m", query=f"q{i % 10}", documents=DOCUMENTS)
    spent = 0
    start = api.times[0]
    for request, at in zip(api.requests, api.times, strict=True):
        spent += math.ceil(len(request.content) / 4)
        assert spent <= math.floor(tpm) + tpm * (at - start) / 60


def test_a_retry_after_above_a_minute_holds_every_call_as_long_as_asked(
    virtual: VirtualTime,
) -> None:
    api = VirtualArrivals(virtual, error(429, "quiet please", headers={"retry-after": "90"}))
    with api.client(plugins=[RateLimitPlugin(requests_per_minute=6000)], max_retries=2) as client:
        start = virtual.now
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)  # its retry waits
        client.rerank.create(model="m", query="other", documents=DOCUMENTS)
    assert api.times[0] == start
    assert len(api.times) == 3
    assert all(at >= start + 90 for at in api.times[1:])
    assert api.times[1] <= start + 91  # and no longer than asked


def test_a_retry_after_beyond_max_wait_raises_at_once_for_every_call(
    virtual: VirtualTime,
) -> None:
    api = VirtualArrivals(virtual, error(429, "come back later", headers={"retry-after": "900"}))
    limiter = RateLimitPlugin(requests_per_minute=6000, max_wait=120)
    with api.client(plugins=[limiter], max_retries=2) as client:
        start = virtual.now
        with pytest.raises(RateLimitError, match=r"come back later.*900 s.*max_wait=120") as caught:
            client.rerank.create(model="m", query="q", documents=DOCUMENTS)
        assert caught.value.status_code == 429
        assert api.calls == 1  # no retry into the silence
        assert virtual.now == start  # and no wait
        with pytest.raises(RateLimitError, match="earlier request"):
            client.rerank.create(model="m", query="other", documents=DOCUMENTS)
        assert api.calls == 1
        virtual.sleep(800)  # 100 s of the server's 900 left: within max_wait, so it waits
        client.rerank.create(model="m", query="other", documents=DOCUMENTS)
    assert api.times[1] >= start + 900


def test_max_wait_is_checked() -> None:
    for bad in (0, -1, float("inf"), float("nan")):
        with pytest.raises(InvalidArgumentError) as caught:
            RateLimitPlugin(requests_per_minute=60, max_wait=bad)
        assert caught.value.param == "max_wait"
    with pytest.raises(InvalidArgumentTypeError):
        RateLimitPlugin(requests_per_minute=60, max_wait="60")  # type: ignore[arg-type]
