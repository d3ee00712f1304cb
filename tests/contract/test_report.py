"""The report: one line per property, every failure with its example, no secrets."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.types import Message, Receive, Scope, Send

from together_rerank.contract import Level, PropertyResult, Report, Status, run_check
from together_rerank.contract.report import pretty_json
from together_rerank.server import LocalServer, ServerConfig, create_app

from .broken import BREAKAGES, BrokenServer


def result(name: str, status: Status, **fields: Any) -> PropertyResult:
    defaults: dict[str, Any] = {"examples": 10, "checked": 10}
    return PropertyResult(
        name, Level.SEMANTIC, f"summary of {name}", status, **{**defaults, **fields}
    )


REPORT = Report(
    base_url="http://127.0.0.1:8000/v1",
    model="m",
    embedding_model="e",
    seed=42,
    max_examples=10,
    results=[
        result("holds", Status.PASS),
        result("holds_partly", Status.PASS, checked=4),
        result(
            "broken",
            Status.FAIL,
            examples=3,
            message="results[1] is out of order",
            example={"request": {"query": "q", "documents": ["a", "b"]}},
        ),
        result(
            "broken_late",
            Status.FAIL,
            message="too slow to shrink",
            example={"request": {}},
            shrunk=False,
        ),
        result("untestable", Status.SKIP, checked=0, message="no usable answer"),
    ],
    seconds=1.5,
)


def test_each_property_gets_a_verdict_line() -> None:
    text = REPORT.format()
    assert "  PASS  holds         summary of holds  (10 examples)" in text
    assert "PASS  holds_partly  summary of holds_partly  (checked on 4 of 10 examples)" in text
    assert "FAIL  broken        summary of broken  (failed on example 3)" in text
    assert "SKIP  untestable" in text


def test_each_problem_is_explained_with_its_example() -> None:
    text = REPORT.format()
    assert "FAIL broken: results[1] is out of order\n  Smallest failing example:" in text
    assert '{"request": {"query": "q", "documents": ["a", "b"]}}' in text
    assert "FAIL broken_late: too slow to shrink\n  Failing example (not fully shrunk):" in text
    assert "SKIP untestable: no usable answer" in text
    assert text.endswith(
        "3 of 5 properties did not hold (1.5 s). "
        "To reproduce: --seed 42 --max-examples 10 (add --only NAME for one property).\n"
        # Failures of unknown impact count as breaking this SDK.
        "This SDK can use this server, but some calls raise in default mode: broken, broken_late."
    )


def test_the_verdict_lists() -> None:
    assert not REPORT.ok
    assert REPORT.failed == ["broken", "broken_late"]
    assert REPORT.skipped == ["untestable"]
    assert REPORT.passed == ["holds", "holds_partly"]
    assert REPORT["broken"].examples == 3


def test_the_json_form_round_trips() -> None:
    data = json.loads(json.dumps(REPORT.to_dict()))
    assert data["ok"] is False
    assert data["seed"] == 42
    assert [r["status"] for r in data["results"]] == ["PASS", "PASS", "FAIL", "FAIL", "SKIP"]
    assert data["results"][2]["example"] == {"request": {"query": "q", "documents": ["a", "b"]}}
    assert data["results"][3]["shrunk"] is False


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: st.lists(children) | st.dictionaries(st.text(), children),
    max_leaves=15,
)


@settings(max_examples=60, deadline=None)
@given(JSON, st.integers(min_value=10, max_value=120))
def test_pretty_json_is_json_and_keeps_lines_short_when_it_can(value: Any, width: int) -> None:
    text = pretty_json(value, width=width)
    assert json.loads(text) == value
    flat = json.dumps(value, ensure_ascii=False)
    if len(flat) <= width:
        assert text == flat


def test_the_api_key_never_appears_in_a_report() -> None:
    key = "sk-contract-SECRET-77"
    inner = create_app(ServerConfig(api_key=key))
    breakage = BREAKAGES["500_when_top_n_exceeds_documents"]
    with LocalServer(app=BrokenServer(breakage, inner)) as server:
        report = run_check(
            server.root_url,
            api_key=key,
            max_examples=10,
            seed=0,
            only=["not_a_server_error", "answers_valid_requests"],
            shrink_checks=10,
        )
    # Failures at both levels, each showing its request, and the key in neither.
    assert report.failed == ["not_a_server_error", "answers_valid_requests"]
    assert key not in report.format()
    assert key not in json.dumps(report.to_dict())


ECHOED_KEY = "sk-contract-echo-5Yq8Lm2Pz7Rt"


class EchoingServer:
    """The real server, but every POST is refused with an error quoting its Authorization header."""

    def __init__(self) -> None:
        self.inner = create_app()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST":
            await self.inner(scope, receive, send)
            return
        while (await receive()).get("more_body"):
            pass
        headers = dict(scope["headers"])
        auth = headers.get(b"authorization", b"").decode("latin-1")
        body = json.dumps(
            {"error": {"message": f"key {auth} is not valid here", "type": "invalid_request_error"}}
        ).encode()
        start: Message = {
            "type": "http.response.start",
            "status": 400,
            "headers": [(b"content-type", b"application/json"), (b"x-echo", auth.encode())],
        }
        await send(start)
        await send({"type": "http.response.body", "body": body})


def test_an_echoed_key_is_redacted_from_every_part_of_the_report() -> None:
    """Failed before: the failing example printed the server's answer with the key in it."""
    streamed: list[PropertyResult] = []
    with LocalServer(app=EchoingServer()) as server:
        report = run_check(
            server.root_url,
            api_key=ECHOED_KEY,
            max_examples=3,
            seed=0,
            only=["positive_data_acceptance", "answers_valid_requests"],
            on_result=streamed.append,
        )
    assert set(report.failed) == {"positive_data_acceptance", "answers_valid_requests"}
    shown = report.format() + json.dumps(report.to_dict())
    shown += "".join(json.dumps(result.to_dict()) for result in streamed)
    assert ECHOED_KEY not in shown
    assert "<redacted>" in shown  # the echo was there to hide
