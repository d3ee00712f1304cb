"""The short form of `make load`, and the connection bound the SDK's pool must keep.

No timing is asserted here: only that no call failed and that the client
never held more connections than its pool allows. The figures go to stdout
(`pytest -s`); docs/reliability.md holds those of a full run.
"""

from __future__ import annotations

import asyncio
import gc
import json
import os
import socket
from collections.abc import Iterator

import httpx
import pytest

from benchmarks.load import ServerProcess, established_connections, main, run_load
from together_rerank._client import DEFAULT_LIMITS
from together_rerank.server import LocalServer


@pytest.fixture(scope="module")
def child_server() -> Iterator[ServerProcess]:
    with ServerProcess("cli") as server:
        yield server


def test_short_load_through_the_script(capsys: pytest.CaptureFixture[str]) -> None:
    """`python -m benchmarks.load --concurrency 8 --duration 3 --json`, in-process."""
    status = main(["--concurrency", "8", "--duration", "3", "--json"])
    out = capsys.readouterr().out
    report = json.loads(out)
    with capsys.disabled():
        print(f"\nshort load: {json.dumps(report)}")
    assert report["errors"] == 0, report["errors_by_type"]
    assert report["requests"] > 0
    connections = report["connections"]
    assert connections["pool_max_connections"] == DEFAULT_LIMITS.max_connections
    # At least one connection was seen (the counter works), never more than the pool.
    assert 1 <= connections["max_established"] <= connections["pool_max_connections"]
    assert status == 0


def test_pool_limit_is_kept_under_more_callers_than_connections(
    child_server: ServerProcess,
) -> None:
    """16 callers through a 4-connection pool: they queue for connections, none fails."""
    report = asyncio.run(
        run_load(
            child_server.base_url,
            server_pid=child_server.pid,
            server_port=child_server.port,
            concurrency=16,
            duration=2.0,
            max_connections=4,
        )
    )
    assert report.errors == 0, report.errors_by_type
    assert report.requests > 0
    assert 1 <= report.connections["max_established"] <= 4


def test_connection_counter_sees_open_connections(child_server: ServerProcess) -> None:
    """The /proc reader counts this process's connections to the server, and only those."""
    me = os.getpid()
    assert established_connections(me, child_server.port) == 0
    with httpx.Client() as first, httpx.Client() as second:
        first.get(f"{child_server.base_url}/models")
        second.get(f"{child_server.base_url}/models")
        assert established_connections(me, child_server.port) == 2


def _accepted_sockets(port: int) -> list[socket.socket]:
    found = []
    for obj in gc.get_objects():
        if isinstance(obj, socket.socket) and obj.fileno() != -1:
            try:
                local = obj.getsockname()
                obj.getpeername()
            except OSError:
                continue
            if isinstance(local, tuple) and local[1] == port:
                found.append(obj)
    return found


def test_local_server_connections_disable_nagle() -> None:
    """Every connection `LocalServer` accepts must have TCP_NODELAY set.

    uvicorn writes a response's head and body separately; with Nagle's algorithm
    on, the body waits for the client's delayed ACK, ~40 ms per request on a
    kept-alive connection. asyncio sets TCP_NODELAY only on sockets whose
    `proto` is IPPROTO_TCP, and `LocalServer` binds with proto 0. Fails until
    `LocalServer` binds a TCP socket (see docs/reliability.md, "Findings").
    """
    with LocalServer() as server, httpx.Client() as http:
        http.get(f"{server.root_url}/health")
        accepted = _accepted_sockets(server.port)
        assert accepted, "no accepted connection found"
        for sock in accepted:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
