"""`client.rerank`: reorder documents by relevance to a query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import partial
from typing import TYPE_CHECKING, Any

import httpx

from .._base_client import APICall, AsyncAPIClient, SyncAPIClient, Timeout
from .._validation import check_rerank_args, check_rerank_response

if TYPE_CHECKING:
    from ..types import RerankResponse
from ._resource import Resource, asend, async_raw_method, parse_model, raw_method, send

__all__ = ["AsyncRerank", "Rerank"]

Documents = Sequence[str] | Sequence[Mapping[str, Any]]


def rerank_call(
    *,
    model: str,
    query: str,
    documents: Documents,
    top_n: int | None,
    return_documents: bool,
    rank_fields: Sequence[str] | None,
    extra_headers: Mapping[str, str] | None,
    extra_query: Mapping[str, Any] | None,
    extra_body: Mapping[str, Any] | None,
    timeout: Timeout | None,
    max_retries: int | None,
    kwargs: Mapping[str, Any],
) -> APICall[RerankResponse]:
    """Validate the arguments and build the call; shared by the sync and async resources."""
    # Imported on first use: the generated models (and attrs) stay out of `import together_rerank`.
    from together_rerank_generated.api.rerank import rerank as rerank_operation
    from together_rerank_generated.models import RerankRequest as WireRerankRequest
    from together_rerank_generated.types import UNSET

    check_rerank_args(
        model=model,
        query=query,
        documents=documents,
        top_n=top_n,
        return_documents=return_documents,
        rank_fields=rank_fields,
        extra={**kwargs, **(extra_body or {})},
    )
    wire = WireRerankRequest(
        model=model,
        query=query,
        documents=list(documents),
        top_n=UNSET if top_n is None else top_n,
        # Absent means false on the wire: send it only when it changes something.
        return_documents=True if return_documents else UNSET,
        rank_fields=UNSET if rank_fields is None else list(rank_fields),
    )
    wire.additional_properties = dict(kwargs)
    operation = rerank_operation._get_kwargs(body=wire)
    return APICall(
        method=operation["method"],
        path=operation["url"],
        body=operation["json"],
        parse=partial(_parse, document_count=len(documents), top_n=top_n),
        extra_headers=extra_headers,
        extra_query=extra_query,
        extra_body=extra_body,
        timeout=timeout,
        max_retries=max_retries,
        response_allowance=RESULT_BYTES * min(len(documents), top_n or len(documents)),
    )


# A result without its document: index, score and keys, with room to spare.
RESULT_BYTES = 256


def _parse(response: httpx.Response, *, document_count: int, top_n: int | None) -> RerankResponse:
    from ..types import RerankResponse  # on first use, as above

    parsed = parse_model(RerankResponse, response, "rerank")
    check_rerank_response(parsed, response, document_count=document_count, top_n=top_n)
    return parsed


class Rerank(Resource[SyncAPIClient]):
    """Rerank operations of `Together`."""

    def create(
        self,
        *,
        model: str,
        query: str,
        documents: Documents,
        top_n: int | None = None,
        return_documents: bool = False,
        rank_fields: Sequence[str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> RerankResponse:
        """Rank `documents` by relevance to `query`, most relevant first."""
        call = rerank_call(
            model=model,
            query=query,
            documents=documents,
            top_n=top_n,
            return_documents=return_documents,
            rank_fields=rank_fields,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )
        return send(self, call)

    @property
    def with_raw_response(self) -> RerankWithRawResponse:
        """The same operations, returning `RawResponse` (status, headers, `.parse()`)."""
        return RerankWithRawResponse(Rerank(self._client, raw=True))


class AsyncRerank(Resource[AsyncAPIClient]):
    """Rerank operations of `AsyncTogether`."""

    async def create(
        self,
        *,
        model: str,
        query: str,
        documents: Documents,
        top_n: int | None = None,
        return_documents: bool = False,
        rank_fields: Sequence[str] | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> RerankResponse:
        """Rank `documents` by relevance to `query`, most relevant first."""
        call = rerank_call(
            model=model,
            query=query,
            documents=documents,
            top_n=top_n,
            return_documents=return_documents,
            rank_fields=rank_fields,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )
        return await asend(self, call)

    @property
    def with_raw_response(self) -> AsyncRerankWithRawResponse:
        """The same operations, returning `RawResponse` (status, headers, `.parse()`)."""
        return AsyncRerankWithRawResponse(AsyncRerank(self._client, raw=True))


class RerankWithRawResponse:
    """`client.rerank.with_raw_response`."""

    def __init__(self, rerank: Rerank) -> None:
        self.create = raw_method(rerank.create)


class AsyncRerankWithRawResponse:
    """`client.rerank.with_raw_response` of `AsyncTogether`."""

    def __init__(self, rerank: AsyncRerank) -> None:
        self.create = async_raw_method(rerank.create)
