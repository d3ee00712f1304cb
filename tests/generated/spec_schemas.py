"""The component schemas of openapi.yaml, as the round-trip tests need them.

* `MODEL_SCHEMAS`: the component schemas the generator turns into attrs models.
* `model_class(name)`: the generated class of one of them, found by name.
* `for_hypothesis(name)`: the schema rewritten for `hypothesis-jsonschema`, which
  implements JSON Schema drafts 4 to 7 while OpenAPI 3.1 speaks 2020-12:
  - `$ref`s are inlined (a `$ref` with sibling keywords becomes `allOf`);
  - `example` (not JSON Schema at all) and the other annotations are dropped;
  - 2020-12 keywords without a drafts 4-7 meaning make it fail loudly rather
    than generate data the spec does not mean;
  - arrays and objects get an upper size bound when the spec sets none. This
    only narrows generation to smaller valid instances; it is needed because
    hypothesis-jsonschema rebuilds its strategies for every nested object it
    draws, and arbitrary extra keys with arbitrary JSON values are what make
    an example slow. Every generated instance is still checked against the
    untouched spec (`spec_validator`).
* `instances(name)`: the strategy. For a plain object schema (only `type`,
  `properties`, `required`, an open `additionalProperties` and the size bound)
  it draws each property from `from_schema` of that property's schema, built
  once, plus up to `MAX_EXTRA_KEYS` unknown keys with arbitrary JSON values:
  the same instances `from_schema` of the whole object would give, without
  rebuilding the strategy of every property (RerankRequest.documents, a
  `oneOf`, is the expensive one) for every example. Any other schema goes to
  `from_schema` whole.
* `spec_validator(name)`: a JSON Schema 2020-12 validator for the component as
  the spec writes it, `$ref`s resolved through the document itself.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Protocol, cast

import together_rerank_generated.models as generated_models
import yaml
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

REPO_ROOT = Path(__file__).resolve().parents[2]
SPEC_PATH = REPO_ROOT / "openapi.yaml"
SPEC_URI = "urn:together-rerank:openapi.yaml"
COMPONENT_PREFIX = "#/components/schemas/"

# Generation-only size bounds (see the module docstring).
MAX_ITEMS = 3
MAX_EXTRA_KEYS = 2

ANNOTATIONS = frozenset(
    {"example", "examples", "description", "title", "$comment", "deprecated", "externalDocs"}
)
# 2020-12 (and OpenAPI) keywords that drafts 4-7 do not have, or read differently.
UNSUPPORTED = frozenset(
    {
        "prefixItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "dependentRequired",
        "dependentSchemas",
        "minContains",
        "maxContains",
        "$defs",
        "$id",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "discriminator",
        "contentSchema",
    }
)
SUBSCHEMA = ("items", "additionalProperties", "not", "if", "then", "else", "contains")
SUBSCHEMA_LISTS = ("allOf", "anyOf", "oneOf")
SUBSCHEMA_MAPS = ("properties", "patternProperties")


def load_spec() -> dict[str, Any]:
    with SPEC_PATH.open(encoding="utf-8") as handle:
        loaded = yaml.safe_load(handle)
    assert isinstance(loaded, dict), f"{SPEC_PATH} is not a mapping"
    return loaded


SPEC = load_spec()
COMPONENTS: dict[str, dict[str, Any]] = SPEC["components"]["schemas"]


def _types(schema: Mapping[str, Any]) -> set[str]:
    declared = schema.get("type", [])
    return {declared} if isinstance(declared, str) else set(declared)


def generates_model(schema: Mapping[str, Any]) -> bool:
    """Whether openapi-python-client makes an attrs model class of this schema."""
    return "object" in _types(schema) or "properties" in schema


MODEL_SCHEMAS = [name for name, schema in COMPONENTS.items() if generates_model(schema)]


class Model(Protocol):
    additional_properties: dict[str, Any]

    def to_dict(self) -> dict[str, Any]: ...


class ModelClass(Protocol):
    def from_dict(self, src_dict: Mapping[str, Any], /) -> Model: ...


def _normalised(name: str) -> str:
    return "".join(ch for ch in name if ch.isalnum()).lower()


GENERATED_CLASS_NAMES: dict[str, str] = {
    _normalised(name): name for name in generated_models.__all__
}


def class_name(schema_name: str) -> str | None:
    """The name of the generated model class of a component schema (matched case-insensitively,
    ignoring punctuation, as the generator turns `Some_name` into `SomeName`)."""
    return GENERATED_CLASS_NAMES.get(_normalised(schema_name))


def model_class(schema_name: str) -> ModelClass | None:
    """The generated model class of a component schema, if there is one."""
    name = class_name(schema_name)
    return None if name is None else cast(ModelClass, getattr(generated_models, name))


class UnsupportedSchema(ValueError):
    """The spec uses something hypothesis-jsonschema would misread."""


def for_hypothesis(name: str) -> dict[str, Any]:
    """Component `name`, rewritten for hypothesis-jsonschema (see the module docstring)."""
    rewritten = rewrite(COMPONENTS[name], COMPONENT_PREFIX + name, (name,))
    assert isinstance(rewritten, dict)
    return rewritten


def rewrite(schema: Any, at: str, stack: tuple[str, ...] = ()) -> Any:
    """`schema` (found at `at`) rewritten; `stack` holds the components being inlined."""
    if not isinstance(schema, Mapping):
        return schema  # a boolean schema
    if "$ref" in schema:
        ref = schema["$ref"]
        if not ref.startswith(COMPONENT_PREFIX):
            raise UnsupportedSchema(f"{at}: $ref {ref!r} is not a component schema")
        target = ref.removeprefix(COMPONENT_PREFIX)
        if target in stack:
            raise UnsupportedSchema(f"{at}: recursive $ref to {target} cannot be inlined")
        inlined = rewrite(COMPONENTS[target], ref, (*stack, target))
        siblings = rewrite({k: v for k, v in schema.items() if k != "$ref"}, at, stack)
        return {"allOf": [inlined, siblings]} if siblings else inlined
    unsupported = sorted(UNSUPPORTED.intersection(schema))
    if unsupported:
        raise UnsupportedSchema(f"{at}: {', '.join(unsupported)} not supported by drafts 4-7")
    if isinstance(schema.get("items"), list):
        raise UnsupportedSchema(f"{at}: `items` as a list means different things in 2020-12")
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key in SUBSCHEMA:
            out[key] = rewrite(value, f"{at}/{key}", stack)
        elif key in SUBSCHEMA_LISTS:
            out[key] = [rewrite(v, f"{at}/{key}/{i}", stack) for i, v in enumerate(value)]
        elif key in SUBSCHEMA_MAPS:
            out[key] = {k: rewrite(v, f"{at}/{key}/{k}", stack) for k, v in value.items()}
        else:
            out[key] = value
    types = _types(out)
    if "array" in types and "maxItems" not in out:
        out["maxItems"] = max(MAX_ITEMS, out.get("minItems", 0))
    if "object" in types and "maxProperties" not in out:
        named = len(out.get("properties", {}).keys() | set(out.get("required", [])))
        out["maxProperties"] = max(named + MAX_EXTRA_KEYS, out.get("minProperties", 0))
    return out


PLAIN_OBJECT_KEYWORDS = frozenset(
    {"type", "properties", "required", "additionalProperties", "maxProperties"}
)


def instances(name: str) -> st.SearchStrategy[Any]:
    """Valid instances of component `name` (see the module docstring)."""
    schema = for_hypothesis(name)
    plain = (
        set(schema) <= PLAIN_OBJECT_KEYWORDS
        and _types(schema) == {"object"}
        and schema.get("additionalProperties", True) is True
    )
    if not plain:
        return from_schema(schema)
    properties: dict[str, Any] = schema.get("properties", {})
    required = set(schema.get("required", []))
    named = st.fixed_dictionaries(
        {key: from_schema(sub) for key, sub in properties.items() if key in required},
        optional={key: from_schema(sub) for key, sub in properties.items() if key not in required},
    )
    extra = st.dictionaries(
        st.text().filter(lambda key: key not in properties),
        from_schema({}),
        max_size=MAX_EXTRA_KEYS,
    )
    return st.builds(lambda known, unknown: {**unknown, **known}, named, extra)


_REGISTRY: Registry[Any] = Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(SPEC))


@functools.cache
def spec_validator(name: str) -> Draft202012Validator:
    """A 2020-12 validator for component `name` exactly as the spec writes it."""
    return Draft202012Validator(
        {"$ref": f"{SPEC_URI}{COMPONENT_PREFIX}{name}"},
        registry=_REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
