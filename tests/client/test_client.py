"""Client construction and per-request options: base URLs, keys, env vars, lifecycle, headers."""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any

import httpx
import pytest

import together_rerank
from together_rerank import (
    DEFAULT_BASE_URL,
    DEFAULT_MAX_RETRIES,
    AsyncTogether,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    MissingAPIKeyError,
    Together,
    TogetherError,
    __version__,
)

from .helpers import API_KEY, DOCS, MODEL, RERANK_URL, Caller, MockAPI, error

# --- base URL forms --------------------------------------------------------------

BASE_URL_FORMS = [
    # Bare hosts (the v3 SDK's form) get /v1; /v1 forms (the v1 SDK's) are kept.
    ("https://api.together.ai", "https://api.together.ai/v1/rerank"),
    ("https://api.together.ai/", "https://api.together.ai/v1/rerank"),
    ("https://api.together.ai/v1", "https://api.together.ai/v1/rerank"),
    ("https://api.together.ai/v1/", "https://api.together.ai/v1/rerank"),
    ("https://api.together.xyz/v1", "https://api.together.xyz/v1/rerank"),
    ("http://127.0.0.1:8000", "http://127.0.0.1:8000/v1/rerank"),
    ("http://127.0.0.1:8000/v1", "http://127.0.0.1:8000/v1/rerank"),
    ("http://127.0.0.1:8000/v1/", "http://127.0.0.1:8000/v1/rerank"),
    ("http://localhost:9000/proxy/v1", "http://localhost:9000/proxy/v1/rerank"),
]


def test_default_base_url_is_the_v1_sdk_one(api: MockAPI) -> None:
    assert DEFAULT_BASE_URL == "https://api.together.xyz/v1"
    with api.client() as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert str(api.last.url) == "https://api.together.xyz/v1/rerank"
    assert api.last.method == "POST"


@pytest.mark.parametrize(("base_url", "expected"), BASE_URL_FORMS)
def test_base_url_argument_forms(mode: Caller, base_url: str, expected: str) -> None:
    api = MockAPI()
    mode.rerank(api, client={"base_url": base_url}, model=MODEL, query="q", documents=DOCS)
    assert str(api.last.url) == expected


@pytest.mark.parametrize(("base_url", "expected"), BASE_URL_FORMS)
def test_base_url_from_env(
    monkeypatch: pytest.MonkeyPatch, mode: Caller, base_url: str, expected: str
) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", base_url)
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert str(api.last.url) == expected


def test_base_url_argument_beats_env(monkeypatch: pytest.MonkeyPatch, api: MockAPI) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", "http://env.example:1/v1")
    with api.client(base_url="http://arg.example:2") as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert str(api.last.url) == "http://arg.example:2/v1/rerank"


def test_embeddings_url_follows_the_base(api: MockAPI) -> None:
    with api.client(base_url="http://127.0.0.1:8000") as client:
        client.embeddings.create(model="m", input="hello")
    assert str(api.last.url) == "http://127.0.0.1:8000/v1/embeddings"


@pytest.mark.parametrize("bad", ["ftp://example.com", "not a url", "/v1", "http://"])
def test_invalid_base_url_is_rejected_naming_base_url(bad: str) -> None:
    with pytest.raises(InvalidArgumentError, match="base_url"):
        Together(api_key=API_KEY, base_url=bad)


# --- API key ---------------------------------------------------------------------


def test_api_key_is_sent_as_bearer(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert api.last.headers["authorization"] == f"Bearer {API_KEY}"


def test_api_key_from_env(monkeypatch: pytest.MonkeyPatch, mode: Caller) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "sk-from-env")
    api = MockAPI()
    mode.rerank(api, client={"api_key": None}, model=MODEL, query="q", documents=DOCS)
    assert api.last.headers["authorization"] == "Bearer sk-from-env"


def test_api_key_argument_beats_env(monkeypatch: pytest.MonkeyPatch, api: MockAPI) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", "sk-from-env")
    with api.client(api_key="sk-from-arg") as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert api.last.headers["authorization"] == "Bearer sk-from-arg"
    assert client.api_key == "sk-from-arg"


@pytest.mark.parametrize("client_cls", [Together, AsyncTogether])
@pytest.mark.parametrize(
    "base_url",
    [None, "https://api.together.xyz/v1", "https://api.together.ai", "https://api.together.ai/v1"],
)
def test_missing_key_for_the_hosted_api_is_a_clear_error(
    client_cls: type[Together] | type[AsyncTogether], base_url: str | None
) -> None:
    with pytest.raises(MissingAPIKeyError, match="TOGETHER_API_KEY") as info:
        client_cls(base_url=base_url)
    assert isinstance(info.value, TogetherError)


@pytest.mark.parametrize("blank", ["", "   "])
def test_blank_env_key_counts_as_missing(monkeypatch: pytest.MonkeyPatch, blank: str) -> None:
    monkeypatch.setenv("TOGETHER_API_KEY", blank)
    with pytest.raises(MissingAPIKeyError, match="TOGETHER_API_KEY"):
        Together()


def test_missing_key_via_env_base_url_is_an_error_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOGETHER_BASE_URL", "https://api.together.ai")
    with pytest.raises(MissingAPIKeyError, match="TOGETHER_API_KEY"):
        Together()


def test_self_hosted_without_key_sends_no_authorization(mode: Caller) -> None:
    api = MockAPI()
    result = mode.rerank(
        api,
        client={"api_key": None, "base_url": "http://127.0.0.1:8000"},
        model=MODEL,
        query="q",
        documents=DOCS,
    )
    assert result.results is not None
    assert api.calls == 1
    assert "authorization" not in api.last.headers


# --- headers ---------------------------------------------------------------------


def test_user_agent_names_the_sdk_and_its_version(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    user_agent = api.last.headers["user-agent"]
    assert user_agent.startswith(f"together-rerank/{__version__} ")
    assert together_rerank.__version__ == __version__
    assert __version__
    assert __version__[0].isdigit()


def test_json_headers(api: MockAPI) -> None:
    with api.client() as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert api.last.headers["content-type"] == "application/json"
    assert api.last.headers["accept"] == "application/json"
    assert int(api.last.headers["content-length"]) == len(api.last.content)


def test_default_headers_are_sent_and_may_override(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(
        api,
        client={"default_headers": {"X-Team": "search", "User-Agent": "my-app/2"}},
        model=MODEL,
        query="q",
        documents=DOCS,
    )
    assert api.last.headers["x-team"] == "search"
    assert api.last.headers["user-agent"] == "my-app/2"


def test_a_header_named_in_another_case_replaces_ours(mode: Caller) -> None:
    """Header names are case-insensitive: "accept" replaces Accept, it is not sent beside it.

    Failed before: the server got two Accept, two User-Agent and two Authorization headers.
    """
    api = MockAPI()
    mode.rerank(
        api,
        client={"default_headers": {"accept": "application/json; v=2", "user-agent": "my-app/2"}},
        model=MODEL,
        query="q",
        documents=DOCS,
        extra_headers={"AUTHORIZATION": "Bearer per-request", "User-agent": "my-app/3"},
    )
    headers = api.last.headers
    assert headers.get_list("accept") == ["application/json; v=2"]
    assert headers.get_list("user-agent") == ["my-app/3"]
    assert headers.get_list("authorization") == ["Bearer per-request"]
    assert headers.get_list("content-type") == ["application/json"]


# --- lifecycle -------------------------------------------------------------------


def test_with_closes_its_own_pool() -> None:
    with Together(api_key=API_KEY) as client:
        assert not client._http.is_closed
    assert client._http.is_closed


def test_close_closes_its_own_pool() -> None:
    client = Together(api_key=API_KEY)
    client.close()
    assert client._http.is_closed


async def test_async_with_closes_its_own_pool() -> None:
    async with AsyncTogether(api_key=API_KEY) as client:
        assert not client._http.is_closed
    assert client._http.is_closed
    other = AsyncTogether(api_key=API_KEY)
    await other.close()
    assert other._http.is_closed


def test_user_http_client_is_used_and_not_closed(api: MockAPI) -> None:
    http = httpx.Client(transport=api.transport())
    with Together(api_key=API_KEY, http_client=http) as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert api.calls == 1
    assert not http.is_closed
    client.close()
    assert not http.is_closed
    http.close()


async def test_user_async_http_client_is_used_and_not_closed(api: MockAPI) -> None:
    http = httpx.AsyncClient(transport=api.transport())
    async with AsyncTogether(api_key=API_KEY, http_client=http) as client:
        await client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert api.calls == 1
    assert not http.is_closed
    await http.aclose()


def test_a_sync_client_refuses_an_async_http_client() -> None:
    """Failed before: accepted, then a raw error at the first call."""
    http = httpx.AsyncClient()
    with pytest.raises(InvalidArgumentTypeError, match=r"^http_client: .*AsyncTogether takes"):
        Together(api_key=API_KEY, http_client=http)  # type: ignore[arg-type]
    asyncio.run(http.aclose())


def test_an_async_client_refuses_a_sync_http_client() -> None:
    with httpx.Client() as http, pytest.raises(InvalidArgumentTypeError, match=r"Together takes"):
        AsyncTogether(api_key=API_KEY, http_client=http)  # type: ignore[arg-type]


@pytest.mark.parametrize("cls", [Together, AsyncTogether])
@pytest.mark.parametrize("bad", [object(), "http://127.0.0.1:8000", httpx.HTTPTransport()])
def test_http_client_of_another_type_is_refused(
    cls: type[Together | AsyncTogether], bad: object
) -> None:
    with pytest.raises(InvalidArgumentTypeError, match=r"^http_client: must be an httpx\."):
        cls(api_key=API_KEY, http_client=bad)  # type: ignore[arg-type]


def test_a_closed_http_client_is_refused() -> None:
    http = httpx.Client()
    http.close()
    with pytest.raises(InvalidArgumentError, match=r"^http_client: is closed"):
        Together(api_key=API_KEY, http_client=http)


# --- with_options ----------------------------------------------------------------


def test_with_options_returns_a_configured_copy(api: MockAPI) -> None:
    client = api.client(default_headers={"X-A": "1"})
    copy = client.with_options(
        api_key="sk-other",
        base_url="http://127.0.0.1:8000",
        max_retries=5,
        timeout=7.0,
        default_headers={"X-B": "2"},
    )
    assert copy is not client
    assert isinstance(copy, Together)
    assert (copy.max_retries, copy.api_key, str(copy.base_url)) == (
        5,
        "sk-other",
        "http://127.0.0.1:8000/v1/",
    )
    assert copy.timeout == httpx.Timeout(7.0, connect=5.0)
    # The original is untouched.
    assert (client.max_retries, client.api_key, str(client.base_url)) == (
        DEFAULT_MAX_RETRIES,
        API_KEY,
        "https://api.together.xyz/v1/",
    )
    copy.rerank.create(model=MODEL, query="q", documents=DOCS)
    sent = api.last
    assert str(sent.url) == "http://127.0.0.1:8000/v1/rerank"
    assert sent.headers["authorization"] == "Bearer sk-other"
    assert (sent.headers["x-a"], sent.headers["x-b"]) == ("1", "2")
    # The copy shares the pool: closing the copy does not close it.
    copy.close()
    assert not client._http.is_closed
    client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert api.last.headers["authorization"] == f"Bearer {API_KEY}"
    assert "x-b" not in api.last.headers


def test_with_options_keeps_unchanged_settings(api: MockAPI) -> None:
    client = api.client(max_retries=4, timeout=9.0)
    copy = client.with_options(default_headers={"X-B": "2"})
    assert copy.max_retries == 4
    assert copy.timeout == client.timeout
    assert copy.api_key == client.api_key
    assert copy.base_url == client.base_url


def test_with_options_max_retries_zero_is_kept(api: MockAPI) -> None:
    copy = api.client(max_retries=3).with_options(max_retries=0)
    assert copy.max_retries == 0


async def test_async_with_options(api: MockAPI) -> None:
    client = api.async_client()
    copy = client.with_options(max_retries=0, default_headers={"X-B": "2"})
    assert isinstance(copy, AsyncTogether)
    assert copy.max_retries == 0
    assert client.max_retries == DEFAULT_MAX_RETRIES
    await copy.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert api.last.headers["x-b"] == "2"
    await copy.close()
    assert not client._http.is_closed


# --- timeouts and max_retries settings ----------------------------------------------


def _timeout_of(request: httpx.Request) -> dict[str, float]:
    timeout: dict[str, float] = request.extensions["timeout"]
    return timeout


def test_default_timeout_is_60s_with_5s_connect(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert _timeout_of(api.last) == {"connect": 5.0, "read": 60.0, "write": 60.0, "pool": 60.0}


def test_client_timeout_float(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, client={"timeout": 20.0}, model=MODEL, query="q", documents=DOCS)
    assert _timeout_of(api.last) == {"connect": 5.0, "read": 20.0, "write": 20.0, "pool": 20.0}


def test_short_timeout_caps_the_connect_timeout(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, client={"timeout": 2.0}, model=MODEL, query="q", documents=DOCS)
    assert _timeout_of(api.last) == {"connect": 2.0, "read": 2.0, "write": 2.0, "pool": 2.0}


def test_client_timeout_object(api: MockAPI) -> None:
    with api.client(timeout=httpx.Timeout(3.0, read=30.0)) as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert _timeout_of(api.last) == {"connect": 3.0, "read": 30.0, "write": 3.0, "pool": 3.0}


def test_timeout_of_a_user_client_is_respected(api: MockAPI) -> None:
    http = httpx.Client(transport=api.transport(), timeout=httpx.Timeout(11.0))
    with Together(api_key=API_KEY, http_client=http) as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert _timeout_of(api.last)["read"] == 11.0


def test_user_client_without_a_timeout_gets_the_sdk_default(api: MockAPI) -> None:
    # httpx.Client() defaults to 5 s; that is httpx's default, not the caller's choice.
    http = httpx.Client(transport=api.transport())
    with Together(api_key=API_KEY, http_client=http) as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert _timeout_of(api.last) == {"connect": 5.0, "read": 60.0, "write": 60.0, "pool": 60.0}


def test_per_request_timeout(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, client={"timeout": 20.0}, model=MODEL, query="q", documents=DOCS, timeout=3.5)
    assert _timeout_of(api.last) == {"connect": 3.5, "read": 3.5, "write": 3.5, "pool": 3.5}


@pytest.mark.parametrize("bad", [-1, True, "2", 1.5])
def test_invalid_max_retries_is_rejected(bad: object) -> None:
    with pytest.raises(InvalidArgumentError, match="max_retries"):
        Together(api_key=API_KEY, max_retries=bad)  # type: ignore[arg-type]


def test_invalid_per_request_max_retries_is_rejected(api: MockAPI) -> None:
    with api.client() as client, pytest.raises(InvalidArgumentError, match="max_retries"):
        client.rerank.create(model=MODEL, query="q", documents=DOCS, max_retries=-1)
    assert api.calls == 0


# (id, timeout, the parameter the message names, whether it is a TypeError)
BAD_TIMEOUTS: list[tuple[str, object, str, bool]] = [
    ("zero", 0, "timeout", False),
    ("zero float", 0.0, "timeout", False),
    ("negative", -1, "timeout", False),
    ("inf", math.inf, "timeout", False),
    ("nan", math.nan, "timeout", False),
    ("string", "5", "timeout", True),
    ("bool", True, "timeout", True),
    ("tuple", (5, 5, 5, 5), "timeout", True),
    ("Timeout zero read", httpx.Timeout(5.0, read=0), "timeout.read", False),
    ("Timeout negative connect", httpx.Timeout(5.0, connect=-1), "timeout.connect", False),
    ("Timeout nan pool", httpx.Timeout(5.0, pool=math.nan), "timeout.pool", False),
    ("Timeout inf write", httpx.Timeout(5.0, write=math.inf), "timeout.write", False),
    ("Timeout string", httpx.Timeout("5"), "timeout.connect", True),  # type: ignore[arg-type]
    ("Timeout(None)", httpx.Timeout(None), "timeout", False),
]
_TIMEOUT_IDS = [case[0] for case in BAD_TIMEOUTS]


def _assert_names(error: BaseException, param: str, type_error: bool) -> None:
    assert isinstance(error, InvalidArgumentError), repr(error)
    assert str(error).startswith(f"{param}: "), str(error)
    assert isinstance(error, TypeError) is type_error, repr(error)


@pytest.mark.parametrize(("_id", "bad", "param", "type_error"), BAD_TIMEOUTS, ids=_TIMEOUT_IDS)
@pytest.mark.parametrize("cls", [Together, AsyncTogether])
def test_invalid_timeout_is_rejected_at_construction(
    cls: type[Together | AsyncTogether], _id: str, bad: object, param: str, type_error: bool
) -> None:
    """Failed before: accepted, then ConnectError, ValueError, OverflowError or TypeError."""
    with pytest.raises(InvalidArgumentError) as info:
        cls(api_key=API_KEY, timeout=bad)  # type: ignore[arg-type]
    _assert_names(info.value, param, type_error)


@pytest.mark.parametrize(("_id", "bad", "param", "type_error"), BAD_TIMEOUTS, ids=_TIMEOUT_IDS)
def test_invalid_per_request_timeout_is_rejected_before_sending(
    mode: Caller, _id: str, bad: object, param: str, type_error: bool
) -> None:
    api = MockAPI()
    with pytest.raises(InvalidArgumentError) as info:
        mode.rerank(api, model=MODEL, query="q", documents=DOCS, timeout=bad)
    _assert_names(info.value, param, type_error)
    assert api.calls == 0


def test_invalid_timeout_is_rejected_by_with_options(api: MockAPI) -> None:
    with api.client() as client, pytest.raises(InvalidArgumentError, match=r"^timeout: "):
        client.with_options(timeout=-1)


def test_a_user_client_without_any_limit_is_refused_naming_its_timeout(api: MockAPI) -> None:
    with httpx.Client(transport=api.transport(), timeout=None) as http:
        with pytest.raises(InvalidArgumentError, match=r"^http_client\.timeout: "):
            Together(api_key=API_KEY, http_client=http)
        # Unless the SDK is given a timeout of its own, which is then the one in force.
        with Together(api_key=API_KEY, http_client=http, timeout=4.0) as client:
            client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert _timeout_of(api.last)["read"] == 4.0


@pytest.mark.parametrize(
    "good", [1, 0.001, 1e6, httpx.Timeout(5.0, pool=None), httpx.Timeout(None, read=2.0)]
)
def test_valid_timeouts_are_accepted(mode: Caller, good: object) -> None:
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS, timeout=good)
    assert api.calls == 1


# --- per-request options -----------------------------------------------------------


def test_extra_headers(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(
        api,
        model=MODEL,
        query="q",
        documents=DOCS,
        extra_headers={"X-Trace": "abc", "Authorization": "Bearer per-request"},
    )
    assert api.last.headers["x-trace"] == "abc"
    assert api.last.headers["authorization"] == "Bearer per-request"


SECRET_VALUE = "sk-SECRET-header-value"

# (id, headers, what the message starts with, whether it is a TypeError)
BAD_HEADERS: list[tuple[str, Any, str, bool]] = [
    ("non-ASCII value", {"X-Name": "caf\u00e9"}, "['X-Name']: contains characters", False),
    ("None value", {"X-Name": None}, "['X-Name']: must be a string, not NoneType", True),
    ("int value", {"X-Retry": 3}, "['X-Retry']: must be a string, not int", True),
    ("bytes value", {"X-Name": b"v"}, "['X-Name']: must be a string, not bytes", True),
    ("CRLF injection", {"X-A": "1\r\nX-Injected: yes"}, "['X-A']: contains characters", False),
    ("secret with a newline", {"Authorization": SECRET_VALUE + "\n"}, "['Authorization']", False),
    ("empty name", {"": "v"}, ": '' is not a valid header name", False),
    ("name with a space", {"X Name": "v"}, ": 'X Name' is not a valid header name", False),
    ("non-ASCII name", {"X-Caf\u00e9": "v"}, ": 'X-Caf\u00e9' is not a valid header name", False),
    ("int name", {1: "v"}, ": has a header name of type int", True),
    ("not a mapping", [("X-A", "1")], ": must be a mapping", True),
]
_HEADER_IDS = [case[0] for case in BAD_HEADERS]


@pytest.mark.parametrize(("_id", "headers", "words", "type_error"), BAD_HEADERS, ids=_HEADER_IDS)
def test_bad_extra_headers_raise_before_sending(
    mode: Caller, _id: str, headers: Any, words: str, type_error: bool
) -> None:
    """Failed before: UnicodeEncodeError, TypeError or a silently sent header."""
    api = MockAPI()
    with pytest.raises(InvalidArgumentError) as info:
        mode.rerank(api, model=MODEL, query="q", documents=DOCS, extra_headers=headers)
    assert str(info.value).startswith("extra_headers" + words), str(info.value)
    assert isinstance(info.value, TypeError) is type_error
    assert SECRET_VALUE not in str(info.value)
    assert api.calls == 0


@pytest.mark.parametrize(("_id", "headers", "words", "type_error"), BAD_HEADERS, ids=_HEADER_IDS)
@pytest.mark.parametrize("cls", [Together, AsyncTogether])
def test_bad_default_headers_are_refused_at_construction(
    cls: type[Together | AsyncTogether], _id: str, headers: Any, words: str, type_error: bool
) -> None:
    with pytest.raises(InvalidArgumentError) as info:
        cls(api_key=API_KEY, default_headers=headers)
    assert str(info.value).startswith("default_headers" + words), str(info.value)
    assert isinstance(info.value, TypeError) is type_error
    assert SECRET_VALUE not in str(info.value)


def test_valid_unusual_headers_are_sent(mode: Caller) -> None:
    api = MockAPI()
    headers = {"X-Empty": "", "X-Tab": "a\tb", "X-Token~!#$%&'*+.^_`|": "v", "X-Quote": '"q"'}
    mode.rerank(api, model=MODEL, query="q", documents=DOCS, extra_headers=headers)
    for name, value in headers.items():
        assert api.last.headers[name] == value


def test_extra_headers_do_not_stick_to_the_client(api: MockAPI) -> None:
    with api.client() as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS, extra_headers={"X-T": "1"})
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert api.requests[0].headers["x-t"] == "1"
    assert "x-t" not in api.requests[1].headers


def test_extra_query(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(api, model=MODEL, query="q", documents=DOCS, extra_query={"dry_run": "1", "n": 2})
    assert api.last.url.path == "/v1/rerank"
    assert dict(api.last.url.params) == {"dry_run": "1", "n": "2"}


def test_extra_body_is_merged_into_the_json(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(
        api,
        model=MODEL,
        query="q",
        documents=DOCS,
        extra_body={"truncation": {"max_tokens": 512}, "priority": 1},
    )
    body = api.last_json()
    assert body["truncation"] == {"max_tokens": 512}
    assert body["priority"] == 1
    assert body["documents"] == DOCS


def test_extra_body_overrides_a_field(api: MockAPI) -> None:
    with api.client() as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS, extra_body={"query": "new"})
    assert api.last_json()["query"] == "new"


def test_kwargs_go_into_the_json_body(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank(
        api,
        model=MODEL,
        query="q",
        documents=DOCS,
        future_param=True,
        another={"nested": [1, 2.5, None]},
    )
    body = api.last_json()
    assert body["future_param"] is True
    assert body["another"] == {"nested": [1, 2.5, None]}


def test_embeddings_kwargs_and_extra_body(api: MockAPI) -> None:
    with api.client() as client:
        client.embeddings.create(model="m", input=["a"], dimensions=8, extra_body={"x": 1})
    assert api.last_json() == {"model": "m", "input": ["a"], "dimensions": 8, "x": 1}


def test_per_request_options_on_an_error_call_still_apply(api: MockAPI) -> None:
    api.replies.append(error(400))
    with api.client() as client, pytest.raises(TogetherError):
        client.rerank.create(model=MODEL, query="q", documents=DOCS, extra_headers={"X-T": "1"})
    assert api.last.headers["x-t"] == "1"


def test_request_is_sent_to_exactly_base_plus_rerank(api: MockAPI) -> None:
    with api.client() as client:
        client.rerank.create(model=MODEL, query="q", documents=DOCS)
    assert str(api.last.url) == RERANK_URL
    assert json.loads(api.last.content)["model"] == MODEL
