"""Slow and idle clients over real sockets: every connection ends within a documented time."""

from __future__ import annotations

import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from together_rerank.server import LocalServer, ServerConfig

from .support import assert_error, rerank_body

# Short deadlines so the test waits seconds, not the defaults' tens of seconds.
CONFIG = ServerConfig(header_timeout=1.0, body_timeout=1.5, keep_alive_timeout=1)
SLACK = 4.0  # a loaded 2-core machine may be late by this much
PARTIAL_CLIENTS = 200


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(CONFIG) as local:
        yield local


def _connect(server: LocalServer) -> socket.socket:
    sock = socket.create_connection((server.host, server.port), timeout=30)
    sock.settimeout(CONFIG.body_timeout + CONFIG.header_timeout + SLACK)
    return sock


def _read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def _health(sock: socket.socket) -> None:
    sock.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while not data.endswith(b'{"status":"ok"}'):
        chunk = sock.recv(65536)
        assert chunk, data
        data += chunk


def _partial_body_request() -> bytes:
    body = json.dumps(rerank_body()).encode()
    head = (
        "POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return head + body[: len(body) // 2]


def _header(line: bytes) -> tuple[str, str]:
    name, _, value = line.decode("latin-1").partition(": ")
    return name, value


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_a_half_sent_body_gets_a_json_408_and_the_connection_closes(server: LocalServer) -> None:
    with _connect(server) as sock:
        sock.sendall(_partial_body_request())
        started = time.monotonic()
        raw = _read_until_closed(sock)
        waited = time.monotonic() - started
    assert CONFIG.body_timeout - 0.2 <= waited <= CONFIG.body_timeout + SLACK
    head, _, body = raw.partition(b"\r\n\r\n")
    response = httpx.Response(
        int(head.split()[1]),
        headers=[_header(line) for line in head.split(b"\r\n")[1:]],
        content=body,
    )
    error = assert_error(response, 408, code="request_timeout")
    assert "1.5 seconds" in error["message"]


@pytest.mark.parametrize(
    "sent",
    [b"", b"POST /v1/rer", b"POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-"],
    ids=["nothing", "half a request line", "half the headers"],
)
def test_a_connection_without_complete_headers_is_closed(server: LocalServer, sent: bytes) -> None:
    with _connect(server) as sock:
        sock.sendall(sent)
        started = time.monotonic()
        assert _read_until_closed(sock) == b""  # closed, nothing sent: the app was never reached
        waited = time.monotonic() - started
    assert CONFIG.header_timeout - 0.2 <= waited <= CONFIG.header_timeout + SLACK


def test_headers_dripped_after_an_answer_are_timed_out_too(server: LocalServer) -> None:
    with _connect(server) as sock:
        _health(sock)
        sock.sendall(b"GET /hea")  # stops the keep-alive timer; the header deadline takes over
        started = time.monotonic()
        assert _read_until_closed(sock) == b""
        assert time.monotonic() - started <= CONFIG.header_timeout + SLACK


def test_an_idle_kept_alive_connection_is_closed(server: LocalServer) -> None:
    with _connect(server) as sock:
        _health(sock)
        started = time.monotonic()
        assert _read_until_closed(sock) == b""
        assert time.monotonic() - started <= CONFIG.keep_alive_timeout + SLACK


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc to count fds")
def test_many_half_sent_requests_are_all_dropped_and_the_server_keeps_serving(
    server: LocalServer,
) -> None:
    # The server runs in this process, so its sockets are among this process's fds.
    before = _open_fds()
    clients = [_connect(server) for _ in range(PARTIAL_CLIENTS)]
    try:
        for sock in clients:
            sock.sendall(_partial_body_request())
        with httpx.Client(timeout=30) as http:
            during = http.post(f"{server.base_url}/rerank", json=rerank_body(top_n=1))
        assert during.status_code == 200
        assert _open_fds() >= before + PARTIAL_CLIENTS  # both ends of each, while they wait
        answers = [_read_until_closed(sock) for sock in clients]
    finally:
        for sock in clients:
            sock.close()
    assert all(b" 408 " in answer.split(b"\r\n", 1)[0] for answer in answers)
    deadline = time.monotonic() + SLACK
    while _open_fds() > before + 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _open_fds() <= before + 5


def test_requests_cancelled_at_shutdown_get_a_json_503(monkeypatch: pytest.MonkeyPatch) -> None:
    from together_rerank.server.engines import bm25

    real_scores = bm25.relevance_scores
    entered, release = threading.Event(), threading.Event()

    def scores(query: str, texts: Any) -> Any:
        if len(texts) >= 50:
            entered.set()
            release.wait(60)
        return real_scores(query, texts)

    monkeypatch.setattr(bm25, "relevance_scores", scores)
    body = json.dumps(rerank_body(documents=["retrieval"] * 100))
    request = (
        "POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n{body}"
    ).encode()
    server = LocalServer(ServerConfig(heavy_body_bytes=1_000, heavy_concurrency=1))
    server.start()
    stopping = threading.Thread(target=server.stop)
    try:
        computing = socket.create_connection((server.host, server.port), timeout=60)
        computing.sendall(request)
        assert entered.wait(30)
        queued = socket.create_connection((server.host, server.port), timeout=60)
        queued.sendall(request)  # waits for its turn behind the computing one
        time.sleep(0.5)
        stopping.start()
        queued_answer = _read_until_closed(queued)  # cancelled when the grace time is over
    finally:
        release.set()
        if stopping.is_alive():
            stopping.join(60)
        server.stop()
    computing_answer = _read_until_closed(computing)
    computing.close()
    queued.close()
    head, _, payload = queued_answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503 "), queued_answer[:300]
    assert b"content-type: application/json" in head.lower()
    assert json.loads(payload)["error"]["code"] == "shutting_down"
    # The computing request could not be interrupted (a worker thread); it ends in JSON too.
    assert computing_answer.split(b" ", 2)[1] in (b"200", b"503")
    assert b"content-type: application/json" in computing_answer.lower()
