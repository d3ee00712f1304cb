"""The built-in plugins, one module each, written against the public `Plugin` interface."""

from .log import LoggingPlugin
from .retry import RetryPlugin, RetryPolicy

__all__ = ["LoggingPlugin", "RetryPlugin", "RetryPolicy"]
