"""The plugin layer: every request passes through an ordered chain of plugins.

A plugin is a generator, so one implementation serves the sync and the async
client alike (the approach of httpx's auth flows). `handle` yields the request
it wants sent and receives the response; it may yield `Sleep(seconds)` to
wait; it returns the response its caller should see. Yield a request more than
once to retry; catch `APIConnectionError` around the yield to see network
failures. A plugin that returns without yielding answers the call itself.

    class Tracing:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            request.headers["traceparent"] = new_trace_id()
            response = yield request  # None only after a yielded Sleep
            assert response is not None
            return response

A plugin that must act only on answers the client accepts (a cache that
stores them) registers a callback with `when_accepted(response, callback)`:
the client calls it with the typed result once that response has passed the
status check, parsing and response validation (for `with_raw_response`, when
`.parse()` succeeds). A response that fails them, that a retry replaced, or that
a plugin further out swapped for another object never calls it.

Only the drivers at the bottom of this module do I/O.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from types import GeneratorType
from typing import Protocol, TypeVar

import anyio
import httpx

from ._concurrency import check_stopped, pause
from ._exceptions import (
    APIConnectionError,
    APIResponseDecodingError,
    APITimeoutError,
    PluginError,
    ResponseTooLargeError,
)
from ._transport import (
    _ATTEMPT_END,
    MAX_RESPONSE_BYTES,
    AiohttpClient,
    PooledClient,
    ResponseTooLarge,
    attempt_limit,
)

__all__ = [
    "Flow",
    "Plugin",
    "RequestOptions",
    "Sleep",
    "accepted",
    "run_async",
    "run_sync",
    "when_accepted",
]

T = TypeVar("T")

# The response extension holding the callbacks of `when_accepted`.
_ON_ACCEPTED = "together_rerank.on_accepted"


@dataclass(frozen=True)
class Sleep:
    """Yielded by a plugin to wait before its next step."""

    seconds: float


@dataclass(frozen=True)
class RequestOptions:
    """The settings in force for one call, after per-request overrides."""

    max_retries: int
    timeout: httpx.Timeout


Flow = Generator[httpx.Request | Sleep, httpx.Response | None, httpx.Response]
"""What `Plugin.handle` returns: yields requests or sleeps, returns the response."""


class Plugin(Protocol):
    """A step of the request chain; see the module docstring."""

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """Send `request` (by yielding it) and return the response."""
        ...


def when_accepted(response: httpx.Response, callback: Callable[[object], None]) -> None:
    """Call `callback(result)` once the client has accepted `response` as the typed `result`."""
    callbacks: list[Callable[[object], None]] = response.extensions.setdefault(_ON_ACCEPTED, [])
    callbacks.append(callback)


def accepted(response: httpx.Response, result: T) -> T:
    """Tell the plugins that asked (`when_accepted`) that `response` was accepted as `result`."""
    callbacks = response.extensions.pop(_ON_ACCEPTED, None) if response.extensions else None
    if callbacks:
        for callback in callbacks:
            callback(result)
    return result


def chain(plugins: Sequence[Plugin], request: httpx.Request, options: RequestOptions) -> Flow:
    """The chain as one flow: each plugin's requests go to the next plugin, the last one's out.

    A plugin that breaks the interface (does not return a generator, yields
    something other than a request or a valid `Sleep`, returns no response)
    raises `PluginError` naming it, where it happens, instead of a raw error later.
    """
    if not plugins:
        response = yield request
        assert response is not None
        return response
    plugin = plugins[0]
    flow = plugin.handle(request, options)
    # The exact type first: the ABC's check costs more than the rest of a step.
    if type(flow) is not GeneratorType and not isinstance(flow, Generator):
        raise PluginError(
            plugin,
            f"handle() returned {type(flow).__name__}; it must be a generator "
            "that yields the request and returns the response",
        )
    rest = plugins[1:]
    try:
        step = next(flow)
        while True:
            if type(step) is not httpx.Request:  # the usual step, checked at once
                _check_step(plugin, step)
            try:
                if isinstance(step, Sleep):
                    yield step
                    reply: httpx.Response | None = None
                elif rest:
                    reply = yield from chain(rest, step, options)
                else:  # the last plugin: its requests go straight out
                    reply = yield step
            except Exception as exc:
                step = flow.throw(exc)
            else:
                step = flow.send(reply)
    except StopIteration as stop:
        result: object = stop.value
        if not isinstance(result, httpx.Response):
            raise PluginError(
                plugin,
                f"handle() returned {type(result).__name__} instead of an httpx.Response; "
                "end it with `return response`",
            ) from None
        try:
            result.request  # noqa: B018 (raises when unset)
        except RuntimeError:  # an answer the plugin built itself, without request=
            result.request = request
        return result
    finally:
        flow.close()


def _check_step(plugin: Plugin, step: object) -> None:
    if isinstance(step, Sleep):
        seconds = step.seconds
        if (
            not isinstance(seconds, int | float)
            or isinstance(seconds, bool)
            or not math.isfinite(seconds)
            or seconds < 0
        ):
            raise PluginError(
                plugin, f"yielded {step!r}; a Sleep takes a finite number of seconds >= 0"
            )
    elif not isinstance(step, httpx.Request):
        raise PluginError(
            plugin,
            f"yielded {type(step).__name__}; yield the httpx.Request to send, or a Sleep",
        )


def _connection_error(exc: httpx.RequestError, request: httpx.Request) -> APIConnectionError:
    # Every transport failure is an `APIConnectionError`, so `RetryPlugin` retries
    # it: a body that fails to decode is as likely damaged in transit as a cut one.
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request)
    if isinstance(exc, httpx.DecodingError):
        return APIResponseDecodingError(request)
    if isinstance(exc, httpx.LocalProtocolError):
        # httpx's text quotes the offending header, which may hold a secret.
        return APIConnectionError(request, "Request not sent: a header or the URL is malformed.")
    return APIConnectionError(request, f"Connection error: {type(exc).__name__}: {exc}")


def _too_large(exc: ResponseTooLarge) -> ResponseTooLargeError:
    return ResponseTooLargeError(
        exc.response,
        f"Response body passed {exc.limit} bytes, more than any valid answer to this request "
        "could be (see max_response_bytes).",
    )


class _Deadline:
    """The end of an attempt: reading a body past it raises `ReadTimeout`."""

    def __init__(self, request: httpx.Request, at: float) -> None:
        self.request = request
        self.at = at

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise httpx.ReadTimeout("the response outlasted the timeout", request=self.request)


class _BoundedStream(httpx.SyncByteStream):
    """A sync response body read under a `_Deadline` and, for a 2xx, a byte limit."""

    def __init__(
        self, stream: httpx.SyncByteStream, deadline: _Deadline | None, limit: _Limit | None
    ) -> None:
        self._stream = stream
        self._deadline = deadline
        self._limit = limit

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            if self._deadline is not None:
                self._deadline.check()
            if self._limit is not None:
                self._limit.add(len(chunk))
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _AsyncBoundedStream(httpx.AsyncByteStream):
    """`_BoundedStream` for an async body (its deadline is a cancel scope instead)."""

    def __init__(self, stream: httpx.AsyncByteStream, limit: _Limit) -> None:
        self._stream = stream
        self._limit = limit

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            self._limit.add(len(chunk))
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


class _Limit:
    """Counts a 2xx body's bytes; past `limit`, raises `ResponseTooLarge`."""

    def __init__(self, response: httpx.Response, limit: int) -> None:
        self.response = response
        self.limit = limit
        self.size = 0

    def add(self, size: int) -> None:
        self.size += size
        if self.size > self.limit:
            raise ResponseTooLarge(self.response, self.limit)


def _body_limit(request: httpx.Request, response: httpx.Response) -> _Limit | None:
    limit = request.extensions.get(MAX_RESPONSE_BYTES)
    if limit is None or not response.is_success:
        return None
    return _Limit(response, limit)


def _send_sync(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    # httpx's timeouts bound each socket operation, not the attempt: a server
    # dripping its headers or body a byte at a time would never trip them. A
    # `PooledClient` ends every socket operation at the deadline; a client of
    # the user's gets the deadline on the body.
    limit = attempt_limit(request)
    at = None if limit is None else time.monotonic() + limit
    token = _ATTEMPT_END.set(at) if isinstance(client, PooledClient) else None
    try:
        response = client.send(request, stream=True)
        try:
            assert isinstance(response.stream, httpx.SyncByteStream)
            deadline = None if at is None else _Deadline(request, at)
            body_limit = _body_limit(request, response)
            if deadline is not None or body_limit is not None:
                response.stream = _BoundedStream(response.stream, deadline, body_limit)
            response.read()
        finally:
            response.close()
    finally:
        if token is not None:
            _ATTEMPT_END.reset(token)
    return response


async def _send_async(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    limit = attempt_limit(request)
    # A user's httpx client: a cancel scope over connect, headers and body.
    try:
        with anyio.fail_after(limit):
            return await _read_async(client, request)
    except TimeoutError:
        raise httpx.ReadTimeout("the attempt outlasted its timeout", request=request) from None
    except RuntimeError as exc:
        if "Event loop is closed" not in str(exc):
            raise
        # Not handed to the plugins: retrying cannot revive the pool's loop.
        raise APIConnectionError(
            request,
            "The http_client's connections belong to an event loop that has closed (an earlier "
            "asyncio.run?): create the httpx.AsyncClient inside the loop that uses it, or leave "
            "http_client unset and AsyncTogether keeps one pool per event loop.",
        ) from None


async def _read_async(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    response = await client.send(request, stream=True)
    try:
        body_limit = _body_limit(request, response)
        if body_limit is not None:
            assert isinstance(response.stream, httpx.AsyncByteStream)
            response.stream = _AsyncBoundedStream(response.stream, body_limit)
        await response.aread()
    finally:
        await response.aclose()
    return response


def run_sync(client: httpx.Client, flow: Flow) -> httpx.Response:
    """Drive a flow with a sync httpx client."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Sleep):
                # Ends at once (Cancelled) if the batched call it is part of stops.
                pause(step.seconds, time.sleep)
                step = flow.send(None)
                continue
            check_stopped()  # nothing is sent for a call that failed or was interrupted
            try:
                reply = _send_sync(client, step)
            except httpx.RequestError as exc:
                step = flow.throw(_connection_error(exc, step))
            except ResponseTooLarge as exc:
                raise _too_large(exc) from None
            else:
                step = flow.send(reply)
    except StopIteration as stop:
        response: httpx.Response = stop.value
        return response
    finally:
        flow.close()


async def run_async(
    client: httpx.AsyncClient,
    flow: Flow,
    received: Callable[[httpx.Request], httpx.Response] | None = None,
) -> httpx.Response:
    """Drive a flow with an async httpx client; the same flow as `run_sync`, awaited.

    `received`: the first request's answer, already come (the client sent it
    before it knew the chain was needed); called with that request, it returns
    the response or raises as sending it would have.
    """
    # The default pool's transport puts the whole attempt and the body limit
    # under one timer itself, and is awaited directly (a coroutine layer less).
    transport = client._aiohttp if isinstance(client, AiohttpClient) else None
    try:
        step = next(flow)
        while True:
            if isinstance(step, Sleep):
                await anyio.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                if received is not None:
                    reply = received(step)
                elif transport is None:
                    reply = await _send_async(client, step)
                else:
                    reply = await transport.handle_async_request(step)
            except httpx.RequestError as exc:
                step = flow.throw(_connection_error(exc, step))
            except ResponseTooLarge as exc:
                raise _too_large(exc) from None
            else:
                step = flow.send(reply)
            finally:
                received = None
    except StopIteration as stop:
        response: httpx.Response = stop.value
        return response
    finally:
        flow.close()
