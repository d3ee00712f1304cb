"""LlamaIndex: `TogetherRerank`, a node postprocessor that reranks through the SDK.

    from together_rerank.integrations.llama_index import TogetherRerank

    reranker = TogetherRerank(model="Salesforce/Llama-Rank-V1", top_n=3)
    query_engine = index.as_query_engine(similarity_top_k=20, node_postprocessors=[reranker])

Needs the `llama-index` extra (llama-index-core).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

from llama_index.core.bridge.pydantic import Field, PrivateAttr, SecretStr
from llama_index.core.callbacks import CBEventType, EventPayload
from llama_index.core.instrumentation.events.rerank import ReRankEndEvent, ReRankStartEvent
from llama_index.core.postprocessor.types import BaseNodePostprocessor
from llama_index.core.schema import BaseNode, MetadataMode, NodeWithScore, QueryBundle
from llama_index_instrumentation import get_dispatcher

from together_rerank._client import AsyncTogether, Together
from together_rerank._exceptions import InvalidArgumentError, InvalidArgumentTypeError
from together_rerank.integrations._clients import AdapterClients

if TYPE_CHECKING:
    from llama_index.core.callbacks.base import EventContext

    from together_rerank.types import RerankResponse

__all__ = ["DEFAULT_MODEL", "TogetherRerank"]

DEFAULT_MODEL = "Salesforce/Llama-Rank-V1"

dispatcher = get_dispatcher(__name__)


class TogetherRerank(BaseNodePostprocessor):
    """Reorders nodes by relevance to the query with Together's rerank API."""

    model: str = Field(default=DEFAULT_MODEL, description="The rerank model.")
    top_n: Annotated[int, Field(ge=1, strict=True)] | None = Field(
        default=2, description="How many nodes to return; None returns them all, reordered."
    )
    metadata_mode: MetadataMode = Field(
        default=MetadataMode.EMBED,
        description="Which metadata goes into the ranked text, as for embedding.",
    )
    client: Together | None = Field(
        default=None, exclude=True, description="The SDK client for sync calls."
    )
    async_client: AsyncTogether | None = Field(
        default=None, exclude=True, description="The SDK client for async calls."
    )
    api_key: SecretStr | None = Field(
        default=None, exclude=True, description="For clients made here; else TOGETHER_API_KEY."
    )
    base_url: str | None = Field(
        default=None, description="For clients made here; else TOGETHER_BASE_URL."
    )

    _clients: AdapterClients = PrivateAttr(default_factory=AdapterClients)

    @classmethod
    def class_name(cls) -> str:
        return "TogetherRerank"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query = _query(query_bundle)
        if not _checked(nodes):
            return []
        with self._reranking(nodes, query_bundle) as event:
            client = self._clients.sync(self.client, self.async_client, self.api_key, self.base_url)
            response = client.rerank.create(**self._arguments(nodes, query))
            return _finish(nodes, response, event)

    async def _apostprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        query = _query(query_bundle)
        if not _checked(nodes):
            return []
        with self._reranking(nodes, query_bundle) as event:
            client = await self._clients.async_(
                self.client, self.async_client, self.api_key, self.base_url
            )
            response = await client.rerank.create(**self._arguments(nodes, query))
            return _finish(nodes, response, event)

    def _arguments(self, nodes: Sequence[NodeWithScore], query: str) -> dict[str, Any]:
        return {
            "model": self.model,
            "query": query,
            "documents": [n.node.get_content(metadata_mode=self.metadata_mode) for n in nodes],
            "top_n": self.top_n,
        }

    @contextmanager
    def _reranking(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None
    ) -> Iterator[EventContext]:
        # The events LlamaIndex's own rerankers emit, so its tracing and callbacks see ours.
        top_n = len(nodes) if self.top_n is None else self.top_n
        dispatcher.event(
            ReRankStartEvent(query=query_bundle, nodes=nodes, top_n=top_n, model_name=self.model)
        )
        payload: dict[str, Any] = {
            EventPayload.NODES: nodes,
            EventPayload.MODEL_NAME: self.model,
            EventPayload.QUERY_STR: query_bundle.query_str if query_bundle else None,
            EventPayload.TOP_K: top_n,
        }
        with self.callback_manager.event(CBEventType.RERANKING, payload=payload) as event:
            yield event


def _query(query_bundle: object) -> str:
    if query_bundle is None:
        raise InvalidArgumentError("query_bundle", "is required: reranking needs the query")
    if not isinstance(query_bundle, QueryBundle):
        raise InvalidArgumentTypeError(
            "query_bundle",
            f"must be a QueryBundle, not {type(query_bundle).__name__}"
            + (" (pass text as query_str=...)" if isinstance(query_bundle, str) else ""),
        )
    if not isinstance(query_bundle.query_str, str):
        raise InvalidArgumentTypeError(
            "query_bundle.query_str",
            f"must be a string, not {type(query_bundle.query_str).__name__}",
        )
    return query_bundle.query_str


def _checked(nodes: object) -> int:
    """How many nodes there are, once `nodes` is a list of `NodeWithScore`; else
    `InvalidArgumentError` naming `nodes` or `nodes[i]`."""
    if isinstance(nodes, str | bytes) or not isinstance(nodes, Sequence):
        raise InvalidArgumentTypeError(
            "nodes", f"must be a list of NodeWithScore, not {type(nodes).__name__}"
        )
    for i, node in enumerate(nodes):
        if not isinstance(node, NodeWithScore):
            raise InvalidArgumentTypeError(
                f"nodes[{i}]",
                f"must be a NodeWithScore, not {type(node).__name__}"
                + (
                    " (wrap a node as NodeWithScore(node=...))"
                    if isinstance(node, BaseNode)
                    else ""
                ),
            )
    return len(nodes)


def _finish(
    nodes: Sequence[NodeWithScore], response: RerankResponse, event: EventContext
) -> list[NodeWithScore]:
    # New NodeWithScore objects around the same nodes: the caller's are left as they were.
    ranked = [
        NodeWithScore(node=nodes[result.index].node, score=result.relevance_score)
        for result in response.results
    ]
    event.on_end(payload={EventPayload.NODES: ranked})
    dispatcher.event(ReRankEndEvent(nodes=ranked))
    return ranked
