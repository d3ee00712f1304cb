"""The scale features cost nothing at import: their libraries load when first used."""

from __future__ import annotations

import json
import subprocess
import sys

LIBRARIES = ["pyrate_limiter", "cachetools", "diskcache", "tqdm"]


def _loaded_after(code: str) -> list[str]:
    report = f"print(json.dumps([m for m in {LIBRARIES!r} if m in sys.modules]))"
    probe = f"import json, sys\n{code}\n{report}"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    loaded: list[str] = json.loads(done.stdout)
    return loaded


def test_importing_the_sdk_imports_none_of_them() -> None:
    assert (
        _loaded_after("import together_rerank\nfrom together_rerank import Together, AsyncTogether")
        == []
    )


def test_each_plugin_loads_only_its_own_library() -> None:
    assert _loaded_after("from together_rerank import RateLimitPlugin") == ["pyrate_limiter"]
    assert _loaded_after("from together_rerank import CachePlugin\nCachePlugin()") == ["cachetools"]
