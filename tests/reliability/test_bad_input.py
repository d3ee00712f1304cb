"""Bad input: the SDK refuses it before sending; the server refuses it on the wire.

One table of bad calls to `rerank.create` and `embeddings.create`. Each must
raise a `TogetherError` that is also a `ValueError` (and a `TypeError` when the
type is wrong), whose message names the parameter, with zero requests sent.
Then each one's closest JSON form goes raw to the local server over loopback,
which must answer 4xx with the spec's `ErrorResponse` shape and keep serving.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from together_rerank import (
    APIStatusError,
    AsyncTogether,
    InvalidArgumentError,
    Together,
    TogetherError,
)
from together_rerank._validation import MAX_JSON_DEPTH
from together_rerank.server import LocalServer, ServerConfig

from .faultserver import FaultServer
from .support import API_KEY, DOCUMENTS, EMBEDDING_MODEL, MODEL, QUERY, Mode

DICT_DOCUMENTS = [
    {"title": "PyTorch Guide", "body": "PyTorch is an open-source deep learning framework."},
    {"title": "Cooking Recipes", "body": "Learn to make delicious pasta at home."},
]
DEEP = MAX_JSON_DEPTH * 100  # deeper than the SDK's limit and than the server's parser


def nested(depth: int) -> list[Any]:
    """A list nested `depth` levels deep, built without recursion."""
    value: list[Any] = []
    for _ in range(depth - 1):
        value = [value]
    return value


class Opaque:
    """An object with no JSON form."""

    def __repr__(self) -> str:
        return "Opaque()"


@dataclass(frozen=True)
class Bad:
    """One bad call: which operation, the arguments that differ from a valid call."""

    id: str
    operation: str
    args: dict[str, Any]
    param: str
    """What the error message must name."""
    type_error: bool = False
    """Whether the error must also be a `TypeError` (a wrong type, not a wrong value)."""
    raw: bytes | None = None
    """The body sent raw, when `json.dumps` of the call cannot express it."""
    wire_valid: bool = False
    """The mistake has no JSON form: its best-effort encoding is a valid request."""

    def __repr__(self) -> str:
        return f"Bad({self.id!r})"

    def call_args(self) -> dict[str, Any]:
        base: dict[str, Any] = (
            {"model": MODEL, "query": QUERY, "documents": DOCUMENTS}
            if self.operation == "rerank"
            else {"model": EMBEDDING_MODEL, "input": ["a", "b"]}
        )
        return {**base, **self.args}

    def wire(self) -> bytes:
        """The request body a client without checks would send: JSON as best it can."""
        if self.raw is not None:
            return self.raw
        # NaN and infinities become the NaN/Infinity literals; lone surrogates become
        # \\udXXX escapes; sets become arrays; bytes become strings; the rest its repr.
        return json.dumps(self.call_args(), default=_best_effort).encode()


def _best_effort(value: object) -> object:
    if isinstance(value, set | frozenset):
        return sorted(value, key=repr)
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return repr(value)


def _deep_body() -> bytes:
    return (
        b'{"model": "'
        + MODEL.encode()
        + b'", "query": "q", "documents": [{"a": '
        + b"[" * DEEP
        + b"]" * DEEP
        + b"}]}"
    )


BAD_INPUTS: list[Bad] = [
    # model
    Bad("model not a string", "rerank", {"model": 123}, "model", type_error=True),
    Bad("model empty", "rerank", {"model": ""}, "model"),
    Bad("model blank", "rerank", {"model": "   "}, "model"),
    Bad("model is None", "embeddings", {"model": None}, "model", type_error=True),
    # query
    Bad("query is None", "rerank", {"query": None}, "query", type_error=True),
    Bad("query is a list", "rerank", {"query": ["a"]}, "query", type_error=True),
    Bad("query is a set", "rerank", {"query": {"a", "b"}}, "query", type_error=True),
    Bad("query lone surrogate", "rerank", {"query": "bad \ud800 query"}, "query"),
    # documents
    Bad("documents a string", "rerank", {"documents": "one doc"}, "documents", type_error=True),
    Bad("documents bytes", "rerank", {"documents": b"one doc"}, "documents", type_error=True),
    Bad("documents empty", "rerank", {"documents": []}, "documents"),
    Bad("documents None", "rerank", {"documents": None}, "documents", type_error=True),
    Bad("documents a dict", "rerank", {"documents": {"a": "b"}}, "documents", type_error=True),
    Bad(
        "documents str then dict",
        "rerank",
        {"documents": ["a", {"text": "b"}]},
        "documents[1]",
        type_error=True,
    ),
    Bad(
        "documents dict then str",
        "rerank",
        {"documents": [{"text": "a"}, "b"]},
        "documents[1]",
        type_error=True,
    ),
    Bad("documents ints", "rerank", {"documents": [1, 2]}, "documents[0]", type_error=True),
    Bad("documents with None", "rerank", {"documents": ["a", None]}, "documents[1]", True),
    Bad("documents nested list", "rerank", {"documents": [["a"]]}, "documents[0]", True),
    Bad("document lone surrogate", "rerank", {"documents": ["ok", "x\udc80"]}, "documents[1]"),
    Bad(
        "document NaN value",
        "rerank",
        {"documents": [{"text": "a", "score": float("nan")}]},
        "documents[0]['score']",
    ),
    Bad(
        "document infinite value",
        "rerank",
        {"documents": [{"text": "a", "score": float("inf")}]},
        "documents[0]['score']",
    ),
    Bad(
        "document object value",
        "rerank",
        {"documents": [{"text": Opaque()}]},
        "documents[0]['text']",
        type_error=True,
        wire_valid=True,
    ),
    Bad(
        "document too deep",
        "rerank",
        {"documents": [{"a": nested(DEEP)}]},
        "documents[0]",
        raw=_deep_body(),
    ),
    # top_n
    Bad("top_n zero", "rerank", {"top_n": 0}, "top_n"),
    Bad("top_n negative", "rerank", {"top_n": -3}, "top_n"),
    Bad("top_n a string", "rerank", {"top_n": "3"}, "top_n", type_error=True),
    Bad("top_n a bool", "rerank", {"top_n": True}, "top_n", type_error=True),
    Bad("top_n a float", "rerank", {"top_n": 2.5}, "top_n", type_error=True),
    Bad("top_n NaN", "rerank", {"top_n": float("nan")}, "top_n", type_error=True),
    Bad("top_n a set", "rerank", {"top_n": {3}}, "top_n", type_error=True),
    # return_documents
    Bad(
        "return_documents a string", "rerank", {"return_documents": "yes"}, "return_documents", True
    ),
    # rank_fields
    Bad(
        "rank_fields a string",
        "rerank",
        {"documents": DICT_DOCUMENTS, "rank_fields": "title"},
        "rank_fields",
        type_error=True,
    ),
    Bad(
        "rank_fields empty",
        "rerank",
        {"documents": DICT_DOCUMENTS, "rank_fields": []},
        "rank_fields",
    ),
    Bad("rank_fields with string documents", "rerank", {"rank_fields": ["title"]}, "rank_fields"),
    Bad(
        "rank_fields unknown field",
        "rerank",
        {"documents": DICT_DOCUMENTS, "rank_fields": ["author"]},
        "rank_fields",
    ),
    Bad(
        "rank_fields not strings",
        "rerank",
        {"documents": DICT_DOCUMENTS, "rank_fields": [1]},
        "rank_fields[0]",
        type_error=True,
    ),
    # extra body fields
    Bad("extra field NaN", "rerank", {"temperature": float("nan")}, "temperature"),
    # embeddings input
    Bad("input None", "embeddings", {"input": None}, "input", type_error=True),
    Bad("input empty list", "embeddings", {"input": []}, "input"),
    Bad("input an int", "embeddings", {"input": 42}, "input", type_error=True),
    Bad("input with an int", "embeddings", {"input": ["a", 1]}, "input[1]", type_error=True),
    Bad("input nested list", "embeddings", {"input": [["a"]]}, "input[0]", type_error=True),
    Bad("input lone surrogate", "embeddings", {"input": "\udfff"}, "input"),
    Bad("input item lone surrogate", "embeddings", {"input": ["ok", "a\ud83d"]}, "input[1]"),
    Bad("input a dict", "embeddings", {"input": {"text": "a"}}, "input", type_error=True),
]

assert len(BAD_INPUTS) >= 25
assert len({bad.id for bad in BAD_INPUTS}) == len(BAD_INPUTS)


class Sent:
    """A transport handler that counts what reaches it and answers 500 (never expected)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.count += 1
        return httpx.Response(500)


def _check_error(bad: Bad, error: BaseException) -> None:
    assert isinstance(error, TogetherError), repr(error)
    assert isinstance(error, ValueError), repr(error)
    if bad.type_error:
        assert isinstance(error, TypeError), repr(error)
    assert bad.param in str(error), f"{error} does not name {bad.param}"


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: bad.id)
def test_sdk_refuses_before_sending(bad: Bad) -> None:
    sent = Sent()
    with httpx.Client(transport=httpx.MockTransport(sent)) as http:
        client = Together(api_key=API_KEY, base_url="http://127.0.0.1:9/v1", http_client=http)
        with pytest.raises(TogetherError) as info:
            getattr(client, bad.operation).create(**bad.call_args())
    _check_error(bad, info.value)
    assert sent.count == 0


@pytest.mark.parametrize("bad", BAD_INPUTS, ids=lambda bad: bad.id)
def test_async_sdk_refuses_before_sending(bad: Bad) -> None:
    sent = Sent()

    async def go() -> BaseException:
        async with httpx.AsyncClient(transport=httpx.MockTransport(sent)) as http:
            client = AsyncTogether(
                api_key=API_KEY, base_url="http://127.0.0.1:9/v1", http_client=http
            )
            try:
                await getattr(client, bad.operation).create(**bad.call_args())
            except TogetherError as exc:
                return exc
        pytest.fail("no error raised")

    _check_error(bad, asyncio.run(go()))
    assert sent.count == 0


# --- the same inputs, raw, to the local server ----------------------------------------------


@pytest.fixture(scope="module")
def local_server() -> Iterator[LocalServer]:
    with LocalServer() as server:
        yield server


def _assert_error_shape(response: httpx.Response) -> dict[str, Any]:
    assert 400 <= response.status_code < 500, (response.status_code, response.text[:300])
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert set(error) == {"message", "type", "param", "code"}, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["type"], str)
    assert error["param"] is None or isinstance(error["param"], str)
    assert error["code"] is None or isinstance(error["code"], str)
    return error


def _assert_still_serving(server: LocalServer, http: httpx.Client) -> None:
    assert http.get(f"{server.root_url}/health").json() == {"status": "ok"}
    with Together(api_key=API_KEY, base_url=server.base_url) as client:
        result = client.rerank.create(model=MODEL, query=QUERY, documents=DOCUMENTS, top_n=2)
    assert len(result.results) == 2


def test_server_refuses_the_same_inputs_raw(local_server: LocalServer) -> None:
    with httpx.Client(timeout=30) as http:
        for bad in BAD_INPUTS:
            response = http.post(
                f"{local_server.base_url}/{bad.operation}",
                content=bad.wire(),
                headers={"Content-Type": "application/json"},
            )
            if bad.wire_valid:
                # An object's repr is a string: nothing is wrong on the wire.
                assert response.status_code == 200, (bad.id, response.text[:300])
            else:
                error = _assert_error_shape(response)
                # Where the server names a field, it is the one the SDK named.
                assert error["param"] in (None, bad.param), (bad.id, error)
        _assert_still_serving(local_server, http)


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def mode_is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def test_huge_inputs_are_the_servers_to_refuse(mode_is_async: bool) -> None:
    """The SDK has no size limit of its own: a body over the server's limit is sent once
    and comes back as a typed 413, not retried; too many documents is a 400."""
    config = ServerConfig(max_body_bytes=256 * 1024, max_documents=100)
    huge = ["x" * (300 * 1024)]
    many = [f"document {i}" for i in range(101)]
    with LocalServer(config) as server:

        async def async_calls() -> list[BaseException]:
            errors: list[BaseException] = []
            async with AsyncTogether(api_key=API_KEY, base_url=server.base_url) as client:
                for documents in (huge, many):
                    try:
                        await client.rerank.create(model=MODEL, query=QUERY, documents=documents)
                    except APIStatusError as exc:
                        errors.append(exc)
            return errors

        def sync_calls() -> list[BaseException]:
            errors: list[BaseException] = []
            with Together(api_key=API_KEY, base_url=server.base_url) as client:
                for documents in (huge, many):
                    try:
                        client.rerank.create(model=MODEL, query=QUERY, documents=documents)
                    except APIStatusError as exc:
                        errors.append(exc)
            return errors

        errors = asyncio.run(async_calls()) if mode_is_async else sync_calls()
        assert [type(e).__name__ for e in errors] == ["APIStatusError", "BadRequestError"]
        too_large, too_many = errors
        assert isinstance(too_large, APIStatusError)
        assert too_large.status_code == 413
        assert isinstance(too_many, APIStatusError)
        assert too_many.status_code == 400
        assert "documents" in str(too_many)
        with httpx.Client(timeout=30) as http:
            for body in (
                json.dumps({"model": MODEL, "query": QUERY, "documents": huge}).encode(),
                json.dumps({"model": MODEL, "query": QUERY, "documents": many}).encode(),
            ):
                response = http.post(
                    f"{server.base_url}/rerank",
                    content=body,
                    headers={"Content-Type": "application/json"},
                )
                _assert_error_shape(response)
            _assert_still_serving(server, http)


# --- client options: refused before anything reaches a real server ----------------------

BAD_TIMEOUTS: list[Any] = [0, -1, math.inf, math.nan, "5", httpx.Timeout(5.0, read=-1)]


@pytest.mark.parametrize("bad", BAD_TIMEOUTS, ids=repr)
def test_bad_timeouts_never_reach_the_server(server: FaultServer, mode: Mode, bad: Any) -> None:
    """Failed before: `timeout=0` retried into `ConnectError`, the others raised raw errors."""
    per_request = mode.rerank(server.base_url, budget=10, timeout=bad)
    at_construction = mode.rerank(server.base_url, budget=10, client={"timeout": bad})
    for outcome in (per_request, at_construction):
        error = outcome.raised(InvalidArgumentError)
        assert str(error).startswith("timeout"), str(error)
    assert server.requests == []
