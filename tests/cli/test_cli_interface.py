"""The command's interface: --version, the exit codes each --help lists, --queries' exit codes."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from .test_cli import run_cli

ROOT = Path(__file__).resolve().parents[2]


def test_version_prints_the_version_of_the_code_that_runs() -> None:
    source = (ROOT / "together_rerank" / "_version.py").read_text(encoding="utf-8")
    match = re.search(r'__version__ = "([^"]+)"', source)
    assert match is not None
    done = run_cli("--version")
    assert done.returncode == 0
    assert done.stdout == f"together-rerank {match.group(1)}\n"
    # The installed console script, as users call it.
    script = shutil.which("together-rerank", path=str(Path(sys.executable).parent))
    assert script is not None
    installed = subprocess.run(
        [script, "--version"], capture_output=True, text=True, check=False, timeout=60
    )
    assert installed.stdout == done.stdout


@pytest.mark.parametrize(
    ("command", "codes"),
    [
        ([], {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 130}),
        (["rerank"], {0, 2, 3, 4, 5, 130}),
        (["serve"], {0, 2, 7}),
        (["check"], {0, 2, 4, 5, 6, 8}),
        (["spec-diff"], {0, 2, 9}),
    ],
)
def test_each_help_lists_the_exit_codes_of_its_command(command: list[str], codes: set[int]) -> None:
    done = run_cli(*command, "--help")
    assert done.returncode == 0
    _, found, table = done.stdout.partition("\nexit codes:\n")
    assert found, done.stdout
    listed = {int(m) for m in re.findall(r"^  (\d+) +\S", table, flags=re.M)}
    assert listed == codes


def test_queries_against_an_unreachable_server_exit_4_and_stop(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path / "queries.jsonl"
    path.write_text(
        "".join(json.dumps({"query": f"q{i}", "documents": ["d"]}) + "\n" for i in range(4)),
        encoding="utf-8",
    )
    done = run_cli(
        "rerank", "--queries", str(path), "--concurrency", "1",
        base_url=f"http://127.0.0.1:{port}/v1",
    )  # fmt: skip
    assert done.returncode == 4, done.stderr
    assert f"cannot reach http://127.0.0.1:{port}/v1" in done.stderr
    assert "input lines from 2 on were not run" in done.stderr
    # The query that found the server gone is reported on its line, and nothing after it ran.
    (only,) = (json.loads(line) for line in done.stdout.splitlines())
    assert only["line"] == 1
    assert only["error"]["type"] == "APIConnectionError"
