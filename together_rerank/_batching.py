"""Splitting one rerank call into batches, and merging their answers back: no I/O here.

A call with more documents than `max_documents_per_request` is cut into
contiguous batches of at most that many. Each batch asks for
``min(top_n, len(batch))`` results; the answers are merged by
``relevance_score`` descending, ties broken by original index ascending, every
``index`` is moved back to the caller's list, and ``top_n`` applies after the
merge. Because each server ranks ties by index within its batch and the batches
are contiguous, the global top n is always among the batches' own top n, so the
merge loses nothing. It equals the unbatched answer exactly only when the server
scores each document on its own (pointwise), as cross-encoders do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._exceptions import InvalidArgumentError, InvalidArgumentTypeError

if TYPE_CHECKING:
    from ._tolerance import Deviation
    from .types import RerankResponse, UsageData

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "batch_top_n",
    "check_max_concurrency",
    "check_max_documents_per_request",
    "merge_responses",
    "plan_batches",
]

DEFAULT_MAX_CONCURRENCY = 8
"""Batches of one call in flight at once, unless the client says otherwise."""


def _check_positive_int(param: str, value: object) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise InvalidArgumentTypeError(param, f"must be an integer, not {type(value).__name__}")
    if value < 1:
        raise InvalidArgumentError(param, f"must be >= 1, got {value}")
    return value


def check_max_documents_per_request(value: object) -> int | None:
    """`max_documents_per_request` as given, or an error naming it: None or an int >= 1."""
    return None if value is None else _check_positive_int("max_documents_per_request", value)


def check_max_concurrency(value: object) -> int:
    """`max_concurrency` as given, or an error naming it: an int >= 1."""
    return _check_positive_int("max_concurrency", value)


def plan_batches(document_count: int, limit: int | None) -> list[range]:
    """Contiguous index ranges of at most `limit` documents; one range when no split is needed."""
    if limit is None or document_count <= limit:
        return [range(document_count)]
    return [
        range(start, min(start + limit, document_count))
        for start in range(0, document_count, limit)
    ]


def batch_top_n(top_n: int | None, batch: range) -> int | None:
    """What one batch asks for: enough to hold its share of the global top n."""
    return None if top_n is None else min(top_n, len(batch))


def _sum_usage(responses: Sequence[RerankResponse]) -> UsageData | None:
    from .types import UsageData

    # A total missing some batches would understate the cost: report none instead.
    if any(response.usage is None for response in responses):
        return None
    return UsageData(
        prompt_tokens=sum(r.usage.prompt_tokens for r in responses if r.usage),
        completion_tokens=sum(r.usage.completion_tokens for r in responses if r.usage),
        total_tokens=sum(r.usage.total_tokens for r in responses if r.usage),
    )


def _sum_billed_units(extras: Sequence[dict[str, object]]) -> dict[str, object] | None:
    """Cohere's `meta.billed_units` (the LiteLLM proxy's only usage) summed over batches.

    None when any batch lacks it or holds a non-integer count: a partial sum
    would understate the cost, as for `usage`.
    """
    totals: dict[str, int] = {}
    for extra in extras:
        meta = extra.get("meta")
        units = meta.get("billed_units") if isinstance(meta, dict) else None
        if not isinstance(units, dict):
            return None
        for key, value in units.items():
            if not isinstance(value, int) or isinstance(value, bool):
                return None
            totals[key] = totals.get(key, 0) + value
    return dict(totals)


def merge_responses(
    responses: Sequence[RerankResponse], batches: Sequence[range], top_n: int | None
) -> RerankResponse:
    """One ranking of the caller's documents from each batch's answer (same order as `batches`).

    ``id``, ``object``, ``model`` and other fields are those of the first batch's
    answer; ``usage`` is the sum over batches (None if any batch reported none),
    and so is a Cohere-style ``meta.billed_units``; ``deviations`` are every
    batch's, each kind once, its count summed.
    """
    from .types import RerankResponse

    if len(responses) != len(batches) or not responses:
        raise ValueError("one response per batch is needed")
    results = [
        result.model_copy(update={"index": batch.start + result.index})
        for response, batch in zip(responses, batches, strict=True)
        for result in response.results
    ]
    results.sort(key=lambda result: (-result.relevance_score, result.index))
    if top_n is not None:
        del results[top_n:]
    first = responses[0]
    extra = dict(first.model_extra or {})
    meta = extra.get("meta")
    if isinstance(meta, dict) and "billed_units" in meta:
        billed = _sum_billed_units([r.model_extra or {} for r in responses])
        extra["meta"] = {**meta, "billed_units": billed}
    merged = RerankResponse(
        id=first.id,
        object=first.object,
        model=first.model,
        results=results,
        usage=_sum_usage(responses),
        **extra,
    )
    if any(response.deviations for response in responses):
        merged._deviations = _merge_deviations(responses)
    return merged


def _merge_deviations(responses: Sequence[RerankResponse]) -> tuple[Deviation, ...]:
    from ._tolerance import Deviation

    counts: dict[tuple[str, str, str], int] = {}
    for response in responses:
        for d in response.deviations:
            key = (d.field, d.problem, d.action)
            counts[key] = counts.get(key, 0) + d.count
    return tuple(Deviation(f, p, a, n) for (f, p, a), n in counts.items())
