"""The maintainer's workflow, end to end: a spec change, `make generate`, and nothing else.

Each test copies the repository (spec, generator, generated/, the package, the
spec tests, releases/, CHANGELOG.md) into a temporary git repository, applies
one spec change, and runs what a maintainer runs: `make generate` (which
prints the spec-diff report first), `together-rerank spec-diff` for the
severity and exit code, the release check, and the spec tests on the
regenerated copy (the facade follows the spec, every property reaches the
wire). A compatible change must need no hand edit: the new field is typed,
sent or parsed, and its limits enforced on both sides, straight after
`make generate`. The changes are built from the current spec (field names
that do not exist yet, a limit tighter than today's) and the versions from
releases/, so the tests hold whatever openapi.yaml becomes.
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

from together_rerank.specdiff.versioning import latest_release, release

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
    "tests/client/__init__.py",
    "tests/client/helpers.py",
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
    # Start from a release of the current spec and version, whatever they are: the
    # change under test is then the only one the release check sees.
    release(root)
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


def _fresh(taken: object, name: str) -> str:
    """`name`, or `name_2`, `name_3`... whichever the spec does not use yet."""
    assert isinstance(taken, dict)
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{name}_{n}"
    return candidate


def _request_schema(spec: Spec) -> Spec:
    schema: Spec = _schemas(spec)["RerankRequest"]
    return schema


def _response_schema(spec: Spec) -> Spec:
    schema: Spec = _schemas(spec)["RerankResponse"]
    return schema


NEW_REQUEST_FIELD: dict[str, str] = {}


def add_optional_request_field(spec: Spec) -> None:
    properties = _request_schema(spec)["properties"]
    name = _fresh(properties, "max_tokens_per_doc")
    NEW_REQUEST_FIELD["name"] = name
    properties[name] = {
        "type": "integer",
        "minimum": 1,
        "description": "Truncate each document to this many tokens.",
        "example": 512,
    }


NEW_RESPONSE_OBJECT: dict[str, str] = {}


def add_response_object(spec: Spec) -> None:
    properties = _response_schema(spec)["properties"]
    name = _fresh(properties, "meta")
    NEW_RESPONSE_OBJECT["name"] = name
    properties[name] = {
        "type": "object",
        "description": "About the API that answered.",
        "example": {"api_version": "2"},
        "properties": {
            "api_version": {"type": "string", "description": "The API version.", "example": "2"}
        },
    }


def tighten_top_n_maximum(spec: Spec) -> None:
    """A lower `top_n` maximum than today's, or a first one."""
    top_n = _request_schema(spec)["properties"]["top_n"]
    top_n["maximum"] = top_n["maximum"] - 1 if "maximum" in top_n else 1000


def _optional_request_fields(spec: Spec) -> list[str]:
    schema = _request_schema(spec)
    required = set(schema.get("required") or [])
    return [
        name
        for name, prop in schema["properties"].items()
        if name not in required and not prop.get("deprecated")
    ]


DEPRECATED: dict[str, str] = {}


def deprecate_a_request_field(spec: Spec) -> None:
    name = _optional_request_fields(spec)[-1]
    DEPRECATED["name"] = name
    _request_schema(spec)["properties"][name]["deprecated"] = True


RENAMED: dict[str, str] = {}


def rename_a_response_field_with_an_alias(spec: Spec) -> None:
    """An optional string of the response gets a new name; the old one stays as an alias."""
    schema = _response_schema(spec)
    required = set(schema.get("required") or [])
    old = next(
        name
        for name, prop in schema["properties"].items()
        if name not in required and prop.get("type") == "string"
    )
    new = _fresh(schema["properties"], f"{old}_v2")
    RENAMED.update(old=old, new=new)
    schema["properties"] = {
        (new if name == old else name): (
            {**prop, "x-deprecated-alias": old} if name == old else prop
        )
        for name, prop in schema["properties"].items()
    }


def add_v2_endpoint(spec: Spec) -> None:
    operation = json.loads(json.dumps(spec["paths"]["/rerank"]["post"]))
    operation["operationId"] = _fresh(
        {op.get("operationId"): 1 for item in spec["paths"].values() for op in item.values()},
        "rerankV2",
    )
    spec["paths"][_fresh(spec["paths"], "/v2/rerank")] = {"post": operation}


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
        "tests/spec/test_every_property_reaches_the_wire.py",
    )


def _check(
    root: Path,
    change: Callable[[Spec], None],
    *,
    worst: str,
    rules: set[str],
    bump: str,
    check_generated: bool = False,
    drift_must_pass: bool = True,
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
    released = latest_release(root)[0]
    needed = released.bumped(bump)
    assert f"need a {bump} bump to at least {needed}" in release.stderr, release.stderr
    if check_generated:  # once is enough to show it agrees with what make generate wrote
        check = _run(
            root, "make", "--no-print-directory", "-o", ".venv/.installed", "check-generated"
        )
        assert check.returncode == 0, check.stdout + check.stderr
    drift = _drift_tests(root)
    if drift_must_pass:
        # No hand edit: everything that follows the spec follows it already.
        assert drift.returncode == 0, drift.stdout[-5000:]
    return generate_output, drift


def _major_or_minor(root: Path) -> str:
    """The bump a breaking change needs: minor before 1.0, major after."""
    return "minor" if latest_release(root)[0].major == 0 else "major"


def _python(root: Path, code: str) -> subprocess.CompletedProcess[str]:
    """Run `code` against the copy's (regenerated) package, deprecations shown."""
    return _run(root, ".venv/bin/python", "-W", "default::DeprecationWarning", "-c", code)


def test_new_optional_request_field(repo: Path) -> None:
    _, drift = _check(
        repo,
        add_optional_request_field,
        worst="info",
        rules={"request-property-optional-added"},
        bump="patch",
        check_generated=True,
    )
    name = NEW_REQUEST_FIELD["name"]
    out = drift.stdout
    # Typed, sent, and its limit enforced by the client and the server, with no hand edit.
    for side in ("client", "server"):
        assert f"{side}_enforces_the_limit[POST-/rerank-{name}-past-minimum-1] PASSED" in out
    for how in ("sync", "async", "create_many"):
        assert f"test_a_set_property_is_sent[{how}-rerank-{name}] PASSED" in out
    signature = _python(
        repo,
        "import inspect, together_rerank as t\n"
        f"p = inspect.signature(t.Together(api_key='k').rerank.create).parameters[{name!r}]\n"
        "print(p.annotation, p.default)\n"
        f"print(t.RerankRequest.model_fields[{name!r}].annotation)",
    )
    assert signature.stdout.split("\n")[:2] == ["int | None None", "int | None"], signature
    cli = _run(repo, ".venv/bin/python", "-m", "together_rerank.cli", "rerank", "--help")
    assert f"--{name.replace('_', '-')}" in cli.stdout, cli.stdout + cli.stderr


def test_new_response_object(repo: Path) -> None:
    _check(
        repo,
        add_response_object,
        worst="info",
        rules={"response-property-added"},
        bump="patch",
    )
    name = NEW_RESPONSE_OBJECT["name"]
    model = "RerankResponse" + "".join(part.capitalize() for part in name.split("_"))
    parsed = _python(
        repo,
        "import together_rerank as t\n"
        "r = t.RerankResponse.model_validate_json("
        f'\'{{"results": [], "{name}": {{"api_version": "2"}}}}\')\n'
        f"print(type(r.{name}) is t.{model}, r.{name}.api_version)",
    )
    assert parsed.stdout.strip() == "True 2", parsed


def test_new_limit(repo: Path) -> None:
    spec = yaml.safe_load((repo / "openapi.yaml").read_text("utf-8"))
    had_one = "maximum" in _request_schema(spec)["properties"]["top_n"]
    tighten_top_n_maximum(spec)
    maximum = _request_schema(spec)["properties"]["top_n"]["maximum"]
    _, drift = _check(
        repo,
        tighten_top_n_maximum,
        worst="breaking",
        rules={"request-max-lowered" if had_one else "request-max-added"},
        bump=_major_or_minor(repo),
    )
    # Enforced by the client and the server straight after make generate.
    for side in ("client", "server"):
        assert (
            f"test_the_{side}_enforces_the_limit[POST-/rerank-top_n-past-maximum-{maximum}] PASSED"
            in drift.stdout
        )


def test_deprecated_request_field(repo: Path) -> None:
    spec = yaml.safe_load((repo / "openapi.yaml").read_text("utf-8"))
    name = _optional_request_fields(spec)[-1]
    _, drift = _check(
        repo,
        deprecate_a_request_field,
        worst="warning",
        rules={"request-property-deprecated"},
        bump="patch" if latest_release(repo)[0].major == 0 else "minor",
    )
    assert DEPRECATED["name"] == name
    # Still sent, and still accepted by the local server (the wire test's capture).
    assert f"test_a_set_property_is_sent[sync-rerank-{name}] PASSED" in drift.stdout
    docs = _python(
        repo,
        "import together_rerank as t\nprint(t.Together(api_key='k').rerank.create.__doc__)",
    )
    line = next(line for line in docs.stdout.splitlines() if line.strip().startswith(f"{name}:"))
    assert "Deprecated" in line, docs.stdout


def test_renamed_response_field_keeps_its_old_name_as_a_deprecated_alias(repo: Path) -> None:
    _check(
        repo,
        rename_a_response_field_with_an_alias,
        worst="warning",
        rules={"response-property-renamed-with-alias"},
        bump="patch" if latest_release(repo)[0].major == 0 else "minor",
    )
    old, new = RENAMED["old"], RENAMED["new"]
    parsed = _python(
        repo,
        "import together_rerank as t\n"
        "for key in ('old', 'new'):\n"
        f"    wire = {{{old!r}: 'x', 'results': []}} if key == 'old' else "
        f"{{{new!r}: 'x', 'results': []}}\n"
        "    r = t.RerankResponse.model_validate(wire)\n"
        f"    print(r.{new}, r.{old})",
    )
    assert parsed.stdout.split("\n")[:2] == ["x x", "x x"], parsed
    assert f"RerankResponse.{old} is deprecated" in parsed.stderr, parsed


def test_new_endpoint(repo: Path) -> None:
    _, drift = _check(
        repo,
        add_v2_endpoint,
        worst="info",
        rules={"path-added"},
        bump="patch",
        drift_must_pass=False,
    )
    out = drift.stdout
    # A new operation is a decision, not a compatible change: the checks name the edits.
    assert "is not covered by the facade" in out
    assert "the server: add a route for POST" in out
    assert "the checker: add 'POST'" in out


def _failed(output: str) -> str:
    """The ids of the failed tests: pytest cuts the rest of the line to the terminal's width."""
    return "\n".join(
        line.split(" - ", 1)[0] for line in output.splitlines() if line.startswith("FAILED")
    )
