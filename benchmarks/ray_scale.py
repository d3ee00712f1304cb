"""Rows per second on Ray Data with 1 and 2 actors, against `create_many` in one process.

The server is a stand-in for the hosted API where latency, not its CPU,
sets the pace: a raw asyncio HTTP server in its own process that waits
`--latency` ms and answers a fixed valid ranking. Every contender reranks the
same rows in the same run; the figures that matter are the ratios.

    python -m benchmarks.ray_scale            # 4,000 rows, latency 50 ms
    python -m benchmarks.ray_scale --quick    # a smoke test

The Ray timings include starting the job's actors (Ray starts new ones for
each dataset), which is what a user's job pays too.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from together_rerank import AsyncTogether

MODEL = "Salesforce/Llama-Rank-V1"
DOCUMENTS = 4
_BODY = json.dumps(
    {
        "object": "rerank",
        "model": MODEL,
        "results": [{"index": i, "relevance_score": 1.0 - i / 10} for i in range(DOCUMENTS)],
    }
).encode()
_RESPONSE = (
    b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
    + f"content-length: {len(_BODY)}\r\n\r\n".encode()
    + _BODY
)


async def _serve(latency: float) -> None:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":", 1)[1])
                await reader.readexactly(length)
                await asyncio.sleep(latency)
                writer.write(_RESPONSE)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(server.sockets[0].getsockname()[1], flush=True)
    async with server:
        await server.serve_forever()


@contextmanager
def latency_server(latency: float) -> Iterator[str]:
    """A base URL served by `_serve` in a child process."""
    with subprocess.Popen(
        [sys.executable, "-m", "benchmarks.ray_scale", "--serve", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
    ) as child:
        try:
            assert child.stdout is not None
            port = int(child.stdout.readline())
            yield f"http://127.0.0.1:{port}/v1"
        finally:
            child.terminate()
            child.wait(10)


@dataclass
class Figure:
    """One contender's result."""

    name: str
    rows: int
    seconds: float
    in_flight: int

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds


def make_rows(count: int) -> list[dict[str, Any]]:
    return [
        {"query": f"query {i}", "documents": [f"document {i}.{j}" for j in range(DOCUMENTS)]}
        for i in range(count)
    ]


def time_create_many(base_url: str, rows: list[dict[str, Any]], concurrency: int) -> Figure:
    async def run() -> float:
        async with AsyncTogether(base_url=base_url) as client:
            start = time.perf_counter()
            await client.rerank.create_many(
                model=MODEL,
                queries=[row["query"] for row in rows],
                documents=[row["documents"] for row in rows],
                max_concurrency=concurrency,
                progress=False,
            )
            return time.perf_counter() - start

    seconds = asyncio.run(run())
    return Figure(
        f"create_many, one process, max_concurrency {concurrency}", len(rows), seconds, concurrency
    )


def time_ray(
    base_url: str, rows: list[dict[str, Any]], actors: int, concurrency: int, batch_size: int
) -> Figure:
    import ray

    from together_rerank.integrations.ray import rerank_dataset

    ds = ray.data.from_items(rows).materialize()
    start = time.perf_counter()
    out = rerank_dataset(
        ds,
        query_column="query",
        documents_column="documents",
        model=MODEL,
        concurrency=actors,
        batch_size=batch_size,
        max_concurrency=concurrency,
        base_url=base_url,
    ).materialize()
    seconds = time.perf_counter() - start
    assert out.count() == len(rows)
    # Ray Data runs up to 4 batches of an async stage at once in each actor.
    return Figure(
        f"Ray Data, {actors} actor{'s' if actors > 1 else ''}, max_concurrency {concurrency}",
        len(rows),
        seconds,
        actors * 4 * concurrency,
    )


def measure(
    base_url: str, rows: int, batch_size: int, *, concurrency: int = 8, warm: bool = True
) -> list[Figure]:
    """Every contender on the same rows; Ray must be initialised by the caller."""
    data = make_rows(rows)
    if warm:  # the first job on a fresh cluster also pays for starting worker processes
        time_ray(base_url, data[: batch_size * 2], 1, concurrency, batch_size)
    return [
        time_create_many(base_url, data, concurrency),
        time_create_many(base_url, data, 4 * concurrency),
        time_ray(base_url, data, 1, concurrency, batch_size),
        time_ray(base_url, data, 2, concurrency, batch_size),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run, for smoke tests")
    parser.add_argument("--latency", type=float, default=0.05, help="server latency, seconds")
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument("--serve", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.serve is not None:
        asyncio.run(_serve(args.serve))
        return 0
    import ray

    rows = 40 if args.quick else args.rows
    started = not ray.is_initialized()  # the smoke test runs inside its own cluster
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
        ray.data.DataContext.get_current().enable_progress_bars = False
    try:
        with latency_server(args.latency) as base_url:
            figures = measure(
                base_url, rows, batch_size=20 if args.quick else 100, warm=not args.quick
            )
    finally:
        if started:
            ray.shutdown()
    base = figures[0].rows_per_second
    print(
        f"{rows} rows x {DOCUMENTS} documents, server latency {args.latency * 1e3:.0f} ms, "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
    )
    for figure in figures:
        print(
            f"{figure.name:<48} {figure.rows_per_second:8.1f} rows/s "
            f"({figure.seconds:6.2f} s, up to {figure.in_flight:3d} in flight) "
            f"{figure.rows_per_second / base:5.2f}x"
        )
    if args.json:
        with open(args.json, "w") as out:
            json.dump([{**asdict(f), "rows_per_second": f.rows_per_second} for f in figures], out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
