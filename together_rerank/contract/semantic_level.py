"""The semantic properties: what a correct ranking looks like, checked through the SDK.

Requests go out through `Together(...).rerank.with_raw_response`, so the SDK
builds them as users' code would, but answers are judged from their raw JSON:
a wrong answer is reported under the property it breaks, not as the SDK's
`APIResponseValidationError`. A property that needs a readable answer counts
an unreadable one as not applicable; `answers_valid_requests` reports those.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .._client import Together
from . import invariants
from .answers import Result, read_results
from .calls import Exchange, RerankCall
from .impact import Impact, judge_answer
from .properties import Level, Outcome, Property, Violation, canonical_json
from .strategies import (
    PermutedCall,
    RankFieldChange,
    permuted_calls,
    rank_field_changes,
    rerank_calls,
)

__all__ = ["SEMANTIC_PROPERTIES", "semantic_properties"]

SEMANTIC_PROPERTIES = (
    "answers_valid_requests",
    "sorted_by_score",
    "indices_in_range",
    "indices_unique",
    "result_count",
    "return_documents",
    "usage_consistent",
    "deterministic",
    "permutation_invariant",
    "rank_fields_honoured",
)

UNCHECKED = (
    "no example could be checked: every answer was an error or unreadable "
    "(see answers_valid_requests)"
)

# Returns None or True when it checked the answer, False when the answer says nothing.
SingleCheck = Callable[[RerankCall, list[Result], dict[str, Any]], bool | None]


def _documents_as_asked(call: RerankCall, results: list[Result], body: dict[str, Any]) -> None:
    invariants.check_documents(results, call.documents, call.return_documents)


def semantic_properties(client: Together, model: str) -> list[Property[Any]]:
    """Every semantic property, sending through `client` with `model`."""

    exchanges: dict[str, Exchange] = {}

    def send(call: RerankCall) -> Exchange:
        # Properties drawing the same examples share the answers.
        key = canonical_json(call)
        if key not in exchanges:
            exchanges[key] = call.send(client, model)
        return exchanges[key]

    calls = rerank_calls()

    def judged(call: RerankCall, judge: SingleCheck) -> Outcome:
        exchange = send(call)
        results = read_results(exchange.answer)
        if isinstance(results, str):
            return Outcome.UNCHECKED
        try:
            checked = judge(call, results, exchange.answer.body)
        except Violation as violation:
            raise violation.with_evidence(**exchange.describe()).with_impact(
                _impact(exchange)
            ) from None
        return Outcome.UNCHECKED if checked is False else Outcome.HELD

    def single(
        name: str, summary: str, judge: SingleCheck, unchecked: str = UNCHECKED
    ) -> Property[RerankCall]:
        return Property(
            name,
            Level.SEMANTIC,
            summary,
            calls,
            lambda call: judged(call, judge),
            unchecked=unchecked,
        )

    def documents_returned(call: RerankCall) -> Outcome:
        # The call as drawn and again with return_documents the other way, so that
        # both sides are judged whichever values the examples happened to draw.
        flipped = replace(call, return_documents=not call.return_documents)
        outcomes = [judged(each, _documents_as_asked) for each in (call, flipped)]
        return Outcome.HELD if Outcome.HELD in outcomes else Outcome.UNCHECKED

    def answers(call: RerankCall) -> Outcome:
        exchange = send(call)
        results = read_results(exchange.answer)
        if isinstance(results, str):
            raise Violation(results, exchange.describe(), Impact.RAISES)
        return Outcome.HELD

    def deterministic(call: RerankCall) -> Outcome:
        # The second request goes out even when the first answer is cached.
        first, second = send(call), call.send(client, model)
        a, b = read_results(first.answer), read_results(second.answer)
        if isinstance(a, str) or isinstance(b, str):
            return Outcome.UNCHECKED
        try:
            invariants.check_same_ranking(a, b)
        except Violation as violation:
            raise violation.with_evidence(
                first=first.describe(), second=second.describe()
            ).with_impact(Impact.UNNOTICED) from None
        return Outcome.HELD

    def permutation_invariant(example: PermutedCall) -> Outcome:
        original, permuted = send(example.call), send(example.permuted)
        a, b = _scores(original, example.call), _scores(permuted, example.permuted)
        if a is None or b is None:
            return Outcome.UNCHECKED
        # Position p of the permuted request holds original document order[p].
        b_by_original = {example.order[p]: score for p, score in b.items()}
        if not a.keys() & b_by_original.keys():
            return Outcome.UNCHECKED
        difference = invariants.first_score_difference(a, b_by_original)
        if difference is None:
            return Outcome.HELD
        index, before, after = difference
        raise Violation(
            f"documents[{index}] scored {before!r}, but {after!r} once the documents were "
            f"reordered (it moved to position {example.order.index(index)}): a document's "
            "score must not depend on where it is in the list",
            {"order": example.order, "first": original.describe(), "second": permuted.describe()},
            Impact.UNNOTICED,
        )

    def rank_fields_honoured(example: RankFieldChange) -> Outcome:
        original, changed = send(example.call), send(example.changed_call)
        a, b = _scores(original, example.call), _scores(changed, example.changed_call)
        if a is None or b is None:
            return Outcome.UNCHECKED
        difference = invariants.first_score_difference(a, b)
        if difference is None:
            return Outcome.HELD if a.keys() & b.keys() else Outcome.UNCHECKED
        index, before, after = difference
        raise Violation(
            f"changing field(s) {example.changed_fields(index)} of documents[{index}], which "
            f"rank_fields {example.call.rank_fields} leaves out, changed its score from "
            f"{before!r} to {after!r}",
            {"first": original.describe(), "second": changed.describe()},
            Impact.UNNOTICED,
        )

    return [
        Property(
            "answers_valid_requests",
            Level.SEMANTIC,
            "valid requests get 2xx with readable results",
            calls,
            answers,
        ),
        single(
            "sorted_by_score",
            "results sorted by relevance_score, highest first",
            lambda call, results, body: invariants.check_sorted(results),
        ),
        single(
            "indices_in_range",
            "every index names a document of the request",
            lambda call, results, body: invariants.check_indices_in_range(
                results, len(call.documents)
            ),
        ),
        single(
            "indices_unique",
            "no document is ranked twice",
            lambda call, results, body: invariants.check_indices_unique(results),
        ),
        single(
            "result_count",
            "min(top_n, len(documents)) results; all documents without top_n",
            lambda call, results, body: invariants.check_count(
                results, len(call.documents), call.top_n
            ),
        ),
        Property(
            "return_documents",
            Level.SEMANTIC,
            "document returned exactly when return_documents is true",
            calls,
            documents_returned,
            unchecked=UNCHECKED,
        ),
        single(
            "usage_consistent",
            "usage, when reported, adds up: total_tokens = prompt_tokens + completion_tokens",
            lambda call, results, body: invariants.check_usage(body),
            unchecked=(
                "no answer reported usage (optional in the spec), or none was readable "
                "(see answers_valid_requests)"
            ),
        ),
        Property(
            "deterministic",
            Level.SEMANTIC,
            "identical requests get identical scores",
            calls,
            deterministic,
            unchecked=UNCHECKED,
        ),
        Property(
            "permutation_invariant",
            Level.SEMANTIC,
            "reordering documents leaves each document's score unchanged",
            permuted_calls(),
            permutation_invariant,
            unchecked=UNCHECKED,
        ),
        Property(
            "rank_fields_honoured",
            Level.SEMANTIC,
            "changing a field outside rank_fields leaves scores unchanged",
            rank_field_changes(),
            rank_fields_honoured,
            unchecked=UNCHECKED,
        ),
    ]


def _impact(exchange: Exchange) -> Impact:
    """What the answer of `exchange` does to this SDK's default mode (see `contract.impact`)."""
    answer = exchange.answer
    return judge_answer("rerank", exchange.request, answer.status, answer.text.encode())


def _scores(exchange: Exchange, call: RerankCall) -> dict[int, float] | None:
    results = read_results(exchange.answer)
    if isinstance(results, str):
        return None
    return invariants.scores_by_index(results, len(call.documents))
