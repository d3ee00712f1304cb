"""`bench.py --quick` runs end to end and prints every row: a smoke test, no timing asserts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
QUICK = ["--quick", "--no-serving"]


def test_quick_bench_prints_every_row(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        # The serving section (minutes of model servers) has its own tests.
        [sys.executable, str(ROOT / "benchmarks" / "bench.py"), *QUICK, "--json", str(out)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(out.read_text())["rows"]
    names = [row["name"] for row in rows]
    for expected in (
        "small call",
        "large call",
        "async throughput",
        "import time",
        "peak extra memory",
        "batched rerank",
        "create_many",
        "cached second pass",
        "async vs bare aiohttp, c=4",
        "async vs bare aiohttp, c=64",
        "async vs bare aiohttp, c=256",
        "async client CPU/request vs aiohttp, c=64",
    ):
        assert any(name.startswith(expected) for name in names), names
    for row in rows:
        assert row["ours"] > 0
        assert row["baseline"] > 0
        assert row["name"] in done.stdout
