"""A client used before `os.fork()` gives every process its own answers (issue 10, item 1).

Four children rank different queries through the client they inherited,
each many times, while the parent keeps using it. Before the fix they shared
the parent's pooled sockets and read each other's answers (which pass
validation), or broken ones.
"""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from together_rerank import AsyncTogether, Together
from together_rerank.server import LocalServer

from .support import API_KEY, MODEL

# Each query matches exactly one document, so a wrong answer shows in the top index.
DOCUMENTS = [
    "apples grow on orchard trees",
    "bicycles have two wheels and pedals",
    "comets orbit the sun with icy tails",
    "dolphins swim in warm ocean water",
    "emeralds are green precious gems",
]
QUERIES = ["apples orchard", "bicycles wheels", "comets icy tails", "dolphins ocean"]
CALLS = 25

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


def _in_children(work: Callable[[str], list[int]]) -> dict[int, list[Any]]:
    """Fork one child per query; each runs `work(query)` and sends back its top indexes."""
    children: dict[int, tuple[int, int]] = {}
    for number, query in enumerate(QUERIES):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: never return into pytest
            os.close(read_end)
            try:
                result: Any = work(query)
            except BaseException as exc:
                result = f"{type(exc).__name__}: {exc}"
            with os.fdopen(write_end, "w") as out:
                json.dump(result, out)
            os._exit(0)
        os.close(write_end)
        children[number] = (pid, read_end)
    answers: dict[int, list[Any]] = {}
    for number, (pid, read_end) in children.items():
        with os.fdopen(read_end) as source:
            answers[number] = json.load(source)
        os.waitpid(pid, 0)
    return answers


def _assert_own_answers(answers: dict[int, Any]) -> None:
    for number, tops in answers.items():
        assert tops == [number] * CALLS, f"child {number} ({QUERIES[number]!r}) got {tops!r}"


def test_sync_client_after_fork(local_server: LocalServer) -> None:
    with Together(api_key=API_KEY, base_url=local_server.base_url) as sdk:

        def top(query: str) -> int:
            return sdk.rerank.create(model=MODEL, query=query, documents=DOCUMENTS).results[0].index

        assert top(QUERIES[0]) == 0  # the parent's pool now holds a live connection
        answers = _in_children(lambda query: [top(query) for _ in range(CALLS)])
        _assert_own_answers(answers)
        # The parent's connections survived the children.
        assert [top(query) for query in QUERIES] == [0, 1, 2, 3]


def test_async_client_after_fork(local_server: LocalServer) -> None:
    sdk = AsyncTogether(api_key=API_KEY, base_url=local_server.base_url)

    async def top(query: str) -> int:
        response = await sdk.rerank.create(model=MODEL, query=query, documents=DOCUMENTS)
        return response.results[0].index

    def child(query: str) -> list[int]:
        async def calls() -> list[int]:
            return list(await asyncio.gather(*(top(query) for _ in range(CALLS))))

        return asyncio.run(calls())

    async def parent() -> None:
        async with sdk:
            assert await top(QUERIES[0]) == 0  # a live connection in the parent's session
            # Forked from inside the running loop, as a prefork server would.
            _assert_own_answers(_in_children(child))
            assert [await top(query) for query in QUERIES] == [0, 1, 2, 3]

    asyncio.run(parent())
