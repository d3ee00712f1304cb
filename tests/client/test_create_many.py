"""`rerank.create_many`: many queries, in order, bounded, with a clear failure policy."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from typing import Any

import httpx
import pytest

from together_rerank import (
    AsyncTogether,
    BadRequestError,
    InvalidArgumentError,
    Together,
    TogetherError,
)
from together_rerank.types import RerankResponse

from ..reliability.faultserver import Fault, FaultServer, Respond
from .helpers import MockAPI, error, rank_body
from .test_batching import Decide

DOCUMENTS = ["alpha beta", "beta gamma", "gamma delta", "delta alpha"]
QUERIES = ["alpha", "beta", "gamma", "delta", "alpha gamma", "beta delta"]


def _query_of(request: httpx.Request) -> str:
    query: str = json.loads(request.content)["query"]
    return query


def _answers(results: list[RerankResponse | TogetherError]) -> list[RerankResponse]:
    assert all(isinstance(r, RerankResponse) for r in results)
    return [r for r in results if isinstance(r, RerankResponse)]


def test_answers_come_in_the_order_of_queries_with_shared_documents() -> None:
    api = MockAPI()
    with api.client() as client:
        many = _answers(
            client.rerank.create_many(model="m", queries=QUERIES, documents=DOCUMENTS, top_n=2)
        )
        one_by_one = [
            client.rerank.create(model="m", query=q, documents=DOCUMENTS, top_n=2) for q in QUERIES
        ]
    assert [r.results for r in many] == [r.results for r in one_by_one]
    assert sorted(map(_query_of, api.requests[: len(QUERIES)])) == sorted(QUERIES)


async def test_async_answers_come_in_order_with_documents_per_query() -> None:
    api = MockAPI()
    per_query = [[f"{q} one", "other", f"{q} two"] for q in QUERIES]
    async with api.async_client() as client:
        many = _answers(
            await client.rerank.create_many(
                model="m",
                queries=QUERIES,
                documents=per_query,
                return_documents=True,
                max_concurrency=3,
            )
        )
    for query, answer in zip(QUERIES, many, strict=True):
        top = answer.results[0]
        assert top.document is not None
        assert query in top.document["text"]
    by_query = {_query_of(r): json.loads(r.content)["documents"] for r in api.requests}
    assert by_query == dict(zip(QUERIES, per_query, strict=True))


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_wrong_number_of_document_lists_is_named_before_anything_is_sent(is_async: bool) -> None:
    api = MockAPI()
    documents = [["a"], ["b"]]

    def run() -> None:
        if is_async:

            async def go() -> None:
                async with api.async_client() as client:
                    await client.rerank.create_many(
                        model="m", queries=["x", "y", "z"], documents=documents
                    )

            asyncio.run(go())
        else:
            api.client().rerank.create_many(model="m", queries=["x", "y", "z"], documents=documents)

    with pytest.raises(InvalidArgumentError) as caught:
        run()
    assert caught.value.param == "documents"
    assert api.calls == 0


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"queries": ["ok", 3]}, "queries[1]"),
        ({"queries": "one string"}, "queries"),
        ({"documents": [["ok"], ["fine", 7]]}, "documents[1][1]"),
        ({"documents": [5, 6]}, "documents[0]"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"return_exceptions": "yes"}, "return_exceptions"),
        ({"progress": "auto"}, "progress"),
        ({"top_n": 0}, "top_n"),
    ],
)
def test_bad_arguments_are_named_before_anything_is_sent(
    kwargs: dict[str, Any], param: str
) -> None:
    api = MockAPI()
    args: dict[str, Any] = {"model": "m", "queries": ["x", "y"], "documents": ["a", "b"], **kwargs}
    with pytest.raises(InvalidArgumentError) as caught:
        api.client().rerank.create_many(**args)
    assert caught.value.param == param
    assert api.calls == 0


def _fail_on(bad: str) -> Any:
    def reply(request: httpx.Request) -> httpx.Response:
        if _query_of(request) == bad:
            return error(400, f"no good: {bad}")
        return httpx.Response(200, json=rank_body(request))

    return reply


def test_return_exceptions_puts_each_failure_in_its_slot() -> None:
    api = MockAPI(*[_fail_on("gamma")] * len(QUERIES))
    with api.client(max_retries=0) as client:
        results = client.rerank.create_many(
            model="m", queries=QUERIES, documents=DOCUMENTS, return_exceptions=True
        )
    assert [type(r) for r in results] == [RerankResponse] * 2 + [BadRequestError] + [
        RerankResponse
    ] * 3
    assert "gamma" in str(results[2])


async def test_async_return_exceptions_puts_each_failure_in_its_slot() -> None:
    api = MockAPI(*[_fail_on("alpha")] * len(QUERIES))
    async with api.async_client(max_retries=0) as client:
        results = await client.rerank.create_many(
            model="m", queries=QUERIES, documents=DOCUMENTS, return_exceptions=True
        )
    assert isinstance(results[0], BadRequestError)
    assert all(isinstance(r, RerankResponse) for r in results[1:])


def test_the_first_failure_is_raised_and_stops_what_has_not_started() -> None:
    queries = [f"q{i}" for i in range(200)]
    api = MockAPI(*[_fail_on("q0")] * len(queries))
    with api.client(max_retries=0) as client, pytest.raises(BadRequestError, match="q0"):
        client.rerank.create_many(
            model="m", queries=queries, documents=DOCUMENTS, max_concurrency=2
        )
    assert api.calls < len(queries)


async def test_async_first_failure_cancels_outstanding_requests() -> None:
    started: list[str] = []
    finished: list[str] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        query = _query_of(request)
        started.append(query)
        if query == "q0":
            return error(400, "q0 failed")
        await asyncio.sleep(5)
        finished.append(query)
        return httpx.Response(200, json=rank_body(request))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    queries = [f"q{i}" for i in range(50)]
    async with AsyncTogether(api_key="k", http_client=http, max_retries=0) as client:
        t0 = time.monotonic()
        with pytest.raises(BadRequestError, match="q0 failed"):
            await client.rerank.create_many(
                model="m", queries=queries, documents=DOCUMENTS, max_concurrency=4
            )
        assert time.monotonic() - t0 < 4  # the 5 s requests were cancelled, not awaited
        assert not http.is_closed  # the caller's client is left alone
    assert finished == []
    assert len(started) <= 5


async def test_async_cancellation_stops_outstanding_work_promptly() -> None:
    gate = asyncio.Event()
    started = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal started
        started += 1
        await gate.wait()
        return httpx.Response(200, json=rank_body(request))

    http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
    async with AsyncTogether(api_key="k", http_client=http) as client:
        task = asyncio.create_task(
            client.rerank.create_many(
                model="m", queries=[f"q{i}" for i in range(40)], documents=DOCUMENTS
            )
        )
        while started < 8:
            await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, timeout=2)
        assert started == 8  # the bound held, and nothing new started after the cancel
        # The client still works afterwards.
        gate.set()
        answer = await client.rerank.create(model="m", query="alpha", documents=DOCUMENTS)
        assert answer.results


def test_sync_concurrency_is_bounded_by_max_concurrency() -> None:
    lock = threading.Lock()
    now = most = 0

    def handler(request: httpx.Request) -> httpx.Response:
        nonlocal now, most
        with lock:
            now += 1
            most = max(most, now)
        time.sleep(0.03)
        with lock:
            now -= 1
        return httpx.Response(200, json=rank_body(request))

    with Together(
        api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    ) as client:
        client.rerank.create_many(
            model="m", queries=QUERIES * 3, documents=DOCUMENTS, max_concurrency=3
        )
    assert most == 3


def test_each_query_goes_through_create_so_batching_applies() -> None:
    api = MockAPI()
    with api.client(max_documents_per_request=3) as client:
        results = _answers(
            client.rerank.create_many(
                model="m", queries=QUERIES, documents=[*DOCUMENTS, "x", "y", "z"], top_n=7
            )
        )
    assert api.calls == len(QUERIES) * 3
    assert all(sorted(r.index for r in answer.results) == list(range(7)) for answer in results)


def test_per_request_options_apply_to_every_query() -> None:
    api = MockAPI()
    with api.client() as client:
        client.rerank.create_many(
            model="m",
            queries=QUERIES[:2],
            documents=DOCUMENTS,
            extra_headers={"x-trace": "t1"},
            max_documents_per_request=2,
            custom_field="c",
        )
    assert api.calls == 4
    assert all(r.headers["x-trace"] == "t1" for r in api.requests)
    assert all(json.loads(r.content)["custom_field"] == "c" for r in api.requests)


def test_ctrl_c_stops_outstanding_work_promptly() -> None:
    """KeyboardInterrupt in the caller's thread: queued queries never start, the call returns."""
    started: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        started.append(_query_of(request))
        if len(started) == 3:
            os.kill(os.getpid(), signal.SIGINT)  # what Ctrl-C does
        time.sleep(0.05)
        return httpx.Response(200, json=rank_body(request))

    queries = [f"q{i}" for i in range(100)]
    with Together(
        api_key="k", http_client=httpx.Client(transport=httpx.MockTransport(handler))
    ) as client:
        t0 = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            client.rerank.create_many(
                model="m", queries=queries, documents=DOCUMENTS, max_concurrency=2
            )
        assert time.monotonic() - t0 < 3
        time.sleep(0.2)  # let the requests in flight finish
        assert len(started) < 10
        # The client still works afterwards.
        assert client.rerank.create(model="m", query="alpha", documents=DOCUMENTS).results


@pytest.mark.parametrize(
    ("progress", "tty", "shown"),
    [(None, False, False), (None, True, True), (True, False, True), (False, True, False)],
)
def test_progress_bar_only_on_a_terminal_unless_forced(
    monkeypatch: pytest.MonkeyPatch, progress: bool | None, tty: bool, shown: bool
) -> None:
    class Stderr(io.StringIO):
        def isatty(self) -> bool:
            return tty

    stderr = Stderr()
    monkeypatch.setattr("sys.stderr", stderr)
    with MockAPI().client() as client:
        client.rerank.create_many(
            model="m", queries=QUERIES, documents=DOCUMENTS, progress=progress
        )
    output = stderr.getvalue()
    assert (f"{len(QUERIES)}/{len(QUERIES)}" in output) is shown
    assert bool(output) is shown


# -- batched queries: nothing is sent once the call failed or was stopped (issue 24, item 2)

BATCHED_DOCUMENTS = [f"doc{j}" for j in range(6)]


def fail_one_query(body: dict[str, Any]) -> tuple[float, Fault]:
    """Query "q0" fails in its first batch at once; everything else answers slowly."""
    if body["query"] == "q0" and body["documents"][0] == "doc0":
        return 0.05, Respond(400)
    return 1.0, Respond(200)  # slow: see `fail_first_batch`


def _failure_answered(server: FaultServer) -> float:
    [failure] = [
        r
        for r in server.requests
        if r.json()["query"] == "q0" and r.json()["documents"][0] == "doc0"
    ]
    assert failure.answering is not None
    return failure.answering


def test_a_failed_batch_stops_every_query_of_create_many() -> None:
    with FaultServer() as server:
        server.always(Decide(fail_one_query), times=1000)
        with Together(
            base_url=server.base_url, api_key="k", max_documents_per_request=1, max_concurrency=2
        ) as client:
            with pytest.raises(BadRequestError):
                client.rerank.create_many(
                    model="m",
                    queries=[f"q{i}" for i in range(8)],
                    documents=BATCHED_DOCUMENTS,
                    max_concurrency=2,
                )
            time.sleep(1.3)  # the client stays open; the old code sent on meanwhile
        failed_at = _failure_answered(server)
        assert [r.json()["query"] for r in server.requests if r.arrived > failed_at] == []
        assert len(server.requests) <= 4  # two queries, two batches each, at most


def test_with_return_exceptions_a_failed_batch_stops_only_its_own_query() -> None:
    with FaultServer() as server:
        server.always(Decide(fail_one_query), times=1000)
        with Together(
            base_url=server.base_url, api_key="k", max_documents_per_request=1, max_concurrency=3
        ) as client:
            results = client.rerank.create_many(
                model="m",
                queries=["q0", "q1", "q2"],
                documents=BATCHED_DOCUMENTS,
                max_concurrency=3,
                return_exceptions=True,
            )
        failed_at = _failure_answered(server)
        late = {r.json()["query"] for r in server.requests if r.arrived > failed_at}
    assert isinstance(results[0], BadRequestError)
    assert all(isinstance(r, RerankResponse) for r in results[1:])
    assert "q0" not in late


CTRL_C_SCRIPT = textwrap.dedent(
    """
    import sys
    from together_rerank import Together

    client = Together(
        base_url=sys.argv[1], api_key="k", timeout=5.0, max_documents_per_request=1,
        max_concurrency=4,
    )
    client.rerank.create_many(
        model="m",
        queries=[f"q{i}" for i in range(40)],
        documents=[f"doc{j}" for j in range(8)],
        max_concurrency=4,
    )
    """
)


def test_ctrl_c_in_batched_sync_create_many_sends_nothing_more_and_exits_in_one_timeout() -> None:
    """A real SIGINT to a real process: requests in flight end, nothing new goes out."""
    with FaultServer() as server:
        server.always(Decide(lambda body: (1.0, Respond(200))), times=1000)
        with subprocess.Popen(
            [sys.executable, "-c", CTRL_C_SCRIPT, server.base_url],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        ) as process:
            try:
                deadline = time.monotonic() + 30
                while len(server.requests) < 16 and time.monotonic() < deadline:
                    time.sleep(0.02)
                assert len(server.requests) >= 16, "the script never got going"
                process.send_signal(signal.SIGINT)
                interrupted = time.monotonic()
                _, stderr = process.communicate(timeout=20)
                exited = time.monotonic()
            finally:
                if process.poll() is None:
                    process.kill()
        # The next requests, had the script gone on, would have left 1 s after the
        # first 16; half of that is ample for the interrupt to take effect.
        late = [r for r in server.requests if r.arrived > interrupted + 0.5]
    assert b"KeyboardInterrupt" in stderr
    assert late == []
    assert exited - interrupted < 5.0  # the client's timeout; requests in flight take 1 s
