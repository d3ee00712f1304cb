"""The spec's own checks of request fields: JSON type and limits, read from the generated `_spec`.

The client (`_validation`) and the server (`server.validation`) both run these
after their hand-written checks, which give the precise messages for the fields
they know. What the hand-written code does not know yet (a new property, a new
maximum) is still enforced here, on both sides, as soon as `make generate`
rewrites `_spec.py`: nothing hand-kept can lag the spec silently.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from ._spec import REQUEST_FIELDS

__all__ = ["SpecViolation", "find_violations", "spec_fields", "spec_limit"]

_JSON_TYPES = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "a boolean",
    "array": "an array",
    "object": "an object",
    "null": "null",
}


@dataclass(frozen=True)
class SpecViolation:
    """A field the spec refuses: the parameter, why, and whether it is the type that is wrong."""

    param: str
    message: str
    wrong_type: bool


def spec_limit(schema: str, prop: str, keyword: str) -> int | None:
    """One integer limit of a request property (``minimum``, ``maxItems``...), None if unset."""
    value = REQUEST_FIELDS[schema][prop][2].get(keyword)
    return None if value is None else int(value)


def spec_fields(schema: str) -> Mapping[str, tuple[tuple[str, ...], bool, dict[str, float]]]:
    """The properties of a request schema: (JSON types, required, limits) by name."""
    return REQUEST_FIELDS[schema]


def _is_type(value: object, kind: str, *, integral_floats: bool) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool):
        return False
    if kind == "integer":
        return isinstance(value, int) or (
            integral_floats and isinstance(value, float) and value.is_integer()
        )
    if kind == "number":
        return isinstance(value, int | float)
    if kind == "array":
        return isinstance(value, list | tuple)
    if kind == "object":
        return isinstance(value, Mapping)
    return kind == "null" and value is None


def _bounds(param: str, value: object, limits: Mapping[str, float]) -> Iterator[str]:
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in limits and value < limits["minimum"]:
            yield f"must be >= {limits['minimum']}, got {value}"
        if "maximum" in limits and value > limits["maximum"]:
            yield f"must be <= {limits['maximum']}, got {value}"
        if "exclusiveMinimum" in limits and value <= limits["exclusiveMinimum"]:
            yield f"must be > {limits['exclusiveMinimum']}, got {value}"
        if "exclusiveMaximum" in limits and value >= limits["exclusiveMaximum"]:
            yield f"must be < {limits['exclusiveMaximum']}, got {value}"
    elif isinstance(value, str):
        if "minLength" in limits and len(value) < limits["minLength"]:
            yield f"must be at least {limits['minLength']} characters long, got {len(value)}"
        if "maxLength" in limits and len(value) > limits["maxLength"]:
            yield f"must be at most {limits['maxLength']} characters long, got {len(value)}"
    elif isinstance(value, list | tuple):
        if "minItems" in limits and len(value) < limits["minItems"]:
            yield f"must have at least {limits['minItems']} items, got {len(value)}"
        if "maxItems" in limits and len(value) > limits["maxItems"]:
            yield f"must have at most {limits['maxItems']} items, got {len(value)}"


def find_violations(
    schema: str, values: Mapping[str, object], *, integral_floats: bool = False
) -> Iterator[SpecViolation]:
    """Every spec rule `values` (the fields that are set) breaks, in property order.

    `integral_floats`: count 1.0 as an integer (JSON Schema does; the server reads JSON).
    """
    for name, (types, _required, limits) in spec_fields(schema).items():
        if name not in values:
            continue
        value = values[name]
        if types and not any(_is_type(value, t, integral_floats=integral_floats) for t in types):
            wanted = " or ".join(_JSON_TYPES.get(t, t) for t in types)
            yield SpecViolation(name, f"must be {wanted}, not {type(value).__name__}", True)
            continue
        for message in _bounds(name, value, limits):
            yield SpecViolation(name, message, False)
        if isinstance(value, list | tuple):
            item_limits = {
                key.removeprefix("items."): bound
                for key, bound in limits.items()
                if key.startswith("items.")
            }
            if item_limits:
                for i, item in enumerate(value):
                    for message in _bounds(f"{name}[{i}]", item, item_limits):
                        yield SpecViolation(f"{name}[{i}]", message, False)
