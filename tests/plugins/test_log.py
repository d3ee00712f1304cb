"""TOGETHER_LOG turns on the `together_rerank` logger; the API key never shows anywhere."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from tests.client.helpers import API_KEY, DOCS, MODEL, RERANK_URL, Caller, MockAPI, error, ok_body
from tests.reliability.faultserver import FaultServer
from together_rerank import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AsyncTogether,
    AuthenticationError,
    InternalServerError,
    InvalidArgumentError,
    Together,
)

LOGGER = "together_rerank"


def _records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER]


def test_no_logs_without_together_log(caplog: pytest.LogCaptureFixture, mode: Caller) -> None:
    mode.rerank(MockAPI(), model=MODEL, query="q", documents=DOCS)
    assert _records(caplog) == []
    assert not logging.getLogger(LOGGER).handlers


def test_logging_switched_on_after_the_client_exists_logs_its_next_call(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The logger's level is read per call: a client made while it was off logs once it is on."""
    api = MockAPI()
    client = api.client()
    client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert _records(caplog) == []
    with caplog.at_level(logging.INFO, logger=LOGGER):
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert [r.getMessage().split(" -> ")[0] for r in _records(caplog)] == [f"POST {RERANK_URL}"]
    caplog.clear()
    client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert _records(caplog) == []


def test_the_default_async_pool_logs_each_call_while_logging_is_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Real HTTP on `AsyncTogether`'s own pool, which skips the plugin chain when it can.

    It cannot while logging is on: the logging plugin must see that call.
    """
    with FaultServer() as server:

        async def main() -> None:
            async with AsyncTogether(api_key=API_KEY, base_url=server.base_url) as sdk:
                await sdk.rerank.create(model=MODEL, query="q", documents=DOCS)
                with caplog.at_level(logging.INFO, logger=LOGGER):
                    await sdk.rerank.create(model=MODEL, query="q", documents=DOCS)
                await sdk.rerank.create(model=MODEL, query="q", documents=DOCS)

        asyncio.run(main())
        messages = [r.getMessage() for r in _records(caplog)]
        assert len(server.requests) == 3
    assert len(messages) == 1
    assert messages[0].startswith(f"POST {server.base_url}/rerank -> 200 in ")


@pytest.mark.parametrize("value", ["info", "INFO", " Info "])
def test_info_logs_one_line_per_call(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    mode: Caller,
    value: str,
) -> None:
    monkeypatch.setenv("TOGETHER_LOG", value)
    mode.rerank(MockAPI(), model=MODEL, query="q", documents=DOCS)
    records = _records(caplog)
    assert [r.levelno for r in records] == [logging.INFO]
    message = records[0].getMessage()
    assert message.startswith(f"POST {RERANK_URL} -> 200 in ")
    assert message.endswith(" ms")
    # TOGETHER_LOG also sends the lines to stderr by itself.
    assert f"POST {RERANK_URL} -> 200" in capsys.readouterr().err


def test_debug_logs_headers_and_sizes(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, mode: Caller
) -> None:
    monkeypatch.setenv("TOGETHER_LOG", "debug")
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    records = _records(caplog)
    levels = [r.levelno for r in records]
    assert levels == [logging.DEBUG, logging.INFO, logging.DEBUG]
    request_line = records[0].getMessage()
    assert request_line.startswith(f"request POST {RERANK_URL} headers=")
    assert f"body={len(api.last.content)} bytes" in request_line
    assert "'authorization': '<redacted>'" in request_line
    assert "user-agent" in request_line
    assert records[2].getMessage().startswith("response headers=")


def test_each_attempt_is_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, mode: Caller
) -> None:
    monkeypatch.setenv("TOGETHER_LOG", "info")
    api = MockAPI(error(503), httpx.ConnectError("refused"))
    mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    messages = [r.getMessage() for r in _records(caplog)]
    assert len(messages) == 3
    assert " -> 503 in " in messages[0]
    assert " failed after " in messages[1]
    assert "ConnectError" in messages[1]
    assert " -> 200 in " in messages[2]


# --- the API key never leaks -----------------------------------------------------------


def _scenarios() -> list[tuple[str, MockAPI, dict[str, Any]]]:
    """Calls that succeed, fail in every way, retry and log, all with API_KEY in use."""
    return [
        ("ok", MockAPI(), {}),
        ("raw", MockAPI(), {"raw": True}),
        ("401", MockAPI(error(401, "invalid api key")), {}),
        ("5xx retried", MockAPI(error(500), error(502), error(503)), {}),
        ("connection", MockAPI(*(httpx.ConnectError("refused") for _ in range(3))), {}),
        ("timeout", MockAPI(*(httpx.ReadTimeout("slow") for _ in range(3))), {}),
        ("bad 200", MockAPI(httpx.Response(200, json=ok_body(9))), {}),
        ("bad args", MockAPI(), {"documents": []}),
        ("extra header", MockAPI(), {"extra_headers": {"Authorization": f"Bearer {API_KEY}"}}),
        ("x-api-key", MockAPI(), {"extra_headers": {"X-Api-Key": API_KEY}}),
    ]


def _texts_of(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), repr(exc.args)]
    if isinstance(exc, APIError):
        texts += [exc.message, repr(exc.request), repr(exc.request.headers), str(exc.body)]
    if isinstance(exc, APIStatusError | APIResponseValidationError):
        texts += [repr(exc.response), repr(exc.response.headers)]
    return texts


@pytest.mark.parametrize("level", ["debug", "info"])
def test_api_key_never_appears(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
    mode: Caller,
    level: str,
) -> None:
    monkeypatch.setenv("TOGETHER_LOG", level)
    texts: list[str] = []
    raised: list[type[BaseException]] = []
    for _name, api, overrides in _scenarios():
        raw = overrides.pop("raw", False)
        arguments: dict[str, Any] = {"model": MODEL, "query": "q", "documents": DOCS, **overrides}
        call: Callable[..., Any] = mode.rerank_raw if raw else mode.rerank
        try:
            result = call(api, **arguments)
        except Exception as exc:
            raised.append(type(exc))
            texts += _texts_of(exc)
        else:
            texts += [repr(result), str(result)]
        # The key did reach the server: it is really in use in these scenarios.
        if api.calls:
            assert API_KEY in api.last.headers.get("authorization", "") + api.last.headers.get(
                "x-api-key", ""
            )
    assert set(raised) == {
        AuthenticationError,
        InternalServerError,
        APIConnectionError,
        APITimeoutError,
        APIResponseValidationError,
        InvalidArgumentError,
    }
    records = _records(caplog)
    assert len(records) >= 10
    for record in records:
        texts += [record.getMessage(), repr(record.args)]
    captured = capsys.readouterr()
    texts += [captured.out, captured.err]
    assert "<redacted>" in "\n".join(texts) or level == "info"
    for text in texts:
        assert API_KEY not in text


def test_api_key_is_not_in_client_reprs(api: MockAPI) -> None:
    sync_client = api.client()
    async_client = api.async_client()
    for client in (sync_client, async_client, sync_client.with_options(max_retries=1)):
        assert API_KEY not in repr(client)
        assert API_KEY not in str(client)
        assert "api_key=<set>" in repr(client)
    assert sync_client.api_key == API_KEY


def test_api_key_is_not_in_reprs_of_resources(api: MockAPI) -> None:
    client = api.client()
    for thing in (client.rerank, client.embeddings, client.rerank.with_raw_response):
        assert API_KEY not in repr(thing)


def test_repr_without_a_key() -> None:
    client = Together(api_key=None, base_url="http://127.0.0.1:8000")
    assert "api_key=<none>" in repr(client)
    client.close()


async def test_async_repr_without_a_key() -> None:
    async with AsyncTogether(base_url="http://127.0.0.1:8000") as client:
        assert repr(client) == "AsyncTogether(base_url='http://127.0.0.1:8000/v1/', api_key=<none>)"
