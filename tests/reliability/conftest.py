"""Fixtures of the reliability tests: the fault server, sync/async."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .faultserver import FaultServer
from .support import Mode


@pytest.fixture
def server() -> Iterator[FaultServer]:
    """A fresh fault-injecting server on loopback, answering validly until scripted."""
    with FaultServer() as fault_server:
        yield fault_server


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Mode:
    """Each test using this runs once with `Together` and once with `AsyncTogether`."""
    return Mode(is_async=request.param)
