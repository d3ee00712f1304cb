"""The model engines' batching scheduler, measured: one or more server versions in one run.

For each server (``together-rerank serve`` in a child process, ``minilm`` on
``bench-minilm``; ``--baseline DIR`` adds the same command run from another
checkout, e.g. a ``git worktree`` of main, through ``PYTHONPATH``):

* tiny rerank: the seed's three rerank requests one after another through the
  server, against scoring them by calling the same model directly in this
  process (median of rounds; target <= 1.15x);
* a 2-document rerank request's p50/p99 latency while a large rerank request
  (``--large`` documents of 50 words, resent back to back) runs, against the
  same request on the idle server;
* embeddings under closed-loop load (aiohttp): C workers each sending one
  request after another of T unique 50-word texts for S seconds; texts/s and
  p50/p99 latency.

    python -m benchmarks.batching --baseline /tmp/main-checkout --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from benchmarks.engines import SEED_REQUESTS, _direct

MODEL = "bench-minilm"
_WORDS = [
    *("river", "mountain", "engine", "ranking", "model", "query", "vector", "latency"),
    *("window", "budget", "token", "planet", "garden", "market", "signal", "bridge"),
    *("harbor", "violin", "copper", "meadow", "lantern", "orbit", "canyon"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class Server:
    """``together-rerank serve`` in a child process, optionally from another checkout."""

    def __init__(self, name: str, checkout: Path | None, extra: list[str]) -> None:
        self.name = name
        self.port = _free_port()
        env = {**os.environ, "TOGETHER_RERANK_SERVER_ENGINES": "semantic"}
        if checkout is not None:
            env["PYTHONPATH"] = str(checkout)
        code = "from together_rerank.cli import main; raise SystemExit(main())"
        command = [sys.executable, "-c", code, "serve", "--port", str(self.port)]
        self.process = subprocess.Popen(
            [*command, "--model", f"{MODEL}=minilm", *extra],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/health", timeout=1).is_success:
                    return
            except httpx.HTTPError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name}: the server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(30)


def tiny_rerank_ms(servers: list[Server], rounds: int) -> dict[str, float]:
    """Median ms per round of the seed requests: each server and the model directly, interleaved.

    The direct calls run in a secondary thread after a warm-up call in the main
    thread, as the servers' forward passes do.
    """
    from sentence_transformers import SentenceTransformer

    from together_rerank.server.engines.minilm import model_path

    score = _direct(SentenceTransformer(str(model_path()), device="cpu", local_files_only=True))
    clients = {s.name: httpx.Client(base_url=s.url, timeout=600) for s in servers}

    def through(name: str) -> None:
        for query, documents in SEED_REQUESTS:
            body = {"model": MODEL, "query": query, "documents": documents}
            clients[name].post("/v1/rerank", json=body).raise_for_status()

    def directly() -> None:
        for query, documents in SEED_REQUESTS:
            score(query, documents)

    calls: dict[str, Callable[[], None]] = {
        "model directly": directly,
        **{name: functools.partial(through, name) for name in clients},
    }
    times: dict[str, list[float]] = {name: [] for name in calls}

    def measure() -> None:
        for round_ in range(rounds + 1):
            for name, call in calls.items():
                started = time.perf_counter()
                call()
                if round_:  # the first round warms up
                    times[name].append(time.perf_counter() - started)

    # As in the servers, whose engines warm up in the main thread before another
    # thread runs the passes: here the first thread to run torch's parallel
    # regions ran them many times slower than a thread started after it.
    directly()
    worker = threading.Thread(target=measure)
    worker.start()
    worker.join()
    for client in clients.values():
        client.close()
    return {name: statistics.median(values) * 1000 for name, values in times.items()}


async def embeddings_load(
    server: Server, concurrency: int, texts: int, seconds: float
) -> dict[str, float]:
    import aiohttp

    counter = itertools.count()
    rng = random.Random(1)
    latencies: list[float] = []
    done = 0
    stop_at = time.monotonic() + seconds

    def text() -> str:
        return f"{next(counter)} " + " ".join(rng.choice(_WORDS) for _ in range(50))

    async def worker(session: aiohttp.ClientSession) -> None:
        nonlocal done
        while time.monotonic() < stop_at:
            body = {"model": MODEL, "input": [text() for _ in range(texts)]}
            started = time.perf_counter()
            async with session.post(f"{server.url}/v1/embeddings", json=body) as response:
                await response.read()
                if response.status != 200:
                    raise RuntimeError(f"{server.name}: HTTP {response.status}")
            latencies.append(time.perf_counter() - started)
            done += texts

    started = time.monotonic()
    timeout = aiohttp.ClientTimeout(total=600)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
    elapsed = time.monotonic() - started
    latencies.sort()
    return {
        "texts_per_s": done / elapsed,
        "p50_s": latencies[len(latencies) // 2],
        "p99_s": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))],
        "requests": len(latencies),
    }


def small_during_large(server: Server, documents: int, seconds: float) -> dict[str, float]:
    """p50/p99 of 2-document rerank requests sent one after another: idle, then while a
    request of `documents` 50-word documents runs (the large request is resent until
    `seconds` have passed)."""
    rng = random.Random(3)
    large = {
        "model": MODEL,
        "query": "which harbor?",
        "documents": [" ".join(rng.choice(_WORDS) for _ in range(50)) for _ in range(documents)],
    }
    small = {"model": MODEL, "query": "which harbor?", "documents": ["a harbor", "a violin"]}

    def p(values: list[float], q: float) -> float:
        values = sorted(values)
        return values[min(len(values) - 1, int(len(values) * q))]

    with httpx.Client(base_url=server.url, timeout=600) as client:
        idle = []
        for _ in range(20):
            started = time.perf_counter()
            client.post("/v1/rerank", json=small).raise_for_status()
            idle.append(time.perf_counter() - started)
        busy: list[float] = []
        stop = threading.Event()

        def keep_large_running() -> None:
            with httpx.Client(base_url=server.url, timeout=600) as other:
                while not stop.is_set():
                    other.post("/v1/rerank", json=large).raise_for_status()

        runner = threading.Thread(target=keep_large_running)
        runner.start()
        time.sleep(1.0)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            client.post("/v1/rerank", json=small).raise_for_status()
            busy.append(time.perf_counter() - started)
        stop.set()
        runner.join()
    return {
        "idle_p50": p(idle, 0.5),
        "idle_p99": p(idle, 0.99),
        "busy_p50": p(busy, 0.5),
        "busy_p99": p(busy, 0.99),
        "busy_n": len(busy),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--baseline", type=Path, help="another checkout to measure first")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument(
        "--large",
        type=int,
        default=300,
        help="documents of the large request in the small-during-large row (0: skip the row)",
    )
    parser.add_argument(
        "--load", default="64x1,8x32", help="concurrency x texts per request, comma-separated"
    )
    args = parser.parse_args()
    loads = [tuple(int(n) for n in item.split("x")) for item in args.load.split(",") if item]
    versions: list[tuple[str, Path | None]] = [("this checkout", None)]
    if args.baseline:
        versions.insert(0, ("baseline", args.baseline.resolve()))
    servers = [Server(name, checkout, []) for name, checkout in versions]
    try:
        tiny = tiny_rerank_ms(servers, args.rounds)
        direct = tiny.pop("model directly")
        print(f"seed rerank requests (3), model called directly: {direct:.1f} ms per round")
        for name, ms in tiny.items():
            print(f"{name}: through the server {ms:.1f} ms per round = {ms / direct:.2f}x")
        for server in servers if args.large else []:
            row = small_during_large(server, args.large, args.seconds)
            print(
                f"{server.name}: 2-document rerank while {args.large} x 50 words run: "
                f"p50 {row['busy_p50'] * 1000:.0f} ms, p99 {row['busy_p99'] * 1000:.0f} ms "
                f"({row['busy_n']:.0f} requests); idle p50 {row['idle_p50'] * 1000:.0f} ms, "
                f"p99 {row['idle_p99'] * 1000:.0f} ms: p99 {row['busy_p99'] / row['idle_p99']:.1f}x"
            )
        # Alternate the servers, twice, so that the machine's drift hits both alike.
        for concurrency, texts in loads:
            for server in servers * 2:
                row = asyncio.run(embeddings_load(server, concurrency, texts, args.seconds))
                print(
                    f"{server.name}: embeddings {concurrency} concurrent x {texts} texts: "
                    f"{row['texts_per_s']:.1f} texts/s, p50 {row['p50_s']:.3f} s, "
                    f"p99 {row['p99_s']:.3f} s ({row['requests']:.0f} requests)"
                )
    finally:
        for server in servers:
            server.stop()


if __name__ == "__main__":
    main()
