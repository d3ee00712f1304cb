"""Raw access to an API call's HTTP response."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

import httpx

from ._secrets import display_url
from ._tolerance import Deviation

__all__ = ["RawResponse"]

T = TypeVar("T")


class RawResponse(Generic[T]):
    """The HTTP response of a successful call; `.parse()` gives the typed result."""

    def __init__(self, http_response: httpx.Response, parse: Callable[[httpx.Response], T]) -> None:
        self.http_response = http_response
        self._parse = parse
        self._parsed: T | None = None

    @property
    def status_code(self) -> int:
        """The HTTP status code."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response headers."""
        return self.http_response.headers

    @property
    def content(self) -> bytes:
        """The raw response body."""
        return self.http_response.content

    @property
    def request_id(self) -> str | None:
        """The server's request id, if it sent one."""
        request_id: str | None = self.http_response.headers.get("x-request-id")
        return request_id

    def parse(self) -> T:
        """Parse and validate the body, as the non-raw call would have."""
        if self._parsed is None:
            self._parsed = self._parse(self.http_response)
        return self._parsed

    @property
    def deviations(self) -> tuple[Deviation, ...]:
        """What `.parse()` tolerated: how the body differed from the spec in form (parses it)."""
        found: tuple[Deviation, ...] = getattr(self.parse(), "deviations", ())
        return found

    def __repr__(self) -> str:
        return f"<RawResponse [{self.status_code}] {display_url(self.http_response.request.url)}>"
