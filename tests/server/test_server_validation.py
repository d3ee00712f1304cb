"""Every way a client can get a request wrong answers 4xx with a precise, spec-shaped error."""

from __future__ import annotations

import sys
from typing import Any

import httpx
import pytest

from together_rerank.server import ServerConfig, create_app

from .support import (
    EMBEDDING_MODEL,
    FRAMEWORK_DOCUMENTS,
    RERANK_MODEL,
    asgi_client,
    assert_conforms,
    assert_error,
    dumps,
    rerank_body,
)

JSON = {"content-type": "application/json"}
OBJECTS = FRAMEWORK_DOCUMENTS


def _without(key: str) -> dict[str, Any]:
    body = rerank_body()
    del body[key]
    return body


RERANK_INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("model missing", _without("model"), "model", "missing_required_field"),
    ("model not a string", rerank_body(model=7), "model", "invalid_type"),
    ("model null", rerank_body(model=None), "model", "invalid_type"),
    ("model empty", rerank_body(model=""), "model", "invalid_value"),
    ("query missing", _without("query"), "query", "missing_required_field"),
    ("query null", rerank_body(query=None), "query", "invalid_type"),
    ("query a list", rerank_body(query=["a"]), "query", "invalid_type"),
    ("documents missing", _without("documents"), "documents", "missing_required_field"),
    ("documents a string", rerank_body(documents="doc"), "documents", "invalid_type"),
    ("documents an object", rerank_body(documents={"a": "b"}), "documents", "invalid_type"),
    ("documents empty", rerank_body(documents=[]), "documents", "invalid_value"),
    ("null document first", rerank_body(documents=[None, "a"]), "documents[0]", "invalid_type"),
    (
        "null document later",
        rerank_body(documents=["a", "b", None]),
        "documents[2]",
        "invalid_type",
    ),
    ("number document", rerank_body(documents=["a", 3]), "documents[1]", "invalid_type"),
    ("array document", rerank_body(documents=[["a"]]), "documents[0]", "invalid_type"),
    ("boolean document", rerank_body(documents=[True]), "documents[0]", "invalid_type"),
    (
        "object after strings",
        rerank_body(documents=["a", "b", "c", {"t": "d"}]),
        "documents[3]",
        "mixed_document_types",
    ),
    (
        "string after objects",
        rerank_body(documents=[{"t": "a"}, "b"]),
        "documents[1]",
        "mixed_document_types",
    ),
    ("top_n zero", rerank_body(top_n=0), "top_n", "invalid_value"),
    ("top_n negative", rerank_body(top_n=-3), "top_n", "invalid_value"),
    ("top_n true", rerank_body(top_n=True), "top_n", "invalid_type"),
    ("top_n false", rerank_body(top_n=False), "top_n", "invalid_type"),
    ("top_n a string", rerank_body(top_n="3"), "top_n", "invalid_type"),
    ("top_n fractional", rerank_body(top_n=1.5), "top_n", "invalid_value"),
    ("top_n null", rerank_body(top_n=None), "top_n", "invalid_type"),
    ("return_documents a string", rerank_body(return_documents="yes"), "return_documents", ""),
    ("return_documents 1", rerank_body(return_documents=1), "return_documents", "invalid_type"),
    ("return_documents null", rerank_body(return_documents=None), "return_documents", ""),
    ("rank_fields empty", rerank_body(documents=OBJECTS, rank_fields=[]), "rank_fields", ""),
    (
        "rank_fields a string",
        rerank_body(documents=OBJECTS, rank_fields="title"),
        "rank_fields",
        "",
    ),
    ("rank_fields null", rerank_body(documents=OBJECTS, rank_fields=None), "rank_fields", ""),
    (
        "rank_fields item not a string",
        rerank_body(documents=OBJECTS, rank_fields=["title", 2]),
        "rank_fields[1]",
        "invalid_type",
    ),
    (
        "rank_fields with string documents",
        rerank_body(rank_fields=["title"]),
        "rank_fields",
        "invalid_value",
    ),
    (
        "rank_fields naming a field no document has",
        rerank_body(documents=OBJECTS, rank_fields=["title", "author"]),
        "rank_fields",
        "unknown_field",
    ),
]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [case[1:] for case in RERANK_INVALID],
    ids=[case[0] for case in RERANK_INVALID],
)
@pytest.mark.parametrize("path", ["/v1/rerank", "/rerank"])
async def test_invalid_rerank_request_is_400_naming_the_param(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], param: str, code: str
) -> None:
    response = await client.post(path, json=body)
    error = assert_error(response, 400, param=param, code=code or None)
    assert error["message"].startswith(f"{param}: ")
    assert_conforms(response, "/rerank")


EMBEDDINGS_INVALID: list[tuple[str, dict[str, Any], str, str]] = [
    ("model missing", {"input": "a"}, "model", "missing_required_field"),
    ("model empty", {"model": "", "input": "a"}, "model", "invalid_value"),
    ("input missing", {"model": EMBEDDING_MODEL}, "input", "missing_required_field"),
    ("input a number", {"model": EMBEDDING_MODEL, "input": 3}, "input", "invalid_type"),
    ("input null", {"model": EMBEDDING_MODEL, "input": None}, "input", "invalid_type"),
    ("input empty list", {"model": EMBEDDING_MODEL, "input": []}, "input", "invalid_value"),
    ("input item null", {"model": EMBEDDING_MODEL, "input": ["a", None]}, "input[1]", ""),
    ("input item object", {"model": EMBEDDING_MODEL, "input": [{"t": "a"}]}, "input[0]", ""),
]


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [case[1:] for case in EMBEDDINGS_INVALID],
    ids=[case[0] for case in EMBEDDINGS_INVALID],
)
async def test_invalid_embeddings_request_is_400_naming_the_param(
    client: httpx.AsyncClient, body: dict[str, Any], param: str, code: str
) -> None:
    response = await client.post("/v1/embeddings", json=body)
    assert_error(response, 400, param=param, code=code or None)
    assert_conforms(response, "/embeddings")


BAD_BODIES: list[tuple[str, bytes, str]] = [
    ("empty body", b"", "invalid_json"),
    ("truncated JSON", b'{"model": ', "invalid_json"),
    ("trailing garbage", b'{"model": "x"} x', "invalid_json"),
    ("a JSON array", b'["model"]', "invalid_json"),
    ("a JSON string", b'"hello"', "invalid_json"),
    ("JSON null", b"null", "invalid_json"),
    ("a JSON number", b"42", "invalid_json"),
    ("invalid UTF-8", b'{"model": "\xff\xfe", "query": "q"}', "invalid_encoding"),
    ("UTF-16 body", '{"model": "m"}'.encode("utf-16"), "invalid_encoding"),
    ("NaN literal", b'{"model": "m", "query": "q", "documents": ["a"], "top_n": NaN}', ""),
    ("Infinity literal", b'{"model": "m", "top_n": -Infinity}', "invalid_json"),
    ("number overflowing a double", b'{"model": "m", "top_n": 1e999}', "invalid_json"),
    ("integer of 5000 digits", b'{"model": "m", "top_n": ' + b"9" * 5000 + b"}", ""),
    ("deeply nested arrays", b'{"model": "m", "x": ' + b"[" * 100_000 + b"}", "invalid_json"),
    ("deeply nested objects", b'{"a":' * 100_000 + b"1" + b"}" * 100_000, "invalid_json"),
    ("lone surrogate escape", b'{"model": "m", "query": "\\ud800", "documents": ["a"]}', ""),
    ("lone low surrogate", b'{"model": "m", "documents": [{"\\uDC00": "a"}]}', "invalid_encoding"),
]


@pytest.mark.parametrize(
    ("body", "code"), [c[1:] for c in BAD_BODIES], ids=[c[0] for c in BAD_BODIES]
)
@pytest.mark.parametrize("path", ["/v1/rerank", "/v1/embeddings"])
async def test_body_that_is_not_a_utf8_json_object_is_400(
    client: httpx.AsyncClient, path: str, body: bytes, code: str
) -> None:
    response = await client.post(path, content=body, headers=JSON)
    assert_error(response, 400, param=None, code=code or None)


@pytest.mark.parametrize("option", ['"rank_fields": ["a"]', '"return_documents": true'])
async def test_documents_nested_near_the_recursion_limit_never_crash(
    client: httpx.AsyncClient, option: str
) -> None:
    # Parsing and re-serialising a document hit the recursion limit at slightly
    # different depths; either way the answer is 200 or a 400, never a 500.
    statuses = set()
    limit = sys.getrecursionlimit()
    for depth in range(limit - 40, limit + 10, 3):
        document = '{"a":' + "[" * depth + "]" * depth + "}"
        body = f'{{"model": "{RERANK_MODEL}", "query": "q", "documents": [{document}], {option}}}'
        response = await client.post("/v1/rerank", content=body.encode(), headers=JSON)
        statuses.add(response.status_code)
        if response.status_code != 200:
            param = response.json()["error"]["param"]
            assert param in (None, "documents")
            assert_error(response, 400, param=param)
    assert statuses == {200, 400}


async def test_paired_surrogate_escapes_are_ordinary_text(client: httpx.AsyncClient) -> None:
    # Python's json.dumps escapes non-ASCII as surrogate pairs by default.
    body = rerank_body(query="emoji \U0001f600 search", documents=["emoji \U0001f600"])
    response = await client.post("/v1/rerank", content=dumps(body), headers=JSON)
    assert response.status_code == 200
    assert response.json()["results"][0]["relevance_score"] > 0


async def test_byte_order_mark_is_tolerated(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/v1/rerank", content=b"\xef\xbb\xbf" + dumps(rerank_body()), headers=JSON
    )
    assert response.status_code == 200


async def test_integral_float_top_n_counts_as_an_integer(client: httpx.AsyncClient) -> None:
    # OpenAPI 3.1 uses JSON Schema 2020-12, where 2.0 is an integer.
    response = await client.post("/v1/rerank", json=rerank_body(top_n=2.0))
    assert response.status_code == 200
    assert len(response.json()["results"]) == 2


async def test_unknown_top_level_fields_are_ignored(client: httpx.AsyncClient) -> None:
    plain = await client.post("/v1/rerank", json=rerank_body())
    extended = await client.post(
        "/v1/rerank", json=rerank_body(future_option={"x": [1, None]}, stream=False)
    )
    assert extended.status_code == 200
    assert extended.json()["results"] == plain.json()["results"]
    embedded = await client.post(
        "/v1/embeddings", json={"model": EMBEDDING_MODEL, "input": "a", "encoding_format": "float"}
    )
    assert embedded.status_code == 200


async def test_unknown_model_is_404_model_not_found(client: httpx.AsyncClient) -> None:
    for path, body in [
        ("/v1/rerank", rerank_body(model="acme/no-such-reranker")),
        ("/v1/embeddings", {"model": "acme/no-such-embedder", "input": "a"}),
    ]:
        response = await client.post(path, json=body)
        error = assert_error(response, 404, param="model", code="model_not_found")
        assert "acme/no-such-" in error["message"]


async def test_error_messages_do_not_echo_huge_values(client: httpx.AsyncClient) -> None:
    response = await client.post("/v1/rerank", json=rerank_body(model="m" * 100_000))
    assert_error(response, 404, param="model")
    assert len(response.content) < 2_000


@pytest.mark.parametrize(
    ("path", "body", "engine"),
    [
        ("/v1/rerank", rerank_body(model=EMBEDDING_MODEL), "hashed-ngrams"),
        ("/v1/embeddings", {"model": RERANK_MODEL, "input": "a"}, "bm25"),
    ],
)
async def test_model_of_the_wrong_kind_is_400_naming_model(
    client: httpx.AsyncClient, path: str, body: dict[str, Any], engine: str
) -> None:
    response = await client.post(path, json=body)
    error = assert_error(response, 400, param="model", code="wrong_model_type")
    assert body["model"] in error["message"]
    assert response.headers["x-together-rerank-engine"] == engine


async def test_more_documents_than_the_limit_is_400() -> None:
    async with asgi_client(create_app(ServerConfig(max_documents=3, max_inputs=2))) as client:
        at_limit = await client.post("/v1/rerank", json=rerank_body(documents=["a"] * 3))
        assert at_limit.status_code == 200
        over = await client.post("/v1/rerank", json=rerank_body(documents=["a"] * 4))
        error = assert_error(over, 400, param="documents", code="too_many_documents")
        assert "3" in error["message"]
        too_many_inputs = await client.post(
            "/v1/embeddings", json={"model": EMBEDDING_MODEL, "input": ["a", "b", "c"]}
        )
        assert_error(too_many_inputs, 400, param="input", code="too_many_inputs")


def test_default_limits_are_16_mib_and_10000_documents() -> None:
    config = ServerConfig()
    assert config.max_body_bytes == 16 * 1024 * 1024
    assert config.max_documents == 10_000
    assert config.max_inputs == 10_000


@pytest.mark.parametrize(
    "content_type",
    [None, "text/plain", "application/x-www-form-urlencoded", "application/json; charset=latin-1"],
)
async def test_wrong_content_type_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {} if content_type is None else {"content-type": content_type}
    response = await client.post("/v1/rerank", content=dumps(rerank_body()), headers=headers)
    assert_error(response, 415, code="unsupported_media_type")


@pytest.mark.parametrize(
    "content_type",
    ["application/json", "Application/JSON; charset=UTF-8", 'application/json;charset="utf-8"'],
)
async def test_json_content_type_with_utf8_charset_is_accepted(
    client: httpx.AsyncClient, content_type: str
) -> None:
    response = await client.post(
        "/v1/rerank", content=dumps(rerank_body()), headers={"content-type": content_type}
    )
    assert response.status_code == 200
