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

REL_TOLERANCE = 1e-5
"""Two scores of the same document are the same when they differ by at most this, relatively.

Servers compute in float32 (24-bit mantissa: a rounding of about 6e-8,
relative), and a score computed twice, in another batch, order or padding
length, accumulates that rounding through every layer: real infinity-emb and
vLLM cross-encoders differ by up to about 2e-6 between two computations
(tests/thirdparty). 1e-5 tolerates that and nothing a ranking would notice.
"""
ABS_TOLERANCE = 1e-9
"""The same, for scores near 0 (where a relative difference means nothing)."""

# Every violation of a response is listed, up to this many in the message.
_MAX_LISTED = 20


def _raise_all(problems: Sequence[str]) -> None:
    """Raise one `Violation` listing every problem found in a response (none: return)."""
    if not problems:
        return
    if len(problems) == 1:
        raise Violation(problems[0])
    listed = "; ".join(problems[:_MAX_LISTED])
    more = f"; ... ({len(problems) - _MAX_LISTED} more)" if len(problems) > _MAX_LISTED else ""
    raise Violation(f"{len(problems)} violations: {listed}{more}")


def check_sorted(results: Sequence[Result]) -> None:
    """Results come highest `relevance_score` first."""
    _raise_all(
        [
            f"results[{after.position}].relevance_score {after.relevance_score!r} is higher "
            f"than results[{before.position}].relevance_score {before.relevance_score!r}: "
            "results must be sorted by relevance_score, highest first"
            for before, after in itertools.pairwise(results)
            if after.relevance_score > before.relevance_score
        ]
    )


def check_indices_in_range(results: Sequence[Result], document_count: int) -> None:
    """Every index names a document of the request."""
    _raise_all(
        [
            f"results[{result.position}].index is {result.index}, but the request has "
            f"{document_count} document(s): indices must be in 0..{document_count - 1}"
            for result in results
            if not 0 <= result.index < document_count
        ]
    )


def check_indices_unique(results: Sequence[Result]) -> None:
    """No document is ranked twice."""
    seen: dict[int, int] = {}
    problems = []
    for result in results:
        if result.index in seen:
            problems.append(
                f"results[{seen[result.index]}] and results[{result.position}] both have index "
                f"{result.index}: each document may be ranked once"
            )
        else:
            seen[result.index] = result.position
    _raise_all(problems)


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
    problems = []
    if not return_documents:
        sent = "false" if return_documents is False else "not sent (absent means false)"
        for result in results:
            if result.document is not MISSING and result.document is not None:
                problems.append(
                    f"return_documents was {sent}, but results[{result.position}] carries "
                    "a document"
                )
        _raise_all(problems)
        return
    for result in results:
        where = f"results[{result.position}].document"
        if result.document is MISSING or result.document is None:
            problems.append(f"return_documents was true, but {where} is missing")
            continue
        if not isinstance(result.document, dict):
            problems.append(f"{where} is not an object with a `text` field")
            continue
        if 0 <= result.index < len(documents) and isinstance(documents[result.index], str):
            text = result.document.get("text")
            if text != documents[result.index]:
                problems.append(
                    f"{where}.text is {_short(text)}, but documents[{result.index}] is "
                    f"{_short(documents[result.index])}"
                )
    _raise_all(problems)


def check_usage(body: Mapping[str, Any]) -> bool:
    """When `usage` is reported, its counts are counts and total = prompt + completion.

    `usage` is optional in the spec: absent or null, there is nothing to check
    (False). A missing counter is read as the SDK reads it (`completion_tokens`
    0; the others leave the sum unchecked): a missing counter breaks the
    schema, which `response_schema_conformance` reports, not the arithmetic.
    """
    if body.get("usage") is None:
        return False
    usage = body["usage"]
    if not isinstance(usage, dict):
        raise Violation("`usage` is not an object")
    counts: dict[str, int] = {}
    problems = []
    for name in ("prompt_tokens", "completion_tokens", "total_tokens"):
        value = usage.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            problems.append(f"usage.{name} is {_short(value)}, not a count (an integer >= 0)")
        else:
            counts[name] = value
    _raise_all(problems)
    completion = counts.get("completion_tokens", 0)
    prompt, total = counts.get("prompt_tokens"), counts.get("total_tokens")
    if prompt is not None and total is not None and total != prompt + completion:
        raise Violation(
            f"usage.total_tokens is {total}, but prompt_tokens + "
            f"completion_tokens is {prompt + completion}"
        )
    return True


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
