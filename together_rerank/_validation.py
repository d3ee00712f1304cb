"""Checks of arguments before sending and of responses after receiving.

Shared by the sync and async clients. Argument errors name the parameter
(`documents[3]`, `documents[0]['meta']`, `top_n`) and are raised before any
network traffic; response errors raise `APIResponseValidationError` so that a
wrong ranking is never returned silently.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable, Mapping, Sequence
from itertools import chain, islice
from operator import attrgetter
from typing import TYPE_CHECKING

import httpx

from ._exceptions import APIResponseValidationError, InvalidArgumentError, InvalidArgumentTypeError
from ._spec_checks import find_violations, passes, spec_limit

if TYPE_CHECKING:
    from .types import EmbeddingsResponse, RerankResponse

__all__ = [
    "are_plain_json_objects",
    "check_embeddings_args",
    "check_embeddings_response",
    "check_json_value",
    "check_model",
    "check_ranking_order",
    "check_rerank_args",
    "check_rerank_response",
    "check_spec_fields",
    "check_text",
    "find_invalid_json",
    "is_plain_json",
]

# Deeper than this is almost surely a bug, and it is where servers' JSON
# parsers start failing; refuse it here with a clear message instead.
MAX_JSON_DEPTH = 64
# The spec's, from the generated `_spec`: a `make generate` moves it, not a hand edit.
_TOP_N_MIN = spec_limit("RerankRequest", "top_n", "minimum")


def _type_name(value: object) -> str:
    return type(value).__name__


def check_model(model: object) -> None:
    if not isinstance(model, str):
        raise InvalidArgumentTypeError("model", f"must be a string, not {_type_name(model)}")
    if not model.strip():
        raise InvalidArgumentError("model", "must not be empty")
    check_text("model", model)


def check_text(param: str, value: str) -> None:
    """Refuse lone surrogates: they cannot be encoded as UTF-8, so no server could read them."""
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise InvalidArgumentError(
                param, f"contains an invalid unicode code point at position {exc.start}"
            ) from None


def check_json_value(param: str, value: object, depth: int = 0) -> None:
    """Raise unless `value` is plain JSON: str, int, finite float, bool, None, list, dict."""
    if depth > MAX_JSON_DEPTH:
        raise InvalidArgumentError(param, f"is nested more than {MAX_JSON_DEPTH} levels deep")
    if isinstance(value, str):
        check_text(param, value)
    elif value is None or isinstance(value, bool | int):
        pass
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidArgumentError(param, f"{value!r} is not a valid JSON number")
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if not isinstance(key, str):
                raise InvalidArgumentTypeError(
                    param, f"has a key of type {_type_name(key)}; JSON object keys are strings"
                )
            check_text(f"{param} key {key!r}", key)
            check_json_value(f"{param}[{key!r}]", item, depth + 1)
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            check_json_value(f"{param}[{i}]", item, depth + 1)
    else:
        raise InvalidArgumentTypeError(param, f"{_type_name(value)} is not JSON-serializable")


# Exact builtin types only: subclasses and other Mappings take the careful path.
_JSON_SCALARS = frozenset({str, int, bool, type(None)})
_STR = frozenset({str})
_DICT = frozenset({dict})
_INDEX = attrgetter("index")
_SCORE = attrgetter("relevance_score")


def is_plain_json(value: object, depth: int = 0) -> bool:
    """Quickly tell that `value` is plain JSON; False means "look closer" with `check_json_value`.

    Strings are not searched for lone surrogates here: the encoder refuses
    them, and `find_invalid_json` then names the culprit.
    """
    kind = type(value)
    if kind in _JSON_SCALARS:
        return True
    if kind is float:
        return math.isfinite(value)  # type: ignore[arg-type]
    if depth >= MAX_JSON_DEPTH:
        return False
    if kind is dict:
        obj: dict[object, object] = value  # type: ignore[assignment]
        if obj and set(map(type, obj)) != _STR:
            return False
        # Most documents are flat: one C-level pass over the value types settles them.
        if set(map(type, obj.values())) <= _JSON_SCALARS:
            return True
        return all(is_plain_json(item, depth + 1) for item in obj.values())
    if kind is list or kind is tuple:
        items: list[object] = value  # type: ignore[assignment]
        return all(is_plain_json(item, depth + 1) for item in items)
    return False


def are_plain_json_objects(objects: Sequence[object]) -> bool:
    """`is_plain_json` for a list of dicts, with the common flat case settled in C-level passes."""
    if set(map(type, objects)) != _DICT:
        return False
    dicts: Sequence[dict[object, object]] = objects  # type: ignore[assignment]
    if not set(map(type, chain.from_iterable(dicts))) <= _STR:
        return False
    if set(map(type, chain.from_iterable(map(dict.values, dicts)))) <= _JSON_SCALARS:
        return True
    return all(is_plain_json(obj, depth=1) for obj in dicts)


def find_invalid_json(body: Mapping[str, object]) -> None:
    """Raise `InvalidArgumentError` naming the first part of `body` that is not encodable JSON."""
    for key, value in body.items():
        check_text(f"argument name {key!r}", key)
        check_json_value(key, value)


def check_rerank_args(
    *,
    model: object,
    query: object,
    documents: object,
    top_n: object,
    return_documents: object,
    rank_fields: object,
    extra: Mapping[str, object],
) -> None:
    """Validate `rerank.create` arguments; raise `InvalidArgumentError` naming the first bad one."""
    check_model(model)
    if not isinstance(query, str):
        raise InvalidArgumentTypeError("query", f"must be a string, not {_type_name(query)}")
    check_text("query", query)
    _check_documents(documents)
    assert isinstance(documents, list | tuple)
    if top_n is not None and (not isinstance(top_n, int) or isinstance(top_n, bool)):
        raise InvalidArgumentTypeError("top_n", f"must be an integer, not {_type_name(top_n)}")
    if isinstance(top_n, int) and _TOP_N_MIN is not None and top_n < _TOP_N_MIN:
        raise InvalidArgumentError("top_n", f"must be >= {_TOP_N_MIN}, got {top_n}")
    if not isinstance(return_documents, bool):
        raise InvalidArgumentTypeError(
            "return_documents", f"must be a bool, not {_type_name(return_documents)}"
        )
    if rank_fields is not None:
        _check_rank_fields(rank_fields, documents)
    for key, value in extra.items():
        check_text(f"argument name {key!r}", key)
        check_json_value(key, value)
    check_spec_fields(
        "RerankRequest",
        {
            **extra,
            "model": model,
            "query": query,
            "documents": documents,
            "top_n": top_n,
            "rank_fields": rank_fields,
        },
    )


def _check_documents(documents: object) -> None:
    if isinstance(documents, str | bytes) or not isinstance(documents, list | tuple):
        raise InvalidArgumentTypeError(
            "documents", f"must be a list of strings or of dicts, not {_type_name(documents)}"
        )
    if not documents:
        raise InvalidArgumentError("documents", "must not be empty")
    first = documents[0]
    kind: type
    if isinstance(first, str):
        # Lone surrogates in the texts are left to the encoder (see `find_invalid_json`).
        if set(map(type, documents)) == _STR:
            return
        kind, kind_name = str, "a string"
    elif isinstance(first, Mapping):
        if are_plain_json_objects(documents):
            return
        kind, kind_name = Mapping, "a dict"
    else:
        raise InvalidArgumentTypeError(
            "documents[0]", f"must be a string or a dict, not {_type_name(first)}"
        )
    # The fast checks failed: find the first culprit, to name it.
    for i, doc in enumerate(documents):
        if not isinstance(doc, kind):
            raise InvalidArgumentTypeError(
                f"documents[{i}]",
                f"is {_type_name(doc)}, but documents[0] is {kind_name}; "
                "documents must be all strings or all dicts",
            )
        if kind is Mapping:
            check_json_value(f"documents[{i}]", doc, depth=1)


def _check_rank_fields(rank_fields: object, documents: Sequence[object]) -> None:
    if isinstance(rank_fields, str | bytes) or not isinstance(rank_fields, list | tuple):
        raise InvalidArgumentTypeError(
            "rank_fields", f"must be a list of strings, not {_type_name(rank_fields)}"
        )
    if not rank_fields:
        raise InvalidArgumentError("rank_fields", "must not be empty; omit it to rank every field")
    for i, field in enumerate(rank_fields):
        if not isinstance(field, str):
            raise InvalidArgumentTypeError(
                f"rank_fields[{i}]", f"must be a string, not {_type_name(field)}"
            )
    if isinstance(documents[0], str):
        raise InvalidArgumentError(
            "rank_fields", "applies only to dict documents, and these documents are strings"
        )
    missing = [
        field
        for field in rank_fields
        if not any(field in doc for doc in documents)  # type: ignore[operator]
    ]
    if missing:
        raise InvalidArgumentError("rank_fields", f"no document has the field(s) {missing}")


def check_embeddings_args(*, model: object, input: object, extra: Mapping[str, object]) -> None:
    """Validate `embeddings.create` arguments; raise naming the first bad one."""
    check_model(model)
    if isinstance(input, str):
        check_text("input", input)
    elif isinstance(input, list | tuple):
        if not input:
            raise InvalidArgumentError("input", "must not be an empty list")
        for i, text in enumerate(input):
            if not isinstance(text, str):
                raise InvalidArgumentTypeError(
                    f"input[{i}]", f"must be a string, not {_type_name(text)}"
                )
            check_text(f"input[{i}]", text)
    else:
        raise InvalidArgumentTypeError(
            "input", f"must be a string or a list of strings, not {_type_name(input)}"
        )
    for key, value in extra.items():
        check_text(f"argument name {key!r}", key)
        check_json_value(key, value)
    check_spec_fields("EmbeddingsRequest", {**extra, "model": model, "input": input})


def check_spec_fields(schema: str, values: Mapping[str, object]) -> None:
    """Raise for the first spec type or limit `values` break; None means "not set", as sent."""
    if passes(schema, values):
        return
    values = {key: value for key, value in values.items() if value is not None}
    for violation in find_violations(schema, values):
        error = InvalidArgumentTypeError if violation.wrong_type else InvalidArgumentError
        raise error(violation.param, violation.message)


def is_valid_ranking(parsed: RerankResponse, *, document_count: int, top_n: int | None) -> bool:
    """Whether `check_rerank_response` passes (the common case, in a few C-level passes)."""
    results = parsed.results
    indices = list(map(_INDEX, results))
    scores = list(map(_SCORE, results))
    return (
        len(results) <= (document_count if top_n is None else min(top_n, document_count))
        and len(set(indices)) == len(indices)
        and (not indices or (min(indices) >= 0 and max(indices) < document_count))
        and all(map(math.isfinite, scores))
        and all(map(operator.ge, scores, islice(scores, 1, None)))
        and "results" in parsed.model_fields_set
    )


def check_rerank_response(
    parsed: RerankResponse,
    response: httpx.Response,
    *,
    document_count: int,
    top_n: int | None,
) -> None:
    """Raise `APIResponseValidationError` unless the results are a valid ranking of the request."""
    if is_valid_ranking(parsed, document_count=document_count, top_n=top_n):
        return
    expected_max = document_count if top_n is None else min(top_n, document_count)
    scores = list(map(_SCORE, parsed.results))

    def fail(message: str) -> APIResponseValidationError:
        return APIResponseValidationError(response, f"Invalid rerank response: {message}")

    if "results" not in parsed.model_fields_set:
        raise fail("'results' is missing")
    if len(parsed.results) > expected_max:
        raise fail(f"{len(parsed.results)} results for at most {expected_max} expected")
    # Something is wrong: walk the results to say what, and where.
    seen: set[int] = set()
    for i, result in enumerate(parsed.results):
        if not 0 <= result.index < document_count:
            raise fail(f"results[{i}].index {result.index} is outside 0..{document_count - 1}")
        if result.index in seen:
            raise fail(f"results[{i}].index {result.index} appears twice")
        seen.add(result.index)
        if not math.isfinite(result.relevance_score):
            raise fail(f"results[{i}].relevance_score is {result.relevance_score}")
    check_ranking_order(scores, fail)


def check_ranking_order(
    scores: Sequence[float], fail: Callable[[str], APIResponseValidationError]
) -> None:
    """Raise unless the scores never increase: results come most relevant first (ties allowed)."""
    if all(map(operator.ge, scores, islice(scores, 1, None))):
        return
    i = next(i for i in range(1, len(scores)) if scores[i] > scores[i - 1])
    raise fail(
        "results are not sorted by relevance_score, highest first: "
        f"results[{i}] scores {scores[i]!r}, above results[{i - 1}] ({scores[i - 1]!r})"
    )


def check_embeddings_response(
    parsed: EmbeddingsResponse, response: httpx.Response, *, input_count: int
) -> None:
    """Raise `APIResponseValidationError` unless there is one finite embedding per input."""

    def fail(message: str) -> APIResponseValidationError:
        return APIResponseValidationError(response, f"Invalid embeddings response: {message}")

    if len(parsed.data) != input_count:
        raise fail(f"{len(parsed.data)} embeddings for {input_count} inputs")
    if sorted(item.index for item in parsed.data) != list(range(input_count)):
        raise fail("the indices are not 0..n-1, each once")
    for item in parsed.data:
        if not all(math.isfinite(x) for x in item.embedding):
            raise fail(f"embedding {item.index} has a non-finite component")
