"""`Together` and `AsyncTogether`: the clients users import."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

import httpx

from ._base_client import AsyncAPIClient, SyncAPIClient, Timeout, check_http_client
from ._plugins import Plugin
from .resources import AsyncEmbeddings, AsyncRerank, Embeddings, Rerank

__all__ = ["AsyncTogether", "Together"]

# Room for many concurrent callers without opening a connection per request.
DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64)


class Together(SyncAPIClient):
    """Sync client of the Together rerank API; reads TOGETHER_API_KEY and TOGETHER_BASE_URL."""

    rerank: Rerank
    embeddings: Embeddings

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
        plugins: Sequence[Plugin] | None = None,
        max_documents_per_request: int | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        check_http_client(http_client, httpx.Client)
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            plugins=plugins,
            max_documents_per_request=max_documents_per_request,
            max_concurrency=max_concurrency,
            http_client_timeout=http_client.timeout if http_client is not None else None,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.Client(timeout=self.timeout, limits=DEFAULT_LIMITS)
        self.rerank = Rerank(self)
        self.embeddings = Embeddings(self)

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        plugins: Sequence[Plugin] | None = None,
        max_documents_per_request: int | None = None,
        max_concurrency: int | None = None,
    ) -> Together:
        """A copy with some settings changed; it shares this client's connection pool."""
        settings = self._settings_with(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            plugins=plugins,
            max_documents_per_request=max_documents_per_request,
            max_concurrency=max_concurrency,
        )
        return Together(**settings, http_client=self._http)

    def close(self) -> None:
        """Close the connection pool, unless it was supplied by the caller or shared."""
        if self._owns_http:
            self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class AsyncTogether(AsyncAPIClient):
    """Async client of the Together rerank API; `Together`, awaited."""

    rerank: AsyncRerank
    embeddings: AsyncEmbeddings

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        http_client: httpx.AsyncClient | None = None,
        plugins: Sequence[Plugin] | None = None,
        max_documents_per_request: int | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        check_http_client(http_client, httpx.AsyncClient)
        super().__init__(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            plugins=plugins,
            max_documents_per_request=max_documents_per_request,
            max_concurrency=max_concurrency,
            http_client_timeout=http_client.timeout if http_client is not None else None,
        )
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(timeout=self.timeout, limits=DEFAULT_LIMITS)
        self.rerank = AsyncRerank(self)
        self.embeddings = AsyncEmbeddings(self)

    def with_options(
        self,
        *,
        api_key: str | None = None,
        base_url: str | httpx.URL | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        default_headers: Mapping[str, str] | None = None,
        plugins: Sequence[Plugin] | None = None,
        max_documents_per_request: int | None = None,
        max_concurrency: int | None = None,
    ) -> AsyncTogether:
        """A copy with some settings changed; it shares this client's connection pool."""
        settings = self._settings_with(
            api_key=api_key,
            base_url=base_url,
            timeout=timeout,
            max_retries=max_retries,
            default_headers=default_headers,
            plugins=plugins,
            max_documents_per_request=max_documents_per_request,
            max_concurrency=max_concurrency,
        )
        return AsyncTogether(**settings, http_client=self._http)

    async def close(self) -> None:
        """Close the connection pool, unless it was supplied by the caller or shared."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
