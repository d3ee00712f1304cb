"""End to end: generated requests go from the SDK through the local server and back.

Real loopback HTTP, the typed SDK (`client.rerank.create`), and the same
invariants the checker holds servers to, seen from the client side, on string
and object documents with unicode, empty strings, long texts and duplicates.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from together_rerank import AsyncTogether, RerankResponse, Together
from together_rerank.server import LocalServer

MODEL = "Salesforce/Llama-Rank-V1"
E2E = settings(
    max_examples=30,
    deadline=None,
    # The local server's fixture is shared by every example on purpose.
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

WORDS = ["rerank", "retrieval", "généré", "數據", "model", "search", "🙂", "deep"]
PHRASES = st.lists(st.sampled_from(WORDS), max_size=6).map(" ".join)
LONG_TEXTS = st.builds(lambda phrase, times: (phrase + " ") * times, PHRASES, st.integers(100, 600))
TEXTS = st.one_of(PHRASES, st.text(max_size=30), st.just(""), LONG_TEXTS)
QUERIES = st.one_of(PHRASES, st.text(max_size=20))
FIELD_NAMES = st.one_of(st.sampled_from(["title", "body", "tags"]), st.text(min_size=1, max_size=6))
FIELD_VALUES = st.one_of(
    TEXTS,
    st.none(),
    st.integers(-1000, 1000),
    st.lists(PHRASES, max_size=3),
    st.dictionaries(st.sampled_from(["a", "b"]), PHRASES, max_size=2),
)
OBJECTS = st.dictionaries(FIELD_NAMES, FIELD_VALUES, max_size=4)


@st.composite
def with_duplicates(draw: st.DrawFn, items: st.SearchStrategy[Any], max_size: int) -> list[Any]:
    """A non-empty list that, half of the time, repeats one of its items."""
    values: list[Any] = draw(st.lists(items, min_size=1, max_size=max_size))
    repeat = draw(st.booleans())
    if repeat:
        values.insert(draw(st.integers(0, len(values))), draw(st.sampled_from(values)))
    return values


STRING_DOCUMENTS = with_duplicates(TEXTS, 10)
OBJECT_DOCUMENTS = with_duplicates(OBJECTS, 6)


@pytest.fixture(scope="module")
def client(local_server: LocalServer) -> Iterator[Together]:
    with Together(base_url=local_server.base_url, max_retries=0) as sdk:
        yield sdk


def expected_count(documents: Sequence[Any], top_n: int | None) -> int:
    return len(documents) if top_n is None else min(top_n, len(documents))


def assert_valid_ranking(
    response: RerankResponse, documents: Sequence[Any], top_n: int | None
) -> dict[int, float]:
    """The invariants of every answer; returns each ranked document's score."""
    assert response.object == "rerank"
    assert response.model == MODEL
    scores = [result.relevance_score for result in response.results]
    assert scores == sorted(scores, reverse=True)
    indices = [result.index for result in response.results]
    assert len(set(indices)) == len(indices)
    assert all(0 <= index < len(documents) for index in indices)
    assert len(indices) == expected_count(documents, top_n)
    assert response.usage is not None
    usage = response.usage
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    return {result.index: result.relevance_score for result in response.results}


def assert_equal_documents_score_equally(
    documents: Sequence[Any], scores: dict[int, float]
) -> None:
    by_document: dict[str, float] = {}
    for index, score in scores.items():
        key = json.dumps(documents[index], sort_keys=False)
        assert math.isclose(by_document.setdefault(key, score), score, rel_tol=1e-9), key


@E2E
@given(
    query=QUERIES,
    documents=STRING_DOCUMENTS,
    top_n=st.none() | st.integers(1, 12),
    return_documents=st.booleans(),
)
def test_string_documents(
    client: Together,
    query: str,
    documents: list[str],
    top_n: int | None,
    return_documents: bool,
) -> None:
    response = client.rerank.create(
        model=MODEL,
        query=query,
        documents=documents,
        top_n=top_n,
        return_documents=return_documents,
    )
    scores = assert_valid_ranking(response, documents, top_n)
    assert_equal_documents_score_equally(documents, scores)
    for result in response.results:
        if return_documents:
            assert result.document == {"text": documents[result.index]}
        else:
            assert result.document is None


@st.composite
def object_requests(draw: st.DrawFn) -> tuple[list[dict[str, Any]], list[str] | None]:
    documents = draw(OBJECT_DOCUMENTS)
    present = sorted({name for document in documents for name in document})
    use_rank_fields = draw(st.booleans())
    if not present or not use_rank_fields:
        return documents, None
    return documents, draw(st.lists(st.sampled_from(present), min_size=1, unique=True))


@E2E
@given(
    query=QUERIES,
    request=object_requests(),
    top_n=st.none() | st.integers(1, 8),
    return_documents=st.booleans(),
)
def test_object_documents(
    client: Together,
    query: str,
    request: tuple[list[dict[str, Any]], list[str] | None],
    top_n: int | None,
    return_documents: bool,
) -> None:
    documents, rank_fields = request
    response = client.rerank.create(
        model=MODEL,
        query=query,
        documents=documents,
        top_n=top_n,
        return_documents=return_documents,
        rank_fields=rank_fields,
    )
    scores = assert_valid_ranking(response, documents, top_n)
    assert_equal_documents_score_equally(documents, scores)
    for result in response.results:
        if return_documents:
            assert result.document is not None
            # An object document comes back as its JSON text, as the hosted API does.
            assert json.loads(result.document["text"]) == documents[result.index]
        else:
            assert result.document is None


@E2E
@given(
    query=QUERIES,
    documents=STRING_DOCUMENTS | OBJECT_DOCUMENTS,
    data=st.data(),
)
def test_reordering_documents_moves_each_score_with_its_document(
    client: Together, query: str, documents: list[Any], data: st.DataObject
) -> None:
    order = data.draw(st.permutations(range(len(documents))))
    before = client.rerank.create(model=MODEL, query=query, documents=documents)
    after = client.rerank.create(model=MODEL, query=query, documents=[documents[i] for i in order])
    scores = assert_valid_ranking(before, documents, None)
    moved = assert_valid_ranking(after, documents, None)
    for position, original in enumerate(order):
        assert math.isclose(moved[position], scores[original], rel_tol=1e-9, abs_tol=1e-12)


@E2E
@given(query=QUERIES, documents=OBJECT_DOCUMENTS, replacement=TEXTS)
def test_fields_outside_rank_fields_do_not_change_scores(
    client: Together, query: str, documents: list[dict[str, Any]], replacement: str
) -> None:
    documents = [{"title": "search model", **document} for document in documents]
    changed = [{**document, "zz-unranked": replacement + " " + query} for document in documents]
    before = client.rerank.create(
        model=MODEL, query=query, documents=documents, rank_fields=["title"]
    )
    after = client.rerank.create(model=MODEL, query=query, documents=changed, rank_fields=["title"])
    assert [(r.index, r.relevance_score) for r in after.results] == [
        (r.index, r.relevance_score) for r in before.results
    ]


@settings(E2E, max_examples=10)
@given(query=QUERIES, documents=STRING_DOCUMENTS, top_n=st.none() | st.integers(1, 12))
def test_sync_and_async_clients_get_identical_answers(
    local_server: LocalServer, query: str, documents: list[str], top_n: int | None
) -> None:
    async def ask_async() -> RerankResponse:
        async with AsyncTogether(base_url=local_server.root_url, max_retries=0) as sdk:
            return await sdk.rerank.create(
                model=MODEL, query=query, documents=documents, top_n=top_n
            )

    with Together(base_url=local_server.root_url, max_retries=0) as sdk:
        sync = sdk.rerank.create(model=MODEL, query=query, documents=documents, top_n=top_n)
    assert asyncio.run(ask_async()).model_dump() == sync.model_dump()
