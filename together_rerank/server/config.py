"""`ServerConfig`: the models, key and limits one server instance runs with."""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from together_rerank.server.models import check_engine, default_models
from together_rerank.server.scheduler import (
    DEFAULT_MAX_BATCH_TOKENS,
    DEFAULT_MAX_QUEUE_TOKENS,
    DEFAULT_MAX_WAIT,
    BatchLimits,
)

API_KEY_ENV = "TOGETHER_RERANK_SERVER_API_KEY"
"""Environment variable that `api_key_from_env` reads the server's API key from."""

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_DOCUMENTS = 10_000
DEFAULT_MAX_INPUTS = 10_000
DEFAULT_MAX_QUERY_CHARS = 20_000
DEFAULT_MAX_QUERY_WORDS = 2_000
DEFAULT_MAX_WORK = 2_000_000
DEFAULT_MAX_REQUEST_TOKENS = 500_000
DEFAULT_HEAVY_BODY_BYTES = 64 * 1024
DEFAULT_HEAVY_CONCURRENCY = 1
DEFAULT_HEADER_TIMEOUT = 10.0
DEFAULT_BODY_TIMEOUT = 30.0
DEFAULT_KEEP_ALIVE_TIMEOUT = 5
_INTEGER_LIMITS = (
    "max_body_bytes",
    "max_documents",
    "max_inputs",
    "max_query_chars",
    "max_query_words",
    "max_work",
    "keep_alive_timeout",
    "heavy_body_bytes",
    "heavy_concurrency",
    "max_request_tokens",
    "max_batch_tokens",
    "max_queue_tokens",
)


@dataclass(frozen=True)
class ServerConfig:
    """How one local server behaves: served models, optional API key and request limits."""

    models: Mapping[str, str] = field(default_factory=default_models)
    """Model name -> engine name (see `ENGINES`); replaces `default_models()` entirely."""
    api_key: str | None = field(default=None, repr=False)
    """When set, API routes require ``Authorization: Bearer <api_key>``."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Largest accepted request body, counted as it streams in (413 beyond)."""
    max_documents: int = DEFAULT_MAX_DOCUMENTS
    """Most documents one rerank request may carry (400 beyond)."""
    max_inputs: int = DEFAULT_MAX_INPUTS
    """Most texts one embeddings request may carry (400 beyond)."""
    max_query_chars: int = DEFAULT_MAX_QUERY_CHARS
    """Longest rerank ``query``, in characters (400 beyond, ``param: query``)."""
    max_query_words: int = DEFAULT_MAX_QUERY_WORDS
    """Most words (`text.words`) in a rerank ``query`` (400 beyond, ``param: query``)."""
    max_work: int = DEFAULT_MAX_WORK
    """Most query words x documents in one rerank request (400 beyond, ``param: documents``)."""
    heavy_body_bytes: int = DEFAULT_HEAVY_BODY_BYTES
    """Bodies larger than this are heavy: `heavy_concurrency` of them are computed at a time."""
    heavy_concurrency: int = DEFAULT_HEAVY_CONCURRENCY
    """How many heavy requests are computed at a time (the others wait their turn)."""
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    """Seconds a connection may take to send a request's headers (then it is closed)."""
    body_timeout: float = DEFAULT_BODY_TIMEOUT
    """Seconds a request may take to send its whole body (then a 408)."""
    keep_alive_timeout: int = DEFAULT_KEEP_ALIVE_TIMEOUT
    """Seconds an idle kept-alive connection stays open after an answer."""
    # Added after the fields above, so that positional construction keeps working.
    max_request_tokens: int = DEFAULT_MAX_REQUEST_TOKENS
    """Most model tokens one rerank or embeddings request may make its engine read (400 beyond).

    A model engine counts every window it runs (and a cross-encoder's query once
    per window); a lexical engine counts the request's ``usage`` tokens.
    """
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    """Padded model tokens per forward pass of the batching scheduler (model engines)."""
    max_batch_wait: float = DEFAULT_MAX_WAIT
    """Seconds a forward pass may wait for requests still being tokenized (model engines)."""
    max_queue_tokens: int = DEFAULT_MAX_QUEUE_TOKENS
    """Model tokens that may wait for the model; a request beyond gets 429 with Retry-After."""

    def __post_init__(self) -> None:
        for name, engine in self.models.items():
            check_engine(name, engine)
        if not self.models:
            raise ValueError("ServerConfig.models must name at least one model")
        if self.api_key is not None and not self.api_key:
            raise ValueError("ServerConfig.api_key must be None (no auth) or a non-empty string")
        for limit in _INTEGER_LIMITS:
            if getattr(self, limit) < 1:
                raise ValueError(f"ServerConfig.{limit} must be at least 1")
        for name in ("header_timeout", "body_timeout"):
            value = getattr(self, name)
            if not math.isfinite(value) or value <= 0:
                raise ValueError(f"ServerConfig.{name} must be a positive number of seconds")
        if not math.isfinite(self.max_batch_wait) or self.max_batch_wait < 0:
            raise ValueError("ServerConfig.max_batch_wait must be a number of seconds, 0 or more")
        # Freeze a private copy so that later edits to the caller's dict cannot
        # change a running server.
        object.__setattr__(self, "models", MappingProxyType(dict(self.models)))

    @property
    def batch_limits(self) -> BatchLimits:
        """The batching scheduler's settings."""
        return BatchLimits(
            max_batch_tokens=self.max_batch_tokens,
            max_wait=self.max_batch_wait,
            max_queue_tokens=self.max_queue_tokens,
        )


def api_key_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """Read the API key from ``TOGETHER_RERANK_SERVER_API_KEY``; unset or empty means none."""
    value = (os.environ if environ is None else environ).get(API_KEY_ENV, "")
    return value or None
