"""`make bench`'s async transport rows: AsyncTogether against bare aiohttp and bare httpx.

A canned HTTP/1.1 server runs in its own process (a raw asyncio protocol
writing one fixed valid rerank answer, so it costs almost nothing), and four
contenders send small rerank calls to it at concurrency 4, 64 and 256,
interleaved round by round: `AsyncTogether` (its default aiohttp pool),
`AsyncTogether` over a plain `httpx.AsyncClient`, bare `httpx.AsyncClient`
and bare `aiohttp.ClientSession`. Each reports requests per second and the
client process's CPU time per request.

`python benchmarks/async_transport.py` prints the table on its own;
`--serve PORT` is the canned server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

MODEL = "Salesforce/Llama-Rank-V1"
PAYLOAD: dict[str, Any] = {
    "model": MODEL,
    "query": "how do rerankers work",
    "documents": [
        "Rerankers score each document against the query.",
        "Bananas are rich in potassium.",
        "A cross-encoder reads query and document together.",
        "The Eiffel Tower is in Paris.",
        "Reranking reorders retrieved passages by relevance.",
    ],
    "top_n": 3,
}
BODY = json.dumps(
    {
        "id": "canned",
        "object": "rerank",
        "model": MODEL,
        "results": [
            {"index": 4, "relevance_score": 0.91, "document": None},
            {"index": 2, "relevance_score": 0.55, "document": None},
            {"index": 0, "relevance_score": 0.42, "document": None},
        ],
        "usage": {"prompt_tokens": 40, "completion_tokens": 0, "total_tokens": 40},
    }
).encode()
ANSWER = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
    + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
    + BODY
)

CONCURRENCY = (4, 64, 256)
CONTENDERS = ("AsyncTogether", "AsyncTogether+httpx", "httpx", "aiohttp")


# --- the canned server ------------------------------------------------------------------


class _Canned(asyncio.Protocol):
    """Answers every complete HTTP/1.1 request on the connection with `ANSWER`."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = 0
            for line in self.buffer[:end].split(b"\r\n")[1:]:
                name, _, value = line.partition(b":")
                if name.strip().lower() == b"content-length":
                    length = int(value)
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            self.transport.write(ANSWER)


def serve(port: int) -> None:
    """Run the canned server on 127.0.0.1:`port` until killed."""

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(_Canned, "127.0.0.1", port, backlog=1024)
        print("ready", flush=True)
        await server.serve_forever()

    asyncio.run(main())


@contextmanager
def canned_server() -> Iterator[str]:
    """The canned server in a child process; yields its base URL."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [sys.executable, __file__, "--serve", str(port)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the canned server did not start")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


# --- the contenders ---------------------------------------------------------------------


@dataclass
class Figure:
    """One contender at one concurrency: median req/s and CPU ms per request over rounds."""

    rps: float
    cpu_ms: float


async def _measure(send: Callable[[], Awaitable[object]], total: int, concurrency: int) -> Figure:
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await send()

    wall, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return Figure(total / wall, 1000 * cpu / total)


async def _run(base_url: str, total: int, rounds: int) -> dict[int, dict[str, Figure]]:
    import aiohttp
    import httpx

    from together_rerank import AsyncTogether

    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    ours = AsyncTogether(base_url=base_url, api_key="bench", timeout=60)
    ours_httpx = AsyncTogether(
        base_url=base_url,
        api_key="bench",
        http_client=httpx.AsyncClient(limits=limits, timeout=60),
    )
    bare_httpx = httpx.AsyncClient(base_url=base_url + "/", limits=limits, timeout=60)
    bare_aiohttp = aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=256), timeout=aiohttp.ClientTimeout(total=60)
    )
    url = base_url + "/rerank"

    async def send_ours() -> object:
        return await ours.rerank.create(**PAYLOAD)

    async def send_ours_httpx() -> object:
        return await ours_httpx.rerank.create(**PAYLOAD)

    async def send_httpx() -> object:
        response = await bare_httpx.post("rerank", json=PAYLOAD)
        response.raise_for_status()
        return response.json()

    async def send_aiohttp() -> object:
        async with bare_aiohttp.post(url, json=PAYLOAD) as response:
            response.raise_for_status()
            return json.loads(await response.read())

    sends = dict(
        zip(CONTENDERS, (send_ours, send_ours_httpx, send_httpx, send_aiohttp), strict=True)
    )
    figures: dict[int, dict[str, Figure]] = {}
    try:
        for concurrency in CONCURRENCY:
            for send in sends.values():  # warm-up: connections open, code paths hot
                await _measure(send, concurrency * 2, concurrency)
            runs: dict[str, list[Figure]] = {name: [] for name in sends}
            for _ in range(rounds):
                for name, send in sends.items():
                    # The aiohttp-backed contenders run 4x as many calls: at
                    # 10,000 calls/s a run of 1,000 is too short to time steadily.
                    count = total if "httpx" in name else 4 * total
                    runs[name].append(await _measure(send, count, concurrency))
            figures[concurrency] = {
                name: Figure(
                    statistics.median(f.rps for f in values),
                    statistics.median(f.cpu_ms for f in values),
                )
                for name, values in runs.items()
            }
    finally:
        await ours.close()
        await ours_httpx.close()
        await ours_httpx._http.aclose()
        await bare_httpx.aclose()
        await bare_aiohttp.close()
    return figures


def measure(total: int, rounds: int) -> dict[int, dict[str, Figure]]:
    """Every contender at every concurrency, against a fresh canned server."""
    with canned_server() as base_url:
        return asyncio.run(_run(base_url, total, rounds))


def render(figures: dict[int, dict[str, Figure]]) -> str:
    """The full table: req/s and CPU ms per request of each contender."""
    header = f"{'concurrency':>11}  " + "  ".join(f"{name:>22}" for name in CONTENDERS)
    lines = ["async transport, canned server in its own process (req/s | client CPU ms/req)"]
    lines += [header, "-" * len(header)]
    for concurrency, row in figures.items():
        cells = "  ".join(
            f"{row[name].rps:>12.0f} | {row[name].cpu_ms:>6.3f}" for name in CONTENDERS
        )
        lines.append(f"{concurrency:>11}  {cells}")
    return "\n".join(lines)


def rows(quick: bool) -> tuple[list[dict[str, Any]], str]:
    """bench.py's rows (as Row keyword arguments) and the full table."""
    figures = measure(*((64, 1) if quick else (1000, 5)))
    out: list[dict[str, Any]] = []
    for concurrency, row in figures.items():
        ours, base = row["AsyncTogether"], row["aiohttp"]
        target = concurrency in (64, 256)
        others = ", ".join(f"{name} {row[name].rps:.0f}" for name in CONTENDERS[1:3])
        out.append(
            {
                "name": f"async vs bare aiohttp, c={concurrency}",
                "unit": "req/s",
                "ours": ours.rps,
                "baseline": base.rps,
                "target": ">= 0.6x" if target else "none",
                "met": ours.rps / base.rps >= 0.6 or not target,
                "notes": f"higher is better; baseline bare aiohttp; same run: {others} req/s",
            }
        )
        if concurrency == 64:
            out.append(
                {
                    "name": "async client CPU/request vs aiohttp, c=64",
                    "unit": "ms",
                    "ours": ours.cpu_ms,
                    "baseline": base.cpu_ms,
                    "target": "<= 2x",
                    "met": ours.cpu_ms / base.cpu_ms <= 2.0,
                    "notes": "lower is better; client process CPU time per request",
                }
            )
    return out, render(figures)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--serve", type=int, metavar="PORT", help="run the canned server")
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    if args.serve:
        serve(args.serve)
    else:
        print(render(measure(*((64, 1) if args.quick else (1000, 5)))))
