"""Fixtures of the reliability tests: the fault server, sync/async."""

from __future__ import annotations

from collections.abc import Iterator

import aiohttp  # noqa: F401 (AsyncTogether imports it on first use: not inside a hang budget)
import pytest

from .faultserver import FaultServer
from .support import Mode


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A fresh fault-injecting server on loopback, answering validly until scripted."""
    with FaultServer() as fault_server:
        yield fault_server


@pytest.fixture(params=["sync", "async", "async-chain", "async-httpx"])
def mode(request: pytest.FixtureRequest) -> Mode:
    """Each test using this runs with `Together`, and `AsyncTogether` on both transports.

    "async" is `AsyncTogether`'s default pool (aiohttp), where a call no user
    plugin sees skips the plugin chain until its answer needs it;
    "async-chain" adds a user plugin that changes nothing, so that every call
    goes through the chain; "async-httpx" gives it a plain `httpx.AsyncClient`,
    which users may still supply.
    """
    return Mode(
        is_async=request.param != "sync",
        httpx_async=request.param == "async-httpx",
        chain=request.param == "async-chain",
    )
