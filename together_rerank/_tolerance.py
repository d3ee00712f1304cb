"""The response tolerance policy: what a 2xx body may differ in, and what it may not.

Real servers that claim the Together rerank API (vLLM, infinity-emb, the
LiteLLM proxy) send correct rankings in slightly different forms. The policy:

- **Rejected, always** (`APIResponseValidationError`): a body that is not JSON,
  and everything that makes a ranking wrong (`_validation.check_rerank_response`:
  `results` missing or not a list, an index out of range, repeated or not an
  integer, a score that is not a finite number, results out of order, too many).
- **Accepted and normalised** (the form differs, the answer does not):
  `object` or `model` missing or null; `usage` missing a counter (a missing
  `completion_tokens` is 0: reranking and embedding generate nothing; a missing
  `total_tokens` is the sum; a missing `prompt_tokens` is the difference) or
  holding no counter at all (then `usage` is None); a `document` sent as a bare
  string (it becomes `{"text": ...}`); a `document` sent although
  `return_documents` was not asked for (dropped); `object` missing from an
  embedding. Each is a `Deviation`, recorded on the parsed response
  (`response.deviations`, also `RawResponse.deviations`) and logged at INFO
  once per client and kind.
- **Not deviations**, because the spec allows them: `id` or `usage` absent or
  null, `document: null`, and fields the spec does not name (kept, in
  `model_extra`).

`Together(strict=True)` raises `APIResponseValidationError` naming every
deviation instead of tolerating it: the response exactly as `openapi.yaml`
requires it (the contract checker judges servers that way).

The common case costs nothing extra: the body is parsed once, straight into
the typed models; only a body that fails that is read again as plain JSON,
normalised and validated.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
import pydantic_core

from ._exceptions import APIResponseValidationError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from .types import EmbeddingsResponse, RerankResponse

__all__ = ["Deviation", "ResponsePolicy", "parse_embeddings", "parse_rerank"]

logger = logging.getLogger("together_rerank")

M = TypeVar("M", bound="BaseModel")


@dataclass(frozen=True, slots=True)
class Deviation:
    """One way a response differed from the spec in form only, and what the SDK made of it."""

    field: str
    """Where, as a path: `usage.completion_tokens`, `results[].document`, `object`."""
    problem: str
    """What was wrong: `missing`, `null`, `a bare string`, `sent though not asked for`."""
    action: str
    """What the SDK did: `set to 0`, `wrapped as {"text": ...}`, `dropped`, `left as None`."""
    count: int = 1
    """How many places (results, embeddings) had it."""

    @property
    def kind(self) -> str:
        """The field and problem, without the count: what logging reports once per client."""
        return f"{self.field}: {self.problem}"

    def __str__(self) -> str:
        times = f" (in {self.count} places)" if self.count > 1 else ""
        return f"{self.field}: {self.problem}{times}; {self.action}"


class _Found:
    """Deviations as they are found, counted per (field, problem, action)."""

    __slots__ = ("counts",)

    def __init__(self) -> None:
        self.counts: dict[tuple[str, str, str], int] = {}

    def add(self, where: str, problem: str, action: str, count: int = 1) -> None:
        key = (where, problem, action)
        self.counts[key] = self.counts.get(key, 0) + count

    def deviations(self) -> tuple[Deviation, ...]:
        return tuple(Deviation(w, p, a, n) for (w, p, a), n in self.counts.items())


class ResponsePolicy:
    """A client's way with deviations: tolerate and log each kind once, or (strict) raise."""

    def __init__(self, strict: bool = False) -> None:
        self.strict = strict
        # Set while this client's server sends bodies that need normalising
        # (every vLLM or infinity answer does): parse those from JSON first.
        self.normalise_first = False
        self._logged: set[str] = set()
        self._lock = threading.Lock()

    def log(self, what: str, deviations: tuple[Deviation, ...]) -> None:
        """Log each kind of deviation the first time this client tolerates it."""
        if not logger.isEnabledFor(logging.INFO):
            return
        with self._lock:
            new = [d for d in deviations if d.kind not in self._logged]
            self._logged.update(d.kind for d in new)
        for deviation in new:
            logger.info(
                "tolerated a %s response that differs from the spec in form: %s "
                "(logged once per client; Together(strict=True) would raise)",
                what,
                deviation,
            )


def _fail(response: httpx.Response, what: str, exc: pydantic_core.ValidationError) -> Exception:
    first = exc.errors()[0]
    where = ".".join(str(part) for part in first["loc"]) or "body"
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return APIResponseValidationError(
        response, f"Invalid {what} response: {where}: {first['msg']}{more}"
    )


def strict_error(
    response: httpx.Response, what: str, deviations: tuple[Deviation, ...]
) -> APIResponseValidationError:
    """The error strict mode raises for what default mode would tolerate, naming every field."""
    listed = "; ".join(f"{d.field}: {d.problem}" for d in deviations)
    return APIResponseValidationError(
        response,
        f"Invalid {what} response (strict=True; the default mode tolerates this): {listed}",
    )


_COUNTERS = ("prompt_tokens", "completion_tokens", "total_tokens")


def _normalise_usage(data: dict[str, Any], found: _Found) -> None:
    usage = data.get("usage")
    if not isinstance(usage, dict):
        return  # absent or null is the spec's; anything else is left to fail validation
    present = {name: usage[name] for name in _COUNTERS if usage.get(name) is not None}
    if len(present) == 3:
        return
    if any(not isinstance(v, int) or isinstance(v, bool) for v in present.values()):
        return  # a counter of the wrong type is not a matter of form: let it fail
    for name in _COUNTERS:
        if name in usage and usage[name] is None:
            found.add(f"usage.{name}", "null", "treated as missing")
    prompt = present.get("prompt_tokens")
    completion = present.get("completion_tokens")
    total = present.get("total_tokens")
    if prompt is None and total is None:
        found.add("usage", "holds no prompt_tokens or total_tokens", "set to None")
        data["usage"] = None
        return
    if completion is None:
        completion = usage["completion_tokens"] = 0
        found.add("usage.completion_tokens", "missing", "set to 0")
    if total is None:
        usage["total_tokens"] = prompt + completion  # type: ignore[operator]
        found.add("usage.total_tokens", "missing", "set to prompt_tokens + completion_tokens")
    elif prompt is None:
        usage["prompt_tokens"] = max(total - completion, 0)
        found.add("usage.prompt_tokens", "missing", "set to total_tokens - completion_tokens")


def _normalise_rerank(data: dict[str, Any], found: _Found, *, return_documents: bool) -> None:
    _normalise_usage(data, found)
    results = data.get("results")
    if not isinstance(results, list):
        return
    bare = dropped = 0
    for result in results:
        if not isinstance(result, dict):
            continue
        document = result.get("document")
        if isinstance(document, str):
            if return_documents:
                result["document"] = {"text": document}
                bare += 1
            else:
                result["document"] = None
                dropped += 1
    if bare:
        found.add("results[].document", "a bare string", 'wrapped as {"text": ...}', bare)
    if dropped:
        found.add(
            "results[].document",
            "sent though return_documents was not asked for",
            "dropped",
            dropped,
        )


def _normalise_embeddings(data: dict[str, Any], found: _Found) -> None:
    _normalise_usage(data, found)


def _validate(
    model: type[M],
    content: bytes,
    response: httpx.Response | None,
    what: str,
    normalise: Callable[[dict[str, Any], _Found], None],
    *,
    policy: ResponsePolicy,
) -> tuple[M, _Found | None]:
    """The typed response, straight from the bytes or else from normalised JSON."""
    error: pydantic_core.ValidationError | None = None
    if not policy.normalise_first:
        try:
            return model.model_validate_json(content), None
        except pydantic_core.ValidationError as exc:
            error = exc
    # Only a body the typed models refuse is read a second time.
    try:
        data = pydantic_core.from_json(content)
    except ValueError:
        data = None
    if isinstance(data, dict):
        found = _Found()
        normalise(data, found)
        if found.counts:
            try:
                parsed = model.model_validate(data)
            except pydantic_core.ValidationError as exc:
                error = exc
            else:
                # This server's answers need it: the next one skips the typed
                # attempt that would fail (a third of the cost of a large answer).
                policy.normalise_first = True
                return parsed, found
    if error is None:
        # Normalised first, but this body needs nothing: parse it the usual way.
        policy.normalise_first = False
        try:
            return model.model_validate_json(content), None
        except pydantic_core.ValidationError as exc:
            error = exc
    if response is None:
        raise error
    raise _fail(response, what, error) from None


def _absent(parsed: BaseModel, name: str, found: _Found) -> None:
    found.add(name, "null" if name in parsed.model_fields_set else "missing", "left as None")


def rerank_deviations(
    parsed: RerankResponse, found: _Found | None, *, return_documents: bool
) -> _Found | None:
    """Add what the typed model shows (absent fields, unasked documents); drop those documents."""
    if parsed.object is None:
        found = found or _Found()
        _absent(parsed, "object", found)
    if parsed.model is None:
        found = found or _Found()
        _absent(parsed, "model", found)
    if not return_documents:
        dropped = 0
        for result in parsed.results:
            if result.document is not None:
                result.document = None
                dropped += 1
        if dropped:
            found = found or _Found()
            found.add(
                "results[].document",
                "sent though return_documents was not asked for",
                "dropped",
                dropped,
            )
    return found


def embeddings_deviations(parsed: EmbeddingsResponse, found: _Found | None) -> _Found | None:
    """Add what the typed model shows: `object` or `model` absent, an embedding without `object`."""
    if parsed.object is None:
        found = found or _Found()
        _absent(parsed, "object", found)
    if parsed.model is None:
        found = found or _Found()
        _absent(parsed, "model", found)
    untyped = sum(1 for item in parsed.data if item.object is None)
    if untyped:
        found = found or _Found()
        found.add("data[].object", "missing", "left as None", untyped)
    return found


def _settle(
    parsed: M,
    found: _Found | None,
    policy: ResponsePolicy,
    response: httpx.Response | None,
    what: str,
) -> M | None:
    """Record the deviations on `parsed`, then log them, or (strict) raise; None: raise later."""
    if found is None or not found.counts:
        return parsed
    deviations = found.deviations()
    if policy.strict:
        if response is None:
            return None
        raise strict_error(response, what, deviations)
    parsed._deviations = deviations  # type: ignore[attr-defined]
    policy.log(what, deviations)
    return parsed


@cache
def _types() -> ModuleType:
    # On first use: `import together_rerank` stays light, and a cached call is
    # cheaper than an import statement on every response.
    from . import types

    return types


def parse_rerank(
    content: bytes,
    response: httpx.Response | None,
    policy: ResponsePolicy,
    *,
    return_documents: bool,
) -> RerankResponse | None:
    """The typed, normalised rerank response; None (response None) where it would raise."""

    def normalise(data: dict[str, Any], found: _Found) -> None:
        _normalise_rerank(data, found, return_documents=return_documents)

    try:
        parsed, found = _validate(
            _types().RerankResponse, content, response, "rerank", normalise, policy=policy
        )
    except pydantic_core.ValidationError:
        return None
    found = rerank_deviations(parsed, found, return_documents=return_documents)
    return _settle(parsed, found, policy, response, "rerank")


def parse_embeddings(
    content: bytes, response: httpx.Response | None, policy: ResponsePolicy
) -> EmbeddingsResponse | None:
    """The typed, normalised embeddings response; None (response None) where it would raise."""
    try:
        parsed, found = _validate(
            _types().EmbeddingsResponse,
            content,
            response,
            "embeddings",
            _normalise_embeddings,
            policy=policy,
        )
    except pydantic_core.ValidationError:
        return None
    found = embeddings_deviations(parsed, found)
    return _settle(parsed, found, policy, response, "embeddings")
