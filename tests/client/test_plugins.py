"""User plugins: order, one view per call, headers, timing, short-circuits, sleeps, errors."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import pytest

from tests.reliability.faultserver import FaultServer
from tests.reliability.support import Mode
from together_rerank import (
    APIConnectionError,
    APIResponseValidationError,
    AsyncTogether,
    Flow,
    InvalidArgumentTypeError,
    Plugin,
    PluginError,
    RequestOptions,
    RerankResponse,
    RetryPlugin,
    Sleep,
    Together,
    TogetherError,
    when_accepted,
)

from .helpers import API_KEY, DOCS, MODEL, Caller, MockAPI, SleepRecorder, error


class Recorder:
    """Logs `name>` before sending and `<name` after, with what it saw."""

    def __init__(self, name: str, log: list[str]) -> None:
        self.name = name
        self.log = log
        self.requests: list[httpx.Request] = []
        self.responses: list[httpx.Response] = []
        self.options: list[RequestOptions] = []

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        self.log.append(f"{self.name}>")
        self.requests.append(request)
        self.options.append(options)
        response = yield request
        assert response is not None
        self.responses.append(response)
        self.log.append(f"<{self.name}")
        return response


class AddHeader:
    def __init__(self, name: str, value: str) -> None:
        self.name, self.value = name, value

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        request.headers[self.name] = self.value
        response = yield request
        assert response is not None
        return response


class Timer:
    """Times whole calls, retries included."""

    def __init__(self) -> None:
        self.durations: list[float] = []

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        start = time.perf_counter()
        try:
            response = yield request
            assert response is not None
            return response
        finally:
            self.durations.append(time.perf_counter() - start)


def _call(mode: Caller, api: MockAPI, plugins: list[Plugin], **create: Any) -> RerankResponse:
    create.setdefault("model", MODEL)
    create.setdefault("query", "q")
    create.setdefault("documents", DOCS)
    return mode.rerank(api, client={"plugins": plugins}, **create)


def test_plugins_run_in_order(mode: Caller) -> None:
    log: list[str] = []
    api = MockAPI()
    _call(mode, api, [Recorder("a", log), Recorder("b", log), Recorder("c", log)])
    assert log == ["a>", "b>", "c>", "<c", "<b", "<a"]


def test_plugins_see_each_call_once_outside_retries(mode: Caller, sleeps: SleepRecorder) -> None:
    log: list[str] = []
    recorder = Recorder("a", log)
    api = MockAPI(error(503), httpx.ConnectError("refused"))
    _call(mode, api, [recorder])
    assert api.calls == 3
    assert len(sleeps) == 2
    assert log == ["a>", "<a"]
    assert len(recorder.requests) == 1
    # It sees the final answer, not the failed attempts.
    assert [r.status_code for r in recorder.responses] == [200]


def test_plugin_sees_the_error_response_when_retries_run_out(mode: Caller) -> None:
    recorder = Recorder("a", [])
    api = MockAPI(error(500), error(500), error(500))
    with pytest.raises(Exception, match="500"):
        _call(mode, api, [recorder])
    assert [r.status_code for r in recorder.responses] == [500]


def test_plugin_sees_per_request_options(mode: Caller) -> None:
    recorder = Recorder("a", [])
    api = MockAPI()
    _call(mode, api, [recorder], max_retries=7, timeout=3.0)
    assert recorder.options[0].max_retries == 7
    assert recorder.options[0].timeout == httpx.Timeout(3.0)


def test_plugin_adds_a_header_to_every_attempt(mode: Caller) -> None:
    api = MockAPI(error(503))
    _call(mode, api, [AddHeader("traceparent", "00-abc-01")])
    assert api.calls == 2
    assert [r.headers["traceparent"] for r in api.requests] == ["00-abc-01", "00-abc-01"]


def test_timing_plugin_times_each_call_once(mode: Caller) -> None:
    timer = Timer()
    api = MockAPI(error(503))
    _call(mode, api, [timer])
    _call(mode, api, [timer])
    assert api.calls == 3
    assert len(timer.durations) == 2
    assert all(d >= 0 for d in timer.durations)


class ShortCircuit:
    """Answers from a cache without calling the server."""

    def __init__(self) -> None:
        self.cache: dict[bytes, httpx.Response] = {}

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        cached = self.cache.get(request.content)
        if cached is not None:
            return httpx.Response(
                cached.status_code, content=cached.content, headers=cached.headers, request=request
            )
        response = yield request
        assert response is not None
        self.cache[request.content] = response
        return response


def test_plugin_can_short_circuit(mode: Caller) -> None:
    cache = ShortCircuit()
    api = MockAPI()
    first = _call(mode, api, [cache])
    second = _call(mode, api, [cache])
    assert api.calls == 1
    assert first == second


def test_short_circuit_answer_is_still_validated(mode: Caller) -> None:
    class Bogus:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            body = {
                "object": "rerank",
                "model": "m",
                "results": [{"index": 99, "relevance_score": 1}],
            }
            return httpx.Response(200, json=body, request=request)
            yield  # a generator that never yields

    api = MockAPI()
    with pytest.raises(APIResponseValidationError, match="index 99"):
        _call(mode, api, [Bogus()])
    assert api.calls == 0


def test_plugin_yielding_sleep(mode: Caller, sleeps: SleepRecorder) -> None:
    order: list[str] = []

    class Throttle:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            order.append("before sleep")
            yield Sleep(0.25)
            order.append("after sleep")
            response = yield request
            assert response is not None
            return response

    def answer(request: httpx.Request) -> httpx.Response:
        order.append("sent")
        return httpx.Response(
            200,
            json={
                "object": "rerank",
                "model": "m",
                "results": [{"index": 0, "relevance_score": 1}],
            },
        )

    api = MockAPI(answer)
    _call(mode, api, [Throttle()])
    assert sleeps == [0.25]
    assert order == ["before sleep", "after sleep", "sent"]


def test_plugin_exception_before_sending_propagates(mode: Caller) -> None:
    class Refuse:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            raise PermissionError("not on a Sunday")
            yield request

    api = MockAPI()
    with pytest.raises(PermissionError, match="not on a Sunday"):
        _call(mode, api, [Refuse()])
    assert api.calls == 0


def test_plugin_exception_after_the_response_propagates(mode: Caller) -> None:
    class Reject:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            response = yield request
            raise RuntimeError(f"rejected {response.status_code if response else None}")

    api = MockAPI()
    with pytest.raises(RuntimeError, match="rejected 200"):
        _call(mode, api, [Reject()])
    assert api.calls == 1


def test_connection_errors_are_thrown_into_plugins(mode: Caller) -> None:
    seen: list[BaseException] = []

    class Watch:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            try:
                response = yield request
                assert response is not None
                return response
            except APIConnectionError as exc:
                seen.append(exc)
                raise

    outer_log: list[str] = []
    api = MockAPI(httpx.ConnectError("refused"))
    with pytest.raises(APIConnectionError):
        _call(mode, api, [Recorder("outer", outer_log), Watch()], max_retries=0)
    assert len(seen) == 1
    assert isinstance(seen[0], APIConnectionError)
    # The outer plugin's code after the yield never ran: the error went through it.
    assert outer_log == ["outer>"]


def test_plugin_can_recover_from_a_connection_error(mode: Caller) -> None:
    class Fallback:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            try:
                response = yield request
                assert response is not None
                return response
            except APIConnectionError:
                body = {"object": "rerank", "model": "fallback", "results": []}
                return httpx.Response(200, json=body, request=request)

    api = MockAPI(*(httpx.ConnectError("refused") for _ in range(3)))
    result = _call(mode, api, [Fallback()])
    assert api.calls == 3  # the built-in retries ran first, inside the plugin
    assert result.model == "fallback"


def test_plugin_can_retry_by_yielding_again(mode: Caller) -> None:
    class RetryOnEmpty:
        def __init__(self) -> None:
            self.attempts = 0

        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            while True:
                self.attempts += 1
                response = yield request
                assert response is not None
                if json.loads(response.content)["results"]:
                    return response

    empty = httpx.Response(200, json={"object": "rerank", "model": "m", "results": []})
    plugin = RetryOnEmpty()
    api = MockAPI(empty, empty)
    result = _call(mode, api, [plugin])
    assert plugin.attempts == 3
    assert api.calls == 3
    assert result.results


def test_plugin_can_replace_the_response(mode: Caller) -> None:
    class Rewrite:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            response = yield request
            assert response is not None
            body = json.loads(response.content)
            body["model"] = "rewritten"
            return httpx.Response(200, json=body, request=request)

    result = _call(mode, MockAPI(), [Rewrite()])
    assert result.model == "rewritten"


def test_plugins_behave_the_same_sync_and_async() -> None:
    def run(is_async: bool) -> tuple[list[str], list[bytes], list[float], int]:
        log: list[str] = []
        timer = Timer()
        api = MockAPI(error(503), httpx.ConnectError("refused"))
        plugins: list[Plugin] = [Recorder("a", log), AddHeader("x-id", "1"), timer]
        Caller(is_async).rerank(
            api, client={"plugins": plugins}, model=MODEL, query="q", documents=DOCS
        )
        return log, [r.content for r in api.requests], [len(timer.durations)], api.calls

    assert run(False) == run(True)


def test_exceptions_of_inner_plugins_are_thrown_into_outer_ones(mode: Caller) -> None:
    seen: list[BaseException] = []

    class Outer:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            try:
                response = yield request
            except Exception as exc:
                seen.append(exc)
                raise LookupError("translated by the outer plugin") from exc
            assert response is not None
            return response

    class Inner:
        def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
            yield request
            raise ValueError("inner plugin failed")

    api = MockAPI()
    with pytest.raises(LookupError, match="translated") as info:
        _call(mode, api, [Outer(), Inner()])
    assert [type(e) for e in seen] == [ValueError]
    assert isinstance(info.value.__cause__, ValueError)
    assert api.calls == 1


# --- misuse: a clear PluginError naming the plugin, not a raw error later -----------------
# Each of these failed before with a raw Python error (AttributeError ... is_success,
# TypeError, or a ValueError from time.sleep) or was accepted silently.


class Forgetful:
    """Forgets to return the response."""

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:  # type: ignore[return]
        yield request


class NotAGenerator:
    """`handle` returns the request instead of yielding it."""

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        return request  # type: ignore[return-value]


class YieldsNone:
    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        response = yield None  # type: ignore[misc]
        assert response is not None
        return response


class YieldsSleep:
    def __init__(self, seconds: object) -> None:
        self.seconds = seconds

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        yield Sleep(self.seconds)  # type: ignore[arg-type]
        response = yield request
        assert response is not None
        return response


MISUSED: list[tuple[str, Plugin, str]] = [
    ("forgets to return", Forgetful(), "Forgetful: handle() returned NoneType"),
    ("returns the request", NotAGenerator(), "NotAGenerator: handle() returned Request"),
    ("yields None", YieldsNone(), "YieldsNone: yielded NoneType"),
    ("sleeps -1 s", YieldsSleep(-1), "YieldsSleep: yielded Sleep(seconds=-1)"),
    ("sleeps nan s", YieldsSleep(float("nan")), "Sleep(seconds=nan)"),
    ("sleeps inf s", YieldsSleep(float("inf")), "Sleep(seconds=inf)"),
    ("sleeps '1' s", YieldsSleep("1"), "Sleep(seconds='1')"),
    ("sleeps True s", YieldsSleep(True), "Sleep(seconds=True)"),
]


@pytest.mark.parametrize(("plugin", "words"), [pytest.param(p, w, id=i) for i, p, w in MISUSED])
def test_a_misused_extension_point_raises_plugin_error(
    mode: Caller, sleeps: SleepRecorder, plugin: Plugin, words: str
) -> None:
    api = MockAPI()
    with pytest.raises(PluginError) as info:
        _call(mode, api, [plugin])
    assert words in str(info.value)
    assert info.value.plugin is plugin
    assert isinstance(info.value, TogetherError)
    assert sleeps == []  # an invalid Sleep is never slept
    # Only the plugin that forgot its return got as far as sending.
    assert api.calls == (1 if isinstance(plugin, Forgetful) else 0)


def test_plugin_error_of_an_inner_plugin_goes_through_the_outer_ones(mode: Caller) -> None:
    log: list[str] = []
    api = MockAPI()
    with pytest.raises(PluginError, match="Forgetful"):
        _call(mode, api, [Recorder("outer", log), Forgetful()])
    assert log == ["outer>"]


def test_a_forgetful_plugin_behind_a_real_server(is_async: bool) -> None:
    """The same over loopback HTTP, with the default transport."""
    with FaultServer() as server:
        outcome = Mode(is_async).rerank(
            server.base_url, budget=10, client={"plugins": [Forgetful()]}
        )
        assert len(server.requests) == 1
    error = outcome.raised(PluginError)
    assert "end it with `return response`" in str(error)


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


class TwoArgs:
    def handle(self, request: httpx.Request) -> Flow:
        response = yield request
        assert response is not None
        return response


class HandleAttribute:
    handle = "not a method"


@pytest.mark.parametrize(
    ("plugins", "words"),
    [
        pytest.param([object()], "plugins[0]: object has no handle", id="object()"),
        pytest.param([HandleAttribute()], "plugins[0]: HandleAttribute has no handle", id="attr"),
        pytest.param([RetryPlugin], "plugins[0]: is the class RetryPlugin", id="a class"),
        pytest.param([RetryPlugin(), TwoArgs()], "plugins[1]: TwoArgs.handle(request)", id="sig"),
        pytest.param(RetryPlugin(), "plugins: must be a list", id="not a list"),
        pytest.param("RetryPlugin", "plugins: must be a list", id="a string"),
    ],
)
@pytest.mark.parametrize("cls", [Together, AsyncTogether])
def test_plugins_that_cannot_work_are_refused_at_construction(
    cls: type[Together | AsyncTogether], plugins: Any, words: str
) -> None:
    with pytest.raises(InvalidArgumentTypeError) as info:
        cls(api_key=API_KEY, plugins=plugins)
    assert str(info.value).startswith(words), str(info.value)


def test_plugins_whose_handle_has_defaults_or_varargs_are_fine(mode: Caller) -> None:
    class Flexible:
        def handle(self, *args: Any, extra: int = 0) -> Flow:
            response = yield args[0]
            assert response is not None
            return response

    assert _call(mode, MockAPI(), [Flexible()]).results


class AcceptedLog:
    """A plugin that notes, through `when_accepted`, each answer the client accepted."""

    def __init__(self) -> None:
        self.accepted: list[object] = []

    def handle(self, request: httpx.Request, options: RequestOptions) -> Flow:
        response = yield request
        assert response is not None
        when_accepted(response, self.accepted.append)
        return response


def test_when_accepted_reports_only_answers_that_passed_every_check(mode: Caller) -> None:
    bad = httpx.Response(200, json={"object": "rerank", "model": MODEL, "results": [{"index": 9}]})
    api = MockAPI(error(503), bad)  # a retried 503, then a 200 that fails validation
    log = AcceptedLog()
    with pytest.raises(APIResponseValidationError):
        mode.rerank(api, client={"plugins": [log]}, model=MODEL, query="q", documents=DOCS)
    assert log.accepted == []
    answer = mode.rerank(api, client={"plugins": [log]}, model=MODEL, query="q", documents=DOCS)
    assert log.accepted == [answer]  # the typed result, once
    raw = mode.rerank_raw(api, client={"plugins": [log]}, model=MODEL, query="q", documents=DOCS)
    assert len(log.accepted) == 1  # raw: not until it is parsed
    assert raw.parse() is log.accepted[1]
    raw.parse()
    assert len(log.accepted) == 2
