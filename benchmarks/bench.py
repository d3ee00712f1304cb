"""`make bench`: what this SDK costs per call, as ratios to a bare httpx baseline in the same run.

Rows (see docs/performance.md):
1. small call: 5 string documents, top_n=3, over an in-process MockTransport;
2. large call: 1,000 object documents of ~1 KB, rank_fields, return_documents
   (a ~1.2 MB response), same transport;
3. async throughput: 2,000 requests at concurrency 64 against the local server
   on loopback (in its own process);
4. import time of `together_rerank` vs `import httpx, pydantic`;
5. peak extra memory of the large call, against the response size;
6. the scale rows of `benchmarks/scale.py`: auto-batching, create_many, CachePlugin;
7. benchmarks/async_transport.py: AsyncTogether vs bare aiohttp (and bare
   httpx) against a canned server in its own process, concurrency 4/64/256;
8. benchmarks/serving.py: our server beside infinity-emb on the same MiniLM
   directory under the same closed-loop load (``--no-serving`` leaves it out).
The official `together` SDK joins rows 1-4 when it is installed (`pip install
'together-rerank[bench]'`). `--quick` runs a small version as a smoke test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import importlib.util
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx

from together_rerank import AsyncTogether, Together

MODEL = "Salesforce/Llama-Rank-V1"
HAS_OFFICIAL = importlib.util.find_spec("together") is not None


@dataclass
class Case:
    """One rerank call and the fixed response the mock server gives it."""

    documents: list[str] | list[dict[str, Any]]
    options: dict[str, Any]
    response: bytes


@dataclass
class Row:
    """One line of the table: our figure, the baseline's, their ratio and the target."""

    name: str
    unit: str
    ours: float
    baseline: float
    target: str
    met: bool
    official: float | None = None
    notes: str = ""

    @property
    def ratio(self) -> float:
        return self.ours / self.baseline


@dataclass
class Report:
    """Everything one run measured, with the machine it ran on."""

    machine: dict[str, str]
    rows: list[Row] = field(default_factory=list)


def small_case() -> Case:
    documents = [f"Document {i} about reranking search results." for i in range(5)]
    results = [{"index": i, "relevance_score": 0.9 - 0.1 * i} for i in range(3)]
    return Case(documents, {"top_n": 3}, _response(results))


def large_case() -> Case:
    filler = "Rerankers reorder retrieved passages by their relevance to the query. "
    documents: list[dict[str, Any]] = [
        {"id": i, "title": f"Passage {i}", "body": (filler * 15)[:1000], "source": "bench"}
        for i in range(1000)
    ]
    results = [
        {
            "index": i,
            "relevance_score": 1.0 - i / 1000,
            "document": {"text": json.dumps(doc, separators=(",", ":"))},
        }
        for i, doc in enumerate(documents)
    ]
    options = {"rank_fields": ["title", "body"], "return_documents": True}
    return Case(documents, options, _response(results))


def _response(results: list[dict[str, Any]]) -> bytes:
    body = {
        "id": "bench",
        "object": "rerank",
        "model": MODEL,
        "results": results,
        "usage": {"prompt_tokens": 100, "completion_tokens": 0, "total_tokens": 100},
    }
    return json.dumps(body).encode()


def mock_transport(case: Case) -> httpx.MockTransport:
    headers = {"content-type": "application/json"}
    return httpx.MockTransport(
        lambda request: httpx.Response(200, content=case.response, headers=headers)
    )


def contenders(case: Case) -> dict[str, Callable[[], object]]:
    """The calls to compare, each making the same request over the same kind of transport."""
    payload: dict[str, Any] = {
        "model": MODEL,
        "query": "how do rerankers work",
        "documents": case.documents,
    }
    payload.update(case.options)
    bare = httpx.Client(transport=mock_transport(case), base_url="http://bench.local/v1/")
    ours = Together(
        api_key="bench",
        base_url="http://bench.local/v1",
        http_client=httpx.Client(transport=mock_transport(case)),
    )
    calls: dict[str, Callable[[], object]] = {
        "httpx": lambda: bare.post("rerank", json=payload).json(),
        "together_rerank": lambda: ours.rerank.create(**payload),
    }
    if HAS_OFFICIAL:
        import together  # type: ignore[import-not-found, unused-ignore]

        official = together.Together(
            api_key="bench",
            base_url="http://bench.local",
            http_client=httpx.Client(transport=mock_transport(case)),
        )
        calls["together"] = lambda: official.rerank.create(**payload)
    return calls


def time_per_call(
    calls: dict[str, Callable[[], object]], rounds: int, per_round: int
) -> dict[str, float]:
    """Median seconds per call; contenders alternate round by round so drift hits all alike."""
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for call in calls.values():
        for _ in range(max(3, per_round // 4)):
            call()
    for _ in range(rounds):
        for name, call in calls.items():
            gc.collect()
            start = time.perf_counter()
            for _ in range(per_round):
                call()
            samples[name].append((time.perf_counter() - start) / per_round)
    return {name: statistics.median(values) for name, values in samples.items()}


def call_row(name: str, case: Case, target: float, rounds: int, per_round: int) -> Row:
    times = time_per_call(contenders(case), rounds, per_round)
    ours, base = times["together_rerank"], times["httpx"]
    official = times.get("together")
    return Row(
        name=name,
        unit="us/call",
        ours=ours * 1e6,
        baseline=base * 1e6,
        official=None if official is None else official * 1e6,
        target=f"<= {target}x",
        met=ours / base <= target,
    )


# --- async throughput against the local server -------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


# The rows against the local server measure the SDK, not a model: with the semantic
# extra installed the default engine would make the server the bottleneck.
LEXICAL_SERVER_ENV = {**os.environ, "TOGETHER_RERANK_SERVER_ENGINES": "lexical"}


@contextlib.contextmanager
def server_process(*serve_args: str, startup_seconds: float = 20) -> Iterator[str]:
    """The local server in its own process (so it does not share our GIL); yields its base URL."""
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "together_rerank.cli", "serve", "--port", str(port), *serve_args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env=LEXICAL_SERVER_ENV,
    )
    root = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + startup_seconds
        while True:
            try:
                if httpx.get(f"{root}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("the local server did not start")
            time.sleep(0.05)
        yield f"{root}/v1"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


async def _throughput(send: Callable[[], Any], total: int, concurrency: int) -> float:
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await send()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - start)


async def _async_contenders(
    base_url: str, total: int, concurrency: int, rounds: int
) -> dict[str, float]:
    case = small_case()
    payload: dict[str, Any] = {
        "model": MODEL,
        "query": "how do rerankers work",
        "documents": case.documents,
        "top_n": 3,
    }
    limits = httpx.Limits(max_connections=256, max_keepalive_connections=64)
    bare = httpx.AsyncClient(base_url=base_url + "/", limits=limits, timeout=60)
    ours = AsyncTogether(
        base_url=base_url, http_client=httpx.AsyncClient(limits=limits, timeout=60)
    )

    async def send_bare() -> object:
        response = await bare.post("rerank", json=payload)
        response.raise_for_status()
        return response.json()

    async def send_ours() -> object:
        return await ours.rerank.create(**payload)

    sends: dict[str, Callable[[], Any]] = {"httpx": send_bare, "together_rerank": send_ours}
    if HAS_OFFICIAL:
        import together

        official = together.AsyncTogether(
            api_key="bench",
            base_url=base_url.removesuffix("/v1"),
            http_client=httpx.AsyncClient(limits=limits, timeout=60),
        )

        async def send_official() -> object:
            return await official.rerank.create(**payload)

        sends["together"] = send_official
    for send in sends.values():
        await _throughput(send, concurrency * 2, concurrency)
    best: dict[str, list[float]] = {name: [] for name in sends}
    for _ in range(rounds):
        for name, send in sends.items():
            best[name].append(await _throughput(send, total, concurrency))
    return {name: statistics.median(values) for name, values in best.items()}


def throughput_row(total: int, concurrency: int, rounds: int) -> Row:
    with server_process() as base_url:
        rates = asyncio.run(_async_contenders(base_url, total, concurrency, rounds))
    ours, base = rates["together_rerank"], rates["httpx"]
    return Row(
        name=f"async throughput ({total} req, concurrency {concurrency})",
        unit="req/s",
        ours=ours,
        baseline=base,
        official=rates.get("together"),
        target=">= 0.97x",
        met=ours / base >= 0.97,
        notes="higher is better",
    )


# --- import time and memory, each in a fresh interpreter ---------------------------------


def _import_seconds(statement: str, runs: int) -> float:
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    times = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(runs)
    ]
    return statistics.median(times)


def import_row(runs: int) -> Row:
    ours = _import_seconds("from together_rerank import Together", runs)
    base = _import_seconds("import httpx, pydantic", runs)
    official = _import_seconds("from together import Together", runs) if HAS_OFFICIAL else None
    return Row(
        name="import time",
        unit="ms",
        ours=ours * 1e3,
        baseline=base * 1e3,
        official=None if official is None else official * 1e3,
        target="<= 1.4x",
        met=ours / base <= 1.4,
        notes="baseline: import httpx, pydantic",
    )


# The SDK loads its response types and the generated models on first use, so
# the import row alone would flatter it: this row charges that first use.
_FIRST_CALL = {
    "ours": (
        "from together_rerank import Together; import httpx, bench; case = bench.small_case(); "
        "Together(api_key='b', base_url='http://bench.local/v1', "
        "http_client=httpx.Client(transport=bench.mock_transport(case)))"
        ".rerank.create(model='m', query='q', documents=case.documents, top_n=3)"
    ),
    "baseline": (
        "import httpx, pydantic, bench; case = bench.small_case(); "
        "httpx.Client(transport=bench.mock_transport(case)).post('http://bench.local/v1/rerank', "
        "json={'model': 'm', 'query': 'q', 'documents': case.documents, 'top_n': 3}).json()"
    ),
}


def first_call_row(runs: int) -> Row:
    bench_dir = os.path.dirname(os.path.abspath(__file__))
    prefix = f"import sys; sys.path.insert(0, {bench_dir!r}); "
    times = {
        name: _import_seconds(prefix + statement, runs) for name, statement in _FIRST_CALL.items()
    }
    return Row(
        name="import + first small call",
        unit="ms",
        ours=times["ours"] * 1e3,
        baseline=times["baseline"] * 1e3,
        target="(info)",
        met=True,
        notes="baseline: import httpx, pydantic + one bare call",
    )


_MEMORY_PROBE = """
import json, sys, tracemalloc
sys.path.insert(0, {bench_dir!r})
import bench
case = bench.large_case()
call = bench.contenders(case)["together_rerank"]
call()
tracemalloc.start()
call()
_, peak = tracemalloc.get_traced_memory()
print(json.dumps({{"peak": peak, "response": len(case.response)}}))
"""


def memory_row() -> Row:
    code = _MEMORY_PROBE.format(bench_dir=os.path.dirname(os.path.abspath(__file__)))
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    figures = json.loads(out)
    return Row(
        name="peak extra memory, large call",
        unit="MB",
        ours=figures["peak"] / 1e6,
        baseline=figures["response"] / 1e6,
        target="<= 3x",
        met=figures["peak"] <= 3 * figures["response"],
        notes="baseline: the response size; tracemalloc peak during one call",
    )


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as info:
        cpu = next(
            (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu
        )
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "python": platform.python_version(),
        "httpx": httpx.__version__,
        "official together SDK": "installed" if HAS_OFFICIAL else "not installed",
    }


def run(quick: bool, serving: bool = True) -> Report:
    """Measure every row; `quick` makes each small enough for a smoke test."""
    report = Report(machine=machine())
    report.rows.append(
        call_row("small call (5 documents)", small_case(), 1.2, *((3, 20) if quick else (15, 400)))
    )
    report.rows.append(
        call_row(
            "large call (1,000 documents)", large_case(), 0.6, *((2, 2) if quick else (15, 10))
        )
    )
    report.rows.append(throughput_row(*((64, 8, 1) if quick else (2000, 64, 3))))
    report.rows.append(import_row(3 if quick else 11))
    report.rows.append(first_call_row(3 if quick else 11))
    report.rows.append(memory_row())
    report.rows += [Row(**fields) for fields in _scale_rows(quick)]
    report.rows += async_transport_rows(quick)
    # The semantic engine's rows (benchmarks/engines.py), when its extra is installed.
    _repo_on_path()
    from benchmarks.engines import engine_rows

    report.rows.extend(engine_rows(Row, quick))
    if serving:
        report.rows += serving_rows(quick)
    return report


def _repo_on_path() -> None:
    # Run as a script, this file's folder is on sys.path, not the repository root.
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if root not in sys.path:
        sys.path.insert(0, root)


def _scale_rows(quick: bool) -> list[dict[str, Any]]:
    _repo_on_path()
    from benchmarks.scale import rows

    return rows(quick)


def async_transport_rows(quick: bool) -> list[Row]:
    """AsyncTogether vs bare aiohttp at concurrency 4/64/256 (benchmarks/async_transport.py)."""
    _repo_on_path()
    from benchmarks import async_transport

    rows, table = async_transport.rows(quick)
    print(table, end="\n\n")
    return [Row(**row) for row in rows]


def serving_rows(quick: bool) -> list[Row]:
    """Our server beside infinity-emb (benchmarks/serving.py); its own table is printed too."""
    _repo_on_path()
    from benchmarks import serving

    rows, table = serving.rows(quick)
    print(table, end="\n\n")
    return [Row(**row) for row in rows]


def _figure(value: float) -> str:
    # Small figures (ms per request) keep three decimals; 0.111 vs 0.079 must not read 0.1 vs 0.1.
    return f"{value:>10.3f}" if abs(value) < 10 else f"{value:>10.1f}"


def render(report: Report) -> str:
    """The report as a plain-text table."""
    lines = [" ".join(f"{key}={value}" for key, value in report.machine.items()), ""]
    header = (
        f"{'row':<46} {'ours':>10} {'httpx':>10} {'ratio':>7} {'target':>9}  met  "
        f"{'official':>10} {'ratio':>7}"
    )
    lines += [header, "-" * len(header)]
    for row in report.rows:
        official = (
            ""
            if row.official is None
            else f"{_figure(row.official)} {row.official / row.baseline:>6.2f}x"
        )
        met = "-" if row.target.strip("()") in ("none", "info") else "yes" if row.met else "NO"
        lines.append(
            f"{row.name:<46} {_figure(row.ours)} {_figure(row.baseline)} {row.ratio:>6.2f}x "
            f"{row.target:>9}  {met:<3}  {official}"
        )
    units = "; ".join(
        f"{row.name}: {row.unit}" + (f" ({row.notes})" if row.notes else "") for row in report.rows
    )
    lines += ["", f"units: {units}"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="a short run, for smoke tests")
    parser.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    parser.add_argument(
        "--no-serving", action="store_true", help="leave out the serving section (minutes long)"
    )
    args = parser.parse_args(argv)
    report = run(args.quick, serving=not args.no_serving)
    print(render(report))
    if args.json:
        with open(args.json, "w") as out:
            json.dump(
                {
                    "machine": report.machine,
                    "rows": [asdict(row) | {"ratio": row.ratio} for row in report.rows],
                },
                out,
                indent=2,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
