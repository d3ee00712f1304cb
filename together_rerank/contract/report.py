"""The outcome of a contract check: one result per property, and its readable form."""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .impact import Impact
from .properties import Level

__all__ = ["PropertyResult", "Report", "Status", "shorten"]

# Long strings and lists are cut in the text report; `Report.to_dict` keeps requests whole.
_MAX_TEXT = 160
_MAX_ITEMS = 12
_MAX_JSON_IN_TEXT = 4000


class Status(enum.StrEnum):
    """A property's verdict."""

    PASS = "PASS"
    """Held on every example checked."""
    FAIL = "FAIL"
    """A counterexample was found; see `PropertyResult.example`."""
    SKIP = "SKIP"
    """No example could be checked (every answer was unusable); not a pass."""


@dataclass(frozen=True)
class PropertyResult:
    """The verdict on one property and, when it failed, the smallest failing example."""

    name: str
    level: Level
    summary: str
    status: Status
    examples: int
    """Examples generated (each may send one or more requests)."""
    checked: int
    """Examples on which the property could be checked (the others were not applicable)."""
    message: str | None = None
    """Why the property failed, or why it was skipped."""
    example: dict[str, Any] | None = None
    """The (shrunk) failing example as JSON: the request(s) and what the server answered."""
    shrunk: bool = True
    """False when shrinking stopped early (time budget): the example may not be minimal."""
    impact: Impact | None = None
    """For a FAIL: whether it makes this SDK's default mode raise, or only strict mode."""

    @property
    def passed(self) -> bool:
        """True when the property held."""
        return self.status is Status.PASS

    def to_dict(self) -> dict[str, Any]:
        """The result as plain JSON."""
        data: dict[str, Any] = {
            "name": self.name,
            "level": self.level.value,
            "summary": self.summary,
            "status": self.status.value,
            "examples": self.examples,
            "checked": self.checked,
        }
        if self.message is not None:
            data["message"] = self.message
        if self.example is not None:
            data["example"] = self.example
            data["shrunk"] = self.shrunk
        if self.impact is not None:
            data["impact"] = self.impact.value
        return data


@dataclass(frozen=True)
class Report:
    """Everything a contract check found; `ok` only when every property passed."""

    base_url: str
    model: str
    embedding_model: str
    seed: int
    max_examples: int
    results: Sequence[PropertyResult]
    seconds: float = 0.0
    notes: Sequence[str] = field(default_factory=tuple)
    plain_call_error: str | None = None
    """Why a plain rerank call (string documents) raises in this SDK's default mode; None: works."""

    @property
    def breaking(self) -> list[str]:
        """Names of the failed properties that make this SDK's default mode raise."""
        return [
            r.name
            for r in self.results
            if r.status is Status.FAIL and r.impact in (Impact.RAISES, None)
        ]

    @property
    def sdk_verdict(self) -> str:
        """One sentence: can this SDK (default mode) use this server?"""
        if self.plain_call_error is not None:
            return (
                "This SDK cannot use this server: a plain rerank call raises in default mode "
                f"({self.plain_call_error})."
            )
        if self.breaking:
            return (
                "This SDK can use this server, but some calls raise in default mode: "
                f"{', '.join(self.breaking)}."
            )
        tolerated = len(self.failed)
        if tolerated:
            return (
                "This SDK can use this server in default mode; strict=True would raise "
                f"({tolerated} failure(s) are tolerated or unnoticed by default)."
            )
        return "This SDK can use this server, in default and in strict mode."

    @property
    def ok(self) -> bool:
        """True when every property passed."""
        return all(result.passed for result in self.results)

    @property
    def conforms(self) -> bool:
        """True when no property failed; a SKIP (nothing could be checked) is not a failure."""
        return not self.failed

    @property
    def failed(self) -> list[str]:
        """Names of the properties that failed, in check order."""
        return [r.name for r in self.results if r.status is Status.FAIL]

    @property
    def skipped(self) -> list[str]:
        """Names of the properties that could not be checked."""
        return [r.name for r in self.results if r.status is Status.SKIP]

    @property
    def passed(self) -> list[str]:
        """Names of the properties that held."""
        return [r.name for r in self.results if r.status is Status.PASS]

    def __getitem__(self, name: str) -> PropertyResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON (`together-rerank check --json`)."""
        return {
            "base_url": self.base_url,
            "model": self.model,
            "embedding_model": self.embedding_model,
            "seed": self.seed,
            "max_examples": self.max_examples,
            "ok": self.ok,
            "conforms": self.conforms,
            "sdk_can_use": self.plain_call_error is None,
            "sdk_breaking": self.breaking,
            "sdk_verdict": self.sdk_verdict,
            "seconds": round(self.seconds, 3),
            "notes": list(self.notes),
            "results": [result.to_dict() for result in self.results],
        }

    def format(self) -> str:
        """The report as text: a PASS/FAIL line per property, then each failure in detail."""
        lines = [
            f"Contract check of {self.base_url}",
            f"  model {self.model}, embedding model {self.embedding_model}, "
            f"seed {self.seed}, up to {self.max_examples} examples per property",
        ]
        lines += [f"  note: {note}" for note in self.notes]
        width = max((len(r.name) for r in self.results), default=0)
        for level in Level:
            results = [r for r in self.results if r.level is level]
            if not results:
                continue
            lines += ["", _LEVEL_TITLES[level]]
            for r in results:
                lines.append(f"  {r.status.value}  {r.name:<{width}}  {r.summary}  ({_counts(r)})")
        problems = [r for r in self.results if not r.passed]
        for r in problems:
            lines += ["", f"{r.status.value} {r.name}: {r.message or r.summary}"]
            if r.impact is not None:
                lines.append(f"  For this SDK: {r.impact.explanation}.")
            if r.example is not None:
                title = (
                    "Smallest failing example" if r.shrunk else "Failing example (not fully shrunk)"
                )
                lines.append(f"  {title}:")
                lines += ["    " + line for line in _json_text(r.example).splitlines()]
        lines.append("")
        total = len(self.results)
        if self.ok:
            lines.append(f"Every property holds ({total} checked, {self.seconds:.1f} s).")
        elif self.conforms:
            skipped = len(self.skipped)
            lines.append(
                f"No property failed; {skipped} of {total} could not be checked (SKIP, "
                f"{self.seconds:.1f} s): raise --max-examples to check them."
            )
        else:
            bad = len(problems)
            lines.append(
                f"{bad} of {total} properties did not hold ({self.seconds:.1f} s). "
                f"To reproduce: --seed {self.seed} --max-examples {self.max_examples}"
                f" (add --only NAME for one property)."
            )
        lines.append(self.sdk_verdict)
        return "\n".join(lines)


_LEVEL_TITLES = {
    Level.SCHEMA: "Schema level (openapi.yaml, requests generated by schemathesis):",
    Level.SEMANTIC: "Semantic level (rankings, requests sent through the SDK):",
}


def _counts(result: PropertyResult) -> str:
    if result.status is Status.FAIL:
        return f"failed on example {result.examples}"
    if result.checked == result.examples:
        return f"{result.examples} examples"
    return f"checked on {result.checked} of {result.examples} examples"


def shorten(value: Any) -> Any:
    """`value` with long strings and lists cut, for display."""
    if isinstance(value, str):
        if len(value) > _MAX_TEXT:
            return f"{value[: _MAX_TEXT - 40]}... ({len(value)} characters)"
        return value
    if isinstance(value, list):
        items = [shorten(item) for item in value[:_MAX_ITEMS]]
        if len(value) > _MAX_ITEMS:
            items.append(f"... ({len(value)} items)")
        return items
    if isinstance(value, dict):
        return {key: shorten(item) for key, item in value.items()}
    return value


def _json_text(value: Any) -> str:
    text = pretty_json(value)
    if len(text) <= _MAX_JSON_IN_TEXT:
        return text
    return pretty_json(shorten(value)) + "\n(cut for display; the --json report has it whole)"


def pretty_json(value: Any, indent: int = 0, width: int = 96, *, after: int = 0) -> str:
    """JSON with a value on one line when it fits in `width` columns, else spread out.

    `after` is how many columns precede the value on its first line (a key).
    """
    flat = json.dumps(value, ensure_ascii=False, default=repr)
    if indent + after + len(flat) <= width or not isinstance(value, dict | list) or not value:
        return flat
    pad = " " * (indent + 2)
    if isinstance(value, dict):
        items = []
        for key, item in value.items():
            name = json.dumps(key, ensure_ascii=False) + ": "
            items.append(pad + name + pretty_json(item, indent + 2, width, after=len(name)))
        opening, closing = "{", "}"
    else:
        items = [pad + pretty_json(item, indent + 2, width) for item in value]
        opening, closing = "[", "]"
    return opening + "\n" + ",\n".join(items) + "\n" + " " * indent + closing
