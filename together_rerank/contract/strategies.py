"""Hypothesis strategies for the semantic level: rerank calls worth checking.

Texts are drawn mostly from a small shared vocabulary, so that queries and
documents overlap and scores differ (a ranking of all-zero scores proves
little); the rest are arbitrary unicode, empty strings and long documents.
Document lists are all strings or all objects, and sometimes hold duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st

from .calls import Documents, RerankCall

__all__ = [
    "DOCUMENTS",
    "FIELDS",
    "QUERIES",
    "TEXTS",
    "VOCABULARY",
    "PermutedCall",
    "RankFieldChange",
    "permuted_calls",
    "rank_field_changes",
    "rerank_calls",
]

# Few words, so that a query's words are in most documents; two are not ASCII.
VOCABULARY = ("rerank", "search", "model", "deep", "café", "数据")
FIELDS = ("title", "body", "tags", "id")

MAX_STRING_DOCUMENTS = 8
MAX_OBJECT_DOCUMENTS = 6


def phrases(min_words: int = 0, max_words: int = 8) -> st.SearchStrategy[str]:
    """Words of the shared vocabulary, joined by spaces."""
    return st.lists(st.sampled_from(VOCABULARY), min_size=min_words, max_size=max_words).map(
        " ".join
    )


# Strategies are built once: Hypothesis analyses each new strategy object anew.
LONG_TEXTS = st.builds(
    lambda words, times: " ".join(words * times),
    st.lists(st.sampled_from(VOCABULARY), min_size=2, max_size=6),
    st.integers(min_value=20, max_value=150),
)
"""Hundreds of vocabulary words: a few words repeated many times."""
TEXTS = st.one_of(phrases(), st.text(max_size=16), LONG_TEXTS)
"""Document text: vocabulary phrases, arbitrary unicode (empty included), or long."""
QUERIES = st.one_of(phrases(1, 4), st.text(max_size=16))
"""A query: a few vocabulary words, or arbitrary unicode (empty included)."""
FIELD_VALUES = st.one_of(
    TEXTS,
    st.none(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.lists(phrases(1, 3), max_size=3),
)
"""What an object document's field may hold: mostly text, sometimes other JSON."""
OBJECT_DOCUMENTS = st.dictionaries(
    st.one_of(st.sampled_from(FIELDS), st.text(min_size=1, max_size=8)), FIELD_VALUES, max_size=4
)
"""An object document: known field names mostly, sometimes unicode ones."""


@st.composite
def _with_duplicates(draw: st.DrawFn, items: st.SearchStrategy[list[Any]]) -> list[Any]:
    values = draw(items)
    duplicate = draw(st.booleans())
    if values and duplicate:
        copied = values[draw(st.integers(0, len(values) - 1))]
        values.insert(draw(st.integers(0, len(values))), copied)
    return values


DOCUMENTS: st.SearchStrategy[Documents] = st.one_of(
    _with_duplicates(st.lists(TEXTS, min_size=1, max_size=MAX_STRING_DOCUMENTS)),
    _with_duplicates(st.lists(OBJECT_DOCUMENTS, min_size=1, max_size=MAX_OBJECT_DOCUMENTS)),
)
"""A non-empty list of string documents or of object documents, maybe with duplicates."""


@st.composite
def rerank_calls(draw: st.DrawFn, *, with_top_n: bool = True) -> RerankCall:
    """Any valid call: string or object documents, top_n, return_documents, rank_fields."""
    query = draw(QUERIES)
    docs = draw(DOCUMENTS)
    if draw(st.booleans()):
        # A document that is the query itself: at least one score that is not 0.
        echo: Any = query if isinstance(docs[0], str) else {"title": query}
        docs.insert(draw(st.integers(0, len(docs))), echo)
    top_n = None
    if with_top_n:
        top_n = draw(st.none() | st.integers(min_value=1, max_value=len(docs) + 2))
    return_documents = draw(st.sampled_from([None, False, True]))
    rank_fields = None
    if isinstance(docs[0], dict):
        present = sorted({name for doc in docs for name in doc})
        use_rank_fields = draw(st.booleans())
        if present and use_rank_fields:
            rank_fields = draw(
                st.lists(st.sampled_from(present), min_size=1, max_size=3, unique=True)
            )
    return RerankCall(query, docs, top_n, return_documents, rank_fields)


@dataclass(frozen=True)
class PermutedCall:
    """A call, and the same call with its documents reordered.

    Position ``p`` of the permuted documents holds original document ``order[p]``.
    """

    call: RerankCall
    order: list[int]

    @property
    def permuted(self) -> RerankCall:
        """The call with the documents in the new order."""
        docs: list[Any] = [self.call.documents[i] for i in self.order]
        return self.call.with_documents(docs)


@st.composite
def permuted_calls(draw: st.DrawFn) -> PermutedCall:
    """A call without top_n (every document comes back) and a reordering of its documents."""
    call = draw(rerank_calls(with_top_n=False))
    order = draw(st.permutations(range(len(call.documents))))
    return PermutedCall(call, list(order))


@dataclass(frozen=True)
class RankFieldChange:
    """A call with rank_fields, and its documents with some unranked fields changed."""

    call: RerankCall
    changed: list[dict[str, Any]]

    @property
    def changed_call(self) -> RerankCall:
        """The call with the changed documents."""
        return self.call.with_documents(self.changed)

    def changed_fields(self, index: int) -> list[str]:
        """The fields of document `index` whose values differ between the two calls."""
        before: dict[str, Any] = dict(self.call.documents[index])  # type: ignore[arg-type]
        after = self.changed[index]
        return [name for name in after if before.get(name) != after.get(name)]


@st.composite
def rank_field_changes(draw: st.DrawFn) -> RankFieldChange:
    """Object documents, rank_fields naming some of their fields, and a change to the others.

    A changed value is often the query itself: a server that ranks fields it
    was told to ignore then scores the document differently.
    """
    fields = draw(st.lists(st.sampled_from(FIELDS), min_size=2, max_size=4, unique=True))
    ranked = draw(
        st.lists(st.sampled_from(fields), min_size=1, max_size=len(fields) - 1, unique=True)
    )
    unranked = [name for name in fields if name not in ranked]
    query = draw(QUERIES)
    count = draw(st.integers(min_value=1, max_value=MAX_OBJECT_DOCUMENTS))
    docs: list[dict[str, Any]] = []
    for i in range(count):
        # The first document has every field, so every rank field exists.
        docs.append({name: draw(TEXTS) for name in fields if i == 0 or draw(st.booleans())})
    new_values = st.one_of(st.just(query), TEXTS)
    changed = [dict(doc) for doc in docs]
    for doc in changed:
        for name in unranked:
            if name in doc and draw(st.booleans()):
                doc[name] = draw(new_values)
    first = unranked[0]
    if changed[0][first] == docs[0][first]:
        changed[0][first] = docs[0][first] + " " + query
    call = RerankCall(query, docs, rank_fields=ranked)
    return RankFieldChange(call, changed)
