"""Classify the changes between two OpenAPI documents for SDK users: breaking, warning or info.

`together-rerank spec-diff OLD NEW` is the command; `diff_specs` the function.
"""

from .compare import Change, diff_specs
from .load import SpecLoadError, load_document
from .report import fails, format_json, format_text, worst
from .rules import RULES, Rule, Severity

__all__ = [
    "RULES",
    "Change",
    "Rule",
    "Severity",
    "SpecLoadError",
    "diff_specs",
    "fails",
    "format_json",
    "format_text",
    "load_document",
    "worst",
]
