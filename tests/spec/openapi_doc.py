"""Reading openapi.yaml: loading it, JSON pointers into it, and walking its schemas.

The walker knows where OpenAPI 3.1 keeps schemas (component schemas, and the
`schema` of every media type, parameter and header) and where JSON Schema
2020-12 keeps subschemas, so that a check can name the exact JSON pointer
(RFC 6901) of the schema it is unhappy with. Example values (`example`,
`examples`, `const`, `enum`, `default`) are data, never walked as schemas.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT / "openapi.yaml"

# The URI the whole document is registered under, so that the document's own
# `$ref: '#/components/schemas/X'` resolve against it.
SPEC_URI = "urn:together-rerank:openapi.yaml"

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# JSON Schema 2020-12 keywords whose value is a subschema, a list of them or a
# map of them.
SINGLE_SUBSCHEMA_KEYWORDS = (
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedItems",
    "unevaluatedProperties",
)
LIST_SUBSCHEMA_KEYWORDS = ("allOf", "anyOf", "oneOf", "prefixItems")
MAP_SUBSCHEMA_KEYWORDS = ("properties", "patternProperties", "dependentSchemas", "$defs")

# Keys of non-schema OpenAPI objects whose values are data, not structure.
DATA_KEYS = frozenset({"example", "examples", "default", "const", "enum"})


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    """The spec as plain JSON-like data (YAML loaded safely)."""
    with path.open(encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    assert isinstance(loaded, dict), f"{path} is not a mapping"
    return loaded


def pointer(base: str, *tokens: str | int) -> str:
    """`base` extended by `tokens`, each escaped as RFC 6901 requires."""
    escaped = (str(token).replace("~", "~0").replace("/", "~1") for token in tokens)
    return base + "".join("/" + token for token in escaped)


def resolve(document: Mapping[str, Any], json_pointer: str) -> Any:
    """The value at `json_pointer` (RFC 6901) inside `document`."""
    node: Any = document
    if not json_pointer:
        return node
    for raw in json_pointer.lstrip("/").split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        node = node[int(token)] if isinstance(node, list) else node[token]
    return node


class Role(Enum):
    """Where a schema sits, which decides what it owes its reader."""

    COMPONENT = "component schema"
    PROPERTY = "property"
    SUBSCHEMA = "subschema"  # items, oneOf/anyOf/allOf branches, not, if/then/else, ...
    ROOT = "root schema"  # the `schema` of a media type, parameter or header


@dataclass(frozen=True)
class SchemaSite:
    pointer: str
    schema: Mapping[str, Any]
    role: Role

    @property
    def is_bare_ref(self) -> bool:
        return set(self.schema) == {"$ref"}

    @property
    def has_own_meaning(self) -> bool:
        """Whether this schema must explain itself (description, example).

        Component schemas and properties always do: a property's role in its
        parent is not its type's meaning, even when its type is a `$ref`. Any
        other schema does unless it is a bare `$ref`, whose meaning is the
        referenced component's (checked there).
        """
        if self.role in (Role.COMPONENT, Role.PROPERTY):
            return True
        return not self.is_bare_ref

    @property
    def has_description(self) -> bool:
        description = self.schema.get("description")
        return isinstance(description, str) and bool(description.strip())

    @property
    def examples(self) -> list[Any]:
        """The schema's example values: `example` (OpenAPI) and `examples` (JSON Schema)."""
        found: list[Any] = []
        if "example" in self.schema:
            found.append(self.schema["example"])
        listed = self.schema.get("examples")
        if isinstance(listed, list):
            found.extend(listed)
        return found

    @property
    def has_example(self) -> bool:
        return "example" in self.schema or bool(self.schema.get("examples"))


def iter_schema_sites(spec: Mapping[str, Any]) -> Iterator[SchemaSite]:
    """Every schema in the document, each once, in document order."""
    components = spec.get("components", {})
    for name, schema in components.get("schemas", {}).items():
        yield from _walk_schema(schema, pointer("/components/schemas", name), Role.COMPONENT)
    for key in ("paths", "webhooks"):
        yield from _walk_openapi(spec.get(key, {}), pointer("", key))
    for key, value in components.items():
        if key not in ("schemas", "examples"):  # component examples are data
            yield from _walk_openapi(value, pointer("/components", key))


def _walk_openapi(node: Any, at: str) -> Iterator[SchemaSite]:
    """OpenAPI objects outside `components/schemas`: find their `schema` keys."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in DATA_KEYS:
                continue
            if key == "schema" and isinstance(value, Mapping):
                yield from _walk_schema(value, pointer(at, key), Role.ROOT)
            else:
                yield from _walk_openapi(value, pointer(at, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _walk_openapi(item, pointer(at, index))


def _walk_schema(schema: Any, at: str, role: Role) -> Iterator[SchemaSite]:
    if not isinstance(schema, Mapping):
        return  # a boolean schema (`additionalProperties: true`) says nothing of its own
    yield SchemaSite(at, schema, role)
    for key in SINGLE_SUBSCHEMA_KEYWORDS:
        if key in schema:
            yield from _walk_schema(schema[key], pointer(at, key), Role.SUBSCHEMA)
    for key in LIST_SUBSCHEMA_KEYWORDS:
        for index, branch in enumerate(schema.get(key, [])):
            yield from _walk_schema(branch, pointer(at, key, index), Role.SUBSCHEMA)
    for key in MAP_SUBSCHEMA_KEYWORDS:
        child_role = Role.COMPONENT if key == "$defs" else Role.PROPERTY
        for name, child in schema.get(key, {}).items():
            yield from _walk_schema(child, pointer(at, key, name), child_role)


@dataclass(frozen=True)
class MediaExample:
    """One example of a media type (request or response body) and where its schema is."""

    pointer: str
    schema_pointer: str
    value: Any


def iter_operations(spec: Mapping[str, Any]) -> Iterator[tuple[str, Mapping[str, Any]]]:
    for path, item in spec.get("paths", {}).items():
        for method in HTTP_METHODS:
            if method in item:
                yield pointer("/paths", path, method), item[method]


def iter_media_examples(spec: Mapping[str, Any]) -> Iterator[MediaExample]:
    """The `example` and every `examples` entry of every media type in the document."""
    for at, media in _iter_media_types(spec, ""):
        if "schema" not in media:
            continue
        schema_at = pointer(at, "schema")
        if "example" in media:
            yield MediaExample(pointer(at, "example"), schema_at, media["example"])
        for name, entry in media.get("examples", {}).items():
            example = resolve(spec, entry["$ref"].removeprefix("#")) if "$ref" in entry else entry
            if "value" in example:
                at_value = pointer(at, "examples", name, "value")
                yield MediaExample(at_value, schema_at, example["value"])


def _iter_media_types(node: Any, at: str) -> Iterator[tuple[str, Mapping[str, Any]]]:
    if isinstance(node, Mapping):
        for key, value in node.items():
            if key in DATA_KEYS or key == "schema":
                continue
            if key == "content" and isinstance(value, Mapping):
                for media_type, media in value.items():
                    yield pointer(at, key, media_type), media
            else:
                yield from _iter_media_types(value, pointer(at, key))
    elif isinstance(node, list):
        for index, item in enumerate(node):
            yield from _iter_media_types(item, pointer(at, index))


def validator_for(spec: Mapping[str, Any], json_pointer: str) -> Draft202012Validator:
    """A JSON Schema 2020-12 validator for the schema at `json_pointer` in `spec`.

    The whole document is the one resource of the registry, so every
    `$ref: '#/components/schemas/X'` inside the schema resolves, however deep.
    """
    registry: Registry[Any] = Registry().with_resource(
        SPEC_URI, DRAFT202012.create_resource(dict(spec))
    )
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}#{json_pointer}"},
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
