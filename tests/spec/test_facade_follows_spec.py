"""The facade, the server and the checker follow openapi.yaml: walked from the spec, no fixed lists.

Every operation must be reachable from the facade, served by the local server
and exercised by the contract checker (or say why not); every component schema
must have a public type (or say why not) whose fields match the spec's
properties by name or alias, with the spec's types, nesting and required-ness;
every request property must be a typed parameter of its `create()`; and every
request limit is enforced by the client and by the server, at its boundary.
A spec change that the hand-written code does not follow fails here, and the
message names the file to edit.
"""

from __future__ import annotations

import inspect
import json
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import httpx
import pydantic
import pytest
import yaml

import together_rerank
import together_rerank.types
from together_rerank import InvalidArgumentError, Together
from together_rerank.contract.boundaries import BoundaryCase, boundary_cases
from together_rerank.contract.schema_level import OPERATIONS as CHECKED_OPERATIONS
from together_rerank.server import validation as server_validation
from together_rerank.server.errors import APIError

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC: dict[str, Any] = yaml.safe_load((REPO_ROOT / "openapi.yaml").read_text("utf-8"))
SCHEMAS: dict[str, Any] = SPEC["components"]["schemas"]
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Decisions, not lists of what exists: a new operation or component fails until it gets a line.
# operationId -> the facade method ("resource.method"), or why the facade has none.
FACADE_METHODS: dict[str, str] = {
    "rerank": "rerank.create",
    "embeddings": "embeddings.create",
    "listModels": "not in the facade: the seed SDK has no models API (server and checker have)",
}
# component schema -> the public type that mirrors it, or why there is none.
PUBLIC_TYPES: dict[str, str] = {
    "RerankRequest": "RerankRequest",
    "RerankResponse": "RerankResponse",
    "RerankResult": "RerankChoicesData",  # the seed's public name
    "UsageData": "UsageData",
    "EmbeddingsRequest": "EmbeddingsRequest",
    "EmbeddingsResponse": "EmbeddingsResponse",
    "EmbeddingData": "EmbeddingData",
    "DocumentObject": "none: documents are plain dicts (any JSON object)",
    "RerankDocument": "none: the seed types a returned document as dict[str, Any]",
    "ModelInfo": "none: the facade has no models API",
    "ErrorResponse": "none: errors surface as APIStatusError with .body",
    "ErrorDetail": "none: errors surface as APIStatusError with .body",
}
# operationId -> the server's validator of its body (the server's own checks, then the spec's).
SERVER_VALIDATORS: dict[str, Any] = {
    "rerank": lambda obj: server_validation.validate_rerank(obj, max_documents=10**6),
    "embeddings": lambda obj: server_validation.validate_embeddings(obj, max_inputs=10**6),
}


def _operations() -> list[tuple[str, str, str, dict[str, Any]]]:
    """(operationId, METHOD, path, operation) for every operation in the spec."""
    found = []
    for path, item in SPEC["paths"].items():
        for method in HTTP_METHODS:
            if method in item:
                found.append((item[method]["operationId"], method.upper(), path, item[method]))
    return found


OPERATIONS = _operations()
OPERATION_IDS = [op[0] for op in OPERATIONS]


def _request_schema(operation: dict[str, Any]) -> str | None:
    media = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = media.get("schema", {}).get("$ref")
    return ref.rsplit("/", 1)[-1] if ref else None


def _facade_method(name: str, client: object) -> Any:
    target: Any = client
    for part in name.split("."):
        target = getattr(target, part)
    return target


# --- operations: facade, server, checker ---------------------------------------------------


@pytest.mark.parametrize(("op_id", "method", "path", "operation"), OPERATIONS, ids=OPERATION_IDS)
def test_every_operation_is_covered_by_the_facade_the_server_and_the_checker(
    op_id: str, method: str, path: str, operation: dict[str, Any]
) -> None:
    missing = []
    facade = FACADE_METHODS.get(op_id)
    if facade is None:
        missing.append(
            f"the facade: add a resource method in together_rerank/resources/ (and its "
            f"Together/AsyncTogether attribute), then list {op_id!r} in FACADE_METHODS here"
        )
    elif not facade.startswith("not in the facade"):
        with Together(api_key="k") as client:
            _facade_method(facade, client)
    from together_rerank.server import create_app

    app = create_app()
    served = {
        (m, getattr(route, "path", None))
        for route in app.routes
        for m in (getattr(route, "methods", None) or ())
    }
    if (method, f"/v1{path}") not in served:
        missing.append(f"the server: add a route for {method} /v1{path} in server/app.py")
    if f"{method} {path}" not in CHECKED_OPERATIONS:
        missing.append(
            f"the checker: add {method!r} {path!r} to OPERATIONS in contract/schema_level.py"
        )
    assert not missing, f"{method} {path} ({op_id}) is not covered by " + "; ".join(missing)


def test_the_decision_tables_name_only_what_the_spec_has() -> None:
    assert set(FACADE_METHODS) <= set(OPERATION_IDS), "an operation left the spec"
    assert set(PUBLIC_TYPES) <= set(SCHEMAS), "a component left the spec"


# --- component schemas and public types ---------------------------------------------------


def _json_types(annotation: Any) -> set[str] | None:
    """The JSON types an annotation admits; None for Any."""
    if annotation is Any or annotation is object:
        return None
    if annotation is None or annotation is type(None):
        return {"null"}
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        found: set[str] = set()
        for arg in typing.get_args(annotation):
            arg_types = _json_types(arg)
            if arg_types is None:
                return None
            found |= arg_types
        return found
    if origin is Literal:
        return {_json_types(type(value)).pop() for value in typing.get_args(annotation)}  # type: ignore[union-attr]
    base = origin or annotation
    if isinstance(base, type):
        if issubclass(base, bool):
            return {"boolean"}
        if issubclass(base, int):
            return {"integer"}
        if issubclass(base, float):
            return {"number", "integer"}
        if issubclass(base, str):
            return {"string"}
        if issubclass(base, pydantic.BaseModel | Mapping):
            return {"object"}
        if issubclass(base, Sequence):
            return {"array"}
    raise AssertionError(f"no JSON type known for {annotation!r}")


def _spec_types(schema: dict[str, Any]) -> set[str] | None:
    if "$ref" in schema:
        return _spec_types(SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]])
    declared = schema.get("type")
    if isinstance(declared, str):
        return {declared}
    if isinstance(declared, list):
        return set(declared)
    found: set[str] = set()
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        branch_types = _spec_types(branch)
        if branch_types is None:
            return None
        found |= branch_types
    return found or None


def _refs(schema: dict[str, Any]) -> set[str]:
    """The components a property's schema refers to, directly or through items and branches."""
    found = set()
    if "$ref" in schema:
        found.add(schema["$ref"].rsplit("/", 1)[-1])
    for key in ("items",):
        if isinstance(schema.get(key), dict):
            found |= _refs(schema[key])
    for branch in schema.get("oneOf", []) + schema.get("anyOf", []):
        found |= _refs(branch)
    return found


def _types_in(annotation: Any) -> set[Any]:
    found = {annotation}
    for arg in typing.get_args(annotation):
        found |= _types_in(arg)
    return found


def _spec_names(name: str, field: Any) -> set[str]:
    """The wire names a pydantic field answers to: its name, alias and validation aliases."""
    names = {name}
    if field.alias:
        names.add(field.alias)
    alias = field.validation_alias
    if isinstance(alias, str):
        names.add(alias)
    elif isinstance(alias, pydantic.AliasChoices):
        names |= {choice for choice in alias.choices if isinstance(choice, str)}
    return names


MAPPED = [
    (schema, public) for schema, public in PUBLIC_TYPES.items() if not public.startswith("none")
]


def test_every_component_has_a_public_type_or_a_reason() -> None:
    unlisted = sorted(set(SCHEMAS) - set(PUBLIC_TYPES))
    assert not unlisted, (
        f"components/schemas {unlisted} have no public type: add a pydantic model to "
        "together_rerank/types/ (exported from together_rerank), then map it in PUBLIC_TYPES "
        "in tests/spec/test_facade_follows_spec.py (or give the reason there is none)"
    )


def _compare(
    model: type[pydantic.BaseModel], schema: dict[str, Any], where: str, *, is_request: bool
) -> list[str]:
    """What differs between a pydantic model and an object schema, nested objects included."""
    required = set(schema.get("required", []))
    by_wire_name = {
        wire: (name, field)
        for name, field in model.model_fields.items()
        for wire in _spec_names(name, field)
    }
    problems = []
    for prop, prop_schema in schema.get("properties", {}).items():
        at = f"{where}.{prop}"
        if prop not in by_wire_name:
            problems.append(f"{at}: no field named or aliased {prop!r}")
            continue
        name, field = by_wire_name[prop]
        if prop not in required and field.is_required():
            problems.append(f"{at}: the spec makes it optional; give {name!r} a default")
        if is_request and prop in required and not field.is_required():
            problems.append(f"{at}: the spec requires it; {name!r} must have no default")
        spec_types, public_types = _spec_types(prop_schema), _json_types(field.annotation)
        if spec_types is not None and public_types is not None:
            # An optional field may be None in Python: that is "left out", not null on the wire.
            lacking = spec_types - public_types
            if lacking:
                problems.append(f"{at}: the spec allows {sorted(lacking)}, {name!r} does not")
            extra = public_types - spec_types - {"null"} - ({"integer"} & public_types)
            if is_request and extra:
                problems.append(f"{at}: {name!r} admits {sorted(extra)}, the spec does not")
        for ref in _refs(prop_schema):
            nested = PUBLIC_TYPES.get(ref, "none")
            if not nested.startswith("none"):
                nested_type = getattr(together_rerank, nested)
                if nested_type not in _types_in(field.annotation):
                    problems.append(f"{at}: refers to {ref}, so {name!r} must use {nested}")
        if "properties" in prop_schema:
            # An inline object: typed by a nested model (a dict would hide its fields from mypy).
            models = [
                t
                for t in _types_in(field.annotation)
                if isinstance(t, type) and issubclass(t, pydantic.BaseModel)
            ]
            if not models:
                problems.append(
                    f"{at}: an object with properties {sorted(prop_schema['properties'])}; "
                    f"type {name!r} with a pydantic model, not {field.annotation}"
                )
            else:
                problems += _compare(models[0], prop_schema, at, is_request=is_request)
    for name, field in model.model_fields.items():
        if not (_spec_names(name, field) & set(schema.get("properties", {}))):
            problems.append(f"{model.__name__}.{name}: not a property of {where}")
    return problems


@pytest.mark.parametrize(("schema_name", "public_name"), MAPPED, ids=[m[0] for m in MAPPED])
def test_public_type_matches_its_component(schema_name: str, public_name: str) -> None:
    model: type[pydantic.BaseModel] = getattr(together_rerank, public_name)
    where = f"{public_name} (together_rerank/types/) for {schema_name}"
    problems = _compare(
        model, SCHEMAS[schema_name], where, is_request=schema_name.endswith("Request")
    )
    assert not problems, "\n".join(problems)


def test_an_inline_object_must_be_a_typed_model_not_a_dict() -> None:
    """`meta: dict[str, Any]` hides `meta.billed_units` from mypy: it does not count as typed."""

    class Loose(pydantic.BaseModel):
        meta: dict[str, Any] | None = None

    class BilledUnits(pydantic.BaseModel):
        search_units: int | None = None

    class Meta(pydantic.BaseModel):
        billed_units: BilledUnits | None = None

    class Typed(pydantic.BaseModel):
        meta: Meta | None = None

    schema = {
        "properties": {
            "meta": {
                "type": "object",
                "properties": {
                    "billed_units": {
                        "type": "object",
                        "properties": {"search_units": {"type": "integer"}},
                    }
                },
            }
        }
    }
    loose = _compare(Loose, schema, "R", is_request=False)
    assert loose
    assert "type 'meta' with a pydantic model" in loose[0]
    assert _compare(Typed, schema, "R", is_request=False) == []


# --- create() parameters --------------------------------------------------------------------

FACADE_OPERATIONS = [
    (op_id, FACADE_METHODS[op_id], _request_schema(op))
    for op_id, _, _, op in OPERATIONS
    if op_id in FACADE_METHODS
    and not FACADE_METHODS[op_id].startswith("not")
    and _request_schema(op)
]


@pytest.mark.parametrize(
    ("op_id", "method_name", "schema_name"),
    FACADE_OPERATIONS,
    ids=[f[0] for f in FACADE_OPERATIONS],
)
@pytest.mark.parametrize("client_class", ["Together", "AsyncTogether"])
def test_create_has_a_typed_parameter_for_every_request_property(
    op_id: str, method_name: str, schema_name: str, client_class: str
) -> None:
    client = getattr(together_rerank, client_class)(api_key="k")
    method = _facade_method(method_name, client)
    hints = typing.get_type_hints(method, localns=vars(together_rerank.types))
    parameters = inspect.signature(method).parameters
    schema = SCHEMAS[schema_name]
    problems = []
    for prop, prop_schema in schema["properties"].items():
        where = f"{client_class}.{method_name}() for {schema_name}.{prop}"
        parameter = parameters.get(prop)
        if parameter is None or parameter.kind is not inspect.Parameter.KEYWORD_ONLY:
            problems.append(
                f"{where}: no keyword parameter {prop!r} (add it to both create() signatures "
                f"in together_rerank/resources/ and pass it to the wire model; until then it "
                "is sent only through **kwargs, checked against the spec's type and limits)"
            )
            continue
        required = prop in schema.get("required", [])
        if required != (parameter.default is inspect.Parameter.empty):
            problems.append(f"{where}: required in the spec is {required}, in create() it is not")
        spec_types, hinted = _spec_types(prop_schema), _json_types(hints[prop])
        if spec_types is not None and hinted is not None and spec_types - hinted:
            problems.append(f"{where}: typed {hints[prop]}, the spec allows {sorted(spec_types)}")
    assert not problems, "\n".join(problems)


# --- limits: enforced on both sides, at the boundary ------------------------------------------

CASES = [case for case in boundary_cases(SPEC) if case.path in {op[2] for op in OPERATIONS}]
_OP_BY_PATH = {(method, path): op_id for op_id, method, path, _ in OPERATIONS}


def _case_id(case: BoundaryCase) -> str:
    return case.label.replace(" ", "-")


def test_every_request_limit_has_boundary_cases() -> None:
    limited = {
        (schema_name, prop)
        for _, _, _, op in OPERATIONS
        if (schema_name := _request_schema(op))
        for prop, prop_schema in SCHEMAS[schema_name]["properties"].items()
        if any(
            key in branch
            for branch in [
                prop_schema,
                *prop_schema.get("oneOf", []),
                *prop_schema.get("anyOf", []),
            ]
            for key in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems")
        )
    }
    assert limited
    assert {case.field for case in CASES} == {prop for _, prop in limited}


def _recording_client(sent: list[dict[str, Any]]) -> Together:
    """A client whose transport records each body and answers it validly (no results)."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        sent.append(body)
        if request.url.path.endswith("/embeddings"):
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            data = [
                {"object": "embedding", "embedding": [0.0], "index": i} for i in range(len(inputs))
            ]
            return httpx.Response(200, json={"object": "list", "model": "m", "data": data})
        return httpx.Response(200, json={"object": "rerank", "model": "m", "results": []})

    return Together(
        api_key="k", max_retries=0, http_client=httpx.Client(transport=httpx.MockTransport(answer))
    )


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_the_client_enforces_the_limit(case: BoundaryCase) -> None:
    op_id = _op_by_path(case)
    facade = FACADE_METHODS[op_id]
    if facade.startswith("not"):
        pytest.skip(f"{op_id} has no facade method")
    sent: list[dict[str, Any]] = []
    with _recording_client(sent) as client:
        method = _facade_method(facade, client)
        if case.valid:
            method(**case.body)
            assert sent == [case.body]
        else:
            with pytest.raises(InvalidArgumentError) as raised:
                method(**case.body)
            assert case.field in str(raised.value)
            assert sent == [], "refused only after sending"


def _op_by_path(case: BoundaryCase) -> str:
    return _OP_BY_PATH[(case.method, case.path)]


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_the_server_enforces_the_limit(case: BoundaryCase) -> None:
    op_id = _op_by_path(case)
    assert op_id in SERVER_VALIDATORS, f"server/validation.py has no validator for {op_id}"
    validate = SERVER_VALIDATORS[op_id]
    if case.valid:
        validate(dict(case.body))
    else:
        with pytest.raises(APIError) as raised:
            validate(dict(case.body))
        assert raised.value.status == 400
        assert str(raised.value.param).startswith(case.field)


def test_importing_the_sdk_parses_no_yaml() -> None:
    """The spec's constants are generated Python literals: no YAML (nor the spec) at import."""
    import subprocess
    import sys

    code = (
        "import sys, together_rerank; "
        "together_rerank.Together(api_key='k').rerank; "
        "from together_rerank import _validation; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('yaml', 'griffe', 'jsonschema', 'schemathesis')))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert result.stdout.strip() == "[]"
