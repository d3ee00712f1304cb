"""The typed signatures of the facade's create methods.

Generated from openapi.yaml by generator/facade.py (`make generate`): do not edit.
Each method collects every request property it was given into one body dict
(an optional property left at its default is not sent) and calls the
resource's hand-written `_create_from_body`-style method."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .._base_client import Timeout
from .._exceptions import TogetherError

if TYPE_CHECKING:  # pydantic loads on first use
    from ..types import EmbeddingsResponse, RerankResponse

Documents = Sequence[str] | Sequence[Mapping[str, Any]]

__all__ = [
    "AsyncEmbeddingsSignatures",
    "AsyncRerankSignatures",
    "Documents",
    "EmbeddingsSignatures",
    "RerankSignatures",
]


class RerankSignatures:
    """The typed methods of `Rerank`."""

    def create(
        self,
        *,
        model: str,
        query: str,
        documents: Documents,
        top_n: int | None = None,
        return_documents: bool = False,
        rank_fields: Sequence[str] | None = None,
        max_documents_per_request: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> RerankResponse:
        """Rank `documents` by relevance to `query`, most relevant first.

        With `max_documents_per_request` (here or on the client) and more documents
        than that, the documents are sent in contiguous batches, concurrently (at
        most the client's `max_concurrency` at once), and the answers merged: by
        `relevance_score` descending, ties by index ascending, `index` relative to
        `documents`, `top_n` applied after the merge, `usage` summed; `id` and
        `model` are the first batch's. The merge equals the unbatched answer only
        when the server scores each document on its own (cross-encoders,
        Llama-Rank); a BM25-like scorer whose statistics come from the request's
        documents scores differently per batch. If any batch fails (after its
        retries), the call raises that error, and nothing more is sent for it:
        batches not started never start, and running ones send no retry.

        Args:
            model: The name of the reranking model.
            query: The search query the documents are ranked against.
            documents: The candidate documents, in the order whose indices the results refer to:
                either all strings or all objects, never a mix.
            top_n: Return only the `top_n` most relevant results.
            return_documents: Whether each result carries its document.
            rank_fields: For object documents only: the fields whose values are ranked.
            max_documents_per_request: Send more documents than this as batches, merged.
            extra_headers: Headers added to the request.
            extra_query: Query parameters added to the URL.
            extra_body: Fields added to the JSON body, unchecked against typed parameters.
            timeout: This call's timeout, instead of the client's.
            max_retries: This call's retry budget, instead of the client's.
            **kwargs: Further body fields, checked against the spec's types and limits.
        """
        body: dict[str, Any] = {"model": model, "query": query, "documents": documents}
        if top_n is not None:
            body["top_n"] = top_n
        if return_documents is not False:
            body["return_documents"] = return_documents
        if rank_fields is not None:
            body["rank_fields"] = rank_fields
        return self._create_from_body(
            body,
            max_documents_per_request=max_documents_per_request,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )

    def _create_from_body(
        self,
        body: dict[str, Any],
        *,
        max_documents_per_request: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: Timeout | None,
        max_retries: int | None,
        kwargs: Mapping[str, Any],
    ) -> RerankResponse:
        """Send the body built from the typed parameters (hand-written)."""
        raise NotImplementedError

    def create_many(
        self,
        *,
        model: str,
        queries: Sequence[str],
        documents: Documents | Sequence[Documents],
        top_n: int | None = None,
        return_documents: bool = False,
        rank_fields: Sequence[str] | None = None,
        max_concurrency: int = 8,
        return_exceptions: bool = False,
        progress: bool | None = None,
        max_documents_per_request: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> list[RerankResponse | TogetherError]:
        """Rerank for each of `queries`, concurrently; the answers in the order of `queries`.

        `documents` is one list shared by every query, or one list per query.
        Each query goes through `create` (batching, retries and plugins apply).
        With `return_exceptions`, a failed query's slot holds its `TogetherError`;
        otherwise the first failure stops what is outstanding and is raised. The
        async form cancels every outstanding request when it is cancelled. After
        a failure or an interrupt (Ctrl-C) nothing more is sent for the call:
        only requests already in flight finish, within the timeout.

        Args:
            model: The name of the reranking model.
            queries: Each is sent as `query`. The search query the documents are ranked against.
            documents: The candidate documents, in the order whose indices the results refer to:
                either all strings or all objects, never a mix.
            top_n: Return only the `top_n` most relevant results.
            return_documents: Whether each result carries its document.
            rank_fields: For object documents only: the fields whose values are ranked.
            max_concurrency: At most this many queries in flight at once.
            return_exceptions: Put a failed query's TogetherError in its slot instead of raising.
            progress: A tqdm bar on stderr (None: only when stderr is a terminal).
            max_documents_per_request: Send more documents than this as batches, merged.
            extra_headers: Headers added to the request.
            extra_query: Query parameters added to the URL.
            extra_body: Fields added to the JSON body, unchecked against typed parameters.
            timeout: This call's timeout, instead of the client's.
            max_retries: This call's retry budget, instead of the client's.
            **kwargs: Further body fields, checked against the spec's types and limits.
        """
        body: dict[str, Any] = {"model": model, "documents": documents}
        if top_n is not None:
            body["top_n"] = top_n
        if return_documents is not False:
            body["return_documents"] = return_documents
        if rank_fields is not None:
            body["rank_fields"] = rank_fields
        return self._create_many_from_body(
            body,
            queries=queries,
            max_concurrency=max_concurrency,
            return_exceptions=return_exceptions,
            progress=progress,
            max_documents_per_request=max_documents_per_request,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )

    def _create_many_from_body(
        self,
        body: dict[str, Any],
        *,
        queries: Sequence[str],
        max_concurrency: int,
        return_exceptions: bool,
        progress: bool | None,
        max_documents_per_request: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: Timeout | None,
        max_retries: int | None,
        kwargs: Mapping[str, Any],
    ) -> list[RerankResponse | TogetherError]:
        """Send the body built from the typed parameters (hand-written)."""
        raise NotImplementedError


class EmbeddingsSignatures:
    """The typed methods of `Embeddings`."""

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
        """Embed one text or a list of texts; `data[i]` belongs to input `i`.

        Args:
            model: The name of the embedding model.
            input: One text, or a list of texts, to embed.
            extra_headers: Headers added to the request.
            extra_query: Query parameters added to the URL.
            extra_body: Fields added to the JSON body, unchecked against typed parameters.
            timeout: This call's timeout, instead of the client's.
            max_retries: This call's retry budget, instead of the client's.
            **kwargs: Further body fields, checked against the spec's types and limits.
        """
        body: dict[str, Any] = {"model": model, "input": input}
        return self._create_from_body(
            body,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )

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
        """Send the body built from the typed parameters (hand-written)."""
        raise NotImplementedError


class AsyncRerankSignatures:
    """The typed methods of `AsyncRerank`."""

    async def create(
        self,
        *,
        model: str,
        query: str,
        documents: Documents,
        top_n: int | None = None,
        return_documents: bool = False,
        rank_fields: Sequence[str] | None = None,
        max_documents_per_request: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> RerankResponse:
        """Rank `documents` by relevance to `query`, most relevant first.

        With `max_documents_per_request` (here or on the client) and more documents
        than that, the documents are sent in contiguous batches, concurrently (at
        most the client's `max_concurrency` at once), and the answers merged: by
        `relevance_score` descending, ties by index ascending, `index` relative to
        `documents`, `top_n` applied after the merge, `usage` summed; `id` and
        `model` are the first batch's. The merge equals the unbatched answer only
        when the server scores each document on its own (cross-encoders,
        Llama-Rank); a BM25-like scorer whose statistics come from the request's
        documents scores differently per batch. If any batch fails (after its
        retries), the call raises that error, and nothing more is sent for it:
        batches not started never start, and running ones send no retry.

        Args:
            model: The name of the reranking model.
            query: The search query the documents are ranked against.
            documents: The candidate documents, in the order whose indices the results refer to:
                either all strings or all objects, never a mix.
            top_n: Return only the `top_n` most relevant results.
            return_documents: Whether each result carries its document.
            rank_fields: For object documents only: the fields whose values are ranked.
            max_documents_per_request: Send more documents than this as batches, merged.
            extra_headers: Headers added to the request.
            extra_query: Query parameters added to the URL.
            extra_body: Fields added to the JSON body, unchecked against typed parameters.
            timeout: This call's timeout, instead of the client's.
            max_retries: This call's retry budget, instead of the client's.
            **kwargs: Further body fields, checked against the spec's types and limits.
        """
        body: dict[str, Any] = {"model": model, "query": query, "documents": documents}
        if top_n is not None:
            body["top_n"] = top_n
        if return_documents is not False:
            body["return_documents"] = return_documents
        if rank_fields is not None:
            body["rank_fields"] = rank_fields
        return await self._create_from_body(
            body,
            max_documents_per_request=max_documents_per_request,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )

    def _create_from_body(
        self,
        body: dict[str, Any],
        *,
        max_documents_per_request: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: Timeout | None,
        max_retries: int | None,
        kwargs: Mapping[str, Any],
    ) -> Awaitable[RerankResponse]:
        """Send the body built from the typed parameters (hand-written)."""
        raise NotImplementedError

    async def create_many(
        self,
        *,
        model: str,
        queries: Sequence[str],
        documents: Documents | Sequence[Documents],
        top_n: int | None = None,
        return_documents: bool = False,
        rank_fields: Sequence[str] | None = None,
        max_concurrency: int = 8,
        return_exceptions: bool = False,
        progress: bool | None = None,
        max_documents_per_request: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> list[RerankResponse | TogetherError]:
        """Rerank for each of `queries`, concurrently; the answers in the order of `queries`.

        `documents` is one list shared by every query, or one list per query.
        Each query goes through `create` (batching, retries and plugins apply).
        With `return_exceptions`, a failed query's slot holds its `TogetherError`;
        otherwise the first failure stops what is outstanding and is raised. The
        async form cancels every outstanding request when it is cancelled. After
        a failure or an interrupt (Ctrl-C) nothing more is sent for the call:
        only requests already in flight finish, within the timeout.

        Args:
            model: The name of the reranking model.
            queries: Each is sent as `query`. The search query the documents are ranked against.
            documents: The candidate documents, in the order whose indices the results refer to:
                either all strings or all objects, never a mix.
            top_n: Return only the `top_n` most relevant results.
            return_documents: Whether each result carries its document.
            rank_fields: For object documents only: the fields whose values are ranked.
            max_concurrency: At most this many queries in flight at once.
            return_exceptions: Put a failed query's TogetherError in its slot instead of raising.
            progress: A tqdm bar on stderr (None: only when stderr is a terminal).
            max_documents_per_request: Send more documents than this as batches, merged.
            extra_headers: Headers added to the request.
            extra_query: Query parameters added to the URL.
            extra_body: Fields added to the JSON body, unchecked against typed parameters.
            timeout: This call's timeout, instead of the client's.
            max_retries: This call's retry budget, instead of the client's.
            **kwargs: Further body fields, checked against the spec's types and limits.
        """
        body: dict[str, Any] = {"model": model, "documents": documents}
        if top_n is not None:
            body["top_n"] = top_n
        if return_documents is not False:
            body["return_documents"] = return_documents
        if rank_fields is not None:
            body["rank_fields"] = rank_fields
        return await self._create_many_from_body(
            body,
            queries=queries,
            max_concurrency=max_concurrency,
            return_exceptions=return_exceptions,
            progress=progress,
            max_documents_per_request=max_documents_per_request,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )

    def _create_many_from_body(
        self,
        body: dict[str, Any],
        *,
        queries: Sequence[str],
        max_concurrency: int,
        return_exceptions: bool,
        progress: bool | None,
        max_documents_per_request: int | None,
        extra_headers: Mapping[str, str] | None,
        extra_query: Mapping[str, Any] | None,
        extra_body: Mapping[str, Any] | None,
        timeout: Timeout | None,
        max_retries: int | None,
        kwargs: Mapping[str, Any],
    ) -> Awaitable[list[RerankResponse | TogetherError]]:
        """Send the body built from the typed parameters (hand-written)."""
        raise NotImplementedError


class AsyncEmbeddingsSignatures:
    """The typed methods of `AsyncEmbeddings`."""

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
        """Embed one text or a list of texts; `data[i]` belongs to input `i`.

        Args:
            model: The name of the embedding model.
            input: One text, or a list of texts, to embed.
            extra_headers: Headers added to the request.
            extra_query: Query parameters added to the URL.
            extra_body: Fields added to the JSON body, unchecked against typed parameters.
            timeout: This call's timeout, instead of the client's.
            max_retries: This call's retry budget, instead of the client's.
            **kwargs: Further body fields, checked against the spec's types and limits.
        """
        body: dict[str, Any] = {"model": model, "input": input}
        return await self._create_from_body(
            body,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        )

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
        """Send the body built from the typed parameters (hand-written)."""
        raise NotImplementedError
