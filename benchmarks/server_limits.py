"""Small rerank requests while the largest allowed ones run: latency against an idle baseline.

Starts ``together-rerank serve`` (default limits) in its own process, then, in
the same run:

1. idle: small requests (the seed's five documents) one after another;
2. loaded: the same small requests while `--big-clients` threads each send,
   back to back, the costliest request the limits allow (query words x
   documents = ``max_work``);
3. the issue's request (a 20,000-word query against 10,000 documents), which
   the limits refuse: how long the refusal takes.

Prints p50/p90/p99 of each and the loaded/idle ratios. Timings are wall
clock on whatever machine runs it; compare ratios, not absolute figures.

    python -m benchmarks.server_limits            # 20 s per phase
    python -m benchmarks.server_limits --quick    # smoke test
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import threading
import time
from typing import Any

import httpx

from together_rerank.server.config import DEFAULT_MAX_DOCUMENTS, DEFAULT_MAX_WORK

MODEL = "Salesforce/Llama-Rank-V1"
SMALL = {
    "model": MODEL,
    "query": "What is retrieval-augmented generation?",
    "documents": [
        "The weather forecast predicts rain tomorrow.",
        "RAG combines retrieval with generation for more accurate LLM responses.",
        "Python is a popular programming language.",
        "Retrieval-augmented generation uses external knowledge to improve LLM outputs.",
        "The stock market closed higher today.",
    ],
    "top_n": 3,
}


def _big_request() -> dict[str, Any]:
    documents = [f"term{i % 997} other{i % 13}" for i in range(DEFAULT_MAX_DOCUMENTS)]
    n_words = DEFAULT_MAX_WORK // DEFAULT_MAX_DOCUMENTS
    query = " ".join(f"term{i}" for i in range(n_words))
    return {"model": MODEL, "query": query, "documents": documents, "top_n": 3}


def _issue_request() -> dict[str, Any]:
    query = " ".join(f"word{i % 5000}" for i in range(20_000))
    documents = [f"word{i % 5000} x" for i in range(10_000)]
    return {"model": MODEL, "query": query, "documents": documents}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _start_server(port: int) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "together_rerank.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=1)
            return proc
        except httpx.TransportError:
            if time.monotonic() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the server did not start") from None
            time.sleep(0.1)


def _percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    return {
        "n": len(ordered),
        "p50_ms": at(0.50),
        "p90_ms": at(0.90),
        "p99_ms": at(0.99),
        "mean_ms": statistics.fmean(ordered) * 1000,
    }


def _small_latencies(base: str, seconds: float) -> list[float]:
    samples: list[float] = []
    with httpx.Client(base_url=base, timeout=60) as http:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            started = time.perf_counter()
            response = http.post("/rerank", json=SMALL)
            samples.append(time.perf_counter() - started)
            response.raise_for_status()
    return samples


def run(seconds: float, big_clients: int) -> dict[str, Any]:
    """Run the three phases against a fresh server; return the figures."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}/v1"
    proc = _start_server(port)
    try:
        _small_latencies(base, min(1.0, seconds))  # warm up
        idle = _small_latencies(base, seconds)
        big_body = json.dumps(_big_request()).encode()
        stop = threading.Event()
        big: list[float] = []
        statuses: set[int] = set()

        def big_client() -> None:
            headers = {"content-type": "application/json"}
            with httpx.Client(base_url=base, timeout=600) as http:
                while not stop.is_set():
                    started = time.perf_counter()
                    response = http.post("/rerank", content=big_body, headers=headers)
                    big.append(time.perf_counter() - started)
                    statuses.add(response.status_code)

        threads = [threading.Thread(target=big_client) for _ in range(big_clients)]
        for thread in threads:
            thread.start()
        time.sleep(min(1.0, seconds))  # let the big requests get going
        loaded = _small_latencies(base, seconds)
        stop.set()
        for thread in threads:
            thread.join()
        with httpx.Client(base_url=base, timeout=600) as http:
            started = time.perf_counter()
            refused = http.post("/rerank", json=_issue_request())
            refusal = time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(30)
    idle_p, loaded_p = _percentiles(idle), _percentiles(loaded)
    return {
        "seconds_per_phase": seconds,
        "big_clients": big_clients,
        "big_request": {"query_words": DEFAULT_MAX_WORK // DEFAULT_MAX_DOCUMENTS,
                        "documents": DEFAULT_MAX_DOCUMENTS, "body_bytes": len(big_body)},
        "big_statuses": sorted(statuses),
        "small_idle": idle_p,
        "small_loaded": loaded_p,
        "big": _percentiles(big) if big else None,
        "loaded_over_idle_p50": loaded_p["p50_ms"] / idle_p["p50_ms"],
        "loaded_over_idle_p99": loaded_p["p99_ms"] / idle_p["p99_ms"],
        "issue_request": {"status": refused.status_code, "ms": refusal * 1000,
                          "code": refused.json()["error"]["code"]},
    }  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run, for smoke tests")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per phase")
    parser.add_argument("--big-clients", type=int, default=4, help="threads sending big requests")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = parser.parse_args(argv)
    seconds = 1.5 if args.quick else args.seconds
    figures = run(seconds, 1 if args.quick else args.big_clients)
    for phase in ("small_idle", "small_loaded", "big"):
        p = figures[phase]
        if p is not None:
            print(
                f"{phase:<13} n={p['n']:<6} p50 {p['p50_ms']:8.1f} ms  p90 {p['p90_ms']:8.1f} ms"
                f"  p99 {p['p99_ms']:8.1f} ms"
            )
    print(
        f"small loaded/idle: p50 x{figures['loaded_over_idle_p50']:.1f}, "
        f"p99 x{figures['loaded_over_idle_p99']:.1f} "
        f"({figures['big_clients']} big clients, statuses {figures['big_statuses']})"
    )
    issue = figures["issue_request"]
    print(f"issue request: {issue['status']} {issue['code']} in {issue['ms']:.1f} ms")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as out:
            json.dump(figures, out, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
