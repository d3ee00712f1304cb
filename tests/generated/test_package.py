"""The generated package is importable from the installed environment, and typed (PEP 561).

Both checks run in a subprocess from an unrelated folder, so they see what a
user of the virtualenv sees, not what pytest's own `sys.path` happens to hold.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = REPO_ROOT / "generated" / "together_rerank_generated"
VENV_BIN = REPO_ROOT / ".venv" / "bin"


def _run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MYPYPATH")}
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_package_carries_a_py_typed_marker() -> None:
    assert (PACKAGE_DIR / "py.typed").is_file()


def test_the_environment_imports_the_generated_package_from_this_tree(tmp_path: Path) -> None:
    result = _run(
        tmp_path,
        str(VENV_BIN / "python"),
        "-c",
        "import together_rerank_generated as g, together_rerank_generated.models\n"
        "print(g.__file__)",
    )
    assert result.returncode == 0, result.stderr
    imported = Path(result.stdout.strip()).resolve()
    assert imported == (PACKAGE_DIR / "__init__.py").resolve()
    assert (imported.parent / "py.typed").is_file()


@pytest.mark.slow
def test_mypy_sees_the_generated_types(tmp_path: Path) -> None:
    """Outside the repository's mypy config, `mypy --strict` reads the package's own types.

    The snippet has exactly one type error, which mypy can only find if it
    types `RerankRequest.model` as `str`: an untyped or unfound package would
    give `Any` (no error) or an import error instead.
    """
    config = tmp_path / "mypy.ini"
    config.write_text("[mypy]\n", "utf-8")
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "from together_rerank_generated.models import RerankRequest\n"
        "from together_rerank_generated.types import Unset\n"
        "\n"
        'request = RerankRequest(model="m", query="q", documents=["d"])\n'
        "top_n: int | Unset = request.top_n\n"
        "wrong: int = request.model\n",
        "utf-8",
    )
    result = _run(
        tmp_path,
        str(VENV_BIN / "mypy"),
        "--strict",
        "--no-error-summary",
        "--cache-dir",
        str(tmp_path / ".mypy_cache"),
        "--config-file",
        str(config),
        snippet.name,
    )
    errors = result.stdout.strip().splitlines()
    assert errors == [
        'snippet.py:6: error: Incompatible types in assignment (expression has type "str", '
        'variable has type "int")  [assignment]'
    ], result.stdout + result.stderr
