"""`together-rerank check URL`: the report on stdout, and an exit code scripts can act on."""

from __future__ import annotations

import json
import socket

import pytest

from together_rerank.cli import main
from together_rerank.server import LocalServer, ServerConfig

from .conftest import broken_server

QUICK = ["--max-examples", "3", "--seed", "0"]


def test_a_conforming_server_exits_0_with_every_property_passed(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", local_server.root_url, *QUICK, "--only", "sorted_by_score"])
    out, err = capsys.readouterr()
    assert code == 0, out + err
    assert "PASS  sorted_by_score" in out
    assert "Every property holds (1 checked" in out
    assert "PASS  sorted_by_score" in err  # progress, one line per property


def test_a_broken_property_exits_6_and_shows_the_failing_request(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with broken_server("unsorted_results") as server:
        only = ["--only", "sorted_by_score", "--only", "result_count"]
        code = main(["check", server.base_url, "--max-examples", "10", "--seed", "0", *only])
    out, _ = capsys.readouterr()
    assert code == 6
    assert "FAIL  sorted_by_score" in out
    assert "PASS  result_count" in out
    assert "Smallest failing example:" in out
    assert '"documents": [' in out
    assert "To reproduce: --seed 0 --max-examples 10" in out


def test_json_output_is_the_whole_report(capsys: pytest.CaptureFixture[str]) -> None:
    with broken_server("inconsistent_usage") as server:
        code = main(["check", server.root_url, *QUICK, "--only", "usage_consistent", "--json"])
    out, _ = capsys.readouterr()
    report = json.loads(out)
    assert code == 6
    assert report["ok"] is False
    (result,) = report["results"]
    assert result["name"] == "usage_consistent"
    assert result["status"] == "FAIL"
    # The SDK does not check the arithmetic: no mode of it notices.
    assert result["impact"] == "unnoticed"
    assert report["sdk_can_use"] is True
    assert report["sdk_verdict"].startswith("This SDK can use this server in default mode")
    usage = result["example"]["response"]["body"]["usage"]
    assert usage["total_tokens"] != usage["prompt_tokens"] + usage["completion_tokens"]


def test_an_unreachable_server_exits_4(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = main(["check", f"http://127.0.0.1:{port}", *QUICK, "--timeout", "2"])
    _, err = capsys.readouterr()
    assert code == 4
    assert f"cannot reach http://127.0.0.1:{port}" in err


def test_a_refused_key_exits_5_without_showing_it(capsys: pytest.CaptureFixture[str]) -> None:
    with LocalServer(ServerConfig(api_key="sk-right")) as server:
        code = main(["check", server.root_url, *QUICK, "--api-key", "sk-wrong-key"])
    _, err = capsys.readouterr()
    assert code == 5
    assert "refused the API key" in err
    assert "sk-wrong-key" not in err


def test_an_unknown_model_exits_5(
    local_server: LocalServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["check", local_server.root_url, *QUICK, "--model", "no/such-model"])
    _, err = capsys.readouterr()
    assert code == 5
    assert "'no/such-model' got 404" in err


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--only", "no_such_property"], "unknown property no_such_property"),
        (["--max-examples", "0"], "max_examples: must be an integer >= 1"),
        ([], "base_url: must be an http(s) URL"),
    ],
)
def test_bad_arguments_exit_2(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    url = "ftp://127.0.0.1" if not arguments else "http://127.0.0.1:9"
    code = main(["check", url, *arguments])
    _, err = capsys.readouterr()
    assert code == 2
    assert message in err
