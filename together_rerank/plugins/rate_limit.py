"""`RateLimitPlugin`: keep every call of a client under a requests- and tokens-per-minute budget.

One plugin instance holds one limiter, shared by every call that goes through
it: threads of a `Together`, tasks of an `AsyncTogether`, and copies made with
`with_options`. The limiter is pyrate-limiter's token bucket (GCRA): its
check never blocks and says how long to wait, so the plugin waits by yielding
`Sleep`, which the sync client sleeps in its thread and the async client awaits.

* Requests: a bucket of about one second's worth (``ceil(rpm / 60)``) that
  refills at ``requests_per_minute``, so traffic is smooth rather than a burst
  of a minute's worth followed by silence.
* Tokens (optional): before a call, its cost is estimated as one token per 4
  bytes of request body (JSON overhead included, so it errs high for English
  text); after it, the difference to the ``usage.total_tokens`` the server
  reports is carried into the next call's estimate. The bucket holds a
  minute's worth; a single call estimated above that waits for a full bucket.
* A 429 with ``Retry-After`` (or ``retry-after-ms``) holds back every call of
  the limiter until then, not only the call that got it.

The plugin sees each attempt, retries included (it is a per-attempt plugin).
"""

from __future__ import annotations

import math
import threading
import time
from typing import ClassVar

import httpx
from pyrate_limiter import (
    Decision,
    Duration,
    MonotonicClock,
    Rate,
    RateItem,
    StateBucket,
    TokenBucket,
)

from .._exceptions import InvalidArgumentError, InvalidArgumentTypeError
from .._plugins import Flow, RequestOptions, Sleep
from .retry import RetryPolicy

__all__ = ["RateLimitPlugin"]

BYTES_PER_TOKEN = 4
"""The token estimate of a request: its body's size divided by this, rounded up."""

_USAGE_KEY = b'"total_tokens"'


def _check_rate(param: str, value: object) -> int:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidArgumentTypeError(param, f"must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 1:
        raise InvalidArgumentError(param, f"must be at least 1 per minute, got {value}")
    return math.ceil(value)


class _Bucket:
    """One pyrate-limiter token bucket behind a lock: `take` admits or says how long to wait."""

    def __init__(self, per_minute: int, burst: int) -> None:
        self.burst = burst
        self._clock = MonotonicClock()
        self._bucket = StateBucket(
            [Rate(per_minute, Duration.MINUTE, burst=burst)], TokenBucket(), clock=self._clock
        )
        # The bucket records its last verdict on itself; one lock keeps verdicts per caller.
        self._lock = threading.Lock()

    def take(self, weight: int) -> float:
        """Spend `weight` units and return 0, or spend nothing and return seconds to wait."""
        weight = min(weight, self.burst)
        with self._lock:
            item = RateItem("calls", self._clock.now(), weight)
            decision = self._bucket.put_decision(item)
        assert isinstance(decision, Decision)  # an in-memory bucket answers at once
        if decision.allowed:
            return 0.0
        return max(decision.retry_after_ms or 1, 1) / 1000


def _reported_tokens(response: httpx.Response) -> int | None:
    # `usage` comes last in a rerank answer; a quote inside a JSON string is
    # escaped, so the last `"total_tokens"` key is the real one.
    content = response.content
    at = content.rfind(_USAGE_KEY)
    if at < 0:
        return None
    rest = content[at + len(_USAGE_KEY) : at + len(_USAGE_KEY) + 32].lstrip()
    if not rest.startswith(b":"):
        return None
    digits = rest[1:].lstrip()
    end = 0
    while end < len(digits) and digits[end : end + 1].isdigit():
        end += 1
    return int(digits[:end]) if end else None


class RateLimitPlugin:
    """Keeps every call of the clients holding it under a requests (and tokens) per minute rate."""

    per_attempt: ClassVar[bool] = True
    """Placed after the client's retries, so that every attempt is counted and paced."""

    def __init__(self, requests_per_minute: float, tokens_per_minute: float | None = None) -> None:
        rpm = _check_rate("requests_per_minute", requests_per_minute)
        self.requests_per_minute = rpm
        self._requests = _Bucket(rpm, burst=max(1, math.ceil(rpm / 60)))
        self.tokens_per_minute: int | None = None
        self._tokens: _Bucket | None = None
        if tokens_per_minute is not None:
            tpm = _check_rate("tokens_per_minute", tokens_per_minute)
            self.tokens_per_minute = tpm
            self._tokens = _Bucket(tpm, burst=tpm)
        self._lock = threading.Lock()
        self._carry = 0  # tokens owed (> 0) or overpaid (< 0) by the estimates so far
        self._hold_until = 0.0  # monotonic time before which no call starts (a 429's Retry-After)
        self._policy = RetryPolicy()

    def __repr__(self) -> str:
        return (
            f"RateLimitPlugin(requests_per_minute={self.requests_per_minute}, "
            f"tokens_per_minute={self.tokens_per_minute})"
        )

    def _held(self) -> float:
        with self._lock:
            return self._hold_until - time.monotonic()

    def _weight(self, estimate: int) -> int:
        # What this call spends: its estimate plus what earlier estimates owe.
        with self._lock:
            weight = max(0, estimate + self._carry)
            self._carry = estimate + self._carry - weight
        return weight

    def _settle(self, estimate: int, response: httpx.Response) -> None:
        reported = _reported_tokens(response)
        if reported is not None:
            with self._lock:
                self._carry += reported - estimate

    def _hold(self, response: httpx.Response) -> None:
        if response.status_code != 429:
            return
        delay = self._policy.server_delay(response.headers)
        if delay is None or not 0 < delay <= self._policy.max_server_delay:
            return
        with self._lock:
            self._hold_until = max(self._hold_until, time.monotonic() + delay)

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """Wait for the budget, send, and learn from the answer (429 waits, reported usage)."""
        while (held := self._held()) > 0:
            yield Sleep(held)
        while (wait := self._requests.take(1)) > 0:
            yield Sleep(wait)
        estimate = 0
        if self._tokens is not None:
            estimate = math.ceil(len(request.content) / BYTES_PER_TOKEN)
            weight = self._weight(estimate)
            while weight and (wait := self._tokens.take(weight)) > 0:
                yield Sleep(wait)
        response = yield request
        assert response is not None
        self._hold(response)
        if self._tokens is not None and response.is_success:
            self._settle(estimate, response)
        return response
