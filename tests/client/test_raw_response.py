"""`with_raw_response`: the HTTP response of a successful call, parsed on demand."""

from __future__ import annotations

import json

import httpx
import pytest

from together_rerank import (
    APIResponseValidationError,
    BadRequestError,
    EmbeddingsResponse,
    RawResponse,
    RerankResponse,
)

from .helpers import DOCS, MODEL, Caller, MockAPI, error, ok_body


def test_raw_response_exposes_status_headers_content(mode: Caller) -> None:
    content = json.dumps(ok_body(2, 0)).encode()
    api = MockAPI(
        httpx.Response(
            200, content=content, headers={"x-request-id": "req-42", "x-ratelimit-remaining": "9"}
        )
    )
    raw = mode.rerank_raw(api, model=MODEL, query="q", documents=DOCS)
    assert isinstance(raw, RawResponse)
    assert raw.status_code == 200
    assert raw.headers["x-ratelimit-remaining"] == "9"
    assert raw.request_id == "req-42"
    assert raw.content == content
    assert raw.http_response.request.url == api.last.url
    parsed = raw.parse()
    assert isinstance(parsed, RerankResponse)
    assert parsed.results is not None
    assert [r.index for r in parsed.results] == [2, 0]
    assert raw.parse() is parsed
    assert "200" in repr(raw)


def test_raw_parse_equals_the_normal_result(mode: Caller) -> None:
    raw = mode.rerank_raw(MockAPI(), model=MODEL, query="what", documents=DOCS, top_n=2)
    normal = mode.rerank(MockAPI(), model=MODEL, query="what", documents=DOCS, top_n=2)
    assert raw.parse() == normal


def test_raw_errors_still_raise(mode: Caller) -> None:
    api = MockAPI(error(400, "bad top_n"))
    with pytest.raises(BadRequestError, match="bad top_n"):
        mode.rerank_raw(api, model=MODEL, query="q", documents=DOCS)


def test_raw_retries_like_the_normal_call(mode: Caller) -> None:
    api = MockAPI(error(503), error(429))
    raw = mode.rerank_raw(api, model=MODEL, query="q", documents=DOCS)
    assert raw.status_code == 200
    assert api.calls == 3


def test_raw_defers_response_validation_to_parse(mode: Caller) -> None:
    api = MockAPI(httpx.Response(200, json=ok_body(7)))
    raw = mode.rerank_raw(api, model=MODEL, query="q", documents=DOCS)
    assert raw.status_code == 200
    with pytest.raises(APIResponseValidationError, match="index 7"):
        raw.parse()


def test_raw_per_request_options(mode: Caller) -> None:
    api = MockAPI()
    mode.rerank_raw(
        api, model=MODEL, query="q", documents=DOCS, extra_headers={"X-T": "1"}, top_n=1
    )
    assert api.last.headers["x-t"] == "1"
    assert api.last_json()["top_n"] == 1


def test_raw_embeddings(api: MockAPI) -> None:
    with api.client() as client:
        raw = client.embeddings.with_raw_response.create(model="m", input=["a", "b"])
    assert raw.status_code == 200
    parsed = raw.parse()
    assert isinstance(parsed, EmbeddingsResponse)
    assert len(parsed.data) == 2


async def test_raw_async_embeddings(api: MockAPI) -> None:
    async with api.async_client() as client:
        raw = await client.embeddings.with_raw_response.create(model="m", input="a")
    assert raw.status_code == 200
    assert len(raw.parse().data) == 1


def test_raw_is_typed_for_the_caller(api: MockAPI) -> None:
    # mypy checks this function: the raw create() returns RawResponse[RerankResponse].
    with api.client() as client:
        raw: RawResponse[RerankResponse] = client.rerank.with_raw_response.create(
            model=MODEL, query="q", documents=DOCS
        )
    result: RerankResponse = raw.parse()
    assert result.results is not None
