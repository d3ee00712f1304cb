"""Write together_rerank/_spec.py: what the facade needs to know of openapi.yaml, as literals.

`make generate` runs this after the low-level client; `make check-generated`
regenerates it into a scratch file and fails when the committed one differs.
The facade's and the server's argument checks read their limits from the
written module, so `import together_rerank` never parses YAML.

    python -m generator.spec_constants openapi.yaml together_rerank/_spec.py
"""

from __future__ import annotations

import pprint
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from generator.facade import public_type_names

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
LIMIT_KEYWORDS = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "minItems",
    "maxItems",
)

HEADER = '''"""What the facade and the server know of openapi.yaml, generated from it: do not edit.

Written by generator/spec_constants.py (`make generate`); `make check-generated`
fails when it is out of date. Plain literals, so importing it costs nothing.

* OPERATIONS: operationId -> (METHOD, path, request schema or None).
* REQUEST_FIELDS: request schema -> property -> (JSON types, required, limits);
  the limits are the property's minimum/maximum/minLength/maxLength/minItems/
  maxItems (an array branch's for a oneOf/anyOf of several types), and
  `items.minLength`-style keys for the array's items.
* SPEC_VERSION: info.version of openapi.yaml.
* DEPRECATED: request schema -> the properties the spec marks `deprecated`.
* PUBLIC_TYPES: the models of together_rerank/types/_models.py, exported lazily.
"""

from typing import Final

'''


def _deref(spec: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec
        for token in node["$ref"].lstrip("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _types(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> tuple[str, ...]:
    """The JSON types a schema admits; () when it does not say (any)."""
    declared = schema.get("type")
    if isinstance(declared, str):
        return (declared,)
    if isinstance(declared, list):
        return tuple(sorted(map(str, declared)))
    found: set[str] = set()
    for keyword in ("oneOf", "anyOf"):
        for branch in schema.get(keyword) or []:
            branch_types = _types(spec, _deref(spec, branch))
            if not branch_types:
                return ()
            found.update(branch_types)
    return tuple(sorted(found))


def _limits(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> dict[str, Any]:
    limits = {key: schema[key] for key in LIMIT_KEYWORDS if key in schema}
    for keyword in ("oneOf", "anyOf"):
        for raw_branch in schema.get(keyword) or []:
            branch = _deref(spec, raw_branch)
            for key in LIMIT_KEYWORDS:
                if key in branch:
                    limits.setdefault(key, branch[key])
            items = _deref(spec, branch.get("items", {}))
            for key in LIMIT_KEYWORDS:
                if isinstance(items, Mapping) and key in items:
                    limits.setdefault(f"items.{key}", items[key])
    items = _deref(spec, schema.get("items", {}))
    if isinstance(items, Mapping):
        for key in LIMIT_KEYWORDS:
            if key in items:
                limits[f"items.{key}"] = items[key]
    return limits


def constants(spec: Mapping[str, Any]) -> dict[str, Any]:
    operations: dict[str, tuple[str, str, str | None]] = {}
    deprecated: dict[str, tuple[str, ...]] = {}
    request_fields: dict[str, dict[str, tuple[tuple[str, ...], bool, dict[str, Any]]]] = {}
    for path, item in (spec.get("paths") or {}).items():
        for method in HTTP_METHODS:
            if method not in item:
                continue
            operation = item[method]
            body = _deref(spec, operation.get("requestBody", {}))
            schema_ref = (
                body.get("content", {}).get("application/json", {}).get("schema", {}).get("$ref")
            )
            name = schema_ref.rsplit("/", 1)[-1] if schema_ref else None
            operations[operation["operationId"]] = (method.upper(), path, name)
            if name is None:
                continue
            schema = _deref(spec, {"$ref": schema_ref})
            required = set(schema.get("required") or [])
            deprecated[name] = tuple(
                prop
                for prop, prop_schema in (schema.get("properties") or {}).items()
                if prop_schema.get("deprecated") or _deref(spec, prop_schema).get("deprecated")
            )
            request_fields[name] = {
                prop: (
                    _types(spec, _deref(spec, prop_schema)),
                    prop in required,
                    _limits(spec, _deref(spec, prop_schema)),
                )
                for prop, prop_schema in (schema.get("properties") or {}).items()
            }
    return {
        "SPEC_VERSION": spec.get("info", {}).get("version"),
        "OPERATIONS": operations,
        "REQUEST_FIELDS": request_fields,
        "DEPRECATED": deprecated,
        "PUBLIC_TYPES": tuple(public_type_names(spec)),
    }


def render(spec: Mapping[str, Any]) -> str:
    annotations = {
        "SPEC_VERSION": "Final[str]",
        "OPERATIONS": "Final[dict[str, tuple[str, str, str | None]]]",
        "REQUEST_FIELDS": (
            "Final[dict[str, dict[str, tuple[tuple[str, ...], bool, dict[str, float]]]]]"
        ),
        "DEPRECATED": "Final[dict[str, tuple[str, ...]]]",
        "PUBLIC_TYPES": "Final[tuple[str, ...]]",
    }
    parts = [HEADER]
    for name, value in constants(spec).items():
        text = pprint.pformat(value, width=88, sort_dicts=False)
        parts.append(f"{name}: {annotations[name]} = {text}\n")
    return "\n".join(parts)


def main(argv: list[str]) -> int:
    source, target = Path(argv[0]), Path(argv[1])
    spec = yaml.safe_load(source.read_text(encoding="utf-8"))
    target.write_text(render(spec), encoding="utf-8")
    # The pinned ruff, isolated from any config, so the bytes are the same everywhere.
    ruff = Path(sys.executable).with_name("ruff")
    for command in (
        ["check", "--isolated", "--select", "I", "--fix", "--quiet"],
        ["format", "--isolated", "--line-length", "100", "--quiet"],
    ):
        subprocess.run([str(ruff), *command, str(target)], check=True, timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
