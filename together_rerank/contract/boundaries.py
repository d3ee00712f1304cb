"""Deterministic boundary cases: every request limit in the spec, just inside and just outside.

For each operation with a JSON request body, and each property of its schema
with a ``minimum``, ``maximum``, ``exclusiveMinimum``, ``exclusiveMaximum``,
``minLength``, ``maxLength``, ``minItems`` or ``maxItems`` (on the property or
on one of its ``oneOf``/``anyOf`` branches), two requests are built from the
operation's own example: the value at the limit (to be accepted, 2xx) and the
value one step past it (to be refused, 4xx). Nothing is drawn at random, so a
limit a server does not enforce fails on every run, whatever the seed.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["BoundaryCase", "boundary_cases"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


@dataclass(frozen=True)
class BoundaryCase:
    """One request at a limit: where it goes, what it sends, and whether it must be accepted."""

    method: str
    path: str
    body: dict[str, Any]
    field: str
    limit: str
    valid: bool

    @property
    def label(self) -> str:
        side = "at" if self.valid else "past"
        return f"{self.method} {self.path} {self.field} {side} {self.limit}"


def _deref(spec: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and "$ref" in node:
        target: Any = spec
        for token in node["$ref"].lstrip("#/").split("/"):
            target = target[token.replace("~1", "/").replace("~0", "~")]
        node = target
    return node


def _branches(spec: Mapping[str, Any], schema: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    """The schema itself and its oneOf/anyOf branches, each with its own limits."""
    yield schema
    for keyword in ("oneOf", "anyOf"):
        for branch in schema.get(keyword) or []:
            resolved = _deref(spec, branch)
            if isinstance(resolved, Mapping):
                yield resolved


def _example_item(spec: Mapping[str, Any], schema: Mapping[str, Any], current: Any) -> Any:
    if isinstance(current, list) and current:
        return current[0]
    items = _deref(spec, schema.get("items", {}))
    if isinstance(items, Mapping):
        if "example" in items:
            return items["example"]
        for branch in _branches(spec, items):
            if "example" in branch:
                return branch["example"]
    return "boundary"


def _values(
    spec: Mapping[str, Any], schema: Mapping[str, Any], current: Any
) -> Iterator[tuple[str, Any, bool]]:
    """(limit, value, valid) pairs for one property schema's limits."""
    numeric = "integer" if schema.get("type") == "integer" else "number"
    step = 1
    if "minimum" in schema:
        low = schema["minimum"]
        yield f"minimum {low}", low, True
        yield f"minimum {low}", low - step, False
    if "maximum" in schema:
        high = schema["maximum"]
        yield f"maximum {high}", high, True
        yield f"maximum {high}", high + step, False
    if "exclusiveMinimum" in schema:
        low = schema["exclusiveMinimum"]
        inside = low + 1 if numeric == "integer" else low + 0.5
        yield f"exclusiveMinimum {low}", inside, True
        yield f"exclusiveMinimum {low}", low, False
    if "exclusiveMaximum" in schema:
        high = schema["exclusiveMaximum"]
        inside = high - 1 if numeric == "integer" else high - 0.5
        yield f"exclusiveMaximum {high}", inside, True
        yield f"exclusiveMaximum {high}", high, False
    if "minLength" in schema:
        n = schema["minLength"]
        yield f"minLength {n}", "q" * n, True
        if n > 0:
            yield f"minLength {n}", "q" * (n - 1), False
    if "maxLength" in schema:
        n = schema["maxLength"]
        yield f"maxLength {n}", "q" * n, True
        yield f"maxLength {n}", "q" * (n + 1), False
    item = _example_item(spec, schema, current)
    if "minItems" in schema:
        n = schema["minItems"]
        yield f"minItems {n}", [copy.deepcopy(item) for _ in range(n)], True
        if n > 0:
            yield f"minItems {n}", [copy.deepcopy(item) for _ in range(n - 1)], False
    if "maxItems" in schema:
        n = schema["maxItems"]
        yield f"maxItems {n}", [copy.deepcopy(item) for _ in range(n)], True
        yield f"maxItems {n}", [copy.deepcopy(item) for _ in range(n + 1)], False


def _base_bodies(spec: Mapping[str, Any], media: Mapping[str, Any], schema: Any) -> list[Any]:
    """The operation's request examples, media type examples first."""
    found = [
        example["value"]
        for example in (media.get("examples") or {}).values()
        if isinstance(example, Mapping) and isinstance(example.get("value"), dict)
    ]
    if isinstance(media.get("example"), dict):
        found.append(media["example"])
    resolved = _deref(spec, schema)
    if isinstance(resolved, Mapping) and isinstance(resolved.get("example"), dict):
        found.append(resolved["example"])
    return found


def _base_for(bodies: list[Any], name: str) -> Any:
    """The first example that sets `name` (its other fields fit it), else the first example."""
    return next((body for body in bodies if name in body), bodies[0])


def boundary_cases(spec: Mapping[str, Any]) -> list[BoundaryCase]:
    """Every boundary case of every request body property in `spec` with a limit, in spec order."""
    cases: list[BoundaryCase] = []
    for path, item in (spec.get("paths") or {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if not isinstance(operation, Mapping):
                continue
            body = _deref(spec, operation.get("requestBody", {}))
            media = (body.get("content") or {}).get("application/json")
            if not isinstance(media, Mapping) or "schema" not in media:
                continue
            schema = _deref(spec, media["schema"])
            bodies = _base_bodies(spec, media, media["schema"])
            if not bodies:
                continue
            for name, raw in (schema.get("properties") or {}).items():
                base = _base_for(bodies, name)
                prop = _deref(spec, raw)
                if not isinstance(prop, Mapping):
                    continue
                # A pinned value (the model under test) has no range to accept, only
                # values past its limits to refuse.
                pinned = "const" in prop or "enum" in prop
                seen: set[tuple[str, str]] = set()
                for branch in _branches(spec, prop):
                    for limit, value, valid in _values(spec, branch, base.get(name)):
                        key = (limit, repr(value))
                        if key in seen or (pinned and valid):
                            continue
                        seen.add(key)
                        request = {**copy.deepcopy(base), name: value}
                        cases.append(
                            BoundaryCase(method.upper(), path, request, name, limit, valid)
                        )
    return cases
