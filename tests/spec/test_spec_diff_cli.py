"""`together-rerank spec-diff`: text and JSON reports, --fail-on and its exit codes, git sources.

The scenarios edit a spec owned by these tests (fixtures/evolving_spec.yaml), so
they hold whatever openapi.yaml becomes.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from together_rerank.cli import main
from together_rerank.cli.spec_diff import EXIT_SPEC_CHANGED

SPEC = Path(__file__).resolve().parent / "fixtures" / "evolving_spec.yaml"


def _variant(tmp_path: Path, name: str, edit: object) -> Path:
    spec = yaml.safe_load(SPEC.read_text("utf-8"))
    assert callable(edit)
    edit(spec["components"]["schemas"])
    path = tmp_path / name
    path.write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    return path


@pytest.fixture
def compatible(tmp_path: Path) -> Path:
    """A new optional request property: info."""
    return _variant(
        tmp_path,
        "compatible.yaml",
        lambda s: s["RerankRequest"]["properties"].update(
            max_tokens_per_doc={"type": "integer", "minimum": 1}
        ),
    )


@pytest.fixture
def warning(tmp_path: Path) -> Path:
    """An optional response property removed: warning."""
    return _variant(tmp_path, "warning.yaml", lambda s: s["RerankResponse"]["properties"].pop("id"))


@pytest.fixture
def deprecation(tmp_path: Path) -> Path:
    """A request property marked deprecated: warning."""
    return _variant(
        tmp_path,
        "deprecation.yaml",
        lambda s: s["RerankRequest"]["properties"]["rank_fields"].update(deprecated=True),
    )


@pytest.fixture
def breaking(tmp_path: Path) -> Path:
    return _variant(
        tmp_path,
        "breaking.yaml",
        lambda s: s["RerankRequest"]["properties"]["top_n"].update(maximum=1000),
    )


def test_identical_documents_exit_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec-diff", str(SPEC), str(SPEC)]) == 0
    assert "no changes" in capsys.readouterr().out


def test_a_breaking_change_exits_9_by_default(
    breaking: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["spec-diff", str(SPEC), str(breaking)]) == EXIT_SPEC_CHANGED == 9
    out = capsys.readouterr().out
    line = next(line for line in out.splitlines() if line.startswith("breaking"))
    assert "/components/schemas/RerankRequest/properties/top_n/maximum" in line
    assert "values valid before may exceed the new maximum" in line


@pytest.mark.parametrize(
    ("fixture", "fail_on", "code"),
    [
        ("compatible", "breaking", 0),
        ("compatible", "warning", 0),
        ("compatible", "info", 9),
        ("warning", "breaking", 0),
        ("warning", "warning", 9),
        ("deprecation", "breaking", 0),
        ("deprecation", "warning", 9),
        ("breaking", "info", 9),
    ],
)
def test_fail_on_sets_the_least_severe_change_that_fails(
    fixture: str, fail_on: str, code: int, request: pytest.FixtureRequest
) -> None:
    new: Path = request.getfixturevalue(fixture)
    assert main(["spec-diff", str(SPEC), str(new), "--fail-on", fail_on]) == code


def test_json_report(warning: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec-diff", str(SPEC), str(warning), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["worst"] == "warning"
    assert {
        "severity": "warning",
        "rule": "response-property-optional-removed",
        "pointer": "/components/schemas/RerankResponse/properties/id",
        "detail": "'id' removed",
        "why": "code reading this optional field gets nothing",
    } in report["changes"]


def test_a_deprecation_is_a_warning(deprecation: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["spec-diff", str(SPEC), str(deprecation), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["worst"] == "warning"
    assert {
        "severity": "warning",
        "rule": "request-property-deprecated",
        "pointer": "/components/schemas/RerankRequest/properties/rank_fields",
        "detail": "'rank_fields' deprecated",
        "why": "still accepted, but callers should stop sending it",
    } in report["changes"]


def test_git_sources(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """git:REF:PATH reads a committed version; the working file is the other side."""
    subprocess.run(["git", "init", "-q"], cwd=tmp_path, check=True, timeout=60)
    spec = tmp_path / "openapi.yaml"
    spec.write_bytes(SPEC.read_bytes())
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run([*git, "add", "-A"], cwd=tmp_path, check=True, timeout=60)
    subprocess.run([*git, "commit", "-qm", "spec"], cwd=tmp_path, check=True, timeout=60)
    edited = yaml.safe_load(spec.read_text("utf-8"))
    del edited["paths"]["/embeddings"]
    spec.write_text(yaml.safe_dump(edited, sort_keys=False), "utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["spec-diff", "git:HEAD:openapi.yaml", "openapi.yaml"]) == 9
    assert "breaking /paths/~1embeddings  /embeddings removed" in capsys.readouterr().out


@pytest.mark.parametrize("source", ["git:HEAD", "git:no-such-ref:openapi.yaml", "missing.yaml"])
def test_unreadable_sources_exit_2_naming_the_source(
    source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["spec-diff", source, str(SPEC)]) == 2
    assert source in capsys.readouterr().err


def test_a_document_that_is_not_openapi_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n", "utf-8")
    assert main(["spec-diff", str(path), str(SPEC)]) == 2
    assert "not an OpenAPI document" in capsys.readouterr().err
