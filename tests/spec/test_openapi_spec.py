"""openapi.yaml is a valid OpenAPI 3.1 document that explains itself.

* A real OpenAPI validator accepts it (and rejects broken copies of it).
* Every operation has a `description`.
* Every schema and every property has a `description` and an `example` (or
  `examples`), recursively through `properties`, `items` and `oneOf`/`anyOf`/
  `allOf` branches. The one exemption is a bare `$ref` that is not a property:
  its meaning is the referenced component's, which is checked where it is
  defined. Failures name the exact JSON pointer of each schema that falls short.
* Every example validates against the schema it illustrates (JSON Schema
  2020-12, `$ref`s resolved through the document itself), and so does every
  request and response body example.
* The conventions in `info.description` hold: request fields are never null,
  response objects stay open to fields a newer server adds.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest
from openapi_spec_validator import OpenAPIV31SpecValidator, validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from .openapi_doc import (
    MediaExample,
    Role,
    SchemaSite,
    iter_media_examples,
    iter_operations,
    iter_schema_sites,
    load_spec,
    pointer,
    resolve,
    validator_for,
)

SPEC = load_spec()
SCHEMA_SITES = list(iter_schema_sites(SPEC))
SITES_WITH_EXAMPLES = [site for site in SCHEMA_SITES if site.examples]
MEDIA_EXAMPLES = list(iter_media_examples(SPEC))


def _listing(pointers: list[str]) -> str:
    return "\n".join(f"  {p}" for p in pointers)


def _errors(json_pointer: str, instance: Any) -> list[str]:
    """Why `instance` is not valid under the schema at `json_pointer` (empty if it is)."""
    errors = validator_for(SPEC, json_pointer).iter_errors(instance)
    return [
        f"{pointer('', *error.absolute_path) or '(root)'}: {error.message}"
        for error in sorted(errors, key=lambda e: list(map(str, e.absolute_path)))
    ]


# -- the document is valid OpenAPI 3.1 ---------------------------------------------------


def test_spec_is_a_valid_openapi_3_1_document() -> None:
    assert str(SPEC.get("openapi", "")).startswith("3.1."), SPEC.get("openapi")
    validate(SPEC, cls=OpenAPIV31SpecValidator)


def _drop_title(spec: dict[str, Any]) -> None:
    del spec["info"]["title"]


def _misspell_a_type(spec: dict[str, Any]) -> None:
    spec["components"]["schemas"]["RerankResult"]["properties"]["index"]["type"] = "intger"


def _drop_request_content(spec: dict[str, Any]) -> None:
    del spec["paths"]["/rerank"]["post"]["requestBody"]["content"]


@pytest.mark.parametrize("breakage", [_drop_title, _misspell_a_type, _drop_request_content])
def test_the_validator_rejects_a_broken_copy(breakage: Callable[[dict[str, Any]], None]) -> None:
    """The validation above is real: the same call fails on a damaged copy of the spec."""
    broken = copy.deepcopy(SPEC)
    breakage(broken)
    with pytest.raises(OpenAPIValidationError):
        validate(broken, cls=OpenAPIV31SpecValidator)


# -- everything explains itself -----------------------------------------------------------


def test_every_operation_has_a_description() -> None:
    operations = list(iter_operations(SPEC))
    assert operations, "no operations found under /paths"
    missing = [
        at for at, operation in operations if not str(operation.get("description", "")).strip()
    ]
    if missing:
        pytest.fail("operations without a description:\n" + _listing(missing))


def _missing(sites: list[SchemaSite], owes: Callable[[SchemaSite], bool]) -> list[str]:
    return [site.pointer for site in sites if site.has_own_meaning and not owes(site)]


def test_every_schema_and_property_has_a_description() -> None:
    missing = _missing(SCHEMA_SITES, lambda site: site.has_description)
    if missing:
        pytest.fail("schemas without a description:\n" + _listing(missing))


def test_every_schema_and_property_has_an_example() -> None:
    missing = _missing(SCHEMA_SITES, lambda site: site.has_example)
    if missing:
        pytest.fail("schemas without an `example` or `examples`:\n" + _listing(missing))


MINI_SPEC: dict[str, Any] = {
    "openapi": "3.1.0",
    "paths": {
        "/a/b": {
            "post": {
                "description": "Posts.",
                "requestBody": {
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "array",
                                "items": {"$ref": "#/components/schemas/Thing"},
                            },
                            "examples": {"one": {"value": [{"schema": {"not": "walked"}}]}},
                        }
                    }
                },
            }
        },
        "/c": {"get": {"summary": "No description."}},
    },
    "components": {
        "schemas": {
            "Thing": {
                "type": "object",
                "description": "A thing.",
                "example": {"name": "x"},
                "properties": {
                    "name": {"type": "string", "description": "Its name.", "example": "x"},
                    "owner": {"$ref": "#/components/schemas/Thing"},
                    "tags": {
                        "type": "array",
                        "description": "Tags.",
                        "examples": [["t"]],
                        "items": {"type": "string"},
                    },
                    "size": {
                        "description": "A size.",
                        "example": 1,
                        "oneOf": [
                            {"type": "integer", "description": "Whole.", "example": 1},
                            {"type": "null"},
                        ],
                    },
                },
                "additionalProperties": True,
            }
        },
        "examples": {"Data": {"value": {"schema": {"type": "not walked either"}}}},
    },
}


def test_the_walker_names_every_schema_that_falls_short() -> None:
    """The checks above can fail, and name the right pointers: a self-test on a small spec."""
    sites = list(iter_schema_sites(MINI_SPEC))
    without_description = _missing(sites, lambda site: site.has_description)
    without_example = _missing(sites, lambda site: site.has_example)
    assert without_description == [
        "/components/schemas/Thing/properties/owner",
        "/components/schemas/Thing/properties/tags/items",
        "/components/schemas/Thing/properties/size/oneOf/1",
        "/paths/~1a~1b/post/requestBody/content/application~1json/schema",
    ]
    assert without_example == without_description
    # The bare `$ref` items of the request body are exempt; they were still visited.
    items = "/paths/~1a~1b/post/requestBody/content/application~1json/schema/items"
    assert [site.role for site in sites if site.pointer == items] == [Role.SUBSCHEMA]
    assert [at for at, _ in iter_operations(MINI_SPEC)] == ["/paths/~1a~1b/post", "/paths/~1c/get"]
    assert resolve(MINI_SPEC, "/paths/~1a~1b/post/description") == "Posts."


# -- every example is valid ---------------------------------------------------------------


@pytest.mark.parametrize("site", SITES_WITH_EXAMPLES, ids=lambda site: site.pointer)
def test_schema_examples_validate_against_their_own_schema(site: SchemaSite) -> None:
    for value in site.examples:
        errors = _errors(site.pointer, value)
        assert not errors, f"example {value!r} of {site.pointer} is invalid:\n" + _listing(errors)


@pytest.mark.parametrize("example", MEDIA_EXAMPLES, ids=lambda example: example.pointer)
def test_body_examples_validate_against_their_media_type_schema(example: MediaExample) -> None:
    errors = _errors(example.schema_pointer, example.value)
    assert not errors, f"{example.pointer} is invalid:\n" + _listing(errors)


def test_examples_are_collected() -> None:
    """The two parametrized tests above have something to check (an empty list would skip)."""
    assert SITES_WITH_EXAMPLES
    request_body_examples = [e.pointer for e in MEDIA_EXAMPLES if "/requestBody/" in e.pointer]
    assert any(p.startswith("/paths/~1rerank/post/") for p in request_body_examples)


def test_example_validation_resolves_refs_and_can_fail() -> None:
    """Validation reaches through `$ref`s: a bad value three references deep is caught."""
    response: dict[str, Any] = {
        "object": "rerank",
        "model": "m",
        "results": [{"index": 0, "relevance_score": 0.5, "document": {"text": 7}}],
    }
    errors = _errors("/components/schemas/RerankResponse", response)
    assert errors == [
        "/results/0/document: {'text': 7} is not valid under any of the given schemas"
    ]
    response["results"][0]["document"] = {"text": "seven"}
    assert _errors("/components/schemas/RerankResponse", response) == []


# -- the conventions of info.description ------------------------------------------------


def _component_name(ref: str) -> str:
    prefix = "#/components/schemas/"
    assert ref.startswith(prefix), f"unexpected $ref {ref}"
    return ref.removeprefix(prefix)


def _refs_in(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for key, value in node.items():
            if key not in ("example", "examples", "const", "enum", "default"):
                yield from _refs_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _refs_in(item)


def _reachable_components(roots: list[Any]) -> set[str]:
    schemas = SPEC["components"]["schemas"]
    seen: set[str] = set()
    pending = [_component_name(ref) for root in roots for ref in _refs_in(root)]
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            pending.extend(_component_name(ref) for ref in _refs_in(schemas[name]))
    return seen


def _body_schemas(kind: str) -> list[tuple[str, Any]]:
    """(pointer, schema) of every request body (`kind="requestBody"`) or response body."""
    return [
        (site.pointer, site.schema)
        for site in SCHEMA_SITES
        if site.role is Role.ROOT and f"/{kind}/" in site.pointer
    ]


def _sites_of(components: set[str]) -> list[SchemaSite]:
    prefixes = tuple(pointer("/components/schemas", name) + "/" for name in components)
    exact = {pointer("/components/schemas", name) for name in components}
    return [s for s in SCHEMA_SITES if s.pointer in exact or s.pointer.startswith(prefixes)]


def test_request_fields_never_admit_null() -> None:
    """Optional request fields are left out, never sent as null: no request property admits null."""
    roots = _body_schemas("requestBody")
    assert roots, "no request bodies found"
    properties = [
        site
        for site in _sites_of(_reachable_components([schema for _, schema in roots]))
        if site.role is Role.PROPERTY
    ]
    assert properties
    nullable = [site.pointer for site in properties if not _errors(site.pointer, None)]
    assert not nullable, "request properties that accept null:\n" + _listing(nullable)


def test_response_objects_stay_open_to_new_fields_and_values() -> None:
    """A newer server may add fields and values: response schemas forbid neither.

    The generator drops unknown keys of an `additionalProperties: false` object
    and rejects unknown values of a `const`/`enum`, so either would break old
    clients the day the server grows.
    """
    roots = _body_schemas("responses")
    assert roots, "no response bodies found"
    reachable = _reachable_components([schema for _, schema in roots])
    assert "RerankResponse" in reachable
    sites = _sites_of(reachable) + [SchemaSite(at, schema, Role.ROOT) for at, schema in roots]
    closed = [
        f"{site.pointer} ({keyword})"
        for site in sites
        for keyword in ("additionalProperties", "unevaluatedProperties", "const", "enum")
        if keyword in site.schema
        and (keyword in ("const", "enum") or site.schema[keyword] is False)
    ]
    assert not closed, "response schemas closed to what a newer server sends:\n" + _listing(closed)


def test_documents_are_all_strings_or_all_objects() -> None:
    documents = "/components/schemas/RerankRequest"
    base = {"model": "m", "query": "q"}
    assert _errors(documents, {**base, "documents": ["a", "b"]}) == []
    assert _errors(documents, {**base, "documents": [{"title": "a"}, {"n": [1, None]}]}) == []
    for bad in (["a", {"title": "b"}], [], [1], None):
        assert _errors(documents, {**base, "documents": bad}), f"documents={bad!r} was accepted"
