"""`together_rerank.integrations.ray` on a real local Ray cluster against the real local server.

One cluster (``ray.init(num_cpus=2)``) and one server for the module: Ray's
start-up is the slow part. The server is wrapped in a recorder that notes
when each rerank request arrives and from which TCP connection, and can play
a hosted rate limiter (429 with Retry-After for everyone for a while).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

ray = pytest.importorskip("ray", reason="the `ray` extra is not installed")

# Ray Data 2.60 warns about its own defaults when it builds a DataContext.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context"),
]

from starlette.responses import JSONResponse  # noqa: E402
from starlette.types import ASGIApp, Receive, Scope, Send  # noqa: E402

from benchmarks import ray_scale  # noqa: E402
from together_rerank import (  # noqa: E402
    AsyncTogether,
    BadRequestError,
    RateLimitError,
    RequestOptions,
    RerankResponse,
    Sleep,
    TogetherError,
)
from together_rerank.integrations.ray import (  # noqa: E402
    TogetherReranker,
    _Budget,
    _JobRateLimitPlugin,
    _Slots,
    job_rate_limit,
    rerank_dataset,
)
from together_rerank.server import LocalServer, ServerConfig, create_app  # noqa: E402

MODEL = "Salesforce/Llama-Rank-V1"
MAX_DOCUMENTS = 12  # the server's limit: a row with more documents fails with a 400
WORDS = [
    *("retrieval", "generation", "ranking", "search", "index", "query", "vector", "model"),
    *("language", "weather", "market", "python", "document", "answer", "context", "score"),
]


@dataclass
class Recorder:
    """ASGI wrapper: arrival time, client port and status of every rerank request."""

    app: ASGIApp
    arrivals: list[tuple[float, int, int]] = field(default_factory=list)
    # Play a hosted limiter: after this many requests, 429 everything for `throttle_seconds`.
    throttle_after: int | None = None
    throttle_seconds: float = 0.0
    _throttled_until: float | None = None

    def reset(self, *, throttle_after: int | None = None, throttle_seconds: float = 0.0) -> None:
        self.arrivals = []
        self.throttle_after = throttle_after
        self.throttle_seconds = throttle_seconds
        self._throttled_until = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/rerank"):
            await self.app(scope, receive, send)
            return
        now = time.monotonic()
        port = scope["client"][1]
        if self.throttle_after is not None and len(self.arrivals) == self.throttle_after:
            self._throttled_until = now + self.throttle_seconds
        if self._throttled_until is not None and now < self._throttled_until:
            self.arrivals.append((now, port, 429))
            body = {"error": {"message": "rate limited", "type": "rate_limit", "param": None}}
            retry_after = str(self.throttle_seconds)
            await JSONResponse(body, 429, headers={"retry-after": retry_after})(
                scope, receive, send
            )
            return
        self.arrivals.append((now, port, 200))
        await self.app(scope, receive, send)

    def ok(self) -> list[float]:
        return [at for at, _, status in self.arrivals if status == 200]

    def statuses(self, status: int) -> int:
        return sum(1 for _, _, got in self.arrivals if got == status)


@pytest.fixture(scope="module")
def recorder() -> Iterator[tuple[Recorder, str]]:
    rec = Recorder(create_app(ServerConfig(max_documents=MAX_DOCUMENTS)))
    with LocalServer(app=rec) as server:
        yield rec, server.base_url


@pytest.fixture(scope="module")
def cluster() -> Iterator[None]:
    try:
        ray.init(
            num_cpus=2,
            include_dashboard=False,
            configure_logging=False,
            log_to_driver=False,
            namespace="together-rerank-tests",
        )
    except (
        Exception
    ) as exc:  # Ray needs shared memory, sockets and fork; not every sandbox has them
        pytest.skip(f"a local Ray cluster cannot start here: {type(exc).__name__}: {exc}")
    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    context.print_on_execution_start = False
    yield
    ray.shutdown()


def make_rows(count: int, *, seed: int = 7, failing: tuple[int, ...] = ()) -> list[dict[str, Any]]:
    """Rows of (row_id, query, documents); rows in `failing` carry one document too many."""
    rng = random.Random(seed)

    def text(words: int) -> str:
        return " ".join(rng.choice(WORDS) for _ in range(words))

    rows = []
    for row_id in range(count):
        size = MAX_DOCUMENTS + 1 if row_id in failing else rng.randint(2, 8)
        rows.append(
            {"row_id": row_id, "query": text(3), "documents": [text(12) for _ in range(size)]}
        )
    return rows


async def reference(
    base_url: str, rows: list[dict[str, Any]], **options: Any
) -> list[RerankResponse | TogetherError]:
    """The same input ranked by `create_many` in this process, for comparison."""
    async with AsyncTogether(base_url=base_url) as client:
        return await client.rerank.create_many(
            model=MODEL,
            queries=[row["query"] for row in rows],
            documents=[row["documents"] for row in rows],
            return_exceptions=True,
            progress=False,
            **options,
        )


def by_id(dataset: Any) -> dict[int, dict[str, Any]]:
    return {row["row_id"]: row for row in dataset.take_all()}


def test_two_actors_rank_2000_rows_as_one_process_does(
    cluster: None, recorder: tuple[Recorder, str]
) -> None:
    rec, base_url = recorder
    rec.reset()
    rows = make_rows(2000)
    expected = asyncio.run(reference(base_url, rows, top_n=3))
    rec.reset()

    ranked = rerank_dataset(
        ray.data.from_items(rows),
        query_column="query",
        documents_column="documents",
        model=MODEL,
        top_n=3,
        concurrency=2,
        batch_size=100,
        max_concurrency=4,
        base_url=base_url,
    )
    got = by_id(ranked)

    assert sorted(got) == list(range(2000))  # every row, once
    for row, answer in zip(rows, expected, strict=True):
        assert isinstance(answer, RerankResponse)
        out = got[row["row_id"]]
        assert out["query"] == row["query"]  # input columns kept, aligned with their ranking
        assert list(out["documents"]) == row["documents"]
        assert out["rerank_index"] == [r.index for r in answer.results]
        assert out["rerank_score"] == [r.relevance_score for r in answer.results]
        assert "rerank_error" not in out
        assert "rerank_document" not in out
    assert len(rec.ok()) == 2000
    # One client per actor for the whole job: 20 batches, yet no more connections than
    # 2 actors x 4 batches in flight x 4 requests each (a client per batch would open ~80).
    connections = {port for _, port, _ in rec.arrivals}
    assert len(connections) <= 2 * 4 * 4


def test_schema_is_the_documented_one(cluster: None, recorder: tuple[Recorder, str]) -> None:
    _, base_url = recorder
    ranked = rerank_dataset(
        ray.data.from_items(make_rows(20)),
        query_column="query",
        documents_column="documents",
        model=MODEL,
        return_documents=True,
        on_error="column",
        prefix="rr_",
        base_url=base_url,
    )
    ranked = ranked.materialize()
    schema = {
        name: str(kind)
        for name, kind in zip(ranked.schema().names, ranked.schema().types, strict=True)
    }
    assert schema["rr_index"] == "list<item: int64>"
    assert schema["rr_score"] == "list<item: double>"
    assert schema["rr_document"] == "list<item: string>"
    assert schema["rr_error"] == "string"
    for row in ranked.take_all():
        assert sorted(row["rr_index"]) == list(range(len(row["documents"])))  # no top_n: all
        assert row["rr_document"] == [row["documents"][i] for i in row["rr_index"]]
        assert row["rr_score"] == sorted(row["rr_score"], reverse=True)
        assert row["rr_error"] is None


def test_a_failing_row_fails_the_job_with_its_error(
    cluster: None, recorder: tuple[Recorder, str]
) -> None:
    _, base_url = recorder
    ranked = rerank_dataset(
        ray.data.from_items(make_rows(50, failing=(17,))),
        query_column="query",
        documents_column="documents",
        model=MODEL,
        base_url=base_url,
    )
    with pytest.raises(Exception, match="BadRequestError") as caught:
        ranked.take_all()
    assert "documents" in str(caught.value)  # the server's message names the field


def test_with_an_error_column_a_failing_row_is_kept_with_its_error(
    cluster: None, recorder: tuple[Recorder, str]
) -> None:
    _, base_url = recorder
    rows = make_rows(50, failing=(17, 33))  # the server answers these with a 400
    expected = asyncio.run(reference(base_url, rows))
    rows[40]["documents"] = []  # and this one the client refuses before sending
    got = by_id(
        ray.data.from_items(rows).map_batches(
            TogetherReranker,
            fn_constructor_kwargs={"model": MODEL, "on_error": "column", "base_url": base_url},
            compute=ray.data.ActorPoolStrategy(size=1),
            batch_size=16,
            batch_format="pyarrow",
        )
    )
    assert sorted(got) == list(range(50))
    for row, answer in zip(rows, expected, strict=True):
        out = got[row["row_id"]]
        if row["row_id"] == 40:
            assert out["rerank_error"] == "InvalidArgumentError: documents: must not be empty"
        elif row["row_id"] in (17, 33):
            assert isinstance(answer, BadRequestError)
            assert out["rerank_error"] == f"BadRequestError: {answer}"
        else:
            assert isinstance(answer, RerankResponse)
            assert out["rerank_error"] is None
            assert out["rerank_index"] == [r.index for r in answer.results]
            continue
        assert out["rerank_index"] is None
        assert out["rerank_score"] is None


def test_the_numpy_batch_format_works_too(cluster: None, recorder: tuple[Recorder, str]) -> None:
    _, base_url = recorder
    rows = make_rows(30)
    expected = asyncio.run(reference(base_url, rows, top_n=2))
    got = by_id(
        ray.data.from_items(rows).map_batches(
            TogetherReranker,
            fn_constructor_kwargs={"model": MODEL, "top_n": 2, "base_url": base_url},
            compute=ray.data.ActorPoolStrategy(size=1),
            batch_size=8,
        )
    )
    for row, answer in zip(rows, expected, strict=True):
        assert isinstance(answer, RerankResponse)
        assert got[row["row_id"]]["rerank_index"] == [r.index for r in answer.results]


RPM = 1800  # 30 per second, shared by both actors


def test_the_rate_limit_holds_for_the_whole_job_measured_at_the_server(
    cluster: None, recorder: tuple[Recorder, str]
) -> None:
    rec, base_url = recorder
    rec.reset()
    count = 240
    ranked = rerank_dataset(
        ray.data.from_items(make_rows(count, seed=11)),
        query_column="query",
        documents_column="documents",
        model=MODEL,
        concurrency=2,
        batch_size=20,
        requests_per_minute=RPM,
        rate_limit_name="test-rate-limit",
        base_url=base_url,
    )
    assert len(ranked.take_all()) == count
    arrivals = sorted(rec.ok())
    assert len(arrivals) == count
    interval = 60 / RPM
    # The documented bound (docs/scale.md): at most (W + late) * rpm / 60 + 1 requests in
    # any W seconds, where `late` is how late a reservation answer arrives (bounded here
    # by 0.5 s). Send times are spaced exactly; arrivals can bunch by that lateness, so a
    # first request that arrives late shortens the whole job's span by up to `late`.
    late = 0.5
    span = arrivals[-1] - arrivals[0]
    assert count <= (span + late) / interval + 1, f"{count} requests in {span:.2f} s"
    busiest = max(
        sum(1 for later in arrivals[i:] if later - start < 2.0) for i, start in enumerate(arrivals)
    )
    assert busiest <= (2.0 + late) / interval + 1, busiest


def test_a_429_holds_back_every_actor(cluster: None, recorder: tuple[Recorder, str]) -> None:
    rec, base_url = recorder
    rec.reset(throttle_after=30, throttle_seconds=2.0)
    count = 120
    ranked = rerank_dataset(
        ray.data.from_items(make_rows(count, seed=13)),
        query_column="query",
        documents_column="documents",
        model=MODEL,
        concurrency=2,
        batch_size=40,
        max_concurrency=8,
        requests_per_minute=1200,
        rate_limit_name="test-429",
        base_url=base_url,
        max_retries=5,
    )
    assert len(ranked.take_all()) == count  # every row made it, through the retries
    assert len(rec.ok()) == count
    # Held back together, only requests sent before the hold reached them get a 429
    # (measured here: 1-2); every 429 costs a retry and budget.
    assert 1 <= rec.statuses(429) <= 10, rec.statuses(429)


async def _take(slots: _Slots) -> float:
    """Drive `_Slots.acquire` as the client's async driver does."""
    flow = slots.acquire()
    try:
        step = next(flow)
        while True:
            await asyncio.sleep(step.seconds)
            step = flow.send(None)
    except StopIteration as stop:
        at: float = stop.value
        return at


async def test_a_429_at_one_actor_reaches_the_others_within_a_round_trip(cluster: None) -> None:
    budget = job_rate_limit(600, name="test-watch")
    one, other = _Slots(budget), _Slots(budget)
    await _take(other)  # the other actor is running: it has reserved and watches
    await _take(one)
    one.hold(3.0)  # what the plugin does on a 429 with Retry-After: 3
    deadline = time.monotonic() + 10
    while other.hold_until < time.monotonic() + 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    # The other learned of it without reserving anything itself...
    assert other.hold_until >= time.monotonic() + 1
    # ...and its next send time comes after the hold.
    assert await _take(other) >= other.hold_until - 0.05


async def _send_through(plugin: _JobRateLimitPlugin, answer: httpx.Response) -> httpx.Response:
    """Drive the plugin's flow as the client's async driver does, answering its request."""
    request = httpx.Request("POST", "http://127.0.0.1:9/v1/rerank")
    options = RequestOptions(max_retries=0, timeout=httpx.Timeout(5.0))
    flow = plugin.handle(request, options)
    step = next(flow)
    try:
        while True:
            if isinstance(step, Sleep):
                await asyncio.sleep(step.seconds)
                step = flow.send(None)
            else:
                answer.request = step
                step = flow.send(answer)
    except StopIteration as stop:
        result: httpx.Response = stop.value
        return result


async def test_a_429_holds_the_job_for_all_the_server_asked_up_to_the_max(cluster: None) -> None:
    # Above the retry policy's 60 s cap, the job used to hold for 1 s only.
    slots = _Slots(job_rate_limit(600, name="test-long-hold"))
    plugin = _JobRateLimitPlugin(slots)
    await _send_through(plugin, httpx.Response(429, headers={"retry-after": "90"}))
    assert slots.hold_until >= time.monotonic() + 85
    longer = _Slots(job_rate_limit(600, name="test-too-long-hold"))
    with pytest.raises(RateLimitError, match="900 s"):
        await _send_through(
            _JobRateLimitPlugin(longer), httpx.Response(429, headers={"retry-after": "900"})
        )
    # Held for the longest a job waits, then the server answers for itself again.
    assert time.monotonic() + 290 <= longer.hold_until <= time.monotonic() + 301


def test_one_rate_limit_actor_per_name_and_rate(cluster: None) -> None:
    first = job_rate_limit(600, name="test-shared")
    again = job_rate_limit(600, name="test-shared")
    assert first._actor_id == again._actor_id
    with pytest.raises(ValueError, match="requests_per_minute"):
        job_rate_limit(300, name="test-shared")
    with pytest.raises(ValueError, match="requests_per_minute"):
        job_rate_limit(0)


async def test_budget_spaces_send_times_and_holds() -> None:
    budget = _Budget(requests_per_minute=600)  # one every 0.1 s
    delays, held = await budget.reserve(3)
    assert held == 0
    assert delays[0] == pytest.approx(0, abs=0.05)
    assert [b - a for a, b in itertools.pairwise(delays)] == pytest.approx([0.1, 0.1])
    later, _ = await budget.reserve(1)
    assert later[0] == pytest.approx(0.3, abs=0.05)  # after the three already given
    watcher = asyncio.create_task(budget.watch(0, timeout=5))
    await asyncio.sleep(0.01)
    assert not watcher.done()  # waits for a hold
    await budget.hold(5)
    holds, left = await asyncio.wait_for(watcher, 1)
    assert holds == 1
    assert left == pytest.approx(5, abs=0.05)
    after_hold, held = await budget.reserve(1)
    assert held == pytest.approx(5, abs=0.05)
    assert after_hold[0] == pytest.approx(5, abs=0.05)
    holds, left = await budget.watch(1, timeout=0.01)  # nothing new: returns after the timeout
    assert holds == 1
    assert left == pytest.approx(5, abs=0.05)


def test_bad_settings_are_named_before_anything_runs() -> None:
    with pytest.raises(ValueError, match="on_error"):
        TogetherReranker(model=MODEL, on_error="ignore")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="max_concurrency"):
        TogetherReranker(model=MODEL, max_concurrency=0)
    with pytest.raises(ValueError, match="concurrency"):
        rerank_dataset(
            None,  # type: ignore[arg-type]
            query_column="q",
            documents_column="d",
            model=MODEL,
            concurrency=0,
        )


def test_the_api_key_stays_out_of_the_repr() -> None:
    reranker = TogetherReranker(model=MODEL, api_key="sk-ray-secret-123")
    assert "sk-ray-secret-123" not in repr(reranker)


def test_the_ray_benchmark_runs_in_quick_mode(cluster: None, tmp_path: Path) -> None:
    out = tmp_path / "ray_scale.json"
    assert ray_scale.main(["--quick", "--json", str(out)]) == 0
    figures = json.loads(out.read_text())
    assert [f["name"].split(",")[0] for f in figures] == ["create_many"] * 2 + ["Ray Data"] * 2
    assert all(f["rows"] == 40 and f["rows_per_second"] > 0 for f in figures)


def test_importing_the_sdk_does_not_import_ray() -> None:
    code = (
        "import sys, together_rerank, together_rerank.integrations; "
        "assert 'ray' not in sys.modules, 'ray imported'; "
        "assert 'pyarrow' not in sys.modules, 'pyarrow imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
