"""`rerank --queries` prints each answer once it and all before it are done.

A real subprocess reads its queries from a file and talks to a loopback server
that holds the answer to one query until the test lets it go; the test reads
the command's stdout line by line as a pipe would.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

WAIT = 30.0  # the bound of every wait in this module; none is reached when all is well


class HeldServer:
    """Answers rerank requests at once, except those whose query starts with 'slow'."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.answered: set[str] = set()
        held = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                query = body["query"]
                if query.startswith("slow"):
                    held.release.wait(WAIT)
                answer = json.dumps({
                    "id": query, "object": "rerank", "model": body["model"],
                    "results": [{"index": 0, "relevance_score": 1.0}],
                }).encode()  # fmt: skip
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)
                held.answered.add(query)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def wait_answered(self, query: str) -> None:
        deadline = time.monotonic() + WAIT
        while query not in self.answered:
            assert time.monotonic() < deadline, f"{query} was never answered"
            time.sleep(0.05)


@pytest.fixture
def held() -> Iterator[HeldServer]:
    server = HeldServer()
    thread = threading.Thread(target=server.httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.release.set()
        server.httpd.shutdown()
        server.httpd.server_close()
        thread.join(WAIT)


def _start(held: HeldServer, tmp_path: Path) -> subprocess.Popen[bytes]:
    path = tmp_path / "queries.jsonl"
    queries = ["fast0", "slow1", "fast2"]
    path.write_text(
        "".join(json.dumps({"query": q, "documents": ["d"]}) + "\n" for q in queries),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    env["TOGETHER_BASE_URL"] = held.base_url
    return subprocess.Popen(
        [sys.executable, "-m", "together_rerank.cli", "rerank", "--queries", str(path),
         "--concurrency", "3"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
    )  # fmt: skip


@pytest.fixture
def command(
    held: HeldServer, tmp_path: Path
) -> Iterator[tuple[subprocess.Popen[bytes], queue.Queue[bytes]]]:
    proc = _start(held, tmp_path)
    lines: queue.Queue[bytes] = queue.Queue()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:  # line by line, as it arrives through the pipe
            lines.put(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield proc, lines
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(WAIT)
        reader.join(WAIT)
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            stream.close()


def _id(line: bytes) -> str:
    value: str = json.loads(line)["id"]
    return value


def test_answers_stream_in_input_order(
    held: HeldServer, command: tuple[subprocess.Popen[bytes], queue.Queue[bytes]]
) -> None:
    proc, lines = command
    # The first answer is out while the second query is still held by the server.
    assert _id(lines.get(timeout=WAIT)) == "fast0"
    assert not held.release.is_set()
    # The third is done too, but waits for the second: input order.
    held.wait_answered("fast2")
    held.release.set()
    assert [_id(lines.get(timeout=WAIT)), _id(lines.get(timeout=WAIT))] == ["slow1", "fast2"]
    assert proc.wait(WAIT) == 0


def test_an_interrupted_run_keeps_its_finished_lines(
    held: HeldServer, command: tuple[subprocess.Popen[bytes], queue.Queue[bytes]]
) -> None:
    proc, lines = command
    assert _id(lines.get(timeout=WAIT)) == "fast0"
    held.wait_answered("fast2")
    proc.send_signal(signal.SIGINT)
    # Ctrl-C ends the command without waiting for the held query.
    assert proc.wait(WAIT) == 130
    assert not held.release.is_set()
    assert proc.stderr is not None
    assert b"Traceback" not in proc.stderr.read()
    rest = []
    while True:
        try:
            rest.append(lines.get(timeout=1))
        except queue.Empty:
            break
    assert rest == []  # fast2 finished, but after the unfinished slow1: not printed


def test_a_reader_that_goes_away_ends_the_command_quietly(held: HeldServer, tmp_path: Path) -> None:
    proc = _start(held, tmp_path)
    try:
        assert proc.stdout is not None
        assert proc.stderr is not None
        assert _id(proc.stdout.readline()) == "fast0"
        proc.stdout.close()  # as `| head -1` does after its line
        held.release.set()  # the next lines now go to a closed pipe
        # As a process killed by SIGPIPE reports it, and without a traceback.
        assert proc.wait(WAIT) == 128 + signal.SIGPIPE
        assert proc.stderr.read() == b""
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(WAIT)
        if proc.stderr is not None:
            proc.stderr.close()
