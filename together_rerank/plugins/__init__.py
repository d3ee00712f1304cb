"""The built-in plugins, one module each, written against the public `Plugin` interface."""

from typing import TYPE_CHECKING

from .log import LoggingPlugin
from .retry import RetryPlugin, RetryPolicy

if TYPE_CHECKING:
    from .cache import CachePlugin
    from .rate_limit import RateLimitPlugin

# Loaded on first use: their libraries cost more to import than the rest of the SDK.
_LAZY = {"CachePlugin": "cache", "RateLimitPlugin": "rate_limit"}


def __getattr__(name: str) -> object:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["CachePlugin", "LoggingPlugin", "RateLimitPlugin", "RetryPlugin", "RetryPolicy"]
