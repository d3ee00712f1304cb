"""`check`: a SKIP is a warning, not a failure; bad options are usage errors; HTML is never JSON."""

from __future__ import annotations

import json

import pytest
from starlette.types import Receive, Scope, Send

from together_rerank import InvalidArgumentError
from together_rerank.cli import main
from together_rerank.cli._common import EXIT_BAD_INPUT, EXIT_CHECK_SKIPPED, EXIT_OK
from together_rerank.contract import Status, run_check
from together_rerank.server import LocalServer

# One example is either a valid or an invalid request, never both, so exactly one of these
# two properties (one checks valid requests only, the other invalid ones) cannot be checked.
ONE_EXAMPLE = [
    "--max-examples", "1", "--seed", "0",
    "--only", "positive_data_acceptance", "--only", "negative_data_rejection",
]  # fmt: skip


def test_a_skip_on_a_conforming_server_exits_0_with_a_warning(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", local_server.base_url, *ONE_EXAMPLE])
    out, err = capsys.readouterr()
    assert code == EXIT_OK, out + err
    assert "SKIP  " in out
    assert "FAIL" not in out
    assert "No property failed; 1 of 2 could not be checked" in out
    assert "warning: not checked (SKIP)" in err


def test_fail_on_skip_gives_a_skip_its_own_exit_code(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", local_server.base_url, *ONE_EXAMPLE, "--fail-on-skip"])
    capsys.readouterr()
    assert code == EXIT_CHECK_SKIPPED


def test_the_json_report_says_it_conforms_but_is_not_all_passed(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    main(["check", local_server.base_url, *ONE_EXAMPLE, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["conforms"] is True
    assert report["ok"] is False
    assert sorted(r["status"] for r in report["results"]) == ["PASS", "SKIP"]


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_a_bad_timeout_is_a_usage_error_naming_it(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", "http://127.0.0.1:9", "--timeout", value])
    _, err = capsys.readouterr()
    assert code == EXIT_BAD_INPUT
    assert "timeout: must be a finite number of seconds > 0" in err
    assert "cannot reach" not in err
    assert "Traceback" not in err


@pytest.mark.parametrize("value", [-1, 0, float("nan"), float("inf"), True, "5"])
def test_run_check_refuses_a_bad_timeout_before_sending_anything(value: object) -> None:
    with pytest.raises(InvalidArgumentError, match=r"^timeout: "):
        run_check("http://127.0.0.1:9", timeout=value)  # type: ignore[arg-type]


async def _html_everywhere(scope: Scope, receive: Receive, send: Send) -> None:
    if scope["type"] != "http":
        return
    body = b"<html><body>Welcome to nginx!</body></html>"
    headers = [(b"content-type", b"text/html"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def test_a_server_answering_html_to_everything_fails_the_schema_check() -> None:
    with LocalServer(app=_html_everywhere) as server:
        report = run_check(
            server.base_url, max_examples=5, seed=0, only=["response_schema_conformance"]
        )
    result = report["response_schema_conformance"]
    assert result.status is Status.FAIL
    assert result.message is not None
    assert "not JSON (text/html)" in result.message
