"""How a rerank document becomes text: the text that is ranked and the text returned.

Ranked text of a string document is the string itself. Ranked text of an object
document is the values of its ranked fields, in order, joined by `FIELD_SEPARATOR`:

* with ``rank_fields``, those fields in the order given (duplicates ignored);
  a field a document lacks, or whose value is ``null``, contributes nothing;
* without ``rank_fields``, every string-valued field in the object's key order
  (numbers, booleans, arrays and nested objects are skipped, since ids and
  metadata would otherwise add noise terms).

A ranked field whose value is not a string contributes its compact JSON text
(``["deep learning", 2]`` is ranked as ``["deep learning",2]``, so the words
inside still match).

Returned text (``return_documents: true``) follows the hosted API: a string
document as itself, an object document as its compact JSON (key order kept,
non-ASCII characters kept as they are).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

FIELD_SEPARATOR = "\n"


def compact_json(value: Any) -> str:
    """Serialise a JSON value without whitespace, keeping key order and non-ASCII text."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _field_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, str):
        return value
    return compact_json(value)


def ranked_text(document: str | Mapping[str, Any], rank_fields: Sequence[str] | None) -> str:
    """Return the text of `document` that BM25 scores and `usage` counts."""
    if isinstance(document, str):
        return document
    if rank_fields is None:
        parts = [value for value in document.values() if isinstance(value, str)]
    else:
        parts = [
            text
            for name in rank_fields
            if name in document and (text := _field_text(document[name])) is not None
        ]
    return FIELD_SEPARATOR.join(parts)


def returned_text(document: str | Mapping[str, Any]) -> str:
    """Return the ``document.text`` of a result, as the hosted API shapes it."""
    return document if isinstance(document, str) else compact_json(document)
