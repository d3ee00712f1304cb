"""Fixtures for the whole suite."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def hermetic_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No TOGETHER_* variable of the developer's shell leaks in; the SDK logger starts clean."""
    for name in ("TOGETHER_API_KEY", "TOGETHER_BASE_URL", "TOGETHER_LOG"):
        monkeypatch.delenv(name, raising=False)
    # Default model names stay on the lexical engines (fast, exact expectations);
    # tests of the semantic engines ask for them by name (tests/server/engines/).
    monkeypatch.setenv("TOGETHER_RERANK_SERVER_ENGINES", "lexical")
    logger = logging.getLogger("together_rerank")
    saved = (logger.level, list(logger.handlers))
    logger.handlers.clear()
    logger.setLevel(logging.NOTSET)
    yield
    logger.handlers[:] = saved[1]
    logger.setLevel(saved[0])
