"""Hypothesis properties: valid arguments give spec-valid bodies; responses round-trip; parity."""

from __future__ import annotations

import copy
import json
from typing import Any

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema

from together_rerank import RerankResponse

from .helpers import SCHEMAS, SPEC, Caller, MockAPI, json_equal, spec_validator

REQUEST_VALIDATOR = spec_validator("RerankRequest")
RESPONSE_VALIDATOR = spec_validator("RerankResponse")

PROPERTY_SETTINGS = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

# --- argument strategies -----------------------------------------------------------------

# Any unicode a Python str can carry and UTF-8 can encode (lone surrogates are refused).
text = st.text(st.characters(codec="utf-8"), max_size=12)
json_leaf = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | text
)
json_value = st.recursive(
    json_leaf,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=8,
)
dict_document = st.dictionaries(text, json_value, max_size=4)


@st.composite
def rerank_arguments(draw: st.DrawFn) -> dict[str, Any]:
    """Valid `rerank.create` arguments; only some optional ones are set."""
    documents: list[Any] = draw(
        st.lists(text, min_size=1, max_size=8) | st.lists(dict_document, min_size=1, max_size=5)
    )
    arguments: dict[str, Any] = {
        "model": draw(text.filter(lambda s: bool(s.strip()))),
        "query": draw(text),
        "documents": documents,
    }
    if draw(st.booleans()):
        arguments["top_n"] = draw(st.integers(1, 12))
    if draw(st.booleans()):
        arguments["return_documents"] = draw(st.booleans())
    keys = sorted({k for doc in documents if isinstance(doc, dict) for k in doc})
    use_rank_fields = draw(st.booleans())
    if keys and use_rank_fields:
        arguments["rank_fields"] = draw(
            st.lists(st.sampled_from(keys), min_size=1, max_size=3, unique=True)
        )
    # Parameters the spec does not know yet, passed as **kwargs.
    arguments.update(
        draw(st.dictionaries(st.sampled_from(["priority", "truncate", "x_new"]), json_value))
    )
    return arguments


def expected_body(arguments: dict[str, Any]) -> dict[str, Any]:
    """Exactly the fields the caller set; `return_documents` only when true."""
    body = dict(arguments)
    if body.get("return_documents") is False:
        del body["return_documents"]
    return body


@PROPERTY_SETTINGS
@given(arguments=rerank_arguments())
def test_any_valid_arguments_send_a_spec_valid_body_of_exactly_the_set_fields(
    arguments: dict[str, Any],
) -> None:
    for is_async in (False, True):
        api = MockAPI()
        Caller(is_async).rerank(api, **arguments)
        assert api.calls == 1
        sent = json.loads(api.last.content)
        REQUEST_VALIDATOR.validate(sent)
        assert json_equal(sent, expected_body(arguments))
        assert sent["documents"] == arguments["documents"]


@settings(PROPERTY_SETTINGS, max_examples=100)
@given(arguments=rerank_arguments())
def test_sync_and_async_send_identical_bytes_and_return_equal_results(
    arguments: dict[str, Any],
) -> None:
    sync_api, async_api = MockAPI(), MockAPI()
    sync_result = Caller(False).rerank(sync_api, **arguments)
    async_result = Caller(True).rerank(async_api, **arguments)
    assert sync_api.last.content == async_api.last.content
    assert sync_api.last.url == async_api.last.url
    assert sync_api.last.headers.multi_items() == async_api.last.headers.multi_items()
    assert sync_result == async_result
    assert sync_result.model_dump() == async_result.model_dump()


# --- response round-trip -------------------------------------------------------------------

# The spec's RerankResponse with every $ref resolvable from the root. `object` is
# narrowed to "rerank": the spec describes it as "always `rerank`" without a
# const, and the public type (the seed's) is Literal["rerank"].
# (A deep copy: hypothesis-jsonschema resolves $refs in place.)
RESPONSE_SCHEMA: dict[str, Any] = copy.deepcopy(
    {
        **SCHEMAS["RerankResponse"],
        "properties": {**SCHEMAS["RerankResponse"]["properties"], "object": {"const": "rerank"}},
        "components": SPEC["components"],
    }
)


@st.composite
def response_and_request_size(draw: st.DrawFn) -> tuple[dict[str, Any], int, int | None]:
    """A spec-valid response body, and a document count and top_n that it fits."""
    body = draw(from_schema(RESPONSE_SCHEMA))
    assert isinstance(body, dict)
    # The spec says "sorted by relevance_score, highest first" only in prose: sort them.
    body["results"].sort(key=lambda result: result["relevance_score"], reverse=True)
    results: list[dict[str, Any]] = body["results"]
    # The spec cannot say "indices are distinct and below len(documents)": make them so.
    document_count = len(results) + draw(st.integers(0, 3)) or 1
    indices = draw(st.permutations(range(document_count)))[: len(results)]
    for result, index in zip(results, indices, strict=True):
        result["index"] = index
    top_n = draw(st.none() | st.integers(max(len(results), 1), document_count + 2))
    return body, document_count, top_n


# Generating from the open-ended spec schema is slow (about 40 ms a body): fewer examples.
@settings(PROPERTY_SETTINGS, max_examples=100)
@given(case=response_and_request_size())
def test_any_spec_valid_response_round_trips(case: tuple[dict[str, Any], int, int | None]) -> None:
    body, document_count, top_n = case
    RESPONSE_VALIDATOR.validate(body)
    content = json.dumps(body).encode()
    extra: dict[str, Any] = {} if top_n is None else {"top_n": top_n}
    documents = [f"d{i}" for i in range(document_count)]
    results = []
    # Documents asked for, so that a spec-valid body is one this request may get back
    # (one not asked for is dropped); strict: the spec's own form passes strict mode.
    for is_async, strict in ((False, False), (True, False), (False, True)):
        api = MockAPI(httpx.Response(200, content=content))
        result = Caller(is_async).rerank(
            api,
            client={"strict": strict},
            model="m",
            query="q",
            documents=documents,
            return_documents=True,
            **extra,
        )
        assert isinstance(result, RerankResponse)
        assert result.deviations == ()
        dumped = result.model_dump(exclude_unset=True)
        assert json_equal(json.loads(json.dumps(dumped)), body)
        # Parsing the dump again gives the same model: nothing is lost on the way.
        assert RerankResponse.model_validate_json(json.dumps(dumped)) == result
        results.append(result)
    assert results[0] == results[1] == results[2]
