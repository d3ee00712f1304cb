"""The benchmarks' local server measures the SDK, so it runs the lexical engines."""

from __future__ import annotations

import httpx
import pytest

from benchmarks import bench


def test_the_bench_server_uses_the_lexical_engines_even_with_the_semantic_extra(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As `make bench` runs it: without the suite's switch to the lexical engines.
    monkeypatch.delenv("TOGETHER_RERANK_SERVER_ENGINES", raising=False)
    with bench.server_process() as base_url:
        models = httpx.get(f"{base_url}/models", timeout=10).json()
    engines = {model["id"]: model["engine"] for model in models}
    assert engines["Salesforce/Llama-Rank-V1"] == "bm25"
