"""The Python-API view: public names of `together_rerank` removed or changed since a git ref.

griffe (the tool behind `griffe check`) reads both versions statically, without
importing them, and reports breakages; each becomes one `python-api-breaking`
change whose pointer is the dotted name.
"""

from __future__ import annotations

from pathlib import Path

from .compare import Change

__all__ = ["python_api_changes"]


def _show(value: object) -> str:
    """A short text for a breakage's old or new value (a name, a kind, an annotation)."""
    if value is None:
        return ""
    name = getattr(value, "name", None)
    text = str(name if isinstance(name, str) else value)
    return text if len(text) <= 60 else text[:57] + "..."


PACKAGE = "together_rerank"


def python_api_changes(ref: str, *, repo: Path | None = None) -> list[Change]:
    """Breaking changes of the public API of `together_rerank` from git `ref` to the work tree."""
    try:
        import griffe
    except ImportError:  # pragma: no cover - griffe comes with the spec extra
        from .load import SpecLoadError

        raise SpecLoadError(
            "--python-api needs griffe: pip install 'together-rerank[spec]'"
        ) from None
    root = (repo or Path.cwd()).resolve()
    old = griffe.load_git(PACKAGE, ref=ref, repo=root, resolve_aliases=True)
    new = griffe.load(root / PACKAGE, resolve_aliases=True)
    changes = []
    for breakage in griffe.find_breaking_changes(old, new):
        detail = str(breakage.kind.value)
        old_value, new_value = _show(breakage.old_value), _show(breakage.new_value)
        if old_value or new_value:
            detail += f": {old_value or '-'} -> {new_value or '-'}"
        changes.append(Change("python-api-breaking", breakage.obj.path, detail))
    return changes
