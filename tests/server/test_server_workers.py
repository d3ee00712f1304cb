"""`together-rerank serve --workers N`: N real processes on one port, stopped together."""

from __future__ import annotations

import contextlib
import os
import re
import selectors
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from together_rerank.cli._common import EXIT_BAD_INPUT, EXIT_SERVER_START
from together_rerank.server.runner import engines_without_workers

from .support import rerank_body

BOUND = 20.0  # seconds any start or stop may take on a loaded 2-core machine
SERVE = [sys.executable, "-m", "together_rerank.cli", "serve"]
SERVING = re.compile(r"serving on http://127\.0\.0\.1:(\d+)/v1")

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="--workers needs os.fork")


def children(pid: int) -> set[int]:
    """The live (not zombie) child processes of `pid`, from /proc."""
    found = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        if int(ppid) == pid and state != "Z":
            found.add(int(entry.name))
    return found


def wait_for(condition: object, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not callable(condition) or not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


class Serve:
    """`together-rerank serve --port 0 --workers N` as a process, its port read from its log."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "TOGETHER_RERANK_SERVER_ENGINES": "lexical"}
        self.proc = subprocess.Popen(
            [*SERVE, "--port", "0", *args],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=env,
        )
        self.log = ""
        self.port = int(self.read_until(SERVING).group(1))

    def read_until(self, pattern: re.Pattern[str]) -> re.Match[str]:
        assert self.proc.stderr is not None
        deadline = time.monotonic() + BOUND
        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stderr, selectors.EVENT_READ)
            while (found := pattern.search(self.log)) is None:
                if time.monotonic() > deadline or not selector.select(deadline - time.monotonic()):
                    raise AssertionError(f"no {pattern.pattern!r} in the log:\n{self.log}")
                chunk = os.read(self.proc.stderr.fileno(), 65536)
                if not chunk:
                    raise AssertionError(f"serve exited ({self.proc.wait()}):\n{self.log}")
                self.log += chunk.decode()
        return found

    def workers(self, count: int) -> set[int]:
        wait_for(lambda: len(children(self.proc.pid)) == count, f"{count} workers")
        self.read_until(re.compile(rf"(?s)(Started server process.*){{{count}}}"))
        return children(self.proc.pid)

    def finish(self) -> tuple[int, str]:
        _, rest = self.proc.communicate(timeout=BOUND)
        return self.proc.returncode, self.log + rest.decode()

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


@pytest.fixture
def two() -> Iterator[Serve]:
    server = Serve("--workers", "2")
    try:
        yield server
    finally:
        for pid in children(server.proc.pid):
            os.kill(pid, signal.SIGKILL)
        server.kill()


def answers(port: int, count: int = 3) -> list[int]:
    """Status codes of `count` rerank requests, each on a new connection."""
    statuses = []
    for _ in range(count):
        with httpx.Client(timeout=BOUND) as client:
            response = client.post(f"http://127.0.0.1:{port}/v1/rerank", json=rerank_body())
            statuses.append(response.status_code)
    return statuses


def listening_sockets(port: int) -> set[int]:
    """Inodes of the loopback IPv4 sockets listening on `port`, from /proc/net/tcp."""
    found = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == f"0100007F:{port:04X}" and fields[3] == "0A":  # 0A: LISTEN
            found.add(int(fields[9]))
    return found


def sockets_of(pid: int) -> set[int]:
    """Inodes of the sockets process `pid` holds open."""
    found = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            target = os.readlink(fd)
            if target.startswith("socket:["):
                found.add(int(target[len("socket:[") : -1]))
    return found


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="one shared socket without it")
def test_each_worker_accepts_on_its_own_socket_of_the_one_port(two: Serve) -> None:
    workers = two.workers(2)
    listening = listening_sockets(two.port)
    assert len(listening) == 2
    wait_for(lambda: all(len(sockets_of(pid) & listening) == 1 for pid in workers), "own sockets")
    # Each worker holds exactly one of them, a different one: the kernel spreads
    # connections over the sockets, so no worker can take every connection.
    held = [sockets_of(pid) & listening for pid in workers]
    assert sorted(len(h) for h in held) == [1, 1]
    assert held[0] != held[1]
    assert answers(two.port, 6) == [200] * 6


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_serve_ends_every_worker_and_exits_0(two: Serve, signum: int) -> None:
    workers = two.workers(2)
    two.proc.send_signal(signum)
    code, log = two.finish()
    assert code == 0, log
    assert "Traceback" not in log
    assert all(not Path(f"/proc/{pid}").exists() for pid in workers)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError):
        probe.connect(("127.0.0.1", two.port))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_do_not_outlive_a_killed_serve(two: Serve) -> None:
    workers = two.workers(2)
    two.proc.kill()
    two.proc.wait(BOUND)
    wait_for(lambda: not any(Path(f"/proc/{pid}").exists() for pid in workers), "no orphans")


def test_a_worker_that_dies_is_replaced_on_its_socket(two: Serve) -> None:
    first, second = sorted(two.workers(2))
    its_socket = sockets_of(first) & listening_sockets(two.port)
    os.kill(first, signal.SIGKILL)
    two.read_until(re.compile(rf"worker \d \(pid {first}\) exited with -9; starting another"))
    replaced = two.workers(2)
    assert second in replaced
    assert first not in replaced
    (new,) = replaced - {second}
    wait_for(
        lambda: sockets_of(new) & listening_sockets(two.port) == its_socket,
        "the new worker on its predecessor's socket alone",
    )
    assert answers(two.port, 6) == [200] * 6


def test_a_busy_port_exits_7_with_one_line_and_starts_no_worker() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*SERVE, "--port", str(port), "--workers", "3"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
            env={**os.environ, "TOGETHER_RERANK_SERVER_ENGINES": "lexical"},
        )
    assert done.returncode == EXIT_SERVER_START
    assert done.stderr.strip().splitlines() == [
        f"together-rerank: error: cannot listen on 127.0.0.1:{port}: Address already in use"
    ]
    assert "Started server process" not in done.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--workers", "0"], "--workers: must be at least 1, got 0"),
        (
            ["--workers", "2", "--model", "mine=cross-encoder:/nowhere"],
            "--workers: several processes serve only the lexical engines, not "
            "cross-encoder:/nowhere",
        ),
    ],
)
def test_workers_refused_before_anything_starts(args: list[str], message: str) -> None:
    done = subprocess.run(
        [*SERVE, "--port", "0", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "TOGETHER_RERANK_SERVER_ENGINES": "lexical"},
    )
    assert done.returncode == EXIT_BAD_INPUT
    assert message in done.stderr
    assert "serving on" not in done.stderr


def test_only_model_engines_are_refused() -> None:
    models = {
        "a": "bm25",
        "b": "term-overlap",
        "c": "hashed-ngrams",
        "d": "minilm",
        "e": "cross-encoder:/m",
    }
    assert engines_without_workers(models) == ["cross-encoder:/m", "minilm"]
    assert engines_without_workers({"a": "bm25", "c": "hashed-ngrams"}) == []
