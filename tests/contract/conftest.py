"""Fixtures of the contract tests: the real local server, and broken ones, over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from together_rerank.server import LocalServer

from .broken import BREAKAGES, BrokenServer


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """No TOGETHER_* variable of the developer's shell reaches the checker or the SDK."""
    for name in ("TOGETHER_API_KEY", "TOGETHER_BASE_URL", "TOGETHER_LOG"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    """The product's local server (`together-rerank serve`), on a free loopback port."""
    with LocalServer() as server:
        yield server


def broken_server(name: str) -> LocalServer:
    """The local server with one promise broken (see `broken.BREAKAGES`); a context manager."""
    return LocalServer(app=BrokenServer(BREAKAGES[name]))
