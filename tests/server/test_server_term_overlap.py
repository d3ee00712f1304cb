"""The ``term-overlap`` engine: pointwise lexical scores, the same in any request."""

from __future__ import annotations

from collections import Counter

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from together_rerank.server import ServerConfig, create_app
from together_rerank.server.engines.term_overlap import relevance_score, relevance_scores
from together_rerank.server.text import terms

from .support import asgi_client

VOCABULARY = ["alpha", "beta", "gamma", "delta", "the", "is", "cats", "cat"]
text = st.lists(st.sampled_from(VOCABULARY), max_size=10).map(" ".join)
query = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4).map(" ".join)


@settings(max_examples=300)
@given(
    query=query, texts=st.lists(text, min_size=1, max_size=10), other=st.lists(text, max_size=10)
)
def test_a_score_does_not_depend_on_the_other_documents(
    query: str, texts: list[str], other: list[str]
) -> None:
    alone = [relevance_scores(query, [t])[0] for t in texts]
    assert relevance_scores(query, texts) == alone
    assert relevance_scores(query, other + texts)[len(other) :] == alone
    assert relevance_scores(query, texts[::-1]) == alone[::-1]


@settings(max_examples=300)
@given(query=query, doc=text)
def test_scores_lie_in_0_1_and_are_0_exactly_without_a_shared_term(query: str, doc: str) -> None:
    score = relevance_score(Counter(terms(query)), doc)
    assert 0.0 <= score < 1.0
    assert (score == 0.0) == (not set(terms(query)) & set(terms(doc)))


def test_more_of_a_query_term_scores_higher_and_stopwords_do_not_count() -> None:
    dog, one, three, stopwords = relevance_scores("cat", ["dog", "a cat", "cat cat cat", "the is"])
    assert three > one > dog == stopwords == 0.0


@pytest.mark.parametrize("top_n", [None, 1, 3])
async def test_served_over_http_with_ties_by_index(top_n: int | None) -> None:
    app = create_app(ServerConfig(models={"p": "term-overlap"}))
    body: dict[str, object] = {
        "model": "p",
        "query": "gamma",
        "documents": ["x", "gamma", "y", "gamma"],
    }
    if top_n is not None:
        body["top_n"] = top_n
    async with asgi_client(app) as client:
        reply = await client.post("/v1/rerank", json=body)
    assert reply.status_code == 200, reply.text
    assert reply.headers["x-together-rerank-engine"] == "term-overlap"
    indices = [r["index"] for r in reply.json()["results"]]
    assert indices == [1, 3, 0, 2][:top_n]


async def test_max_documents_is_a_400_naming_documents() -> None:
    app = create_app(ServerConfig(models={"p": "term-overlap"}, max_documents=2))
    async with asgi_client(app) as client:
        reply: httpx.Response = await client.post(
            "/v1/rerank", json={"model": "p", "query": "a", "documents": ["a", "b", "c"]}
        )
    assert reply.status_code == 400
    assert reply.json()["error"]["param"] == "documents"
