"""Work per rerank request is bounded: query length, and query words x documents, any engine."""

from __future__ import annotations

import threading
from typing import Any

import anyio
import httpx
import pytest

from together_rerank.server import ServerConfig, create_app
from together_rerank.server.config import DEFAULT_MAX_WORK
from together_rerank.server.text import words

from .support import asgi_client, assert_conforms, assert_error, rerank_body

LIMITS = ServerConfig(max_query_chars=200, max_query_words=20, max_work=100)


async def _post(config: ServerConfig, body: dict[str, Any]) -> httpx.Response:
    async with asgi_client(create_app(config)) as client:
        return await client.post("/v1/rerank", json=body)


def _query(n_words: int) -> str:
    return " ".join(f"w{i}" for i in range(n_words))


async def test_a_query_over_the_character_limit_is_a_400_naming_query() -> None:
    response = await _post(LIMITS, rerank_body(query="x" * 201, documents=["x"]))
    error = assert_error(response, 400, param="query", code="query_too_long")
    assert "200 characters" in error["message"]
    assert "201" in error["message"]


async def test_a_query_over_the_word_limit_is_a_400_naming_query() -> None:
    response = await _post(LIMITS, rerank_body(query=_query(21), documents=["x"]))
    error = assert_error(response, 400, param="query", code="query_too_long")
    assert "20 words" in error["message"]


@pytest.mark.parametrize(("n_words", "n_documents"), [(20, 6), (11, 10), (1, 101)])
async def test_query_words_times_documents_over_the_limit_is_a_400_naming_documents(
    n_words: int, n_documents: int
) -> None:
    body = rerank_body(query=_query(n_words), documents=["w1 d"] * n_documents)
    response = await _post(LIMITS, body)
    error = assert_error(response, 400, param="documents", code="too_much_work")
    assert f"{n_words} query words x {n_documents} documents" in error["message"]
    assert "100" in error["message"]


@pytest.mark.parametrize(("n_words", "n_documents"), [(20, 5), (10, 10), (1, 100), (0, 100)])
async def test_requests_at_the_limits_are_served(n_words: int, n_documents: int) -> None:
    body = rerank_body(query=_query(n_words), documents=["w1 d"] * n_documents, top_n=1)
    response = await _post(LIMITS, body)
    assert response.status_code == 200, response.text
    assert_conforms(response, "/rerank")


async def test_the_limits_are_checked_before_the_engine_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from together_rerank.server.engines import bm25

    def engine_must_not_run(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the engine ran on a request over the limits")

    monkeypatch.setattr(bm25, "relevance_scores", engine_must_not_run)
    response = await _post(LIMITS, rerank_body(query=_query(20), documents=["d"] * 50))
    assert_error(response, 400, param="documents", code="too_much_work")


async def test_the_issue_example_is_refused_by_the_default_limits() -> None:
    # A 20,000-word query against 10,000 two-word documents used to cost ~28 s of CPU.
    query = " ".join(["retrieval augmented generation"] * 6_667)
    assert len(words(query)) > 20_000 - 10
    response = await _post(ServerConfig(), rerank_body(query=query, documents=["a b"] * 10_000))
    assert_error(response, 400, param="query", code="query_too_long")


async def test_default_work_limit_allows_the_largest_document_list_with_a_short_query() -> None:
    n_words = DEFAULT_MAX_WORK // 10_000
    body = rerank_body(query=_query(n_words), documents=["w1 d"] * 10_000, top_n=1)
    response = await _post(ServerConfig(), body)
    assert response.status_code == 200, response.text


def _settings(field: str, value: float) -> dict[str, Any]:
    return {field: value}


@pytest.mark.parametrize(
    "field", ["max_query_chars", "max_query_words", "max_work", "keep_alive_timeout"]
)
def test_limits_must_be_positive(field: str) -> None:
    with pytest.raises(ValueError, match=field):
        ServerConfig(**_settings(field, 0))


@pytest.mark.parametrize("field", ["header_timeout", "body_timeout"])
@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_timeouts_must_be_positive_and_finite(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=field):
        ServerConfig(**_settings(field, value))


async def test_heavy_requests_take_turns_while_small_ones_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from together_rerank.server.engines import bm25

    real_scores = bm25.relevance_scores
    release = threading.Event()
    lock = threading.Lock()
    running = {"now": 0, "most": 0}

    def scores(query: str, texts: Any) -> Any:
        if len(texts) < 50:
            return real_scores(query, texts)
        with lock:
            running["now"] += 1
            running["most"] = max(running["most"], running["now"])
        release.wait(30)
        with lock:
            running["now"] -= 1
        return real_scores(query, texts)

    monkeypatch.setattr(bm25, "relevance_scores", scores)
    config = ServerConfig(heavy_body_bytes=1_000, heavy_concurrency=1)
    heavy = rerank_body(query="w1", documents=["w1 d"] * 500)
    async with asgi_client(create_app(config)) as client, anyio.create_task_group() as tasks:
        statuses: list[int] = []

        async def send_heavy() -> None:
            statuses.append((await client.post("/v1/rerank", json=heavy)).status_code)

        for _ in range(3):
            tasks.start_soon(send_heavy)
        try:
            await anyio.sleep(0.2)
            # The heavy ones are all stuck in the engine or waiting their turn; a small one passes.
            small = await client.post("/v1/rerank", json=rerank_body(top_n=1))
            assert small.status_code == 200
            assert statuses == []
        finally:
            release.set()
    assert statuses == [200, 200, 200]
    assert running["most"] == 1
