"""Read an OpenAPI document from a file, or from git as ``git:REF:PATH`` (as ``git show``).

A document that cannot be compared is refused here with a `SpecLoadError`
naming the source and what is wrong, so that the comparison never meets a
value of a shape it does not expect: the text must be UTF-8 (a BOM is
allowed) and YAML or JSON; the data must be JSON data (string keys; integer
keys such as unquoted status codes become strings); and every part that
spec-diff reads must have its OpenAPI type, also where a ``$ref`` leads
(`STRUCTURE`, checked with jsonschema). The rest of the document is not
validated: openapi-spec-validator does that.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextvars import ContextVar
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["STRUCTURE", "SpecLoadError", "load_document", "parse_document"]

# Every pointer spec-diff follows is cut off after this many hops, as in compare.py.
_MAX_REF_HOPS = 32
_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_BOUNDS = (
    "maximum",
    "exclusiveMaximum",
    "maxLength",
    "maxItems",
    "maxProperties",
    "minimum",
    "exclusiveMinimum",
    "minLength",
    "minItems",
    "minProperties",
)


class SpecLoadError(Exception):
    """The document could not be read or is not an OpenAPI mapping."""


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/$defs/{name}"}


def _map_of(name: str) -> dict[str, Any]:
    return {"type": ["object", "null"], "additionalProperties": _ref(name)}


def _list_of(name: str) -> dict[str, Any]:
    return {"type": ["array", "null"], "items": _ref(name)}


# The parts of an OpenAPI document (3.0 or 3.1) that spec-diff reads, with the
# types it needs. "x-ref": KIND checks what a local $ref there leads to as a KIND.
STRUCTURE: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["openapi"],
    "properties": {
        "info": {"type": ["object", "null"]},
        "servers": {"type": ["array", "null"], "items": {"type": "object"}},
        "paths": _map_of("pathItem"),
    },
    "$defs": {
        "pathItem": {
            "type": "object",
            "properties": {method: _ref("operation") for method in _METHODS},
        },
        "operation": {
            "type": "object",
            "properties": {
                "parameters": _list_of("parameter"),
                "requestBody": _ref("requestBody"),
                "responses": _map_of("response"),
            },
        },
        "parameter": {
            "type": "object",
            "x-ref": "parameter",
            "properties": {"schema": _ref("schema")},
        },
        "requestBody": {
            "type": "object",
            "x-ref": "requestBody",
            "properties": {"content": _map_of("mediaType")},
        },
        "response": {
            "type": "object",
            "x-ref": "response",
            "properties": {"content": _map_of("mediaType")},
        },
        "mediaType": {"type": "object", "properties": {"schema": _ref("schema")}},
        "schema": {
            "type": ["object", "boolean"],
            "x-ref": "schema",
            "properties": {
                "properties": _map_of("schema"),
                "required": {"type": ["array", "null"], "items": {"type": "string"}},
                "enum": {"type": "array"},
                "items": _ref("schema"),
                "oneOf": _list_of("schema"),
                "anyOf": _list_of("schema"),
                "allOf": _list_of("schema"),
                # OpenAPI 3.0's exclusiveMaximum/exclusiveMinimum are booleans.
                **{key: {"type": ["number", "boolean"]} for key in _BOUNDS},
            },
        },
    },
}


def parse_document(text: str, source: str) -> dict[str, Any]:
    """Parse YAML (or JSON, a subset) text into a mapping spec-diff can compare."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with the spec extra
        raise SpecLoadError("spec-diff needs PyYAML: pip install 'together-rerank[spec]'") from None
    try:
        loaded = yaml.load(text, Loader=_loader())  # a SafeLoader
    except yaml.YAMLError as exc:
        raise SpecLoadError(f"{source}: not valid YAML: {_yaml_problem(exc)}") from None
    except RecursionError:
        raise SpecLoadError(f"{source}: nested too deeply to read") from None
    if not isinstance(loaded, dict) or "openapi" not in loaded:
        raise SpecLoadError(f"{source}: not an OpenAPI document (no top-level 'openapi' key)")
    _check_json_data(loaded, source)
    _check_structure(loaded, source)
    return loaded


def _yaml_problem(exc: Exception) -> str:
    """PyYAML's error on one line, with where it is."""
    problem = getattr(exc, "problem", None)
    if not problem:
        return " ".join(str(exc).split())
    context = getattr(exc, "context", None)
    text = f"{context}: {problem}" if context else str(problem)
    mark = getattr(exc, "problem_mark", None)
    if mark is not None:
        text += f" (line {mark.line + 1}, column {mark.column + 1})"
    return text


@cache
def _loader() -> type[Any]:
    """PyYAML's safe loader, except that dates stay text as written (JSON has no dates)."""
    import yaml

    # Not libyaml's CSafeLoader: deep enough nesting overflows its C stack and kills the
    # process, where the Python loader raises RecursionError.
    base = yaml.SafeLoader
    resolvers = {
        first: [(tag, regexp) for tag, regexp in entries if tag != "tag:yaml.org,2002:timestamp"]
        for first, entries in base.yaml_implicit_resolvers.items()
    }
    return type("SpecLoader", (base,), {"yaml_implicit_resolvers": resolvers})


def _escape(token: object) -> str:
    """A JSON pointer token, with what cannot be shown on one line escaped (a key can hold it)."""
    text = str(token).replace("~", "~0").replace("/", "~1")
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def _check_json_data(root: dict[str, Any], source: str) -> None:
    """Refuse what JSON cannot hold; integer keys become strings. Iterative: no depth limit."""
    entered: set[int] = set()  # containers on the path from the root to the current node
    finished: set[int] = set()  # containers reached before through another alias
    stack: list[tuple[Any, str, bool]] = [(root, "", False)]
    while stack:
        node, at, leaving = stack.pop()
        if leaving:
            entered.discard(id(node))
            finished.add(id(node))
            continue
        where = at or "/"
        if isinstance(node, dict | list):
            if id(node) in entered:
                raise SpecLoadError(
                    f"{source}: {where}: a YAML alias makes the document contain itself"
                )
            if id(node) in finished:
                continue
            entered.add(id(node))
            stack.append((node, at, True))
            if isinstance(node, list):
                stack.extend((item, f"{at}/{i}", False) for i, item in enumerate(node))
                continue
            _string_keys(node, source, where)
            stack.extend((value, f"{at}/{_escape(key)}", False) for key, value in node.items())
        elif isinstance(node, str):
            _check_text(node, source, where)
        elif node is not None and not isinstance(node, bool | int | float):
            raise SpecLoadError(
                f"{source}: {where}: a YAML {type(node).__name__} value, which JSON cannot hold"
            )


def _string_keys(mapping: dict[Any, Any], source: str, where: str) -> None:
    if all(type(key) is str for key in mapping):
        for key in mapping:
            _check_text(key, source, where)
        return
    items = list(mapping.items())
    renamed: dict[str, Any] = {}
    for key, value in items:
        if type(key) is int:
            key = str(key)  # noqa: PLW2901  (an unquoted status code: 200 means "200")
        elif not isinstance(key, str):
            hint = " (YAML 1.1 reads yes/no/on/off as booleans)" if isinstance(key, bool) else ""
            raise SpecLoadError(
                f"{source}: {where}: the key {key!r} is not a string{hint}; quote it"
            )
        _check_text(key, source, where)
        if key in renamed:
            raise SpecLoadError(f"{source}: {where}: the key {key!r} appears twice")
        renamed[key] = value
    mapping.clear()
    mapping.update(renamed)


def _check_text(text: str, source: str, where: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise SpecLoadError(
            f"{source}: {where}: a string that is not Unicode text (a lone surrogate escape)"
        ) from None


# The document being checked and the $ref targets already checked, per check.
_CHECKING: ContextVar[tuple[dict[str, Any], set[tuple[str, int]]]] = ContextVar("checking")


def _follow(document: dict[str, Any], node: Any) -> tuple[Any, str]:
    """Where a local $ref leads, followed as spec-diff follows it; and that place's pointer."""
    at, hops = "", 0
    while isinstance(node, dict) and isinstance(node.get("$ref"), str) and hops < _MAX_REF_HOPS:
        ref: str = node["$ref"]
        if not ref.startswith("#"):
            break
        target: Any = document
        for raw in ref[1:].lstrip("/").split("/"):
            token = raw.replace("~1", "/").replace("~0", "~")
            target = target.get(token) if isinstance(target, dict) else None
        node, at, hops = target, ref[1:], hops + 1
    return node, at


def _ref_keyword(validator: Any, kind: str, instance: Any, schema: Any) -> Iterator[Any]:
    """The "x-ref" keyword: a local $ref here must lead to a valid `kind` (checked once)."""
    from jsonschema.exceptions import ValidationError

    if not isinstance(instance, dict) or not isinstance(instance.get("$ref"), str):
        return
    document, checked = _CHECKING.get()
    target, at = _follow(document, instance)
    if (kind, id(target)) in checked:
        return
    checked.add((kind, id(target)))
    for error in validator.descend(target, _ref(kind)):
        found = ValidationError(_describe(error))
        found.spec_target = getattr(error, "spec_target", None) or at + "".join(  # type: ignore[attr-defined]
            f"/{_escape(token)}" for token in error.relative_path
        )
        yield found


@cache
def _validator_class() -> type[Any]:
    from jsonschema import Draft202012Validator, validators

    extended: type[Any] = validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"x-ref": _ref_keyword}
    )
    return extended


def _check_structure(document: dict[str, Any], source: str) -> None:
    try:
        validator = _validator_class()(STRUCTURE)
    except ImportError:  # pragma: no cover - jsonschema comes with the spec extra
        raise SpecLoadError(
            "spec-diff needs jsonschema: pip install 'together-rerank[spec]'"
        ) from None
    token = _CHECKING.set((document, set()))
    try:
        errors = list(validator.iter_errors(document))
    except RecursionError:
        raise SpecLoadError(f"{source}: nested too deeply to compare") from None
    finally:
        _CHECKING.reset(token)
    if not errors:
        return
    first = errors[0]
    site = "".join(f"/{_escape(token)}" for token in first.absolute_path) or "/"
    target = getattr(first, "spec_target", None)
    where = f"{target or '/'} (reached through the $ref at {site})" if target is not None else site
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    raise SpecLoadError(f"{source}: {where}: {_describe(first)}{more}")


_TYPE_NAMES = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "boolean": "a boolean",
    "null": "null",
}


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    return "a list" if isinstance(value, list) else "an object"


def _describe(error: Any) -> str:
    """The error in a few words: jsonschema's message repeats the whole value."""
    if getattr(error, "spec_target", None) is not None:
        return str(error.message)  # described where the $ref led
    if error.validator == "type":
        expected = error.validator_value
        names = [
            _TYPE_NAMES.get(t, t) for t in ([expected] if isinstance(expected, str) else expected)
        ]
        shown = repr(error.instance) if isinstance(error.instance, bool | int | float | str) else ""
        value = f"{_kind(error.instance)} ({shown[:40]})" if shown else _kind(error.instance)
        return f"must be {' or '.join(names)}, not {value}"
    return str(error.message)[:200]


def _decode(data: bytes, source: str) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise SpecLoadError(
            f"{source}: not UTF-8 text (byte 0x{data[exc.start]:02x} on line {line})"
        ) from None


def read_source(source: str, *, cwd: Path | None = None) -> str:
    """The text of `source`: a path, or ``git:REF:PATH`` read with ``git show REF:PATH``."""
    if source.startswith("git:"):
        ref, sep, path = source[4:].partition(":")
        if not sep or not ref or not path:
            raise SpecLoadError(f"{source}: expected git:REF:PATH, such as git:HEAD:openapi.yaml")
        try:
            result = subprocess.run(
                ["git", "show", f"{ref}:{path}"],
                cwd=cwd,
                capture_output=True,
                timeout=60,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpecLoadError(f"{source}: cannot run git show: {exc}") from None
        if result.returncode != 0:
            message = result.stderr.decode("utf-8", "replace").strip()
            raise SpecLoadError(f"{source}: {message or 'git show failed'}")
        return _decode(result.stdout, source)
    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise SpecLoadError(f"{source}: {exc.strerror or exc}") from None
    return _decode(data, source)


def load_document(source: str, *, cwd: Path | None = None) -> dict[str, Any]:
    """Read and parse one OpenAPI document."""
    return parse_document(read_source(source, cwd=cwd), source)
