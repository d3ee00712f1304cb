"""A local, offline, Together-compatible rerank and embeddings server.

It speaks the wire format of openapi.yaml (``POST /v1/rerank``,
``POST /v1/embeddings``, ``GET /v1/models``, plus ``GET /health``) but scores
lexically: Okapi BM25 for reranking and hashed word/character n-grams for
embeddings. No model weights, no network, no API key needed. Every answer
names its engine in the ``x-together-rerank-engine`` header.

    from together_rerank.server import LocalServer

    with LocalServer() as server:
        ...  # point a client at server.base_url

Requires the ``server`` extra (starlette, uvicorn, rank-bm25).
"""

from together_rerank.server.app import create_app
from together_rerank.server.config import API_KEY_ENV, ServerConfig, api_key_from_env
from together_rerank.server.errors import ENGINE_HEADER
from together_rerank.server.models import (
    DEFAULT_MODELS,
    ENGINES,
    ENGINES_ENV,
    ModelSpecError,
    default_models,
    parse_model_spec,
    parse_model_specs,
)
from together_rerank.server.runner import LocalServer, ServerStartError, serve

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_MODELS",
    "ENGINES",
    "ENGINES_ENV",
    "ENGINE_HEADER",
    "LocalServer",
    "ModelSpecError",
    "ServerConfig",
    "ServerStartError",
    "api_key_from_env",
    "create_app",
    "default_models",
    "parse_model_spec",
    "parse_model_specs",
    "serve",
]
