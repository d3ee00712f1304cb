"""The maintainer's workflow, end to end, for the first five changes of issue 16's table.

Each test copies the repository (spec, generator, generated/, the package, the
spec tests, releases/, CHANGELOG.md) into a temporary git repository, applies
one spec change, and runs what a maintainer runs: `make generate` (which
prints the spec-diff report first), `together-rerank spec-diff` for the
severity and exit code, the release check, and the facade drift tests on the
regenerated copy. What must come out: the right severity and exit code, a
release check that names the bump, and either the change working typed and
enforced without hand edits, or failing checks that name the edit.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
COPIED = (
    "openapi.yaml",
    "generator",
    "generated",
    "Makefile",
    "pyproject.toml",
    "together_rerank",
    "releases",
    "CHANGELOG.md",
    "tests/__init__.py",
    "tests/conftest.py",
    "tests/spec",
)

pytestmark = pytest.mark.slow

Spec = dict[str, Any]


def _env(root: Path) -> dict[str, str]:
    env = dict(os.environ)
    for name in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES"):
        env.pop(name, None)
    # The copy's package and generated client come first: the tests see the regenerated code.
    env["PYTHONPATH"] = f"{root}{os.pathsep}{root / 'generated'}"
    return env


def _run(root: Path, *command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command,
        cwd=root,
        env=_env(root),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in COPIED:
        source, target = REPO_ROOT / name, root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target)
    (root / ".venv").symlink_to(REPO_ROOT / ".venv", target_is_directory=True)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    for command in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "released"]):
        assert _run(root, *git, *command).returncode == 0
    return root


def _edit(root: Path, change: Callable[[Spec], None]) -> None:
    path = root / "openapi.yaml"
    spec = yaml.safe_load(path.read_text("utf-8"))
    change(spec)
    path.write_text(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True), "utf-8")


def _schemas(spec: Spec) -> Spec:
    schemas: Spec = spec["components"]["schemas"]
    return schemas


def add_max_tokens_per_doc(spec: Spec) -> None:
    _schemas(spec)["RerankRequest"]["properties"]["max_tokens_per_doc"] = {
        "type": "integer",
        "minimum": 1,
        "description": "Truncate each document to this many tokens.",
        "example": 512,
    }


def add_billed_units(spec: Spec) -> None:
    _schemas(spec)["RerankResponse"]["properties"]["meta"] = {
        "type": "object",
        "description": "Billing information.",
        "example": {"billed_units": {"search_units": 1}},
        "properties": {
            "billed_units": {
                "type": "object",
                "description": "What the request is billed for.",
                "properties": {"search_units": {"type": "integer", "description": "Searches."}},
            }
        },
    }


def add_limits(spec: Spec) -> None:
    properties = _schemas(spec)["RerankRequest"]["properties"]
    properties["top_n"]["maximum"] = 1000
    properties["documents"]["maxItems"] = 1000


def rename_relevance_score(spec: Spec) -> None:
    result = _schemas(spec)["RerankResult"]
    result["properties"] = {
        ("score" if name == "relevance_score" else name): value
        for name, value in result["properties"].items()
    }
    result["required"] = ["index", "score"]


def add_v2_endpoint(spec: Spec) -> None:
    operation = json.loads(json.dumps(spec["paths"]["/rerank"]["post"]))
    operation["operationId"] = "rerankV2"
    spec["paths"]["/v2/rerank"] = {"post": operation}


def _regenerate(root: Path) -> str:
    result = _run(root, "make", "--no-print-directory", "-o", ".venv/.installed", "generate")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "pip install" not in result.stdout
    return result.stdout


def _spec_diff(root: Path) -> tuple[int, dict[str, Any]]:
    result = _run(
        root,
        ".venv/bin/together-rerank",
        "spec-diff",
        "git:HEAD:openapi.yaml",
        "openapi.yaml",
        "--json",
    )
    return result.returncode, json.loads(result.stdout)


def _release_check(root: Path) -> subprocess.CompletedProcess[str]:
    return _run(root, ".venv/bin/python", "-m", "together_rerank.specdiff.versioning")


def _drift_tests(root: Path) -> subprocess.CompletedProcess[str]:
    return _run(
        root,
        ".venv/bin/python",
        "-m",
        "pytest",
        "-v",
        "-p",
        "no:cacheprovider",
        "tests/spec/test_facade_follows_spec.py",
    )


def _check(
    root: Path,
    change: Callable[[Spec], None],
    *,
    worst: str,
    rules: set[str],
    bump: str,
    check_generated: bool = False,
) -> tuple[str, subprocess.CompletedProcess[str]]:
    _edit(root, change)
    generate_output = _regenerate(root)
    # make generate printed the report before regenerating.
    assert "change(s) from git:HEAD:openapi.yaml to openapi.yaml" in generate_output
    assert generate_output.index("change(s)") < generate_output.index("generator/run.sh")
    code, report = _spec_diff(root)
    assert report["worst"] == worst
    assert rules <= {change["rule"] for change in report["changes"]}, report
    assert code == (9 if worst == "breaking" else 0)
    release = _release_check(root)
    assert release.returncode == 1
    assert f"need a {bump}" in release.stderr, release.stderr
    if check_generated:  # once is enough to show it agrees with what make generate wrote
        check = _run(
            root, "make", "--no-print-directory", "-o", ".venv/.installed", "check-generated"
        )
        assert check.returncode == 0, check.stdout + check.stderr
    return generate_output, _drift_tests(root)


def test_new_optional_request_field(repo: Path) -> None:
    _, drift = _check(
        repo,
        add_max_tokens_per_doc,
        worst="info",
        rules={"request-property-optional-added"},
        bump="patch bump to at least 0.1.1",
    )
    out = drift.stdout
    # Enforced on both sides from the regenerated constants, with no hand edit...
    assert "test_the_client_enforces_the_limit[POST-/rerank-max_tokens_per_doc" not in _failed(out)
    assert "test_the_server_enforces_the_limit[POST-/rerank-max_tokens_per_doc" not in _failed(out)
    for side in ("client", "server"):
        assert (
            f"{side}_enforces_the_limit[POST-/rerank-max_tokens_per_doc-past-minimum-1] PASSED"
            in out
        )
    # ...and the typed parameter and field are named as the edits still to make.
    assert "no keyword parameter 'max_tokens_per_doc'" in out
    assert "together_rerank/resources/" in out
    assert "RerankRequest (together_rerank/types/) for RerankRequest.max_tokens_per_doc" in out


def test_new_response_object(repo: Path) -> None:
    _, drift = _check(
        repo,
        add_billed_units,
        worst="info",
        rules={"response-property-added"},
        bump="patch bump to at least 0.1.1",
    )
    assert "RerankResponse (together_rerank/types/) for RerankResponse.meta" in drift.stdout
    assert "no field named or aliased 'meta'" in drift.stdout


def add_limits_and_lower_top_n_minimum(spec: Spec) -> None:
    add_limits(spec)
    # Not in the table: a relaxed limit must relax the hand-written checks too.
    _schemas(spec)["RerankRequest"]["properties"]["top_n"]["minimum"] = 0


def test_new_limits(repo: Path) -> None:
    _, drift = _check(
        repo,
        add_limits_and_lower_top_n_minimum,
        worst="breaking",
        rules={"request-max-added", "request-min-lowered"},
        bump="minor bump to at least 0.2.0",
    )
    # Both limits are enforced by the client and the server straight after make generate.
    assert drift.returncode == 0, drift.stdout
    verbose = drift.stdout
    for limit in (
        "top_n-past-maximum-1000",
        "documents-past-maxItems-1000",
        "top_n-at-minimum-0",
        "top_n-past-minimum-0",
    ):
        for side in ("client", "server"):
            assert f"test_the_{side}_enforces_the_limit[POST-/rerank-{limit}] PASSED" in verbose


def test_rename(repo: Path) -> None:
    _, drift = _check(
        repo,
        rename_relevance_score,
        worst="breaking",
        rules={"response-property-renamed"},
        bump="minor bump to at least 0.2.0",
    )
    assert "no field named or aliased 'score'" in drift.stdout
    assert "RerankChoicesData.relevance_score: not a property of RerankChoicesData" in drift.stdout
    # The deprecation path: keep the old public name, accept the new wire name as an alias.
    types_file = repo / "together_rerank" / "types" / "rerank.py"
    source = types_file.read_text("utf-8")
    edited = _replace_once(
        source,
        "    relevance_score: StrictFloat\n",
        "    relevance_score: StrictFloat = Field(\n"
        '        validation_alias=AliasChoices("score", "relevance_score")\n'
        "    )\n",
    )
    edited = _replace_once(
        edited,
        "from pydantic import BaseModel,",
        "from pydantic import AliasChoices, BaseModel,",
    )
    types_file.write_text(edited, "utf-8")
    again = _drift_tests(repo)
    assert RENAMED_CHECK not in _failed(again.stdout), again.stdout
    assert f"{RENAMED_CHECK} PASSED" in again.stdout, again.stdout


RENAMED_CHECK = "test_public_type_matches_its_component[RerankResult]"


def _replace_once(source: str, old: str, new: str) -> str:
    # An edit that silently matches nothing would leave the test proving nothing.
    assert source.count(old) == 1, f"expected exactly one {old!r} in the source"
    return source.replace(old, new)


def test_new_endpoint(repo: Path) -> None:
    _, drift = _check(
        repo,
        add_v2_endpoint,
        worst="info",
        rules={"path-added"},
        bump="patch bump to at least 0.1.1",
    )
    out = drift.stdout
    assert "POST /v2/rerank (rerankV2) is not covered by the facade" in out
    assert "the server: add a route for POST /v1/v2/rerank" in out
    assert "the checker: add 'POST' '/v2/rerank' to OPERATIONS" in out


def _failed(output: str) -> str:
    """The ids of the failed tests: pytest cuts the rest of the line to the terminal's width."""
    return "\n".join(
        line.split(" - ", 1)[0] for line in output.splitlines() if line.startswith("FAILED")
    )
