"""Every fault the fault server can inject, against `Together` and `AsyncTogether`.

Each test asserts: how many attempts reached the server, that the waits
between them respect the retry policy (lower bounds exactly as the policy
derives them; upper bounds with `SLACK` for scheduling), the outcome (a valid
ranking or the right typed error) and, through `guarded`, that the call ended
within its timeout-plus-backoff budget.
"""

from __future__ import annotations

import email.utils
import math
import time

import pytest

from together_rerank import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    BadRequestError,
    InternalServerError,
    RateLimitError,
)

from .faultserver import (
    CloseBeforeResponse,
    CloseDelimited,
    CloseMidBody,
    Drip,
    Fault,
    FaultServer,
    Reset,
    Respond,
    ShortBody,
    Stall,
    StallAfterHeaders,
    closed_port,
)
from .support import (
    DEFAULT_POLICY,
    DOCUMENTS,
    FAST_POLICY,
    GUARD_SLACK,
    SLACK,
    Mode,
    SendCounter,
    assert_backoff,
    assert_valid_embeddings,
    assert_valid_ranking,
    backoff_bounds,
    fast_retries,
    worst_case,
)

TIMEOUT = 2.0
"""The client timeout of tests whose server answers at once: it bounds the hang guard."""


def _budget(attempts: int, waits: float, per_attempt: float = TIMEOUT) -> float:
    return worst_case(attempts, per_attempt, waits) + GUARD_SLACK


def _fast_waits(retries: int) -> float:
    return sum(backoff_bounds(FAST_POLICY, n)[1] for n in range(retries))


def _default_waits(retries: int) -> float:
    return sum(backoff_bounds(DEFAULT_POLICY, n)[1] for n in range(retries))


# --- the SDK's default policy, with real waits -------------------------------------------


def test_default_backoff_on_503_then_dropped_connection(server: FaultServer, mode: Mode) -> None:
    # The client as users get it: max_retries=2 and the built-in policy.
    server.script(Respond(503), CloseMidBody())
    outcome = mode.rerank(
        server.base_url, budget=_budget(3, _default_waits(2)), client={"timeout": TIMEOUT}
    )
    assert_valid_ranking(outcome.ok())
    assert len(server.requests) == 3
    # Waits of 0.75-1 s, then 1.5-2 s: min(2**n, 10) minus up to 25 % jitter.
    assert_backoff(server.gaps(), DEFAULT_POLICY)


def test_429_retry_after_seconds(server: FaultServer, mode: Mode) -> None:
    server.script(Respond(429, headers=(("Retry-After", "1"),)))
    outcome = mode.rerank(server.base_url, budget=_budget(2, 1.0), client={"timeout": TIMEOUT})
    assert_valid_ranking(outcome.ok())
    assert len(server.requests) == 2
    (gap,) = server.gaps()
    assert 1.0 <= gap <= 1.0 + SLACK


def test_429_retry_after_http_date(server: FaultServer, mode: Mode) -> None:
    # An HTTP date has whole seconds: 2 s after the current second is 1-2 s away.
    when = math.floor(time.time()) + 2
    date = email.utils.formatdate(when, usegmt=True)
    server.script(Respond(429, headers=(("Retry-After", date),)))
    outcome = mode.rerank(server.base_url, budget=_budget(2, 2.0), client={"timeout": TIMEOUT})
    assert_valid_ranking(outcome.ok())
    _first, second = server.requests
    # The retry waited for the date (to the clock's resolution), and not much longer.
    assert second.arrived_wall >= when - 0.01, (second.arrived_wall, when)
    assert second.arrived_wall <= when + SLACK


def test_429_retry_after_ms_overrides_backoff(server: FaultServer, mode: Mode) -> None:
    server.script(
        Respond(429, headers=(("retry-after-ms", "50"),)),
        Respond(429, headers=(("retry-after-ms", "80"), ("Retry-After", "30"))),
    )
    outcome = mode.rerank(server.base_url, budget=_budget(3, 0.2), client={"timeout": TIMEOUT})
    assert_valid_ranking(outcome.ok())
    assert len(server.requests) == 3
    first, second = server.gaps()
    assert first >= 0.05
    assert second >= 0.08
    # Shorter than any default backoff (>= 0.75 s) and than Retry-After: the server's
    # millisecond wait is the one the policy took.
    low, _ = backoff_bounds(DEFAULT_POLICY, 0)
    assert max(first, second) < low


def test_retry_after_beyond_60s_falls_back_to_backoff(server: FaultServer, mode: Mode) -> None:
    # The policy honours a server's wait only up to 60 s; beyond, its own backoff applies.
    server.script(Respond(429, headers=(("Retry-After", "120"),)))
    outcome = mode.rerank(
        server.base_url, budget=_budget(2, _default_waits(1)), client={"timeout": TIMEOUT}
    )
    assert_valid_ranking(outcome.ok())
    assert len(server.requests) == 2
    assert_backoff(server.gaps(), DEFAULT_POLICY)


def test_429_until_retries_run_out(server: FaultServer, mode: Mode) -> None:
    server.always(Respond(429, headers=(("retry-after-ms", "20"),)))
    outcome = mode.rerank(server.base_url, budget=_budget(3, 0.04), client={"timeout": TIMEOUT})
    error = outcome.raised(RateLimitError)
    assert error.status_code == 429
    assert len(server.requests) == 3  # max_retries=2 by default
    assert all(gap >= 0.02 for gap in server.gaps())


# --- a short policy (see fast_retries), so every fault kind stays fast ------------------


@pytest.mark.parametrize("status", [500, 502, 503, 504, 520])
def test_5xx_twice_then_success(server: FaultServer, mode: Mode, status: int) -> None:
    server.script(Respond(status), Respond(status))
    outcome = mode.rerank(
        server.base_url, budget=_budget(3, _fast_waits(2)), client=fast_retries(3)
    )
    assert_valid_ranking(outcome.ok())
    assert len(server.requests) == 3
    assert_backoff(server.gaps(), FAST_POLICY)


def test_backoff_is_capped_by_max_delay(server: FaultServer, mode: Mode) -> None:
    server.always(Respond(503))
    outcome = mode.rerank(
        server.base_url, budget=_budget(6, _fast_waits(5)), client=fast_retries(5)
    )
    error = outcome.raised(InternalServerError)
    assert error.status_code == 503
    assert len(server.requests) == 6
    gaps = server.gaps()
    # 0.05, 0.1, 0.2, then capped at max_delay=0.2 (not 0.4, 0.8).
    assert_backoff(gaps, FAST_POLICY)
    assert backoff_bounds(FAST_POLICY, 4) == backoff_bounds(FAST_POLICY, 2)


HTML_502 = (
    b"<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n"
    b"<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)


def test_html_502_page(server: FaultServer, mode: Mode) -> None:
    server.always(Respond(502, body=HTML_502, content_type="text/html"))
    outcome = mode.rerank(
        server.base_url, budget=_budget(3, _fast_waits(2)), client=fast_retries(2)
    )
    error = outcome.raised(InternalServerError)
    assert error.status_code == 502
    assert "502 Bad Gateway" in str(error)
    assert isinstance(error.body, str)
    assert "<html>" in error.body
    assert len(server.requests) == 3
    assert_backoff(server.gaps(), FAST_POLICY)


def test_520_until_retries_run_out(server: FaultServer, mode: Mode) -> None:
    server.always(Respond(520, body=b"error code: 520", content_type="text/plain"))
    outcome = mode.rerank(
        server.base_url, budget=_budget(3, _fast_waits(2)), client=fast_retries(2)
    )
    error = outcome.raised(InternalServerError)
    assert error.status_code == 520
    assert len(server.requests) == 3


def test_499_is_a_status_error_and_not_retried(server: FaultServer, mode: Mode) -> None:
    server.always(Respond(499))
    outcome = mode.rerank(server.base_url, budget=_budget(1, 0), client=fast_retries(3))
    error = outcome.raised(APIStatusError)
    assert type(error) is APIStatusError
    assert error.status_code == 499
    assert len(server.requests) == 1


def test_x_should_retry_overrides_the_status(server: FaultServer, mode: Mode) -> None:
    server.script(
        Respond(400, headers=(("x-should-retry", "true"),)),
        Respond(503, headers=(("x-should-retry", "false"),)),
    )
    outcome = mode.rerank(
        server.base_url, budget=_budget(2, _fast_waits(1)), client=fast_retries(3)
    )
    error = outcome.raised(InternalServerError)
    assert error.status_code == 503
    assert len(server.requests) == 2


def test_400_is_not_retried(server: FaultServer, mode: Mode) -> None:
    server.always(Respond(400))
    outcome = mode.rerank(server.base_url, budget=_budget(1, 0), client=fast_retries(3))
    outcome.raised(BadRequestError)
    assert len(server.requests) == 1


# --- broken connections ---------------------------------------------------------------

CONNECTION_FAULTS: list[Fault] = [CloseMidBody(), ShortBody(), CloseBeforeResponse(), Reset()]


@pytest.mark.parametrize("fault", CONNECTION_FAULTS, ids=repr)
def test_connection_fault_then_success(server: FaultServer, mode: Mode, fault: Fault) -> None:
    server.script(fault)
    outcome = mode.rerank(
        server.base_url, budget=_budget(2, _fast_waits(1)), client=fast_retries(3)
    )
    assert_valid_ranking(outcome.ok())
    assert len(server.requests) == 2
    assert_backoff(server.gaps(), FAST_POLICY)


@pytest.mark.parametrize("fault", CONNECTION_FAULTS, ids=repr)
def test_connection_fault_until_retries_run_out(
    server: FaultServer, mode: Mode, fault: Fault
) -> None:
    server.always(fault)
    outcome = mode.rerank(
        server.base_url, budget=_budget(3, _fast_waits(2)), client=fast_retries(2)
    )
    error = outcome.raised(APIConnectionError)
    assert not isinstance(error, APITimeoutError)
    assert len(server.requests) == 3
    assert_backoff(server.gaps(), FAST_POLICY)


def test_truncated_json_without_length_is_a_validation_error(
    server: FaultServer, mode: Mode
) -> None:
    # A close-delimited body ends "normally" at the close: the transport cannot tell
    # it is short, the JSON parser can. A 2xx is never retried.
    server.always(CloseDelimited())
    outcome = mode.rerank(server.base_url, budget=_budget(1, 0), client=fast_retries(3))
    error = outcome.raised(APIResponseValidationError)
    assert "Invalid JSON" in str(error) or "EOF" in str(error)
    assert len(server.requests) == 1


def test_refused_connection(mode: Mode) -> None:
    counter = SendCounter()
    outcome = mode.rerank(
        f"http://127.0.0.1:{closed_port()}/v1",
        budget=_budget(3, _fast_waits(2)),
        client={"timeout": TIMEOUT, **fast_retries(2)},
        counter=counter,
    )
    error = outcome.raised(APIConnectionError)
    assert not isinstance(error, APITimeoutError)
    assert counter.sent == 3
    assert outcome.elapsed >= sum(backoff_bounds(FAST_POLICY, n)[0] for n in range(2))


# --- stalls and timeouts ----------------------------------------------------------------

STALL_TIMEOUT = 0.25


@pytest.mark.parametrize("fault", [Stall(), StallAfterHeaders()], ids=repr)
def test_stall_past_read_timeout(server: FaultServer, mode: Mode, fault: Fault) -> None:
    server.always(fault)
    outcome = mode.rerank(
        server.base_url,
        budget=_budget(2, _fast_waits(1), per_attempt=STALL_TIMEOUT),
        client={"timeout": STALL_TIMEOUT, **fast_retries(1)},
    )
    outcome.raised(APITimeoutError)
    assert len(server.requests) == 2
    # Each attempt waited out its timeout, and the retry its backoff.
    backoff = backoff_bounds(FAST_POLICY, 0)[0]
    (gap,) = server.gaps()
    assert gap >= backoff
    assert outcome.elapsed >= 2 * STALL_TIMEOUT + backoff


def test_stall_once_then_success(server: FaultServer, mode: Mode) -> None:
    server.script(Stall())
    outcome = mode.rerank(
        server.base_url,
        budget=_budget(2, _fast_waits(1), per_attempt=STALL_TIMEOUT),
        client={"timeout": STALL_TIMEOUT, **fast_retries(2)},
    )
    assert_valid_ranking(outcome.ok())
    assert len(server.requests) == 2


def test_slow_drip_body_is_bounded_by_the_timeout(server: FaultServer, mode: Mode) -> None:
    """A body sent one byte every 50 ms never trips a per-read timeout of 0.5 s.

    The whole response takes ~7 s; a call with `timeout=0.5` and no retries
    must still end (with `APITimeoutError`) within its budget. Fails until the
    SDK bounds an attempt's total duration, not only each socket read (see
    docs/reliability.md, "Findings").
    """
    server.always(Drip(interval=0.05))
    outcome = mode.rerank(
        server.base_url,
        budget=_budget(1, 0, per_attempt=0.5),
        client={"timeout": 0.5, "max_retries": 0},
    )
    outcome.raised(APITimeoutError)


# --- 2xx bodies that break the contract -------------------------------------------------


def _rerank_body(results: str) -> bytes:
    return (
        b'{"object": "rerank", "model": "Salesforce/Llama-Rank-V1", "results": '
        + results.encode()
        + b"}"
    )


INVALID_BODIES = {
    "index out of range": (_rerank_body('[{"index": 5, "relevance_score": 0.9}]'), "index 5"),
    "negative index": (_rerank_body('[{"index": -1, "relevance_score": 0.9}]'), "index -1"),
    "duplicate index": (
        _rerank_body(
            '[{"index": 1, "relevance_score": 0.9}, {"index": 1, "relevance_score": 0.8}]'
        ),
        "twice",
    ),
    "missing results": (b'{"object": "rerank", "model": "m"}', "results"),
    "NaN score": (_rerank_body('[{"index": 0, "relevance_score": NaN}]'), "relevance_score"),
    "Infinity score": (
        _rerank_body('[{"index": 0, "relevance_score": Infinity}]'),
        "relevance_score",
    ),
    "string score": (_rerank_body('[{"index": 0, "relevance_score": "high"}]'), "relevance_score"),
    "more results than top_n": (
        _rerank_body(
            '[{"index": 0, "relevance_score": 0.9}, {"index": 1, "relevance_score": 0.8}, '
            '{"index": 2, "relevance_score": 0.7}]'
        ),
        "results",
    ),
    "results not a list": (_rerank_body('{"index": 0}'), "results"),
    "not JSON": (b"OK", "Invalid JSON"),
    "empty body": (b"", "Invalid JSON"),
    "JSON array": (b"[]", "rerank"),
}


@pytest.mark.parametrize("case", list(INVALID_BODIES))
def test_200_breaking_the_spec(server: FaultServer, mode: Mode, case: str) -> None:
    body, mentions = INVALID_BODIES[case]
    server.always(Respond(200, body=body))
    outcome = mode.rerank(server.base_url, budget=_budget(1, 0), client=fast_retries(3), top_n=2)
    error = outcome.raised(APIResponseValidationError)
    assert mentions in str(error)
    assert error.status_code == 200
    assert len(server.requests) == 1  # a 2xx is an answer, not a fault to retry


# --- embeddings -------------------------------------------------------------------------


def test_embeddings_retry_then_success(server: FaultServer, mode: Mode) -> None:
    server.script(Respond(429, headers=(("retry-after-ms", "30"),)), CloseMidBody(), Respond(503))
    outcome = mode.embeddings(
        server.base_url, budget=_budget(4, 0.03 + _fast_waits(3)), client=fast_retries(3)
    )
    assert_valid_embeddings(outcome.ok(), 2)
    assert len(server.requests) == 4
    assert server.gaps()[0] >= 0.03


@pytest.mark.parametrize(
    "data",
    [
        b'[{"object": "embedding", "embedding": [NaN, 1.0], "index": 0},'
        b' {"object": "embedding", "embedding": [1.0], "index": 1}]',
        b'[{"object": "embedding", "embedding": [1.0], "index": 0}]',
        b'[{"object": "embedding", "embedding": [1.0], "index": 0},'
        b' {"object": "embedding", "embedding": [1.0], "index": 0}]',
    ],
    ids=["NaN component", "too few", "duplicate index"],
)
def test_embeddings_200_breaking_the_spec(server: FaultServer, mode: Mode, data: bytes) -> None:
    server.always(Respond(200, body=b'{"object": "list", "model": "m", "data": ' + data + b"}"))
    outcome = mode.embeddings(server.base_url, budget=_budget(1, 0), client=fast_retries(3))
    outcome.raised(APIResponseValidationError)
    assert len(server.requests) == 1


def test_fault_server_answers_validly_by_default(server: FaultServer, mode: Mode) -> None:
    """The control: with no fault scripted, one attempt and a complete ranking."""
    outcome = mode.rerank(server.base_url, budget=_budget(1, 0), client={"timeout": TIMEOUT})
    assert_valid_ranking(outcome.ok(), len(DOCUMENTS))
    assert len(server.requests) == 1
    (request,) = server.requests
    assert request.path == "/v1/rerank"
    assert request.json()["documents"] == DOCUMENTS
