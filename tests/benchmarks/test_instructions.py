"""`benchmarks/instructions.py`: its workload runs for both clients (no valgrind needed)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("client", ["aiohttp", "AsyncTogether"])
def test_the_workload_completes_its_calls(client: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "instructions.py"),
            "--client",
            client,
            "--calls",
            "40",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    # Every call's answer is checked (raise_for_status, the SDK's validation): a
    # failed call ends the run with a traceback and a non-zero status.
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
