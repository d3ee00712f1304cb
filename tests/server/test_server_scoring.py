"""BM25 reranking: the documented tokenizer, score mapping and ranking rules."""

from __future__ import annotations

import json
import math
from collections import Counter
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from together_rerank.server import create_app
from together_rerank.server.engines.bm25 import rank, relevance_scores
from together_rerank.server.text import STOPWORDS, count_usage_tokens, stem, terms

from .support import (
    ATTENTION_CORPUS,
    ATTENTION_QUERY,
    EMBEDDING_MODEL,
    FRAMEWORK_DOCUMENTS,
    FRAMEWORK_QUERY,
    OPTIMIZATION_DOCUMENTS,
    OPTIMIZATION_QUERY,
    RAG_DOCUMENTS,
    RAG_QUERY,
    asgi_client,
    assert_conforms,
    rerank_body,
)

VOCABULARY = ["alpha", "beta", "gamma", "delta", "epsilon", "the", "is", "zeta"]
texts_strategy = st.lists(
    st.lists(st.sampled_from(VOCABULARY), max_size=8).map(" ".join), min_size=1, max_size=8
)
query_strategy = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=4).map(" ".join)


async def _rerank(client: httpx.AsyncClient, **fields: Any) -> dict[str, Any]:
    response = await client.post("/v1/rerank", json=rerank_body(**fields))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = assert_conforms(response, "/rerank")
    return body


def _scores_by_index(body: dict[str, Any]) -> dict[int, float]:
    return {r["index"]: r["relevance_score"] for r in body["results"]}


# --- the tokenizer ---------------------------------------------------------------


def test_terms_casefold_split_on_non_letters_drop_stopwords_and_plural_s() -> None:
    assert terms("What is Retrieval-Augmented Generation?") == [
        "retrieval",
        "augmented",
        "generation",
    ]
    assert terms("Deep learning FRAMEWORKS, snake_case 42") == [
        "deep",
        "learning",
        "framework",
        "snake",
        "case",
        "42",
    ]
    assert terms("Straße ÉCOLE") == ["strasse", "école"]
    assert terms("the and of is") == []


@pytest.mark.parametrize(
    ("word", "stemmed"),
    [
        ("frameworks", "framework"),
        ("queries", "query"),
        ("classes", "class"),
        ("class", "class"),
        ("status", "status"),
        ("analysis", "analysis"),
        ("gas", "gas"),
        ("ties", "ties"),
        ("1990s", "1990s"),
        ("learning", "learning"),
    ],
)
def test_stemmer_only_strips_plural_endings(word: str, stemmed: str) -> None:
    assert stem(word) == stemmed


def test_stopwords_are_a_small_english_list() -> None:
    assert {"is", "what", "the", "a", "of", "how", "does"} <= STOPWORDS
    assert len(STOPWORDS) < 200
    assert "learning" not in STOPWORDS


def test_usage_tokens_are_word_runs_and_single_punctuation_marks() -> None:
    assert count_usage_tokens("What is RAG?") == 4
    assert count_usage_tokens("self-attention, 2x") == 5
    assert count_usage_tokens("") == 0


# --- the seed's example rankings ---------------------------------------------------


async def test_rag_query_ranks_both_rag_documents_first(client: httpx.AsyncClient) -> None:
    body = await _rerank(client, query=RAG_QUERY, documents=RAG_DOCUMENTS, top_n=3)
    top_two = {r["index"] for r in body["results"][:2]}
    assert top_two == {1, 3}
    # "is" is a stopword: the Python document must not score at all.
    full = await _rerank(client, query=RAG_QUERY, documents=RAG_DOCUMENTS)
    assert _scores_by_index(full)[2] == 0.0


async def test_framework_query_ranks_pytorch_first_on_title_and_body(
    client: httpx.AsyncClient,
) -> None:
    body = await _rerank(
        client,
        query=FRAMEWORK_QUERY,
        documents=FRAMEWORK_DOCUMENTS,
        rank_fields=["title", "body"],
        return_documents=True,
        top_n=2,
    )
    assert body["results"][0]["index"] == 0
    assert len(body["results"]) == 2
    assert json.loads(body["results"][0]["document"]["text"]) == FRAMEWORK_DOCUMENTS[0]


async def test_optimization_query_ranks_adam_first(client: httpx.AsyncClient) -> None:
    body = await _rerank(
        client, query=OPTIMIZATION_QUERY, documents=OPTIMIZATION_DOCUMENTS, top_n=2
    )
    assert body["results"][0]["index"] == 2


async def test_retrieve_then_rerank_finds_the_attention_documents(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        "/v1/embeddings",
        json={"model": EMBEDDING_MODEL, "input": [ATTENTION_QUERY, *ATTENTION_CORPUS]},
    )
    vectors = [item["embedding"] for item in assert_conforms(response, "/embeddings")["data"]]
    query_vector, doc_vectors = vectors[0], vectors[1:]
    similarities = [sum(q * d for q, d in zip(query_vector, dv, strict=True)) for dv in doc_vectors]
    top3 = sorted(range(len(similarities)), key=lambda i: -similarities[i])[:3]
    assert set(top3) == {0, 1, 3}, similarities

    candidates = [ATTENTION_CORPUS[i] for i in top3]
    body = await _rerank(client, query=ATTENTION_QUERY, documents=candidates, top_n=2)
    assert len(body["results"]) == 2
    assert all(r["relevance_score"] > 0 for r in body["results"])


# --- the score mapping --------------------------------------------------------------


def _reference_relevance(query: str, texts: list[str]) -> list[float]:
    """Okapi BM25 with Lucene's IDF, k1=1.5, b=0.75, divided by the query's ceiling."""
    k1, b = 1.5, 0.75
    docs = [Counter(terms(t)) for t in texts]
    lengths = [sum(d.values()) for d in docs]
    n, avgdl = len(docs), sum(lengths) / len(docs)
    query_terms = terms(query)

    def idf(term: str) -> float:
        df = sum(1 for d in docs if term in d)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    ceiling = (k1 + 1) * sum(idf(t) for t in query_terms)
    if not ceiling or not avgdl:
        return [0.0] * n
    scores = []
    for doc, length in zip(docs, lengths, strict=True):
        raw = sum(
            idf(t) * doc[t] * (k1 + 1) / (doc[t] + k1 * (1 - b + b * length / avgdl))
            for t in query_terms
        )
        scores.append(raw / ceiling)
    return scores


@settings(max_examples=150, deadline=None)
@given(query=query_strategy, texts=texts_strategy)
def test_relevance_is_bm25_over_its_ceiling(query: str, texts: list[str]) -> None:
    assert relevance_scores(query, texts) == pytest.approx(_reference_relevance(query, texts))


@settings(max_examples=150, deadline=None)
@given(query=query_strategy, texts=texts_strategy)
def test_scores_lie_in_unit_interval_and_are_zero_without_a_shared_term(
    query: str, texts: list[str]
) -> None:
    scores = relevance_scores(query, texts)
    query_terms = set(terms(query))
    for text, score in zip(texts, scores, strict=True):
        assert 0.0 <= score < 1.0
        assert (score > 0.0) == bool(query_terms & set(terms(text)))


@settings(max_examples=150, deadline=None)
@given(query=query_strategy, texts=texts_strategy, data=st.data())
def test_permuting_documents_leaves_each_documents_score_unchanged(
    query: str, texts: list[str], data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(texts))))
    original = relevance_scores(query, texts)
    permuted = relevance_scores(query, [texts[i] for i in order])
    assert [original[i] for i in order] == permuted


@settings(max_examples=150, deadline=None)
@given(query=query_strategy, texts=texts_strategy, top_n=st.none() | st.integers(1, 12))
def test_results_are_sorted_by_score_then_index_and_truncated_to_top_n(
    query: str, texts: list[str], top_n: int | None
) -> None:
    ranked = rank(query, texts, top_n)
    keys = [(-r.relevance_score, r.index) for r in ranked]
    assert keys == sorted(keys)
    assert len(ranked) == min(len(texts), top_n or len(texts))
    full = rank(query, texts)
    assert ranked == full[: len(ranked)]
    assert sorted(r.index for r in full) == list(range(len(texts)))


def test_a_term_in_every_document_still_scores_positive() -> None:
    # rank_bm25's classic IDF is negative here; Lucene's is not.
    assert relevance_scores("python", ["python"])[0] > 0
    scores = relevance_scores("python", ["python code", "python snake", "python"])
    assert all(0 < s < 1 for s in scores)


def test_empty_or_stopword_only_query_scores_everything_zero() -> None:
    assert relevance_scores("", ["a b", "c"]) == [0.0, 0.0]
    assert relevance_scores("what is the", ["what is the answer"]) == [0.0]
    assert relevance_scores("answer", ["", "..."]) == [0.0, 0.0]


async def test_ties_keep_input_order(client: httpx.AsyncClient) -> None:
    docs = ["retrieval generation", "unrelated", "retrieval generation", "unrelated"]
    body = await _rerank(client, documents=docs)
    assert [r["index"] for r in body["results"]] == [0, 2, 1, 3]
    scores = [r["relevance_score"] for r in body["results"]]
    assert scores[0] == scores[1] > scores[2] == scores[3] == 0.0


# --- request options ------------------------------------------------------------------


async def test_top_n_truncates_and_above_the_count_returns_all(client: httpx.AsyncClient) -> None:
    full = await _rerank(client)
    two = await _rerank(client, top_n=2)
    assert two["results"] == full["results"][:2]
    many = await _rerank(client, top_n=1000)
    assert many["results"] == full["results"]
    assert len(full["results"]) == len(RAG_DOCUMENTS)


async def test_identical_requests_get_identical_responses(client: httpx.AsyncClient) -> None:
    first = await client.post("/v1/rerank", json=rerank_body(return_documents=True))
    second = await client.post("/v1/rerank", json=rerank_body(return_documents=True))
    assert first.content == second.content
    other = await client.post("/v1/rerank", json=rerank_body(query="weather"))
    assert other.json()["id"] != first.json()["id"]


async def test_without_return_documents_results_have_no_document_key(
    client: httpx.AsyncClient,
) -> None:
    for fields in ({}, {"return_documents": False}):
        body = await _rerank(client, **fields)
        assert all(set(r) == {"index", "relevance_score"} for r in body["results"])


async def test_return_documents_gives_string_documents_as_text(client: httpx.AsyncClient) -> None:
    body = await _rerank(client, return_documents=True)
    for result in body["results"]:
        assert result["document"] == {"text": RAG_DOCUMENTS[result["index"]]}


async def test_return_documents_gives_object_documents_as_compact_json(
    client: httpx.AsyncClient,
) -> None:
    docs = [{"title": "Café", "tags": ["x", 1], "n": None}, {"title": "b"}]
    body = await _rerank(client, query="café", documents=docs, return_documents=True)
    texts = {r["index"]: r["document"]["text"] for r in body["results"]}
    assert texts[0] == '{"title":"Café","tags":["x",1],"n":null}'
    assert texts[1] == '{"title":"b"}'


async def test_changing_an_unranked_field_leaves_scores_unchanged(
    client: httpx.AsyncClient,
) -> None:
    docs = [{"title": "deep learning", "body": "pasta"}, {"title": "cooking", "body": "deep"}]
    noisy = [{**d, "body": "deep learning frameworks deep learning"} for d in docs]
    plain = await _rerank(client, query=FRAMEWORK_QUERY, documents=docs, rank_fields=["title"])
    changed = await _rerank(client, query=FRAMEWORK_QUERY, documents=noisy, rank_fields=["title"])
    assert _scores_by_index(plain) == _scores_by_index(changed)
    # ...while ranking on body does see the change.
    on_body = await _rerank(client, query=FRAMEWORK_QUERY, documents=noisy, rank_fields=["body"])
    assert _scores_by_index(on_body) != _scores_by_index(plain)


async def test_rank_fields_order_follows_the_request_and_missing_fields_are_skipped(
    client: httpx.AsyncClient,
) -> None:
    docs = [{"title": "deep learning"}, {"body": "deep learning", "title": "x"}]
    body = await _rerank(
        client, query="deep learning", documents=docs, rank_fields=["title", "body"]
    )
    assert all(r["relevance_score"] > 0 for r in body["results"])


async def test_without_rank_fields_only_string_fields_are_ranked(
    client: httpx.AsyncClient,
) -> None:
    docs = [{"title": "deep learning", "year": 2020}, {"title": "pasta", "year": 1999}]
    base = await _rerank(client, query="deep learning 2020", documents=docs)
    renumbered = [{**d, "year": 2020} for d in docs]
    changed = await _rerank(client, query="deep learning 2020", documents=renumbered)
    assert _scores_by_index(base) == _scores_by_index(changed)
    assert _scores_by_index(base)[1] == 0.0


async def test_a_ranked_non_string_field_is_ranked_as_compact_json(
    client: httpx.AsyncClient,
) -> None:
    docs = [{"tags": ["deep learning", "gpu"]}, {"tags": ["cooking"]}, {"tags": None}]
    body = await _rerank(client, query="deep learning", documents=docs, rank_fields=["tags"])
    assert _scores_by_index(body)[0] > 0
    assert _scores_by_index(body)[1] == _scores_by_index(body)[2] == 0.0


async def test_usage_counts_query_and_ranked_text_tokens(client: httpx.AsyncClient) -> None:
    body = await _rerank(client, query="deep learning", documents=["a b.", "c"])
    assert body["usage"] == {"prompt_tokens": 6, "completion_tokens": 0, "total_tokens": 6}
    objects = await _rerank(
        client,
        query="q",
        documents=[{"title": "x y", "body": "ignored words here"}],
        rank_fields=["title"],
    )
    assert objects["usage"]["prompt_tokens"] == 3


@settings(max_examples=30, deadline=None)
@given(query=query_strategy, texts=texts_strategy)
async def test_usage_total_is_prompt_plus_completion(query: str, texts: list[str]) -> None:
    async with asgi_client(create_app()) as client:
        body = await _rerank(client, query=query, documents=texts)
    usage = body["usage"]
    assert usage["completion_tokens"] == 0
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    expected = count_usage_tokens(query) + sum(count_usage_tokens(t) for t in texts)
    assert usage["prompt_tokens"] == expected
