"""What `rerank` reads: errors name the file and the real line; UTF-8 with or without a BOM."""

from __future__ import annotations

import codecs
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from together_rerank.server import LocalServer, ServerConfig

from .test_cli import run_cli

# Nothing may be sent for bad input: this port has nothing listening.
NOWHERE = "http://127.0.0.1:9/v1"
MODEL = "pointwise"


@pytest.fixture(scope="module")
def server() -> Iterator[LocalServer]:
    with LocalServer(ServerConfig(models={MODEL: "term-overlap"})) as running:
        yield running


def _run_bytes(*args: str, stdin: bytes, base_url: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TOGETHER_")}
    env["TOGETHER_BASE_URL"] = base_url
    done = subprocess.run(
        [sys.executable, "-m", "together_rerank.cli", *args],
        input=stdin,
        capture_output=True,
        check=False,
        env=env,
        timeout=60,
    )
    stderr = done.stderr.decode("utf-8", "replace")
    assert "Traceback" not in stderr, stderr
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode("utf-8"), stderr
    )


def _line(query: str, documents: list[object]) -> str:
    return json.dumps({"query": query, "documents": documents})


def test_a_bad_document_is_named_by_file_and_real_line(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    lines = [_line("a", ["x"]), "", _line("b", ["y"]), "", _line("c", ["fine", 5])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    done = run_cli("rerank", "--queries", str(path), "-m", MODEL, base_url=NOWHERE)
    assert done.returncode == 2
    # Line 5 of the file (blank lines counted), its own parameter: not the call's documents[2][1].
    assert f"{path}:5: documents[1]" in done.stderr
    assert "documents[2]" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_bad_option_is_named_as_the_option_not_a_line(tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    path.write_text(_line("a", ["x"]) + "\n", encoding="utf-8")
    done = run_cli("rerank", "--queries", str(path), "--top-n", "0", base_url=NOWHERE)
    assert done.returncode == 2
    assert "top_n: must be >= 1" in done.stderr
    assert ":1:" not in done.stderr


def test_invalid_utf8_on_stdin_is_named_by_line() -> None:
    stdin = (_line("a", ["x"]) + "\n\n").encode() + b'{"query": "caf\xe9", "documents": ["x"]}\n'
    done = _run_bytes("rerank", "--queries", "-", stdin=stdin, base_url=NOWHERE)
    assert done.returncode == 2
    assert "<stdin>:3: not UTF-8 text (byte 0xe9" in done.stderr
    assert "queries[" not in done.stderr


def test_invalid_utf8_in_a_documents_file_is_named_by_line(tmp_path: Path) -> None:
    path = tmp_path / "docs.txt"
    path.write_bytes(b"fine\n\xff\xfe bad\n")
    done = run_cli("rerank", "-q", "x", str(path), base_url=NOWHERE)
    assert done.returncode == 2
    assert f"{path}:2: not UTF-8 text (byte 0xff" in done.stderr


def test_a_queries_file_with_a_bom_is_read(server: LocalServer, tmp_path: Path) -> None:
    path = tmp_path / "queries.jsonl"
    text = _line("cat", ["dog", "a cat"]) + "\n" + _line("dog", ["dog", "cat"]) + "\n"
    path.write_bytes(codecs.BOM_UTF8 + text.encode())
    done = run_cli("rerank", "--queries", str(path), "-m", MODEL, base_url=server.base_url)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["results"][0]["index"] for line in done.stdout.splitlines()] == [1, 0]


def test_a_bom_is_not_sent_as_part_of_the_first_document(server: LocalServer) -> None:
    stdin = codecs.BOM_UTF8 + b"apple pie\nbanana\n"
    done = _run_bytes(
        "rerank", "-q", "apple", "-m", MODEL, "--return-documents", "--json", "-",
        stdin=stdin, base_url=server.base_url,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    sent = {r["index"]: r["document"]["text"] for r in json.loads(done.stdout)["results"]}
    assert sent == {0: "apple pie", 1: "banana"}


def test_json_lines_documents_with_a_bom_are_detected_as_json(
    server: LocalServer, tmp_path: Path
) -> None:
    path = tmp_path / "docs.jsonl"
    path.write_bytes(codecs.BOM_UTF8 + b'{"t": "apple"}\n{"t": "pear"}\n')
    done = run_cli(
        "rerank", "-q", "pear", "-m", MODEL, "--rank-fields", "t", "--json", str(path),
        base_url=server.base_url,
    )  # fmt: skip
    # --rank-fields works on JSON objects only: read as text, the call would be refused.
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["results"][0]["index"] == 1
