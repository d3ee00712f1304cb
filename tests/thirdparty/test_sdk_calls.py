"""The README's rerank and embeddings calls succeed against real third-party servers.

(And against a stand-in answering as vLLM 0.32 does, `vllm-stand-in`.)

Default mode: each call returns a correct ranking of what was sent, and the
ways the server's answer differs from the spec in form are recorded on the
response as deviations (none silently). infinity-emb refuses object documents
(422), which the SDK reports as the server's error, typed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import pytest

from together_rerank import (
    APIStatusError,
    AsyncTogether,
    EmbeddingsResponse,
    NotFoundError,
    RerankResponse,
    Together,
    TogetherError,
)

from .conftest import Target

DOCUMENTS = [
    "Reranking orders retrieved passages by their relevance to a query.",
    "The weather in Lisbon is mild in winter.",
    "A cross-encoder reads the query and the passage together.",
    "Bread rises because yeast produces carbon dioxide.",
    "Retrieval-augmented generation feeds retrieved text to a language model.",
    "Cats sleep for most of the day.",
    "Dense retrievers embed queries and passages into one vector space.",
    "The Danube flows into the Black Sea.",
]
QUERY = "How does a reranker order passages?"
QUERIES = [QUERY, "Where does the Danube end?", "Why does bread rise?"]

# How each server's answers differ from the spec in form only (see docs/compatibility.md).
RERANK_DEVIATIONS = {
    "infinity": {"usage.completion_tokens"},
    "infinity-v1": {"usage.completion_tokens"},
    "litellm": {"object", "model"},
    # vLLM sends every document, asked for or not (it has no return_documents)
    "vllm": {"object", "usage.completion_tokens", "results[].document"},
    "vllm-stand-in": {"object", "usage.completion_tokens", "results[].document"},
}
# ...and with return_documents: infinity sends each document as a bare string.
DOCUMENT_DEVIATIONS = {
    "infinity": {"usage.completion_tokens", "results[].document"},
    "infinity-v1": {"usage.completion_tokens", "results[].document"},
    "litellm": {"object", "model"},
    "vllm": {"object", "usage.completion_tokens"},
    "vllm-stand-in": {"object", "usage.completion_tokens"},
}
EMBEDDING_DEVIATIONS = {
    "infinity": {"usage.completion_tokens"},
    "infinity-v1": {"usage.completion_tokens"},
    "litellm": set(),
    "vllm": set(),
    "vllm-stand-in": set(),
}


def client_for(target: Target, **options: Any) -> Together:
    """A client as the README configures it for this server (default mode unless `strict`)."""
    return Together(base_url=target.base_url, api_key=target.api_key, **options)


def async_client_for(target: Target, **options: Any) -> AsyncTogether:
    """The async twin of `client_for`."""
    return AsyncTogether(base_url=target.base_url, api_key=target.api_key, **options)


async def rerank(target: Target, is_async: bool, **call: Any) -> RerankResponse:
    """`rerank.create(**call)` through a sync or an async client configured for `target`."""
    options = {k: call.pop(k) for k in ("strict",) if k in call}
    if is_async:
        async with async_client_for(target, **options) as aclient:
            return await aclient.rerank.create(model=target.rerank_model, **call)
    with client_for(target, **options) as client:
        return client.rerank.create(model=target.rerank_model, **call)


def fields(response: RerankResponse | EmbeddingsResponse) -> set[str]:
    """The fields the SDK recorded a tolerated deviation for."""
    return {deviation.field for deviation in response.deviations}


def assert_ranks(response: RerankResponse, documents: Sequence[object], top_n: int | None) -> None:
    """A ranking of `documents`: the right count, each index once, scores finite and sorted."""
    expected = len(documents) if top_n is None else min(top_n, len(documents))
    indices = [result.index for result in response.results]
    scores = [result.relevance_score for result in response.results]
    assert len(indices) == expected
    assert len(set(indices)) == expected
    assert all(0 <= index < len(documents) for index in indices)
    assert all(math.isfinite(score) for score in scores)
    assert scores == sorted(scores, reverse=True)


def assert_same_ranking(merged: RerankResponse, whole: RerankResponse, target: Target) -> None:
    """The merged batches rank like one request: same documents, same scores.

    infinity and vLLM compute in float32 and pad each batch to its longest
    text, so a document's score may move in the last bits between batches.
    """
    by_index = {result.index: result.relevance_score for result in whole.results}
    assert {result.index for result in merged.results} == set(by_index)
    for result in merged.results:
        if target.exact_scores:
            assert result.relevance_score == by_index[result.index]
        else:
            assert result.relevance_score == pytest.approx(by_index[result.index], rel=1e-5)


def test_readme_rerank_call_returns_the_ranking_and_records_deviations(target: Target) -> None:
    with client_for(target) as client:
        response = client.rerank.create(
            model=target.rerank_model, query=QUERY, documents=DOCUMENTS, top_n=3
        )
    assert_ranks(response, DOCUMENTS, 3)
    assert all(result.document is None for result in response.results)
    assert fields(response) == RERANK_DEVIATIONS[target.name]
    if response.usage is not None:  # normalised: every counter present and consistent
        usage = response.usage
        assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


async def test_readme_rerank_call_async(target: Target) -> None:
    async with async_client_for(target) as client:
        response = await client.rerank.create(
            model=target.rerank_model, query=QUERY, documents=DOCUMENTS, top_n=3
        )
    assert_ranks(response, DOCUMENTS, 3)
    assert fields(response) == RERANK_DEVIATIONS[target.name]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_return_documents_gives_back_each_text_sent(target: Target, is_async: bool) -> None:
    response = await rerank(
        target, is_async, query=QUERY, documents=DOCUMENTS, return_documents=True
    )
    assert_ranks(response, DOCUMENTS, None)
    for result in response.results:
        assert result.document is not None
        assert result.document["text"] == DOCUMENTS[result.index]  # vLLM adds multi_modal: kept
    assert fields(response) == DOCUMENT_DEVIATIONS[target.name]


def test_object_documents_with_rank_fields(target: Target) -> None:
    documents = [{"title": text.split()[0], "body": text} for text in DOCUMENTS]
    with client_for(target) as client:
        if target.object_documents is not None:
            with pytest.raises(APIStatusError) as raised:
                client.rerank.create(
                    model=target.rerank_model,
                    query=QUERY,
                    documents=documents,
                    rank_fields=["body"],
                )
            assert raised.value.status_code == target.object_documents
            return
        response = client.rerank.create(
            model=target.rerank_model,
            query=QUERY,
            documents=documents,
            rank_fields=["body"],
            return_documents=True,
        )
    assert_ranks(response, documents, None)
    # Together's spec: a dict document comes back as its compact JSON.
    for result in response.results:
        assert result.document is not None
        assert DOCUMENTS[result.index] in result.document["text"]


def test_raw_response_parses_to_the_same_deviations(target: Target) -> None:
    with client_for(target) as client:
        raw = client.rerank.with_raw_response.create(
            model=target.rerank_model, query=QUERY, documents=DOCUMENTS
        )
    assert raw.status_code == 200
    response = raw.parse()
    assert_ranks(response, DOCUMENTS, None)
    assert fields(response) == RERANK_DEVIATIONS[target.name]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_auto_batching_merges_into_one_ranking(target: Target, is_async: bool) -> None:
    call: dict[str, Any] = {"model": target.rerank_model, "query": QUERY, "documents": DOCUMENTS}
    whole_list = len(DOCUMENTS)
    if is_async:
        async with async_client_for(target, max_documents_per_request=3) as aclient:
            merged = await aclient.rerank.create(**call)
            top = await aclient.rerank.create(**call, top_n=4)
            whole = await aclient.rerank.create(**call, max_documents_per_request=whole_list)
    else:
        with client_for(target, max_documents_per_request=3) as client:
            merged = client.rerank.create(**call)
            top = client.rerank.create(**call, top_n=4)
            whole = client.rerank.create(**call, max_documents_per_request=whole_list)
    assert_ranks(merged, DOCUMENTS, None)
    assert_ranks(top, DOCUMENTS, 4)
    assert_same_ranking(merged, whole, target)
    # What each of the three batches tolerated is still on the merged answer.
    assert fields(merged) == RERANK_DEVIATIONS[target.name]
    if merged.usage is not None and whole.usage is not None:
        assert merged.usage.total_tokens >= whole.usage.total_tokens > 0


@pytest.mark.parametrize("shared", [True, False], ids=["shared-documents", "per-query"])
def test_create_many_answers_every_query_in_order(target: Target, shared: bool) -> None:
    per_query = [DOCUMENTS[i : i + 4] for i in range(len(QUERIES))]
    with client_for(target) as client:
        answers = client.rerank.create_many(
            model=target.rerank_model,
            queries=QUERIES,
            documents=DOCUMENTS if shared else per_query,
            top_n=2,
            return_exceptions=True,
        )
        singles = [
            client.rerank.create(
                model=target.rerank_model,
                query=query,
                documents=DOCUMENTS if shared else per_query[i],
                top_n=2,
            )
            for i, query in enumerate(QUERIES)
        ]
    assert len(answers) == len(QUERIES)
    for answer, single in zip(answers, singles, strict=True):
        assert not isinstance(answer, TogetherError), answer
        assert [r.index for r in answer.results] == [r.index for r in single.results]
        assert fields(answer) == RERANK_DEVIATIONS[target.name]


async def test_create_many_async(target: Target) -> None:
    async with async_client_for(target) as client:
        answers = await client.rerank.create_many(
            model=target.rerank_model,
            queries=QUERIES,
            documents=DOCUMENTS,
            top_n=2,
            max_documents_per_request=3,
        )
    assert len(answers) == len(QUERIES)
    for answer in answers:
        assert isinstance(answer, RerankResponse)
        assert_ranks(answer, DOCUMENTS, 2)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
async def test_embeddings_one_vector_per_input(target: Target, is_async: bool) -> None:
    texts = DOCUMENTS[:3]
    if not target.embeddings:
        with client_for(target) as client, pytest.raises(NotFoundError):
            client.embeddings.create(model=target.embedding_model or "any", input=texts)
        return
    if is_async:
        async with async_client_for(target) as aclient:
            many = await aclient.embeddings.create(model=target.embedding_model, input=texts)
            one = await aclient.embeddings.create(model=target.embedding_model, input=texts[0])
    else:
        with client_for(target) as client:
            many = client.embeddings.create(model=target.embedding_model, input=texts)
            one = client.embeddings.create(model=target.embedding_model, input=texts[0])
    assert [item.index for item in many.data] == [0, 1, 2]
    assert len(one.data) == 1
    dimensions = {len(item.embedding) for item in [*many.data, *one.data]}
    assert len(dimensions) == 1
    assert dimensions.pop() > 0
    assert one.data[0].embedding == pytest.approx(many.data[0].embedding, rel=1e-4, abs=1e-6)
    assert fields(many) == EMBEDDING_DEVIATIONS[target.name]


def test_a_wrong_key_at_the_proxy_is_a_typed_error_naming_no_secret(litellm_proxy: Target) -> None:
    """Without a database, LiteLLM answers a wrong key with 400 `No connected db.`, not 401."""
    wrong = "sk-wrong-" + "0" * 24
    with (
        Together(base_url=litellm_proxy.base_url, api_key=wrong) as client,
        pytest.raises(APIStatusError) as raised,
    ):
        client.rerank.create(model=litellm_proxy.rerank_model, query=QUERY, documents=DOCUMENTS)
    assert raised.value.status_code == 400
    assert "No connected db" in str(raised.value)
    assert wrong not in str(raised.value)
