"""The semantic properties as pure functions of a request and the results it got.

Each raises `Violation` with a one-sentence reason, or returns quietly. They
judge only their own concern: e.g. `check_documents` does not complain about
an index out of range (that is `check_indices_in_range`'s business).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import Any

from .answers import MISSING, Result
from .properties import Violation

__all__ = [
    "REL_TOLERANCE",
    "check_count",
    "check_documents",
    "check_indices_in_range",
    "check_indices_unique",
    "check_same_ranking",
    "check_sorted",
    "check_usage",
    "first_score_difference",
    "same_score",
    "scores_by_index",
]

REL_TOLERANCE = 1e-9
"""Two scores of the same document are the same when they differ by at most this, relatively."""
ABS_TOLERANCE = 1e-12


def check_sorted(results: Sequence[Result]) -> None:
    """Results come highest `relevance_score` first."""
    for before, after in itertools.pairwise(results):
        if after.relevance_score > before.relevance_score:
            raise Violation(
                f"results[{after.position}].relevance_score {after.relevance_score!r} is higher "
                f"than results[{before.position}].relevance_score {before.relevance_score!r}: "
                "results must be sorted by relevance_score, highest first"
            )


def check_indices_in_range(results: Sequence[Result], document_count: int) -> None:
    """Every index names a document of the request."""
    for result in results:
        if not 0 <= result.index < document_count:
            raise Violation(
                f"results[{result.position}].index is {result.index}, but the request has "
                f"{document_count} document(s): indices must be in 0..{document_count - 1}"
            )


def check_indices_unique(results: Sequence[Result]) -> None:
    """No document is ranked twice."""
    seen: dict[int, int] = {}
    for result in results:
        if result.index in seen:
            raise Violation(
                f"results[{seen[result.index]}] and results[{result.position}] both have index "
                f"{result.index}: each document may be ranked once"
            )
        seen[result.index] = result.position


def check_count(results: Sequence[Result], document_count: int, top_n: int | None) -> None:
    """`min(top_n, documents)` results, or one per document without top_n."""
    if top_n is None:
        expected, why = document_count, f"no top_n and {document_count} document(s)"
    else:
        expected = min(top_n, document_count)
        why = f"top_n={top_n} and {document_count} document(s)"
    if len(results) != expected:
        raise Violation(f"{len(results)} result(s) for {why}: expected {expected}")


def check_documents(
    results: Sequence[Result], documents: Sequence[Any], return_documents: bool | None
) -> None:
    """`document` is there exactly when asked for; a string document comes back as itself."""
    if not return_documents:
        sent = "false" if return_documents is False else "not sent (absent means false)"
        for result in results:
            if result.document is not MISSING and result.document is not None:
                raise Violation(
                    f"return_documents was {sent}, but results[{result.position}] carries "
                    "a document"
                )
        return
    for result in results:
        where = f"results[{result.position}].document"
        if result.document is MISSING or result.document is None:
            raise Violation(f"return_documents was true, but {where} is missing")
        if not isinstance(result.document, dict):
            raise Violation(f"{where} is not an object with a `text` field")
        if 0 <= result.index < len(documents) and isinstance(documents[result.index], str):
            text = result.document.get("text")
            if text != documents[result.index]:
                raise Violation(
                    f"{where}.text is {_short(text)}, but documents[{result.index}] is "
                    f"{_short(documents[result.index])}"
                )


def check_usage(body: Mapping[str, Any]) -> None:
    """`usage` is reported, and total_tokens == prompt_tokens + completion_tokens."""
    usage = body.get("usage")
    if usage is None:
        raise Violation("`usage` is missing" if "usage" not in body else "`usage` is null")
    if not isinstance(usage, dict):
        raise Violation("`usage` is not an object")
    counts: dict[str, int] = {}
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = usage.get(name)
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise Violation(f"usage.{name} is {_short(value)}, not a count (an integer >= 0)")
        counts[name] = value
    if counts["total_tokens"] != counts["prompt_tokens"] + counts["completion_tokens"]:
        raise Violation(
            f"usage.total_tokens is {counts['total_tokens']}, but prompt_tokens + "
            f"completion_tokens is {counts['prompt_tokens'] + counts['completion_tokens']}"
        )


def scores_by_index(results: Sequence[Result], document_count: int) -> dict[int, float]:
    """The score of each document ranked exactly once with a valid index.

    Results whose index is out of range or repeated are left out: they name no
    document for certain (and are other properties' business).
    """
    counts: dict[int, int] = {}
    for result in results:
        counts[result.index] = counts.get(result.index, 0) + 1
    return {
        result.index: result.relevance_score
        for result in results
        if 0 <= result.index < document_count and counts[result.index] == 1
    }


def check_same_ranking(first: Sequence[Result], second: Sequence[Result]) -> None:
    """Two answers to identical requests rank the same indices with the same scores."""
    a = sorted((r.index, r.relevance_score) for r in first)
    b = sorted((r.index, r.relevance_score) for r in second)
    if [index for index, _ in a] != [index for index, _ in b]:
        raise Violation(
            f"the same request ranked indices {[i for i, _ in a]} the first time and "
            f"{[i for i, _ in b]} the second"
        )
    for (index, before), (_, after) in zip(a, b, strict=True):
        if not same_score(before, after):
            raise Violation(
                f"the same request scored documents[{index}] {before!r} the first time and "
                f"{after!r} the second"
            )


def same_score(a: float, b: float) -> bool:
    """Equal up to `REL_TOLERANCE` (relative), or both within 1e-12 of each other."""
    return math.isclose(a, b, rel_tol=REL_TOLERANCE, abs_tol=ABS_TOLERANCE)


def first_score_difference(
    before: Mapping[int, float], after: Mapping[int, float]
) -> tuple[int, float, float] | None:
    """The first document scored differently, as (document, score before, score after)."""
    for index in sorted(before.keys() & after.keys()):
        if not same_score(before[index], after[index]):
            return index, before[index], after[index]
    return None


def _short(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
