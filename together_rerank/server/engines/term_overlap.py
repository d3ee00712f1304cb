"""The ``term-overlap`` rerank engine: pointwise lexical matching, no weights, no corpus statistics.

Each document is scored from the query and that document alone, never from the
other documents of the request (unlike ``bm25``, whose IDF and average length
come from the request). So a document's score is the same in any request, and
ranking documents in batches then merging equals ranking them all at once:
what a cross-encoder guarantees, at lexical cost. It exists to test and
demonstrate exactly that.

With `text.terms` for both texts, ``q_t`` the count of term ``t`` in the query,
``f_t`` its count in the document and ``L`` the document's term count:

    score = sum_t q_t * f_t / (f_t + K1 * (1 - B + B * L / AVERAGE_LENGTH)) / sum_t q_t

a BM25-like saturating term frequency with a fixed length norm, weighted by the
query's own term counts and divided by their sum, so it lies in [0, 1) and is 0
exactly when the document shares no term with the query.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from together_rerank.server.engines import Engine
from together_rerank.server.text import terms

K1 = 1.2
B = 0.75
AVERAGE_LENGTH = 100.0
"""The document length (in terms) that the length norm treats as typical: a constant."""


def relevance_score(query_terms: Counter[str], text: str) -> float:
    """Score one text against the query's term counts, in [0, 1)."""
    total = sum(query_terms.values())
    if not total:
        return 0.0
    doc = Counter(terms(text))
    norm = K1 * (1.0 - B + B * sum(doc.values()) / AVERAGE_LENGTH)
    matched = 0.0
    for term, weight in query_terms.items():
        freq = doc.get(term, 0)
        if freq:
            matched += weight * freq / (freq + norm)
    return matched / total


def relevance_scores(query: str, texts: Sequence[str]) -> list[float]:
    """Score each text against the query, in [0, 1), in input order; each on its own."""
    query_terms = Counter(terms(query))
    return [relevance_score(query_terms, text) for text in texts]


class TermOverlapEngine(Engine):
    """The ``term-overlap`` engine: `relevance_scores` behind the `Engine` interface."""

    name = "term-overlap"
    kinds = frozenset({"rerank"})
    pointwise = True

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """Term-overlap relevance of each text, in [0, 1), each on its own."""
        return relevance_scores(query, texts)


def create(argument: str) -> Engine:
    """Build the engine (it takes no argument and loads nothing)."""
    return TermOverlapEngine()
