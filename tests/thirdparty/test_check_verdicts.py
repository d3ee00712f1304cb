"""`together-rerank check URL` against real third-party servers: the verdicts each deserves.

Every FAIL below is a real difference from openapi.yaml, named in
docs/compatibility.md; anything else failing is the checker misjudging the
server. Each server's summary says this SDK can use it.

Not deserved, for example: `deterministic` or `permutation_invariant` failing
on a float32 model whose scores differ in their last bits between two
computations (about 1e-6 relative with the 128-wide cross-encoder here).
"""

from __future__ import annotations

import json

import pytest

from together_rerank.cli import main
from together_rerank.contract import ALL_PROPERTIES

from .conftest import Target

# Enough examples that every deserved FAIL shows (10 miss infinity's bare-string documents).
SEED = ["--seed", "1", "--max-examples", "30"]

# name -> (properties that FAIL, properties that SKIP, what each FAIL means for this SDK)
EXPECTED: dict[str, tuple[set[str], set[str], dict[str, str]]] = {}
EXPECTED["infinity"] = EXPECTED["infinity-v1"] = (
    {
        # usage without completion_tokens; with return_documents, bare-string documents
        "response_schema_conformance",
        "return_documents",
        # object documents, which the spec allows, are refused with 422
        "positive_data_acceptance",
        "answers_valid_requests",
    },
    # With every object document refused there is nothing to judge rank_fields on.
    {"rank_fields_honoured"},
    {
        "response_schema_conformance": "tolerated",
        "return_documents": "tolerated",
        "positive_data_acceptance": "raises",
        "answers_valid_requests": "raises",
    },
)
EXPECTED["vllm"] = (
    {
        # no `object`, no `completion_tokens`, documents sent though not asked for
        "response_schema_conformance",
        "return_documents",
        # top_n 0 means "all" to vLLM (this SDK never sends 0)
        "limits_enforced",
        # `model` is optional to vLLM: "" is accepted (the spec's minLength is 1)
        "negative_data_rejection",
        # object documents refused with 400
        "positive_data_acceptance",
        "answers_valid_requests",
    },
    {"rank_fields_honoured"},
    {
        "response_schema_conformance": "tolerated",
        "return_documents": "tolerated",
        "limits_enforced": "tolerated",
        "negative_data_rejection": "tolerated",
        "positive_data_acceptance": "raises",
        "answers_valid_requests": "raises",
    },
)
EXPECTED["litellm"] = (
    {
        # a body of the byte 0x80 gets a 500 (a spec-invalid request must get a 4xx)
        "not_a_server_error",
        "negative_data_rejection",
        # rerank answers in Cohere's shape: no `object`, no `model`
        "response_schema_conformance",
    },
    # no usage at all (only Cohere's meta.billed_units): optional in the spec, nothing to add up
    {"usage_consistent"},
    {
        # the SDK never sends such a body: its calls are not affected
        "not_a_server_error": "tolerated",
        "negative_data_rejection": "tolerated",
        "response_schema_conformance": "tolerated",
    },
)


# FAILs that show only when schemathesis happens to draw the request that exposes
# them (the draws move whenever the spec or the checker's strategies change):
# each is deserved when it shows, and its meaning for this SDK is still asserted.
MAY_FAIL: dict[str, set[str]] = {
    # `model: ""` is one negative example among many
    "vllm": {"negative_data_rejection"},
}


def test_check_gives_each_property_the_verdict_the_server_deserves(
    real_target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    target = real_target
    args = ["check", target.check_url, "--model", target.rerank_model, *SEED, "--json"]
    if target.api_key is not None:
        args += ["--api-key", target.api_key]
    code = main(args)
    out, err = capsys.readouterr()
    report = json.loads(out)
    fails, skips, impacts = EXPECTED[target.name]
    status = {result["name"]: result["status"] for result in report["results"]}
    assert len(status) == len(ALL_PROPERTIES), out
    failed = {name for name, verdict in status.items() if verdict == "FAIL"}
    may_fail = MAY_FAIL.get(target.name, set())
    assert fails - may_fail <= failed <= fails, out
    assert {name for name, verdict in status.items() if verdict == "SKIP"} == skips, out
    impact = {result["name"]: result.get("impact") for result in report["results"]}
    assert {name: impact[name] for name in failed} == {
        name: meaning for name, meaning in impacts.items() if name in failed
    }, out
    assert code == (6 if fails else 0)
    assert report["sdk_can_use"] is True, out
    # The key never shows, though the proxy echoes parts of what it was sent.
    if target.api_key is not None:
        assert target.api_key not in out + err


def test_check_report_ends_with_the_sdk_verdict(
    litellm_proxy: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", litellm_proxy.check_url, "--api-key", str(litellm_proxy.api_key)]
    main(
        [
            *args,
            "--model",
            litellm_proxy.rerank_model,
            *SEED,
            "--only",
            "response_schema_conformance",
        ]
    )
    out, _ = capsys.readouterr()
    assert "FAIL  response_schema_conformance" in out
    assert "For this SDK:" in out  # what the FAIL means, under its example
    assert out.rstrip().splitlines()[-1].startswith("This SDK can use this server"), out
