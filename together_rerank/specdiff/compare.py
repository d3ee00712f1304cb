"""Walk two OpenAPI 3.1 documents side by side and list every change, classified by `rules.RULES`.

Schemas are compared where they are used: a schema under a request body is
judged by the request rules, one under a response by the response rules (a
component used in both is judged both ways). `$ref`s are followed, and a change
is reported at the JSON pointer (RFC 6901) of the schema that changed, in the
new document (in the old one for something removed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from .rules import RULES, Severity

__all__ = ["Change", "diff_specs"]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
Direction = Literal["request", "response"]
# Each bound keyword, and whether it is an upper bound.
_CONSTRAINTS = (
    ("maximum", True),
    ("exclusiveMaximum", True),
    ("maxLength", True),
    ("maxItems", True),
    ("maxProperties", True),
    ("minimum", False),
    ("exclusiveMinimum", False),
    ("minLength", False),
    ("minItems", False),
    ("minProperties", False),
)


@dataclass(frozen=True)
class Change:
    """One difference between the old and the new document."""

    rule: str
    pointer: str
    detail: str

    @property
    def severity(self) -> Severity:
        return RULES[self.rule].severity

    @property
    def why(self) -> str:
        return RULES[self.rule].why

    def as_json(self) -> dict[str, str]:
        return {
            "severity": self.severity.value,
            "rule": self.rule,
            "pointer": self.pointer,
            "detail": self.detail,
            "why": self.why,
        }


def _ptr(base: str, *tokens: str | int) -> str:
    escaped = (str(token).replace("~", "~0").replace("/", "~1") for token in tokens)
    return base + "".join("/" + token for token in escaped)


def _bound(value: Any) -> str:
    return "(none)" if value is None else str(value)


def _show(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


class _Differ:
    def __init__(self, old: Mapping[str, Any], new: Mapping[str, Any]) -> None:
        self.old, self.new = old, new
        self.changes: dict[tuple[str, str, str], Change] = {}
        self._seen: set[tuple[str, str, Direction]] = set()

    def emit(self, rule: str, pointer: str, detail: str) -> None:
        assert rule in RULES, rule
        self.changes.setdefault((rule, pointer, detail), Change(rule, pointer, detail))

    # --- references -------------------------------------------------------------------

    @staticmethod
    def _deref(doc: Mapping[str, Any], node: Any, at: str) -> tuple[Any, str]:
        hops = 0
        while isinstance(node, Mapping) and isinstance(node.get("$ref"), str) and hops < 32:
            ref = node["$ref"]
            if not ref.startswith("#"):
                break  # external refs are not followed
            target: Any = doc
            for raw in ref[1:].lstrip("/").split("/"):
                token = raw.replace("~1", "/").replace("~0", "~")
                target = target.get(token) if isinstance(target, Mapping) else None
            node, at, hops = target, ref[1:], hops + 1
        return node, at

    # --- documents, paths, operations ---------------------------------------------------

    def run(self) -> list[Change]:
        self._servers()
        if self.old.get("security") != self.new.get("security"):
            self.emit("security-changed", "/security", "the document's security requirements")
        old_paths = self.old.get("paths") or {}
        new_paths = self.new.get("paths") or {}
        for path in old_paths:
            if path not in new_paths:
                self.emit("path-removed", _ptr("/paths", path), f"{path} removed")
        for path, new_item in new_paths.items():
            at = _ptr("/paths", path)
            if path not in old_paths:
                self.emit("path-added", at, f"{path} added")
                continue
            old_item = old_paths[path]
            for method in HTTP_METHODS:
                op_at = _ptr(at, method)
                label = f"{method.upper()} {path}"
                if method in old_item and method not in new_item:
                    self.emit("operation-removed", op_at, f"{label} removed")
                elif method in new_item and method not in old_item:
                    self.emit("operation-added", op_at, f"{label} added")
                elif method in new_item:
                    self._operation(old_item[method], new_item[method], op_at)
        self._documentation(
            self.old.get("info") or {}, self.new.get("info") or {}, "/info", top=True
        )
        return sorted(
            self.changes.values(), key=lambda c: (-c.severity.rank, c.pointer, c.rule, c.detail)
        )

    def _servers(self) -> None:
        old = [s.get("url") for s in self.old.get("servers") or []]
        new = [s.get("url") for s in self.new.get("servers") or []]
        if old[:1] != new[:1]:
            self.emit("server-url-changed", "/servers/0/url", f"{old[:1]} -> {new[:1]}")

    def _operation(self, old: Mapping[str, Any], new: Mapping[str, Any], at: str) -> None:
        self._documentation(old, new, at)
        if new.get("deprecated") and not old.get("deprecated"):
            self.emit("operation-deprecated", _ptr(at, "deprecated"), "deprecated: true")
        if old.get("security") != new.get("security"):
            self.emit("security-changed", _ptr(at, "security"), "the operation's security")
        self._parameters(old.get("parameters") or [], new.get("parameters") or [], at)
        old_body, _ = self._deref(self.old, old.get("requestBody"), _ptr(at, "requestBody"))
        new_body, body_at = self._deref(self.new, new.get("requestBody"), _ptr(at, "requestBody"))
        if isinstance(new_body, Mapping):
            old_body = old_body if isinstance(old_body, Mapping) else {}
            if new_body.get("required") and not old_body.get("required"):
                self.emit("request-body-made-required", _ptr(body_at, "required"), "now required")
            self._content(old_body, new_body, body_at, "request")
        self._responses(old.get("responses") or {}, new.get("responses") or {}, at)

    def _parameters(self, old: list[Any], new: list[Any], at: str) -> None:
        def index(doc: Mapping[str, Any], params: list[Any]) -> dict[tuple[str, str], Any]:
            found = {}
            for raw in params:
                param, _ = self._deref(doc, raw, at)
                if isinstance(param, Mapping):
                    found[(str(param.get("in")), str(param.get("name")))] = param
            return found

        old_index, new_index = index(self.old, old), index(self.new, new)
        for key, param in new_index.items():
            where = _ptr(at, "parameters", f"{key[0]}:{key[1]}")
            if key not in old_index:
                rule = (
                    "request-parameter-required-added"
                    if param.get("required")
                    else ("request-parameter-optional-added")
                )
                self.emit(rule, where, f"{key[0]} parameter {key[1]!r}")
                continue
            if param.get("required") and not old_index[key].get("required"):
                self.emit("request-parameter-made-required", where, f"{key[1]!r}")
            if param.get("deprecated") and not old_index[key].get("deprecated"):
                self.emit("request-parameter-deprecated", where, f"{key[1]!r} deprecated")
            if "schema" in param and "schema" in old_index[key]:
                self._schema(old_index[key]["schema"], param["schema"], where, where, "request")
        for key in old_index:
            if key not in new_index:
                where = _ptr(at, "parameters", f"{key[0]}:{key[1]}")
                self.emit("request-parameter-removed", where, f"{key[0]} parameter {key[1]!r}")

    def _content(
        self, old: Mapping[str, Any], new: Mapping[str, Any], at: str, direction: Direction
    ) -> None:
        old_content = old.get("content") or {}
        new_content = new.get("content") or {}
        for media_type, old_media in old_content.items():
            where = _ptr(at, "content", media_type)
            if media_type not in new_content:
                rule = f"{direction}-media-type-removed"
                self.emit(rule, where, f"{media_type} removed")
                continue
            new_media = new_content[media_type]
            if old_media.get("examples") != new_media.get("examples") or old_media.get(
                "example"
            ) != new_media.get("example"):
                self.emit("example-changed", _ptr(where, "examples"), "media type examples")
            if "schema" in old_media and "schema" in new_media:
                s_at = _ptr(where, "schema")
                self._schema(old_media["schema"], new_media["schema"], s_at, s_at, direction)

    def _responses(self, old: Mapping[str, Any], new: Mapping[str, Any], at: str) -> None:
        for status, old_response in old.items():
            where = _ptr(at, "responses", status)
            if status not in new:
                success = str(status).startswith("2")
                rule = (
                    "response-success-status-removed"
                    if success
                    else ("response-error-status-removed")
                )
                self.emit(rule, where, f"status {status} removed")
                continue
            old_r, _ = self._deref(self.old, old_response, where)
            new_r, r_at = self._deref(self.new, new[status], where)
            if isinstance(old_r, Mapping) and isinstance(new_r, Mapping):
                self._documentation(old_r, new_r, r_at)
                self._content(old_r, new_r, r_at, "response")
        for status in new:
            if status not in old:
                self.emit("response-status-added", _ptr(at, "responses", status), str(status))

    # --- schemas ------------------------------------------------------------------------

    def _schema(self, old: Any, new: Any, old_at: str, new_at: str, direction: Direction) -> None:
        old, old_at = self._deref(self.old, old, old_at)
        new, new_at = self._deref(self.new, new, new_at)
        key = (old_at, new_at, direction)
        if key in self._seen or not isinstance(old, Mapping) or not isinstance(new, Mapping):
            return
        self._seen.add(key)
        self._documentation(old, new, new_at)
        self._types(old, new, new_at, direction)
        self._enums(old, new, new_at, direction)
        self._bounds(old, new, new_at, direction)
        if direction == "request":
            self._pattern(old, new, new_at)
            if old.get("default") != new.get("default") and "default" in old:
                self.emit(
                    "request-default-changed",
                    _ptr(new_at, "default"),
                    f"{_show(old.get('default'))} -> {_show(new.get('default'))}",
                )
            if old.get("additionalProperties", True) is not False and (
                new.get("additionalProperties", True) is False
            ):
                self.emit(
                    "request-additional-properties-closed",
                    _ptr(new_at, "additionalProperties"),
                    "additionalProperties: false",
                )
        self._properties(old, new, old_at, new_at, direction)
        if "items" in old and "items" in new:
            self._schema(
                old["items"], new["items"], _ptr(old_at, "items"), _ptr(new_at, "items"), direction
            )
        for keyword in ("oneOf", "anyOf", "allOf"):
            self._variants(old, new, old_at, new_at, keyword, direction)

    def _documentation(
        self, old: Mapping[str, Any], new: Mapping[str, Any], at: str, *, top: bool = False
    ) -> None:
        for key in ("description", "summary", "title"):
            if old.get(key) != new.get(key) and not (top and key == "title"):
                self.emit("description-changed", _ptr(at, key), key)
        if old.get("example") != new.get("example") or old.get("examples") != new.get("examples"):
            self.emit("example-changed", _ptr(at, "example"), "example")

    def _type_set(self, doc: Mapping[str, Any], schema: Mapping[str, Any]) -> set[str] | None:
        """The JSON types a schema admits; None when it does not say (any type)."""
        declared = schema.get("type")
        if isinstance(declared, str):
            types = {declared}
        elif isinstance(declared, list):
            types = set(map(str, declared))
        else:
            types = set()
            for keyword in ("oneOf", "anyOf"):
                for raw in schema.get(keyword) or []:
                    branch, _ = self._deref(doc, raw, "")
                    branch_types = (
                        self._type_set(doc, branch) if isinstance(branch, Mapping) else None
                    )
                    if branch_types is None:
                        return None
                    types |= branch_types
            if not types:
                return None
        if "integer" in types and "number" in types:
            types.discard("integer")
        if schema.get("nullable") is True:
            types.add("null")
        return types

    def _types(
        self, old: Mapping[str, Any], new: Mapping[str, Any], at: str, direction: Direction
    ) -> None:
        old_types, new_types = self._type_set(self.old, old), self._type_set(self.new, new)
        if old_types == new_types:
            return
        everything = {"string", "number", "integer", "boolean", "array", "object", "null"}
        old_all = everything if old_types is None else old_types
        new_all = everything if new_types is None else new_types

        # "number" admits integers.
        def admits(types: set[str], kind: str) -> bool:
            return kind in types or (kind == "integer" and "number" in types)

        lost = {t for t in old_all if not admits(new_all, t)}
        gained = {t for t in new_all if not admits(old_all, t)}
        detail = f"type {sorted(old_all)} -> {sorted(new_all)}"
        where = _ptr(at, "type")
        if direction == "request":
            if lost == {"null"}:
                self.emit("request-made-non-nullable", where, detail)
            elif lost:
                self.emit("request-type-changed", where, detail)
            if gained == {"null"}:
                self.emit("request-made-nullable", where, detail)
            elif gained:
                self.emit("request-type-widened", where, detail)
        else:
            if gained == {"null"}:
                self.emit("response-made-nullable", where, detail)
            elif gained:
                self.emit("response-type-changed", where, detail)
            if lost == {"null"}:
                self.emit("response-made-non-nullable", where, detail)
            elif lost:
                self.emit("response-type-narrowed", where, detail)

    def _enums(
        self, old: Mapping[str, Any], new: Mapping[str, Any], at: str, direction: Direction
    ) -> None:
        def values(schema: Mapping[str, Any]) -> list[Any] | None:
            if "enum" in schema:
                return list(schema["enum"])
            if "const" in schema:
                return [schema["const"]]
            return None

        old_values, new_values = values(old), values(new)
        if old_values == new_values:
            return
        old_set = {_show(v) for v in old_values} if old_values is not None else None
        new_set = {_show(v) for v in new_values} if new_values is not None else None
        where = _ptr(at, "enum" if "enum" in new or "enum" in old else "const")
        removed = sorted(old_set - new_set) if old_set is not None and new_set is not None else []
        added = sorted(new_set - old_set) if old_set is not None and new_set is not None else []
        if old_set is not None and new_set is None:
            # The list of values was dropped: any value is possible now.
            added = ["any value"]
        if old_set is None and new_set is not None:
            removed = ["any other value"]
        if removed:
            rule = f"{direction}-enum-value-removed"
            self.emit(rule, where, f"removed {', '.join(removed)}")
        if added:
            rule = f"{direction}-enum-value-added"
            self.emit(rule, where, f"added {', '.join(added)}")

    def _bounds(
        self, old: Mapping[str, Any], new: Mapping[str, Any], at: str, direction: Direction
    ) -> None:
        for keyword, upper in _CONSTRAINTS:
            before, after = old.get(keyword), new.get(keyword)
            if before == after:
                continue
            where = _ptr(at, keyword)
            detail = f"{keyword} {_bound(before)} -> {_bound(after)}"
            tighter = before is None or (
                after is not None and (after < before if upper else after > before)
            )
            if direction == "request":
                if not tighter:
                    self.emit(
                        "request-max-raised" if upper else "request-min-lowered", where, detail
                    )
                elif before is None:
                    self.emit("request-max-added" if upper else "request-min-added", where, detail)
                else:
                    self.emit(
                        "request-max-lowered" if upper else "request-min-raised", where, detail
                    )
            else:
                rule = "response-range-narrowed" if tighter else "response-range-widened"
                self.emit(rule, where, detail)

    def _pattern(self, old: Mapping[str, Any], new: Mapping[str, Any], at: str) -> None:
        before, after = old.get("pattern"), new.get("pattern")
        if before == after:
            return
        where = _ptr(at, "pattern")
        if before is None:
            self.emit("request-pattern-added", where, f"pattern {after!r}")
        elif after is None:
            self.emit("request-pattern-removed", where, f"pattern {before!r} removed")
        else:
            self.emit("request-pattern-changed", where, f"{before!r} -> {after!r}")

    def _properties(
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        old_at: str,
        new_at: str,
        direction: Direction,
    ) -> None:
        old_props = old.get("properties") or {}
        new_props = new.get("properties") or {}
        old_required = set(old.get("required") or [])
        new_required = set(new.get("required") or [])
        added = [name for name in new_props if name not in old_props]
        removed = [name for name in old_props if name not in new_props]
        renamed: dict[str, str] = {}
        aliased: dict[str, str] = {}
        if direction == "response":
            for name in added:
                # The spec says it: the new property keeps the removed name as an alias.
                prop = new_props[name]
                alias = prop.get("x-deprecated-alias") if isinstance(prop, Mapping) else None
                if isinstance(alias, str) and alias in removed:
                    aliased[alias] = name
            for name in removed:
                twin = aliased.get(name) or self._renamed_to(old_props[name], new_props, added)
                if twin is not None and twin not in renamed.values():
                    renamed[name] = twin
        for name in added:
            if name in renamed.values():
                continue
            where = _ptr(new_at, "properties", name)
            if direction == "request":
                rule = (
                    "request-property-required-added"
                    if name in new_required
                    else "request-property-optional-added"
                )
                self.emit(rule, where, f"{name!r} added")
            else:
                self.emit("response-property-added", where, f"{name!r} added")
        for name in removed:
            where = _ptr(old_at, "properties", name)
            if direction == "request":
                self.emit("request-property-removed", where, f"{name!r} removed")
            elif name in aliased:
                self.emit(
                    "response-property-renamed-with-alias",
                    where,
                    f"{name!r} renamed to {renamed[name]!r}, kept as its deprecated alias",
                )
            elif name in renamed:
                self.emit(
                    "response-property-renamed", where, f"{name!r} renamed to {renamed[name]!r}"
                )
            elif name in old_required:
                self.emit("response-property-required-removed", where, f"{name!r} removed")
            else:
                self.emit("response-property-optional-removed", where, f"{name!r} removed")
        for name in new_props:
            if name not in old_props:
                continue
            where = _ptr(new_at, "properties", name)
            was, now = name in old_required, name in new_required
            if _deprecated(self.new, new_props[name]) and not _deprecated(
                self.old, old_props[name]
            ):
                self.emit(f"{direction}-property-deprecated", where, f"{name!r} deprecated")
            if now and not was:
                self.emit(f"{direction}-property-made-required", where, f"{name!r} now required")
            elif was and not now:
                self.emit(f"{direction}-property-made-optional", where, f"{name!r} now optional")
            self._schema(
                old_props[name], new_props[name], _ptr(old_at, "properties", name), where, direction
            )

    def _renamed_to(
        self, old_prop: Any, new_props: Mapping[str, Any], added: list[str]
    ) -> str | None:
        """An added property with the same schema (description aside) as a removed one."""

        def shape(doc: Mapping[str, Any], schema: Any) -> str:
            schema, _ = self._deref(doc, schema, "")
            if not isinstance(schema, Mapping):
                return _show(schema)
            return _show({k: v for k, v in schema.items() if k not in ("description", "example")})

        old_shape = shape(self.old, old_prop)
        matches = [name for name in added if shape(self.new, new_props[name]) == old_shape]
        return matches[0] if len(matches) == 1 else None

    def _variants(  # noqa: PLR0917
        self,
        old: Mapping[str, Any],
        new: Mapping[str, Any],
        old_at: str,
        new_at: str,
        keyword: str,
        direction: Direction,
    ) -> None:
        old_list, new_list = old.get(keyword) or [], new.get(keyword) or []
        for i in range(min(len(old_list), len(new_list))):
            self._schema(
                old_list[i],
                new_list[i],
                _ptr(old_at, keyword, i),
                _ptr(new_at, keyword, i),
                direction,
            )
        if keyword == "allOf":
            return
        where = _ptr(new_at, keyword)
        if len(new_list) < len(old_list):
            self.emit(
                f"{direction}-variant-removed",
                where,
                f"{keyword} {len(old_list)} -> {len(new_list)}",
            )
        elif len(new_list) > len(old_list) and old_list:
            self.emit(
                f"{direction}-variant-added", where, f"{keyword} {len(old_list)} -> {len(new_list)}"
            )


def _deprecated(doc: Mapping[str, Any], schema: Any) -> bool:
    """Whether a property says `deprecated: true`, beside a `$ref` or in the schema it names."""
    if not isinstance(schema, Mapping):
        return False
    target, _ = _Differ._deref(doc, schema, "")
    return bool(schema.get("deprecated")) or (
        isinstance(target, Mapping) and bool(target.get("deprecated"))
    )


def diff_specs(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[Change]:
    """Every change from `old` to `new`, most severe first."""
    return _Differ(old, new).run()
