"""Boundary cases: every request limit in the spec gets a request at it and one past it."""

from __future__ import annotations

import copy
from typing import Any

from together_rerank.contract.boundaries import boundary_cases
from together_rerank.contract.spec import load_spec, schema_level_spec

LIMITS = ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")


def _request_limits(spec: dict[str, Any]) -> set[tuple[str, str, str]]:
    """(path, property, limit keyword) for every limit on a request body property, walked."""
    schemas = spec["components"]["schemas"]
    found = set()
    for path, item in spec["paths"].items():
        for operation in item.values():
            media = operation.get("requestBody", {}).get("content", {}).get("application/json")
            if not media:
                continue
            schema = schemas[media["schema"]["$ref"].rsplit("/", 1)[-1]]
            for name, prop in schema["properties"].items():
                for branch in [prop, *prop.get("oneOf", []), *prop.get("anyOf", [])]:
                    for keyword in LIMITS:
                        if keyword in branch:
                            found.add((path, name, keyword))
    return found


def test_every_limit_of_the_schema_level_spec_has_cases_on_both_sides() -> None:
    spec = schema_level_spec(rerank_model="r", embedding_model="e")
    cases = boundary_cases(spec)
    covered = {(c.path, c.field, c.limit.split(" ")[0], c.valid) for c in cases}
    limits = _request_limits(spec)
    assert limits, "the spec has request limits"
    for path, name, keyword in limits:
        assert (path, name, keyword, False) in covered, (path, name, keyword)
    # The model is pinned to the one under test: only its invalid side is probed.
    model_free = {(p, n, k) for p, n, k in limits if n != "model"}
    for path, name, keyword in model_free:
        assert (path, name, keyword, True) in covered, (path, name, keyword)


def test_a_new_limit_gets_cases_without_code_changes() -> None:
    spec = load_spec()
    properties = spec["components"]["schemas"]["RerankRequest"]["properties"]
    properties["top_n"]["maximum"] = 1000
    properties["documents"]["maxItems"] = 1000
    properties["query"]["maxLength"] = 50
    cases = {(c.field, c.limit, c.valid): c for c in boundary_cases(copy.deepcopy(spec))}
    assert cases[("top_n", "maximum 1000", True)].body["top_n"] == 1000
    assert cases[("top_n", "maximum 1000", False)].body["top_n"] == 1001
    assert len(cases[("documents", "maxItems 1000", True)].body["documents"]) == 1000
    assert len(cases[("documents", "maxItems 1000", False)].body["documents"]) == 1001
    assert len(cases[("query", "maxLength 50", False)].body["query"]) == 51
    # The rest of each request is the operation's own example, valid as it is.
    assert cases[("top_n", "maximum 1000", True)].body["model"] == "Salesforce/Llama-Rank-V1"


def test_cases_are_the_same_on_every_call() -> None:
    spec = schema_level_spec(rerank_model="r", embedding_model="e")
    assert boundary_cases(spec) == boundary_cases(spec)
