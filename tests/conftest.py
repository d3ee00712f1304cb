"""Fixtures for the whole suite."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest


def pytest_configure(config: pytest.Config) -> None:
    """Together's model names stay on the lexical engines in this suite (and its subprocesses).

    The suite's exact lexical expectations and its speed depend on it; the
    semantic engines are tested by name in tests/server/engines/, and the demo
    test runs without this variable, as a user would.
    """
    os.environ["TOGETHER_RERANK_SERVER_ENGINES"] = "lexical"


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
