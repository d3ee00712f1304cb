"""Fixtures of the reliability tests: a hermetic environment, the fault server, sync/async."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from .faultserver import FaultServer
from .support import Mode


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No TOGETHER_* variable of the developer's shell leaks in; the SDK logger starts clean."""
    for name in ("TOGETHER_API_KEY", "TOGETHER_BASE_URL", "TOGETHER_LOG"):
        monkeypatch.delenv(name, raising=False)
    logger = logging.getLogger("together_rerank")
    saved = (logger.level, list(logger.handlers))
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    yield
    logger.handlers[:] = saved[1]
    logger.setLevel(saved[0])


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A fresh fault-injecting server on loopback, answering validly until scripted."""
    with FaultServer() as fault_server:
        yield fault_server


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Mode:
    """Each test using this runs once with `Together` and once with `AsyncTogether`."""
    return Mode(is_async=request.param)
