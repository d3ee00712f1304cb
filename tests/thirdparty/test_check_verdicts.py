"""`together-rerank check URL` against real third-party servers: the verdicts each deserves.

Every FAIL below is a real difference from openapi.yaml, named in
docs/compatibility.md; anything else failing is the checker misjudging the
server. Each server's summary says this SDK can use it.
"""

from __future__ import annotations

import re

import pytest

from together_rerank.cli import main

from .conftest import Target

SEED = ["--seed", "1", "--max-examples", "10"]

INFINITY_FAILS = {
    # usage without completion_tokens; with return_documents a bare-string document
    "response_schema_conformance",
    # object documents, which the spec allows, are refused with 422
    "positive_data_acceptance",
    "answers_valid_requests",
}
# With every object document refused there is nothing to judge rank_fields on.
INFINITY_SKIPS = {"rank_fields_honoured"}

EXPECTED: dict[str, tuple[set[str], set[str]]] = {
    "infinity": (INFINITY_FAILS, INFINITY_SKIPS),
    "infinity-v1": (INFINITY_FAILS, INFINITY_SKIPS),
    "litellm": (
        {
            # a body of the byte 0x80 gets a 500 (a spec-invalid request must get a 4xx)
            "not_a_server_error",
            "negative_data_rejection",
            # rerank answers in Cohere's shape: no `object`, no `model`
            "response_schema_conformance",
        },
        set(),
    ),
}


def verdicts(report: str) -> dict[str, str]:
    """Property name -> PASS/FAIL/SKIP, from the report's one-line-per-property table."""
    found = re.findall(r"^  (PASS|FAIL|SKIP)  (\w+) ", report, flags=re.MULTILINE)
    return {name: status for status, name in found}


def test_check_gives_each_property_the_verdict_the_server_deserves(
    target: Target, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["check", target.check_url, "--model", target.rerank_model, *SEED]
    if target.api_key is not None:
        args += ["--api-key", target.api_key]
    code = main(args)
    out, err = capsys.readouterr()
    fails, skips = EXPECTED[target.name]
    found = verdicts(out)
    assert len(found) == 17, out + err
    assert {name for name, status in found.items() if status == "FAIL"} == fails, out
    assert {name for name, status in found.items() if status == "SKIP"} == skips, out
    assert code == (6 if fails else 0)
    assert "this SDK can use this server" in out, out
    # The API key never shows, even though the proxy echoes parts of requests.
    if target.api_key is not None:
        assert target.api_key not in out + err
