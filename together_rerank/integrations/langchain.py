"""LangChain: `TogetherRerank`, a document compressor and runnable that reranks through the SDK.

    from langchain_classic.retrievers import ContextualCompressionRetriever
    from together_rerank.integrations.langchain import TogetherRerank

    reranker = TogetherRerank(model="Salesforce/Llama-Rank-V1", top_n=3)
    retriever = ContextualCompressionRetriever(base_compressor=reranker, base_retriever=...)
    chain = {"documents": base_retriever, "query": RunnablePassthrough()} | reranker

Needs the `langchain` extra (langchain-core).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Annotated, Any, TypedDict

from langchain_core.callbacks import (
    AsyncCallbackManagerForChainRun,
    CallbackManagerForChainRun,
    Callbacks,
)
from langchain_core.documents import BaseDocumentCompressor, Document
from langchain_core.runnables import RunnableConfig, RunnableSerializable
from pydantic import ConfigDict, Field, PrivateAttr, SecretStr

from together_rerank._client import AsyncTogether, Together
from together_rerank._exceptions import InvalidArgumentError, InvalidArgumentTypeError
from together_rerank.integrations._clients import AdapterClients

if TYPE_CHECKING:
    from together_rerank.types import RerankResponse

__all__ = ["DEFAULT_MODEL", "PAGE_CONTENT", "RerankInput", "TogetherRerank"]

DEFAULT_MODEL = "Salesforce/Llama-Rank-V1"
PAGE_CONTENT = "page_content"
"""The name that stands for `Document.page_content` in `rank_fields`."""


class RerankInput(TypedDict):
    """What `TogetherRerank` takes as a runnable."""

    query: str
    documents: Sequence[Document]


class TogetherRerank(BaseDocumentCompressor, RunnableSerializable[RerankInput, list[Document]]):
    """Reorders documents by relevance to the query with Together's rerank API."""

    model: str = DEFAULT_MODEL
    """The rerank model."""
    top_n: Annotated[int, Field(ge=1, strict=True)] | None = 3
    """How many documents to return, most relevant first; None returns them all, reordered."""
    rank_fields: Annotated[list[str], Field(min_length=1)] | None = None
    """Fields to rank on: `"page_content"` and metadata keys. None ranks `page_content` alone."""
    score_key: str = "relevance_score"
    """The metadata key each returned document's relevance score is written to."""
    client: Together | None = Field(default=None, exclude=True)
    """The SDK client for sync calls (its retries, timeouts and plugins apply)."""
    async_client: AsyncTogether | None = Field(default=None, exclude=True)
    """The SDK client for async calls, which await it natively."""
    api_key: SecretStr | None = Field(default=None, exclude=True)
    """For clients this makes itself: else TOGETHER_API_KEY."""
    base_url: str | None = None
    """For clients this makes itself: else TOGETHER_BASE_URL, else the hosted API."""

    model_config = ConfigDict(arbitrary_types_allowed=True, extra="forbid")

    _clients: AdapterClients = PrivateAttr(default_factory=AdapterClients)

    def compress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> list[Document]:
        """Rerank `documents` for `query` with one rerank request; [] for no documents."""
        if not _checked(documents, query):
            return []
        response = self._sync_client().rerank.create(**self._arguments(documents, query))
        return self._ranked(documents, response)

    async def acompress_documents(
        self,
        documents: Sequence[Document],
        query: str,
        callbacks: Callbacks | None = None,
    ) -> list[Document]:
        """`compress_documents` through `AsyncTogether`, awaited on the caller's event loop."""
        if not _checked(documents, query):
            return []
        response = await (await self._async_client()).rerank.create(
            **self._arguments(documents, query)
        )
        return self._ranked(documents, response)

    def invoke(
        self, input: RerankInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        """Rerank `input["documents"]` for `input["query"]` (a step of an LCEL chain)."""

        def run(value: RerankInput, run_manager: CallbackManagerForChainRun) -> list[Document]:
            documents, query = _unpacked(value)
            return self.compress_documents(documents, query, callbacks=run_manager.get_child())

        return self._call_with_config(run, input, config)

    async def ainvoke(
        self, input: RerankInput, config: RunnableConfig | None = None, **kwargs: Any
    ) -> list[Document]:
        """`invoke`, awaited natively."""

        async def run(
            value: RerankInput, run_manager: AsyncCallbackManagerForChainRun
        ) -> list[Document]:
            documents, query = _unpacked(value)
            return await self.acompress_documents(
                documents, query, callbacks=run_manager.get_child()
            )

        return await self._acall_with_config(run, input, config)

    def _arguments(self, documents: Sequence[Document], query: str) -> dict[str, Any]:
        arguments: dict[str, Any] = {"model": self.model, "query": query, "top_n": self.top_n}
        if self.rank_fields is None:
            arguments["documents"] = [doc.page_content for doc in documents]
        else:
            arguments["documents"] = [_fields(doc, self.rank_fields) for doc in documents]
            arguments["rank_fields"] = self.rank_fields
        return arguments

    def _ranked(self, documents: Sequence[Document], response: RerankResponse) -> list[Document]:
        # Copies: the caller's documents are left as they were, the score aside.
        return [
            documents[result.index].model_copy(
                update={
                    "metadata": {
                        **documents[result.index].metadata,
                        self.score_key: result.relevance_score,
                    }
                }
            )
            for result in response.results
        ]

    def _sync_client(self) -> Together:
        return self._clients.sync(self.client, self.async_client, self.api_key, self.base_url)

    async def _async_client(self) -> AsyncTogether:
        return await self._clients.async_(
            self.client, self.async_client, self.api_key, self.base_url
        )


def _unpacked(value: object) -> tuple[Sequence[Document], str]:
    """The runnable's input as (documents, query), refused naming `input` unless it is exactly
    the `RerankInput` mapping (a key left over from a chain step would be silently ignored)."""
    if not isinstance(value, Mapping):
        raise InvalidArgumentTypeError(
            "input",
            f"must be a mapping {{'query': str, 'documents': [Document, ...]}}, "
            f"not {type(value).__name__}",
        )
    missing = [key for key in RerankInput.__required_keys__ if key not in value]
    if missing:
        raise InvalidArgumentError(
            "input", f"needs the keys 'query' and 'documents'; missing {sorted(missing)}"
        )
    unknown = [key for key in value if key not in RerankInput.__required_keys__]
    if unknown:
        raise InvalidArgumentError(
            "input",
            f"takes only the keys 'query' and 'documents'; unknown {sorted(map(repr, unknown))}",
        )
    documents, query = value["documents"], value["query"]
    _checked(documents, query, where="input")
    return documents, query


def _checked(documents: object, query: object, where: str = "") -> int:
    """How many documents there are, once `documents` and `query` are what the adapter takes;
    else `InvalidArgumentError` naming the parameter (inside `where`, the runnable's input)."""

    def name(param: str) -> str:
        return f"{where}[{param!r}]" if where else param

    if not isinstance(query, str):
        raise InvalidArgumentTypeError(
            name("query"), f"must be a string, not {type(query).__name__}"
        )
    if isinstance(documents, str | bytes) or not isinstance(documents, Sequence):
        raise InvalidArgumentTypeError(
            name("documents"),
            f"must be a sequence of langchain_core Documents, not {type(documents).__name__}",
        )
    for i, document in enumerate(documents):
        if not isinstance(document, Document):
            raise InvalidArgumentTypeError(
                f"{name('documents')}[{i}]",
                f"must be a langchain_core Document, not {type(document).__name__}"
                + (
                    " (wrap text as Document(page_content=...))"
                    if isinstance(document, str)
                    else ""
                ),
            )
    return len(documents)


def _fields(document: Document, rank_fields: Sequence[str]) -> dict[str, Any]:
    """The document as an object of its ranked fields; a field it lacks is left out, as the API
    does for object documents."""
    return {
        name: document.page_content if name == PAGE_CONTENT else document.metadata[name]
        for name in rank_fields
        if name == PAGE_CONTENT or name in document.metadata
    }
