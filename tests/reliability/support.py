"""Shared pieces of the reliability tests: data, a hang guard, sync/async callers, plugins."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from together_rerank import (
    AsyncTogether,
    EmbeddingsResponse,
    Flow,
    RequestOptions,
    RerankResponse,
    RetryPlugin,
    RetryPolicy,
    Together,
)
from together_rerank._transport import AiohttpTransport

# Distinctive, so that a leak anywhere is found by a plain substring search.
API_KEY = "sk-reliability-7Q2xZ9vK4mW8pL3n"
MODEL = "Salesforce/Llama-Rank-V1"
EMBEDDING_MODEL = "togethercomputer/m2-bert-80M-8k-retrieval"
QUERY = "What is retrieval-augmented generation?"
DOCUMENTS = [
    "The weather forecast predicts rain tomorrow.",
    "RAG combines retrieval with generation for more accurate LLM responses.",
    "Python is a popular programming language.",
    "Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
    "The stock market closed higher today.",
]

SLACK = 0.5
"""Seconds allowed above a wait's upper bound: scheduling on a shared machine, not policy."""

GUARD_SLACK = 3.0
"""Seconds a call may run past its computed worst case before the hang guard fails it."""

# The SDK's default policy (RetryPolicy()): backoff before retry n is
# min(1.0 * 2**n, 10.0) * (1 - 0.25 * random()).
DEFAULT_POLICY = RetryPolicy()


def backoff_bounds(policy: RetryPolicy, retry: int) -> tuple[float, float]:
    """The (low, high) wait the policy's own backoff allows before retry number `retry`."""
    high = min(policy.initial_delay * 2.0**retry, policy.max_delay)
    return 0.75 * high, high


def assert_backoff(gaps: list[float], policy: RetryPolicy) -> None:
    """Each gap is at least the policy's lowest backoff, and at most its highest plus slack."""
    for retry, gap in enumerate(gaps):
        low, high = backoff_bounds(policy, retry)
        assert low <= gap <= high + SLACK, (
            f"retry {retry}: waited {gap:.3f}s, policy [{low}, {high}]"
        )


def worst_case(attempts: int, per_attempt: float, waits: float) -> float:
    """The longest a call may take: every attempt timing out, plus every wait."""
    return attempts * per_attempt + waits


FAST_POLICY = RetryPolicy(initial_delay=0.05, max_delay=0.2)
"""Backoff 0.05 s, 0.1 s, 0.2 s, 0.2 s ... (each minus up to 25 % jitter)."""


def fast_retries(max_retries: int = 3) -> dict[str, Any]:
    """Client options that retry `max_retries` times with `FAST_POLICY`.

    A user's `RetryPlugin` takes the built-in one's place, so the call takes
    the path it takes by default.
    """
    return {"max_retries": max_retries, "plugins": [RetryPlugin(FAST_POLICY)]}


class Passthrough:
    """A user plugin that changes nothing: every call then goes through the plugin chain."""

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """Send the request, return the response."""
        response = yield request
        assert response is not None
        return response


@dataclass
class Outcome:
    """How a guarded call ended."""

    value: Any
    error: BaseException | None
    elapsed: float

    def raised(self, cls: type[BaseException]) -> Any:
        """The error, asserting it is a `cls`."""
        assert self.error is not None, f"expected {cls.__name__}, got a result: {self.value!r}"
        assert isinstance(self.error, cls), f"expected {cls.__name__}, got {self.error!r}"
        return self.error

    def ok(self) -> Any:
        """The result, asserting there was no error."""
        assert self.error is None, f"unexpected error: {self.error!r}"
        return self.value


class CallHung(Exception):
    """Raised inside a guarded call that an inner (asyncio) guard had to cancel."""


def guarded(fn: Callable[[], Any], budget: float) -> Outcome:
    """Run `fn` in a daemon thread; fail the test if it has not finished within `budget` s.

    This is a hang guard, not a performance assertion: budgets are a call's
    worst case under its own timeout and retry policy, plus `GUARD_SLACK`.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        start = time.monotonic()
        try:
            box["value"] = fn()
        except BaseException as exc:
            box["error"] = exc
        box["elapsed"] = time.monotonic() - start

    thread = threading.Thread(target=run, name="guarded-call", daemon=True)
    thread.start()
    thread.join(budget)
    if thread.is_alive() or isinstance(box.get("error"), CallHung):
        pytest.fail(f"call still running after its {budget:.1f}s budget: it hangs")
    return Outcome(box.get("value"), box.get("error"), box["elapsed"])


class Mode:
    """Runs one SDK call with `Together` or `AsyncTogether` on a fresh client."""

    def __init__(self, is_async: bool, httpx_async: bool = False, chain: bool = False) -> None:
        self.is_async = is_async
        self.httpx_async = httpx_async
        self.chain = chain

    def __repr__(self) -> str:
        if not self.is_async:
            return "sync"
        return "async-httpx" if self.httpx_async else "async-chain" if self.chain else "async"

    def call(
        self,
        base_url: str,
        operation: str,
        create: Mapping[str, Any],
        *,
        budget: float,
        client: Mapping[str, Any] | None = None,
        counter: SendCounter | None = None,
    ) -> Outcome:
        """`client.<operation>.create(**create)`, guarded by `budget` seconds."""
        options: dict[str, Any] = {"api_key": API_KEY, "base_url": base_url, **(client or {})}
        if self.chain:
            options["plugins"] = [*options.get("plugins", ()), Passthrough()]
        if not self.is_async:

            def sync_call() -> Any:
                http = httpx.Client(transport=counter.sync_transport()) if counter else None
                try:
                    with Together(http_client=http, **options) as sdk:
                        return getattr(sdk, operation).create(**create)
                finally:
                    if http is not None:
                        http.close()

            return guarded(sync_call, budget)

        async def async_call() -> Any:
            http = None
            if self.httpx_async:
                http = httpx.AsyncClient(transport=counter.async_transport() if counter else None)
            try:
                async with AsyncTogether(http_client=http, **options) as sdk:
                    if counter is not None and http is None:
                        counter.count_default(sdk)
                    coro = getattr(sdk, operation).create(**create)
                    # The inner guard cancels a hung call so the loop can close cleanly.
                    try:
                        return await asyncio.wait_for(coro, budget)
                    except TimeoutError:
                        raise CallHung from None
            finally:
                if http is not None:
                    await http.aclose()

        return guarded(lambda: asyncio.run(async_call()), budget + 1.0)

    def rerank(
        self,
        base_url: str,
        *,
        budget: float,
        client: Mapping[str, Any] | None = None,
        counter: SendCounter | None = None,
        **create: Any,
    ) -> Outcome:
        """A rerank call with the standard query and documents unless given."""
        args: dict[str, Any] = {"model": MODEL, "query": QUERY, "documents": DOCUMENTS, **create}
        return self.call(base_url, "rerank", args, budget=budget, client=client, counter=counter)

    def embeddings(
        self,
        base_url: str,
        *,
        budget: float,
        client: Mapping[str, Any] | None = None,
        **create: Any,
    ) -> Outcome:
        """An embeddings call with two texts unless given."""
        args: dict[str, Any] = {"model": EMBEDDING_MODEL, "input": ["a b", "c d e"], **create}
        return self.call(base_url, "embeddings", args, budget=budget, client=client)


def assert_valid_ranking(response: object, documents: int = len(DOCUMENTS)) -> None:
    """The result is a complete ranking of the request's documents."""
    assert isinstance(response, RerankResponse)
    assert sorted(r.index for r in response.results) == list(range(documents))


def assert_valid_embeddings(response: object, inputs: int) -> None:
    """One embedding per input, in order."""
    assert isinstance(response, EmbeddingsResponse)
    assert [item.index for item in response.data] == list(range(inputs))


class SendCounter:
    """Counts the requests a client's transport is asked to send (attempts, when no server can)."""

    def __init__(self) -> None:
        self.sent = 0

    def sync_transport(self) -> httpx.BaseTransport:
        """A real loopback transport that counts."""
        counter = self

        class Counting(httpx.HTTPTransport):
            def handle_request(self, request: httpx.Request) -> httpx.Response:
                counter.sent += 1
                return super().handle_request(request)

        return Counting()

    def count_default(self, sdk: AsyncTogether) -> None:
        """Count the sends of `AsyncTogether`'s own (aiohttp) pool: every one is an exchange."""
        transport = sdk._http._transport
        assert isinstance(transport, AiohttpTransport)
        exchange = transport.exchange
        counter = self

        async def counting(*args: Any, **kwargs: Any) -> Any:
            counter.sent += 1
            return await exchange(*args, **kwargs)

        transport.exchange = counting  # type: ignore[method-assign]

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """`sync_transport`, async."""
        counter = self

        class Counting(httpx.AsyncHTTPTransport):
            async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
                counter.sent += 1
                return await super().handle_async_request(request)

        return Counting()
