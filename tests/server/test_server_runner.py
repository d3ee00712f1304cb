"""LocalServer: real HTTP over loopback, on an OS-chosen port, stopped cleanly."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest

from together_rerank.server import ENGINE_HEADER, LocalServer, ServerConfig

from .support import EMBEDDING_MODEL, assert_conforms, assert_error, rerank_body


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(ServerConfig(max_body_bytes=64 * 1024)) as running:
        yield running


def test_urls_point_at_loopback_with_and_without_v1(server: LocalServer) -> None:
    assert server.root_url == f"http://127.0.0.1:{server.port}"
    assert server.base_url == f"{server.root_url}/v1"
    assert server.port > 0


def test_serves_the_api_over_real_http(server: LocalServer) -> None:
    with httpx.Client(base_url=server.base_url) as client:
        rerank = client.post("/rerank", json=rerank_body(top_n=2))
        body = assert_conforms(rerank, "/rerank")
        assert [r["index"] for r in body["results"]] == [3, 1]
        assert rerank.headers[ENGINE_HEADER] == "bm25"
        embeddings = client.post("/embeddings", json={"model": EMBEDDING_MODEL, "input": ["a"]})
        assert_conforms(embeddings, "/embeddings")
    with httpx.Client(base_url=server.root_url) as bare:
        assert bare.get("/health").json() == {"status": "ok"}
        assert_conforms(bare.post("/rerank", json=rerank_body()), "/rerank")
        assert_error(bare.get("/v1/nothing-here"), 404, code="unknown_url")


def test_chunked_body_over_the_limit_is_413_over_real_http(server: LocalServer) -> None:
    def chunks() -> Iterator[bytes]:
        yield b'{"model": "Salesforce/Llama-Rank-V1", "query": "q", "documents": ["'
        for _ in range(100):
            yield b"a" * 1000
        yield b'"]}'

    with httpx.Client(base_url=server.base_url) as client:
        response = client.post(
            "/rerank", content=chunks(), headers={"content-type": "application/json"}
        )
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert_error(response, 413, code="request_too_large")


def test_api_key_over_real_http() -> None:
    with LocalServer(ServerConfig(api_key="loopback-key")) as keyed, httpx.Client() as client:
        url = f"{keyed.base_url}/rerank"
        assert_error(client.post(url, json=rerank_body()), 401, error_type="authentication_error")
        ok = client.post(url, json=rerank_body(), headers={"authorization": "Bearer loopback-key"})
        assert ok.status_code == 200


def test_each_server_gets_its_own_port_and_releases_it_on_exit() -> None:
    with LocalServer() as first, LocalServer() as second:
        assert first.port != second.port
        port = first.port
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", port))
    with pytest.raises(RuntimeError, match="not running"):
        _ = first.base_url


def test_start_twice_is_an_error() -> None:
    server = LocalServer()
    server.start()
    try:
        with pytest.raises(RuntimeError, match="already running"):
            server.start()
    finally:
        server.stop()
    server.stop()  # stopping again is harmless
