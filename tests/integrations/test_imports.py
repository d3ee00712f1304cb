"""`import together_rerank` stays light: no framework is imported until an adapter is."""

from __future__ import annotations

import json
import subprocess
import sys

FRAMEWORKS = ("langchain_core", "langchain_classic", "langchain", "llama_index")


def imported_after(statement: str) -> set[str]:
    """The framework packages loaded by a fresh interpreter after running `statement`."""
    code = (
        f"import json, sys\n{statement}\n"
        f"print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}} & {set(FRAMEWORKS)!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    return set(json.loads(done.stdout))


def test_importing_the_sdk_and_the_integrations_package_imports_no_framework() -> None:
    statement = (
        "import together_rerank, together_rerank.integrations\nfrom together_rerank import *"
    )
    assert imported_after(statement) == set()


def test_each_adapter_imports_only_its_own_framework() -> None:
    # The check above can fail: importing an adapter does load its framework.
    assert imported_after("import together_rerank.integrations.langchain") == {"langchain_core"}
    assert imported_after("import together_rerank.integrations.llama_index") == {"llama_index"}
