"""What a contract property is: a named claim, checked on generated examples."""

from __future__ import annotations

import enum
import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, is_dataclass
from typing import Any, Generic, TypeVar

from hypothesis.strategies import SearchStrategy

from .impact import Impact

__all__ = ["Level", "Outcome", "Property", "Violation", "canonical_json"]

X = TypeVar("X")


class Level(enum.StrEnum):
    """Where a property is checked."""

    SCHEMA = "schema"
    """Against openapi.yaml, with requests schemathesis generates from it."""
    SEMANTIC = "semantic"
    """Against the meaning of a ranking, with requests sent through this SDK."""


class Outcome(enum.Enum):
    """What one example showed, when it did not show a violation."""

    HELD = "held"
    """The property was checked on this example and holds."""
    UNCHECKED = "unchecked"
    """The example says nothing about this property (e.g. the server refused the request)."""


class Violation(Exception):
    """The property does not hold on this example; `evidence` is what shows it (JSON).

    `impact` says what it means for users of this SDK (see `contract.impact`).
    """

    def __init__(
        self,
        message: str,
        evidence: Mapping[str, Any] | None = None,
        impact: Impact | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.evidence: dict[str, Any] = dict(evidence or {})
        self.impact = impact

    def with_evidence(self, **evidence: Any) -> Violation:
        """This violation with more evidence (the request and response that showed it)."""
        return Violation(self.message, {**evidence, **self.evidence}, self.impact)

    def with_impact(self, impact: Impact) -> Violation:
        """This violation, judged for what it means to users of this SDK."""
        return Violation(self.message, self.evidence, impact)


def canonical_json(value: Any) -> str:
    """An exact text form of a JSON-like value or dataclass (key order kept, the rest by repr)."""
    return json.dumps(value, ensure_ascii=False, default=_encode)


def _encode(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    return repr(value)


@dataclass(frozen=True)
class Property(Generic[X]):
    """A claim about a server, checked on examples drawn from `strategy`.

    `check` sends whatever requests it needs for one example and returns an
    `Outcome`, or raises `Violation`. `key` identifies an example, so that
    Hypothesis replaying it (while shrinking) does not reach the server again.
    When no example applies (every one `UNCHECKED`), `unchecked` says why.
    """

    name: str
    level: Level
    summary: str
    strategy: SearchStrategy[X]
    check: Callable[[X], Outcome]
    key: Callable[[X], str] = field(default=canonical_json)
    unchecked: str = "no example could be checked"
    """Why the property could not be checked, when no example applied to it."""
