"""`together-rerank` as users run it: a subprocess, loopback HTTP, exit codes, no tracebacks."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from together_rerank.server import LocalServer

SEED_DOCUMENTS = [
    "The weather forecast predicts rain tomorrow.",
    "RAG combines retrieval with generation for more accurate LLM responses.",
    "Python is a popular programming language.",
    "Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
    "The stock market closed higher today.",
]
RAG_QUERY = "What is retrieval-augmented generation?"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def run_cli(
    *args: str, base_url: str | None = None, stdin: str | None = None, api_key: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    if base_url is not None:
        env["TOGETHER_BASE_URL"] = base_url
    if api_key is not None:
        env["TOGETHER_API_KEY"] = api_key
    done = subprocess.run(
        [sys.executable, "-m", "together_rerank.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
        env=env,
        timeout=60,
    )
    assert "Traceback" not in done.stderr, done.stderr
    return done


def start_serve(*args: str) -> tuple[subprocess.Popen[str], int]:
    """Start `together-rerank serve` on a free port; return once it answers /health."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, "-m", "together_rerank.cli", "serve", "--port", str(port), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc, port
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                proc.communicate()
                raise AssertionError("the server did not start") from None
            time.sleep(0.1)


@pytest.fixture
def text_file(tmp_path: Path) -> Path:
    path = tmp_path / "docs.txt"
    path.write_text("\n".join(SEED_DOCUMENTS) + "\n", encoding="utf-8")
    return path


def test_help_for_every_command() -> None:
    for args in ([], ["serve"], ["rerank"], ["check"]):
        done = run_cli(*args, "--help")
        assert done.returncode == 0
        assert "usage: together-rerank" in done.stdout


def test_rerank_prints_a_ranked_table(server: LocalServer, text_file: Path) -> None:
    done = run_cli(
        "rerank", "--query", RAG_QUERY, "--top-n", "2", str(text_file), base_url=server.base_url
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].split() == ["rank", "score", "line", "document"]
    assert len(lines) == 3
    # Ranks 1 and 2 are the two RAG documents, on lines 2 and 4 of the file.
    assert {lines[1].split()[2], lines[2].split()[2]} == {"2", "4"}
    assert [line.split()[0] for line in lines[1:]] == ["1", "2"]


def test_rerank_json_output_is_the_response(server: LocalServer, text_file: Path) -> None:
    done = run_cli("rerank", "-q", RAG_QUERY, "--json", str(text_file), base_url=server.base_url)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["object"] == "rerank"
    assert sorted(result["index"] for result in body["results"]) == list(range(5))
    scores = [result["relevance_score"] for result in body["results"]]
    assert scores == sorted(scores, reverse=True)


def test_rerank_reads_json_lines_from_stdin_with_rank_fields(server: LocalServer) -> None:
    lines = [
        {"title": "Cooking Recipes", "body": "Learn to make delicious pasta at home."},
        {"title": "PyTorch Guide", "body": "PyTorch is an open-source deep learning framework."},
    ]
    stdin = "\n".join(json.dumps(line) for line in lines) + "\n"
    done = run_cli(
        "rerank", "-q", "deep learning frameworks", "--rank-fields", "title,body",
        "--return-documents", "--json", "-", base_url=server.base_url, stdin=stdin,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)["results"]
    assert results[0]["index"] == 1
    assert json.loads(results[0]["document"]["text"]) == lines[1]


def test_blank_lines_are_not_documents_and_lines_are_reported(
    server: LocalServer, tmp_path: Path
) -> None:
    path = tmp_path / "gaps.txt"
    path.write_text("\nretrieval augmented generation\n\n\nweather\n", encoding="utf-8")
    done = run_cli("rerank", "-q", "retrieval", str(path), base_url=server.base_url)
    assert done.returncode == 0, done.stderr
    rows = [line.split() for line in done.stdout.splitlines()[1:]]
    assert [row[2] for row in rows] == ["2", "5"]


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("", [], "no documents"),
        ('{"title": "a"}\nnot json\n', [], ":2: not valid JSON"),
        ('{"title": "a"}\n[1, 2]\n', [], ":2: a JSON Lines document must be an object"),
        ("a\nb\n", ["--top-n", "0"], "top_n"),
        ("a\nb\n", ["--rank-fields", "title"], "rank_fields"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    server: LocalServer, tmp_path: Path, content: str, args: list[str], message: str
) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content, encoding="utf-8")
    done = run_cli("rerank", "-q", "x", *args, str(path), base_url=server.base_url)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_file_exits_2(tmp_path: Path) -> None:
    done = run_cli(
        "rerank", "-q", "x", str(tmp_path / "absent.txt"), base_url="http://127.0.0.1:9/v1"
    )
    assert done.returncode == 2
    assert "absent.txt" in done.stderr


def test_no_api_key_for_the_hosted_api_exits_3(text_file: Path) -> None:
    done = run_cli("rerank", "-q", "x", str(text_file))
    assert done.returncode == 3
    assert "TOGETHER_API_KEY" in done.stderr


def test_unreachable_server_exits_4(text_file: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    done = run_cli("rerank", "-q", "x", str(text_file), base_url=f"http://127.0.0.1:{port}/v1")
    assert done.returncode == 4
    assert "cannot reach" in done.stderr


def test_server_error_exits_5(server: LocalServer, text_file: Path) -> None:
    done = run_cli(
        "rerank", "-q", "x", "-m", "no/such-model", str(text_file), base_url=server.base_url
    )
    assert done.returncode == 5
    assert "404" in done.stderr


def test_api_key_is_sent_and_never_printed(text_file: Path) -> None:
    from together_rerank.server import ServerConfig

    with LocalServer(ServerConfig(api_key="sk-CLI-SECRET")) as guarded:
        wrong = run_cli(
            "rerank", "-q", "x", str(text_file), base_url=guarded.base_url, api_key="sk-WRONG"
        )
        right = run_cli(
            "rerank", "-q", "x", str(text_file), base_url=guarded.base_url, api_key="sk-CLI-SECRET"
        )
    assert wrong.returncode == 5
    assert "401" in wrong.stderr
    assert "sk-WRONG" not in wrong.stderr + wrong.stdout
    assert right.returncode == 0
    assert "sk-CLI-SECRET" not in right.stderr + right.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--model", "x=colbert"], "unknown engine"),
        (["--api-key", ""], "--api-key"),
        (["--port", "70000"], "--port"),
    ],
)
def test_serve_rejects_bad_options(args: list[str], message: str) -> None:
    done = run_cli("serve", *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_serve_serves_until_stopped() -> None:
    proc, port = start_serve("--model", "my/ranker=bm25")
    try:
        models = httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=10)
        served = {model["id"]: model["engine"] for model in models.json()}
        assert served["my/ranker"] == "bm25"
        assert served["Salesforce/Llama-Rank-V1"] == "bm25"
    finally:
        proc.terminate()
        _, stderr = proc.communicate(timeout=20)
    assert "Traceback" not in stderr
