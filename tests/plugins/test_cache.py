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
    TogetherError,
)
from together_rerank.plugins.cache import (
    CACHE_HEADER,
    CacheDirectoryError,
    _Entry,
    request_key,
)
from together_rerank.server import LocalServer, ServerConfig

from ..client.helpers import Caller, MockAPI, error, rank_body
from ..reliability.faultserver import FaultServer, Respond

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
        entry = _Entry(200, [("content-type", "application/json")], json.dumps(bad).encode())
        cache._store.set(key, entry)
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


# -- only answers the client accepted are stored (issue 24, item 1) ----------------

BAD_200 = [
    pytest.param(
        b'{"object": "rerank", "model": "m", "results": [{"index": 7, "relevance_score": 1.0}]}',
        "application/json",
        id="index-out-of-range",
    ),
    pytest.param(b'{"object": "rerank", "model": "m", "resu', "application/json", id="truncated"),
    pytest.param(b"<html><body>Bad gateway</body></html>", "text/html", id="html"),
]


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "disk"])
@pytest.mark.parametrize(("body", "content_type"), BAD_200)
def test_a_bad_200_is_raised_once_and_never_served_again(
    mode: Caller, body: bytes, content_type: str, on_disk: bool, tmp_path: Path
) -> None:
    api = MockAPI(httpx.Response(200, content=body, headers={"content-type": content_type}))
    memory = CachePlugin()

    def cache() -> CachePlugin:
        # On disk, each call gets a new plugin, as a new process would.
        return CachePlugin(directory=tmp_path) if on_disk else memory

    with pytest.raises(APIResponseValidationError):
        mode.rerank(api, client={"plugins": [cache()]}, model="m", query="q", documents=DOCUMENTS)
    healthy = mode.rerank(
        api, client={"plugins": [cache()]}, model="m", query="q", documents=DOCUMENTS
    )
    assert api.calls == 2  # the healthy server was asked again
    again = mode.rerank(
        api, client={"plugins": [cache()]}, model="m", query="q", documents=DOCUMENTS
    )
    assert api.calls == 2  # and its valid answer is what was stored
    assert again == healthy


def test_raw_answers_are_stored_once_parse_accepts_them() -> None:
    bad = httpx.Response(200, content=b"<html>oops</html>", headers={"content-type": "text/html"})
    api = MockAPI(bad)
    cache = CachePlugin()
    with api.client(plugins=[cache]) as client:
        raw = client.rerank.with_raw_response.create(model="m", query="q", documents=DOCUMENTS)
        with pytest.raises(APIResponseValidationError):
            raw.parse()
        assert len(cache) == 0
        raw = client.rerank.with_raw_response.create(model="m", query="q", documents=DOCUMENTS)
        assert len(cache) == 0  # not parsed yet: not known to be valid
        raw.parse()
        assert len(cache) == 1
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    assert api.calls == 2


async def test_async_default_pool_stores_only_accepted_answers_over_real_http() -> None:
    """`AsyncTogether`'s own pool (the path with a shortcut for plugin-free calls) with a cache."""
    cache = CachePlugin()
    with FaultServer() as server:
        server.script(Respond(200, body=b'{"object": "rerank", "results": [{"index": 9}]}'))
        async with AsyncTogether(base_url=server.base_url, api_key="k", plugins=[cache]) as client:
            with pytest.raises(APIResponseValidationError):
                await client.rerank.create(model=MODEL, query="q", documents=DOCUMENTS)
            first = await client.rerank.create(model=MODEL, query="q", documents=DOCUMENTS)
            again = await client.rerank.create(model=MODEL, query="q", documents=DOCUMENTS)
        assert len(server.requests) == 2
    assert again == first
    assert (cache.hits, cache.misses) == (1, 2)


def test_batches_are_stored_each_once_accepted() -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if "gamma delta" in json.loads(request.content)["documents"]:
            result = {"index": 5, "relevance_score": 1.0}
            return httpx.Response(200, json={"object": "rerank", "model": "m", "results": [result]})
        return httpx.Response(200, json=rank_body(request))

    api = MockAPI(reply, reply)
    cache = CachePlugin()
    with api.client(plugins=[cache], max_documents_per_request=2, max_retries=0) as client:
        with pytest.raises(APIResponseValidationError):
            client.rerank.create(model="m", query="q", documents=DOCUMENTS)
        assert len(cache) == 1  # the valid batch only
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    assert api.calls == 3
    assert (cache.hits, cache.misses) == (1, 3)


# -- every credential keeps its own entries (item 3) ----------------------------


@pytest.mark.parametrize(
    "header", ["X-Api-Key", "Api-Key", "Cookie", "Proxy-Authorization", "Authorization"]
)
def test_answers_are_never_shared_across_any_credential_header(header: str) -> None:
    api = MockAPI()
    cache = CachePlugin()
    for tenant in ("tenant-a", "tenant-b", "tenant-a"):
        with api.client(plugins=[cache], default_headers={header: tenant}) as client:
            client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    assert api.calls == 2
    assert (cache.hits, cache.misses) == (1, 2)


def test_no_credential_header_is_stored(tmp_path: Path) -> None:
    api = MockAPI()
    headers = {"X-Api-Key": "xk-very-secret-1", "Cookie": "session=ck-very-secret-2"}
    with api.client(
        api_key="sk-very-secret-key",
        default_headers=headers,
        plugins=[CachePlugin(directory=tmp_path)],
    ) as client:
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    stored = b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    for secret in (b"sk-very-secret-key", b"xk-very-secret-1", b"ck-very-secret-2"):
        assert secret not in stored


# -- a damaged directory is named; the salt is never empty (item 10) -------------


def test_a_damaged_database_raises_a_typed_error_naming_plugin_and_directory(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "my-cache"
    directory.mkdir()
    (directory / "cache.db").write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(CacheDirectoryError) as caught:
        CachePlugin(directory=directory)
    assert isinstance(caught.value, TogetherError)
    assert "CachePlugin" in str(caught.value)
    assert str(directory) in str(caught.value)
    assert caught.value.directory == directory


@pytest.mark.parametrize("damaged", [b"", b"\x01\x02\x03"], ids=["empty", "cut-short"])
def test_a_damaged_salt_is_replaced_never_used(tmp_path: Path, damaged: bytes) -> None:
    (tmp_path / "key-salt").write_bytes(damaged)
    api = MockAPI()
    with api.client(plugins=[CachePlugin(directory=tmp_path)]) as client:
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    salt = (tmp_path / "key-salt").read_bytes()
    assert len(salt) == 16
    # The new salt is kept: a later process finds the answer filed under it.
    with api.client(plugins=[CachePlugin(directory=tmp_path)]) as client:
        client.rerank.create(model="m", query="q", documents=DOCUMENTS)
    assert api.calls == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".key-salt")] == []


def test_plugins_opening_one_directory_at_once_agree_on_its_salt(tmp_path: Path) -> None:
    with ThreadPoolExecutor(8) as pool:
        plugins = list(pool.map(lambda _: CachePlugin(directory=tmp_path / "c"), range(8)))
    salts = {plugin._store.salt for plugin in plugins}
    assert salts == {(tmp_path / "c" / "key-salt").read_bytes()}
    assert len(next(iter(salts))) == 16


# -- a hit keeps the server's headers (item 11) ----------------------------------


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "disk"])
def test_a_hit_keeps_the_answers_headers_and_is_marked(tmp_path: Path, on_disk: bool) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        headers = {
            "x-request-id": "req-42",
            "x-together-rerank-engine": "term-overlap",
            "set-cookie": "session=abc",
        }
        return httpx.Response(200, json=rank_body(request), headers=headers)

    api = MockAPI(reply)
    memory = CachePlugin()
    answers = []
    for _ in range(2):
        cache = CachePlugin(directory=tmp_path) if on_disk else memory
        with api.client(plugins=[cache]) as client:
            raw = client.rerank.with_raw_response.create(model="m", query="q", documents=DOCUMENTS)
            answers.append(raw)
            raw.parse()
    fresh, hit = answers
    assert api.calls == 1
    assert hit.request_id == fresh.request_id == "req-42"
    assert hit.headers["x-together-rerank-engine"] == "term-overlap"
    assert hit.headers["content-type"] == fresh.headers["content-type"]
    assert hit.headers[CACHE_HEADER] == "hit"
    assert CACHE_HEADER not in fresh.headers
    assert "set-cookie" not in hit.headers
    assert hit.parse() == fresh.parse()


# vLLM's form: no `object`, usage without `completion_tokens`; a right ranking.
VLLM_FORM = {
    "id": "rerank-1",
    "model": "m",
    "usage": {"prompt_tokens": 9, "total_tokens": 9},
    "results": [
        {"index": 1, "relevance_score": 0.9},
        {"index": 0, "relevance_score": 0.5},
        {"index": 2, "relevance_score": 0.1},
    ],
}


@pytest.mark.parametrize("on_disk", [False, True], ids=["memory", "disk"])
def test_a_hit_of_a_tolerated_answer_is_parsed_and_flagged_as_the_fresh_one_was(
    mode: Caller, on_disk: bool, tmp_path: Path
) -> None:
    # The cache stores the bytes the client accepted, so a hit goes through the
    # same tolerance policy: same answer, same deviations, and a strict client
    # sharing the cache still refuses what the server really sent.
    api = MockAPI(*[httpx.Response(200, json=VLLM_FORM) for _ in range(3)])
    cache = CachePlugin(directory=tmp_path) if on_disk else CachePlugin()
    args = {"model": "m", "query": "q", "documents": DOCUMENTS}
    fresh = mode.rerank(api, client={"plugins": [cache]}, **args)
    hit = mode.rerank(api, client={"plugins": [cache]}, **args)
    assert api.calls == 1
    assert hit == fresh
    assert hit.usage is not None
    assert hit.usage.completion_tokens == 0
    assert fresh.deviations
    assert hit.deviations == fresh.deviations
    with pytest.raises(APIResponseValidationError, match="completion_tokens"):
        mode.rerank(api, client={"plugins": [cache], "strict": True}, **args)
    assert api.calls == 1  # the strict client's refusal came from the cached bytes
