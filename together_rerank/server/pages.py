"""The server's description of itself: the spec at /openapi.json and /openapi.yaml, and a
human-readable API page of it at / and /docs.

The page is HTML written here from the spec once, when the app is built: no script, no
stylesheet or font from elsewhere, so it works offline and shows the same in any browser
(or `curl`). It lists every operation of the spec under the paths this server answers
(`/v1/...`), with its request and response schemas and examples.
"""

from __future__ import annotations

import html
import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

__all__ = ["PAGE_PATHS", "SPEC_PATHS", "load_spec_text", "render_page", "routes"]

SPEC_NAME = "openapi.yaml"
PAGE_PATHS = ("/", "/docs")
SPEC_PATHS = ("/openapi.json", "/openapi.yaml")
# The prefix the page shows paths under; the server answers without it too.
API_PREFIX = "/v1"
_METHODS = ("get", "put", "post", "delete", "patch", "head", "options")


def load_spec_text() -> str:
    """openapi.yaml as shipped: inside an installed wheel, else at the checkout's root."""
    packaged = resources.files("together_rerank").joinpath(SPEC_NAME)
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / SPEC_NAME).read_text(encoding="utf-8")


def routes(spec_text: str | None = None) -> list[Route]:
    """GET routes for the spec and its page, rendered now (a spec that does not parse fails
    here, when the server starts, not on a request)."""
    text = load_spec_text() if spec_text is None else spec_text
    spec = yaml.safe_load(text)
    if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
        raise ValueError(f"{SPEC_NAME} is not an OpenAPI document (no 'paths' mapping)")
    as_json = json.dumps(spec, ensure_ascii=False, indent=2).encode()
    as_yaml = text.encode()
    page = render_page(spec).encode()

    def fixed(body: bytes, media_type: str) -> Any:
        async def endpoint(request: Request) -> Response:
            return Response(body, media_type=media_type)

        return endpoint

    served = [Route(path, fixed(page, "text/html; charset=utf-8")) for path in PAGE_PATHS]
    served.append(Route("/openapi.json", fixed(as_json, "application/json")))
    served.append(Route("/openapi.yaml", fixed(as_yaml, "application/yaml")))
    return served


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation) for every operation of the spec, in its order."""
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        if isinstance(item, dict)
        for method, operation in item.items()
        if method in _METHODS and isinstance(operation, dict)
    ]


def operation_anchor(method: str, path: str, operation: dict[str, Any]) -> str:
    """The id of an operation's section: its operationId, else method and path."""
    name = operation.get("operationId") or f"{method}-{path}"
    return "op-" + re.sub(r"[^A-Za-z0-9_-]+", "-", str(name)).strip("-")


def render_page(spec: dict[str, Any]) -> str:
    """The whole page, one self-contained HTML document."""
    info = spec.get("info") or {}
    title = str(info.get("title", "API"))
    found = operations(spec)
    schemas = (spec.get("components") or {}).get("schemas") or {}
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<header><h1>{_e(title)} <small>{_e(info.get('version', ''))}</small></h1>",
        _text(info.get("description")),
        '<p class="spec">The spec: <a href="/openapi.json">/openapi.json</a> · '
        '<a href="/openapi.yaml">/openapi.yaml</a> · '
        '<a href="/health">/health</a></p>',
        '<nav><h2>Operations</h2><ul id="operations">',
    ]
    for method, path, operation in found:
        parts.append(
            f'<li><a href="#{operation_anchor(method, path, operation)}">'
            f'<span class="method">{_e(method)}</span> <code>{_e(API_PREFIX + path)}</code></a>'
            f" {_e(operation.get('summary', ''))}</li>"
        )
    parts.append("</ul></nav></header><main>")
    responses = (spec.get("components") or {}).get("responses") or {}
    for method, path, operation in found:
        parts.append(_operation(method, path, operation, responses))
    if schemas:
        parts.append('<section id="schemas"><h2>Schemas</h2>')
        for name, schema in schemas.items():
            parts.append(_schema_section(str(name), schema))
        parts.append("</section>")
    parts.append("</main></body></html>")
    return "\n".join(parts)


def _operation(method: str, path: str, operation: dict[str, Any], shared: dict[str, Any]) -> str:
    anchor = operation_anchor(method, path, operation)
    out = [
        f'<section class="operation" id="{anchor}" data-method="{_e(method)}" '
        f'data-path="{_e(API_PREFIX + path)}">',
        f'<h2><span class="method">{_e(method)}</span> <code>{_e(API_PREFIX + path)}</code></h2>',
        f"<p><strong>{_e(operation.get('summary', ''))}</strong></p>",
        _text(operation.get("description")),
    ]
    body = operation.get("requestBody")
    if isinstance(body, dict):
        out.append("<h3>Request body</h3>")
        out.append(_text(body.get("description")))
        for media, content in (body.get("content") or {}).items():
            out.append(f"<p>{_e(media)}: {_schema_ref(content.get('schema'))}</p>")
            for name, example in (content.get("examples") or {}).items():
                summary = example.get("summary", name) if isinstance(example, dict) else name
                value = example.get("value") if isinstance(example, dict) else example
                out.append(f"<p>Example: {_e(summary)}</p>{_json_block(value)}")
            if "example" in content:
                out.append(f"<p>Example</p>{_json_block(content['example'])}")
    out.append("<h3>Responses</h3><table><tr><th>Status</th><th>Description</th></tr>")
    for status, given in (operation.get("responses") or {}).items():
        response = given
        if isinstance(given, dict) and isinstance(given.get("$ref"), str):
            # A shared response (#/components/responses/NAME): shown as it is defined.
            response = shared.get(given["$ref"].rsplit("/", 1)[-1], given)
        if isinstance(response, dict):
            schemas = [
                _schema_ref(content.get("schema"))
                for content in (response.get("content") or {}).values()
                if isinstance(content, dict)
            ]
            described = _e(response.get("description", "")) + (
                f" ({', '.join(schemas)})" if schemas else ""
            )
        else:
            described = ""
        out.append(f"<tr><td><code>{_e(status)}</code></td><td>{described}</td></tr>")
    out.append("</table></section>")
    return "\n".join(out)


def _schema_section(name: str, schema: Any) -> str:
    out = [f'<section class="schema" id="schema-{_e(name)}"><h3>{_e(name)}</h3>']
    if isinstance(schema, dict):
        out.append(_text(schema.get("description")))
        properties = schema.get("properties")
        if isinstance(properties, dict) and properties:
            required = set(schema.get("required") or [])
            out.append(
                "<table><tr><th>Field</th><th>Type</th><th>Required</th><th>Description</th></tr>"
            )
            for field, prop in properties.items():
                described = prop.get("description", "") if isinstance(prop, dict) else ""
                out.append(
                    f"<tr><td><code>{_e(field)}</code></td><td>{_type(prop)}</td>"
                    f"<td>{'yes' if field in required else ''}</td>"
                    f"<td>{_inline(described)}</td></tr>"
                )
            out.append("</table>")
        else:
            out.append(f"<p>Type: {_type(schema)}</p>")
    out.append("</section>")
    return "\n".join(out)


def _type(schema: Any) -> str:
    """A schema in a few words: its type, item type, alternatives, limits."""
    if not isinstance(schema, dict):
        return ""
    if "$ref" in schema:
        return _schema_ref(schema)
    for combiner in ("oneOf", "anyOf", "allOf"):
        if isinstance(schema.get(combiner), list):
            joiner = " and " if combiner == "allOf" else " or "
            return joiner.join(_type(option) for option in schema[combiner])
    kind = schema.get("type", "")
    kinds = " or ".join(map(str, kind)) if isinstance(kind, list) else str(kind)
    if kinds == "array" and "items" in schema:
        kinds = f"array of {_type(schema['items'])}"
    limits = [
        f"{word} {schema[key]}"
        for key, word in (
            ("minimum", ">="),
            ("maximum", "<="),
            ("minItems", "items >="),
            ("maxItems", "items <="),
            ("minLength", "length >="),
            ("maxLength", "length <="),
        )
        if key in schema
    ]
    if "enum" in schema:
        limits.append("one of " + ", ".join(map(str, schema["enum"])))
    if "const" in schema:
        limits.append(f"= {schema['const']}")
    return _e(kinds) + (f" ({_e(', '.join(limits))})" if limits else "")


def _schema_ref(schema: Any) -> str:
    if isinstance(schema, dict) and isinstance(schema.get("$ref"), str):
        ref: str = schema["$ref"]
        name = ref.rsplit("/", 1)[-1]
        if ref.startswith("#/components/schemas/"):
            return f'<a href="#schema-{_e(name)}">{_e(name)}</a>'
        return _e(name)
    return _type(schema)


def _json_block(value: Any) -> str:
    return f"<pre>{_e(json.dumps(value, ensure_ascii=False, indent=2))}</pre>"


def _text(value: Any) -> str:
    """A spec description: paragraphs and `*` lists, with `code` spans."""
    if not value:
        return ""
    out = []
    for paragraph in re.split(r"\n\s*\n", str(value).strip()):
        items = re.split(r"(?:^|\n)\s*[*-] ", paragraph)
        if len(items) > 1 and not items[0].strip():
            out.append("<ul>" + "".join(f"<li>{_inline(i)}</li>" for i in items[1:]) + "</ul>")
        elif paragraph.strip():
            out.append(f"<p>{_inline(paragraph)}</p>")
    return "".join(out)


def _inline(value: Any) -> str:
    return re.sub(r"`([^`]+)`", r"<code>\1</code>", _e(value))


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


_STYLE = """
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
h1 small{font-size:.6em;color:#666}code,pre{font-family:ui-monospace,monospace}
pre{background:#f5f5f5;padding:.6rem;overflow:auto}
.method{display:inline-block;min-width:3.5rem;padding:0 .3rem;border-radius:3px;
background:#2b6cb0;color:#fff;font-size:.8em;text-align:center}
section.operation{border-top:1px solid #ddd;margin-top:1.5rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.2rem .5rem;
text-align:left;vertical-align:top}
"""
