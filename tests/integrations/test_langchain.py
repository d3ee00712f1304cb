"""The LangChain adapter, inside real LangChain pipelines, against the local server on loopback."""

from __future__ import annotations

import asyncio
import copy

import pytest
from langchain_classic.retrievers import ContextualCompressionRetriever
from langchain_core.documents import Document
from langchain_core.embeddings import DeterministicFakeEmbedding
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import RunnableLambda, RunnablePassthrough
from langchain_core.vectorstores import InMemoryVectorStore
from pydantic import SecretStr, ValidationError

from together_rerank import (
    AsyncTogether,
    InternalServerError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    NotFoundError,
    Together,
)
from together_rerank.integrations.langchain import RerankInput, TogetherRerank

from .conftest import Counter, Served

QUERY = "how does attention work in transformers"
CORPUS = [
    Document(
        "Gradient descent follows the negative gradient of the loss.",
        metadata={"title": "Optimisation", "year": 1847},
        id="optim",
    ),
    Document(
        "Transformers use self-attention: attention weighs every token against the others.",
        metadata={"title": "Transformers", "year": 2017},
        id="transformers",
    ),
    Document(
        "Bread rises because yeast produces carbon dioxide.",
        metadata={"title": "Baking"},
        id="baking",
    ),
    Document(
        "The attention mechanism computes weighted sums of value vectors.",
        metadata={"title": "Attention", "year": 2014},
        id="attention",
    ),
    Document(
        "Convolutional networks slide filters over images.",
        metadata={"title": "Vision", "year": 1989},
        id="vision",
    ),
]


def expected(served: Served, texts: list[str], top_n: int | None) -> list[tuple[str, float]]:
    """The ranking the SDK itself gets for these texts: (text, score), best first."""
    with Together(base_url=served.base_url) as direct:
        response = direct.rerank.create(
            model="Salesforce/Llama-Rank-V1", query=QUERY, documents=texts, top_n=top_n
        )
    served.rerank_bodies.clear()
    return [(texts[r.index], r.relevance_score) for r in response.results]


def ranked(documents: list[Document]) -> list[tuple[str, float]]:
    return [(d.page_content, d.metadata["relevance_score"]) for d in documents]


def base_retriever() -> BaseRetriever:
    """LangChain's own in-memory vector store, returning the whole corpus in its own order."""
    store = InMemoryVectorStore(DeterministicFakeEmbedding(size=16))
    store.add_documents(copy.deepcopy(CORPUS))
    return store.as_retriever(search_kwargs={"k": len(CORPUS)})


def test_inside_contextual_compression_retriever_the_top_n_come_in_rerank_order(
    served: Served, client: Together
) -> None:
    retriever = ContextualCompressionRetriever(
        base_compressor=TogetherRerank(model="Salesforce/Llama-Rank-V1", top_n=2, client=client),
        base_retriever=base_retriever(),
    )
    retrieved = [d.page_content for d in base_retriever().invoke(QUERY)]
    want = expected(served, retrieved, top_n=2)

    documents = retriever.invoke(QUERY)

    assert ranked(documents) == want
    assert {d.id for d in documents} == {"transformers", "attention"}
    assert documents[0].metadata["relevance_score"] > documents[1].metadata["relevance_score"]
    # One request, carrying what the retriever found, in its order.
    [body] = served.rerank_bodies
    assert body == {
        "model": "Salesforce/Llama-Rank-V1",
        "query": QUERY,
        "documents": retrieved,
        "top_n": 2,
    }


async def test_async_retrieval_awaits_the_async_client_natively(
    served: Served,
    client: Together,
    async_client: AsyncTogether,
    sync_counter: Counter,
    async_counter: Counter,
) -> None:
    reranker = TogetherRerank(top_n=3, client=client, async_client=async_client)
    retriever = ContextualCompressionRetriever(
        base_compressor=reranker, base_retriever=base_retriever()
    )
    retrieved = [d.page_content for d in base_retriever().invoke(QUERY)]
    want = expected(served, retrieved, top_n=3)

    documents = await retriever.ainvoke(QUERY)

    assert ranked(documents) == want
    # Through AsyncTogether: the sync client (which a thread-pool fallback would use) saw nothing.
    assert async_counter.paths == ["/v1/rerank"]
    assert sync_counter.paths == []
    assert len(served.rerank_bodies) == 1


@pytest.mark.parametrize("top_n", [None, 1, 5, 50])
def test_top_n_bounds_the_result_and_none_returns_every_document_reordered(
    served: Served, client: Together, top_n: int | None
) -> None:
    reranker = TogetherRerank(top_n=top_n, client=client)
    want = expected(served, [d.page_content for d in CORPUS], top_n=top_n)

    documents = reranker.compress_documents(CORPUS, QUERY)

    assert ranked(documents) == want
    assert len(served.rerank_bodies) == 1
    assert len(documents) == min(top_n or len(CORPUS), len(CORPUS))


def test_documents_pass_through_unchanged_apart_from_the_score(client: Together) -> None:
    originals = copy.deepcopy(CORPUS)
    reranker = TogetherRerank(top_n=None, client=client, score_key="together_score")

    documents = reranker.compress_documents(CORPUS, QUERY)

    assert originals == CORPUS  # the caller's documents are not touched
    by_id = {d.id: d for d in originals}
    for document in documents:
        original = by_id[document.id]
        assert document.page_content == original.page_content
        assert document.metadata == {
            **original.metadata,
            "together_score": document.metadata["together_score"],
        }
        assert type(document) is type(original)
        assert "relevance_score" not in document.metadata


def test_rank_fields_rank_on_metadata_and_send_only_those_fields(
    served: Served, client: Together
) -> None:
    # The titles, not the texts, mention attention, so only ranking on them finds these two.
    documents = [
        Document("A survey of sequence models.", metadata={"title": "Attention is all you need"}),
        Document("A survey of sequence models.", metadata={"title": "Recurrent networks"}),
        Document("A survey of sequence models.", metadata={"note": "no title here"}),
    ]
    reranker = TogetherRerank(top_n=None, rank_fields=["title", "page_content"], client=client)

    result = reranker.compress_documents(documents, "attention")

    assert result[0].metadata["title"] == "Attention is all you need"
    assert result[0].metadata["relevance_score"] > result[1].metadata["relevance_score"]
    [body] = served.rerank_bodies
    assert body["rank_fields"] == ["title", "page_content"]
    assert body["documents"] == [
        {"title": "Attention is all you need", "page_content": "A survey of sequence models."},
        {"title": "Recurrent networks", "page_content": "A survey of sequence models."},
        # A field a document lacks is left out, as the API treats object documents.
        {"page_content": "A survey of sequence models."},
    ]


def test_a_rank_field_no_document_has_is_refused_before_sending(
    served: Served, client: Together
) -> None:
    reranker = TogetherRerank(rank_fields=["author"], client=client)

    with pytest.raises(InvalidArgumentError, match="rank_fields"):
        reranker.compress_documents(CORPUS, QUERY)
    assert served.rerank_bodies == []


def test_a_failed_rerank_raises_the_sdk_error_through_the_retriever(
    served: Served, client: Together
) -> None:
    retriever = ContextualCompressionRetriever(
        base_compressor=TogetherRerank(model="no-such/model", client=client),
        base_retriever=base_retriever(),
    )
    with pytest.raises(NotFoundError) as caught:
        retriever.invoke(QUERY)
    assert caught.value.status_code == 404
    assert len(served.rerank_bodies) == 1


async def test_a_failed_async_rerank_raises_the_sdk_error(
    served: Served, async_client: AsyncTogether
) -> None:
    served.app.fail_next = 1
    retriever = ContextualCompressionRetriever(
        base_compressor=TogetherRerank(async_client=async_client),
        base_retriever=base_retriever(),
    )
    with pytest.raises(InternalServerError):
        await retriever.ainvoke(QUERY)
    assert len(served.rerank_bodies) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_clients_retry_policy_applies(served: Served, mode: str) -> None:
    served.app.fail_next = 1
    if mode == "sync":
        with Together(base_url=served.base_url, max_retries=1) as client:
            documents = TogetherRerank(client=client).compress_documents(CORPUS, QUERY)
    else:

        async def run() -> list[Document]:
            async with AsyncTogether(base_url=served.base_url, max_retries=1) as client:
                reranker = TogetherRerank(async_client=client)
                return await reranker.acompress_documents(CORPUS, QUERY)

        documents = asyncio.run(run())
    assert len(documents) == 3
    assert len(served.rerank_bodies) == 2  # the 503, then the retry


async def test_a_client_passed_for_one_mode_configures_the_other(
    served: Served, client: Together, sync_counter: Counter
) -> None:
    # Only a sync client: the async one made for `acompress_documents` carries its plugins.
    reranker = TogetherRerank(client=client)

    documents = await reranker.acompress_documents(CORPUS, QUERY)

    assert len(documents) == 3
    assert sync_counter.paths == ["/v1/rerank"]
    assert len(served.rerank_bodies) == 1


def test_clients_made_from_base_url_work_across_event_loops(served: Served) -> None:
    # `asyncio.run` twice: the async client made on the first loop must work on the next.
    reranker = TogetherRerank(base_url=served.base_url, api_key=SecretStr("sk-test-secret-123"))
    first = asyncio.run(reranker.acompress_documents(CORPUS, QUERY))
    second = asyncio.run(reranker.acompress_documents(CORPUS, QUERY))
    assert ranked(first) == ranked(second)
    assert len(ranked(first)) == 3
    assert reranker.compress_documents(CORPUS, QUERY) == first
    assert len(served.rerank_bodies) == 3
    assert "sk-test-secret-123" not in repr(reranker)


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_no_documents_gives_no_documents_and_sends_nothing(
    served: Served, client: Together, mode: str
) -> None:
    reranker = TogetherRerank(client=client)
    empty = ContextualCompressionRetriever(
        base_compressor=reranker,
        base_retriever=InMemoryVectorStore(DeterministicFakeEmbedding(size=16)).as_retriever(),
    )
    if mode == "sync":
        assert reranker.compress_documents([], QUERY) == []
        assert empty.invoke(QUERY) == []
    else:
        assert asyncio.run(reranker.acompress_documents([], QUERY)) == []
        assert asyncio.run(empty.ainvoke(QUERY)) == []
    assert served.rerank_bodies == []


def test_as_a_runnable_in_an_lcel_chain(served: Served, client: Together) -> None:
    reranker = TogetherRerank(top_n=2, client=client)

    def ids(documents: list[Document]) -> list[str | None]:
        return [d.id for d in documents]

    chain = (
        {"documents": base_retriever(), "query": RunnablePassthrough()}
        | reranker
        | RunnableLambda(ids)
    )

    assert chain.invoke(QUERY) == ["transformers", "attention"]
    assert len(served.rerank_bodies) == 1


async def test_as_a_runnable_in_an_lcel_chain_async(
    served: Served, async_client: AsyncTogether, async_counter: Counter
) -> None:
    reranker = TogetherRerank(top_n=2, async_client=async_client)
    chain = {"documents": base_retriever(), "query": RunnablePassthrough()} | reranker

    documents = await chain.ainvoke(QUERY)

    assert [d.id for d in documents] == ["transformers", "attention"]
    assert async_counter.paths == ["/v1/rerank"]
    assert len(served.rerank_bodies) == 1


@pytest.mark.parametrize(
    ("arguments", "field"),
    [
        ({"top_n": 0}, "top_n"),
        ({"top_n": True}, "top_n"),
        ({"rank_fields": []}, "rank_fields"),
        ({"client": "not a client"}, "client"),
        ({"modle": "typo"}, "modle"),
    ],
)
def test_bad_settings_are_refused_at_construction_naming_the_field(
    arguments: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        TogetherRerank(**arguments)  # type: ignore[arg-type]


def test_a_ranked_metadata_value_that_is_not_json_is_refused_naming_it(
    served: Served, client: Together
) -> None:
    documents = [Document("text", metadata={"when": object()})]
    reranker = TogetherRerank(rank_fields=["when"], client=client)

    with pytest.raises(InvalidArgumentError, match=r"documents\[0\]\['when'\]"):
        reranker.compress_documents(documents, QUERY)
    assert served.rerank_bodies == []


async def test_runnable_batch_sends_one_request_per_input(
    served: Served, client: Together, async_client: AsyncTogether
) -> None:
    reranker = TogetherRerank(top_n=1, client=client, async_client=async_client)
    inputs: list[RerankInput] = [
        {"query": "attention", "documents": CORPUS},
        {"query": "bread yeast", "documents": CORPUS},
    ]

    sync = reranker.batch(inputs)
    async_ = await reranker.abatch(inputs)

    assert [[d.id for d in docs] for docs in sync] == [["transformers"], ["baking"]]
    assert [[d.id for d in docs] for docs in async_] == [["transformers"], ["baking"]]
    assert len(served.rerank_bodies) == 4


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_with_batching_configured_one_request_per_batch_and_one_ranking(
    served: Served, mode: str
) -> None:
    # The client splits 5 documents into batches of 2; the adapter returns the SDK's one ranking.
    texts = [d.page_content for d in CORPUS]
    with Together(base_url=served.base_url, max_documents_per_request=2) as client:
        direct = client.rerank.create(
            model="Salesforce/Llama-Rank-V1", query=QUERY, documents=texts, top_n=3
        )
        want = [(texts[r.index], r.relevance_score) for r in direct.results]
        served.rerank_bodies.clear()
        reranker = TogetherRerank(top_n=3, client=client)
        if mode == "sync":
            documents = reranker.compress_documents(CORPUS, QUERY)
        else:
            # Only a sync client was given: the async one made from it batches the same way.
            documents = asyncio.run(reranker.acompress_documents(CORPUS, QUERY))
    assert ranked(documents) == want
    assert sorted(len(body["documents"]) for body in served.rerank_bodies) == [1, 2, 2]


# What a caller can get wrong, each refused as the SDK refuses bad arguments: an
# InvalidArgumentError (a TypeError too for a wrong type) naming the parameter, before
# anything is sent. (compress_documents's arguments, then the runnable's input.)
BAD_CALLS = [
    ((["text one", "text two"], QUERY), r"^documents\[0\]: must be a langchain_core Document"),
    (([CORPUS[0], "text two"], QUERY), r"^documents\[1\]: .* not str \(wrap text as Document"),
    (("one long text", QUERY), r"^documents: must be a sequence .* not str"),
    ((None, QUERY), r"^documents: must be a sequence .* not NoneType"),
    ((CORPUS, None), r"^query: must be a string, not NoneType"),
    (([], 5), r"^query: must be a string, not int"),
]
BAD_INPUTS = [
    (QUERY, r"^input: must be a mapping .* not str"),
    ({"query": QUERY}, r"^input: needs the keys .* missing \['documents'\]"),
    ({"query": QUERY, "documents": CORPUS, "k": 3}, r"^input: takes only .* unknown \[\"'k'\"\]"),
    ({"query": QUERY, "documents": ["a"]}, r"^input\['documents'\]\[0\]: must be a langchain_core"),
    ({"query": QUERY, "documents": "a"}, r"^input\['documents'\]: must be a sequence"),
    ({"query": 1, "documents": CORPUS}, r"^input\['query'\]: must be a string, not int"),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_CALLS)
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_bad_documents_or_query_are_refused_naming_the_parameter(
    served: Served,
    mode: str,
    arguments: tuple[object, object],
    message: str,
) -> None:
    reranker = TogetherRerank(base_url=served.base_url)
    sync, async_ = reranker.compress_documents, reranker.acompress_documents
    with pytest.raises(InvalidArgumentTypeError, match=message):
        sync(*arguments) if mode == "sync" else await async_(*arguments)  # type: ignore[arg-type]
    assert served.rerank_bodies == []


@pytest.mark.parametrize(("value", "message"), BAD_INPUTS)
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_a_bad_runnable_input_is_refused_naming_it(
    served: Served,
    mode: str,
    value: object,
    message: str,
) -> None:
    reranker = TogetherRerank(base_url=served.base_url)
    sync, async_ = reranker.invoke, reranker.ainvoke
    with pytest.raises(InvalidArgumentError, match=message):
        sync(value) if mode == "sync" else await async_(value)  # type: ignore[arg-type]
    assert served.rerank_bodies == []
