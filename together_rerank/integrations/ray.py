"""Bulk reranking on Ray Data: one `AsyncTogether` per actor, a rate limit for the whole job.

    import ray
    from together_rerank.integrations.ray import rerank_dataset

    ds = ray.data.read_parquet("candidates.parquet")  # columns: query, documents
    ranked = rerank_dataset(ds, query_column="query", documents_column="documents",
                            model="Salesforce/Llama-Rank-V1", top_n=10,
                            concurrency=4, requests_per_minute=600)

`rerank_dataset` is `ds.map_batches(TogetherReranker, ...)` with an actor pool
and, when a rate is given, the job's budget actor. Each row's documents are
reranked against its query by one request; the output keeps every input
column and row, in order, and adds (``prefix`` defaults to ``"rerank_"``):

=====================  ==================  ==========================================
column                 Arrow type          value
=====================  ==================  ==========================================
``{prefix}index``      ``list<int64>``     indices into the row's documents, best first
``{prefix}score``      ``list<double>``    their ``relevance_score``, same order
``{prefix}document``   ``list<string>``    their text (only with ``return_documents``)
``{prefix}error``      ``string``          ``"ErrorClass: message"`` or null
                                           (only with ``on_error="column"``)
=====================  ==================  ==========================================

A failed row (after the client's retries) fails the job with its error
(``on_error="raise"``), or, with ``on_error="column"``, gets null ranking
columns and its error in ``{prefix}error``; no row is ever dropped.

The rate limit is one small Ray actor holding the job's requests-per-minute
budget (`job_rate_limit`); each map actor reserves send times from it ahead
of need, without blocking its event loop, and a 429 seen by any actor holds
back every actor. See docs/scale.md for the error bound and for how many
actors a job needs.

Requires the ``ray`` extra (``pip install 'together-rerank[ray]'``).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import deque
from collections.abc import Generator, Mapping, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Literal

import httpx
import ray
import ray.data

from .._client import AsyncTogether
from .._exceptions import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    RateLimitError,
    TogetherError,
    make_status_error,
)
from .._plugins import Flow, Plugin, RequestOptions, Sleep
from .._validation import check_rerank_args
from ..plugins.rate_limit import DEFAULT_MAX_WAIT
from ..plugins.retry import RetryPolicy

if TYPE_CHECKING:
    from ..types import RerankResponse

__all__ = [
    "DEFAULT_RATE_LIMIT_NAME",
    "JobRateLimitError",
    "TogetherReranker",
    "job_rate_limit",
    "rerank_dataset",
]

OnError = Literal["raise", "column"]

DEFAULT_RATE_LIMIT_NAME = "together-rerank-rate-limit"
"""The Ray actor name `job_rate_limit` creates or finds, so that stages of one job share it."""

# Options of create_many that are not fields of the request body.
_CALL_OPTIONS = frozenset(
    {"max_documents_per_request", "extra_headers", "extra_query", "extra_body"}
)
# A 429 without Retry-After holds every actor back this long.
_DEFAULT_HOLD_SECONDS = 1.0
# How often a request waiting for its slot looks again while a reservation is on its way.
_POLL_SECONDS = 0.005
# How long one watch for holds waits at the budget actor before asking again.
_WATCH_SECONDS = 30.0
# Longest wait for the budget actor's answer before the request fails.
_RESERVE_TIMEOUT_SECONDS = 60.0


class JobRateLimitError(TogetherError):
    """The job's rate-limit actor could not be reached, so no request was sent."""


# The job's budget (runs as a Ray actor) ---------------------------------------


class _Budget:
    """Hands out send times spaced ``60 / requests_per_minute`` apart, to every actor of a job.

    Strictly spaced (no burst): in any window of W seconds at most
    ``W * rpm / 60 + 1`` send times fall. Times are given as delays from the
    moment of the answer, so clocks of different nodes never meet. An async
    actor, so that every map actor can keep a `watch` waiting for the next hold.
    """

    def __init__(self, requests_per_minute: float) -> None:
        self.requests_per_minute = requests_per_minute
        self._interval = 60.0 / requests_per_minute
        self._next = time.monotonic()
        self._hold_until = 0.0
        self._holds = 0
        self._new_hold = asyncio.Event()

    async def limit(self) -> float:
        """The requests per minute this budget allows."""
        return self.requests_per_minute

    async def reserve(self, count: int) -> tuple[list[float], float]:
        """`count` send times (seconds from now) and how long any hold still lasts."""
        now = time.monotonic()
        start = max(self._next, self._hold_until, now)
        self._next = start + count * self._interval
        delays = [start - now + i * self._interval for i in range(count)]
        return delays, max(0.0, self._hold_until - now)

    async def hold(self, seconds: float) -> None:
        """Send nothing more for `seconds` (a 429 asked for it), and tell every watcher."""
        until = time.monotonic() + seconds
        if until > self._hold_until:
            self._hold_until = until
            self._holds += 1
            self._new_hold.set()
            self._new_hold = asyncio.Event()

    async def watch(self, seen: int, timeout: float) -> tuple[int, float]:
        """After a hold newer than the `seen`-th (or `timeout`): holds so far, seconds left."""
        if self._holds == seen:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._new_hold.wait(), timeout)
        return self._holds, max(0.0, self._hold_until - time.monotonic())


def _check_rate(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidArgumentTypeError(
            "requests_per_minute", f"must be a number, not {type(value).__name__}"
        )
    if not math.isfinite(value) or value <= 0:
        raise InvalidArgumentError("requests_per_minute", f"must be > 0, got {value}")
    return float(value)


def job_rate_limit(requests_per_minute: float, *, name: str = DEFAULT_RATE_LIMIT_NAME) -> Any:
    """The job's budget actor named `name`: created with this rate, or found if it exists.

    Call it in the driver (the actor lives as long as the driver's job) and pass
    the handle to `TogetherReranker(rate_limit=...)`. An existing actor of that
    name with another rate is an error, not silently reused.
    """
    rpm = _check_rate(requests_per_minute)
    actor_class: Any = ray.remote(num_cpus=0, max_restarts=-1)(_Budget)
    handle = actor_class.options(name=name, get_if_exists=True).remote(rpm)
    existing: float = ray.get(handle.limit.remote(), timeout=_RESERVE_TIMEOUT_SECONDS)
    if existing != rpm:
        raise InvalidArgumentError(
            "requests_per_minute",
            f"the rate-limit actor {name!r} already allows {existing:g} per minute; "
            f"pass another name= for a separate budget",
        )
    return handle


# This actor's share: send times reserved ahead of need ------------------------


class _Slots:
    """Send times this map actor has reserved from the job's budget, and any 429 hold.

    Used only from the actor's event loop thread, by the plugin (sync code) and
    the refill task it starts, so it needs no lock. A request that finds no
    time waits by polling briefly while one reservation, for every request then
    waiting, is awaited: the loop is never blocked on the budget actor.
    """

    def __init__(self, budget: Any) -> None:
        self._budget = budget
        self._times: deque[float] = deque()
        self._waiting = 0
        self._refill: asyncio.Task[None] | None = None
        self._watcher: asyncio.Task[None] | None = None
        self._error: BaseException | None = None
        self.hold_until = 0.0

    def acquire(self) -> Generator[Sleep, object, float]:
        """Wait (by yielding `Sleep`) until a send time is reserved for the caller; return it."""
        self._waiting += 1
        try:
            while (at := self._take()) is None:
                self._want()
                yield Sleep(_POLL_SECONDS)
        finally:
            self._waiting -= 1
        return at

    def hold(self, seconds: float) -> None:
        """Hold this actor back now, and the others once the budget tells their watch."""
        self.hold_until = max(self.hold_until, time.monotonic() + seconds)
        self._budget.hold.remote(seconds)  # fire and forget: the answer changes nothing here

    def _take(self) -> float | None:
        # Times inside a hold were spent by the budget; using them would earn more 429s.
        while self._times and self._times[0] < self.hold_until:
            self._times.popleft()
        return self._times.popleft() if self._times else None

    def _want(self) -> None:
        if self._error is not None:
            raise JobRateLimitError(
                f"the job's rate-limit actor did not answer: {type(self._error).__name__}: "
                f"{self._error}"
            ) from self._error
        loop = asyncio.get_running_loop()
        if self._refill is None or self._refill.done():
            self._refill = loop.create_task(self._fill())
        if self._watcher is None:
            self._watcher = loop.create_task(self._watch())

    async def _fill(self) -> None:
        try:
            while (missing := self._waiting - len(self._times)) > 0:
                reply = self._budget.reserve.remote(missing)
                delays, held = await asyncio.wait_for(reply, _RESERVE_TIMEOUT_SECONDS)
                now = time.monotonic()
                self.hold_until = max(self.hold_until, now + held)
                self._times.extend(now + delay for delay in delays)
        except Exception as exc:
            self._error = exc

    async def _watch(self) -> None:
        # Another actor's 429 reaches this one within a round trip, not only
        # with its next reservation: times already reserved inside the hold
        # are then dropped instead of earning 429s of their own.
        seen = 0
        while True:
            try:
                reply = self._budget.watch.remote(seen, _WATCH_SECONDS)
                seen, held = await asyncio.wait_for(
                    reply, _WATCH_SECONDS + _RESERVE_TIMEOUT_SECONDS
                )
            except Exception:
                # Reservations still carry holds; a failing budget fails them.
                await asyncio.sleep(_WATCH_SECONDS)
                continue
            self.hold_until = max(self.hold_until, time.monotonic() + held)


class _JobRateLimitPlugin:
    """Paces every attempt of this actor's client by the job's budget; reports 429s to it."""

    per_attempt: ClassVar[bool] = True
    """Inside the retries: every attempt spends budget, and every 429 is seen."""

    def __init__(self, slots: _Slots) -> None:
        self._slots = slots
        self._policy = RetryPolicy()

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """Wait for a reserved send time outside any hold, send, and share a 429's hold."""
        while True:
            at = yield from self._slots.acquire()
            if (wait := at - time.monotonic()) > 0:
                yield Sleep(wait)
            if time.monotonic() >= self._slots.hold_until:
                break
        response = yield request
        assert response is not None
        if response.status_code == 429:
            delay = self._policy.server_delay(response.headers)
            if delay is None or not (math.isfinite(delay) and delay > 0):
                delay = _DEFAULT_HOLD_SECONDS
            # The whole wait the server asked for, as RateLimitPlugin keeps it: the
            # retry policy's 60 s cap is for one call's backoff, not for the job.
            self._slots.hold(min(delay, DEFAULT_MAX_WAIT))
            if delay > DEFAULT_MAX_WAIT:
                status = make_status_error(response)
                raise RateLimitError(
                    f"{status} (the job's rate limit: the server asked for {delay:.0f} s "
                    f"without requests, more than the {DEFAULT_MAX_WAIT:g} s a job waits)",
                    response=response,
                    body=status.body,
                )
        return response


# Batches in and out ----------------------------------------------------------


def _column(batch: Any, name: str) -> list[Any]:
    """A column of a numpy-dict, pandas or pyarrow batch as Python values."""
    try:
        values = batch[name]
    except KeyError:
        raise InvalidArgumentError(name, "no such column in the batch") from None
    if hasattr(values, "to_pylist"):  # pyarrow
        return list(values.to_pylist())
    if hasattr(values, "tolist"):  # numpy, pandas
        return list(values.tolist())
    return list(values)


def _documents(value: Any) -> Any:
    # A numpy batch holds each row's list as an array; the SDK wants a list.
    return value.tolist() if hasattr(value, "tolist") else value


def _with_columns(batch: Any, columns: Mapping[str, tuple[Any, list[Any]]]) -> Any:
    """`batch` (same format) with the columns added; each is (Arrow type, values)."""
    import pyarrow as pa

    if isinstance(batch, pa.Table):
        for name, (kind, values) in columns.items():
            if name in batch.column_names:
                batch = batch.drop_columns([name])
            batch = batch.append_column(name, pa.array(values, type=kind))
        return batch
    if isinstance(batch, Mapping):
        return {**batch, **{name: values for name, (_, values) in columns.items()}}
    # pandas: a copy, since the batch may be a read-only view.
    return batch.assign(**{name: values for name, (_, values) in columns.items()})


# The map_batches stage ---------------------------------------------------------


class TogetherReranker:
    """A `map_batches` callable class: reranks each row's documents against its query.

    One `AsyncTogether` per actor, created on the first batch in the event
    loop Ray Data keeps for async stages, so the loop and its connection pool
    live across batches. Up to `max_concurrency` requests per batch are in
    flight (Ray runs a few batches of an async stage at once: 4 by default).
    Keyword arguments the class does not know go into each request's body.
    """

    def __init__(
        self,
        *,
        model: str,
        query_column: str = "query",
        documents_column: str = "documents",
        top_n: int | None = None,
        return_documents: bool = False,
        rank_fields: Sequence[str] | None = None,
        on_error: OnError = "raise",
        prefix: str = "rerank_",
        max_concurrency: int = 8,
        rate_limit: Any = None,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | None = None,
        max_retries: int | None = None,
        **options: Any,
    ) -> None:
        _check_settings(on_error=on_error, max_concurrency=max_concurrency, prefix=prefix)
        self.model = model
        self.query_column = query_column
        self.documents_column = documents_column
        self.top_n = top_n
        self.return_documents = return_documents
        self.rank_fields = rank_fields
        self.on_error: OnError = on_error
        self.prefix = prefix
        self.max_concurrency = max_concurrency
        self.options = options
        self._rate_limit = rate_limit
        self._client_settings: dict[str, Any] = {
            "api_key": api_key,
            "base_url": base_url,
            "timeout": timeout,
            "max_retries": max_retries,
        }
        self._client: AsyncTogether | None = None

    def __repr__(self) -> str:
        # Never the API key.
        return f"TogetherReranker(model={self.model!r}, on_error={self.on_error!r})"

    def _get_client(self) -> AsyncTogether:
        if self._client is None:
            plugins: list[Plugin] = []
            if self._rate_limit is not None:
                plugins = [_JobRateLimitPlugin(_Slots(self._rate_limit))]
            self._client = AsyncTogether(**self._client_settings, plugins=plugins)
        return self._client

    async def __call__(self, batch: Any) -> Any:
        """Rerank every row of `batch`; return it with the ranking columns added."""
        queries = _column(batch, self.query_column)
        documents = [_documents(value) for value in _column(batch, self.documents_column)]
        results = await self._rank(queries, documents)
        return _with_columns(batch, self._columns(results))

    async def _rank(
        self, queries: list[Any], documents: list[Any]
    ) -> list[RerankResponse | TogetherError]:
        results: list[RerankResponse | TogetherError | None] = [None] * len(queries)
        if self.on_error == "column":
            # create_many checks every row before sending any; a bad row must
            # land in its own error cell, not fail the rows beside it.
            for i, (query, docs) in enumerate(zip(queries, documents, strict=True)):
                results[i] = self._invalid(query, docs)
        rows = [i for i, result in enumerate(results) if result is None]
        if not rows:
            return results  # type: ignore[return-value]  # all errors
        answers = await self._get_client().rerank.create_many(
            model=self.model,
            queries=[queries[i] for i in rows],
            documents=[documents[i] for i in rows],
            top_n=self.top_n,
            return_documents=self.return_documents,
            rank_fields=self.rank_fields,
            max_concurrency=self.max_concurrency,
            return_exceptions=self.on_error == "column",
            progress=False,
            **self.options,
        )
        for i, answer in zip(rows, answers, strict=True):
            results[i] = answer
        assert all(result is not None for result in results)  # every row answered
        return results  # type: ignore[return-value]

    def _invalid(self, query: Any, documents: Any) -> InvalidArgumentError | None:
        try:
            check_rerank_args(
                model=self.model,
                query=query,
                documents=documents,
                top_n=self.top_n,
                return_documents=self.return_documents,
                rank_fields=self.rank_fields,
                extra={k: v for k, v in self.options.items() if k not in _CALL_OPTIONS},
            )
        except InvalidArgumentError as exc:
            return exc
        return None

    def _columns(
        self, results: list[RerankResponse | TogetherError]
    ) -> dict[str, tuple[Any, list[Any]]]:
        import pyarrow as pa

        indices: list[list[int] | None] = []
        scores: list[list[float] | None] = []
        texts: list[list[str | None] | None] = []
        errors: list[str | None] = []
        for result in results:
            if isinstance(result, TogetherError):
                indices.append(None)
                scores.append(None)
                texts.append(None)
                errors.append(f"{type(result).__name__}: {result}")
                continue
            indices.append([choice.index for choice in result.results])
            scores.append([choice.relevance_score for choice in result.results])
            texts.append([(choice.document or {}).get("text") for choice in result.results])
            errors.append(None)
        p = self.prefix
        columns: dict[str, tuple[Any, list[Any]]] = {
            f"{p}index": (pa.list_(pa.int64()), indices),
            f"{p}score": (pa.list_(pa.float64()), scores),
        }
        if self.return_documents:
            columns[f"{p}document"] = (pa.list_(pa.string()), texts)
        if self.on_error == "column":
            columns[f"{p}error"] = (pa.string(), errors)
        return columns


def _check_settings(*, on_error: object, max_concurrency: object, prefix: object) -> None:
    if on_error not in ("raise", "column"):
        raise InvalidArgumentError("on_error", f"must be 'raise' or 'column', got {on_error!r}")
    if not isinstance(max_concurrency, int) or isinstance(max_concurrency, bool):
        raise InvalidArgumentTypeError("max_concurrency", "must be an integer")
    if max_concurrency < 1:
        raise InvalidArgumentError("max_concurrency", f"must be >= 1, got {max_concurrency}")
    if not isinstance(prefix, str):
        raise InvalidArgumentTypeError("prefix", "must be a string")


def rerank_dataset(
    ds: ray.data.Dataset,
    *,
    query_column: str,
    documents_column: str,
    model: str,
    top_n: int | None = None,
    return_documents: bool = False,
    on_error: OnError = "raise",
    concurrency: int = 1,
    batch_size: int = 64,
    max_concurrency: int = 8,
    requests_per_minute: float | None = None,
    rate_limit_name: str = DEFAULT_RATE_LIMIT_NAME,
    **reranker_options: Any,
) -> ray.data.Dataset:
    """`ds` with each row's documents reranked against its query (columns in the module doc).

    `concurrency` actors (a fixed pool), `batch_size` rows per batch; with
    `requests_per_minute`, every actor shares one budget (`job_rate_limit`).
    Other keyword arguments go to `TogetherReranker`.
    """
    _check_settings(on_error=on_error, max_concurrency=max_concurrency, prefix="")
    for param, value in (("concurrency", concurrency), ("batch_size", batch_size)):
        if not isinstance(value, int) or isinstance(value, bool):
            raise InvalidArgumentTypeError(param, "must be an integer")
        if value < 1:
            raise InvalidArgumentError(param, f"must be >= 1, got {value}")
    rate_limit = None
    if requests_per_minute is not None:
        rate_limit = job_rate_limit(requests_per_minute, name=rate_limit_name)
    return ds.map_batches(
        TogetherReranker,
        fn_constructor_kwargs={
            "model": model,
            "query_column": query_column,
            "documents_column": documents_column,
            "top_n": top_n,
            "return_documents": return_documents,
            "on_error": on_error,
            "max_concurrency": max_concurrency,
            "rate_limit": rate_limit,
            **reranker_options,
        },
        compute=ray.data.ActorPoolStrategy(size=concurrency),
        batch_size=batch_size,
        batch_format="pyarrow",
        # Actors wait on the network, not on a core.
        num_cpus=0.25,
        udf_modifying_row_count=False,
    )
