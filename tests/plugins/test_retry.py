"""The retry policy, end to end (attempt counts, recorded waits) and rule by rule."""

from __future__ import annotations

import email.utils
import time

import httpx
import pytest

from tests.client.helpers import DOCS, MODEL, Caller, MockAPI, SleepRecorder, error
from tests.reliability.faultserver import FaultServer, Respond
from tests.reliability.support import Mode, assert_valid_ranking
from together_rerank import (
    APIConnectionError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    RetryPolicy,
)


def _backoff(retry: int) -> tuple[float, float]:
    """The (low, high) bounds of the backoff before retry number `retry` (0-based)."""
    high = min(2.0**retry, 10.0)
    return 0.75 * high, high


def _assert_backoff(waits: list[float]) -> None:
    for retry, wait in enumerate(waits):
        low, high = _backoff(retry)
        assert low <= wait <= high, (retry, wait)


def _rerank(mode: Caller, api: MockAPI, **client: object) -> None:
    mode.rerank(api, client=client, model=MODEL, query="q", documents=DOCS)


# --- which answers are retried --------------------------------------------------------

RETRYABLE = [408, 409, 429, 500, 502, 503, 504, 520, 599]
NOT_RETRYABLE = [400, 401, 403, 404, 405, 413, 418, 422, 499]


@pytest.mark.parametrize("status", RETRYABLE)
def test_retryable_status_is_retried_until_max_retries(
    mode: Caller, sleeps: SleepRecorder, status: int
) -> None:
    api = MockAPI(*(error(status) for _ in range(3)))
    with pytest.raises(APIStatusError) as info:
        _rerank(mode, api)
    assert info.value.status_code == status
    assert api.calls == 3  # the first attempt and max_retries=2 retries
    assert len(sleeps) == 2
    _assert_backoff(sleeps)


@pytest.mark.parametrize("status", RETRYABLE)
def test_retryable_status_then_success(mode: Caller, sleeps: SleepRecorder, status: int) -> None:
    api = MockAPI(error(status), error(status))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert result.results is not None
    assert api.calls == 3
    assert len(sleeps) == 2


@pytest.mark.parametrize("status", NOT_RETRYABLE)
def test_other_4xx_are_not_retried(mode: Caller, sleeps: SleepRecorder, status: int) -> None:
    api = MockAPI(error(status))
    with pytest.raises(APIStatusError):
        _rerank(mode, api)
    assert api.calls == 1
    assert sleeps == []


def test_success_is_not_retried(mode: Caller, sleeps: SleepRecorder) -> None:
    api = MockAPI()
    _rerank(mode, api)
    assert api.calls == 1
    assert sleeps == []


def test_x_should_retry_true_retries_a_4xx(mode: Caller) -> None:
    api = MockAPI(error(400, headers={"x-should-retry": "true"}))
    _rerank(mode, api)
    assert api.calls == 2


def test_x_should_retry_false_stops_a_5xx(mode: Caller, sleeps: SleepRecorder) -> None:
    api = MockAPI(error(503, headers={"x-should-retry": "false"}))
    with pytest.raises(APIStatusError):
        _rerank(mode, api)
    assert api.calls == 1
    assert sleeps == []


def test_x_should_retry_is_case_insensitive(mode: Caller) -> None:
    api = MockAPI(error(400, headers={"X-Should-Retry": " TRUE "}))
    _rerank(mode, api)
    assert api.calls == 2


def test_x_should_retry_true_still_respects_max_retries(mode: Caller) -> None:
    api = MockAPI(*(error(400, headers={"x-should-retry": "true"}) for _ in range(5)))
    with pytest.raises(BadRequestError):
        _rerank(mode, api, max_retries=1)
    assert api.calls == 2


def test_x_should_retry_other_values_are_ignored(mode: Caller) -> None:
    api = MockAPI(error(400, headers={"x-should-retry": "maybe"}))
    with pytest.raises(BadRequestError):
        _rerank(mode, api)
    assert api.calls == 1


# --- how long to wait -----------------------------------------------------------------


def _http_date(seconds_from_now: float) -> str:
    return email.utils.formatdate(time.time() + seconds_from_now, usegmt=True)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"retry-after-ms": "60000"}, 60.0),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after": "60"}, 60.0),
        # retry-after-ms wins over Retry-After; an unreadable one is skipped.
        ({"retry-after-ms": "250", "retry-after": "7"}, 0.25),
        ({"retry-after-ms": "soon", "retry-after": "7"}, 7.0),
    ],
)
def test_server_requested_wait_is_honoured(
    mode: Caller, sleeps: SleepRecorder, headers: dict[str, str], expected: float
) -> None:
    api = MockAPI(error(429, headers=headers))
    _rerank(mode, api)
    assert api.calls == 2
    assert sleeps == [expected]


def test_retry_after_http_date(mode: Caller, sleeps: SleepRecorder) -> None:
    api = MockAPI(error(503, headers={"retry-after": _http_date(10)}))
    _rerank(mode, api)
    assert api.calls == 2
    assert len(sleeps) == 1
    # HTTP dates have one-second resolution.
    assert 8.5 <= sleeps[0] <= 10.0


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "0"},
        {"retry-after": "0.0"},
        {"retry-after": "-0"},
        {"retry-after-ms": "0"},
        {"retry-after-ms": "0", "retry-after": "7"},
    ],
)
def test_a_requested_wait_of_zero_retries_at_once(
    mode: Caller, sleeps: SleepRecorder, headers: dict[str, str]
) -> None:
    """`Retry-After: 0` is the server saying "now", not a missing value (failed before: backoff)."""
    api = MockAPI(error(429, headers=headers))
    _rerank(mode, api)
    assert api.calls == 2
    assert sleeps == [0.0]


@pytest.mark.parametrize(
    "headers",
    [
        {"retry-after": "-5"},
        {"retry-after": "61"},
        {"retry-after": "3600"},
        {"retry-after-ms": "60001"},
        {"retry-after": "nan"},
        {"retry-after": "inf"},
        {"retry-after": "soon"},
        {"retry-after": ""},
        {"retry-after-ms": "-100"},
    ],
)
def test_waits_outside_0_to_60s_fall_back_to_backoff(
    mode: Caller, sleeps: SleepRecorder, headers: dict[str, str]
) -> None:
    api = MockAPI(error(429, headers=headers))
    _rerank(mode, api)
    assert api.calls == 2
    assert len(sleeps) == 1
    _assert_backoff(sleeps)


@pytest.mark.parametrize("offset", [-30.0, 3600.0])
def test_http_dates_in_the_past_or_far_future_fall_back(
    mode: Caller, sleeps: SleepRecorder, offset: float
) -> None:
    api = MockAPI(error(503, headers={"retry-after": _http_date(offset)}))
    _rerank(mode, api)
    _assert_backoff(sleeps)


def test_backoff_grows_exponentially_and_is_capped(mode: Caller, sleeps: SleepRecorder) -> None:
    api = MockAPI(*(error(500) for _ in range(7)))
    with pytest.raises(APIStatusError):
        _rerank(mode, api, max_retries=6)
    assert api.calls == 7
    assert len(sleeps) == 6
    _assert_backoff(sleeps)
    # The cap: retries 4 and 5 wait at most 10 s (2**4 = 16 would exceed it).
    assert all(7.5 <= w <= 10.0 for w in sleeps[4:])


@pytest.mark.parametrize("retry", range(8))
def test_policy_backoff_bounds_exactly(retry: int) -> None:
    high = min(2.0**retry, 10.0)
    assert RetryPolicy(random=lambda: 0.0).delay(retry) == high
    assert RetryPolicy(random=lambda: 1.0).delay(retry) == 0.75 * high
    assert RetryPolicy(random=lambda: 0.5).delay(retry) == 0.875 * high


def test_policy_reads_http_date_against_its_clock() -> None:
    policy = RetryPolicy(now=lambda: 1_000_000.0)
    headers = httpx.Headers({"retry-after": email.utils.formatdate(1_000_012.0, usegmt=True)})
    assert policy.server_delay(headers) == 12.0
    response = httpx.Response(503, headers=headers)
    assert policy.delay(0, response) == 12.0


def test_policy_should_retry_table() -> None:
    policy = RetryPolicy()
    for status in RETRYABLE:
        assert policy.should_retry(httpx.Response(status)), status
    for status in [*NOT_RETRYABLE, 200, 201, 204]:
        assert not policy.should_retry(httpx.Response(status)), status
    assert policy.should_retry(httpx.Response(200, headers={"x-should-retry": "true"}))
    assert not policy.should_retry(httpx.Response(500, headers={"x-should-retry": "false"}))


# --- network failures -----------------------------------------------------------------


def test_connection_error_is_retried_then_succeeds(mode: Caller, sleeps: SleepRecorder) -> None:
    api = MockAPI(httpx.ConnectError("refused"))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert result.results is not None
    assert api.calls == 2
    _assert_backoff(sleeps)


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectError("refused"),
        httpx.ReadError("connection reset"),
        httpx.RemoteProtocolError("server disconnected"),
    ],
)
def test_connection_errors_raise_api_connection_error_after_retries(
    mode: Caller, sleeps: SleepRecorder, failure: httpx.TransportError
) -> None:
    api = MockAPI(failure, failure, failure)
    with pytest.raises(APIConnectionError) as info:
        _rerank(mode, api)
    assert not isinstance(info.value, APITimeoutError)
    assert api.calls == 3
    assert len(sleeps) == 2
    _assert_backoff(sleeps)
    assert info.value.request.url == api.last.url


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ConnectTimeout("connect timed out"),
        httpx.ReadTimeout("read timed out"),
        httpx.WriteTimeout("write timed out"),
        httpx.PoolTimeout("pool timed out"),
    ],
)
def test_timeouts_raise_api_timeout_error_after_retries(
    mode: Caller, sleeps: SleepRecorder, failure: httpx.TimeoutException
) -> None:
    api = MockAPI(failure, failure, failure)
    with pytest.raises(APITimeoutError):
        _rerank(mode, api)
    assert api.calls == 3
    assert len(sleeps) == 2


def test_timeout_then_success(mode: Caller) -> None:
    api = MockAPI(httpx.ReadTimeout("slow"), error(503))
    _rerank(mode, api)
    assert api.calls == 3


# --- max_retries ----------------------------------------------------------------------


@pytest.mark.parametrize("max_retries", [0, 1, 4])
def test_max_retries_per_client(mode: Caller, sleeps: SleepRecorder, max_retries: int) -> None:
    api = MockAPI(*(error(500) for _ in range(10)))
    with pytest.raises(APIStatusError):
        _rerank(mode, api, max_retries=max_retries)
    assert api.calls == max_retries + 1
    assert len(sleeps) == max_retries


@pytest.mark.parametrize("max_retries", [0, 1, 3])
def test_max_retries_per_request_beats_the_client(
    mode: Caller, sleeps: SleepRecorder, max_retries: int
) -> None:
    api = MockAPI(*(error(500) for _ in range(10)))
    with pytest.raises(APIStatusError):
        mode.rerank(
            api,
            client={"max_retries": 5},
            model=MODEL,
            query="q",
            documents=DOCS,
            max_retries=max_retries,
        )
    assert api.calls == max_retries + 1
    assert len(sleeps) == max_retries


def test_zero_disables_retries_of_connection_errors(mode: Caller, sleeps: SleepRecorder) -> None:
    api = MockAPI(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError):
        _rerank(mode, api, max_retries=0)
    assert api.calls == 1
    assert sleeps == []


def test_with_options_max_retries(api: MockAPI) -> None:
    api.replies.extend(error(500) for _ in range(10))
    with api.client() as client, pytest.raises(APIStatusError):
        client.with_options(max_retries=3).rerank.create(model=MODEL, query="q", documents=DOCS)
    assert api.calls == 4


def test_each_retry_resends_the_same_request(mode: Caller) -> None:
    api = MockAPI(error(500), httpx.ConnectError("refused"))
    _rerank(mode, api)
    assert api.calls == 3
    first = api.requests[0]
    for request in api.requests[1:]:
        assert request.url == first.url
        assert request.content == first.content
        assert request.headers.multi_items() == first.headers.multi_items()


def test_embeddings_are_retried_too(mode: Caller) -> None:
    api = MockAPI(error(503), error(429))
    mode.embeddings(api, model="m", input="x")
    assert api.calls == 3


# --- the same rules over real HTTP ------------------------------------------------------


@pytest.mark.parametrize("header", [("Retry-After", "0"), ("retry-after-ms", "0")])
def test_a_zero_wait_over_loopback_retries_at_once(
    mode: Caller, sleeps: SleepRecorder, header: tuple[str, str]
) -> None:
    """The header as a real server sends it, parsed by httpx (failed before: backoff)."""
    with FaultServer() as server:
        server.script(Respond(429, headers=(header,)))
        outcome = Mode(mode.is_async).rerank(server.base_url, budget=10)
        assert_valid_ranking(outcome.ok())
        assert [r.fault for r in server.requests] == [f"respond 429 {dict([header])}", "success"]
    assert sleeps == [0.0]
