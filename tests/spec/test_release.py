"""The version and CHANGELOG.md follow openapi.yaml: a changed spec needs the bump its changes need.

`test_the_repository_is_consistent` is the check `make test` runs on this
repository; the others show what it demands on a release of a spec owned by
these tests (fixtures/evolving_spec.yaml), so they hold whatever openapi.yaml
and the version become.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

import together_rerank
from together_rerank.specdiff.versioning import (
    Version,
    check_release,
    current_version,
    latest_release,
)

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURE_SPEC = Path(__file__).resolve().parent / "fixtures" / "evolving_spec.yaml"


def test_the_repository_is_consistent() -> None:
    result = check_release(REPO_ROOT)
    assert result.problems == [], result.message()


def test_the_version_lives_in_one_place() -> None:
    pyproject = (REPO_ROOT / "pyproject.toml").read_text("utf-8")
    assert 'dynamic = ["version"]' in pyproject
    assert '\nversion = "' not in pyproject
    # Read from _version.py at run time: a bump needs no reinstall to show.
    assert Version.parse(together_rerank.__version__) == current_version(REPO_ROOT)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """What the check reads, with the fixture spec released as 0.3.0."""
    (tmp_path / "together_rerank").mkdir()
    (tmp_path / "releases").mkdir()
    shutil.copy(FIXTURE_SPEC, tmp_path / "openapi.yaml")
    shutil.copy(FIXTURE_SPEC, tmp_path / "releases" / "openapi-0.3.0.yaml")
    # An older release must not be mistaken for the latest.
    (tmp_path / "releases" / "openapi-0.2.9.yaml").write_text("openapi: 3.1.0\n", "utf-8")
    _set_version(tmp_path, "0.3.0")
    (tmp_path / "CHANGELOG.md").write_text("# Changelog\n\n## [0.3.0] - 2026-12-01\n\n- x\n")
    return tmp_path


def _set_version(root: Path, version: str) -> None:
    (root / "together_rerank" / "_version.py").write_text(f'__version__ = "{version}"\n')


def _edit_spec(root: Path, edit: object) -> None:
    path = root / "openapi.yaml"
    spec = yaml.safe_load(path.read_text("utf-8"))
    assert callable(edit)
    edit(spec["components"]["schemas"])
    path.write_text(yaml.safe_dump(spec, sort_keys=False), "utf-8")


def _add_changelog(root: Path, version: str, text: str) -> None:
    path = root / "CHANGELOG.md"
    body = path.read_text("utf-8").replace(
        "# Changelog\n\n", f"# Changelog\n\n## [{version}] - 2026-12-02\n\n{text}\n\n"
    )
    path.write_text(body, "utf-8")


def _lower_top_n_maximum(schemas: dict[str, object]) -> None:
    schemas["RerankRequest"]["properties"]["top_n"]["maximum"] = 1000  # type: ignore[index]


def _add_optional_property(schemas: dict[str, object]) -> None:
    schemas["RerankRequest"]["properties"]["max_tokens_per_doc"] = {"type": "integer"}  # type: ignore[index]


def _deprecate_rank_fields(schemas: dict[str, object]) -> None:
    schemas["RerankRequest"]["properties"]["rank_fields"]["deprecated"] = True  # type: ignore[index]


def test_a_deprecation_needs_a_bump_and_a_changelog_that_says_deprecated(repo: Path) -> None:
    _edit_spec(repo, _deprecate_rank_fields)
    message = check_release(repo).message()
    assert "need a patch bump to at least 0.3.1" in message  # before 1.0
    assert "/components/schemas/RerankRequest/properties/rank_fields" in message
    assert "that says 'Deprecated'" in message
    _set_version(repo, "0.3.1")
    _add_changelog(repo, "0.3.1", "### Changed\n\n- rank_fields is on its way out.")
    assert "does not say what is 'deprecated'" in check_release(repo).message()
    _add_changelog(repo, "0.3.1", "### Deprecated\n\n- `rank_fields`.")
    assert check_release(repo).problems == []


def test_after_1_0_a_deprecation_needs_a_minor_bump(repo: Path) -> None:
    shutil.move(repo / "releases" / "openapi-0.3.0.yaml", repo / "releases" / "openapi-1.2.0.yaml")
    _set_version(repo, "1.2.1")
    _edit_spec(repo, _deprecate_rank_fields)
    _add_changelog(repo, "1.2.1", "### Deprecated\n\n- `rank_fields`.")
    assert "minor bump to at least 1.3.0" in check_release(repo).message()


def test_the_latest_release_is_the_highest_version(repo: Path) -> None:
    assert latest_release(repo)[0] == Version(0, 3, 0)


def test_an_unchanged_spec_needs_nothing(repo: Path) -> None:
    assert check_release(repo).problems == []


def test_a_breaking_change_without_a_bump_names_the_changes_and_the_bump(repo: Path) -> None:
    _edit_spec(repo, _lower_top_n_maximum)
    result = check_release(repo)
    message = result.message()
    assert "need a minor bump to at least 0.4.0" in message  # minor: before 1.0
    assert "/components/schemas/RerankRequest/properties/top_n/maximum" in message
    assert "together_rerank/_version.py says 0.3.0" in message
    assert "CHANGELOG.md has no '## [0.3.0]' section" not in message  # it has one


def test_a_patch_bump_is_not_enough_for_a_breaking_change(repo: Path) -> None:
    _edit_spec(repo, _lower_top_n_maximum)
    _set_version(repo, "0.3.1")
    _add_changelog(repo, "0.3.1", "### Changed\n\n- Breaking: top_n is at most 1000.")
    assert "minor bump to at least 0.4.0" in check_release(repo).message()


def test_after_1_0_a_breaking_change_needs_a_major_bump(repo: Path) -> None:
    shutil.move(repo / "releases" / "openapi-0.3.0.yaml", repo / "releases" / "openapi-1.2.0.yaml")
    _set_version(repo, "1.3.0")
    _edit_spec(repo, _lower_top_n_maximum)
    _add_changelog(repo, "1.3.0", "- Breaking: top_n is at most 1000.")
    assert "major bump to at least 2.0.0" in check_release(repo).message()
    _set_version(repo, "2.0.0")
    _add_changelog(repo, "2.0.0", "- Breaking: top_n is at most 1000.")
    assert check_release(repo).problems == []


def test_a_breaking_change_needs_a_changelog_that_says_breaking(repo: Path) -> None:
    _edit_spec(repo, _lower_top_n_maximum)
    _set_version(repo, "0.4.0")
    assert "no '## [0.4.0]' section" in check_release(repo).message()
    _add_changelog(repo, "0.4.0", "### Changed\n\n- top_n is at most 1000.")
    assert "does not say 'breaking'" in check_release(repo).message()
    _add_changelog(repo, "0.4.0", "### Changed\n\n- **Breaking**: top_n is at most 1000.")
    assert check_release(repo).problems == []


def test_a_compatible_change_needs_at_least_a_patch_bump(repo: Path) -> None:
    _edit_spec(repo, _add_optional_property)
    assert "need a patch bump to at least 0.3.1" in check_release(repo).message()
    _set_version(repo, "0.3.1")
    _add_changelog(repo, "0.3.1", "### Added\n\n- `max_tokens_per_doc`.")
    assert check_release(repo).problems == []
