"""`ServerConfig`: the models, key and limits one server instance runs with."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from together_rerank.server.models import check_engine, default_models

API_KEY_ENV = "TOGETHER_RERANK_SERVER_API_KEY"
"""Environment variable that `api_key_from_env` reads the server's API key from."""

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
DEFAULT_MAX_DOCUMENTS = 10_000
DEFAULT_MAX_INPUTS = 10_000


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

    def __post_init__(self) -> None:
        for name, engine in self.models.items():
            check_engine(name, engine)
        if not self.models:
            raise ValueError("ServerConfig.models must name at least one model")
        if self.api_key is not None and not self.api_key:
            raise ValueError("ServerConfig.api_key must be None (no auth) or a non-empty string")
        for limit in ("max_body_bytes", "max_documents", "max_inputs"):
            if getattr(self, limit) < 1:
                raise ValueError(f"ServerConfig.{limit} must be at least 1")
        # Freeze a private copy so that later edits to the caller's dict cannot
        # change a running server.
        object.__setattr__(self, "models", MappingProxyType(dict(self.models)))


def api_key_from_env(environ: Mapping[str, str] | None = None) -> str | None:
    """Read the API key from ``TOGETHER_RERANK_SERVER_API_KEY``; unset or empty means none."""
    value = (os.environ if environ is None else environ).get(API_KEY_ENV, "")
    return value or None
