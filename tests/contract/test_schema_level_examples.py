"""The schema level sends the spec's request examples as they are: each must fit its schema.

Before the fix, `rank_fields` was dropped from the schema but left in the
`objects` example, so schemathesis sent a request its own schema did not
describe (and 14 contract tests failed once limits were added to the spec).
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from together_rerank.contract.spec import schema_level_spec

SPEC = schema_level_spec(rerank_model="acme/ranker", embedding_model="acme/embedder")


def _validator(spec: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    resource = Resource.from_contents(spec, default_specification=DRAFT202012)
    registry: Registry[Any] = Registry().with_resource("urn:spec", resource)
    return Draft202012Validator({"$ref": "urn:spec" + schema["$ref"]}, registry=registry)


def _request_examples() -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema ref, example) for every request body example and schema example."""
    found = []
    for path, item in SPEC["paths"].items():
        for method, operation in item.items():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not media:
                continue
            schema = media["schema"]
            for name, example in (media.get("examples") or {}).items():
                found.append((f"{method.upper()} {path} examples/{name}", schema, example["value"]))
            component = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
            if "example" in component:
                found.append(
                    (f"{method.upper()} {path} schema example", schema, component["example"])
                )
    return found


EXAMPLES = _request_examples()


def test_every_operation_with_a_body_has_examples() -> None:
    assert {where.split(" ")[1] for where, _, _ in EXAMPLES} == {"/rerank", "/embeddings"}


@pytest.mark.parametrize(("where", "schema", "example"), EXAMPLES, ids=[e[0] for e in EXAMPLES])
def test_request_examples_fit_the_narrowed_schema(
    where: str, schema: dict[str, Any], example: Any
) -> None:
    _validator(SPEC, schema).validate(example)
    properties = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]["properties"]
    assert set(example) <= set(properties), f"{where} sends fields the schema does not describe"
