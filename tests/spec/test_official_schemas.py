"""Regenerating from Together's official rerank schemas fails, naming each construct and where.

The schemas' shape is in fixtures/together_rerank_schemas.yaml. openapi-python-client
0.29.1 accepts them and writes broken code (issue 16: mypy fails in the
oneOf-of-arrays model, every create() crashed for want of additional_properties);
generator/preflight.py, the first step of generator/run.sh, refuses them instead.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
OFFICIAL = Path(__file__).parent / "fixtures" / "together_rerank_schemas.yaml"

pytestmark = pytest.mark.slow


def _generate(spec: Path, out: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(REPO_ROOT / "generator" / "run.sh"), str(out), str(spec)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_official_schemas_are_refused_naming_each_construct(tmp_path: Path) -> None:
    result = _generate(OFFICIAL, tmp_path / "pkg")
    assert result.returncode != 0
    err = result.stderr
    assert (
        "cannot generate: /components/schemas/RerankRequest/properties/documents/oneOf: "
        "a oneOf of array types" in err
    )
    assert "cannot generate: /components/schemas/RerankRequest/additionalProperties: false" in err
    # Working code, under names nobody chose: reported, not fatal.
    assert "note: /components/schemas/RerankResponse/properties/results/items: an inline" in err
    assert not (tmp_path / "pkg").exists(), "the generator ran anyway"


def test_with_those_constructs_fixed_it_generates(tmp_path: Path) -> None:
    import yaml

    spec = yaml.safe_load(OFFICIAL.read_text("utf-8"))
    request = spec["components"]["schemas"]["RerankRequest"]
    del request["additionalProperties"]
    request["properties"]["documents"] = {
        "type": "array",
        "items": {"anyOf": [{"type": "string"}, {"type": "object"}]},
    }
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")
    result = _generate(fixed, tmp_path / "pkg")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "pkg" / "models" / "rerank_request.py").is_file()
    assert "cannot generate" not in result.stderr
