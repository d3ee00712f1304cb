"""A 200 answer that breaks the contract raises; a valid one with unknown fields is kept whole."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.reliability.conftest import server
from tests.reliability.faultserver import FaultServer, Respond
from tests.reliability.support import Mode
from together_rerank import (
    APIError,
    APIResponseValidationError,
    EmbeddingsResponse,
    RerankResponse,
    TogetherError,
)

from .helpers import DOCS, MODEL, Caller, MockAPI, ok_body


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


__all__ = ["server"]  # the fault server fixture of the reliability suite


def _result(index: Any, score: Any = 0.5) -> dict[str, Any]:
    return {"index": index, "relevance_score": score}


def _body(*results: dict[str, Any]) -> bytes:
    return json.dumps({"object": "rerank", "model": MODEL, "results": list(results)}).encode()


# (id, raw 200 body, extra create() arguments, words the message must contain); 3 documents.
BAD_BODIES: list[tuple[str, bytes, dict[str, Any], str]] = [
    ("index out of range", _body(_result(0), _result(3)), {}, "index 3"),
    ("negative index", _body(_result(-1)), {}, "index -1"),
    ("repeated index", _body(_result(1), _result(1)), {}, "appears twice"),
    (
        "NaN score",
        b'{"object":"rerank","model":"m","results":[{"index":0,"relevance_score":NaN}]}',
        {},
        "relevance_score",
    ),
    (
        "Infinity score",
        b'{"object":"rerank","model":"m","results":[{"index":0,"relevance_score":Infinity}]}',
        {},
        "relevance_score",
    ),
    (
        "overflowing score",
        b'{"object":"rerank","model":"m","results":[{"index":0,"relevance_score":1e999}]}',
        {},
        "relevance_score",
    ),
    ("more results than top_n", _body(_result(0), _result(1)), {"top_n": 1}, "2 results"),
    (
        "more results than documents",
        _body(_result(0), _result(1), _result(2), _result(0)),
        {},
        "4 results",
    ),
    ("results missing", b'{"object":"rerank","model":"m"}', {}, "results"),
    ("results null", b'{"object":"rerank","model":"m","results":null}', {}, "results"),
    ("results not a list", b'{"object":"rerank","model":"m","results":{}}', {}, "results"),
    ("index a string", _body(_result("zero")), {}, "index"),
    ("index a float", _body(_result(1.5)), {}, "index"),
    ("index missing", _body({"relevance_score": 0.5}), {}, "index"),
    ("score a string", _body(_result(0, "high")), {}, "relevance_score"),
    ("score missing", _body({"index": 0}), {}, "relevance_score"),
    (
        "usage wrong type",
        b'{"object":"rerank","model":"m","results":[],"usage":{"prompt_tokens":"many",'
        b'"completion_tokens":0,"total_tokens":1}}',
        {},
        "usage",
    ),
    (
        # A bare string is normalised (test_tolerance.py); a number is no document at all.
        "document wrong type",
        b'{"object":"rerank","model":"m","results":[{"index":0,"relevance_score":1,"document":5}]}',
        {"return_documents": True},
        "document",
    ),
    ("object wrong", b'{"object":"list","model":"m","results":[]}', {}, "object"),
    ("truncated JSON", _body(_result(0), _result(1))[:-7], {}, "JSON"),
]

# Rankings that a lax parser would let through (the 2xx check failed to reject each before).
WRONG_RANKINGS: list[tuple[str, bytes, dict[str, Any], str]] = [
    ("ascending scores", _body(_result(0, 0.1), _result(1, 0.9)), {}, "not sorted"),
    (
        "one result out of order",
        _body(_result(2, 0.9), _result(0, 0.5), _result(1, 0.7)),
        {},
        "results[2] scores 0.7",
    ),
    ("out of order under top_n", _body(_result(2, 0.2), _result(0, 0.3)), {"top_n": 2}, "sorted"),
    ("index true", _body(_result(True)), {}, "results.0.index"),
    ("index false", _body(_result(False)), {}, "results.0.index"),
    ("index a numeric string", _body(_result("1")), {}, "results.0.index"),
    ("index an integral float", _body(_result(1.0)), {}, "results.0.index"),
    ("score a numeric string", _body(_result(0, "0.5")), {}, "results.0.relevance_score"),
    ("score true", _body(_result(0, True)), {}, "results.0.relevance_score"),
    ("empty body", b"", {}, "JSON"),
    ("HTML body", b"<html><body>OK</body></html>", {}, "JSON"),
    ("JSON array", b"[]", {}, "rerank"),
    ("JSON string", b'"ok"', {}, "rerank"),
]


@pytest.mark.parametrize(
    ("content", "create", "words"),
    [pytest.param(c, a, w, id=i) for i, c, a, w in BAD_BODIES + WRONG_RANKINGS],
)
def test_contract_breaking_200_raises(
    mode: Caller, content: bytes, create: dict[str, Any], words: str
) -> None:
    api = MockAPI(httpx.Response(200, content=content, headers={"x-request-id": "r1"}))
    with pytest.raises(APIResponseValidationError) as info:
        mode.rerank(api, model=MODEL, query="q", documents=DOCS, **create)
    exc = info.value
    assert api.calls == 1  # a broken answer is not retried
    assert isinstance(exc, APIError)
    assert isinstance(exc, TogetherError)
    assert exc.status_code == 200
    assert exc.response.content == content
    assert exc.request.url == api.last.url
    assert "rerank" in str(exc)
    assert words in str(exc)


def test_a_valid_response_is_returned(mode: Caller) -> None:
    api = MockAPI(httpx.Response(200, json=ok_body(2, 0, 1)))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert isinstance(result, RerankResponse)
    assert result.results is not None
    assert [r.index for r in result.results] == [2, 0, 1]
    assert [r.relevance_score for r in result.results] == [1.0, 0.9, 0.8]


def test_fewer_results_than_documents_are_fine(mode: Caller) -> None:
    api = MockAPI(httpx.Response(200, json=ok_body(1)))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert result.results is not None
    assert len(result.results) == 1


def test_top_n_above_document_count_allows_every_document(mode: Caller) -> None:
    api = MockAPI(httpx.Response(200, json=ok_body(0, 1, 2)))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS, top_n=10)
    assert result.results is not None
    assert len(result.results) == 3


def test_unknown_fields_are_kept(mode: Caller) -> None:
    body: dict[str, Any] = {
        "id": "abc",
        "object": "rerank",
        "model": MODEL,
        "results": [
            {
                "index": 1,
                "relevance_score": 0.9,
                "document": {"text": "t", "source": "s3://x"},
                "explanation": {"tokens": [1, 2]},
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 0, "total_tokens": 3, "cached": 1},
        "warnings": ["model deprecated"],
        "server_version": 7,
    }
    api = MockAPI(httpx.Response(200, json=body))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS, return_documents=True)
    assert result.deviations == ()  # unknown fields are the spec's to allow, not deviations
    assert result.model_extra == {"warnings": ["model deprecated"], "server_version": 7}
    assert result.results is not None
    first = result.results[0]
    assert first.model_extra == {"explanation": {"tokens": [1, 2]}}
    assert first.document == {"text": "t", "source": "s3://x"}
    assert result.usage is not None
    assert result.usage.model_extra == {"cached": 1}
    # By alias: a field the spec renames keeps its old name as its alias.
    assert result.model_dump(exclude_unset=True, by_alias=True) == {
        **body,
        "results": [{**body["results"][0], "relevance_score": 0.9}],
    }


def test_null_usage_and_null_document_parse(mode: Caller) -> None:
    body = ok_body(0, usage=None)
    body["results"][0]["document"] = None
    api = MockAPI(httpx.Response(200, json=body))
    result = mode.rerank(api, model=MODEL, query="q", documents=DOCS)
    assert result.usage is None
    assert result.results is not None
    assert result.results[0].document is None


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"object": "list", "model": "m", "data": []}, "0 embeddings for 2"),
        (
            {
                "object": "list",
                "model": "m",
                "data": [{"embedding": [1.0], "index": 0}, {"embedding": [1.0], "index": 0}],
            },
            "indices",
        ),
        (
            {
                "object": "list",
                "model": "m",
                "data": [{"embedding": [1.0], "index": 0}, {"embedding": [1.0], "index": 5}],
            },
            "indices",
        ),
        ({"object": "list", "model": "m"}, "data"),
        ({"object": "list", "model": "m", "data": [{"embedding": "x", "index": 0}]}, "embedding"),
    ],
)
def test_contract_breaking_embeddings_raise(mode: Caller, body: dict[str, Any], words: str) -> None:
    api = MockAPI(httpx.Response(200, json=body))
    with pytest.raises(APIResponseValidationError, match=words):
        mode.embeddings(api, model="m", input=["a", "b"])


def test_non_finite_embedding_raises(mode: Caller) -> None:
    content = b'{"object":"list","model":"m","data":[{"embedding":[1.0,NaN],"index":0}]}'
    api = MockAPI(httpx.Response(200, content=content))
    with pytest.raises(APIResponseValidationError, match="non-finite"):
        mode.embeddings(api, model="m", input="a")


def test_valid_embeddings_response(mode: Caller) -> None:
    api = MockAPI()
    result = mode.embeddings(api, model="m", input=["a b", "c"])
    assert isinstance(result, EmbeddingsResponse)
    assert [d.index for d in result.data] == [0, 1]
    assert all(len(d.embedding) == 32 for d in result.data)


@pytest.mark.parametrize(
    ("content", "create", "words"),
    [pytest.param(c, a, w, id=i) for i, c, a, w in WRONG_RANKINGS],
)
def test_wrong_rankings_from_a_real_server_raise(
    server: FaultServer, content: bytes, create: dict[str, Any], words: str, is_async: bool
) -> None:
    """The same bodies over loopback HTTP, through the default transport (sync and async)."""
    server.script(Respond(200, body=content))
    outcome = Mode(is_async).rerank(server.base_url, budget=10, **create)
    error = outcome.raised(APIResponseValidationError)
    assert words in str(error)
    assert len(server.requests) == 1  # a wrong answer is not retried


def test_ties_and_integer_scores_are_a_valid_order(mode: Caller) -> None:
    body = _body(_result(1, 1), _result(0, 0.5), _result(2, 0.5))
    result = mode.rerank(
        MockAPI(httpx.Response(200, content=body)), model=MODEL, query="q", documents=DOCS
    )
    assert [(r.index, r.relevance_score) for r in result.results] == [(1, 1.0), (0, 0.5), (2, 0.5)]
    assert all(type(r.relevance_score) is float for r in result.results)
