"""The transport's own guarantees, on `Together` and on `AsyncTogether`'s two transports.

Whole-attempt deadlines that cover the headers, a bound on 2xx bodies, typed
decoding errors, proxies from the environment, the pool limit, event loops
and clean closing. Each of these failed on the SDK before issue 10/11's fixes.
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import subprocess
import sys
import warnings
from typing import Any

import httpx
import pytest

from together_rerank import (
    APIConnectionError,
    APIResponseDecodingError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncTogether,
    BadRequestError,
    InternalServerError,
    ResponseTooLargeError,
)
from together_rerank._transport import AiohttpClient

from .faultserver import DripHead, FaultServer, Flood, Respond, closed_port
from .support import (
    API_KEY,
    DOCUMENTS,
    GUARD_SLACK,
    MODEL,
    QUERY,
    Mode,
    Passthrough,
    assert_valid_ranking,
    fast_retries,
)


def test_header_drip_is_bounded_by_the_timeout(server: FaultServer, mode: Mode) -> None:
    """Headers sent one byte every 50 ms never trip a per-read timeout of 0.5 s.

    The head takes ~4 s to arrive; the attempt must end at its 0.5 s deadline.
    Before the fix only the body was under the deadline: the call took the
    whole drip (142 s with the issue's 0.5 s interval).
    """
    server.always(DripHead(interval=0.05))
    outcome = mode.rerank(
        server.base_url, budget=0.5 + GUARD_SLACK, client={"timeout": 0.5, "max_retries": 0}
    )
    outcome.raised(APITimeoutError)
    assert outcome.elapsed < 0.5 + GUARD_SLACK


@pytest.mark.parametrize("length_header", [False, True], ids=["chunked", "content-length"])
def test_oversized_2xx_body_is_cut_off(
    server: FaultServer, mode: Mode, length_header: bool
) -> None:
    """A 64 MB 2xx to a 5-document request stops being read past the request's bound.

    Before the fix the whole body was read (2.5 GB and 18.8 s for the issue's
    100 MB) and only then rejected by the response check.
    """
    flood = Flood(length_header=length_header)
    server.always(flood)
    outcome = mode.rerank(server.base_url, budget=30.0, client={"max_retries": 0})
    error = outcome.raised(ResponseTooLargeError)
    assert error.status_code == 200
    assert "bytes" in str(error)
    # Read at most the bound (about 1 MB here) plus what socket buffers held.
    assert flood.sent < 16 << 20, flood.sent
    assert len(server.requests) == 1  # not retried: the same request gets the same answer


def test_max_response_bytes_overrides_the_bound(server: FaultServer, mode: Mode) -> None:
    """A client-wide `max_response_bytes` replaces the computed bound, both ways."""
    outcome = mode.rerank(server.base_url, budget=10.0, client={"max_response_bytes": 20})
    outcome.raised(ResponseTooLargeError)
    outcome = mode.rerank(server.base_url, budget=10.0, client={"max_response_bytes": 1 << 20})
    assert_valid_ranking(outcome.ok())


def test_undecodable_gzip_is_a_decoding_error_and_retried(server: FaultServer, mode: Mode) -> None:
    """`Content-Encoding: gzip` over a plain body: `APIResponseDecodingError`, then a retry.

    Before the fix `httpx.DecodingError` escaped, outside `TogetherError`.
    """
    server.script(Respond(200, headers=(("Content-Encoding", "gzip"),), body=b"not gzip at all"))
    outcome = mode.rerank(server.base_url, budget=10.0, client=fast_retries(1))
    assert_valid_ranking(outcome.ok())
    assert len(server.requests) == 2
    server.always(Respond(200, headers=(("Content-Encoding", "gzip"),), body=b"not gzip"))
    outcome = mode.rerank(server.base_url, budget=10.0, client=fast_retries(1))
    error = outcome.raised(APIResponseDecodingError)
    assert isinstance(error, APIConnectionError)


def test_proxy_and_no_proxy_from_the_environment(
    server: FaultServer, mode: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTP_PROXY routes calls through the proxy; NO_PROXY sends them straight, as httpx does."""
    nowhere = f"http://127.0.0.1:{closed_port()}/v1"
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{server.port}")
    outcome = mode.rerank(nowhere, budget=10.0, client={"max_retries": 0})
    assert_valid_ranking(outcome.ok())
    (request,) = server.requests
    assert request.path == f"{nowhere}/rerank"  # absolute form: it went to a proxy
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    outcome = mode.rerank(nowhere, budget=10.0, client={"max_retries": 0})
    outcome.raised(APIConnectionError)
    assert len(server.requests) == 1


def test_proxy_credentials_from_the_environment(
    server: FaultServer, mode: Mode, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy URL's user-info becomes Proxy-Authorization, and no error shows the password."""
    nowhere = f"http://127.0.0.1:{closed_port()}/v1"
    password = "proxy-pw-Vb83Kq0z"
    monkeypatch.setenv("HTTP_PROXY", f"http://squid:{password}@127.0.0.1:{server.port}")
    assert_valid_ranking(mode.rerank(nowhere, budget=10.0, client={"max_retries": 0}).ok())
    (request,) = server.requests
    expected = base64.b64encode(f"squid:{password}".encode()).decode()
    assert request.headers["proxy-authorization"] == f"Basic {expected}"
    assert (
        "authorization" not in request.headers or password not in request.headers["authorization"]
    )
    # A proxy that cannot be reached: the error names it without its password.
    monkeypatch.setenv("HTTP_PROXY", f"http://squid:{password}@127.0.0.1:{closed_port()}")
    error = mode.rerank(nowhere, budget=10.0, client={"max_retries": 0}).raised(APIConnectionError)
    assert password not in str(error)
    assert password not in repr(error)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
def test_pool_limit_is_kept(server: FaultServer, transport: str) -> None:
    """32 concurrent calls through a 4-connection pool open 4 connections, no more."""
    limits = httpx.Limits(max_connections=4, max_keepalive_connections=4)

    async def main() -> None:
        timeout = httpx.Timeout(10.0)
        http: httpx.AsyncClient = (
            AiohttpClient(timeout=timeout, limits=limits)
            if transport == "aiohttp"
            else httpx.AsyncClient(timeout=timeout, limits=limits)
        )
        async with (
            http,
            AsyncTogether(api_key=API_KEY, base_url=server.base_url, http_client=http) as sdk,
        ):
            calls = [
                sdk.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS) for _ in range(32)
            ]
            for response in await asyncio.gather(*calls):
                assert_valid_ranking(response)

    asyncio.run(main())
    assert len(server.requests) == 32
    assert {request.connection for request in server.requests} <= {1, 2, 3, 4}


def test_one_client_across_event_loops(server: FaultServer) -> None:
    """`asyncio.run` twice with one `AsyncTogether`: both work, on their own connections.

    Before the fix the second run raised `RuntimeError: Event loop is closed`.
    """
    sdk = AsyncTogether(api_key=API_KEY, base_url=server.base_url)

    async def call() -> None:
        assert_valid_ranking(await sdk.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS))

    async def call_and_close() -> None:
        async with sdk:
            await call()

    asyncio.run(call())
    asyncio.run(call())
    asyncio.run(call_and_close())
    # One connection per loop: none was carried from a loop to the next.
    assert [request.connection for request in server.requests] == [1, 2, 3]


def test_supplied_client_on_a_closed_loop_is_a_clear_error(server: FaultServer) -> None:
    """A user's `httpx.AsyncClient` cannot follow a new loop: a `TogetherError` says what to do.

    Before the fix the second `asyncio.run` raised a bare `RuntimeError: Event loop is closed`.
    """

    def run_twice() -> None:
        http = httpx.AsyncClient()
        sdk = AsyncTogether(api_key=API_KEY, base_url=server.base_url, http_client=http)

        async def call() -> None:
            response = await sdk.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS)
            assert_valid_ranking(response)

        asyncio.run(call())
        with pytest.raises(APIConnectionError, match="event loop that has closed"):
            asyncio.run(call())

    run_twice()
    # At most the one attempt of the second run reached the server: no retries.
    assert len(server.requests) <= 2
    # The dead loop's sockets can only be dropped; their warnings are the point made above.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()


def test_unclosed_client_is_closed_with_its_loop(server: FaultServer) -> None:
    """A client never closed leaves no "Unclosed client session" behind its `asyncio.run`."""

    async def call() -> None:
        sdk = AsyncTogether(api_key=API_KEY, base_url=server.base_url)
        assert_valid_ranking(await sdk.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS))

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        asyncio.run(call())
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)], caught


def test_import_and_construction_leave_aiohttp_unimported() -> None:
    """aiohttp is imported by a first async request, not by `import` or by creating a client."""
    code = (
        "import sys, together_rerank as t; "
        "t.Together(api_key='k', base_url='http://127.0.0.1:9/v1'); "
        "t.AsyncTogether(api_key='k', base_url='http://127.0.0.1:9/v1'); "
        "print('aiohttp' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def _sdk_build(sdk: AsyncTogether, **call: Any) -> httpx.Request:
    from together_rerank.resources.rerank import rerank_call

    arguments: dict[str, Any] = {
        "model": MODEL,
        "query": QUERY,
        "documents": DOCUMENTS,
        "top_n": None,
        "return_documents": False,
        "rank_fields": None,
        "extra_headers": None,
        "extra_query": None,
        "extra_body": None,
        "timeout": None,
        "max_retries": None,
        "kwargs": {},
        **call,
    }
    request, _ = sdk._prepare(sdk._http.build_request, rerank_call(**arguments))
    return request


@pytest.mark.parametrize(
    "settings",
    [
        {},
        {"default_headers": {"X-Team": "search"}},
        {"base_url": "http://user:secret@127.0.0.1:8123/v1"},
        {"base_url": "https://api.example.com"},
    ],
    ids=["plain", "default-headers", "basic-auth", "https-default-port"],
)
def test_default_pool_builds_what_httpx_builds(settings: dict[str, Any]) -> None:
    """Request after request, the default pool's headers are httpx's own build, byte for byte.

    It builds each set of headers once and copies it; what goes on the wire
    must not show it (same names, values, order, Host and Content-Length).
    """
    sdk = AsyncTogether(api_key=API_KEY, **{"base_url": "http://127.0.0.1:8123/v1", **settings})
    assert isinstance(sdk._http, AiohttpClient)
    for documents in (DOCUMENTS, DOCUMENTS[:1], DOCUMENTS):
        ours = _sdk_build(sdk, documents=documents)
        headers = {**sdk._headers(), "Accept-Encoding": sdk._http.headers["Accept-Encoding"]}
        reference = httpx.Request("POST", ours.url, headers=headers, content=ours.content)
        assert ours.headers.raw == reference.headers.raw
        assert ours.content == reference.content
        assert isinstance(ours.stream, httpx.ByteStream)
        assert b"".join(ours.stream) == ours.content


def test_default_pool_keeps_a_callers_accept_encoding_in_any_case() -> None:
    """Failed before: "accept-encoding" went out beside the pool's own Accept-Encoding."""
    sdk = AsyncTogether(
        api_key=API_KEY,
        base_url="http://127.0.0.1:8123/v1",
        default_headers={"accept-encoding": "identity"},
    )
    for _ in range(2):
        assert _sdk_build(sdk).headers.get_list("accept-encoding") == ["identity"]
    once = _sdk_build(sdk, extra_headers={"ACCEPT-ENCODING": "gzip"})
    assert once.headers.get_list("accept-encoding") == ["gzip"]


def test_default_pool_headers_follow_changes_and_do_not_leak() -> None:
    """A header set on one request (by a plugin, say) is not on the next; new defaults apply."""
    sdk = AsyncTogether(api_key=API_KEY, base_url="http://127.0.0.1:8123/v1")
    first = _sdk_build(sdk)
    first.headers["X-Trace"] = "1"
    del first.headers["Accept"]
    second = _sdk_build(sdk)
    assert "X-Trace" not in second.headers
    assert second.headers["Accept"] == "application/json"
    sdk.default_headers["X-Team"] = "search"
    assert _sdk_build(sdk).headers["X-Team"] == "search"
    extra = _sdk_build(sdk, extra_headers={"X-Once": "1"})
    assert extra.headers["X-Once"] == "1"
    assert "X-Once" not in _sdk_build(sdk).headers


def test_a_plugins_header_reaches_the_server_once(server: FaultServer) -> None:
    """On loopback: a header a plugin adds to one call's request is not sent with the next."""

    class TagFirst:
        def __init__(self) -> None:
            self.calls = 0

        def handle(self, request: httpx.Request, options: Any) -> Any:
            self.calls += 1
            if self.calls == 1:
                request.headers["X-Tag"] = "first"
            response = yield request
            return response

    async def main() -> None:
        async with AsyncTogether(
            api_key=API_KEY, base_url=server.base_url, plugins=[TagFirst()]
        ) as sdk:
            for _ in range(2):
                await sdk.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS)

    asyncio.run(main())
    first, second = server.requests
    assert first.headers.get("x-tag") == "first"
    assert "x-tag" not in second.headers
    assert first.headers["content-length"] == second.headers["content-length"]


@pytest.mark.parametrize("dropped", ["Accept", "Accept-Encoding", "User-Agent"])
def test_a_header_a_plugin_removes_is_not_sent(server: FaultServer, dropped: str) -> None:
    """aiohttp adds Accept, Accept-Encoding and User-Agent when absent; the default pool must not.

    What a plugin saw is what goes on the wire: a header it deleted stays deleted.
    """

    class Drop:
        def handle(self, request: httpx.Request, options: Any) -> Any:
            del request.headers[dropped]
            response = yield request
            return response

    async def main() -> None:
        async with AsyncTogether(
            api_key=API_KEY, base_url=server.base_url, plugins=[Drop()]
        ) as sdk:
            await sdk.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS)
            # And the next call, without the plugin's edit, sends them all again.
            plain = sdk.with_options(plugins=[])
            await plain.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS)

    asyncio.run(main())
    edited, plain = server.requests
    assert dropped.lower() not in edited.headers
    assert {"accept", "accept-encoding", "user-agent"} <= set(plain.headers)
    assert plain.headers["user-agent"].startswith("together-rerank/")


# --- the default pool's direct path -------------------------------------------------------


class _RawCapture:
    """A loopback HTTP/1.1 server that records each request's bytes and answers validly."""

    def __init__(self) -> None:
        self.requests: list[bytes] = []
        self.answer: bytes | None = None  # a fixed answer body instead of a valid ranking
        self.status = "200 OK"

    async def __aenter__(self) -> str:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/v1"

    async def __aexit__(self, *exc: object) -> None:
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").lower().split("\r\n")
                length = next(
                    int(line[16:]) for line in lines if line.startswith("content-length:")
                )
                body = await reader.readexactly(length)
                self.requests.append(head + body)
                answer = _answer_to(body) if self.answer is None else self.answer
                writer.write(_reply(self.status, answer))
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()


def _reply(status: str, body: bytes) -> bytes:
    head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
    return head.encode() + b"\r\n\r\n" + body


def _answer_to(request: bytes) -> bytes:
    sent = json.loads(request)
    if "input" in sent:
        inputs = [sent["input"]] if isinstance(sent["input"], str) else sent["input"]
        data = [
            {"object": "embedding", "index": i, "embedding": [0.5, 0.25]}
            for i in range(len(inputs))
        ]
        answer: dict[str, Any] = {"object": "list", "model": sent["model"], "data": data}
    else:
        count = len(sent["documents"])
        results = [
            {"index": i, "relevance_score": 1 - i / 100, "document": None}
            for i in range(min(sent.get("top_n") or count, count))
        ]
        answer = {"id": "raw", "object": "rerank", "model": sent["model"], "results": results}
    return json.dumps(answer).encode()


_CALLS: list[tuple[dict[str, Any], dict[str, Any]]] = [
    ({}, {}),
    ({"default_headers": {"X-Team": "search"}}, {"top_n": 2, "return_documents": True}),
    ({"base_url": "USER"}, {"extra_headers": {"X-Once": "1"}}),
    ({}, {"extra_body": {"truncate": True}, "timeout": 3.0, "max_retries": 1}),
    ({"max_response_bytes": 1 << 16}, {"documents": [{"text": "a", "title": "b"}] * 3}),
    ({"default_headers": {"accept": "application/json"}}, {"extra_headers": {"USER-AGENT": "x"}}),
    ({}, {"extra_query": {"dry_run": "1"}}),
]


@pytest.mark.parametrize(
    ("settings", "call"),
    _CALLS,
    ids=[
        "plain",
        "defaults-and-options",
        "basic-auth",
        "extras",
        "bounded-dicts",
        "header-case",
        "query",
    ],
)
def test_direct_and_chained_calls_send_the_same_bytes(
    settings: dict[str, Any], call: dict[str, Any]
) -> None:
    """A call no plugin sees goes out without the plugin chain, byte for byte as through it.

    The same call, twice each way: once with the built-in plugins only (the
    direct path) and once with a user plugin that changes nothing (the chain).
    """

    async def main() -> tuple[list[bytes], list[Any]]:
        capture = _RawCapture()
        async with capture as served:
            user = settings.get("base_url") == "USER"
            url = served.replace("http://", "http://user:secret@") if user else served
            options = {"api_key": API_KEY, **settings, "base_url": url}
            direct = AsyncTogether(**options)
            chained = AsyncTogether(**options, plugins=[Passthrough()])
            arguments = {"model": MODEL, "query": QUERY, "documents": DOCUMENTS, **call}
            answers: list[Any] = []
            for sdk in (direct, chained, direct, chained):
                answers.append(await sdk.rerank.create(**arguments))
            answers.append(await direct.embeddings.create(model=MODEL, input=["a", "b"]))
            answers.append(await chained.embeddings.create(model=MODEL, input=["a", "b"]))
            await direct.close()
            await chained.close()
        return capture.requests, answers

    sent, answers = asyncio.run(main())
    assert len(sent) == 6
    assert sent[0].startswith(
        b"POST /v1/rerank?dry_run=1 " if "extra_query" in call else b"POST /v1/rerank "
    )
    assert sent[0] == sent[1] == sent[2] == sent[3]
    assert sent[4] == sent[5]
    assert answers[0] == answers[1] == answers[2] == answers[3]
    assert answers[4] == answers[5]


def _errors_both_ways(
    capture: _RawCapture, error: type[BaseException], **client: Any
) -> tuple[Any, Any]:
    """The `error` one rerank call raises against `capture`: on the direct path, then the chain."""

    async def main() -> list[BaseException]:
        errors: list[BaseException] = []
        async with capture as base_url:
            for plugins in ([], [Passthrough()]):
                async with AsyncTogether(
                    api_key=API_KEY, base_url=base_url, plugins=plugins, **client
                ) as sdk:
                    with pytest.raises(error) as caught:
                        await sdk.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS)
                    errors.append(caught.value)
        return errors

    direct, chained = asyncio.run(main())
    return direct, chained


@pytest.mark.parametrize(
    "body",
    [b'{"object": "rerank", "results": []', b'{"results": [{"index": 9, "relevance_score": 1}]}'],
    ids=["truncated-json", "index-out-of-range"],
)
def test_direct_path_reports_a_bad_answer_as_the_chain_does(body: bytes) -> None:
    """An answer the direct path cannot vouch for gets the chain's own error, word for word."""

    capture = _RawCapture()
    capture.answer = body
    direct, chained = _errors_both_ways(capture, APIResponseValidationError)
    assert str(direct) == str(chained)
    assert isinstance(direct, APIResponseValidationError)
    assert isinstance(chained, APIResponseValidationError)
    assert direct.status_code == chained.status_code == 200
    assert direct.response.request.url == chained.response.request.url


@pytest.mark.parametrize(
    ("status", "error"),
    [("400 Bad Request", BadRequestError), ("503 Service Unavailable", InternalServerError)],
)
def test_an_error_status_with_a_ranking_body_is_an_error(
    status: str, error: type[APIStatusError]
) -> None:
    """The status decides, not the body: an error answer is raised even if its body parses."""

    capture = _RawCapture()
    capture.status = status
    direct, chained = _errors_both_ways(capture, error, max_retries=0)
    assert str(direct) == str(chained)
