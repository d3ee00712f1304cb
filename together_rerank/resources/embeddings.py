"""`client.embeddings`: turn text into vectors."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx

from .._base_client import APICall, AsyncAPIClient, SyncAPIClient, Timeout
from .._spec import OPERATIONS, REQUEST_FIELDS
from .._tolerance import ResponsePolicy, parse_embeddings
from .._validation import check_embeddings_args, check_embeddings_response

if TYPE_CHECKING:
    from ..types import EmbeddingsResponse
from ._resource import Resource, asend, async_raw_method, raw_method, send
from ._signatures import AsyncEmbeddingsSignatures, EmbeddingsSignatures

__all__ = ["AsyncEmbeddings", "Embeddings"]


def embeddings_body_call(
    body: dict[str, Any],
    *,
    extra_headers: Mapping[str, str] | None,
    extra_query: Mapping[str, Any] | None,
    extra_body: Mapping[str, Any] | None,
    timeout: Timeout | None,
    max_retries: int | None,
    kwargs: Mapping[str, Any],
) -> APICall[EmbeddingsResponse]:
    """Validate the body the generated signature collected and build the call."""
    extra = {key: value for key, value in body.items() if key not in ("model", "input")}
    check_embeddings_args(
        model=body["model"],
        input=body["input"],
        extra={**extra, **kwargs, **(extra_body or {})},
    )
    body = {**kwargs, **body}
    for key in _ARRAYS.intersection(body):
        if not isinstance(body[key], list | str):
            body[key] = list(body[key])
    input = body["input"]
    input_count = 1 if isinstance(input, str) else len(input)
    method, path, _ = OPERATIONS["embeddings"]
    return APICall(
        method=method,
        path=path,
        body=body,
        parse=partial(_parse, input_count=input_count),
        extra_headers=extra_headers,
        extra_query=extra_query,
        extra_body=extra_body,
        timeout=timeout,
        max_retries=max_retries,
        response_allowance=EMBEDDING_BYTES * input_count,
    )


# Properties sent as JSON arrays: any sequence a caller gives goes out as a list.
_ARRAYS = frozenset(
    name for name, (types, _, _) in REQUEST_FIELDS["EmbeddingsRequest"].items() if "array" in types
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


class Embeddings(EmbeddingsSignatures, Resource[SyncAPIClient]):
    """Embedding operations of `Together`."""

    def _create_from_body(
        self,
        body: dict[str, Any],
        *,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: Timeout | None,
        max_retries: int | None,
        kwargs: Mapping[str, Any],
    ) -> EmbeddingsResponse:
        call = embeddings_body_call(
            body,
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


class AsyncEmbeddings(AsyncEmbeddingsSignatures, Resource[AsyncAPIClient]):
    """Embedding operations of `AsyncTogether`."""

    def _create_from_body(
        self,
        body: dict[str, Any],
        *,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: Timeout | None,
        max_retries: int | None,
        kwargs: Mapping[str, Any],
    ) -> Awaitable[EmbeddingsResponse]:
        call = embeddings_body_call(
            body,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )
        return asend(self, call)

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
