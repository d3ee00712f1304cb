"""`run_check`: hold a server that claims the Together rerank API to its contract."""

from __future__ import annotations

import dataclasses
import math
import secrets
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

import httpx

from .._base_client import normalize_base_url
from .._client import Together
from .._exceptions import (
    APIError,
    APIResponseValidationError,
    APIStatusError,
    AuthenticationError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    NotFoundError,
    PermissionDeniedError,
)
from .._secrets import display_url, redact, redact_value, sent_secrets
from .._tolerance import ResponsePolicy, parse_rerank
from .._validation import check_rerank_response
from .properties import Property
from .report import PropertyResult, Report
from .runner import RunLimits, run_properties
from .schema_level import SCHEMA_PROPERTIES, schema_properties
from .semantic_level import SEMANTIC_PROPERTIES, semantic_properties

__all__ = [
    "ALL_PROPERTIES",
    "DEFAULT_EMBEDDING_MODEL",
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_MODEL",
    "run_check",
]

DEFAULT_MODEL = "Salesforce/Llama-Rank-V1"
DEFAULT_EMBEDDING_MODEL = "togethercomputer/m2-bert-80M-8k-retrieval"
DEFAULT_MAX_EXAMPLES = 50
DEFAULT_TIMEOUT = 30.0
DEFAULT_SHRINK_CHECKS = 100
DEFAULT_SHRINK_SECONDS = 60.0
ALL_PROPERTIES = SCHEMA_PROPERTIES + SEMANTIC_PROPERTIES


def run_check(
    base_url: str,
    *,
    api_key: str | None = None,
    model: str | None = None,
    embedding_model: str | None = None,
    embeddings: bool | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
    only: Collection[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    shrink_checks: int = DEFAULT_SHRINK_CHECKS,
    shrink_seconds: float = DEFAULT_SHRINK_SECONDS,
    on_result: Callable[[PropertyResult], None] | None = None,
) -> Report:
    """Check the server at `base_url` against openapi.yaml and the meaning of a ranking.

    `base_url` follows the SDK's rule (`Together(base_url=...)`): a bare host
    gets `/v1`, an endpoint URL (`http://h:7997/rerank`) names a server mounted
    at the root. `api_key` defaults to TOGETHER_API_KEY. `GET /models` is read
    in Together's form (a bare array with `type`) or OpenAI's (`{"object":
    "list", "data": [...]}` with `type`, `mode` or `capabilities`): `model`
    defaults to `DEFAULT_MODEL` when the server lists it (or lists nothing
    readable), else to the first rerank model it lists; `embedding_model` to the
    first embedding model. `embeddings` False leaves `/embeddings` out (a
    rerank-only server); None decides from the list, or from a probe that gets
    a 404 (then the embeddings checks are left out, with a note, not failed).
    Verdicts are the strict contract's; each failure also says what it means
    for this SDK's default mode (`PropertyResult.impact`). Each property gets up to
    `max_examples` generated examples; `seed` makes the run reproducible (a
    random one is picked, and reported, when None). `only` restricts the run to
    the named properties (see `ALL_PROPERTIES`).

    Raises `APIConnectionError` when the server cannot be reached, and
    `AuthenticationError`, `PermissionDeniedError` or `NotFoundError` when it
    refuses a plain rerank request with `model` (wrong key, URL or model): then
    there is nothing to check.
    """
    if isinstance(max_examples, bool) or not isinstance(max_examples, int) or max_examples < 1:
        raise InvalidArgumentError("max_examples", f"must be an integer >= 1, got {max_examples!r}")
    _check_timeout(timeout)
    selected = _select(only)
    url = normalize_base_url(base_url)
    if embeddings is not None and not isinstance(embeddings, bool):
        raise InvalidArgumentTypeError("embeddings", "must be True, False or None")
    limits = RunLimits(
        max_examples=max_examples,
        seed=seed if seed is not None else secrets.randbits(32),
        shrink_checks=shrink_checks,
        shrink_seconds=shrink_seconds,
    )
    started = time.monotonic()
    # Strict: the contract's verdicts; what default mode makes of each is judged apart.
    # `base_url` as given: the SDK resolves it (an endpoint URL's root stays the root).
    with Together(
        base_url=base_url, api_key=api_key, max_retries=0, timeout=timeout, strict=True
    ) as client:
        listed = discover_models(url, client.api_key, timeout)
        notes: list[str] = []
        if model is None:
            model, note = _rerank_model(listed)
            notes.append(note)
        plain_call_error = _preflight(client, model)
        if embedding_model is None:
            embedding_model, note = _embedding_model(listed)
            notes.append(note)
        if embeddings is False:
            notes.append("POST /embeddings not checked (--no-embeddings)")
        elif embeddings is None:
            embeddings, why_not = _offers_embeddings(client, listed, embedding_model)
            if why_not:
                notes.append(why_not)
        properties: list[Property[Any]] = [
            *schema_properties(
                str(url),
                api_key=client.api_key,
                model=model,
                embedding_model=embedding_model,
                timeout=timeout,
                embeddings=embeddings is not False,
            ),
            *semantic_properties(client, model),
        ]
        # What a server may echo back of what it was sent; no part of the report shows it.
        hidden = _secrets_sent(url, client.api_key)
        results: list[PropertyResult] = []
        for group in _by_strategy(prop for prop in properties if prop.name in selected):
            for found in run_properties(group, limits):
                result = _redacted(found, hidden)
                results.append(result)
                if on_result is not None:
                    on_result(result)
    return Report(
        base_url=display_url(url).rstrip("/"),
        model=model,
        embedding_model=redact(embedding_model, hidden),
        seed=limits.seed,
        max_examples=max_examples,
        results=results,
        seconds=time.monotonic() - started,
        notes=[redact(note, hidden) for note in notes],
        plain_call_error=None if plain_call_error is None else redact(plain_call_error, hidden),
    )


def _secrets_sent(url: httpx.URL, api_key: str | None) -> tuple[str, ...]:
    """The secrets every request of the check carries (the key, and any URL credentials)."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    return sent_secrets(httpx.Request("GET", url, headers=headers))


def _redacted(result: PropertyResult, hidden: tuple[str, ...]) -> PropertyResult:
    """The result with every echo of `hidden` in its message and example redacted."""
    if not hidden:
        return result
    return dataclasses.replace(
        result,
        message=None if result.message is None else redact(result.message, hidden),
        example=(
            None
            if result.example is None
            else cast(dict[str, Any], redact_value(result.example, hidden))
        ),
    )


def _check_timeout(timeout: float) -> None:
    if isinstance(timeout, bool) or not isinstance(timeout, int | float):
        raise InvalidArgumentTypeError(
            "timeout", f"must be a number of seconds, got {type(timeout).__name__}"
        )
    if not math.isfinite(timeout) or timeout <= 0:
        raise InvalidArgumentError(
            "timeout", f"must be a finite number of seconds > 0, got {timeout!r}"
        )


def _by_strategy(properties: Iterable[Property[Any]]) -> list[list[Property[Any]]]:
    """Consecutive properties drawing from the same strategy, grouped (order kept)."""
    groups: list[list[Property[Any]]] = []
    for prop in properties:
        if groups and groups[-1][0].strategy is prop.strategy:
            groups[-1].append(prop)
        else:
            groups.append([prop])
    return groups


def _select(only: Collection[str] | None) -> set[str]:
    if only is None:
        return set(ALL_PROPERTIES)
    if isinstance(only, str):
        only = [only]
    unknown = sorted(set(only) - set(ALL_PROPERTIES))
    if unknown:
        raise InvalidArgumentError(
            "only", f"unknown propert{'y' if len(unknown) == 1 else 'ies'} {', '.join(unknown)}"
        )
    return set(only)


def _preflight(client: Together, model: str) -> str | None:
    """One plain request: is there a server, does it take our key and serve `model`?

    Returns why this SDK's default mode raises on the answer, or None when it
    takes it: whether users of this SDK can use the server at all.
    """
    try:
        raw = client.rerank.with_raw_response.create(
            model=model, query="contract check", documents=["contract check"]
        )
    except (AuthenticationError, PermissionDeniedError, NotFoundError):
        raise
    except APIStatusError as exc:
        return str(exc)  # the properties report the details
    response = raw.http_response
    try:
        parsed = parse_rerank(response.content, response, ResponsePolicy(), return_documents=False)
        assert parsed is not None
        check_rerank_response(parsed, response, document_count=1, top_n=None)
    except APIResponseValidationError as exc:
        return str(exc)
    return None


@dataclass(frozen=True)
class Listed:
    """What `GET /models` says the server offers (model ids by kind)."""

    rerank: tuple[str, ...] = ()
    embedding: tuple[str, ...] = ()
    other: tuple[str, ...] = ()
    """Models listed without a kind this checker can read."""
    readable: bool = False
    """Whether `GET /models` answered with a list this checker can read."""

    @property
    def typed(self) -> bool:
        """Whether any model was listed with its kind."""
        return bool(self.rerank or self.embedding)


def _kinds(item: Mapping[str, Any]) -> set[str]:
    """A model entry's kinds: from `type` (Together), `mode` (LiteLLM), `capabilities`."""
    kinds: set[str] = set()
    for key in ("type", "mode"):
        value = item.get(key)
        if isinstance(value, str):
            kinds.add(value.lower())
    capabilities = item.get("capabilities")
    if isinstance(capabilities, list):
        kinds.update(c.lower() for c in capabilities if isinstance(c, str))
    found = set()
    if kinds & {"rerank", "reranker", "reranking", "rerank-model"}:
        found.add("rerank")
    if kinds & {"embedding", "embeddings", "embed"}:
        found.add("embedding")
    return found


def read_model_list(listed: Any) -> Listed:
    """Models by kind from a `GET /models` body: Together's bare array or OpenAI's list."""
    if isinstance(listed, dict) and isinstance(listed.get("data"), list):
        listed = listed["data"]
    if not isinstance(listed, list):
        return Listed()
    rerank, embedding, other = [], [], []
    for item in listed:
        if not isinstance(item, dict):
            continue
        name = item.get("id")
        if not isinstance(name, str) or not name:
            continue
        kinds = _kinds(item)
        if "rerank" in kinds:
            rerank.append(name)
        if "embedding" in kinds:
            embedding.append(name)
        if not kinds:
            other.append(name)
    return Listed(tuple(rerank), tuple(embedding), tuple(other), readable=True)


def discover_models(url: httpx.URL, api_key: str | None, timeout: float) -> Listed:
    """`GET /models` of the server at `url`, read; nothing listed when it cannot be read."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(url.join("models"), headers=headers, timeout=timeout)
        body = response.json() if response.is_success else None
    except (httpx.HTTPError, ValueError):
        body = None
    return read_model_list(body)


def _rerank_model(listed: Listed) -> tuple[str, str]:
    """The rerank model to check: the default if listed (or nothing is), else the first listed."""
    names = listed.rerank or listed.other
    if not names or DEFAULT_MODEL in listed.rerank + listed.other:
        return DEFAULT_MODEL, f"model {DEFAULT_MODEL} (default)"
    how = "rerank model" if listed.rerank else "model (untyped)"
    return names[0], f"model {names[0]} (the first {how} GET /models lists)"


def _embedding_model(listed: Listed) -> tuple[str, str]:
    """The first embedding model `GET /models` lists, else the Together default."""
    if listed.embedding:
        name = listed.embedding[0]
        return name, f"embedding model {name} (the first GET /models lists)"
    return (
        DEFAULT_EMBEDDING_MODEL,
        f"embedding model {DEFAULT_EMBEDDING_MODEL} (default: GET /models lists none)",
    )


def _offers_embeddings(client: Together, listed: Listed, model: str) -> tuple[bool, str | None]:
    """Whether the server serves embeddings, from its model list or else a probe."""
    if listed.typed and not listed.embedding:
        return False, "GET /models lists no embedding model: embeddings are not checked"
    if listed.embedding:
        return True, None
    try:
        client.embeddings.with_raw_response.create(model=model, input="contract check")
    except NotFoundError:
        return False, (
            f"POST /embeddings with {model} answered 404 (no such endpoint or model): "
            "embeddings are not checked; pass --embedding-model to check one"
        )
    except APIError:
        pass  # any other answer is for the properties to judge
    return True, None
