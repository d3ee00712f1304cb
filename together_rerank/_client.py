"""`Together` and `AsyncTogether`: the clients users import."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import Self

import httpx

from ._base_client import AsyncAPIClient, SyncAPIClient, Timeout, check_http_client
from ._exceptions import InvalidArgumentError, InvalidArgumentTypeError
from ._plugins import Plugin
from ._transport import AiohttpClient, PooledClient
from .resources import AsyncEmbeddings, AsyncRerank, Embeddings, Rerank

__all__ = ["AsyncTogether", "Together"]

# Room for many concurrent callers without opening a connection per request.
DEFAULT_LIMITS = httpx.Limits(max_connections=256, max_keepalive_connections=64)


def _check_max_response_bytes(value: object) -> int | None:
    # Overrides the bound a 2xx body is held to (by default, computed per call).
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentTypeError("max_response_bytes", "must be an integer or None")
    if value < 1:
        raise InvalidArgumentError("max_response_bytes", f"must be >= 1, got {value}")
    return value


class Together(SyncAPIClient):
    """Sync client of the Together rerank API; reads TOGETHER_API_KEY and TOGETHER_BASE_URL.

    `strict=True` raises `APIResponseValidationError` for a response that differs
    from the spec only in form (a missing `usage` counter, `object` or `model`; a
    bare-string document...), which by default is normalised, recorded on
    `response.deviations` and logged once per kind at TOGETHER_LOG=info.
    """

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
        max_response_bytes: int | None = None,
        strict: bool = False,
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
            strict=strict,
        )
        self.max_response_bytes = _check_max_response_bytes(max_response_bytes)
        self._owns_http = http_client is None
        # The own pool is replaced in a forked child; a supplied one is the caller's.
        self._http = http_client or PooledClient(timeout=self.timeout, limits=DEFAULT_LIMITS)
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
        max_response_bytes: int | None = None,
        strict: bool | None = None,
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
            strict=strict,
        )
        return Together(
            **settings,
            http_client=self._http,
            max_response_bytes=(
                self.max_response_bytes if max_response_bytes is None else max_response_bytes
            ),
        )

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
        max_response_bytes: int | None = None,
        strict: bool = False,
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
            strict=strict,
        )
        self.max_response_bytes = _check_max_response_bytes(max_response_bytes)
        self._owns_http = http_client is None
        # aiohttp underneath; one session per event loop, a fresh one after a fork.
        self._http = http_client or AiohttpClient(timeout=self.timeout, limits=DEFAULT_LIMITS)
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
        max_response_bytes: int | None = None,
        strict: bool | None = None,
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
            strict=strict,
        )
        return AsyncTogether(
            **settings,
            http_client=self._http,
            max_response_bytes=(
                self.max_response_bytes if max_response_bytes is None else max_response_bytes
            ),
        )

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
