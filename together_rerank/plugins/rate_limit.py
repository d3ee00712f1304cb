"""`RateLimitPlugin`: keep every call of a client under a requests- and tokens-per-minute budget.

One plugin instance holds one limiter, shared by every call that goes through
it: threads of a `Together`, tasks of an `AsyncTogether`, and copies made with
`with_options`. The limiter is pyrate-limiter's token bucket (GCRA): its
check never blocks and says how long to wait, so the plugin waits by yielding
`Sleep`, which the sync client sleeps in its thread and the async client awaits.

* Requests: a bucket of about one second's worth (``floor(rpm / 60)``, at
  least 1) that refills at ``requests_per_minute``, so traffic is smooth
  rather than a burst of a minute's worth followed by silence.
* Tokens (optional): before a call, its cost is estimated as one token per 4
  bytes of request body (JSON overhead included, so it errs high for English
  text); after it, the difference to the ``usage.total_tokens`` the server
  reports is carried into the next call's estimate. The bucket holds a
  minute's worth (``floor(tpm)``); a single call estimated above that waits
  for a full bucket.
* Rates are kept exactly, fractions included (1.5 per minute is one request
  every 40 s): over any span of t seconds at most ``burst + rate * t / 60``
  go out, never more (pyrate-limiter rounds its interval up, to the strict side).
* A 429 with ``Retry-After`` (or ``retry-after-ms``, or an HTTP date) holds
  back every call of the limiter for as long as the server asked, retries
  included, up to `max_wait` seconds (default 300). A 429 asking for longer
  raises `RateLimitError` at once, and so does every call of the limiter until
  the time the server named has passed: no call waits longer than `max_wait`,
  and none is sent before the server said.

The plugin sees each attempt, retries included (it is a per-attempt plugin).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Generator
from fractions import Fraction
from typing import ClassVar

import httpx
from pyrate_limiter import (
    AbstractClock,
    Decision,
    Duration,
    Rate,
    RateItem,
    StateBucket,
    TokenBucket,
)

from .._exceptions import (
    InvalidArgumentError,
    InvalidArgumentTypeError,
    RateLimitError,
    make_status_error,
)
from .._plugins import Flow, RequestOptions, Sleep
from .retry import RetryPolicy

__all__ = ["RateLimitPlugin"]

BYTES_PER_TOKEN = 4
"""The token estimate of a request: its body's size divided by this, rounded up."""

DEFAULT_MAX_WAIT = 300.0
"""Seconds `RateLimitPlugin` holds calls at most for a server's ``Retry-After``."""

_USAGE_KEY = b'"total_tokens"'

# The limiter's time, in seconds (tests put it on a virtual clock).
_now = time.monotonic


class _Clock(AbstractClock):
    """pyrate-limiter's view of `_now`, in milliseconds."""

    def now(self) -> int:
        return int(_now() * 1000)


def _check_rate(param: str, value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidArgumentTypeError(param, f"must be a number, not {type(value).__name__}")
    if not math.isfinite(value) or value < 1:
        raise InvalidArgumentError(param, f"must be at least 1 per minute, got {value}")
    return value


def _check_max_wait(value: object) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise InvalidArgumentTypeError("max_wait", f"must be a number, not {type(value).__name__}")
    if not (math.isfinite(value) and value > 0):
        raise InvalidArgumentError(
            "max_wait", f"must be a finite number of seconds > 0, got {value}"
        )
    return float(value)


def _exact_rate(per_minute: float, burst: int) -> Rate:
    """`per_minute` as pyrate-limiter's whole units per whole milliseconds, exactly.

    The float's exact value is a fraction p/q: p units every q minutes. Rounding
    the rate up (the old ``ceil``) sent 2 a minute for 1.5, 33 % over.
    """
    fraction = Fraction(per_minute)
    return Rate(fraction.numerator, Duration.MINUTE.value * fraction.denominator, burst=burst)


class _Bucket:
    """One pyrate-limiter token bucket behind a lock: `take` admits or says how long to wait."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.burst = burst
        self._clock = _Clock()
        self._bucket = StateBucket(
            [_exact_rate(per_minute, burst)], TokenBucket(), clock=self._clock
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

    def __init__(
        self,
        requests_per_minute: float,
        tokens_per_minute: float | None = None,
        *,
        max_wait: float = DEFAULT_MAX_WAIT,
    ) -> None:
        rpm = _check_rate("requests_per_minute", requests_per_minute)
        self.requests_per_minute = rpm
        # A second's worth, never more: rounding up would let a burst exceed the rate.
        self._requests = _Bucket(rpm, burst=max(1, math.floor(rpm / 60)))
        self.tokens_per_minute: float | None = None
        self._tokens: _Bucket | None = None
        if tokens_per_minute is not None:
            tpm = _check_rate("tokens_per_minute", tokens_per_minute)
            self.tokens_per_minute = tpm
            self._tokens = _Bucket(tpm, burst=math.floor(tpm))
        self.max_wait = _check_max_wait(max_wait)
        """The longest a server's ``Retry-After`` holds calls; beyond it, `RateLimitError`."""
        self._lock = threading.Lock()
        self._carry = 0  # tokens owed (> 0) or overpaid (< 0) by the estimates so far
        self._hold_until = 0.0  # `_now()` before which no call is sent (a 429's Retry-After)
        self._hold_response: httpx.Response | None = None  # the 429 that asked for it
        self._policy = RetryPolicy()

    def __repr__(self) -> str:
        return (
            f"RateLimitPlugin(requests_per_minute={self.requests_per_minute}, "
            f"tokens_per_minute={self.tokens_per_minute}, max_wait={self.max_wait})"
        )

    def _held(self) -> float:
        with self._lock:
            return self._hold_until - _now()

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
        if delay is None or not (math.isfinite(delay) and delay > 0):
            return
        with self._lock:
            until = _now() + delay
            if until > self._hold_until:
                self._hold_until = until
                self._hold_response = response
        if delay > self.max_wait:
            raise self._refusal(response, delay, earlier=False)

    def _refusal(self, response: httpx.Response, delay: float, *, earlier: bool) -> RateLimitError:
        status = make_status_error(response)
        source = "a 429 to an earlier request" if earlier else "the server"
        return RateLimitError(
            f"{status} (RateLimitPlugin: {source} asked for {delay:.0f} s without requests, "
            f"more than its max_wait={self.max_wait:g} s; every call of this limiter fails "
            "at once until then)",
            response=response,
            body=status.body,
        )

    def _wait_for_hold(self) -> Generator[Sleep, httpx.Response | None, None]:
        """Sleep out a server's hold, or raise `RateLimitError` at once if it outlasts max_wait."""
        while (held := self._held()) > 0:
            if held > self.max_wait:
                with self._lock:
                    response = self._hold_response
                assert response is not None
                raise self._refusal(response, held, earlier=True)
            yield Sleep(held)

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        """Wait for the budget, send, and learn from the answer (429 waits, reported usage)."""
        yield from self._wait_for_hold()
        while (wait := self._requests.take(1)) > 0:
            yield Sleep(wait)
        estimate = 0
        if self._tokens is not None:
            estimate = math.ceil(len(request.content) / BYTES_PER_TOKEN)
            weight = self._weight(estimate)
            while weight and (wait := self._tokens.take(weight)) > 0:
                yield Sleep(wait)
        # A 429 to another call may have come while this one waited for the budget.
        yield from self._wait_for_hold()
        response = yield request
        assert response is not None
        self._hold(response)
        if self._tokens is not None and response.is_success:
            self._settle(estimate, response)
        return response
