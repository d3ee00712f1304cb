"""Hand-written request checks against openapi.yaml, with precise messages.

Every failure is a 400 `invalid_request_error` whose ``param`` names the field
at fault (``top_n``, ``documents[3]``, ``rank_fields[0]``...), except the
media-type check (415). Decisions the spec leaves open:

* ``top_n: 1.0`` is accepted as 1: the spec is OpenAPI 3.1, whose JSON Schema
  counts any number with a zero fractional part as an integer. ``1.5`` and
  booleans (``true`` is not an integer) are rejected.
* Optional fields sent as ``null`` are rejected: the spec types them without
  ``null``, and clients are meant to leave unset fields out.
* Unknown top-level fields are ignored, for forward compatibility.
* Beyond the schema: ``rank_fields`` with string documents, and a
  ``rank_fields`` entry that no document has, are rejected; so are more than
  the configured number of documents or inputs, and (`check_rerank_work`) a
  query too long or too costly to score against that many documents.
* The body must be UTF-8 JSON (a leading byte-order mark is tolerated).
  ``NaN``/``Infinity`` literals, numbers that overflow a double, integers over
  4,300 digits, unpaired UTF-16 surrogate escapes (``"\\ud800"``, which could
  not be echoed back as UTF-8) and nesting deeper than Python's recursion limit
  are rejected with 400 rather than crashing the server.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from together_rerank._spec_checks import find_violations, spec_limit
from together_rerank.server.errors import APIError, echo
from together_rerank.server.text import words

_MEDIA_TYPE = "application/json"
_UTF8 = {"utf-8", "utf8"}
# Only bodies containing a surrogate escape need the full walk for lone surrogates.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class RerankParams:
    """A validated rerank request."""

    model: str
    query: str
    documents: list[str] | list[dict[str, Any]]
    top_n: int | None
    return_documents: bool
    rank_fields: tuple[str, ...] | None


@dataclass(frozen=True)
class EmbeddingsParams:
    """A validated embeddings request."""

    model: str
    inputs: list[str]


class _BadNumber(ValueError):
    pass


def _reject_constant(name: str) -> float:
    raise _BadNumber(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise _BadNumber(f"the number {text[:40]} is out of range")
    return value


def json_type(value: Any) -> str:
    """Name the JSON type of a decoded value, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _got(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f"the string {echo(value)}"
    if isinstance(value, int | float):
        text = repr(value)
        return text if len(text) <= 40 else text[:40] + "..."
    return f"an {json_type(value)}"


_NOTHING: Any = object()


def _invalid(
    param: str, message: str, *, got: Any = _NOTHING, code: str = "invalid_type"
) -> APIError:
    suffix = "" if got is _NOTHING else f", got {_got(got)}"
    return APIError(400, f"{param}: {message}{suffix}", param=param, code=code)


def _over_limit(param: str, limit: int, unit: str, got: int, code: str) -> APIError:
    return APIError(
        400, f"{param}: at most {limit} {unit} are accepted, got {got}", param=param, code=code
    )


def _missing(param: str) -> APIError:
    return APIError(400, f"{param}: is required", param=param, code="missing_required_field")


def check_content_type(value: str | None) -> None:
    """Accept ``application/json`` (any case, UTF-8 charset optional); otherwise raise 415."""
    media_type, *params = (value or "").split(";")
    charset_ok = True
    for param in params:
        key, _, val = param.partition("=")
        if key.strip().lower() == "charset":
            charset_ok = val.strip().strip('"').lower() in _UTF8
    if media_type.strip().lower() != _MEDIA_TYPE or not charset_ok:
        shown = echo(value) if value else "none"
        raise APIError(
            415,
            f"Content-Type must be application/json (UTF-8), got {shown}",
            param=None,
            code="unsupported_media_type",
        )


def _has_lone_surrogate(value: Any) -> bool:
    # Iterative: the document may be nested close to the recursion limit.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _LONE_SURROGATE.search(item):
                return True
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return False


def parse_body(body: bytes) -> dict[str, Any]:
    """Decode a request body that must be one UTF-8 JSON object."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise APIError(
            400,
            f"request body is not valid UTF-8 (bad byte at offset {exc.start})",
            code="invalid_encoding",
        ) from None
    text = text.removeprefix("\ufeff")
    try:
        value = json.loads(text, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError:
        raise APIError(
            400, "request body is not valid JSON: nested too deeply", code="invalid_json"
        ) from None
    except json.JSONDecodeError as exc:
        raise APIError(400, f"request body is not valid JSON: {exc}", code="invalid_json") from None
    except _BadNumber as exc:
        raise APIError(400, f"request body is not valid JSON: {exc}", code="invalid_json") from None
    except ValueError:
        # Python refuses integers longer than sys.get_int_max_str_digits().
        raise APIError(
            400, "request body is not valid JSON: an integer is too long", code="invalid_json"
        ) from None
    if not isinstance(value, dict):
        raise APIError(
            400, f"request body must be a JSON object, got {_got(value)}", code="invalid_json"
        )
    if _SURROGATE_ESCAPE.search(text) and _has_lone_surrogate(value):
        raise APIError(
            400,
            "request body contains an unpaired UTF-16 surrogate escape",
            code="invalid_encoding",
        )
    return value


def require_model(obj: dict[str, Any]) -> str:
    """Return the request's ``model``: a non-empty string."""
    if "model" not in obj:
        raise _missing("model")
    model = obj["model"]
    if not isinstance(model, str):
        raise _invalid("model", "must be a string", got=model)
    if not model:
        raise _invalid("model", "must not be empty", code="invalid_value")
    return model


def _string(obj: dict[str, Any], name: str) -> str:
    if name not in obj:
        raise _missing(name)
    value = obj[name]
    if not isinstance(value, str):
        raise _invalid(name, "must be a string", got=value)
    return value


# The spec's, from the generated `_spec`: a `make generate` moves it, not a hand edit.
_TOP_N_MIN = spec_limit("RerankRequest", "top_n", "minimum")


def _top_n(value: Any) -> int:
    message = "must be an integer" + ("" if _TOP_N_MIN is None else f" >= {_TOP_N_MIN}")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _invalid("top_n", message, got=value)
    if isinstance(value, float):
        if not value.is_integer():
            raise _invalid("top_n", message, got=value, code="invalid_value")
        value = int(value)
    if _TOP_N_MIN is not None and value < _TOP_N_MIN:
        raise _invalid("top_n", message, got=value, code="invalid_value")
    top_n: int = value
    return top_n


def _documents(value: Any, max_documents: int) -> list[str] | list[dict[str, Any]]:
    if not isinstance(value, list):
        raise _invalid("documents", "must be an array of strings or an array of objects", got=value)
    if not value:
        raise _invalid("documents", "must contain at least one document", code="invalid_value")
    if len(value) > max_documents:
        raise _over_limit("documents", max_documents, "documents", len(value), "too_many_documents")
    first = value[0]
    if not isinstance(first, str | dict):
        raise _invalid("documents[0]", "must be a string or an object", got=first)
    kind = str if isinstance(first, str) else dict
    for i, item in enumerate(value):
        if isinstance(item, kind):
            continue
        param = f"documents[{i}]"
        if isinstance(item, str | dict):
            this, first_kind = (
                ("an object", "a string") if kind is str else ("a string", "an object")
            )
            raise APIError(
                400,
                f"{param}: is {this} but documents[0] is {first_kind}; "
                "documents must be all strings or all objects",
                param=param,
                code="mixed_document_types",
            )
        raise _invalid(param, "must be a string or an object", got=item)
    return value


def _rank_fields(value: Any, documents: list[str] | list[dict[str, Any]]) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise _invalid("rank_fields", "must be an array of field names", got=value)
    if not value:
        raise _invalid("rank_fields", "must name at least one field", code="invalid_value")
    for i, name in enumerate(value):
        if not isinstance(name, str):
            raise _invalid(f"rank_fields[{i}]", "must be a string", got=name)
    if isinstance(documents[0], str):
        raise _invalid(
            "rank_fields",
            "only applies to object documents, but the documents are strings",
            code="invalid_value",
        )
    fields = tuple(dict.fromkeys(value))
    for name in fields:
        if not any(name in doc for doc in documents):
            raise _invalid(
                "rank_fields", f"no document has a field named {echo(name)}", code="unknown_field"
            )
    return fields


def validate_rerank(obj: dict[str, Any], *, max_documents: int) -> RerankParams:
    """Check a decoded rerank body against the spec's ``RerankRequest``."""
    model = require_model(obj)
    query = _string(obj, "query")
    if "documents" not in obj:
        raise _missing("documents")
    documents = _documents(obj["documents"], max_documents)
    top_n = _top_n(obj["top_n"]) if "top_n" in obj else None
    return_documents = obj.get("return_documents", False)
    if not isinstance(return_documents, bool):
        raise _invalid("return_documents", "must be a boolean", got=return_documents)
    rank_fields = _rank_fields(obj["rank_fields"], documents) if "rank_fields" in obj else None
    check_spec_fields("RerankRequest", obj)
    return RerankParams(model, query, documents, top_n, return_documents, rank_fields)


def validate_embeddings(obj: dict[str, Any], *, max_inputs: int) -> EmbeddingsParams:
    """Check a decoded embeddings body against the spec's ``EmbeddingsRequest``."""
    model = require_model(obj)
    if "input" not in obj:
        raise _missing("input")
    value = obj["input"]
    if isinstance(value, str):
        check_spec_fields("EmbeddingsRequest", obj)
        return EmbeddingsParams(model, [value])
    if not isinstance(value, list):
        raise _invalid("input", "must be a string or an array of strings", got=value)
    if not value:
        raise _invalid("input", "must contain at least one text", code="invalid_value")
    if len(value) > max_inputs:
        raise APIError(
            400,
            f"input: at most {max_inputs} texts are accepted per request, got {len(value)}",
            param="input",
            code="too_many_inputs",
        )
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _invalid(f"input[{i}]", "must be a string", got=item)
    check_spec_fields("EmbeddingsRequest", obj)
    return EmbeddingsParams(model, value)


def check_rerank_work(
    query: str, documents: int, *, max_query_chars: int, max_query_words: int, max_work: int
) -> None:
    """Refuse a rerank whose cost (query words x documents) is beyond the server's limits.

    Scoring costs about one step per query word per document in every engine,
    so this runs before any engine does; the character limit is checked first
    so that counting words is itself cheap.
    """
    if len(query) > max_query_chars:
        raise _over_limit("query", max_query_chars, "characters", len(query), "query_too_long")
    query_words = len(words(query))
    if query_words > max_query_words:
        raise _over_limit("query", max_query_words, "words", query_words, "query_too_long")
    work = max(query_words, 1) * documents
    if work > max_work:
        raise APIError(
            400,
            f"documents: {query_words} query words x {documents} documents = {work:,} is over "
            f"this server's limit of {max_work:,} per request; send fewer documents per "
            "request or a shorter query",
            param="documents",
            code="too_much_work",
        )


def check_request_tokens(tokens: int, limit: int, param: str) -> None:
    """Refuse a request whose model tokens are over the server's limit, before any model runs.

    A model engine counts the tokens its model would read (every window, and a
    cross-encoder's query once per window); a lexical engine counts ``usage``.
    """
    if tokens > limit:
        raise APIError(
            400,
            f"{param}: this request needs {tokens:,} model tokens, over this server's limit of "
            f"{limit:,} per request; send fewer or shorter texts per request",
            param=param,
            code="too_many_tokens",
        )


def check_spec_fields(schema: str, obj: dict[str, Any]) -> None:
    """The spec's types and limits (from the generated `_spec`), for what the checks above miss."""
    for violation in find_violations(schema, obj, integral_floats=True):
        code = "invalid_type" if violation.wrong_type else "invalid_value"
        raise _invalid(violation.param, violation.message, code=code)
