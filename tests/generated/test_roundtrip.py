"""Every generated model carries every valid instance of its schema through JSON unchanged.

For each component schema of openapi.yaml that the generator turns into a
model, instances generated from the spec itself (hypothesis-jsonschema) must
satisfy

    json.loads(json.dumps(Model.from_dict(x).to_dict())) == x

with the real `json.dumps`: a model left unconverted inside `to_dict()`'s output
(the generator's known bug with a `oneOf` of array types) cannot be encoded
and fails here, where a plain equality of dicts would not notice. Along the way:

* the parsed model holds values of the types its own annotations declare
  (the other face of the same bug: `from_dict` keeping a list of dicts in a
  field typed `list[DocumentObject] | list[str]`);
* the comparison is type-exact (`1` is not `1.0`, `True` is not `1`);
* `from_dict` leaves its argument as it was;
* no nulls for unset fields: an optional key absent from the input is absent
  from `to_dict()`, and an explicit null stays an explicit null;
* keys the spec does not name (a newer server's fields) come back unchanged and
  are kept as the model's `additional_properties`.

Explicit cases cover what random generation reaches only by luck: string and
object documents, nested JSON values, non-BMP and combining characters, right-
to-left text, empty strings, unknown fields at every level, absent optionals.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from typing import Any, cast

import attrs
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from together_rerank_generated.models import (
    DocumentObject,
    ErrorDetail,
    ModelInfo,
    RerankDocument,
    RerankRequest,
    RerankResponse,
    RerankResult,
    UsageData,
)
from together_rerank_generated.types import UNSET

from .runtime_types import model_type_errors
from .spec_schemas import (
    COMPONENTS,
    GENERATED_CLASS_NAMES,
    MODEL_SCHEMAS,
    ModelClass,
    UnsupportedSchema,
    class_name,
    for_hypothesis,
    generates_model,
    instances,
    model_class,
    rewrite,
    spec_validator,
)


def canonical_json(value: Any) -> str:
    """JSON text that tells `1` from `1.0` and `True` from `1` (Python's `==` does not)."""
    return json.dumps(value, sort_keys=True, allow_nan=False, ensure_ascii=False)


def assert_round_trip(model: ModelClass, schema: Mapping[str, Any], instance: Any) -> None:
    """The properties of the module docstring, for one instance of one model's schema."""
    pristine = copy.deepcopy(instance)
    given_to_model = copy.deepcopy(instance)

    parsed = model.from_dict(given_to_model)
    if attrs.has(type(parsed)):
        mistyped = model_type_errors(parsed)
        assert not mistyped, "from_dict produced values of undeclared types:\n" + "\n".join(
            mistyped
        )
    produced = parsed.to_dict()
    wire = json.dumps(produced, allow_nan=False)  # raises TypeError on a leaked model
    assert given_to_model == pristine, "from_dict changed its argument"
    assert json.loads(wire) == pristine
    assert canonical_json(json.loads(wire)) == canonical_json(pristine)

    properties = schema.get("properties", {})
    for key in properties.keys() - pristine.keys():
        assert key not in produced, f"unset optional {key!r} was emitted as {produced[key]!r}"
    for key in pristine.keys() - properties.keys():
        assert key in parsed.additional_properties, f"unknown field {key!r} was not kept"
        assert canonical_json(parsed.additional_properties[key]) == canonical_json(pristine[key])


# -- the schemas and their classes --------------------------------------------------------


def test_every_component_schema_is_a_model_schema() -> None:
    """Round trips cover component schemas that become models; a new kind needs new tests."""
    others = [name for name, schema in COMPONENTS.items() if not generates_model(schema)]
    assert not others, f"component schemas without a model (extend these tests): {others}"
    assert MODEL_SCHEMAS, "no model schemas found in openapi.yaml"


@pytest.mark.parametrize("schema_name", MODEL_SCHEMAS)
def test_every_model_schema_has_a_generated_class(schema_name: str) -> None:
    name = class_name(schema_name)
    assert name is not None, (
        f"no generated class for components/schemas/{schema_name} "
        f"(generated models: {sorted(GENERATED_CLASS_NAMES.values())})"
    )
    model = model_class(schema_name)
    assert model is not None
    assert callable(model.from_dict)


STRATEGIES = {name: instances(name) for name in MODEL_SCHEMAS}


@pytest.mark.parametrize("schema_name", MODEL_SCHEMAS)
@settings(
    max_examples=200,
    deadline=None,
    # Drawing objects with unknown keys of arbitrary JSON values is slow by design
    # (hypothesis-jsonschema builds strategies while drawing nested objects); on a
    # machine busy with other test runs the first draws can exceed the 1 s budget
    # of this health check, which says nothing about the strategies themselves.
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=st.data())
def test_spec_instances_survive_the_json_round_trip(schema_name: str, data: st.DataObject) -> None:
    model = model_class(schema_name)
    assert model is not None, f"no generated class for {schema_name}"
    instance = data.draw(STRATEGIES[schema_name], label=schema_name)
    errors = [error.message for error in spec_validator(schema_name).iter_errors(instance)]
    assert not errors, f"generated an instance the spec rejects: {errors}"
    assert_round_trip(model, COMPONENTS[schema_name], instance)


@pytest.mark.parametrize("schema_name", MODEL_SCHEMAS)
def test_schemas_for_hypothesis_are_self_contained(schema_name: str) -> None:
    """Every `$ref` is inlined and every `example` dropped; the spec's own bounds are kept."""
    text = json.dumps(for_hypothesis(schema_name))
    assert '"$ref"' not in text
    assert '"example"' not in text
    documents = for_hypothesis("RerankRequest")["properties"]["documents"]
    assert documents["minItems"] == 1
    assert documents["maxItems"] >= documents["minItems"]


@pytest.mark.parametrize(
    ("schema", "stack", "complaint"),
    [
        ({"type": "array", "prefixItems": [{"type": "string"}]}, (), "prefixItems"),
        ({"type": "object", "unevaluatedProperties": False}, (), "unevaluatedProperties"),
        ({"type": "array", "items": [{"type": "string"}]}, (), "`items` as a list"),
        ({"$ref": "#/components/schemas/UsageData"}, ("UsageData",), "recursive"),
        ({"$ref": "other.yaml#/Thing"}, (), "not a component schema"),
    ],
)
def test_the_rewrite_refuses_what_hypothesis_jsonschema_would_misread(
    schema: dict[str, Any], stack: tuple[str, ...], complaint: str
) -> None:
    with pytest.raises(UnsupportedSchema, match=re.escape(complaint)):
        rewrite({"properties": {"x": schema}}, "#/components/schemas/T", stack)


# -- explicit cases -----------------------------------------------------------------------

NESTED_DOCUMENT = {
    "title": "PyTorch Guide",
    "body": "PyTorch is an open-source deep learning framework.",
    "meta": {
        "tags": ["ml", "python", []],
        "year": 2024,
        "score": 0.875,
        "tiny": 1e-300,
        "huge": 1.7976931348623157e308,
        "negative": -12,
        "draft": False,
        "published": True,
        "editor": None,
        "deep": {"a": [{"b": [None, 1, 2.5, "c", {"d": {}}]}]},
    },
}
UNICODE = [
    "👩🏽‍🚀 reached 🪐 with 𝄞 and 𠜎",  # non-BMP: emoji ZWJ sequence, skin tone, clef, CJK ext B
    "Cafe\u0301 vs Café, n\u0303, \u1e9b\u0323",  # combining marks next to precomposed ones
    "שלום עולם",  # Hebrew, right to left
    "مرحبا بالعالم \u200f!",  # Arabic with a right-to-left mark
    "mixed \u202eRTL override\u202c and \u2066isolate\u2069",
    'zero\u200bwidth, nbsp\u00a0and \x00 NUL, \t tab, \n newline, \\ backslash, " quote',
]

CASES: list[tuple[str, str, Any]] = [
    # requests
    (
        "RerankRequest",
        "string-documents",
        {
            "model": "Salesforce/Llama-Rank-V1",
            "query": "What is retrieval-augmented generation?",
            "documents": ["The weather forecast predicts rain.", "RAG combines retrieval."],
            "top_n": 1,
        },
    ),
    (
        "RerankRequest",
        "object-documents-nested",
        {
            "model": "m",
            "query": "deep learning frameworks",
            "documents": [NESTED_DOCUMENT, {"title": "Cooking", "body": ""}, {}],
            "rank_fields": ["title", "body"],
            "return_documents": True,
        },
    ),
    ("RerankRequest", "unicode", {"model": "模型/🦙", "query": UNICODE[0], "documents": UNICODE}),
    (
        "RerankRequest",
        "unicode-object-keys",
        {"model": "m", "query": "q", "documents": [{text: text for text in UNICODE}]},
    ),
    ("RerankRequest", "empty-strings", {"model": "m", "query": "", "documents": ["", ""]}),
    ("RerankRequest", "empty-key-and-value", {"model": "m", "query": "", "documents": [{"": ""}]}),
    ("RerankRequest", "minimal", {"model": "m", "query": "q", "documents": ["d"]}),
    (
        "RerankRequest",
        "passthrough-field",
        {"model": "m", "query": "q", "documents": ["d"], "truncate": {"mode": "end"}},
    ),
    ("EmbeddingsRequest", "one-text", {"model": "m", "input": "How does attention work?"}),
    ("EmbeddingsRequest", "texts", {"model": "m", "input": ["", *UNICODE]}),
    ("EmbeddingsRequest", "empty-text", {"model": "m", "input": ""}),
    ("DocumentObject", "nested", NESTED_DOCUMENT),
    ("DocumentObject", "empty", {}),
    # responses
    (
        "RerankResponse",
        "unknown-fields-everywhere",
        {
            "id": "oGs6Zt9-62bZhn-99529372487b1b0a",
            "object": "rerank",
            "model": "Salesforce/Llama-Rank-V1",
            "results": [
                {
                    "index": 1,
                    "relevance_score": 0.92,
                    "document": {"text": '{"title":"PyTorch"}', "format": "json"},
                    "rank_reason": ["title"],
                },
                {"index": 0, "relevance_score": -3, "document": None},
                {"index": 2, "relevance_score": 0.0},
            ],
            "usage": {
                "prompt_tokens": 118,
                "completion_tokens": 0,
                "total_tokens": 118,
                "cached_tokens": {"read": 3, "written": None},
            },
            "system_fingerprint": None,
            "warnings": ["top_n larger than documents"],
        },
    ),
    ("RerankResponse", "minimal", {"object": "rerank", "model": "m", "results": []}),
    (
        "RerankResponse",
        "usage-null",
        {"object": "rerank", "model": "m", "results": [], "usage": None, "id": ""},
    ),
    ("RerankResponse", "unknown-object-kind", {"object": "rerank.v2", "model": "", "results": []}),
    ("RerankResult", "no-document", {"index": 0, "relevance_score": 1}),
    ("RerankResult", "document-null", {"index": 0, "relevance_score": 0.5, "document": None}),
    ("RerankResult", "document-empty", {"index": 0, "relevance_score": 0.5, "document": {}}),
    (
        "RerankResult",
        "document-unicode",
        {"index": 3, "relevance_score": 1e-9, "document": {"text": UNICODE[1]}},
    ),
    ("RerankDocument", "text-null", {"text": None}),
    ("RerankDocument", "text-empty", {"text": ""}),
    ("RerankDocument", "no-text", {}),
    ("RerankDocument", "object-document-as-json-text", {"text": json.dumps(NESTED_DOCUMENT)}),
    (
        "UsageData",
        "extra-counter",
        {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0, "cached": 1},
    ),
    (
        "EmbeddingData",
        "integers-and-extras",
        {"object": "embedding", "embedding": [1, -2], "index": 0, "dims": 2},
    ),
    ("EmbeddingData", "unknown-object-kind", {"object": "", "embedding": [0.5], "index": 7}),
    (
        "EmbeddingsResponse",
        "with-usage-and-extras",
        {
            "object": "list",
            "model": "m",
            "data": [
                {"object": "embedding", "embedding": [0.12, -0.5, 0, 1e-300, -1e300], "index": 0},
                {"object": "embedding", "embedding": [], "index": 1, "norm": 1.0},
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5},
            "created": 1732560000,
        },
    ),
    ("EmbeddingsResponse", "usage-absent", {"object": "list", "model": "m", "data": []}),
    ("ModelInfo", "minimal", {"id": "m"}),
    (
        "ModelInfo",
        "extras",
        {"id": "m", "object": "model", "type": "rerank", "context_length": 8192, "pricing": {}},
    ),
    ("ErrorResponse", "minimal", {"error": {"message": "boom"}}),
    (
        "ErrorResponse",
        "full-with-nulls-and-extras",
        {
            "error": {
                "message": "top_n: must be an integer >= 1",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
                "request_id": "r-1",
            },
            "status": 400,
        },
    ),
    ("ErrorDetail", "unicode", {"message": UNICODE[3], "param": "top_n", "code": ""}),
]


def case(label: str) -> Any:
    """The instance of the explicit case called `label`."""
    (found,) = [instance for _, name, instance in CASES if name == label]
    return copy.deepcopy(found)


@pytest.mark.parametrize(
    ("schema_name", "instance"),
    [pytest.param(name, instance, id=f"{name}-{case}") for name, case, instance in CASES],
)
def test_explicit_instances_survive_the_json_round_trip(schema_name: str, instance: Any) -> None:
    errors = [error.message for error in spec_validator(schema_name).iter_errors(instance)]
    assert not errors, f"this case is not a valid {schema_name}: {errors}"
    model = model_class(schema_name)
    assert model is not None
    assert_round_trip(model, COMPONENTS[schema_name], instance)


def test_explicit_cases_cover_every_model_schema() -> None:
    covered = {name for name, _, _ in CASES}
    assert set(MODEL_SCHEMAS) <= covered, sorted(set(MODEL_SCHEMAS) - covered)


def _unknown(model: type[Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """The keys of `body` that `model` has no field for (a field renamed in the spec included)."""
    # The generator appends "_" to a name Python reserves (`object` -> `object_`).
    known = {field.name.rstrip("_") for field in attrs.fields(model)} - {"additional_properties"}
    return {key: value for key, value in body.items() if key not in known}


def test_unknown_response_fields_are_kept_at_every_level() -> None:
    body = case("unknown-fields-everywhere")
    response = RerankResponse.from_dict(copy.deepcopy(body))
    # Computed from the models' fields, so that a spec renaming one of them
    # (its old name then unknown here) does not break this test.
    assert response.additional_properties == _unknown(RerankResponse, body)
    assert response.additional_properties["warnings"] == ["top_n larger than documents"]
    first = response.results[0]
    assert first.additional_properties == _unknown(RerankResult, body["results"][0])
    assert first.additional_properties["rank_reason"] == ["title"]
    assert isinstance(first.document, RerankDocument)
    assert first.document.additional_properties == {"format": "json"}
    assert isinstance(response.usage, UsageData)
    assert response.usage.additional_properties == _unknown(UsageData, body["usage"])
    assert response.usage.additional_properties["cached_tokens"] == {"read": 3, "written": None}


def test_null_and_absent_stay_distinct() -> None:
    """An explicit null is data and is kept; an absent key is not invented as null."""
    absent = RerankResult.from_dict({"index": 0, "relevance_score": 0.5})
    null = RerankResult.from_dict({"index": 0, "relevance_score": 0.5, "document": None})
    assert absent.document is UNSET
    assert null.document is None
    assert "document" not in absent.to_dict()
    assert null.to_dict()["document"] is None


def test_models_built_in_python_emit_only_the_fields_that_were_set() -> None:
    """No nulls for unset fields, on the path the SDK takes to build a request."""
    request = RerankRequest(model="m", query="q", documents=["d"])
    assert request.to_dict() == {"model": "m", "query": "q", "documents": ["d"]}
    request.top_n = 2
    assert request.to_dict() == {"model": "m", "query": "q", "documents": ["d"], "top_n": 2}
    assert ErrorDetail(message="m").to_dict() == {"message": "m"}
    assert ModelInfo(id="m").to_dict() == {"id": "m"}
    response = RerankResponse(object_="rerank", model="m", results=[])
    assert response.to_dict() == {"object": "rerank", "model": "m", "results": []}
    for built in (request, response, ModelInfo(id="m")):
        assert None not in json.loads(json.dumps(built.to_dict())).values()


# -- the check itself can fail --------------------------------------------------------------


class LeakyRerankRequest:
    """What the generator emits for `documents` written as a `oneOf` of two array types.

    `from_dict` wraps object documents in `DocumentObject` models and `to_dict`
    passes them through unconverted (see notes/facts.md).
    """

    def __init__(self, fields: dict[str, Any]) -> None:
        self.fields = fields
        self.additional_properties: dict[str, Any] = {}

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any], /) -> LeakyRerankRequest:
        fields = dict(src_dict)
        fields["documents"] = [
            DocumentObject.from_dict(doc) if isinstance(doc, dict) else doc
            for doc in fields["documents"]
        ]
        return cls(fields)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.fields)


def test_the_round_trip_check_catches_the_known_union_bug() -> None:
    instance = {"model": "m", "query": "q", "documents": [{"title": "t"}]}
    with pytest.raises(TypeError, match="not JSON serializable"):
        assert_round_trip(LeakyRerankRequest, COMPONENTS["RerankRequest"], instance)
    # String documents pass through the same buggy code unharmed: only objects expose it.
    assert_round_trip(
        LeakyRerankRequest, COMPONENTS["RerankRequest"], {**instance, "documents": ["d"]}
    )


@attrs.define
class MisparsedRerankRequest:
    """The same bug with the `oneOf` branches the other way round (strings first).

    `from_dict` keeps object documents as plain dicts in a field declared
    `list[DocumentObject] | list[str]`; `to_dict` hands them back unchanged, so
    the JSON round trip alone passes.
    """

    model: str
    query: str
    documents: list[DocumentObject] | list[str]
    additional_properties: dict[str, Any] = attrs.field(init=False, factory=dict)

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any], /) -> MisparsedRerankRequest:
        fields = dict(src_dict)
        return cls(fields["model"], fields["query"], cast(list[str], fields["documents"]))

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "query": self.query, "documents": self.documents}


def test_the_round_trip_check_catches_values_of_undeclared_types() -> None:
    instance = {"model": "m", "query": "q", "documents": [{"title": "t"}]}
    with pytest.raises(AssertionError, match=r"\.documents: \[\{'title': 't'\}\] is none of"):
        assert_round_trip(MisparsedRerankRequest, COMPONENTS["RerankRequest"], instance)
    assert_round_trip(
        MisparsedRerankRequest, COMPONENTS["RerankRequest"], {**instance, "documents": ["d"]}
    )
