"""`client.rerank`: reorder documents by relevance to a query, one query or many."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache, partial
from typing import TYPE_CHECKING, Any

import httpx

from .._base_client import APICall, AsyncAPIClient, SyncAPIClient, Timeout
from .._batching import (
    batch_top_n,
    check_max_concurrency,
    check_max_documents_per_request,
    merge_responses,
    plan_batches,
)
from .._concurrency import run_tasks, run_threads
from .._exceptions import InvalidArgumentError, InvalidArgumentTypeError, TogetherError
from .._progress import progress_bar
from .._tolerance import ResponsePolicy, parse_rerank
from .._validation import check_rerank_args, check_rerank_response, is_valid_ranking

if TYPE_CHECKING:
    from together_rerank_generated.models import RerankRequest as WireRerankRequest
    from together_rerank_generated.types import Unset

    from ..types import RerankResponse
from ._resource import Resource, asend, async_raw_method, raw_method, send

__all__ = ["AsyncRerank", "Rerank"]

Documents = Sequence[str] | Sequence[Mapping[str, Any]]

_BATCHING_DOC = """
        With `max_documents_per_request` (here or on the client) and more documents
        than that, the documents are sent in contiguous batches, concurrently (at
        most the client's `max_concurrency` at once), and the answers merged: by
        `relevance_score` descending, ties by index ascending, `index` relative to
        `documents`, `top_n` applied after the merge, `usage` summed; `id` and
        `model` are the first batch's. The merge equals the unbatched answer only
        when the server scores each document on its own (cross-encoders,
        Llama-Rank); a BM25-like scorer whose statistics come from the request's
        documents scores differently per batch. If any batch fails (after its
        retries), the call raises that error.
"""


# Not frozen, though never changed: a frozen dataclass's __init__ costs a
# call per field, a tenth of the SDK's own CPU on a small call.
@dataclass(slots=True)
class RerankArgs:
    """The checked arguments of one rerank call; builds the call for all or part of `documents`."""

    model: str
    query: str
    documents: Documents
    top_n: int | None
    return_documents: bool
    rank_fields: Sequence[str] | None
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None
    timeout: Timeout | None
    max_retries: int | None
    kwargs: Mapping[str, Any]

    def check(self) -> RerankArgs:
        """Raise `InvalidArgumentError` naming the first bad argument; return self."""
        check_rerank_args(
            model=self.model,
            query=self.query,
            documents=self.documents,
            top_n=self.top_n,
            return_documents=self.return_documents,
            rank_fields=self.rank_fields,
            extra={**self.kwargs, **self.extra_body} if self.extra_body else self.kwargs,
        )
        return self

    def call(self, batch: range | None = None) -> APICall[RerankResponse]:
        """The call for the documents in `batch` (default: all); result indices batch-relative."""
        wire_request, get_kwargs, UNSET = _generated()
        documents = list(
            self.documents if batch is None else self.documents[batch.start : batch.stop]
        )
        top_n = self.top_n if batch is None else batch_top_n(self.top_n, batch)
        wire = wire_request(
            model=self.model,
            query=self.query,
            documents=documents,
            top_n=UNSET if top_n is None else top_n,
            # Absent means false on the wire: send it only when it changes something.
            return_documents=True if self.return_documents else UNSET,
            rank_fields=UNSET if self.rank_fields is None else list(self.rank_fields),
        )
        wire.additional_properties = dict(self.kwargs)
        operation = get_kwargs(body=wire)
        return APICall(
            method=operation["method"],
            path=operation["url"],
            body=operation["json"],
            parse=partial(
                _parse,
                document_count=len(documents),
                top_n=top_n,
                return_documents=self.return_documents,
            ),
            parse_content=partial(
                _parse_content,
                document_count=len(documents),
                top_n=top_n,
                return_documents=self.return_documents,
            ),
            extra_headers=self.extra_headers,
            extra_query=self.extra_query,
            extra_body=self.extra_body,
            timeout=self.timeout,
            max_retries=self.max_retries,
            response_allowance=RESULT_BYTES * min(len(documents), top_n or len(documents)),
        )


@cache
def _generated() -> tuple[type[WireRerankRequest], Callable[..., dict[str, Any]], Unset]:
    """The generated wire model, operation and UNSET, imported on first use.

    The generated models (and attrs) stay out of `import together_rerank`; a
    cache rather than an import statement in `call`, which costs a lookup per call.
    """
    from together_rerank_generated.api.rerank import rerank as rerank_operation
    from together_rerank_generated.models import RerankRequest
    from together_rerank_generated.types import UNSET

    return RerankRequest, rerank_operation._get_kwargs, UNSET


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
    """Validate the arguments and build the single-request call (for callers outside `create`)."""
    args = RerankArgs(
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
    return args.check().call()


# A result without its document: index, score and keys, with room to spare.
RESULT_BYTES = 256


def _parse(
    response: httpx.Response,
    policy: ResponsePolicy,
    *,
    document_count: int,
    top_n: int | None,
    return_documents: bool,
) -> RerankResponse:
    parsed = parse_rerank(response.content, response, policy, return_documents=return_documents)
    assert parsed is not None  # with a response to name, it raises instead
    check_rerank_response(parsed, response, document_count=document_count, top_n=top_n)
    return parsed


def _parse_content(
    content: bytes,
    policy: ResponsePolicy,
    *,
    document_count: int,
    top_n: int | None,
    return_documents: bool,
) -> RerankResponse | None:
    parsed = parse_rerank(content, None, policy, return_documents=return_documents)
    if parsed is None:
        return None  # `_parse` says what is wrong
    valid = is_valid_ranking(parsed, document_count=document_count, top_n=top_n)
    return parsed if valid else None


def _plan(resource: Resource[Any], args: RerankArgs, per_request: object) -> list[range]:
    limit = check_max_documents_per_request(per_request)
    if limit is None:
        limit = resource._client.max_documents_per_request
    batches = plan_batches(len(args.documents), limit)
    if len(batches) > 1 and resource._raw:
        raise InvalidArgumentError(
            "max_documents_per_request",
            f"with_raw_response returns one HTTP response, but {len(args.documents)} documents "
            f"at {limit} per request need {len(batches)} requests",
        )
    return batches


def _requeried(
    exc: InvalidArgumentError, i: int, per_query_documents: bool
) -> InvalidArgumentError:
    """The same error, naming the query's place in `create_many`'s arguments."""
    param = exc.param
    if param == "query":
        param = f"queries[{i}]"
    elif per_query_documents and param.startswith("documents"):
        param = f"documents[{i}]{param.removeprefix('documents')}"
    else:
        return exc
    message = str(exc).removeprefix(f"{exc.param}: ")
    return type(exc)(param, message)


def _many_args(
    *,
    queries: Sequence[str],
    documents: Documents | Sequence[Documents],
    template: RerankArgs,
    max_concurrency: object,
    return_exceptions: object,
    progress: object,
) -> list[RerankArgs]:
    """One checked `RerankArgs` per query, or an error naming the culprit, before any request."""
    if isinstance(queries, str | bytes) or not isinstance(queries, Sequence):
        raise InvalidArgumentTypeError(
            "queries", f"must be a list of strings, not {type(queries).__name__}"
        )
    check_max_concurrency(max_concurrency)
    if not isinstance(return_exceptions, bool):
        raise InvalidArgumentTypeError("return_exceptions", "must be a bool")
    if progress is not None and not isinstance(progress, bool):
        raise InvalidArgumentTypeError("progress", "must be None (auto), True or False")
    if isinstance(documents, str | bytes) or not isinstance(documents, Sequence):
        raise InvalidArgumentTypeError(
            "documents",
            "must be a list of documents, or one such list per query, "
            f"not {type(documents).__name__}",
        )
    per_query = bool(documents) and all(
        isinstance(item, Sequence) and not isinstance(item, str | bytes) for item in documents
    )
    if per_query and len(documents) != len(queries):
        raise InvalidArgumentError(
            "documents",
            f"holds {len(documents)} lists of documents for {len(queries)} queries; "
            "give one list per query, or one list shared by all",
        )
    many: list[RerankArgs] = []
    for i, query in enumerate(queries):
        args = replace(template, query=query, documents=documents[i] if per_query else documents)  # type: ignore[arg-type]
        try:
            if per_query or i == 0:
                args.check()
            else:
                # The shared documents were checked with the first query.
                replace(args, documents=["x"], rank_fields=None).check()
        except InvalidArgumentError as exc:
            raise _requeried(exc, i, per_query) from None
        many.append(args)
    return many


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
        max_documents_per_request: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> RerankResponse:
        args = RerankArgs(
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
        ).check()
        return self._create(args, max_documents_per_request)

    create.__doc__ = (
        "Rank `documents` by relevance to `query`, most relevant first.\n" + _BATCHING_DOC
    )

    def _create(self, args: RerankArgs, max_documents_per_request: object) -> RerankResponse:
        batches = _plan(self, args, max_documents_per_request)
        if len(batches) == 1:
            return send(self, args.call())
        jobs = [partial(self._client.request, args.call(batch)) for batch in batches]
        responses = run_threads(jobs, max_workers=self._client.max_concurrency)
        return merge_responses(responses, batches, args.top_n)  # type: ignore[arg-type]

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
        otherwise the first failure stops what is outstanding and is raised.
        `progress`: a tqdm bar on stderr (None: only when stderr is a terminal).
        """
        many = _many_args(
            queries=queries,
            documents=documents,
            template=RerankArgs(
                model=model,
                query="",
                documents=(),
                top_n=top_n,
                return_documents=return_documents,
                rank_fields=rank_fields,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
                max_retries=max_retries,
                kwargs=kwargs,
            ),
            max_concurrency=max_concurrency,
            return_exceptions=return_exceptions,
            progress=progress,
        )
        parsed = Rerank(self._client)  # create_many returns parsed answers, also in raw mode
        jobs = [partial(parsed._create, args, max_documents_per_request) for args in many]
        with progress_bar(len(jobs), progress) as advance:
            return run_threads(  # type: ignore[return-value]
                jobs,
                max_workers=max_concurrency,
                capture=TogetherError if return_exceptions else (),
                on_done=advance,
            )

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
        max_documents_per_request: int | None = None,
        extra_headers: Mapping[str, str] | None = None,
        extra_query: Mapping[str, Any] | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: Timeout | None = None,
        max_retries: int | None = None,
        **kwargs: Any,
    ) -> RerankResponse:
        args = RerankArgs(
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
        ).check()
        return await self._create(args, max_documents_per_request)

    create.__doc__ = Rerank.create.__doc__

    def _create(
        self, args: RerankArgs, max_documents_per_request: object
    ) -> Awaitable[RerankResponse]:
        # A plain function returning the awaitable: one coroutine layer less per call.
        batches = _plan(self, args, max_documents_per_request)
        if len(batches) == 1:
            return asend(self, args.call())
        return self._create_batched(args, batches)

    async def _create_batched(self, args: RerankArgs, batches: list[range]) -> RerankResponse:
        jobs = [partial(self._client.request, args.call(batch)) for batch in batches]
        responses = await run_tasks(jobs, max_concurrency=self._client.max_concurrency)
        return merge_responses(responses, batches, args.top_n)  # type: ignore[arg-type]

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
        """`Rerank.create_many`, awaited; cancelling it cancels every outstanding request."""
        many = _many_args(
            queries=queries,
            documents=documents,
            template=RerankArgs(
                model=model,
                query="",
                documents=(),
                top_n=top_n,
                return_documents=return_documents,
                rank_fields=rank_fields,
                extra_headers=extra_headers,
                extra_query=extra_query,
                extra_body=extra_body,
                timeout=timeout,
                max_retries=max_retries,
                kwargs=kwargs,
            ),
            max_concurrency=max_concurrency,
            return_exceptions=return_exceptions,
            progress=progress,
        )
        parsed = AsyncRerank(self._client)
        jobs = [partial(parsed._create, args, max_documents_per_request) for args in many]
        with progress_bar(len(jobs), progress) as advance:
            return await run_tasks(  # type: ignore[return-value]
                jobs,
                max_concurrency=max_concurrency,
                capture=TogetherError if return_exceptions else (),
                on_done=advance,
            )

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
