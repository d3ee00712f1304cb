"""Each adapter's extra installs everything its documented code imports.

The code is what a user copies: the adapter's example and the README's blocks that use
the adapter. Every third-party distribution they import must come with the extra (or
with the SDK itself), and the versions `make test` runs the adapters against (the dev
pins) must be inside the extra's ranges.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
PYTHON_BLOCK = re.compile(r"^```python\n(.*?)^```", re.DOTALL | re.MULTILINE)

ADAPTERS = {
    "langchain": ("together_rerank.integrations.langchain", "examples/05_langchain_rerank.py"),
    "llama-index": (
        "together_rerank.integrations.llama_index",
        "examples/06_llama_index_rerank.py",
    ),
}


def imported_modules(source: str) -> set[str]:
    """The top-level modules a piece of code imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def requirements(names: list[str]) -> dict[str, Requirement]:
    parsed = [Requirement(name) for name in names]
    return {canonicalize_name(r.name): r for r in parsed}


def documented_code(adapter: str) -> list[str]:
    module, example = ADAPTERS[adapter]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = [b for b in PYTHON_BLOCK.findall(readme) if module in b]
    assert blocks, f"the README has no python block importing {module}"
    return [(ROOT / example).read_text(encoding="utf-8"), *blocks]


def test_imported_modules_sees_every_form_of_import() -> None:
    source = "import a.b, c\nfrom d.e import f\nfrom . import g\nfrom .h import i\n"
    assert imported_modules(source) == {"a", "c", "d"}


@pytest.mark.parametrize("adapter", sorted(ADAPTERS))
def test_the_extra_installs_every_distribution_its_documented_code_imports(
    adapter: str,
) -> None:
    project = PYPROJECT["project"]
    provided = set(requirements(project["optional-dependencies"][adapter])) | set(
        requirements(project["dependencies"])
    )
    owners = packages_distributions()
    imported = set().union(*(imported_modules(code) for code in documented_code(adapter)))
    third_party = {
        canonicalize_name(dist)
        for module in imported - set(sys.stdlib_module_names) - {"together_rerank"}
        for dist in owners[module]
    }
    assert third_party, "found no third-party import: the check would pass vacuously"
    assert third_party - provided == set()


def test_the_dev_pins_are_inside_the_extras_ranges() -> None:
    extras = PYPROJECT["project"]["optional-dependencies"]
    pins = {
        name: requirement
        for name, requirement in requirements(extras["dev"]).items()
        if requirement.specifier and str(requirement.specifier).startswith("==")
    }
    checked = 0
    for adapter in ADAPTERS:
        for name, ranged in requirements(extras[adapter]).items():
            assert name in pins, f"{name} (in [{adapter}]) has no exact pin in [dev]"
            version = str(pins[name].specifier)[2:]
            assert ranged.specifier.contains(version), f"[dev] {name}=={version} not in {ranged}"
            checked += 1
    assert checked >= len(ADAPTERS)
