"""What every resource shares: its client, and a raw-response mode."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, ParamSpec, TypeVar, cast

from .._base_client import APICall, AsyncAPIClient, SyncAPIClient
from .._response import RawResponse

P = ParamSpec("P")
T = TypeVar("T")
C = TypeVar("C", SyncAPIClient, AsyncAPIClient)


class Resource(Generic[C]):
    """A group of API operations bound to a client; raw mode returns `RawResponse`s."""

    def __init__(self, client: C, *, raw: bool = False) -> None:
        self._client: C = client
        self._raw = raw


def send(resource: Resource[SyncAPIClient], call: APICall[T]) -> T:
    """Run a call the way the resource's mode asks: parsed, or raw (typed by `raw_method`)."""
    if resource._raw:
        return cast(T, resource._client.request_raw(call))
    return resource._client.request(call)


def asend(resource: Resource[AsyncAPIClient], call: APICall[T]) -> Awaitable[T]:
    """`send`, to await (a plain function: one coroutine layer less on every call)."""
    if resource._raw:
        return cast(Awaitable[T], resource._client.request_raw(call))
    return resource._client.request(call)


def raw_method(method: Callable[P, T]) -> Callable[P, RawResponse[T]]:
    """Retype a raw-mode resource's method: it returns the `RawResponse` of its result."""
    return cast(Callable[P, RawResponse[T]], method)


def async_raw_method(
    method: Callable[P, Awaitable[T]],
) -> Callable[P, Awaitable[RawResponse[T]]]:
    """`raw_method` for coroutine methods."""
    return cast(Callable[P, Awaitable[RawResponse[T]]], method)
