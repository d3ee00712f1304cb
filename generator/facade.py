"""Write the facade's typed surface from openapi.yaml: models, create() signatures, CLI options.

`make generate` runs this after the low-level client; `make check-generated`
writes it into a scratch folder and fails when a committed file differs.

    python -m generator.facade openapi.yaml OUT_ROOT

writes, under OUT_ROOT (the repository root, or a scratch folder):

* together_rerank/types/_models.py: a pydantic model per component schema the
  facade's operations send or receive, and one per inline object property
  (named parent + property, e.g. `RerankResponseMeta`);
* together_rerank/resources/_signatures.py: mixins with the typed keyword
  signatures of `rerank.create`, `rerank.create_many` and `embeddings.create`
  (sync and async) that put every request property given into one body dict
  and call one hand-written method, so no typed parameter can miss the wire;
* together_rerank/cli/_options.py: the CLI options of the optional request
  properties of `rerank`.

Why a generator of its own rather than templates of openapi-python-client or
datamodel-code-generator: see docs/regeneration.md. The decisions the spec
cannot express (the seed SDK's public names and its v1 field types, the
facade's own parameters) are the tables below, each entry with its reason.
"""

from __future__ import annotations

import keyword
import re
import subprocess
import sys
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

GENERATED = "generated from openapi.yaml by generator/facade.py (`make generate`): do not edit"
WIDTH = 100


def _docstring(text: str, indent: str) -> list[str]:
    """A docstring of `text` at `indent`, wrapped to the line length."""
    lines = textwrap.wrap(text, WIDTH - len(indent) - 6, break_on_hyphens=False)
    if len(lines) <= 1:
        return [f'{indent}"""{text}"""']
    return [f'{indent}"""{lines[0]}', *(f"{indent}{line}" for line in lines[1:]), f'{indent}"""']


def _hanging(text: str, indent: str) -> list[str]:
    """`name: text` lines of an Args section, continuation lines indented further."""
    return textwrap.wrap(
        text,
        WIDTH,
        initial_indent=indent,
        subsequent_indent=indent + "    ",
        break_on_hyphens=False,
    )


# operationId -> the facade resource serving it; other operations are not in the facade.
FACADE_OPERATIONS = {"rerank": "Rerank", "embeddings": "Embeddings"}

# Component schema -> public name, where the seed SDK's name differs from the spec's.
PUBLIC_NAMES = {"RerankResult": "RerankChoicesData"}

# The seed (v1) SDK's types for fields whose generic mapping would change its public API
# (schema, property) -> (annotation, default or REQUIRED). Everything else follows the spec.
REQUIRED = object()
V1_FIELDS: dict[tuple[str, str], tuple[str, object]] = {
    # Strings or objects, never a mix: two list types, not a list of a union.
    ("RerankRequest", "documents"): ("list[str] | list[dict[str, Any]]", REQUIRED),
    # "Absent means false" (the spec's description): the v1 default.
    ("RerankRequest", "return_documents"): ("bool", "False"),
    # Strict: a server sending "1", 1.0 or true for an index (or "0.5" for a score)
    # is broken, and coercing would hide it.
    ("RerankResult", "index"): ("StrictInt", REQUIRED),
    ("RerankResult", "relevance_score"): ("StrictFloat", REQUIRED),
    # v1 types a returned document as a dict ({"text": ...}).
    ("RerankResult", "document"): ("dict[str, Any] | None", "None"),
    # Tolerated when missing (servers that omit them), checked when present.
    ("RerankResponse", "object"): ('Literal["rerank"] | None', "None"),
    ("RerankResponse", "model"): ("str | None", "None"),
    # Never None, so callers need no check; a response without results still raises
    # (the ranking check reads `model_fields_set`).
    ("RerankResponse", "results"): ("list[RerankChoicesData]", "Field(default_factory=list)"),
    ("EmbeddingsResponse", "object"): ('Literal["list"] | None', "None"),
    ("EmbeddingsResponse", "model"): ("str | None", "None"),
    ("EmbeddingData", "object"): ('Literal["embedding"] | None', "None"),
}

# Parameter types of create() where the generic mapping (arrays -> Sequence) is too loose.
PARAMETER_TYPES = {("RerankRequest", "documents"): "Documents"}

# A parameter whose Python default is not None: sent only when it differs from it.
PARAMETER_DEFAULTS = {("RerankRequest", "return_documents"): "False"}

# Short CLI flags, kept from the hand-written CLI.
SHORT_FLAGS = {"top_n": "-n"}

# The facade's own parameters (not request properties), after the spec's, per method.
_TRANSPORT = (
    ("extra_headers", "Mapping[str, str] | None", "None"),
    ("extra_query", "Mapping[str, Any] | None", "None"),
    ("extra_body", "Mapping[str, Any] | None", "None"),
    ("timeout", "Timeout | None", "None"),
    ("max_retries", "int | None", "None"),
)
_BATCH = (("max_documents_per_request", "int | None", "None"),)
_MANY = (
    ("max_concurrency", "int", "8"),
    ("return_exceptions", "bool", "False"),
    ("progress", "bool | None", "None"),
)

# create_many takes many queries: these request properties change name and type there.
MANY_PARAMETERS = {
    "query": ("queries", "Sequence[str]"),
    "documents": ("documents", "Documents | Sequence[Documents]"),
}


@dataclass(frozen=True)
class Method:
    """One generated facade method: its resource, name, hand-written target and docs."""

    operation: str
    name: str
    target: str
    returns: str
    facade_parameters: tuple[tuple[str, str, str], ...]
    doc: str
    many: bool = False
    details: str = ""


METHODS = (
    Method(
        "rerank",
        "create",
        "_create_from_body",
        "RerankResponse",
        _BATCH + _TRANSPORT,
        "Rank `documents` by relevance to `query`, most relevant first.",
        details=(
            "With `max_documents_per_request` (here or on the client) and more documents\n"
            "than that, the documents are sent in contiguous batches, concurrently (at\n"
            "most the client's `max_concurrency` at once), and the answers merged: by\n"
            "`relevance_score` descending, ties by index ascending, `index` relative to\n"
            "`documents`, `top_n` applied after the merge, `usage` summed; `id` and\n"
            "`model` are the first batch's. The merge equals the unbatched answer only\n"
            "when the server scores each document on its own (cross-encoders,\n"
            "Llama-Rank); a BM25-like scorer whose statistics come from the request's\n"
            "documents scores differently per batch. If any batch fails (after its\n"
            "retries), the call raises that error, and nothing more is sent for it:\n"
            "batches not started never start, and running ones send no retry."
        ),
    ),
    Method(
        "rerank",
        "create_many",
        "_create_many_from_body",
        "list[RerankResponse | TogetherError]",
        _MANY + _BATCH + _TRANSPORT,
        "Rerank for each of `queries`, concurrently; the answers in the order of `queries`.",
        many=True,
        details=(
            "`documents` is one list shared by every query, or one list per query.\n"
            "Each query goes through `create` (batching, retries and plugins apply).\n"
            "With `return_exceptions`, a failed query's slot holds its `TogetherError`;\n"
            "otherwise the first failure stops what is outstanding and is raised. The\n"
            "async form cancels every outstanding request when it is cancelled. After\n"
            "a failure or an interrupt (Ctrl-C) nothing more is sent for the call:\n"
            "only requests already in flight finish, within the timeout."
        ),
    ),
    Method(
        "embeddings",
        "create",
        "_create_from_body",
        "EmbeddingsResponse",
        _TRANSPORT,
        "Embed one text or a list of texts; `data[i]` belongs to input `i`.",
    ),
)

FACADE_PARAMETER_DOCS = {
    "queries": "The queries; each is ranked against its documents.",
    "max_concurrency": "At most this many queries in flight at once.",
    "return_exceptions": "Put a failed query's TogetherError in its slot instead of raising.",
    "progress": "A tqdm bar on stderr (None: only when stderr is a terminal).",
    "max_documents_per_request": "Send more documents than this as batches, merged.",
    "extra_headers": "Headers added to the request.",
    "extra_query": "Query parameters added to the URL.",
    "extra_body": "Fields added to the JSON body, unchecked against typed parameters.",
    "timeout": "This call's timeout, instead of the client's.",
    "max_retries": "This call's retry budget, instead of the client's.",
}


# --- reading the spec ---------------------------------------------------------------------


class Spec:
    """The spec, with `$ref`s followed."""

    def __init__(self, doc: Mapping[str, Any]) -> None:
        self.doc = doc
        self.schemas: Mapping[str, Any] = (doc.get("components") or {}).get("schemas") or {}

    def deref(self, node: Any) -> Any:
        while isinstance(node, Mapping) and "$ref" in node:
            node = self.schemas[self.ref_name(node)]
        return node

    @staticmethod
    def ref_name(node: Mapping[str, Any]) -> str:
        return str(node["$ref"]).rsplit("/", 1)[-1]

    def operations(self) -> dict[str, Mapping[str, Any]]:
        found = {}
        for item in (self.doc.get("paths") or {}).values():
            for operation in item.values():
                if isinstance(operation, Mapping) and "operationId" in operation:
                    found[operation["operationId"]] = operation
        return found

    @staticmethod
    def _body_ref(node: Any) -> str | None:
        schema = ((node or {}).get("content") or {}).get("application/json", {}).get("schema")
        return Spec.ref_name(schema) if isinstance(schema, Mapping) and "$ref" in schema else None

    def request_schema(self, operation_id: str) -> str:
        operation = self.operations()[operation_id]
        name = self._body_ref(self.deref(operation.get("requestBody")))
        assert name is not None, f"{operation_id}: the facade needs a $ref request body"
        return name

    def response_schema(self, operation_id: str) -> str | None:
        responses = self.operations()[operation_id].get("responses") or {}
        for status in sorted(responses):
            if str(status).startswith("2"):
                return self._body_ref(self.deref(responses[status]))
        return None


def public_name(schema: str) -> str:
    return PUBLIC_NAMES.get(schema, schema)


def _camel(name: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", name))


def _first_line(text: object) -> str:
    line = " ".join(str(text or "").split())
    # The first sentence, to keep docs one line.
    match = re.match(r"(.+?\.)(\s|$)", line)
    return (match.group(1) if match else line).replace('"""', "'''").replace("\\", "\\\\")


def _is_model(schema: Mapping[str, Any]) -> bool:
    return bool(schema.get("properties"))


def _is_null(schema: Mapping[str, Any]) -> bool:
    return schema.get("type") == "null"


# --- models -------------------------------------------------------------------------------


@dataclass
class ModelField:
    name: str
    annotation: str
    default: object
    doc: str
    alias: str | None  # the old wire name (x-deprecated-alias), also accepted
    deprecated: bool


@dataclass
class Model:
    name: str
    doc: str
    request: bool
    fields: list[ModelField]


class ModelWriter:
    """Turns schemas into models: components by name, inline objects named after their place."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.models: dict[str, Model] = {}

    def component(self, name: str, *, request: bool) -> str:
        public = public_name(name)
        if public not in self.models:
            self.models[public] = Model(public, "", request, [])  # placeholder: recursion stops
            self.models[public] = self._model(public, name, self.spec.schemas[name], request)
        return public

    def _model(self, public: str, where: str, schema: Mapping[str, Any], request: bool) -> Model:
        required = set(schema.get("required") or [])
        fields = []
        for prop, raw in (schema.get("properties") or {}).items():
            prop_schema = self.spec.deref(raw) if isinstance(raw, Mapping) else {}
            override = V1_FIELDS.get((where, prop))
            if override is not None:
                annotation, default = override
                # The components the v1 type names are still generated.
                for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", annotation):
                    for component in self.spec.schemas:
                        if public_name(component) == token:
                            self.component(component, request=request)
            else:
                annotation = self.annotation(raw, f"{public}{_camel(prop)}", request=request)
                if prop in required:
                    default = REQUIRED
                else:
                    if "None" not in annotation.split(" | "):
                        annotation += " | None"
                    default = "None"
            fields.append(
                ModelField(
                    name=prop,
                    annotation=annotation,
                    default=default,
                    doc=_first_line(raw.get("description") or prop_schema.get("description")),
                    alias=raw.get("x-deprecated-alias"),
                    deprecated=bool(raw.get("deprecated") or prop_schema.get("deprecated")),
                )
            )
        return Model(public, _first_line(schema.get("description")), request, fields)

    def annotation(self, raw: Any, inline_name: str, *, request: bool) -> str:
        """The Python type of a schema; inline objects with properties become models."""
        if not isinstance(raw, Mapping):
            return "Any"
        if "$ref" in raw:
            target = self.spec.deref(raw)
            if _is_model(target):
                return self.component(self.spec.ref_name(raw), request=request)
            return self.annotation(target, inline_name, request=request)
        branches = list(raw.get("oneOf") or raw.get("anyOf") or [])
        if branches:
            parts: list[str] = []
            for i, branch in enumerate(branches):
                name = inline_name if len(branches) == 1 else f"{inline_name}{i}"
                part = self.annotation(branch, name, request=request)
                if part not in parts:
                    parts.append(part)
            return " | ".join(parts)
        declared = raw.get("type")
        kinds = declared if isinstance(declared, list) else [declared]
        parts = []
        for kind in kinds:
            part = self._scalar(raw, kind, inline_name, request=request)
            if part not in parts:
                parts.append(part)
        return " | ".join(parts)

    def _scalar(
        self, raw: Mapping[str, Any], kind: object, inline_name: str, *, request: bool
    ) -> str:
        if kind == "string":
            enum = raw.get("enum")
            if enum and all(isinstance(value, str) for value in enum):
                return "Literal[" + ", ".join(f'"{value}"' for value in enum) + "]"
            return "str"
        if kind == "integer":
            return "int"
        if kind == "number":
            return "float"
        if kind == "boolean":
            return "bool"
        if kind == "null":
            return "None"
        if kind == "array":
            item = self.annotation(raw.get("items"), f"{inline_name}Item", request=request)
            return f"list[{item}]"
        if kind == "object" or _is_model(raw):
            if _is_model(raw):
                if inline_name not in self.models:
                    self.models[inline_name] = self._model(inline_name, inline_name, raw, request)
                return inline_name
            return "dict[str, Any]"
        return "Any"


def _render_default(field: ModelField) -> str:
    if field.alias is None:
        return "" if field.default is REQUIRED else f" = {field.default}"
    # Both wire names parse; `alias` is the old name so that code constructing the
    # model with it (old code) still type-checks (dataclass_transform reads `alias`).
    aliases = (
        f'alias="{field.alias}", validation_alias=AliasChoices("{field.name}", "{field.alias}")'
    )
    if field.default is REQUIRED:
        return f" = Field({aliases})"
    if isinstance(field.default, str) and field.default.startswith("Field("):
        inner = field.default[len("Field(") : -1]
        return f" = Field({inner}, {aliases})"
    return f" = Field(default={field.default}, {aliases})"


def render_models(spec: Spec) -> str:
    writer = ModelWriter(spec)
    for operation in FACADE_OPERATIONS:
        writer.component(spec.request_schema(operation), request=True)
        response = spec.response_schema(operation)
        if response is not None:
            writer.component(response, request=False)
    # Dependencies first, so that no annotation is a forward reference at class creation.
    ordered: list[Model] = []

    def visit(name: str, seen: set[str]) -> None:
        if name in seen or name not in writer.models:
            return
        seen.add(name)
        for field in writer.models[name].fields:
            for token in re.findall(r"[A-Za-z_][A-Za-z0-9_]*", field.annotation):
                visit(token, seen)
        ordered.append(writer.models[name])

    seen: set[str] = set()
    for name in writer.models:
        visit(name, seen)
    out = [
        '"""The public request and response models.\n\n'
        f"{GENERATED.capitalize()}.\n"
        "Each model mirrors a schema of openapi.yaml; the base classes are hand-written\n"
        '(together_rerank/types/_base.py)."""\n\n'
        "from __future__ import annotations\n\n"
        "from typing import Any, Literal\n\n"
        "from pydantic import AliasChoices, Field, StrictFloat, StrictInt\n\n"
        "from ._base import RequestModel, ResponseModel, deprecated_alias\n\n"
        f"__all__ = {sorted(m.name for m in ordered)!r}\n"
    ]
    for model in ordered:
        base = "RequestModel" if model.request else "ResponseModel"
        lines = [
            f"\n\nclass {model.name}({base}):",
            *_docstring(model.doc or model.name, "    "),
            "",
        ]
        for field in model.fields:
            name = field.name
            if keyword.iskeyword(name) or not name.isidentifier():
                raise SystemExit(
                    f"{model.name}.{name}: not a Python identifier; name it in a table"
                )
            lines.append(f"    {name}: {field.annotation}{_render_default(field)}")
            doc = field.doc
            if field.deprecated:
                doc = f"Deprecated by the API. {doc}".strip()
            if doc:
                lines += _docstring(doc, "    ")
        for field in model.fields:
            if field.alias:
                lines += [
                    f'    {field.alias} = deprecated_alias("{field.alias}", "{field.name}")',
                    f'    """Deprecated: the API renamed it to `{field.name}`."""',
                ]
        out.append("\n".join(lines) + "\n")
    return "".join(out)


# --- signatures ---------------------------------------------------------------------------


@dataclass
class Parameter:
    name: str  # the Python name (create_many: queries for query)
    prop: str  # the request property
    annotation: str
    default: str | None  # None: required
    doc: str
    deprecated: bool


def request_parameters(spec: Spec, operation: str, *, many: bool) -> list[Parameter]:
    schema_name = spec.request_schema(operation)
    schema = spec.schemas[schema_name]
    required = set(schema.get("required") or [])
    writer = ModelWriter(spec)
    parameters = []
    for prop, raw in (schema.get("properties") or {}).items():
        target = spec.deref(raw)
        annotation = writer.annotation(raw, f"{schema_name}{_camel(prop)}", request=True)
        # Callers pass objects as mappings: the request models are not parameters' types.
        for model in writer.models:
            annotation = re.sub(rf"\b{model}\b", "dict[str, Any]", annotation)
        annotation = PARAMETER_TYPES.get((schema_name, prop)) or _parameter_type(annotation)
        name = prop
        if many and prop in MANY_PARAMETERS:
            name, annotation = MANY_PARAMETERS[prop]
        default = None
        if prop not in required:
            default = PARAMETER_DEFAULTS.get((schema_name, prop), "None")
            if default == "None" and "None" not in annotation.split(" | "):
                annotation += " | None"
        doc = _first_line(raw.get("description") or target.get("description"))
        deprecated = bool(raw.get("deprecated") or target.get("deprecated"))
        parameters.append(Parameter(name, prop, annotation, default, doc, deprecated))
    return parameters


def _parameter_type(annotation: str) -> str:
    """What callers may pass: any sequence for a list, any mapping for a dict."""
    annotation = re.sub(r"\blist\[", "Sequence[", annotation)
    return re.sub(r"\bdict\[", "Mapping[", annotation)


def _signature_lines(method: Method, spec: Spec, *, is_async: bool) -> list[str]:
    parameters = request_parameters(spec, method.operation, many=method.many)
    operation = spec.operations()[method.operation]
    ordered = [p for p in parameters if p.default is None] + [
        p for p in parameters if p.default is not None
    ]
    head = f"    {'async ' if is_async else ''}def {method.name}("
    lines = [head, "        self,", "        *,"]
    for p in ordered:
        default = "" if p.default is None else f" = {p.default}"
        lines.append(f"        {p.name}: {p.annotation}{default},")
    for name, annotation, default in method.facade_parameters:
        lines.append(f"        {name}: {annotation} = {default},")
    lines += ["        **kwargs: Any,", f"    ) -> {method.returns}:"]
    doc = [f'        """{method.doc}', ""]
    if method.details:
        doc += [f"        {line}" for line in method.details.splitlines()] + [""]
    doc.append("        Args:")
    for p in ordered:
        text = p.doc
        if p.deprecated:
            text = f"Deprecated by the API: using it warns. {text}".strip()
        if p.name != p.prop:
            text = f"Each is sent as `{p.prop}`. {text}".strip()
        doc += _hanging(f"{p.name}: {text}", " " * 12)
    for name, _, _ in method.facade_parameters:
        doc += _hanging(f"{name}: {FACADE_PARAMETER_DOCS[name]}", " " * 12)
    doc += _hanging(
        "**kwargs: Further body fields, checked against the spec's types and limits.", " " * 12
    )
    if operation.get("deprecated"):
        doc += ["", "        Deprecated by the API: every call warns."]
    doc.append('        """')
    lines += doc
    if operation.get("deprecated"):
        lines.append(f'        warn_deprecated("{method.operation}", None)')
    for p in ordered:
        if p.deprecated:
            sent = "is not None" if p.default in (None, "None") else f"is not {p.default}"
            lines.append(f"        if {p.name} {sent}:")
            lines.append(f'            warn_deprecated("{method.operation}", "{p.prop}")')
    body_required = [p for p in ordered if p.default is None and p.name == p.prop]
    items = ", ".join(f'"{p.prop}": {p.name}' for p in body_required)
    lines.append(f"        body: dict[str, Any] = {{{items}}}")
    for p in ordered:
        if p.default is None:
            continue
        test = "is not None" if p.default == "None" else f"is not {p.default}"
        lines.append(f"        if {p.name} {test}:")
        lines.append(f'            body["{p.prop}"] = {p.name}')
    call_args = ["body"]
    call_args += [f"{p.name}={p.name}" for p in ordered if p.name != p.prop]
    call_args += [f"{name}={name}" for name, _, _ in method.facade_parameters]
    call_args.append("kwargs=kwargs")
    await_ = "await " if is_async else ""
    lines.append(f"        return {await_}self.{method.target}(")
    lines += [f"            {arg}," for arg in call_args]
    lines.append("        )")
    return lines


def _target_lines(method: Method, spec: Spec, *, is_async: bool) -> list[str]:
    """The abstract hand-written method the generated one calls, typed for mypy."""
    parameters = request_parameters(spec, method.operation, many=method.many)
    returns = f"Awaitable[{method.returns}]" if is_async else method.returns
    lines = [
        f"    def {method.target}(",
        "        self,",
        "        body: dict[str, Any],",
        "        *,",
    ]
    for p in parameters:
        if p.name != p.prop:
            lines.append(f"        {p.name}: {p.annotation},")
    for name, annotation, _ in method.facade_parameters:
        lines.append(f"        {name}: {annotation},")
    lines += [
        "        kwargs: Mapping[str, Any],",
        f"    ) -> {returns}:",
        '        """Send the body built from the typed parameters (hand-written)."""',
        "        raise NotImplementedError",
    ]
    return lines


def render_signatures(spec: Spec) -> str:
    out = [
        '"""The typed signatures of the facade\'s create methods.\n\n'
        f"{GENERATED.capitalize()}.\n"
        "Each method collects every request property it was given into one body dict\n"
        "(an optional property left at its default is not sent) and calls the\n"
        'resource\'s hand-written `_create_from_body`-style method."""\n\n'
        "from __future__ import annotations\n\n"
        "from collections.abc import Awaitable, Mapping, Sequence\n"
        "from typing import TYPE_CHECKING, Any\n\n"
        "from .._base_client import Timeout\n"
        "from .._exceptions import TogetherError\n"
        "from ._deprecation import warn_deprecated\n\n"
        "if TYPE_CHECKING:  # pydantic loads on first use\n"
        "    from ..types import EmbeddingsResponse, RerankResponse\n\n"
        "Documents = Sequence[str] | Sequence[Mapping[str, Any]]\n\n"
        '__all__ = ["AsyncEmbeddingsSignatures", "AsyncRerankSignatures", "Documents", '
        '"EmbeddingsSignatures", "RerankSignatures"]\n'
    ]
    for is_async in (False, True):
        for operation, resource in FACADE_OPERATIONS.items():
            cls = f"{'Async' if is_async else ''}{resource}Signatures"
            lines = [
                f"\n\nclass {cls}:",
                f'    """The typed methods of `{"Async" if is_async else ""}{resource}`."""',
            ]
            for method in METHODS:
                if method.operation != operation:
                    continue
                lines.append("")
                lines += _signature_lines(method, spec, is_async=is_async)
                lines.append("")
                lines += _target_lines(method, spec, is_async=is_async)
            out.append("\n".join(lines) + "\n")
    return "".join(out)


# --- CLI options --------------------------------------------------------------------------


def render_options(spec: Spec) -> str:
    schema_name = spec.request_schema("rerank")
    writer = ModelWriter(spec)
    add_lines, value_lines = [], []
    for p in request_parameters(spec, "rerank", many=False):
        if p.default is None:
            continue  # required properties are the command's own arguments
        annotation = writer.annotation(
            spec.schemas[schema_name]["properties"][p.prop], "", request=True
        )
        kinds = set(annotation.replace(" ", "").split("|")) - {"None"}
        flags = [f'"--{p.prop.replace("_", "-")}"']
        if p.prop in SHORT_FLAGS:
            flags.append(f'"{SHORT_FLAGS[p.prop]}"')
        help_text = p.doc + (" Deprecated by the API." if p.deprecated else "")
        # Implicitly concatenated pieces: ruff keeps them within the line length.
        pieces = textwrap.wrap(help_text.replace("%", "%%"), 60, drop_whitespace=False)
        help_repr = "(" + " ".join(repr(piece) for piece in pieces) + ")"
        if kinds == {"bool"}:
            kind = 'action="store_true"'
            if p.default == "None":
                kind += ", default=None"
        elif kinds == {"int"}:
            kind = "type=int"
        elif kinds == {"float"}:
            kind = "type=float"
        elif kinds == {"str"}:
            kind = "type=str"
        elif kinds == {"list[str]"}:
            kind = 'type=comma_list, metavar="A,B"'
        else:
            continue  # objects and mixed types: through the SDK only
        add_lines.append(
            f"    parser.add_argument({', '.join(flags)}, "
            f'dest="{p.prop}", {kind}, help={help_repr})'
        )
        value_lines.append(f'        "{p.prop}": args.{p.prop},')
    return (
        '"""The `rerank` command\'s options for optional request fields.\n\n'
        f'{GENERATED.capitalize()}.\n"""\n\n'
        "from __future__ import annotations\n\n"
        "import argparse\n"
        "from typing import Any\n\n"
        '__all__ = ["add_request_options", "comma_list", "request_options"]\n\n\n'
        "def comma_list(text: str) -> list[str]:\n"
        '    """A comma-separated list; blanks around and between items dropped."""\n'
        '    return [item.strip() for item in text.split(",") if item.strip()]\n\n\n'
        "def add_request_options(parser: argparse.ArgumentParser) -> None:\n"
        '    """Add an option for each optional request field of the spec."""\n'
        + ("\n".join(add_lines) or "    pass")
        + "\n\n\ndef request_options(args: argparse.Namespace) -> dict[str, Any]:\n"
        '    """The request fields of the parsed options, as create() keyword arguments."""\n'
        "    return {\n" + "\n".join(value_lines) + "\n    }\n"
    )


# --- writing ------------------------------------------------------------------------------

OUTPUTS = {
    "together_rerank/types/_models.py": render_models,
    "together_rerank/resources/_signatures.py": render_signatures,
    "together_rerank/cli/_options.py": render_options,
}


def public_type_names(doc: Mapping[str, Any]) -> list[str]:
    """Every model `_models.py` defines (for the lazy exports of `together_rerank`)."""
    text = render_models(Spec(doc))
    return re.findall(r"^class (\w+)\(", text, re.MULTILINE)


def main(argv: list[str]) -> int:
    source, root = Path(argv[0]), Path(argv[1])
    spec = Spec(yaml.safe_load(source.read_text(encoding="utf-8")))
    written = []
    for relative, render in OUTPUTS.items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(spec), encoding="utf-8")
        written.append(str(target))
    # The pinned ruff, isolated from any config, so the bytes are the same everywhere.
    ruff = Path(sys.executable).with_name("ruff")
    for command in (
        ["check", "--isolated", "--select", "I,F401", "--fix", "--quiet"],
        ["format", "--isolated", "--line-length", "100", "--quiet"],
    ):
        subprocess.run([str(ruff), *command, *written], check=True, timeout=60)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
