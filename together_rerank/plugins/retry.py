"""When to retry and how long to wait: one policy, and the built-in plugin that applies it."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from .._exceptions import APIConnectionError
from .._plugins import Flow, RequestOptions, Sleep

__all__ = ["RetryPlugin", "RetryPolicy"]

# Statuses worth another try: timeouts, conflicts, rate limits, server faults.
_RETRYABLE_STATUSES = frozenset({408, 409, 429})


@dataclass(frozen=True)
class RetryPolicy:
    """The retry rules of the official Together SDK, with the jitter source injectable for tests."""

    initial_delay: float = 1.0
    max_delay: float = 10.0
    # A server-requested wait is honoured only up to this; longer ones fall
    # back to our own backoff rather than parking the caller for minutes.
    # Zero is honoured too: it is the server saying "retry now".
    max_server_delay: float = 60.0
    random: Callable[[], float] = field(default=random.random, repr=False)
    now: Callable[[], float] = field(default=time.time, repr=False)

    def should_retry(self, response: httpx.Response) -> bool:
        """Whether this response deserves another attempt."""
        override = response.headers.get("x-should-retry", "").strip().lower()
        if override == "true":
            return True
        if override == "false":
            return False
        status = response.status_code
        return status in _RETRYABLE_STATUSES or status >= 500

    def delay(self, retry: int, response: httpx.Response | None = None) -> float:
        """Seconds to wait before retry number `retry` (0-based)."""
        if response is not None:
            requested = self.server_delay(response.headers)
            if requested is not None and 0 <= requested <= self.max_server_delay:
                return requested if requested > 0 else 0.0  # "-0" too
        backoff = min(self.initial_delay * 2.0**retry, self.max_delay)
        return backoff * (1 - 0.25 * self.random())

    def server_delay(self, headers: httpx.Headers) -> float | None:
        """The wait the server asked for, from `retry-after-ms` or `Retry-After`, if any."""
        millis = headers.get("retry-after-ms")
        if millis is not None:
            try:
                return float(millis) / 1000
            except ValueError:
                pass
        after = headers.get("retry-after")
        if after is None:
            return None
        try:
            return float(after)
        except ValueError:
            pass
        try:
            when = email.utils.parsedate_to_datetime(after)
        except (TypeError, ValueError):
            return None
        return when.timestamp() - self.now()


class RetryPlugin:
    """Built-in plugin: re-sends a request while the policy allows, up to `max_retries` times."""

    def __init__(self, policy: RetryPolicy | None = None) -> None:
        self.policy = policy or RetryPolicy()

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """Send, and retry retryable failures with the policy's waits."""
        retry = 0
        while True:
            try:
                response = yield request
            except APIConnectionError:
                if retry >= options.max_retries:
                    raise
                wait = self.policy.delay(retry)
            else:
                assert response is not None
                if (
                    not response.is_error
                    or retry >= options.max_retries
                    or not self.policy.should_retry(response)
                ):
                    return response
                wait = self.policy.delay(retry, response)
            yield Sleep(wait)
            retry += 1
