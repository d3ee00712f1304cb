"""Refuse, by name and JSON pointer, the spec constructs this generator pipeline cannot handle.

generator/run.sh runs this before openapi-python-client 0.29.1: each construct
below generates code that is wrong at run time, fails `mypy --strict`, or that
the facade cannot use, and the generator itself says nothing. Found by
regenerating from Together's official rerank schemas (issue 16):

* a `oneOf`/`anyOf` whose branches are `type: array` with different items:
  the generated `to_dict` passes object items through unconverted and
  `from_dict` takes the wrong branch, and mypy fails inside the model;
* an inline object schema (with `properties`) under a property, `items` or a
  branch: the generator names it after its position (`RerankResponseResultsItem`,
  `UsageDataType0`); the code works, so this one is a note, not a failure;
* `additionalProperties: false` on a request body schema: the generated model
  loses `additional_properties`, through which the facade sends arguments
  the spec does not name yet (`create(**kwargs)`);
* a schema with a property of its own name (`Embedding.embedding`): the
  generated `from_dict` fails `mypy --strict` (upstream issue 1117).

    python generator/preflight.py openapi.yaml
"""

from __future__ import annotations

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import yaml

# Problems that generate working code, only under names nobody chose: reported, not fatal.
NOTE = "note: "
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _ptr(base: str, *tokens: str | int) -> str:
    return base + "".join(
        "/" + str(token).replace("~", "~0").replace("/", "~1") for token in tokens
    )


def _request_schemas(spec: Mapping[str, Any]) -> set[str]:
    found = set()
    for item in (spec.get("paths") or {}).values():
        for method in HTTP_METHODS:
            operation = item.get(method) if isinstance(item, Mapping) else None
            if not isinstance(operation, Mapping):
                continue
            for media in (operation.get("requestBody", {}).get("content") or {}).values():
                ref = (media.get("schema") or {}).get("$ref", "")
                if ref.startswith("#/components/schemas/"):
                    found.add(ref.rsplit("/", 1)[-1])
    return found


def _walk(schema: Any, at: str, *, top: bool) -> Iterator[str]:
    if not isinstance(schema, Mapping):
        return
    if not top and "properties" in schema:
        yield (
            f"{NOTE}{at}: an inline object schema; the generator names it after its position "
            "(such as RerankResponseResultsItem). Move it to components/schemas with a "
            "name and $ref it"
        )
    for keyword in ("oneOf", "anyOf"):
        branches = schema.get(keyword) or []
        arrays = [b for b in branches if isinstance(b, Mapping) and b.get("type") == "array"]
        if len(arrays) > 1:
            yield (
                f"{_ptr(at, keyword)}: a {keyword} of array types; openapi-python-client "
                "0.29.1 generates a model that serializes object items wrongly and fails mypy. "
                "Use one array whose items are an anyOf of the item types"
            )
        for i, branch in enumerate(branches):
            yield from _walk(branch, _ptr(at, keyword, i), top=False)
    for name, prop in (schema.get("properties") or {}).items():
        yield from _walk(prop, _ptr(at, "properties", name), top=False)
    if "items" in schema:
        yield from _walk(schema["items"], _ptr(at, "items"), top=False)


def problems(spec: Mapping[str, Any]) -> list[str]:
    """Every construct the pipeline cannot handle, each with its JSON pointer."""
    found: list[str] = []
    schemas = (spec.get("components") or {}).get("schemas") or {}
    requests = _request_schemas(spec)
    for name, schema in schemas.items():
        at = _ptr("/components/schemas", name)
        found.extend(_walk(schema, at, top=True))
        if not isinstance(schema, Mapping):
            continue
        if name in requests and schema.get("additionalProperties") is False:
            found.append(
                f"{_ptr(at, 'additionalProperties')}: false on a request body; the generated "
                "model then has no additional_properties, which the facade's create(**kwargs) "
                "sends through. Leave additionalProperties out"
            )
        for prop in schema.get("properties") or {}:
            if prop.lower() == name.lower():
                found.append(
                    f"{_ptr(at, 'properties', prop)}: the schema {name!r} has a property of its "
                    "own name; the generated from_dict fails mypy --strict (upstream issue "
                    "1117). Rename the schema"
                )
    return found


def main(argv: list[str]) -> int:
    path = Path(argv[0])
    spec = yaml.safe_load(path.read_text(encoding="utf-8"))
    found = problems(spec)
    fatal = [problem for problem in found if not problem.startswith(NOTE)]
    for problem in found:
        if problem.startswith(NOTE):
            print(f"{path}: {problem}", file=sys.stderr)
        else:
            print(f"{path}: cannot generate: {problem}", file=sys.stderr)
    return 1 if fatal else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
