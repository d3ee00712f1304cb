"""The checker's verdicts on real servers' shapes: every FAIL deserved, and what it means for users.

Each stand-in (`thirdparty.py`) answers right rankings in one real server's
form. The checker must fail only what the server really breaks, say for each
failure whether this SDK's default mode raises on it or tolerates it, and sum
up whether this SDK can use the server.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from together_rerank.contract import Report, Status, run_check
from together_rerank.contract.answers import Result
from together_rerank.contract.check import read_model_list
from together_rerank.contract.impact import Impact, judge_answer
from together_rerank.contract.invariants import check_documents, check_usage, same_score
from together_rerank.contract.properties import Violation

from .thirdparty import EMBEDDING_MODEL, RERANK_MODEL, model_list, third_party_server

SEED = 3
EXAMPLES = 10

# What each server deserves: the FAILs and what each means for this SDK's default mode.
EXPECTED = {
    "vllm": {
        # Object documents refused (400): calls with them raise.
        "answers_valid_requests": Impact.RAISES,
        "positive_data_acceptance": Impact.RAISES,
        # No `object`, no `completion_tokens`, documents never asked for: normalised.
        "response_schema_conformance": Impact.TOLERATED,
        "return_documents": Impact.TOLERATED,
        # top_n 0 means "all" to vLLM; this SDK never sends it.
        "limits_enforced": Impact.TOLERATED,
    },
    "infinity": {
        # Object documents refused (422).
        "answers_valid_requests": Impact.RAISES,
        "response_schema_conformance": Impact.TOLERATED,
        # Documents come back as bare strings: wrapped by the SDK.
        "return_documents": Impact.TOLERATED,
    },
    "litellm": {"response_schema_conformance": Impact.TOLERATED},
}

# Deserved too, when the generated examples happen to show it (schemathesis
# generating an object document): never a FAIL of another kind.
MAY_FAIL = {"infinity": {"positive_data_acceptance": Impact.RAISES}}

_reports: dict[str, Report] = {}


@pytest.fixture(scope="module")
def report_for() -> Callable[[str], Report]:
    def run(name: str) -> Report:
        if name not in _reports:
            with third_party_server(name) as server:
                # As users address each: infinity at the root, by its endpoint's URL.
                url = f"{server.root_url}/rerank" if name == "infinity" else server.root_url
                _reports[name] = run_check(url, max_examples=EXAMPLES, seed=SEED, shrink_checks=3)
        return _reports[name]

    return run


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_only_deserved_failures_each_with_its_meaning_for_this_sdk(
    name: str, report_for: Callable[[str], Report]
) -> None:
    report = report_for(name)
    text = report.format()
    failed = {r.name: r.impact for r in report.results if r.status is Status.FAIL}
    optional = {k: v for k, v in failed.items() if k not in EXPECTED[name]}
    assert {k: v for k, v in failed.items() if k in EXPECTED[name]} == EXPECTED[name], text
    assert optional.items() <= MAY_FAIL.get(name, {}).items(), text
    for result in report.results:
        if result.status is Status.FAIL:
            assert result.impact is not None
            assert f"For this SDK: {result.impact.explanation}." in text
            assert result.to_dict()["impact"] == result.impact.value
    # A plain call works in default mode on all three.
    assert report.plain_call_error is None
    assert text.endswith(report.sdk_verdict)
    assert report.to_dict()["sdk_can_use"] is True


def test_the_summary_says_whether_this_sdk_can_use_the_server(
    report_for: Callable[[str], Report],
) -> None:
    assert report_for("litellm").sdk_verdict.startswith(
        "This SDK can use this server in default mode; strict=True would raise"
    )
    assert report_for("vllm").sdk_verdict == (
        "This SDK can use this server, but some calls raise in default mode: "
        "positive_data_acceptance, answers_valid_requests."
    )


def test_model_discovery_reads_openai_lists(report_for: Callable[[str], Report]) -> None:
    # infinity's list (capabilities) and LiteLLM's (mode): the models they serve are checked,
    # so limits_enforced and positive_data_acceptance test models the server has.
    for name in ("infinity", "litellm"):
        report = report_for(name)
        assert report.model == RERANK_MODEL
        assert report.embedding_model == EMBEDDING_MODEL
        assert report["limits_enforced"].status is Status.PASS, report.format()
    # vLLM lists its one model without saying what it does: it is the one checked.
    assert report_for("vllm").model == RERANK_MODEL


def test_a_rerank_only_server_gets_no_embeddings_failure(
    report_for: Callable[[str], Report],
) -> None:
    report = report_for("vllm")
    assert any("POST /embeddings" in note and "404" in note for note in report.notes)
    for result in report.results:
        assert "embeddings" not in (result.message or ""), result.message


def test_no_embeddings_option_leaves_embeddings_out() -> None:
    with third_party_server("litellm") as server:
        report = run_check(
            server.root_url,
            max_examples=3,
            seed=SEED,
            embeddings=False,
            only=["not_a_server_error"],
        )
    assert "POST /embeddings not checked (--no-embeddings)" in report.notes


def test_usage_absent_is_optional_not_a_failure(report_for: Callable[[str], Report]) -> None:
    usage = report_for("litellm")["usage_consistent"]
    assert usage.status is Status.SKIP
    assert usage.message is not None
    assert "optional" in usage.message
    # infinity's usage lacks completion_tokens, and adds up when it is read as 0.
    assert report_for("infinity")["usage_consistent"].status is Status.PASS


def test_every_schema_violation_of_a_body_is_listed(report_for: Callable[[str], Report]) -> None:
    message = report_for("litellm")["response_schema_conformance"].message
    assert message is not None
    assert "2 schema violation(s)" in message
    assert "'object' is a required property" in message
    assert "'model' is a required property" in message


# --- the pieces --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("listed", "rerank", "embedding", "other"),
    [
        (
            [{"id": "r", "type": "rerank"}, {"id": "e", "type": "embedding"}, {"id": "c"}],
            ("r",),
            ("e",),
            ("c",),
        ),
        (model_list("infinity"), (RERANK_MODEL,), (EMBEDDING_MODEL,), ()),
        (model_list("litellm"), (RERANK_MODEL,), (EMBEDDING_MODEL,), ()),
        (model_list("vllm"), (), (), (RERANK_MODEL,)),
        ({"detail": "Not Found"}, (), (), ()),
    ],
    ids=["together", "infinity", "litellm", "vllm", "not a list"],
)
def test_model_lists_are_read_in_every_known_form(
    listed: object, rerank: tuple[str, ...], embedding: tuple[str, ...], other: tuple[str, ...]
) -> None:
    found = read_model_list(listed)
    assert (found.rerank, found.embedding, found.other) == (rerank, embedding, other)


def test_scores_equal_up_to_float32_rounding_are_the_same() -> None:
    # infinity's permutation_invariant FAIL was a difference of 6e-8 on a score of ~0.5.
    assert same_score(0.51234567, 0.51234567 + 6e-8)
    assert same_score(3.0e-3, 3.0e-3 * (1 + 5e-7))
    assert not same_score(0.5, 0.5 + 1e-5)
    assert not same_score(0.5, 0.499)


def _results(*documents: object) -> list[Result]:
    return [Result(i, i, 1.0 - i / 10, document) for i, document in enumerate(documents)]


def test_every_violation_of_an_answer_is_listed() -> None:
    with pytest.raises(Violation) as info:
        check_documents(_results("x", {"text": "wrong"}, None), ["a", "b", "c"], True)
    message = info.value.message
    assert message.startswith("3 violations: ")
    assert "results[0].document is not an object" in message
    assert "results[1].document.text is 'wrong'" in message
    assert "results[2].document is missing" in message


def test_usage_counters_are_read_as_the_sdk_reads_them() -> None:
    assert check_usage({}) is False  # nothing to check: optional
    assert check_usage({"usage": None}) is False
    assert check_usage({"usage": {"prompt_tokens": 5, "total_tokens": 5}}) is True
    with pytest.raises(Violation, match="total_tokens is 6, but prompt_tokens"):
        check_usage({"usage": {"prompt_tokens": 5, "total_tokens": 6}})


@pytest.mark.parametrize(
    ("body", "impact"),
    [
        (b'{"object":"rerank","model":"m","results":[{"index":0,"relevance_score":1}]}', None),
        (b'{"results":[{"index":0,"relevance_score":1}]}', Impact.TOLERATED),
        (
            b'{"object":"rerank","model":"m","results":[{"index":3,"relevance_score":1}]}',
            Impact.RAISES,
        ),
        (b"<html>", Impact.RAISES),
        (b'{"object":"rerank","model":"m","results":[]}', Impact.UNNOTICED),
    ],
    ids=["spec form", "form deviation", "wrong ranking", "not JSON", "valid but empty"],
)
def test_an_answer_is_judged_by_the_sdks_own_parsers(body: bytes, impact: Impact | None) -> None:
    request = {"model": "m", "query": "q", "documents": ["a", "b"]}
    judged = judge_answer("rerank", request, 200, body)
    assert judged is (impact or Impact.UNNOTICED)
    assert judge_answer("rerank", request, 422, b"{}") is Impact.RAISES


def test_the_cli_checks_a_root_mounted_rerank_only_server(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from together_rerank.cli import main

    with third_party_server("infinity") as server:
        root = server.root_url
        code = main(
            [
                "check",
                f"{server.root_url}/rerank",
                "--no-embeddings",
                "--only",
                "sorted_by_score",
                "--only",
                "not_a_server_error",
                "--max-examples",
                "5",
                "--seed",
                "1",
                "--json",
            ]
        )
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report
    assert report["model"] == RERANK_MODEL  # discovered from infinity's OpenAI list
    assert "POST /embeddings not checked (--no-embeddings)" in report["notes"]
    assert report["sdk_can_use"] is True
    assert report["base_url"] == root
