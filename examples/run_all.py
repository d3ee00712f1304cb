"""`make demo`: run every example against the embedded local server.

Starts the local Together-compatible server on a free loopback port, runs each
example in its own interpreter with TOGETHER_BASE_URL pointing at it (and no
API key), prints what each prints, and stops the server. Exits non-zero if an
example fails.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from together_rerank.server import LocalServer

EXAMPLES = sorted(Path(__file__).parent.glob("[0-9][0-9]_*.py"))


def main() -> int:
    """Run every example; return the number that failed."""
    failures = 0
    with LocalServer() as server:
        env = {**os.environ, "TOGETHER_BASE_URL": server.base_url}
        env.pop("TOGETHER_API_KEY", None)
        engines = ", ".join(sorted(set(server.config.models.values())))
        print(f"Local server (engines: {engines}) at {server.base_url}\n")
        for example in EXAMPLES:
            print(f"=== {example.name}")
            done = subprocess.run(
                [sys.executable, str(example)], env=env, capture_output=True, text=True, timeout=60
            )
            print(done.stdout, end="")
            if done.returncode != 0:
                failures += 1
                print(done.stderr, end="", file=sys.stderr)
                print(f"--- {example.name} failed (exit {done.returncode})", file=sys.stderr)
            print()
    return failures


if __name__ == "__main__":
    sys.exit(1 if main() else 0)
