"""`run_check`: hold a server that claims the Together rerank API to its contract."""

from __future__ import annotations

import dataclasses
import math
import secrets
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any, cast

import httpx

from .._base_client import normalize_base_url
from .._client import Together
from .._exceptions import (
    APIStatusError,
    AuthenticationError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    NotFoundError,
    PermissionDeniedError,
)
from .._secrets import display_url, redact, redact_value, sent_secrets
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
    model: str = DEFAULT_MODEL,
    embedding_model: str | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    seed: int | None = None,
    only: Collection[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    shrink_checks: int = DEFAULT_SHRINK_CHECKS,
    shrink_seconds: float = DEFAULT_SHRINK_SECONDS,
    on_result: Callable[[PropertyResult], None] | None = None,
) -> Report:
    """Check the server at `base_url` against openapi.yaml and the meaning of a ranking.

    `base_url` may end in `/v1` or not, as for `Together(base_url=...)`;
    `api_key` defaults to TOGETHER_API_KEY. `embedding_model` defaults to the
    first embedding model `GET /models` lists. Each property gets up to
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
    limits = RunLimits(
        max_examples=max_examples,
        seed=seed if seed is not None else secrets.randbits(32),
        shrink_checks=shrink_checks,
        shrink_seconds=shrink_seconds,
    )
    started = time.monotonic()
    with Together(base_url=url, api_key=api_key, max_retries=0, timeout=timeout) as client:
        _preflight(client, model)
        notes: list[str] = []
        if embedding_model is None:
            embedding_model, note = _embedding_model(url, client.api_key, timeout)
            notes.append(note)
        properties: list[Property[Any]] = [
            *schema_properties(
                str(url),
                api_key=client.api_key,
                model=model,
                embedding_model=embedding_model,
                timeout=timeout,
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


def _preflight(client: Together, model: str) -> None:
    """One plain request: is there a server, does it take our key and serve `model`?"""
    try:
        client.rerank.with_raw_response.create(
            model=model, query="contract check", documents=["contract check"]
        )
    except (AuthenticationError, PermissionDeniedError, NotFoundError):
        raise
    except APIStatusError:
        pass  # any other refusal is for the properties to report


def _embedding_model(url: httpx.URL, api_key: str | None, timeout: float) -> tuple[str, str]:
    """The first embedding model `GET /models` lists, else the Together default."""
    headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
    try:
        response = httpx.get(url.join("models"), headers=headers, timeout=timeout)
        listed = response.json() if response.is_success else None
    except (httpx.HTTPError, ValueError):
        listed = None
    if isinstance(listed, list):
        for item in listed:
            if isinstance(item, dict) and item.get("type") in ("embedding", "embeddings"):
                name = item.get("id")
                if isinstance(name, str) and name:
                    return name, f"embedding model {name} (the first GET /models lists)"
    return (
        DEFAULT_EMBEDDING_MODEL,
        f"embedding model {DEFAULT_EMBEDDING_MODEL} (default: GET /models lists none)",
    )
