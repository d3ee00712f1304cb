"""Instructions per small async call, counted by callgrind: AsyncTogether vs bare aiohttp.

Timings on a shared 2-core machine move by +-10 % between runs; instruction
counts do not. Each client sends small rerank calls to the canned server of
`async_transport` (in its own process, not counted) from 16 workers; the
client process runs under `valgrind --tool=callgrind` twice, with 300 and
1,500 calls, and the difference divided by 1,200 is what one call costs,
start-up and imports cancelled out. About half a minute per client.

`python benchmarks/instructions.py` prints the table (needs valgrind);
`--client NAME --calls N` is the measured workload on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.async_transport import PAYLOAD, _measure, canned_server

CLIENTS = ("aiohttp", "AsyncTogether")
WORKERS = 16
RUNS = (300, 1500)


async def _workload(client: str, calls: int, base_url: str) -> None:
    import aiohttp

    from together_rerank import AsyncTogether

    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
    ours = AsyncTogether(base_url=base_url, api_key="bench", timeout=60)
    url = base_url + "/rerank"

    async def bare() -> object:
        async with session.post(url, json=PAYLOAD) as response:
            response.raise_for_status()
            return json.loads(await response.read())

    async def sdk() -> object:
        return await ours.rerank.create(**PAYLOAD)

    send = bare if client == "aiohttp" else sdk
    try:
        # The bench's own driver; its two clock reads per run cancel out in the difference.
        await _measure(send, 200, WORKERS)  # warm: connections open, code paths specialised
        await _measure(send, calls, WORKERS)
    finally:
        await session.close()
        await ours.close()


def workload(client: str, calls: int) -> None:
    """`calls` calls of `client` against a fresh canned server."""
    with canned_server() as base_url:
        asyncio.run(_workload(client, calls, base_url))


def _collected(client: str, calls: int) -> int:
    done = subprocess.run(
        [
            "valgrind",
            "--tool=callgrind",
            "--callgrind-out-file=/dev/null",
            sys.executable,
            __file__,
            "--client",
            client,
            "--calls",
            str(calls),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    found = re.search(r"Collected : (\d+)", done.stderr)
    if found is None:
        raise RuntimeError(f"no callgrind total in its output:\n{done.stderr[-2000:]}")
    return int(found.group(1))


def per_call(client: str) -> float:
    """Instructions per call of `client` (difference of two run lengths)."""
    short, long = (_collected(client, calls) for calls in RUNS)
    return (long - short) / (RUNS[1] - RUNS[0])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--client", choices=CLIENTS)
    parser.add_argument("--calls", type=int, default=100)
    args = parser.parse_args()
    if args.client:
        workload(args.client, args.calls)
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind is not installed: apt-get install valgrind", file=sys.stderr)
        return 2
    counts = {client: per_call(client) for client in CLIENTS}
    for client, count in counts.items():
        print(f"{client:>14}  {count / 1000:8.0f}k instructions per call")
    print(f"{'ratio':>14}  {counts['AsyncTogether'] / counts['aiohttp']:8.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
