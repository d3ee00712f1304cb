"""A checker that cannot fail is not a checker: each broken server fails the right property.

Every server here is the real local server with exactly one promise broken
(see `broken.py`). The check must name the properties that promise is about,
and only those: every other property still passes.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import httpx
import pytest

from together_rerank.contract import ALL_PROPERTIES, Report, Status, run_check

from .broken import BREAKAGES
from .conftest import broken_server

SEED = 0
EXAMPLES = 10

EXPECTED_FAILURES = {
    "unsorted_results": {"sorted_by_score"},
    # `usage` is optional in the spec: leaving it out fails nothing; the
    # property that needs it is SKIP (EXPECTED_SKIPS).
    "missing_usage": set(),
    "inconsistent_usage": {"usage_consistent"},
    "top_n_ignored": {"result_count"},
    "documents_when_not_asked": {"return_documents"},
    "no_documents_when_asked": {"return_documents"},
    "500_when_top_n_exceeds_documents": {
        "not_a_server_error",
        "positive_data_acceptance",
        "answers_valid_requests",
    },
    "index_out_of_range": {"indices_in_range"},
    "duplicate_index": {"indices_unique"},
    "scores_depend_on_order": {"permutation_invariant"},
    "rank_fields_ignored": {"rank_fields_honoured"},
    # Answers that change from one request to the next cannot be shown to be
    # unaffected by reordering or by unranked fields either.
    "nondeterministic_scores": {"deterministic", "permutation_invariant", "rank_fields_honoured"},
    "accepts_invalid_requests": {"negative_data_rejection", "limits_enforced"},
    # One limit left unenforced fails on every run: the boundary cases are not drawn at random.
    "top_n_zero_accepted": {"limits_enforced"},
    "undeclared_status_code": {"status_code_conformance"},
    "text_plain_content_type": {"content_type_conformance"},
}

EXPECTED_SKIPS = {"missing_usage": ["usage_consistent"]}

_reports: dict[str, Report] = {}


@pytest.fixture(scope="module")
def report_for() -> Callable[[str], Report]:
    """The check of a broken server, run once per server for the whole module."""

    def run(name: str) -> Report:
        if name not in _reports:
            with broken_server(name) as server:
                # Which properties fail is the point here, not how small the examples get.
                _reports[name] = run_check(
                    server.root_url, max_examples=EXAMPLES, seed=SEED, shrink_checks=5
                )
        return _reports[name]

    return run


def test_every_broken_server_is_covered() -> None:
    assert set(EXPECTED_FAILURES) == set(BREAKAGES)
    assert set().union(*EXPECTED_FAILURES.values()) <= set(ALL_PROPERTIES)


@pytest.mark.parametrize("name", sorted(EXPECTED_FAILURES))
def test_the_check_fails_exactly_the_broken_properties(
    name: str, report_for: Callable[[str], Report]
) -> None:
    report = report_for(name)
    assert not report.ok
    assert set(report.failed) == EXPECTED_FAILURES[name], report.format()
    assert report.skipped == EXPECTED_SKIPS.get(name, []), report.format()
    for result in report.results:
        if result.status is Status.FAIL:
            assert result.message, result.name
            assert result.example is not None
            assert "request" in result.example or "first" in result.example
            assert f"FAIL {result.name}: {result.message}" in report.format()


def test_the_failing_request_is_the_smallest_and_reproduces_the_failure() -> None:
    with broken_server("unsorted_results") as server:
        report = run_check(
            server.root_url, max_examples=EXAMPLES, seed=SEED, only=["sorted_by_score"]
        )
    result = report["sorted_by_score"]
    assert result.shrunk
    assert result.example is not None
    request = result.example["request"]
    # Two documents with different scores: nothing smaller can be out of order.
    assert len(request["documents"]) == 2
    assert set(request) <= {"model", "query", "documents", "return_documents", "rank_fields"}
    with broken_server("unsorted_results") as server:
        again = httpx.post(f"{server.base_url}/rerank", json=request).json()
    scores = [r["relevance_score"] for r in again["results"]]
    assert scores == sorted(scores)
    assert scores[0] < scores[-1]
    assert again["results"] == result.example["response"]["body"]["results"]


def test_a_server_error_is_reported_with_the_request_that_causes_it(
    report_for: Callable[[str], Report],
) -> None:
    report = report_for("500_when_top_n_exceeds_documents")
    for name in ("not_a_server_error", "answers_valid_requests"):
        example = report[name].example
        assert example is not None
        body = example["request"].get("body", example["request"])
        assert body["top_n"] > len(body["documents"])
        assert example["response"]["status"] == 500


def test_out_of_range_and_duplicate_indices_are_named_as_such(
    report_for: Callable[[str], Report],
) -> None:
    out_of_range = report_for("index_out_of_range")["indices_in_range"]
    assert out_of_range.message is not None
    assert "indices must be in 0.." in out_of_range.message
    duplicate = report_for("duplicate_index")["indices_unique"]
    assert duplicate.message is not None
    assert "both have index" in duplicate.message


def test_a_permutation_failure_shows_both_orders(report_for: Callable[[str], Report]) -> None:
    example = report_for("scores_depend_on_order")["permutation_invariant"].example
    assert example is not None
    first, second = example["first"]["request"], example["second"]["request"]
    assert [first["documents"][i] for i in example["order"]] == second["documents"]


def test_the_same_seed_gives_the_same_report() -> None:
    runs = []
    for _ in range(2):
        with broken_server("top_n_ignored") as server:
            report = run_check(
                server.root_url, max_examples=EXAMPLES, seed=7, only=["result_count"]
            )
        data = report.to_dict()
        del data["seconds"], data["base_url"]
        runs.append(json.dumps(data, sort_keys=True))
    assert runs[0] == runs[1]
