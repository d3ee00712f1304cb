"""Routing, headers, auth, body limits, internal errors and concurrency of the ASGI app."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.types import Message

from together_rerank.server import ENGINE_HEADER, ServerConfig, create_app
from together_rerank.server.engines import bm25

from .support import EMBEDDING_MODEL, asgi_client, assert_conforms, assert_error, dumps, rerank_body

KEY = "test-key-Ω-not-ascii"
ASCII_KEY = "sk-local-0123456789"


# --- routes -------------------------------------------------------------------------


async def test_health_is_ok_without_auth() -> None:
    async with asgi_client(create_app(ServerConfig(api_key=ASCII_KEY))) as client:
        response = await client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers[ENGINE_HEADER] == "local"
    async with asgi_client(create_app()) as client:
        head = await client.head("/health")
    assert head.status_code == 200


@pytest.mark.parametrize("prefix", ["/v1", ""])
async def test_api_routes_answer_with_and_without_v1_prefix(
    client: httpx.AsyncClient, prefix: str
) -> None:
    rerank = await client.post(f"{prefix}/rerank", json=rerank_body())
    assert_conforms(rerank, "/rerank")
    assert rerank.headers[ENGINE_HEADER] == "bm25"
    embeddings = await client.post(
        f"{prefix}/embeddings", json={"model": EMBEDDING_MODEL, "input": "x"}
    )
    assert_conforms(embeddings, "/embeddings")
    models = await client.get(f"{prefix}/models")
    assert_conforms(models, "/models", "get")
    assert models.headers[ENGINE_HEADER] == "local"


@pytest.mark.parametrize(
    "path", ["/v2/rerank", "/v1/v1/rerank", "/v1/rerank/", "/v1", "/favicon.ico", "/docs/"]
)
async def test_unknown_path_is_404_error_body(client: httpx.AsyncClient, path: str) -> None:
    response = await client.post(path, json=rerank_body())
    error = assert_error(response, 404, code="unknown_url")
    assert path in error["message"]
    assert response.headers[ENGINE_HEADER] == "local"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/v1/rerank", "POST"),
        ("PUT", "/rerank", "POST"),
        ("DELETE", "/v1/embeddings", "POST"),
        ("POST", "/v1/models", "GET"),
        ("POST", "/health", "GET"),
        # The API page and the spec (server/pages.py) are GET only.
        ("POST", "/", "GET"),
        ("PUT", "/openapi.json", "GET"),
    ],
)
async def test_wrong_method_is_405_error_body_with_allow(
    client: httpx.AsyncClient, method: str, path: str, allowed: str
) -> None:
    response = await client.request(method, path)
    assert_error(response, 405, code="method_not_allowed")
    assert allowed in response.headers["allow"]


# --- auth -----------------------------------------------------------------------------


async def _post_with(client: httpx.AsyncClient, authorization: bytes | None) -> httpx.Response:
    headers: dict[str, Any] = {"content-type": "application/json"}
    if authorization is not None:
        headers["authorization"] = authorization
    return await client.post("/v1/rerank", content=dumps(rerank_body()), headers=headers)


@pytest.mark.parametrize("key", [ASCII_KEY, KEY])
async def test_api_key_is_required_when_configured(
    key: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    good = f"Bearer {key}".encode()
    async with asgi_client(create_app(ServerConfig(api_key=key))) as client:
        missing = await _post_with(client, None)
        assert_error(missing, 401, code="missing_api_key", error_type="authentication_error")
        assert missing.headers["www-authenticate"] == "Bearer"
        for wrong in [
            b"Bearer wrong",
            b"Bearer " + key.encode()[:-1],
            b"Basic " + key.encode(),
            key.encode(),
            b"Bearer",
            b"Bearer \xff\xfe",
        ]:
            response = await _post_with(client, wrong)
            assert_error(response, 401, code="invalid_api_key", error_type="authentication_error")
        assert (await _post_with(client, good)).status_code == 200
        assert (await _post_with(client, b"bearer  " + key.encode())).status_code == 200
        models = await client.get("/v1/models")
        assert_error(models, 401, error_type="authentication_error")
        authorized = await client.get("/v1/models", headers=[(b"authorization", good)])
        assert authorized.status_code == 200
        embeddings = await client.post(
            "/v1/embeddings", json={"model": EMBEDDING_MODEL, "input": "a"}
        )
        assert_error(embeddings, 401, error_type="authentication_error")
    assert key not in caplog.text


async def test_auth_is_checked_before_the_body_is_judged() -> None:
    async with asgi_client(
        create_app(ServerConfig(api_key=ASCII_KEY, max_body_bytes=10))
    ) as client:
        response = await client.post(
            "/v1/rerank", content=b"x" * 100, headers={"content-type": "text/plain"}
        )
    assert_error(response, 401, error_type="authentication_error")


# --- body size limit --------------------------------------------------------------------


async def test_body_over_the_limit_by_content_length_is_413() -> None:
    body = dumps(rerank_body())
    async with asgi_client(create_app(ServerConfig(max_body_bytes=len(body)))) as client:
        at_limit = await client.post(
            "/v1/rerank", content=body, headers={"content-type": "application/json"}
        )
        assert at_limit.status_code == 200
        over = await client.post(
            "/v1/rerank", content=body + b" ", headers={"content-type": "application/json"}
        )
    error = assert_error(over, 413, code="request_too_large")
    assert str(len(body)) in error["message"]


async def test_chunked_body_over_the_limit_is_413_without_reading_it_all() -> None:
    sent = 0

    async def chunks() -> AsyncIterator[bytes]:
        nonlocal sent
        yield b'{"model": "Salesforce/Llama-Rank-V1", "query": "q", "documents": ["'
        for _ in range(1000):
            sent += 1
            yield b"a" * 100
        yield b'"]}'

    async with asgi_client(create_app(ServerConfig(max_body_bytes=1000))) as client:
        response = await client.post(
            "/v1/rerank", content=chunks(), headers={"content-type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_error(response, 413, code="request_too_large")
    assert sent < 1000


async def _raw_post(app: Any, body: bytes, headers: list[tuple[bytes, bytes]]) -> list[Message]:
    """POST `body` to /v1/rerank as an in-process ASGI caller; the messages sent back.

    Its `receive` answers the body again at once to every call, as in-process
    callers may, rather than waiting for the client to go away.
    """
    messages: list[Message] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: Message) -> None:
        messages.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/rerank",
        "raw_path": b"/v1/rerank",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("testserver", 80),
    }
    await app(scope, receive, send)
    return messages


async def test_non_numeric_content_length_is_400(app: Starlette) -> None:
    messages = await _raw_post(
        app, b"{}", [(b"content-type", b"application/json"), (b"content-length", b"1_0")]
    )
    assert messages[0]["status"] == 400
    assert b"Content-Length" in messages[1]["body"]


# --- internal errors ----------------------------------------------------------------------


async def test_internal_bug_is_a_spec_shaped_500_and_logged(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(*args: object, **kwargs: object) -> object:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(bm25, "relevance_scores", broken)
    with caplog.at_level(logging.ERROR, logger="together_rerank.server"):
        response = await client.post("/v1/rerank", json=rerank_body())
    error = assert_error(response, 500, code="internal_error", error_type="server_error")
    assert error["message"] == "internal server error"
    assert "secret internal detail" not in response.text
    assert_conforms(response, "/rerank")
    assert "secret internal detail" in caplog.text
    assert any(record.exc_info for record in caplog.records)
    # The app still serves afterwards.
    monkeypatch.undo()
    assert (await client.post("/v1/rerank", json=rerank_body())).status_code == 200


# --- concurrency -----------------------------------------------------------------------------


async def test_scoring_a_big_request_does_not_block_a_small_one(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While one request is stuck inside scoring, another completes.

    The stuck scoring waits for an event that is only set after the small
    request finished. If scoring ran on the event loop, the small request could
    not be served and the wait would time out: no timing assertion needed.
    """
    real_scores = bm25.relevance_scores
    loop_thread = threading.get_ident()
    scoring_threads: list[int] = []
    big_entered = threading.Event()
    small_done = threading.Event()
    big_saw_small_done: list[bool] = []

    def instrumented_scores(query: str, texts: list[str]) -> Any:
        scoring_threads.append(threading.get_ident())
        if query == "big":
            big_entered.set()
            big_saw_small_done.append(small_done.wait(timeout=10))
        return real_scores(query, texts)

    monkeypatch.setattr(bm25, "relevance_scores", instrumented_scores)

    async def small_after_big_started() -> httpx.Response:
        for _ in range(1000):
            if big_entered.is_set():
                break
            await asyncio.sleep(0.005)
        response = await client.post("/v1/rerank", json=rerank_body(query="small"))
        small_done.set()
        return response

    big, small = await asyncio.gather(
        client.post("/v1/rerank", json=rerank_body(query="big", documents=["big"] * 2000)),
        small_after_big_started(),
    )
    assert big.status_code == 200
    assert small.status_code == 200
    assert big_saw_small_done == [True]
    assert len(scoring_threads) == 2
    assert loop_thread not in scoring_threads


# A hang never yields to asyncio's own timeout: pytest-timeout's signal ends it.
@pytest.mark.timeout(30)
async def test_an_in_process_caller_that_never_reports_a_disconnect_is_answered() -> None:
    # After the body, this caller's `receive` answers at once with another
    # message rather than waiting for a disconnect. The watch for a client going
    # away used to loop on it without ever yielding: the request hung.
    app = create_app(ServerConfig(models={"m": "term-overlap"}))
    body = dumps({"model": "m", "query": "alpha", "documents": ["alpha", "beta"]})
    sent = await asyncio.wait_for(
        _raw_post(app, body, [(b"content-type", b"application/json")]), timeout=20
    )
    assert sent[0]["status"] == 200
