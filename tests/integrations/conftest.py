"""Fixtures for the framework adapters: the local server on loopback, counted, and no internet.

The server is the real `LocalServer` (BM25) behind a thin ASGI wrapper that
records every rerank request body and can answer the next ones with 503, so
tests count requests where they arrive and see real errors come back.
"""

from __future__ import annotations

import ipaddress
import json
import socket
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from together_rerank import AsyncTogether, Flow, RequestOptions, Together
from together_rerank.server import LocalServer, create_app

RERANK_PATH = "/v1/rerank"


class RecordingApp:
    """The local server's app, recording rerank bodies; `fail_next` answers that many with 503."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.rerank_bodies: list[dict[str, Any]] = []
        self.fail_next = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != RERANK_PATH:
            await self.app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        self.rerank_bodies.append(json.loads(body))
        if self.fail_next:
            self.fail_next -= 1
            await _overloaded(send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def _overloaded(send: Send) -> None:
    error = {
        "error": {"message": "overloaded", "type": "server_error", "param": None, "code": None}
    }
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            # A short server-requested wait keeps retrying tests fast.
            "headers": [(b"content-type", b"application/json"), (b"retry-after-ms", b"10")],
        }
    )
    await send({"type": "http.response.body", "body": json.dumps(error).encode()})


@dataclass
class Served:
    """The running server and its recorder."""

    server: LocalServer
    app: RecordingApp

    @property
    def base_url(self) -> str:
        return self.server.base_url

    @property
    def rerank_bodies(self) -> list[dict[str, Any]]:
        return self.app.rerank_bodies


@pytest.fixture(scope="module")
def running() -> Iterator[Served]:
    app = RecordingApp(create_app())
    with LocalServer(app=app) as server:
        yield Served(server, app)


@pytest.fixture
def served(running: Served) -> Served:
    running.app.rerank_bodies.clear()
    running.app.fail_next = 0
    return running


@dataclass
class Counter:
    """A plugin counting the requests that pass through the client it is installed on."""

    paths: list[str] = field(default_factory=list)

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        self.paths.append(request.url.path)
        response = yield request
        assert response is not None
        return response


@pytest.fixture
def sync_counter() -> Counter:
    return Counter()


@pytest.fixture
def async_counter() -> Counter:
    return Counter()


@pytest.fixture
def client(served: Served, sync_counter: Counter) -> Iterator[Together]:
    with Together(base_url=served.base_url, max_retries=0, plugins=[sync_counter]) as client:
        yield client


@pytest.fixture
async def async_client(served: Served, async_counter: Counter) -> AsyncIterator[AsyncTogether]:
    async with AsyncTogether(
        base_url=served.base_url, max_retries=0, plugins=[async_counter]
    ) as client:
        yield client


@pytest.fixture(autouse=True)
def no_internet(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[object]]:
    """Fail the test if anything (a tokenizer, NLTK, telemetry) tries to reach past loopback."""
    attempts: list[object] = []
    connect = socket.socket.connect
    getaddrinfo = socket.getaddrinfo

    def guarded_connect(sock: socket.socket, address: Any) -> None:
        if sock.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
            attempts.append(address)
            raise OSError(f"tests/integrations: no network beyond loopback ({address!r})")
        connect(sock, address)

    def guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
        if host is not None and not _is_loopback(host):
            attempts.append(host)
            raise socket.gaierror(f"tests/integrations: no name lookups ({host!r})")
        return getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    monkeypatch.setattr(socket, "getaddrinfo", guarded_getaddrinfo)
    yield attempts
    assert attempts == [], f"something tried to reach the network: {attempts}"


def _is_loopback(host: str | bytes) -> bool:
    name = host.decode() if isinstance(host, bytes) else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
