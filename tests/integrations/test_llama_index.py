"""The LlamaIndex adapter, inside a real query engine, against the local server on loopback.

The index, embeddings and LLM are LlamaIndex's own offline parts (VectorStoreIndex
over TextNodes, MockEmbedding, MockLLM); the `no_internet` fixture fails any
test in which something (a tokenizer, NLTK data) tries to download.
"""

from __future__ import annotations

import copy

import pytest
from llama_index.core import VectorStoreIndex
from llama_index.core.callbacks import CallbackManager, CBEventType, LlamaDebugHandler
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.llms import MockLLM
from llama_index.core.query_engine import BaseQueryEngine
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle, TextNode
from pydantic import ValidationError

from together_rerank import (
    AsyncTogether,
    InternalServerError,
    InvalidArgumentError,
    InvalidArgumentTypeError,
    NotFoundError,
    Together,
)
from together_rerank.integrations.llama_index import TogetherRerank

from .conftest import Counter, Served

QUERY = "how does attention work in transformers"
TEXTS = {
    "optim": "Gradient descent follows the negative gradient of the loss.",
    "transformers": "Transformers use self-attention: attention weighs every token.",
    "baking": "Bread rises because yeast produces carbon dioxide.",
    "attention": "The attention mechanism computes weighted sums of value vectors.",
    "vision": "Convolutional networks slide filters over images.",
}


def nodes() -> list[TextNode]:
    return [TextNode(id_=key, text=text) for key, text in TEXTS.items()]


def retrieved(score: float = 0.5) -> list[NodeWithScore]:
    return [NodeWithScore(node=node, score=score) for node in nodes()]


def query_engine(reranker: TogetherRerank) -> BaseQueryEngine:
    index = VectorStoreIndex(nodes=nodes(), embed_model=MockEmbedding(embed_dim=8))
    return index.as_query_engine(
        llm=MockLLM(), similarity_top_k=len(TEXTS), node_postprocessors=[reranker]
    )


def expected(served: Served, top_n: int | None) -> list[tuple[str, float]]:
    """The ranking the SDK itself gets for the corpus: (node id, score), best first."""
    keys = list(TEXTS)
    with Together(base_url=served.base_url) as direct:
        response = direct.rerank.create(
            model="Salesforce/Llama-Rank-V1",
            query=QUERY,
            documents=list(TEXTS.values()),
            top_n=top_n,
        )
    served.rerank_bodies.clear()
    return [(keys[r.index], r.relevance_score) for r in response.results]


def ranked(result: list[NodeWithScore]) -> list[tuple[str, float | None]]:
    return [(n.node.node_id, n.score) for n in result]


def test_in_a_query_engine_the_top_n_source_nodes_come_in_rerank_order(
    served: Served, client: Together
) -> None:
    want = expected(served, top_n=2)
    engine = query_engine(TogetherRerank(top_n=2, client=client))

    response = engine.query(QUERY)

    assert ranked(response.source_nodes) == want
    assert [key for key, _ in want] == ["transformers", "attention"]
    # The reranked nodes are what the LLM was given.
    assert TEXTS["transformers"] in str(response)
    assert TEXTS["baking"] not in str(response)
    [body] = served.rerank_bodies
    assert body["top_n"] == 2
    assert sorted(body["documents"]) == sorted(TEXTS.values())


async def test_an_async_query_awaits_the_async_client_natively(
    served: Served,
    client: Together,
    async_client: AsyncTogether,
    sync_counter: Counter,
    async_counter: Counter,
) -> None:
    want = expected(served, top_n=2)  # past the top two, ties follow the retrieval order
    engine = query_engine(TogetherRerank(top_n=2, client=client, async_client=async_client))

    response = await engine.aquery(QUERY)

    assert ranked(response.source_nodes) == want
    # The base class would run the sync method in a thread, through the sync client.
    assert async_counter.paths == ["/v1/rerank"]
    assert sync_counter.paths == []
    assert len(served.rerank_bodies) == 1


@pytest.mark.parametrize("top_n", [None, 1, 5, 50])
def test_top_n_bounds_the_result_and_none_returns_every_node_reordered(
    served: Served, client: Together, top_n: int | None
) -> None:
    want = expected(served, top_n=top_n)

    result = TogetherRerank(top_n=top_n, client=client).postprocess_nodes(
        retrieved(), query_str=QUERY
    )

    assert ranked(result) == want
    assert len(result) == min(top_n or len(TEXTS), len(TEXTS))
    assert len(served.rerank_bodies) == 1


async def test_async_postprocess_gives_the_same_ranking_as_sync(
    client: Together, async_client: AsyncTogether
) -> None:
    reranker = TogetherRerank(top_n=None, client=client, async_client=async_client)
    sync = reranker.postprocess_nodes(retrieved(), QueryBundle(QUERY))
    async_ = await reranker.apostprocess_nodes(retrieved(), QueryBundle(QUERY))
    assert ranked(sync) == ranked(async_)
    assert len(sync) == len(TEXTS)


def test_nodes_pass_through_unchanged_apart_from_the_score(client: Together) -> None:
    given = retrieved(score=0.25)
    before = copy.deepcopy(given)

    result = TogetherRerank(top_n=None, client=client).postprocess_nodes(given, query_str=QUERY)

    assert given == before  # the caller's NodeWithScore objects keep their retrieval scores
    by_id = {n.node.node_id: n.node for n in given}
    for item in result:
        assert item.node is by_id[item.node.node_id]  # the very same node, untouched
        assert item.score != 0.25


def test_node_metadata_is_ranked_as_for_embedding_unless_told_otherwise(
    served: Served, client: Together
) -> None:
    node = TextNode(id_="a", text="A survey.", metadata={"title": "Attention"})
    other = TextNode(id_="b", text="A survey.", metadata={"title": "Baking"})
    given = [NodeWithScore(node=node), NodeWithScore(node=other)]

    by_default = TogetherRerank(top_n=None, client=client).postprocess_nodes(
        given, query_str="attention"
    )
    text_only = TogetherRerank(
        top_n=None, client=client, metadata_mode=MetadataMode.NONE
    ).postprocess_nodes(given, query_str="attention")

    assert ranked(by_default)[0][0] == "a"
    first, second = served.rerank_bodies
    assert first["documents"] == [
        node.get_content(metadata_mode=MetadataMode.EMBED),
        other.get_content(metadata_mode=MetadataMode.EMBED),
    ]
    assert "Attention" in first["documents"][0]
    assert second["documents"] == ["A survey.", "A survey."]
    assert len(text_only) == 2


def test_a_failed_rerank_raises_the_sdk_error_through_the_query_engine(
    served: Served, client: Together
) -> None:
    engine = query_engine(TogetherRerank(model="no-such/model", client=client))
    with pytest.raises(NotFoundError) as caught:
        engine.query(QUERY)
    assert caught.value.status_code == 404
    assert len(served.rerank_bodies) == 1


async def test_a_failed_async_rerank_raises_the_sdk_error_through_the_query_engine(
    served: Served, async_client: AsyncTogether
) -> None:
    served.app.fail_next = 1
    engine = query_engine(TogetherRerank(async_client=async_client))
    with pytest.raises(InternalServerError):
        await engine.aquery(QUERY)
    assert len(served.rerank_bodies) == 1


async def test_no_nodes_gives_no_nodes_and_sends_nothing(
    served: Served, client: Together, async_client: AsyncTogether
) -> None:
    reranker = TogetherRerank(client=client, async_client=async_client)
    assert reranker.postprocess_nodes([], query_str=QUERY) == []
    assert await reranker.apostprocess_nodes([], query_str=QUERY) == []
    assert served.rerank_bodies == []


async def test_without_a_query_it_raises_naming_query_bundle(
    served: Served, client: Together, async_client: AsyncTogether
) -> None:
    reranker = TogetherRerank(base_url=served.base_url)
    with pytest.raises(InvalidArgumentError, match="query_bundle"):
        reranker.postprocess_nodes(retrieved())
    with pytest.raises(ValueError, match="query_bundle"):  # LlamaIndex's own rerankers' type
        await reranker.apostprocess_nodes(retrieved())
    assert served.rerank_bodies == []


def test_it_reports_a_reranking_event_to_llama_index_callbacks(client: Together) -> None:
    debug = LlamaDebugHandler()
    reranker = TogetherRerank(top_n=2, client=client, callback_manager=CallbackManager([debug]))

    result = reranker.postprocess_nodes(retrieved(), query_str=QUERY)

    [(start, end)] = debug.get_event_pairs(CBEventType.RERANKING)
    assert start.payload is not None
    assert start.payload["query_str"] == QUERY
    assert end.payload is not None
    assert end.payload["nodes"] == result


@pytest.mark.parametrize(
    ("arguments", "field"),
    [({"top_n": 0}, "top_n"), ({"top_n": 1.5}, "top_n"), ({"client": object()}, "client")],
)
def test_bad_settings_are_refused_at_construction_naming_the_field(
    arguments: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationError, match=field):
        TogetherRerank(**arguments)  # type: ignore[arg-type]


async def test_with_batching_configured_one_request_per_batch_and_one_ranking(
    served: Served,
) -> None:
    texts = list(TEXTS.values())
    async with AsyncTogether(base_url=served.base_url, max_documents_per_request=2) as client:
        direct = await client.rerank.create(
            model="Salesforce/Llama-Rank-V1", query=QUERY, documents=texts, top_n=3
        )
        want = [(list(TEXTS)[r.index], r.relevance_score) for r in direct.results]
        served.rerank_bodies.clear()
        reranker = TogetherRerank(top_n=3, async_client=client)
        result = await reranker.apostprocess_nodes(retrieved(), query_str=QUERY)
    assert ranked(result) == want
    assert sorted(len(body["documents"]) for body in served.rerank_bodies) == [1, 2, 2]


@pytest.mark.parametrize(
    ("given", "query", "message"),
    [
        (nodes(), QueryBundle(QUERY), r"^nodes\[0\]: must be a NodeWithScore, not TextNode \(wrap"),
        (["text"], QueryBundle(QUERY), r"^nodes\[0\]: must be a NodeWithScore, not str$"),
        ("text", QueryBundle(QUERY), r"^nodes: must be a list of NodeWithScore, not str"),
        (None, QueryBundle(QUERY), r"^nodes: must be a list of NodeWithScore, not NoneType"),
        (retrieved(), QUERY, r"^query_bundle: must be a QueryBundle, not str \(pass text as"),
        (retrieved(), QueryBundle(5), r"^query_bundle.query_str: must be a string, not int"),  # type: ignore[arg-type]
    ],
)
@pytest.mark.parametrize("mode", ["sync", "async"])
async def test_bad_nodes_or_query_are_refused_naming_the_parameter(
    served: Served,
    mode: str,
    given: object,
    query: object,
    message: str,
) -> None:
    reranker = TogetherRerank(base_url=served.base_url)
    sync, async_ = reranker.postprocess_nodes, reranker.apostprocess_nodes
    with pytest.raises(InvalidArgumentTypeError, match=message):
        sync(given, query) if mode == "sync" else await async_(given, query)  # type: ignore[arg-type]
    assert served.rerank_bodies == []
