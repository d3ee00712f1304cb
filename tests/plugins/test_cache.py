"""`CachePlugin`: a repeated request costs nothing, per API key, validated like a fresh answer."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from together_rerank import (
    APIResponseValidationError,
    AsyncTogether,
    BadRequestError,
    CachePlugin,
    InvalidArgumentError,
    Together,
)
from together_rerank.plugins.cache import CACHE_HEADER, request_key
from together_rerank.server import LocalServer, ServerConfig

from ..client.helpers import MockAPI, error

DOCUMENTS = ["alpha beta", "beta gamma", "gamma delta"]
MODEL = "pointwise"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(
        ServerConfig(models={MODEL: "term-overlap", "embed": "hashed-ngrams"})
    ) as running:
        yield running


class Counting(httpx.HTTPTransport):
    """Real HTTP, counting the requests that actually go out."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[httpx.Request] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(request)
        return super().handle_request(request)


@contextmanager
def loopback(
    server: LocalServer, cache: CachePlugin, api_key: str = "key-a"
) -> Iterator[tuple[Together, Counting]]:
    transport = Counting()
    with httpx.Client(transport=transport) as http:
        yield (
            Together(base_url=server.base_url, api_key=api_key, plugins=[cache], http_client=http),
            transport,
        )


def test_a_repeated_request_is_answered_from_the_cache(server: LocalServer) -> None:
    cache = CachePlugin()
    with loopback(server, cache) as (client, transport):
        first = client.rerank.create(model=MODEL, query="beta", documents=DOCUMENTS, top_n=2)
        second = client.rerank.create(model=MODEL, query="beta", documents=DOCUMENTS, top_n=2)
        raw = client.rerank.with_raw_response.create(
            model=MODEL, query="beta", documents=DOCUMENTS, top_n=2
        )
    assert len(transport.sent) == 1
    assert second == first
    assert raw.headers[CACHE_HEADER] == "hit"
    assert (cache.hits, cache.misses) == (2, 1)


def test_the_key_is_canonical_and_covers_model_url_and_body(server: LocalServer) -> None:
    cache = CachePlugin()
    with loopback(server, cache) as (client, transport):
        client.rerank.create(
            model=MODEL, query="beta", documents=DOCUMENTS, extra_body={"a": 1, "b": 2}
        )
        client.rerank.create(
            model=MODEL, query="beta", documents=DOCUMENTS, extra_body={"b": 2, "a": 1}
        )
        assert len(transport.sent) == 1
        client.rerank.create(model=MODEL, query="gamma", documents=DOCUMENTS)
        client.rerank.create(model=MODEL, query="beta", documents=DOCUMENTS, top_n=1)
        client.rerank.create(model=MODEL, query="beta", documents=DOCUMENTS, extra_query={"v": "2"})
        client.embeddings.create(model="embed", input="beta")
        client.embeddings.create(model="embed", input="beta")
    assert len(transport.sent) == 5
    a = httpx.Request("POST", "http://h/v1/rerank", content=b'{"x": 1, "y": [1, 2]}')
    b = httpx.Request("POST", "http://h/v1/rerank", content=b'{"y":[1,2],"x":1}')
    c = httpx.Request("POST", "http://h/v2/rerank", content=b'{"y":[1,2],"x":1}')
    assert request_key(a) == request_key(b) != request_key(c)


def test_answers_are_never_shared_across_api_keys(server: LocalServer) -> None:
    cache = CachePlugin()
    with (
        loopback(server, cache, api_key="key-a") as (first, sent_a),
        loopback(server, cache, api_key="key-b") as (second, sent_b),
    ):
        first.rerank.create(model=MODEL, query="beta", documents=DOCUMENTS)
        second.rerank.create(model=MODEL, query="beta", documents=DOCUMENTS)
        first.rerank.create(model=MODEL, query="beta", documents=DOCUMENTS)
    assert (len(sent_a.sent), len(sent_b.sent)) == (1, 1)
    assert (cache.hits, cache.misses) == (1, 2)


def test_bypass_skips_the_cache_and_is_not_sent_on(server: LocalServer) -> None:
    cache = CachePlugin()
    with loopback(server, cache) as (client, transport):
        client.rerank.create(model=MODEL, query="beta", documents=DOCUMENTS)
        client.rerank.create(
            model=MODEL, query="beta", documents=DOCUMENTS, extra_headers={CACHE_HEADER: "bypass"}
        )
    assert len(transport.sent) == 2
    assert CACHE_HEADER not in transport.sent[1].headers
    assert (cache.hits, cache.misses) == (0, 1)


def test_errors_are_not_cached() -> None:
    api = MockAPI(error(400, "no"), error(400, "no"))
    with api.client(plugins=[CachePlugin()]) as client:
        for _ in range(2):
            with pytest.raises(BadRequestError):
                client.rerank.create(model="m", query="q", documents=DOCUMENTS)
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    assert api.calls == 3


def test_lru_evicts_the_least_recently_used_and_ttl_expires() -> None:
    api = MockAPI()
    cache = CachePlugin(maxsize=2)
    with api.client(plugins=[cache]) as client:
        for query in ["a", "b", "a", "c", "a", "b"]:  # b is evicted by c, a is kept by use
            client.rerank.create(model="m", query=query, documents=DOCUMENTS)
    assert [json.loads(r.content)["query"] for r in api.requests] == ["a", "b", "c", "b"]
    api = MockAPI()
    with api.client(plugins=[CachePlugin(ttl=0.2)]) as client:
        client.rerank.create(model="m", query="a", documents=DOCUMENTS)
        client.rerank.create(model="m", query="a", documents=DOCUMENTS)
        time.sleep(0.3)
        client.rerank.create(model="m", query="a", documents=DOCUMENTS)
    assert api.calls == 2


def test_a_disk_cache_makes_a_rerun_cost_nothing(server: LocalServer, tmp_path: Path) -> None:
    queries = [f"beta {i}" for i in range(5)]
    runs: list[object] = []
    for _ in range(2):
        cache = CachePlugin(directory=tmp_path / "cache")  # a new process would do the same
        with loopback(server, cache) as (client, transport):
            runs.append(
                client.rerank.create_many(model=MODEL, queries=queries, documents=DOCUMENTS)
            )
        runs.append(len(transport.sent))
    assert runs[1] == 5
    assert runs[3] == 0
    assert runs[2] == runs[0]
    with loopback(server, CachePlugin(directory=tmp_path / "cache"), api_key="key-b") as (
        other,
        transport,
    ):
        other.rerank.create(model=MODEL, query="beta 0", documents=DOCUMENTS)
    assert len(transport.sent) == 1


def test_a_cached_answer_is_validated_like_a_fresh_one(tmp_path: Path) -> None:
    api = MockAPI()
    cache = CachePlugin(directory=tmp_path)
    with api.client(plugins=[cache]) as client:
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
        request = api.requests[0]
        key = cache._key(request)
        bad = {"object": "rerank", "model": "m", "results": [{"index": 7, "relevance_score": 1.0}]}
        cache._store.set(key, (200, "application/json", json.dumps(bad).encode()))
        with pytest.raises(APIResponseValidationError, match="index 7"):
            client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    assert api.calls == 1


def test_threads_share_the_cache() -> None:
    api = MockAPI()
    cache = CachePlugin()
    with api.client(plugins=[cache]) as client:
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
        with ThreadPoolExecutor(8) as pool:
            answers = list(
                pool.map(
                    lambda _: client.rerank.create(model="m", query="q", documents=DOCUMENTS),
                    range(32),
                )
            )
    assert api.calls == 1
    assert cache.hits == 32
    assert all(answer == answers[0] for answer in answers)


async def test_tasks_share_the_cache(server: LocalServer) -> None:
    cache = CachePlugin()
    async with AsyncTogether(base_url=server.base_url, api_key="k", plugins=[cache]) as client:
        queries = [f"gamma {i}" for i in range(10)]
        first = await client.rerank.create_many(model=MODEL, queries=queries, documents=DOCUMENTS)
        again = await asyncio.gather(
            *(client.rerank.create(model=MODEL, query=q, documents=DOCUMENTS) for q in queries)
        )
    assert list(again) == first
    assert (cache.hits, cache.misses) == (10, 10)


@pytest.mark.parametrize(
    ("kwargs", "param"), [({"maxsize": 0}, "maxsize"), ({"ttl": 0}, "ttl"), ({"ttl": "1"}, "ttl")]
)
def test_bad_settings_are_named(kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(InvalidArgumentError) as caught:
        CachePlugin(**kwargs)  # type: ignore[arg-type]
    assert caught.value.param == param


def test_the_api_key_is_not_stored(tmp_path: Path) -> None:
    api = MockAPI()
    with api.client(
        api_key="sk-very-secret-key", plugins=[CachePlugin(directory=tmp_path)]
    ) as client:
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert b"sk-very-secret-key" not in path.read_bytes()
