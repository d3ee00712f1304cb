"""Auto-batching in `rerank.create`: split past `max_documents_per_request`, merge exactly."""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from together_rerank import (
    AsyncTogether,
    BadRequestError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    RetryPlugin,
    RetryPolicy,
    Together,
)
from together_rerank._batching import merge_responses, plan_batches
from together_rerank.server import LocalServer, ServerConfig
from together_rerank.types import RerankChoicesData, RerankResponse, UsageData

from ..reliability.faultserver import Fault, FaultServer, Respond
from .helpers import Caller, MockAPI, error, rank_body

POINTWISE = "pointwise-model"
CONTEXTUAL = "contextual-model"
# Few distinct words, so that many documents tie and tie-breaking is exercised.
WORDS = ["cat", "dog", "bird", "fish", "tree", "stone"]


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    config = ServerConfig(models={POINTWISE: "term-overlap", CONTEXTUAL: "bm25"})
    with LocalServer(config) as running:
        yield running


@pytest.fixture(scope="module")
def client(server: LocalServer) -> Iterator[Together]:
    with Together(base_url=server.base_url) as c:
        yield c


texts = st.lists(st.sampled_from(WORDS), min_size=0, max_size=6).map(" ".join)
dict_documents = st.builds(lambda title, body: {"title": title, "body": body}, texts, texts)


@settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    documents=st.one_of(
        st.lists(texts, min_size=1, max_size=40), st.lists(dict_documents, min_size=1, max_size=25)
    ),
    batch_size=st.integers(1, 45),
    top_n=st.none() | st.integers(1, 45),
    return_documents=st.booleans(),
    query=st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
)
def test_batched_equals_unbatched_on_a_pointwise_server(  # noqa: PLR0917
    client: Together,
    documents: list[Any],
    batch_size: int,
    top_n: int | None,
    return_documents: bool,
    query: str,
) -> None:
    """Over real HTTP: same indices, same scores, same documents, whatever the split."""
    args: dict[str, Any] = {
        "model": POINTWISE,
        "query": query,
        "documents": documents,
        "top_n": top_n,
        "return_documents": return_documents,
    }
    whole = client.rerank.create(**args)
    batched = client.rerank.create(**args, max_documents_per_request=batch_size)
    assert batched.results == whole.results
    assert len(batched.results) == min(top_n or len(documents), len(documents))


def test_a_contextual_scorer_is_not_exact_when_batched(client: Together) -> None:
    """BM25 takes IDF from the request's documents: batches score differently (why docs warn)."""
    documents = ["cat dog", "cat", "cat", "cat", "dog bird", "bird", "bird", "bird"]
    whole = client.rerank.create(model=CONTEXTUAL, query="cat bird", documents=documents)
    batched = client.rerank.create(
        model=CONTEXTUAL, query="cat bird", documents=documents, max_documents_per_request=4
    )
    assert sorted(r.index for r in batched.results) == sorted(r.index for r in whole.results)
    assert [r.relevance_score for r in batched.results] != [
        r.relevance_score for r in whole.results
    ]


async def test_async_batched_equals_unbatched(server: LocalServer) -> None:
    documents = [" ".join(WORDS[i % 6 : i % 6 + 1 + i % 3]) for i in range(57)]
    async with AsyncTogether(base_url=server.base_url, max_documents_per_request=8) as batching:
        batched = await batching.rerank.create(
            model=POINTWISE, query="dog tree", documents=documents, top_n=11
        )
        whole = await batching.rerank.create(
            model=POINTWISE,
            query="dog tree",
            documents=documents,
            top_n=11,
            max_documents_per_request=1000,
        )
    assert batched.results == whole.results


def test_server_limit_is_a_400_naming_documents_and_batching_gets_under_it() -> None:
    config = ServerConfig(models={POINTWISE: "term-overlap"}, max_documents=5)
    documents = [f"cat {i}" for i in range(12)]
    with LocalServer(config) as server, Together(base_url=server.base_url) as client:
        with pytest.raises(BadRequestError) as caught:
            client.rerank.create(model=POINTWISE, query="cat", documents=documents)
        assert caught.value.body["error"]["param"] == "documents"  # type: ignore[index]
        response = client.rerank.create(
            model=POINTWISE, query="cat", documents=documents, max_documents_per_request=5
        )
    assert sorted(r.index for r in response.results) == list(range(12))


# -- the merge rules, without HTTP ------------------------------------------------------------


def _answer(scores: list[float], top_n: int | None, *, tokens: int | None = 1) -> RerankResponse:
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))[:top_n]
    usage = (
        None
        if tokens is None
        else UsageData(prompt_tokens=tokens, completion_tokens=0, total_tokens=tokens)
    )
    return RerankResponse(
        id=f"id-{len(scores)}",
        object="rerank",
        model="m",
        results=[RerankChoicesData(index=i, relevance_score=scores[i]) for i in order],
        usage=usage,
    )


@settings(max_examples=300, deadline=None)
@given(
    scores=st.lists(st.sampled_from([0.0, 0.25, 0.5, 1.0]), min_size=1, max_size=60),
    limit=st.integers(1, 70),
    top_n=st.none() | st.integers(1, 70),
)
def test_merge_is_the_global_ranking(scores: list[float], limit: int, top_n: int | None) -> None:
    """Score descending, ties by original index, top_n after the merge, usage summed."""
    batches = plan_batches(len(scores), limit)
    assert [i for batch in batches for i in batch] == list(range(len(scores)))
    assert all(len(batch) <= limit for batch in batches)
    answers = [
        _answer(
            scores[b.start : b.stop], None if top_n is None else min(top_n, len(b)), tokens=len(b)
        )
        for b in batches
    ]
    merged = merge_responses(answers, batches, top_n)
    unbatched = _answer(scores, top_n, tokens=len(scores))
    # The unbatched ranking and usage; every other field is the first batch's.
    assert merged == answers[0].model_copy(
        update={"results": unbatched.results, "usage": unbatched.usage}
    )


def test_merge_reports_no_usage_when_a_batch_reported_none() -> None:
    batches = plan_batches(4, 2)
    merged = merge_responses(
        [_answer([1.0, 0.0], None), _answer([0.5, 0.2], None, tokens=None)], batches, None
    )
    assert merged.usage is None
    assert [r.index for r in merged.results] == [0, 2, 3, 1]


def test_merge_keeps_every_field_of_the_first_answer_typed_ones_included() -> None:
    """A field a newer spec types is the first batch's, not dropped by the merge."""

    class Newer(RerankResponse):
        merge_probe: dict[str, str] | None = None

    batches = plan_batches(4, 2)
    answers = [
        Newer.model_validate(
            {**_answer([1.0, 0.0], None).model_dump(), "merge_probe": {"v": str(i)}}
        )
        for i in range(2)
    ]
    merged = merge_responses(answers, batches, None)
    assert isinstance(merged, Newer)
    assert merged.merge_probe == {"v": "0"}


# -- the client side: options, requests, failures -------------------------------------------


def _documents(n: int) -> list[str]:
    return [f"word{i} shared" for i in range(n)]


def test_one_request_per_batch_each_asking_for_its_share(mode: Caller) -> None:
    api = MockAPI()
    response = mode.rerank(
        api,
        client={"max_documents_per_request": 4},
        model="m",
        query="shared",
        documents=_documents(10),
        top_n=3,
    )
    bodies = sorted((json.loads(r.content) for r in api.requests), key=lambda b: b["documents"][0])
    assert [len(b["documents"]) for b in bodies] == [4, 4, 2]
    assert sorted(b["documents"][0] for b in bodies) == [
        "word0 shared",
        "word4 shared",
        "word8 shared",
    ]
    assert [b["top_n"] for b in bodies] == [3, 3, 2]
    assert len(response.results) == 3
    assert all(0 <= r.index < 10 for r in response.results)


def test_no_limit_or_few_documents_send_one_request(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, model="m", query="q", documents=_documents(30))
    mode.rerank(
        api,
        client={"max_documents_per_request": 30},
        model="m",
        query="q",
        documents=_documents(30),
    )
    assert api.calls == 2


def test_per_request_limit_wins_and_with_options_carries_it() -> None:
    api = MockAPI()
    with api.client(max_documents_per_request=2) as client:
        client.rerank.create(
            model="m", query="q", documents=_documents(6), max_documents_per_request=3
        )
        assert api.calls == 2
        copy = client.with_options(max_retries=0)
        assert copy.max_documents_per_request == 2
        copy.rerank.create(model="m", query="q", documents=_documents(6))
        assert api.calls == 5
        assert client.with_options(max_documents_per_request=6).max_documents_per_request == 6


@pytest.mark.parametrize(
    ("kwargs", "error_type"),
    [
        ({"max_documents_per_request": 0}, InvalidArgumentError),
        ({"max_documents_per_request": "10"}, InvalidArgumentTypeError),
        ({"max_documents_per_request": True}, InvalidArgumentTypeError),
        ({"max_concurrency": 0}, InvalidArgumentError),
        ({"max_concurrency": 2.5}, InvalidArgumentTypeError),
    ],
)
def test_bad_client_options_are_named(kwargs: dict[str, Any], error_type: type[Exception]) -> None:
    with pytest.raises(error_type) as caught:
        MockAPI().client(**kwargs)
    assert isinstance(caught.value, InvalidArgumentError)
    assert caught.value.param == next(iter(kwargs))


@pytest.mark.parametrize("limit", [0, -3, "10", 2.0])
def test_a_bad_per_request_limit_is_named_before_anything_is_sent(mode: Caller, limit: Any) -> None:
    api = MockAPI()
    with pytest.raises(InvalidArgumentError) as caught:
        mode.rerank(
            api, model="m", query="q", documents=_documents(3), max_documents_per_request=limit
        )
    assert caught.value.param == "max_documents_per_request"
    assert api.calls == 0


def test_bad_documents_are_named_with_their_place_in_the_whole_list(mode: Caller) -> None:
    api = MockAPI()
    documents: list[Any] = [*_documents(7), 5]
    with pytest.raises(InvalidArgumentTypeError) as caught:
        mode.rerank(
            api, client={"max_documents_per_request": 3}, model="m", query="q", documents=documents
        )
    assert caught.value.param == "documents[7]"
    assert api.calls == 0


def test_usage_is_summed_and_id_model_are_the_first_batch(mode: Caller) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        body = rank_body(request)
        first = json.loads(request.content)["documents"][0]
        body["id"] = f"id-{first}"
        body["usage"] = {"prompt_tokens": 2, "completion_tokens": 1, "total_tokens": 3}
        return httpx.Response(200, json=body)

    api = MockAPI(*[reply] * 3)
    response = mode.rerank(
        api, client={"max_documents_per_request": 2}, model="m", query="q", documents=_documents(5)
    )
    assert response.usage == UsageData(prompt_tokens=6, completion_tokens=3, total_tokens=9)
    assert response.id == "id-word0 shared"
    assert response.model == "m"


def test_a_failed_batch_fails_the_call(mode: Caller) -> None:
    """Never a partial ranking presented as whole: the batch's own error is raised."""

    def reply(request: httpx.Request) -> httpx.Response:
        if "word4 shared" in json.loads(request.content)["documents"]:
            return error(400, "bad batch")
        return httpx.Response(200, json=rank_body(request))

    api = MockAPI(*[reply] * 5)
    with pytest.raises(BadRequestError, match="bad batch"):
        mode.rerank(
            api,
            client={"max_documents_per_request": 2, "max_retries": 0},
            model="m",
            query="q",
            documents=_documents(9),
        )


def test_a_batch_is_retried_on_its_own_before_the_call_fails(mode: Caller) -> None:
    calls: dict[str, int] = {}

    def flaky(request: httpx.Request) -> httpx.Response:
        first = json.loads(request.content)["documents"][0]
        calls[first] = calls.get(first, 0) + 1
        if first == "word2 shared" and calls[first] == 1:
            return error(503)
        return httpx.Response(200, json=rank_body(request))

    api = MockAPI(*[flaky] * 10)
    # Waits within a batched call really wait (they end early if the call stops): keep it short.
    quick = RetryPlugin(RetryPolicy(initial_delay=0.01))
    response = mode.rerank(
        api,
        client={"max_documents_per_request": 2, "plugins": [quick]},
        model="m",
        query="shared",
        documents=_documents(6),
    )
    assert calls == {"word0 shared": 1, "word2 shared": 2, "word4 shared": 1}
    assert sorted(r.index for r in response.results) == list(range(6))


def test_raw_mode_refuses_to_split() -> None:
    api = MockAPI()
    with (
        api.client(max_documents_per_request=2) as client,
        pytest.raises(InvalidArgumentError) as caught,
    ):
        client.rerank.with_raw_response.create(model="m", query="q", documents=_documents(3))
    assert caught.value.param == "max_documents_per_request"
    assert api.calls == 0


class _InFlight:
    """Counts requests in flight at once in a transport handler."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.most = max(self.most, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1


def test_sync_batches_run_concurrently_bounded_by_max_concurrency() -> None:
    flight = _InFlight()

    def handler(request: httpx.Request) -> httpx.Response:
        flight.enter()
        time.sleep(0.05)
        flight.leave()
        return httpx.Response(200, json=rank_body(request))

    http = httpx.Client(transport=httpx.MockTransport(handler))
    with Together(
        api_key="k", http_client=http, max_documents_per_request=1, max_concurrency=3
    ) as client:
        client.rerank.create(model="m", query="q", documents=_documents(12))
    assert flight.most == 3


async def test_async_batches_run_concurrently_bounded_by_max_concurrency() -> None:
    flight = _InFlight()

    async def handler(request: httpx.Request) -> httpx.Response:
        flight.enter()
        await asyncio.sleep(0.02)
        flight.leave()
        await request.aread()
        return httpx.Response(200, json=rank_body(request))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncTogether(
        api_key="k", http_client=http, max_documents_per_request=1, max_concurrency=4
    ) as client:
        await client.rerank.create(model="m", query="q", documents=_documents(13))
    assert flight.most == 4


def test_batch_count_is_the_ceiling() -> None:
    for n in range(1, 30):
        for limit in range(1, 12):
            assert len(plan_batches(n, limit)) == math.ceil(n / limit)


# -- nothing is sent for a call once it has failed (issue 24, item 2) ------------


class Decide(Fault):
    """Over real HTTP: answers each request with the (delay, fault) `decide(body)` picks."""

    name = "decide"

    def __init__(self, decide: Callable[[dict[str, Any]], tuple[float, Fault]]) -> None:
        self.decide = decide

    async def answer(self, ex: Any) -> bool:
        delay, fault = self.decide(ex.record.json())
        await asyncio.sleep(delay)
        return await fault.answer(ex)


def fail_first_batch(body: dict[str, Any]) -> tuple[float, Fault]:
    """Batch "word0" fails at once; "word1" fails retryably a little later; the rest are slow."""
    first = body["documents"][0]
    if first.startswith("word0 "):
        return 0.05, Respond(400)
    if first.startswith("word1 "):
        return 0.6, Respond(503)
    # Slow enough that a loaded machine cannot delay the client's reading of
    # the failure past them (their workers would then start the next batch first).
    return 1.0, Respond(200)


def sent_after(server: FaultServer, failed: str) -> list[str]:
    """The first documents of the requests that arrived after the batch `failed` was answered."""
    requests = server.requests
    [failure] = [r for r in requests if r.json()["documents"][0] == failed]
    assert failure.answering is not None
    return [r.json()["documents"][0] for r in requests if r.arrived > failure.answering]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_nothing_is_sent_after_a_batch_failed(is_async: bool) -> None:
    """Neither queued batches nor retries of running ones: the failure ends the call."""
    with FaultServer() as server:
        server.always(Decide(fail_first_batch), times=1000)
        kwargs: dict[str, Any] = {
            "base_url": server.base_url,
            "api_key": "k",
            "max_documents_per_request": 1,
            "max_concurrency": 2,
            "max_retries": 2,
        }
        if is_async:

            async def go() -> None:
                async with AsyncTogether(**kwargs) as client:
                    with pytest.raises(BadRequestError):
                        await client.rerank.create(model="m", query="q", documents=_documents(10))
                    await asyncio.sleep(1.0)  # the client stays open, as it would in a program

            asyncio.run(go())
        else:
            with Together(**kwargs) as client:
                with pytest.raises(BadRequestError):
                    client.rerank.create(model="m", query="q", documents=_documents(10))
                time.sleep(1.0)  # what the old code sent after the failure had arrived by now
        assert sent_after(server, "word0 shared") == []
        assert len(server.requests) == 2
