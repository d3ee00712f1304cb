"""The spec-diff report: one line per change, or JSON; and the exit-code rule."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence

from .compare import Change
from .rules import Severity

__all__ = ["fails", "format_json", "format_text", "worst"]


def worst(changes: Sequence[Change]) -> Severity | None:
    """The most severe change's severity; None when there is no change."""
    return max((c.severity for c in changes), key=lambda s: s.rank, default=None)


def fails(changes: Sequence[Change], fail_on: Severity) -> bool:
    """Whether some change is at least as severe as `fail_on`."""
    return any(change.severity.rank >= fail_on.rank for change in changes)


def format_text(changes: Sequence[Change], *, old: str, new: str) -> str:
    if not changes:
        return f"no changes from {old} to {new}\n"
    counts = Counter(change.severity for change in changes)
    summary = ", ".join(f"{counts[s]} {s.value}" for s in reversed(Severity) if counts[s])
    lines = [f"{len(changes)} change(s) from {old} to {new}: {summary}"]
    for change in changes:
        lines.append(
            f"{change.severity.value:<8} {change.pointer}  {change.detail}: {change.why}"
            f" [{change.rule}]"
        )
    return "\n".join(lines) + "\n"


def format_json(changes: Sequence[Change], *, old: str, new: str) -> str:
    top = worst(changes)
    return (
        json.dumps(
            {
                "old": old,
                "new": new,
                "worst": top.value if top else None,
                "changes": [change.as_json() for change in changes],
            },
            indent=2,
            ensure_ascii=False,
        )
        + "\n"
    )
