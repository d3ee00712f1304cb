"""`client.embeddings`: turn text into vectors."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx

from .._base_client import APICall, AsyncAPIClient, SyncAPIClient, Timeout
from .._tolerance import ResponsePolicy, parse_embeddings
from .._validation import check_embeddings_args, check_embeddings_response

if TYPE_CHECKING:
    from ..types import EmbeddingsResponse
from ._resource import Resource, asend, async_raw_method, raw_method, send

__all__ = ["AsyncEmbeddings", "Embeddings"]


def embeddings_call(
    *,
    model: str,
    input: str | Sequence[str],
    extra_headers: Mapping[str, str] | None,
    extra_query: Mapping[str, Any] | None,
    extra_body: Mapping[str, Any] | None,
    timeout: Timeout | None,
    max_retries: int | None,
    kwargs: Mapping[str, Any],
) -> APICall[EmbeddingsResponse]:
    """Validate the arguments and build the call; shared by the sync and async resources."""
    # Imported on first use: the generated models (and attrs) stay out of `import together_rerank`.
    from together_rerank_generated.api.embeddings import embeddings as embeddings_operation
    from together_rerank_generated.models import EmbeddingsRequest as WireEmbeddingsRequest

    check_embeddings_args(model=model, input=input, extra={**kwargs, **(extra_body or {})})
    wire = WireEmbeddingsRequest(
        model=model, input_=input if isinstance(input, str) else list(input)
    )
    wire.additional_properties = dict(kwargs)
    operation = embeddings_operation._get_kwargs(body=wire)
    input_count = 1 if isinstance(input, str) else len(input)
    return APICall(
        method=operation["method"],
        path=operation["url"],
        body=operation["json"],
        parse=partial(_parse, input_count=input_count),
        extra_headers=extra_headers,
        extra_query=extra_query,
        extra_body=extra_body,
        timeout=timeout,
        max_retries=max_retries,
        response_allowance=EMBEDDING_BYTES * input_count,
    )


# One embedding as JSON: 16,384 dimensions at up to 32 characters each.
EMBEDDING_BYTES = 16_384 * 32


def _parse(
    response: httpx.Response, policy: ResponsePolicy, *, input_count: int
) -> EmbeddingsResponse:
    parsed = parse_embeddings(response.content, response, policy)
    assert parsed is not None  # with a response to name, it raises instead
    check_embeddings_response(parsed, response, input_count=input_count)
    return parsed


class Embeddings(Resource[SyncAPIClient]):
    """Embedding operations of `Together`."""

    def create(
        self,
        *,
        model: str,
        input: str | Sequence[str],
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> EmbeddingsResponse:
        """Embed one text or a list of texts; `data[i]` belongs to input `i`."""
        call = embeddings_call(
            model=model,
            input=input,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )
        return send(self, call)

    @property
    def with_raw_response(self) -> EmbeddingsWithRawResponse:
        """The same operations, returning `RawResponse` (status, headers, `.parse()`)."""
        return EmbeddingsWithRawResponse(Embeddings(self._client, raw=True))


class AsyncEmbeddings(Resource[AsyncAPIClient]):
    """Embedding operations of `AsyncTogether`."""

    async def create(
        self,
        *,
        model: str,
        input: str | Sequence[str],
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> EmbeddingsResponse:
        """Embed one text or a list of texts; `data[i]` belongs to input `i`."""
        call = embeddings_call(
            model=model,
            input=input,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )
        return await asend(self, call)

    @property
    def with_raw_response(self) -> AsyncEmbeddingsWithRawResponse:
        """The same operations, returning `RawResponse` (status, headers, `.parse()`)."""
        return AsyncEmbeddingsWithRawResponse(AsyncEmbeddings(self._client, raw=True))


class EmbeddingsWithRawResponse:
    """`client.embeddings.with_raw_response`."""

    def __init__(self, embeddings: Embeddings) -> None:
        self.create = raw_method(embeddings.create)


class AsyncEmbeddingsWithRawResponse:
    """`client.embeddings.with_raw_response` of `AsyncTogether`."""

    def __init__(self, embeddings: AsyncEmbeddings) -> None:
        self.create = async_raw_method(embeddings.create)
