"""Contract checking: does a server speak the Together rerank API?

    from together_rerank.contract import run_check

    report = run_check("http://127.0.0.1:8000", max_examples=20, seed=1)
    print(report.format())
    assert report.ok, report.failed

Two levels of properties, each checked with Hypothesis-generated requests and
reported with the smallest failing example:

* schema level: openapi.yaml's promises, with schemathesis (status codes,
  content types, response schemas, valid requests accepted, invalid ones
  rejected, no 5xx);
* semantic level: what a ranking means, through this SDK (sorted, valid and
  unique indices, top_n, return_documents, rank_fields, usage, determinism,
  permutation invariance).

Needs the ``check`` extra (schemathesis, hypothesis, PyYAML).
"""

from .check import (
    ALL_PROPERTIES,
    DEFAULT_EMBEDDING_MODEL,
    DEFAULT_MAX_EXAMPLES,
    DEFAULT_MODEL,
    run_check,
)
from .properties import Level
from .report import PropertyResult, Report, Status
from .spec import spec_path

__all__ = [
    "ALL_PROPERTIES",
    "DEFAULT_EMBEDDING_MODEL",
    "DEFAULT_MAX_EXAMPLES",
    "DEFAULT_MODEL",
    "Level",
    "PropertyResult",
    "Report",
    "Status",
    "run_check",
    "spec_path",
]
