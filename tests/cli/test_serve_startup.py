"""`together-rerank serve` as a process: its own exit code when it cannot start, prompt Ctrl-C."""

from __future__ import annotations

import json
import signal
import socket
import time

from together_rerank.cli._common import EXIT_NO_KEY, EXIT_SERVER_START

from .test_cli import run_cli, start_serve

SHUTDOWN_BOUND = 15.0  # LocalServer's grace (5 s) plus start-up slack on a loaded machine


def test_a_busy_port_exits_with_its_own_code_and_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = run_cli("serve", "--port", str(port))
    assert done.returncode == EXIT_SERVER_START != EXIT_NO_KEY
    lines = done.stderr.strip().splitlines()
    assert lines == [
        f"together-rerank: error: cannot listen on 127.0.0.1:{port}: {lines[0].split(': ')[-1]}"
    ]
    assert "in use" in lines[0]


def test_an_unresolvable_host_exits_with_its_own_code_and_one_line() -> None:
    done = run_cli("serve", "--host", "no-such-host.invalid", "--port", "0")
    assert done.returncode == EXIT_SERVER_START
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("together-rerank: error: cannot listen on no-such-host.invalid:0")


def test_ctrl_c_stops_serve_promptly_with_a_half_sent_request_connected() -> None:
    proc, port = start_serve()
    try:
        body = json.dumps({"model": "Salesforce/Llama-Rank-V1", "query": "q", "documents": ["d"]})
        slow = socket.create_connection(("127.0.0.1", port))
        slow.sendall(
            (
                "POST /v1/rerank HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\n\r\n{body[:10]}"
            ).encode()
        )
        idle = socket.create_connection(("127.0.0.1", port))
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        _, stderr = proc.communicate(timeout=SHUTDOWN_BOUND)
        took = time.monotonic() - started
        slow.close()
        idle.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert took < SHUTDOWN_BOUND
    assert "Traceback" not in stderr
    assert "Waiting for connections to close" not in stderr
    assert proc.returncode in (0, 130), stderr
