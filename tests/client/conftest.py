"""Fixtures of the facade tests: instant recorded sleeps, sync/async."""

from __future__ import annotations

import time
from types import ModuleType
from typing import Any

import anyio
import pytest

import together_rerank._plugins as plugins_module

from .helpers import Caller, MockAPI, SleepRecorder


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepRecorder:
    """Make every `Sleep` of the plugin drivers instant and record its length."""
    recorder = SleepRecorder()

    def fake_sleep(seconds: float) -> None:
        recorder.append(seconds)

    async def fake_async_sleep(seconds: float) -> None:
        recorder.append(seconds)

    # Swap the modules the drivers look `sleep` up in, not the global `time`/`anyio`.
    monkeypatch.setattr(plugins_module, "time", _ModuleWith(time, sleep=fake_sleep))
    monkeypatch.setattr(plugins_module, "anyio", _ModuleWith(anyio, sleep=fake_async_sleep))
    return recorder


class _ModuleWith:
    """A module with some attributes replaced; the others are the module's own."""

    def __init__(self, module: ModuleType, **overrides: object) -> None:
        self._module = module
        self.__dict__.update(overrides)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._module, name)


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> Caller:
    """Each test using this runs once with `Together` and once with `AsyncTogether`."""
    return Caller(is_async=request.param)


@pytest.fixture
def api() -> MockAPI:
    """A mock API that answers every request validly."""
    return MockAPI()
