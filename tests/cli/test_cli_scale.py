"""`rerank --queries` (many queries, JSON Lines) and `serve --max-documents`, as users run them."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from together_rerank.server import LocalServer, ServerConfig

from .test_cli import run_cli

MODEL = "pointwise"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(ServerConfig(models={MODEL: "term-overlap"}, max_documents=4)) as running:
        yield running


def _lines(*jobs: object) -> str:
    return "".join(json.dumps(job) + "\n" for job in jobs)


def test_queries_give_one_result_per_line_in_input_order(
    server: LocalServer, tmp_path: Path
) -> None:
    path = tmp_path / "queries.jsonl"
    queries = [f"word{i}" for i in range(12)]
    path.write_text(
        _lines(*({"query": q, "documents": ["other", f"{q} here", "more"]} for q in queries)),
        encoding="utf-8",
    )
    done = run_cli(
        "rerank",
        "--queries",
        str(path),
        "-m",
        MODEL,
        "--return-documents",
        base_url=server.base_url,
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["results"][0]["index"] for r in results] == [1] * 12
    assert [r["results"][0]["document"]["text"] for r in results] == [f"{q} here" for q in queries]


def test_queries_from_stdin_with_batching_past_the_server_limit(server: LocalServer) -> None:
    documents = [f"doc {i} cat" if i % 3 else f"doc {i}" for i in range(10)]
    stdin = _lines(
        {"query": "cat", "documents": documents}, {"query": "doc", "documents": documents[:2]}
    )
    args = ("rerank", "--queries", "-", "-m", MODEL, "--top-n", "3")
    too_many = run_cli(*args, base_url=server.base_url, stdin=stdin)
    assert too_many.returncode == 5
    assert "1 of 2 queries failed (input lines 1)" in too_many.stderr
    first, second = (json.loads(line) for line in too_many.stdout.splitlines())
    assert first["line"] == 1
    assert first["error"]["type"] == "BadRequestError"
    assert len(second["results"]) == 2
    batched = run_cli(
        *args, "--max-documents-per-request", "4", base_url=server.base_url, stdin=stdin
    )
    assert batched.returncode == 0, batched.stderr
    assert len(json.loads(batched.stdout.splitlines()[0])["results"]) == 3


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"query": "x"}\n', "'documents' must be a non-empty list"),
        ('{"query": 1, "documents": ["a"]}\n', "'query' must be a string"),
        ("not json\n", ":1: not valid JSON"),
        ('{"query": "x", "documents": ["a"], "top_n": 1}\n', "nothing else"),
        ("\n", "no queries"),
    ],
)
def test_bad_query_lines_are_named_and_nothing_is_sent(
    tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text(content, encoding="utf-8")
    done = run_cli("rerank", "--queries", str(path), base_url="http://127.0.0.1:9/v1")
    assert done.returncode == 2
    assert message in done.stderr


def test_queries_and_a_single_query_do_not_mix(tmp_path: Path) -> None:
    done = run_cli("rerank", "--queries", "-", "-q", "x", stdin="")
    assert done.returncode == 2
    assert "--queries" in done.stderr
    assert run_cli("rerank", "-q", "x").returncode == 2


def test_serve_max_documents_answers_400_naming_documents() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    command = [sys.executable, "-m", "together_rerank.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(
        [*command, "--max-documents", "3", "--model", "p=term-overlap"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/rerank"
        deadline = time.monotonic() + 20
        while True:
            try:
                reply = httpx.post(
                    url, json={"model": "p", "query": "a", "documents": ["a"] * 4}, timeout=2
                )
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.1)
        assert reply.status_code == 400
        assert reply.json()["error"]["param"] == "documents"
        ok = httpx.post(url, json={"model": "p", "query": "a", "documents": ["a"] * 3}, timeout=2)
        assert ok.status_code == 200
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    assert "Traceback" not in stderr
    bad = run_cli("serve", "--max-documents", "0")
    assert bad.returncode == 2
    assert "--max-documents" in bad.stderr
