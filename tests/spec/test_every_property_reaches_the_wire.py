"""Every request property of openapi.yaml reaches the wire through its typed parameter.

Walked from the spec, no fixed list: for each property of each facade
operation's request schema, a valid value built from the spec (its examples,
else its type and limits) is passed to `create()` (sync, async and, for rerank,
`create_many`) and must appear in the body a real loopback HTTP server
receives; left unset, an optional property must be absent. A property the spec
marks `deprecated` warns (DeprecationWarning, at the caller's line), and is
still sent.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import threading
import types
import warnings
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from generator.facade import Spec, render_signatures
from tests.client.helpers import embeddings_body, rank_body, spec_validator
from together_rerank import AsyncTogether, Together
from together_rerank.resources import rerank as rerank_module

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_DOC: dict[str, Any] = yaml.safe_load((REPO_ROOT / "openapi.yaml").read_text("utf-8"))
SPEC = Spec(SPEC_DOC)
# operationId -> the facade resource; the operations the facade serves (generator's table).
RESOURCES = {"rerank": "rerank", "embeddings": "embeddings"}


class _Capture(BaseHTTPRequestHandler):
    bodies: list[dict[str, Any]]

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers["Content-Length"]))
        body = json.loads(raw)
        self.server.bodies.append(body)  # type: ignore[attr-defined]
        request = httpx.Request("POST", f"http://x{self.path}", content=raw)
        answer = (
            embeddings_body(request) if self.path.endswith("/embeddings") else rank_body(request)
        )
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet


class CaptureServer:
    """A loopback HTTP server on a free port that records every JSON body it is sent."""

    def __init__(self) -> None:
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Capture)
        self.httpd.bodies = []  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def bodies(self) -> list[dict[str, Any]]:
        return self.httpd.bodies  # type: ignore[attr-defined, no-any-return]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"


@pytest.fixture(scope="module")
def server() -> Iterator[CaptureServer]:
    capture = CaptureServer()
    capture.thread.start()
    try:
        yield capture
    finally:
        capture.httpd.shutdown()
        capture.httpd.server_close()
        capture.thread.join(timeout=10)


# --- valid values, from the spec --------------------------------------------------------------


def _examples(operation: str) -> list[dict[str, Any]]:
    """The operation's request examples, then its request schema's own example."""
    op = SPEC.operations()[operation]
    media = SPEC.deref(op["requestBody"])["content"]["application/json"]
    found = [example["value"] for example in (media.get("examples") or {}).values()]
    schema = SPEC.schemas[SPEC.request_schema(operation)]
    if "example" in schema:
        found.append(schema["example"])
    return [copy.deepcopy(example) for example in found if isinstance(example, dict)]


def _from_type(schema: Mapping[str, Any]) -> Any:
    """A value of the schema's type within its limits, for a property without an example."""
    schema = SPEC.deref(schema)
    for keyword in ("oneOf", "anyOf"):
        if schema.get(keyword):
            return _from_type(schema[keyword][0])
    kind = schema.get("type")
    kind = next((k for k in kind if k != "null"), None) if isinstance(kind, list) else kind
    if "enum" in schema:
        return schema["enum"][0]
    if kind == "integer":
        return int(schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1))
    if kind == "number":
        return float(schema.get("minimum", 0.5))
    if kind == "boolean":
        return True
    if kind == "string":
        return "x" * max(int(schema.get("minLength", 1)), 1)
    if kind == "array":
        return [_from_type(schema.get("items") or {})] * max(int(schema.get("minItems", 1)), 1)
    return {}


def valid_request(operation: str, prop: str, default: object) -> dict[str, Any]:
    """A request valid against the spec that sets `prop` to a value other than its default."""
    schema_name = SPEC.request_schema(operation)
    validator = spec_validator(schema_name)
    examples = [e for e in _examples(operation) if validator.is_valid(e)]
    assert examples, f"{operation}: the spec needs a valid request example"
    with_prop = [e for e in examples if prop in e and e[prop] != default]
    request = with_prop[0] if with_prop else examples[0]
    if prop not in request or request[prop] == default:
        prop_schema = SPEC.schemas[schema_name]["properties"][prop]
        example = SPEC.deref(prop_schema).get("example", prop_schema.get("example"))
        value = example if example is not None and example != default else _from_type(prop_schema)
        if isinstance(value, bool) and isinstance(default, bool):
            value = not default
        request[prop] = value
    assert validator.is_valid(request), f"no valid request with {prop}: {request}"
    return request


CASES = [
    (operation, prop)
    for operation in RESOURCES
    for prop in SPEC.schemas[SPEC.request_schema(operation)].get("properties", {})
]


SPEC_PROPS = {
    operation: set(SPEC.schemas[SPEC.request_schema(operation)].get("properties", {}))
    for operation in RESOURCES
}


def _deprecated(operation: str, prop: str) -> bool:
    raw = SPEC.schemas[SPEC.request_schema(operation)]["properties"][prop]
    return bool(raw.get("deprecated") or SPEC.deref(raw).get("deprecated"))


def _create(client: Together | AsyncTogether, operation: str) -> Any:
    return getattr(client, RESOURCES[operation]).create


def _default(operation: str, prop: str) -> object:
    parameter = inspect.signature(_create(Together(api_key="k"), operation)).parameters[prop]
    return None if parameter.default is inspect.Parameter.empty else parameter.default


def _call(server: CaptureServer, operation: str, how: str, request: dict[str, Any]) -> None:
    if how == "sync":
        with Together(api_key="k", base_url=server.base_url, max_retries=0) as client:
            _create(client, operation)(**request)
    elif how == "async":

        async def main() -> None:
            async with AsyncTogether(
                api_key="k", base_url=server.base_url, max_retries=0
            ) as client:
                await _create(client, operation)(**request)

        asyncio.run(main())
    else:
        many = {key: value for key, value in request.items() if key != "query"}
        with Together(api_key="k", base_url=server.base_url, max_retries=0) as client:
            client.rerank.create_many(queries=[request["query"]], **many)


@pytest.mark.parametrize(("operation", "prop"), CASES, ids=[f"{o}-{p}" for o, p in CASES])
@pytest.mark.parametrize("how", ["sync", "async", "create_many"])
def test_a_set_property_is_sent(server: CaptureServer, operation: str, prop: str, how: str) -> None:
    if how == "create_many" and operation != "rerank":
        pytest.skip("create_many is rerank's")
    request = valid_request(operation, prop, _default(operation, prop))
    server.bodies.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _call(server, operation, how, request)
    warned = {
        str(w.message).split("'")[1]
        for w in caught
        if issubclass(w.category, DeprecationWarning) and str(w.message).startswith("'")
    }
    # Exactly the deprecated properties the request sets warn (the example may set several).
    assert warned == {
        p for p in request if p in SPEC_PROPS[operation] and _deprecated(operation, p)
    }
    assert len(server.bodies) == 1
    assert server.bodies[0][prop] == request[prop]


@pytest.mark.parametrize("operation", list(RESOURCES))
@pytest.mark.parametrize("how", ["sync", "async"])
def test_an_unset_property_is_absent(server: CaptureServer, operation: str, how: str) -> None:
    schema = SPEC.schemas[SPEC.request_schema(operation)]
    required = set(schema.get("required") or [])
    assert required, "the facade's operations have required properties"
    first_prop = next(iter(schema["properties"]))
    request = valid_request(operation, first_prop, _default(operation, first_prop))
    minimal = {key: value for key, value in request.items() if key in required}
    server.bodies.clear()
    _call(server, operation, how, minimal)
    assert set(server.bodies[0]) == required


# --- deprecation, through the generated signature ---------------------------------------------


def _with_deprecated_rank_fields() -> types.ModuleType:
    """The generated signatures of a spec whose `rank_fields` is deprecated, as a module."""
    doc = copy.deepcopy(SPEC_DOC)
    doc["components"]["schemas"]["RerankRequest"]["properties"]["rank_fields"]["deprecated"] = True
    module = types.ModuleType("together_rerank.resources._signatures_deprecated")
    module.__package__ = "together_rerank.resources"
    exec(compile(render_signatures(Spec(doc)), module.__name__, "exec"), module.__dict__)
    return module


def test_a_deprecated_property_warns_once_per_call_site_at_the_callers_line(
    server: CaptureServer,
) -> None:
    generated = _with_deprecated_rank_fields()
    # The hand-written resource with the regenerated signature.
    rerank_class = type(
        "DeprecatingRerank", (rerank_module.Rerank,), {"create": generated.RerankSignatures.create}
    )
    docs = [{"title": "a"}, {"title": "b"}]
    server.bodies.clear()
    with (
        Together(api_key="k", base_url=server.base_url, max_retries=0) as client,
        warnings.catch_warnings(record=True) as caught,
    ):
        warnings.simplefilter("default")  # the stdlib's once per location
        rerank = rerank_class(client)
        line = inspect.currentframe().f_lineno + 2  # type: ignore[union-attr]
        for _ in range(3):
            rerank.create(model="m", query="q", documents=docs, rank_fields=["title"])
        rerank.create(model="m", query="q", documents=docs)  # not using it: no warning
    assert [(w.category, w.filename, w.lineno) for w in caught] == [
        (DeprecationWarning, __file__, line)
    ]
    assert "'rank_fields' of rerank is deprecated" in str(caught[0].message)
    # Still sent: the server keeps accepting it.
    assert [body.get("rank_fields") for body in server.bodies] == [["title"]] * 3 + [None]
    assert "Deprecated by the API" in (generated.RerankSignatures.create.__doc__ or "")


def test_an_object_request_property_is_a_mapping_parameter() -> None:
    """A property typed by a model (inline or $ref) takes any mapping: no model to import."""
    doc = copy.deepcopy(SPEC_DOC)
    properties = doc["components"]["schemas"]["RerankRequest"]["properties"]
    properties["options"] = {
        "type": "object",
        "properties": {"truncate": {"type": "boolean"}},
    }
    properties["filters"] = {"type": "array", "items": {"$ref": "#/components/schemas/UsageData"}}
    module = types.ModuleType("together_rerank.resources._signatures_objects")
    module.__package__ = "together_rerank.resources"
    exec(compile(render_signatures(Spec(doc)), module.__name__, "exec"), module.__dict__)
    parameters = inspect.signature(module.RerankSignatures.create).parameters
    assert parameters["options"].annotation == "Mapping[str, Any] | None"
    assert parameters["filters"].annotation == "Sequence[Mapping[str, Any]] | None"
