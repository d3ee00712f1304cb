"""`import together_rerank` stays light: no framework is imported until an adapter is."""

from __future__ import annotations

import json
import subprocess
import sys

FRAMEWORKS = {"langchain_core", "langchain_classic", "langchain", "llama_index"}

# One fresh interpreter, importing step by step and noting which frameworks each step loaded.
SCRIPT = f"""
import json, sys

def frameworks():
    return sorted({{name.split(".")[0] for name in sys.modules}} & {FRAMEWORKS!r})

steps = {{}}
import together_rerank, together_rerank.integrations
from together_rerank import *
steps["sdk"] = frameworks()
import together_rerank.integrations.langchain
steps["langchain"] = frameworks()
import together_rerank.integrations.llama_index
steps["llama_index"] = frameworks()
print(json.dumps(steps))
"""


def test_importing_the_sdk_imports_no_framework_and_each_adapter_only_its_own() -> None:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], capture_output=True, text=True, check=True, timeout=180
    )
    steps = json.loads(done.stdout)
    assert steps["sdk"] == []
    # The same check sees a framework once an adapter brings it in.
    assert steps["langchain"] == ["langchain_core"]
    assert steps["llama_index"] == ["langchain_core", "llama_index"]
