"""The schema properties: openapi.yaml's promises, checked with schemathesis.

Requests are generated from the spec (narrowed by `schema_level_spec` to the
models under test), sent over real HTTP and judged by schemathesis' own
checks, one property per check. Valid ("positive") and invalid ("negative")
requests are both generated where the check applies to both.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from typing import Any, cast

import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CHECKS, CheckFunction, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err

from .answers import Answer
from .properties import Level, Outcome, Property, Violation, canonical_json
from .spec import schema_level_spec

__all__ = ["SCHEMA_PROPERTIES", "schema_properties"]

_BOTH = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@dataclass(frozen=True)
class _SchemaCheck:
    name: str
    summary: str
    modes: tuple[GenerationMode, ...]


_CHECKS = (
    _SchemaCheck("not_a_server_error", "no 5xx answer, to valid or invalid requests", _BOTH),
    _SchemaCheck("status_code_conformance", "every status code is a declared one", _BOTH),
    _SchemaCheck("content_type_conformance", "every content type is a declared one", _BOTH),
    _SchemaCheck("response_schema_conformance", "every body matches its declared schema", _BOTH),
    _SchemaCheck(
        "positive_data_acceptance",
        "spec-valid requests are accepted (2xx)",
        (GenerationMode.POSITIVE,),
    ),
    _SchemaCheck(
        "negative_data_rejection",
        "spec-invalid requests are rejected (4xx)",
        (GenerationMode.NEGATIVE,),
    ),
)
SCHEMA_PROPERTIES = tuple(check.name for check in _CHECKS)
_KINDS = {GenerationMode.POSITIVE: "valid", GenerationMode.NEGATIVE: "invalid"}

# Only these operations are exercised; the spec has no others today, and a
# newer spec's additions need their own review before a checker relies on them.
OPERATIONS = ("POST /rerank", "POST /embeddings", "GET /models")


def schema_properties(
    base_url: str,
    *,
    api_key: str | None,
    model: str,
    embedding_model: str,
    timeout: float,
) -> list[Property[Case[Any]]]:
    """One property per schemathesis check, against the server at `base_url` (with /v1)."""
    config = SchemathesisConfig.from_dict(
        {
            # The API key is ours to send; generated credentials would only test auth.
            "generation": {"with-security-parameters": False},
            "request-timeout": timeout,
            "checks": {
                "not_a_server_error": {"expected-statuses": ["2xx", "3xx", "4xx"]},
                "positive_data_acceptance": {"expected-statuses": ["2xx"]},
                "negative_data_rejection": {"expected-statuses": ["4xx"]},
            },
        }
    )
    spec = schema_level_spec(rerank_model=model, embedding_model=embedding_model)
    schema = schemathesis.openapi.from_dict(spec, config=config)
    operations = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            raise ValueError(f"openapi.yaml has an invalid operation: {result.err()}")
        if result.ok().label in OPERATIONS:
            operations.append(result.ok())
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    root = base_url.rstrip("/")
    load_all_checks()

    # One strategy for every property: each example is sent once and judged by all.
    strategy = st.one_of(
        [op.as_strategy(generation_mode=mode) for op in operations for mode in _BOTH]
    )
    answers: dict[str, Any] = {}

    def call(case: Case[Any]) -> Any:
        key = _case_key(case)
        if key not in answers:
            try:
                answers[key] = case.call(base_url=root, headers=headers, timeout=timeout)
            except OSError as exc:  # requests' errors are OSErrors
                answers[key] = exc
        return answers[key]

    def make(spec_check: _SchemaCheck) -> Property[Case[Any]]:
        check_function = cast(CheckFunction, CHECKS.get_one(spec_check.name))

        def check(case: Case[Any]) -> Outcome:
            if _mode(case) not in spec_check.modes:
                return Outcome.UNCHECKED
            response = call(case)
            if isinstance(response, OSError):
                raise Violation(
                    f"no answer: {type(response).__name__}: {response}",
                    {"request": _describe_case(case)},
                )
            if spec_check.name == "response_schema_conformance":
                _require_json_body(case, response)
            try:
                case.validate_response(response, checks=[check_function], headers=headers)
            except FailureGroup as group:
                message = "; ".join(_failure_text(failure) for failure in group.exceptions)
                raise Violation(
                    message,
                    {
                        "request": _describe_sent(case, response.request),
                        "response": _answer(response).describe(),
                    },
                ) from None
            return Outcome.HELD

        kind = " or ".join(_KINDS[mode] for mode in spec_check.modes)
        return Property(
            spec_check.name,
            Level.SCHEMA,
            spec_check.summary,
            strategy,
            check,
            key=_case_key,
            unchecked=f"no {kind} request was generated; raise --max-examples",
        )

    return [make(spec_check) for spec_check in _CHECKS]


def _require_json_body(case: Case[Any], response: Any) -> None:
    """Every answer openapi.yaml declares is JSON; a body that is not can match no schema.

    schemathesis skips the schema check for a media type the spec does not
    declare, so a server answering ``200 text/html`` would otherwise pass it.
    """
    answer = _answer(response)
    if answer.body is None and not _is_json_null(response.content):
        shown = answer.content_type or "no Content-Type"
        raise Violation(
            f"the body is not JSON ({shown}); every response openapi.yaml declares is JSON",
            {"request": _describe_sent(case, response.request), "response": answer.describe()},
        )


def _is_json_null(content: bytes) -> bool:
    return content.strip() == b"null"


def _mode(case: Case[Any]) -> GenerationMode:
    meta = case.meta
    return meta.generation.mode if meta is not None else GenerationMode.POSITIVE


def _failure_text(failure: Any) -> str:
    title, message = str(failure.title), str(failure.message or "").strip()
    return f"{title}: {' '.join(message.split())}" if message else title


def _case_key(case: Case[Any]) -> str:
    body = None if isinstance(case.body, schemathesis.core.NotSet) else case.body
    return canonical_json(
        [case.operation.label, case.path_parameters, case.query, case.media_type, body]
    )


def _describe_case(case: Case[Any]) -> dict[str, Any]:
    data: dict[str, Any] = {"endpoint": f"{case.method.upper()} {case.formatted_path}"}
    if case.query:
        data["query"] = _jsonable(case.query)
    if case.media_type:
        data["content_type"] = case.media_type
    if not isinstance(case.body, schemathesis.core.NotSet):
        data["body"] = _jsonable(case.body)
    return data


def _describe_sent(case: Case[Any], request: Any) -> dict[str, Any]:
    """What went out on the wire: the body as sent (it may differ from the generated one)."""
    data = _describe_case(case)
    sent = getattr(request, "body", None)
    if isinstance(sent, str):
        sent = sent.encode()
    if isinstance(sent, bytes):
        data.pop("body", None)
        try:
            data["body"] = json.loads(sent)
        except ValueError:
            try:
                data["body_text"] = sent.decode("utf-8")
            except UnicodeDecodeError:
                data["body_base64"] = base64.b64encode(sent).decode("ascii")
    content_type = getattr(request, "headers", {}).get("Content-Type")
    if content_type:
        data["content_type"] = content_type
    return data


def _answer(response: Any) -> Answer:
    content: bytes = response.content
    try:
        body = json.loads(content)
    except ValueError:
        body = None
    content_types = response.headers.get("content-type") or [""]
    return Answer(
        status=response.status_code,
        body=body,
        text=content.decode("utf-8", errors="replace"),
        content_type=content_types[0],
    )


def _jsonable(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    if isinstance(value, dict):
        return {str(key): _jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(item) for item in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)
