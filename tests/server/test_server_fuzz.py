"""Fuzzing: nothing a client sends yields a 5xx, and validation agrees with the spec."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from together_rerank.server import ServerConfig, create_app, pages

from .support import (
    EMBEDDING_MODEL,
    RERANK_MODEL,
    asgi_client,
    assert_conforms,
    schema_validator,
)

APP = create_app(ServerConfig(max_documents=6, max_inputs=6))
JSON_HEADERS = {"content-type": "application/json"}
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
field_names = st.sampled_from(["title", "body", "tags", ""])
document_objects = st.dictionaries(field_names, st.text(max_size=30) | json_values, max_size=3)
valid_ish_rerank = st.fixed_dictionaries(
    {
        "model": st.just(RERANK_MODEL),
        "query": st.text(max_size=40),
        "documents": st.lists(st.text(max_size=40), min_size=1, max_size=8)
        | st.lists(document_objects, min_size=1, max_size=8),
    },
    optional={
        "top_n": st.integers(-2, 12) | st.floats(-2, 12) | st.booleans(),
        "return_documents": st.booleans(),
        "rank_fields": st.lists(field_names, max_size=3),
        "extra_field": json_values,
    },
)
rerank_fields = ["model", "query", "documents", "top_n", "return_documents", "rank_fields"]


@st.composite
def near_valid_rerank(draw: st.DrawFn) -> dict[str, Any]:
    """Mostly-valid rerank bodies with zero to two fields dropped or replaced."""
    body: dict[str, Any] = draw(valid_ish_rerank)
    for name in draw(st.lists(st.sampled_from(rerank_fields), max_size=2, unique=True)):
        if draw(st.booleans()):
            body.pop(name, None)
        else:
            body[name] = draw(
                json_values
                | st.sampled_from([EMBEDDING_MODEL, "nope", ""])
                | st.lists(st.text(max_size=5) | document_objects | st.none(), max_size=4)
            )
    return body


async def _post(path: str, content: bytes) -> Any:
    async with asgi_client(APP) as client:
        return await client.post(path, content=content, headers=JSON_HEADERS)


def _spec_allows(body: dict[str, Any]) -> bool:
    return bool(schema_validator("RerankRequest").is_valid(body))


def _server_rules_allow(body: dict[str, Any]) -> bool:
    """The checks the server makes beyond the schema (see validation.py)."""
    documents = body["documents"]
    if len(documents) > 6:
        return False
    if "rank_fields" in body:
        if isinstance(documents[0], str):
            return False
        if any(all(name not in doc for doc in documents) for name in body["rank_fields"]):
            return False
    return True


@FUZZ
@given(st.binary(max_size=300))
async def test_random_bytes_never_cause_a_server_error(content: bytes) -> None:
    for path in ("/v1/rerank", "/v1/embeddings"):
        response = await _post(path, content)
        assert response.status_code < 500
        assert_conforms(response, path.removeprefix("/v1"))


@FUZZ
@given(json_values)
async def test_random_json_never_causes_a_server_error(value: Any) -> None:
    for path in ("/v1/rerank", "/v1/embeddings"):
        response = await _post(path, json.dumps(value).encode())
        assert 400 <= response.status_code < 500
        assert_conforms(response, path.removeprefix("/v1"))


@FUZZ
@given(near_valid_rerank())
async def test_rerank_accepts_exactly_the_requests_the_spec_and_documented_rules_allow(
    body: dict[str, Any],
) -> None:
    response = await _post("/v1/rerank", json.dumps(body).encode())
    assert response.status_code < 500
    payload = assert_conforms(response, "/rerank")
    expected_ok = (
        body.get("model") == RERANK_MODEL and _spec_allows(body) and _server_rules_allow(body)
    )
    assert (response.status_code == 200) == expected_ok, payload
    if response.status_code == 200:
        results = payload["results"]
        scores = [r["relevance_score"] for r in results]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
        top_n = body.get("top_n")
        expected_count = (
            len(body["documents"]) if top_n is None else min(int(top_n), len(body["documents"]))
        )
        assert len(results) == expected_count
        assert all(("document" in r) == bool(body.get("return_documents")) for r in results)
    elif not _spec_allows(body):
        assert response.status_code in (400, 404)


@FUZZ
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "model": st.sampled_from([EMBEDDING_MODEL, RERANK_MODEL]) | json_values,
            "input": st.text(max_size=40)
            | st.lists(st.text(max_size=20), max_size=8)
            | json_values,
        },
    )
)
async def test_embeddings_accept_exactly_the_requests_the_spec_allows(body: dict[str, Any]) -> None:
    response = await _post("/v1/embeddings", json.dumps(body).encode())
    assert response.status_code < 500
    payload = assert_conforms(response, "/embeddings")
    inputs = body.get("input")
    expected_ok = (
        body.get("model") == EMBEDDING_MODEL
        and schema_validator("EmbeddingsRequest").is_valid(body)
        and not (isinstance(inputs, list) and len(inputs) > 6)
    )
    assert (response.status_code == 200) == expected_ok, payload
    if expected_ok:
        assert len(payload["data"]) == (1 if isinstance(inputs, str) else len(inputs or []))


PAGES = {*pages.PAGE_PATHS, "/openapi.yaml"}


@FUZZ
@given(
    method=st.sampled_from(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]),
    path=st.sampled_from(["/v1/rerank", "/rerank", "/v1/models", "/health", "/v1/embeddings"])
    | st.text(st.characters(codec="ascii", exclude_categories=["Cc"]), max_size=20).map(
        lambda p: "/" + p.lstrip("/")
    ),
    content_type=st.sampled_from(["application/json", "text/plain", "", "application/json; x=y"]),
    content=st.binary(max_size=50),
)
async def test_any_method_path_and_content_type_gets_a_json_answer_below_500(
    method: str, path: str, content_type: str, content: bytes
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    async with asgi_client(APP) as client:
        response = await client.request(method, path, content=content, headers=headers)
    assert response.status_code < 500
    assert response.headers["x-together-rerank-engine"]
    # The API's pages (its spec as YAML, the page at / and /docs) are the only
    # answers that are not JSON, and only to a successful GET.
    page = method == "GET" and response.status_code == 200 and path in PAGES
    if method != "HEAD" and not page:
        assert response.headers["content-type"] == "application/json"
        if response.status_code >= 400:
            assert set(response.json()["error"]) == {"message", "type", "param", "code"}
