"""`make check-generated` catches a spec that moved without generated/, and generation is stable.

Each test works on a copy of the files generation depends on (openapi.yaml,
generator/, generated/, Makefile, pyproject.toml; modification times kept) in a
temporary folder whose `.venv` is a symlink to this repository's virtualenv, and
runs the real Makefile targets there. `make -o .venv/.installed` tells make to
treat the install stamp as up to date whatever the times say, so these tests
can never reinstall the shared virtualenv, let alone point its editable install
at a temporary folder.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GEN_PKG = "together_rerank_generated"
# The facade's typed surface, written by generator/facade.py.
FACADE_FILES = (
    "together_rerank/types/_models.py",
    "together_rerank/resources/_signatures.py",
    "together_rerank/cli/_options.py",
)
COPIED = (
    "openapi.yaml",
    "generator",
    "generated",
    "Makefile",
    "pyproject.toml",
    "together_rerank/_spec.py",
    *FACADE_FILES,
)

pytestmark = pytest.mark.slow


def _tree(root: Path) -> dict[str, bytes]:
    """Every file under `root` (caches aside), by relative path, with its bytes."""
    return {
        path.relative_to(root).as_posix(): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    }


def _environment() -> dict[str, str]:
    """This process's environment, minus what a parent `make` passes to its children."""
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES", "PYTHONPATH"):
        env.pop(name, None)
    return env


def run(cwd: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=cwd,
        env=_environment(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def make(cwd: Path, target: str) -> subprocess.CompletedProcess[str]:
    result = run(cwd, "make", "--no-print-directory", "-o", ".venv/.installed", target)
    # Whatever make did, it must not have (re)installed anything.
    assert "pip install" not in result.stdout + result.stderr
    return result


def _output(result: subprocess.CompletedProcess[str]) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


@pytest.fixture
def repo_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in COPIED:
        source = REPO_ROOT / name
        if source.is_dir():
            shutil.copytree(source, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, copy / name)
    (copy / ".venv").symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
    return copy


def _add_model_info_property(spec_path: Path) -> None:
    spec = yaml.safe_load(spec_path.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["ModelInfo"]["properties"]["context_length"] = {
        "type": "integer",
        "minimum": 1,
        "description": "The longest input the model accepts, in tokens.",
        "example": 8192,
    }
    spec_path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")


def test_check_generated_fails_on_spec_drift_and_passes_after_generate(repo_copy: Path) -> None:
    generated = repo_copy / "generated" / GEN_PKG

    clean = make(repo_copy, "check-generated")
    assert clean.returncode == 0, "the repository itself is out of date:\n" + _output(clean)
    assert "generated/ matches openapi.yaml" in clean.stdout

    _add_model_info_property(repo_copy / "openapi.yaml")
    before = _tree(generated)
    drift = make(repo_copy, "check-generated")
    assert drift.returncode != 0, "a spec change went unnoticed:\n" + _output(drift)
    assert "generated/ is out of date with openapi.yaml: run 'make generate'" in drift.stderr
    assert "model_info.py" in drift.stdout, _output(drift)  # the diff names the stale file
    assert "context_length" in drift.stdout, _output(drift)
    assert _tree(generated) == before, "check-generated modified generated/"

    regenerate = make(repo_copy, "generate")
    assert regenerate.returncode == 0, _output(regenerate)
    assert "context_length" in (generated / "models" / "model_info.py").read_text("utf-8")
    assert not (repo_copy / ".generate-tmp").exists()

    again = make(repo_copy, "check-generated")
    assert again.returncode == 0, _output(again)


def test_check_generated_fails_on_a_stray_file(repo_copy: Path) -> None:
    """A file the spec no longer produces counts as drift too (`--overwrite` would keep it)."""
    stray = repo_copy / "generated" / GEN_PKG / "models" / "retired_model.py"
    stray.write_text("class RetiredModel: ...\n", "utf-8")
    result = make(repo_copy, "check-generated")
    assert result.returncode != 0, _output(result)
    assert "retired_model.py" in result.stdout, _output(result)

    assert make(repo_copy, "generate").returncode == 0
    assert not stray.exists()


def test_generation_is_deterministic(repo_copy: Path, tmp_path: Path) -> None:
    """Two runs of generator/run.sh write byte-identical trees."""
    runs = []
    for attempt in ("first", "second"):
        out = tmp_path / attempt / GEN_PKG
        result = run(repo_copy, "generator/run.sh", str(out))
        assert result.returncode == 0, _output(result)
        runs.append(_tree(out))
    first, second = runs
    assert "py.typed" in first
    assert "models/rerank_request.py" in first
    assert sorted(first) == sorted(second)
    differing = [path for path in first if first[path] != second[path]]
    assert not differing, f"files that differ between two runs: {differing}"


def test_a_different_generator_version_is_reported_as_such(repo_copy: Path) -> None:
    """Not as spec drift: the stamp says which tools wrote generated/."""
    stamp = repo_copy / "generated" / GEN_PKG / "GENERATOR"
    lines = stamp.read_text("utf-8").splitlines()
    assert any(line.startswith("openapi-python-client ") for line in lines)
    assert any(line.startswith("ruff ") for line in lines)
    stamp.write_text(
        "\n".join(
            "openapi-python-client 0.28.4" if line.startswith("openapi-python-client") else line
            for line in lines
        )
        + "\n",
        "utf-8",
    )
    result = make(repo_copy, "check-generated")
    assert result.returncode != 0, _output(result)
    assert "written by other tool versions" in result.stderr, _output(result)
    assert "generated/ has openapi-python-client 0.28.4" in result.stderr, _output(result)
    assert "installed is openapi-python-client 0.29.1" in result.stderr, _output(result)
    assert "out of date with openapi.yaml" not in result.stderr


def test_check_generated_covers_the_spec_constants(repo_copy: Path) -> None:
    constants = repo_copy / "together_rerank" / "_spec.py"
    constants.write_text(constants.read_text("utf-8").replace('"minimum": 1', '"minimum": 2'))
    result = make(repo_copy, "check-generated")
    assert result.returncode != 0, _output(result)
    assert "together_rerank/_spec.py is out of date with openapi.yaml" in result.stderr
    assert make(repo_copy, "generate").returncode == 0
    assert '"minimum": 1' in constants.read_text("utf-8")
    assert make(repo_copy, "check-generated").returncode == 0


@pytest.mark.parametrize("relative", FACADE_FILES)
def test_check_generated_covers_the_facade_files(repo_copy: Path, relative: str) -> None:
    """A hand edit of a generated facade file fails the check; `make generate` undoes it."""
    path = repo_copy / relative
    original = path.read_text("utf-8")
    assert "do not edit" in original.split("\n\n", 2)[1]
    path.write_text(original + "\nHAND_EDIT = 1\n", "utf-8")
    result = make(repo_copy, "check-generated")
    assert result.returncode != 0, _output(result)
    assert f"{relative}: out of date with openapi.yaml" in result.stderr, _output(result)
    assert "HAND_EDIT" in result.stdout, _output(result)
    assert make(repo_copy, "generate").returncode == 0
    assert path.read_text("utf-8") == original
