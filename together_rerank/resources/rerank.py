"""`client.rerank`: reorder documents by relevance to a query, one query or many."""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
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
from .._spec import OPERATIONS, REQUEST_FIELDS
from .._tolerance import ResponsePolicy, parse_rerank
from .._validation import check_rerank_args, check_rerank_response, is_valid_ranking
from ._resource import Resource, asend, async_raw_method, raw_method, send
from ._signatures import AsyncRerankSignatures, Documents, RerankSignatures

if TYPE_CHECKING:
    from ..types import RerankResponse

__all__ = ["AsyncRerank", "Documents", "Rerank"]


# Not frozen, though never changed: a frozen dataclass's __init__ costs a
# call per field, a tenth of the SDK's own CPU on a small call.
@dataclass(slots=True)
class RerankArgs:
    """The checked arguments of one rerank call; builds the call for all or part of `documents`."""

    # Every request property given, by its wire name, as the generated signature
    # collected it (optional ones left at their default are absent).
    body: dict[str, Any]
    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None
    timeout: Timeout | None
    max_retries: int | None
    kwargs: Mapping[str, Any]

    @property
    def documents(self) -> Documents:
        return self.body["documents"]  # type: ignore[no-any-return]

    @property
    def top_n(self) -> int | None:
        return self.body.get("top_n")

    def check(self) -> RerankArgs:
        """Raise `InvalidArgumentError` naming the first bad argument; return self."""
        body = self.body
        # The properties the hand-written checks do not name are checked against the
        # spec's types and limits with the extra fields (`check_spec_fields`).
        others = {key: value for key, value in body.items() if key not in _CHECKED_BY_HAND}
        extra = {**self.kwargs, **self.extra_body} if self.extra_body else self.kwargs
        check_rerank_args(
            model=body["model"],
            query=body["query"],
            documents=body["documents"],
            top_n=body.get("top_n"),
            return_documents=body.get("return_documents", False),
            rank_fields=body.get("rank_fields"),
            extra={**others, **extra} if others else extra,
        )
        return self

    def call(self, batch: range | None = None) -> APICall[RerankResponse]:
        """The call for the documents in `batch` (default: all); result indices batch-relative."""
        method, path = _operation()
        body = {**self.kwargs, **self.body} if self.kwargs else dict(self.body)
        documents = list(
            self.documents if batch is None else self.documents[batch.start : batch.stop]
        )
        body["documents"] = documents
        top_n = self.top_n if batch is None else batch_top_n(self.top_n, batch)
        if top_n is not None:
            body["top_n"] = top_n
        for key in _ARRAYS.intersection(body):
            if not isinstance(body[key], list | str):
                body[key] = list(body[key])
        return_documents = bool(body.get("return_documents", False))
        return APICall(
            method=method,
            path=path,
            body=body,
            parse=partial(
                _parse,
                document_count=len(documents),
                top_n=top_n,
                return_documents=return_documents,
            ),
            parse_content=partial(
                _parse_content,
                document_count=len(documents),
                top_n=top_n,
                return_documents=return_documents,
            ),
            extra_headers=self.extra_headers,
            extra_query=self.extra_query,
            extra_body=self.extra_body,
            timeout=self.timeout,
            max_retries=self.max_retries,
            response_allowance=RESULT_BYTES * min(len(documents), top_n or len(documents)),
        )


# The request properties `check_rerank_args` checks by name; the others by the spec's rules.
_CHECKED_BY_HAND = frozenset(
    ("model", "query", "documents", "top_n", "return_documents", "rank_fields")
)
# Properties sent as JSON arrays: any sequence a caller gives goes out as a list.
_ARRAYS = frozenset(
    name for name, (types, _, _) in REQUEST_FIELDS["RerankRequest"].items() if "array" in types
)
_ORDER = tuple(REQUEST_FIELDS["RerankRequest"])


@cache
def _operation() -> tuple[str, str]:
    """The rerank operation's method and path, from the generated spec constants."""
    method, path, _ = OPERATIONS["rerank"]
    return method, path


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
    body: dict[str, Any] = {"model": model, "query": query, "documents": documents}
    optional = {"top_n": top_n, "return_documents": return_documents or None}
    body |= {key: value for key, value in optional.items() if value is not None}
    if rank_fields is not None:
        body["rank_fields"] = rank_fields
    args = RerankArgs(
        body=body,
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
        query_documents = documents[i] if per_query else documents
        args = replace(template, body=_query_body(template.body, query, query_documents))
        try:
            if per_query or i == 0:
                args.check()
            else:
                # The shared documents were checked with the first query.
                shared = _query_body(template.body, query, ["x"])
                shared.pop("rank_fields", None)
                replace(args, body=shared).check()
        except InvalidArgumentError as exc:
            raise _requeried(exc, i, per_query) from None
        many.append(args)
    return many


def _query_body(template: Mapping[str, Any], query: str, documents: object) -> dict[str, Any]:
    """`create_many`'s body for one query, its properties in the spec's order."""
    merged = {**template, "query": query, "documents": documents}
    return {key: merged[key] for key in _ORDER if key in merged}


class Rerank(RerankSignatures, Resource[SyncAPIClient]):
    """Rerank operations of `Together`."""

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
        args = RerankArgs(
            body=body,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        ).check()
        return self._create(args, max_documents_per_request)

    def _create(self, args: RerankArgs, max_documents_per_request: object) -> RerankResponse:
        batches = _plan(self, args, max_documents_per_request)
        if len(batches) == 1:
            return send(self, args.call())
        jobs = [partial(self._client.request, args.call(batch)) for batch in batches]
        responses = run_threads(jobs, max_workers=self._client.max_concurrency)
        return merge_responses(responses, batches, args.top_n)  # type: ignore[arg-type]

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
        many = _many_args(
            queries=queries,
            documents=body["documents"],
            template=RerankArgs(
                body=body,
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


class AsyncRerank(AsyncRerankSignatures, Resource[AsyncAPIClient]):
    """Rerank operations of `AsyncTogether`."""

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
        args = RerankArgs(
            body=body,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
            timeout=timeout,
            max_retries=max_retries,
            kwargs=kwargs,
        ).check()
        return self._create(args, max_documents_per_request)

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

    async def _create_many_from_body(
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
        many = _many_args(
            queries=queries,
            documents=body["documents"],
            template=RerankArgs(
                body=body,
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
