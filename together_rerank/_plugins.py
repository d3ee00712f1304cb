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

Only the drivers at the bottom of this module do I/O.
"""

from __future__ import annotations

import math
import time
from collections.abc import AsyncIterator, Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import anyio
import httpx

from ._exceptions import APIConnectionError, APITimeoutError, PluginError

__all__ = ["Flow", "Plugin", "RequestOptions", "Sleep", "run_async", "run_sync"]


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
    if not isinstance(flow, Generator):
        raise PluginError(
            plugin,
            f"handle() returned {type(flow).__name__}; it must be a generator "
            "that yields the request and returns the response",
        )
    try:
        step = next(flow)
        while True:
            _check_step(plugin, step)
            try:
                if isinstance(step, Sleep):
                    yield step
                    reply: httpx.Response | None = None
                else:
                    reply = yield from chain(plugins[1:], step, options)
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


def _connection_error(exc: httpx.TransportError, request: httpx.Request) -> APIConnectionError:
    if isinstance(exc, httpx.TimeoutException):
        return APITimeoutError(request)
    if isinstance(exc, httpx.LocalProtocolError):
        # httpx's text quotes the offending header, which may hold a secret.
        return APIConnectionError(request, "Request not sent: a header or the URL is malformed.")
    return APIConnectionError(request, f"Connection error: {type(exc).__name__}: {exc}")


def _attempt_limit(request: httpx.Request) -> float | None:
    limits = [
        value for value in request.extensions.get("timeout", {}).values() if value is not None
    ]
    return max(limits) if limits else None


class _Deadline:
    """The end of an attempt: reading a body past it raises `ReadTimeout`."""

    def __init__(self, request: httpx.Request, limit: float) -> None:
        self.request = request
        self.at = time.monotonic() + limit

    def check(self) -> None:
        if time.monotonic() > self.at:
            raise httpx.ReadTimeout("the response outlasted the timeout", request=self.request)


class _DeadlineStream(httpx.SyncByteStream):
    """A sync response body read under a `_Deadline`."""

    def __init__(self, stream: httpx.SyncByteStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._deadline.check()
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _AsyncDeadlineStream(httpx.AsyncByteStream):
    """An async response body read under a `_Deadline`."""

    def __init__(self, stream: httpx.AsyncByteStream, deadline: _Deadline) -> None:
        self._stream = stream
        self._deadline = deadline

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            self._deadline.check()
            yield chunk

    async def aclose(self) -> None:
        await self._stream.aclose()


def _send_sync(client: httpx.Client, request: httpx.Request) -> httpx.Response:
    # httpx's timeouts bound each socket operation, not the attempt: a server
    # dripping its body a byte at a time would never trip them.
    limit = _attempt_limit(request)
    if limit is None:
        return client.send(request)
    response = client.send(request, stream=True)
    try:
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _DeadlineStream(response.stream, _Deadline(request, limit))
        response.read()
    finally:
        response.close()
    return response


async def _send_async(client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
    # `_send_sync`, awaited. A deadline on the body (not a cancel scope around
    # the whole send) costs nothing per request and works on any event loop.
    limit = _attempt_limit(request)
    if limit is None:
        return await client.send(request)
    response = await client.send(request, stream=True)
    try:
        assert isinstance(response.stream, httpx.AsyncByteStream)
        response.stream = _AsyncDeadlineStream(response.stream, _Deadline(request, limit))
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
                time.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                reply = _send_sync(client, step)
            except httpx.TransportError as exc:
                step = flow.throw(_connection_error(exc, step))
            else:
                step = flow.send(reply)
    except StopIteration as stop:
        response: httpx.Response = stop.value
        return response
    finally:
        flow.close()


async def run_async(client: httpx.AsyncClient, flow: Flow) -> httpx.Response:
    """Drive a flow with an async httpx client; the same flow as `run_sync`, awaited."""
    try:
        step = next(flow)
        while True:
            if isinstance(step, Sleep):
                await anyio.sleep(step.seconds)
                step = flow.send(None)
                continue
            try:
                reply = await _send_async(client, step)
            except httpx.TransportError as exc:
                step = flow.throw(_connection_error(exc, step))
            else:
                step = flow.send(reply)
    except StopIteration as stop:
        response: httpx.Response = stop.value
        return response
    finally:
        flow.close()
