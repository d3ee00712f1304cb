"""`serve`'s scheduler and token-limit options: checked up front, and they reach the server."""

from __future__ import annotations

import httpx
import pytest

from .test_cli import run_cli, start_serve


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--max-request-tokens", "0"], "--max-request-tokens: must be at least 1"),
        (["--max-batch-tokens", "-5"], "--max-batch-tokens: must be at least 1"),
        (["--max-queue-tokens", "0"], "--max-queue-tokens: must be at least 1"),
        (["--max-batch-wait-ms", "-1"], "--max-batch-wait-ms: must be between 0 and 60000"),
        (["--max-batch-wait-ms", "nan"], "--max-batch-wait-ms: must be between 0 and 60000"),
    ],
)
def test_bad_values_exit_2_naming_the_option(args: list[str], message: str) -> None:
    done = run_cli("serve", *args)
    assert done.returncode == 2
    assert message in done.stderr


def test_max_request_tokens_reaches_the_server() -> None:
    proc, port = start_serve(
        "--model", "r=bm25", "--max-request-tokens", "20", "--max-batch-wait-ms", "0"
    )
    try:
        url = f"http://127.0.0.1:{port}/v1/rerank"
        small = httpx.post(url, json={"model": "r", "query": "a", "documents": ["b c"]}, timeout=10)
        large = httpx.post(
            url, json={"model": "r", "query": "a", "documents": ["b c " * 20]}, timeout=10
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
    assert small.status_code == 200
    assert large.status_code == 400
    assert large.json()["error"]["param"] == "documents"
    assert large.json()["error"]["code"] == "too_many_tokens"
