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

import httpx
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, GenerationMode
from schemathesis.checks import CHECKS, CheckFunction, load_all_checks
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Err

from .answers import Answer
from .boundaries import BoundaryCase, boundary_cases
from .impact import Impact, judge_answer
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
BOUNDARY_PROPERTY = "limits_enforced"
SCHEMA_PROPERTIES = (*(check.name for check in _CHECKS), BOUNDARY_PROPERTY)
_KINDS = {GenerationMode.POSITIVE: "valid", GenerationMode.NEGATIVE: "invalid"}

# Only these operations are exercised; the spec has no others today, and a
# newer spec's additions need their own review before a checker relies on them.
OPERATIONS = ("POST /rerank", "POST /embeddings", "GET /models")
_PATHS = frozenset(label.split(" ", 1)[1] for label in OPERATIONS)


def schema_properties(
    base_url: str,
    *,
    api_key: str | None,
    model: str,
    embedding_model: str,
    timeout: float,
    embeddings: bool = True,
) -> list[Property[Any]]:
    """One property per schemathesis check, against the server at `base_url` (with /v1).

    `embeddings` False leaves `POST /embeddings` out (a rerank-only server).
    """
    wanted = OPERATIONS if embeddings else tuple(o for o in OPERATIONS if o != "POST /embeddings")
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
        if result.ok().label in wanted:
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
                if spec_check.name == "response_schema_conformance":
                    # schemathesis names the first error of a body; list them all.
                    every = _schema_errors(spec, case, response)
                    if every:
                        message = (
                            f"{len(every)} schema violation(s) in the "
                            f"{response.status_code} body: " + "; ".join(every[:20])
                        )
                raise Violation(
                    message,
                    {
                        "request": _describe_sent(case, response.request),
                        "response": _answer(response).describe(),
                    },
                    _impact(spec_check.name, case, response),
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

    return [
        *(make(spec_check) for spec_check in _CHECKS),
        _boundary_property(spec, root, headers, timeout, embeddings=embeddings),
    ]


def _schema_errors(spec: dict[str, Any], case: Case[Any], response: Any) -> list[str]:
    """Every way the body breaks its declared schema, as `at PATH: message` (none: [])."""
    operation = spec["paths"].get(case.operation.path, {}).get(case.method.lower(), {})
    declared = operation.get("responses", {}).get(str(response.status_code), {})
    schema = declared.get("content", {}).get("application/json", {}).get("schema")
    try:
        body = json.loads(response.content)
    except ValueError:
        return []
    if schema is None:
        return []
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    uri = "urn:together-rerank:checked-spec"
    registry: Registry[Any] = Registry().with_resource(
        uri, Resource.from_contents(spec, default_specification=DRAFT202012)
    )
    validator = Draft202012Validator(
        {"$ref": f"{uri}#" + _pointer_of(spec, schema)}, registry=registry
    )
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    return [
        f"at /{'/'.join(map(str, error.absolute_path))}: {_short_error(error)}" for error in errors
    ]


def _pointer_of(spec: dict[str, Any], schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    return ref.removeprefix("#") if isinstance(ref, str) else ""


def _short_error(error: Any) -> str:
    if error.validator == "oneOf" and error.context:
        # "not valid under any of the schemas": say why under the closest one.
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        return f"{best.message} ({error.message[:80]})"
    return str(error.message)[:200]


def _impact(check: str, case: Case[Any], response: Any) -> Impact:
    """What a schema-level failure means for users of this SDK (see `contract.impact`)."""
    if _mode(case) is GenerationMode.NEGATIVE:
        # This SDK checks requests against the spec before sending: it never
        # sends what the server mishandles here.
        return Impact.TOLERATED
    endpoint = case.operation.path.strip("/")
    if endpoint not in ("rerank", "embeddings"):
        return Impact.TOLERATED  # this SDK never calls it
    status: int = response.status_code
    if 200 <= status < 300:
        body = None if isinstance(case.body, schemathesis.core.NotSet) else case.body
        return judge_answer(endpoint, body, status, response.content)
    if check in ("positive_data_acceptance", "not_a_server_error"):
        return Impact.RAISES  # a valid request refused
    # The form of an error answer: this SDK raises its typed error for any status.
    return Impact.TOLERATED


def _boundary_property(
    spec: dict[str, Any],
    root: str,
    headers: dict[str, str],
    timeout: float,
    *,
    embeddings: bool = True,
) -> Property[int]:
    """Every limit of the spec at its boundary, the same requests on every run (no seed)."""
    paths = _PATHS if embeddings else _PATHS - {"/embeddings"}
    cases = [case for case in boundary_cases(spec) if case.path in paths]

    def check(_: int) -> Outcome:
        if not cases:
            return Outcome.UNCHECKED
        wrong: list[tuple[BoundaryCase, Answer]] = []
        with httpx.Client(headers=headers, timeout=timeout) as client:
            for case in cases:
                try:
                    response = client.request(case.method, root + case.path, json=case.body)
                except httpx.HTTPError as exc:
                    raise Violation(
                        f"no answer to {case.label}: {type(exc).__name__}: {exc}",
                        {"request": {"endpoint": f"{case.method} {case.path}", "body": case.body}},
                    ) from None
                ok = response.is_success if case.valid else response.is_client_error
                if not ok:
                    wrong.append((case, _httpx_answer(response)))
        if wrong:
            case, answer = wrong[0]
            expected = "accepted (2xx)" if case.valid else "refused (4xx)"
            labels = "; ".join(f"{c.label}: {a.status}" for c, a in wrong[:8]) + (
                "; ..." if len(wrong) > 8 else ""
            )
            # A valid request refused fails users' calls; an invalid one accepted
            # is never sent by this SDK (it checks the limits first).
            impact = Impact.RAISES if any(c.valid for c, _ in wrong) else Impact.TOLERATED
            raise Violation(
                f"{len(wrong)} of {len(cases)} boundary requests answered wrongly, first: "
                f"{case.label} must be {expected}, got {answer.status} ({labels})",
                {
                    "request": {"endpoint": f"{case.method} {case.path}", "body": case.body},
                    "response": answer.describe(),
                },
                impact,
            )
        return Outcome.HELD

    return Property(
        BOUNDARY_PROPERTY,
        Level.SCHEMA,
        "every request limit in the spec holds at its boundary (deterministic cases)",
        st.just(0),
        check,
        key=lambda _: BOUNDARY_PROPERTY,
        unchecked="the spec has no request limits",
    )


def _httpx_answer(response: httpx.Response) -> Answer:
    try:
        body = response.json()
    except ValueError:
        body = None
    return Answer(
        status=response.status_code,
        body=body,
        text=response.text,
        content_type=response.headers.get("content-type", ""),
    )


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
