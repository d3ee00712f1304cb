"""Whether a parsed model holds values of the types its own annotations declare.

A JSON round trip can pass while `from_dict` puts data of the wrong type into a
field: with `documents: list[DocumentObject] | list[str]` the generator's
`from_dict` keeps a list of dicts (the `list[str]` branch, by `cast`), and its
`to_dict` hands the dicts back unchanged. The bug shows only when a caller
builds the model with the declared types (`DocumentObject`s), which `to_dict`
then leaves unconverted. Checking parsed values against the annotations catches
it from the parsing side.

Supported annotations are the ones the generator writes: classes (`str`, `int`,
`float`, `bool`, `Unset`, models), `None`, `Any`, `list[X]`, `dict[K, V]` and
unions. Anything else fails loudly. `int` excludes `bool`; `float` takes `int`
(JSON has one number type; PEP 484 lets `int` stand for `float`).
"""

from __future__ import annotations

import types
import typing
from typing import Any

import attrs
import together_rerank_generated.models as generated_models
import together_rerank_generated.types as generated_types

# Names the generated modules import only under TYPE_CHECKING, for resolving annotations.
_NAMESPACE = {**vars(generated_types), **vars(generated_models)}


def model_type_errors(model: object, at: str = "") -> list[str]:
    """Every field of the attrs model `model`, recursively, that disagrees with its annotation."""
    cls = type(model)
    assert attrs.has(cls), f"{at or 'model'}: {cls.__name__} is not an attrs class"
    hints = typing.get_type_hints(cls, localns=_NAMESPACE)
    errors: list[str] = []
    for field in attrs.fields(cls):
        value = getattr(model, field.name)
        errors += value_type_errors(value, hints[field.name], f"{at}.{field.name}")
    return errors


def value_type_errors(value: object, annotation: Any, at: str) -> list[str]:
    if annotation is Any:
        return []
    origin = typing.get_origin(annotation)
    arguments = typing.get_args(annotation)
    if origin in (types.UnionType, typing.Union):
        if any(not value_type_errors(value, branch, at) for branch in arguments):
            return []
        return [f"{at}: {value!r} is none of {annotation}"]
    if annotation is None or annotation is type(None):
        return [] if value is None else [f"{at}: {value!r} is not None"]
    if origin is list:
        if not isinstance(value, list):
            return [f"{at}: {value!r} is not a list"]
        (item,) = arguments
        return [e for i, v in enumerate(value) for e in value_type_errors(v, item, f"{at}[{i}]")]
    if origin is dict:
        if not isinstance(value, dict):
            return [f"{at}: {value!r} is not a dict"]
        key_type, value_type = arguments
        return [
            error
            for key, item in value.items()
            for error in value_type_errors(key, key_type, f"{at} (key {key!r})")
            + value_type_errors(item, value_type, f"{at}[{key!r}]")
        ]
    if isinstance(annotation, type):
        if annotation is float:
            matches = isinstance(value, int | float) and not isinstance(value, bool)
        elif annotation is int:
            matches = isinstance(value, int) and not isinstance(value, bool)
        else:
            matches = isinstance(value, annotation)
        if not matches:
            return [f"{at}: {value!r} is not {annotation.__name__}"]
        return model_type_errors(value, at) if attrs.has(annotation) else []
    raise TypeError(f"{at}: this checker does not know the annotation {annotation!r}")
