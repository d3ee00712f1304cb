"""Dynamic batching on the shipped MiniLM: shared passes, unchanged answers, fairness, limits.

The scheduler's counters and trace (`app.state.scheduler`) say which requests
shared which forward pass; no timing is asserted anywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import numpy as np
import pytest
from starlette.applications import Starlette

from together_rerank.server import LocalServer, ServerConfig, create_app
from together_rerank.server.engines import Engine
from together_rerank.server.scheduler import BatchLimits, Scheduler

from ..support import asgi_client, assert_error
from .conftest import SEMANTIC

BOUND = 60.0  # seconds any wait in these tests may take
WORDS = ["river", "mountain", "ranking", "model", "query", "vector", "window", "budget", "planet"]


def text(seed: int, words: int) -> str:
    return " ".join(WORDS[(seed * 7 + i * 3) % len(WORDS)] for i in range(words)) + f" {seed}"


async def until(condition: Any) -> None:
    for _ in range(int(BOUND / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached in time")


def semantic_app(**limits: Any) -> Starlette:
    return create_app(ServerConfig(models=SEMANTIC, **limits))


def scheduler_of(app: Starlette) -> Scheduler:
    scheduler: Scheduler = app.state.scheduler
    return scheduler


@contextlib.asynccontextmanager
async def client_of(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as client:
        yield client


def rerank_body(query: str, documents: list[str]) -> dict[str, Any]:
    return {"model": "semantic-rerank", "query": query, "documents": documents}


def scores(response: httpx.Response) -> list[float]:
    assert response.status_code == 200, response.text
    by_index = {r["index"]: r["relevance_score"] for r in response.json()["results"]}
    return [by_index[i] for i in range(len(by_index))]


async def test_items_of_concurrent_requests_meet_in_one_forward_pass(minilm: Engine) -> None:
    scheduler = Scheduler(BatchLimits(max_batch_tokens=4096, max_wait=BOUND))
    embed = minilm.plan_embed([text(1, 20), text(2, 30)])
    rank = minilm.plan_score("which river?", [text(3, 10), text(4, 40), text(5, 5)])
    # Both requests admitted while a third is "still being tokenized": one pass for all.
    with scheduler.incoming():
        vectors = asyncio.create_task(scheduler.run(embed))
        ranked = asyncio.create_task(scheduler.run(rank))
        await until(lambda: scheduler.stats.requests == 2)
    batched_vectors, batched_scores = await vectors, await ranked
    assert scheduler.stats.shared_passes >= 1
    assert any({job for job, _ in p.requests} == {1, 2} for p in scheduler.trace)
    # Each answer is what the request gets alone, to float noise.
    assert np.abs(np.array(batched_vectors) - np.array(embed.run_now())).max() <= 1e-6
    assert np.abs(np.array(batched_scores) - np.array(rank.run_now())).max() <= 1e-6


async def test_concurrent_http_requests_share_passes_and_get_their_lone_answers(
    minilm: Engine,
) -> None:
    app = semantic_app()
    bodies = [
        {"model": "semantic-embed", "input": [text(i, 10 + i % 5), text(100 + i, 3)]}
        for i in range(16)
    ]
    with LocalServer(app=app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=BOUND) as client:
            together = await asyncio.gather(*(client.post("/embeddings", json=b) for b in bodies))
            alone = [await client.post("/embeddings", json=b) for b in bodies]
    # 16 requests in flight at once cannot all have had a pass of their own.
    assert scheduler_of(app).stats.shared_passes >= 1
    for a, b in zip(together, alone, strict=True):
        assert a.status_code == b.status_code == 200
        va = np.array([d["embedding"] for d in a.json()["data"]])
        vb = np.array([d["embedding"] for d in b.json()["data"]])
        assert np.abs(va - vb).max() <= 1e-6


async def test_a_documents_score_does_not_depend_on_its_company(minilm: Engine) -> None:
    target = "Rivers carry water from the mountains down to the sea."
    query = "where does river water go?"
    alone = minilm.score(query, [target])[0]
    companies = [
        [text(1, 3)],
        [text(2, 60), text(3, 2), text(4, 200)],
        [text(i, 5 + 11 * i) for i in range(12)],
        ["word " * 600],  # several windows
    ]
    for company in companies:
        for position in (0, len(company)):
            documents = [*company[:position], target, *company[position:]]
            assert abs(minilm.score(query, documents)[position] - alone) <= 1e-6


async def test_identical_texts_in_one_request_get_exactly_the_same_score(
    semantic_client: httpx.AsyncClient,
) -> None:
    same = "Rivers carry water to the sea."
    documents = [same, text(1, 80), same, text(2, 3), same]
    response = await semantic_client.post("/v1/rerank", json=rerank_body("rivers?", documents))
    got = scores(response)
    assert got[0] == got[2] == got[4]
    embedded = await semantic_client.post(
        "/v1/embeddings", json={"model": "semantic-embed", "input": [same, text(3, 9), same]}
    )
    data = embedded.json()["data"]
    assert data[0]["embedding"] == data[2]["embedding"]


async def test_a_small_request_is_scheduled_before_the_rest_of_a_large_one(
    minilm: Engine,
) -> None:
    app = semantic_app(max_batch_tokens=256)
    large = rerank_body("which planet?", [text(i, 40) for i in range(150)])
    small = rerank_body("which planet?", ["Mars is a planet.", "Bread is food."])
    scheduler = scheduler_of(app)
    async with client_of(app) as client:
        big = asyncio.create_task(client.post("/v1/rerank", json=large))
        await until(lambda: scheduler.stats.passes >= 1)  # the large request is running
        small_answer = await client.post("/v1/rerank", json=small)
        large_answer = await big
    assert small_answer.status_code == large_answer.status_code == 200
    trace = list(scheduler.trace)
    assert len(trace) < scheduler.trace.maxlen  # type: ignore[operator]  # nothing forgotten
    large_passes = [p.seq for p in trace if any(job == 1 for job, _ in p.requests)]
    small_passes = [p.seq for p in trace if any(job == 2 for job, _ in p.requests)]
    assert small_passes
    assert max(small_passes) < max(large_passes)
    # It waited for no more than the passes already under way when it came.
    later_large = [seq for seq in large_passes if seq > max(small_passes)]
    assert len(later_large) >= len(large_passes) // 2


async def test_the_token_limit_refuses_before_the_model_runs(minilm: Engine) -> None:
    app = semantic_app(max_request_tokens=100)
    scheduler = scheduler_of(app)
    async with client_of(app) as client:
        documents = [text(i, 30) for i in range(4)]  # about 4 x 32 tokens
        response = await client.post("/v1/rerank", json=rerank_body("q", documents))
        error = assert_error(response, 400, param="documents", code="too_many_tokens")
        assert "100" in error["message"]
        long_input = {"model": "semantic-embed", "input": ["word " * 150]}
        response = await client.post("/v1/embeddings", json=long_input)
        assert_error(response, 400, param="input", code="too_many_tokens")
        # One long text counts every token, however few documents it is.
        response = await client.post("/v1/rerank", json=rerank_body("q", ["word " * 150]))
        assert_error(response, 400, param="documents", code="too_many_tokens")
        assert scheduler.stats.requests == 0  # the model never saw them
        ok = await client.post("/v1/rerank", json=rerank_body("q", documents[:2]))
        assert ok.status_code == 200
    assert scheduler.stats.requests == 1


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        ("/v1/rerank", {"model": "r", "query": "q", "documents": ["word " * 150]}, "documents"),
        ("/v1/embeddings", {"model": "e", "input": ["a b c"] * 10 + ["word " * 150]}, "input"),
    ],
    ids=["rerank", "embeddings"],
)
async def test_lexical_engines_have_the_token_limit_too(
    path: str, body: dict[str, Any], param: str
) -> None:
    config = ServerConfig(models={"r": "bm25", "e": "hashed-ngrams"}, max_request_tokens=100)
    async with client_of(create_app(config)) as client:
        response = await client.post(path, json=body)
    assert_error(response, 400, param=param, code="too_many_tokens")


async def test_overload_is_a_429_with_retry_after(minilm: Engine) -> None:
    # About 44 tokens a text: 5,300 queued, then 2,600 more would pass the bound of 6,000
    # even after eight more passes of 256.
    app = semantic_app(max_batch_tokens=256, max_queue_tokens=6000)
    scheduler = scheduler_of(app)
    large = {"model": "semantic-embed", "input": [text(i, 40) for i in range(120)]}
    async with client_of(app) as client:
        big = asyncio.create_task(client.post("/v1/embeddings", json=large))
        await until(lambda: scheduler.stats.passes >= 1)
        more = {"model": "semantic-embed", "input": [text(i, 40) for i in range(60)]}
        refused = await client.post("/v1/embeddings", json=more)
        assert (await big).status_code == 200
    assert_error(refused, 429, code="server_overloaded", error_type="rate_limit_error")
    assert int(refused.headers["retry-after"]) >= 1
    assert scheduler.stats.rejected == 1


@pytest.fixture
def slow_server(minilm: Engine) -> Iterator[tuple[LocalServer, Starlette]]:
    """A real loopback server whose passes are small, so that a request runs for many passes."""
    app = semantic_app(max_batch_tokens=128)
    with LocalServer(app=app) as server:
        yield server, app


async def test_a_disconnected_clients_queued_items_are_dropped(
    slow_server: tuple[LocalServer, Starlette],
) -> None:
    server, app = slow_server
    scheduler = scheduler_of(app)
    body = json.dumps(
        {"model": "semantic-embed", "input": [text(i, 40) for i in range(200)]}
    ).encode()
    _, writer = await asyncio.open_connection("127.0.0.1", server.port)
    writer.write(
        b"POST /v1/embeddings HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
    await writer.drain()
    await until(lambda: scheduler.stats.passes >= 1)
    writer.close()
    await writer.wait_closed()
    await until(lambda: scheduler.stats.dropped_items > 0)
    await until(lambda: scheduler.queued_tokens == 0)
    assert scheduler.stats.items < 200
    # The server carries on.
    async with httpx.AsyncClient(base_url=server.base_url, timeout=BOUND) as client:
        response = await client.post(
            "/embeddings", json={"model": "semantic-embed", "input": ["x"]}
        )
    assert response.status_code == 200
