"""benchmarks/serving.py's pieces: the closed-loop client, its quantiles and the printed table."""

from __future__ import annotations

import asyncio

from benchmarks.serving import Load, _row, closed_loop, table, text
from together_rerank.server import LocalServer, ServerConfig


def test_texts_are_unique_and_50_words() -> None:
    texts = [text() for _ in range(200)]
    assert len(set(texts)) == 200
    assert {len(t.split()) for t in texts} == {50}


def test_the_closed_loop_counts_answered_texts_and_failures_apart() -> None:
    config = ServerConfig(models={"m": "bm25", "e": "hashed-ngrams"})
    with LocalServer(config) as server:
        good = asyncio.run(
            closed_loop(
                f"{server.base_url}/embeddings",
                lambda: {"model": "e", "input": [text(), text()]},
                concurrency=4,
                seconds=0.3,
                texts_per_request=2,
            )
        )
        bad = asyncio.run(
            closed_loop(
                f"{server.base_url}/embeddings",
                lambda: {"model": "nope", "input": [text()]},
                concurrency=2,
                seconds=0.1,
                texts_per_request=1,
            )
        )
    assert len(good.latencies) >= 4
    assert good.failures == {}
    assert good.texts_per_second > 0
    assert bad.latencies == []
    assert bad.texts_per_second == 0
    assert set(bad.failures) == {404}


def test_quantiles_of_the_latencies() -> None:
    load = Load(1.0, [i / 100 for i in range(1, 101)])
    assert load.quantile(0.5) == 0.505
    assert round(load.quantile(0.99), 4) == 0.9901
    assert Load(1.0, [0.25]).quantile(0.99) == 0.25


def test_the_table_shows_ratio_target_and_verdict() -> None:
    rows = [
        {
            "name": "a",
            "unit": "ms",
            "ours": 50.0,
            "baseline": 100.0,
            "target": "<= 1.0x",
            "met": True,
        },
        {"name": "b", "unit": "s", "ours": 3.0, "baseline": 1.0, "target": "(info)", "met": True},
    ]
    lines = table(rows).splitlines()
    assert lines[2].split() == ["a", "ms", "50.0", "100.0", "0.50x", "<=", "1.0x", "yes"]
    assert lines[3].split()[-2:] == ["(info)", "-"]


def test_a_row_is_met_by_its_ratio_against_the_target() -> None:
    assert _row("t", "texts/s", 130.0, 100.0, ">= 1.2x", "")["met"]
    assert not _row("t", "texts/s", 110.0, 100.0, ">= 1.2x", "")["met"]
    assert _row("p", "ms", 100.0, 100.0, "<= 1.0x", "")["met"]
    assert not _row("p", "ms", 101.0, 100.0, "<= 1.0x", "")["met"]
    assert _row("c", "s", 9.0, 1.0, "(info)", "")["met"]
