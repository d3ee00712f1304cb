"""The semantic properties as pure judgements of results, each with a one-sentence reason."""

from __future__ import annotations

import re
from typing import Any

import pytest

from together_rerank.contract import invariants
from together_rerank.contract.answers import MISSING, Answer, Result, read_results
from together_rerank.contract.properties import Violation


def results(*pairs: tuple[int, float], documents: list[Any] | None = None) -> list[Result]:
    """Results at positions 0, 1, ... from (index, score) pairs, with optional documents."""
    docs = documents if documents is not None else [MISSING] * len(pairs)
    return [
        Result(position, index, score, doc)
        for position, ((index, score), doc) in enumerate(zip(pairs, docs, strict=True))
    ]


def test_sorted_highest_first_ties_allowed() -> None:
    invariants.check_sorted(results((2, 0.9), (0, 0.5), (1, 0.5)))
    invariants.check_sorted([])
    with pytest.raises(
        Violation, match=r"results\[2\].relevance_score 0.7 is higher than results\[1\]"
    ):
        invariants.check_sorted(results((2, 0.9), (0, 0.5), (1, 0.7)))


def test_indices_must_name_a_document() -> None:
    invariants.check_indices_in_range(results((0, 1.0), (2, 0.5)), 3)
    with pytest.raises(Violation, match=r"results\[1\].index is 3, but the request has 3"):
        invariants.check_indices_in_range(results((0, 1.0), (3, 0.5)), 3)
    with pytest.raises(Violation, match=r"results\[0\].index is -1"):
        invariants.check_indices_in_range(results((-1, 1.0)), 3)


def test_no_document_is_ranked_twice() -> None:
    invariants.check_indices_unique(results((0, 1.0), (1, 0.5)))
    with pytest.raises(Violation, match=r"results\[0\] and results\[2\] both have index 1"):
        invariants.check_indices_unique(results((1, 1.0), (0, 0.5), (1, 0.2)))


@pytest.mark.parametrize(
    ("count", "top_n", "returned", "holds"),
    [
        (3, None, 3, True),
        (3, 2, 2, True),
        (3, 5, 3, True),  # top_n above the number of documents returns them all
        (3, None, 2, False),
        (3, 2, 3, False),  # top_n ignored
        (3, 5, 5, False),
    ],
)
def test_result_count_is_min_of_top_n_and_documents(
    count: int, top_n: int | None, returned: int, holds: bool
) -> None:
    given = results(*[(i, 1.0) for i in range(returned)])
    if holds:
        invariants.check_count(given, count, top_n)
    else:
        with pytest.raises(Violation, match=f"{returned} result"):
            invariants.check_count(given, count, top_n)


def test_documents_come_back_exactly_when_asked() -> None:
    docs = ["alpha", "beta"]
    asked = results((1, 0.9), (0, 0.1), documents=[{"text": "beta"}, {"text": "alpha"}])
    invariants.check_documents(asked, docs, True)
    not_asked = results((1, 0.9), (0, 0.1), documents=[MISSING, None])
    invariants.check_documents(not_asked, docs, None)
    invariants.check_documents(not_asked, docs, False)
    with pytest.raises(
        Violation, match=r"return_documents was true, but results\[0\].document is missing"
    ):
        invariants.check_documents(not_asked, docs, True)
    with pytest.raises(Violation, match=r"not sent \(absent means false\), but results\[0\]"):
        invariants.check_documents(asked, docs, None)
    with pytest.raises(Violation, match=r"return_documents was false, but results\[0\]"):
        invariants.check_documents(asked, docs, False)


def test_a_returned_string_document_is_the_document_at_its_index() -> None:
    swapped = results((1, 0.9), (0, 0.1), documents=[{"text": "alpha"}, {"text": "beta"}])
    with pytest.raises(
        Violation, match=r"results\[0\].document.text is 'alpha', but documents\[1\]"
    ):
        invariants.check_documents(swapped, ["alpha", "beta"], True)
    # Object documents only need to be there: their text form is the server's choice.
    objects = results((0, 0.5), documents=[{"text": '{"title":"x"}'}])
    invariants.check_documents(objects, [{"title": "x"}], True)


def test_usage_when_reported_adds_up() -> None:
    assert invariants.check_usage(
        {"usage": {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 5}}
    )
    # Optional in the spec: absent or null, nothing to check.
    assert invariants.check_usage({}) is False
    assert invariants.check_usage({"usage": None}) is False
    with pytest.raises(Violation, match="total_tokens is 6, but prompt_tokens \\+ completion"):
        invariants.check_usage(
            {"usage": {"prompt_tokens": 5, "completion_tokens": 0, "total_tokens": 6}}
        )
    with pytest.raises(Violation, match=r"usage\.prompt_tokens is -1"):
        invariants.check_usage(
            {"usage": {"prompt_tokens": -1, "completion_tokens": 1, "total_tokens": 0}}
        )
    with pytest.raises(Violation, match=r"usage\.total_tokens is True"):
        invariants.check_usage(
            {"usage": {"prompt_tokens": 1, "completion_tokens": 0, "total_tokens": True}}
        )


def test_identical_requests_must_rank_identically() -> None:
    first = results((1, 0.9), (0, 0.1))
    invariants.check_same_ranking(first, results((1, 0.9), (0, 0.1)))
    invariants.check_same_ranking(first, results((1, 0.9 * (1 + 1e-12)), (0, 0.1)))
    with pytest.raises(Violation, match=r"scored documents\[0\] 0.1 the first time and 0.2"):
        invariants.check_same_ranking(first, results((1, 0.9), (0, 0.2)))
    with pytest.raises(Violation, match=r"ranked indices \[0, 1\] the first time and \[1\]"):
        invariants.check_same_ranking(first, results((1, 0.9)))


def test_scores_by_index_ignores_results_that_name_no_document_for_certain() -> None:
    given = results((0, 0.9), (3, 0.8), (1, 0.5), (1, 0.4), (2, 0.1))
    assert invariants.scores_by_index(given, 3) == {0: 0.9, 2: 0.1}


def test_same_score_is_relative_with_a_floor_at_zero() -> None:
    # Float32 rounding accumulated through a model (up to about 2e-6, relative,
    # measured on real servers) is the same score; 1e-4 is not.
    assert invariants.same_score(1.0, 1.0 + 1e-7)
    assert invariants.same_score(1.0, 1.0 + 2e-6)
    assert not invariants.same_score(1.0, 1.0 + 1e-4)
    assert invariants.same_score(0.0, 1e-10)
    assert not invariants.same_score(0.0, 1e-8)
    assert invariants.first_score_difference({0: 0.5, 1: 0.2}, {1: 0.3, 2: 0.0}) == (1, 0.2, 0.3)


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (Answer(status=None, error="refused"), "no answer: refused"),
        (Answer(status=500, body={"error": {}}), "answered 500 to a valid request"),
        (Answer(status=200, body=None, text="<html>"), "not a JSON object"),
        (Answer(status=200, body={"object": "rerank"}), "no `results` list"),
        (Answer(status=200, body={"results": [3]}), r"results\[0\] is not an object"),
        (
            Answer(status=200, body={"results": [{"index": "0", "relevance_score": 1}]}),
            r"results\[0\].index is not an integer",
        ),
        (
            Answer(status=200, body={"results": [{"index": True, "relevance_score": 1}]}),
            r"results\[0\].index is not an integer",
        ),
        (
            Answer(status=200, body={"results": [{"index": 0, "relevance_score": None}]}),
            r"relevance_score is not a finite number",
        ),
    ],
)
def test_unreadable_answers_say_why(answer: Answer, reason: str) -> None:
    read = read_results(answer)
    assert isinstance(read, str)
    assert re.search(reason, read), read


def test_readable_results_keep_what_the_server_sent() -> None:
    answer = Answer(
        status=200,
        body={
            "results": [
                {"index": 1, "relevance_score": 1, "document": None},
                {"index": 0, "relevance_score": 0.5},
            ]
        },
    )
    assert read_results(answer) == [Result(0, 1, 1.0, None), Result(1, 0, 0.5, MISSING)]
