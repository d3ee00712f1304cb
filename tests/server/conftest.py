"""Fixtures for the server tests: an in-process app and an ASGI client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from together_rerank.server import ServerConfig, create_app

from .support import asgi_client


@pytest.fixture
def config() -> ServerConfig:
    return ServerConfig()


@pytest.fixture
def app(config: ServerConfig) -> Starlette:
    return create_app(config)


@pytest.fixture
async def client(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    async with asgi_client(app) as client:
        yield client
