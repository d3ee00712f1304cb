"""The API key never shows: not in client reprs, errors, tracebacks, requests shown by errors, logs.

Every check is a plain substring search for a distinctive key (`API_KEY`) in
everything a user might print, log or paste into an issue.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import logging
import traceback
from typing import Any

import pytest

from tests.cli.test_cli import run_cli
from together_rerank import (
    APIConnectionError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncTogether,
    AuthenticationError,
    BadRequestError,
    InternalServerError,
    InvalidArgumentError,
    RateLimitError,
    Together,
    TogetherError,
)
from together_rerank.cli._common import EXIT_API_ERROR, EXIT_CONNECTION
from together_rerank.server import LocalServer, ServerConfig

from .faultserver import CloseMidBody, Fault, FaultServer, Respond, Stall, closed_port
from .support import API_KEY, DOCUMENTS, MODEL, QUERY, Mode, fast_retries

SECRET = API_KEY[3:]  # also catches a key shown without its "sk-" prefix


def shown(error: BaseException) -> list[str]:
    """Every rendering of an error a user might see, including its request and response."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [repr(arg) for arg in error.args]
    request = getattr(error, "request", None)
    if request is not None:
        texts += [str(request), repr(request), repr(request.headers), str(request.url)]
    response = getattr(error, "response", None)
    if response is not None:
        texts += [str(response), repr(response), repr(response.headers), response.text]
    body = getattr(error, "body", None)
    if body is not None:
        texts += [str(body), repr(body)]
    return texts


def assert_not_shown(texts: list[str]) -> None:
    for text in texts:
        assert SECRET not in text, text


# --- clients --------------------------------------------------------------------------


def test_sync_client_reprs() -> None:
    with Together(api_key=API_KEY, base_url="http://127.0.0.1:9/v1") as client:
        copies = [
            client,
            client.with_options(max_retries=5),
            client.with_options(timeout=3.0, default_headers={"X-Trace": "1"}),
            client.with_options(api_key=API_KEY + "-other"),
        ]
        for copy in copies:
            assert_not_shown([repr(copy), str(copy), f"{copy!r:>10}", repr(copy.rerank)])
        assert "api_key=<set>" in repr(client)  # the test would see a key if it were there


def test_async_client_reprs() -> None:
    async def go() -> list[str]:
        async with AsyncTogether(api_key=API_KEY, base_url="http://127.0.0.1:9/v1") as client:
            copies = [client, client.with_options(max_retries=5), client.with_options(timeout=2.0)]
            return [text for c in copies for text in (repr(c), str(c), repr(c.embeddings))]

    assert_not_shown(asyncio.run(go()))


# --- errors -------------------------------------------------------------------------------

FAULTS: dict[str, tuple[Any, type[BaseException]]] = {
    "400": (Respond(400), APIStatusError),
    "429": (Respond(429, headers=(("retry-after-ms", "1"),)), RateLimitError),
    "502 html": (
        Respond(502, body=b"<html>502</html>", content_type="text/html"),
        InternalServerError,
    ),
    "dropped": (CloseMidBody(), APIConnectionError),
    "stall": (Stall(), APITimeoutError),
    "bad 200": (
        Respond(200, body=b'{"object": "rerank", "results": 3}'),
        APIResponseValidationError,
    ),
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_errors_do_not_show_the_key(server: FaultServer, mode: Mode, fault: str) -> None:
    answer, cls = FAULTS[fault]
    server.always(answer, times=10)
    outcome = mode.rerank(server.base_url, budget=10, client={"timeout": 0.3, **fast_retries(1)})
    error = outcome.raised(cls)
    assert_not_shown(shown(error))
    # The key was sent (so the test could see it leak): it is on the wire, not in the error.
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"


def test_refused_connection_error(mode: Mode) -> None:
    outcome = mode.rerank(
        f"http://127.0.0.1:{closed_port()}/v1", budget=10, client={"max_retries": 0}
    )
    assert_not_shown(shown(outcome.raised(APIConnectionError)))


def test_authentication_error_from_the_local_server(mode: Mode) -> None:
    with LocalServer(ServerConfig(api_key="sk-the-right-one")) as local:
        outcome = mode.rerank(local.base_url, budget=10)
    assert_not_shown(shown(outcome.raised(AuthenticationError)))


def test_argument_errors(mode: Mode) -> None:
    outcome = mode.rerank("http://127.0.0.1:9/v1", budget=10, top_n=0)
    assert_not_shown(shown(outcome.raised(InvalidArgumentError)))


@pytest.mark.parametrize(
    "suffix", ["\n", "\r\nX-Injected: yes", " \u00e9"], ids=["newline", "CRLF", "non-ASCII"]
)
def test_malformed_key_never_shows(server: FaultServer, mode: Mode, suffix: str) -> None:
    """A key read from a file keeps its newline; a pasted one may carry odd characters.

    Whatever the SDK does with such a key (strip it and send, or refuse it with a
    `TogetherError`), the key must not appear in the error. Fails until the SDK
    checks the key (see docs/reliability.md, "Findings"): today the header
    encoder's error, key included, becomes the message.
    """
    outcome = mode.rerank(
        server.base_url, budget=10, client={"api_key": API_KEY + suffix, "max_retries": 0}
    )
    if outcome.error is not None:
        assert isinstance(outcome.error, TogetherError), repr(outcome.error)
        assert_not_shown(shown(outcome.error))
    for request in server.requests:
        assert "x-injected" not in request.headers


# --- logs -----------------------------------------------------------------------------------


@pytest.fixture
def debug_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_LOG", "debug")


def _calls_that_log(server: FaultServer, mode: Mode) -> None:
    """A success, a retried 503, a dropped connection and a refused connection, all logged."""
    server.script(Respond(503, headers=(("retry-after-ms", "1"),)), CloseMidBody())
    mode.rerank(server.base_url, budget=10, client={"timeout": 2.0, **fast_retries(3)}).ok()
    mode.rerank(server.base_url, budget=10, client={"timeout": 2.0}).ok()
    mode.rerank(
        f"http://127.0.0.1:{closed_port()}/v1", budget=10, client={"max_retries": 0}
    ).raised(APIConnectionError)


def test_debug_logs_from_together_log(
    debug_env: None, server: FaultServer, mode: Mode, capsys: pytest.CaptureFixture[str]
) -> None:
    _calls_that_log(server, mode)
    err = capsys.readouterr().err
    assert "<redacted>" in err  # the headers were logged, with the key masked
    assert "DEBUG" in err
    assert SECRET not in err


def test_debug_logs_from_every_logger(
    server: FaultServer, mode: Mode, caplog: pytest.LogCaptureFixture
) -> None:
    # Root at DEBUG: the SDK's logger and httpx's and httpcore's too.
    caplog.set_level(logging.DEBUG)
    logging.getLogger("together_rerank").setLevel(logging.DEBUG)
    _calls_that_log(server, mode)
    assert any(r.name == "together_rerank" and r.levelno == logging.DEBUG for r in caplog.records)
    assert any(r.name.startswith(("httpx", "httpcore")) for r in caplog.records)
    assert SECRET not in caplog.text
    for record in caplog.records:
        assert SECRET not in record.getMessage()
        assert SECRET not in repr(record.args)


def test_raw_response_repr(server: FaultServer) -> None:
    with Together(api_key=API_KEY, base_url=server.base_url) as client:
        raw = client.rerank.with_raw_response.create(model=MODEL, query=QUERY, documents=DOCUMENTS)
        assert_not_shown([repr(raw), str(raw), repr(raw.headers), repr(raw.http_response.request)])


# --- servers that echo the key back -------------------------------------------------------


class EchoKey(Fault):
    """A 401 whose message quotes the Authorization header it received, as some APIs do."""

    name = "echo key"

    async def answer(self, ex: Any) -> bool:
        sent = ex.record.headers.get("authorization", "")
        message = f"Incorrect API key provided: {sent}. You can find your API key at ..."
        body = json.dumps({"error": {"message": message, "type": "invalid_request_error"}})
        return await Respond(401, body=body.encode()).answer(ex)


class EchoHeadersPage(Fault):
    """A proxy's HTML error page listing the request headers it received."""

    name = "echo headers page"

    async def answer(self, ex: Any) -> bool:
        rows = "".join(
            f"<tr><td>{name}</td><td>{html.escape(value)}</td></tr>"
            for name, value in ex.record.headers.items()
        )
        page = f"<html><body><h1>502 Bad Gateway</h1><table>{rows}</table></body></html>"
        return await Respond(502, body=page.encode(), content_type="text/html").answer(ex)


class KeyAtTheCut(Fault):
    """A message with the bare key straddling the point where the SDK shortens messages."""

    name = "key at the cut"

    async def answer(self, ex: Any) -> bool:
        key = ex.record.headers.get("authorization", "").removeprefix("Bearer ")
        text = "x" * 190 + " " + key + " and more text after it"
        return await Respond(400, body=text.encode(), content_type="text/plain").answer(ex)


def shown_by_sdk(error: BaseException) -> list[str]:
    """What the SDK itself builds and shows (the raw `response.content` is the server's)."""
    texts = [str(error), repr(error), "".join(traceback.format_exception(error))]
    texts += [repr(arg) for arg in error.args]
    texts += [str(getattr(error, "message", "")), repr(getattr(error, "body", None))]
    return texts


ECHOES: dict[str, tuple[Any, type[BaseException], str]] = {
    "401 quoting the key": (EchoKey(), AuthenticationError, "provided: <redacted>."),
    "HTML page of headers": (EchoHeadersPage(), InternalServerError, "502 Bad Gateway"),
    "key where messages are cut": (KeyAtTheCut(), BadRequestError, ""),
}


@pytest.mark.parametrize("echo", list(ECHOES))
def test_a_key_echoed_by_the_server_is_redacted(server: FaultServer, mode: Mode, echo: str) -> None:
    """Failed before: the whole key was in str(AuthenticationError) and in `.body`."""
    fault, cls, words = ECHOES[echo]
    server.always(fault, times=5)
    error = mode.rerank(server.base_url, budget=10, client={"max_retries": 0}).raised(cls)
    assert server.requests[0].headers["authorization"] == f"Bearer {API_KEY}"
    assert SECRET in error.response.text  # the server did echo it
    assert_not_shown(shown_by_sdk(error))
    # No prefix of the key survives either (a cut through the key would leave one).
    assert API_KEY[:8] not in str(error)
    assert words in str(error)
    assert "<redacted>" in repr(error.body)  # the rest of the body is kept


def test_the_cli_shows_an_echoed_key_redacted(server: FaultServer) -> None:
    server.always(EchoKey(), times=5)
    done = run_cli(
        "rerank", "--query", QUERY, "-", base_url=server.base_url, stdin="a\nb\n", api_key=API_KEY
    )
    assert done.returncode == EXIT_API_ERROR
    assert "Incorrect API key provided: <redacted>" in done.stderr
    assert SECRET not in done.stdout + done.stderr


# --- URL user-info (base_url="http://user:password@host") ---------------------------------

PASSWORD = "pa55-Zq8Wm3Xv"


def _with_userinfo(url: str) -> str:
    return url.replace("http://", f"http://alice:{PASSWORD}@", 1)


def test_url_password_is_masked_in_client_reprs() -> None:
    """Failed before: repr(client) showed the password."""
    url = _with_userinfo("http://127.0.0.1:9/v1")
    with Together(api_key=API_KEY, base_url=url) as client:
        for text in (repr(client), repr(client.with_options(max_retries=1))):
            assert PASSWORD not in text
            assert "http://***@127.0.0.1:9/v1/" in text


def test_url_password_is_masked_in_base_url_errors() -> None:
    with pytest.raises(InvalidArgumentError) as info:
        Together(api_key=API_KEY, base_url=f"ftp://alice:{PASSWORD}@example.com/v1")
    assert PASSWORD not in str(info.value)
    assert "ftp://***@example.com" in str(info.value)


def test_url_credentials_are_still_sent_as_basic_auth(server: FaultServer, mode: Mode) -> None:
    """What httpx did with them before, kept: Basic auth, in place of the Bearer key."""
    mode.rerank(_with_userinfo(server.base_url), budget=10).ok()
    (request,) = server.requests
    expected = base64.b64encode(f"alice:{PASSWORD}".encode()).decode()
    assert request.headers["authorization"] == f"Basic {expected}"
    assert request.path == "/v1/rerank"


def test_url_password_is_masked_in_errors_and_raw_responses(
    server: FaultServer, mode: Mode
) -> None:
    url = _with_userinfo(server.base_url)
    server.always(EchoHeadersPage(), times=5)
    error = mode.rerank(url, budget=10, client={"max_retries": 0}).raised(InternalServerError)
    texts = [*shown_by_sdk(error), str(error.request.url), repr(error.request)]
    assert all(PASSWORD not in text for text in texts), texts
    server.script()
    with Together(api_key=API_KEY, base_url=url) as client:
        raw = client.rerank.with_raw_response.create(model=MODEL, query=QUERY, documents=DOCUMENTS)
    assert PASSWORD not in repr(raw)


@pytest.mark.parametrize("level", ["info", "debug"])
def test_url_password_is_masked_in_together_log_lines(
    server: FaultServer,
    mode: Mode,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    level: str,
) -> None:
    """Failed before: every TOGETHER_LOG line showed the URL with its password."""
    monkeypatch.setenv("TOGETHER_LOG", level)
    url = _with_userinfo(server.base_url)
    server.script(Respond(503, headers=(("retry-after-ms", "1"),)))
    mode.rerank(url, budget=10).ok()
    refused = _with_userinfo(f"http://127.0.0.1:{closed_port()}/v1")
    mode.rerank(refused, budget=10, client={"max_retries": 0}).raised(APIConnectionError)
    err = capsys.readouterr().err
    assert "-> 503" in err
    assert "failed after" in err
    assert "http://127.0.0.1:" in err
    assert PASSWORD not in err


@pytest.mark.parametrize("command", ["rerank", "check"])
def test_url_password_is_masked_in_cannot_reach(command: str) -> None:
    """Failed before: `cannot reach http://alice:<password>@...`."""
    url = _with_userinfo(f"http://127.0.0.1:{closed_port()}/v1")
    if command == "rerank":
        done = run_cli(
            "rerank", "--query", QUERY, "-", base_url=url, stdin="a\nb\n", api_key=API_KEY
        )
    else:
        done = run_cli("check", url, "--timeout", "2", "--max-examples", "1", api_key=API_KEY)
    assert done.returncode == EXIT_CONNECTION, done.stderr
    # `rerank` names the request's URL, which never carries the user-info; `check`
    # names the URL it was given, masked.
    assert "cannot reach http://" in done.stderr
    assert "alice" not in done.stderr
    assert PASSWORD not in done.stdout + done.stderr
