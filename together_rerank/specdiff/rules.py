"""The rule table: every kind of spec change this tool knows, its severity for SDK users, and why.

Severities follow oasdiff's documented checks for the constructs openapi.yaml
uses, and are stricter in one place: a lowered request ``maxItems`` is breaking
(oasdiff has no rule for it). A newly ``deprecated`` operation, parameter or
property is a warning (the version check asks for a bump and a changelog entry
that says so); a response property renamed with the old name kept as
``x-deprecated-alias`` is a warning too, as the SDK still answers to the old
name. "Request" rules apply to what clients send, "response" rules to what they
parse.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

__all__ = ["DEPRECATIONS", "RULES", "Rule", "Severity"]


class Severity(Enum):
    """How a change affects SDK users; ordered from harmless to breaking."""

    INFO = "info"
    WARNING = "warning"
    BREAKING = "breaking"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.BREAKING: 2}


@dataclass(frozen=True)
class Rule:
    """One kind of change: its id, severity and the one-line reason shown with it."""

    id: str
    severity: Severity
    why: str


_B, _W, _I = Severity.BREAKING, Severity.WARNING, Severity.INFO

_TABLE: tuple[Rule, ...] = (
    # Paths and operations.
    Rule("path-removed", _B, "calls to this path now fail"),
    Rule("operation-removed", _B, "calls to this operation now fail"),
    Rule("operation-added", _I, "a new operation; the facade must expose it"),
    Rule("path-added", _I, "a new path; the facade must expose its operations"),
    Rule("operation-deprecated", _W, "calls still work, but the operation is going away"),
    Rule("server-url-changed", _W, "the default base URL changes where the SDK sends requests"),
    Rule("security-changed", _B, "requests that authenticated before may be refused"),
    # Parameters.
    Rule("request-parameter-required-added", _B, "existing calls do not send this parameter"),
    Rule("request-parameter-optional-added", _I, "a new optional parameter"),
    Rule("request-parameter-removed", _W, "the server no longer reads this parameter"),
    Rule("request-parameter-made-required", _B, "existing calls may not send this parameter"),
    # Request bodies.
    Rule("request-body-made-required", _B, "existing calls without a body now fail"),
    Rule("request-media-type-removed", _B, "bodies of this media type are now refused"),
    Rule("request-property-required-added", _B, "existing calls do not send this property"),
    Rule("request-property-optional-added", _I, "a new optional request property"),
    Rule("request-property-removed", _W, "the server no longer reads this property"),
    Rule("request-property-made-required", _B, "existing calls may leave this property out"),
    Rule("request-property-made-optional", _I, "callers may now leave this property out"),
    Rule("request-property-deprecated", _W, "still accepted, but callers should stop sending it"),
    Rule("request-parameter-deprecated", _W, "still accepted, but callers should stop sending it"),
    Rule("request-type-changed", _B, "values valid before are refused now"),
    Rule("request-type-widened", _I, "more kinds of values are accepted"),
    Rule("request-made-non-nullable", _B, "null was accepted before and is refused now"),
    Rule("request-made-nullable", _I, "null is accepted now"),
    Rule("request-enum-value-removed", _B, "a value callers may send is refused now"),
    Rule("request-enum-value-added", _I, "a new accepted value"),
    Rule("request-max-lowered", _B, "values valid before exceed the new maximum"),
    Rule("request-max-added", _B, "values valid before may exceed the new maximum"),
    Rule("request-max-raised", _I, "larger values are accepted"),
    Rule("request-min-raised", _B, "values valid before are below the new minimum"),
    Rule("request-min-added", _B, "values valid before may be below the new minimum"),
    Rule("request-min-lowered", _I, "smaller values are accepted"),
    Rule("request-pattern-added", _B, "strings valid before may not match the new pattern"),
    Rule("request-pattern-changed", _W, "strings valid before may not match the new pattern"),
    Rule("request-pattern-removed", _I, "any string is accepted"),
    Rule("request-additional-properties-closed", _B, "extra fields that were accepted are refused"),
    Rule("request-default-changed", _W, "calls that leave the field out behave differently"),
    Rule("request-variant-removed", _B, "a shape of value accepted before is refused now"),
    Rule("request-variant-added", _I, "a new accepted shape of value"),
    # Responses.
    Rule("response-success-status-removed", _B, "clients expecting this status break"),
    Rule("response-error-status-removed", _I, "an error status is no longer declared"),
    Rule("response-status-added", _I, "a new declared status"),
    Rule("response-media-type-removed", _B, "clients parsing this media type break"),
    Rule("response-property-required-removed", _B, "code reading this field breaks"),
    Rule("response-property-renamed", _B, "code reading the old name breaks"),
    Rule(
        "response-property-renamed-with-alias",
        _W,
        "the SDK keeps the old name as a deprecated alias (x-deprecated-alias); reading it warns",
    ),
    Rule("response-property-deprecated", _W, "still sent for now, but going away"),
    Rule("response-property-optional-removed", _W, "code reading this optional field gets nothing"),
    Rule("response-property-added", _I, "a new response field"),
    Rule("response-property-made-optional", _B, "code assuming the field is present breaks"),
    Rule("response-property-made-required", _I, "the field is always present now"),
    Rule("response-made-nullable", _B, "code assuming a value may receive null"),
    Rule("response-made-non-nullable", _I, "null is no longer sent"),
    Rule("response-type-changed", _B, "clients may receive a type they cannot parse"),
    Rule("response-type-narrowed", _I, "fewer kinds of values are sent"),
    Rule("response-enum-value-added", _W, "clients may receive a value they do not handle"),
    Rule("response-enum-value-removed", _I, "a value is no longer sent"),
    Rule("response-range-widened", _W, "clients may receive values outside the old range"),
    Rule("response-range-narrowed", _I, "values stay inside a smaller range"),
    Rule("response-variant-added", _W, "clients may receive a shape they do not handle"),
    Rule("response-variant-removed", _I, "a shape of value is no longer sent"),
    # Either direction: documentation only.
    Rule("description-changed", _I, "documentation only"),
    Rule("example-changed", _I, "documentation only"),
    # The Python API of the SDK (griffe).
    Rule("python-api-breaking", _B, "code using this name breaks"),
)

RULES: dict[str, Rule] = {rule.id: rule for rule in _TABLE}

DEPRECATIONS: frozenset[str] = frozenset(
    {
        "operation-deprecated",
        "request-parameter-deprecated",
        "request-property-deprecated",
        "response-property-deprecated",
        "response-property-renamed-with-alias",
    }
)
"""Rules that deprecate something: a minor bump after 1.0, and a changelog that says so."""
