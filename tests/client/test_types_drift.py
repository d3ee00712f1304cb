"""The public pydantic types cannot drift from openapi.yaml, nor from the generated attrs models.

The facade keeps its own pydantic models (the seed's names, fields and defaults)
next to the generated ones; these tests tie both to the spec.
"""

from __future__ import annotations

import copy
import json
import typing
from typing import Any

import httpx
import pydantic
import pytest
import together_rerank_generated.models as generated
from hypothesis import HealthCheck, given, settings
from hypothesis_jsonschema import from_schema

from together_rerank import (
    APIResponseValidationError,
    EmbeddingData,
    EmbeddingsRequest,
    EmbeddingsResponse,
    RerankChoicesData,
    RerankRequest,
    RerankResponse,
    UsageData,
)

from .helpers import SCHEMAS, Caller, MockAPI, json_equal, spec_validator

# Public model <-> the spec schema it mirrors.
PAIRS: list[tuple[type[pydantic.BaseModel], str]] = [
    (RerankRequest, "RerankRequest"),
    (RerankResponse, "RerankResponse"),
    (RerankChoicesData, "RerankResult"),
    (UsageData, "UsageData"),
    (EmbeddingsRequest, "EmbeddingsRequest"),
    (EmbeddingsResponse, "EmbeddingsResponse"),
    (EmbeddingData, "EmbeddingData"),
]


def _wire_names(model: type[pydantic.BaseModel]) -> set[str]:
    """The names each field answers to on the wire: its alias, else its validation alias(es).

    A rename can ship with the old Python name kept (deprecated) and the new
    wire name as its alias: that field stands for the new property.
    """
    names = set()
    for name, field in model.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, pydantic.AliasChoices):
            names.add(next(c for c in alias.choices if isinstance(c, str)))
        elif isinstance(alias, str) or field.alias:
            names.add(alias if isinstance(alias, str) else str(field.alias))
        else:
            names.add(name)
    return names


@pytest.mark.parametrize(("model", "schema"), PAIRS, ids=[p[1] for p in PAIRS])
def test_field_names_equal_the_spec_properties(
    model: type[pydantic.BaseModel], schema: str
) -> None:
    assert _wire_names(model) == set(SCHEMAS[schema]["properties"])


def test_an_aliased_field_stands_for_its_wire_name() -> None:
    class Renamed(pydantic.BaseModel):
        relevance_score: float = pydantic.Field(
            validation_alias=pydantic.AliasChoices("score", "relevance_score")
        )
        index: int

    assert _wire_names(Renamed) == {"score", "index"}


@pytest.mark.parametrize(("model", "schema"), PAIRS, ids=[p[1] for p in PAIRS])
def test_fields_the_spec_makes_optional_are_optional(
    model: type[pydantic.BaseModel], schema: str
) -> None:
    # Otherwise a spec-valid body (or call) without them would be refused.
    required = set(SCHEMAS[schema].get("required", []))
    for name, field in model.model_fields.items():
        if name not in required:
            assert not field.is_required(), name


@pytest.mark.parametrize(
    ("model", "schema"),
    [(RerankRequest, "RerankRequest"), (EmbeddingsRequest, "EmbeddingsRequest")],
)
def test_request_types_require_what_the_spec_requires(
    model: type[pydantic.BaseModel], schema: str
) -> None:
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required == set(SCHEMAS[schema]["required"])


def test_seed_defaults_of_the_request_type() -> None:
    fields = RerankRequest.model_fields
    assert fields["top_n"].default is None
    assert fields["return_documents"].default is False
    assert fields["rank_fields"].default is None


def _types_in(annotation: Any) -> set[Any]:
    found = {annotation}
    for arg in typing.get_args(annotation):
        found |= _types_in(arg)
    return found


def test_nested_types_follow_the_spec_refs() -> None:
    results = SCHEMAS["RerankResponse"]["properties"]["results"]["items"]["$ref"]
    assert results.endswith("/RerankResult")
    assert RerankChoicesData in _types_in(RerankResponse.model_fields["results"].annotation)
    assert UsageData in _types_in(RerankResponse.model_fields["usage"].annotation)
    data = SCHEMAS["EmbeddingsResponse"]["properties"]["data"]["items"]["$ref"]
    assert data.endswith("/EmbeddingData")
    assert EmbeddingData in _types_in(EmbeddingsResponse.model_fields["data"].annotation)
    assert UsageData in _types_in(EmbeddingsResponse.model_fields["usage"].annotation)


# --- required response fields: required by pydantic, or validated by the client ------------

RERANK_BODY: dict[str, Any] = {
    "id": "r1",
    "object": "rerank",
    "model": "m",
    "results": [{"index": 0, "relevance_score": 0.5, "document": {"text": "d0"}}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1},
}
EMBEDDINGS_BODY: dict[str, Any] = {
    "object": "list",
    "model": "m",
    "data": [{"object": "embedding", "embedding": [0.5], "index": 0}],
    "usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": 1},
}

# Where each response schema sits in those bodies: (schema, body, path to the object).
LOCATIONS: list[tuple[str, dict[str, Any], tuple[str | int, ...]]] = [
    ("RerankResponse", RERANK_BODY, ()),
    ("RerankResult", RERANK_BODY, ("results", 0)),
    ("UsageData", RERANK_BODY, ("usage",)),
    ("EmbeddingsResponse", EMBEDDINGS_BODY, ()),
    ("EmbeddingData", EMBEDDINGS_BODY, ("data", 0)),
    ("UsageData", EMBEDDINGS_BODY, ("usage",)),
]

# Spec-required fields the SDK accepts when missing, by its tolerance policy
# (together_rerank/_tolerance.py: real servers leave them out; the ranking is
# still right). Changing what is tolerated must be a decision: update this set with it.
# Strict mode tolerates none of them.
TOLERATED_MISSING = {
    ("RerankResponse", "object"),
    ("RerankResponse", "model"),
    ("EmbeddingsResponse", "object"),
    ("EmbeddingsResponse", "model"),
    ("EmbeddingData", "object"),
    ("UsageData", "prompt_tokens"),
    ("UsageData", "completion_tokens"),
    ("UsageData", "total_tokens"),
}


def _accepts(body: dict[str, Any], strict: bool = False) -> bool:
    """Whether the client returns a result for this 200 body (one string document/input)."""
    api = MockAPI(httpx.Response(200, json=body))
    client = {"strict": strict}
    try:
        if "data" in body or body.get("object") == "list":
            Caller(False).embeddings(api, client=client, model="m", input="x")
        else:
            Caller(False).rerank(api, client=client, model="m", query="q", documents=["d0"])
    except APIResponseValidationError:
        return False
    return True


def test_the_complete_bodies_are_spec_valid_and_accepted() -> None:
    spec_validator("RerankResponse").validate(RERANK_BODY)
    spec_validator("EmbeddingsResponse").validate(EMBEDDINGS_BODY)
    assert _accepts(RERANK_BODY)
    assert _accepts(EMBEDDINGS_BODY)


@pytest.mark.parametrize("strict", [False, True], ids=["default", "strict"])
def test_spec_required_response_fields_are_required_or_validated(strict: bool) -> None:
    tolerated = set()
    checked = 0
    for schema, body, path in LOCATIONS:
        for name in SCHEMAS[schema]["required"]:
            broken = copy.deepcopy(body)
            target: Any = broken
            for step in path:
                target = target[step]
            del target[name]
            checked += 1
            if _accepts(broken, strict):
                tolerated.add((schema, name))
    assert checked >= 14
    assert tolerated == (set() if strict else TOLERATED_MISSING)


# --- the generated attrs models agree with the public pydantic ones ----------------------


def _spec_schema(name: str, narrow: dict[str, dict[str, str]]) -> dict[str, Any]:
    """A spec schema with its refs resolvable, and some `object` fields narrowed to a const.

    The spec types `object` as any string, described as "always `<value>`"; the
    seed's public types are `Literal[<value>]`. The narrowing is read from the
    spec's own description, so it follows the spec.
    """
    schemas = copy.deepcopy(SCHEMAS)
    for schema_name, fields in narrow.items():
        for field, value in fields.items():
            prop = schemas[schema_name]["properties"][field]
            assert f"always `{value}`" in prop["description"]
            schemas[schema_name]["properties"][field] = {"const": value}
    # (Copies throughout: hypothesis-jsonschema resolves $refs in place.)
    return copy.deepcopy({**schemas[name], "components": {"schemas": schemas}})


RERANK_RESPONSE_SCHEMA = _spec_schema("RerankResponse", {"RerankResponse": {"object": "rerank"}})
EMBEDDINGS_RESPONSE_SCHEMA = _spec_schema(
    "EmbeddingsResponse",
    {"EmbeddingsResponse": {"object": "list"}, "EmbeddingData": {"object": "embedding"}},
)
# Long vectors only slow generation down (a lot): a few components show the same thing.
EMBEDDINGS_RESPONSE_SCHEMA["components"]["schemas"]["EmbeddingData"]["properties"]["embedding"][
    "maxItems"
] = 4

DRIFT_SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@DRIFT_SETTINGS
@given(body=from_schema(RERANK_RESPONSE_SCHEMA))
def test_generated_and_public_rerank_response_agree(body: dict[str, Any]) -> None:
    from_generated = generated.RerankResponse.from_dict(copy.deepcopy(body)).to_dict()
    from_public = RerankResponse.model_validate(body).model_dump(exclude_unset=True)
    # Through JSON text, as both would be sent or stored.
    assert json_equal(json.loads(json.dumps(from_generated)), json.loads(json.dumps(from_public)))
    assert json_equal(from_public, body)


# The embeddings schema generates slowest of all (about 0.1 s a body).
@settings(DRIFT_SETTINGS, max_examples=50)
@given(body=from_schema(EMBEDDINGS_RESPONSE_SCHEMA))
def test_generated_and_public_embeddings_response_agree(body: dict[str, Any]) -> None:
    from_generated = generated.EmbeddingsResponse.from_dict(copy.deepcopy(body)).to_dict()
    from_public = EmbeddingsResponse.model_validate(body).model_dump(exclude_unset=True)
    assert json_equal(json.loads(json.dumps(from_generated)), json.loads(json.dumps(from_public)))
    assert json_equal(from_public, body)


def test_generated_request_model_has_the_public_request_fields() -> None:
    attrs_fields = {field.name.rstrip("_") for field in generated.RerankRequest.__attrs_attrs__} - {
        "additional_properties"
    }
    assert attrs_fields == set(RerankRequest.model_fields)
