"""Read an OpenAPI document from a file, or from git as ``git:REF:PATH`` (as ``git show``)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

__all__ = ["SpecLoadError", "load_document", "parse_document"]


class SpecLoadError(Exception):
    """The document could not be read or is not an OpenAPI mapping."""


def parse_document(text: str, source: str) -> dict[str, Any]:
    """Parse YAML (or JSON, a subset) text into a mapping."""
    try:
        import yaml
    except ImportError:  # pragma: no cover - PyYAML comes with the spec extra
        raise SpecLoadError("spec-diff needs PyYAML: pip install 'together-rerank[spec]'") from None
    try:
        loaded = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecLoadError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(loaded, dict) or "openapi" not in loaded:
        raise SpecLoadError(f"{source}: not an OpenAPI document (no top-level 'openapi' key)")
    return loaded


def read_source(source: str, *, cwd: Path | None = None) -> str:
    """The text of `source`: a path, or ``git:REF:PATH`` read with ``git show REF:PATH``."""
    if source.startswith("git:"):
        ref, sep, path = source[4:].partition(":")
        if not sep or not ref or not path:
            raise SpecLoadError(f"{source}: expected git:REF:PATH, such as git:HEAD:openapi.yaml")
        result = subprocess.run(
            ["git", "show", f"{ref}:{path}"],
            cwd=cwd,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            raise SpecLoadError(f"{source}: {result.stderr.strip() or 'git show failed'}")
        return result.stdout
    try:
        return Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecLoadError(f"{source}: {exc.strerror or exc}") from None


def load_document(source: str, *, cwd: Path | None = None) -> dict[str, Any]:
    """Read and parse one OpenAPI document."""
    return parse_document(read_source(source, cwd=cwd), source)
