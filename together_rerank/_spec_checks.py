"""The spec's own checks of request fields: JSON type and limits, read from the generated `_spec`.

The client (`_validation`) and the server (`server.validation`) both run these
after their hand-written checks, which give the precise messages for the fields
they know. What the hand-written code does not know yet (a new property, a new
maximum) is still enforced here, on both sides, as soon as `make generate`
rewrites `_spec.py`: nothing hand-kept can lag the spec silently.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache

from ._spec import REQUEST_FIELDS

__all__ = ["SpecViolation", "find_violations", "passes", "spec_fields", "spec_limit"]

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


# The exact Python types that are each JSON type for certain (a subclass, or
# 1.0 as an integer, is left to `find_violations` to judge).
_EXACT_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


@dataclass(frozen=True)
class _Rule:
    """One property's checks, flattened for `passes`."""

    name: str
    kinds: frozenset[type]
    min_length: float
    max_length: float
    min_items: float
    max_items: float
    low: float
    high: float
    # Bounds that the value may not equal (exclusiveMinimum/Maximum), or that
    # `passes` leaves to `find_violations` (item limits).
    strict_low: bool
    strict_high: bool
    item_limits: bool


@cache
def _rules(schema: str) -> tuple[_Rule, ...]:
    rules = []
    for name, (types, _required, limits) in spec_fields(schema).items():
        # Untyped: no kinds, so every value goes to the full check.
        kinds = frozenset(kind for t in types for kind in _EXACT_TYPES.get(t, ()))
        minimum = limits.get("minimum", -math.inf)
        exclusive_minimum = limits.get("exclusiveMinimum", -math.inf)
        maximum = limits.get("maximum", math.inf)
        exclusive_maximum = limits.get("exclusiveMaximum", math.inf)
        rules.append(
            _Rule(
                name=name,
                kinds=kinds,
                min_length=limits.get("minLength", 0),
                max_length=limits.get("maxLength", math.inf),
                min_items=limits.get("minItems", 0),
                max_items=limits.get("maxItems", math.inf),
                low=max(minimum, exclusive_minimum),
                high=min(maximum, exclusive_maximum),
                strict_low="exclusiveMinimum" in limits,
                strict_high="exclusiveMaximum" in limits,
                item_limits=any(key.startswith("items.") for key in limits),
            )
        )
    return tuple(rules)


def passes(schema: str, values: Mapping[str, object]) -> bool:
    """True only if `find_violations` would find nothing: a cheap first look for the common case.

    False means "look closer", not "invalid": the caller then runs `find_violations`.
    A value of None counts as not set, as it does for the callers (None is not sent).
    """
    for rule in _rules(schema):
        value = values.get(rule.name)
        if value is None:
            continue
        kind = type(value)
        if kind not in rule.kinds or rule.item_limits:
            return False
        if kind is str:
            if not rule.min_length <= len(value) <= rule.max_length:  # type: ignore[arg-type]
                return False
        elif kind is list or kind is tuple:
            if not rule.min_items <= len(value) <= rule.max_items:  # type: ignore[arg-type]
                return False
        elif kind is int or kind is float:
            number: float = value  # type: ignore[assignment]
            if not rule.low <= number <= rule.high:  # a NaN fails here too
                return False
            if (rule.strict_low and number == rule.low) or (
                rule.strict_high and number == rule.high
            ):
                return False
    return True
