"""A typed Python SDK for the Together rerank API.

from together_rerank import Together
client = Together()
response = client.rerank.create(model=..., query=..., documents=[...], top_n=3)
"""

from typing import TYPE_CHECKING

from ._base_client import DEFAULT_BASE_URL, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from ._client import AsyncTogether, Together
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseDecodingError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InternalServerError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    MissingAPIKeyError,
    NotFoundError,
    PermissionDeniedError,
    PluginError,
    RateLimitError,
    ResponseTooLargeError,
    TogetherError,
    UnprocessableEntityError,
)
from ._plugins import Flow, Plugin, RequestOptions, Sleep
from ._response import RawResponse
from ._tolerance import Deviation
from ._version import __version__
from .plugins.log import LoggingPlugin
from .plugins.retry import RetryPlugin, RetryPolicy

if TYPE_CHECKING:
    from .plugins.cache import CachePlugin
    from .plugins.rate_limit import RateLimitPlugin
    from .types import (
        EmbeddingData,
        EmbeddingsRequest,
        EmbeddingsResponse,
        RerankChoicesData,
        RerankRequest,
        RerankResponse,
        UsageData,
    )

# The pydantic types load on first use, so that importing the SDK stays cheap
# for programs that never parse a response (CLIs, workers that fail fast).
_LAZY_TYPES = frozenset(
    {
        "EmbeddingData",
        "EmbeddingsRequest",
        "EmbeddingsResponse",
        "RerankChoicesData",
        "RerankRequest",
        "RerankResponse",
        "UsageData",
    }
)


# Plugins whose libraries take a while to import load on first use too.
_LAZY_PLUGINS = {"CachePlugin": "cache", "RateLimitPlugin": "rate_limit"}


def __getattr__(name: str) -> object:
    if name in _LAZY_TYPES:
        from . import types

        return getattr(types, name)
    if name in _LAZY_PLUGINS:
        import importlib

        return getattr(importlib.import_module(f".plugins.{_LAZY_PLUGINS[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "APIConnectionError",
    "APIError",
    "APIResponseDecodingError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncTogether",
    "AuthenticationError",
    "BadRequestError",
    "CachePlugin",
    "ConflictError",
    "Deviation",
    "EmbeddingData",
    "EmbeddingsRequest",
    "EmbeddingsResponse",
    "Flow",
    "InternalServerError",
    "InvalidArgumentError",
    "InvalidArgumentTypeError",
    "LoggingPlugin",
    "MissingAPIKeyError",
    "NotFoundError",
    "PermissionDeniedError",
    "Plugin",
    "PluginError",
    "RateLimitError",
    "RateLimitPlugin",
    "RawResponse",
    "RequestOptions",
    "RerankChoicesData",
    "RerankRequest",
    "RerankResponse",
    "ResponseTooLargeError",
    "RetryPlugin",
    "RetryPolicy",
    "Sleep",
    "Together",
    "TogetherError",
    "UnprocessableEntityError",
    "UsageData",
    "__version__",
]
