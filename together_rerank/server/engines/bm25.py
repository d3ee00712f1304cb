"""The ``bm25`` rerank engine: Okapi BM25 (rank_bm25) over each request's own documents.

Statistics (document frequencies, average length) are built per request from
the candidate documents, with `text.terms` as the tokenizer and rank_bm25's
defaults k1 = 1.5, b = 0.75.

IDF is Lucene's ``log(1 + (N - n + 0.5) / (n + 0.5))`` instead of rank_bm25's
classic ``log((N - n + 0.5) / (n + 0.5))``: the classic form goes negative for a
term in more than half of the documents, and rank_bm25 then patches it with a
floor derived from the average IDF, which is itself negative on tiny corpora
(one document, or terms shared by all), producing negative scores. Lucene's
form is positive for every term and keeps the same ordering intuition.

``relevance_score`` = raw BM25 / the largest raw BM25 any document could reach
for this query, ``(k1 + 1) * sum(idf(t) for t in query terms)`` (query terms
counted with repetition; a term no document contains gets the IDF of n = 0).
Each term's BM25 contribution is strictly below ``(k1 + 1) * idf(t)``, so the
score lies in [0, 1), it is 0 exactly when no query term occurs in the
document, and it is strictly increasing in the raw score. It depends only on
the document, the query and the corpus statistics, never on the other
documents' scores, so permuting the documents leaves each score unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rank_bm25 import BM25Okapi

from together_rerank.server.engines import Engine
from together_rerank.server.text import terms

K1 = 1.5
B = 0.75


def _idf(corpus_size: int, doc_freq: int) -> float:
    return math.log(1.0 + (corpus_size - doc_freq + 0.5) / (doc_freq + 0.5))


class _LuceneIdfBM25(BM25Okapi):  # type: ignore[misc]  # rank_bm25 ships no types
    """rank_bm25's Okapi scorer with an IDF that cannot go negative."""

    def _calc_idf(self, nd: dict[str, int]) -> None:
        self.idf = {word: _idf(self.corpus_size, freq) for word, freq in nd.items()}


@dataclass(frozen=True)
class Ranked:
    """One ranked document: its position in the request and its relevance score."""

    index: int
    relevance_score: float


def relevance_scores(query: str, texts: Sequence[str]) -> list[float]:
    """Score each text against the query, in [0, 1], in input order."""
    query_terms = terms(query)
    corpus = [terms(text) for text in texts]
    if not query_terms or not any(corpus):
        # Nothing can match; rank_bm25 would also divide by a zero average length.
        return [0.0] * len(texts)
    bm25 = _LuceneIdfBM25(corpus, k1=K1, b=B)
    doc_freqs = {t: sum(1 for doc in bm25.doc_freqs if t in doc) for t in set(query_terms)}
    ceiling = (K1 + 1.0) * sum(_idf(len(corpus), doc_freqs[t]) for t in query_terms)
    raw = bm25.get_scores(query_terms)
    return [min(1.0, max(0.0, float(score) / ceiling)) for score in raw]


def rank(query: str, texts: Sequence[str], top_n: int | None = None) -> list[Ranked]:
    """Rank texts by relevance to the query: score descending, ties by index ascending."""
    scores = relevance_scores(query, texts)
    order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
    if top_n is not None:
        order = order[:top_n]
    return [Ranked(i, scores[i]) for i in order]


class BM25Engine(Engine):
    """The ``bm25`` engine: `relevance_scores` behind the `Engine` interface."""

    name = "bm25"
    kinds = frozenset({"rerank"})
    # IDF and average length come from the request's own documents, so a
    # document's score moves when the others change.
    pointwise = False

    def score(self, query: str, texts: Sequence[str]) -> list[float]:
        """BM25 relevance of each text, in [0, 1)."""
        return relevance_scores(query, texts)


def create(argument: str) -> Engine:
    """Build the engine (it takes no argument and loads nothing)."""
    return BM25Engine()
