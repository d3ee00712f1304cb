"""A fault-injecting Together API on loopback, over real sockets.

`FaultServer` speaks just enough HTTP/1.1 (keep-alive, Content-Length bodies)
to serve `POST /v1/rerank` and `POST /v1/embeddings`, and it answers each
request from a script: a queue of faults, then valid answers. Unlike an ASGI
server it can break the protocol on purpose: close a connection halfway
through a body, promise more bytes than it sends, stall, drip a body one byte
at a time, or reset the connection. It records every request it receives,
with its arrival time and the time its answer began, so tests can measure the
client's waits between attempts.

    with FaultServer() as server:
        server.script(Respond(503), Respond(503))  # two failures, then success
        Together(base_url=server.base_url).rerank.create(...)
        assert len(server.requests) == 3

It runs an asyncio loop in a daemon thread; nothing here is specific to the
SDK under test, so a fault behaves the same for every client.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import struct
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

__all__ = [
    "CloseBeforeResponse",
    "CloseDelimited",
    "CloseMidBody",
    "Drip",
    "Fault",
    "FaultServer",
    "Recorded",
    "Reset",
    "Respond",
    "ShortBody",
    "Stall",
    "StallAfterHeaders",
    "closed_port",
    "success_body",
]

_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    429: "Too Many Requests",
    499: "Client Closed Request",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
    520: "Unknown Error",
}
_MAX_HEAD = 64 * 1024


@dataclass
class Recorded:
    """One request as the server received it."""

    index: int
    connection: int
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    arrived: float
    """`time.monotonic()` once the whole request had been read."""
    arrived_wall: float
    """`time.time()` at the same moment (for HTTP-date waits)."""
    answering: float | None = None
    """`time.monotonic()` just before the first byte of the answer was written."""
    fault: str = "success"

    def json(self) -> Any:
        """The request body, decoded."""
        return json.loads(self.body)


@dataclass
class _Exchange:
    """What a fault gets to work with."""

    record: Recorded
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    stopping: asyncio.Event


class Fault:
    """One scripted answer. `answer` returns whether the connection may be reused."""

    name = "fault"

    async def answer(self, ex: _Exchange) -> bool:
        raise NotImplementedError

    def __repr__(self) -> str:
        return self.name


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _mark(ex: _Exchange) -> None:
    ex.record.answering = time.monotonic()


async def _write(ex: _Exchange, data: bytes) -> None:
    ex.writer.write(data)
    await ex.writer.drain()


async def _wait_or_stop(ex: _Exchange, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(ex.stopping.wait(), seconds)


@dataclass(repr=False)
class Respond(Fault):
    """A complete, well-formed HTTP answer with any status, headers and body."""

    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    """None: a spec-shaped error body for statuses >= 400, the valid answer for 2xx."""
    content_type: str = "application/json"

    def __post_init__(self) -> None:
        self.name = f"respond {self.status} {dict(self.headers)}"

    async def answer(self, ex: _Exchange) -> bool:
        body = self.body
        if body is None:
            body = (
                success_body(ex.record)
                if self.status < 400
                else json.dumps(
                    {
                        "error": {
                            "message": f"injected {self.status}",
                            "type": "server_error",
                            "param": None,
                            "code": None,
                        }
                    }
                ).encode()
            )
        headers = [
            ("Content-Type", self.content_type),
            ("Content-Length", str(len(body))),
            *self.headers,
        ]
        _mark(ex)
        await _write(ex, _head(self.status, headers) + body)
        return True


class CloseMidBody(Fault):
    """Headers (chunked), the first half of a valid body as one chunk, then close."""

    name = "close mid-body"

    async def answer(self, ex: _Exchange) -> bool:
        body = success_body(ex.record)
        half = body[: len(body) // 2]
        head = _head(200, [("Content-Type", "application/json"), ("Transfer-Encoding", "chunked")])
        _mark(ex)
        await _write(ex, head + f"{len(half):x}\r\n".encode() + half + b"\r\n")
        return False


class ShortBody(Fault):
    """`Content-Length` of the whole valid body, but only half of it, then close."""

    name = "short body"

    async def answer(self, ex: _Exchange) -> bool:
        body = success_body(ex.record)
        head = _head(
            200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        _mark(ex)
        await _write(ex, head + body[: len(body) // 2])
        return False


class CloseDelimited(Fault):
    """A 200 with no length whose body ends at the close, after half the JSON."""

    name = "close-delimited truncated JSON"

    async def answer(self, ex: _Exchange) -> bool:
        body = success_body(ex.record)
        head = _head(200, [("Content-Type", "application/json"), ("Connection", "close")])
        _mark(ex)
        await _write(ex, head + body[: len(body) // 2])
        return False


class CloseBeforeResponse(Fault):
    """Read the request, then close without a byte of answer."""

    name = "close before response"

    async def answer(self, ex: _Exchange) -> bool:
        _mark(ex)
        return False


class Reset(Fault):
    """Read the request, then reset the connection (RST, via SO_LINGER 0)."""

    name = "reset"

    async def answer(self, ex: _Exchange) -> bool:
        sock = ex.writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        _mark(ex)
        return False


@dataclass(repr=False)
class Stall(Fault):
    """Read the request, then say nothing for `seconds` (or until the server stops), then close."""

    seconds: float = 30.0
    name: str = "stall"

    async def answer(self, ex: _Exchange) -> bool:
        _mark(ex)
        await _wait_or_stop(ex, self.seconds)
        return False


@dataclass(repr=False)
class StallAfterHeaders(Fault):
    """Send the headers of a valid answer, then stall before the body."""

    seconds: float = 30.0
    name: str = "stall after headers"

    async def answer(self, ex: _Exchange) -> bool:
        body = success_body(ex.record)
        head = _head(
            200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        _mark(ex)
        await _write(ex, head)
        await _wait_or_stop(ex, self.seconds)
        return False


@dataclass(repr=False)
class Drip(Fault):
    """A valid answer whose body arrives one byte every `interval` seconds (a slow loris)."""

    interval: float = 0.1
    name: str = "drip"

    async def answer(self, ex: _Exchange) -> bool:
        body = success_body(ex.record)
        head = _head(
            200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        _mark(ex)
        await _write(ex, head)
        for i in range(len(body)):
            if ex.stopping.is_set():
                return False
            await _write(ex, body[i : i + 1])
            await asyncio.sleep(self.interval)
        return True


@dataclass(repr=False)
class DripHead(Fault):
    """A valid answer whose status line and headers arrive one byte every `interval` seconds."""

    interval: float = 0.1
    name: str = "drip head"

    async def answer(self, ex: _Exchange) -> bool:
        body = success_body(ex.record)
        head = _head(
            200, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
        )
        _mark(ex)
        for i in range(len(head)):
            if ex.stopping.is_set():
                return False
            await _write(ex, head[i : i + 1])
            await asyncio.sleep(self.interval)
        await _write(ex, body)
        return True


@dataclass(repr=False)
class Flood(Fault):
    """A 200 whose chunked JSON body runs to `total` bytes (an endless list of results).

    `sent` counts the bytes the client accepted before it stopped reading.
    """

    total: int = 64 << 20
    length_header: bool = False
    name: str = "flood"
    sent: int = 0

    async def answer(self, ex: _Exchange) -> bool:
        item = b'{"index": 0, "relevance_score": 0.5},'
        chunk = item * (65536 // len(item))
        headers = [("Content-Type", "application/json")]
        if self.length_header:
            headers.append(("Content-Length", str(self.total)))
        else:
            headers.append(("Transfer-Encoding", "chunked"))
        _mark(ex)
        await _write(ex, _head(200, headers))
        while self.sent < self.total and not ex.stopping.is_set():
            data = chunk if self.length_header else f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
            await _write(ex, data)
            self.sent += len(chunk)
        return False


class _Success(Fault):
    name = "success"

    async def answer(self, ex: _Exchange) -> bool:
        return await Respond(200).answer(ex)


def success_body(record: Recorded) -> bytes:
    """A valid answer to a rerank or embeddings request (400-shaped if it cannot be parsed)."""
    try:
        request = record.json()
    except ValueError:
        request = None
    if not isinstance(request, dict):
        return b'{"error": {"message": "bad request", "type": "invalid_request_error"}}'
    if record.path.endswith("/embeddings"):
        texts = request.get("input")
        texts = [texts] if isinstance(texts, str) else list(texts or [])
        data = [
            {"object": "embedding", "embedding": [1.0, float(len(t)), 0.5], "index": i}
            for i, t in enumerate(texts)
        ]
        payload: dict[str, Any] = {"object": "list", "model": request.get("model"), "data": data}
    else:
        documents = list(request.get("documents") or [])
        top_n = request.get("top_n") or len(documents)
        # Later documents score lower: a deterministic, valid ranking.
        results = [
            {"index": i, "relevance_score": round(1.0 - i / (len(documents) + 1), 6)}
            for i in range(min(top_n, len(documents)))
        ]
        payload = {
            "id": f"fault-{record.index}",
            "object": "rerank",
            "model": request.get("model"),
            "results": results,
            "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1},
        }
    return json.dumps(payload).encode()


def closed_port() -> int:
    """A loopback port with nothing listening (bound, never listened on, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@dataclass
class _State:
    script: deque[Fault] = field(default_factory=deque)
    requests: list[Recorded] = field(default_factory=list)
    connections: int = 0


class FaultServer:
    """A scripted HTTP/1.1 server on 127.0.0.1 with an OS-chosen port, in a daemon thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._state = _State()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.Server | None = None
        self._thread: threading.Thread | None = None
        self._stopping: asyncio.Event | None = None
        self.port = 0

    # -- control, from the test's thread ----------------------------------

    @property
    def base_url(self) -> str:
        """The API base URL, with `/v1`."""
        return f"http://127.0.0.1:{self.port}/v1"

    def script(self, *faults: Fault) -> None:
        """Answer the next requests with `faults`, in order, then validly; forget old requests."""
        with self._lock:
            self._state.script = deque(faults)
            self._state.requests = []

    def always(self, fault: Fault, times: int = 100) -> None:
        """Answer the next `times` requests with `fault`."""
        self.script(*([fault] * times))

    @property
    def requests(self) -> list[Recorded]:
        """Every request received since the last `script`, in arrival order."""
        with self._lock:
            return list(self._state.requests)

    def gaps(self) -> list[float]:
        """For each retry: seconds from the previous answer's start to the retry's arrival."""
        reqs = self.requests
        gaps = []
        for before, after in itertools.pairwise(reqs):
            assert before.answering is not None, f"request {before.index} got no answer"
            gaps.append(after.arrived - before.answering)
        return gaps

    def start(self) -> None:
        """Bind and serve in a background thread; return once listening."""
        ready = threading.Event()
        errors: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            try:
                loop.run_until_complete(self._open())
            except BaseException as exc:
                errors.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(self._close())
                loop.close()

        self._thread = threading.Thread(target=run, name="fault-server", daemon=True)
        self._thread.start()
        if not ready.wait(10) or errors:
            raise RuntimeError(f"fault server did not start: {errors}")

    def stop(self) -> None:
        """Stop serving, end every open connection and join the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- the server, in its own thread -------------------------------------

    async def _open(self) -> None:
        self._stopping = asyncio.Event()
        self._server = await asyncio.start_server(self._connection, "127.0.0.1", 0, limit=_MAX_HEAD)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _close(self) -> None:
        assert self._server is not None
        assert self._stopping is not None
        self._stopping.set()
        self._server.close()
        # Cancel every connection handler, including any accepted while closing.
        current = asyncio.current_task()
        while pending := [task for task in asyncio.all_tasks() if task is not current]:
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        await self._server.wait_closed()

    def _next_fault(self) -> Fault:
        with self._lock:
            return self._state.script.popleft() if self._state.script else _Success()

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert self._stopping is not None
        with self._lock:
            self._state.connections += 1
            connection = self._state.connections
        try:
            while True:
                record = await self._read_request(reader, connection)
                if record is None:
                    break
                fault = self._next_fault()
                record.fault = fault.name
                with self._lock:
                    record.index = len(self._state.requests)
                    self._state.requests.append(record)
                keep = await fault.answer(_Exchange(record, reader, writer, self._stopping))
                if not keep or record.headers.get("connection", "").lower() == "close":
                    break
            writer.close()
            await writer.wait_closed()
        except (ConnectionError, OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            writer.close()
        except asyncio.CancelledError:
            # Shutting down: end quietly (asyncio logs a cancelled handler as an error).
            writer.close()

    async def _read_request(self, reader: asyncio.StreamReader, connection: int) -> Recorded | None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return None
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers: dict[str, str] = {}
        for line in lines[1:]:
            if line:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        return Recorded(
            index=-1,
            connection=connection,
            method=method,
            path=path,
            headers=headers,
            body=body,
            arrived=time.monotonic(),
            arrived_wall=time.time(),
        )
